//! `vouch token create|list|revoke`: per-viewer API tokens, made with the admin token (the
//! one in the data directory, found as every client command finds it). `create` prints the
//! secret alone on stdout (the node keeps only its hash and cannot show it again).

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;

use crate::cli::query::{show, NodeAddr};

/// `vouch token ...`.
#[derive(Debug, Subcommand)]
pub(super) enum TokenCmd {
    /// Create a token that reads and decides for one viewer only (prints its secret).
    #[command(
        after_help = "Example:\n  vouch token create did:key:z6MkViewer… --label 'feed app' > feed-app.token\n  \
        vouch token create did:key:z6MkViewer… --scope policy"
    )]
    Create {
        /// The viewer (`did:key`; a viewer of the node).
        viewer: String,
        /// `read` (read and decide) or `policy` (also replace the viewer's policy).
        #[arg(long, default_value = "read")]
        scope: String,
        /// A note: which app, whose.
        #[arg(long, default_value = "")]
        label: String,
        #[command(flatten)]
        node: NodeAddr,
    },
    /// List the per-viewer tokens (never their secrets).
    #[command(after_help = "Example:\n  vouch token list --json")]
    List {
        #[command(flatten)]
        node: NodeAddr,
    },
    /// Revoke a token by its id.
    #[command(after_help = "Example:\n  vouch token revoke 3f2a9c0d1e4b5a67")]
    Revoke {
        /// The token's id (`vouch token list`).
        id: String,
        #[command(flatten)]
        node: NodeAddr,
    },
}

/// Runs a `vouch token` command.
pub(super) fn run(cmd: TokenCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        TokenCmd::Create {
            viewer,
            scope,
            label,
            node,
        } => {
            let body = json!({"viewer": viewer, "scope": scope, "label": label});
            let a = node.call("POST", "/v1/tokens", Some(&body))?;
            show(&node, &a, |b| {
                eprintln!(
                    "token {} for {} (scope {}); its secret, shown once:",
                    b["id"].as_str().unwrap_or(""),
                    b["viewer"].as_str().unwrap_or(""),
                    b["scope"].as_str().unwrap_or("")
                );
                println!("{}", b["secret"].as_str().unwrap_or(""));
            })
        }
        TokenCmd::List { node } => {
            let a = node.call("GET", "/v1/tokens", None)?;
            show(&node, &a, |b| {
                let tokens = b["tokens"].as_array().cloned().unwrap_or_default();
                if tokens.is_empty() {
                    println!("no per-viewer tokens");
                }
                for t in tokens {
                    println!(
                        "{}  {}  {}  {}",
                        t["id"].as_str().unwrap_or(""),
                        t["scope"].as_str().unwrap_or(""),
                        t["viewer"].as_str().unwrap_or(""),
                        t["label"].as_str().unwrap_or("")
                    );
                }
            })
        }
        TokenCmd::Revoke { id, node } => {
            let a = node.call("DELETE", &format!("/v1/tokens/{id}"), None)?;
            show(&node, &a, |_| println!("revoked {id}"))
        }
    }
}
