//! `vouch console`: prints a one-time link that opens the node's web console (the admin's,
//! or a viewer's with `--viewer`), asked of the running node with the admin token; `--open`
//! hands it to the desktop's browser. The code is in the link's fragment, which browsers
//! never send anywhere; it works once, within a minute.

use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use crate::cli::connect::NodeArgs;

/// `vouch console` flags.
#[derive(Debug, Args)]
pub(crate) struct ConsoleArgs {
    /// Log in as this viewer of the node (reads and decides only for it) instead of as the
    /// admin (who may also make the node sign with the local key folder's keys).
    #[arg(long)]
    viewer: Option<String>,
    /// With `--viewer`: `policy` (may change the viewer's policy) or `read`.
    #[arg(long, default_value = "policy")]
    scope: String,
    /// Open the link with `xdg-open` instead of only printing it.
    #[arg(long)]
    open: bool,
    #[command(flatten)]
    node: NodeArgs,
}

/// Runs `vouch console`.
pub(super) fn run(args: ConsoleArgs) -> anyhow::Result<ExitCode> {
    let conn = args.node.resolve()?;
    let body = match &args.viewer {
        Some(v) => json!({"viewer": v, "scope": args.scope}),
        None => json!({}),
    };
    let r = conn.request(
        "POST",
        "/v1/console/codes",
        Some("application/json"),
        &serde_json::to_vec(&body)?,
    )?;
    let answer: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
    if r.status != 200 {
        eprintln!(
            "error ({}): {}: {}",
            r.status,
            answer["error"]["code"].as_str().unwrap_or("error"),
            answer["error"]["message"].as_str().unwrap_or("")
        );
        return Ok(ExitCode::from(1));
    }
    let url = format!(
        "http://{}{}",
        conn.addr,
        answer["path"].as_str().unwrap_or("/")
    );
    eprintln!(
        "one-time console link ({} s), as {}:",
        answer["expires_in"].as_u64().unwrap_or(60),
        answer["who"]["viewer"]
            .as_str()
            .unwrap_or(answer["who"]["role"].as_str().unwrap_or("?"))
    );
    println!("{url}");
    if args.open {
        std::process::Command::new("xdg-open").arg(&url).spawn()?;
    }
    Ok(ExitCode::SUCCESS)
}
