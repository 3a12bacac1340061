//! End to end, real `vouch` processes on loopback: replication follows the viewers'
//! policies. Node B has a viewer whose policy subscribes a block list naming author X; X's
//! post published on node A is neither stored by B nor relayed by B to node C (connected
//! only to B), B's metrics and status say so, B's own clients may still submit X's posts,
//! and once the viewer is gone B fetches the post at its next catch-up. The control author Y
//! is one the viewer trusts: with a viewer, B admits only authors within its reach
//! (`specs/sync.md`, "Admission").
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/nodes.rs"]
mod nodes;

use std::sync::Arc;

use nodes::*;
use serde_json::{json, Value};
use vouch_identity::SecretKey;
use vouch_node::store::{self, Durability, StoreReader, StoreWriter};
use vouch_node::Metrics;
use vouch_reputation::{
    AttestBody, Body, ListAddBody, ListBody, ListPurpose, ListRef, Object, Subject,
};

fn did(k: &SecretKey) -> String {
    k.public_key().to_did_key()
}

fn submit_ok(node: &Node, obj: &vouch_reputation::SignedObject) {
    let r = node.submit(obj);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

fn sign(author: &SecretKey, body: Body) -> vouch_reputation::SignedObject {
    Object {
        author: author.public_key(),
        at: now_ms(),
        body,
    }
    .sign(author)
    .unwrap()
}

fn call(node: &Node, method: &str, path: &str, body: Value) -> (u16, Value) {
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        serde_json::to_vec(&body).unwrap()
    };
    let r = node
        .client()
        .request(method, path, Some("application/json"), &bytes)
        .unwrap();
    let v = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    (r.status, v)
}

/// Records `peer` as banned in the store of the node that will run on `dir`, so that node
/// neither dials it nor accepts its connections: the test's topology stays a chain.
fn preban(dir: &std::path::Path, peer: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let conn = store::open(dir, Durability::Normal).unwrap();
    let (writer, thread) = StoreWriter::spawn(conn, Arc::new(Metrics::default()));
    writer.ban_peer(
        peer.to_owned(),
        "test topology: reach this peer only through the middle node".into(),
        now_ms(),
    );
    drop(writer);
    thread.join().unwrap();
    let banned = StoreReader::open(dir).unwrap().banned_peers().unwrap();
    assert!(banned.iter().any(|p| p == peer), "{banned:?}");
}

fn metrics_text(node: &Node) -> String {
    String::from_utf8_lossy(&node.request("GET", "/metrics", &[]).body).into_owned()
}

#[test]
fn a_node_neither_stores_nor_relays_posts_its_viewers_policies_block() {
    let tmp = tempfile::tempdir().unwrap();
    // Catch-up every 2 s, so the test does not wait long for it.
    let a = Node::start(&tmp.path().join("a"), &["--resync-secs", "2"]);
    let a_id = a.peer_id();
    let a_addr = a.tcp_addr();
    let b = Node::start(
        &tmp.path().join("b"),
        &["--resync-secs", "2", "--bootstrap", a_addr.as_str()],
    );
    let b_id = b.peer_id();
    let b_addr = b.tcp_addr();
    let c_dir = tmp.path().join("c");
    preban(&c_dir, &a_id);
    let c = Node::start(
        &c_dir,
        &["--resync-secs", "2", "--bootstrap", b_addr.as_str()],
    );
    wait_until("A - B - C connected", || {
        let bc = b.connected();
        bc.contains(&a_id) && c.connected().contains(&b_id)
    });

    // B's viewer subscribes the curator's block list; the list names X (through B's API).
    let (viewer, curator, x, y) = (key(1), key(2), key(3), key(4));
    let (status, v) = call(
        &b,
        "POST",
        "/v1/viewers",
        json!({
            "viewer": did(&viewer),
            "policy": { "lists": [{ "list": format!("{}/spam", did(&curator)), "weight": 1.0 }] }
        }),
    );
    assert_eq!(status, 201, "{v}");
    let list = ListRef {
        owner: curator.public_key(),
        name: "spam".into(),
    };
    submit_ok(
        &b,
        &sign(
            &curator,
            Body::List(ListBody {
                name: "spam".into(),
                purpose: ListPurpose::Block,
                description: None,
                group: None,
                seq: 1,
            }),
        ),
    );
    submit_ok(
        &b,
        &sign(
            &curator,
            Body::ListAdd(ListAddBody {
                list,
                subject: Subject::Key(x.public_key()),
                reason: Some("spam".into()),
                category: None,
                expires: None,
            }),
        ),
    );
    // The viewer trusts Y, the control author: within its reach, Y's posts are admitted.
    submit_ok(
        &b,
        &sign(&viewer, Body::Attest(AttestBody::new(y.public_key(), 60))),
    );
    // The submit answers once the views reflect the list (bounded wait), and the filter
    // follows them before they are announced.
    wait_until("B's filter following the viewer's list", || {
        b.status()["replication"]["authors"]["policies"] == 1
    });
    let s = b.status();
    assert_eq!(s["replication"]["follow"], "all-viewers", "{s}");
    assert_eq!(s["replication"]["authors"]["policies"], 1, "{s}");
    assert_eq!(s["replication"]["authors"]["config"], 0, "{s}");
    assert_eq!(s["metrics"]["replication_authors_refused"], 1, "{s}");

    // X posts on A; then Y, as a control, also on A.
    let px = post(&x, "from a blocked author", false);
    submit_ok(&a, &px);
    wait_until("B refusing X's post", || {
        b.metric("objects_refused_blocked_author_total") >= 1
    });
    // B remembers the refusal: its catch-ups with A (every 2 s) do not fetch the post again,
    // so a peer cannot read B's viewers' blocks from what B re-fetches.
    // (A copy by gossip and one by a catch-up already under way may both be refused;
    // after that, none.)
    wait_until("B's catch-up skipping X's refused post", || {
        b.metric("sync_skipped_refused_total") >= 1
    });
    let refused = b.metric("objects_refused_blocked_author_total");
    let skipped = b.metric("sync_skipped_refused_total");
    wait_until("another catch-up skipping it", || {
        b.metric("sync_skipped_refused_total") > skipped
    });
    assert_eq!(b.metric("objects_refused_blocked_author_total"), refused);
    let py = post(&y, "control", false);
    submit_ok(&a, &py);
    wait_until("the control post on B and C", || {
        b.has(&py.id()) && c.has(&py.id())
    });

    // B stores neither X's post nor relays it: C, which reaches A only through B, lacks it.
    assert!(a.has(&px.id()));
    assert!(!b.has(&px.id()));
    assert!(!c.has(&px.id()));
    assert!(!c.connected().contains(&a_id));
    assert_eq!(b.metric("objects_refused_banned_in_group_total"), 0);
    assert!(b.metric("objects_refused_by_policy_total") >= 1);
    let text = metrics_text(&b);
    assert!(
        text.contains("\nvouch_replication_authors_policies 1\n"),
        "{text}"
    );
    assert!(text.contains("# TYPE vouch_objects_refused_blocked_author_total counter"));
    // The policies govern what B takes from the network; B's own clients may still submit
    // a post by X (only the config's rules apply to them), and the view hides it.
    let local = post(&x, "submitted by B's own client", false);
    submit_ok(&b, &local);
    assert!(b.has(&local.id()));
    let (status, d) = call(
        &b,
        "POST",
        &format!("/v1/viewers/{}/decide", did(&viewer)),
        json!({ "items": [{ "post": local.id().to_string() }] }),
    );
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["decisions"][0]["verdict"], "hide", "{d}");

    // The viewer leaves: nothing hides X any more, and B's next catch-up with A fetches the
    // post (a refusal is not a tombstone); C then gets it from B.
    let (status, _) = call(
        &b,
        "DELETE",
        &format!("/v1/viewers/{}", did(&viewer)),
        Value::Null,
    );
    assert_eq!(status, 204);
    let s = b.status();
    assert_eq!(s["replication"]["authors"]["policies"], 0, "{s}");
    assert_eq!(s["metrics"]["replication_authors_refused"], 0, "{s}");
    wait_until("X's post on B and C after the viewer left", || {
        b.has(&px.id()) && c.has(&px.id())
    });
}
