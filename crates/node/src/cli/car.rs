//! `vouch import FILE.car` and `vouch export --out FILE.car [SELECTION]`: objects as CAR v1
//! files of DAG-CBOR blocks (one block per object, named by its CID), which IPFS tools read.
//! The format is in `crate::car`.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};

use crate::car::{check_block, CarReader, CarWriter, MAX_EXPORT_ROOTS};
use crate::client;
use crate::node::store::{self, Durability, StoreReader, StoreWriter, StoredObject};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use vouch_reputation::{validate, ObjectId, SignedObject};

use crate::cli::connect::{NodeArgs, NodeConn};
use crate::cli::sign::{submit_object, Submission};

/// Objects written per store transaction by `import --into`.
const IMPORT_BATCH: usize = 1024;
/// Concurrent submissions to the node by `import` (the node's writer commits them together).
const SUBMIT_WORKERS: usize = 8;
/// Objects read from the store per query by `export`.
const EXPORT_BATCH: usize = 256;
/// Problems listed one by one (all are counted).
const MAX_LISTED_PROBLEMS: usize = 1000;

/// The CAR commands (flattened into the top-level `vouch` command).
#[derive(Debug, Subcommand)]
pub(crate) enum CarCommand {
    /// Import objects from a CAR v1 file into the node.
    ///
    /// Checks every block against its CID, validates it, and submits it to the running node
    /// (or writes it into a stopped node's data directory with --into). Exit code 1 if any
    /// block is not a valid object or the node refused one.
    #[command(after_help = "Examples:\n  \
        vouch import objects.car                      # submit to the node on the data directory\n  \
        vouch import objects.car --node http://127.0.0.1:7070\n  \
        vouch import objects.car --into ~/.local/share/vouch   # node stopped\n  \
        vouch import objects.car --check-only --json")]
    Import(ImportArgs),
    /// Export objects as a CAR v1 file of DAG-CBOR blocks.
    ///
    /// The objects named (CIDs fetched from the running node, or object files), or with no
    /// selection every object in the data directory's store.
    #[command(after_help = "Examples:\n  \
        vouch export --out all.car                    # the whole store (node running or not)\n  \
        vouch export --out some.car bafyrei… bafyrei… # fetched from the running node\n  \
        vouch export --out mine.car post.cbor vote.cbor")]
    Export(ExportArgs),
}

/// `vouch import`.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The CAR file.
    pub file: PathBuf,
    /// Write the objects into this data directory instead of submitting them (the node must
    /// be stopped; the node's replication filter is not applied).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["node", "check_only"])]
    pub into: Option<PathBuf>,
    /// Only check the blocks; import nothing.
    #[arg(long)]
    pub check_only: bool,
    #[command(flatten)]
    pub node: NodeArgs,
    /// Validate as of this time (ms since the epoch) instead of now.
    #[arg(long)]
    pub now: Option<u64>,
    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
}

/// `vouch export`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The CAR file to write.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Objects: CIDs (fetched from the running node) or object files. None: the whole store.
    pub items: Vec<String>,
    /// The node (for CIDs); its data directory's store is read for a whole export.
    #[command(flatten)]
    pub node: NodeArgs,
    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn run(cmd: CarCommand) -> Result<ExitCode> {
    match cmd {
        CarCommand::Import(a) => import(&a),
        CarCommand::Export(a) => export(&a),
    }
}

/// A block that is not imported, and why.
#[derive(Debug)]
struct Problem {
    cid: String,
    code: String,
    message: String,
}

/// Where imported objects go.
enum Sink {
    Check,
    Node(NodeConn),
    Store {
        writer: StoreWriter,
        pending: Vec<StoredObject>,
        thread: std::thread::JoinHandle<()>,
    },
}

/// Counts and problems, shared by the reading thread and the submitting workers.
#[derive(Debug, Default)]
struct Tally {
    blocks: u64,
    valid: u64,
    new: u64,
    known: u64,
    problems: u64,
    listed: Vec<Problem>,
    /// The first error that stops the import (e.g. the node went away).
    error: Option<anyhow::Error>,
}

impl Tally {
    fn problem(&mut self, json: bool, p: Problem) {
        self.problems += 1;
        if !json {
            println!("{}: [{}] {}", p.cid, p.code, p.message);
        }
        if self.listed.len() < MAX_LISTED_PROBLEMS {
            self.listed.push(p);
        }
    }

    fn stored(&mut self, new: bool) {
        if new {
            self.new += 1;
        } else {
            self.known += 1;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn flush(
    writer: &StoreWriter,
    pending: &mut Vec<StoredObject>,
    tally: &Mutex<Tally>,
) -> Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    let new = writer
        .insert_blocking(std::mem::take(pending))
        .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
    let mut t = lock(tally);
    for n in new {
        t.stored(n);
    }
    Ok(())
}

/// Submits objects from `rx` until it closes. After an error that stops the import (the
/// node went away) the workers only drain the channel, so the reader never blocks on it.
fn submit_worker(
    node: &NodeConn,
    rx: &Mutex<Receiver<(String, Vec<u8>)>>,
    tally: &Mutex<Tally>,
    json: bool,
) {
    loop {
        let next = lock(rx).recv();
        let Ok((cid, bytes)) = next else {
            return;
        };
        if lock(tally).error.is_some() {
            continue;
        }
        match submit_object(node, &bytes) {
            Ok(Submission::Accepted { new }) => lock(tally).stored(new),
            Ok(Submission::Refused { code, message }) => {
                lock(tally).problem(json, Problem { cid, code, message })
            }
            Ok(Submission::Skipped) => {}
            Err(e) => {
                lock(tally).error.get_or_insert(e);
            }
        }
    }
}

fn import(a: &ImportArgs) -> Result<ExitCode> {
    let file = File::open(&a.file).with_context(|| format!("opening {}", a.file.display()))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let now = a.now.unwrap_or_else(crate::node::clock::now_ms);
    let mut sink = if a.check_only {
        Sink::Check
    } else if let Some(dir) = &a.into {
        if let Ok(addr) = client::api_addr(dir) {
            if std::net::TcpStream::connect(addr).is_ok() {
                bail!(
                    "a node is running on {} (its endpoint {addr} answers): import through it \
                     instead of --into",
                    dir.display()
                );
            }
        }
        let conn = store::open(dir, Durability::Full)
            .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
        let (writer, thread) =
            StoreWriter::spawn(conn, Arc::new(crate::node::metrics::Metrics::default()));
        Sink::Store {
            writer,
            pending: Vec::new(),
            thread,
        }
    } else {
        Sink::Node(a.node.resolve()?)
    };

    let pb = crate::cli::progress::progress(len, "importing bytes");
    let tally = Mutex::new(Tally::default());
    // The node commits concurrent submissions together: keep several in flight.
    let (tx, rx) = sync_channel::<(String, Vec<u8>)>(SUBMIT_WORKERS * 4);
    let rx = Mutex::new(rx);
    let node = match &sink {
        Sink::Node(node) => Some(node.clone()),
        _ => None,
    };
    std::thread::scope(|scope| -> Result<()> {
        // Dropped when reading ends, which stops the workers.
        let tx = tx;
        if let Some(node) = &node {
            for _ in 0..SUBMIT_WORKERS {
                let (rx, tally, json) = (&rx, &tally, a.json);
                scope.spawn(move || submit_worker(node, rx, tally, json));
            }
        }
        let mut reader = match CarReader::new(BufReader::new(pb.wrap_read(file))) {
            Ok(r) => r,
            Err(e) => {
                let p = Problem {
                    cid: String::new(),
                    code: e.code().into(),
                    message: e.to_string(),
                };
                lock(&tally).problem(a.json, p);
                return Ok(());
            }
        };
        while lock(&tally).error.is_none() {
            let (cid, data) = match reader.next_block() {
                Ok(Some(block)) => block,
                Ok(None) => break,
                Err(e) => {
                    let p = Problem {
                        cid: String::new(),
                        code: e.code().into(),
                        message: e.to_string(),
                    };
                    lock(&tally).problem(a.json, p);
                    break;
                }
            };
            lock(&tally).blocks += 1;
            let checked = check_block(&cid, &data)
                .map_err(|e| (e.code().to_owned(), e.to_string()))
                .and_then(|_| {
                    validate(&data, now).map_err(|e| (e.code().to_owned(), e.to_string()))
                });
            let obj = match checked {
                Ok(obj) => obj,
                Err((code, message)) => {
                    let p = Problem {
                        cid: cid.to_string(),
                        code,
                        message,
                    };
                    lock(&tally).problem(a.json, p);
                    continue;
                }
            };
            lock(&tally).valid += 1;
            match &mut sink {
                Sink::Check => {}
                Sink::Node(_) => {
                    if tx.send((cid.to_string(), data)).is_err() {
                        break;
                    }
                }
                Sink::Store {
                    writer, pending, ..
                } => {
                    pending.push(StoredObject::from_signed(&obj));
                    if pending.len() >= IMPORT_BATCH {
                        flush(writer, pending, &tally)?;
                    }
                }
            }
        }
        Ok(())
    })?;
    if let Sink::Store {
        writer,
        mut pending,
        thread,
    } = sink
    {
        flush(&writer, &mut pending, &tally)?;
        drop(writer);
        let _ = thread.join();
    }
    pb.finish_and_clear();
    let mut t = match tally.into_inner() {
        Ok(t) => t,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(e) = t.error.take() {
        return Err(e);
    }

    if a.json {
        println!(
            "{}",
            json!({
                "file": a.file,
                "blocks": t.blocks,
                "valid": t.valid,
                "new": t.new,
                "known": t.known,
                "problems": t.problems,
                "listed": t.listed.iter().map(|p| json!({"cid": p.cid, "code": p.code, "message": p.message})).collect::<Vec<_>>(),
            })
        );
    } else if a.check_only {
        println!(
            "{}: {} blocks, {} valid objects, {} problems",
            a.file.display(),
            t.blocks,
            t.valid,
            t.problems
        );
    } else {
        println!(
            "{}: {} blocks, {} objects imported ({} new, {} already there), {} problems",
            a.file.display(),
            t.blocks,
            t.new + t.known,
            t.new,
            t.known,
            t.problems
        );
    }
    Ok(if t.problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One selected object's bytes, or why it is missing.
fn fetch_item(
    item: &str,
    conn: &mut Option<NodeConn>,
    a: &ExportArgs,
) -> Result<std::result::Result<SignedObject, Problem>> {
    let problem = |code: &str, message: String| Problem {
        cid: item.to_owned(),
        code: code.to_owned(),
        message,
    };
    let bytes = if let Ok(id) = item.parse::<ObjectId>() {
        let node = match conn {
            Some(n) => n,
            None => conn.insert(a.node.resolve()?),
        };
        let resp = node.request("GET", &format!("/v1/objects/{id}"), None, &[])?;
        if resp.status != 200 {
            let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
            return Ok(Err(problem(
                body["error"]["code"].as_str().unwrap_or("http-error"),
                format!("the node answered {}", resp.status),
            )));
        }
        if ObjectId::of_bytes(&resp.body) != id {
            return Ok(Err(problem(
                "car-cid-mismatch",
                "the node's bytes do not match the CID".into(),
            )));
        }
        resp.body
    } else {
        crate::cli::objects::read_object_file(&PathBuf::from(item))?
    };
    Ok(validate(&bytes, u64::MAX).map_err(|e| problem(e.code(), e.to_string())))
}

fn export(a: &ExportArgs) -> Result<ExitCode> {
    let tmp = a.out.with_extension("car.partial");
    let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut problems = Vec::new();
    let mut written = 0u64;
    let writer = if a.items.is_empty() {
        let dir = a.node.data_dir();
        if !dir.join(store::DB_FILE).exists() {
            bail!("no store in {} (give --data-dir)", dir.display());
        }
        let reader = StoreReader::open(&dir).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
        let ids = reader
            .all_ids()
            .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
        let roots: Vec<_> = ids
            .iter()
            .take(MAX_EXPORT_ROOTS)
            .map(ObjectId::to_cid)
            .collect();
        let mut car = CarWriter::new(BufWriter::new(file), &roots)?;
        let pb = crate::cli::progress::progress(ids.len() as u64, "exporting objects");
        for chunk in ids.chunks(EXPORT_BATCH) {
            let blocks = reader
                .get_many(chunk, usize::MAX)
                .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
            for bytes in blocks {
                car.write_block(&ObjectId::of_bytes(&bytes).to_cid(), &bytes)?;
                written += 1;
            }
            pb.inc(chunk.len() as u64);
        }
        pb.finish_and_clear();
        car
    } else {
        let mut addr = None;
        let mut objects = Vec::new();
        let pb = crate::cli::progress::progress(a.items.len() as u64, "fetching objects");
        for item in &a.items {
            match fetch_item(item, &mut addr, a)? {
                Ok(obj) => objects.push(obj),
                Err(p) => {
                    if !a.json {
                        println!("{}: [{}] {}", p.cid, p.code, p.message);
                    }
                    problems.push(p);
                }
            }
            pb.inc(1);
        }
        pb.finish_and_clear();
        let roots: Vec<_> = objects.iter().map(|o| o.id().to_cid()).collect();
        let mut car = CarWriter::new(BufWriter::new(file), &roots)?;
        for obj in &objects {
            car.write_block(&obj.id().to_cid(), obj.bytes())?;
            written += 1;
        }
        car
    };
    writer.finish()?;
    std::fs::rename(&tmp, &a.out).with_context(|| format!("writing {}", a.out.display()))?;
    if a.json {
        println!(
            "{}",
            json!({
                "file": a.out,
                "objects": written,
                "problems": problems.len(),
                "listed": problems.iter().map(|p| json!({"cid": p.cid, "code": p.code, "message": p.message})).collect::<Vec<_>>(),
            })
        );
    } else {
        println!("{}: {written} objects", a.out.display());
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
