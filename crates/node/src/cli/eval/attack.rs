//! Protocol P3: attacks on reputations. On the same data and the same seeded honest viewers as
//! P2, how much of the honest keys a viewer scores positively still score positively after one
//! smearing key (P3a) or a smearing sybil region (P3b), how far a dense sybil ring climbs
//! (P3c), and what all attack edges from the viewer's most trusted key give the sybils (P3d).

use std::collections::BTreeSet;
use std::path::PathBuf;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use vouch_reputation::{TrustGraph, TrustParams, TrustScore, TrustView};

use super::sybil::{inject, pick_viewers, shares};
use super::SignedEdge;
use super::{add_edges, build_graph, node_ids, node_key, node_scores, par_map, read_edges};

/// One attack of P3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub(crate) enum AttackKind {
    /// P3a: the honest key at the 90th percentile of the viewer's trust (among the keys it
    /// scores positively) rates every other honest key at -10.
    LoneSmear,
    /// P3b: P2's sybil region, every sybil also rating every honest key at -10.
    SybilSmear,
    /// P3c: P2's sybil region, every sybil rating every other sybil at +10.
    Ring,
    /// P3d: P2's sybil region, all attack edges from the key the viewer trusts most.
    Concentrated,
}

impl AttackKind {
    /// The four attacks, in report order.
    pub(crate) const ALL: [AttackKind; 4] = [
        AttackKind::LoneSmear,
        AttackKind::SybilSmear,
        AttackKind::Ring,
        AttackKind::Concentrated,
    ];

    fn name(self) -> &'static str {
        match self {
            AttackKind::LoneSmear => "lone-smear",
            AttackKind::SybilSmear => "sybil-smear",
            AttackKind::Ring => "ring",
            AttackKind::Concentrated => "concentrated",
        }
    }
}

/// Arguments of `vouch eval attack`.
#[derive(Debug, Clone)]
pub(crate) struct AttackArgs {
    /// The edge list.
    pub file: PathBuf,
    /// The attacks to run.
    pub attacks: Vec<AttackKind>,
    /// Number of attack edges `g`.
    pub attack_edges: u32,
    /// Number of sybil accounts.
    pub sybils: u32,
    /// Seeds (the protocol's means are over 0-4).
    pub seeds: Vec<u64>,
    /// Number of honest viewers.
    pub viewers: u32,
    /// Worker threads.
    pub threads: usize,
    /// Parameters of the Vouch metric.
    pub params: TrustParams,
    /// Text or JSON lines.
    pub report: super::Report,
}

/// The honest keys (nodes `0..n`) other than `u` that `u` scores positively.
fn positive(scores: &[TrustScore], u: u32, n: u32) -> Vec<u32> {
    (0..n)
        .filter(|&k| k != u && scores[k as usize].score > 0.0)
        .collect()
}

/// The share of `before` (without `except`) that still scores positively in `after`.
fn kept(before: &[u32], after: &[TrustScore], except: Option<u32>) -> f64 {
    let counted: Vec<u32> = before
        .iter()
        .copied()
        .filter(|&k| Some(k) != except)
        .collect();
    let still = counted
        .iter()
        .filter(|&&k| after[k as usize].score > 0.0)
        .count();
    still as f64 / counted.len().max(1) as f64
}

/// The key at the 90th percentile of `u`'s trust among `keys` (ranked by trust, then number).
fn percentile_90(scores: &[TrustScore], keys: &[u32]) -> Option<u32> {
    let mut ranked: Vec<(f64, u32)> = keys
        .iter()
        .map(|&k| (scores[k as usize].trust, k))
        .collect();
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let i = ((ranked.len().saturating_sub(1)) as f64 * 0.9).round() as usize;
    ranked.get(i).map(|x| x.1)
}

/// Edges from `from` to every node of `targets` at `level`, dated `at_ms`.
fn rate_all(
    from: u32,
    targets: impl Iterator<Item = u32>,
    level: i8,
    at_ms: u64,
) -> Vec<SignedEdge> {
    targets
        .filter(|&t| t != from)
        .map(|to| SignedEdge {
            from,
            to,
            level,
            at_ms,
        })
        .collect()
}

/// Sums of one attack's per-viewer figures, and how many viewers counted.
#[derive(Debug, Default, Clone)]
struct Sums {
    values: Vec<f64>,
    viewers: usize,
}

impl Sums {
    fn add(&mut self, figures: &[f64]) {
        if self.values.len() < figures.len() {
            self.values.resize(figures.len(), 0.0);
        }
        for (s, x) in self.values.iter_mut().zip(figures) {
            *s += x;
        }
        self.viewers += 1;
    }

    fn mean(&self, i: usize) -> f64 {
        self.values.get(i).copied().unwrap_or(f64::NAN) / self.viewers.max(1) as f64
    }
}

/// The names of each attack's figures, in the order the runners return them.
fn figure_names(kind: AttackKind) -> &'static [&'static str] {
    match kind {
        AttackKind::LoneSmear => &["kept", "before", "smearer_trust"],
        AttackKind::SybilSmear => &["kept", "sybil_mass", "top100", "score_share"],
        AttackKind::Ring => &[
            "sybil_mass",
            "top100",
            "score_share",
            "p2_sybil_mass",
            "p2_top100",
            "p2_score_share",
        ],
        AttackKind::Concentrated => &["sybil_mass", "bound", "within_bound", "score_share"],
    }
}

/// The per-viewer figures of one attack on one seed.
fn run_one(
    kind: AttackKind,
    args: &AttackArgs,
    n: u32,
    edges: &[SignedEdge],
    base: &TrustGraph,
    seed: u64,
) -> anyhow::Result<Vec<Vec<f64>>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let p2 = inject(edges, n, args.sybils, args.attack_edges, &mut rng);
    let viewers = pick_viewers(edges, args.viewers, &mut rng);
    let t = p2.iter().map(|e| e.at_ms).max().unwrap_or(0) + 1;
    let total = n + args.sybils;
    let sybil_nodes = n..total;
    let base_ids = node_ids(base, n);
    let params = args.params;
    let label = format!("seed {seed} {}", kind.name());
    let base_view = |u: u32| {
        node_scores(
            &base_ids,
            &TrustView::compute(base, &node_key(u), &[], params),
        )
    };
    match kind {
        AttackKind::LoneSmear => Ok(par_map(&viewers, args.threads, &label, |&u| {
            let before_scores = base_view(u);
            let before = positive(&before_scores, u, n);
            let Some(h) = percentile_90(&before_scores, &before) else {
                return Ok(vec![1.0, 0.0, 0.0]);
            };
            let mut g = base.clone();
            add_edges(&mut g, p2.len() * 2, &rate_all(h, 0..n, -100, t))?;
            let ids = node_ids(&g, n);
            let after = node_scores(&ids, &TrustView::compute(&g, &node_key(u), &[], params));
            Ok(vec![
                kept(&before, &after, Some(h)),
                before.len() as f64,
                before_scores[h as usize].trust,
            ])
        })
        .into_iter()
        .collect::<anyhow::Result<_>>()?),
        AttackKind::SybilSmear => {
            let mut g = build_graph(&p2)?;
            let mut next = p2.len();
            for s in sybil_nodes.clone() {
                let smear = rate_all(s, 0..n, -100, t);
                add_edges(&mut g, next, &smear)?;
                next += smear.len();
            }
            let ids = node_ids(&g, total);
            Ok(par_map(&viewers, args.threads, &label, |&u| {
                let before = positive(&base_view(u), u, n);
                let after = node_scores(&ids, &TrustView::compute(&g, &node_key(u), &[], params));
                let (flow, score) = split_scores(&after);
                let (mass, top) = shares(&flow, &score, u, n);
                let (score_share, _) = shares(&score, &score, u, n);
                vec![kept(&before, &after, None), mass, top, score_share]
            }))
        }
        AttackKind::Ring => {
            let plain = build_graph(&p2)?;
            let mut ring = plain.clone();
            let mut next = p2.len();
            for s in sybil_nodes.clone() {
                let all = rate_all(s, sybil_nodes.clone(), 100, t);
                add_edges(&mut ring, next, &all)?;
                next += all.len();
            }
            let (ids_plain, ids_ring) = (node_ids(&plain, total), node_ids(&ring, total));
            Ok(par_map(&viewers, args.threads, &label, |&u| {
                let mut out = Vec::new();
                for (g, ids) in [(&ring, &ids_ring), (&plain, &ids_plain)] {
                    let vs = node_scores(ids, &TrustView::compute(g, &node_key(u), &[], params));
                    let (flow, score) = split_scores(&vs);
                    let (mass, top) = shares(&flow, &score, u, n);
                    let (score_share, _) = shares(&score, &score, u, n);
                    out.extend([mass, top, score_share]);
                }
                out
            }))
        }
        AttackKind::Concentrated => {
            // P2's sybil region without its attack edges; each viewer's attack edges come
            // from its own most trusted key.
            let region: Vec<SignedEdge> = p2[edges.len()..]
                .iter()
                .filter(|e| e.from >= n)
                .copied()
                .collect();
            let mut with_region = base.clone();
            add_edges(&mut with_region, edges.len(), &region)?;
            let first = edges.len() + region.len();
            Ok(par_map(&viewers, args.threads, &label, |&u| {
                let before = base_view(u);
                let h = (0..n)
                    .filter(|&k| k != u)
                    .max_by(|&a, &b| {
                        before[a as usize]
                            .trust
                            .total_cmp(&before[b as usize].trust)
                            .then(b.cmp(&a))
                    })
                    .unwrap_or(u);
                let mut targets: Vec<u32> = sybil_nodes.clone().collect();
                targets.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ u64::from(u) << 20));
                targets.truncate(args.attack_edges as usize);
                let attack = rate_all(h, targets.into_iter(), 100, t);
                let mut g = with_region.clone();
                add_edges(&mut g, first, &attack)?;
                let ids = node_ids(&g, total);
                let vs = node_scores(&ids, &TrustView::compute(&g, &node_key(u), &[], params));
                let (flow, score) = split_scores(&vs);
                let (mass, _) = shares(&flow, &score, u, n);
                let (score_share, _) = shares(&score, &score, u, n);
                let others: f64 = flow
                    .iter()
                    .enumerate()
                    .filter(|&(k, _)| k != u as usize)
                    .map(|x| x.1)
                    .sum();
                let bound = if others > 0.0 {
                    flow[h as usize] / others
                } else {
                    0.0
                };
                // Within the bound up to the push resolution.
                let within = f64::from(u8::from(mass <= bound + 1e-6));
                Ok(vec![mass, bound, within, score_share])
            })
            .into_iter()
            .collect::<anyhow::Result<_>>()?)
        }
    }
}

/// (flow, score) of every node.
fn split_scores(vs: &[TrustScore]) -> (Vec<f64>, Vec<f64>) {
    (
        vs.iter().map(|s| s.trust).collect(),
        vs.iter().map(|s| s.score).collect(),
    )
}

/// `vouch eval attack`: one line per seed and attack, then the means; the last line is
/// `kept_lone=<mean> kept_sybil=<mean> ring_top100=<mean> concentrated_mass=<mean>` (the
/// fields of the attacks that ran).
pub(crate) fn run_attack(args: &AttackArgs) -> anyhow::Result<()> {
    let (n, edges) = read_edges(&args.file)?;
    args.report.line(&format!(
        "file={} honest={} sybils={} attack_edges={} viewers={} seeds={}",
        args.file.display(),
        n,
        args.sybils,
        args.attack_edges,
        args.viewers,
        args.seeds.len()
    ));
    let base = build_graph(&edges)?;
    let attacks: Vec<AttackKind> = args
        .attacks
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut sums: Vec<Sums> = vec![Sums::default(); attacks.len()];
    for &seed in &args.seeds {
        for (a, &kind) in attacks.iter().enumerate() {
            let per_viewer = run_one(kind, args, n, &edges, &base, seed)?;
            let mut seed_sums = Sums::default();
            for figures in &per_viewer {
                seed_sums.add(figures);
                sums[a].add(figures);
            }
            let names = figure_names(kind);
            let figures: Vec<String> = names
                .iter()
                .enumerate()
                .map(|(i, name)| format!("{name}={:.4}", seed_sums.mean(i)))
                .collect();
            args.report.line(&format!(
                "seed={seed} attack={} g={} {}",
                kind.name(),
                args.attack_edges,
                figures.join(" ")
            ));
        }
    }
    let mut last = Vec::new();
    for (a, &kind) in attacks.iter().enumerate() {
        let names = figure_names(kind);
        let figures: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, name)| format!("{name}={:.4}", sums[a].mean(i)))
            .collect();
        args.report.line(&format!(
            "mean attack={} g={} {}",
            kind.name(),
            args.attack_edges,
            figures.join(" ")
        ));
        let (field, i) = match kind {
            AttackKind::LoneSmear => ("kept_lone", 0),
            AttackKind::SybilSmear => ("kept_sybil", 0),
            AttackKind::Ring => ("ring_top100", 1),
            AttackKind::Concentrated => ("concentrated_mass", 0),
        };
        last.push(format!("{field}={:.4}", sums[a].mean(i)));
    }
    args.report.line(&last.join(" "));
    Ok(())
}
