//! The SQLite store: validated objects are the source of truth, every other table is derived
//! from them (and rebuilt by [`rebuild`]) or is network state (known and banned peers).
//!
//! One writer thread owns the write connection and serves a bounded channel
//! ([`StoreWriter`]); it commits batches of commands in one transaction and answers each
//! command only after the commit, so an acknowledged object survives `kill -9`. Readers use
//! their own connections ([`StoreReader`]); WAL lets them run beside the writer.

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot, watch};
use vouch_reputation::{ObjectId, SignedObject};

use crate::net::topic::topic_of;
use crate::node::metrics::Metrics;

/// Name of the database file inside the data directory.
pub(crate) const DB_FILE: &str = "vouch.sqlite";
/// Version of the schema below, kept in `meta` (`schema_version`). Older databases are
/// migrated forward by [`MIGRATIONS`] when they are opened; a newer one is refused.
pub(crate) const SCHEMA_VERSION: i64 = 3;
/// Capacity of the writer's command channel.
pub(crate) const WRITER_QUEUE: usize = 1024;
/// Most objects the writer commits in one transaction.
pub(crate) const MAX_OBJECTS_PER_COMMIT: usize = 8192;
/// SQLite page cache of the writer's connection, in KiB: large enough that the id index of
/// a few million objects stays in memory, so random-id inserts do not reread pages.
pub(crate) const WRITER_CACHE_KIB: i64 = 64 * 1024;
/// WAL pages (4 KiB) after which a commit checkpoints the WAL into the database (SQLite's
/// default is 1,000). Object ids are random, so every commit dirties pages all over the id
/// index; a longer interval writes each such page to the database once for many commits
/// (measured with a 1,000,000-object store: the writer's CPU per object fell from 24 us to
/// 19 us at 16,384 pages). The WAL file grows to about 64 MiB.
pub(crate) const WAL_AUTOCHECKPOINT_PAGES: i64 = 16 * 1024;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Source of truth: validated objects, as received (canonical DAG-CBOR).
CREATE TABLE IF NOT EXISTS objects (
    seq INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,          -- sha2-256 of bytes (the CID's digest)
    at INTEGER NOT NULL,              -- the author's time, ms since the epoch
    kind TEXT NOT NULL,
    author BLOB NOT NULL,             -- 32-byte ed25519 key
    topic TEXT NOT NULL,
    bytes BLOB NOT NULL,
    received_ms INTEGER NOT NULL
);
-- Derived: the catch-up index, one row per object, ordered as negentropy wants it.
CREATE TABLE IF NOT EXISTS sync_index (
    topic TEXT NOT NULL, at INTEGER NOT NULL, id BLOB NOT NULL,
    PRIMARY KEY (topic, at, id)
) WITHOUT ROWID;
-- Derived: per-author counts.
CREATE TABLE IF NOT EXISTS authors (
    author BLOB PRIMARY KEY, n_objects INTEGER NOT NULL, last_at INTEGER NOT NULL
) WITHOUT ROWID;
-- Network state: addresses of peers seen, so rendezvous is needed only for first contact.
CREATE TABLE IF NOT EXISTS peers (
    peer_id TEXT NOT NULL, addr TEXT NOT NULL, last_seen_ms INTEGER NOT NULL,
    PRIMARY KEY (peer_id, addr)
) WITHOUT ROWID;
-- Network state: peers banned for sending invalid objects.
CREATE TABLE IF NOT EXISTS banned_peers (
    peer_id TEXT PRIMARY KEY, reason TEXT NOT NULL, since_ms INTEGER NOT NULL
) WITHOUT ROWID;
-- Local settings, not derived from objects (kept across rebuilds): the node's viewers (the
-- accounts of the client beside it), one policy each as a PolicyRecord (DAG-CBOR, its own
-- format: node/policy_record.rs). Written by the engine on its own connection.
CREATE TABLE IF NOT EXISTS viewers (
    viewer BLOB PRIMARY KEY,          -- 32-byte ed25519 key
    policy BLOB NOT NULL,             -- PolicyRecord
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
-- Local settings (schema 3): credentials the holder beside this node handed it
-- (node/identity.rs; written by the engine's identity half on its own connection). Private:
-- a credential leaves the node only as a `credential` object the holder signed (`public`).
CREATE TABLE IF NOT EXISTS credentials (
    digest BLOB PRIMARY KEY,          -- sha2-256 of the credential's JSON text
    json TEXT NOT NULL,               -- the credential as handed in
    public INTEGER NOT NULL,          -- 1: the holder also published it as an object
    added_ms INTEGER NOT NULL
) WITHOUT ROWID;
-- Local settings (schema 3): issuers' signed revocation statements (specs/identity.md §3)
-- handed to this node; `credential-revoke` objects are read from `objects` instead.
CREATE TABLE IF NOT EXISTS credential_revocations (
    digest BLOB PRIMARY KEY,          -- sha2-256 of the statement's JSON text
    json TEXT NOT NULL,
    added_ms INTEGER NOT NULL
) WITHOUT ROWID;
";

/// One forward migration: from schema `from` to `from + 1`, run in one transaction.
type Migration = fn(&rusqlite::Transaction<'_>) -> Result<(), StoreError>;

/// The migrations, in order: `MIGRATIONS[i]` takes schema `i + 1` to `i + 2`.
const MIGRATIONS: [Migration; 2] = [migrate_1_to_2, migrate_2_to_3];

/// Schema 3 adds the local credential tables (`credentials`, `credential_revocations`).
/// The base schema creates missing tables before any step runs, so there is nothing to move;
/// the step checks that they are there.
fn migrate_2_to_3(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    let n: i64 = tx.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'
         AND name IN ('credentials', 'credential_revocations')",
        [],
        |r| r.get(0),
    )?;
    if n == 2 {
        Ok(())
    } else {
        Err(StoreError::Schema(2))
    }
}

/// Schema 1 kept each viewer's policy as the API's JSON text (format 1); schema 2 keeps a
/// `PolicyRecord`. A row whose JSON cannot be read keeps its original bytes, so the engine
/// reports that viewer as unreadable instead of losing it.
fn migrate_1_to_2(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    use crate::node::policy_record::PolicyRecord;
    // Schema 1 created `viewers` from the engine, so it may be missing; the base schema
    // above has just created the schema 2 table in that case, and there is nothing to move.
    let v1: bool = tx.query_row(
        "SELECT count(*) FROM pragma_table_info('viewers') WHERE name = 'policy' AND type = 'TEXT'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !v1 {
        return Ok(());
    }
    tx.execute_batch(
        "ALTER TABLE viewers RENAME TO viewers_v1;
         CREATE TABLE viewers (
             viewer BLOB PRIMARY KEY, policy BLOB NOT NULL,
             created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL
         ) WITHOUT ROWID;",
    )?;
    let rows: Vec<(Vec<u8>, Vec<u8>, i64, i64)> = {
        let mut stmt = tx.prepare(
            "SELECT viewer, CAST(policy AS BLOB), created_ms, updated_ms FROM viewers_v1",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut put = tx.prepare(
        "INSERT INTO viewers (viewer, policy, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (key, text, created, updated) in rows {
        let record = vouch_identity::PublicKey::from_bytes(&key)
            .ok()
            .zip(std::str::from_utf8(&text).ok())
            .map(|(viewer, text)| PolicyRecord::from_v1_json(viewer, text));
        let policy = match record {
            Some(Ok(record)) => record.to_bytes(),
            Some(Err(e)) => {
                tracing::error!(viewer = %hex::encode(&key), error = %e, code = e.code(),
                    "migrating a viewer whose format 1 policy does not parse: kept as it was");
                text
            }
            None => {
                tracing::error!(viewer = %hex::encode(&key),
                    "migrating a viewer row with an invalid key or policy text: kept as it was");
                text
            }
        };
        put.execute(params![key, policy, created, updated])?;
    }
    tx.execute_batch("DROP TABLE viewers_v1;")?;
    Ok(())
}

/// A store failure. Every variant has a stable [`code`](StoreError::code).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A commit failed; nothing of its batch was stored.
    #[error("commit failed: {0}")]
    Commit(String),
    /// The writer thread has stopped.
    #[error("the store writer has stopped")]
    Closed,
    /// The writer's queue is full.
    #[error("the store writer's queue is full")]
    Busy,
    /// The database was written by a newer schema.
    #[error("database schema version {0} is not supported")]
    Schema(i64),
    /// The data directory could not be created or read.
    #[error("data directory: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Sqlite(_) => "store-sqlite",
            StoreError::Commit(_) => "store-commit",
            StoreError::Closed => "store-closed",
            StoreError::Busy => "store-busy",
            StoreError::Schema(_) => "store-schema",
            StoreError::Io(_) => "store-io",
        }
    }
}

/// An object ready for the store, with the columns it is indexed by.
#[derive(Debug, Clone)]
pub struct StoredObject {
    /// The object's id.
    pub id: ObjectId,
    /// The author's time.
    pub at: u64,
    /// The kind, as written in the envelope.
    pub kind: String,
    /// The author's key bytes.
    pub author: [u8; 32],
    /// The topic it travels on.
    pub topic: String,
    /// The canonical bytes.
    pub bytes: Vec<u8>,
}

impl StoredObject {
    /// The row for a validated object.
    pub fn from_signed(object: &SignedObject) -> Self {
        StoredObject {
            id: object.id(),
            at: object.at(),
            kind: object.kind().to_string(),
            author: *object.author().as_bytes(),
            topic: topic_of(object),
            bytes: object.bytes().to_vec(),
        }
    }

    /// The row for a validated object, taking its bytes instead of copying them.
    pub fn from_signed_owned(object: SignedObject) -> Self {
        let topic = topic_of(&object);
        let kind = object.kind().to_string();
        let (obj, _, bytes, id) = object.into_parts();
        StoredObject {
            id,
            at: obj.at,
            kind,
            author: *obj.author.as_bytes(),
            topic,
            bytes,
        }
    }
}

/// How the writer syncs commits to disk.
///
/// Both modes run SQLite in WAL mode, where a commit is written to the WAL file before the
/// writer answers, so the object is in the operating system's hands: a process crash
/// (`kill -9`, panic, out-of-memory kill) cannot lose it in either mode, and the database is
/// never corrupted. The modes differ only on power loss or a kernel crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// `synchronous=FULL`: the WAL is fsynced at every commit, so a commit also survives
    /// power loss. Costs one fsync per commit.
    Full,
    /// `synchronous=NORMAL` (the default): the WAL is fsynced at checkpoints only. A commit
    /// survives a process crash; power loss can roll back the last commits (never corrupt
    /// the database). Peers hold copies of what was lost, so catch-up restores it.
    #[default]
    Normal,
}

enum WriteCmd {
    Insert {
        objects: Vec<StoredObject>,
        ack: oneshot::Sender<Result<Vec<bool>, StoreError>>,
    },
    Peer {
        peer_id: String,
        addrs: Vec<String>,
        now_ms: u64,
    },
    Ban {
        peer_id: String,
        reason: String,
        now_ms: u64,
    },
}

/// Opens (creating if needed) the database in `data_dir` and applies the schema.
pub fn open(data_dir: &Path, durability: Durability) -> Result<Connection, StoreError> {
    std::fs::create_dir_all(data_dir)?;
    let conn = Connection::open(data_dir.join(DB_FILE))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(
        None,
        "synchronous",
        match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        },
    )?;
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
    conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
    let mut conn = conn;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Applies the schema: creates what is missing and migrates an older database forward,
/// each step in its own transaction together with the new version number; refuses a
/// database written by a newer schema.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    tx.execute_batch(SCHEMA)?;
    let version: Option<String> = tx
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let set_version = |tx: &rusqlite::Transaction<'_>, v: i64| {
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?1)",
            [v.to_string()],
        )
    };
    let mut current = match version.map(|v| v.parse::<i64>()) {
        None => {
            set_version(&tx, SCHEMA_VERSION)?;
            SCHEMA_VERSION
        }
        Some(Ok(v)) if (1..=SCHEMA_VERSION).contains(&v) => v,
        Some(Ok(v)) => return Err(StoreError::Schema(v)),
        Some(Err(_)) => return Err(StoreError::Schema(-1)),
    };
    tx.commit()?;
    while current < SCHEMA_VERSION {
        let tx = conn.transaction()?;
        // `current` is in 1..SCHEMA_VERSION here, so the index is in bounds.
        let step = MIGRATIONS
            .get(usize::try_from(current - 1).unwrap_or(usize::MAX))
            .ok_or(StoreError::Schema(current))?;
        step(&tx)?;
        set_version(&tx, current + 1)?;
        tx.commit()?;
        tracing::info!(from = current, to = current + 1, "store schema migrated");
        current += 1;
    }
    Ok(())
}

/// The handle to the single writer. Cheap to clone.
#[derive(Clone, Debug)]
pub struct StoreWriter {
    tx: mpsc::Sender<WriteCmd>,
    metrics: Arc<Metrics>,
    commits: watch::Receiver<i64>,
}

impl std::fmt::Debug for WriteCmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteCmd::Insert { objects, .. } => write!(f, "Insert({})", objects.len()),
            WriteCmd::Peer { peer_id, .. } => write!(f, "Peer({peer_id})"),
            WriteCmd::Ban { peer_id, .. } => write!(f, "Ban({peer_id})"),
        }
    }
}

impl StoreWriter {
    /// Starts the writer thread on `conn`. The thread ends when every handle is dropped.
    pub fn spawn(conn: Connection, metrics: Arc<Metrics>) -> (Self, std::thread::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(WRITER_QUEUE);
        let m = metrics.clone();
        let last_seq = conn
            .query_row("SELECT coalesce(max(seq), 0) FROM objects", [], |r| {
                r.get(0)
            })
            .unwrap_or(0);
        let (commits_tx, commits) = watch::channel(last_seq);
        let handle = std::thread::Builder::new()
            .name("vouch-store-writer".into())
            .spawn(move || writer_loop(conn, rx, m, commits_tx));
        let handle = match handle {
            Ok(h) => h,
            // Without a thread there is no writer; every send then fails with `Closed`.
            Err(_) => std::thread::spawn(|| {}),
        };
        (
            StoreWriter {
                tx,
                metrics,
                commits,
            },
            handle,
        )
    }

    /// The commit hook: the highest `objects.seq` committed so far, updated after each
    /// commit that stored new objects and before the commit is acknowledged. The engine
    /// watches it to read new objects; a caller that waited for an acknowledgement may wait
    /// for the engine to pass this value too.
    pub fn commits(&self) -> watch::Receiver<i64> {
        self.commits.clone()
    }

    /// Stores objects (idempotently); answers, after the commit, which ones were new.
    pub async fn insert(&self, objects: Vec<StoredObject>) -> Result<Vec<bool>, StoreError> {
        if objects.is_empty() {
            return Ok(Vec::new());
        }
        let (ack, rx) = oneshot::channel();
        self.tx
            .send(WriteCmd::Insert { objects, ack })
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Same as [`StoreWriter::insert`], for callers outside the runtime.
    pub fn insert_blocking(&self, objects: Vec<StoredObject>) -> Result<Vec<bool>, StoreError> {
        let (ack, rx) = oneshot::channel();
        self.tx
            .blocking_send(WriteCmd::Insert { objects, ack })
            .map_err(|_| StoreError::Closed)?;
        rx.blocking_recv().map_err(|_| StoreError::Closed)?
    }

    /// Remembers addresses of a peer (best effort: dropped if the queue is full).
    pub fn remember_peer(&self, peer_id: String, addrs: Vec<String>, now_ms: u64) {
        if self
            .tx
            .try_send(WriteCmd::Peer {
                peer_id,
                addrs,
                now_ms,
            })
            .is_err()
        {
            Metrics::inc(&self.metrics.queue_full_total);
        }
    }

    /// Records a banned peer (best effort).
    pub fn ban_peer(&self, peer_id: String, reason: String, now_ms: u64) {
        if self
            .tx
            .try_send(WriteCmd::Ban {
                peer_id,
                reason,
                now_ms,
            })
            .is_err()
        {
            Metrics::inc(&self.metrics.queue_full_total);
        }
    }
}

fn writer_loop(
    mut conn: Connection,
    mut rx: mpsc::Receiver<WriteCmd>,
    metrics: Arc<Metrics>,
    commits: watch::Sender<i64>,
) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        let mut n_objects = batch_objects(&batch);
        while n_objects < MAX_OBJECTS_PER_COMMIT {
            match rx.try_recv() {
                Ok(cmd) => {
                    batch.push(cmd);
                    n_objects = batch_objects(&batch);
                }
                Err(_) => break,
            }
        }
        let result = apply_batch(&mut conn, &batch);
        match result {
            Ok(per_cmd) => {
                Metrics::inc(&metrics.store_commits_total);
                // The commit hook: after a commit that stored new objects, the highest seq.
                // Only `objects` gets rows with a rowid here (the other tables this writer
                // inserts into are WITHOUT ROWID), so this is the last object inserted.
                if per_cmd.iter().flatten().any(|new| *new) {
                    let last = conn.last_insert_rowid();
                    commits.send_if_modified(|c| {
                        let newer = last > *c;
                        *c = (*c).max(last);
                        newer
                    });
                }
                for (cmd, news) in batch.into_iter().zip(per_cmd) {
                    if let WriteCmd::Insert { ack, .. } = cmd {
                        let n_new = news.iter().filter(|n| **n).count() as u64;
                        Metrics::add(&metrics.objects_stored_total, n_new);
                        Metrics::add(&metrics.objects_duplicate_total, news.len() as u64 - n_new);
                        let _ = ack.send(Ok(news));
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "store commit failed");
                let msg = e.to_string();
                for cmd in batch {
                    if let WriteCmd::Insert { ack, .. } = cmd {
                        let _ = ack.send(Err(StoreError::Commit(msg.clone())));
                    }
                }
            }
        }
    }
}

fn batch_objects(batch: &[WriteCmd]) -> usize {
    batch
        .iter()
        .map(|c| match c {
            WriteCmd::Insert { objects, .. } => objects.len(),
            _ => 1,
        })
        .sum()
}

/// Inserts objects and their derived rows; answers per command which objects were new.
fn apply_batch(conn: &mut Connection, batch: &[WriteCmd]) -> Result<Vec<Vec<bool>>, StoreError> {
    let tx = conn.transaction()?;
    let mut out = Vec::with_capacity(batch.len());
    {
        let mut ins = tx.prepare_cached(
            "INSERT OR IGNORE INTO objects (id, at, kind, author, topic, bytes, received_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let mut idx = tx.prepare_cached(
            "INSERT OR IGNORE INTO sync_index (topic, at, id) VALUES (?1, ?2, ?3)",
        )?;
        let mut auth = tx.prepare_cached(AUTHORS_UPSERT)?;
        let mut peer = tx.prepare_cached(
            "INSERT INTO peers (peer_id, addr, last_seen_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT(peer_id, addr) DO UPDATE SET last_seen_ms = excluded.last_seen_ms",
        )?;
        let mut ban = tx.prepare_cached(
            "INSERT OR REPLACE INTO banned_peers (peer_id, reason, since_ms) VALUES (?1, ?2, ?3)",
        )?;
        let received = crate::node::clock::now_ms() as i64;
        // Per-author counts are summed over the transaction: one upsert per author, not
        // one per object.
        let mut authors = AuthorCounts::default();
        for cmd in batch {
            match cmd {
                WriteCmd::Insert { objects, .. } => {
                    let mut news = Vec::with_capacity(objects.len());
                    for o in objects {
                        let at = i64::try_from(o.at).unwrap_or(i64::MAX);
                        let n = ins.execute(params![
                            &o.id.0[..],
                            at,
                            o.kind,
                            &o.author[..],
                            o.topic,
                            o.bytes,
                            received
                        ])?;
                        if n == 1 {
                            idx.execute(params![o.topic, at, &o.id.0[..]])?;
                            authors.add(o.author, at);
                        }
                        news.push(n == 1);
                    }
                    out.push(news);
                }
                WriteCmd::Peer {
                    peer_id,
                    addrs,
                    now_ms,
                } => {
                    for a in addrs.iter().take(16) {
                        peer.execute(params![peer_id, a, *now_ms as i64])?;
                    }
                    out.push(Vec::new());
                }
                WriteCmd::Ban {
                    peer_id,
                    reason,
                    now_ms,
                } => {
                    ban.execute(params![peer_id, reason, *now_ms as i64])?;
                    out.push(Vec::new());
                }
            }
        }
        authors.write(&mut auth)?;
    }
    tx.commit()?;
    Ok(out)
}

/// Adds `n_objects` objects, the latest at `last_at`, to an author's row.
const AUTHORS_UPSERT: &str = "INSERT INTO authors (author, n_objects, last_at) VALUES (?1, ?2, ?3)
     ON CONFLICT(author) DO UPDATE SET n_objects = n_objects + excluded.n_objects,
     last_at = max(last_at, excluded.last_at)";

/// Per-author object counts and latest times, summed before they are written.
#[derive(Default)]
struct AuthorCounts(std::collections::HashMap<[u8; 32], (i64, i64)>);

impl AuthorCounts {
    fn add(&mut self, author: [u8; 32], at: i64) {
        let e = self.0.entry(author).or_insert((0, at));
        e.0 += 1;
        e.1 = e.1.max(at);
    }

    fn write(self, upsert: &mut rusqlite::Statement<'_>) -> Result<(), rusqlite::Error> {
        for (author, (n, last_at)) in self.0 {
            upsert.execute(params![&author[..], n, last_at])?;
        }
        Ok(())
    }
}

/// Read access on its own connection. Cheap to clone; calls block (use `spawn_blocking`).
#[derive(Clone, Debug)]
pub struct StoreReader {
    conn: Arc<Mutex<Connection>>,
}

impl StoreReader {
    /// Opens a connection for reading to the database in `data_dir` (which must exist).
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            data_dir.join(DB_FILE),
            // Read-write without create: after a crash, the first connection must be able
            // to recover the WAL; this handle only ever reads.
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(StoreReader {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T, StoreError> {
        let guard = match self.conn.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        Ok(f(&guard)?)
    }

    /// The bytes of one object.
    pub fn get(&self, id: &ObjectId) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(|c| {
            c.prepare_cached("SELECT bytes FROM objects WHERE id = ?1")?
                .query_row([&id.0[..]], |r| r.get(0))
                .optional()
        })
    }

    /// The bytes of the objects among `ids` that are stored (in no particular order),
    /// stopping before the total would pass `max_bytes`.
    pub fn get_many(&self, ids: &[ObjectId], max_bytes: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare_cached("SELECT bytes FROM objects WHERE id = ?1")?;
            let mut out = Vec::new();
            let mut total = 0usize;
            for id in ids {
                let b: Option<Vec<u8>> = stmt.query_row([&id.0[..]], |r| r.get(0)).optional()?;
                if let Some(b) = b {
                    total += b.len();
                    if total > max_bytes {
                        break;
                    }
                    out.push(b);
                }
            }
            Ok(out)
        })
    }

    /// Whether an object is stored.
    pub fn contains(&self, id: &ObjectId) -> Result<bool, StoreError> {
        self.with(|c| {
            c.prepare_cached("SELECT 1 FROM objects WHERE id = ?1")?
                .query_row([&id.0[..]], |_| Ok(()))
                .optional()
                .map(|o| o.is_some())
        })
    }

    /// The catch-up index of one topic: `(at, id)` in order.
    pub fn sync_items(&self, topic: &str) -> Result<Vec<(u64, [u8; 32])>, StoreError> {
        self.with(|c| {
            let mut stmt =
                c.prepare_cached("SELECT at, id FROM sync_index WHERE topic = ?1 ORDER BY at, id")?;
            let rows = stmt.query_map([topic], |r| {
                let at: i64 = r.get(0)?;
                let id: Vec<u8> = r.get(1)?;
                Ok((at, id))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (at, id) = row?;
                if let Ok(id) = <[u8; 32]>::try_from(id.as_slice()) {
                    out.push((at.max(0) as u64, id));
                }
            }
            Ok(out)
        })
    }

    /// Number of stored objects.
    pub fn count(&self) -> Result<u64, StoreError> {
        self.with(|c| c.query_row("SELECT count(*) FROM objects", [], |r| r.get::<_, i64>(0)))
            .map(|n| n.max(0) as u64)
    }

    /// Every stored object id.
    pub fn all_ids(&self) -> Result<Vec<ObjectId>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT id FROM objects")?;
            let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
            let mut out = Vec::new();
            for row in rows {
                if let Ok(id) = <[u8; 32]>::try_from(row?.as_slice()) {
                    out.push(ObjectId(id));
                }
            }
            Ok(out)
        })
    }

    /// Known peers with their addresses, most recently seen first.
    pub fn known_peers(&self, limit: usize) -> Result<Vec<(String, String)>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT peer_id, addr FROM peers
                 WHERE peer_id NOT IN (SELECT peer_id FROM banned_peers)
                 ORDER BY last_seen_ms DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map([limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
    }

    /// Banned peers.
    pub fn banned_peers(&self) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT peer_id FROM banned_peers")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })
    }
}

/// What [`rebuild`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RebuildReport {
    /// Objects read and re-derived.
    pub objects: u64,
    /// Objects that no longer validate (left in place, not indexed).
    pub invalid: u64,
}

/// Drops every derived table and derives it again from the objects, re-validating each.
/// Run it on a stopped node.
pub fn rebuild(data_dir: &Path) -> Result<RebuildReport, StoreError> {
    let mut conn = open(data_dir, Durability::Full)?;
    let tx = conn.transaction()?;
    tx.execute_batch("DELETE FROM sync_index; DELETE FROM authors;")?;
    let mut report = RebuildReport {
        objects: 0,
        invalid: 0,
    };
    {
        let mut read = tx.prepare("SELECT bytes FROM objects ORDER BY seq")?;
        let mut fix = tx.prepare("UPDATE objects SET topic = ?2, at = ?3 WHERE id = ?1")?;
        let mut idx =
            tx.prepare("INSERT OR IGNORE INTO sync_index (topic, at, id) VALUES (?1, ?2, ?3)")?;
        let mut auth = tx.prepare(AUTHORS_UPSERT)?;
        let mut authors = AuthorCounts::default();
        let mut rows = read.query([])?;
        while let Some(row) = rows.next()? {
            let bytes: Vec<u8> = row.get(0)?;
            report.objects += 1;
            // Objects were valid when stored; the clock check cannot fail for the past.
            match vouch_reputation::validate(&bytes, u64::MAX / 2) {
                Ok(obj) => {
                    let o = StoredObject::from_signed(&obj);
                    let at = i64::try_from(o.at).unwrap_or(i64::MAX);
                    fix.execute(params![&o.id.0[..], o.topic, at])?;
                    idx.execute(params![o.topic, at, &o.id.0[..]])?;
                    authors.add(o.author, at);
                }
                Err(_) => report.invalid += 1,
            }
        }
        drop(rows);
        authors.write(&mut auth)?;
    }
    tx.commit()?;
    Ok(report)
}

/// `PRAGMA integrity_check` on the database in `data_dir`: `"ok"` when healthy.
pub fn integrity_check(data_dir: &Path) -> Result<String, StoreError> {
    let conn =
        Connection::open_with_flags(data_dir.join(DB_FILE), OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    Ok(conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
}

/// The default data directory: `$VOUCH_HOME`, else `$XDG_DATA_HOME/vouch`, else
/// `~/.local/share/vouch`, else `./vouch-data`.
pub fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("XDG_DATA_HOME") {
        return PathBuf::from(d).join("vouch");
    }
    if let Some(h) = std::env::var_os("HOME") {
        return PathBuf::from(h).join(".local/share/vouch");
    }
    PathBuf::from("vouch-data")
}

#[cfg(test)]
mod tests {
    use super::*;
    use vouch_identity::SecretKey;
    use vouch_reputation::{Body, Object, PostBody};

    #[test]
    fn owned_and_borrowed_rows_agree() {
        let o = post(3);
        let a = StoredObject::from_signed(&o);
        let b = StoredObject::from_signed_owned(o);
        assert_eq!(
            (a.id, a.at, &a.kind, a.author, &a.topic, &a.bytes),
            (b.id, b.at, &b.kind, b.author, &b.topic, &b.bytes)
        );
    }

    fn post(n: u64) -> SignedObject {
        let key = SecretKey::from_seed(&[7; 32]);
        Object {
            author: key.public_key(),
            at: 1_700_000_000_000 + n,
            body: Body::Post(PostBody {
                text: format!("post {n}"),
                ..Default::default()
            }),
        }
        .sign(&key)
        .unwrap()
    }

    #[test]
    fn insert_is_idempotent_and_rebuild_restores_derived_state() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(dir.path(), Durability::Normal).unwrap();
        let (w, handle) = StoreWriter::spawn(conn, Arc::new(Metrics::default()));
        let objs: Vec<StoredObject> = (0..10)
            .map(|n| StoredObject::from_signed(&post(n)))
            .collect();
        assert_eq!(
            w.insert_blocking(objs[..5].to_vec()).unwrap(),
            vec![true; 5]
        );
        let again = w.insert_blocking(objs.clone()).unwrap();
        assert_eq!(again, [vec![false; 5], vec![true; 5]].concat());
        w.remember_peer("p1".into(), vec!["/ip4/127.0.0.1/tcp/1".into()], 5);
        w.ban_peer("p2".into(), "bad".into(), 6);
        // A no-op insert round-trips through the writer, so the best-effort commands are in.
        w.insert_blocking(objs[..1].to_vec()).unwrap();
        drop(w);
        handle.join().unwrap();

        let r = StoreReader::open(dir.path()).unwrap();
        assert_eq!(r.count().unwrap(), 10);
        let items = r.sync_items(crate::net::topic::SOCIAL_TOPIC).unwrap();
        assert_eq!(items.len(), 10);
        assert!(items.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(r.get(&objs[3].id).unwrap(), Some(objs[3].bytes.clone()));
        assert!(r.contains(&objs[9].id).unwrap());
        assert_eq!(
            r.get_many(&[objs[0].id, objs[1].id], 1 << 20)
                .unwrap()
                .len(),
            2
        );
        assert_eq!(r.known_peers(10).unwrap().len(), 1);
        assert_eq!(r.banned_peers().unwrap(), vec!["p2".to_string()]);
        drop(r);

        let c = open(dir.path(), Durability::Normal).unwrap();
        c.execute_batch("DELETE FROM sync_index; DELETE FROM authors;")
            .unwrap();
        drop(c);
        let report = rebuild(dir.path()).unwrap();
        assert_eq!(
            report,
            RebuildReport {
                objects: 10,
                invalid: 0
            }
        );
        let r = StoreReader::open(dir.path()).unwrap();
        assert_eq!(
            r.sync_items(crate::net::topic::SOCIAL_TOPIC).unwrap(),
            items
        );
        assert_eq!(integrity_check(dir.path()).unwrap(), "ok");
    }

    fn authors(dir: &Path) -> Vec<(Vec<u8>, i64, i64)> {
        let c = open(dir, Durability::Normal).unwrap();
        let mut stmt = c
            .prepare("SELECT author, n_objects, last_at FROM authors ORDER BY author")
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn author_counts_summed_per_commit_match_a_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(dir.path(), Durability::Normal).unwrap();
        let (w, handle) = StoreWriter::spawn(conn, Arc::new(Metrics::default()));
        let keys: Vec<SecretKey> = (1..=3u8).map(|i| SecretKey::from_seed(&[i; 32])).collect();
        let obj = |k: usize, at: u64| {
            let o = Object {
                author: keys[k].public_key(),
                at,
                body: Body::Post(PostBody {
                    text: format!("{k} at {at}"),
                    ..Default::default()
                }),
            }
            .sign(&keys[k])
            .unwrap();
            StoredObject::from_signed_owned(o)
        };
        // Out of time order, across two commits, with a duplicate that must not count.
        let first = vec![obj(0, 50), obj(1, 10), obj(0, 20), obj(0, 30)];
        let second = vec![obj(0, 40), obj(2, 5), first[1].clone(), obj(1, 70)];
        w.insert_blocking(first).unwrap();
        w.insert_blocking(second).unwrap();
        drop(w);
        handle.join().unwrap();
        let a = |k: usize| keys[k].public_key().as_bytes().to_vec();
        let mut want = vec![(a(0), 4, 50), (a(1), 2, 70), (a(2), 1, 5)];
        want.sort();
        assert_eq!(authors(dir.path()), want);
        rebuild(dir.path()).unwrap();
        assert_eq!(authors(dir.path()), want);
    }
}
