//! The `vouch` command line: a thin layer over the library crates and the node.

mod cli_identity;
mod cli_keys;
mod cli_objects;

use clap::{Parser, Subcommand};
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
    #[command(flatten)]
    Identity(cli_identity::IdentityCommand),
}

/// Exit codes: 0 success, 1 a check failed (e.g. an object is invalid), 2 usage or I/O error.
fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Key(cmd) => cli_keys::run(cmd),
        Command::Object(cmd) => cli_objects::run(cmd),
        Command::Identity(cmd) => cli_identity::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
