//! The `vouch` command line: dispatch only; each subcommand lives in its own module.

mod bench;
#[cfg(feature = "vc")]
mod cli_identity;
mod cli_keys;
mod cli_objects;
mod eval;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Vouch: reputation, moderation and identity for decentralized social media.
#[derive(Debug, Parser)]
#[command(name = "vouch", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create and inspect posting keys.
    #[command(subcommand)]
    Key(cli_keys::KeyCmd),
    /// Check, inspect and create signed objects.
    #[command(subcommand)]
    Object(cli_objects::ObjectCmd),
    /// Evaluate the trust metric on a dataset (protocols P1 and P2, specs/trust.md).
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Run and manage a node (store, network, loopback endpoint).
    #[command(subcommand)]
    Node(vouch_node::cli_node::NodeCmd),
    /// Run a rendezvous point for first contact between nodes.
    Rendezvous(vouch_node::cli_node::RendezvousArgs),
    /// Identity keys, verifiable credentials and identity links (feature `vc`).
    #[cfg(feature = "vc")]
    #[command(flatten)]
    Identity(cli_identity::IdentityCommand),

    // ---- sidecar API queries (issue 6; vouch_node::cli_query), answered by the running node ----
    /// A viewer's trust in an author, and every reason behind a decision.
    #[command(subcommand)]
    Trust(vouch_node::cli_query::TrustCmd),
    /// What a viewer sees of some posts and authors, and why.
    Decide(vouch_node::cli_query::DecideArgs),
    /// Shared lists: show one, or say what a change of subscriptions would change.
    #[command(subcommand)]
    List(vouch_node::cli_query::ListQuery),
    /// Groups: header and moderators, report queue, bans, appeals.
    #[command(subcommand)]
    Group(vouch_node::cli_query::GroupQuery),
    /// The node's local viewers and their policies.
    #[command(subcommand)]
    Viewer(vouch_node::cli_query::ViewerCmd),
    // ---- end of the sidecar API block ----
}

/// Metric parameters shared by the evaluations (defaults: specs/trust.md).
#[derive(Debug, clap::Args)]
struct MetricArgs {
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

#[derive(Debug, Subcommand)]
enum EvalCommand {
    /// Protocol P1: per-viewer edge-sign AUC (seeds 0-4 unless --seed is given).
    Signed {
        /// Edge list (SNAP CSV or tab-separated, optionally .gz).
        file: PathBuf,
        /// Run one seed only.
        #[arg(long)]
        seed: Option<u64>,
        #[command(flatten)]
        metric: MetricArgs,
    },
    /// Protocol P2: sybil injection.
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
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Full and incremental per-viewer trust computation on generated graphs.
    Trust(bench::TrustBenchArgs),
    // ---- sidecar API (issue 6; cli_query.rs and bench_http.rs) ----
    /// Batch decide calls/s and p50/p99 latency against a real node over HTTP, next to
    /// /healthz and in-process decide_batch in the same run.
    #[command(after_help = "Example:\n  vouch bench http --connections 4 --seconds 5")]
    Http(vouch_node::bench_http::BenchHttpArgs),
}

/// Exit codes: 0 success, 1 a check failed (e.g. an object is invalid), 2 usage or I/O error.
fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Key(cmd) => cli_keys::run(cmd),
        Command::Object(cmd) => cli_objects::run(cmd),
        Command::Node(cmd) => vouch_node::cli_node::run_node_cmd(cmd),
        Command::Rendezvous(args) => vouch_node::cli_node::run_rendezvous_cmd(args),
        Command::Bench(BenchCommand::Http(args)) => vouch_node::bench_http::run(&args),
        Command::Trust(cmd) => vouch_node::cli_query::run_trust(cmd),
        Command::Decide(args) => vouch_node::cli_query::run_decide(args),
        Command::List(cmd) => vouch_node::cli_query::run_list(cmd),
        Command::Group(cmd) => vouch_node::cli_query::run_group(cmd),
        Command::Viewer(cmd) => vouch_node::cli_query::run_viewer(cmd),
        #[cfg(feature = "vc")]
        Command::Identity(cmd) => cli_identity::run(cmd),
        other => run_eval_or_bench(other).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run_eval_or_bench(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Eval(EvalCommand::Signed { file, seed, metric }) => {
            eval::run_signed(&eval::SignedArgs {
                file,
                seeds: seed.map_or_else(|| (0..5).collect(), |s| vec![s]),
                params: metric.params(),
            })
        }
        Command::Eval(EvalCommand::Sybil {
            file,
            sybils,
            attack_edges,
            seed,
            viewers,
            with_auc,
            metric,
        }) => eval::run_sybil(&eval::SybilArgs {
            file,
            sybils,
            attack_edges,
            seed,
            viewers,
            with_auc,
            params: metric.params(),
        }),
        Command::Bench(BenchCommand::Trust(args)) => bench::run_trust(&args),
        _ => Ok(()),
    }
}
