//! End to end, durability: with `--durability full` every acknowledgement of a write follows
//! an fsync of the write-ahead log it went to (checked on the system calls of a real node,
//! recorded by strace; the same check finds unsynced acknowledgements with `normal`); a full
//! disk (a small tmpfs the test mounts) acknowledges nothing it did not store, says so in
//! `/healthz`, `/readyz` and the metrics, and recovers by itself; a damaged database is
//! refused with a clear error, its damaged rows are never served, and `vouch node salvage`
//! plus catch-up bring every object back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/nodes.rs"]
mod nodes;

use nodes::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vouch_node::client;

// ---- fsync before acknowledgement ---------------------------------------------------------

/// A node run under `strace -f`, recording the system calls that write files, sync them and
/// answer HTTP requests, with file descriptors decoded to paths and sockets.
struct Traced {
    child: std::process::Child,
    trace: PathBuf,
    api: client::Api,
}

impl Traced {
    fn start(dir: &Path, durability: &str) -> Traced {
        std::fs::create_dir_all(dir).unwrap();
        let trace = dir.join("strace.txt");
        let log = std::fs::File::create(dir.join("node.log")).unwrap();
        let child = Command::new("strace")
            .args(["-f", "-qq", "-y", "-s", "24", "-o"])
            .arg(&trace)
            .args([
                "-e",
                "trace=pwrite64,pwritev,write,writev,fsync,fdatasync,sendto,sendmsg",
            ])
            .arg(env!("CARGO_BIN_EXE_vouch"))
            .args(["node", "run", "--data-dir"])
            .arg(dir)
            .args([
                "--listen",
                "/ip4/127.0.0.1/tcp/0",
                "--api",
                "127.0.0.1:0",
                "--durability",
                durability,
            ])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("strace must be installed (.ci/run installs it)");
        let mut api = None;
        wait_until("traced node endpoint", || {
            api = client::Api::from_data_dir(dir).ok();
            api.is_some()
        });
        Traced {
            child,
            trace,
            api: api.unwrap(),
        }
    }

    /// Stops the node (SIGTERM to the traced process, whose pid opens the trace) and waits
    /// for strace to finish writing.
    fn stop(mut self) -> String {
        let text = std::fs::read_to_string(&self.trace).unwrap();
        let pid = text.split_whitespace().next().unwrap().to_owned();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let start = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(start.elapsed() < DEADLINE, "traced node did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::fs::read_to_string(&self.trace).unwrap()
    }
}

/// What the trace shows about acknowledgements.
#[derive(Debug, Default)]
struct Ordering {
    /// HTTP success answers written (acknowledgements of the test's writes).
    acks: usize,
    /// Of those, the ones written while the WAL had writes no fsync had covered yet.
    unsynced: usize,
    /// WAL writes and completed WAL syncs seen.
    wal_writes: usize,
    wal_syncs: usize,
}

/// Reads an `strace -f -y` log in order: a WAL write (`pwrite64` to `vouch.sqlite-wal`) is
/// unsynced until an `fsync`/`fdatasync` of that file *returns*; an acknowledgement is a
/// `write`/`writev`/`sendto`/`sendmsg` on a socket whose data starts `HTTP/1.1 2`. strace
/// prints a call that blocks in two lines (`<unfinished ...>`, then `<... fsync resumed>`);
/// the second one is when the sync completed. Causality keeps the order honest: the thread
/// that answers is woken only after the writer's commit returned.
fn ordering(trace: &str) -> Ordering {
    let mut o = Ordering::default();
    let mut pending_wal = false;
    // Per thread: an fsync of the WAL started and not yet returned.
    let mut syncing: std::collections::HashSet<String> = Default::default();
    for line in trace.lines() {
        let mut parts = line.splitn(2, ' ');
        let (tid, call) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or("").trim_start(),
        );
        let is_wal = call.contains("vouch.sqlite-wal>");
        if (call.starts_with("pwrite64(") || call.starts_with("pwritev(")) && is_wal {
            o.wal_writes += 1;
            pending_wal = true;
        } else if (call.starts_with("fsync(") || call.starts_with("fdatasync(")) && is_wal {
            if call.contains("<unfinished ...>") {
                syncing.insert(tid.to_owned());
            } else {
                o.wal_syncs += 1;
                pending_wal = false;
            }
        } else if (call.starts_with("<... fsync resumed>")
            || call.starts_with("<... fdatasync resumed>"))
            && syncing.remove(tid)
        {
            o.wal_syncs += 1;
            pending_wal = false;
        } else if ["write(", "writev(", "sendto(", "sendmsg("]
            .iter()
            .any(|p| call.starts_with(p))
            && (call.contains("<TCP:[") || call.contains("<socket:["))
            && call.contains("\"HTTP/1.1 2")
        {
            o.acks += 1;
            if pending_wal {
                o.unsynced += 1;
            }
        }
    }
    o
}

/// Submits `n` posts one at a time, then creates a viewer and changes its policy twice: every
/// answer is an acknowledgement of a write.
fn write_acknowledged(api: &client::Api, n: usize) -> usize {
    let author = key(31);
    for i in 0..n {
        let obj = post(&author, &format!("durable {i}"), false);
        let r = api
            .request("POST", "/v1/objects", None, obj.bytes())
            .unwrap();
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }
    let viewer = key(32).public_key().to_did_key();
    let body = serde_json::json!({ "viewer": viewer }).to_string();
    let r = api
        .request(
            "POST",
            "/v1/viewers",
            Some("application/json"),
            body.as_bytes(),
        )
        .unwrap();
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    for unknown in ["warn", "collapse"] {
        let body = serde_json::json!({ "unknown_author": unknown }).to_string();
        let path = format!("/v1/viewers/{viewer}/policy");
        let r = api
            .request("PUT", &path, Some("application/json"), body.as_bytes())
            .unwrap();
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }
    n + 3
}

#[test]
fn full_durability_syncs_the_wal_before_every_acknowledgement_and_normal_does_not() {
    let tmp = tempfile::tempdir().unwrap();

    let node = Traced::start(&tmp.path().join("full"), "full");
    let writes = write_acknowledged(&node.api, 20);
    let full = ordering(&node.stop());
    assert!(full.wal_writes >= 20, "{full:?}");
    assert_eq!(full.acks, writes, "one acknowledgement per write: {full:?}");
    assert_eq!(
        full.unsynced, 0,
        "durability full acknowledged a write before the WAL was synced: {full:?}"
    );

    // The same check sees what `normal` does: commits are acknowledged from the page cache.
    let node = Traced::start(&tmp.path().join("normal"), "normal");
    let writes = write_acknowledged(&node.api, 20);
    let normal = ordering(&node.stop());
    assert_eq!(normal.acks, writes, "{normal:?}");
    assert!(
        normal.unsynced >= 20,
        "durability normal should acknowledge objects before an fsync: {normal:?}"
    );
}

// ---- a full disk ---------------------------------------------------------------------------

/// A tmpfs of `size` mounted on `dir` for the test's life (the test runs as root, as CI does).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the disk-full test mounts a small tmpfs and needs root: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(dir.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the filesystem holding `path` with a file until the disk is full.
fn fill(path: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let block = vec![0u8; 64 * 1024];
    loop {
        if f.write_all(&block).is_err() {
            break;
        }
    }
    // Byte by byte for the last partial block.
    while f.write_all(&[0]).is_ok() {}
    let _ = f.sync_all();
}

fn health(node: &Node, path: &str) -> (u16, serde_json::Value) {
    let r = node.request("GET", path, &[]);
    (r.status, serde_json::from_slice(&r.body).unwrap())
}

#[test]
fn a_full_disk_acknowledges_nothing_it_did_not_store_and_recovers_by_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("small");
    let _fs = Tmpfs::mount(&mnt, "6m");
    let dir = mnt.join("node");
    let peer_dir = tmp.path().join("peer");
    let mut node = Node::start(&dir, &["--resync-secs", "1"]);
    let peer = Node::start(
        &peer_dir,
        &["--bootstrap", &node.tcp_addr(), "--resync-secs", "1"],
    );
    wait_until("peers connected", || !node.connected().is_empty());
    // Gossip flows between them (the mesh is formed) before the disk fills up.
    let mut warm = 0;
    wait_until("a gossiped object accepted", || {
        warm += 1;
        let _ = peer.submit(&post(&key(43), &format!("warm-up {warm}"), false));
        std::thread::sleep(Duration::from_millis(200));
        node.metric("gossip_accepted_total") >= 1
    });
    let (status, h) = health(&node, "/healthz");
    assert_eq!((status, h["status"].as_str()), (200, Some("ok")));

    let author = key(41);
    let mut acked = Vec::new();
    for i in 0..40 {
        let obj = post(&author, &format!("before {i}"), false);
        assert_eq!(node.submit(&obj).status, 200);
        acked.push(obj.id());
    }

    // The disk fills up: writes fail, nothing failed is acknowledged.
    fill(&mnt.join("filler"));
    let mut failed = Vec::new();
    for i in 0..200 {
        let obj = post(
            &author,
            &format!("while full {i} {}", "x".repeat(2000)),
            false,
        );
        let r = node.submit(&obj);
        match r.status {
            200 => acked.push(obj.id()),
            503 => {
                let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
                assert_eq!(body["error"]["code"], "store-disk-full", "{body}");
                failed.push(obj.id());
            }
            s => panic!(
                "unexpected answer {s}: {}",
                String::from_utf8_lossy(&r.body)
            ),
        }
        if failed.len() >= 5 {
            break;
        }
    }
    assert!(failed.len() >= 5, "the disk never filled up");
    let (status, h) = health(&node, "/healthz");
    assert_eq!(status, 200, "alive while the disk is full: {h}");
    assert_eq!(h["status"], "degraded", "{h}");
    assert_eq!(h["store"]["problem"]["code"], "store-disk-full", "{h}");
    let (status, h) = health(&node, "/readyz");
    assert_eq!(status, 503, "not ready while the disk is full: {h}");
    assert_eq!(node.metric("store_disk_full"), 1);
    assert!(node.metric("store_commit_failures_total") >= 5);
    assert_eq!(node.metric("store_healthy"), 0);

    // A gossiped object cannot be stored: it is not accepted, so not relayed.
    let accepted = node.metric("gossip_accepted_total");
    let gossiped = post(&key(42), "gossiped while full", false);
    assert_eq!(peer.submit(&gossiped).status, 200);
    wait_until("the full node tried to store the gossiped object", || {
        node.metric("gossip_store_failed_total") >= 1
    });
    assert_eq!(node.metric("gossip_accepted_total"), accepted);
    assert!(!node.has(&gossiped.id()));

    // Space comes back: the node finds out by itself, without a write or a restart.
    std::fs::remove_file(mnt.join("filler")).unwrap();
    wait_until("ready again", || health(&node, "/readyz").0 == 200);
    let (_, h) = health(&node, "/healthz");
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(node.metric("store_disk_full"), 0);
    let after = post(&author, "after", false);
    assert_eq!(node.submit(&after).status, 200);
    acked.push(after.id());
    // What was refused while full comes back through catch-up.
    wait_until("catch-up brings the gossiped object", || {
        node.has(&gossiped.id())
    });

    // Nothing acknowledged was lost, nothing refused was stored, even across a crash.
    node.kill9();
    assert_eq!(vouch_node::store::integrity_check(&dir).unwrap(), "ok");
    let reader = vouch_node::store::StoreReader::open(&dir).unwrap();
    for id in &acked {
        assert!(reader.contains(id).unwrap(), "lost acknowledged {id}");
    }
    for id in &failed {
        assert!(!reader.contains(id).unwrap(), "stored a refused {id}");
    }
}

// ---- corruption ----------------------------------------------------------------------------

/// A real database: a node that stored `n` posts, stopped cleanly.
fn real_database(dir: &Path, n: usize) -> Vec<vouch_reputation::SignedObject> {
    let mut node = Node::start(dir, &[]);
    let author = key(51);
    let objects: Vec<_> = (0..n)
        .map(|i| post(&author, &format!("row number {i:05} of the test"), false))
        .collect();
    for o in &objects {
        assert_eq!(node.submit(o).status, 200);
    }
    let viewer = key(52).public_key().to_did_key();
    let body = serde_json::json!({ "viewer": viewer }).to_string();
    assert_eq!(
        node.request("POST", "/v1/viewers", body.as_bytes()).status,
        201
    );
    // The viewer vouches for the author, so the author is within reach and a peer that
    // catches these posts up admits them (specs/sync.md, "Admission") instead of holding
    // them in quarantine.
    let vouch = vouch_reputation::Object {
        author: key(52).public_key(),
        at: now_ms(),
        body: vouch_reputation::Body::Attest(vouch_reputation::AttestBody::new(
            author.public_key(),
            80,
        )),
    }
    .sign(&key(52))
    .unwrap();
    assert_eq!(node.submit(&vouch).status, 200);
    assert!(node.stop());
    // The last connection to close checkpoints the WAL into the file and removes it, so the
    // rows are in the file the test damages.
    assert_eq!(vouch_node::store::integrity_check(dir).unwrap(), "ok");
    assert!(!dir
        .join(format!("{}-wal", vouch_node::store::DB_FILE))
        .exists());
    objects
}

/// Copies a data directory, all but the node's key: the copy is another node (two nodes
/// with one key would be one peer id, and could not talk to each other).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() && e.file_name() != "node.key" {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn vouch_json(args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = vouch().args(args).output().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (
        out.status.code().unwrap_or(-1),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_damaged_row_is_never_served_and_salvage_with_catch_up_restores_it() {
    let tmp = tempfile::tempdir().unwrap();
    let original = tmp.path().join("original");
    let objects = real_database(&original, 300);
    let damaged = tmp.path().join("damaged");
    copy_dir(&original, &damaged);

    // Flip one byte inside the text of one stored post: the file's structure stays sound
    // (quick_check passes), the row does not.
    let db = damaged.join(vouch_node::store::DB_FILE);
    let mut bytes = std::fs::read(&db).unwrap();
    let needle = b"row number 00123 of the test";
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the post's text in the file");
    bytes[at + 4] ^= 0x20;
    std::fs::write(&db, &bytes).unwrap();
    let victim = &objects[123];

    // `vouch node check` finds it (and only it), by its id.
    let d = damaged.to_str().unwrap();
    let (code, report, _) = vouch_json(&["node", "check", "--data-dir", d]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["integrity_check"], "ok", "{report}");
    assert_eq!(report["damaged"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["damaged"][0]["id"], hex::encode(victim.id().0));
    assert_eq!(report["damaged"][0]["problem"], "id-mismatch");

    // A node on it starts, serves everything else, never the damaged row, and says so.
    let node = Node::start(&damaged, &[]);
    let r = node.request("GET", &format!("/v1/objects/{}", victim.id()), &[]);
    assert_eq!(r.status, 404, "a damaged row must not be served");
    assert_eq!(node.metric("store_rows_corrupt_total"), 1);
    let (_, h) = health(&node, "/healthz");
    assert_eq!(h["store"]["corrupt_rows"], 1, "{h}");
    // A peer catching up from it gets every intact object and nothing invalid (so it has no
    // reason to penalise this node).
    let fresh = Node::start(
        &tmp.path().join("fresh"),
        &["--bootstrap", &node.tcp_addr(), "--resync-secs", "1"],
    );
    wait_until("a peer caught up from the damaged node", || {
        fresh.metric("objects_stored_total") >= 299
    });
    assert!(!fresh.has(&victim.id()));
    assert_eq!(fresh.metric("objects_invalid_total"), 0);
    drop(fresh);
    drop(node);

    // Salvage drops the row; a peer that has it gives it back through catch-up.
    let (code, report, err) = vouch_json(&["node", "salvage", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    // 300 posts and the viewer's attestation, less the damaged row.
    assert_eq!(report["objects_kept"], 300, "{report}");
    assert_eq!(report["objects_dropped"], 1, "{report}");
    assert_eq!(report["viewers_kept"], 1, "{report}");
    assert!(Path::new(report["damaged_file"].as_str().unwrap()).exists());
    let (code, report, _) = vouch_json(&["node", "check", "--data-dir", d]);
    assert_eq!(code, 0, "{report}");
    let source = Node::start(&original, &[]);
    let node = Node::start(
        &damaged,
        &["--bootstrap", &source.tcp_addr(), "--resync-secs", "1"],
    );
    wait_until("catch-up restores the dropped object", || {
        node.has(&victim.id())
    });
    let viewer = key(52).public_key().to_did_key();
    assert_eq!(
        node.request("GET", &format!("/v1/viewers/{viewer}"), &[])
            .status,
        200
    );
}

#[test]
fn a_damaged_file_is_refused_with_a_clear_error_and_salvage_recovers_it() {
    let tmp = tempfile::tempdir().unwrap();
    let original = tmp.path().join("original");
    let objects = real_database(&original, 600);
    let damaged = tmp.path().join("damaged");
    copy_dir(&original, &damaged);

    // Overwrite the header of every 7th page after the first two with garbage.
    let db = damaged.join(vouch_node::store::DB_FILE);
    let mut bytes = std::fs::read(&db).unwrap();
    let page = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    let pages = bytes.len() / page;
    assert!(pages > 20, "{pages} pages");
    for p in (2..pages).step_by(7) {
        bytes[p * page..p * page + 12].copy_from_slice(b"\xffdamaged!!!!");
    }
    std::fs::write(&db, &bytes).unwrap();

    // The node refuses to start, with the code and the way out.
    let d = damaged.to_str().unwrap();
    let out = vouch()
        .args(["node", "run", "--data-dir", d, "--api", "127.0.0.1:0"])
        .args(["--listen", "/ip4/127.0.0.1/tcp/0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("damaged"), "{err}");
    assert!(err.contains("vouch node salvage"), "{err}");
    let (code, report, _) = vouch_json(&["node", "check", "--data-dir", d]);
    assert_eq!(code, 1);
    assert_ne!(report["integrity_check"], "ok", "{report}");

    // Salvage keeps what can be read, the node starts, and catch-up fills the rest.
    let (code, report, err) = vouch_json(&["node", "salvage", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    let kept = report["objects_kept"].as_u64().unwrap();
    assert!(kept < 600, "{report}");
    let (code, report, _) = vouch_json(&["node", "check", "--data-dir", d]);
    assert_eq!(code, 0, "{report}");
    let source = Node::start(&original, &[]);
    let node = Node::start(
        &damaged,
        &["--bootstrap", &source.tcp_addr(), "--resync-secs", "1"],
    );
    wait_until("catch-up restores every object", || {
        // 600 posts and the viewer's attestation of their author.
        node.status()["objects"].as_u64() == Some(601)
    });
    assert!(objects.iter().step_by(37).all(|o| node.has(&o.id())));
}
