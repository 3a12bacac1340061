//! End to end, real `vouch` processes on loopback: gossip reaches every node, replication
//! follows the node's bans and blocks, invalid senders are banned, and hostile input never
//! crashes a node.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/nodes.rs"]
mod nodes;

use nodes::*;
use std::io::Write;

#[test]
fn five_nodes_a_post_reaches_all_and_blocked_authors_are_not_replicated() {
    let tmp = tempfile::tempdir().unwrap();
    let g = group_arg();
    let blocked = key(66);
    let blocked_did = blocked.public_key().to_did_key();
    let hub = Node::start(&tmp.path().join("n0"), &["--group", &g]);
    let hub_tcp = hub.tcp_addr();
    let hub_quic = hub.quic_addr();
    let mut others = Vec::new();
    for i in 1..5 {
        // Two nodes join over QUIC, two over TCP; the last one blocks an author.
        let boot = if i % 2 == 0 { &hub_quic } else { &hub_tcp };
        let mut args = vec!["--group", &g, "--bootstrap", boot];
        if i == 4 {
            args.extend(["--block-author", &blocked_did]);
        }
        others.push(Node::start(&tmp.path().join(format!("n{i}")), &args));
    }
    wait_until("every node connected to the hub", || {
        hub.connected().len() >= 4 && others.iter().all(|n| !n.connected().is_empty())
    });

    // A group post published on one node reaches all the others.
    let p = post(&key(1), "hello from node 2", true);
    assert_eq!(others[1].submit(&p).status, 200);
    let all: Vec<&Node> = std::iter::once(&hub).chain(others.iter()).collect();
    wait_until("the post on all five nodes", || {
        all.iter().all(|n| n.has(&p.id()))
    });

    // A social post by a blocked author reaches everyone but the node that blocks it.
    let b = post(&blocked, "spam", false);
    assert_eq!(others[0].submit(&b).status, 200);
    wait_until("the blocked author's post on the other four", || {
        all[..4].iter().all(|n| n.has(&b.id()))
    });
    wait_until("the blocking node refusing it", || {
        others[3].metric("objects_refused_by_policy_total") >= 1
    });
    assert!(!others[3].has(&b.id()));
    // Its own users cannot submit it either, and the refusal has a stable code.
    let r = others[3].submit(&b);
    assert_eq!(r.status, 403);
    assert!(String::from_utf8_lossy(&r.body).contains("refused-blocked-author"));
    let metrics = others[3].request("GET", "/metrics", &[]);
    assert!(
        String::from_utf8_lossy(&metrics.body).contains("vouch_objects_refused_by_policy_total")
    );
}

#[test]
fn a_peer_sending_bad_signatures_is_banned_and_nothing_it_sent_is_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let victim = Node::start(&tmp.path().join("victim"), &[]);
    let victim_addr = victim.tcp_addr();
    let evil = Node::start(
        &tmp.path().join("evil"),
        &["--bootstrap", &victim_addr, "--unsafe-dev-publish-raw"],
    );
    let evil_id = evil.peer_id();
    wait_until("evil connected to the victim", || {
        victim.connected().contains(&evil_id)
    });

    let mut bad_ids = Vec::new();
    for i in 0..5 {
        let obj = post(&key(7), &format!("forged {i}"), false);
        let bytes = with_bad_signature(&obj);
        bad_ids.push(vouch_reputation::ObjectId::of_bytes(&bytes));
        // Publishing fails until the evil node has seen the victim's subscription; once
        // banned, it fails for good.
        let mut published = false;
        wait_until("a forged object published", || {
            if victim.status()["banned"].as_array().unwrap().len() == 1 {
                return true;
            }
            let r = evil.request("POST", "/v1/dev/publish-raw?topic=vouch/1/social", &bytes);
            published = r.status == 200;
            published
        });
    }
    wait_until("the evil peer banned and disconnected", || {
        let s = victim.status();
        s["banned"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == evil_id.as_str())
            && !victim.connected().contains(&evil_id)
    });
    assert!(victim.metric("gossip_rejected_total") >= 3);
    assert_eq!(victim.metric("peers_banned_total"), 1);
    assert_eq!(victim.metric("objects_stored_total"), 0);
    for id in &bad_ids {
        assert!(!victim.has(id));
    }
}

#[test]
fn oversize_and_malformed_input_never_crashes_a_node() {
    let tmp = tempfile::tempdir().unwrap();
    let victim = Node::start(&tmp.path().join("victim"), &[]);
    let victim_tcp = victim.tcp_addr();

    // Garbage straight at the libp2p TCP port, and at the QUIC port.
    let port: u16 = victim_tcp.split('/').nth(4).unwrap().parse().unwrap();
    if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
        let _ = s.write_all(&vec![0xAB; 256 * 1024]);
    }
    let quic_port: u16 = victim
        .quic_addr()
        .split('/')
        .nth(4)
        .unwrap()
        .parse()
        .unwrap();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..50 {
        let _ = udp.send_to(&[0x5A; 1200], ("127.0.0.1", quic_port));
    }

    // Garbage at the endpoint: clear errors with stable codes.
    let r = victim.request("POST", "/v1/objects", b"\xa1\x61v\x01 not an object");
    assert_eq!(r.status, 422);
    assert!(String::from_utf8_lossy(&r.body).contains("\"code\":\"malformed\""));
    // Over the body limit: 413, unless the server closed the connection before reading it all.
    if let Ok(r) = victim
        .client()
        .request("POST", "/v1/objects", None, &vec![0u8; 1536 * 1024])
    {
        assert_eq!(r.status, 413);
        assert_eq!(victim.metric("api_body_too_large_total"), 1);
    }
    let r = victim.request("POST", "/v1/objects", &vec![0x40; 70 * 1024]);
    assert_eq!(r.status, 422);
    assert!(String::from_utf8_lossy(&r.body).contains("\"code\":\"oversize\""));
    assert_eq!(
        victim.request("GET", "/v1/objects/not-a-cid", &[]).status,
        400
    );

    // Garbage over gossip from a peer: malformed, truncated and oversize messages.
    let evil = Node::start(
        &tmp.path().join("evil"),
        &["--bootstrap", &victim_tcp, "--unsafe-dev-publish-raw"],
    );
    let evil_id = evil.peer_id();
    wait_until("evil connected", || victim.connected().contains(&evil_id));
    let valid = post(&key(3), "soon truncated", false);
    let junk: Vec<Vec<u8>> = vec![
        vec![0xff; 100],
        valid.bytes()[..valid.bytes().len() / 2].to_vec(),
        vec![0x42; 200 * 1024],
    ];
    for j in &junk {
        let mut tries = 0;
        wait_until("junk published", || {
            tries += 1;
            let r = evil.request("POST", "/v1/dev/publish-raw?topic=vouch/1/social", j);
            r.status == 200 || tries > 50
        });
    }

    // The victim is alive and still works: a good peer's post reaches it.
    let good = Node::start(&tmp.path().join("good"), &["--bootstrap", &victim_tcp]);
    let p = post(&key(4), "still alive?", false);
    assert_eq!(good.submit(&p).status, 200);
    wait_until("the good post on the victim", || victim.has(&p.id()));
    assert_eq!(victim.request("GET", "/healthz", &[]).status, 200);
    assert_eq!(victim.status()["objects"].as_u64().unwrap(), 1);
}
