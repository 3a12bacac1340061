//! `vouch eval`: the evaluation protocols of `shared/data/README.md` on signed networks in SNAP
//! formats: P1 and P1v (edge-sign AUC, pooled and per viewer), P2 (sybil injection) and P3
//! (attacks on reputations), with the baselines run in the same harness, on both cores.

mod attack;
mod baseline;
mod data;
mod signed;
mod sybil;

pub(crate) use attack::{run_attack, AttackArgs, AttackKind};
pub(crate) use baseline::PowerIteration;
pub(crate) use data::{read_edges, SignedEdge};
pub(crate) use signed::{run_signed, Baselines, SignedArgs, SplitKind};
pub(crate) use sybil::{run_sybil, SybilArgs};

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use vouch_reputation::{Attestation, AuthorId, TrustGraph, TrustScore, TrustView};

pub(super) use vouch_reputation::synthetic::node_key;

/// Metric parameters shared by the evaluations (defaults: specs/trust.md).
#[derive(Debug, clap::Args)]
pub(super) struct MetricArgs {
    /// Share of trust that moves on at each hop.
    #[arg(long, default_value_t = vouch_reputation::TrustParams::default().alpha)]
    alpha: f64,
    /// Resolution of the push, as a share of the viewer's budget.
    #[arg(long, default_value_t = vouch_reputation::TrustParams::default().epsilon)]
    epsilon: f64,
    /// A rater's evidence budget: its trust split over its ratings of each sign
    /// (`per-sign`), over all its ratings (`shared`), or every rating at its whole trust
    /// (`off`, before issue 15).
    #[arg(long, value_enum, default_value_t = Budget::PerSign)]
    budget: Budget,
    /// The prior's weight: one rating by a typical rater (`typical`) or `1 / R` over the
    /// authors the push reaches (`reached`, before issue 15).
    #[arg(long, value_enum, default_value_t = Prior::Typical)]
    prior: Prior,
    /// Benefit of the doubt in typical ratings (0: before issue 15).
    #[arg(long, default_value_t = vouch_reputation::TrustParams::default().doubt)]
    doubt: f64,
    /// Count an author's own trust (the flow) as positive evidence in its goodness (`true`:
    /// before issue 15).
    #[arg(long, default_value_t = vouch_reputation::TrustParams::default().flow_evidence, action = clap::ArgAction::Set)]
    flow_evidence: bool,
}

/// [`vouch_reputation::EvidenceBudget`] on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Budget {
    PerSign,
    Shared,
    Off,
}

/// [`vouch_reputation::PriorRule`] on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Prior {
    Typical,
    Reached,
}

impl MetricArgs {
    fn params(&self) -> vouch_reputation::TrustParams {
        vouch_reputation::TrustParams {
            alpha: self.alpha,
            epsilon: self.epsilon,
            budget: match self.budget {
                Budget::PerSign => vouch_reputation::EvidenceBudget::PerSign,
                Budget::Shared => vouch_reputation::EvidenceBudget::Shared,
                Budget::Off => vouch_reputation::EvidenceBudget::Off,
            },
            prior: match self.prior {
                Prior::Typical => vouch_reputation::PriorRule::TypicalRating,
                Prior::Reached => vouch_reputation::PriorRule::Reached,
            },
            doubt: self.doubt,
            flow_evidence: self.flow_evidence,
        }
    }
}

#[derive(Debug, clap::Subcommand)]
pub(super) enum EvalCommand {
    /// Protocol P1: per-viewer edge-sign AUC (seeds 0-4 unless --seed is given).
    #[command(after_help = "Example:\n  vouch eval signed soc-sign-bitcoinotc.csv.gz --seed 0")]
    Signed {
        /// Edge list (SNAP CSV or tab-separated, optionally .gz).
        file: PathBuf,
        /// Run one seed only.
        #[arg(long)]
        seed: Option<u64>,
        /// Which split: random (stratified 10%, per seed), temporal (the latest 10% of edges
        /// by time) or both.
        #[arg(long, value_enum, default_value_t = SplitKind::Both)]
        split: SplitKind,
        /// Which baselines to run next to Vouch: all, the global shares only (cheap on a
        /// large network), or none.
        #[arg(long, value_enum, default_value_t = Baselines::All)]
        baselines: Baselines,
        /// Vouch alone (same as `--baselines none`).
        #[arg(long)]
        no_baselines: bool,
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        metric: MetricArgs,
        /// Print one JSON object per result line.
        #[arg(long)]
        json: bool,
    },
    /// Protocol P2: sybil injection.
    #[command(after_help = "Example:\n  \
        vouch eval sybil soc-sign-bitcoinotc.csv.gz --sybils 1000 --attack-edges 100 --with-auc")]
    Sybil {
        /// Edge list (SNAP CSV or tab-separated, optionally .gz).
        file: PathBuf,
        /// Number of sybil accounts.
        #[arg(long, default_value_t = 1000)]
        sybils: u32,
        /// Number of attack edges.
        #[arg(long)]
        attack_edges: u32,
        /// Seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Number of honest viewers.
        #[arg(long, default_value_t = 100)]
        viewers: u32,
        /// Also report the honest viewers' P1 AUC with and without the sybils.
        #[arg(long)]
        with_auc: bool,
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        metric: MetricArgs,
        /// Print one JSON object per result line.
        #[arg(long)]
        json: bool,
    },
    /// Write a generated signed graph (vouch_reputation::synthetic) as a SNAP CSV, to time
    /// the evaluations on a large network.
    #[command(
        after_help = "Example:\n  vouch eval synthetic big.csv --nodes 130000 --edges 850000"
    )]
    Synthetic {
        /// Output file.
        out: PathBuf,
        /// Number of nodes.
        #[arg(long, default_value_t = 130_000)]
        nodes: u32,
        /// Number of edges.
        #[arg(long, default_value_t = 850_000)]
        edges: u64,
        /// Seed of the generator.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Protocol P3: attacks on reputations (lone smear, sybil smear, dense ring, concentrated
    /// attack edges); seeds 0-4 unless --seed is given.
    #[command(after_help = "Example:\n  \
        vouch eval attack soc-sign-bitcoinotc.csv.gz --attack sybil-smear --attack-edges 1000")]
    Attack {
        /// Edge list (SNAP CSV or tab-separated, optionally .gz).
        file: PathBuf,
        /// The attack (all four if not given).
        #[arg(long, value_enum)]
        attack: Option<AttackKind>,
        /// Number of attack edges (P2's g; also seeds the choice of viewers, as in P2).
        #[arg(long, default_value_t = 100)]
        attack_edges: u32,
        /// Number of sybil accounts.
        #[arg(long, default_value_t = 1000)]
        sybils: u32,
        /// Run one seed only.
        #[arg(long)]
        seed: Option<u64>,
        /// Number of honest viewers.
        #[arg(long, default_value_t = 100)]
        viewers: u32,
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        metric: MetricArgs,
        /// Print one JSON object per result line.
        #[arg(long)]
        json: bool,
    },
}

/// Writes `vouch_reputation::synthetic`'s generated signed graph as a SNAP CSV
/// (`SOURCE,TARGET,RATING,TIME`, rating = level / 10, time = edge number), to test the
/// evaluations' scaling on a graph of a chosen size.
fn write_synthetic(out: &std::path::Path, nodes: u32, edges: u64, seed: u64) -> anyhow::Result<()> {
    use rand::SeedableRng;
    use std::io::Write;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let pb = progress(edges, "generate");
    let graph = vouch_reputation::synthetic::signed_graph(nodes, edges, &mut rng, |k| {
        pb.set_position(k as u64)
    });
    pb.finish_and_clear();
    let mut w = std::io::BufWriter::new(std::fs::File::create(out)?);
    for (i, (a, b, level)) in graph.iter().enumerate() {
        writeln!(w, "{a},{b},{},{i}", f64::from(*level) / 10.0)?;
    }
    w.flush()?;
    Ok(())
}

/// How an evaluation runs (not what it measures).
#[derive(Debug, Clone, Copy, clap::Args)]
pub(super) struct RunArgs {
    /// Worker threads (default: every core).
    #[arg(long)]
    threads: Option<usize>,
}

impl RunArgs {
    fn threads(&self) -> usize {
        self.threads
            .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
            .unwrap_or(1)
            .max(1)
    }
}

/// Runs one `vouch eval` subcommand.
pub(super) fn run(command: EvalCommand) -> anyhow::Result<()> {
    match command {
        EvalCommand::Signed {
            file,
            seed,
            split,
            baselines,
            no_baselines,
            run,
            metric,
            json,
        } => run_signed(&SignedArgs {
            file,
            seeds: seed.map_or_else(|| (0..5).collect(), |s| vec![s]),
            split,
            baselines: if no_baselines {
                Baselines::None
            } else {
                baselines
            },
            threads: run.threads(),
            params: metric.params(),
            report: Report { json },
        }),
        EvalCommand::Sybil {
            file,
            sybils,
            attack_edges,
            seed,
            viewers,
            with_auc,
            run,
            metric,
            json,
        } => run_sybil(&SybilArgs {
            file,
            sybils,
            attack_edges,
            seed,
            viewers,
            with_auc,
            threads: run.threads(),
            params: metric.params(),
            report: Report { json },
        }),
        EvalCommand::Synthetic {
            out,
            nodes,
            edges,
            seed,
        } => write_synthetic(&out, nodes, edges, seed),
        EvalCommand::Attack {
            file,
            attack,
            attack_edges,
            sybils,
            seed,
            viewers,
            run,
            metric,
            json,
        } => run_attack(&AttackArgs {
            file,
            attacks: attack.map_or_else(|| AttackKind::ALL.to_vec(), |a| vec![a]),
            attack_edges,
            sybils,
            seeds: seed.map_or_else(|| (0..5).collect(), |s| vec![s]),
            viewers,
            threads: run.threads(),
            params: metric.params(),
            report: Report { json },
        }),
    }
}

/// The attestation object of edge number `idx`.
fn edge_attestation(idx: usize, e: &SignedEdge) -> Attestation {
    let mut object = [0u8; 32];
    object[..8].copy_from_slice(&(idx as u64).to_be_bytes());
    Attestation {
        author: node_key(e.from),
        subject: node_key(e.to),
        level: e.level,
        context: None,
        expires_at_ms: None,
        at_ms: e.at_ms,
        object,
    }
}

/// A trust graph holding `edges` as attestations (levels already mapped to -100..=100),
/// ingested in one batch, clock at the end of time (nothing expires).
pub(super) fn build_graph(edges: &[SignedEdge]) -> anyhow::Result<TrustGraph> {
    let mut g = TrustGraph::new(None);
    add_edges(&mut g, 0, edges)?;
    g.set_now(u64::MAX - 1);
    Ok(g)
}

/// Adds `edges` to `g` as attestations numbered from `first` (object ids must differ from
/// those already in `g` for the same slot).
pub(super) fn add_edges(
    g: &mut TrustGraph,
    first: usize,
    edges: &[SignedEdge],
) -> anyhow::Result<()> {
    let records: Vec<Attestation> = edges
        .iter()
        .enumerate()
        .map(|(i, e)| edge_attestation(first + i, e))
        .collect();
    g.add_attestations(&records)
        .map_err(|err| anyhow::anyhow!("{}: {err}", err.code()))?;
    Ok(())
}

/// The graph's author id of each dataset node `0..n` (following rotations), looked up once
/// so that scoring a node is an index, not a hash of its key.
pub(super) fn node_ids(g: &TrustGraph, n: u32) -> Vec<Option<AuthorId>> {
    (0..n)
        .map(|i| g.author_id(&node_key(i)).map(|id| g.current_id(id)))
        .collect()
}

/// The score of dataset node `i` in `view` (zero for nodes the graph never saw).
pub(super) fn node_score(ids: &[Option<AuthorId>], view: &TrustView, i: u32) -> TrustScore {
    ids.get(i as usize)
        .copied()
        .flatten()
        .map(|id| view.score_id(id))
        .unwrap_or_default()
}

/// Scores of dataset nodes `0..ids.len()` in `view`.
pub(super) fn node_scores(ids: &[Option<AuthorId>], view: &TrustView) -> Vec<TrustScore> {
    (0..ids.len() as u32)
        .map(|i| node_score(ids, view, i))
        .collect()
}

/// ROC-AUC of separating negatives (label false) from positives (label true) by score: the
/// probability that a random positive scores above a random negative, ties counting half.
/// A NaN score ranks as minus infinity (tied with other NaNs and with minus infinity). NaN if
/// either class is empty.
pub(super) fn auc(scored: &[(f64, bool)]) -> f64 {
    let key = |x: f64| if x.is_nan() { f64::NEG_INFINITY } else { x };
    let mut v: Vec<(f64, bool)> = scored.iter().map(|&(s, l)| (key(s), l)).collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n_pos = v.iter().filter(|x| x.1).count() as f64;
    let n_neg = v.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return f64::NAN;
    }
    // Sum of positive ranks with average ranks for ties (Mann-Whitney U). `j` always moves
    // past `i` (no NaN is left, and -0.0 == 0.0 groups them as ties).
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < v.len() {
        let mut j = i + 1;
        while j < v.len() && v[j].0 == v[i].0 {
            j += 1;
        }
        let avg = (i + j + 1) as f64 / 2.0;
        rank_sum += v[i..j].iter().filter(|x| x.1).count() as f64 * avg;
        i = j;
    }
    (rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg)
}

pub(crate) use crate::cli::progress::{progress, Progress};

/// `f` applied to every item on `threads` worker threads, results in the items' order (so the
/// output does not depend on the number of threads), with a progress report named `what`.
pub(super) fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    what: &str,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let progress = Progress::new(items.len(), what);
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.clamp(1, items.len().max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        out.push((i, f(item)));
                        progress.inc();
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    progress.finish();
    results.sort_unstable_by_key(|x| x.0);
    results.into_iter().map(|x| x.1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_become_json_objects() {
        let v = line_json("seed=1 method=ppr auc=0.7380 coverage=1.0000");
        assert_eq!(
            v,
            serde_json::json!({"seed": 1, "method": "ppr", "auc": 0.738, "coverage": 1.0})
        );
        let v = line_json("vouch params: alpha=0.85 ingest=1.2s");
        assert_eq!(v["label"], "vouch params:");
        assert_eq!(v["ingest"], "1.2s");
        assert_eq!(v["alpha"], 0.85);
    }

    #[test]
    fn auc_counts_ties_half() {
        assert_eq!(auc(&[(0.0, false), (1.0, true)]), 1.0);
        assert_eq!(auc(&[(1.0, false), (0.0, true)]), 0.0);
        assert_eq!(auc(&[(0.5, false), (0.5, true)]), 0.5);
        assert!(auc(&[(0.5, true)]).is_nan());
    }

    /// The pairwise definition: over every (positive, negative) pair, 1 if the positive
    /// scores higher, 1/2 on a tie; NaN ranks as minus infinity.
    fn brute_force_auc(scored: &[(f64, bool)]) -> f64 {
        let key = |x: f64| if x.is_nan() { f64::NEG_INFINITY } else { x };
        let (mut sum, mut pairs) = (0.0, 0.0);
        for &(p, _) in scored.iter().filter(|x| x.1) {
            for &(q, _) in scored.iter().filter(|x| !x.1) {
                let (p, q) = (key(p), key(q));
                sum += if p > q {
                    1.0
                } else if p == q {
                    0.5
                } else {
                    0.0
                };
                pairs += 1.0;
            }
        }
        sum / pairs
    }

    #[test]
    fn auc_matches_a_pairwise_count_with_ties_and_nan() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for case in 0..200 {
            let len = rng.gen_range(2..60);
            // Few distinct values, so that ties are common; some NaN and infinities.
            let scored: Vec<(f64, bool)> = (0..len)
                .map(|i| {
                    let s = match rng.gen_range(0..12) {
                        0 => f64::NAN,
                        1 => f64::NEG_INFINITY,
                        2 => -0.0,
                        k => f64::from(k % 5) / 4.0,
                    };
                    (s, if i < 2 { i == 0 } else { rng.gen_bool(0.4) })
                })
                .collect();
            let (fast, slow) = (auc(&scored), brute_force_auc(&scored));
            assert!((fast - slow).abs() < 1e-12, "case {case}: {fast} vs {slow}");
        }
        // All NaN: every pair ties.
        assert_eq!(auc(&[(f64::NAN, true), (f64::NAN, false)]), 0.5);
    }

    #[test]
    fn par_map_keeps_the_order_whatever_the_threads() {
        let items: Vec<u32> = (0..1000).collect();
        for threads in [1, 2, 7] {
            let out = par_map(&items, threads, "test", |&x| x * 3);
            assert_eq!(out, items.iter().map(|x| x * 3).collect::<Vec<_>>());
        }
    }
}

/// Where result lines go: `key=value …` text, or with `--json` one JSON object per line.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Report {
    /// Print JSON lines.
    pub json: bool,
}

impl Report {
    /// Prints one result line.
    pub(super) fn line(&self, text: &str) {
        if self.json {
            println!("{}", line_json(text));
        } else {
            println!("{text}");
        }
    }
}

/// A result line `a=1 b=x words` as `{"a": 1, "b": "x", "label": "words"}`: numbers stay
/// numbers, values with units stay strings, words without `=` are joined into `label`.
pub(super) fn line_json(text: &str) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    let mut label: Vec<&str> = Vec::new();
    for token in text.split_whitespace() {
        match token.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                let v = v.trim_end_matches(';');
                let value = v
                    .parse::<i64>()
                    .map(serde_json::Value::from)
                    .or_else(|_| v.parse::<f64>().map(serde_json::Value::from))
                    .unwrap_or_else(|_| serde_json::Value::from(v));
                map.insert(k.to_owned(), value);
            }
            _ => label.push(token),
        }
    }
    if !label.is_empty() {
        map.insert("label".into(), label.join(" ").into());
    }
    serde_json::Value::Object(map)
}
