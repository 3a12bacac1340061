//! `vouch`: the command line.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "vouch",
    version,
    about = "Vouch: reputation, moderation and identity for decentralized social media"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run and manage a node (store, network, loopback endpoint).
    #[command(subcommand)]
    Node(vouch_node::cli_node::NodeCmd),
    /// Run a rendezvous point for first contact between nodes.
    Rendezvous(vouch_node::cli_node::RendezvousArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Node(cmd) => vouch_node::cli_node::run_node_cmd(cmd),
        Cmd::Rendezvous(args) => vouch_node::cli_node::run_rendezvous_cmd(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
