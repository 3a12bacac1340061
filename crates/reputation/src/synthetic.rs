//! Generated trust graphs for benchmarks and profiling (feature `synthetic`).
//!
//! One generator, so that `vouch bench trust` and the profiling example
//! `trust_incremental` build the same graph for the same seed, draw for draw. The caller
//! hands in the random source (this crate draws no randomness of its own).

use rand::Rng;

use crate::{Attestation, KeyBytes};

/// The key of generated author `i`: its index big-endian, then zeros, then 0x5a.
pub fn node_key(i: u32) -> KeyBytes {
    let mut k = [0u8; 32];
    k[..4].copy_from_slice(&i.to_be_bytes());
    k[31] = 0x5a;
    k
}

/// A signed graph of `m` edges over `n` authors as (from, to, level): a preferential-
/// attachment mix (targets drawn from earlier endpoints with probability 0.7), 90% positive
/// levels in 1..=100, no self-loops. `progress` is called with the edge count every 65,536
/// edges.
pub fn signed_graph<R: Rng>(
    n: u32,
    m: u64,
    rng: &mut R,
    mut progress: impl FnMut(usize),
) -> Vec<(u32, u32, i8)> {
    let mut edges = Vec::with_capacity(m as usize);
    let mut ends: Vec<u32> = Vec::with_capacity(m as usize);
    while (edges.len() as u64) < m {
        let a = rng.gen_range(0..n);
        let b = if !ends.is_empty() && rng.gen_bool(0.7) {
            ends[rng.gen_range(0..ends.len())]
        } else {
            rng.gen_range(0..n)
        };
        if a == b {
            continue;
        }
        let level = if rng.gen_bool(0.9) {
            rng.gen_range(1..=100)
        } else {
            -rng.gen_range(1..=100)
        };
        edges.push((a, b, level));
        ends.push(b);
        if edges.len() % 65536 == 0 {
            progress(edges.len());
        }
    }
    edges
}

/// Attestation number `i` of the generated graph: `a` attests `b` at `level`, created at
/// `i` ms, with `i` as its object id.
pub fn attestation(a: u32, b: u32, level: i8, i: u64) -> Attestation {
    let mut object = [0u8; 32];
    object[..8].copy_from_slice(&i.to_be_bytes());
    Attestation {
        author: node_key(a),
        subject: node_key(b),
        level,
        context: None,
        expires_at_ms: None,
        at_ms: i,
        object,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn same_seed_same_graph_no_self_loops() {
        let mut r1 = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut r2 = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut calls = 0;
        let g1 = signed_graph(1000, 70_000, &mut r1, |_| calls += 1);
        let g2 = signed_graph(1000, 70_000, &mut r2, |_| {});
        assert_eq!(g1, g2);
        assert_eq!(g1.len(), 70_000);
        assert_eq!(calls, 1);
        assert!(g1
            .iter()
            .all(|&(a, b, l)| a != b && a < 1000 && b < 1000 && l != 0));
        let negative = g1.iter().filter(|e| e.2 < 0).count();
        assert!((5_000..9_000).contains(&negative), "{negative}");
        assert_eq!(attestation(1, 2, 5, 9).subject, node_key(2));
    }
}
