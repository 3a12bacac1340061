//! Upgrades: a real node opens data directories written by the releases whose store schema
//! was 1 (`tests/fixtures/db-v1`), 3 (`tests/fixtures/db-v3`) and 4 (`tests/fixtures/db-v4`),
//! all made by `tests/fixtures/make-db-v1.sh` with that release, and finds every object,
//! every viewer and every field of their policies, and (schema 4) every quarantined object,
//! now with the standing of a stranger; a viewer whose stored policy cannot be read is
//! reported and repairable, never silently dropped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/nodes.rs"]
mod nodes;

use std::path::{Path, PathBuf};

use nodes::*;
use serde_json::Value;

/// The store schema this release writes.
/// Schema 1 -> 2 (stored policies) -> 3 (the quarantine) -> 4 (the local credential tables)
/// -> 5 (the quarantine's standing).
const CURRENT: &str = "5";

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
    opens_with_every_object_viewer_and_policy(1, 8);
}

#[test]
fn a_schema_3_database_opens_with_every_object_viewer_and_policy() {
    opens_with_every_object_viewer_and_policy(3, 8);
}

/// The schema 4 release also published its keys' commitments (6 `incept` objects), and its
/// fixture holds 4 posts by two keys outside the viewers' reach in its quarantine.
#[test]
fn a_schema_4_database_opens_with_every_object_viewer_policy_and_quarantined_object() {
    opens_with_every_object_viewer_and_policy(4, 14);
}

/// The quarantine's rows as `(hex id, standing)`, sorted.
fn quarantine_rows(dir: &Path) -> Vec<(String, i64)> {
    let c = rusqlite::Connection::open(dir.join("vouch.sqlite")).unwrap();
    let mut stmt = c
        .prepare("SELECT lower(hex(id)), standing FROM quarantine ORDER BY 1")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows
}

/// Whether the eviction index of schema 5 is there.
fn has_eviction_index(dir: &Path) -> bool {
    let c = rusqlite::Connection::open(dir.join("vouch.sqlite")).unwrap();
    c.query_row(
        "SELECT count(*) FROM pragma_index_info('quarantine_eviction')",
        [],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
        == 2
}

fn opens_with_every_object_viewer_and_policy(version: u32, objects: u64) {
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

    // The quarantined objects the old release held (none before schema 4's fixture).
    let quarantined: Vec<String> = std::fs::read(fixture.join("quarantined.json"))
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap_or_default();
    assert_eq!(quarantined.is_empty(), version < 4);

    let mut node = Node::start(&dir, &[]);
    assert_eq!(node.status()["objects"], objects, "{}", node.status());
    assert_eq!(node.metric("quarantine_objects"), quarantined.len() as u64);
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
    // Every quarantined object is still held, as a stranger's (the lowest standing: evicted
    // first), and the eviction reads its index.
    let expected: Vec<(String, i64)> = quarantined.iter().map(|id| (id.clone(), 0)).collect();
    assert_eq!(quarantine_rows(&dir), expected);
    assert!(has_eviction_index(&dir));

    // Opened again: nothing moves (the migration ran once).
    let mut node = Node::start(&dir, &[]);
    let r = node.request("GET", &format!("/v1/viewers/{alice}/policy"), b"");
    assert_eq!(json(&r), alice_policy);
    assert_eq!(node.status()["objects"], objects);
    assert_eq!(node.metric("quarantine_objects"), quarantined.len() as u64);
    assert!(node.stop());
    assert_eq!(quarantine_rows(&dir), expected);
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
