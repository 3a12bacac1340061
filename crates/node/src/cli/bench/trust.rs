//! `vouch bench trust`: full and incremental per-viewer trust computation on generated
//! graphs, next to a plain power iteration (personalized PageRank) over the same graph.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vouch_reputation::synthetic::{self, attestation};
use vouch_reputation::{KeyBytes, TrustGraph, TrustParams, TrustView};

use crate::cli::eval::{node_key, progress, PowerIteration};

/// Arguments of `vouch bench trust`.
#[derive(Debug, clap::Args)]
pub(crate) struct TrustBenchArgs {
    /// Graph sizes as NODES:EDGES (repeatable); default 130000:850000 and 1000000:10000000.
    #[arg(long = "size")]
    sizes: Vec<String>,
    /// Viewers timed for the full computation.
    #[arg(long, default_value_t = 5)]
    viewers: u32,
    /// Incremental updates timed.
    #[arg(long, default_value_t = 200)]
    updates: u32,
    /// Seed of the generator.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Push resolution (default: the metric's).
    #[arg(long, default_value_t = TrustParams::default().epsilon)]
    epsilon: f64,
    /// Print one JSON object per result line.
    #[arg(long)]
    json: bool,
}

/// The generated graph (`vouch_reputation::synthetic`), with a progress bar.
fn generate(n: u32, m: u64, rng: &mut ChaCha8Rng) -> Vec<(u32, u32, i8)> {
    let pb = progress(m, "generate");
    let edges = synthetic::signed_graph(n, m, rng, |k| pb.set_position(k as u64));
    pb.finish_and_clear();
    edges
}

fn rss_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = s.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs the benchmark and prints one block per size.
pub(crate) fn run_trust(args: &TrustBenchArgs) -> anyhow::Result<()> {
    let report = crate::cli::eval::Report { json: args.json };
    let sizes: Vec<(u32, u64)> = if args.sizes.is_empty() {
        vec![(130_000, 850_000), (1_000_000, 10_000_000)]
    } else {
        args.sizes
            .iter()
            .map(|s| {
                let (n, m) = s
                    .split_once(':')
                    .ok_or_else(|| anyhow::anyhow!("size must be NODES:EDGES, got {s}"))?;
                Ok((n.parse()?, m.parse()?))
            })
            .collect::<anyhow::Result<_>>()?
    };
    let params = TrustParams {
        epsilon: args.epsilon,
        ..TrustParams::default()
    };
    for (n, m) in sizes {
        let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
        let edges = generate(n, m, &mut rng);
        let rss0 = rss_bytes();
        let t0 = Instant::now();
        let mut g = TrustGraph::new(None);
        let pb = progress(m, "ingest");
        for (i, &(a, b, l)) in edges.iter().enumerate() {
            g.add_attestation(&attestation(a, b, l, i as u64))
                .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
            if i % 65536 == 0 {
                pb.set_position(i as u64);
            }
        }
        pb.finish_and_clear();
        g.set_now(u64::MAX - 1);
        let ingest = t0.elapsed();
        let rss1 = rss_bytes();
        let e = g.n_effective_edges();
        report.line(&format!(
            "graph nodes={} edges={} effective_edges={} ingest={:.1}s ({:.0} attestations/s)",
            g.n_authors(),
            m,
            e,
            ingest.as_secs_f64(),
            m as f64 / ingest.as_secs_f64()
        ));
        report.line(&format!(
            "memory graph_heap_bytes_per_edge={:.1} rss_delta_bytes_per_edge={}",
            g.heap_bytes() as f64 / e.max(1) as f64,
            match (rss0, rss1) {
                (Some(a), Some(b)) =>
                    format!("{:.1}", b.saturating_sub(a) as f64 / e.max(1) as f64),
                _ => "n/a".to_string(),
            }
        ));
        // Viewers: authors with some positive attestations, seeded.
        let mut viewers: Vec<KeyBytes> = Vec::new();
        while viewers.len() < args.viewers as usize {
            let (a, _, l) = edges[rng.gen_range(0..edges.len())];
            if l > 0 {
                viewers.push(node_key(a));
            }
        }
        let pi = PowerIteration::new(n as usize, edges.iter().copied());
        let mut full = Vec::new();
        let mut power = Vec::new();
        let mut iters = 0;
        let mut view_bytes = 0;
        for v in &viewers {
            let t = Instant::now();
            let view = TrustView::compute(&g, v, &[], params);
            full.push(t.elapsed());
            view_bytes = view.heap_bytes();
            let id = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
            let t = Instant::now();
            let (_, it) = pi.ppr(id, 0.85, 1e-6, 100);
            power.push(t.elapsed());
            iters = it;
        }
        let (full, power) = (median(full), median(power));
        report.line(&format!(
            "full per-viewer computation: vouch={:.2}ms power_iteration={:.2}ms ({} iterations, tol 1e-6) ratio={:.1}x view_bytes_per_author={:.1}",
            ms(full),
            ms(power),
            iters,
            ms(power) / ms(full).max(1e-9),
            view_bytes as f64 / g.n_authors().max(1) as f64
        ));
        // Incremental: one new attestation by an author the viewer trusts, then update.
        let mut view = TrustView::compute(&g, &viewers[0], &[], params);
        let trusted: Vec<u32> = (0..n)
            .filter(|&i| {
                g.author_id(&node_key(i))
                    .is_some_and(|id| view.score_id(id).trust > 0.0)
            })
            .collect();
        let mut upd = Vec::new();
        let mut ing = Vec::new();
        for i in 0..args.updates {
            let a = trusted[rng.gen_range(0..trusted.len())];
            let b = rng.gen_range(0..n);
            if a == b {
                continue;
            }
            let level = rng.gen_range(1..=100);
            let t = Instant::now();
            g.add_attestation(&attestation(a, b, level, m + u64::from(i)))
                .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
            ing.push(t.elapsed());
            let t = Instant::now();
            view.update(&g);
            upd.push(t.elapsed());
        }
        // The heaviest case: the viewer's own new attestations (all of its mass moves).
        let viewer_id =
            u32::from_be_bytes([viewers[0][0], viewers[0][1], viewers[0][2], viewers[0][3]]);
        let mut own = Vec::new();
        let mut moved = Vec::new();
        for i in 0..10u32 {
            let b = rng.gen_range(0..n);
            if b == viewer_id {
                continue;
            }
            g.add_attestation(&attestation(
                viewer_id,
                b,
                100,
                m + 1_000_000 + u64::from(i),
            ))
            .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
            let before = view.clone();
            let t = Instant::now();
            view.update(&g);
            own.push(t.elapsed());
            // How far the change reaches: authors whose trust moved by at least the resolution
            // (what any method that keeps every author's trust up to date must rewrite).
            let (mut changed, mut reached) = (0usize, 0usize);
            for a in 0..g.n_authors() as u32 {
                let id = vouch_reputation::AuthorId(a);
                let (x, y) = (before.score_id(id).trust, view.score_id(id).trust);
                reached += usize::from(y > 0.0);
                changed += usize::from((x - y).abs() >= params.epsilon);
            }
            moved.push((changed, reached));
        }
        let fresh = TrustView::compute(&g, &viewers[0], &[], params);
        let mut max_diff: f64 = 0.0;
        for i in 0..g.n_authors() as u32 {
            let id = vouch_reputation::AuthorId(i);
            max_diff = max_diff.max((view.score_id(id).trust - fresh.score_id(id).trust).abs());
        }
        let (upd_med, ing_med) = (median(upd.clone()), median(ing));
        let upd_mean = upd.iter().sum::<Duration>() / upd.len().max(1) as u32;
        report.line(&format!(
            "incremental update after one attestation by a trusted author ({} of {} authors trusted): median={:.3}ms mean={:.3}ms (ingest {:.3}ms) vs full={:.2}ms ratio={:.0}x; max |trust diff| to a fresh computation={:.2e}",
            trusted.len(),
            g.n_authors(),
            ms(upd_med),
            ms(upd_mean),
            ms(ing_med),
            ms(full),
            ms(full) / ms(upd_mean).max(1e-9),
            max_diff
        ));
        let k = moved.len().max(1);
        let own_mean = own.iter().sum::<Duration>() / own.len().max(1) as u32;
        report.line(&format!(
            "incremental update after one attestation by the viewer itself: mean={:.3}ms median={:.3}ms vs full={:.2}ms ratio={:.1}x authors_moved_by_epsilon={} authors_reached={} (means over the updates)",
            ms(own_mean),
            ms(median(own.clone())),
            ms(full),
            ms(full) / ms(own_mean).max(1e-9),
            moved.iter().map(|m| m.0).sum::<usize>() / k,
            moved.iter().map(|m| m.1).sum::<usize>() / k,
        ));
    }
    Ok(())
}
