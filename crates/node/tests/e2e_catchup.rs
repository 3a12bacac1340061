//! End to end: first contact through a rendezvous point, then catch-up by reconciliation
//! with the rendezvous point gone: a node that was offline gets everything it missed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/nodes.rs"]
mod nodes;

use nodes::*;

#[test]
fn a_node_started_later_catches_up_without_the_rendezvous_point() {
    let tmp = tempfile::tempdir().unwrap();
    let g = group_arg();
    let mut rv = Rendezvous::start(&tmp.path().join("rv"));
    let a = Node::start(
        &tmp.path().join("a"),
        &["--group", &g, "--rendezvous", &rv.addr],
    );
    let author = key(11);
    let mut ids = Vec::new();
    for i in 0..10 {
        let p = post(&author, &format!("before first contact {i}"), i % 2 == 0);
        assert_eq!(a.submit(&p).status, 200);
        ids.push(p.id());
    }

    // First contact: C finds A only through the rendezvous point and catches up.
    let c_dir = tmp.path().join("c");
    let mut c = Node::start(&c_dir, &["--group", &g, "--rendezvous", &rv.addr]);
    wait_until("C has A's first ten objects", || {
        ids.iter().all(|id| c.has(id))
    });
    assert!(c.stop(), "clean shutdown on SIGTERM");

    // The rendezvous point goes away; A writes while C is offline: enough for several fetch
    // batches, which C's ingest pipeline verifies and commits overlapped.
    rv.kill();
    const OFFLINE: usize = 600;
    for i in 0..OFFLINE {
        let p = post(&author, &format!("while C was offline {i}"), i % 2 == 0);
        assert_eq!(a.submit(&p).status, 200);
        ids.push(p.id());
    }

    // C restarts, finds A among its known peers, reconciles per topic and fetches the rest.
    let c = Node::start(&c_dir, &["--group", &g, "--rendezvous", &rv.addr]);
    wait_until("C has everything it missed", || {
        ids.iter().all(|id| c.has(id))
    });
    assert!(c.metric("sync_objects_fetched_total") >= OFFLINE as u64);
    assert!(c.metric("sync_round_trips_total") >= 2);
    assert_eq!(c.status()["objects"].as_u64().unwrap(), 10 + OFFLINE as u64);
}
