//! End to end: every object a node acknowledged survives `kill -9` at random moments during
//! a stream of writes, and the database stays consistent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/nodes.rs"]
mod nodes;

use nodes::*;
use rand::{Rng, SeedableRng};
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
    const KILLS: usize = 12;
    for round in 0..KILLS {
        let mut node = Node::start(&dir, &[]);
        let before = acked.lock().unwrap().len();
        let stop = Arc::new(AtomicBool::new(false));
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
        node.kill9();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
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
    assert!(node.stop(), "clean shutdown on SIGTERM");
    assert_eq!(vouch_node::store::integrity_check(&dir).unwrap(), "ok");
}
