//! `vouch poll create|vote|tally|list|rules`: village votes on the command line.
//!
//! `create` signs a `poll` under the group's header in force on the node (its personhood
//! issuer checks the ballots; for an amendment its quorum and majority apply). `vote` makes
//! a fresh voting key, proves with the person's personhood credential for the poll's own
//! scope (`poll/<cid>`, epoch 0: ballots in two polls cannot be linked) and signs the
//! `ballot` with the voting key; the voting key is not kept. `tally`, `list` and `rules`
//! print what the node counts: one voice per person, double votes shown, never counted
//! twice.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use serde_json::Value;
use vouch_identity::{PersonhoodScope, SecretKey};
use vouch_reputation::{Amendment, BallotBody, Body, Object, PollBody};

use crate::cli::connect::NodeArgs;

/// `vouch poll …`
#[derive(Debug, Subcommand)]
pub(super) enum PollCmd {
    /// Put a question to a group's people (one voice per person), or an amendment of its
    /// rules (village rules: adopt = 0, reject = 1).
    #[command(after_help = "Examples:\n  \
        vouch poll create --key alice --group did:key:z6MkOwner…/village \"Open a bakery?\" --closes +2d\n  \
        vouch poll create --key alice --group did:key:z6MkOwner…/village \"Min trust 30?\" --amend-min-trust 30 --closes +7d")]
    Create(CreateArgs),
    /// Vote in a poll with a personhood credential, from a fresh voting key.
    #[command(after_help = "Example:\n  vouch poll vote bafyreiPoll… 0 --credential me")]
    Vote(VoteArgs),
    /// A poll's tally on the node: voices per option, double votes, ballots still being
    /// verified.
    #[command(after_help = "Example:\n  vouch poll tally bafyreiPoll…")]
    Tally {
        /// The poll's CID.
        poll: String,
        #[command(flatten)]
        node: NodeOut,
    },
    /// A group's polls and their tallies.
    #[command(after_help = "Example:\n  vouch poll list did:key:z6MkOwner…/village")]
    List {
        /// `<owner did:key>/<name>`.
        group: String,
        #[command(flatten)]
        node: NodeOut,
    },
    /// The rules a group's decisions use: its header's, with the amendments its village
    /// adopted (and the polls behind them).
    #[command(after_help = "Example:\n  vouch poll rules did:key:z6MkOwner…/village")]
    Rules {
        /// `<owner did:key>/<name>`.
        group: String,
        #[command(flatten)]
        node: NodeOut,
    },
}

/// A node and how to print its answer.
#[derive(Debug, Clone, Args)]
pub(super) struct NodeOut {
    #[command(flatten)]
    node: NodeArgs,
    /// Print the API's JSON.
    #[arg(long)]
    json: bool,
}

/// `vouch poll create`.
#[derive(Debug, Args)]
pub(super) struct CreateArgs {
    /// The question.
    text: String,
    /// The group: OWNER/NAME.
    #[arg(long)]
    group: String,
    /// How many options (2..256); ballots choose 0..N-1.
    #[arg(long, default_value_t = 2)]
    options: u64,
    /// When the poll closes (+2d, 2026-12-31T12:00:00Z, ms …); later ballots do not count.
    #[arg(long)]
    closes: String,
    /// Amendment: the new minimum trust (percent; 0 removes it).
    #[arg(long)]
    amend_min_trust: Option<u64>,
    /// Amendment: the new vote budget per voter per day.
    #[arg(long)]
    amend_vote_budget: Option<u64>,
    /// The header the poll runs under (its CID) [default: the header in force on the node].
    #[arg(long)]
    header: Option<String>,
    #[command(flatten)]
    sign: crate::cli::sign::SignArgs,
}

/// `vouch poll vote`.
#[derive(Debug, Args)]
pub(super) struct VoteArgs {
    /// The poll's CID.
    poll: String,
    /// The option chosen (0-based; for an amendment 0 adopts, 1 rejects).
    choice: u64,
    /// The personhood credential's local name (`vouch personhood finalize`).
    #[arg(long, default_value = "personhood")]
    credential: String,
    /// Key folder.
    #[arg(long, env = "VOUCH_KEY_DIR")]
    key_dir: Option<PathBuf>,
    #[command(flatten)]
    emit: crate::cli::sign::EmitArgs,
}

/// GETs `path` from the node: `(status, body)`.
fn get(node: &NodeArgs, path: &str) -> Result<(u16, Value)> {
    let r = node.resolve()?.request("GET", path, None, &[])?;
    let body = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    Ok((r.status, body))
}

/// Prints `body` (JSON or text); an error answer exits 1.
fn show(out: &NodeOut, status: u16, body: &Value, text: impl FnOnce(&Value)) -> Result<ExitCode> {
    if !(200..300).contains(&status) {
        eprintln!(
            "error ({status}): {}: {}",
            body["error"]["code"].as_str().unwrap_or("error"),
            body["error"]["message"].as_str().unwrap_or("")
        );
        return Ok(ExitCode::from(1));
    }
    if out.json {
        println!("{}", serde_json::to_string_pretty(body)?);
    } else {
        text(body);
    }
    Ok(ExitCode::SUCCESS)
}

fn group_path(group: &str) -> Result<String> {
    let (owner, name) = crate::json::parse_ref("group", group)?;
    Ok(format!(
        "/v1/groups/{}/{}",
        owner.to_did_key(),
        crate::cli::query::encode(&name)
    ))
}

fn print_poll(p: &Value) {
    println!(
        "poll {}  \"{}\"  in {}",
        p["poll"].as_str().unwrap_or(""),
        p["text"].as_str().unwrap_or(""),
        p["group"].as_str().unwrap_or("")
    );
    if let Some(a) = p.get("amend") {
        println!("  amends the group's rules: {a}");
    }
    match p.get("tally") {
        Some(t) => {
            let counts: Vec<String> = t["counts"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(i, c)| format!("{i}: {c}"))
                .collect();
            println!(
                "  {} voices ({}), from {} ballots; {} double votes; {} still being verified; {}",
                t["voters"],
                counts.join(", "),
                t["ballots"],
                t["double_votes"].as_array().map_or(0, Vec::len),
                t["pending"],
                if t["closed"].as_bool() == Some(true) {
                    "closed"
                } else {
                    "open"
                }
            );
            if let Some(adopted) = t.get("adopted") {
                println!("  adopted: {adopted}");
            }
        }
        None => println!(
            "  cannot be tallied here: {}",
            p["error"]["code"].as_str().unwrap_or("?")
        ),
    }
}

/// Runs a poll command.
pub(super) fn run(cmd: PollCmd) -> Result<ExitCode> {
    match cmd {
        PollCmd::Create(a) => create(a),
        PollCmd::Vote(a) => vote(a),
        PollCmd::Tally { poll, node } => {
            let id = crate::cli::sign::parse_object_id(&poll)?;
            let (status, body) = get(&node.node, &format!("/v1/polls/{id}"))?;
            show(&node, status, &body, print_poll)
        }
        PollCmd::List { group, node } => {
            let (status, body) = get(&node.node, &format!("{}/polls", group_path(&group)?))?;
            show(&node, status, &body, |b| {
                for p in b["polls"].as_array().into_iter().flatten() {
                    print_poll(p);
                }
            })
        }
        PollCmd::Rules { group, node } => {
            let (status, body) = get(&node.node, &format!("{}/rules", group_path(&group)?))?;
            show(&node, status, &body, |b| {
                println!(
                    "{}: min_trust {}, vote_budget {}, credential_issuer {}",
                    b["group"].as_str().unwrap_or(""),
                    b["min_trust"],
                    b["vote_budget"],
                    b["credential_issuer"]
                );
                for a in b["amendments"].as_array().into_iter().flatten() {
                    println!(
                        "  {} = {} by poll {} ({} of {} voices adopted)",
                        a["rule"].as_str().unwrap_or(""),
                        a["value"],
                        a["poll"].as_str().unwrap_or(""),
                        a["adopt"],
                        a["voters"]
                    );
                }
            })
        }
    }
}

fn create(a: CreateArgs) -> Result<ExitCode> {
    let key_name = match &a.sign.key {
        Some(k) => k.clone(),
        None => bail!("name the signing key with --key"),
    };
    let sk = crate::cli::keys::load_key(a.sign.key_dir.clone(), &key_name)?;
    let group =
        crate::cli::sign::parse_group_ref(&a.group, &sk.public_key(), a.sign.key_dir.as_ref())?;
    let now = crate::node::clock::now_ms();
    let at = match &a.sign.at {
        Some(t) => crate::cli::sign::parse_time(t, now)?,
        None => now,
    };
    let closes = crate::cli::sign::parse_time(&a.closes, now)?;
    let header = match &a.header {
        Some(h) => crate::cli::sign::parse_object_id(h)?,
        None => {
            let path = format!("{}/rules", group_path(&crate::json::group_str(&group))?);
            let (status, body) = get(&a.sign.emit.node, &path)?;
            if status != 200 {
                bail!(
                    "the node has no header of {} ({}): name one with --header",
                    crate::json::group_str(&group),
                    body["error"]["code"].as_str().unwrap_or("?")
                );
            }
            let h = body["header"]
                .as_str()
                .ok_or_else(|| anyhow!("the node's answer names no header"))?;
            crate::cli::sign::parse_object_id(h)?
        }
    };
    let amend =
        (a.amend_min_trust.is_some() || a.amend_vote_budget.is_some()).then_some(Amendment {
            min_trust: a.amend_min_trust,
            vote_budget: a.amend_vote_budget,
        });
    let obj = Object {
        author: sk.public_key(),
        at,
        body: Body::Poll(PollBody {
            group,
            header,
            text: a.text,
            options: if amend.is_some() { 2 } else { a.options },
            closes,
            amend,
        }),
    }
    .sign(&sk)
    .map_err(|e| anyhow!("[{}] {e}", e.code()))?;
    crate::cli::sign::emit_objects(&a.sign.emit, std::slice::from_ref(&obj))
}

fn vote(a: VoteArgs) -> Result<ExitCode> {
    let poll = crate::cli::sign::parse_object_id(&a.poll)?;
    let cred = crate::cli::personhood::load_credential(a.key_dir.clone(), &a.credential)?;
    // A fresh key per ballot: reusing a posting key would tie it to the pseudonym.
    let voting = SecretKey::generate(&mut rand_core::OsRng);
    let scope = PersonhoodScope::new(PollBody::scope_label(&poll), 0);
    let proof = cred
        .prove(&scope, &voting.public_key())
        .map_err(|e| anyhow!("[{}] {e}", e.code()))?
        .to_bytes();
    let obj = Object {
        author: voting.public_key(),
        at: crate::node::clock::now_ms(),
        body: Body::Ballot(BallotBody {
            poll,
            choice: a.choice,
            proof,
        }),
    }
    .sign(&voting)
    .map_err(|e| anyhow!("[{}] {e}", e.code()))?;
    crate::cli::sign::emit_objects(&a.emit, std::slice::from_ref(&obj))
}
