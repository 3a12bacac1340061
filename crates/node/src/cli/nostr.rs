//! `vouch nostr`: Nostr keys as Vouch sees them (`key`); a node's Nostr side over its API
//! (`status`, `viewer`, `decide`, `assertions`, `publish`: `specs/nostr.md`, `/v1/nostr`);
//! and the Nostr benchmark (`bench`):
//! events verified and applied per second next to raw BIP-340 verification in the same run,
//! memory per follow edge, and a generated follow graph imported and a viewer's trust
//! computed (`specs/nostr.md` §8).

use std::process::ExitCode;
use std::time::Instant;

use clap::Subcommand;
use k256::schnorr::{Signature, SigningKey, VerifyingKey};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vouch_reputation::{ModerationState, TrustGraph, TrustParams, TrustView};

use crate::cli::progress::progress;
use crate::cli::query::{print_decision, show, str_of, NodeAddr};
use crate::nostr::event::{parse_event, sign_event, verify_signature, EventLimits};
use crate::nostr::keys::NostrKey;
use crate::nostr::map::{Fact, NostrState, KIND_FOLLOWS};

/// `vouch nostr ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum NostrCmd {
    /// A Nostr key's forms: npub, hex, and the did:key of its subject in the engine.
    #[command(
        after_help = "Example:\n  vouch nostr key npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg"
    )]
    Key {
        /// `npub1…` or 64 lowercase hex.
        key: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Events verified and applied per second against raw Schnorr verification, memory per
    /// follow edge, and a generated follow graph imported and one viewer's trust computed.
    #[command(
        after_help = "Examples:\n  vouch nostr bench\n  vouch nostr bench --authors 20000 --follows 1000000"
    )]
    Bench(BenchArgs),
    /// The node's relays (connected or not), its Nostr viewers and how many authors it reads.
    #[command(after_help = "Example:\n  vouch nostr status")]
    Status {
        #[command(flatten)]
        node: NodeAddr,
    },
    /// Serve a Nostr key as a viewer (with the Nostr policy, `specs/nostr.md` §4; a viewer
    /// that exists keeps its policy) and fetch its follows, mutes, lists and reports.
    #[command(
        after_help = "Example:\n  vouch nostr viewer npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg"
    )]
    Viewer {
        /// The viewer's key: `npub1…` or 64 hex.
        viewer: String,
        #[command(flatten)]
        node: NodeAddr,
    },
    /// Should the viewer see these authors and events, and why (Nostr events cited).
    #[command(
        after_help = "Examples:\n  vouch nostr decide npub1viewer… --pubkey npub1author…\n  vouch nostr decide npub1viewer… --event note.json --explain"
    )]
    Decide {
        /// The viewer's key: `npub1…` or 64 hex.
        viewer: String,
        /// An author (`npub1…` or hex; repeatable).
        #[arg(long = "pubkey", value_name = "KEY")]
        pubkeys: Vec<String>,
        /// A file holding one NIP-01 event as JSON (repeatable; `-` for standard input).
        #[arg(long = "event", value_name = "FILE")]
        events: Vec<std::path::PathBuf>,
        /// Every reason, including those that had no effect.
        #[arg(long)]
        explain: bool,
        #[command(flatten)]
        node: NodeAddr,
    },
    /// The NIP-85 assertions (rank, followers) the node computes for the viewer.
    #[command(after_help = "Example:\n  vouch nostr assertions npub1viewer…")]
    Assertions {
        /// The viewer's key: `npub1…` or 64 hex.
        viewer: String,
        #[command(flatten)]
        node: NodeAddr,
    },
    /// Sign and send to the relays the viewer's assertions due now (`--all`: every one).
    #[command(after_help = "Example:\n  vouch nostr publish npub1viewer… --all")]
    Publish {
        /// The viewer's key: `npub1…` or 64 hex.
        viewer: String,
        /// Republish every assertion, not only the changed ones.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        node: NodeAddr,
    },
}

/// Arguments of `vouch nostr bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct BenchArgs {
    /// Authors, each publishing one follow list.
    #[arg(long, default_value_t = 20_000)]
    authors: u32,
    /// Follows in all (spread over the authors' lists).
    #[arg(long, default_value_t = 1_000_000)]
    follows: u64,
    /// Seed of the generator.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Runs one `vouch nostr` subcommand.
pub(crate) fn run(cmd: NostrCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        NostrCmd::Key { key, json } => {
            let k = NostrKey::parse(&key)
                .ok_or_else(|| anyhow::anyhow!("not a Nostr public key: {key}"))?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"npub": k.to_npub(), "hex": k.to_hex(),
                                       "subject": k.subject().to_did_key()})
                );
            } else {
                println!("npub     {}", k.to_npub());
                println!("hex      {}", k.to_hex());
                println!("subject  {}", k.subject().to_did_key());
            }
            Ok(ExitCode::SUCCESS)
        }
        NostrCmd::Bench(args) => bench(&args).map(|()| ExitCode::SUCCESS),
        NostrCmd::Status { node } => {
            let a = node.call("GET", "/v1/nostr", None)?;
            show(&node, &a, |v| {
                for r in v["relays"].as_array().into_iter().flatten() {
                    let up = if r["connected"] == true {
                        "connected"
                    } else {
                        "not connected"
                    };
                    println!("relay   {}  ({up})", str_of(&r["url"]));
                }
                for w in v["viewers"].as_array().into_iter().flatten() {
                    println!("viewer  {}  {}", str_of(&w["npub"]), str_of(&w["viewer"]));
                }
                println!("{} authors read", v["authors"]);
            })
        }
        NostrCmd::Viewer { viewer, node } => {
            let key = nostr_key(&viewer)?;
            let body = serde_json::json!({ "viewer": key.to_hex() });
            let a = node.call("POST", "/v1/nostr/viewers", Some(&body))?;
            show(&node, &a, |v| {
                println!("viewer        {}", str_of(&v["npub"]));
                println!("as            {}", str_of(&v["viewer"]));
                println!("service key   {}", str_of(&v["service_npub"]));
                let tag: Vec<&str> = v["kind_10040_tag"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(str_of)
                    .collect();
                println!(
                    "kind 10040    [\"{}\"] (add it to choose this node as provider)",
                    tag.join("\", \"")
                );
            })
        }
        NostrCmd::Decide {
            viewer,
            pubkeys,
            events,
            explain,
            node,
        } => {
            let key = nostr_key(&viewer)?;
            let mut items = Vec::new();
            let mut labels = Vec::new();
            for p in &pubkeys {
                items.push(serde_json::json!({ "pubkey": nostr_key(p)?.to_hex() }));
                labels.push(format!("author {p}"));
            }
            for f in &events {
                let text = crate::cli::read_input(f)?;
                let event: serde_json::Value = serde_json::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("{}: not JSON: {e}", f.display()))?;
                labels.push(format!("event {}", str_of(&event["id"])));
                items.push(serde_json::json!({ "event": event }));
            }
            if items.is_empty() {
                anyhow::bail!("nothing to decide: give --pubkey or --event");
            }
            let body = serde_json::json!({ "items": items, "explain": explain });
            let path = format!("/v1/nostr/viewers/{}/decide", key.to_hex());
            let a = node.call("POST", &path, Some(&body))?;
            show(&node, &a, |v| {
                for (d, label) in v["decisions"].as_array().into_iter().flatten().zip(&labels) {
                    if d.get("error").is_some() {
                        println!("error     {label}: {}", str_of(&d["error"]["code"]));
                    } else {
                        print_decision(label, d);
                    }
                }
            })
        }
        NostrCmd::Assertions { viewer, node } => {
            let key = nostr_key(&viewer)?;
            let path = format!("/v1/nostr/viewers/{}/assertions", key.to_hex());
            let a = node.call("GET", &path, None)?;
            show(&node, &a, |v| {
                for x in v["assertions"].as_array().into_iter().flatten() {
                    println!(
                        "rank {:>3}  followers {:>6}  {}",
                        x["rank"],
                        x["followers"],
                        str_of(&x["pubkey"])
                    );
                }
            })
        }
        NostrCmd::Publish { viewer, all, node } => {
            let key = nostr_key(&viewer)?;
            let path = format!(
                "/v1/nostr/viewers/{}/publish{}",
                key.to_hex(),
                if all { "?all=true" } else { "" }
            );
            let a = node.call("POST", &path, None)?;
            show(&node, &a, |v| {
                let n = v["published"].as_array().map_or(0, Vec::len);
                println!("{n} assertion event(s) signed and sent to the relays");
            })
        }
    }
}

fn nostr_key(s: &str) -> anyhow::Result<NostrKey> {
    NostrKey::parse(s).ok_or_else(|| anyhow::anyhow!("not a Nostr public key: {s}"))
}

fn rss_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = s.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn bench(args: &BenchArgs) -> anyhow::Result<()> {
    let n = args.authors.max(2);
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let keys: Vec<SigningKey> = (0..n)
        .map(|_| {
            let mut b = [0u8; 32];
            loop {
                rng.fill(&mut b);
                if let Ok(k) = SigningKey::from_bytes(&b) {
                    return k;
                }
            }
        })
        .collect();
    let pubs: Vec<String> = keys
        .iter()
        .map(|k| hex::encode(k.verifying_key().to_bytes()))
        .collect();
    // Follow lists: sizes around follows / authors, targets skewed to low indices (a few
    // popular keys), as on Nostr.
    let per = (args.follows / u64::from(n)).max(1) as usize;
    let pb = progress(u64::from(n), "sign follow lists");
    let now_s = crate::node::clock::now_ms() / 1000;
    let mut events: Vec<Vec<u8>> = Vec::with_capacity(n as usize);
    let mut total_follows = 0u64;
    for (i, k) in keys.iter().enumerate() {
        let size = rng.gen_range(per / 2..=per + per / 2).max(1);
        let mut tags = Vec::with_capacity(size);
        let mut seen = std::collections::BTreeSet::new();
        while tags.len() < size.min(n as usize - 1) {
            let r: f64 = rng.gen();
            let t = ((r * r) * f64::from(n)) as usize % n as usize;
            if t != i && seen.insert(t) {
                tags.push(vec!["p".to_string(), pubs[t].clone()]);
            }
        }
        total_follows += tags.len() as u64;
        let mut aux = [0u8; 32];
        rng.fill(&mut aux);
        let e = sign_event(k, now_s - 60, KIND_FOLLOWS, tags, String::new(), &aux)
            .map_err(|e| anyhow::anyhow!("{}", e.code()))?;
        events.push(serde_json::to_vec(&e.to_json())?);
        pb.inc(1);
    }
    pb.finish_and_clear();
    let bytes: u64 = events.iter().map(|e| e.len() as u64).sum();

    // Baseline: raw BIP-340 verification of the same (id, sig, key) triples.
    let triples: Vec<([u8; 32], [u8; 32], [u8; 64])> = events
        .iter()
        .filter_map(|b| {
            let v: serde_json::Value = serde_json::from_slice(b).ok()?;
            let h = |f: &str| hex::decode(v[f].as_str()?).ok();
            Some((
                h("id")?.try_into().ok()?,
                h("pubkey")?.try_into().ok()?,
                h("sig")?.try_into().ok()?,
            ))
        })
        .collect();
    anyhow::ensure!(triples.len() == events.len(), "generated events unreadable");
    let raw_verify = |t: &[([u8; 32], [u8; 32], [u8; 64])]| {
        t.iter()
            .filter(|(id, pk, sig)| {
                VerifyingKey::from_bytes(pk)
                    .ok()
                    .zip(Signature::try_from(&sig[..]).ok())
                    .is_some_and(|(k, s)| k.verify_raw(id, &s).is_ok())
            })
            .count()
    };
    let t = Instant::now();
    let ok = raw_verify(&triples);
    let raw = t.elapsed();
    anyhow::ensure!(ok == triples.len(), "raw verification failed");

    // The node's path: parse, id, verify, map, and apply to a trust graph and state.
    let limits = EventLimits::default();
    let rss0 = rss_bytes();
    let t = Instant::now();
    let mut state = NostrState::new();
    let mut graph = TrustGraph::new(None);
    let mut moderation = ModerationState::default();
    let mut facts = Vec::new();
    let pb = progress(events.len() as u64, "verify and apply");
    // As the node does (`nostr/source.rs`): a batch is parsed and verified, then mapped and
    // applied. Time per phase: parse and id, signature, mapping, engine.
    let mut phases = [std::time::Duration::ZERO; 4];
    // The baseline again, batch by batch just before the node's path on the same batch, so
    // that both see the same machine (other load moves both alike).
    let mut raw_interleaved = std::time::Duration::ZERO;
    for (batch, raw_batch) in events.chunks(512).zip(triples.chunks(512)) {
        let tb = Instant::now();
        anyhow::ensure!(
            raw_verify(raw_batch) == raw_batch.len(),
            "raw verification failed"
        );
        raw_interleaved += tb.elapsed();
        let t0 = Instant::now();
        let parsed = batch
            .iter()
            .map(|b| parse_event(b, &limits, now_s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("{}", e.code()))?;
        let t1 = Instant::now();
        for e in &parsed {
            verify_signature(e).map_err(|e| anyhow::anyhow!("{}", e.code()))?;
        }
        let t2 = Instant::now();
        for e in &parsed {
            state.apply(e, &mut facts);
        }
        let t3 = Instant::now();
        let mut atts = Vec::with_capacity(facts.len());
        for f in facts.drain(..) {
            match f {
                Fact::Attest(a) => atts.push(a),
                Fact::Object(id, o) => {
                    moderation.apply_object(id, &o);
                }
            }
        }
        graph
            .add_attestations(&atts)
            .map_err(|e| anyhow::anyhow!("{}", e.code()))?;
        phases[0] += t1 - t0;
        phases[1] += t2 - t1;
        phases[2] += t3 - t2;
        phases[3] += t3.elapsed();
        pb.inc(batch.len() as u64);
    }
    pb.finish_and_clear();
    let _ = t;
    let full: std::time::Duration = phases.iter().sum();
    let rss1 = rss_bytes();
    graph.set_now(crate::node::clock::now_ms());
    let viewer = NostrKey(keys[n as usize / 2].verifying_key().to_bytes().into());
    let t = Instant::now();
    let view = TrustView::compute(
        &graph,
        viewer.subject().as_bytes(),
        &[],
        TrustParams::default(),
    );
    let trust = t.elapsed();
    let reached = view.scores(&graph).len();

    let raw_rate = triples.len() as f64 / raw.as_secs_f64();
    let raw_inter_rate = triples.len() as f64 / raw_interleaved.as_secs_f64();
    let full_rate = events.len() as f64 / full.as_secs_f64();
    let edges = state.n_follows().max(1) as f64;
    let per_edge_rss = match (rss0, rss1) {
        (Some(a), Some(b)) => b.saturating_sub(a) as f64 / edges,
        _ => f64::NAN,
    };
    let per_edge_graph = graph.heap_bytes() as f64 / edges;
    let us = |d: std::time::Duration| d.as_secs_f64() * 1e6 / events.len().max(1) as f64;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "authors": n, "follows": total_follows, "event_bytes": bytes,
                "raw_verify_per_s": raw_rate, "verify_apply_per_s": full_rate,
                "ratio": full_rate / raw_inter_rate,
                "raw_verify_interleaved_per_s": raw_inter_rate,
                "follows_applied_per_s": total_follows as f64 / full.as_secs_f64(),
                "rss_bytes_per_follow": per_edge_rss,
                "graph_heap_bytes_per_follow": per_edge_graph,
                "import_s": full.as_secs_f64(), "trust_ms": trust.as_secs_f64() * 1e3,
                "reached": reached,
                "us_per_event": {"parse_and_id": us(phases[0]), "signature": us(phases[1]),
                                 "mapping": us(phases[2]), "engine": us(phases[3])},
            })
        );
    } else {
        println!(
            "events {} follow lists, {} follows, {:.1} MB of JSON",
            events.len(),
            total_follows,
            bytes as f64 / 1e6
        );
        println!("raw BIP-340 verify     {raw_rate:>10.0} events/s (alone, one core)");
        println!(
            "raw BIP-340 verify     {raw_inter_rate:>10.0} events/s (baseline: batch by batch, interleaved with the node's path)"
        );
        println!(
            "verify + map + apply   {full_rate:>10.0} events/s = {:.2}x the baseline ({:.0} follows/s)",
            full_rate / raw_inter_rate,
            total_follows as f64 / full.as_secs_f64()
        );
        println!(
            "per event (us): parse and id {:.1}, signature {:.1}, mapping {:.1}, engine {:.1}",
            us(phases[0]),
            us(phases[1]),
            us(phases[2]),
            us(phases[3])
        );
        println!(
            "memory per follow edge {per_edge_rss:.0} bytes of RSS (trust graph heap {per_edge_graph:.0} bytes)"
        );
        println!(
            "import {:.1} s; one viewer's trust computed in {:.1} ms ({} authors reached)",
            full.as_secs_f64(),
            trust.as_secs_f64() * 1e3,
            reached
        );
    }
    Ok(())
}
