//! `vouch eval`: the evaluation protocols P1 (per-viewer edge-sign AUC) and P2 (sybil
//! injection) on signed networks in SNAP formats, with the baselines run in the same harness.

mod baseline;
mod data;
mod signed;
mod sybil;

pub(super) use baseline::PowerIteration;
pub(super) use data::{read_edges, SignedEdge};
pub(super) use signed::{run_signed, SignedArgs};
pub(super) use sybil::{run_sybil, SybilArgs};

use std::path::PathBuf;

use vouch_reputation::{Attestation, TrustGraph, TrustScore, TrustView};

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
}

impl MetricArgs {
    fn params(&self) -> vouch_reputation::TrustParams {
        vouch_reputation::TrustParams {
            alpha: self.alpha,
            epsilon: self.epsilon,
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
        metric: MetricArgs,
        /// Print one JSON object per result line.
        #[arg(long)]
        json: bool,
    },
}

/// Runs one `vouch eval` subcommand.
pub(super) fn run(command: EvalCommand) -> anyhow::Result<()> {
    match command {
        EvalCommand::Signed {
            file,
            seed,
            metric,
            json,
        } => run_signed(&SignedArgs {
            file,
            seeds: seed.map_or_else(|| (0..5).collect(), |s| vec![s]),
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
            metric,
            json,
        } => run_sybil(&SybilArgs {
            file,
            sybils,
            attack_edges,
            seed,
            viewers,
            with_auc,
            params: metric.params(),
            report: Report { json },
        }),
    }
}

/// A trust graph holding `edges` as attestations (levels already mapped to -100..=100).
pub(super) fn build_graph(n: u32, edges: &[SignedEdge]) -> anyhow::Result<TrustGraph> {
    let _ = n;
    let mut g = TrustGraph::new(None);
    for (idx, e) in edges.iter().enumerate() {
        let mut object = [0u8; 32];
        object[..8].copy_from_slice(&(idx as u64).to_be_bytes());
        g.add_attestation(&Attestation {
            author: node_key(e.from),
            subject: node_key(e.to),
            level: e.level,
            context: None,
            expires_at_ms: None,
            at_ms: e.at_ms,
            object,
        })
        .map_err(|err| anyhow::anyhow!("{}: {err}", err.code()))?;
    }
    Ok(g)
}

/// Scores of dataset nodes `0..n` in `view` (zero for nodes the graph never saw).
pub(super) fn node_scores(g: &TrustGraph, view: &TrustView, n: u32) -> Vec<TrustScore> {
    (0..n)
        .map(|i| {
            g.author_id(&node_key(i))
                .map(|id| view.score_id(g.current_id(id)))
                .unwrap_or_default()
        })
        .collect()
}

/// ROC-AUC of separating negatives (label false) from positives (label true) by score,
/// ties counting half.
pub(super) fn auc(scored: &[(f64, bool)]) -> f64 {
    let mut v: Vec<(f64, bool)> = scored.to_vec();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n_pos = v.iter().filter(|x| x.1).count() as f64;
    let n_neg = v.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return f64::NAN;
    }
    // Sum of positive ranks with average ranks for ties (Mann-Whitney U).
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j < v.len() && v[j].0 == v[i].0 {
            j += 1;
        }
        let avg = (i + j + 1) as f64 / 2.0;
        rank_sum += v[i..j].iter().filter(|x| x.1).count() as f64 * avg;
        i = j;
    }
    (rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg)
}

pub(crate) use crate::cli::progress;

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
