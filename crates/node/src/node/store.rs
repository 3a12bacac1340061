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
use crate::node::health::{AliveGuard, Health, Part};
use crate::node::metrics::Metrics;

/// Name of the database file inside the data directory.
pub const DB_FILE: &str = "vouch.sqlite";
/// Version of the schema below, kept in `meta` (`schema_version`). Older databases are
/// migrated forward by [`MIGRATIONS`] when they are opened; a newer one is refused.
pub(crate) const SCHEMA_VERSION: i64 = 5;
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
/// Most peers whose addresses the `peers` table keeps (the most recently seen win).
pub(crate) const MAX_KNOWN_PEERS: usize = 1024;
/// Most addresses kept per known peer.
pub(crate) const MAX_ADDRS_PER_PEER: usize = 4;
/// Most rows of `banned_peers` (the most recent bans win).
pub(crate) const MAX_BANNED_ROWS: usize = 4096;

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
-- Quarantine (schema 3): valid objects from the network whose authors are outside the reach
-- of this node's viewers (or, over the disk quota, outside their core). Bounded per author
-- and in total; evicted least standing first, oldest first among equals (schema 5; the
-- index `quarantine_eviction` is made by QUARANTINE_EVICTION_INDEX); never indexed for
-- catch-up nor applied to the derived state; promoted into `objects` when the author comes
-- within reach (specs/sync.md, section Admission).
CREATE TABLE IF NOT EXISTS quarantine (
    seq INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    author BLOB NOT NULL,
    topic TEXT NOT NULL,
    bytes BLOB NOT NULL,
    received_ms INTEGER NOT NULL,
    standing INTEGER NOT NULL DEFAULT 0  -- schema 5: 0 outside reach, more the more trusted
);
CREATE INDEX IF NOT EXISTS quarantine_author ON quarantine (author);
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
const MIGRATIONS: [Migration; 4] = [
    migrate_1_to_2,
    migrate_2_to_3,
    migrate_3_to_4,
    migrate_4_to_5,
];

/// The index the quarantine's eviction reads (schema 5). Not in [`SCHEMA`]: that runs before
/// the migrations, when an older `quarantine` has no `standing` column yet; a new database
/// gets it right after [`SCHEMA`], an older one from [`migrate_4_to_5`].
const QUARANTINE_EVICTION_INDEX: &str =
    "CREATE INDEX IF NOT EXISTS quarantine_eviction ON quarantine (standing, seq);";

/// Schema 5 gives each quarantined object its author's standing (admission's trust in it:
/// 0 for a stranger), so the quarantine evicts the least trusted first. Rows from before
/// were all strangers' or over-quota authors' of unknown trust: they get 0 and go first. A
/// `quarantine` made by the base schema of this release (a database at schema 2, which
/// had none) has the column already.
fn migrate_4_to_5(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    let has_standing: bool = tx.query_row(
        "SELECT count(*) FROM pragma_table_info('quarantine') WHERE name = 'standing'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !has_standing {
        tx.execute_batch("ALTER TABLE quarantine ADD COLUMN standing INTEGER NOT NULL DEFAULT 0;")?;
    }
    tx.execute_batch(QUARANTINE_EVICTION_INDEX)?;
    Ok(())
}

/// Schema 3 adds the quarantine of objects from authors outside the viewers' reach. The
/// base schema (run before every migration) has created it already; this step states it,
/// so a database at version 3 always has it.
fn migrate_2_to_3(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS quarantine (
             seq INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, at INTEGER NOT NULL,
             kind TEXT NOT NULL, author BLOB NOT NULL, topic TEXT NOT NULL,
             bytes BLOB NOT NULL, received_ms INTEGER NOT NULL
         );
         CREATE INDEX IF NOT EXISTS quarantine_author ON quarantine (author);",
    )?;
    Ok(())
}

/// Schema 4 adds the local credential tables (`credentials`, `credential_revocations`).
/// The base schema creates missing tables before any step runs, so there is nothing to move;
/// the step checks that they are there.
fn migrate_3_to_4(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    let n: i64 = tx.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'
         AND name IN ('credentials', 'credential_revocations')",
        [],
        |r| r.get(0),
    )?;
    if n == 2 {
        Ok(())
    } else {
        Err(StoreError::Schema(3))
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
    /// The database was written by a newer schema (or its version is unreadable: -1).
    #[error(
        "database schema version {0} is not supported: this release reads versions 1 to \
         {SCHEMA_VERSION}; run the release that wrote it, or restore a backup"
    )]
    Schema(i64),
    /// The data directory could not be created or read, or the disk failed a write.
    #[error("data directory: {0}")]
    Io(#[from] std::io::Error),
    /// A commit failed because the disk (or the database's size limit) is full; nothing of
    /// its batch was stored. The writer retries by itself and the next commit succeeds as
    /// soon as there is space.
    #[error("disk full: {0}")]
    DiskFull(String),
    /// The database file is damaged (SQLite's `quick_check` at start, or an error while
    /// reading or writing).
    #[error(
        "the database is damaged: {0}. Stop the node; `vouch node check` lists what is \
         wrong; `vouch node rebuild` repairs indexes and derived tables; `vouch node salvage` \
         copies every intact object into a new database (keeping the damaged file beside it) \
         and catch-up refetches the rest from peers (specs/sync.md, \"Corruption\")"
    )]
    Corrupt(String),
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
            StoreError::DiskFull(_) => "store-disk-full",
            StoreError::Corrupt(_) => "store-corrupt",
        }
    }

    /// The error as one of the variants that answer a failed commit: `DiskFull`, `Corrupt`,
    /// `Io` (a disk I/O error), or `Commit`; SQLite's codes are read to tell them apart.
    pub(crate) fn classify(&self) -> StoreError {
        use rusqlite::ErrorCode as C;
        let msg = self.to_string();
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => match e.code {
                C::DiskFull => StoreError::DiskFull(msg),
                C::DatabaseCorrupt | C::NotADatabase => StoreError::Corrupt(msg),
                C::SystemIoFailure | C::CannotOpen => StoreError::Io(std::io::Error::other(msg)),
                _ => StoreError::Commit(msg),
            },
            StoreError::DiskFull(m) => StoreError::DiskFull(m.clone()),
            StoreError::Corrupt(m) => StoreError::Corrupt(m.clone()),
            StoreError::Io(e) => StoreError::Io(std::io::Error::new(e.kind(), e.to_string())),
            StoreError::Closed => StoreError::Closed,
            StoreError::Busy => StoreError::Busy,
            StoreError::Schema(v) => StoreError::Schema(*v),
            StoreError::Commit(m) => StoreError::Commit(m.clone()),
            StoreError::Sqlite(_) => StoreError::Commit(msg),
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
    Unban {
        peer_id: String,
    },
    Quarantine {
        objects: Vec<ToQuarantine>,
        quotas: QuarantineQuotas,
        ack: oneshot::Sender<Result<Vec<Quarantined>, StoreError>>,
    },
    Promote {
        authors: Vec<[u8; 32]>,
    },
    Restand {
        reach: std::collections::HashMap<[u8; 32], u32>,
    },
}

/// The quarantine's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QuarantineQuotas {
    /// Most objects per author.
    pub per_author: u64,
    /// Most objects in all.
    pub objects: u64,
    /// Most bytes of objects in all.
    pub bytes: u64,
}

/// An object on its way to the quarantine, with its author's standing (admission's trust in
/// it: 0 outside reach). The quarantine evicts the least standing first.
#[derive(Debug, Clone)]
pub(crate) struct ToQuarantine {
    /// The object.
    pub object: StoredObject,
    /// Its author's standing.
    pub standing: u32,
}

/// What became of an object sent to quarantine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quarantined {
    /// Held in quarantine.
    Held,
    /// Already stored or already in quarantine.
    Duplicate,
    /// Its author's quota is full: not kept.
    AuthorFull,
}

/// Opens (creating if needed) the database in `data_dir`, checks it (`PRAGMA quick_check`:
/// a damaged file is refused with [`StoreError::Corrupt`], before anything is written to
/// it) and applies the schema.
pub fn open(data_dir: &Path, durability: Durability) -> Result<Connection, StoreError> {
    let conn = match open_unchecked(data_dir, durability) {
        Ok(c) => c,
        Err(e) => {
            return Err(match e.classify() {
                StoreError::Corrupt(m) => StoreError::Corrupt(m),
                _ => e,
            })
        }
    };
    let problems = quick_check(&conn)?;
    if !problems.is_empty() {
        return Err(StoreError::Corrupt(format!(
            "quick_check found {} problem(s), the first: {}",
            problems.len(),
            problems[0]
        )));
    }
    let mut conn = conn;
    migrate(&mut conn)?;
    Ok(conn)
}

/// `PRAGMA quick_check` (at most 100 problems): the empty list when the file is sound. A
/// file too damaged to be read at all is an error.
fn quick_check(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let rows = (|| {
        let mut stmt = conn.prepare("PRAGMA quick_check(100)")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<Vec<String>, _>>()
    })();
    match rows {
        Ok(rows) if rows.len() == 1 && rows[0] == "ok" => Ok(Vec::new()),
        Ok(rows) => Ok(rows),
        Err(e) => Err(StoreError::Corrupt(format!(
            "quick_check could not run: {e}"
        ))),
    }
}

/// Opens the database with the node's settings, without checking or migrating it.
fn open_unchecked(data_dir: &Path, durability: Durability) -> Result<Connection, StoreError> {
    std::fs::create_dir_all(data_dir)?;
    crate::node::files::prepare_private_db(&data_dir.join(DB_FILE))?;
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
            tx.execute_batch(QUARANTINE_EVICTION_INDEX)?;
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
    health: Arc<Health>,
}

impl std::fmt::Debug for WriteCmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteCmd::Insert { objects, .. } => write!(f, "Insert({})", objects.len()),
            WriteCmd::Peer { peer_id, .. } => write!(f, "Peer({peer_id})"),
            WriteCmd::Ban { peer_id, .. } => write!(f, "Ban({peer_id})"),
            WriteCmd::Unban { peer_id } => write!(f, "Unban({peer_id})"),
            WriteCmd::Quarantine { objects, .. } => write!(f, "Quarantine({})", objects.len()),
            WriteCmd::Promote { authors } => write!(f, "Promote({})", authors.len()),
            WriteCmd::Restand { reach } => write!(f, "Restand({})", reach.len()),
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
        let health = Health::new(metrics.clone());
        let h = health.clone();
        let handle = std::thread::Builder::new()
            .name("vouch-store-writer".into())
            .spawn(move || {
                let _alive = AliveGuard::new(h.clone(), Part::Writer);
                writer_loop(conn, rx, m, commits_tx, &h)
            });
        let handle = match handle {
            Ok(h) => h,
            // Without a thread there is no writer; every send then fails with `Closed`.
            Err(_) => {
                health.writer_stopped();
                std::thread::spawn(|| {})
            }
        };
        (
            StoreWriter {
                tx,
                metrics,
                commits,
                health,
            },
            handle,
        )
    }

    /// The node's health, which the writer reports its commits and its life into.
    pub(crate) fn health(&self) -> Arc<Health> {
        self.health.clone()
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

    /// Ends a peer's ban (best effort).
    pub fn unban_peer(&self, peer_id: String) {
        if self.tx.try_send(WriteCmd::Unban { peer_id }).is_err() {
            Metrics::inc(&self.metrics.queue_full_total);
        }
    }

    /// Puts objects in quarantine within `quotas`; answers after the commit.
    pub(crate) async fn quarantine(
        &self,
        objects: Vec<ToQuarantine>,
        quotas: QuarantineQuotas,
    ) -> Result<Vec<Quarantined>, StoreError> {
        if objects.is_empty() {
            return Ok(Vec::new());
        }
        let (ack, rx) = oneshot::channel();
        self.tx
            .send(WriteCmd::Quarantine {
                objects,
                quotas,
                ack,
            })
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Moves the quarantined objects of `authors` into the store (best effort; they come
    /// within reach). Callable from any thread.
    pub(crate) fn promote(&self, authors: Vec<[u8; 32]>) {
        if authors.is_empty() {
            return;
        }
        if self.tx.try_send(WriteCmd::Promote { authors }).is_err() {
            Metrics::inc(&self.metrics.queue_full_total);
        }
    }

    /// Gives the quarantined rows of positive standing (reachable authors held over the disk
    /// quota) their author's standing in `reach` now, 0 for an author who left it, so the
    /// eviction order follows trust as it changes (best effort).
    pub(crate) fn restand(&self, reach: std::collections::HashMap<[u8; 32], u32>) {
        if self.tx.try_send(WriteCmd::Restand { reach }).is_err() {
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

/// How often a writer whose last commit failed probes the disk with a small write, so it
/// finds out by itself that space came back (and `/readyz` turns ready) without waiting for
/// the next object.
pub(crate) const RECOVERY_PROBE: std::time::Duration = std::time::Duration::from_secs(1);

/// Waits for the next command; while commits fail, probes the disk every
/// [`RECOVERY_PROBE`] until a probe or a command arrives. `None` when every handle is gone.
fn next_command(
    conn: &mut Connection,
    rx: &mut mpsc::Receiver<WriteCmd>,
    health: &Health,
) -> Option<WriteCmd> {
    loop {
        if !health.store_failing() {
            return rx.blocking_recv();
        }
        match rx.try_recv() {
            Ok(cmd) => return Some(cmd),
            Err(mpsc::error::TryRecvError::Disconnected) => return None,
            Err(mpsc::error::TryRecvError::Empty) => {}
        }
        std::thread::sleep(RECOVERY_PROBE);
        let probe = conn
            .execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('last_probe_ms', ?1)",
                [crate::node::clock::now_ms().to_string()],
            )
            .map_err(StoreError::from);
        match probe {
            Ok(_) => health.commit_ok(),
            Err(e) => report_failure(health, &e),
        }
    }
}

fn report_failure(health: &Health, e: &StoreError) {
    let e = e.classify();
    health.commit_failed(e.code(), e.to_string(), crate::node::clock::now_ms());
}

fn writer_loop(
    mut conn: Connection,
    mut rx: mpsc::Receiver<WriteCmd>,
    metrics: Arc<Metrics>,
    commits: watch::Sender<i64>,
    health: &Health,
) {
    let mut totals = QuarantineTotals::read(&conn);
    metrics.quarantine_objects.store(
        totals.objects.max(0) as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
    while let Some(first) = next_command(&mut conn, &mut rx, health) {
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
        let before = totals;
        let result = apply_batch(&mut conn, &batch, &mut totals, &metrics);
        match result {
            Ok((per_cmd, last_object_seq)) => {
                Metrics::inc(&metrics.store_commits_total);
                health.commit_ok();
                // The commit hook: after a commit that stored new objects, the highest seq
                // of `objects` (read back, since quarantine rows have rowids too).
                if let Some(last) = last_object_seq {
                    commits.send_if_modified(|c| {
                        let newer = last > *c;
                        *c = (*c).max(last);
                        newer
                    });
                }
                for (cmd, out) in batch.into_iter().zip(per_cmd) {
                    match (cmd, out) {
                        (WriteCmd::Insert { ack, .. }, CmdOut::Inserted(news)) => {
                            let n_new = news.iter().filter(|n| **n).count() as u64;
                            Metrics::add(&metrics.objects_stored_total, n_new);
                            Metrics::add(
                                &metrics.objects_duplicate_total,
                                news.len() as u64 - n_new,
                            );
                            let _ = ack.send(Ok(news));
                        }
                        (WriteCmd::Quarantine { ack, .. }, CmdOut::Quarantined(q)) => {
                            let _ = ack.send(Ok(q));
                        }
                        _ => {}
                    }
                }
                metrics.quarantine_objects.store(
                    totals.objects.max(0) as u64,
                    std::sync::atomic::Ordering::Relaxed,
                );
                if let Ok(bytes) = conn.query_row(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                    [],
                    |r| r.get::<_, i64>(0),
                ) {
                    metrics
                        .store_bytes
                        .store(bytes.max(0) as u64, std::sync::atomic::Ordering::Relaxed);
                }
            }
            Err(e) => {
                totals = before;
                // Nothing of the batch is acknowledged: every waiting caller gets the error.
                let e = e.classify();
                if !health.store_failing() {
                    tracing::error!(error = %e, code = e.code(), "store commit failed");
                }
                report_failure(health, &e);
                for cmd in batch {
                    match cmd {
                        WriteCmd::Insert { ack, .. } => {
                            let _ = ack.send(Err(e.classify()));
                        }
                        WriteCmd::Quarantine { ack, .. } => {
                            let _ = ack.send(Err(e.classify()));
                        }
                        _ => {}
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
            WriteCmd::Quarantine { objects, .. } => objects.len(),
            _ => 1,
        })
        .sum()
}

/// The quarantine's size, kept by the writer (the only one who changes it).
#[derive(Debug, Clone, Copy, Default)]
struct QuarantineTotals {
    objects: i64,
    bytes: i64,
}

impl QuarantineTotals {
    fn read(conn: &Connection) -> Self {
        conn.query_row(
            "SELECT count(*), coalesce(sum(length(bytes)), 0) FROM quarantine",
            [],
            |r| {
                Ok(QuarantineTotals {
                    objects: r.get(0)?,
                    bytes: r.get(1)?,
                })
            },
        )
        .unwrap_or_default()
    }
}

/// What one write command gave.
enum CmdOut {
    Inserted(Vec<bool>),
    Quarantined(Vec<Quarantined>),
    Done,
}

/// Inserts objects and their derived rows; answers per command which objects were new, and
/// the highest `objects.seq` when new objects were stored.
fn apply_batch(
    conn: &mut Connection,
    batch: &[WriteCmd],
    totals: &mut QuarantineTotals,
    metrics: &Metrics,
) -> Result<(Vec<CmdOut>, Option<i64>), StoreError> {
    let tx = conn.transaction()?;
    let mut out = Vec::with_capacity(batch.len());
    let mut any_new = false;
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
                        let new = insert_object(&mut ins, &mut idx, &mut authors, o, received)?;
                        any_new |= new;
                        news.push(new);
                    }
                    out.push(CmdOut::Inserted(news));
                }
                WriteCmd::Peer {
                    peer_id,
                    addrs,
                    now_ms,
                } => {
                    for a in addrs.iter().take(MAX_ADDRS_PER_PEER) {
                        peer.execute(params![peer_id, a, *now_ms as i64])?;
                    }
                    // Bounded: the most recently seen peers stay.
                    tx.prepare_cached(
                        "DELETE FROM peers WHERE peer_id NOT IN (SELECT peer_id FROM peers
                         GROUP BY peer_id ORDER BY max(last_seen_ms) DESC LIMIT ?1)",
                    )?
                    .execute([MAX_KNOWN_PEERS as i64])?;
                    out.push(CmdOut::Done);
                }
                WriteCmd::Ban {
                    peer_id,
                    reason,
                    now_ms,
                } => {
                    ban.execute(params![peer_id, reason, *now_ms as i64])?;
                    tx.prepare_cached(
                        "DELETE FROM banned_peers WHERE peer_id NOT IN
                         (SELECT peer_id FROM banned_peers ORDER BY since_ms DESC LIMIT ?1)",
                    )?
                    .execute([MAX_BANNED_ROWS as i64])?;
                    out.push(CmdOut::Done);
                }
                WriteCmd::Unban { peer_id } => {
                    tx.prepare_cached("DELETE FROM banned_peers WHERE peer_id = ?1")?
                        .execute([peer_id])?;
                    out.push(CmdOut::Done);
                }
                WriteCmd::Quarantine {
                    objects, quotas, ..
                } => {
                    let q = quarantine_rows(&tx, objects, *quotas, received, totals, metrics)?;
                    out.push(CmdOut::Quarantined(q));
                }
                WriteCmd::Restand { reach } => {
                    restand_rows(&tx, reach)?;
                    out.push(CmdOut::Done);
                }
                WriteCmd::Promote { authors: keys } => {
                    for key in keys {
                        let rows: Vec<StoredObject> = {
                            let mut sel = tx.prepare_cached(
                                "SELECT id, at, kind, topic, bytes FROM quarantine
                                 WHERE author = ?1 ORDER BY seq",
                            )?;
                            let rows = sel.query_map([&key[..]], |r| {
                                let id: Vec<u8> = r.get(0)?;
                                Ok((id, r.get::<_, i64>(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                            })?;
                            let mut v = Vec::new();
                            for row in rows {
                                let (id, at, kind, topic, bytes) = row?;
                                if let Ok(id) = <[u8; 32]>::try_from(id.as_slice()) {
                                    v.push(StoredObject {
                                        id: ObjectId(id),
                                        at: at.max(0) as u64,
                                        kind,
                                        author: *key,
                                        topic,
                                        bytes,
                                    });
                                }
                            }
                            v
                        };
                        for o in &rows {
                            if insert_object(&mut ins, &mut idx, &mut authors, o, received)? {
                                any_new = true;
                                Metrics::inc(&metrics.quarantine_promoted_total);
                            }
                        }
                        let freed: i64 = rows.iter().map(|o| o.bytes.len() as i64).sum();
                        let n = tx
                            .prepare_cached("DELETE FROM quarantine WHERE author = ?1")?
                            .execute([&key[..]])?;
                        totals.objects -= n as i64;
                        totals.bytes -= freed;
                    }
                    out.push(CmdOut::Done);
                }
            }
        }
        authors.write(&mut auth)?;
    }
    let last = if any_new {
        Some(
            tx.query_row("SELECT coalesce(max(seq), 0) FROM objects", [], |r| {
                r.get(0)
            })?,
        )
    } else {
        None
    };
    tx.commit()?;
    Ok((out, last))
}

/// Puts objects in quarantine: refuses duplicates and authors over their quota, then evicts
/// while the totals are over their bounds (down to nine tenths, so that a flood evicts in
/// batches, not row by row): the least standing first, the oldest first among equals, so
/// strangers go before trusted authors that wait over the disk quota.
fn quarantine_rows(
    tx: &rusqlite::Transaction<'_>,
    objects: &[ToQuarantine],
    quotas: QuarantineQuotas,
    received: i64,
    totals: &mut QuarantineTotals,
    metrics: &Metrics,
) -> Result<Vec<Quarantined>, StoreError> {
    let mut out = Vec::with_capacity(objects.len());
    let mut stored = tx.prepare_cached("SELECT 1 FROM objects WHERE id = ?1")?;
    let mut held = tx.prepare_cached("SELECT 1 FROM quarantine WHERE id = ?1")?;
    let mut count = tx.prepare_cached("SELECT count(*) FROM quarantine WHERE author = ?1")?;
    let mut put = tx.prepare_cached(
        "INSERT OR IGNORE INTO quarantine
         (id, at, kind, author, topic, bytes, received_ms, standing)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for ToQuarantine {
        object: o,
        standing,
    } in objects
    {
        if stored.exists([&o.id.0[..]])? || held.exists([&o.id.0[..]])? {
            out.push(Quarantined::Duplicate);
            continue;
        }
        let n: i64 = count.query_row([&o.author[..]], |r| r.get(0))?;
        if n as u64 >= quotas.per_author {
            Metrics::inc(&metrics.quarantine_author_full_total);
            out.push(Quarantined::AuthorFull);
            continue;
        }
        let at = i64::try_from(o.at).unwrap_or(i64::MAX);
        let inserted = put.execute(params![
            &o.id.0[..],
            at,
            o.kind,
            &o.author[..],
            o.topic,
            o.bytes,
            received,
            standing
        ])?;
        if inserted == 1 {
            totals.objects += 1;
            totals.bytes += o.bytes.len() as i64;
            Metrics::inc(&metrics.quarantine_stored_total);
            out.push(Quarantined::Held);
        } else {
            out.push(Quarantined::Duplicate);
        }
    }
    let (max_n, max_b) = (quotas.objects as i64, quotas.bytes as i64);
    if totals.objects > max_n || totals.bytes > max_b {
        let (keep_n, keep_b) = (max_n * 9 / 10, max_b * 9 / 10);
        let mut oldest = tx.prepare_cached(
            "DELETE FROM quarantine WHERE seq IN
             (SELECT seq FROM quarantine ORDER BY standing, seq LIMIT ?1)
             RETURNING length(bytes)",
        )?;
        while totals.objects > keep_n || totals.bytes > keep_b {
            let step = (totals.objects - keep_n).clamp(1, 1024);
            let lens: Vec<i64> = oldest
                .query_map([step], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            if lens.is_empty() {
                break;
            }
            totals.objects -= lens.len() as i64;
            totals.bytes -= lens.iter().sum::<i64>();
            Metrics::add(&metrics.quarantine_evicted_total, lens.len() as u64);
        }
    }
    Ok(out)
}

/// Sets the standing of quarantined rows of positive standing to their author's standing in
/// `reach` (0 when it left the reach). Reads only the rows of positive standing (by the
/// eviction index): none unless the store went over its disk quota.
fn restand_rows(
    tx: &rusqlite::Transaction<'_>,
    reach: &std::collections::HashMap<[u8; 32], u32>,
) -> Result<usize, StoreError> {
    let held: Vec<(Vec<u8>, i64)> = tx
        .prepare_cached("SELECT DISTINCT author, standing FROM quarantine WHERE standing > 0")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut set = tx.prepare_cached("UPDATE quarantine SET standing = ?2 WHERE author = ?1")?;
    let mut changed = 0;
    for (author, standing) in held {
        let now = <[u8; 32]>::try_from(author.as_slice())
            .ok()
            .and_then(|a| reach.get(&a).copied())
            .unwrap_or(0);
        if i64::from(now) != standing {
            changed += set.execute(params![author, i64::from(now)])?;
        }
    }
    Ok(changed)
}

/// Adds `n_objects` objects, the latest at `last_at`, to an author's row.
const AUTHORS_UPSERT: &str = "INSERT INTO authors (author, n_objects, last_at) VALUES (?1, ?2, ?3)
     ON CONFLICT(author) DO UPDATE SET n_objects = n_objects + excluded.n_objects,
     last_at = max(last_at, excluded.last_at)";

/// Inserts one object row (ignored if the id is there) and, when new, its topic index row and
/// its author's count: the one way both the insert and the promotion paths store an object.
fn insert_object(
    ins: &mut rusqlite::CachedStatement<'_>,
    idx: &mut rusqlite::CachedStatement<'_>,
    authors: &mut AuthorCounts,
    o: &StoredObject,
    received: i64,
) -> Result<bool, StoreError> {
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
    Ok(n == 1)
}

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
    health: Arc<Health>,
}

/// Re-verifies a stored row before it leaves the node: its bytes must hash to the id it was
/// looked up by and decode as an object (everything validation checks but the signature,
/// which was checked when it was stored). A row that fails was damaged on disk; serving it
/// would make peers penalise this node, so it is counted, logged and withheld.
pub(crate) fn row_intact(id: &ObjectId, bytes: &[u8]) -> bool {
    ObjectId::of_bytes(bytes) == *id && vouch_reputation::decode_stored(bytes).is_ok()
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
            health: Health::new(Arc::new(Metrics::default())),
        })
    }

    /// Reports damaged rows into the node's `health` (and its metrics).
    pub(crate) fn with_health(mut self, health: Arc<Health>) -> Self {
        self.health = health;
        self
    }

    /// `bytes` if the row is intact (`row_intact`); otherwise `None`, reported.
    fn checked(&self, id: &ObjectId, bytes: Vec<u8>) -> Option<Vec<u8>> {
        if row_intact(id, &bytes) {
            Some(bytes)
        } else {
            let n = self.health.corrupt_row();
            // Logged at the first few and then ever more rarely (1, 2, 4, 8, ...): a peer
            // asking again and again must not flood the log; the metric counts them all.
            if n.is_power_of_two() {
                tracing::error!(id = %id, damaged_reads = n, "a stored object is damaged (its \
                    bytes do not match its id or do not decode): not served; `vouch node check` \
                    lists such rows, `vouch node salvage` drops them and catch-up refetches them");
            }
            None
        }
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

    /// The bytes of one object, re-verified (its bytes hash to `id` and decode): a damaged row
    /// reads as absent.
    pub fn get(&self, id: &ObjectId) -> Result<Option<Vec<u8>>, StoreError> {
        let bytes: Option<Vec<u8>> = self.with(|c| {
            c.prepare_cached("SELECT bytes FROM objects WHERE id = ?1")?
                .query_row([&id.0[..]], |r| r.get(0))
                .optional()
        })?;
        Ok(bytes.and_then(|b| self.checked(id, b)))
    }

    /// The bytes of the objects among `ids` that are stored (in no particular order),
    /// stopping before the total would pass `max_bytes`. Each row is re-verified first (as in
    /// [`StoreReader::get`]): a damaged one is left out, so it is never served to a peer.
    pub fn get_many(&self, ids: &[ObjectId], max_bytes: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        let rows: Vec<(ObjectId, Vec<u8>)> = self.with(|c| {
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
                    out.push((*id, b));
                }
            }
            Ok(out)
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, b)| self.checked(&id, b))
            .collect())
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

    /// Banned peers with the time each ban began (ms).
    pub fn banned_peers_since(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT peer_id, since_ms FROM banned_peers")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?;
            rows.collect()
        })
    }

    /// Number of peers in the `peers` table.
    pub fn n_known_peers(&self) -> Result<u64, StoreError> {
        self.with(|c| {
            c.query_row("SELECT count(DISTINCT peer_id) FROM peers", [], |r| {
                r.get::<_, i64>(0)
            })
        })
        .map(|n| n.max(0) as u64)
    }

    /// Objects in quarantine, and their bytes.
    pub fn quarantine_size(&self) -> Result<(u64, u64), StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT count(*), coalesce(sum(length(bytes)), 0) FROM quarantine",
                [],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            )
        })
        .map(|(n, b)| (n.max(0) as u64, b.max(0) as u64))
    }

    /// Whether an object is in quarantine.
    pub fn in_quarantine(&self, id: &ObjectId) -> Result<bool, StoreError> {
        self.with(|c| {
            c.prepare_cached("SELECT 1 FROM quarantine WHERE id = ?1")?
                .exists([&id.0[..]])
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
    // No quick_check here: this is one of the repairs for what it finds. Indexes are
    // rebuilt first (a damaged index is the commonest damage that leaves the rows intact).
    let mut conn = open_unchecked(data_dir, Durability::Full)?;
    migrate(&mut conn)?;
    conn.execute_batch("REINDEX;")?;
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

/// What [`check`] found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckReport {
    /// `PRAGMA integrity_check` (up to 100 lines): `["ok"]` when the file is sound.
    pub integrity: Vec<String>,
    /// Object rows read.
    pub objects: u64,
    /// Rows that fail re-verification.
    pub damaged: Vec<DamagedRow>,
    /// Ranges of `seq` that could not be read at all (damaged pages), as `[first, last]`.
    pub unreadable: Vec<(i64, i64)>,
}

impl CheckReport {
    /// Nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.integrity == ["ok"] && self.damaged.is_empty() && self.unreadable.is_empty()
    }
}

/// One stored object that fails re-verification.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DamagedRow {
    /// Its `objects.seq`.
    pub seq: i64,
    /// The id column, in hex (it may itself be the damaged part).
    pub id: String,
    /// `id-mismatch` (the bytes do not hash to the id) or the validation error's code.
    pub problem: String,
}

/// Re-verifies one stored row completely (id, decoding, signature): `None` when intact.
fn row_problem(id: &[u8], bytes: &[u8]) -> Option<String> {
    if id != ObjectId::of_bytes(bytes).0.as_slice() {
        return Some("id-mismatch".into());
    }
    // Objects were valid when stored; the clock check cannot fail for the past.
    match vouch_reputation::validate(bytes, u64::MAX / 2) {
        Ok(_) => None,
        Err(e) => Some(e.code().to_owned()),
    }
}

/// One row of `objects` as the offline tools read it: `(seq, id, bytes)`.
type ObjectRow = (i64, Vec<u8>, Vec<u8>);

/// Calls `f(seq, id, bytes)` on every object row that can be read, in `seq` order, reading
/// around damaged pages: a window of rows that fails is retried row by row, and rows that
/// still fail are returned as ranges of `seq`.
fn scan_objects(
    conn: &Connection,
    mut f: impl FnMut(i64, Vec<u8>, Vec<u8>) -> Result<(), StoreError>,
) -> Result<Vec<(i64, i64)>, StoreError> {
    const WINDOW: i64 = 512;
    // The highest seq; if even that cannot be read, a bound from the file's size (a row
    // takes more than 32 bytes), so the scan ends.
    let max: i64 = conn
        .query_row("SELECT coalesce(max(seq), 0) FROM objects", [], |r| {
            r.get(0)
        })
        .or_else(|_| {
            conn.query_row(
                "SELECT page_count * page_size / 32 FROM pragma_page_count(), pragma_page_size()",
                [],
                |r| r.get(0),
            )
        })
        .unwrap_or(1 << 20);
    let mut unreadable: Vec<(i64, i64)> = Vec::new();
    let mark = |seq: i64, unreadable: &mut Vec<(i64, i64)>| match unreadable.last_mut() {
        Some(last) if last.1 + 1 == seq => last.1 = seq,
        _ => unreadable.push((seq, seq)),
    };
    let read = |from: i64, to: i64| -> Result<Vec<ObjectRow>, rusqlite::Error> {
        let mut stmt = conn.prepare_cached(
            "SELECT seq, id, bytes FROM objects WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
        )?;
        let rows = stmt.query_map([from, to], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect()
    };
    let mut from = 1;
    while from <= max {
        let to = from.saturating_add(WINDOW - 1);
        match read(from, to) {
            Ok(rows) => {
                for (seq, id, bytes) in rows {
                    f(seq, id, bytes)?;
                }
            }
            Err(_) => {
                // Row by row; a row that cannot be read is lost here (peers still have it).
                for seq in from..=to.min(max) {
                    match read(seq, seq) {
                        Ok(rows) => {
                            for (seq, id, bytes) in rows {
                                f(seq, id, bytes)?;
                            }
                        }
                        Err(_) => mark(seq, &mut unreadable),
                    }
                }
            }
        }
        from = to.saturating_add(1);
    }
    Ok(unreadable)
}

/// `vouch node check`: the full `PRAGMA integrity_check`, and every stored object
/// re-verified (its id, its encoding and its signature). Reads only; run it on a stopped
/// node or beside a running one.
pub fn check(data_dir: &Path) -> Result<CheckReport, StoreError> {
    let conn =
        Connection::open_with_flags(data_dir.join(DB_FILE), OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    let integrity: Vec<String> = (|| {
        let mut stmt = conn.prepare("PRAGMA integrity_check(100)")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<Vec<String>, rusqlite::Error>>()
    })()
    .unwrap_or_else(|e| vec![format!("integrity_check could not run: {e}")]);
    let mut objects = 0;
    let mut damaged = Vec::new();
    let unreadable = scan_objects(&conn, |seq, id, bytes| {
        objects += 1;
        if let Some(problem) = row_problem(&id, &bytes) {
            damaged.push(DamagedRow {
                seq,
                id: hex::encode(&id),
                problem,
            });
        }
        Ok(())
    })?;
    Ok(CheckReport {
        integrity,
        objects,
        damaged,
        unreadable,
    })
}

/// What [`salvage`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SalvageReport {
    /// Intact objects copied into the new database.
    pub objects_kept: u64,
    /// Rows read but dropped because they fail re-verification.
    pub objects_dropped: u64,
    /// Ranges of `seq` that could not be read at all.
    pub unreadable: Vec<(i64, i64)>,
    /// Viewers (and their policies, as stored) copied.
    pub viewers_kept: u64,
    /// Where the damaged database was moved (kept for inspection; delete it when done).
    pub damaged_file: PathBuf,
}

/// `vouch node salvage` (node stopped): copies every intact object (re-verified like
/// [`check`]), every readable viewer and the peer tables into a new database, derives the
/// rest ([`rebuild`]), and swaps it in; the damaged file is kept beside it, renamed. Objects
/// that were lost are fetched again from peers by the next catch-up.
pub fn salvage(data_dir: &Path) -> Result<SalvageReport, StoreError> {
    let old_path = data_dir.join(DB_FILE);
    let old = Connection::open_with_flags(&old_path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    let work = data_dir.join("salvage.tmp");
    if work.exists() {
        std::fs::remove_dir_all(&work)?;
    }
    let mut new = open(&work, Durability::Full)?;
    let mut report = SalvageReport {
        objects_kept: 0,
        objects_dropped: 0,
        unreadable: Vec::new(),
        viewers_kept: 0,
        damaged_file: data_dir.join(format!(
            "{DB_FILE}.damaged-{}",
            crate::node::clock::now_ms()
        )),
    };
    let tx = new.transaction()?;
    {
        let mut ins = tx.prepare(
            "INSERT OR IGNORE INTO objects (id, at, kind, author, topic, bytes, received_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let received = crate::node::clock::now_ms() as i64;
        report.unreadable = scan_objects(&old, |_seq, id, bytes| {
            if row_problem(&id, &bytes).is_some() {
                report.objects_dropped += 1;
                return Ok(());
            }
            let Ok(obj) = vouch_reputation::validate(&bytes, u64::MAX / 2) else {
                report.objects_dropped += 1;
                return Ok(());
            };
            let o = StoredObject::from_signed_owned(obj);
            ins.execute(params![
                &o.id.0[..],
                i64::try_from(o.at).unwrap_or(i64::MAX),
                o.kind,
                &o.author[..],
                o.topic,
                o.bytes,
                received
            ])?;
            report.objects_kept += 1;
            Ok(())
        })?;
        // Local settings and network state, as far as they can be read.
        let copy = |sql_read: &str, sql_write: &str, n: usize| -> u64 {
            let Ok(mut read) = old.prepare(sql_read) else {
                return 0;
            };
            let Ok(mut write) = tx.prepare(sql_write) else {
                return 0;
            };
            let Ok(mut rows) = read.query([]) else {
                return 0;
            };
            let mut copied = 0;
            while let Ok(Some(row)) = rows.next() {
                let values: Result<Vec<rusqlite::types::Value>, _> =
                    (0..n).map(|i| row.get(i)).collect();
                if let Ok(values) = values {
                    if write.execute(rusqlite::params_from_iter(values)).is_ok() {
                        copied += 1;
                    }
                }
            }
            copied
        };
        report.viewers_kept = copy(
            "SELECT viewer, policy, created_ms, updated_ms FROM viewers",
            "INSERT OR IGNORE INTO viewers VALUES (?1, ?2, ?3, ?4)",
            4,
        );
        copy(
            "SELECT peer_id, addr, last_seen_ms FROM peers",
            "INSERT OR IGNORE INTO peers VALUES (?1, ?2, ?3)",
            3,
        );
        copy(
            "SELECT peer_id, reason, since_ms FROM banned_peers",
            "INSERT OR IGNORE INTO banned_peers VALUES (?1, ?2, ?3)",
            3,
        );
    }
    tx.commit()?;
    drop(new);
    drop(old);
    rebuild(&work)?;
    // Swap: the damaged file (and its WAL) aside, the new one in.
    std::fs::rename(&old_path, &report.damaged_file)?;
    for ext in ["-wal", "-shm"] {
        let side = data_dir.join(format!("{DB_FILE}{ext}"));
        if side.exists() {
            let mut aside = report.damaged_file.clone().into_os_string();
            aside.push(ext);
            std::fs::rename(&side, aside)?;
        }
    }
    // One file to move: leaving WAL mode checkpoints and removes the WAL (the node sets WAL
    // again when it opens the database).
    Connection::open(work.join(DB_FILE))?.pragma_update(None, "journal_mode", "DELETE")?;
    std::fs::rename(work.join(DB_FILE), &old_path)?;
    std::fs::remove_dir_all(&work)?;
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

    fn post_by(seed: u8, n: u64) -> StoredObject {
        let key = SecretKey::from_seed(&[seed; 32]);
        let o = Object {
            author: key.public_key(),
            at: 1_700_000_000_000 + n,
            body: Body::Post(PostBody {
                text: format!("q {seed} {n}"),
                ..Default::default()
            }),
        }
        .sign(&key)
        .unwrap();
        StoredObject::from_signed_owned(o)
    }

    /// `objects` on their way to the quarantine with `standing`.
    fn with_standing(objects: &[StoredObject], standing: u32) -> Vec<ToQuarantine> {
        objects
            .iter()
            .map(|o| ToQuarantine {
                object: o.clone(),
                standing,
            })
            .collect()
    }

    /// A writer on a fresh store, and quarantine quotas of 2 per author and `objects` in all.
    fn quarantine_writer(
        objects: u64,
    ) -> (
        tempfile::TempDir,
        StoreWriter,
        Arc<Metrics>,
        QuarantineQuotas,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(dir.path(), Durability::Normal).unwrap();
        let metrics = Arc::new(Metrics::default());
        let (w, _handle) = StoreWriter::spawn(conn, metrics.clone());
        let quotas = QuarantineQuotas {
            per_author: 2,
            objects,
            bytes: 1 << 20,
        };
        (dir, w, metrics, quotas)
    }

    /// `objects` by authors outside reach.
    fn strangers(objects: &[StoredObject]) -> Vec<ToQuarantine> {
        with_standing(objects, 0)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stranger_flood_evicts_strangers_oldest_first_and_trusted_authors_stay() {
        let (dir, w, metrics, quotas) = quarantine_writer(20);
        // First in: two authors within reach, waiting over the disk quota (standings 1 and
        // 500,001), two objects each, and four strangers' objects.
        let trusted: Vec<StoredObject> = [1u8, 2]
            .iter()
            .flat_map(|&s| (0..2).map(move |n| post_by(s, n)))
            .collect();
        let mut first = with_standing(&trusted[..2], 1);
        first.extend(with_standing(&trusted[2..], 500_001));
        let early: Vec<StoredObject> = (10..14).map(|s| post_by(s, 0)).collect();
        first.extend(strangers(&early));
        assert!(w
            .quarantine(first, quotas)
            .await
            .unwrap()
            .iter()
            .all(|q| *q == Quarantined::Held));
        // Then a flood of fresh keys, one object each, in batches: 8 + 30 rows in all.
        let flood: Vec<StoredObject> = (20..50).map(|s| post_by(s, 0)).collect();
        for batch in flood.chunks(7) {
            w.quarantine(strangers(batch), quotas).await.unwrap();
        }
        let r = StoreReader::open(dir.path()).unwrap();
        let (n, _) = r.quarantine_size().unwrap();
        assert!(n <= 20, "{n} in quarantine");
        // Every trusted object stayed, though they are the oldest rows.
        for o in &trusted {
            assert!(
                r.in_quarantine(&o.id).unwrap(),
                "a trusted object was evicted"
            );
        }
        // Strangers went oldest first: the early ones and the flood's first, never a later
        // one before an earlier one.
        let strangers_in_order: Vec<&StoredObject> = early.iter().chain(&flood).collect();
        let kept: Vec<bool> = strangers_in_order
            .iter()
            .map(|o| r.in_quarantine(&o.id).unwrap())
            .collect();
        let first_kept = kept.iter().position(|k| *k).unwrap();
        assert!(
            first_kept >= early.len(),
            "an early stranger outlived the flood"
        );
        assert!(kept[first_kept..].iter().all(|k| *k), "{kept:?}");
        assert!(kept[kept.len() - 1], "the newest stranger stays");
        let evicted = kept.iter().filter(|k| !**k).count() as u64;
        assert_eq!(
            metrics
                .quarantine_evicted_total
                .load(std::sync::atomic::Ordering::Relaxed),
            evicted
        );
        assert_eq!(n, trusted.len() as u64 + (kept.len() as u64 - evicted));
        // Past the strangers, the least trusted of the trusted go first: a flood of objects
        // with standing 2 evicts the standing 1 author's, never the standing 500,001's.
        let warmer: Vec<StoredObject> = (60..90).map(|s| post_by(s, 0)).collect();
        for batch in warmer.chunks(7) {
            w.quarantine(with_standing(batch, 2), quotas).await.unwrap();
        }
        assert!(!r.in_quarantine(&trusted[0].id).unwrap());
        assert!(!r.in_quarantine(&trusted[1].id).unwrap());
        assert!(r.in_quarantine(&trusted[2].id).unwrap());
        assert!(r.in_quarantine(&trusted[3].id).unwrap());
        assert!(flood.iter().all(|o| !r.in_quarantine(&o.id).unwrap()));
    }

    #[tokio::test]
    async fn an_author_who_leaves_the_reach_is_evicted_like_a_stranger() {
        let (dir, w, _metrics, quotas) = quarantine_writer(10);
        // Two reachable authors wait over the disk quota (standing 500,001 each).
        let stays = post_by(1, 0);
        let leaves = post_by(2, 0);
        w.quarantine(
            with_standing(&[stays.clone(), leaves.clone()], 500_001),
            quotas,
        )
        .await
        .unwrap();
        // The reach changes: author 2 left it, author 1 is still there.
        let mut reach = std::collections::HashMap::new();
        reach.insert(stays.author, 700_001u32);
        w.restand(reach);
        // A stranger flood past the bound: the author who left goes like a stranger (it is
        // the oldest of the standing-0 rows), the one within reach stays.
        let flood: Vec<StoredObject> = (20..40).map(|s| post_by(s, 0)).collect();
        for batch in flood.chunks(5) {
            w.quarantine(strangers(batch), quotas).await.unwrap();
        }
        let r = StoreReader::open(dir.path()).unwrap();
        assert!(r.in_quarantine(&stays.id).unwrap());
        assert!(!r.in_quarantine(&leaves.id).unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_quarantine_keeps_its_quotas_evicts_oldest_first_and_promotes() {
        let (dir, w, metrics, quotas) = quarantine_writer(10);
        // One author: two held, the third over its quota.
        let one: Vec<StoredObject> = (0..3).map(|n| post_by(1, n)).collect();
        let out = w.quarantine(strangers(&one), quotas).await.unwrap();
        assert_eq!(
            out,
            vec![
                Quarantined::Held,
                Quarantined::Held,
                Quarantined::AuthorFull
            ]
        );
        assert_eq!(
            w.quarantine(strangers(&one[..1]), quotas).await.unwrap(),
            vec![Quarantined::Duplicate]
        );
        // Twenty fresh keys, one object each: the total bound evicts the oldest.
        let many: Vec<StoredObject> = (10..30).map(|s| post_by(s, 0)).collect();
        w.quarantine(strangers(&many), quotas).await.unwrap();
        let r = StoreReader::open(dir.path()).unwrap();
        let (n, _) = r.quarantine_size().unwrap();
        assert!(n <= 10, "{n} in quarantine");
        assert!(!r.in_quarantine(&one[0].id).unwrap(), "the oldest stays");
        assert!(r.in_quarantine(&many[19].id).unwrap(), "the newest goes");
        assert!(
            metrics
                .quarantine_evicted_total
                .load(std::sync::atomic::Ordering::Relaxed)
                > 0
        );
        // Nothing quarantined is in the store or its catch-up index.
        assert_eq!(r.count().unwrap(), 0);
        assert!(r
            .sync_items(crate::net::topic::SOCIAL_TOPIC)
            .unwrap()
            .is_empty());
        // The newest author comes within reach: its object moves into the store, indexed,
        // and the commit hook moves.
        let mut commits = w.commits();
        w.promote(vec![many[19].author]);
        tokio::time::timeout(std::time::Duration::from_secs(30), commits.changed())
            .await
            .unwrap()
            .unwrap();
        assert!(r.contains(&many[19].id).unwrap());
        assert!(!r.in_quarantine(&many[19].id).unwrap());
        assert_eq!(
            r.sync_items(crate::net::topic::SOCIAL_TOPIC).unwrap().len(),
            1
        );
        assert_eq!(*w.commits().borrow(), 1);
        // A stored object is never quarantined again.
        assert_eq!(
            w.quarantine(strangers(&many[19..]), quotas).await.unwrap(),
            vec![Quarantined::Duplicate]
        );
    }

    #[test]
    fn peers_and_bans_tables_are_bounded_and_bans_can_end() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(dir.path(), Durability::Normal).unwrap();
        let (w, handle) = StoreWriter::spawn(conn, Arc::new(Metrics::default()));
        for i in 0..(MAX_KNOWN_PEERS + 50) {
            w.remember_peer(
                format!("p{i}"),
                (0..8).map(|a| format!("/ip4/10.0.0.{a}/tcp/{i}")).collect(),
                i as u64,
            );
            // The writer's queue holds 1,024 commands: let it drain now and then.
            if i % 500 == 0 {
                w.insert_blocking(vec![]).ok();
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        w.ban_peer("bad".into(), "x".into(), 5);
        w.ban_peer("worse".into(), "y".into(), 6);
        w.unban_peer("bad".into());
        w.insert_blocking(vec![post_by(3, 1)]).unwrap();
        drop(w);
        handle.join().unwrap();
        let r = StoreReader::open(dir.path()).unwrap();
        assert!(r.n_known_peers().unwrap() <= MAX_KNOWN_PEERS as u64);
        let addrs = r.known_peers(100_000).unwrap();
        assert!(addrs.len() <= MAX_KNOWN_PEERS * MAX_ADDRS_PER_PEER);
        // The most recent stay.
        assert!(addrs
            .iter()
            .any(|(p, _)| p == &format!("p{}", MAX_KNOWN_PEERS + 49)));
        assert!(!addrs.iter().any(|(p, _)| p == "p0"));
        assert_eq!(
            r.banned_peers_since().unwrap(),
            vec![("worse".to_string(), 6)]
        );
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

    fn writer_with(dir: &Path, objs: &[StoredObject]) -> StoreWriter {
        let conn = open(dir, Durability::Normal).unwrap();
        let (w, _) = StoreWriter::spawn(conn, Arc::new(Metrics::default()));
        w.insert_blocking(objs.to_vec()).unwrap();
        w
    }

    #[test]
    fn a_newer_schema_is_refused_with_its_code_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let c = open(dir.path(), Durability::Normal).unwrap();
        c.execute(
            "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
        drop(c);
        let e = open(dir.path(), Durability::Normal).unwrap_err();
        assert_eq!(e.code(), "store-schema");
        assert!(e.to_string().contains("version 99"), "{e}");
        assert!(
            e.to_string().contains(&format!("1 to {SCHEMA_VERSION}")),
            "{e}"
        );
        let c = Connection::open(dir.path().join(DB_FILE)).unwrap();
        let v: String = c
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(v, "99");
    }

    #[test]
    fn a_commit_that_runs_out_of_space_acknowledges_nothing_and_reports_disk_full() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(dir.path(), Durability::Normal).unwrap();
        // SQLite's own size limit stands in for a full disk here (SQLITE_FULL either way);
        // e2e_durability.rs fills a real filesystem.
        let pages: i64 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        conn.pragma_update(None, "max_page_count", pages + 3)
            .unwrap();
        let metrics = Arc::new(Metrics::default());
        let (w, handle) = StoreWriter::spawn(conn, metrics.clone());
        let health = w.health();
        let first = StoredObject::from_signed(&post(0));
        assert_eq!(w.insert_blocking(vec![first.clone()]).unwrap(), vec![true]);
        let many: Vec<StoredObject> = (1..400)
            .map(|n| StoredObject::from_signed(&post(n)))
            .collect();
        let e = w.insert_blocking(many.clone()).unwrap_err();
        assert_eq!(e.code(), "store-disk-full", "{e}");
        let report = health.report();
        assert_eq!((report.status, report.ready), ("degraded", false));
        assert_eq!(report.store.problem.unwrap().code, "store-disk-full");
        assert_eq!(
            metrics
                .store_disk_full
                .load(std::sync::atomic::Ordering::Relaxed),
            1
        );
        drop(w);
        handle.join().unwrap();
        let r = StoreReader::open(dir.path()).unwrap();
        assert_eq!(
            r.count().unwrap(),
            1,
            "nothing of the failed commit is stored"
        );
        assert!(r.contains(&first.id).unwrap());
        assert_eq!(integrity_check(dir.path()).unwrap(), "ok");
    }

    #[test]
    fn damaged_rows_are_not_served_are_listed_by_check_and_dropped_by_salvage() {
        let dir = tempfile::tempdir().unwrap();
        let objs: Vec<StoredObject> = (0..20)
            .map(|n| StoredObject::from_signed(&post(n)))
            .collect();
        let w = writer_with(dir.path(), &objs);
        drop(w);
        // One row's bytes changed on disk (a flipped bit), another row's id.
        let c = open(dir.path(), Durability::Normal).unwrap();
        let mut bytes = objs[3].bytes.clone();
        let last = bytes.len() - 70;
        bytes[last] ^= 0x01;
        c.execute(
            "UPDATE objects SET bytes = ?1 WHERE id = ?2",
            params![bytes, &objs[3].id.0[..]],
        )
        .unwrap();
        c.execute(
            "UPDATE objects SET id = ?1 WHERE id = ?2",
            params![&[7u8; 32][..], &objs[5].id.0[..]],
        )
        .unwrap();
        drop(c);

        let metrics = Arc::new(Metrics::default());
        let health = Health::new(metrics.clone());
        let r = StoreReader::open(dir.path())
            .unwrap()
            .with_health(health.clone());
        assert_eq!(
            r.get(&objs[3].id).unwrap(),
            None,
            "a damaged row is not served"
        );
        assert_eq!(r.get(&ObjectId([7; 32])).unwrap(), None);
        assert_eq!(r.get(&objs[4].id).unwrap(), Some(objs[4].bytes.clone()));
        let ids: Vec<ObjectId> = objs.iter().map(|o| o.id).collect();
        let served = r.get_many(&ids, 1 << 20).unwrap();
        assert_eq!(served.len(), 18);
        assert!(!served.contains(&objs[3].bytes));
        assert_eq!(health.report().store.corrupt_rows, 3);
        assert_eq!(
            metrics
                .store_rows_corrupt_total
                .load(std::sync::atomic::Ordering::Relaxed),
            3
        );
        drop(r);

        let report = check(dir.path()).unwrap();
        assert!(!report.is_ok());
        assert_eq!(report.integrity, ["ok"]);
        assert_eq!(report.objects, 20);
        let mut problems: Vec<(String, String)> = report
            .damaged
            .iter()
            .map(|d| (d.id.clone(), d.problem.clone()))
            .collect();
        problems.sort();
        let mut want = vec![
            (hex::encode(objs[3].id.0), "id-mismatch".to_string()),
            (hex::encode([7u8; 32]), "id-mismatch".to_string()),
        ];
        want.sort();
        assert_eq!(problems, want);

        let s = salvage(dir.path()).unwrap();
        assert_eq!((s.objects_kept, s.objects_dropped), (18, 2));
        assert!(s.damaged_file.exists());
        assert!(check(dir.path()).unwrap().is_ok());
        let r = StoreReader::open(dir.path()).unwrap();
        assert_eq!(r.count().unwrap(), 18);
        assert_eq!(
            r.sync_items(crate::net::topic::SOCIAL_TOPIC).unwrap().len(),
            18,
            "salvage derives the catch-up index"
        );
    }
}
