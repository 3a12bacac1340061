//! The sidecar API is private by default (issue 17), checked against real `vouch node run`
//! processes over real HTTP: the generated admin token and owner-only files (also under
//! umask 022), every call but `/healthz` needs a token, per-viewer tokens reach their viewer
//! only, what a web page could send is refused before any token is looked at, and slow or
//! flooding clients are bounded. The same attacks from a real browser are in `tests/browser`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/nodes.rs"]
mod nodes;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use nodes::*;
use serde_json::{json, Value};
use vouch_node::client::{self, HttpResponse};
use vouch_reputation::SignedObject;

fn did(n: u8) -> String {
    key(n).public_key().to_did_key()
}

/// One raw HTTP/1.1 request with exactly these headers (no defaults), read to the end.
fn raw(node: &Node, head: &str, body: &[u8]) -> HttpResponse {
    let mut s = TcpStream::connect(node.api).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!(
        "{head}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    s.write_all(&req).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.as_bytes().to_vec())
        .unwrap_or_default();
    HttpResponse { status, body }
}

fn code(r: &HttpResponse) -> String {
    let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    v["error"]["code"].as_str().unwrap_or("").to_owned()
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn viewer_count(node: &Node) -> usize {
    let (status, v) = node.call("GET", "/v1/viewers", &Value::Null);
    assert_eq!(status, 200);
    v["viewers"].as_array().unwrap().len()
}

fn cli(node: &Node, args: &[&str]) -> std::process::Output {
    vouch()
        .args(args)
        .env("VOUCH_DATA_DIR", &node.dir)
        .env_remove("VOUCH_NODE")
        .env_remove("VOUCH_API_TOKEN")
        .output()
        .unwrap()
}

#[test]
fn a_generated_token_guards_every_call_but_healthz_and_private_files_are_owner_only() {
    let root = tempfile::tempdir().unwrap();
    // A data directory made by someone with a permissive umask, and a node started with one.
    let dir = root.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let node = Node::start_with(&dir, "127.0.0.1:0", &[], Some("022"));
    let obj = post(&key(1), "hello", false);
    assert_eq!(node.submit(&obj).status, 200);
    let (status, _) = node.call("POST", "/v1/viewers", &json!({ "viewer": did(2) }));
    assert_eq!(status, 201);
    let out = cli(&node, &["token", "create", &did(2)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The token is a 256-bit secret, and the files holding secrets or the viewers' data
    // are owner-only although the umask would have let others read them.
    assert!(node.token.starts_with("vouch-admin-") && node.token.len() >= 43);
    assert_eq!(mode(&dir), 0o700, "the data directory");
    for f in [
        "api.token",
        "api-tokens.json",
        "node.key",
        "vouch.sqlite",
        "vouch.sqlite-wal",
        "vouch.sqlite-shm",
    ] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
    }
    let stored = std::fs::read_to_string(dir.join("api-tokens.json")).unwrap();
    let secret = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(secret.starts_with("vouch-viewer-"), "{secret}");
    assert!(!stored.contains(&secret), "only the token's hash is stored");

    // Without a token, or with a wrong one, nothing but /healthz answers.
    let open = client::Api::new(node.api, None);
    let wrong = client::Api::new(node.api, Some(format!("{}x", node.token)));
    let viewer = did(2);
    let calls: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/v1/status".into(), None),
        ("GET", "/metrics".into(), None),
        ("GET", "/v1/viewers".into(), None),
        ("GET", format!("/v1/viewers/{viewer}"), None),
        ("GET", format!("/v1/viewers/{viewer}/policy"), None),
        ("GET", format!("/v1/viewers/{viewer}/events"), None),
        (
            "GET",
            format!("/v1/viewers/{viewer}/trust/{}", did(1)),
            None,
        ),
        ("GET", format!("/v1/objects/{}", obj.id()), None),
        ("GET", "/v1/tokens".into(), None),
        ("GET", "/no/such/route".into(), None),
        (
            "POST",
            format!("/v1/viewers/{viewer}/decide"),
            Some(json!({"items": [{"author": did(1)}]})),
        ),
        (
            "POST",
            format!("/v1/viewers/{viewer}/diff"),
            Some(json!({})),
        ),
        (
            "POST",
            "/v1/viewers".into(),
            Some(json!({"viewer": did(3)})),
        ),
        ("DELETE", format!("/v1/viewers/{viewer}"), None),
    ];
    for api in [&open, &wrong] {
        for (method, path, body) in &calls {
            let r = match body {
                Some(b) => api.json(method, path, b).unwrap(),
                None => api.request(method, path, None, &[]).unwrap(),
            };
            assert_eq!(
                (r.status, code(&r).as_str()),
                (401, "unauthorized"),
                "{method} {path}"
            );
        }
    }
    let r = open.get("/healthz").unwrap();
    assert_eq!(r.status, 200);
    let health: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(health["status"], "ok");
    let r = open
        .request("POST", "/v1/objects", None, obj.bytes())
        .unwrap();
    assert_eq!(r.status, 401);
    // Nothing was read or changed: the viewer is still there, no other was created.
    assert_eq!(viewer_count(&node), 1);
    assert!(node.metric("api_unauthorized_total") >= 2 * calls.len() as u64);
}

#[test]
fn a_configured_token_must_be_long_and_works_beside_the_generated_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = vouch()
        .args(["node", "run", "--data-dir"])
        .arg(dir.path())
        .args(["--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0"])
        .args(["--api-token", "s3cret"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("at least 32"), "{err}");

    let configured = "a-provisioned-secret-of-40-characters-xx";
    // Off loopback too: the generated token guards it, no configured token is required.
    let node = Node::start_on(dir.path(), "0.0.0.0:0", &["--api-token", configured]);
    let api = client::Api::new(node.api, Some(configured.into()));
    let r = api.get("/v1/status").unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(node.call("GET", "/v1/status", &Value::Null).0, 200);
    assert_eq!(
        client::Api::new(node.api, None)
            .get("/v1/status")
            .unwrap()
            .status,
        401
    );
}

#[test]
fn viewer_tokens_read_and_decide_for_their_viewer_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = Node::start(dir.path(), &[]);
    let (alice, bob) = (did(11), did(12));
    for v in [&alice, &bob] {
        let (status, _) = node.call("POST", "/v1/viewers", &json!({ "viewer": v }));
        assert_eq!(status, 201);
    }
    // Made with the CLI, which finds the node and its admin token on the data directory.
    let made = cli(
        &node,
        &["token", "create", &alice, "--label", "alice's feed app"],
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let reader = String::from_utf8(made.stdout).unwrap().trim().to_owned();
    let (status, created) = node.call(
        "POST",
        "/v1/tokens",
        &json!({"viewer": alice, "scope": "policy", "label": "alice's settings"}),
    );
    assert_eq!(status, 201, "{created}");
    let editor = created["secret"].as_str().unwrap().to_owned();
    // A token for a viewer the node does not have, or with an unknown scope: refused.
    let (status, e) = node.call("POST", "/v1/tokens", &json!({"viewer": did(13)}));
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (404, Some("viewer-not-found"))
    );
    let (status, e) = node.call(
        "POST",
        "/v1/tokens",
        &json!({"viewer": alice, "scope": "all"}),
    );
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (400, Some("bad-scope"))
    );

    let as_reader = client::Api::new(node.api, Some(reader.clone()));
    let as_editor = client::Api::new(node.api, Some(editor.clone()));
    let decide = json!({"items": [{"author": did(1)}]});
    let status = |r: HttpResponse| (r.status, code(&r));
    // Its own viewer: read and decide.
    for api in [&as_reader, &as_editor] {
        assert_eq!(
            api.get(&format!("/v1/viewers/{alice}")).unwrap().status,
            200
        );
        assert_eq!(
            api.get(&format!("/v1/viewers/{alice}/policy"))
                .unwrap()
                .status,
            200
        );
        let r = api
            .json("POST", &format!("/v1/viewers/{alice}/decide"), &decide)
            .unwrap();
        assert_eq!(r.status, 200);
        // The viewer list shows its viewer only.
        let v: Value = serde_json::from_slice(&api.get("/v1/viewers").unwrap().body).unwrap();
        let listed: Vec<&str> = v["viewers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["viewer"].as_str().unwrap())
            .collect();
        assert_eq!(listed, vec![alice.as_str()]);
        // Another viewer: nothing, not even whether it exists.
        for path in [
            format!("/v1/viewers/{bob}"),
            format!("/v1/viewers/{bob}/policy"),
            format!("/v1/viewers/{bob}/subscriptions"),
            format!("/v1/viewers/{bob}/events"),
            format!("/v1/viewers/{}/policy", did(13)),
        ] {
            assert_eq!(
                status(api.get(&path).unwrap()),
                (403, "forbidden".into()),
                "{path}"
            );
        }
        let r = api
            .json("POST", &format!("/v1/viewers/{bob}/decide"), &decide)
            .unwrap();
        assert_eq!(status(r), (403, "forbidden".into()));
        // Admin calls.
        for (method, path) in [
            ("GET", "/v1/status"),
            ("GET", "/metrics"),
            ("GET", "/v1/tokens"),
        ] {
            let r = api.request(method, path, None, &[]).unwrap();
            assert_eq!(status(r), (403, "forbidden".into()), "{path}");
        }
        let r = api
            .json("POST", "/v1/viewers", &json!({"viewer": did(14)}))
            .unwrap();
        assert_eq!(status(r), (403, "forbidden".into()));
        let r = api
            .json("POST", "/v1/tokens", &json!({"viewer": alice}))
            .unwrap();
        assert_eq!(status(r), (403, "forbidden".into()));
        let r = api
            .request("DELETE", &format!("/v1/viewers/{bob}"), None, &[])
            .unwrap();
        assert_eq!(status(r), (403, "forbidden".into()));
    }
    // Only the `policy` scope replaces the policy, and only its viewer's.
    let policy = json!({"unknown_author": "warn"});
    let put = |api: &client::Api, v: &str| {
        status(
            api.json("PUT", &format!("/v1/viewers/{v}/policy"), &policy)
                .unwrap(),
        )
    };
    assert_eq!(put(&as_reader, &alice), (403, "forbidden".into()));
    assert_eq!(put(&as_editor, &bob), (403, "forbidden".into()));
    assert_eq!(put(&as_editor, &alice).0, 200);
    let (_, bobs) = node.call("GET", &format!("/v1/viewers/{bob}/policy"), &Value::Null);
    assert_ne!(bobs["unknown_author"], "warn", "bob's policy is untouched");

    // Listed without secrets; revoked with the CLI; both survive a restart.
    let list = cli(&node, &["token", "list", "--json"]);
    let listed: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(listed["tokens"].as_array().unwrap().len(), 2);
    assert!(!String::from_utf8_lossy(&list.stdout).contains(&reader));
    let reader_id = listed["tokens"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(listed["tokens"][0]["label"], "alice's feed app");
    let out = cli(&node, &["token", "revoke", &reader_id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        status(as_reader.get("/v1/viewers").unwrap()),
        (401, "unauthorized".into())
    );
    assert!(node.stop());
    let node = Node::start(dir.path(), &[]);
    let as_editor = client::Api::new(node.api, Some(editor));
    assert_eq!(
        as_editor
            .get(&format!("/v1/viewers/{alice}"))
            .unwrap()
            .status,
        200
    );
    assert_eq!(
        client::Api::new(node.api, Some(reader))
            .get("/v1/viewers")
            .unwrap()
            .status,
        401
    );
    // Deleting the viewer revokes its tokens.
    let (status_code, _) = node.call("DELETE", &format!("/v1/viewers/{alice}"), &Value::Null);
    assert_eq!(status_code, 204);
    assert_eq!(as_editor.get("/v1/viewers").unwrap().status, 401);
    let (_, left) = node.call("GET", "/v1/tokens", &Value::Null);
    assert_eq!(left["tokens"], json!([]));
}

#[test]
fn what_a_web_page_could_send_is_refused_even_with_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(
        dir.path(),
        &[
            "--api-host",
            "vouch.lan",
            "--api-origin",
            "https://app.example",
        ],
    );
    let port = node.api.port();
    let auth = format!("Authorization: Bearer {}", node.token);
    let create = |host: &str, extra: &str, ct: &str| {
        let body = json!({ "viewer": did(21) }).to_string();
        raw(
            &node,
            &format!(
                "POST /v1/viewers HTTP/1.1\r\nHost: {host}\r\n{auth}\r\nContent-Type: {ct}{extra}"
            ),
            body.as_bytes(),
        )
    };
    let local = format!("127.0.0.1:{port}");
    // DNS rebinding: the page's own name in Host.
    let r = create(&format!("evil.example:{port}"), "", "application/json");
    assert_eq!((r.status, code(&r)), (421, "host-not-allowed".into()));
    let r = raw(
        &node,
        &format!("GET /v1/viewers HTTP/1.1\r\nHost: evil.example:{port}\r\n{auth}"),
        b"",
    );
    assert_eq!((r.status, code(&r)), (421, "host-not-allowed".into()));
    // A page's fetch or form from another origin.
    let r = create(
        &local,
        "\r\nOrigin: http://evil.example",
        "application/json",
    );
    assert_eq!((r.status, code(&r)), (403, "origin-not-allowed".into()));
    let r = create(&local, "\r\nOrigin: null", "application/json");
    assert_eq!((r.status, code(&r)), (403, "origin-not-allowed".into()));
    let r = create(&local, "\r\nSec-Fetch-Site: cross-site", "application/json");
    assert_eq!((r.status, code(&r)), (403, "cross-site-request".into()));
    // Bodies a page can send without a preflight, and other non-JSON types.
    for ct in [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
    ] {
        let r = create(&local, "", ct);
        assert_eq!(
            (r.status, code(&r)),
            (415, "unsupported-media-type".into()),
            "{ct}"
        );
    }
    let obj = post(&key(1), "as text", false);
    let r = raw(
        &node,
        &format!("POST /v1/objects HTTP/1.1\r\nHost: {local}\r\n{auth}\r\nContent-Type: application/json"),
        obj.bytes(),
    );
    assert_eq!((r.status, code(&r)), (415, "unsupported-media-type".into()));
    // A CORS preflight from a page that is not configured gets nothing it could use.
    let preflight = |origin: &str| {
        raw(
            &node,
            &format!(
                "OPTIONS /v1/viewers HTTP/1.1\r\nHost: {local}\r\nOrigin: {origin}\r\n\
                 Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization, content-type"
            ),
            b"",
        )
    };
    let r = preflight("http://evil.example");
    assert_eq!((r.status, code(&r)), (403, "origin-not-allowed".into()));
    assert_eq!(viewer_count(&node), 0, "nothing was created");
    assert!(node.metric("api_host_refused_total") >= 2);
    assert!(node.metric("api_origin_refused_total") >= 4);
    assert!(node.metric("api_media_type_refused_total") >= 6);

    // What the node is configured for works: its host names, its origins with CORS.
    let mut s = TcpStream::connect(node.api).unwrap();
    write!(
        s,
        "OPTIONS /v1/viewers HTTP/1.1\r\nHost: {local}\r\nOrigin: https://app.example\r\n\
         Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut head = String::new();
    let _ = s.read_to_string(&mut head);
    assert!(head.starts_with("HTTP/1.1 204"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("access-control-allow-origin: https://app.example"),
        "{head}"
    );
    let r = create(
        &format!("vouch.lan:{port}"),
        "\r\nOrigin: https://app.example",
        "application/json",
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let r = create(
        &format!("localhost:{port}"),
        "",
        "application/json; charset=utf-8",
    );
    assert_eq!((r.status, code(&r)), (409, "viewer-exists".into()));
    assert_eq!(viewer_count(&node), 1);
}

#[test]
fn slow_and_flooding_clients_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "[api_limits]\nheader_timeout_ms = 1000\nbody_timeout_ms = 1000\nwrite_timeout_ms = 1000\n\
         max_connections = 6\n\
         viewer_rate = 1\nviewer_burst = 3\nstreams_per_token = 1\n",
    )
    .unwrap();
    let node = Node::start(dir.path(), &[]);
    let viewer = did(31);
    assert_eq!(
        node.call("POST", "/v1/viewers", &json!({ "viewer": viewer }))
            .0,
        201
    );
    let until_closed = |s: &mut TcpStream| {
        s.set_read_timeout(Some(DEADLINE)).unwrap();
        let mut buf = Vec::new();
        let start = Instant::now();
        let _ = s.read_to_end(&mut buf);
        assert!(start.elapsed() < DEADLINE, "the server kept the connection");
        buf
    };

    // Headers that never end: the server closes the connection.
    let mut slow = TcpStream::connect(node.api).unwrap();
    slow.write_all(b"GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .unwrap();
    until_closed(&mut slow);
    // A body that never comes: 408.
    let mut s = TcpStream::connect(node.api).unwrap();
    write!(
        s,
        "POST /v1/viewers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"viewer\":",
        node.token
    )
    .unwrap();
    let answer = String::from_utf8_lossy(&until_closed(&mut s)).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body-timeout"), "{answer}");

    // A client that sends requests and never reads the answers: once the kernel's buffers
    // are full, the stalled write closes the connection.
    let mut greedy = TcpStream::connect(node.api).unwrap();
    let one = format!(
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\r\n",
        node.token
    );
    greedy
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    for _ in 0..5_000 {
        if greedy.write_all(one.as_bytes()).is_err() {
            break;
        }
    }
    wait_until("the stalled connection to be closed", || {
        node.metric("api_write_timeouts_total") >= 1
    });
    drop(greedy);

    // Connections beyond the limit are closed at once; the held ones do not stop the
    // node from answering once they go.
    let held: Vec<TcpStream> = (0..6)
        .map(|_| TcpStream::connect(node.api).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut extra = TcpStream::connect(node.api).unwrap();
    let _ = extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    let got = until_closed(&mut extra);
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    drop(held);
    wait_until("the held connections to go", || {
        client::request(node.api, "GET", "/healthz", &[]).is_ok_and(|r| r.status == 200)
    });

    // A per-viewer token's rate: a burst of 3, then 1 per second.
    let (_, t) = node.call("POST", "/v1/tokens", &json!({ "viewer": viewer }));
    let app = client::Api::new(node.api, Some(t["secret"].as_str().unwrap().to_owned()));
    let answers: Vec<u16> = (0..10)
        .map(|_| app.get(&format!("/v1/viewers/{viewer}")).unwrap().status)
        .collect();
    assert!(answers.iter().take(3).all(|s| *s == 200), "{answers:?}");
    assert!(answers.contains(&429), "{answers:?}");
    // The admin token has no rate by default.
    for _ in 0..20 {
        assert_eq!(
            node.call("GET", &format!("/v1/viewers/{viewer}"), &Value::Null)
                .0,
            200
        );
    }
    // One event stream per token here: a second one waits for the first to go.
    let stream = |token: &str| {
        let mut s = TcpStream::connect(node.api).unwrap();
        write!(
            s,
            "GET /v1/viewers/{viewer}/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .unwrap();
        s.set_read_timeout(Some(DEADLINE)).unwrap();
        let mut buf = [0u8; 12];
        s.read_exact(&mut buf).unwrap();
        (s, String::from_utf8_lossy(&buf).into_owned())
    };
    let (_first, status) = stream(&node.token);
    assert_eq!(status, "HTTP/1.1 200");
    let (_second, status) = stream(&node.token);
    assert_eq!(status, "HTTP/1.1 503");

    for (metric, at_least) in [
        ("api_header_timeouts_total", 1),
        ("api_body_timeouts_total", 1),
        ("api_connections_refused_total", 1),
        ("api_rate_limited_total", 1),
        ("api_streams_refused_total", 1),
        ("api_write_timeouts_total", 1),
    ] {
        assert!(node.metric(metric) >= at_least, "{metric}");
    }
    // Each limit is logged once, not per event.
    let log = node.log();
    assert_eq!(
        log.matches("a token made more requests than its rate")
            .count(),
        1,
        "{log}"
    );
}

#[test]
fn decide_verifies_inline_objects_off_the_runtime_and_still_answers() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &[]);
    let viewer = did(41);
    assert_eq!(
        node.call("POST", "/v1/viewers", &json!({ "viewer": viewer }))
            .0,
        201
    );
    let good = post(&key(42), "inline", false);
    let bad = with_bad_signature(&good);
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let other: SignedObject = post(&key(43), "another inline post", false);
    let (status, d) = node.call(
        "POST",
        &format!("/v1/viewers/{viewer}/decide"),
        &json!({"items": [
            {"object": b64(good.bytes())},
            {"object": b64(&bad)},
            {"object": "!!"},
            {"object": b64(other.bytes())},
            {"author": did(42)},
        ]}),
    );
    assert_eq!(status, 200, "{d}");
    let ds = d["decisions"].as_array().unwrap();
    assert!(ds[0]["verdict"].is_string(), "{d}");
    assert_eq!(ds[1]["error"]["code"], "invalid-signature");
    assert_eq!(ds[2]["error"]["code"], "bad-base64");
    assert!(ds[3]["verdict"].is_string(), "{d}");
    assert!(ds[4]["verdict"].is_string(), "{d}");
}
