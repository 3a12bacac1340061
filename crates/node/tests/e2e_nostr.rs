//! End to end, Nostr under attack: a real `vouch node` reads a hostile relay (written here,
//! as the attack suite's hostile peer is: it plays the attacker, never the honest part; the
//! honest relay and client are independent implementations, `tests/interop-nostr/`). The
//! relay sends, between a viewer's honest evidence, a flood of events with bad signatures
//! from fresh keys, a future event, an older follow list (a rollback), garbage text, a
//! binary frame, and an oversized message that breaks the connection mid-stream. Each is
//! refused and counted, the node reconnects, keeps serving, hides the note of an author two
//! of the viewer's follows mute, and keeps that evidence across a restart without the relay.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/nodes.rs"]
mod nodes;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use k256::schnorr::SigningKey;
use nodes::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio_tungstenite::tungstenite::Message;

fn sk(n: u32) -> SigningKey {
    let mut b = [0x22u8; 32];
    b[28..].copy_from_slice(&n.to_be_bytes());
    SigningKey::from_bytes(&b).unwrap()
}

fn pk(k: &SigningKey) -> String {
    hex::encode(k.verifying_key().to_bytes())
}

/// A NIP-01 event signed by `k` (built here from the NIP's text, not with the node's code).
fn event(k: &SigningKey, created_at: u64, kind: u32, tags: Value, content: &str) -> Value {
    let pubkey = pk(k);
    let ser = json!([0, pubkey, created_at, kind, tags, content]).to_string();
    let id: [u8; 32] = Sha256::digest(ser.as_bytes()).into();
    let sig = k.sign_raw(&id, &[7; 32]).unwrap();
    json!({"id": hex::encode(id), "pubkey": pubkey, "created_at": created_at, "kind": kind,
           "tags": tags, "content": content, "sig": hex::encode(sig.to_bytes())})
}

fn p(k: &SigningKey) -> Value {
    json!(["p", pk(k)])
}

struct Script {
    /// Messages of the first connection (it ends with an oversized one).
    first: Vec<Message>,
    /// Messages of every later connection.
    later: Vec<Message>,
}

/// Serves `script` on a loopback WebSocket; counts connections.
fn hostile_relay(script: Script) -> (String, Arc<AtomicUsize>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let conns = Arc::new(AtomicUsize::new(0));
    let c = conns.clone();
    let script = Arc::new(script);
    std::thread::spawn(move || {
        rt.block_on(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let n = c.fetch_add(1, Ordering::SeqCst);
                let script = script.clone();
                tokio::spawn(async move {
                    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                        return;
                    };
                    // Wait for the node's REQ.
                    while let Some(Ok(m)) = ws.next().await {
                        if m.to_text().is_ok_and(|t| t.starts_with("[\"REQ\"")) {
                            break;
                        }
                    }
                    let msgs = if n == 0 { &script.first } else { &script.later };
                    for m in msgs {
                        if ws.send(m.clone()).await.is_err() {
                            return;
                        }
                    }
                    // Keep the connection open (reading what the node sends).
                    while let Some(Ok(_)) = ws.next().await {}
                });
            }
        });
    });
    (format!("ws://{addr}"), conns)
}

fn ev_msg(e: &Value) -> Message {
    Message::text(json!(["EVENT", "vouch", e]).to_string())
}

#[test]
fn a_hostile_relay_is_counted_and_the_node_keeps_serving() {
    let now = now_ms() / 1000;
    let (v, a, b, m, x) = (sk(1), sk(2), sk(3), sk(4), sk(5));
    let honest = [
        event(&v, now - 10, 3, json!([p(&a), p(&b)]), ""),
        event(&a, now - 10, 10000, json!([p(&m)]), ""),
        event(&b, now - 10, 10000, json!([p(&m)]), ""),
        // The viewer's own mute: its own choice, hidden without the quorum of two.
        event(&v, now - 10, 10000, json!([p(&x)]), ""),
    ];
    let mut first: Vec<Message> = honest[..1].iter().map(ev_msg).collect();
    // A flood of 300 events from fresh keys with signatures that do not verify.
    for i in 0..300u32 {
        let mut e = event(&sk(1000 + i), now, 10000, json!([p(&a)]), "");
        let other = event(&sk(5000 + i), now, 1, json!([]), "x");
        e["sig"] = other["sig"].clone();
        first.push(ev_msg(&e));
    }
    first.extend(honest[1..].iter().map(ev_msg));
    // The viewer's older follow list (only m): a rollback.
    first.push(ev_msg(&event(&v, now - 1000, 3, json!([p(&m)]), "")));
    // A future event, garbage, a malformed EVENT, a binary frame.
    first.push(ev_msg(&event(&a, now + 7200, 3, json!([p(&m)]), "")));
    first.push(Message::text("this is not json"));
    first.push(Message::text(r#"["EVENT","vouch","not an event"]"#));
    first.push(Message::binary(vec![0u8; 64]));
    // An oversized message: the node drops the connection and comes back.
    let big = "x".repeat(700 * 1024);
    first.push(ev_msg(&event(&a, now, 1, json!([]), &big)));
    let mut later: Vec<Message> = honest.iter().map(ev_msg).collect();
    later.push(Message::text(r#"["EOSE","vouch"]"#));
    let (url, conns) = hostile_relay(Script { first, later });

    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "[nostr]\nrelays = [\"{url}\"]\nviewers = [\"{}\"]\nquorum = 2\nmax_backoff_secs = 1\n",
        pk(&v)
    );
    std::fs::create_dir_all(dir.path()).unwrap();
    std::fs::write(dir.path().join("config.toml"), config).unwrap();
    let mut node = Node::start(dir.path(), &[]);

    let note = event(&m, now, 1, json!([]), "buy my coin");
    let decide = |node: &Node| -> Value {
        let body = json!({"items": [{"event": note}], "explain": true}).to_string();
        let r = node.request(
            "POST",
            &format!("/v1/nostr/viewers/{}/decide", pk(&v)),
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        serde_json::from_slice::<Value>(&r.body).unwrap()["decisions"][0].clone()
    };
    wait_until("the note of a doubly muted author is hidden", || {
        decide(&node)["verdict"] == "hide"
    });
    wait_until("the node reconnected after the oversized message", || {
        conns.load(Ordering::SeqCst) >= 2 && node.metric("nostr_relay_reconnects_total") >= 1
    });
    let d = decide(&node);
    let cited: Vec<&str> = d["nostr_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    for e in &honest[1..3] {
        assert!(cited.contains(&e["id"].as_str().unwrap()), "{d}");
    }
    assert!(node.metric("nostr_refused_invalid_total") >= 300);
    assert!(node.metric("nostr_refused_future_total") >= 1);
    assert!(node.metric("nostr_events_rollback_total") >= 1);
    // Garbage text, the malformed EVENT, the binary frame, the oversized message.
    assert!(node.metric("nostr_relay_garbage_total") >= 3);
    // The flood applied nothing: only the honest events (and their replays as duplicates).
    assert_eq!(node.metric("nostr_events_applied_total"), 4);
    assert_eq!(node.request("GET", "/healthz", &[]).status, 200);
    // The viewer's follow list in force is the newer one: a is still followed (shown).
    let note_a = event(&a, now, 1, json!([]), "hello");
    let body = json!({"items": [{"event": note_a}]}).to_string();
    let r = node.request(
        "POST",
        &format!("/v1/nostr/viewers/{}/decide", pk(&v)),
        body.as_bytes(),
    );
    let got: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(got["decisions"][0]["verdict"], "show", "{got}");
    // The author only the viewer muted: hidden, its mute cited.
    let note_x = event(&x, now, 1, json!([]), "you muted me");
    let body = json!({"items": [{"event": note_x}]}).to_string();
    let r = node.request(
        "POST",
        &format!("/v1/nostr/viewers/{}/decide", pk(&v)),
        body.as_bytes(),
    );
    let got: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(got["decisions"][0]["verdict"], "hide", "{got}");
    let cited = got["decisions"][0]["nostr_events"].to_string();
    assert!(cited.contains(honest[3]["id"].as_str().unwrap()), "{got}");

    // Restart without relays: the evidence was kept (nostr.db) and replayed.
    assert!(node.stop());
    std::fs::write(
        dir.path().join("config.toml"),
        format!("[nostr]\nviewers = [\"{}\"]\nquorum = 2\n", pk(&v)),
    )
    .unwrap();
    let node = Node::start(dir.path(), &[]);
    wait_until("the hidden verdict survives a restart", || {
        decide(&node)["verdict"] == "hide"
    });

    // The same through the command line (`vouch nostr`, the node's API).
    let cli = |args: &[&str]| -> std::process::Output {
        vouch()
            .args(args)
            .env("VOUCH_DATA_DIR", dir.path())
            .env("VOUCH_HOME", dir.path())
            .output()
            .unwrap()
    };
    let out = cli(&["nostr", "status", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["viewers"][0]["pubkey"], pk(&v).as_str(), "{status}");
    let note_file = dir.path().join("note.json");
    std::fs::write(&note_file, note.to_string()).unwrap();
    let out = cli(&[
        "nostr",
        "decide",
        &pk(&v),
        "--event",
        note_file.to_str().unwrap(),
        "--pubkey",
        &pk(&a),
    ]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with(' ')).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("hide") && l.contains("event")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("show") && l.contains("author")),
        "{text}"
    );
    assert!(text.contains("[list-block]"), "{text}");
    // A new viewer by npub; a key that is not one is refused before any call.
    let w = pk(&sk(9));
    let out = cli(&["nostr", "viewer", &w, "--json"]);
    assert!(out.status.success(), "{out:?}");
    let added: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(added["pubkey"], w.as_str(), "{added}");
    let out = cli(&["nostr", "assertions", &w, "--json"]);
    assert!(out.status.success(), "{out:?}");
    let out = cli(&["nostr", "viewer", "npub1notakey"]);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a Nostr public key"),
        "{out:?}"
    );
}
