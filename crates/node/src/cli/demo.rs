//! `vouch demo`: a small local network of real nodes with a generated community, and what a
//! viewer sees with and without Vouch.
//!
//! It starts `--nodes` child `vouch node run` processes on loopback (temporary data
//! directories, each bootstrapping to the first, all following the demo group's topic),
//! submits every object of [`community::generate`] through the API of the node its
//! [`community::Origin`] names (so objects travel between processes over gossip and
//! catch-up), waits until every node holds every object, creates the viewer on a node that
//! received few objects directly, asks it to decide the group's feed with explanations, and
//! prints the verdicts and a summary counted from them ([`report`]). Then it stops the nodes
//! as Ctrl-C does and removes its folder, unless `--keep`.

pub mod community;
pub(crate) mod network;
pub(crate) mod report;

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use vouch_reputation::{Body, SignedObject, ValidationError};

use crate::client::ClientError;
use crate::json::{
    self, CreateViewerJson, DecideRequest, DecideResponse, ItemJson, ItemResultJson,
    ListSubscriptionJson, PolicyJson, VerdictJson,
};
use community::{Community, Origin};
use network::{call_json, get_json, Network, Stop, POLL};
use report::{DemoReport, Names, NodeReport, Timings};

/// How far back the community's history starts: its objects are dated one second apart from
/// then on, so that none lies in the future (about 1,600 objects: 27 minutes).
pub(crate) const HISTORY_MS: u64 = 3_600_000;

/// `vouch demo` flags.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Nodes to start (1 to 8).
    #[arg(long, default_value_t = 3, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=8))]
    pub nodes: usize,
    /// Seed of the generated community (its keys, names and objects).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Keep the nodes running (until Ctrl-C) and their data directories, to keep playing.
    #[arg(long)]
    pub keep: bool,
    /// Print the result as one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Seconds to wait for each stage (nodes starting and connecting, objects syncing).
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
}

/// Why the demo stopped. Every variant has a stable [`code`](DemoError::code).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum DemoError {
    /// A node did not start or exited.
    #[error("node {index} failed: {why}\n--- the end of {} ---\n{tail}", .log.display())]
    NodeStart {
        /// The node.
        index: usize,
        /// What happened.
        why: String,
        /// Its log file.
        log: PathBuf,
        /// The log's last lines.
        tail: String,
    },
    /// The nodes did not connect to each other in time.
    #[error("the nodes did not connect within {secs} s: {detail}")]
    NotConnected {
        /// The timeout.
        secs: u64,
        /// Which node lacks peers.
        detail: String,
    },
    /// A node refused an object of the community.
    #[error("node {index} refused object {id} ({status}): {body}")]
    Refused {
        /// The node.
        index: usize,
        /// The object's CID.
        id: String,
        /// The HTTP status.
        status: u16,
        /// The node's answer.
        body: String,
    },
    /// Some node still lacked objects at the timeout.
    #[error("the nodes did not converge within {secs} s: {missing}")]
    NotConverged {
        /// The timeout.
        secs: u64,
        /// Which node misses how many objects.
        missing: String,
    },
    /// An API call did not answer as expected.
    #[error("{what}: the node answered {status}: {body}")]
    Api {
        /// The call.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The answer.
        body: String,
    },
    /// Ctrl-C or SIGTERM.
    #[error("interrupted")]
    Interrupted,
    /// Talking to a node failed.
    #[error(transparent)]
    Http(#[from] ClientError),
    /// A file or process operation failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The community did not sign (a bug).
    #[error("generating the community: {0}")]
    Generate(#[from] ValidationError),
}

impl DemoError {
    /// The stable error code.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            DemoError::NodeStart { .. } => "node-start-failed",
            DemoError::NotConnected { .. } => "nodes-not-connected",
            DemoError::Refused { .. } => "object-refused",
            DemoError::NotConverged { .. } => "not-converged",
            DemoError::Api { .. } => "api-error",
            DemoError::Interrupted => "interrupted",
            DemoError::Http(e) => e.code(),
            DemoError::Io(_) => "io",
            DemoError::Generate(_) => "generate-failed",
        }
    }

    /// The exit code (`specs/cli.md`): 3 when a node did not start or answer, 1 when the
    /// network did not do what the demo shows (refused, did not converge, a wrong answer),
    /// 2 for I/O errors, 130 when interrupted.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            DemoError::NodeStart { .. } | DemoError::NotConnected { .. } | DemoError::Http(_) => 3,
            DemoError::Refused { .. } | DemoError::NotConverged { .. } | DemoError::Api { .. } => 1,
            DemoError::Interrupted => 130,
            DemoError::Io(_) | DemoError::Generate(_) => 2,
        }
    }
}

/// The node that objects of `origin` are submitted to, with `n` nodes: the group on the
/// first, outsiders on the second, the viewer on the third (on the first with two nodes),
/// so the viewer's node is never the one most objects were submitted to.
pub(crate) fn node_of(origin: Origin, n: usize) -> usize {
    match (origin, n) {
        (_, 0 | 1) | (Origin::Community, _) | (Origin::Viewer, 2) => 0,
        (Origin::Outside, _) => 1,
        (Origin::Viewer, _) => 2,
    }
}

/// Runs `vouch demo`; errors are printed with their code and give the exit code.
pub(crate) fn run(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let stop = Stop::install()?;
    match run_demo(args, &stop) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            // Ctrl-C in a terminal reaches the nodes too: a node that exited then is not
            // the error.
            let e = if stop.requested() {
                DemoError::Interrupted
            } else {
                e
            };
            eprintln!("error: {e} [{}]", e.code());
            Ok(ExitCode::from(e.exit_code()))
        }
    }
}

/// Progress for people: stage lines and bars on stderr, only when it is a terminal and the
/// output is text.
struct Progress {
    on: bool,
}

impl Progress {
    fn stage(&self, msg: &str) {
        if self.on {
            eprintln!("{msg}");
        }
    }

    fn bar(&self, len: u64, what: &str) -> ProgressBar {
        if !self.on {
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::new(len);
        if let Ok(style) = ProgressStyle::with_template(&format!(
            "  {what:<10} [{{bar:40}}] {{pos}}/{{len}} {{msg}}"
        )) {
            pb.set_style(style.progress_chars("=> "));
        }
        pb
    }
}

fn run_demo(args: &DemoArgs, stop: &Stop) -> Result<(), DemoError> {
    let t0 = Instant::now();
    let progress = Progress {
        on: !args.json && std::io::stderr().is_terminal(),
    };
    let timeout = Duration::from_secs(args.timeout.max(1));
    let n = args.nodes.max(1);
    let temp = tempfile::Builder::new().prefix("vouch-demo-").tempdir()?;
    let root = temp.path().to_owned();
    // With --keep the folder outlives the demo, whatever happens.
    let temp = if args.keep {
        let _ = temp.keep();
        None
    } else {
        Some(temp)
    };

    let start_ms = crate::node::clock::now_ms().saturating_sub(HISTORY_MS);
    let c = community::generate(args.seed, start_ms)?;
    let group = json::group_str(&c.group);
    let names = Names::new(&c.names);

    write_staff_keys(&root, args.seed)?;
    progress.stage(&format!("starting {n} nodes in {} ...", root.display()));
    let mut net = Network::start(&root, n, &group, timeout, stop)?;
    net.await_connected(timeout, stop)?;
    // Subscriptions travel right after a connection opens; one gossip heartbeat (0.7 s)
    // later every node knows which topics its peers follow.
    std::thread::sleep(Duration::from_millis(800));
    let t_started = t0.elapsed();

    progress.stage(&format!(
        "submitting {} objects, each to its own node; the others get them over the network ...",
        c.objects.len()
    ));
    let submitted = submit_all(&net, &c, &progress, stop)?;
    let t_submitted = t0.elapsed();
    await_converged(&mut net, c.objects.len() as u64, timeout, &progress, stop)?;
    let t_synced = t0.elapsed();

    let viewer_node = node_of(Origin::Viewer, n);
    let api = net.nodes[viewer_node].api.clone();
    progress.stage(&format!(
        "every node holds every object; deciding the feed for the viewer on node {viewer_node} ..."
    ));
    await_engine(&mut net, viewer_node, c.objects.len() as u64, timeout, stop)?;
    let viewer = c.viewer.public_key().to_did_key();
    let policy = viewer_policy(&c);
    call_json(
        &api,
        "POST",
        "/v1/viewers",
        &CreateViewerJson {
            viewer: viewer.clone(),
            policy: policy.clone(),
        },
        201,
    )?;
    // The app's own token: it reads and decides for this viewer only.
    let token = call_json(
        &api,
        "POST",
        "/v1/tokens",
        &serde_json::json!({"viewer": viewer, "label": "vouch demo: examples/filter_feed.py"}),
        201,
    )?;
    let secret = serde_json::from_slice::<serde_json::Value>(&token)
        .ok()
        .and_then(|t| t["secret"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let viewer_token_file = root.join("viewer.token");
    crate::node::files::write_private(&viewer_token_file, format!("{secret}\n").as_bytes())?;
    let posts = decide_feed(&api.with_token(Some(secret)), &viewer, &c, &names)?;
    let t_decided = t0.elapsed();

    let mut nodes = Vec::new();
    for node in &net.nodes {
        let s = node.status()?;
        let metric = |name: &str| s["metrics"][name].as_u64().unwrap_or(0);
        let mut roles: Vec<&str> = [Origin::Community, Origin::Outside, Origin::Viewer]
            .into_iter()
            .filter(|o| node_of(*o, n) == node.index)
            .map(Origin::describe)
            .collect();
        if roles.is_empty() {
            roles.push("relay only");
        }
        nodes.push(NodeReport {
            index: node.index,
            role: roles.join(", "),
            api: format!("http://{}", node.api.addr),
            data_dir: node.dir.clone(),
            submitted: submitted[node.index],
            objects: s["objects"].as_u64().unwrap_or(0),
            by_gossip: metric("gossip_accepted_total"),
            by_catch_up: metric("sync_objects_fetched_total"),
        });
    }
    let feed_file = root.join("feed.txt");
    std::fs::write(
        &feed_file,
        posts
            .iter()
            .map(|p| format!("{}\n", p.id))
            .collect::<String>(),
    )?;
    let summary = report::summarize(&posts);
    let secs = |d: Duration| (d.as_secs_f64() * 10.0).round() / 10.0;
    let mut report = DemoReport {
        seed: args.seed,
        objects: c.objects.len(),
        group,
        viewer,
        viewer_node,
        policy,
        nodes,
        posts,
        summary,
        seconds: Timings {
            start: secs(t_started),
            submit: secs(t_submitted - t_started),
            sync: secs(t_synced - t_submitted),
            decide: secs(t_decided - t_synced),
            total: secs(t_decided),
        },
        data_dir: root.clone(),
        feed_file,
        viewer_token_file,
        kept: args.keep,
        stopped_cleanly: None,
    };
    let policy_words = policy_words(&c, &names);

    if args.keep {
        print_report(&report, args.json, &policy_words)?;
        if !args.json {
            print_keep_hints(&report);
            print_console_links(&api, &report.viewer, &root)?;
        }
        while !stop.requested() {
            std::thread::sleep(POLL);
        }
        let clean = net.stop();
        eprintln!(
            "nodes stopped{}; the demo's folder stays: {}",
            if clean { "" } else { " (some not cleanly)" },
            root.display()
        );
        return Ok(());
    }
    report.stopped_cleanly = Some(net.stop());
    if let Some(t) = temp {
        t.close()?;
    }
    print_report(&report, args.json, &policy_words)
}

fn print_report(report: &DemoReport, json: bool, policy_words: &str) -> Result<(), DemoError> {
    if json {
        let line = serde_json::to_string(report).map_err(std::io::Error::other)?;
        println!("{line}");
    } else {
        print!("{}", report::render_text(report, policy_words));
    }
    Ok(())
}

fn print_keep_hints(r: &DemoReport) {
    let viewer_api = r
        .nodes
        .get(r.viewer_node)
        .map_or(String::new(), |n| n.api.clone());
    println!(
        "\nThe nodes keep running until Ctrl-C; their folder stays: {}",
        r.data_dir.display()
    );
    for n in &r.nodes {
        println!(
            "  node {}  {}  data dir {}",
            n.index,
            n.api,
            n.data_dir.display()
        );
    }
    let first = r.posts.first().map_or("", |p| p.id.as_str());
    let viewer_dir = r
        .nodes
        .get(r.viewer_node)
        .map_or(PathBuf::new(), |n| n.data_dir.clone());
    println!("Try, in another terminal (the API wants a token; each node's admin token is");
    println!("<its data dir>/api.token, and the example uses the viewer's own token):");
    println!(
        "  VOUCH_API_TOKEN_FILE={} python3 examples/filter_feed.py {viewer_api} {} {}",
        r.viewer_token_file.display(),
        r.viewer,
        r.feed_file.display()
    );
    println!(
        "  vouch decide --data-dir {} {} {first} --explain",
        viewer_dir.display(),
        r.viewer
    );
    println!(
        "  curl -H \"Authorization: Bearer $(cat {})\" {viewer_api}/v1/status",
        viewer_dir.join(crate::client::API_TOKEN_FILE).display()
    );
}

/// Writes the group's staff's and the curators' keys into the demo's key folder (owner-only),
/// which its nodes' web consoles sign with for an admin session.
fn write_staff_keys(root: &std::path::Path, seed: u64) -> Result<(), DemoError> {
    let dir = root.join(network::KEY_DIR);
    crate::node::files::create_private_dir(&dir)?;
    for (name, key) in community::staff_keys(seed) {
        vouch_identity::write_key_file(&dir.join(format!("{name}.key")), &key)
            .map_err(std::io::Error::other)?;
    }
    Ok(())
}

/// One-time links to the viewer node's web console: as the viewer, and as the node's admin
/// (who can act as the group's owner, its moderators and the curators).
fn print_console_links(
    api: &crate::client::Api,
    viewer: &str,
    root: &std::path::Path,
) -> Result<(), DemoError> {
    let link = |body: serde_json::Value| -> Result<String, DemoError> {
        let a = call_json(api, "POST", "/v1/console/codes", &body, 200)?;
        let path = serde_json::from_slice::<serde_json::Value>(&a)
            .ok()
            .and_then(|v| v["path"].as_str().map(str::to_owned))
            .unwrap_or_default();
        Ok(format!("http://{}{path}", api.addr))
    };
    println!("\nThe web console (one-time links, a minute each):");
    println!(
        "  as the viewer:  {}",
        link(serde_json::json!({"viewer": viewer, "scope": "policy"}))?
    );
    println!(
        "  as the admin:   {}  (signs as the group's owner, moderators and curators: keys in {})",
        link(serde_json::json!({}))?,
        root.join(network::KEY_DIR).display()
    );
    println!("  new links: vouch console --data-dir <the viewer node's data dir> [--viewer <did>]");
    Ok(())
}

/// The viewer's policy: both shared lists, the group's rules, strangers collapsed.
fn viewer_policy(c: &Community) -> PolicyJson {
    PolicyJson {
        lists: c
            .lists
            .iter()
            .map(|l| ListSubscriptionJson {
                list: json::list_str(l),
                weight: 1.0,
            })
            .collect(),
        unknown_author: VerdictJson::Collapse,
        group_rules: true,
        protect_trusted: true,
        groups: vec![json::group_str(&c.group)],
        ..PolicyJson::default()
    }
}

fn policy_words(c: &Community, names: &Names) -> String {
    let lists: Vec<String> = c
        .lists
        .iter()
        .map(|l| {
            let curator = names
                .of(&l.owner.to_did_key())
                .map(|n| n.split(" (").next().unwrap_or(n).to_owned())
                .unwrap_or_default();
            format!("{} by {curator}", l.name)
        })
        .collect();
    format!(
        "subscribes to {}; group rules on; no trust path: collapse",
        lists.join(" and ")
    )
}

/// Submits each object to its origin's node, one thread per node, in the community's order.
/// Returns how many objects each node received.
fn submit_all(
    net: &Network,
    c: &Community,
    progress: &Progress,
    stop: &Stop,
) -> Result<Vec<usize>, DemoError> {
    let n = net.nodes.len();
    let mut per_node: Vec<Vec<&SignedObject>> = vec![Vec::new(); n];
    for (origin, obj) in &c.objects {
        per_node[node_of(*origin, n)].push(obj);
    }
    let counts: Vec<usize> = per_node.iter().map(Vec::len).collect();
    let pb = progress.bar(c.objects.len() as u64, "submit");
    std::thread::scope(|scope| {
        let handles: Vec<_> = per_node
            .iter()
            .enumerate()
            .map(|(index, objects)| {
                let api = net.nodes[index].api.clone();
                let pb = pb.clone();
                scope.spawn(move || -> Result<(), DemoError> {
                    for obj in objects {
                        stop.check()?;
                        let r = api.request(
                            "POST",
                            "/v1/objects?wait=false",
                            Some("application/vnd.ipld.dag-cbor"),
                            obj.bytes(),
                        )?;
                        if r.status != 200 {
                            return Err(DemoError::Refused {
                                index,
                                id: obj.id().to_string(),
                                status: r.status,
                                body: String::from_utf8_lossy(&r.body).into_owned(),
                            });
                        }
                        pb.inc(1);
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| {
                DemoError::Io(std::io::Error::other("a submitting thread panicked"))
            })??;
        }
        Ok::<(), DemoError>(())
    })?;
    pb.finish_and_clear();
    Ok(counts)
}

/// Waits until every node holds `total` objects.
fn await_converged(
    net: &mut Network,
    total: u64,
    timeout: Duration,
    progress: &Progress,
    stop: &Stop,
) -> Result<(), DemoError> {
    let start = Instant::now();
    let pb = progress.bar(total * net.nodes.len() as u64, "sync");
    loop {
        stop.check()?;
        net.check_alive()?;
        let mut held = Vec::new();
        for node in &net.nodes {
            held.push(node.status()?["objects"].as_u64().unwrap_or(0));
        }
        pb.set_position(held.iter().map(|h| (*h).min(total)).sum());
        if held.iter().all(|h| *h >= total) {
            pb.finish_and_clear();
            return Ok(());
        }
        if start.elapsed() > timeout {
            pb.finish_and_clear();
            let missing = held
                .iter()
                .enumerate()
                .filter(|(_, h)| **h < total)
                .map(|(i, h)| format!("node {i} is missing {} of {total} objects", total - h))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(DemoError::NotConverged {
                secs: timeout.as_secs(),
                missing,
            });
        }
        std::thread::sleep(POLL);
    }
}

/// Waits until the viewer node's engine applied every stored object, so that the viewer's
/// first view holds them all.
fn await_engine(
    net: &mut Network,
    index: usize,
    total: u64,
    timeout: Duration,
    stop: &Stop,
) -> Result<(), DemoError> {
    let start = Instant::now();
    loop {
        stop.check()?;
        net.check_alive()?;
        let s = get_json(&net.nodes[index].api, "/v1/status")?;
        let m = &s["metrics"];
        let applied = m["engine_objects_applied_total"].as_u64().unwrap_or(0)
            + m["engine_objects_undecodable_total"].as_u64().unwrap_or(0);
        if applied >= total {
            return Ok(());
        }
        if start.elapsed() > timeout {
            return Err(DemoError::NotConverged {
                secs: timeout.as_secs(),
                missing: format!("node {index}'s engine applied {applied} of {total} objects"),
            });
        }
        std::thread::sleep(POLL);
    }
}

/// Asks the viewer's node to decide the whole feed, with explanations.
fn decide_feed(
    api: &crate::client::Api,
    viewer: &str,
    c: &Community,
    names: &Names,
) -> Result<Vec<report::PostOutcome>, DemoError> {
    let mut out = Vec::with_capacity(c.feed.len());
    let by_id: std::collections::HashMap<_, _> =
        c.objects.iter().map(|(_, o)| (o.id(), o)).collect();
    for chunk in c.feed.chunks(json::MAX_DECIDE_ITEMS) {
        let path = format!("/v1/viewers/{viewer}/decide");
        let body = call_json(
            api,
            "POST",
            &path,
            &DecideRequest {
                items: chunk
                    .iter()
                    .map(|(id, _)| ItemJson {
                        post: Some(id.to_string()),
                        ..ItemJson::default()
                    })
                    .collect(),
                explain: true,
            },
            200,
        )?;
        let answer: DecideResponse = serde_json::from_slice(&body).map_err(|e| DemoError::Api {
            what: format!("POST {path}"),
            status: 200,
            body: format!("unreadable answer: {e}"),
        })?;
        if answer.decisions.len() != chunk.len() {
            return Err(DemoError::Api {
                what: format!("POST {path}"),
                status: 200,
                body: format!(
                    "{} decisions for {} items",
                    answer.decisions.len(),
                    chunk.len()
                ),
            });
        }
        for ((id, role), d) in chunk.iter().zip(&answer.decisions) {
            let d = match d {
                ItemResultJson::Decision(d) => d,
                ItemResultJson::Error { error } => {
                    return Err(DemoError::Api {
                        what: format!("deciding post {id}"),
                        status: 200,
                        body: format!("{}: {}", error.code, error.message),
                    })
                }
            };
            let (author, text) = match by_id.get(id).map(|o| (o.author(), o.body())) {
                Some((author, Body::Post(p))) => (*author, p.text.clone()),
                _ => {
                    return Err(DemoError::Api {
                        what: format!("deciding post {id}"),
                        status: 200,
                        body: "not a post of the community".into(),
                    })
                }
            };
            out.push(report::outcome(
                id.to_string(),
                &author,
                *role,
                text,
                d,
                names,
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_viewer_node_is_not_where_most_objects_go_and_history_fits() {
        let c = community::generate(0, 0).unwrap();
        for n in 2..=8 {
            let mut per = vec![0usize; n];
            for (o, _) in &c.objects {
                per[node_of(*o, n)] += 1;
            }
            let busiest = (0..n).max_by_key(|i| per[*i]).unwrap();
            assert_ne!(node_of(Origin::Viewer, n), busiest, "{n} nodes: {per:?}");
            assert!(per[node_of(Origin::Viewer, n)] > 0);
        }
        assert_eq!(node_of(Origin::Outside, 1), 0);
        // Objects are one second apart: the whole history fits in HISTORY_MS.
        let last = c.objects.last().unwrap().1.object().at;
        assert!(last < HISTORY_MS, "history of {last} ms");
    }

    #[test]
    fn the_viewer_policy_is_valid_and_subscribes_both_lists() {
        let c = community::generate(0, 0).unwrap();
        let p = viewer_policy(&c);
        let (policy, groups) = p.to_policy(c.viewer.public_key()).unwrap();
        assert_eq!(policy.lists.len(), 2);
        assert_eq!(groups, vec![c.group.clone()]);
        assert_eq!(policy.unknown_author, vouch_reputation::Verdict::Collapse);
        assert!(policy.group_rules && policy.protect_trusted);
    }
}
