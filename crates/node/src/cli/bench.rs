//! `vouch bench`: benchmarks that print their figures next to a baseline measured in the same
//! run (`trust`: the trust engine on generated graphs; `http`: batch decide over HTTP against
//! a real node; `attack`: a node under a flood, next to the same run without it). The node's own ingest and catch-up benchmarks are `vouch node bench-ingest`
//! and `bench-sync` (`cli/node/bench.rs`).

pub(crate) mod attack;
pub(crate) mod http;
pub(crate) mod trust;

use std::process::ExitCode;

use clap::Subcommand;

/// `vouch bench ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// Full and incremental per-viewer trust computation on generated graphs.
    #[command(after_help = "Example:\n  vouch bench trust")]
    Trust(trust::TrustBenchArgs),
    /// Batch decide calls/s and p50/p99 latency against a real node over HTTP, next to
    /// /healthz and in-process decide_batch in the same run.
    #[command(after_help = "Example:\n  vouch bench http --connections 4 --seconds 5")]
    Http(http::BenchHttpArgs),
    /// An honest node under a flood of valid objects from fresh keys, next to the same run
    /// without attack: delivery, bans, memory, store size, decide p99.
    #[command(after_help = "Example:\n  vouch bench attack --objects 100000")]
    Attack(attack::AttackArgs),
}

/// Runs one `vouch bench` subcommand.
pub(crate) fn run(cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::Trust(args) => trust::run_trust(&args).map(|()| ExitCode::SUCCESS),
        BenchCommand::Http(args) => http::run(&args),
        BenchCommand::Attack(args) => attack::run(&args),
    }
}
