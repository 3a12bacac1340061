//! Driver for profiling incremental trust updates (e.g. under `valgrind --tool=callgrind
//! --toggle-collect='*TrustView*update*'`): builds the generated graph of `vouch bench trust`
//! (same generator, same seed), computes one viewer's view, applies `TRUSTED` attestations by
//! authors the viewer trusts and then `OWN` attestations by the viewer itself, each followed by
//! `TrustView::update`, and prints the update times next to a full computation measured in the
//! same run, and the largest trust difference to a fresh computation.
//!
//! `cargo run --release -p vouch-reputation --features synthetic --example trust_incremental --
//! [NODES EDGES [OWN [TRUSTED [SEED [REPEAT]]]]]` (defaults: 130000 850000 10 200 0 1).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vouch_reputation::synthetic::{attestation, node_key, signed_graph};
use vouch_reputation::{AuthorId, TrustGraph, TrustParams, TrustView};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numeric arguments"))
        .collect();
    let arg = |i: usize, d: u64| args.get(i).copied().unwrap_or(d);
    let (n, m) = (arg(0, 130_000) as u32, arg(1, 850_000));
    let (own_n, trusted_n, seed) = (arg(2, 10) as u32, arg(3, 200) as u32, arg(4, 0));
    let repeat = arg(5, 1).max(1);
    let params = TrustParams::default();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let edges = signed_graph(n, m, &mut rng, |_| {});
    let mut g = TrustGraph::new(None);
    for (i, &(a, b, l)) in edges.iter().enumerate() {
        g.add_attestation(&attestation(a, b, l, i as u64)).unwrap();
    }
    g.set_now(u64::MAX - 1);
    // The first viewer `vouch bench trust` picks.
    let viewer = loop {
        let (a, _, l) = edges[rng.gen_range(0..edges.len())];
        if l > 0 {
            break a;
        }
    };
    let vkey = node_key(viewer);
    let t = Instant::now();
    let mut view = TrustView::compute(&g, &vkey, &[], params);
    let full = t.elapsed();
    // A digest of the full computation's numbers (to check that code changes keep them
    // bit-identical).
    let digest = (0..g.n_authors() as u32).fold(0u64, |h, i| {
        let s = view.score_id(AuthorId(i));
        [s.trust, s.positive, s.negative, s.goodness]
            .iter()
            .fold(h, |h, x| (h ^ x.to_bits()).wrapping_mul(0x100_0000_01b3))
    });
    let trusted: Vec<u32> = (0..n)
        .filter(|&i| {
            g.author_id(&node_key(i))
                .is_some_and(|id| view.score_id(id).trust > 0.0)
        })
        .collect();
    let mut other = Duration::ZERO;
    for i in 0..trusted_n {
        let a = trusted[rng.gen_range(0..trusted.len())];
        let b = rng.gen_range(0..n);
        if a == b {
            continue;
        }
        let level = rng.gen_range(1..=100);
        g.add_attestation(&attestation(a, b, level, m + u64::from(i)))
            .unwrap();
        let t = Instant::now();
        view.update(&g);
        other += t.elapsed();
    }
    // The viewer's own attestations, REPEAT times from the same state (clones of the graph and
    // the view, the same subjects), so that one run gives enough samples for a median.
    let (g0, view0, rng0) = (g.clone(), view.clone(), rng.clone());
    let mut own = Vec::new();
    for _ in 0..repeat {
        (g, view, rng) = (g0.clone(), view0.clone(), rng0.clone());
        for i in 0..own_n {
            let b = rng.gen_range(0..n);
            if b == viewer {
                continue;
            }
            g.add_attestation(&attestation(viewer, b, 100, m + 1_000_000 + u64::from(i)))
                .unwrap();
            let t = Instant::now();
            view.update(&g);
            own.push(t.elapsed());
        }
    }
    let fresh = TrustView::compute(&g, &vkey, &[], params);
    let mut max_diff: f64 = 0.0;
    for i in 0..g.n_authors() as u32 {
        let id = AuthorId(i);
        max_diff = max_diff.max((view.score_id(id).trust - fresh.score_id(id).trust).abs());
    }
    let own_mean = own.iter().sum::<Duration>() / own.len().max(1) as u32;
    let mut sorted = own.clone();
    sorted.sort_unstable();
    let own_median = sorted.get(sorted.len() / 2).copied().unwrap_or_default();
    println!(
        "nodes={n} edges={m} full_digest={digest:016x} full={:.2}ms other_author_update_mean={:.4}ms own_update_mean={:.3}ms own_update_median={:.3}ms own_updates={:?} ratio_full_over_own={:.1}x max_trust_diff={max_diff:.2e} prior_incremental={:.3e} prior_fresh={:.3e}",
        ms(full),
        ms(other / trusted_n.max(1)),
        ms(own_mean),
        ms(own_median),
        own[own.len().saturating_sub(own_n as usize)..]
            .iter().map(|d| (ms(*d) * 1000.0).round() / 1000.0).collect::<Vec<_>>(),
        ms(full) / ms(own_mean).max(1e-9),
        view.prior(),
        fresh.prior(),
    );
}
