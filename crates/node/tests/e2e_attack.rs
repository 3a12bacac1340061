//! The network under attack, with real processes: honest `vouch` nodes and a hostile peer
//! built for the test (`vouch_node::hostile`, libp2p directly; the many-peer-id attacker runs
//! as its own process in a network namespace). Each test attacks one defence and asserts
//! what must hold: no honest peer banned, honest objects delivered, the hostile peer
//! penalised or bounded, memory and disk within their bounds, the node still answering.
//!
//! The namespace test needs root and `ip` (iproute2); CI runs as root and `.ci/run` installs
//! iproute2. It fails, never skips, when they are missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/nodes.rs"]
mod nodes;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use libp2p::Multiaddr;
use nodes::*;
use serde_json::json;
use vouch_identity::SecretKey;
use vouch_node::hostile::{fresh_key_posts, Hostile, Lie};
use vouch_reputation::{AttestBody, Body, GroupRef, Object, PostBody, SignedObject};

/// The attacks are heavy: one at a time, so that each has the machine's two cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const SOCIAL: &str = "vouch/1/social";

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Starts a node whose data directory holds `config` (TOML) first.
fn start_with(dir: &std::path::Path, config: &str, extra: &[&str]) -> Node {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("config.toml"), config).unwrap();
    Node::start(dir, extra)
}

fn call(node: &Node, method: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
    let r = node.request(method, path, &serde_json::to_vec(&body).unwrap());
    assert!(
        r.status < 300,
        "{} {path}: {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
    serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null)
}

fn banned(node: &Node) -> Vec<String> {
    node.status()["banned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect()
}

fn tcp_target(node: &Node) -> Multiaddr {
    node.tcp_addr().parse().unwrap()
}

/// Peak resident memory of a process, KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

fn post_at(author: &SecretKey, text: &str, at: u64, group: Option<GroupRef>) -> SignedObject {
    Object {
        author: author.public_key(),
        at,
        body: Body::Post(PostBody {
            group,
            text: text.into(),
            ..Default::default()
        }),
    }
    .sign(author)
    .unwrap()
}

async fn hostile_on(victim: &Node, lie: Lie, topics: &[&str]) -> Hostile {
    let h = Hostile::start(&["/ip4/127.0.0.1/tcp/0".parse().unwrap()], lie)
        .await
        .unwrap();
    h.dial(tcp_target(victim)).await.unwrap();
    for t in topics {
        h.subscribe(t).await;
    }
    let start = Instant::now();
    for t in topics {
        while h.topic_peers(t).await == 0 {
            assert!(start.elapsed() < DEADLINE, "the victim never joined {t}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    h
}

#[test]
fn a_flood_from_100k_fresh_keys_is_quarantined_within_bounds_and_honest_objects_get_through() {
    let _one = serial();
    let tmp = tempfile::tempdir().unwrap();
    let (viewer, author) = (key(1), key(2));
    // A quarantine far smaller than the flood, and a rate limit the flood goes past.
    let config =
        "resync_secs = 5\n[net]\ngossip_rate_per_peer = 3000\ngossip_burst_per_peer = 6000\n\
                  [admission]\nquarantine_objects = 2000\nquarantine_per_author = 4\n";
    let honest = start_with(&tmp.path().join("honest"), config, &[]);
    let victim = start_with(
        &tmp.path().join("victim"),
        config,
        &["--bootstrap", &honest.tcp_addr()],
    );
    let honest_id = honest.peer_id();
    for n in [&honest, &victim] {
        call(
            n,
            "POST",
            "/v1/viewers",
            json!({ "viewer": viewer.public_key().to_did_key() }),
        );
        let attest = Object {
            author: viewer.public_key(),
            at: now_ms(),
            body: Body::Attest(AttestBody::new(author.public_key(), 80)),
        }
        .sign(&viewer)
        .unwrap();
        assert_eq!(n.submit(&attest).status, 200);
    }
    wait_until("victim connected to the honest node", || {
        victim.connected().contains(&honest_id)
    });

    let rt = runtime();
    let junk = fresh_key_posts(100_000, 1, now_ms(), None);
    let honest_posts: Vec<SignedObject> = (0..100)
        .map(|i| post_at(&author, &format!("honest {i}"), now_ms() + i, None))
        .collect();
    let sent = rt.block_on(async {
        let h = hostile_on(&victim, Lie::default(), &[SOCIAL]).await;
        let api = honest.client();
        let bytes: Vec<Vec<u8>> = honest_posts.iter().map(|p| p.bytes().to_vec()).collect();
        let publisher = tokio::task::spawn_blocking(move || {
            for b in bytes {
                let r = api
                    .request("POST", "/v1/objects?wait=false", None, &b)
                    .unwrap();
                assert_eq!(r.status, 200);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let mut sent = 0u64;
        for data in junk {
            let mut tries = 0;
            while !h.publish(SOCIAL, data.clone()).await && tries < 100 {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            sent += 1;
        }
        publisher.await.unwrap();
        // Let the victim work through what it received.
        tokio::time::sleep(Duration::from_secs(5)).await;
        sent
    });
    assert_eq!(sent, 100_000);
    // Every honest object reaches the victim (gossip, or catch-up for what the flood
    // crowded out).
    wait_until("every honest object on the victim", || {
        honest_posts.iter().all(|p| victim.has(&p.id()))
    });
    // No honest peer banned; the honest node still connected.
    assert!(banned(&victim).is_empty(), "{:?}", banned(&victim));
    assert!(victim.connected().contains(&honest_id));
    // The flood went to the quarantine, which stayed within its bound, and past the rate
    // limit nothing was even validated.
    let quarantined = victim.metric("quarantine_stored_total");
    let evicted = victim.metric("quarantine_evicted_total");
    let limited = victim.metric("gossip_rate_limited_total");
    assert!(quarantined > 2000, "quarantined {quarantined}");
    assert!(evicted > 0, "nothing evicted");
    assert!(victim.metric("quarantine_objects") <= 2000);
    // None of the junk entered the store or the engine: the store holds the two
    // attestations (one signed for each node), the honest posts and nothing else.
    assert!(
        victim.metric("objects_stored_total") <= 2 + 100,
        "stored {}",
        victim.metric("objects_stored_total")
    );
    // Memory and disk within bounds, and the node still answers.
    let rss = peak_rss_kib(victim.child.id());
    assert!(rss < 600 * 1024, "peak RSS {rss} KiB");
    let store: u64 = ["vouch.sqlite", "vouch.sqlite-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(victim.dir.join(f)).ok())
        .map(|m| m.len())
        .sum();
    assert!(store < 200 * 1024 * 1024, "store {store} bytes");
    assert_eq!(victim.request("GET", "/healthz", &[]).status, 200);
    eprintln!(
        "flood: quarantined {quarantined}, evicted {evicted}, rate-limited {limited}, peak RSS {} MiB, store {} MiB",
        rss / 1024,
        store / 1024 / 1024
    );
}

#[test]
fn objects_dated_just_under_the_skew_limit_do_not_make_honest_nodes_with_other_clocks_ban_each_other(
) {
    let _one = serial();
    let tmp = tempfile::tempdir().unwrap();
    // The relay's clock runs 2 minutes ahead of the victim's.
    let relay = {
        let dir = tmp.path().join("relay");
        std::fs::create_dir_all(&dir).unwrap();
        std::env::set_var(vouch_node::TEST_CLOCK_OFFSET_ENV, "120000");
        let n = Node::start(&dir, &["--resync-secs", "5"]);
        std::env::remove_var(vouch_node::TEST_CLOCK_OFFSET_ENV);
        n
    };
    let victim = Node::start(
        &tmp.path().join("victim"),
        &["--bootstrap", &relay.tcp_addr(), "--resync-secs", "5"],
    );
    let relay_id = relay.peer_id();
    wait_until("victim connected to the relay", || {
        victim.connected().contains(&relay_id)
    });
    // Dated 5 min 20 s ahead of true time: 3 min 20 s ahead of the relay's clock (within the
    // 5 minute skew), 5 min 20 s ahead of the victim's (beyond it, for 20 seconds).
    let at = now_ms() + 5 * 60_000 + 20_000;
    let posts: Vec<SignedObject> = (0..6)
        .map(|i| post_at(&key(3), &format!("early {i}"), at + i, None))
        .collect();
    let rt = runtime();
    rt.block_on(async {
        let h = hostile_on(&relay, Lie::default(), &[SOCIAL]).await;
        for p in &posts {
            assert!(h.publish(SOCIAL, p.bytes().to_vec()).await);
        }
        // The relay takes them and relays them to the victim, whose clock refuses them.
        let start = Instant::now();
        while !posts.iter().all(|p| relay.has(&p.id())) {
            assert!(start.elapsed() < DEADLINE, "the relay never stored them");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    wait_until("the victim ignoring them for its clock", || {
        victim.metric("gossip_ignored_clock_or_version_total") >= 1
    });
    // More than the fault threshold arrived from the relay: no fault counted, no ban.
    assert!(banned(&victim).is_empty(), "{:?}", banned(&victim));
    assert_eq!(victim.metric("peer_faults_total"), 0);
    assert!(victim.connected().contains(&relay_id));
    // Once the victim's clock allows them, catch-up brings them.
    wait_until(
        "the early objects on the victim once its clock allows",
        || posts.iter().all(|p| victim.has(&p.id())),
    );
    assert!(banned(&victim).is_empty());
    assert!(banned(&relay).is_empty());
}

#[test]
fn a_lying_catch_up_responder_is_cut_at_the_cap_penalised_and_banned() {
    let _one = serial();
    let tmp = tempfile::tempdir().unwrap();
    let honest = Node::start(&tmp.path().join("honest"), &["--resync-secs", "3"]);
    let victim = Node::start(
        &tmp.path().join("victim"),
        &["--bootstrap", &honest.tcp_addr(), "--resync-secs", "3"],
    );
    let honest_id = honest.peer_id();
    wait_until("victim connected to the honest node", || {
        victim.connected().contains(&honest_id)
    });
    let unasked: Vec<SignedObject> = (0..3)
        .map(|i| post_at(&key(4), &format!("unasked {i}"), now_ms(), None))
        .collect();
    let g = GroupRef {
        owner: key(9).public_key(),
        name: "elsewhere".into(),
    };
    let wrong_topic: Vec<SignedObject> = (0..3)
        .map(|i| post_at(&key(5), &format!("group {i}"), now_ms(), Some(g.clone())))
        .collect();
    let rt = runtime();
    let (inflated_id, wrong_id) = rt.block_on(async {
        // One liar claims 200,000 ids it does not have and answers fetches with objects
        // nobody asked for; another lists group posts as if they were social objects.
        let inflated = hostile_on(
            &victim,
            Lie {
                fake_ids: 200_000,
                listed: Vec::new(),
                unrequested: unasked.iter().map(|o| o.bytes().to_vec()).collect(),
            },
            &[],
        )
        .await;
        let wrong = hostile_on(
            &victim,
            Lie {
                fake_ids: 0,
                listed: wrong_topic.iter().map(|o| o.bytes().to_vec()).collect(),
                unrequested: Vec::new(),
            },
            &[],
        )
        .await;
        let ids = (inflated.peer_id().to_string(), wrong.peer_id().to_string());
        let start = Instant::now();
        while !(banned(&victim).contains(&ids.0) && banned(&victim).contains(&ids.1)) {
            assert!(
                start.elapsed() < DEADLINE,
                "liars not banned: {:?} (metrics {})",
                banned(&victim),
                victim.status()["metrics"]
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        ids
    });
    assert!(victim.metric("sync_ids_capped_total") >= 1);
    assert!(victim.metric("sync_unrequested_total") >= 3);
    for o in unasked.iter().chain(&wrong_topic) {
        assert!(!victim.has(&o.id()), "stored what a liar sent");
    }
    // The honest peer is untouched and its objects still arrive.
    let b = banned(&victim);
    assert!(b.contains(&inflated_id) && b.contains(&wrong_id) && !b.contains(&honest_id));
    let p = post(&key(6), "after the liars", false);
    assert_eq!(honest.submit(&p).status, 200);
    wait_until("an honest object on the victim", || victim.has(&p.id()));
    // The ban is recorded with its end, and survives a restart.
    let until = victim.status()["banned_until_ms"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(until.len(), 2);
    assert!(until.iter().all(|u| u.as_u64().unwrap() > now_ms()));
    let dir = victim.dir.clone();
    let mut victim = victim;
    assert!(victim.stop());
    let victim = Node::start(&dir, &["--resync-secs", "3"]);
    let b = banned(&victim);
    assert!(b.contains(&inflated_id) && b.contains(&wrong_id), "{b:?}");
    // Bans end: restarted with bans of one second, both have ended, and their rows go.
    let mut victim = victim;
    assert!(victim.stop());
    std::thread::sleep(Duration::from_millis(1100));
    let victim = start_with(&dir, "[net]\nban_secs = 1\n", &["--resync-secs", "3"]);
    assert!(banned(&victim).is_empty(), "{:?}", banned(&victim));
    wait_until("the ended bans' rows deleted", || {
        vouch_node::store::StoreReader::open(&dir)
            .unwrap()
            .banned_peers()
            .unwrap()
            .is_empty()
    });
}

#[test]
fn an_object_first_sent_on_the_wrong_topic_still_arrives_on_the_right_one() {
    let _one = serial();
    let tmp = tempfile::tempdir().unwrap();
    let g = group_arg();
    // No periodic catch-up during the test: only gossip can deliver the object.
    let honest = Node::start(
        &tmp.path().join("honest"),
        &["--group", &g, "--resync-secs", "3600"],
    );
    let victim = Node::start(
        &tmp.path().join("victim"),
        &[
            "--group",
            &g,
            "--bootstrap",
            &honest.tcp_addr(),
            "--resync-secs",
            "3600",
        ],
    );
    let honest_id = honest.peer_id();
    wait_until("victim connected to the honest node", || {
        victim.connected().contains(&honest_id)
    });
    let group_topic = victim.status()["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .find(|t| t.starts_with("vouch/1/group/"))
        .unwrap();
    let o = post(&key(7), "censor me", false);
    let rt = runtime();
    rt.block_on(async {
        let h = hostile_on(&victim, Lie::default(), &[&group_topic]).await;
        let before = victim.metric("gossip_ignored_total");
        // The attacker sees the object first (say, from its author's node) and sends it on
        // the group topic, where it does not belong.
        assert!(h.publish(&group_topic, o.bytes().to_vec()).await);
        let start = Instant::now();
        while victim.metric("gossip_ignored_total") <= before {
            assert!(
                start.elapsed() < DEADLINE,
                "the wrong-topic copy never arrived"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Ignored, not rejected: valid objects are not the relayer's fault.
        assert!(banned(&victim).is_empty());
        // Then the genuine copy comes by gossip on the social topic.
        assert_eq!(honest.submit(&o).status, 200);
        wait_until("the genuine copy on the victim", || victim.has(&o.id()));
        drop(h);
    });
    assert_eq!(victim.metric("sync_objects_fetched_total"), 0);
}

/// A network namespace with a veth pair: the namespace side has `10.213.<n>.2`, this side
/// `10.213.<n>.1`. Removed on drop.
struct Netns {
    name: String,
    host_if: String,
    ns_if: String,
    n: u8,
    pub here: String,
}

impl Netns {
    fn create(n: u8) -> Netns {
        let id = std::process::id() % 10_000;
        let name = format!("vouch-atk-{id}-{n}");
        let (host_if, ns_if) = (format!("va{id}x{n}"), format!("vb{id}x{n}"));
        let here = format!("10.213.{n}.1");
        let there = format!("10.213.{n}.2");
        let run = |args: &[&str]| {
            let out = std::process::Command::new("ip")
                .args(args)
                .output()
                .unwrap_or_else(|e| {
                    panic!("`ip` (iproute2) is needed for this test, as root: {e}")
                });
            assert!(
                out.status.success(),
                "ip {args:?}: {} (this test needs root)",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &name])
            .output();
        run(&["netns", "add", &name]);
        run(&[
            "link", "add", &host_if, "type", "veth", "peer", "name", &ns_if,
        ]);
        run(&["link", "set", &ns_if, "netns", &name]);
        run(&["addr", "add", &format!("{here}/24"), "dev", &host_if]);
        run(&["link", "set", &host_if, "up"]);
        run(&[
            "netns",
            "exec",
            &name,
            "ip",
            "addr",
            "add",
            &format!("{there}/24"),
            "dev",
            &ns_if,
        ]);
        run(&["netns", "exec", &name, "ip", "link", "set", &ns_if, "up"]);
        run(&["netns", "exec", &name, "ip", "link", "set", "lo", "up"]);
        Netns {
            name,
            host_if,
            ns_if,
            n,
            here,
        }
    }

    /// Gives the namespace `k` more addresses in its /24 (10.213.n.10 and up).
    fn add_addresses(&self, k: u8) -> Vec<String> {
        (0..k)
            .map(|i| {
                let a = format!("10.213.{}.{}", self.n, 10 + i);
                let out = std::process::Command::new("ip")
                    .args(["netns", "exec", &self.name, "ip", "addr", "add"])
                    .arg(format!("{a}/24"))
                    .args(["dev", &self.ns_if])
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{out:?}");
                a
            })
            .collect()
    }
}

/// An honest node and a victim listening on the host's end of `ns` (so an attacker in the
/// namespace reaches it from addresses of its own), connected to each other.
struct NsVictim {
    honest: Node,
    victim: Node,
    honest_id: String,
    /// The victim's listen address on the namespace's link.
    target: String,
}

impl NsVictim {
    fn start(dir: &std::path::Path, ns: &Netns, config: &str) -> NsVictim {
        let honest = Node::start(&dir.join("honest"), &[]);
        let victim = start_with(
            &dir.join("victim"),
            config,
            &[
                "--listen",
                &format!("/ip4/{}/tcp/0", ns.here),
                "--bootstrap",
                &honest.tcp_addr(),
            ],
        );
        let honest_id = honest.peer_id();
        wait_until("victim connected to the honest node", || {
            victim.connected().contains(&honest_id)
        });
        let target =
            std::fs::read_to_string(victim.dir.join(vouch_node::client::LISTEN_ADDRS_FILE))
                .unwrap()
                .lines()
                .find(|l| l.contains(&ns.here))
                .unwrap()
                .to_owned();
        NsVictim {
            honest,
            victim,
            honest_id,
            target,
        }
    }
}

/// The attacker of the prefix test: raw TCP connections from each source address, held
/// open without a handshake; prints how many the node closed (refused) while held.
const HOLD_CONNECTIONS_PY: &str = r#"
import json, socket, sys, time
target, port, per, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
socks = []
for src in sys.argv[5:]:
    for _ in range(per):
        s = socket.socket()
        s.bind((src, 0))
        s.settimeout(5)
        s.connect((target, port))
        socks.append(s)
time.sleep(hold)
closed = 0
for s in socks:
    s.setblocking(False)
    try:
        if s.recv(1) == b"":
            closed += 1
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
print(json.dumps({"opened": len(socks), "closed": closed}))
"#;

/// Many addresses of one network (an IPv4 /24 here; an IPv6 /64 counts the same way): each
/// stays under the per-address limit, the prefix's limit stops them together, and the
/// honest peer (another network) is still served.
#[test]
fn twenty_addresses_of_one_network_share_one_prefix_limit() {
    let _one = serial();
    let ns = Netns::create(8);
    let sources = ns.add_addresses(20);
    let tmp = tempfile::tempdir().unwrap();
    let NsVictim {
        honest,
        victim,
        honest_id,
        target,
    } = NsVictim::start(
        tmp.path(),
        &ns,
        "[net]\nmax_connections_per_ip = 8\nmax_connections_per_prefix = 32\n",
    );
    let port = target
        .split("/tcp/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    // 20 addresses x 8 connections: each address at the per-address limit, 160 in all.
    let out = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.name,
            "python3",
            "-c",
            HOLD_CONNECTIONS_PY,
        ])
        .args([ns.here.as_str(), port, "8", "3"])
        .args(&sources)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["opened"], 160, "{report}");
    // Beyond 32 for the /24, refused before any handshake: closed under the attacker.
    let by_prefix = victim.metric("net_prefix_limit_refused_total");
    assert!(
        by_prefix >= 100,
        "refused for the prefix: {by_prefix}, {report}"
    );
    assert!(report["closed"].as_u64().unwrap() >= 100, "{report}");
    assert_eq!(victim.metric("net_ip_limit_refused_total"), 0);
    // The honest peer is still connected and served.
    assert!(victim.connected().contains(&honest_id));
    let p = post(&key(9), "after the crowd", false);
    assert_eq!(honest.submit(&p).status, 200);
    wait_until("an honest object on the victim", || victim.has(&p.id()));
    eprintln!("prefix: {report}, refused for the prefix {by_prefix}");
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["link", "del", &self.host_if])
            .output();
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

#[test]
fn a_thousand_peer_ids_from_one_address_get_a_bounded_share_of_the_node() {
    let _one = serial();
    let ns = Netns::create(7);
    let tmp = tempfile::tempdir().unwrap();
    let NsVictim {
        honest,
        victim,
        honest_id,
        target,
    } = NsVictim::start(tmp.path(), &ns, "[net]\nmax_connections_per_ip = 8\n");
    // The attacker: its own process, in the namespace, so all its connections come from
    // one address that is not the honest node's.
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(env!("CARGO_BIN_EXE_vouch"))
        .args([
            "bench",
            "attack",
            "sybil",
            "--target",
            &target,
            "--ids",
            "1000",
            "--parallel",
            "40",
            "--hold-ms",
            "1500",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["tried"], 1000);
    // Most were refused before any handshake; the node counted them.
    assert!(report["refused"].as_u64().unwrap() > 0, "{report}");
    assert!(victim.metric("net_ip_limit_refused_total") > 0);
    // Its per-peer state stayed bounded.
    let reader = vouch_node::store::StoreReader::open(&victim.dir).unwrap();
    assert!(reader.n_known_peers().unwrap() <= 1024);
    // The honest peer is still there, unbanned, and its objects arrive.
    assert!(victim.connected().contains(&honest_id));
    assert!(banned(&victim).is_empty());
    let p = post(&key(8), "still here", false);
    assert_eq!(honest.submit(&p).status, 200);
    wait_until("an honest object on the victim", || victim.has(&p.id()));
    let rss = peak_rss_kib(victim.child.id());
    assert!(rss < 400 * 1024, "peak RSS {rss} KiB");
    eprintln!("sybils: {report}, victim peak RSS {} MiB", rss / 1024);
}

#[test]
fn a_newcomer_is_quarantined_until_someone_within_reach_vouches_for_it() {
    let _one = serial();
    let tmp = tempfile::tempdir().unwrap();
    // H has no viewer (a relay: it admits everyone); V has one, so admission is on there.
    let h = Node::start(&tmp.path().join("relay"), &["--resync-secs", "3600"]);
    let v = Node::start(
        &tmp.path().join("viewer-node"),
        &["--bootstrap", &h.tcp_addr(), "--resync-secs", "3600"],
    );
    let h_id = h.peer_id();
    wait_until("connected", || v.connected().contains(&h_id));
    let (viewer, newcomer) = (key(11), key(12));
    call(
        &v,
        "POST",
        "/v1/viewers",
        json!({ "viewer": viewer.public_key().to_did_key() }),
    );
    wait_until("admission in force on V", || {
        v.metric("admission_authors") >= 1
    });
    // The newcomer's first post reaches V by gossip: V holds it in quarantine, not in its
    // store, and does not relay it.
    let first = post(&newcomer, "hello, I am new here", false);
    assert_eq!(h.submit(&first).status, 200);
    wait_until("the newcomer's post in V's quarantine", || {
        v.metric("quarantine_stored_total") >= 1
    });
    assert!(!v.has(&first.id()));
    assert_eq!(v.metric("quarantine_objects"), 1);
    // The viewer vouches for the newcomer: it comes within reach and its quarantined post
    // moves into the store.
    let vouch = Object {
        author: viewer.public_key(),
        at: now_ms(),
        body: Body::Attest(AttestBody::new(newcomer.public_key(), 50)),
    }
    .sign(&viewer)
    .unwrap();
    assert_eq!(v.submit(&vouch).status, 200);
    wait_until("the newcomer's post promoted on V", || v.has(&first.id()));
    assert!(v.metric("quarantine_promoted_total") >= 1);
    assert_eq!(v.metric("quarantine_objects"), 0);
    // From now on its posts are stored and relayed directly.
    let second = post(&newcomer, "thanks", false);
    assert_eq!(h.submit(&second).status, 200);
    wait_until("the newcomer's next post on V", || v.has(&second.id()));
}
