//! Protocols P1 and P1v: hold out 10% of the edges (a stratified random 10% of each sign per
//! seed, or the latest 10% by time), build the graph from the rest, and score each held-out
//! (u, v) by u's view of v: the AUC pooled over all held-out edges (P1) and the mean of each
//! viewer's own AUC (P1v), for Vouch and for the baselines, in the same harness.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use vouch_reputation::{TrustParams, TrustView};

use super::{auc, build_graph, node_ids, node_key, node_score, par_map, read_edges};
use super::{PowerIteration, SignedEdge};

/// Which held-out split `vouch eval signed` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SplitKind {
    /// A stratified random 10% of each sign, per seed.
    Random,
    /// The latest 10% of the edges by time (ties in file order); the same for every seed.
    Temporal,
    /// Both.
    Both,
}

/// Which baselines `vouch eval signed` runs next to Vouch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Baselines {
    /// Every baseline: personalized PageRank (with and without one step of distrust, one push
    /// per viewer, about what the Vouch metric costs again or more) and the global shares.
    All,
    /// Only the global shares (received, and the harshness product): no work per viewer.
    Global,
    /// Vouch alone.
    None,
}

impl Baselines {
    /// The indices into [`METHODS`] this choice reports (Vouch first).
    fn methods(self) -> Vec<usize> {
        match self {
            Baselines::All => (0..METHODS.len()).collect(),
            Baselines::Global => vec![0, 4, 5, 6, 7],
            Baselines::None => vec![0],
        }
    }
}

/// Arguments of `vouch eval signed`.
#[derive(Debug, Clone)]
pub(crate) struct SignedArgs {
    /// The edge list.
    pub file: PathBuf,
    /// Seeds to run (the protocol's mean is over 0-4).
    pub seeds: Vec<u64>,
    /// Which splits.
    pub split: SplitKind,
    /// Which baselines to run.
    pub baselines: Baselines,
    /// Worker threads.
    pub threads: usize,
    /// Parameters of the Vouch metric.
    pub params: TrustParams,
    /// Text or JSON lines.
    pub report: super::Report,
}

/// A method's figures on one split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct MethodResult {
    /// P1: ROC-AUC over all held-out edges, negatives vs positives, ties half.
    pub auc: f64,
    /// Share of held-out edges whose target the method has any signal on.
    pub coverage: f64,
    /// P1v: mean over viewers with both classes held out of the AUC of their own targets
    /// (`None` for a method that is constant within a viewer).
    pub viewer_auc: Option<f64>,
    /// The number of viewers P1v averages over.
    pub viewers: usize,
}

/// Results of P1 on one split: Vouch, then the baselines.
#[derive(Debug, Clone)]
pub(super) struct SplitResult {
    /// (method name, result), Vouch first.
    pub methods: Vec<(&'static str, MethodResult)>,
}

/// The methods, in report order, and whether P1v applies (a method that is constant within a
/// viewer is pooled only).
const METHODS: [(&str, bool); 8] = [
    ("vouch", true),
    ("ppr", true),
    ("ppr-distrust", true),
    ("ppr-distrust+recip", true),
    ("positive-share", true),
    ("positive-share+recip", true),
    ("harshness", false),
    ("harshness+recip", false),
];

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
    partition(edges, &held)
}

/// Splits `edges` into (train, held-out) with the latest 10% by time held out (ties: later in
/// the file is later).
pub(super) fn temporal_split(edges: &[SignedEdge]) -> (Vec<SignedEdge>, Vec<SignedEdge>) {
    let mut order: Vec<usize> = (0..edges.len()).collect();
    order.sort_by_key(|&i| (edges[i].at_ms, i));
    let mut held = vec![false; edges.len()];
    for &i in &order[edges.len() - edges.len() / 10..] {
        held[i] = true;
    }
    partition(edges, &held)
}

fn partition(edges: &[SignedEdge], held: &[bool]) -> (Vec<SignedEdge>, Vec<SignedEdge>) {
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

/// Share of positive ratings among `(positive, negative)` counts, 0 without ratings.
fn share((p, n): (u32, u32)) -> f64 {
    if p + n > 0 {
        f64::from(p) / f64::from(p + n)
    } else {
        0.0
    }
}

/// Runs P1 and P1v on one split: every method scores every held-out edge.
pub(super) fn evaluate_split(
    n: u32,
    train: &[SignedEdge],
    test: &[SignedEdge],
    params: TrustParams,
    baselines: Baselines,
    threads: usize,
    label: &str,
) -> anyhow::Result<SplitResult> {
    let g = build_graph(train)?;
    let ids = node_ids(&g, n);
    let pi = (baselines == Baselines::All)
        .then(|| PowerIteration::new(n as usize, train.iter().map(|e| (e.from, e.to, e.level))));
    // Positive / negative ratings received and given (global, not personalized).
    let mut recv = vec![(0u32, 0u32); n as usize];
    let mut given = vec![(0u32, 0u32); n as usize];
    // Negative reciprocity: (rater, rated) -> level of each negative training rating.
    let mut negative: HashMap<(u32, u32), i8> = HashMap::new();
    for e in train {
        let (r, s) = (&mut recv[e.to as usize], &mut given[e.from as usize]);
        if e.level > 0 {
            r.0 += 1;
            s.0 += 1;
        } else {
            r.1 += 1;
            s.1 += 1;
            negative.insert((e.from, e.to), e.level);
        }
    }
    let mut by_viewer: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, e) in test.iter().enumerate() {
        by_viewer.entry(e.from).or_default().push(i);
    }
    let viewers: Vec<(u32, Vec<usize>)> = by_viewer.into_iter().collect();
    // Per viewer, per held-out edge: (score, has signal) of each method.
    type Scored = Vec<[(f64, bool); METHODS.len()]>;
    let per_viewer: Vec<Scored> = par_map(&viewers, threads, label, |(u, idx)| {
        let u = *u;
        let view = TrustView::compute(&g, &node_key(u), &[], params);
        let ppr = pi.as_ref().map(|pi| {
            // The push resolution of the Vouch metric (epsilon per out-edge): the baselines
            // cost what the metric costs, not a full power iteration per viewer.
            let ppr = pi.ppr_push(u, 0.85, params.epsilon);
            let dis = pi.distrust(&ppr);
            (ppr, dis)
        });
        idx.iter()
            .map(|&i| {
                let e = test[i];
                let v = e.to as usize;
                let s = node_score(&ids, &view, e.to);
                // What the target's own rating of the viewer says: the viewer's whole budget
                // times |level| / 100 of negative evidence, as in the Vouch metric.
                let recip = negative
                    .get(&(e.to, u))
                    .map_or(0.0, |&l| f64::from(l.unsigned_abs()) / 100.0);
                let (pp, dd) = ppr.as_ref().map_or((0.0, 0.0), |(p, d)| (p[v], d[v]));
                let received = share(recv[v]);
                let has_received = recv[v].0 + recv[v].1 > 0;
                let harsh = received * share(given[u as usize]);
                [
                    (s.standing(), s.has_signal()),
                    (pp, pp > 0.0),
                    (pp - dd, pp > 0.0 || dd > 0.0),
                    (pp - dd - recip, pp > 0.0 || dd > 0.0 || recip > 0.0),
                    (received, has_received),
                    (received - recip, has_received || recip > 0.0),
                    (harsh, has_received),
                    (harsh - recip, has_received || recip > 0.0),
                ]
            })
            .collect()
    });
    let methods = baselines
        .methods()
        .into_iter()
        .map(|k| {
            let (name, per_view) = METHODS[k];
            let mut pooled: Vec<(f64, bool)> = Vec::with_capacity(test.len());
            let mut covered = 0usize;
            let (mut sum, mut counted) = (0.0, 0usize);
            for ((_, idx), scored) in viewers.iter().zip(&per_viewer) {
                let own: Vec<(f64, bool)> = idx
                    .iter()
                    .zip(scored)
                    .map(|(&i, s)| (s[k].0, test[i].level > 0))
                    .collect();
                covered += scored.iter().filter(|s| s[k].1).count();
                let a = auc(&own);
                if !a.is_nan() {
                    sum += a;
                    counted += 1;
                }
                pooled.extend(own);
            }
            (
                name,
                MethodResult {
                    auc: auc(&pooled),
                    coverage: covered as f64 / test.len().max(1) as f64,
                    viewer_auc: per_view.then(|| sum / counted.max(1) as f64),
                    viewers: counted,
                },
            )
        })
        .collect();
    Ok(SplitResult { methods })
}

fn result_line(prefix: &str, name: &str, m: &MethodResult) -> String {
    let mut line = format!(
        "{prefix}method={name} auc={:.4} coverage={:.4}",
        m.auc, m.coverage
    );
    if let Some(v) = m.viewer_auc {
        line += &format!(" viewer_auc={v:.4} viewers={}", m.viewers);
    }
    line
}

/// `vouch eval signed`: prints one line per split and method, then the means over the random
/// splits; the last line is `auc=<P1 mean> coverage=<mean> viewer_auc=<P1v mean>` for Vouch
/// (over the random splits, or the temporal split if only that one ran).
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
        "vouch params: alpha={} epsilon={} budget={:?} prior={:?} doubt={} flow_evidence={} threads={}",
        args.params.alpha,
        args.params.epsilon,
        args.params.budget,
        args.params.prior,
        args.params.doubt,
        args.params.flow_evidence,
        args.threads
    ));
    let run = |train: &[SignedEdge], test: &[SignedEdge], label: &str| {
        let start = std::time::Instant::now();
        let r = evaluate_split(
            n,
            train,
            test,
            args.params,
            args.baselines,
            args.threads,
            label,
        );
        eprintln!("{label}: {:.1}s", start.elapsed().as_secs_f64());
        r
    };
    let mut last: Option<MethodResult> = None;
    if args.split != SplitKind::Random {
        let (train, test) = temporal_split(&edges);
        let r = run(&train, &test, "temporal split")?;
        for (name, m) in &r.methods {
            args.report.line(&result_line("split=temporal ", name, m));
        }
        last = r.methods.first().map(|x| x.1);
    }
    if args.split == SplitKind::Temporal {
        let m = last.ok_or_else(|| anyhow::anyhow!("no result"))?;
        args.report.line(&format!(
            "auc={:.4} coverage={:.4} viewer_auc={:.4}",
            m.auc,
            m.coverage,
            m.viewer_auc.unwrap_or(f64::NAN)
        ));
        return Ok(());
    }
    let mut sums: Vec<(&'static str, MethodResult)> = Vec::new();
    for &seed in &args.seeds {
        let (train, test) = split(&edges, seed);
        let r = run(&train, &test, &format!("seed {seed}"))?;
        for (k, (name, m)) in r.methods.iter().enumerate() {
            args.report
                .line(&result_line(&format!("seed={seed} "), name, m));
            if sums.len() <= k {
                sums.push((
                    name,
                    MethodResult {
                        auc: 0.0,
                        coverage: 0.0,
                        viewer_auc: m.viewer_auc.map(|_| 0.0),
                        viewers: 0,
                    },
                ));
            }
            let s = &mut sums[k].1;
            s.auc += m.auc;
            s.coverage += m.coverage;
            s.viewer_auc = s.viewer_auc.zip(m.viewer_auc).map(|(a, b)| a + b);
            s.viewers += m.viewers;
        }
    }
    let k = args.seeds.len().max(1);
    let mean = |m: &MethodResult| MethodResult {
        auc: m.auc / k as f64,
        coverage: m.coverage / k as f64,
        viewer_auc: m.viewer_auc.map(|v| v / k as f64),
        viewers: m.viewers / k,
    };
    for (name, m) in sums.iter().skip(1) {
        args.report.line(&result_line("mean ", name, &mean(m)));
    }
    let m = sums
        .first()
        .map(|x| mean(&x.1))
        .ok_or_else(|| anyhow::anyhow!("no seed"))?;
    args.report.line(&format!(
        "auc={:.4} coverage={:.4} viewer_auc={:.4}",
        m.auc,
        m.coverage,
        m.viewer_auc.unwrap_or(f64::NAN)
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(from: u32, to: u32, level: i8, at_ms: u64) -> SignedEdge {
        SignedEdge {
            from,
            to,
            level,
            at_ms,
        }
    }

    #[test]
    fn temporal_split_holds_out_the_latest_tenth() {
        let edges: Vec<SignedEdge> = (0..40)
            .map(|i| {
                edge(
                    i,
                    i + 1,
                    if i % 4 == 0 { -10 } else { 10 },
                    1000 - u64::from(i),
                )
            })
            .collect();
        let (train, test) = temporal_split(&edges);
        assert_eq!((train.len(), test.len()), (36, 4));
        let newest_train = train.iter().map(|e| e.at_ms).max().unwrap_or(0);
        assert!(test.iter().all(|e| e.at_ms > newest_train));
    }

    #[test]
    fn random_split_is_stratified_and_seeded() {
        let edges: Vec<SignedEdge> = (0..200)
            .map(|i| edge(i, i + 1, if i % 5 == 0 { -10 } else { 10 }, 0))
            .collect();
        let (_, test) = split(&edges, 3);
        assert_eq!(test.iter().filter(|e| e.level < 0).count(), 4);
        assert_eq!(test.iter().filter(|e| e.level > 0).count(), 16);
        assert_eq!(split(&edges, 3).1, test);
        assert_ne!(split(&edges, 4).1, test);
    }

    /// Viewer 0's held-out targets: 1 and 2 positive, 3 negative; 3 also distrusts 0. Every
    /// method with negative reciprocity ranks 3 last for 0, and P1v counts viewer 0 only
    /// (viewer 5 has a single class).
    #[test]
    fn viewer_auc_and_reciprocity() {
        let train = vec![
            edge(0, 4, 100, 0),
            edge(4, 1, 100, 0),
            edge(4, 2, 100, 0),
            edge(4, 3, 100, 0),
            edge(3, 0, -100, 0),
            edge(5, 4, 100, 0),
        ];
        let test = vec![
            edge(0, 1, 100, 1),
            edge(0, 2, 100, 1),
            edge(0, 3, -100, 1),
            edge(5, 1, 100, 1),
        ];
        let r = evaluate_split(
            6,
            &train,
            &test,
            TrustParams::default(),
            Baselines::All,
            2,
            "t",
        )
        .unwrap();
        let get = |name: &str| r.methods.iter().find(|m| m.0 == name).unwrap().1;
        for name in ["vouch", "ppr-distrust+recip", "positive-share+recip"] {
            let m = get(name);
            assert_eq!(m.viewers, 1, "{name}");
            assert_eq!(m.viewer_auc, Some(1.0), "{name}");
        }
        // Without reciprocity the global share cannot tell 3 from 1 and 2 (all rated +100
        // by 4 once): a tie.
        assert_eq!(get("positive-share").viewer_auc, Some(0.5));
        assert_eq!(get("harshness").viewer_auc, None);
    }
}
