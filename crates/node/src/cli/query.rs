//! Query commands of the `vouch` CLI, answered by the running node's API: `vouch trust
//! show|explain`, `vouch decide`, `vouch list show|diff`, `vouch group show|reports|bans|
//! appeals`, `vouch viewer add|list|remove|policy get|set`. Each prints plain text, or the
//! API's JSON with `--json`. Exit codes: 0 success, 1 the node refused (an error answer),
//! 2 usage or I/O error (bad file), 3 no node answers (specs/cli.md §1).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde_json::Value;

use crate::cli::connect::NodeArgs;
use crate::json::{
    self, DecideRequest, DecideResponse, DiffJson, ItemJson, ItemResultJson, ListSubscriptionJson,
    PolicyJson,
};

/// How to reach the node, and how to print its answer.
#[derive(Debug, Clone, Args)]
pub(crate) struct NodeAddr {
    #[command(flatten)]
    node: NodeArgs,
    /// Print the API's JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// `vouch trust ...`.
#[derive(Debug, Subcommand)]
pub(super) enum TrustCmd {
    /// A viewer's trust in an author: score, paths and evidence.
    #[command(after_help = "Example:\n  vouch trust show did:key:z6MkViewer… did:key:z6MkAuthor…")]
    Show {
        /// The viewer (`did:key`).
        viewer: String,
        /// The author (`did:key`).
        subject: String,
        #[command(flatten)]
        node: NodeAddr,
    },
    /// Every reason the viewer's policy gives for an author or a stored post.
    #[command(
        after_help = "Example:\n  vouch trust explain did:key:z6MkViewer… bafyrei… \n  vouch trust explain did:key:z6MkViewer… did:key:z6MkAuthor… --group did:key:z6MkOwner…/garden"
    )]
    Explain {
        /// The viewer (`did:key`).
        viewer: String,
        /// An author (`did:key`) or a stored post (CID).
        subject: String,
        /// For an author: the group the question is about (`<owner did:key>/<name>`).
        #[arg(long)]
        group: Option<String>,
        #[command(flatten)]
        node: NodeAddr,
    },
}

/// `vouch decide`: what a viewer sees of some posts and authors, and why.
#[derive(Debug, Args)]
#[command(
    after_help = "Each item is a did:key (an author) or a CID (a post the node stores).\n\nExample:\n  vouch decide did:key:z6MkViewer… bafyreiPost… did:key:z6MkAuthor… --explain"
)]
pub(super) struct DecideArgs {
    /// The viewer (`did:key`).
    pub viewer: String,
    /// Items: `did:key:…` for an author, a CID for a stored post.
    #[arg(required = true)]
    pub items: Vec<String>,
    /// Ask about authors in this group (`<owner did:key>/<name>`).
    #[arg(long)]
    pub group: Option<String>,
    /// Every reason, also those without effect, with trust paths.
    #[arg(long)]
    pub explain: bool,
    #[command(flatten)]
    pub node: NodeAddr,
}

/// `vouch list show|diff` (the query half of `vouch list`).
#[derive(Debug, Subcommand)]
pub(super) enum ListQuery {
    /// A list's header and entries with their status.
    #[command(after_help = "Example:\n  vouch list show did:key:z6MkCurator…/spam --limit 20")]
    Show {
        /// `<curator did:key>/<name>`.
        list: String,
        /// Entries to skip.
        #[arg(long, default_value_t = 0)]
        offset: u64,
        /// Entries to print.
        #[arg(long, default_value_t = 100)]
        limit: u64,
        #[command(flatten)]
        node: NodeAddr,
    },
    /// What a change of a viewer's subscriptions would change: the current policy against a
    /// proposed one (a JSON file, or the current one with lists added or dropped).
    #[command(
        after_help = "Example:\n  vouch list diff did:key:z6MkViewer… --subscribe did:key:z6MkCurator…/spam\n  vouch list diff did:key:z6MkViewer… --unsubscribe did:key:z6MkCurator…/spam\n  vouch list diff did:key:z6MkViewer… --policy proposed.json"
    )]
    Diff {
        /// The viewer (`did:key`).
        viewer: String,
        /// A proposed policy (JSON, as `vouch viewer policy get --json` prints it).
        #[arg(long, conflicts_with_all = ["subscribe", "unsubscribe"])]
        policy: Option<PathBuf>,
        /// Add a list subscription (`<curator>/<name>` or `<curator>/<name>=<weight>`).
        #[arg(long)]
        subscribe: Vec<String>,
        /// Drop a list subscription.
        #[arg(long)]
        unsubscribe: Vec<String>,
        #[command(flatten)]
        node: NodeAddr,
    },
}

/// `vouch group show|reports|bans|appeals` (the query half of `vouch group`).
#[derive(Debug, Subcommand)]
pub(super) enum GroupQuery {
    /// A group's header, moderators and counts.
    #[command(after_help = "Example:\n  vouch group show did:key:z6MkOwner…/garden")]
    Show {
        /// `<owner did:key>/<name>`.
        group: String,
        #[command(flatten)]
        node: NodeAddr,
    },
    /// The report queue: open items first, then most reported (with the reports' CIDs,
    /// which `vouch group dismiss` takes).
    #[command(after_help = "Example:\n  vouch group reports did:key:z6MkOwner…/garden")]
    Reports {
        /// `<owner did:key>/<name>`.
        group: String,
        #[command(flatten)]
        node: NodeAddr,
    },
    /// The bans in force.
    #[command(after_help = "Example:\n  vouch group bans did:key:z6MkOwner…/garden")]
    Bans {
        /// `<owner did:key>/<name>`.
        group: String,
        #[command(flatten)]
        node: NodeAddr,
    },
    /// Appeals against the group's bans, open ones first.
    #[command(after_help = "Example:\n  vouch group appeals did:key:z6MkOwner…/garden")]
    Appeals {
        /// `<owner did:key>/<name>`.
        group: String,
        #[command(flatten)]
        node: NodeAddr,
    },
}

/// `vouch viewer ...`: the node's local viewers.
#[derive(Debug, Subcommand)]
pub(super) enum ViewerCmd {
    /// Create a viewer (default policy, or one from a JSON file).
    #[command(
        after_help = "Example:\n  vouch viewer add did:key:z6MkViewer… --policy policy.json"
    )]
    Add {
        /// The viewer (`did:key`).
        viewer: String,
        /// The policy (JSON).
        #[arg(long)]
        policy: Option<PathBuf>,
        #[command(flatten)]
        node: NodeAddr,
    },
    /// List the viewers.
    #[command(after_help = "Example:\n  vouch viewer list --json")]
    List {
        #[command(flatten)]
        node: NodeAddr,
    },
    /// Delete a viewer.
    #[command(after_help = "Example:\n  vouch viewer remove did:key:z6MkViewer…")]
    Remove {
        /// The viewer (`did:key`).
        viewer: String,
        #[command(flatten)]
        node: NodeAddr,
    },
    /// Read or replace a viewer's policy.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  vouch viewer policy get did:key:z6MkViewer… > policy.json\n  vouch viewer policy set did:key:z6MkViewer… policy.json"
    )]
    Policy(PolicyCmd),
}

/// `vouch viewer policy get|set`.
#[derive(Debug, Subcommand)]
pub(super) enum PolicyCmd {
    /// Print the policy (JSON).
    #[command(
        after_help = "Example:\n  vouch viewer policy get did:key:z6MkViewer… > policy.json"
    )]
    Get {
        /// The viewer (`did:key`).
        viewer: String,
        #[command(flatten)]
        node: NodeAddr,
    },
    /// Replace the policy with a JSON file's.
    #[command(after_help = "Example:\n  vouch viewer policy set did:key:z6MkViewer… policy.json")]
    Set {
        /// The viewer (`did:key`).
        viewer: String,
        /// The policy (JSON).
        file: PathBuf,
        #[command(flatten)]
        node: NodeAddr,
    },
}

/// An answer from the node.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

impl NodeAddr {
    /// One call with an optional JSON body.
    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Answer> {
        let bytes = match body {
            Some(b) => serde_json::to_vec(b)?,
            None => Vec::new(),
        };
        let r = self
            .node
            .resolve()?
            .request(method, path, Some("application/json"), &bytes)?;
        let body = if r.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&r.body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&r.body).into_owned()))
        };
        Ok(Answer {
            status: r.status,
            body,
        })
    }
}

/// Prints an error answer; exit code 1.
fn refused(a: &Answer) -> ExitCode {
    let code = a.body["error"]["code"].as_str().unwrap_or("error");
    let message = a.body["error"]["message"].as_str().unwrap_or("");
    eprintln!("error ({}): {code}: {message}", a.status);
    ExitCode::from(1)
}

/// Prints the answer as JSON (`--json`) or with `text`; an error answer exits 1.
pub(crate) fn show(
    node: &NodeAddr,
    a: &Answer,
    text: impl FnOnce(&Value),
) -> anyhow::Result<ExitCode> {
    if !(200..300).contains(&a.status) {
        return Ok(refused(a));
    }
    if node.json {
        println!("{}", serde_json::to_string_pretty(&a.body)?);
    } else {
        text(&a.body);
    }
    Ok(ExitCode::SUCCESS)
}

/// `<owner>/<name>` into path segments (the name URL-encoded).
fn ref_path(field: &'static str, r: &str) -> anyhow::Result<String> {
    let (owner, name) = json::parse_ref(field, r)?;
    Ok(format!("{}/{}", owner.to_did_key(), encode(&name)))
}

/// Percent-encodes a path segment.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

pub(crate) fn print_decision(label: &str, d: &Value) {
    println!(
        "{:<8} score {:>5.2}  {label}",
        str_of(&d["verdict"]),
        d["score"].as_f64().unwrap_or(0.0)
    );
    for r in d["reasons"].as_array().into_iter().flatten() {
        println!(
            "         [{}] {}",
            str_of(&r["code"]),
            str_of(&r["sentence"])
        );
        let path: Vec<&str> = r["trust_path"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| str_of(&s["to"]))
            .collect();
        if !path.is_empty() {
            println!("           path: you -> {}", path.join(" -> "));
        }
    }
}

fn read_policy(file: &PathBuf) -> anyhow::Result<PolicyJson> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a policy", file.display()))
}

/// Runs `vouch trust ...`.
pub(super) fn run_trust(cmd: TrustCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        TrustCmd::Show {
            viewer,
            subject,
            node,
        } => {
            let a = node.call(
                "GET",
                &format!("/v1/viewers/{viewer}/trust/{subject}"),
                None,
            )?;
            show(&node, &a, |t| {
                println!(
                    "trust {:.3} (reach {:.3}, positive {:.4}, negative {:.4}){}",
                    t["score"].as_f64().unwrap_or(0.0),
                    t["reach"].as_f64().unwrap_or(0.0),
                    t["positive"].as_f64().unwrap_or(0.0),
                    t["negative"].as_f64().unwrap_or(0.0),
                    if t["direct"] == true {
                        ", attested by you"
                    } else {
                        ""
                    }
                );
                if t["known"] != true {
                    println!("the trust graph has never seen this author");
                }
                for p in t["paths"].as_array().into_iter().flatten() {
                    let hops: Vec<String> = p["hops"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|h| format!("{} ({})", str_of(&h["to"]), h["level"]))
                        .collect();
                    println!(
                        "path (strength {:.4}): you -> {}",
                        p["strength"].as_f64().unwrap_or(0.0),
                        hops.join(" -> ")
                    );
                }
                for e in t["negative_evidence"].as_array().into_iter().flatten() {
                    println!(
                        "against: {} by {} (level {}, weight {:.4})",
                        str_of(&e["kind"]),
                        str_of(&e["rater"]),
                        e["level"],
                        e["weight"].as_f64().unwrap_or(0.0)
                    );
                }
            })
        }
        TrustCmd::Explain {
            viewer,
            subject,
            group,
            node,
        } => {
            let mut path = format!("/v1/viewers/{viewer}/explain/{subject}");
            if let Some(g) = &group {
                json::parse_group("--group", g)?;
                path.push_str(&format!("?group={}", encode(g)));
            }
            let a = node.call("GET", &path, None)?;
            show(&node, &a, |d| print_decision(&subject, d))
        }
    }
}

/// Runs `vouch decide`.
pub(super) fn run_decide(args: DecideArgs) -> anyhow::Result<ExitCode> {
    let items: Vec<ItemJson> = args
        .items
        .iter()
        .map(|i| {
            if i.starts_with("did:") {
                ItemJson {
                    author: Some(i.clone()),
                    group: args.group.clone(),
                    ..ItemJson::default()
                }
            } else {
                ItemJson {
                    post: Some(i.clone()),
                    ..ItemJson::default()
                }
            }
        })
        .collect();
    let req = serde_json::to_value(DecideRequest {
        items,
        explain: args.explain,
    })?;
    let a = args.node.call(
        "POST",
        &format!("/v1/viewers/{}/decide", args.viewer),
        Some(&req),
    )?;
    if !(200..300).contains(&a.status) || args.node.json {
        return show(&args.node, &a, |_| {});
    }
    let resp: DecideResponse = serde_json::from_value(a.body)?;
    for (label, d) in args.items.iter().zip(&resp.decisions) {
        match d {
            ItemResultJson::Decision(d) => print_decision(label, &serde_json::to_value(d)?),
            ItemResultJson::Error { error } => {
                println!("error    {label}: {}: {}", error.code, error.message)
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `vouch list show|diff`.
pub(super) fn run_list(cmd: ListQuery) -> anyhow::Result<ExitCode> {
    match cmd {
        ListQuery::Show {
            list,
            offset,
            limit,
            node,
        } => {
            let path = format!(
                "/v1/lists/{}?offset={offset}&limit={limit}",
                ref_path("list", &list)?
            );
            let a = node.call("GET", &path, None)?;
            show(&node, &a, |l| {
                let h = &l["header"];
                if h.is_null() {
                    println!("{}: no header received yet", str_of(&l["list"]));
                } else {
                    println!(
                        "{} ({} list, seq {}){}",
                        str_of(&l["list"]),
                        str_of(&h["purpose"]),
                        h["seq"],
                        h["description"]
                            .as_str()
                            .map(|d| format!(": {d}"))
                            .unwrap_or_default()
                    );
                }
                println!(
                    "entries: {} live, {} expired, {} retracted, {} unauthorized",
                    l["counts"]["live"],
                    l["counts"]["expired"],
                    l["counts"]["retracted"],
                    l["counts"]["unauthorized"]
                );
                for e in l["entries"].as_array().into_iter().flatten() {
                    println!(
                        "  {:<12} {}  {}",
                        str_of(&e["status"]),
                        str_of(&e["subject"]),
                        str_of(&e["reason"])
                    );
                }
                for q in l["equivocations"].as_array().into_iter().flatten() {
                    println!("  conflicting header versions at seq {}", q["seq"]);
                }
            })
        }
        ListQuery::Diff {
            viewer,
            policy,
            subscribe,
            unsubscribe,
            node,
        } => {
            let proposed = match policy {
                Some(f) => read_policy(&f)?,
                None => {
                    let a = node.call("GET", &format!("/v1/viewers/{viewer}/policy"), None)?;
                    if a.status != 200 {
                        return Ok(refused(&a));
                    }
                    let mut p: PolicyJson = serde_json::from_value(a.body)?;
                    for s in &subscribe {
                        let (list, weight) = match s.rsplit_once('=') {
                            Some((l, w)) => (
                                l.to_owned(),
                                w.parse().with_context(|| format!("weight in {s:?}"))?,
                            ),
                            None => (s.clone(), 1.0),
                        };
                        json::parse_list("--subscribe", &list)?;
                        p.lists.retain(|x| x.list != list);
                        p.lists.push(ListSubscriptionJson { list, weight });
                    }
                    for u in &unsubscribe {
                        json::parse_list("--unsubscribe", u)?;
                        p.lists.retain(|x| &x.list != u);
                    }
                    p
                }
            };
            let a = node.call(
                "POST",
                &format!("/v1/viewers/{viewer}/diff"),
                Some(&serde_json::to_value(&proposed)?),
            )?;
            show(&node, &a, |d| {
                let Ok(d) = serde_json::from_value::<DiffJson>(d.clone()) else {
                    return;
                };
                if d.changes.is_empty() {
                    println!("nothing would change");
                }
                for s in &d.sentences {
                    println!("{s}");
                }
                for c in &d.changes {
                    println!(
                        "  {}: {} -> {}{}",
                        c.author,
                        vouch_reputation::Verdict::from(c.before),
                        vouch_reputation::Verdict::from(c.after),
                        if c.trusted { " (you trust them)" } else { "" }
                    );
                }
            })
        }
    }
}

/// Runs `vouch group show|reports|bans|appeals`.
pub(super) fn run_group(cmd: GroupQuery) -> anyhow::Result<ExitCode> {
    let (group, node, what) = match cmd {
        GroupQuery::Show { group, node } => (group, node, ""),
        GroupQuery::Reports { group, node } => (group, node, "/reports"),
        GroupQuery::Bans { group, node } => (group, node, "/bans"),
        GroupQuery::Appeals { group, node } => (group, node, "/appeals"),
    };
    let a = node.call(
        "GET",
        &format!("/v1/groups/{}{what}", ref_path("group", &group)?),
        None,
    )?;
    show(&node, &a, |g| match what {
        "" => {
            println!("group {}", str_of(&g["group"]));
            if let Some(rules) = g["header"]["rules"].as_str() {
                println!("rules: {rules}");
            }
            for m in g["moderators"].as_array().into_iter().flatten() {
                println!("moderator: {}", str_of(m));
            }
            println!(
                "{} banned, {} reported, {} open appeals",
                g["banned"], g["reported"], g["open_appeals"]
            );
        }
        "/reports" => {
            for r in g["reports"].as_array().into_iter().flatten() {
                println!(
                    "{} report(s) from {} reporter(s){}{}: {}",
                    r["reports"].as_array().map_or(0, Vec::len),
                    r["reporters"].as_array().map_or(0, Vec::len),
                    if r["banned"] == true { ", banned" } else { "" },
                    if r["open"] == false {
                        ", dismissed"
                    } else {
                        ""
                    },
                    str_of(&r["subject"])
                );
                for t in r["texts"].as_array().into_iter().flatten() {
                    println!("    \"{}\"", str_of(t));
                }
                let dismissed = r["dismissed"].as_array().cloned().unwrap_or_default();
                for id in r["reports"].as_array().into_iter().flatten() {
                    let done = if dismissed.contains(id) {
                        " (dismissed)"
                    } else {
                        ""
                    };
                    println!("    report {}{done}", str_of(id));
                }
            }
        }
        "/bans" => {
            for b in g["bans"].as_array().into_iter().flatten() {
                println!("{}  (ban {})", str_of(&b["subject"]), str_of(&b["ban"]));
            }
        }
        _ => {
            for a in g["appeals"].as_array().into_iter().flatten() {
                println!(
                    "{:<8} {} appeals ban {} of {}",
                    str_of(&a["state"]),
                    str_of(&a["appellant"]),
                    str_of(&a["ban"]),
                    str_of(&a["subject"])
                );
            }
        }
    })
}

/// Runs `vouch viewer ...`.
pub(super) fn run_viewer(cmd: ViewerCmd) -> anyhow::Result<ExitCode> {
    let print_viewer = |v: &Value| {
        println!(
            "{}  {} list(s), {} curator(s), {} group(s); view: {} subjects, trust signal on {} authors",
            str_of(&v["viewer"]),
            v["policy"]["lists"].as_array().map_or(0, Vec::len),
            v["policy"]["curators"].as_array().map_or(0, Vec::len),
            v["policy"]["groups"].as_array().map_or(0, Vec::len),
            v["view"]["subjects"],
            v["view"]["trusted_authors"]
        )
    };
    match cmd {
        ViewerCmd::Add {
            viewer,
            policy,
            node,
        } => {
            let policy = match policy {
                Some(f) => read_policy(&f)?,
                None => PolicyJson::default(),
            };
            let body = serde_json::json!({ "viewer": viewer, "policy": policy });
            let a = node.call("POST", "/v1/viewers", Some(&body))?;
            show(&node, &a, print_viewer)
        }
        ViewerCmd::List { node } => {
            let a = node.call("GET", "/v1/viewers", None)?;
            show(&node, &a, |v| {
                for x in v["viewers"].as_array().into_iter().flatten() {
                    print_viewer(x);
                }
            })
        }
        ViewerCmd::Remove { viewer, node } => {
            let a = node.call("DELETE", &format!("/v1/viewers/{viewer}"), None)?;
            show(&node, &a, |_| println!("removed {viewer}"))
        }
        ViewerCmd::Policy(PolicyCmd::Get { viewer, node }) => {
            let a = node.call("GET", &format!("/v1/viewers/{viewer}/policy"), None)?;
            // The policy is JSON either way.
            let node = NodeAddr { json: true, ..node };
            show(&node, &a, |_| {})
        }
        ViewerCmd::Policy(PolicyCmd::Set { viewer, file, node }) => {
            let policy = serde_json::to_value(read_policy(&file)?)?;
            let a = node.call(
                "PUT",
                &format!("/v1/viewers/{viewer}/policy"),
                Some(&policy),
            )?;
            show(&node, &a, print_viewer)
        }
    }
}
