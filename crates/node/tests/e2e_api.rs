//! End-to-end tests of the sidecar API: real `vouch node run` processes, real HTTP, a real
//! SQLite file. Decisions with reasons (a subscribed block list hides an author, a directly
//! trusted author is protected, a group ban hides a post in the group), viewers' policies
//! across a restart, two viewers with different verdicts, the token off loopback, and the
//! event stream delivering a list change with its per-viewer diff.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/nodes.rs"]
mod nodes;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64::Engine as _;
use nodes::*;
use serde_json::{json, Value};
use vouch_identity::SecretKey;
use vouch_reputation::{
    AppealBody, AttestBody, Body, DismissBody, GroupBody, GroupPolicy, GroupRef, ListAddBody,
    ListBody, ListPurpose, ListRef, Object, ReportBody, SignedObject, Subject,
};

fn sign(author: &SecretKey, body: Body) -> SignedObject {
    Object {
        author: author.public_key(),
        at: now_ms(),
        body,
    }
    .sign(author)
    .unwrap()
}

fn did(k: &SecretKey) -> String {
    k.public_key().to_did_key()
}

fn list_header(
    curator: &SecretKey,
    name: &str,
    purpose: ListPurpose,
    group: Option<GroupRef>,
) -> SignedObject {
    sign(
        curator,
        Body::List(ListBody {
            name: name.into(),
            purpose,
            description: None,
            group,
            seq: 1,
        }),
    )
}

fn list_add(author: &SecretKey, list: &ListRef, subject: Subject, reason: &str) -> SignedObject {
    sign(
        author,
        Body::ListAdd(ListAddBody {
            list: list.clone(),
            subject,
            reason: Some(reason.into()),
            category: None,
            expires: None,
        }),
    )
}

fn attest(author: &SecretKey, subject: &SecretKey, level: i64) -> SignedObject {
    sign(
        author,
        Body::Attest(AttestBody::new(subject.public_key(), level)),
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
    let v = if r.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&r.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&r.body)))
    };
    (r.status, v)
}

fn submit_ok(node: &Node, obj: &SignedObject) {
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

fn codes(d: &Value) -> Vec<String> {
    d["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

fn reason<'a>(d: &'a Value, code: &str) -> &'a Value {
    d["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {d}"))
}

#[test]
fn decide_gives_verdicts_with_reasons_for_lists_trust_and_group_bans() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &[]);
    let (viewer, curator, spammer, friend, troll, bystander) =
        (key(1), key(2), key(3), key(4), key(5), key(6));
    let owner = key(200);
    let spam = ListRef {
        owner: curator.public_key(),
        name: "spam".into(),
    };
    let bans = ListRef {
        owner: owner.public_key(),
        name: "e2e-bans".into(),
    };
    create_viewer(
        &node,
        &viewer,
        json!({ "lists": [{ "list": format!("{}/spam", did(&curator)), "weight": 1.0 }] }),
    );
    let spam_add = list_add(
        &curator,
        &spam,
        Subject::Key(spammer.public_key()),
        "sells pills",
    );
    let friend_add = list_add(
        &curator,
        &spam,
        Subject::Key(friend.public_key()),
        "mistake",
    );
    let trust_friend = attest(&viewer, &friend, 80);
    let ban = list_add(&owner, &bans, Subject::Key(troll.public_key()), "flooding");
    let troll_post = post(&troll, "buy now", true);
    let fine_post = post(&bystander, "hello group", true);
    for obj in [
        list_header(&curator, "spam", ListPurpose::Block, None),
        spam_add.clone(),
        friend_add,
        trust_friend.clone(),
        sign(
            &owner,
            Body::Group(GroupBody {
                name: "e2e".into(),
                rules: Some("be kind".into()),
                policy: GroupPolicy::default(),
                moderators: vec![],
                seq: 1,
            }),
        ),
        list_header(&owner, "e2e-bans", ListPurpose::Ban, Some(group())),
        ban.clone(),
        troll_post.clone(),
    ] {
        submit_ok(&node, &obj);
    }

    let inline = base64::engine::general_purpose::STANDARD.encode(fine_post.bytes());
    let d = decide(
        &node,
        &viewer,
        json!([
            { "author": did(&spammer) },
            { "author": did(&friend) },
            { "post": troll_post.id().to_string() },
            { "object": inline },
            { "author": did(&bystander), "group": group_arg() },
            { "post": fine_post.id().to_string() },
            { "author": "did:key:nope" },
        ]),
    );
    assert_eq!(d.len(), 7);

    // A subscribed block list hides the spammer: code, sentence, CID, list and curator.
    assert_eq!(d[0]["verdict"], "hide", "{}", d[0]);
    let r = reason(&d[0], "list-block");
    assert_eq!(r["list"], format!("{}/spam", did(&curator)));
    assert_eq!(r["curator"], did(&curator));
    assert_eq!(r["objects"][0], spam_add.id().to_string());
    assert_eq!(r["note"], "sells pills");
    assert!(r["sentence"].as_str().unwrap().contains("'spam'"), "{r}");

    // The viewer attested the friend: the list only warns, with the trust path.
    assert_eq!(d[1]["verdict"], "warn", "{}", d[1]);
    let r = reason(&d[1], "trusted-protected");
    assert_eq!(r["trust_path"][0]["from"], did(&viewer));
    assert_eq!(r["trust_path"][0]["to"], did(&friend));
    assert_eq!(r["trust_path"][0]["attest"], trust_friend.id().to_string());
    assert!(d[1]["score"].as_f64().unwrap() > 0.0);

    // The group's ban hides the troll's post in the group.
    assert_eq!(d[2]["verdict"], "hide", "{}", d[2]);
    let r = reason(&d[2], "group-ban");
    assert_eq!(r["group"], group_arg());
    assert_eq!(r["actor"], did(&owner));
    assert_eq!(r["objects"][0], ban.id().to_string());

    // An inline post by someone nobody listed is shown; so is its author in the group.
    assert_eq!(d[3]["verdict"], "show", "{}", d[3]);
    assert!(codes(&d[3]).is_empty());
    assert_eq!(d[4]["verdict"], "show");
    // Per-item errors: a post the node does not store, a bad key.
    assert_eq!(d[5]["error"]["code"], "not-found");
    assert_eq!(d[6]["error"]["code"], "bad-did");

    // Explain: every reason, and the trust path from the engine.
    let (status, e) = call(
        &node,
        "GET",
        &format!("/v1/viewers/{}/explain/{}", did(&viewer), did(&friend)),
        Value::Null,
    );
    assert_eq!(status, 200, "{e}");
    let r = reason(&e, "author-trusted");
    assert_eq!(r["trust_path"][0]["attest"], trust_friend.id().to_string());

    // Trust: score, directness and the path with its attestation.
    let (status, t) = call(
        &node,
        "GET",
        &format!("/v1/viewers/{}/trust/{}", did(&viewer), did(&friend)),
        Value::Null,
    );
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["direct"], true);
    assert!(t["score"].as_f64().unwrap() > 0.0);
    assert_eq!(
        t["paths"][0]["hops"][0]["attest"],
        trust_friend.id().to_string()
    );

    // What group owners and curators read.
    let report = sign(
        &bystander,
        Body::Report(ReportBody {
            subject: Subject::Key(troll.public_key()),
            group: group(),
            category: "spam".into(),
            text: Some("again".into()),
        }),
    );
    let appeal = sign(
        &troll,
        Body::Appeal(AppealBody {
            target: ban.id(),
            text: Some("sorry".into()),
            outcome: None,
        }),
    );
    submit_ok(&node, &report);
    submit_ok(&node, &appeal);
    let gpath = format!("/v1/groups/{}/e2e", did(&owner));
    let (status, g) = call(&node, "GET", &gpath, Value::Null);
    assert_eq!(status, 200, "{g}");
    assert_eq!(g["header"]["rules"], "be kind");
    assert_eq!(g["moderators"], json!([did(&owner)]));
    assert_eq!(g["ban_lists"], json!([format!("{}/e2e-bans", did(&owner))]));
    assert_eq!(g["banned"], 1);
    assert_eq!(g["open_appeals"], 1);
    let (_, b) = call(&node, "GET", &format!("{gpath}/bans"), Value::Null);
    assert_eq!(b["bans"][0]["subject"], did(&troll));
    assert_eq!(
        (b["total"].clone(), b["offset"].clone()),
        (json!(1), json!(0))
    );
    // Pages: past the end is empty but keeps the total; a limit out of range is refused.
    let (_, page) = call(
        &node,
        "GET",
        &format!("{gpath}/bans?offset=1&limit=1"),
        Value::Null,
    );
    assert_eq!(page["bans"], json!([]));
    assert_eq!(
        (page["total"].clone(), page["limit"].clone()),
        (json!(1), json!(1))
    );
    for what in ["bans", "reports", "appeals"] {
        let (status, e) = call(
            &node,
            "GET",
            &format!("{gpath}/{what}?limit=0"),
            Value::Null,
        );
        assert_eq!(
            (status, e["error"]["code"].clone()),
            (400, json!("bad-query"))
        );
        let (_, page) = call(
            &node,
            "GET",
            &format!("{gpath}/{what}?limit=1"),
            Value::Null,
        );
        assert_eq!(page[what].as_array().unwrap().len(), 1, "{what}: {page}");
        assert_eq!(page["total"], 1, "{what}: {page}");
        let (status, e) = call(
            &node,
            "GET",
            &format!("{gpath}/{what}?limit=10001"),
            Value::Null,
        );
        assert_eq!(
            (status, e["error"]["code"].clone()),
            (400, json!("bad-query"))
        );
    }
    // Each page over the largest is a limit hit (limit=0 is a plain bad query).
    assert_eq!(node.metric("api_page_too_large_total"), 3);
    let (_, r) = call(&node, "GET", &format!("{gpath}/reports"), Value::Null);
    assert_eq!(r["reports"][0]["subject"], did(&troll));
    assert_eq!(r["reports"][0]["reports"][0], report.id().to_string());
    assert_eq!(r["reports"][0]["banned"], true);
    // The reported troll dismisses the report about itself: it counts for nothing (only the
    // owner and moderators close reports); the owner's dismissal closes it.
    let dismiss = |by: &SecretKey| {
        sign(
            by,
            Body::Dismiss(DismissBody {
                group: group(),
                reports: vec![report.id()],
                text: Some("nothing to see".into()),
            }),
        )
    };
    submit_ok(&node, &dismiss(&troll));
    let (_, r) = call(
        &node,
        "GET",
        &format!("{gpath}/reports?state=open"),
        Value::Null,
    );
    assert_eq!(r["total"], 1, "{r}");
    assert_eq!(r["reports"][0]["dismissed"], json!([]), "{r}");
    let by_owner = dismiss(&owner);
    submit_ok(&node, &by_owner);
    let (_, r) = call(
        &node,
        "GET",
        &format!("{gpath}/reports?state=open"),
        Value::Null,
    );
    assert_eq!(r["total"], 0, "{r}");
    let (_, r) = call(
        &node,
        "GET",
        &format!("{gpath}/reports?state=dismissed"),
        Value::Null,
    );
    assert_eq!(
        r["reports"][0]["dismissals"][0]["id"],
        by_owner.id().to_string()
    );
    assert_eq!(r["reports"][0]["dismissals"][0]["moderator"], did(&owner));
    let (status, e) = call(
        &node,
        "GET",
        &format!("{gpath}/reports?state=maybe"),
        Value::Null,
    );
    assert_eq!(
        (status, e["error"]["code"].clone()),
        (400, json!("bad-query"))
    );
    let (_, a) = call(&node, "GET", &format!("{gpath}/appeals"), Value::Null);
    assert_eq!(a["appeals"][0]["appeal"], appeal.id().to_string());
    assert_eq!(a["appeals"][0]["state"], "open");
    let (status, l) = call(
        &node,
        "GET",
        &format!("/v1/lists/{}/spam", did(&curator)),
        Value::Null,
    );
    assert_eq!(status, 200, "{l}");
    assert_eq!(l["header"]["purpose"], "block");
    assert_eq!(l["counts"]["live"], 2);
    assert_eq!(l["entries"].as_array().unwrap().len(), 2);
    let (status, nf) = call(
        &node,
        "GET",
        &format!("/v1/lists/{}/none", did(&curator)),
        Value::Null,
    );
    assert_eq!(
        (status, nf["error"]["code"].clone()),
        (404, json!("list-not-found"))
    );
}

#[test]
fn policies_persist_across_restart_and_two_viewers_see_differently() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = Node::start(dir.path(), &[]);
    let (alice, bob, curator, spammer) = (key(11), key(12), key(13), key(14));
    let spam = ListRef {
        owner: curator.public_key(),
        name: "spam".into(),
    };
    submit_ok(
        &node,
        &list_header(&curator, "spam", ListPurpose::Block, None),
    );
    submit_ok(
        &node,
        &list_add(&curator, &spam, Subject::Key(spammer.public_key()), "spam"),
    );
    let sub = json!({ "lists": [{ "list": format!("{}/spam", did(&curator)), "weight": 1.0 }] });
    create_viewer(&node, &alice, sub.clone());
    create_viewer(&node, &bob, json!({}));
    let item = json!([{ "author": did(&spammer) }]);
    assert_eq!(decide(&node, &alice, item.clone())[0]["verdict"], "hide");
    assert_eq!(decide(&node, &bob, item.clone())[0]["verdict"], "show");
    // More items than one call may hold: refused with its code, counted.
    let many: Vec<Value> = (0..1001).map(|_| item[0].clone()).collect();
    let (status, e) = call(
        &node,
        "POST",
        &format!("/v1/viewers/{}/decide", did(&bob)),
        json!({ "items": many }),
    );
    assert_eq!(
        (status, e["error"]["code"].clone()),
        (400, json!("too-many-items"))
    );
    assert_eq!(node.metric("api_too_many_items_total"), 1);

    // Bob subscribes with a quorum he cannot reach: the list only warns him.
    let bob_policy = json!({
        "lists": [{ "list": format!("{}/spam", did(&curator)), "weight": 0.5 }],
        "quorum": { "min_lists": 1, "min_weight": 1.0 },
        "below_quorum": "collapse",
        "groups": [group_arg()],
    });
    let (status, v) = call(
        &node,
        "PUT",
        &format!("/v1/viewers/{}/policy", did(&bob)),
        bob_policy,
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(decide(&node, &bob, item.clone())[0]["verdict"], "collapse");
    let (_, before) = call(
        &node,
        "GET",
        &format!("/v1/viewers/{}/policy", did(&bob)),
        Value::Null,
    );

    assert!(node.stop());
    let node = Node::start(dir.path(), &[]);
    let (status, after) = call(
        &node,
        "GET",
        &format!("/v1/viewers/{}/policy", did(&bob)),
        Value::Null,
    );
    assert_eq!(status, 200);
    assert_eq!(after, before);
    assert_eq!(after["groups"], json!([group_arg()]));
    assert_eq!(decide(&node, &alice, item.clone())[0]["verdict"], "hide");
    assert_eq!(decide(&node, &bob, item)[0]["verdict"], "collapse");
    let (_, all) = call(&node, "GET", "/v1/viewers", Value::Null);
    assert_eq!(all["viewers"].as_array().unwrap().len(), 2);

    // Deleting a viewer removes it for good.
    let (status, _) = call(
        &node,
        "DELETE",
        &format!("/v1/viewers/{}", did(&alice)),
        Value::Null,
    );
    assert_eq!(status, 204);
    let (status, e) = call(
        &node,
        "GET",
        &format!("/v1/viewers/{}", did(&alice)),
        Value::Null,
    );
    assert_eq!(
        (status, e["error"]["code"].clone()),
        (404, json!("viewer-not-found"))
    );
    let (status, e) = call(&node, "POST", "/v1/viewers", json!({ "viewer": did(&bob) }));
    assert_eq!(
        (status, e["error"]["code"].clone()),
        (409, json!("viewer-exists"))
    );
}

/// Reads Server-Sent Events from a node until `want` returns a value or the deadline.
struct EventStream {
    sock: TcpStream,
    buf: String,
}

impl EventStream {
    fn open(node: &Node, path: &str) -> EventStream {
        let mut sock = TcpStream::connect(node.api).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        write!(
            sock,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
             Accept: text/event-stream\r\n\r\n",
            node.api, node.token
        )
        .unwrap();
        EventStream {
            sock,
            buf: String::new(),
        }
    }

    /// The data of the next event named `name` (events are one chunk each).
    fn next(&mut self, name: &str) -> Value {
        let start = Instant::now();
        let marker = format!("event: {name}\ndata: ");
        loop {
            if let Some(at) = self.buf.find(&marker) {
                let rest = &self.buf[at + marker.len()..];
                if let Some(end) = rest.find('\n') {
                    let data: Value = serde_json::from_str(&rest[..end]).unwrap();
                    self.buf = rest[end..].to_owned();
                    return data;
                }
            }
            assert!(
                start.elapsed() < DEADLINE,
                "no {name} event in: {}",
                self.buf
            );
            let mut chunk = [0u8; 4096];
            match self.sock.read(&mut chunk) {
                Ok(0) => panic!("stream closed: {}", self.buf),
                Ok(n) => self.buf.push_str(&String::from_utf8_lossy(&chunk[..n])),
                Err(_) => {}
            }
        }
    }
}

#[test]
fn event_stream_delivers_list_changes_with_the_viewers_diff_and_group_posts() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &[]);
    let (viewer, curator, friend, stranger) = (key(31), key(32), key(33), key(34));
    let spam = ListRef {
        owner: curator.public_key(),
        name: "spam".into(),
    };
    submit_ok(
        &node,
        &list_header(&curator, "spam", ListPurpose::Block, None),
    );
    submit_ok(&node, &attest(&viewer, &friend, 90));
    create_viewer(
        &node,
        &viewer,
        json!({
            "lists": [{ "list": format!("{}/spam", did(&curator)), "weight": 1.0 }],
            "protect_trusted": false,
            "groups": [group_arg()],
        }),
    );
    let mut events = EventStream::open(&node, &format!("/v1/viewers/{}/events", did(&viewer)));
    let ready = events.next("ready");
    assert_eq!(ready["viewer"], did(&viewer));

    // The curator now lists someone the viewer trusts, and a stranger.
    submit_ok(
        &node,
        &list_add(&curator, &spam, Subject::Key(friend.public_key()), "oops"),
    );
    let change = events.next("list-change");
    assert_eq!(change["viewer"], did(&viewer));
    assert_eq!(change["lists"][0]["now_hides"], json!([did(&friend)]));
    assert_eq!(change["lists"][0]["now_hides_trusted"], 1);
    let sentence = change["sentences"][0].as_str().unwrap();
    assert!(
        sentence.contains("'spam'") && sentence.contains("now hides 1 author(s) you trust"),
        "{sentence}"
    );
    assert_eq!(change["changes"][0]["before"], "show");
    assert_eq!(change["changes"][0]["after"], "hide");

    submit_ok(
        &node,
        &list_add(&curator, &spam, Subject::Key(stranger.public_key()), "spam"),
    );
    let change = events.next("list-change");
    assert_eq!(change["lists"][0]["now_hides"], json!([did(&stranger)]));
    assert_eq!(change["lists"][0]["now_hides_trusted"], 0);

    // A post in one of the viewer's groups.
    let p = post(&stranger, "in the group", true);
    submit_ok(&node, &p);
    let obj = events.next("object");
    assert_eq!(obj["id"], p.id().to_string());
    assert_eq!(obj["group"], group_arg());
    assert_eq!(obj["kind"], "post");
    assert!(node.metric("events_sent_total") >= 3);
}

#[test]
fn query_commands_answer_through_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &[]);
    let (viewer, curator, spammer) = (key(41), key(42), key(43));
    let spam = ListRef {
        owner: curator.public_key(),
        name: "spam".into(),
    };
    submit_ok(
        &node,
        &list_header(&curator, "spam", ListPurpose::Block, None),
    );
    submit_ok(
        &node,
        &list_add(&curator, &spam, Subject::Key(spammer.public_key()), "spam"),
    );
    let cli = |args: &[&str]| {
        let out = vouch()
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let list = format!("{}/spam", did(&curator));
    let (code, _) = cli(&["viewer", "add", &did(&viewer)]);
    assert_eq!(code, Some(0));
    // Before subscribing: the diff says what subscribing would change.
    let (code, out) = cli(&[
        "list",
        "diff",
        &did(&viewer),
        "--subscribe",
        &list,
        "--json",
    ]);
    assert_eq!(code, Some(0), "{out}");
    let d: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d["lists"][0]["now_hides"], json!([did(&spammer)]));
    let (code, out) = cli(&["decide", &did(&viewer), &did(&spammer), "--json"]);
    assert_eq!(code, Some(0));
    let d: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d["decisions"][0]["verdict"], "show");
    // Subscribe through a policy file, then the list hides the spammer.
    let policy = dir.path().join("policy.json");
    std::fs::write(&policy, json!({ "lists": [{ "list": list }] }).to_string()).unwrap();
    let (code, _) = cli(&[
        "viewer",
        "policy",
        "set",
        &did(&viewer),
        policy.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0));
    let (code, out) = cli(&["decide", &did(&viewer), &did(&spammer)]);
    assert_eq!(code, Some(0));
    assert!(
        out.starts_with("hide") && out.contains("[list-block]"),
        "{out}"
    );
    let (code, out) = cli(&["list", "show", &list, "--json"]);
    assert_eq!(code, Some(0));
    let l: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(l["counts"]["live"], 1);
    // The node's refusals exit 1 with the code.
    let (code, _) = cli(&["viewer", "add", &did(&viewer)]);
    assert_eq!(code, Some(1));
    let (code, _) = cli(&["group", "show", &format!("{}/none", did(&curator))]);
    assert_eq!(code, Some(1));
}
