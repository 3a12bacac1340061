//! End to end, real `vouch` processes on loopback, identity through the node (issue 16):
//! credentials handed to a node reach decisions on every node (and revocations stop them),
//! one person one vote over the network, village rules amended by a poll, and pre-rotation
//! through the `vouch key` commands (a thief with the key file cannot rotate it away).
#![cfg(feature = "vc")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/nodes.rs"]
mod nodes;

use std::path::{Path, PathBuf};
use std::process::Output;

use nodes::*;
use serde_json::{json, Value};
use vouch_identity::SecretKey;
use vouch_reputation::{AttestBody, Body, GroupBody, GroupPolicy, GroupRef, Object, PostBody};

/// One person's `vouch` command line: its own home (keys, records), talking to one node.
struct Cli {
    home: PathBuf,
    node: PathBuf,
}

impl Cli {
    fn new(home: &Path, node: &Node) -> Cli {
        std::fs::create_dir_all(home).unwrap();
        Cli {
            home: home.to_owned(),
            node: node.dir.clone(),
        }
    }

    /// The same person, talking to another node.
    fn on(&self, node: &Node) -> Cli {
        Cli {
            home: self.home.clone(),
            node: node.dir.clone(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        vouch()
            .args(args)
            .env("VOUCH_HOME", &self.home)
            .env("VOUCH_DATA_DIR", &self.node)
            .env_remove("VOUCH_KEY_DIR")
            .env_remove("VOUCH_KEY")
            .env_remove("VOUCH_NODE")
            .env_remove("VOUCH_API_TOKEN")
            .output()
            .unwrap()
    }

    /// Runs and asserts success; stdout, trimmed.
    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "vouch {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_owned()
    }

    /// Runs with `--json` output and parses the last line (or the whole output).
    fn json(&self, args: &[&str]) -> Value {
        let out = self.ok(args);
        // The last JSON document: commands that also submit objects print a line each
        // first.
        let starts = std::iter::once(0).chain(out.match_indices('\n').map(|(i, _)| i + 1));
        let starts: Vec<usize> = starts.collect();
        starts
            .iter()
            .rev()
            .find_map(|&i| serde_json::from_str(&out[i..]).ok())
            .unwrap_or_else(|| panic!("not JSON: {out}"))
    }

    fn key(&self, name: &str) -> SecretKey {
        vouch_identity::read_key_file(&self.home.join("keys").join(format!("{name}.key"))).unwrap()
    }
}

fn did(k: &SecretKey) -> String {
    k.public_key().to_did_key()
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

fn group_post(author: &SecretKey, group: &GroupRef, text: &str) -> vouch_reputation::SignedObject {
    sign(
        author,
        Body::Post(PostBody {
            group: Some(group.clone()),
            text: text.into(),
            ..Default::default()
        }),
    )
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

fn submit_ok(node: &Node, obj: &vouch_reputation::SignedObject) {
    let r = node.submit(obj);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

fn create_viewer(node: &Node, viewer: &SecretKey, policy: Value) {
    let (status, v) = call(
        node,
        "POST",
        "/v1/viewers",
        json!({ "viewer": did(viewer), "policy": policy }),
    );
    assert_eq!(status, 201, "{v}");
}

fn decide(node: &Node, viewer: &SecretKey, items: Value) -> Vec<Value> {
    let (status, v) = call(
        node,
        "POST",
        &format!("/v1/viewers/{}/decide", did(viewer)),
        json!({ "items": items }),
    );
    assert_eq!(status, 200, "{v}");
    v["decisions"].as_array().unwrap().clone()
}

fn explain(node: &Node, viewer: &SecretKey, subject: &str) -> Value {
    let (status, v) = call(
        node,
        "GET",
        &format!("/v1/viewers/{}/explain/{subject}", did(viewer)),
        Value::Null,
    );
    assert_eq!(status, 200, "{v}");
    v
}

fn find<'a>(d: &'a Value, code: &str) -> Option<&'a Value> {
    d["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == code)
}

/// Starts a node in `dir` with admission control off: these nodes relay everything, as a
/// village's relays would; what admission lets in from strangers (ballots for known polls,
/// pre-rotations of admitted keys) is tested in `node/admission.rs`, and credentials and
/// revocations with admission on in
/// `a_node_that_runs_admission_takes_the_credentials_and_revocations_its_viewers_use`.
fn start_relaying(dir: &Path, extra: &[&str]) -> Node {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("config.toml"), "[admission]\nmode = \"off\"\n").unwrap();
    Node::start(dir, extra)
}

fn two_nodes(tmp: &Path, group: &str) -> (Node, Node) {
    let a = start_relaying(&tmp.join("a"), &["--group", group]);
    let b = start_relaying(
        &tmp.join("b"),
        &["--group", group, "--bootstrap", &a.tcp_addr()],
    );
    wait_until("the two nodes connected", || {
        !a.connected().is_empty() && !b.connected().is_empty()
    });
    (a, b)
}

/// Point 1: a holder hands its node a credential (issued with `vouch credential issue`) and
/// links a posting key; the node verifies and keeps it, publishes it only when the holder
/// says so, and decisions on both nodes use it: "verified by <issuer>" for the linked key
/// (nothing for others), a group's `credential_issuer` rule enforced for posters; an issuer's
/// revocation (published, or a statement handed in) stops it counting, with a reason.
#[test]
fn credentials_handed_to_a_node_reach_decisions_and_revocations_stop_them() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (a, b) = two_nodes(t, &group_arg());

    let issuer = Cli::new(&t.join("issuer"), &a);
    let issuer_did = issuer.ok(&["identity", "new", "--name", "issuer"]);
    // Two holders: one publishes its credential, one keeps it private to its node.
    let public = Cli::new(&t.join("public"), &a);
    let private = Cli::new(&t.join("private"), &a);
    let mut posting = Vec::new();
    for (holder, id) in [(&public, "urn:uuid:1"), (&private, "urn:uuid:2")] {
        let identity = holder.ok(&["identity", "new"]);
        let made = holder.json(&["key", "new", "posting", "--json"]);
        assert_eq!(made["published"], true, "{made}");
        let vc = holder.home.join("vc.json");
        issuer.ok(&[
            "credential",
            "issue",
            "--issuer",
            "issuer",
            "--subject",
            &identity,
            "--id",
            id,
            "--out",
            vc.to_str().unwrap(),
        ]);
        holder.ok(&["link", "--posting", "posting"]);
        posting.push(holder.key("posting"));
    }
    let vc = |h: &Cli| h.home.join("vc.json").to_str().unwrap().to_owned();
    let added = public.json(&["credential", "add", &vc(&public), "--public", "--json"]);
    assert_eq!(added["status"], "valid", "{added}");
    assert_eq!(added["public"], true);
    assert_eq!(added["issuer"], issuer_did.as_str());
    assert_eq!(added["linked_keys"][0], did(&posting[0]), "{added}");
    let added = private.json(&["credential", "add", &vc(&private), "--json"]);
    assert_eq!(added["public"], false);
    // A tampered credential is refused with the identity layer's code.
    let bad = t.join("bad.json");
    std::fs::write(
        &bad,
        std::fs::read_to_string(vc(&private))
            .unwrap()
            .replace("urn:uuid:2", "urn:uuid:3"),
    )
    .unwrap();
    let out = private.run(&["credential", "add", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("vc-bad-proof"),
        "{out:?}"
    );

    // A group whose posters must hold a credential from the issuer; a viewer on each node
    // who accepts the issuer.
    let owner = key(200);
    let policy = GroupPolicy {
        credential_issuer: Some(issuer_did.clone()),
        ..GroupPolicy::default()
    };
    submit_ok(
        &a,
        &sign(
            &owner,
            Body::Group(GroupBody {
                name: "e2e".into(),
                rules: None,
                policy,
                moderators: vec![],
                seq: 1,
            }),
        ),
    );
    let viewer = key(1);
    let stranger = key(31);
    for n in [&a, &b] {
        create_viewer(n, &viewer, json!({ "verified_issuers": [issuer_did] }));
    }
    let p_verified = group_post(&posting[0], &group(), "hello, verified");
    let p_stranger = group_post(&stranger, &group(), "hello, anonymous");
    submit_ok(&a, &p_verified);
    submit_ok(&a, &p_stranger);

    let items = json!([
        { "author": did(&posting[0]) },
        { "author": did(&stranger) },
        { "author": did(&posting[1]) },
        { "post": p_verified.id().to_string() },
        { "post": p_stranger.id().to_string() },
    ]);
    wait_until(
        "node b has the posts and the public credential counts there",
        || {
            b.has(&p_verified.id())
                && b.has(&p_stranger.id())
                && find(&decide(&b, &viewer, items.clone())[0], "author-verified").is_some()
        },
    );
    for (n, name) in [(&a, "a"), (&b, "b")] {
        let d = decide(n, &viewer, items.clone());
        let v = find(&d[0], "author-verified").unwrap_or_else(|| panic!("{name}: {}", d[0]));
        assert_eq!(v["value"], issuer_did.as_str());
        assert!(
            v["sentence"].as_str().unwrap().contains("Verified by"),
            "{v}"
        );
        // Nothing for a key without a link.
        assert!(find(&d[1], "author-verified").is_none(), "{name}: {}", d[1]);
        // The group rule: the linked poster passes, the stranger is collapsed with a code.
        assert!(
            find(&d[3], "group-credential-missing").is_none(),
            "{name}: {}",
            d[3]
        );
        assert_eq!(d[4]["verdict"], "collapse", "{name}: {}", d[4]);
        let r = find(&d[4], "group-credential-missing").unwrap();
        assert_eq!(r["value"], issuer_did.as_str());
    }
    // The private credential counts on its own node only: it never left it.
    let d = decide(&a, &viewer, items.clone());
    assert!(find(&d[2], "author-verified").is_some(), "{}", d[2]);
    let d = decide(&b, &viewer, items.clone());
    assert!(find(&d[2], "author-verified").is_none(), "{}", d[2]);
    let (_, listed) = call(&b, "GET", "/v1/credentials", Value::Null);
    assert_eq!(
        listed["credentials"].as_array().unwrap().len(),
        0,
        "{listed}"
    );
    let listed = public.json(&["credential", "list", "--json"]);
    assert_eq!(
        listed["credentials"].as_array().unwrap().len(),
        2,
        "{listed}"
    );

    // The issuer revokes the public credential and publishes the revocation: on both nodes
    // the key stops counting as verified, with the reason.
    issuer.ok(&[
        "credential",
        "revoke",
        "--issuer",
        "issuer",
        "--id",
        "urn:uuid:1",
        "--publish",
        "--reason",
        "issued in error",
        "--out",
        t.join("rev1.json").to_str().unwrap(),
    ]);
    for (n, name) in [(&a, "a"), (&b, "b")] {
        wait_until(
            &format!("node {name}: the revoked credential stops counting"),
            || find(&decide(n, &viewer, items.clone())[0], "author-verified").is_none(),
        );
        let d = decide(n, &viewer, items.clone());
        let r = find(&d[3], "group-credential-missing").unwrap_or_else(|| panic!("{}", d[3]));
        assert_eq!(r["note"], "revoked", "{r}");
        assert_eq!(d[3]["verdict"], "collapse");
        let e = explain(n, &viewer, &did(&posting[0]));
        let r = find(&e, "author-credential-void").unwrap_or_else(|| panic!("{e}"));
        assert_eq!(r["note"], "revoked");
        assert_eq!(r["value"], issuer_did.as_str());
    }
    let listed = public.json(&["credential", "list", "--json"]);
    let statuses: Vec<&str> = listed["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.contains(&"revoked") && statuses.contains(&"valid"),
        "{listed}"
    );

    // A revocation statement handed to the node (not published) works there too.
    let rev2 = t.join("rev2.json");
    issuer.ok(&[
        "credential",
        "revoke",
        "--issuer",
        "issuer",
        "--id",
        "urn:uuid:2",
        "--out",
        rev2.to_str().unwrap(),
    ]);
    private.ok(&["credential", "add-revocation", rev2.to_str().unwrap()]);
    let d = decide(&a, &viewer, items.clone());
    assert!(find(&d[2], "author-verified").is_none(), "{}", d[2]);
    let e = explain(&a, &viewer, &did(&posting[1]));
    assert_eq!(
        find(&e, "author-credential-void").unwrap()["note"],
        "revoked"
    );
    // A forged statement is refused.
    let forged = t.join("forged.json");
    std::fs::write(
        &forged,
        std::fs::read_to_string(&rev2)
            .unwrap()
            .replace("urn:uuid:2", "urn:uuid:1"),
    )
    .unwrap();
    let out = private.run(&["credential", "add-revocation", forged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");

    // A credential that expires: it counts, then, with no new object, stops counting with
    // the reason (the node rebuilds its views at the expiry).
    let short = Cli::new(&t.join("short"), &a);
    let identity = short.ok(&["identity", "new"]);
    short.ok(&["key", "new", "posting", "--no-commit"]);
    short.ok(&["link", "--posting", "posting"]);
    let short_posting = did(&short.key("posting"));
    let vc3 = t.join("vc3.json");
    issuer.ok(&[
        "credential",
        "issue",
        "--issuer",
        "issuer",
        "--subject",
        &identity,
        "--valid-until",
        "+15s",
        "--out",
        vc3.to_str().unwrap(),
    ]);
    let added = short.json(&["credential", "add", vc3.to_str().unwrap(), "--json"]);
    assert_eq!(added["status"], "valid", "{added}");
    let item = json!([{ "author": short_posting }]);
    assert!(
        find(&decide(&a, &viewer, item.clone())[0], "author-verified").is_some(),
        "verified while valid"
    );
    wait_until("the credential expires and stops counting", || {
        find(&decide(&a, &viewer, item.clone())[0], "author-verified").is_none()
    });
    let e = explain(&a, &viewer, &short_posting);
    assert_eq!(
        find(&e, "author-credential-void").unwrap()["note"],
        "expired"
    );
    let listed = short.json(&["credential", "list", "--json"]);
    assert!(
        listed["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["status"] == "expired"),
        "{listed}"
    );
}

/// Admission (specs/sync.md) and identity together: a node that runs admission stores a
/// published credential once the posting key its subject linked is within its viewer's
/// reach (the credential object is signed by the identity key, which no one attests), and
/// the issuer's published revocation (the issuer is a stranger to the trust graph too); a
/// holder whose posting key nobody there trusts stays in quarantine, link and credential.
#[test]
fn a_node_that_runs_admission_takes_the_credentials_and_revocations_its_viewers_use() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // A relays everything; B runs admission (the default, `auto`, with a viewer).
    let a = start_relaying(&t.join("a"), &[]);
    let b = Node::start(&t.join("b"), &["--bootstrap", &a.tcp_addr()]);
    wait_until("the two nodes connected", || {
        !a.connected().is_empty() && !b.connected().is_empty()
    });
    let issuer = Cli::new(&t.join("issuer"), &a);
    let issuer_did = issuer.ok(&["identity", "new", "--name", "issuer"]);
    let trusted = Cli::new(&t.join("trusted"), &a);
    let stranger = Cli::new(&t.join("stranger"), &a);
    for holder in [&trusted, &stranger] {
        holder.ok(&["key", "new", "posting"]);
    }
    // B's viewer accepts the issuer and trusts the first holder's posting key; on A, a
    // viewer who accepts the issuer too (A runs no admission: it stores everything).
    let viewer = key(2);
    create_viewer(&b, &viewer, json!({ "verified_issuers": [issuer_did] }));
    let relay_viewer = key(3);
    create_viewer(
        &a,
        &relay_viewer,
        json!({ "verified_issuers": [issuer_did] }),
    );
    submit_ok(
        &b,
        &sign(
            &viewer,
            Body::Attest(AttestBody::new(trusted.key("posting").public_key(), 60)),
        ),
    );
    for (holder, id) in [(&trusted, "urn:uuid:7"), (&stranger, "urn:uuid:8")] {
        let identity = holder.ok(&["identity", "new"]);
        let vc = holder.home.join("vc.json");
        issuer.ok(&[
            "credential",
            "issue",
            "--issuer",
            "issuer",
            "--subject",
            &identity,
            "--id",
            id,
            "--out",
            vc.to_str().unwrap(),
        ]);
        holder.ok(&["link", "--posting", "posting"]);
        let added = holder.json(&[
            "credential",
            "add",
            vc.to_str().unwrap(),
            "--public",
            "--json",
        ]);
        assert_eq!(added["public"], true, "{added}");
    }
    let items = json!([
        { "author": did(&trusted.key("posting")) },
        { "author": did(&stranger.key("posting")) },
    ]);
    wait_until(
        "node b takes the trusted holder's link and credential",
        || find(&decide(&b, &viewer, items.clone())[0], "author-verified").is_some(),
    );
    let d = decide(&b, &viewer, items.clone());
    assert_eq!(
        find(&d[0], "author-verified").unwrap()["value"],
        issuer_did.as_str()
    );
    // The stranger's link and credential wait in quarantine: nothing verified about it.
    assert!(find(&d[1], "author-verified").is_none(), "{}", d[1]);
    assert!(b.metric("quarantine_objects") >= 2, "{}", b.status());
    assert!(
        find(
            &decide(&a, &relay_viewer, items.clone())[1],
            "author-verified"
        )
        .is_some(),
        "on the relay, which runs no admission, the stranger's credential counts"
    );

    // The issuer's published revocation reaches B, and the credential stops counting.
    issuer.ok(&[
        "credential",
        "revoke",
        "--issuer",
        "issuer",
        "--id",
        "urn:uuid:7",
        "--publish",
        "--out",
        t.join("rev.json").to_str().unwrap(),
    ]);
    wait_until("node b takes the issuer's revocation", || {
        find(&decide(&b, &viewer, items.clone())[0], "author-verified").is_none()
    });
    let e = explain(&b, &viewer, &did(&trusted.key("posting")));
    assert_eq!(
        find(&e, "author-credential-void").unwrap()["note"],
        "revoked",
        "{e}"
    );
}

/// One person's personhood credential, through the CLI: request, blind issue, finalize.
fn personhood(issuer: &Cli, person: &Cli) {
    let req = person.home.join("request.json");
    let iss = person.home.join("issuance.json");
    person.ok(&["personhood", "request", "--out", req.to_str().unwrap()]);
    issuer.ok(&[
        "personhood",
        "issue",
        "--issuer",
        "town",
        "--request",
        req.to_str().unwrap(),
        "--out",
        iss.to_str().unwrap(),
    ]);
    person.ok(&[
        "personhood",
        "finalize",
        "--issuance",
        iss.to_str().unwrap(),
    ]);
}

fn tally(node: &Node, poll: &str) -> Value {
    let (status, v) = call(node, "GET", &format!("/v1/polls/{poll}"), Value::Null);
    assert_eq!(status, 200, "{v}");
    v
}

/// Points 2 and 3: a `personhood_votes` group on node a; three people, voting through node b
/// ten times each (each ballot from a fresh key), count as three voices on both nodes, the
/// extra ballots are shown as double votes, never counted; a person who answers both ways
/// counts for nothing. Then an amendment poll passes and the rule the decisions use changes
/// on both nodes, citing the poll.
#[test]
fn one_person_one_vote_over_the_network_and_a_village_amends_its_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let owner_cli_home = t.join("owner");
    // The group's owner is made with the CLI; its group name is fixed here.
    let (a, b) = {
        std::fs::create_dir_all(&owner_cli_home).unwrap();
        let probe = vouch()
            .args(["key", "new", "owner", "--no-commit", "--json"])
            .env("VOUCH_HOME", &owner_cli_home)
            .output()
            .unwrap();
        assert!(probe.status.success(), "{probe:?}");
        let v: Value = serde_json::from_slice(&probe.stdout).unwrap();
        let g = format!("{}/village", v["did"].as_str().unwrap());
        two_nodes(t, &g)
    };
    let owner = Cli::new(&owner_cli_home, &a);
    let owner_key = owner.key("owner");
    let g = format!("{}/village", did(&owner_key));
    let group_ref = GroupRef {
        owner: owner_key.public_key(),
        name: "village".into(),
    };

    let issuer = Cli::new(&t.join("town"), &a);
    let town = issuer.ok(&["personhood", "issuer", "new", "--name", "town"]);
    assert!(town.starts_with("did:key:zUC7"), "{town}");
    owner.ok(&[
        "group",
        "create",
        "village",
        "--key",
        "owner",
        "--personhood-votes",
        "--credential-issuer",
        &town,
        "--amend-quorum",
        "2",
    ]);
    let people: Vec<Cli> = (0..3)
        .map(|i| {
            let p = Cli::new(&t.join(format!("person{i}")), &b);
            personhood(&issuer, &p);
            p
        })
        .collect();

    let poll = owner.json(&[
        "poll",
        "create",
        "--key",
        "owner",
        "--group",
        &g,
        "Open a bakery?",
        "--closes",
        "+1h",
        "--json",
    ])["cid"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_until("node b has the poll", || {
        call(&b, "GET", &format!("/v1/polls/{poll}"), Value::Null).0 == 200
    });
    // Ten ballots each, through node b: two say yes (0), one says no (1).
    for (i, p) in people.iter().enumerate() {
        let choice = if i == 2 { "1" } else { "0" };
        for _ in 0..10 {
            p.ok(&["poll", "vote", &poll, choice]);
        }
    }
    for (n, name) in [(&a, "a"), (&b, "b")] {
        wait_until(&format!("node {name} verified the 30 ballots"), || {
            let v = tally(n, &poll);
            v["tally"]["ballots"] == 30 && v["tally"]["pending"] == 0
        });
        let v = tally(n, &poll)["tally"].clone();
        assert_eq!(v["voters"], 3, "node {name}: {v}");
        assert_eq!(v["counts"], json!([2, 1]), "node {name}: {v}");
        assert_eq!(v["issuer"], town.as_str());
        let doubles = v["double_votes"].as_array().unwrap();
        assert_eq!(doubles.len(), 3, "node {name}: {v}");
        assert!(doubles
            .iter()
            .all(|d| d["counted"] == true && d["ballots"].as_array().unwrap().len() == 10));
        let rejected = v["rejected"].as_array().unwrap();
        assert_eq!(rejected.len(), 27, "node {name}: {v}");
        assert!(rejected
            .iter()
            .all(|r| r["code"] == "poll-duplicate-pseudonym"));
    }
    let text = people[0].ok(&["poll", "tally", &poll]);
    assert!(text.contains("3 voices"), "{text}");

    // The third person answers the other way too: that person counts for nothing, on both
    // nodes, and is shown as a double vote not counted.
    people[2].on(&a).ok(&["poll", "vote", &poll, "0"]);
    for (n, name) in [(&a, "a"), (&b, "b")] {
        wait_until(&format!("node {name} verified the 31st ballot"), || {
            let v = tally(n, &poll);
            v["tally"]["ballots"] == 31 && v["tally"]["pending"] == 0
        });
        let v = tally(n, &poll)["tally"].clone();
        assert_eq!(v["voters"], 2, "node {name}: {v}");
        assert_eq!(v["counts"], json!([2, 0]), "node {name}: {v}");
        let not_counted: Vec<&Value> = v["double_votes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["counted"] == false)
            .collect();
        assert_eq!(not_counted.len(), 1, "node {name}: {v}");
        assert_eq!(not_counted[0]["ballots"].as_array().unwrap().len(), 11);
    }

    // A node that joins later catches up (negentropy) and counts the same.
    let late = start_relaying(
        &t.join("c"),
        &[
            "--group",
            &g,
            "--bootstrap",
            &a.tcp_addr(),
            "--resync-secs",
            "1",
        ],
    );
    wait_until(
        "the late node caught up and verified the 31 ballots",
        || {
            call(&late, "GET", &format!("/v1/polls/{poll}"), Value::Null).0 == 200 && {
                let v = tally(&late, &poll);
                v["tally"]["ballots"] == 31 && v["tally"]["pending"] == 0
            }
        },
    );
    let v = tally(&late, &poll)["tally"].clone();
    assert_eq!(
        (v["voters"].clone(), v["counts"].clone()),
        (json!(2), json!([2, 0])),
        "{v}"
    );
    drop(late);

    // Village rules: an amendment poll (min trust 30) that the village adopts.
    let viewer = key(1);
    let stranger = key(31);
    for n in [&a, &b] {
        create_viewer(n, &viewer, json!({}));
    }
    let before = group_post(&stranger, &group_ref, "hello village");
    submit_ok(&a, &before);
    wait_until("node b has the post", || b.has(&before.id()));
    let item = json!([{ "post": before.id().to_string() }]);
    for n in [&a, &b] {
        // (The group's personhood issuer is also its posters' `credential_issuer`, which
        // no linked credential can satisfy: non-moderators' posts are collapsed for that.)
        let d = decide(n, &viewer, item.clone());
        assert!(find(&d[0], "group-min-trust").is_none(), "{}", d[0]);
    }
    let amend = owner.json(&[
        "poll",
        "create",
        "--key",
        "owner",
        "--group",
        &g,
        "Require trust 30 to post?",
        "--amend-min-trust",
        "30",
        "--closes",
        "+20s",
        "--json",
    ])["cid"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_until("node b has the amendment poll", || {
        call(&b, "GET", &format!("/v1/polls/{amend}"), Value::Null).0 == 200
    });
    for p in &people {
        p.ok(&["poll", "vote", &amend, "0"]);
    }
    for (n, name) in [(&a, "a"), (&b, "b")] {
        wait_until(&format!("node {name}: the amendment in force"), || {
            let (_, r) = call(n, "GET", &format!("/v1/groups/{g}/rules"), Value::Null);
            r["min_trust"] == 30
        });
        let (_, r) = call(n, "GET", &format!("/v1/groups/{g}/rules"), Value::Null);
        let am = &r["amendments"][0];
        assert_eq!(am["rule"], "min_trust", "{r}");
        assert_eq!(am["poll"], amend.as_str());
        assert_eq!(am["voters"], 3);
        assert_eq!(am["adopt"], 3);
        wait_until(
            &format!("node {name}: decisions use the amended rule"),
            || find(&decide(n, &viewer, item.clone())[0], "group-min-trust").is_some(),
        );
        let d = decide(n, &viewer, item.clone());
        let r = find(&d[0], "group-min-trust").unwrap_or_else(|| panic!("{}", d[0]));
        assert_eq!(
            r["objects"][0],
            amend.as_str(),
            "the rule cites the poll: {r}"
        );
        let r = find(&d[0], "group-rule-amended").unwrap_or_else(|| panic!("{}", d[0]));
        assert_eq!(r["objects"][0], amend.as_str());
    }
    let rules = people[0].ok(&["poll", "rules", &g]);
    assert!(rules.contains(&amend), "{rules}");
}

/// Point 4: `vouch key new` commits to a next key and publishes the commitment; a thief who
/// copied the key file rotates first (a version 1 handover, the only thing it can sign),
/// the owner rotates with the committed key: trust follows the owner's rotation on every
/// node, the thief's new key gets nothing, and what the thief signs with the old key after
/// the rotation is hidden.
#[test]
fn a_thief_with_the_key_file_cannot_rotate_a_committed_key_away() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (a, b) = two_nodes(t, &group_arg());
    let owner = Cli::new(&t.join("owner"), &a);
    let made = owner.json(&["key", "new", "alice", "--json"]);
    assert_eq!(made["committed"], true, "{made}");
    assert_eq!(made["published"], true, "{made}");
    let keys = owner.home.join("keys");
    assert!(keys.join("alice.next.key").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(keys.join("alice.next.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the next key is owner-only");
    }
    let alice = owner.key("alice");

    // A viewer on node b trusts alice.
    let viewer = key(1);
    create_viewer(&b, &viewer, json!({}));
    submit_ok(
        &a,
        &sign(
            &viewer,
            Body::Attest(AttestBody::new(alice.public_key(), 80)),
        ),
    );

    // The thief copies alice.key (not the offline next key) and rotates first.
    let thief = Cli::new(&t.join("thief"), &b);
    std::fs::create_dir_all(thief.home.join("keys")).unwrap();
    std::fs::copy(keys.join("alice.key"), thief.home.join("keys/alice.key")).unwrap();
    let out = thief.run(&["key", "rotate", "alice", "mine"]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no committed next key"),
        "the thief's CLI warns: {out:?}"
    );
    let thiefs = thief.key("mine");

    // The owner rotates with the committed key, without needing alice.key.
    std::fs::rename(keys.join("alice.key"), t.join("alice.key.lost")).unwrap();
    owner.ok(&["key", "rotate", "alice", "alice2"]);
    let alice2 = owner.key("alice2");
    assert!(
        !keys.join("alice.next.key").exists(),
        "the committed key became alice2"
    );
    assert!(
        keys.join("alice2.next.key").exists(),
        "alice2 commits in turn"
    );

    let trust = |n: &Node, k: &SecretKey| -> f64 {
        let (s, v) = call(
            n,
            "GET",
            &format!("/v1/viewers/{}/trust/{}", did(&viewer), did(k)),
            Value::Null,
        );
        assert_eq!(s, 200, "{v}");
        v["score"].as_f64().unwrap()
    };
    wait_until("node b: trust follows the owner's rotation", || {
        trust(&b, &alice2) > 0.0
    });
    assert_eq!(trust(&b, &thiefs), 0.0, "the thief's key gets nothing");

    // The thief keeps posting with the stolen key: hidden, with the rotation as reason.
    let late = sign(
        &alice,
        Body::Post(PostBody {
            text: "send coins here".into(),
            ..Default::default()
        }),
    );
    submit_ok(&b, &late);
    let d = decide(&b, &viewer, json!([{ "post": late.id().to_string() }]));
    assert_eq!(d[0]["verdict"], "hide", "{}", d[0]);
    assert!(find(&d[0], "author-key-rotated").is_some(), "{}", d[0]);
    drop(a);
}
