//! The demo's local network: child `vouch node run` processes on loopback, each with its own
//! data directory and log file, bootstrapping to the first; started, polled over their HTTP
//! API, and stopped the way Ctrl-C stops a node (SIGTERM, then a bounded wait).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::DemoError;
use crate::client::{Api, API_ADDR_FILE, LISTEN_ADDRS_FILE};

/// Name of each node's log file (its stderr) in its data directory.
pub(crate) const NODE_LOG: &str = "node.log";
/// The demo's key folder under its root: the keys the web console may sign with.
pub(crate) const KEY_DIR: &str = "keys";
/// Seconds between catch-up rounds on the demo's nodes (objects gossip missed arrive by then).
pub(crate) const RESYNC_SECS: u64 = 1;
/// How long a node may take to exit after SIGTERM before it is killed.
pub(crate) const STOP_WAIT: Duration = Duration::from_secs(20);
/// How often the demo polls the nodes.
pub(crate) const POLL: Duration = Duration::from_millis(100);

/// Set when the user asks the demo to stop (Ctrl-C or SIGTERM).
#[derive(Debug, Clone, Default)]
pub(crate) struct Stop(Arc<AtomicBool>);

impl Stop {
    /// Catches SIGINT and SIGTERM from now on (the handlers are in place when this returns).
    pub(crate) fn install() -> std::io::Result<Stop> {
        let stop = Stop::default();
        let flag = stop.0.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        #[cfg(unix)]
        let signals = {
            use tokio::signal::unix::{signal, SignalKind};
            let _entered = rt.enter();
            (
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
            )
        };
        std::thread::Builder::new()
            .name("demo-signals".into())
            .spawn(move || {
                #[cfg(unix)]
                {
                    let (mut int, mut term) = signals;
                    rt.block_on(async move {
                        tokio::select! {
                            _ = int.recv() => {}
                            _ = term.recv() => {}
                        }
                    });
                }
                #[cfg(not(unix))]
                rt.block_on(async {
                    let _ = tokio::signal::ctrl_c().await;
                });
                flag.store(true, Ordering::SeqCst);
            })?;
        Ok(stop)
    }

    /// Whether a stop was asked for.
    pub(crate) fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// `Err(Interrupted)` once a stop was asked for.
    pub(crate) fn check(&self) -> Result<(), DemoError> {
        if self.requested() {
            Err(DemoError::Interrupted)
        } else {
            Ok(())
        }
    }
}

/// One running node.
#[derive(Debug)]
pub(crate) struct DemoNode {
    /// Its index (0 is the one the others bootstrap to).
    pub index: usize,
    /// Its data directory.
    pub dir: PathBuf,
    /// Its HTTP API, with the node's admin token (read from its data directory).
    pub api: Api,
    /// Its libp2p TCP listen address, with `/p2p/<peer id>`.
    pub tcp: String,
    child: Child,
}

impl DemoNode {
    /// The last `n` lines of the node's log.
    pub(crate) fn log_tail(&self, n: usize) -> String {
        log_tail(&self.dir, n)
    }

    /// `GET /v1/status`.
    pub(crate) fn status(&self) -> Result<Value, DemoError> {
        get_json(&self.api, "/v1/status")
    }
}

fn log_tail(dir: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(dir.join(NODE_LOG)).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A JSON GET; any answer but 200 is an error.
pub(crate) fn get_json(api: &Api, path: &str) -> Result<Value, DemoError> {
    let r = api.get(path)?;
    if r.status != 200 {
        return Err(DemoError::Api {
            what: format!("GET {path}"),
            status: r.status,
            body: String::from_utf8_lossy(&r.body).into_owned(),
        });
    }
    serde_json::from_slice(&r.body).map_err(|e| DemoError::Api {
        what: format!("GET {path}"),
        status: r.status,
        body: format!("not JSON: {e}"),
    })
}

/// A JSON call with a JSON body; `expect` is the status that means success.
pub(crate) fn call_json(
    api: &Api,
    method: &str,
    path: &str,
    body: &impl serde::Serialize,
    expect: u16,
) -> Result<Vec<u8>, DemoError> {
    let bytes = serde_json::to_vec(body).map_err(|e| DemoError::Api {
        what: format!("{method} {path}"),
        status: 0,
        body: e.to_string(),
    })?;
    let r = api.request(method, path, Some("application/json"), &bytes)?;
    if r.status != expect {
        return Err(DemoError::Api {
            what: format!("{method} {path}"),
            status: r.status,
            body: String::from_utf8_lossy(&r.body).into_owned(),
        });
    }
    Ok(r.body)
}

/// The demo's nodes. Dropping it stops them.
#[derive(Debug)]
pub(crate) struct Network {
    /// The nodes, in index order.
    pub nodes: Vec<DemoNode>,
}

/// Starts `vouch node run` on `dir`, bootstrapping to `bootstrap`, following `group`.
fn spawn(
    index: usize,
    dir: &Path,
    group: &str,
    bootstrap: Option<&str>,
) -> Result<Child, DemoError> {
    std::fs::create_dir_all(dir)?;
    let log = std::fs::File::create(dir.join(NODE_LOG))?;
    let exe = std::env::current_exe()?;
    let resync = RESYNC_SECS.to_string();
    let mut cmd = Command::new(&exe);
    // The user's own node settings (VOUCH_API_TOKEN, VOUCH_BOOTSTRAP, ...) stay out of the
    // demo's nodes.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("VOUCH_") {
            cmd.env_remove(name);
        }
    }
    cmd.args(["node", "run", "--data-dir"]).arg(dir).args([
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--api",
        "127.0.0.1:0",
        "--group",
        group,
        "--durability",
        "normal",
        "--resync-secs",
        resync.as_str(),
    ]);
    if let Some(b) = bootstrap {
        cmd.args(["--bootstrap", b]);
    }
    // The demo's key folder (the group's staff and the curators): the web console's admin
    // session signs with these, never with the user's own keys.
    if let Some(root) = dir.parent() {
        cmd.env("VOUCH_KEY_DIR", root.join(KEY_DIR));
    }
    cmd.env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| DemoError::NodeStart {
            index,
            why: format!("cannot run {}: {e}", exe.display()),
            log: dir.join(NODE_LOG),
            tail: String::new(),
        })
}

impl Network {
    /// Starts `n` nodes under `root` (`root/node0`, ...): the first alone, then the others
    /// bootstrapping to it; returns once every node's API and TCP address are known.
    pub(crate) fn start(
        root: &Path,
        n: usize,
        group: &str,
        timeout: Duration,
        stop: &Stop,
    ) -> Result<Network, DemoError> {
        let mut net = Network { nodes: Vec::new() };
        let first = root.join("node0");
        let child = spawn(0, &first, group, None)?;
        net.nodes
            .push(await_addresses(0, first, child, timeout, stop)?);
        let boot = net.nodes[0].tcp.clone();
        // On an error, dropping `net` stops the nodes already up; `stop_all` the others.
        let mut pending = Vec::new();
        for i in 1..n {
            let dir = root.join(format!("node{i}"));
            match spawn(i, &dir, group, Some(&boot)) {
                Ok(child) => pending.push((i, child, dir)),
                Err(e) => {
                    stop_all(pending.into_iter().map(|(_, c, _)| c));
                    return Err(e);
                }
            }
        }
        let mut pending = pending.into_iter();
        while let Some((i, child, dir)) = pending.next() {
            match await_addresses(i, dir, child, timeout, stop) {
                Ok(node) => net.nodes.push(node),
                Err(e) => {
                    stop_all(pending.map(|(_, c, _)| c));
                    return Err(e);
                }
            }
        }
        Ok(net)
    }

    /// Waits until the nodes form one network: the first is connected to every other, each
    /// other to at least one peer.
    pub(crate) fn await_connected(
        &mut self,
        timeout: Duration,
        stop: &Stop,
    ) -> Result<(), DemoError> {
        let start = Instant::now();
        let n = self.nodes.len();
        let want = move |i: usize| if i == 0 { n - 1 } else { 1 };
        loop {
            stop.check()?;
            self.check_alive()?;
            let mut short = Vec::new();
            for node in &self.nodes {
                let connected = node.status()?["connected"].as_array().map_or(0, Vec::len);
                if connected < want(node.index) {
                    short.push(format!(
                        "node {} has {connected} of {} peer(s)",
                        node.index,
                        want(node.index)
                    ));
                }
            }
            if short.is_empty() {
                return Ok(());
            }
            if start.elapsed() > timeout {
                return Err(DemoError::NotConnected {
                    secs: timeout.as_secs(),
                    detail: short.join("; "),
                });
            }
            std::thread::sleep(POLL);
        }
    }

    /// `Err(NodeStart)` with the log's tail if a node exited.
    pub(crate) fn check_alive(&mut self) -> Result<(), DemoError> {
        for node in &mut self.nodes {
            if let Ok(Some(status)) = node.child.try_wait() {
                return Err(DemoError::NodeStart {
                    index: node.index,
                    why: format!("it exited ({status})"),
                    log: node.dir.join(NODE_LOG),
                    tail: node.log_tail(15),
                });
            }
        }
        Ok(())
    }

    /// Stops every node as Ctrl-C does (SIGTERM to all, then waits for each, at most
    /// [`STOP_WAIT`]; a node still running then is killed). True when every node exited
    /// cleanly with status 0.
    pub(crate) fn stop(&mut self) -> bool {
        for node in &mut self.nodes {
            terminate(&mut node.child);
        }
        let mut clean = true;
        for node in &mut self.nodes {
            clean &= wait_exit(&mut node.child).is_some_and(|s| s.success());
        }
        self.nodes.clear();
        clean
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits for a new node's `api.addr` and TCP listen address.
fn await_addresses(
    index: usize,
    dir: PathBuf,
    mut child: Child,
    timeout: Duration,
    stop: &Stop,
) -> Result<DemoNode, DemoError> {
    let start = Instant::now();
    loop {
        let fail = |why: String, child: &mut Child| {
            terminate(child);
            wait_exit(child);
            DemoError::NodeStart {
                index,
                why,
                log: dir.join(NODE_LOG),
                tail: log_tail(&dir, 15),
            }
        };
        if stop.requested() {
            let _ = fail(String::new(), &mut child);
            return Err(DemoError::Interrupted);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(fail(format!("it exited ({status})"), &mut child));
        }
        let tcp = std::fs::read_to_string(dir.join(LISTEN_ADDRS_FILE))
            .unwrap_or_default()
            .lines()
            .find(|l| l.contains("/tcp/") && l.contains("/p2p/"))
            .map(str::to_owned);
        // The token file is written before the API listens, so it is there once api.addr is.
        if let (Ok(api), Some(tcp)) = (Api::from_data_dir(&dir), tcp) {
            return Ok(DemoNode {
                index,
                dir,
                api,
                tcp,
                child,
            });
        }
        if start.elapsed() > timeout {
            return Err(fail(
                format!(
                    "no {API_ADDR_FILE} and {LISTEN_ADDRS_FILE} after {} s",
                    timeout.as_secs()
                ),
                &mut child,
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops children that are not nodes of the network yet.
fn stop_all(children: impl Iterator<Item = Child>) {
    let mut children: Vec<Child> = children.collect();
    for c in &mut children {
        terminate(c);
    }
    for c in &mut children {
        wait_exit(c);
    }
}

/// Asks a child to stop as Ctrl-C would.
fn terminate(child: &mut Child) {
    #[cfg(unix)]
    {
        use nix::sys::signal::{kill, Signal};
        use nix::unistd::Pid;
        if let Ok(pid) = i32::try_from(child.id()) {
            if kill(Pid::from_raw(pid), Signal::SIGTERM).is_ok() {
                return;
            }
        }
    }
    let _ = child.kill();
}

/// Waits at most [`STOP_WAIT`] for a child to exit, then kills it; its exit status if it
/// exited by itself.
fn wait_exit(child: &mut Child) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if start.elapsed() < STOP_WAIT => {
                std::thread::sleep(Duration::from_millis(50))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}
