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

use crate::filter::SharedFilter;
use crate::ingest::Ingest;
use crate::metrics::Metrics;
use crate::store::{self, Durability, StoreWriter, StoredObject};
use crate::sync;

/// `bench-ingest` flags.
#[derive(Debug, Args)]
pub struct BenchIngestArgs {
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
}

/// `bench-sync` flags.
#[derive(Debug, Args)]
pub struct BenchSyncArgs {
    /// Objects in the larger store.
    #[arg(long, default_value_t = 100_000)]
    pub n: usize,
    /// Share of objects the other store lacks, in percent.
    #[arg(long, default_value_t = 1.0)]
    pub diff_percent: f64,
}

const NOW: u64 = 1_767_225_600_000;

/// `n` signed posts by 1,000 authors in 10 groups, one second apart, deterministic.
pub fn sample_objects(n: usize) -> Vec<Vec<u8>> {
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
fn timed_parallel(n: usize, threads: usize, work: impl Fn(std::ops::Range<usize>) + Sync) -> f64 {
    let part = n.div_ceil(threads.max(1)).max(1);
    let start = Instant::now();
    std::thread::scope(|s| {
        for lo in (0..n).step_by(part) {
            let work = &work;
            s.spawn(move || work(lo..(lo + part).min(n)));
        }
    });
    rate(n, start.elapsed().as_secs_f64())
}

/// Raw batch signature verification (no decoding), in batches of `batch`.
fn raw_verify(signed: &Signed, batch: usize, threads: usize) -> f64 {
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
fn raw_validate(objects: &[Vec<u8>], limits: Limits, batch: usize, threads: usize) -> f64 {
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
) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let (writer, handle) = StoreWriter::spawn(
        store::open(dir.path(), p.durability)?,
        Arc::new(Metrics::default()),
    );
    let batches: Vec<Vec<StoredObject>> = rows.chunks(p.batch).map(<[_]>::to_vec).collect();
    let start = Instant::now();
    let stored: usize = rt.block_on(
        futures::stream::iter(batches)
            .map(|b| {
                let w = writer.clone();
                async move { w.insert(b).await.map_or(0, |n| n.len()) }
            })
            .buffer_unordered(p.in_flight)
            .fold(0, |a, n| async move { a + n }),
    );
    let r = rate(rows.len(), start.elapsed().as_secs_f64());
    drop(writer);
    let _ = handle.join();
    anyhow::ensure!(stored == rows.len(), "stored {stored} of {}", rows.len());
    Ok(r)
}

/// End to end through [`Ingest::ingest`], the node's own path: decode, batch verify,
/// filter, store and index; each batch answered after its commit.
fn end_to_end(rt: &tokio::runtime::Runtime, objects: &[Vec<u8>], p: Params) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let metrics = Arc::new(Metrics::default());
    let (writer, handle) =
        StoreWriter::spawn(store::open(dir.path(), p.durability)?, metrics.clone());
    let ingest = Ingest::new(Limits::default(), SharedFilter::default(), writer, metrics)
        .with_verify_threads(p.threads);
    // The bytes arrive owned, as from the network.
    let batches: Vec<Vec<Vec<u8>>> = objects.chunks(p.batch).map(<[_]>::to_vec).collect();
    let start = Instant::now();
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
    let r = rate(objects.len(), start.elapsed().as_secs_f64());
    drop(ingest);
    let _ = handle.join();
    anyhow::ensure!(new == objects.len(), "stored {new} of {}", objects.len());
    let stored = store::StoreReader::open(dir.path())?.count()?;
    anyhow::ensure!(stored as usize == objects.len(), "{stored} rows");
    Ok(r)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Runs the ingest benchmark and prints its figures.
pub fn bench_ingest(args: &BenchIngestArgs) -> anyhow::Result<ExitCode> {
    let t = args.threads.max(1);
    let batch = args.batch.clamp(1, crate::ingest::MAX_INGEST_BATCH);
    let durability = durability_arg(&args.durability)?;
    let p = Params {
        batch,
        threads: t,
        in_flight: args.in_flight.max(1),
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
    let mut runs: Vec<Vec<f64>> = vec![Vec::new(); NAMES.len()];
    for round in 0..args.rounds.max(1) {
        eprintln!("round {}...", round + 1);
        runs[0].push(raw_verify(&signed, batch, 1));
        runs[1].push(raw_verify(&signed, batch, t));
        runs[2].push(raw_validate(&objects, limits, batch, 1));
        runs[3].push(raw_validate(&objects, limits, batch, t));
        runs[4].push(store_only(&rt, &rows, p)?);
        runs[5].push(end_to_end(&rt, &objects, p)?);
    }
    let med: Vec<f64> = runs.iter().map(|r| median(r.clone())).collect();

    println!(
        "objects: {} signed posts by 1,000 authors ({} bytes, {} per object); batches of {batch}, \
         T = {t} verification threads, {} batches in flight, durability {durability:?}",
        objects.len(),
        bytes,
        bytes / objects.len(),
        p.in_flight,
    );
    println!(
        "medians of {} interleaved rounds (each round's figures in brackets), objects/s:",
        args.rounds.max(1)
    );
    for (i, name) in NAMES.iter().enumerate() {
        let each: Vec<String> = runs[i].iter().map(|r| format!("{r:.0}")).collect();
        println!(
            "  {:<58} {:>9.0}  [{}]",
            name.replace('T', &t.to_string()),
            med[i],
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
    println!(
        "load average (1 min): {load_before} before, {} after",
        load_average()
    );
    Ok(ExitCode::SUCCESS)
}

/// The figures of one simulated catch-up.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncFigures {
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
pub fn measure_sync(
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

/// Runs the catch-up benchmark and prints its figures.
pub fn bench_sync(args: &BenchSyncArgs) -> anyhow::Result<ExitCode> {
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
    println!(
        "two stores of {n} objects differing in {k} ({}%); the full id list is {full_list_bytes} bytes (32 per id)",
        args.diff_percent
    );
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
        println!(
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
        );
        anyhow::ensure!(f.missing == k, "found {} missing, expected {k}", f.missing);
    }
    Ok(ExitCode::SUCCESS)
}
