//! The `vouch` command line: the command tree, one dispatch, and the exit codes. Each command
//! group lives in its own module under `cli/`, which owns its subcommands and their `run`.

mod bench;
mod car;
mod connect;
mod console;
pub(crate) mod demo;
mod eval;
#[cfg(feature = "vc")]
mod identity;
pub(crate) mod keys;
mod node;
mod nostr;
mod objects;
#[cfg(feature = "vc")]
mod personhood;
#[cfg(feature = "vc")]
mod poll;
mod progress;
mod query;
mod sign;
mod token;

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

/// The exit codes, shown by `vouch --help` and specified in specs/cli.md.
macro_rules! exit_codes {
    () => {
        "Exit codes:
  0  success
  1  a check failed: an object or block is invalid, the node refused an object, an
     object asked for is missing
  2  usage or I/O error (bad arguments, unreadable file, key not found, …)
  3  no node to talk to: none running on the data directory, or it does not answer"
    };
}

/// The exit codes, as `vouch --help` prints them.
#[cfg(test)]
const EXIT_CODES: &str = exit_codes!();

/// Vouch: reputation, moderation and identity for decentralized social media.
#[derive(Debug, Parser)]
#[command(
    name = "vouch",
    version,
    about,
    long_about = None,
    after_help = "Examples:\n  \
        vouch key new alice\n  \
        vouch node run --api 127.0.0.1:7070 &\n  \
        vouch post --key alice \"hello, Vouch\"\n\n\
        Exit codes: 0 ok, 1 a check failed, 2 usage or I/O error, 3 no node (--help for more).",
    after_long_help = concat!(
        "Examples:\n  \
        vouch key new alice\n  \
        vouch node run --api 127.0.0.1:7070 &\n  \
        vouch post --key alice \"hello, Vouch\"\n  \
        vouch completions bash > /etc/bash_completion.d/vouch\n\n",
        exit_codes!()
    )
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create, inspect, rotate and revoke posting keys.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  vouch key new alice\n  vouch key list --json\n  \
        vouch key rotate alice alice-2\n  vouch key revoke alice --since -2h"
    )]
    Key(keys::KeyCmd),
    #[command(flatten)]
    Sign(sign::SignCommand),
    #[command(flatten)]
    Car(car::CarCommand),
    /// Check, inspect and create signed objects.
    #[command(subcommand)]
    #[command(after_help = "Examples:\n  vouch object check post.cbor --json\n  \
        vouch object post alice \"hello\" --out hello.cbor")]
    Object(objects::ObjectCmd),
    /// Evaluate the trust metric on a dataset (protocols P1 and P2, specs/trust.md).
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  vouch eval signed soc-sign-bitcoinotc.csv.gz\n  \
        vouch eval sybil soc-sign-bitcoinotc.csv.gz --sybils 1000 --attack-edges 100"
    )]
    Eval(eval::EvalCommand),
    /// Benchmarks.
    #[command(subcommand)]
    #[command(after_help = "Example:\n  vouch bench trust")]
    Bench(bench::BenchCommand),
    /// Run and manage a node (store, network, loopback endpoint).
    #[command(subcommand)]
    #[command(after_help = "Examples:\n  \
        vouch node run --listen /ip4/127.0.0.1/tcp/4001 --api 127.0.0.1:7070\n  \
        vouch node status")]
    Node(node::NodeCmd),
    /// Run a rendezvous point for first contact between nodes.
    #[command(after_help = "Example:\n  \
        vouch rendezvous --listen /ip4/0.0.0.0/tcp/4002 --data-dir ~/.vouch/rendezvous")]
    Rendezvous(node::RendezvousArgs),
    /// Identity keys, verifiable credentials and identity links (feature `vc`).
    #[cfg(feature = "vc")]
    #[command(flatten)]
    Identity(identity::IdentityCommand),
    /// Anonymous personhood credentials: one voice per person in village polls (feature
    /// `vc`).
    #[cfg(feature = "vc")]
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  vouch personhood issuer new --name town-hall\n  \
        vouch personhood request --name me --out request.json\n  \
        vouch personhood issue --issuer town-hall --request request.json --out issuance.json\n  \
        vouch personhood finalize --name me --issuance issuance.json"
    )]
    Personhood(personhood::PersonhoodCmd),
    /// Village polls: create, vote (one voice per person, anonymously), tally (feature `vc`).
    #[cfg(feature = "vc")]
    #[command(subcommand)]
    #[command(after_help = "Examples:\n  \
        vouch poll create --key alice --group did:key:z6MkOwner…/village \"Open a bakery?\" --closes +2d\n  \
        vouch poll vote bafyreiPoll… 0 --credential me\n  vouch poll tally bafyreiPoll…")]
    Poll(poll::PollCmd),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = "Examples:\n  \
        vouch completions bash > ~/.local/share/bash-completion/completions/vouch\n  \
        vouch completions zsh > ~/.zfunc/_vouch\n  \
        vouch completions fish > ~/.config/fish/completions/vouch.fish")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },

    // ---- sidecar API queries (issue 6; crate::cli::query), answered by the running node ----
    /// A viewer's trust in an author, and every reason behind a decision.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  vouch trust show did:key:z6MkViewer… did:key:z6MkAuthor…\n  \
        vouch trust explain did:key:z6MkViewer… bafyrei…"
    )]
    Trust(query::TrustCmd),
    /// What a viewer sees of some posts and authors, and why.
    Decide(query::DecideArgs),
    // (`vouch list show|diff` and `vouch group show|reports|bans|appeals` are flattened
    // into cli_sign's `ListCmd` and `GroupCmd`.)
    /// The node's local viewers and their policies.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  vouch viewer add did:key:z6MkViewer… --policy policy.json\n  \
        vouch viewer policy get did:key:z6MkViewer…"
    )]
    Viewer(query::ViewerCmd),
    /// Per-viewer API tokens: an app that serves one person reads and decides only for them.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  vouch token create did:key:z6MkViewer… --label 'feed app'\n  \
        vouch token list\n  vouch token revoke 3f2a9c0d1e4b5a67"
    )]
    Token(token::TokenCmd),
    /// A one-time link to the node's web console (the admin's, or a viewer's).
    #[command(
        after_help = "Examples:\n  vouch console\n  vouch console --viewer did:key:z6MkViewer… --scope read\n  \
        vouch console --open"
    )]
    Console(console::ConsoleArgs),
    // ---- end of the sidecar API block ----
    /// A local network of nodes with a generated community: what a viewer sees with and
    /// without Vouch, and why.
    #[command(
        after_help = "Examples:\n  vouch demo\n  vouch demo --nodes 5 --seed 7\n  \
        vouch demo --keep    # the nodes keep running until Ctrl-C\n  vouch demo --json"
    )]
    Demo(demo::DemoArgs),
    /// Nostr: keys as Vouch sees them, the node's Nostr viewers and decisions, NIP-85
    /// assertions, and the Nostr benchmark (`specs/nostr.md`).
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  vouch nostr key npub1…\n  vouch nostr viewer npub1…\n  vouch nostr decide npub1viewer… --pubkey npub1author…\n  vouch nostr bench"
    )]
    Nostr(nostr::NostrCmd),
}

/// Runs the `vouch` command line on the process's arguments; returns the exit code
/// (`exit_codes!`, specs/cli.md §1).
pub fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Key(cmd) => keys::run(cmd),
        Command::Sign(cmd) => sign::run(cmd),
        Command::Car(cmd) => car::run(cmd),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "vouch", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Object(cmd) => objects::run(cmd),
        Command::Node(cmd) => node::run_node_cmd(cmd),
        Command::Rendezvous(args) => node::run_rendezvous_cmd(args),
        Command::Bench(cmd) => bench::run(cmd),
        Command::Trust(cmd) => query::run_trust(cmd),
        Command::Decide(args) => query::run_decide(args),
        Command::Viewer(cmd) => query::run_viewer(cmd),
        Command::Token(cmd) => token::run(cmd),
        Command::Console(args) => console::run(args),
        Command::Demo(args) => demo::run(&args),
        Command::Nostr(cmd) => nostr::run(cmd),
        Command::Eval(cmd) => eval::run(cmd).map(|()| ExitCode::SUCCESS),
        #[cfg(feature = "vc")]
        Command::Identity(cmd) => identity::run(cmd),
        #[cfg(feature = "vc")]
        Command::Personhood(cmd) => personhood::run(cmd),
        #[cfg(feature = "vc")]
        Command::Poll(cmd) => poll::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            let no_node = e
                .downcast_ref::<crate::client::ClientError>()
                .is_some_and(|c| {
                    matches!(
                        c,
                        crate::client::ClientError::NoNode | crate::client::ClientError::Io(_)
                    )
                });
            if no_node || e.downcast_ref::<connect::NodeUnreachable>().is_some() {
                ExitCode::from(3)
            } else {
                ExitCode::from(2)
            }
        }
    }
}

/// Reads a file named on the command line, or standard input for `-`.
pub(crate) fn read_input(path: &std::path::Path) -> anyhow::Result<String> {
    use anyhow::Context;
    if path == std::path::Path::new("-") {
        Ok(std::io::read_to_string(std::io::stdin())?)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command, at every depth, shows at least one example in its help.
    #[test]
    fn every_command_has_an_example() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>, seen: &mut usize) {
            *seen += 1;
            let has = |s: Option<&clap::builder::StyledStr>| {
                s.is_some_and(|s| s.to_string().contains("Example"))
            };
            if !has(cmd.get_after_help()) && !has(cmd.get_after_long_help()) {
                missing.push(path.to_owned());
            }
            for sub in cmd.get_subcommands() {
                if sub.get_name() != "help" {
                    walk(sub, &format!("{path} {}", sub.get_name()), missing, seen);
                }
            }
        }
        let mut missing = Vec::new();
        let mut seen = 0;
        walk(&Cli::command(), "vouch", &mut missing, &mut seen);
        assert!(
            missing.is_empty(),
            "commands without an example: {missing:#?}"
        );
        // The walk reached the nested commands (group moderator add, appeal answer, …).
        assert!(seen > 40, "walked only {seen} commands");
    }

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_documents_the_exit_codes() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains(EXIT_CODES), "{help}");
    }
}
