//! Upgrades: a real node opens data directories written by the releases whose store schema
//! was 1 (`tests/fixtures/db-v1`) and 3 (`tests/fixtures/db-v3`), both made by
//! `tests/fixtures/make-db-v1.sh` with that release, and finds every object, every viewer and
//! every field of their policies; a viewer whose stored policy cannot be read is reported and
//! repairable, never silently dropped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/nodes.rs"]
mod nodes;

use std::path::{Path, PathBuf};

use nodes::*;
use serde_json::Value;

/// The store schema this release writes.
/// Schema 1 -> 2 (stored policies) -> 3 (the quarantine) -> 4 (the local credential tables).
const CURRENT: &str = "4";

fn fixture_of(version: u32) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/db-v{version}"))
}

fn fixture() -> PathBuf {
    fixture_of(1)
}

/// A copy of a fixture's data directory (the database only: the node makes its key).
fn copy_fixture_of(version: u32, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(
        fixture_of(version).join("vouch.sqlite"),
        dir.join("vouch.sqlite"),
    )
    .unwrap();
}

fn copy_fixture(dir: &Path) {
    copy_fixture_of(1, dir)
}

fn json(r: &vouch_node::client::HttpResponse) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

fn schema_version(dir: &Path) -> String {
    let c = rusqlite::Connection::open(dir.join("vouch.sqlite")).unwrap();
    c.query_row(
        "SELECT value FROM meta WHERE key = 'schema_version'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn a_schema_1_database_opens_with_every_object_viewer_and_policy() {
    opens_with_every_object_viewer_and_policy(1);
}

#[test]
fn a_schema_3_database_opens_with_every_object_viewer_and_policy() {
    opens_with_every_object_viewer_and_policy(3);
}

fn opens_with_every_object_viewer_and_policy(version: u32) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("node");
    copy_fixture_of(version, &dir);
    assert_eq!(schema_version(&dir), version.to_string());
    let fixture = fixture_of(version);
    let viewers: Value =
        serde_json::from_slice(&std::fs::read(fixture.join("viewers.json")).unwrap()).unwrap();
    let mut alice_policy: Value =
        serde_json::from_slice(&std::fs::read(fixture.join("alice-policy.json")).unwrap()).unwrap();
    // Fields added to the policy since release 0.1 read back with their defaults.
    alice_policy["verified_issuers"] = serde_json::json!([]);

    let mut node = Node::start(&dir, &[]);
    assert_eq!(node.status()["objects"], 8, "{}", node.status());
    assert_eq!(node.status()["viewers_unreadable"], serde_json::json!([]));
    let alice = viewers["alice"].as_str().unwrap();
    let bob = viewers["bob"].as_str().unwrap();

    let r = node.request("GET", &format!("/v1/viewers/{alice}/policy"), b"");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // Every field the old release stored, as it was given.
    assert_eq!(json(&r), alice_policy);

    // Bob was created with the defaults.
    let r = node.request("GET", &format!("/v1/viewers/{bob}/policy"), b"");
    assert_eq!(r.status, 200);
    let defaults = node.request(
        "POST",
        "/v1/viewers",
        br#"{"viewer": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}"#,
    );
    assert_eq!(
        defaults.status,
        201,
        "{}",
        String::from_utf8_lossy(&defaults.body)
    );
    assert_eq!(json(&r), json(&defaults)["policy"]);

    // Alice's compiled view is served.
    let r = node.request("GET", &format!("/v1/viewers/{alice}"), b"");
    assert_eq!(r.status, 200);
    assert_eq!(json(&r)["viewer"], alice);
    assert!(node.stop(), "the node stops cleanly");
    assert_eq!(schema_version(&dir), CURRENT);

    // Opened again: nothing moves (the migration ran once).
    let mut node = Node::start(&dir, &[]);
    let r = node.request("GET", &format!("/v1/viewers/{alice}/policy"), b"");
    assert_eq!(json(&r), alice_policy);
    assert_eq!(node.status()["objects"], 8);
    assert!(node.stop());
}

#[test]
fn an_unreadable_policy_is_reported_kept_and_repairable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("node");
    copy_fixture(&dir);
    let viewers: Value =
        serde_json::from_slice(&std::fs::read(fixture().join("viewers.json")).unwrap()).unwrap();
    let bob = viewers["bob"].as_str().unwrap();
    // Bob's format 1 policy is damaged: it does not parse as the old JSON.
    {
        let c = rusqlite::Connection::open(dir.join("vouch.sqlite")).unwrap();
        let n = c
            .execute("UPDATE viewers SET policy = '{\"lists\": 5}' WHERE policy LIKE '%\"budget_per_epoch\":100%'", [])
            .unwrap();
        assert_eq!(n, 1);
    }
    let mut node = Node::start(&dir, &[]);
    let status = node.status();
    let unreadable = status["viewers_unreadable"].as_array().unwrap();
    assert_eq!(unreadable.len(), 1, "{status}");
    assert_eq!(unreadable[0]["viewer"], bob);
    assert_eq!(unreadable[0]["code"], "policy-record-decode");
    assert_eq!(node.metric("engine_viewers_unreadable"), 1);
    assert!(node.log().contains("stored policy cannot be read"));

    // Not served, with a code that says why, and not creatable again.
    let r = node.request("GET", &format!("/v1/viewers/{bob}"), b"");
    assert_eq!(r.status, 500);
    assert_eq!(json(&r)["error"]["code"], "viewer-policy-unreadable");
    let r = node.request(
        "POST",
        &format!("/v1/viewers/{bob}/decide"),
        br#"{"items": []}"#,
    );
    assert_eq!(json(&r)["error"]["code"], "viewer-policy-unreadable");
    let r = node.request(
        "POST",
        "/v1/viewers",
        format!(r#"{{"viewer": "{bob}"}}"#).as_bytes(),
    );
    assert_eq!(r.status, 409);

    // Still there after a restart (kept, never dropped).
    assert!(node.stop());
    let mut node = Node::start(&dir, &[]);
    assert_eq!(node.metric("engine_viewers_unreadable"), 1);

    // A new policy repairs it.
    let r = node.request(
        "PUT",
        &format!("/v1/viewers/{bob}/policy"),
        br#"{"unknown_author": "collapse"}"#,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(node.metric("engine_viewers_unreadable"), 0);
    let r = node.request("GET", &format!("/v1/viewers/{bob}/policy"), b"");
    assert_eq!(json(&r)["unknown_author"], "collapse");
    assert!(node.stop());
}
