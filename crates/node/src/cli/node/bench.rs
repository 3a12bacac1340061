//! `vouch node bench-ingest` and `vouch node bench-sync`: throughput and catch-up cost,
//! each printed next to its baseline measured in the same run.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use futures::StreamExt;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};
use vouch_identity::SecretKey;
use vouch_reputation::{Body, GroupRef, Limits, Object, PostBody};

use crate::net::sync;
use crate::node::filter::SharedFilter;
use crate::node::ingest::Ingest;
use crate::node::metrics::Metrics;
use crate::node::store::{self, Durability, StoreWriter, StoredObject};

/// `bench-ingest` flags.
#[derive(Debug, Args)]
pub(crate) struct BenchIngestArgs {
    /// Objects to ingest.
    #[arg(long, default_value_t = 100_000)]
    pub n: usize,
    /// Objects per validation batch.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Verification threads, for the baselines and for ingest (the store writer is one more
    /// thread).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Batches handed to the ingest pipeline at once (as from that many peers or clients).
    #[arg(long, default_value_t = 4)]
    pub in_flight: usize,
    /// Commit durability: normal or full.
    #[arg(long, default_value = "normal")]
    pub durability: String,
    /// Rounds; each round runs every variant once, interleaved, and the medians are shown.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Synthetic objects already in the store before the store-only and end-to-end runs
    /// (a node with a large store; its id index no longer fits in a few pages).
    #[arg(long, default_value_t = 0)]
    pub prefill: usize,
    /// Print the figures as one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// `bench-sync` flags.
#[derive(Debug, Args)]
pub(crate) struct BenchSyncArgs {
    /// Objects in the larger store.
    #[arg(long, default_value_t = 100_000)]
    pub n: usize,
    /// Share of objects the other store lacks, in percent.
    #[arg(long, default_value_t = 1.0)]
    pub diff_percent: f64,
    /// Also measure splitting the sets into per-time-bucket sessions of about this many of
    /// the initiator's items each (an experiment: the node reconciles whole topics).
    #[arg(long, value_delimiter = ',', default_values_t = [512, 2048, 8192, 16384])]
    pub session_items: Vec<usize>,
    /// Print the figures as one JSON object instead of text lines.
    #[arg(long)]
    pub json: bool,
}

const NOW: u64 = 1_767_225_600_000;

/// `n` signed posts by 1,000 authors in 10 groups, one second apart, deterministic.
pub(super) fn sample_objects(n: usize) -> Vec<Vec<u8>> {
    let keys: Vec<SecretKey> = (0..1000u32)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&i.to_le_bytes());
            SecretKey::from_seed(&seed)
        })
        .collect();
    let groups: Vec<GroupRef> = (0..10)
        .map(|i| GroupRef {
            owner: keys[i].public_key(),
            name: format!("group-{i}"),
        })
        .collect();
    (0..n)
        .map(|i| {
            let key = &keys[i % keys.len()];
            Object {
                author: key.public_key(),
                at: NOW - (n - i) as u64 * 1000,
                body: Body::Post(PostBody {
                    group: Some(groups[i % groups.len()].clone()),
                    text: format!("post number {i}: some text of a typical length for a post"),
                    ..Default::default()
                }),
            }
            .sign(key)
            .map(|o| o.bytes().to_vec())
            .unwrap_or_default()
        })
        .collect()
}

fn rate(n: usize, secs: f64) -> f64 {
    n as f64 / secs.max(1e-9)
}

/// The 1-minute load average, for the record (the machine is shared).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

/// CPU seconds this process has used (user + system, all threads), from `/proc/self/stat`;
/// `None` where that file does not exist. Unlike wall time, it hardly depends on what else
/// runs on the machine.
fn process_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; they
    // count clock ticks of 1/100 s (USER_HZ).
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// One measured run of a variant: objects per second, CPU microseconds per object and, for
/// runs through the store writer, objects per commit.
#[derive(Debug, Clone, Copy)]
struct Run {
    rate: f64,
    cpu_us: Option<f64>,
    per_commit: Option<f64>,
}

impl Run {
    /// Adds the objects per commit the store writer reported.
    fn with_commits(self, metrics: &Metrics) -> Self {
        use std::sync::atomic::Ordering::Relaxed;
        let commits = metrics.store_commits_total.load(Relaxed);
        let stored = metrics.objects_stored_total.load(Relaxed);
        Run {
            per_commit: (commits > 0).then(|| stored as f64 / commits as f64),
            ..self
        }
    }
}

/// Wall time and process CPU time from its start.
struct Stopwatch {
    start: Instant,
    cpu: Option<f64>,
}

impl Stopwatch {
    fn start() -> Self {
        Stopwatch {
            cpu: process_cpu_secs(),
            start: Instant::now(),
        }
    }

    /// The run of `n` objects since the start.
    fn stop(&self, n: usize) -> Run {
        let rate = rate(n, self.start.elapsed().as_secs_f64());
        let cpu_us = match (self.cpu, process_cpu_secs()) {
            (Some(a), Some(b)) => Some((b - a) * 1e6 / n.max(1) as f64),
            _ => None,
        };
        Run {
            rate,
            cpu_us,
            per_commit: None,
        }
    }
}

/// What the baselines verify: each object's signed message, signature and author.
struct Signed {
    messages: Vec<Vec<u8>>,
    sigs: Vec<vouch_identity::Signature>,
    keys: Vec<vouch_identity::PublicKey>,
}

/// Recovers the signed messages of `objects` (the envelope without `sig`, prefixed).
fn signed_parts(objects: &[Vec<u8>]) -> anyhow::Result<Signed> {
    use ipld_core::ipld::Ipld;
    let mut out = Signed {
        messages: Vec::with_capacity(objects.len()),
        sigs: Vec::with_capacity(objects.len()),
        keys: Vec::with_capacity(objects.len()),
    };
    for bytes in objects {
        let obj = vouch_reputation::validate(bytes, NOW)?;
        let mut map: std::collections::BTreeMap<String, Ipld> =
            serde_ipld_dagcbor::from_slice(bytes)?;
        map.remove("sig");
        out.messages.push(vouch_identity::signing_message(
            vouch_identity::Domain::Object,
            &serde_ipld_dagcbor::to_vec(&map)?,
        ));
        out.sigs.push(*obj.signature());
        out.keys.push(*obj.author());
    }
    Ok(out)
}

/// Runs `work` on `threads` threads over contiguous parts of `0..n`; returns objects/s.
fn timed_parallel(n: usize, threads: usize, work: impl Fn(std::ops::Range<usize>) + Sync) -> Run {
    let part = n.div_ceil(threads.max(1)).max(1);
    let watch = Stopwatch::start();
    std::thread::scope(|s| {
        for lo in (0..n).step_by(part) {
            let work = &work;
            s.spawn(move || work(lo..(lo + part).min(n)));
        }
    });
    watch.stop(n)
}

/// Raw batch signature verification (no decoding), in batches of `batch`.
fn raw_verify(signed: &Signed, batch: usize, threads: usize) -> Run {
    timed_parallel(signed.messages.len(), threads, |range| {
        for lo in range.clone().step_by(batch) {
            let hi = (lo + batch).min(range.end);
            let msgs: Vec<&[u8]> = signed.messages[lo..hi].iter().map(Vec::as_slice).collect();
            let ok =
                vouch_identity::verify_batch(&msgs, &signed.sigs[lo..hi], &signed.keys[lo..hi])
                    .map(|v| v.iter().all(Result::is_ok));
            assert!(matches!(ok, Ok(true)), "baseline signatures must verify");
        }
    })
}

/// Raw batch validation: decode, every check, batch signature verification.
fn raw_validate(objects: &[Vec<u8>], limits: Limits, batch: usize, threads: usize) -> Run {
    timed_parallel(objects.len(), threads, |range| {
        for chunk in objects[range].chunks(batch) {
            let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
            let ok = limits.validate_batch(&refs, NOW).iter().all(Result::is_ok);
            assert!(ok, "baseline objects must validate");
        }
    })
}

/// The settings every variant shares.
#[derive(Debug, Clone, Copy)]
struct Params {
    batch: usize,
    threads: usize,
    in_flight: usize,
    durability: Durability,
    prefill: usize,
}

/// Opens a fresh store in `dir` holding `p.prefill` synthetic rows (random ids, 268-byte
/// bodies, times before the benchmark's objects) and starts its writer.
fn prefilled_store(
    dir: &std::path::Path,
    p: Params,
    metrics: Arc<Metrics>,
) -> anyhow::Result<(StoreWriter, std::thread::JoinHandle<()>)> {
    let (writer, handle) = StoreWriter::spawn(store::open(dir, p.durability)?, metrics.clone());
    let topics: Vec<String> = (0..10)
        .map(|i| format!("{}{:032x}", crate::net::topic::GROUP_TOPIC_PREFIX, i))
        .collect();
    let mut done = 0;
    while done < p.prefill {
        let rows: Vec<StoredObject> = (done..(done + store::MAX_OBJECTS_PER_COMMIT).min(p.prefill))
            .map(|i| StoredObject {
                id: vouch_reputation::ObjectId(Sha256::digest((i as u64).to_be_bytes()).into()),
                at: i as u64,
                kind: "post".into(),
                author: Sha256::digest((i % 1000).to_be_bytes()).into(),
                topic: topics[i % topics.len()].clone(),
                bytes: vec![0xa5; 268],
            })
            .collect();
        done += rows.len();
        writer.insert_blocking(rows)?;
    }
    // Only the benchmark's own objects count in the figures.
    metrics
        .store_commits_total
        .store(0, std::sync::atomic::Ordering::Relaxed);
    metrics
        .objects_stored_total
        .store(0, std::sync::atomic::Ordering::Relaxed);
    Ok((writer, handle))
}

fn durability_arg(s: &str) -> anyhow::Result<Durability> {
    match s {
        "normal" => Ok(Durability::Normal),
        "full" => Ok(Durability::Full),
        other => anyhow::bail!("invalid durability {other:?} (normal or full)"),
    }
}

/// The store writer alone: already validated rows, `in_flight` batches queued at once.
fn store_only(
    rt: &tokio::runtime::Runtime,
    rows: &[StoredObject],
    p: Params,
) -> anyhow::Result<Run> {
    let dir = tempfile::tempdir()?;
    let metrics = Arc::new(Metrics::default());
    let (writer, handle) = prefilled_store(dir.path(), p, metrics.clone())?;
    let batches: Vec<Vec<StoredObject>> = rows.chunks(p.batch).map(<[_]>::to_vec).collect();
    let watch = Stopwatch::start();
    let stored: usize = rt.block_on(
        futures::stream::iter(batches)
            .map(|b| {
                let w = writer.clone();
                async move { w.insert(b).await.map_or(0, |n| n.len()) }
            })
            .buffer_unordered(p.in_flight)
            .fold(0, |a, n| async move { a + n }),
    );
    let r = watch.stop(rows.len()).with_commits(&metrics);
    drop(writer);
    let _ = handle.join();
    anyhow::ensure!(stored == rows.len(), "stored {stored} of {}", rows.len());
    Ok(r)
}

/// End to end through [`Ingest::ingest`], the node's own path: decode, batch verify,
/// filter, store and index; each batch answered after its commit.
fn end_to_end(rt: &tokio::runtime::Runtime, objects: &[Vec<u8>], p: Params) -> anyhow::Result<Run> {
    let dir = tempfile::tempdir()?;
    let metrics = Arc::new(Metrics::default());
    let (writer, handle) = prefilled_store(dir.path(), p, metrics.clone())?;
    let ingest = Ingest::new(
        Limits::default(),
        SharedFilter::default(),
        writer,
        metrics.clone(),
    )
    .with_verify_threads(p.threads);
    // The bytes arrive owned, as from the network.
    let batches: Vec<Vec<Vec<u8>>> = objects.chunks(p.batch).map(<[_]>::to_vec).collect();
    let watch = Stopwatch::start();
    let new: usize = rt.block_on(
        futures::stream::iter(batches)
            .map(|b| ingest.ingest(b))
            .buffer_unordered(p.in_flight)
            .map(|results| {
                results
                    .iter()
                    .filter(|r| matches!(r, Ok(i) if i.new))
                    .count()
            })
            .fold(0, |a, n| async move { a + n }),
    );
    let r = watch.stop(objects.len()).with_commits(&metrics);
    drop(ingest);
    let _ = handle.join();
    anyhow::ensure!(new == objects.len(), "stored {new} of {}", objects.len());
    let stored = store::StoreReader::open(dir.path())?.count()?;
    anyhow::ensure!(
        stored as usize == objects.len() + p.prefill,
        "{stored} rows"
    );
    Ok(r)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Runs the ingest benchmark and prints its figures.
pub(super) fn bench_ingest(args: &BenchIngestArgs) -> anyhow::Result<ExitCode> {
    let t = args.threads.max(1);
    let batch = args.batch.clamp(1, crate::node::ingest::MAX_INGEST_BATCH);
    let durability = durability_arg(&args.durability)?;
    let p = Params {
        batch,
        threads: t,
        in_flight: args.in_flight.max(1),
        prefill: args.prefill,
        durability,
    };
    let load_before = load_average();
    eprintln!("signing {} objects...", args.n);
    let objects = sample_objects(args.n);
    anyhow::ensure!(!objects.is_empty(), "nothing to ingest");
    let bytes: usize = objects.iter().map(Vec::len).sum();
    let signed = signed_parts(&objects)?;
    let rows: Vec<StoredObject> = objects
        .iter()
        .map(|b| vouch_reputation::validate(b, NOW).map(StoredObject::from_signed_owned))
        .collect::<Result<_, _>>()?;
    let limits = Limits::default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(t)
        .enable_all()
        .build()?;

    const NAMES: [&str; 6] = [
        "raw batch signature verify, 1 thread",
        "raw batch signature verify, T threads",
        "raw batch validate (decode + checks + verify), 1 thread",
        "raw batch validate, T threads",
        "store writer alone (validated rows)",
        "ingest end to end (Ingest::ingest)",
    ];
    let mut runs: Vec<Vec<Run>> = vec![Vec::new(); NAMES.len()];
    for round in 0..args.rounds.max(1) {
        eprintln!("round {}...", round + 1);
        runs[0].push(raw_verify(&signed, batch, 1));
        runs[1].push(raw_verify(&signed, batch, t));
        runs[2].push(raw_validate(&objects, limits, batch, 1));
        runs[3].push(raw_validate(&objects, limits, batch, t));
        runs[4].push(store_only(&rt, &rows, p)?);
        runs[5].push(end_to_end(&rt, &objects, p)?);
    }
    let med: Vec<f64> = runs
        .iter()
        .map(|r| median(r.iter().map(|x| x.rate).collect()))
        .collect();
    let cpu: Vec<Option<f64>> = runs
        .iter()
        .map(|r| {
            let c: Option<Vec<f64>> = r.iter().map(|x| x.cpu_us).collect();
            c.map(median)
        })
        .collect();

    if args.json {
        let variants: Vec<serde_json::Value> = NAMES
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let per_commit: Option<Vec<f64>> = runs[i].iter().map(|r| r.per_commit).collect();
                serde_json::json!({
                    "name": name.replace('T', &t.to_string()),
                    "objects_per_s": med[i].round(),
                    "cpu_us_per_object": cpu[i],
                    "objects_per_commit": per_commit.map(median),
                    "rounds": runs[i].iter().map(|r| r.rate.round()).collect::<Vec<_>>(),
                })
            })
            .collect();
        let doc = serde_json::json!({
            "objects": objects.len(),
            "bytes": bytes,
            "batch": batch,
            "threads": t,
            "in_flight": p.in_flight,
            "durability": format!("{durability:?}").to_lowercase(),
            "prefill": p.prefill,
            "rounds": args.rounds.max(1),
            "variants": variants,
            "end_to_end_over_raw_verify": med[5] / med[1],
            "end_to_end_over_raw_verify_1_thread": med[5] / med[0],
            "end_to_end_over_raw_validate": med[5] / med[3],
            "load_average_before": load_before,
            "load_average_after": load_average(),
        });
        println!("{doc}");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "objects: {} signed posts by 1,000 authors ({} bytes, {} per object); batches of {batch}, \
         T = {t} verification threads, {} batches in flight, durability {durability:?}, \
         store prefilled with {} objects",
        objects.len(),
        bytes,
        bytes / objects.len(),
        p.in_flight,
        p.prefill,
    );
    println!(
        "medians of {} interleaved rounds (each round's objects/s in brackets):",
        args.rounds.max(1)
    );
    println!(
        "  {:<58} {:>9}  {:>10}  {:>10}",
        "", "objects/s", "CPU us/obj", "obj/commit"
    );
    for (i, name) in NAMES.iter().enumerate() {
        let each: Vec<String> = runs[i].iter().map(|r| format!("{:.0}", r.rate)).collect();
        let c = cpu[i].map_or("n/a".to_owned(), |c| format!("{c:.1}"));
        let per_commit: Option<Vec<f64>> = runs[i].iter().map(|r| r.per_commit).collect();
        let per_commit = per_commit.map_or("".to_owned(), |v| format!("{:.0}", median(v)));
        println!(
            "  {:<58} {:>9.0}  {:>10}  {:>10}  [{}]",
            name.replace('T', &t.to_string()),
            med[i],
            c,
            per_commit,
            each.join(", ")
        );
    }
    let e2e = med[5];
    println!(
        "ingest end to end = {:.0}% of raw batch signature verify on {t} threads (the baseline)",
        100.0 * e2e / med[1]
    );
    println!(
        "                  = {:.0}% of raw batch signature verify on 1 thread",
        100.0 * e2e / med[0]
    );
    println!(
        "                  = {:.0}% of raw batch validate on {t} threads",
        100.0 * e2e / med[3]
    );
    if let (Some(raw), Some(end)) = (cpu[1], cpu[5]) {
        println!(
            "CPU per object: end to end {end:.1} us = {:.2}x raw signature verify ({raw:.1} us); \
             on {t} idle cores that allows at most {:.0} objects/s end to end ({:.0}% of raw, by CPU)",
            end / raw,
            t as f64 * 1e6 / end,
            100.0 * raw / end,
        );
    }
    println!(
        "load average (1 min): {load_before} before, {} after",
        load_average()
    );
    Ok(ExitCode::SUCCESS)
}

/// The figures of one simulated catch-up.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SyncFigures {
    /// Negentropy round trips.
    pub rounds: u32,
    /// Bytes the initiator sent.
    pub bytes_sent: u64,
    /// Bytes the initiator received.
    pub bytes_received: u64,
    /// Ids found missing.
    pub missing: usize,
    /// Seconds taken (both sides, one process).
    pub secs: f64,
}

/// Reconciles `local` against `remote` in memory and returns the figures.
pub(super) fn measure_sync(
    local: &[(u64, [u8; 32])],
    remote: &[(u64, [u8; 32])],
) -> anyhow::Result<SyncFigures> {
    let storage = sync::storage(remote)?;
    let start = Instant::now();
    let init = sync::reconcile_in_memory(local, &storage)?;
    let secs = start.elapsed().as_secs_f64();
    Ok(SyncFigures {
        rounds: init.rounds,
        bytes_sent: init.bytes_sent,
        bytes_received: init.bytes_received,
        missing: init.need().len(),
        secs,
    })
}

/// Reconciles `local` against `remote` as independent sessions over time buckets holding
/// about `per_session` of `local`'s items each (bounds from `local`'s timestamps); returns
/// the most round trips of any session and the sums of bytes and missing ids.
pub(super) fn measure_sessions(
    local: &[(u64, [u8; 32])],
    remote: &[(u64, [u8; 32])],
    per_session: usize,
) -> anyhow::Result<SyncFigures> {
    let mut bounds: Vec<u64> = local
        .iter()
        .step_by(per_session.max(1))
        .map(|(at, _)| *at)
        .collect();
    if let Some(first) = bounds.first_mut() {
        *first = 0;
    }
    bounds.push(u64::MAX);
    let mut total = SyncFigures {
        rounds: 0,
        bytes_sent: 0,
        bytes_received: 0,
        missing: 0,
        secs: 0.0,
    };
    for w in bounds.windows(2) {
        let inside = |items: &[(u64, [u8; 32])]| -> Vec<(u64, [u8; 32])> {
            items
                .iter()
                .filter(|(at, _)| *at >= w[0] && *at < w[1])
                .copied()
                .collect()
        };
        let f = measure_sync(&inside(local), &inside(remote))?;
        total.rounds = total.rounds.max(f.rounds);
        total.bytes_sent += f.bytes_sent;
        total.bytes_received += f.bytes_received;
        total.missing += f.missing;
        total.secs += f.secs;
    }
    Ok(total)
}

/// Runs the catch-up benchmark and prints its figures.
pub(super) fn bench_sync(args: &BenchSyncArgs) -> anyhow::Result<ExitCode> {
    let n = args.n.max(1);
    let k = ((n as f64) * args.diff_percent / 100.0).round() as usize;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    // Objects one second apart, ids are digests (as in the store).
    let all: Vec<(u64, [u8; 32])> = (0..n as u64)
        .map(|i| {
            (
                NOW - (n as u64 - i) * 1000,
                Sha256::digest(i.to_le_bytes()).into(),
            )
        })
        .collect();
    let full_list_bytes = n * 32;
    let mut cases = Vec::new();
    let say = |line: String| {
        if !args.json {
            println!("{line}");
        }
    };
    say(format!(
        "two stores of {n} objects differing in {k} ({}%); the full id list is {full_list_bytes} bytes (32 per id)",
        args.diff_percent
    ));
    let recent: Vec<_> = all[..n - k].to_vec();
    let mut scattered = all.clone();
    let mut drop_idx: std::collections::HashSet<usize> = std::collections::HashSet::new();
    while drop_idx.len() < k {
        drop_idx.insert(rng.gen_range(0..n));
    }
    let mut i = 0;
    scattered.retain(|_| {
        i += 1;
        !drop_idx.contains(&(i - 1))
    });
    for (name, local) in [
        ("the newest objects missing (node was offline)", &recent),
        ("missing objects scattered at random", &scattered),
    ] {
        let f = measure_sync(local, &all)?;
        let total = f.bytes_sent + f.bytes_received;
        let fetch_rounds = f.missing.div_ceil(sync::FETCH_BATCH);
        let mut case = serde_json::json!({
            "case": name,
            "round_trips": f.rounds,
            "bytes_sent": f.bytes_sent,
            "bytes_received": f.bytes_received,
            "share_of_full_list": total as f64 / full_list_bytes as f64,
            "ms": f.secs * 1000.0,
            "missing": f.missing,
            "fetch_requests": fetch_rounds,
            "sessions": [],
        });
        say(format!(
            "{name}: {} round trips, {} bytes sent + {} received = {} bytes ({:.2}% of the full list), {:.1} ms; found {} missing, fetched in {} batch requests of <= {}",
            f.rounds,
            f.bytes_sent,
            f.bytes_received,
            total,
            100.0 * total as f64 / full_list_bytes as f64,
            f.secs * 1000.0,
            f.missing,
            fetch_rounds,
            sync::FETCH_BATCH,
        ));
        anyhow::ensure!(f.missing == k, "found {} missing, expected {k}", f.missing);
        for &per in &args.session_items {
            let f = measure_sessions(local, &all, per)?;
            let total = f.bytes_sent + f.bytes_received;
            if let Some(sessions) = case["sessions"].as_array_mut() {
                sessions.push(serde_json::json!({
                    "items_per_session": per,
                    "round_trips": f.rounds,
                    "bytes": total,
                    "share_of_full_list": total as f64 / full_list_bytes as f64,
                }));
            }
            say(format!(
                "    experiment, per-time-bucket sessions of ~{per} items: at most {} round trips, {} bytes ({:.2}%)",
                f.rounds,
                total,
                100.0 * total as f64 / full_list_bytes as f64,
            ));
            anyhow::ensure!(f.missing == k, "sessions found {} missing", f.missing);
        }
        cases.push(case);
    }
    // The floor for scattered differences (see specs/sync.md): a difference is only found
    // in a listed range, listed ranges come from 16-way splits (16 x >= 19 bytes) of ranges
    // of >= 32 items, a split is shared by the differences in its range (1 + 31p of them on
    // average, given one), and the listing holds >= 1 id of 32 bytes.
    let p = k as f64 / n as f64;
    let per_difference = 16.0 * 19.0 / (1.0 + 31.0 * p) + 32.0;
    let floor = per_difference * k as f64;
    say(format!(
        "floor for {k} scattered differences with negentropy v1 (16 buckets, 16-byte fingerprints, 32-byte ids), any number of round trips: {per_difference:.0} bytes per difference, {floor:.0} bytes ({:.2}% of the full list)",
        100.0 * floor / full_list_bytes as f64,
    ));
    if args.json {
        let doc = serde_json::json!({
            "objects": n,
            "differing": k,
            "full_list_bytes": full_list_bytes,
            "cases": cases,
            "scattered_floor_bytes": floor.round(),
        });
        println!("{doc}");
    }
    Ok(ExitCode::SUCCESS)
}
