//! Protocol P1: hold out 10% of the positive and 10% of the negative edges (seeded), build the
//! graph from the rest, and score each held-out (u, v) by u's view of v.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use vouch_reputation::{TrustParams, TrustView};

use super::{
    auc, build_graph, node_key, node_scores, progress, read_edges, PowerIteration, SignedEdge,
};

/// Arguments of `vouch eval signed`.
#[derive(Debug, Clone)]
pub(crate) struct SignedArgs {
    /// The edge list.
    pub file: PathBuf,
    /// Seeds to run (the protocol's mean is over 0-4).
    pub seeds: Vec<u64>,
    /// Parameters of the Vouch metric.
    pub params: TrustParams,
    /// Text or JSON lines.
    pub report: super::Report,
}

/// AUC and coverage of one method on one split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct MethodResult {
    /// ROC-AUC, negatives vs positives, ties half.
    pub auc: f64,
    /// Share of held-out edges whose target the method has any signal on.
    pub coverage: f64,
}

/// Results of P1 on one split: Vouch, then the baselines.
#[derive(Debug, Clone)]
pub(super) struct SplitResult {
    /// (method name, result), Vouch first.
    pub methods: Vec<(&'static str, MethodResult)>,
}

/// Splits `edges` into (train, held-out) with a stratified 10% of each sign held out.
pub(super) fn split(edges: &[SignedEdge], seed: u64) -> (Vec<SignedEdge>, Vec<SignedEdge>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pos: Vec<usize> = (0..edges.len()).filter(|&i| edges[i].level > 0).collect();
    let mut neg: Vec<usize> = (0..edges.len()).filter(|&i| edges[i].level < 0).collect();
    pos.shuffle(&mut rng);
    neg.shuffle(&mut rng);
    let mut held = vec![false; edges.len()];
    for &i in pos[..pos.len() / 10].iter().chain(&neg[..neg.len() / 10]) {
        held[i] = true;
    }
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (i, e) in edges.iter().enumerate() {
        if held[i] {
            test.push(*e);
        } else {
            train.push(*e);
        }
    }
    (train, test)
}

/// Runs P1 on one split: every method scores every held-out edge.
pub(super) fn evaluate_split(
    n: u32,
    train: &[SignedEdge],
    test: &[SignedEdge],
    params: TrustParams,
    label: &str,
) -> anyhow::Result<SplitResult> {
    let mut g = build_graph(n, train)?;
    g.set_now(u64::MAX - 1);
    let pi = PowerIteration::new(n as usize, train.iter().map(|e| (e.from, e.to, e.level)));
    // Share of positive ratings received (global, not personalized).
    let mut recv = vec![(0u32, 0u32); n as usize];
    for e in train {
        let r = &mut recv[e.to as usize];
        if e.level > 0 {
            r.0 += 1;
        } else {
            r.1 += 1;
        }
    }
    let mut by_viewer: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, e) in test.iter().enumerate() {
        by_viewer.entry(e.from).or_default().push(i);
    }
    let names = ["vouch", "ppr", "ppr-distrust", "positive-share"];
    let mut scored: Vec<Vec<(f64, bool)>> = vec![Vec::new(); names.len()];
    let mut covered = vec![0usize; names.len()];
    let pb = progress(by_viewer.len() as u64, label);
    for (&u, idx) in &by_viewer {
        let view = TrustView::compute(&g, &node_key(u), &[], params);
        let (ppr, _) = pi.ppr(u, 0.85, 1e-9, 200);
        let dis = pi.distrust(&ppr);
        let vs = node_scores(&g, &view, n);
        for &i in idx {
            let e = test[i];
            let v = e.to as usize;
            let label = e.level > 0;
            let s = vs[v];
            let (rp, rn) = recv[v];
            let per_method = [
                (s.standing(), s.has_signal()),
                (ppr[v], ppr[v] > 0.0),
                (ppr[v] - dis[v], ppr[v] > 0.0 || dis[v] > 0.0),
                (
                    if rp + rn > 0 {
                        f64::from(rp) / f64::from(rp + rn)
                    } else {
                        0.0
                    },
                    rp + rn > 0,
                ),
            ];
            for (k, (score, signal)) in per_method.into_iter().enumerate() {
                scored[k].push((score, label));
                covered[k] += usize::from(signal);
            }
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(SplitResult {
        methods: names
            .iter()
            .enumerate()
            .map(|(k, &name)| {
                (
                    name,
                    MethodResult {
                        auc: auc(&scored[k]),
                        coverage: covered[k] as f64 / test.len().max(1) as f64,
                    },
                )
            })
            .collect(),
    })
}

/// `vouch eval signed`: prints one line per seed and method, then the means; the last line is
/// `auc=<mean> coverage=<mean>` for Vouch.
pub(crate) fn run_signed(args: &SignedArgs) -> anyhow::Result<()> {
    let (n, edges) = read_edges(&args.file)?;
    let n_pos = edges.iter().filter(|e| e.level > 0).count();
    args.report.line(&format!(
        "file={} nodes={} edges={} positive={} negative={}",
        args.file.display(),
        n,
        edges.len(),
        n_pos,
        edges.len() - n_pos
    ));
    args.report.line(&format!(
        "vouch params: alpha={} epsilon={}",
        args.params.alpha, args.params.epsilon
    ));
    let mut sums: Vec<(&'static str, f64, f64)> = Vec::new();
    for &seed in &args.seeds {
        let (train, test) = split(&edges, seed);
        let r = evaluate_split(n, &train, &test, args.params, &format!("seed {seed}"))?;
        for (k, (name, m)) in r.methods.iter().enumerate() {
            args.report.line(&format!(
                "seed={seed} method={name} auc={:.4} coverage={:.4}",
                m.auc, m.coverage
            ));
            if sums.len() <= k {
                sums.push((name, 0.0, 0.0));
            }
            sums[k].1 += m.auc;
            sums[k].2 += m.coverage;
        }
    }
    let k = args.seeds.len().max(1) as f64;
    for (name, a, c) in sums.iter().skip(1) {
        args.report.line(&format!(
            "mean method={name} auc={:.4} coverage={:.4}",
            a / k,
            c / k
        ));
    }
    let (_, a, c) = sums
        .first()
        .copied()
        .unwrap_or(("vouch", f64::NAN, f64::NAN));
    args.report
        .line(&format!("auc={:.4} coverage={:.4}", a / k, c / k));
    Ok(())
}
