//! The web console's login and what a session may do, against a real `vouch node run` over
//! raw HTTP (issue 19): the console's files come with the strict headers and no token; a
//! one-time code from `vouch console` opens a `vouch_session` cookie session once; the cookie
//! names its principal only on the console's own requests (not from a configured CORS
//! origin, not without `Origin` on a change, not cross-site); a viewer session is scoped
//! like a viewer token; logout and a deleted viewer end sessions; an admin session makes
//! the node sign a ban with a key of its key folder, and the ban is in force. The same
//! attacks from a real browser page are in `tests/browser/test_console.py`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/nodes.rs"]
mod nodes;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use nodes::*;
use serde_json::{json, Value};

const APP: &str = "http://app.example:3000";

/// An answer: status, head (lowercased names), JSON body.
struct Answer {
    status: u16,
    head: String,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

/// One raw request with exactly these headers (plus Host), read to the end.
fn raw(node: &Node, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let mut s = TcpStream::connect(node.api).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", node.api);
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!(
        "Connection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Answer {
        status: head
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0),
        head: head.to_owned(),
        body: serde_json::from_str(body).unwrap_or(Value::String(body.to_owned())),
    }
}

/// A fresh login code from `vouch console` (`--viewer` if given), as the CLI prints it.
fn console_code(node: &Node, viewer: Option<&str>, scope: &str) -> String {
    let mut cmd = vouch();
    cmd.arg("console").env("VOUCH_DATA_DIR", &node.dir);
    cmd.env_remove("VOUCH_NODE").env_remove("VOUCH_API_TOKEN");
    if let Some(v) = viewer {
        cmd.args(["--viewer", v, "--scope", scope]);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let url = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(
        url.starts_with(&format!("http://{}/login#", node.api)),
        "{url}"
    );
    url.split_once('#').unwrap().1.to_owned()
}

/// Logs in with `code` from the console's own page; returns the cookie header value.
fn login(node: &Node, code: &str) -> Answer {
    let own = format!("http://{}", node.api);
    raw(
        node,
        "POST",
        "/v1/session",
        &[
            ("Origin", &own),
            ("Sec-Fetch-Site", "same-origin"),
            ("Content-Type", "application/json"),
        ],
        &json!({ "code": code }).to_string(),
    )
}

fn cookie_of(a: &Answer) -> String {
    let set = a.header("set-cookie").expect("a session cookie");
    set.split(';').next().unwrap().to_owned()
}

#[test]
fn a_login_code_opens_one_cookie_session_that_only_the_consoles_own_requests_can_use() {
    let root = tempfile::tempdir().unwrap();
    let node = Node::start(&root.path().join("n"), &["--api-origin", APP]);
    let own = format!("http://{}", node.api);

    // The page and its files need no token and come with the strict headers.
    for path in ["/", "/login", "/console/app.js", "/console/app.css"] {
        let a = raw(&node, "GET", path, &[], "");
        assert_eq!(a.status, 200, "{path}");
        let csp = a.header("content-security-policy").unwrap();
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
        assert_eq!(
            a.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
    }
    // Nothing else is readable without a token or a session.
    assert_eq!(raw(&node, "GET", "/v1/viewers", &[], "").status, 401);
    assert_eq!(raw(&node, "GET", "/v1/session", &[], "").status, 401);

    // A code works once.
    let code = console_code(&node, None, "");
    let a = login(&node, &code);
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["role"], "admin");
    let set = a.header("set-cookie").unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{set}");
    }
    let cookie = cookie_of(&a);
    let again = login(&node, &code);
    assert_eq!((again.status, again.code()), (401, "bad-login-code"));
    assert_eq!(login(&node, "made-up").status, 401);

    // The console's own requests: a GET (no Origin), a change (with its Origin).
    let same = [
        ("Cookie", cookie.as_str()),
        ("Sec-Fetch-Site", "same-origin"),
    ];
    let who = raw(&node, "GET", "/v1/session", &same, "");
    assert_eq!(
        (who.status, who.body["role"].as_str()),
        (200, Some("admin"))
    );
    let viewer = key(7).public_key().to_did_key();
    let create = json!({ "viewer": viewer, "policy": {} }).to_string();
    let made = raw(
        &node,
        "POST",
        "/v1/viewers",
        &[
            ("Cookie", &cookie),
            ("Origin", &own),
            ("Content-Type", "application/json"),
        ],
        &create,
    );
    assert_eq!(made.status, 201, "{}", made.body);

    // Anything else with the cookie is refused, counted, and changes nothing.
    let refused_before = node.metric("api_origin_refused_total");
    let other = key(8).public_key().to_did_key();
    let other_body = json!({ "viewer": other, "policy": {} }).to_string();
    let json_ct = ("Content-Type", "application/json");
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case<'_>> = vec![
        // A configured app's page: CORS lets it call with a token, never with the cookie.
        ("GET", vec![("Cookie", &cookie), ("Origin", APP)], ""),
        (
            "POST",
            vec![("Cookie", &cookie), ("Origin", APP), json_ct],
            &other_body,
        ),
        // A change without Origin is not a page of ours.
        ("POST", vec![("Cookie", &cookie), json_ct], &other_body),
        // Another port of the same host (same site: SameSite does not stop it).
        (
            "POST",
            vec![
                ("Cookie", &cookie),
                ("Origin", "http://127.0.0.1:1"),
                json_ct,
            ],
            &other_body,
        ),
        // A browser's request for another site's page.
        (
            "GET",
            vec![("Cookie", &cookie), ("Sec-Fetch-Site", "cross-site")],
            "",
        ),
        (
            "GET",
            vec![("Cookie", &cookie), ("Sec-Fetch-Site", "same-site")],
            "",
        ),
    ];
    for (method, headers, body) in &cases {
        let a = raw(&node, method, "/v1/viewers", headers, body);
        assert_eq!(a.status, 403, "{method} {headers:?}: {}", a.body);
        assert!(
            ["cross-site-request", "origin-not-allowed"].contains(&a.code()),
            "{}",
            a.code()
        );
    }
    assert!(node.metric("api_origin_refused_total") >= refused_before + cases.len() as u64);
    let (_, all) = node.call("GET", "/v1/viewers", &Value::Null);
    assert_eq!(
        all["viewers"].as_array().unwrap().len(),
        1,
        "nothing was created"
    );
    // A configured origin cannot open a session either.
    let from_app = raw(
        &node,
        "POST",
        "/v1/session",
        &[("Origin", APP), json_ct],
        &json!({ "code": console_code(&node, None, "") }).to_string(),
    );
    assert_eq!(
        (from_app.status, from_app.code()),
        (403, "cross-site-request")
    );

    // A viewer session is scoped like a viewer token of scope read.
    let code = console_code(&node, Some(&viewer), "read");
    let v = login(&node, &code);
    assert_eq!(
        (v.body["role"].as_str(), v.body["viewer"].as_str()),
        (Some("viewer"), Some(viewer.as_str()))
    );
    let vc = cookie_of(&v);
    let vsame = [("Cookie", vc.as_str())];
    assert_eq!(
        raw(
            &node,
            "GET",
            &format!("/v1/viewers/{viewer}/policy"),
            &vsame,
            ""
        )
        .status,
        200
    );
    assert_eq!(
        raw(&node, "GET", "/v1/console/keys", &vsame, "").status,
        403
    );
    assert_eq!(raw(&node, "GET", "/v1/status", &vsame, "").status, 403);
    let put = raw(
        &node,
        "PUT",
        &format!("/v1/viewers/{viewer}/policy"),
        &[("Cookie", &vc), ("Origin", &own), json_ct],
        "{}",
    );
    assert_eq!((put.status, put.code()), (403, "forbidden"));
    let sign = raw(
        &node,
        "POST",
        "/v1/console/sign",
        &[("Cookie", &vc), ("Origin", &own), json_ct],
        &json!({"action": "appeal-answer", "key": "x", "appeal": "b", "outcome": "upheld"})
            .to_string(),
    );
    assert_eq!(
        (sign.status, sign.code()),
        (403, "forbidden"),
        "the node signs for admins only"
    );

    // Deleting the viewer ends its sessions; logout ends the admin's.
    assert_eq!(
        node.call("DELETE", &format!("/v1/viewers/{viewer}"), &Value::Null)
            .0,
        204
    );
    assert_eq!(raw(&node, "GET", "/v1/session", &vsame, "").status, 401);
    let out = raw(
        &node,
        "DELETE",
        "/v1/session",
        &[("Cookie", &cookie), ("Origin", &own)],
        "",
    );
    assert_eq!(out.status, 204);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(raw(&node, "GET", "/v1/session", &same, "").status, 401);
}

#[test]
fn an_admin_session_makes_the_node_sign_a_ban_with_a_key_of_its_key_folder() {
    let root = tempfile::tempdir().unwrap();
    let keys = root.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let owner = key(200); // the e2e group's owner
    vouch_identity::write_key_file(&keys.join("owner.key"), &owner).unwrap();
    let node = Node::start_env(
        &root.path().join("n"),
        "127.0.0.1:0",
        &[],
        None,
        &[("VOUCH_KEY_DIR", keys.as_path())],
    );
    let own = format!("http://{}", node.api);
    // The group and its ban list, as its owner publishes them with the CLI.
    let made = vouch()
        .args([
            "group", "create", "--key", "owner", "e2e", "--rules", "Be kind.",
        ])
        .env("VOUCH_KEY_DIR", &keys)
        .env("VOUCH_HOME", root.path())
        .env("VOUCH_DATA_DIR", &node.dir)
        .env_remove("VOUCH_NODE")
        .env_remove("VOUCH_API_TOKEN")
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let troll = key(9);
    let p = post(&troll, "you are all idiots", true);
    assert_eq!(node.submit(&p).status, 200);

    let cookie = cookie_of(&login(&node, &console_code(&node, None, "")));
    let listed = raw(&node, "GET", "/v1/console/keys", &[("Cookie", &cookie)], "");
    assert_eq!(listed.body["keys"][0]["name"], "owner");
    assert_eq!(
        listed.body["keys"][0]["did"],
        owner.public_key().to_did_key()
    );

    let ban_list = format!("{}-bans", group_arg());
    let ban = json!({
        "action": "list-add", "key": "owner", "list": ban_list,
        "subject": troll.public_key().to_did_key(), "reason": "insults", "category": "harassment"
    });
    let signed = raw(
        &node,
        "POST",
        "/v1/console/sign",
        &[
            ("Cookie", &cookie),
            ("Origin", &own),
            ("Content-Type", "application/json"),
        ],
        &ban.to_string(),
    );
    assert_eq!(signed.status, 201, "{}", signed.body);
    assert_eq!(signed.body["kind"], "list-add");
    assert_eq!(signed.body["author"], owner.public_key().to_did_key());
    // The node holds the signed object, and the group's ban is in force.
    let id: vouch_reputation::ObjectId = signed.body["id"].as_str().unwrap().parse().unwrap();
    assert!(node.has(&id));
    let (_, bans) = node.call(
        "GET",
        &format!("/v1/groups/{}/bans", group_arg()),
        &Value::Null,
    );
    assert_eq!(
        bans["bans"][0]["subject"],
        troll.public_key().to_did_key(),
        "{bans}"
    );
    // An unknown key name, or a path, is not signed with.
    for name in ["nobody", "../keys/owner"] {
        let a = raw(
            &node,
            "POST",
            "/v1/console/sign",
            &[("Cookie", &cookie), ("Origin", &own), ("Content-Type", "application/json")],
            &json!({"action": "list-add", "key": name, "list": ban_list, "subject": troll.public_key().to_did_key()}).to_string(),
        );
        assert!(
            ["key-not-found", "bad-key-name"].contains(&a.code()),
            "{name}: {}",
            a.body
        );
    }
    // A curator's view of appeals against the list's entries.
    let ban_id: vouch_reputation::ObjectId =
        bans["bans"][0]["ban"].as_str().unwrap().parse().unwrap();
    let appeal = vouch_reputation::Object {
        author: troll.public_key(),
        at: now_ms(),
        body: vouch_reputation::Body::Appeal(vouch_reputation::AppealBody {
            target: ban_id,
            text: Some("I was joking".into()),
            outcome: None,
        }),
    }
    .sign(&troll)
    .unwrap();
    assert_eq!(node.submit(&appeal).status, 200);
    let (status, appeals) = node.call(
        "GET",
        &format!("/v1/lists/{ban_list}/appeals"),
        &Value::Null,
    );
    assert_eq!(status, 200, "{appeals}");
    assert_eq!(appeals["total"], 1);
    assert_eq!(appeals["appeals"][0]["appeal"], appeal.id().to_string());
    assert_eq!(appeals["appeals"][0]["state"], "open");
    // The owner answers it from the console: the list's appeal is closed.
    let answered = raw(
        &node,
        "POST",
        "/v1/console/sign",
        &[("Cookie", &cookie), ("Origin", &own), ("Content-Type", "application/json")],
        &json!({"action": "appeal-answer", "key": "owner", "appeal": appeal.id().to_string(), "outcome": "upheld"}).to_string(),
    );
    assert_eq!(answered.status, 201, "{}", answered.body);
    let (_, appeals) = node.call(
        "GET",
        &format!("/v1/lists/{ban_list}/appeals"),
        &Value::Null,
    );
    assert_eq!(appeals["appeals"][0]["state"], "upheld", "{appeals}");
    // The group's posts, for the console's feed.
    let (_, posts) = node.call(
        "GET",
        &format!("/v1/groups/{}/posts", group_arg()),
        &Value::Null,
    );
    assert_eq!(posts["posts"][0]["id"], p.id().to_string());
    assert_eq!(posts["posts"][0]["text"], "you are all idiots");
}

#[test]
fn vouch_node_run_prints_a_one_time_admin_login_link() {
    use std::io::BufRead;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("n");
    let mut child = vouch()
        .args(["node", "run", "--data-dir"])
        .arg(&dir)
        .args(["--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let out = std::io::BufReader::new(child.stdout.take().unwrap());
    let line = out
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with("console: "))
        .expect("a console line");
    let url = line.split_whitespace().nth(1).unwrap().to_owned();
    let addr = vouch_node::client::api_addr(&dir).unwrap();
    assert!(url.starts_with(&format!("http://{addr}/login#")), "{url}");
    let code = url.split_once('#').unwrap().1;
    let node = Node {
        dir: dir.clone(),
        child,
        api: addr,
        token: vouch_node::client::api_token(&dir).unwrap(),
    };
    let a = login(&node, code);
    assert_eq!(
        (a.status, a.body["role"].as_str()),
        (201, Some("admin")),
        "{}",
        a.body
    );
    assert_eq!(
        login(&node, code).status,
        401,
        "the printed code works once"
    );
}
