//! `vouch bench http`: batch decide calls per second and their latency against a real
//! running node, with a real HTTP load generator (keep-alive connections, one thread each,
//! closed loop). The node is a child `vouch node run` on a temporary data directory, seeded
//! through its API with a generated community (a trust web, subscribed block lists, a group
//! with a ban list, posts) and one warm viewer. Two baselines are measured in the same run:
//! `/healthz` over the same connections (the cost of HTTP itself), and `decide_batch` in
//! process on the same items (the cost of deciding).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use vouch_identity::{PublicKey, SecretKey};
use vouch_reputation::{
    decide_batch, AttestBody, Body, DirectTrust, EngineTrust, GroupBody, GroupPolicy, GroupRef,
    Item, ListAddBody, ListBody, ListPurpose, ListRef, ModerationState, NoCredentials, Object,
    PostBody, SignedObject, Subject, TrustGraph, TrustParams, TrustView, View,
};

use crate::client::API_ADDR_FILE;
use crate::json::{CreateViewerJson, DecideRequest, ItemJson, ListSubscriptionJson, PolicyJson};

/// `vouch bench http` flags.
#[derive(Debug, Args)]
pub(crate) struct BenchHttpArgs {
    /// Concurrent keep-alive connections (one load thread each).
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Items per decide call.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Subscribed block lists.
    #[arg(long, default_value_t = 5)]
    pub lists: usize,
    /// Entries per list.
    #[arg(long, default_value_t = 2000)]
    pub entries: usize,
    /// Posts stored.
    #[arg(long, default_value_t = 2000)]
    pub posts: usize,
    /// Seed of the generated community.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

/// One measurement.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Measured {
    /// Calls answered 200 per second.
    pub calls_per_s: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Largest latency, ms.
    pub max_ms: f64,
    /// Calls that did not answer 200.
    pub errors: u64,
}

/// Everything `vouch bench http` prints.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct HttpBenchReport {
    /// Objects the node was seeded with.
    pub objects: usize,
    /// Items per decide call.
    pub batch: usize,
    /// Connections.
    pub connections: usize,
    /// Authors the viewer has a trust signal about (the node's answer).
    pub trusted_authors: u64,
    /// Subjects in the viewer's compiled view (the node's answer).
    pub view_subjects: u64,
    /// Verdicts in one batch, for the record: hide, collapse, warn, show.
    pub verdicts: [u32; 4],
    /// `/healthz` over the same connections.
    pub healthz: Measured,
    /// Batch decide.
    pub decide: Measured,
    /// Items decided per second over HTTP.
    pub items_per_s: f64,
    /// `decide_batch` of the same batches in process, batches per second (one thread).
    pub in_process_batches_per_s: f64,
    /// Load average (1 min) before and after.
    pub load_before: f64,
    /// Load average (1 min) after.
    pub load_after: f64,
}

fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// A generated community: objects in the order they are submitted, the viewer, and the items
/// one decide call asks about.
struct Community {
    objects: Vec<SignedObject>,
    viewer: PublicKey,
    lists: Vec<ListRef>,
    group: GroupRef,
    posts: Vec<SignedObject>,
    authors: Vec<PublicKey>,
}

fn generate(args: &BenchHttpArgs) -> Community {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(args.seed);
    let mut key = || SecretKey::from_seed(&rng.gen());
    let viewer = key();
    let friends: Vec<SecretKey> = (0..20).map(|_| key()).collect();
    let known: Vec<SecretKey> = (0..200).map(|_| key()).collect();
    let spam: Vec<SecretKey> = (0..2000).map(|_| key()).collect();
    let regular: Vec<SecretKey> = (0..700).map(|_| key()).collect();
    let curators: Vec<SecretKey> = (0..args.lists).map(|_| key()).collect();
    let owner = key();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(args.seed ^ 0x5eed);
    let at0 = crate::node::clock::now_ms().saturating_sub(3_600_000);
    let mut n = 0u64;
    let mut sign = |k: &SecretKey, body: Body| {
        n += 1;
        Object {
            author: k.public_key(),
            at: at0 + n,
            body,
        }
        .sign(k)
        .unwrap_or_else(|e| panic!("generated object does not sign: {e}"))
    };
    let attest = |subject: PublicKey, level: i64| {
        Body::Attest(AttestBody {
            subject,
            level,
            context: None,
            claim: None,
            expires: None,
        })
    };
    let mut objects = Vec::new();
    for f in &friends {
        objects.push(sign(
            &viewer,
            attest(f.public_key(), rng.gen_range(50..=100)),
        ));
        for k in known.choose_multiple(&mut rng, 10) {
            objects.push(sign(f, attest(k.public_key(), rng.gen_range(20..=90))));
        }
    }
    let group = GroupRef {
        owner: owner.public_key(),
        name: "bench".into(),
    };
    objects.push(sign(
        &owner,
        Body::Group(GroupBody {
            name: "bench".into(),
            rules: Some("no spam".into()),
            policy: GroupPolicy::default(),
            moderators: vec![],
            seq: 1,
        }),
    ));
    let bans = ListRef {
        owner: owner.public_key(),
        name: "bench-bans".into(),
    };
    objects.push(sign(
        &owner,
        Body::List(ListBody {
            name: "bench-bans".into(),
            purpose: ListPurpose::Ban,
            description: None,
            group: Some(group.clone()),
            seq: 1,
        }),
    ));
    for s in spam.iter().take(100) {
        objects.push(sign(
            &owner,
            Body::ListAdd(ListAddBody {
                list: bans.clone(),
                subject: Subject::Key(s.public_key()),
                reason: Some("spam".into()),
                category: None,
                expires: None,
            }),
        ));
    }
    let mut lists = Vec::new();
    for (i, c) in curators.iter().enumerate() {
        let name = format!("blocklist-{i}");
        let list = ListRef {
            owner: c.public_key(),
            name: name.clone(),
        };
        objects.push(sign(
            c,
            Body::List(ListBody {
                name,
                purpose: ListPurpose::Block,
                description: None,
                group: None,
                seq: 1,
            }),
        ));
        for j in 0..args.entries {
            // Mostly spam keys, a few known authors (so some listed authors are trusted).
            let subject = if j % 50 == 0 {
                known[rng.gen_range(0..known.len())].public_key()
            } else {
                spam[rng.gen_range(0..spam.len())].public_key()
            };
            objects.push(sign(
                c,
                Body::ListAdd(ListAddBody {
                    list: list.clone(),
                    subject: Subject::Key(subject),
                    reason: Some("listed by the benchmark".into()),
                    category: None,
                    expires: None,
                }),
            ));
        }
        lists.push(list);
    }
    // A feed as it looks: 200 authors in the viewer's trust web, 700 strangers nobody
    // listed, 100 listed spammers (also banned in the group).
    let posters: Vec<&SecretKey> = known
        .iter()
        .chain(regular.iter())
        .chain(spam.iter().take(100))
        .collect();
    let mut posts = Vec::new();
    for i in 0..args.posts {
        let author = posters[rng.gen_range(0..posters.len())];
        let p = sign(
            author,
            Body::Post(PostBody {
                group: (i % 3 == 0).then(|| group.clone()),
                text: format!("post {i}"),
                ..PostBody::default()
            }),
        );
        posts.push(p.clone());
        objects.push(p);
    }
    Community {
        objects,
        viewer: viewer.public_key(),
        lists,
        group,
        posts,
        authors: posters.iter().map(|k| k.public_key()).collect(),
    }
}

fn policy(c: &Community) -> PolicyJson {
    PolicyJson {
        lists: c
            .lists
            .iter()
            .map(|l| ListSubscriptionJson {
                list: crate::json::list_str(l),
                weight: 1.0,
            })
            .collect(),
        groups: vec![crate::json::group_str(&c.group)],
        ..PolicyJson::default()
    }
}

/// `batches` decide requests of `batch` items: 60% posts by CID, 30% authors, 10% authors
/// in the group; about a tenth are by listed spammers.
fn batches(c: &Community, batch: usize, n: usize, seed: u64) -> Vec<Vec<ItemJson>> {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed ^ 0xba7c);
    (0..n)
        .map(|_| {
            (0..batch)
                .map(|i| match i % 10 {
                    0..=5 => ItemJson {
                        post: Some(c.posts[rng.gen_range(0..c.posts.len())].id().to_string()),
                        ..ItemJson::default()
                    },
                    6..=8 => ItemJson {
                        author: Some(c.authors[rng.gen_range(0..c.authors.len())].to_did_key()),
                        ..ItemJson::default()
                    },
                    _ => ItemJson {
                        author: Some(c.authors[rng.gen_range(0..c.authors.len())].to_did_key()),
                        group: Some(crate::json::group_str(&c.group)),
                        ..ItemJson::default()
                    },
                })
                .collect()
        })
        .collect()
}

/// A keep-alive HTTP/1.1 connection that reads just enough of each answer.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(1 << 16),
        })
    }

    /// Sends a whole request; returns the status and the body.
    fn call(&mut self, request: &[u8]) -> std::io::Result<(u16, &[u8])> {
        self.stream.write_all(request)?;
        self.buf.clear();
        let mut chunk = [0u8; 16384];
        let (head_end, status, len) = loop {
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end]).to_ascii_lowercase();
                let status = head
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .ok_or_else(|| std::io::Error::other("answer without content-length"))?;
                break (end + 4, status, len);
            }
        };
        while self.buf.len() < head_end + len {
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        Ok((status, &self.buf[head_end..head_end + len]))
    }
}

/// One request with the node's token; objects go as DAG-CBOR, everything else as JSON.
fn request(token: &str, method: &str, path: &str, body: &[u8]) -> Vec<u8> {
    let content_type = if path.starts_with("/v1/objects") {
        "application/vnd.ipld.dag-cbor"
    } else {
        "application/json"
    };
    let mut r = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// Closed-loop load: `connections` threads cycling through `requests` for `seconds`.
fn load(
    addr: SocketAddr,
    connections: usize,
    seconds: f64,
    requests: Arc<Vec<Vec<u8>>>,
) -> anyhow::Result<Measured> {
    let deadline = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let threads: Vec<_> = (0..connections)
        .map(|t| {
            let requests = requests.clone();
            std::thread::spawn(move || -> std::io::Result<(Vec<u32>, u64)> {
                let mut conn = Conn::open(addr)?;
                let mut lat = Vec::with_capacity(1 << 16);
                let mut errors = 0;
                let mut i = t;
                while start.elapsed() < deadline {
                    let t0 = Instant::now();
                    let (status, _) = conn.call(&requests[i % requests.len()])?;
                    lat.push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                    if status != 200 {
                        errors += 1;
                    }
                    i += connections;
                }
                Ok((lat, errors))
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in threads {
        let (lat, e) = t
            .join()
            .map_err(|_| anyhow::anyhow!("a load thread panicked"))??;
        all.extend(lat);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let q = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(f64::NAN, |&us| f64::from(us) / 1000.0)
    };
    Ok(Measured {
        calls_per_s: (all.len() as u64 - errors) as f64 / elapsed,
        p50_ms: q(0.50),
        p99_ms: q(0.99),
        max_ms: all.last().map_or(f64::NAN, |&us| f64::from(us) / 1000.0),
        errors,
    })
}

struct NodeProcess {
    child: Child,
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_node(dir: &Path) -> anyhow::Result<(NodeProcess, SocketAddr)> {
    let exe = std::env::current_exe()?;
    let child = Command::new(exe)
        .args(["node", "run", "--data-dir"])
        .arg(dir)
        .args([
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--api",
            "127.0.0.1:0",
            "--durability",
            "normal",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting vouch node run")?;
    let mut node = NodeProcess { child };
    let start = Instant::now();
    loop {
        if let Some(status) = node.child.try_wait()? {
            anyhow::bail!("the node exited early: {status}");
        }
        if let Ok(addr) = crate::client::api_addr(dir) {
            return Ok((node, addr));
        }
        if start.elapsed() > Duration::from_secs(120) {
            anyhow::bail!("the node did not write {API_ADDR_FILE} in 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Submits objects over `conns` connections (`?wait=false`, then one last call that waits).
fn seed(
    addr: SocketAddr,
    token: &str,
    objects: &[SignedObject],
    conns: usize,
) -> anyhow::Result<()> {
    let chunks: Vec<Vec<Vec<u8>>> = objects
        .chunks(objects.len().div_ceil(conns.max(1)).max(1))
        .map(|c| {
            c.iter()
                .map(|o| request(token, "POST", "/v1/objects?wait=false", o.bytes()))
                .collect()
        })
        .collect();
    let threads: Vec<_> = chunks
        .into_iter()
        .map(|reqs| {
            std::thread::spawn(move || -> anyhow::Result<()> {
                let mut c = Conn::open(addr)?;
                for r in &reqs {
                    let (status, body) = c.call(r)?;
                    if status != 200 {
                        anyhow::bail!("seeding: {status} {}", String::from_utf8_lossy(body));
                    }
                }
                Ok(())
            })
        })
        .collect();
    for t in threads {
        t.join()
            .map_err(|_| anyhow::anyhow!("a seeding thread panicked"))??;
    }
    Ok(())
}

/// In process: the same state, policy and items, `decide_batch` on one thread.
fn in_process(c: &Community, policy: &PolicyJson, batches: &[Vec<ItemJson>], seconds: f64) -> f64 {
    let mut state = ModerationState::new();
    let mut graph = TrustGraph::new(None);
    let now = crate::node::clock::now_ms();
    graph.set_now(now);
    for o in &c.objects {
        state.apply(o);
        let _ = graph.apply_object(o);
    }
    let view = TrustView::compute(&graph, c.viewer.as_bytes(), &[], TrustParams::default());
    let direct = DirectTrust::from_state(&state, &c.viewer, now);
    let trust = EngineTrust::new(&graph, &view, &direct);
    let Ok((policy, _)) = policy.to_policy(c.viewer) else {
        return f64::NAN;
    };
    let compiled = View::build(&state, &policy, &trust, &NoCredentials, now);
    let by_id: std::collections::HashMap<String, &SignedObject> =
        c.posts.iter().map(|p| (p.id().to_string(), p)).collect();
    let items: Vec<Vec<Item>> = batches
        .iter()
        .map(|b| {
            b.iter()
                .filter_map(|i| {
                    if let Some(p) = &i.post {
                        return by_id.get(p).and_then(|o| Item::post(o));
                    }
                    let author = PublicKey::from_did_key(i.author.as_deref()?).ok()?;
                    let group = i
                        .group
                        .as_deref()
                        .and_then(|g| crate::json::parse_group("group", g).ok());
                    Some(Item::Author { author, group })
                })
                .collect()
        })
        .collect();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        for b in &items {
            std::hint::black_box(decide_batch(&compiled, b, now));
            n += 1;
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Runs `vouch bench http`.
pub(crate) fn run(args: &BenchHttpArgs) -> anyhow::Result<ExitCode> {
    let load_before = load_average();
    let community = generate(args);
    let dir = tempfile::tempdir()?;
    let (node, addr) = start_node(dir.path())?;
    let token = crate::client::api_token(dir.path())?;
    let policy = policy(&community);
    let viewer = community.viewer.to_did_key();
    let mut c = Conn::open(addr)?;
    let create = serde_json::to_vec(&CreateViewerJson {
        viewer: viewer.clone(),
        policy: policy.clone(),
    })?;
    let (status, body) = c.call(&request(&token, "POST", "/v1/viewers", &create))?;
    anyhow::ensure!(
        status == 201,
        "creating the viewer: {status} {}",
        String::from_utf8_lossy(body)
    );
    eprintln!("seeding {} objects ...", community.objects.len());
    seed(addr, &token, &community.objects, 2)?;
    // Wait until the viewer's view reflects every object.
    let (_, body) = c.call(&request(&token, "GET", "/v1/status", b""))?;
    let status_json: serde_json::Value = serde_json::from_slice(body)?;
    let seq = status_json["metrics"]["engine_seq"].as_i64().unwrap_or(0);
    let start = Instant::now();
    let viewer_json = loop {
        let (_, body) = c.call(&request(
            &token,
            "GET",
            &format!("/v1/viewers/{viewer}"),
            b"",
        ))?;
        let v: serde_json::Value = serde_json::from_slice(body)?;
        if v["view"]["seq"].as_i64().unwrap_or(0) >= seq {
            break v;
        }
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(120),
            "the viewer's view did not catch up"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let bs = batches(&community, args.batch, 64, args.seed);
    let path = format!("/v1/viewers/{viewer}/decide");
    let decide_requests: Vec<Vec<u8>> = bs
        .iter()
        .map(|items| {
            let body = serde_json::to_vec(&DecideRequest {
                items: items.clone(),
                explain: false,
            })
            .unwrap_or_default();
            request(&token, "POST", &path, &body)
        })
        .collect();
    // One call answered and checked: every item decided, verdicts counted.
    let (status, body) = c.call(&decide_requests[0])?;
    anyhow::ensure!(
        status == 200,
        "decide: {status} {}",
        String::from_utf8_lossy(body)
    );
    let first: crate::json::DecideResponse = serde_json::from_slice(body)?;
    let mut verdicts = [0u32; 4];
    for d in &first.decisions {
        match d {
            crate::json::ItemResultJson::Decision(d) => {
                let i = match d.verdict {
                    crate::json::VerdictJson::Hide => 0,
                    crate::json::VerdictJson::Collapse => 1,
                    crate::json::VerdictJson::Warn => 2,
                    crate::json::VerdictJson::Show => 3,
                };
                verdicts[i] += 1;
            }
            crate::json::ItemResultJson::Error { error } => {
                anyhow::bail!("an item was not decided: {} {}", error.code, error.message)
            }
        }
    }
    drop(c);
    let decide_requests = Arc::new(decide_requests);
    let health = Arc::new(vec![request(&token, "GET", "/healthz", b"")]);
    // Warm up, then measure.
    load(addr, args.connections, 1.0, decide_requests.clone())?;
    let healthz = load(addr, args.connections, args.seconds, health)?;
    let decide = load(addr, args.connections, args.seconds, decide_requests)?;
    drop(node);
    let in_process_batches_per_s = in_process(&community, &policy, &bs, args.seconds.min(3.0));
    let report = HttpBenchReport {
        objects: community.objects.len(),
        batch: args.batch,
        connections: args.connections,
        trusted_authors: viewer_json["view"]["trusted_authors"].as_u64().unwrap_or(0),
        view_subjects: viewer_json["view"]["subjects"].as_u64().unwrap_or(0),
        verdicts,
        healthz,
        decide,
        items_per_s: decide.calls_per_s * args.batch as f64,
        in_process_batches_per_s,
        load_before,
        load_after: load_average(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report, args);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(r: &HttpBenchReport, args: &BenchHttpArgs) {
    println!(
        "vouch bench http: node seeded with {} objects; warm viewer with {} block lists x {} entries, \
         a group with a ban list, trust signal on {} authors, {} subjects in its view",
        r.objects, args.lists, args.entries, r.trusted_authors, r.view_subjects
    );
    println!(
        "  batches of {} items (60% posts by CID, 40% authors), verdicts in one batch: {} hide, {} collapse, {} warn, {} show",
        r.batch, r.verdicts[0], r.verdicts[1], r.verdicts[2], r.verdicts[3]
    );
    println!(
        "  {} keep-alive connections, {:.0} s per measurement; load average {:.2} before, {:.2} after (2 cores shared with the load generator)",
        r.connections, args.seconds, r.load_before, r.load_after
    );
    let line = |name: &str, m: &Measured| {
        println!(
            "  {name:<28} {:>9.0} calls/s   p50 {:.3} ms   p99 {:.3} ms   max {:.1} ms   errors {}",
            m.calls_per_s, m.p50_ms, m.p99_ms, m.max_ms, m.errors
        )
    };
    line("GET /healthz (baseline)", &r.healthz);
    line(&format!("POST decide, {} items", r.batch), &r.decide);
    println!(
        "  {:<28} {:>9.0} items/s",
        "  = decided over HTTP", r.items_per_s
    );
    println!(
        "  {:<28} {:>9.0} batches/s ({:.3} ms per batch, one thread)",
        "decide_batch in process",
        r.in_process_batches_per_s,
        1000.0 / r.in_process_batches_per_s
    );
    println!(
        "  ratios: decide / healthz calls {:.3}; HTTP decide / in-process decide_batch {:.3}",
        r.decide.calls_per_s / r.healthz.calls_per_s,
        r.decide.calls_per_s / r.in_process_batches_per_s
    );
    println!(
        "  targets: p99 < 2 ms: {}; >= 5,000 batch calls/s: {}",
        if r.decide.p99_ms < 2.0 {
            "met"
        } else {
            "NOT met"
        },
        if r.decide.calls_per_s >= 5000.0 {
            "met"
        } else {
            "NOT met"
        }
    );
}
