//! `vouch bench attack`: an honest node under the heaviest flood of valid objects from fresh
//! keys that a hostile peer can send on loopback, next to the same run without attack.
//! Prints the share of honest objects delivered within one catch-up interval, honest peers
//! banned, the victim's peak RSS and store size against its configured bounds, and decide
//! p99 over HTTP during the flood as a ratio to idle. `vouch bench attack sybil` is the
//! attack suite's hostile process (many peer ids from one address).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use libp2p::Multiaddr;
use vouch_identity::SecretKey;
use vouch_reputation::{AttestBody, Body, Object, PostBody};

use crate::client::{self, LISTEN_ADDRS_FILE};
use crate::net::hostile::{fresh_key_posts, sybil_connect, Hostile, Lie};
use crate::net::topic::SOCIAL_TOPIC;

/// `vouch bench attack` flags.
#[derive(Debug, Args)]
pub(crate) struct AttackArgs {
    /// A hostile role instead of the benchmark (used by the attack suite).
    #[command(subcommand)]
    role: Option<HostileRole>,
    /// Objects from fresh keys the attacker floods.
    #[arg(long, default_value_t = 100_000)]
    objects: usize,
    /// Honest objects published during the run.
    #[arg(long, default_value_t = 300)]
    honest: usize,
    /// The victim's catch-up interval, seconds.
    #[arg(long, default_value_t = 10)]
    resync_secs: u64,
    /// The victim's quarantine bound (objects).
    #[arg(long, default_value_t = 20_000)]
    quarantine_objects: u64,
}

/// Hidden hostile roles.
#[derive(Debug, Subcommand)]
enum HostileRole {
    /// Connect to a node under many fresh peer ids (from this process's address).
    #[command(
        hide = true,
        after_help = "Example:\n  vouch bench attack sybil --target /ip4/10.0.0.1/tcp/4001/p2p/12D3KooW… --ids 1000"
    )]
    Sybil {
        /// The node's multiaddr (with `/p2p/<id>`).
        #[arg(long)]
        target: String,
        /// Peer ids to use.
        #[arg(long, default_value_t = 1000)]
        ids: usize,
        /// Attempts at once.
        #[arg(long, default_value_t = 50)]
        parallel: usize,
        /// How long each established connection is held, ms.
        #[arg(long, default_value_t = 1500)]
        hold_ms: u64,
    },
}

/// Runs `vouch bench attack`.
pub(crate) fn run(args: &AttackArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match &args.role {
        Some(HostileRole::Sybil {
            target,
            ids,
            parallel,
            hold_ms,
        }) => {
            let target: Multiaddr = target.parse()?;
            let report = rt.block_on(sybil_connect(
                target,
                *ids,
                *parallel,
                Duration::from_millis(*hold_ms),
            ));
            println!("{}", serde_json::to_string(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let base = rt.block_on(one_run(args, false))?;
            let attacked = rt.block_on(one_run(args, true))?;
            print_report(args, &base, &attacked);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A child `vouch node run`.
struct NodeProc {
    child: Child,
    dir: PathBuf,
    api: client::Api,
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl NodeProc {
    fn start(dir: &Path, config: &str, extra: &[String]) -> anyhow::Result<NodeProc> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("config.toml"), config)?;
        let log = std::fs::File::create(dir.join("node.log"))?;
        let child = Command::new(std::env::current_exe()?)
            .args(["node", "run", "--data-dir"])
            .arg(dir)
            .args(["--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        let mut node = NodeProc {
            child,
            dir: dir.to_owned(),
            api: client::Api::new("127.0.0.1:1".parse()?, None),
        };
        let start = Instant::now();
        loop {
            let addrs = std::fs::read_to_string(dir.join(LISTEN_ADDRS_FILE)).unwrap_or_default();
            if let (Ok(a), true) = (client::Api::from_data_dir(dir), addrs.contains("/tcp/")) {
                node.api = a;
                return Ok(node);
            }
            if start.elapsed() > Duration::from_secs(120) {
                anyhow::bail!("node in {} did not start", dir.display());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn tcp_addr(&self) -> anyhow::Result<String> {
        std::fs::read_to_string(self.dir.join(LISTEN_ADDRS_FILE))?
            .lines()
            .find(|l| l.contains("/tcp/"))
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("no tcp address"))
    }

    fn json(&self, method: &str, path: &str, body: &serde_json::Value) -> serde_json::Value {
        let bytes = if body.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(body).unwrap_or_default()
        };
        self.api
            .request(method, path, Some("application/json"), &bytes)
            .ok()
            .and_then(|r| serde_json::from_slice(&r.body).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    fn has(&self, id: &str) -> bool {
        self.api
            .get(&format!("/v1/objects/{id}"))
            .map(|r| r.status == 200)
            .unwrap_or(false)
    }

    fn peak_rss_kib(&self) -> u64 {
        proc_status_kib(self.child.id(), "VmHWM:")
    }

    fn store_bytes(&self) -> u64 {
        ["vouch.sqlite", "vouch.sqlite-wal"]
            .iter()
            .filter_map(|f| std::fs::metadata(self.dir.join(f)).ok())
            .map(|m| m.len())
            .sum()
    }
}

/// A field of `/proc/<pid>/status` in KiB (0 when unreadable).
fn proc_status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// What one run measured.
#[derive(Debug, Default)]
struct RunReport {
    delivered: usize,
    honest: usize,
    banned_honest: usize,
    peak_rss_kib: u64,
    store_bytes: u64,
    quarantine: u64,
    flood_sent: u64,
    flood_secs: f64,
    decide_p99_idle_ms: f64,
    decide_p99_load_ms: f64,
    rate_limited: u64,
    quarantine_evicted: u64,
}

fn did(k: &SecretKey) -> String {
    k.public_key().to_did_key()
}

/// Decide calls in a loop until `stop`; returns the latencies (ms).
fn decide_loop(
    api: client::Api,
    viewer: String,
    author: String,
    stop: Arc<AtomicBool>,
) -> Vec<f64> {
    let body = serde_json::json!({ "items": [{ "author": author }] });
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let path = format!("/v1/viewers/{viewer}/decide");
    let mut out = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        if api
            .request("POST", &path, Some("application/json"), &bytes)
            .is_ok_and(|r| r.status == 200)
        {
            out.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    out
}

fn p99(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64) * 0.99).floor() as usize % v.len()]
}

async fn one_run(args: &AttackArgs, attack: bool) -> anyhow::Result<RunReport> {
    let tmp = tempfile::tempdir()?;
    let viewer = SecretKey::from_seed(&[201; 32]);
    let author = SecretKey::from_seed(&[202; 32]);
    let config = format!(
        "resync_secs = {}\n[admission]\nquarantine_objects = {}\n",
        args.resync_secs, args.quarantine_objects
    );
    let h = NodeProc::start(&tmp.path().join("honest"), &config, &[])?;
    let h_addr = h.tcp_addr()?;
    let v = NodeProc::start(
        &tmp.path().join("victim"),
        &config,
        &["--bootstrap".into(), h_addr.clone()],
    )?;
    // One viewer on each, trusting the honest author: the author is within reach.
    for n in [&h, &v] {
        n.json(
            "POST",
            "/v1/viewers",
            &serde_json::json!({ "viewer": did(&viewer) }),
        );
    }
    let attest = Object {
        author: viewer.public_key(),
        at: crate::node::clock::now_ms(),
        body: Body::Attest(AttestBody::new(author.public_key(), 80)),
    }
    .sign(&viewer)?;
    for n in [&h, &v] {
        let _ = n.api.request("POST", "/v1/objects", None, attest.bytes());
    }
    // Wait for the two to connect.
    let start = Instant::now();
    while v.json("GET", "/v1/status", &serde_json::Value::Null)["connected"]
        .as_array()
        .is_none_or(|a| a.is_empty())
    {
        if start.elapsed() > Duration::from_secs(60) {
            anyhow::bail!("nodes did not connect");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let v_status = v.json("GET", "/v1/status", &serde_json::Value::Null);
    let h_id = h.json("GET", "/v1/status", &serde_json::Value::Null)["peer_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    // Idle decide latency.
    let stop = Arc::new(AtomicBool::new(false));
    let (api, vd, ad) = (v.api.clone(), did(&viewer), did(&author));
    let idle = {
        let stop2 = stop.clone();
        let t = std::thread::spawn(move || decide_loop(api, vd, ad, stop2));
        tokio::time::sleep(Duration::from_secs(3)).await;
        stop.store(true, Ordering::Relaxed);
        t.join().unwrap_or_default()
    };

    // The flood (or nothing), with honest objects published on H meanwhile.
    let junk = if attack {
        fresh_key_posts(args.objects, 7, crate::node::clock::now_ms(), None)
    } else {
        Vec::new()
    };
    let hostile = if attack {
        let h = Hostile::start(&["/ip4/127.0.0.1/tcp/0".parse()?], Lie::default()).await?;
        let target: Multiaddr = v_status["listen"]
            .as_array()
            .and_then(|a| {
                a.iter()
                    .find_map(|x| x.as_str().filter(|s| s.contains("/tcp/")))
            })
            .unwrap_or_default()
            .parse()?;
        h.dial(target)
            .await
            .map_err(|e| anyhow::anyhow!("hostile dial: {e}"))?;
        h.subscribe(SOCIAL_TOPIC).await;
        let t = Instant::now();
        while h.topic_peers(SOCIAL_TOPIC).await == 0 && t.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Some(h)
    } else {
        None
    };
    let stop = Arc::new(AtomicBool::new(false));
    let (api, vd, ad) = (v.api.clone(), did(&viewer), did(&author));
    let stop2 = stop.clone();
    let load_thread = std::thread::spawn(move || decide_loop(api, vd, ad, stop2));
    let honest_posts: Vec<_> = (0..args.honest)
        .filter_map(|i| {
            Object {
                author: author.public_key(),
                at: crate::node::clock::now_ms() + i as u64,
                body: Body::Post(PostBody {
                    text: format!("honest {i}"),
                    ..Default::default()
                }),
            }
            .sign(&author)
            .ok()
        })
        .collect();
    let flood_start = Instant::now();
    let mut sent = 0u64;
    let flood = async {
        if let Some(h) = &hostile {
            for data in junk {
                // As fast as the connection takes it: retry when gossipsub's queue is full.
                let mut tries = 0;
                while !h.publish(SOCIAL_TOPIC, data.clone()).await && tries < 50 {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                sent += 1;
            }
        }
    };
    let honest_api = h.api.clone();
    let honest_bytes: Vec<Vec<u8>> = honest_posts.iter().map(|p| p.bytes().to_vec()).collect();
    let publish_honest = tokio::task::spawn_blocking(move || {
        for b in honest_bytes {
            let _ = honest_api.request("POST", "/v1/objects?wait=false", None, &b);
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    flood.await;
    let _ = publish_honest.await;
    let flood_secs = flood_start.elapsed().as_secs_f64();
    // One catch-up interval after the last honest object.
    tokio::time::sleep(Duration::from_secs(args.resync_secs)).await;
    let delivered = honest_posts
        .iter()
        .filter(|p| v.has(&p.id().to_string()))
        .count();
    stop.store(true, Ordering::Relaxed);
    let load = load_thread.join().unwrap_or_default();
    let status = v.json("GET", "/v1/status", &serde_json::Value::Null);
    let banned_honest = status["banned"].as_array().map_or(0, |b| {
        b.iter().filter(|p| p.as_str() == Some(&h_id)).count()
    });
    let metric = |name: &str| status["metrics"][name].as_u64().unwrap_or(0);
    drop(hostile);
    Ok(RunReport {
        delivered,
        honest: honest_posts.len(),
        banned_honest,
        peak_rss_kib: v.peak_rss_kib(),
        store_bytes: v.store_bytes(),
        quarantine: metric("quarantine_objects"),
        flood_sent: sent,
        flood_secs,
        decide_p99_idle_ms: p99(idle),
        decide_p99_load_ms: p99(load),
        rate_limited: metric("gossip_rate_limited_total"),
        quarantine_evicted: metric("quarantine_evicted_total"),
    })
}

fn print_report(args: &AttackArgs, base: &RunReport, att: &RunReport) {
    println!(
        "vouch bench attack: {} objects from fresh keys flooded at one honest node, {} honest objects published meanwhile; catch-up every {} s; quarantine bound {} objects",
        args.objects, args.honest, args.resync_secs, args.quarantine_objects
    );
    println!("| | without attack | under the flood | target |");
    println!("|---|---|---|---|");
    let share = |r: &RunReport| 100.0 * r.delivered as f64 / r.honest.max(1) as f64;
    println!(
        "| honest objects delivered within one catch-up interval | {}/{} ({:.1} %) | {}/{} ({:.1} %) | >= 99 % |",
        base.delivered, base.honest, share(base), att.delivered, att.honest, share(att)
    );
    println!(
        "| honest peers banned | {} | {} | 0 |",
        base.banned_honest, att.banned_honest
    );
    println!(
        "| victim peak RSS | {:.1} MiB | {:.1} MiB | |",
        base.peak_rss_kib as f64 / 1024.0,
        att.peak_rss_kib as f64 / 1024.0
    );
    println!(
        "| victim store (db + WAL) | {:.1} MiB | {:.1} MiB | quarantine <= {} objects |",
        base.store_bytes as f64 / 1048576.0,
        att.store_bytes as f64 / 1048576.0,
        args.quarantine_objects
    );
    println!(
        "| objects in quarantine at the end | {} | {} | <= {} |",
        base.quarantine, att.quarantine, args.quarantine_objects
    );
    println!(
        "| decide p99 over HTTP, idle -> during the run | {:.2} -> {:.2} ms ({:.2}x) | {:.2} -> {:.2} ms ({:.2}x) | <= 3x |",
        base.decide_p99_idle_ms,
        base.decide_p99_load_ms,
        base.decide_p99_load_ms / base.decide_p99_idle_ms,
        att.decide_p99_idle_ms,
        att.decide_p99_load_ms,
        att.decide_p99_load_ms / att.decide_p99_idle_ms
    );
    println!(
        "flood: {} objects sent in {:.1} s ({:.0}/s); victim: {} gossip messages over the per-peer rate ignored, {} quarantined objects evicted",
        att.flood_sent,
        att.flood_secs,
        att.flood_sent as f64 / att.flood_secs.max(1e-9),
        att.rate_limited,
        att.quarantine_evicted
    );
}
