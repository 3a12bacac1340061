//! End to end: the signing commands submit to a real `vouch node run`, the node's refusals
//! come back as exit code 1, and objects travel between nodes as CAR files
//! (`vouch export` / `vouch import`, through a node and into a stopped node's data dir).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/nodes.rs"]
mod nodes;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

use nodes::*;
use vouch_node::car::{CarReader, CarWriter};
use vouch_reputation::ObjectId;

fn run(home: &Path, data_dir: &Path, args: &[&str]) -> Output {
    vouch()
        .args(args)
        .env("VOUCH_HOME", home)
        .env("VOUCH_DATA_DIR", data_dir)
        .env_remove("VOUCH_KEY")
        .env_remove("VOUCH_KEY_DIR")
        .env_remove("VOUCH_NODE")
        .output()
        .unwrap()
}

fn ok(home: &Path, data_dir: &Path, args: &[&str]) -> String {
    let out = run(home, data_dir, args);
    assert!(
        out.status.success(),
        "vouch {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn car_ids(path: &Path) -> Vec<ObjectId> {
    let mut r = CarReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut ids = Vec::new();
    while let Some((cid, data)) = r.next_block().unwrap() {
        ids.push(vouch_node::car::check_block(&cid, &data).unwrap());
    }
    ids
}

#[test]
fn signing_commands_submit_and_cars_carry_objects_between_nodes() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let a_dir = tmp.path().join("a");
    let blocked = vouch_identity::SecretKey::from_seed(&[77; 32]).public_key();
    let a = Node::start(&a_dir, &["--block-author", &blocked.to_did_key()]);

    // Each key's commitment to its next key (`incept`) goes to the node too.
    let mut commitments = Vec::new();
    for name in ["owner", "bob"] {
        let made = ok(&home, &a_dir, &["key", "new", name, "--json"]);
        let v: serde_json::Value = serde_json::from_str(made.trim()).unwrap();
        assert_eq!(v["published"], true, "{v}");
        commitments.push(v["incept"].as_str().unwrap().parse::<ObjectId>().unwrap());
    }
    // Submitted to the node found on VOUCH_DATA_DIR: both objects of `group create` land.
    let created = ok(
        &home,
        &a_dir,
        &["group", "create", "--key", "owner", "club", "--json"],
    );
    let mut ids = Vec::new();
    for line in created.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["submitted"]["new"], true, "{line}");
        ids.push(v["cid"].as_str().unwrap().parse::<ObjectId>().unwrap());
    }
    assert_eq!(ids.len(), 2);
    let post = ok(&home, &a_dir, &["post", "--key", "bob", "hello"]);
    ids.push(post.trim().parse().unwrap());
    let ban = ok(
        &home,
        &a_dir,
        &[
            "group",
            "ban",
            "--key",
            "owner",
            "--group",
            "club",
            "bob",
            "--node",
            &format!("http://{}", a.api),
        ],
    );
    ids.push(ban.trim().parse().unwrap());
    let moderator = ok(
        &home,
        &a_dir,
        &["group", "moderator", "add", "--key", "owner", "club", "bob"],
    );
    ids.push(moderator.trim().parse().unwrap());
    ids.extend(commitments);
    for id in &ids {
        assert!(a.has(id), "node has {id}");
    }

    // A post the node refuses (blocked author): exit code 1 with the node's code, and the
    // object is not stored.
    let sk_path = home.join("keys").join("blocked.key");
    vouch_identity::write_key_file(&sk_path, &vouch_identity::SecretKey::from_seed(&[77; 32]))
        .unwrap();
    let refused = run(
        &home,
        &a_dir,
        &["post", "--key", "blocked", "spam", "--json"],
    );
    assert_eq!(refused.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(v["error"]["code"], "refused-blocked-author");
    let refused_id: ObjectId = v["cid"].as_str().unwrap().parse().unwrap();
    assert!(!a.has(&refused_id));

    // Export the whole store while the node runs, and two objects by CID from the node.
    let all = tmp.path().join("all.car");
    let out = ok(
        &home,
        &a_dir,
        &["export", "--out", all.to_str().unwrap(), "--json"],
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["objects"], ids.len());
    let exported: BTreeSet<ObjectId> = car_ids(&all).into_iter().collect();
    assert_eq!(exported, ids.iter().copied().collect());
    let some = tmp.path().join("some.car");
    ok(
        &home,
        &a_dir,
        &[
            "export",
            "--out",
            some.to_str().unwrap(),
            &ids[2].to_string(),
            &ids[3].to_string(),
        ],
    );
    assert_eq!(car_ids(&some), vec![ids[2], ids[3]]);
    let missing = ObjectId::of_bytes(b"nothing").to_string();
    let partial = run(
        &home,
        &a_dir,
        &["export", "--out", some.to_str().unwrap(), &missing],
    );
    assert_eq!(partial.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&partial.stdout).contains("not-found"));

    // Import into a second node through its endpoint; again: nothing new.
    let b_dir = tmp.path().join("b");
    let b = Node::start(&b_dir, &[]);
    let out = ok(&home, &b_dir, &["import", all.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (v["new"].as_u64(), v["problems"].as_u64()),
        (Some(ids.len() as u64), Some(0))
    );
    for id in &ids {
        assert!(b.has(id));
    }
    let out = ok(&home, &b_dir, &["import", all.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (v["new"].as_u64(), v["known"].as_u64()),
        (Some(0), Some(ids.len() as u64))
    );
    // --into refuses a data dir whose node is running.
    let busy = run(
        &home,
        &b_dir,
        &[
            "import",
            all.to_str().unwrap(),
            "--into",
            b_dir.to_str().unwrap(),
        ],
    );
    assert_eq!(busy.status.code(), Some(2));

    // Into a stopped node's data dir, then exported again from there: the same objects.
    let c_dir = tmp.path().join("c");
    ok(
        &home,
        &c_dir,
        &[
            "import",
            all.to_str().unwrap(),
            "--into",
            c_dir.to_str().unwrap(),
        ],
    );
    let again = tmp.path().join("again.car");
    ok(
        &home,
        &c_dir,
        &[
            "export",
            "--out",
            again.to_str().unwrap(),
            "--data-dir",
            c_dir.to_str().unwrap(),
        ],
    );
    let re: BTreeSet<ObjectId> = car_ids(&again).into_iter().collect();
    assert_eq!(re, exported);
    let check = ok(
        &home,
        &c_dir,
        &["node", "check", "--data-dir", c_dir.to_str().unwrap()],
    );
    assert!(
        check.contains(&format!("\"objects\":{}", ids.len())),
        "{check}"
    );

    // A damaged CAR: a block whose bytes do not match its CID, and a block that is not an
    // object. Both are reported with their codes (exit 1); the good block still lands.
    let good = a
        .request("GET", &format!("/v1/objects/{}", ids[2]), &[])
        .body;
    let bad = tmp.path().join("bad.car");
    let mut w = CarWriter::new(std::fs::File::create(&bad).unwrap(), &[]).unwrap();
    w.write_block(&ids[2].to_cid(), &good).unwrap();
    w.write_block(&ids[3].to_cid(), b"\xa0").unwrap();
    let junk = b"\xa1\x61\x76\x01".to_vec();
    w.write_block(&ObjectId::of_bytes(&junk).to_cid(), &junk)
        .unwrap();
    w.finish().unwrap();
    let d_dir = tmp.path().join("d");
    let out = run(
        &home,
        &d_dir,
        &[
            "import",
            bad.to_str().unwrap(),
            "--into",
            d_dir.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = v["listed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["car-cid-mismatch", "malformed"]);
    assert_eq!(v["new"], 1);
}
