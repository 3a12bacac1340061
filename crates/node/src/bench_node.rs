//! `vouch node bench-ingest` and `vouch node bench-sync`: throughput and catch-up cost,
//! each printed next to its baseline measured in the same run.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};
use vouch_identity::SecretKey;
use vouch_reputation::{Body, GroupRef, Limits, Object, PostBody};

use crate::filter::SharedFilter;
use crate::ingest::Ingest;
use crate::metrics::Metrics;
use crate::store::{self, Durability, StoreWriter};
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
    /// Validation threads (the store writer is one more thread).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Commit durability: full or normal.
    #[arg(long, default_value = "full")]
    pub durability: String,
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

/// Runs the ingest benchmark and prints its figures.
pub fn bench_ingest(args: &BenchIngestArgs) -> anyhow::Result<ExitCode> {
    let threads = args.threads.max(1);
    let batch = args.batch.clamp(1, crate::ingest::MAX_INGEST_BATCH);
    eprintln!("signing {} objects...", args.n);
    let objects = sample_objects(args.n);
    let bytes: usize = objects.iter().map(|o| o.len()).sum();
    let limits = Limits::default();

    // Baseline: raw batch validation (decode, canonical check, batch verify), same threads.
    let raw = |t: usize| {
        let start = Instant::now();
        std::thread::scope(|s| {
            for part in objects.chunks(objects.len().div_ceil(t).max(1)) {
                s.spawn(move || {
                    for chunk in part.chunks(batch) {
                        let refs: Vec<&[u8]> = chunk.iter().map(|b| b.as_slice()).collect();
                        let ok = limits
                            .validate_batch(&refs, NOW)
                            .iter()
                            .filter(|r| r.is_ok())
                            .count();
                        assert_eq!(ok, chunk.len());
                    }
                });
            }
        });
        rate(objects.len(), start.elapsed().as_secs_f64())
    };
    let raw_1 = raw(1);
    let raw_t = raw(threads);

    // End to end: validate + filter + store + index, through the single writer.
    let dir = tempfile::tempdir()?;
    let durability = if args.durability == "normal" {
        Durability::Normal
    } else {
        Durability::Full
    };
    let metrics = Arc::new(Metrics::default());
    let (writer, handle) =
        StoreWriter::spawn(store::open(dir.path(), durability)?, metrics.clone());
    let ingest = Ingest::new(
        limits,
        SharedFilter::default(),
        writer.clone(),
        metrics.clone(),
    );
    let start = Instant::now();
    std::thread::scope(|s| {
        for part in objects.chunks(objects.len().div_ceil(threads).max(1)) {
            let ingest = ingest.clone();
            let writer = writer.clone();
            s.spawn(move || {
                for chunk in part.chunks(batch) {
                    let refs: Vec<&[u8]> = chunk.iter().map(|b| b.as_slice()).collect();
                    let good: Vec<_> = ingest
                        .check_batch(&refs, NOW)
                        .into_iter()
                        .filter_map(Result::ok)
                        .collect();
                    if let Err(e) = writer.insert_blocking(good) {
                        eprintln!("store error: {e}");
                    }
                }
            });
        }
    });
    let e2e = rate(objects.len(), start.elapsed().as_secs_f64());
    drop(ingest);
    drop(writer);
    let _ = handle.join();
    let stored = store::StoreReader::open(dir.path())?.count()?;
    anyhow::ensure!(
        stored as usize == objects.len(),
        "stored {stored} of {}",
        objects.len()
    );

    println!(
        "objects: {} ({} bytes, {} per object)",
        objects.len(),
        bytes,
        bytes / objects.len().max(1)
    );
    println!("raw batch verify, 1 thread:        {raw_1:>10.0} obj/s");
    println!("raw batch verify, {threads} threads:       {raw_t:>10.0} obj/s");
    println!(
        "ingest end to end, {threads} threads + writer: {e2e:>10.0} obj/s  ({:.0}% of raw batch verify with {threads} threads; durability {:?})",
        100.0 * e2e / raw_t,
        durability
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
