//! End to end: every object, viewer and policy a node acknowledged survives `kill -9` at
//! random moments during a stream of writes, and the database stays consistent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/nodes.rs"]
mod nodes;

use nodes::*;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vouch_reputation::ObjectId;

#[test]
fn acknowledged_objects_survive_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("node");
    let acked: Arc<Mutex<Vec<ObjectId>>> = Arc::default();
    let counter = Arc::new(AtomicU64::new(0));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let author = key(9);
    // Per viewer: the policy versions written, and the last one acknowledged.
    let policies: Arc<Mutex<Policies>> = Arc::default();
    const KILLS: usize = 12;
    for round in 0..KILLS {
        let mut node = Node::start(&dir, &[]);
        policies.lock().unwrap().check(&node, round);
        let before = acked.lock().unwrap().len();
        let stop = Arc::new(AtomicBool::new(false));
        let viewer_writer = {
            let (policies, stop, counter) = (policies.clone(), stop.clone(), counter.clone());
            let api = node.client();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let viewer = key(100 + (n % 5) as u8).public_key().to_did_key();
                    let policy =
                        serde_json::json!({ "label_verdicts": { format!("v{n}"): "warn" } });
                    let known = policies.lock().unwrap().attempt(&viewer, n);
                    let (method, path, body) = if known {
                        (
                            "PUT",
                            format!("/v1/viewers/{viewer}/policy"),
                            policy.to_string(),
                        )
                    } else {
                        let body = serde_json::json!({ "viewer": viewer, "policy": policy });
                        ("POST", "/v1/viewers".to_owned(), body.to_string())
                    };
                    match api.request(method, &path, Some("application/json"), body.as_bytes()) {
                        Ok(r) if r.status == 200 || r.status == 201 => {
                            policies.lock().unwrap().acked(&viewer, n)
                        }
                        // Created before a crash without its answer: change it from now on.
                        Ok(r) if r.status == 409 => policies.lock().unwrap().exists(&viewer),
                        Ok(r) => panic!(
                            "unexpected answer {}: {}",
                            r.status,
                            String::from_utf8_lossy(&r.body)
                        ),
                        Err(_) => break,
                    }
                }
            })
        };
        // Two clients writing concurrently, so commits are batched when the kill lands.
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let (acked, counter, stop, author) =
                    (acked.clone(), counter.clone(), stop.clone(), author.clone());
                let api = node.client();
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let n = counter.fetch_add(1, Ordering::Relaxed);
                        let obj = post(&author, &format!("write {n}"), false);
                        match api.request("POST", "/v1/objects", None, obj.bytes()) {
                            Ok(r) if r.status == 200 => acked.lock().unwrap().push(obj.id()),
                            Ok(r) => panic!("unexpected answer {}", r.status),
                            Err(_) => break, // the node was killed mid-request
                        }
                    }
                })
            })
            .collect();
        wait_until("some writes acknowledged", || {
            acked.lock().unwrap().len() > before
        });
        std::thread::sleep(Duration::from_millis(rng.gen_range(0..400)));
        wait_until("a policy acknowledged", || {
            policies.lock().unwrap().acked_in_round(round)
        });
        node.kill9();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
        viewer_writer.join().unwrap();
        policies.lock().unwrap().next_round();
        // After the crash: the database is consistent and holds every acknowledged object.
        assert_eq!(
            vouch_node::store::integrity_check(&dir).unwrap(),
            "ok",
            "round {round}"
        );
        let reader = vouch_node::store::StoreReader::open(&dir).unwrap();
        let acked_now = acked.lock().unwrap().clone();
        let missing: Vec<_> = acked_now
            .iter()
            .filter(|id| !reader.contains(id).unwrap())
            .collect();
        assert!(
            missing.is_empty(),
            "round {round}: lost {} acknowledged objects",
            missing.len()
        );
    }
    let total = acked.lock().unwrap().len();
    assert!(total >= KILLS, "only {total} writes acknowledged");

    // Derived state rebuilds from the objects, and a clean restart serves them all.
    let report = vouch_node::store::rebuild(&dir).unwrap();
    assert_eq!(report.invalid, 0);
    assert!(report.objects as usize >= total);
    let mut node = Node::start(&dir, &[]);
    for id in acked.lock().unwrap().iter().take(50) {
        assert!(node.has(id));
    }
    let checked = policies.lock().unwrap().check(&node, KILLS);
    assert_eq!(checked, 5, "every viewer written survived");
    assert!(node.stop(), "clean shutdown on SIGTERM");
    assert_eq!(vouch_node::store::integrity_check(&dir).unwrap(), "ok");
}

/// The policies written to each viewer, in order, and how far each was acknowledged.
#[derive(Default)]
struct Policies {
    /// viewer -> versions written (their `n`), in order.
    written: HashMap<String, Vec<u64>>,
    /// viewer -> the last acknowledged version.
    acked: HashMap<String, u64>,
    /// Viewers known to exist without an acknowledged write.
    existing: std::collections::HashSet<String>,
    round_acks: usize,
}

impl Policies {
    /// Records an attempt; whether the viewer exists already (was created and acknowledged).
    fn attempt(&mut self, viewer: &str, n: u64) -> bool {
        self.written.entry(viewer.to_owned()).or_default().push(n);
        self.acked.contains_key(viewer) || self.existing.contains(viewer)
    }

    fn exists(&mut self, viewer: &str) {
        self.existing.insert(viewer.to_owned());
    }

    fn acked(&mut self, viewer: &str, n: u64) {
        self.acked.insert(viewer.to_owned(), n);
        self.round_acks += 1;
    }

    fn acked_in_round(&self, _round: usize) -> bool {
        self.round_acks > 0
    }

    fn next_round(&mut self) {
        self.round_acks = 0;
    }

    /// After a crash: every acknowledged viewer is there, with the acknowledged policy or
    /// one written after it (a write may land without its answer). Returns the viewers seen.
    fn check(&self, node: &Node, round: usize) -> usize {
        for (viewer, n) in &self.acked {
            let r = node.request("GET", &format!("/v1/viewers/{viewer}/policy"), &[]);
            assert_eq!(r.status, 200, "round {round}: viewer {viewer} lost");
            let policy: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            let stored: u64 = policy["label_verdicts"]
                .as_object()
                .and_then(|m| m.keys().next())
                .and_then(|k| k.strip_prefix('v'))
                .and_then(|k| k.parse().ok())
                .unwrap_or_else(|| panic!("round {round}: unexpected policy {policy}"));
            let versions = &self.written[viewer];
            let acked_at = versions.iter().position(|v| v == n).unwrap();
            let stored_at = versions.iter().position(|v| *v == stored);
            assert!(
                stored_at.is_some_and(|s| s >= acked_at),
                "round {round}: viewer {viewer} has policy v{stored}, acknowledged v{n}"
            );
        }
        self.acked.len()
    }
}
