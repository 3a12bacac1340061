//! The `vouch` command line: a thin shell over the library crates.

mod cli_identity;

use clap::{Parser, Subcommand};

/// Vouch: reputation, moderation and identity for decentralized social media.
#[derive(Debug, Parser)]
#[command(name = "vouch", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Identity(cli_identity::IdentityCommand),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Identity(cmd) => cli_identity::run(cmd),
    }
}
