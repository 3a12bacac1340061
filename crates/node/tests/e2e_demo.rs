//! End to end: the real `vouch demo` (child nodes, gossip between processes, the sidecar API)
//! and the example client `examples/filter_feed.py` run against the network it keeps.
//! The demo's JSON is checked against the generated community (same seed, same keys): every
//! honest post shown, the swarm collapsed or hidden, the troll hidden by the list (named with
//! its curator) and by the group's ban, the summary equal to a recount of the posts, every
//! node holding every object, and the nodes stopped and the folder removed at the end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use vouch_node::demo::community::{self, Community, HONEST, SWARM, SWARM_LISTED};
use vouch_node::{group_str, list_str};

fn vouch() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vouch"))
}

fn did_named(c: &Community, name: &str) -> String {
    c.names
        .iter()
        .find(|(_, n)| n.as_str() == name)
        .map(|(k, _)| k.to_did_key())
        .unwrap_or_else(|| panic!("no key named {name}"))
}

fn reason<'a>(post: &'a Value, code: &str) -> &'a Value {
    post["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == code)
        .unwrap_or_else(|| panic!("no {code} reason in {post}"))
}

fn codes(post: &Value) -> Vec<&str> {
    post["reason_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect()
}

/// Checks a demo report against the community generated from the same seed.
fn check_report(r: &Value, seed: u64, n_nodes: usize) {
    // Keys and roles depend on the seed only; the demo dated the objects itself.
    let c = community::generate(seed, 0).unwrap();
    let total = c.objects.len() as u64;
    assert_eq!(r["objects"].as_u64().unwrap(), total);
    assert_eq!(r["group"], group_str(&c.group));
    assert_eq!(r["viewer"], c.viewer.public_key().to_did_key());

    // Every node holds every object; each received only part of them through its API.
    let nodes = r["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), n_nodes);
    let mut submitted = 0;
    for n in nodes {
        assert_eq!(n["objects"].as_u64().unwrap(), total, "{n}");
        submitted += n["submitted"].as_u64().unwrap();
        assert!(n["submitted"].as_u64().unwrap() < total, "{n}");
        // What was not submitted to a node arrived over the network.
        assert!(
            n["by_gossip"].as_u64().unwrap() + n["by_catch_up"].as_u64().unwrap()
                >= total - n["submitted"].as_u64().unwrap(),
            "{n}"
        );
    }
    assert_eq!(submitted, total);
    let viewer_node = &nodes[r["viewer_node"].as_u64().unwrap() as usize];
    let busiest = nodes
        .iter()
        .map(|n| n["submitted"].as_u64().unwrap())
        .max()
        .unwrap();
    assert!(viewer_node["submitted"].as_u64().unwrap() < busiest);

    // The feed, in the community's order.
    let posts = r["posts"].as_array().unwrap();
    assert_eq!(posts.len(), c.feed.len());
    for (p, (_, role)) in posts.iter().zip(&c.feed) {
        assert_eq!(p["role"], role.as_str(), "{p}");
    }
    let spam_list = list_str(&c.lists[0]);
    let troll_list = list_str(&c.lists[1]);
    let cleo = did_named(&c, "cleo (curator)");
    let dan = did_named(&c, "dan (curator)");
    let mo = did_named(&c, "mo (moderator)");
    let mut swarm_seen = 0;
    for p in posts {
        match p["role"].as_str().unwrap() {
            "honest" => {
                assert_eq!(p["verdict"], "show", "{p}");
                assert!(codes(p).contains(&"author-trusted"), "{p}");
            }
            "mislisted-friend" => {
                // The viewer attested this friend: the spam list only warns.
                assert_eq!(p["verdict"], "warn", "{p}");
                assert!(codes(p).contains(&"trusted-protected"), "{p}");
                let l = reason(p, "list-block");
                assert_eq!(l["list"], spam_list.as_str());
            }
            "troll" => {
                assert_eq!(p["verdict"], "hide", "{p}");
                let l = reason(p, "list-block");
                assert_eq!(l["effect"], "hide");
                assert_eq!(l["list"], troll_list.as_str());
                assert_eq!(l["curator"], dan.as_str());
                assert_eq!(l["curator_name"], "dan (curator)");
                assert!(l["sentence"].as_str().unwrap().contains("known-trolls"));
                assert!(l["sentence"].as_str().unwrap().contains("dan"));
                let b = reason(p, "group-ban");
                assert_eq!(b["effect"], "hide");
                assert_eq!(b["actor"], mo.as_str());
                assert_eq!(b["note"], "repeated insults after two warnings");
                assert_eq!(b["group"], group_str(&c.group));
            }
            "rude" => {
                assert_ne!(p["verdict"], "show", "{p}");
                assert_ne!(p["verdict"], "warn", "{p}");
            }
            "spam" => {
                // The first keys are on spam-watch: hidden, the list and curator named;
                // the rest are fresh keys nobody vouches for: collapsed.
                if swarm_seen < SWARM_LISTED {
                    assert_eq!(p["verdict"], "hide", "{p}");
                    let l = reason(p, "list-block");
                    assert_eq!(l["list"], spam_list.as_str());
                    assert_eq!(l["curator"], cleo.as_str());
                } else {
                    assert_eq!(p["verdict"], "collapse", "{p}");
                    assert!(codes(p).contains(&"author-unknown"), "{p}");
                }
                swarm_seen += 1;
            }
            other => panic!("unknown role {other}"),
        }
    }
    assert_eq!(swarm_seen, SWARM);

    // The summary is the recount of the posts.
    let s = &r["summary"];
    let mut verdicts: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_role: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for p in posts {
        let v = p["verdict"].as_str().unwrap().to_owned();
        *verdicts.entry(v.clone()).or_default() += 1;
        *by_role
            .entry(p["role"].as_str().unwrap().to_owned())
            .or_default()
            .entry(v)
            .or_default() += 1;
    }
    for v in ["show", "warn", "collapse", "hide"] {
        assert_eq!(
            s["verdicts"][v].as_u64().unwrap(),
            verdicts.get(v).copied().unwrap_or(0),
            "{v}"
        );
        for (role, counts) in &by_role {
            assert_eq!(
                s["by_role"][role][v].as_u64().unwrap(),
                counts.get(v).copied().unwrap_or(0),
                "{role} {v}"
            );
        }
    }
    assert_eq!(s["posts"].as_u64().unwrap(), posts.len() as u64);
    assert_eq!(s["visible"].as_u64().unwrap(), HONEST as u64);
    // spam-watch decided the listed swarm keys (hidden) and the listed friend (warned).
    assert_eq!(
        s["by_list"]["spam-watch"].as_u64().unwrap(),
        SWARM_LISTED as u64 + 1
    );
    assert_eq!(s["bans_without_effect"].as_u64().unwrap(), 1);
    assert_eq!(s["by_list"]["known-trolls"].as_u64().unwrap(), 3);
    // The swarm's down-votes on an honest post weigh nothing.
    assert!(s["votes_ignored"].as_u64().unwrap() >= SWARM as u64, "{s}");
}

#[test]
fn demo_json_shows_what_a_viewer_sees_with_and_without_vouch() {
    let out = vouch()
        .args(["demo", "--json", "--seed", "3"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let r: Value = serde_json::from_str(stdout.trim()).unwrap();
    check_report(&r, 3, 3);
    // Stopped as Ctrl-C stops a node, and the folder removed.
    assert_eq!(r["kept"], false);
    assert_eq!(r["stopped_cleanly"], true, "{stderr}");
    assert!(!Path::new(r["data_dir"].as_str().unwrap()).exists());
}

/// A `vouch demo --keep` child: SIGTERM and a bounded wait when dropped, so its nodes stop.
struct KeptDemo {
    child: Child,
    dir: Option<PathBuf>,
}

impl KeptDemo {
    fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for KeptDemo {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

#[test]
fn demo_keep_serves_the_example_client_until_sigterm() {
    let child = vouch()
        .args(["demo", "--json", "--keep", "--nodes", "2", "--seed", "5"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut demo = KeptDemo { child, dir: None };
    let mut line = String::new();
    BufReader::new(demo.child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    if line.trim().is_empty() {
        let mut err = String::new();
        let _ = demo.child.stderr.take().unwrap().read_to_string(&mut err);
        panic!("the demo printed nothing: {err}");
    }
    let r: Value = serde_json::from_str(line.trim()).unwrap();
    demo.dir = Some(PathBuf::from(r["data_dir"].as_str().unwrap()));
    check_report(&r, 5, 2);
    assert_eq!(r["kept"], true);
    assert!(r["stopped_cleanly"].is_null());

    // The example client, against the viewer's node the demo keeps running.
    let viewer_node = &r["nodes"][r["viewer_node"].as_u64().unwrap() as usize];
    let api = viewer_node["api"].as_str().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // The example reads the viewer's own token, which the demo created: it may decide for
    // this viewer only.
    let token_file = Path::new(r["viewer_token_file"].as_str().unwrap());
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(token_file).unwrap().permissions()
        ) & 0o777,
        0o600
    );
    let out = Command::new("python3")
        .arg(root.join("examples/filter_feed.py"))
        .args([
            api,
            r["viewer"].as_str().unwrap(),
            r["feed_file"].as_str().unwrap(),
        ])
        .env_remove("VOUCH_API_TOKEN")
        .env("VOUCH_API_TOKEN_FILE", token_file)
        .output()
        .expect("python3 runs");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let posts = r["posts"].as_array().unwrap();
    let visible: BTreeSet<&str> = posts
        .iter()
        .filter(|p| p["verdict"] == "show" || p["verdict"] == "warn")
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    let mut kept = BTreeSet::new();
    let mut dropped = BTreeMap::new();
    for l in text.lines() {
        let mut words = l.splitn(3, ' ');
        match (words.next(), words.next(), words.next()) {
            (Some("keep"), Some(cid), _) => {
                kept.insert(cid);
            }
            (Some("drop"), Some(cid), Some(why)) => {
                dropped.insert(cid, why);
            }
            _ => {}
        }
    }
    assert_eq!(kept, visible, "{text}");
    assert_eq!(kept.len() + dropped.len(), posts.len(), "{text}");
    for p in posts {
        let id = p["id"].as_str().unwrap();
        if let Some(why) = dropped.get(id) {
            // "hide: Banned from group ... On block list 'known-trolls' by did:key:…"
            assert!(why.starts_with(p["verdict"].as_str().unwrap()), "{why}");
            if p["role"] == "troll" {
                assert!(why.contains("known-trolls"), "{why}");
                assert!(why.contains("Banned from group 'gardening'"), "{why}");
            }
            if p["role"] == "spam" && p["verdict"] == "collapse" {
                assert!(why.contains("no trust path"), "{why}");
            }
        }
    }
    assert!(
        text.trim_end()
            .ends_with(&format!("kept {} of {}", visible.len(), posts.len())),
        "{text}"
    );

    // SIGTERM: the demo stops its nodes and exits 0; the folder stays.
    let apis: Vec<String> = r["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            n["api"]
                .as_str()
                .unwrap()
                .trim_start_matches("http://")
                .to_owned()
        })
        .collect();
    let status = demo.terminate().expect("the demo exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    for a in &apis {
        assert!(
            std::net::TcpStream::connect(a.as_str()).is_err(),
            "a node still answers on {a}"
        );
    }
    assert!(Path::new(r["feed_file"].as_str().unwrap()).exists());
}
