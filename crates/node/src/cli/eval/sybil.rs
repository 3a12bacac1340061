//! Protocol P2: attach a region of sybils (each rating 10 other sybils at the top level) to the
//! honest graph by `g` attack edges from random honest raters, and measure how much of honest
//! viewers' trust the sybils get: their share of the conserved flow (the score's share beside
//! it) and of the top 100 by score (the key decisions use).

use std::collections::BTreeSet;
use std::path::PathBuf;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vouch_reputation::{TrustParams, TrustView};

use super::signed::{evaluate_split, split};
use super::{build_graph, node_ids, node_key, node_scores, par_map, read_edges};
use super::{PowerIteration, SignedEdge};

/// Arguments of `vouch eval sybil`.
#[derive(Debug, Clone)]
pub(crate) struct SybilArgs {
    /// The edge list.
    pub file: PathBuf,
    /// Number of sybil accounts.
    pub sybils: u32,
    /// Number of attack edges.
    pub attack_edges: u32,
    /// Seed.
    pub seed: u64,
    /// Number of honest viewers.
    pub viewers: u32,
    /// Also measure the honest viewers' P1 AUC with and without the sybils.
    pub with_auc: bool,
    /// Worker threads.
    pub threads: usize,
    /// Parameters of the Vouch metric.
    pub params: TrustParams,
    /// Text or JSON lines.
    pub report: super::Report,
}

/// Sybil share of the viewer's trust mass (sum of `scores`, the viewer itself excluded) and of
/// its top 100 by `rank` (ties by node number).
pub(super) fn shares(scores: &[f64], rank: &[f64], viewer: u32, first_sybil: u32) -> (f64, f64) {
    let mut total = 0.0;
    let mut sybil = 0.0;
    let mut order: Vec<(f64, u32)> = Vec::new();
    for (i, &s) in scores.iter().enumerate() {
        let i = i as u32;
        if i == viewer || s <= 0.0 {
            continue;
        }
        total += s;
        if i >= first_sybil {
            sybil += s;
        }
        order.push((rank[i as usize], i));
    }
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let top = order
        .iter()
        .take(100)
        .filter(|x| x.1 >= first_sybil)
        .count() as f64
        / 100.0;
    (if total > 0.0 { sybil / total } else { 0.0 }, top)
}

/// The viewers of P2 (and P3): honest nodes with at least one positive rating, shuffled with
/// `rng` after [`inject`] drew the sybil region, the first `viewers` of them.
pub(super) fn pick_viewers(edges: &[SignedEdge], viewers: u32, rng: &mut ChaCha8Rng) -> Vec<u32> {
    let mut candidates: Vec<u32> = edges
        .iter()
        .filter(|e| e.level > 0)
        .map(|e| e.from)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    candidates.shuffle(rng);
    candidates.truncate(viewers as usize);
    candidates
}

/// Adds the sybil region and attack edges to `edges` (nodes `n..n+sybils`).
pub(super) fn inject(
    edges: &[SignedEdge],
    n: u32,
    sybils: u32,
    g: u32,
    rng: &mut ChaCha8Rng,
) -> Vec<SignedEdge> {
    let mut out = edges.to_vec();
    let t = edges.iter().map(|e| e.at_ms).max().unwrap_or(0) + 1;
    let mut pairs: BTreeSet<(u32, u32)> = BTreeSet::new();
    for s in 0..sybils {
        let mut k = 0;
        while k < 10.min(sybils.saturating_sub(1)) {
            let o = rng.gen_range(0..sybils);
            if o != s && pairs.insert((n + s, n + o)) {
                out.push(SignedEdge {
                    from: n + s,
                    to: n + o,
                    level: 100,
                    at_ms: t,
                });
                k += 1;
            }
        }
    }
    let raters: Vec<u32> = edges
        .iter()
        .map(|e| e.from)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut k = 0;
    while k < g && !raters.is_empty() && sybils > 0 {
        let h = raters[rng.gen_range(0..raters.len())];
        let s = n + rng.gen_range(0..sybils);
        if pairs.insert((h, s)) {
            out.push(SignedEdge {
                from: h,
                to: s,
                level: 100,
                at_ms: t,
            });
            k += 1;
        }
    }
    out
}

/// `vouch eval sybil`: prints Vouch's and personalized PageRank's figures; the last line is
/// `sybil_mass=<mean> top100=<mean> score_share=<mean>` for Vouch: the sybils' share of the
/// flow, of the top 100 by score, and of the scores.
pub(crate) fn run_sybil(args: &SybilArgs) -> anyhow::Result<()> {
    let (n, edges) = read_edges(&args.file)?;
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let all = inject(&edges, n, args.sybils, args.attack_edges, &mut rng);
    let total = n + args.sybils;
    args.report.line(&format!(
        "file={} honest={} sybils={} attack_edges={} seed={} viewers={}",
        args.file.display(),
        n,
        args.sybils,
        args.attack_edges,
        args.seed,
        args.viewers
    ));
    let g = build_graph(&all)?;
    let ids = node_ids(&g, total);
    let pi = PowerIteration::new(total as usize, all.iter().map(|e| (e.from, e.to, e.level)));
    let viewers = pick_viewers(&edges, args.viewers, &mut rng);
    // Per viewer: flow share, top 100 by score, score share, PPR mass, PPR top 100.
    let per_viewer: Vec<[f64; 5]> = par_map(&viewers, args.threads, "viewers", |&u| {
        let view = TrustView::compute(&g, &node_key(u), &[], args.params);
        let vs = node_scores(&ids, &view);
        let score: Vec<f64> = vs.iter().map(|s| s.score).collect();
        let flow: Vec<f64> = vs.iter().map(|s| s.trust).collect();
        let ppr = pi.ppr_push(u, 0.85, 1e-9);
        let (flow_mass, top) = shares(&flow, &score, u, n);
        let (score_mass, _) = shares(&score, &score, u, n);
        let (ppr_mass, ppr_top) = shares(&ppr, &ppr, u, n);
        [flow_mass, top, score_mass, ppr_mass, ppr_top]
    });
    let k = viewers.len().max(1) as f64;
    let mean = |i: usize| per_viewer.iter().map(|x| x[i]).sum::<f64>() / k;
    args.report.line(&format!(
        "method=ppr sybil_mass={:.4} top100={:.4}",
        mean(3),
        mean(4)
    ));
    if args.with_auc {
        let (train, test) = split(&edges, args.seed);
        let clean = evaluate_split(
            n,
            &train,
            &test,
            args.params,
            super::signed::Baselines::All,
            args.threads,
            "auc without sybils",
        )?;
        let mut with: Vec<SignedEdge> = train.clone();
        with.extend_from_slice(&all[edges.len()..]);
        let dirty = evaluate_split(
            total,
            &with,
            &test,
            args.params,
            super::signed::Baselines::All,
            args.threads,
            "auc with sybils",
        )?;
        for (a, b) in clean.methods.iter().zip(&dirty.methods) {
            args.report.line(&format!(
                "method={} honest_auc_without_sybils={:.4} honest_auc_with_sybils={:.4}",
                a.0, a.1.auc, b.1.auc
            ));
        }
    }
    args.report.line(&format!(
        "sybil_mass={:.4} top100={:.4} score_share={:.4}",
        mean(0),
        mean(1),
        mean(2)
    ));
    Ok(())
}
