//! Helpers for the end-to-end tests: start real `vouch` processes on loopback with temp data
//! directories, talk to their loopback endpoint, and wait with generous bounded deadlines.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use vouch_identity::SecretKey;
use vouch_node::client::{self, HttpResponse};
use vouch_reputation::{Body, GroupRef, Object, ObjectId, PostBody, SignedObject};

/// Generous deadline for anything the network must do.
pub const DEADLINE: Duration = Duration::from_secs(90);

pub fn vouch() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vouch"))
}

/// Polls `f` every 100 ms until it holds; panics with `what` after `DEADLINE`.
pub fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        if start.elapsed() > DEADLINE {
            panic!("timed out waiting for: {what}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn now_ms() -> u64 {
    vouch_node::now_ms()
}

pub fn key(n: u8) -> SecretKey {
    SecretKey::from_seed(&[n; 32])
}

pub fn group() -> GroupRef {
    GroupRef {
        owner: key(200).public_key(),
        name: "e2e".into(),
    }
}

pub fn group_arg() -> String {
    format!("{}/e2e", key(200).public_key().to_did_key())
}

/// A signed post (in the e2e group if `in_group`).
pub fn post(author: &SecretKey, text: &str, in_group: bool) -> SignedObject {
    Object {
        author: author.public_key(),
        at: now_ms(),
        body: Body::Post(PostBody {
            group: in_group.then(group),
            text: text.into(),
            ..Default::default()
        }),
    }
    .sign(author)
    .unwrap()
}

/// The encoding of `obj` with one bit of its signature flipped.
pub fn with_bad_signature(obj: &SignedObject) -> Vec<u8> {
    let mut bytes = obj.bytes().to_vec();
    let sig = obj.signature().0;
    let pos = bytes
        .windows(sig.len())
        .position(|w| w == sig)
        .expect("signature in the encoding");
    bytes[pos + 10] ^= 0x01;
    bytes
}

/// A running `vouch node run`.
pub struct Node {
    pub dir: PathBuf,
    pub child: Child,
    pub api: SocketAddr,
    /// The node's admin token (`<dir>/api.token`).
    pub token: String,
}

impl Node {
    /// Starts a node on `dir` (loopback TCP and QUIC, ephemeral ports) with `extra` flags.
    pub fn start(dir: &Path, extra: &[&str]) -> Node {
        Node::start_on(dir, "127.0.0.1:0", extra)
    }

    /// Starts a node whose HTTP API listens on `api`.
    pub fn start_on(dir: &Path, api: &str, extra: &[&str]) -> Node {
        Node::start_with(dir, api, extra, None)
    }

    /// Starts a node, under the process umask `umask` (octal, e.g. "022") if given.
    pub fn start_with(dir: &Path, api: &str, extra: &[&str], umask: Option<&str>) -> Node {
        Node::start_env(dir, api, extra, umask, &[])
    }

    /// Starts a node with `env` set besides the test's environment.
    pub fn start_env(
        dir: &Path,
        api: &str,
        extra: &[&str],
        umask: Option<&str>,
        env: &[(&str, &Path)],
    ) -> Node {
        std::fs::create_dir_all(dir).unwrap();
        let _ = std::fs::remove_file(dir.join(client::API_ADDR_FILE));
        let _ = std::fs::remove_file(dir.join(client::LISTEN_ADDRS_FILE));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("node.log"))
            .unwrap();
        let mut cmd = match umask {
            Some(m) => {
                let mut c = Command::new("sh");
                c.args(["-c", &format!("umask {m} && exec \"$0\" \"$@\"")])
                    .arg(env!("CARGO_BIN_EXE_vouch"));
                c
            }
            None => vouch(),
        };
        let child = cmd
            .args(["node", "run", "--data-dir"])
            .arg(dir)
            .args([
                "--listen",
                "/ip4/127.0.0.1/tcp/0",
                "--listen",
                "/ip4/127.0.0.1/udp/0/quic-v1",
                "--api",
                api,
            ])
            .args(extra)
            .envs(env.iter().copied())
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut node = Node {
            dir: dir.to_owned(),
            child,
            api: "127.0.0.1:1".parse().unwrap(),
            token: String::new(),
        };
        wait_until("node endpoint and listen addresses", || {
            if let Ok(Some(status)) = node.child.try_wait() {
                panic!("node exited early with {status}: {}", node.log());
            }
            let addrs =
                std::fs::read_to_string(dir.join(client::LISTEN_ADDRS_FILE)).unwrap_or_default();
            match client::api_addr(dir) {
                Ok(a) if addrs.contains("/tcp/") && addrs.contains("/quic-v1") => {
                    node.api = a;
                    node.token = client::api_token(dir).unwrap();
                    true
                }
                _ => false,
            }
        });
        node
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("node.log")).unwrap_or_default()
    }

    fn listen_addr(&self, marker: &str) -> String {
        std::fs::read_to_string(self.dir.join(client::LISTEN_ADDRS_FILE))
            .unwrap()
            .lines()
            .find(|l| l.contains(marker))
            .unwrap()
            .to_owned()
    }

    /// The TCP listen address with `/p2p/<id>`.
    pub fn tcp_addr(&self) -> String {
        self.listen_addr("/tcp/")
    }

    /// The QUIC listen address with `/p2p/<id>`.
    pub fn quic_addr(&self) -> String {
        self.listen_addr("/quic-v1")
    }

    /// The API with the node's admin token.
    pub fn client(&self) -> client::Api {
        client::Api::new(self.api, Some(self.token.clone()))
    }

    /// One call with the admin token; a body goes as DAG-CBOR to `/v1/objects` and
    /// `/v1/dev/...`, as JSON elsewhere.
    pub fn request(&self, method: &str, path: &str, body: &[u8]) -> HttpResponse {
        let content_type = if body.is_empty() {
            None
        } else if path.starts_with("/v1/objects") || path.starts_with("/v1/dev/") {
            Some("application/vnd.ipld.dag-cbor")
        } else {
            Some("application/json")
        };
        self.client()
            .request(method, path, content_type, body)
            .unwrap()
    }

    /// A JSON call with the admin token: the status and the answer's JSON (null if none).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let r = if body.is_null() {
            self.client().request(method, path, None, &[]).unwrap()
        } else {
            self.client().json(method, path, body).unwrap()
        };
        let v = serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null);
        (r.status, v)
    }

    pub fn submit(&self, obj: &SignedObject) -> HttpResponse {
        self.request("POST", "/v1/objects", obj.bytes())
    }

    pub fn has(&self, id: &ObjectId) -> bool {
        self.request("GET", &format!("/v1/objects/{id}"), &[])
            .status
            == 200
    }

    pub fn status(&self) -> serde_json::Value {
        let r = self.request("GET", "/v1/status", &[]);
        assert_eq!(r.status, 200);
        serde_json::from_slice(&r.body).unwrap()
    }

    pub fn peer_id(&self) -> String {
        self.status()["peer_id"].as_str().unwrap().to_owned()
    }

    pub fn metric(&self, name: &str) -> u64 {
        self.status()["metrics"][name].as_u64().unwrap()
    }

    pub fn connected(&self) -> Vec<String> {
        self.status()["connected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["peer_id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// SIGKILL.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for a clean exit; returns whether the exit status was success.
    pub fn stop(&mut self) -> bool {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            if start.elapsed() > DEADLINE {
                self.kill9();
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `vouch rendezvous`.
pub struct Rendezvous {
    pub child: Child,
    pub addr: String,
}

impl Rendezvous {
    pub fn start(dir: &Path) -> Rendezvous {
        std::fs::create_dir_all(dir).unwrap();
        let file = dir.join("rendezvous.addrs");
        let child = vouch()
            .args([
                "rendezvous",
                "--listen",
                "/ip4/127.0.0.1/tcp/0",
                "--addr-file",
            ])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut addr = String::new();
        wait_until("rendezvous address", || {
            addr = std::fs::read_to_string(&file)
                .unwrap_or_default()
                .trim()
                .to_owned();
            !addr.is_empty()
        });
        Rendezvous { child, addr }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Rendezvous {
    fn drop(&mut self) {
        self.kill();
    }
}
