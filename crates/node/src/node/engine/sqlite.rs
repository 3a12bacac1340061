//! The engine's own SQLite connection: reads stored objects in commit order (`objects.seq`)
//! and reads and writes the `viewers` table (its schema is the store's, `node/store.rs`). Viewer writes are rare and serialized by the
//! engine thread; SQLite's busy timeout orders them with the store writer's commits.

use std::path::Path;

use rusqlite::{params, Connection, OpenFlags};
use vouch_identity::PublicKey;

use crate::node::store::{StoreError, DB_FILE};

/// One row of the `viewers` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ViewerRow {
    /// The viewer's key.
    pub viewer: PublicKey,
    /// The policy, as a stored `PolicyRecord` (bytes as they are on disk: a row that does
    /// not decode is reported, not dropped).
    pub policy: Vec<u8>,
    /// When the viewer was created (ms).
    pub created_ms: u64,
    /// When the policy last changed (ms).
    pub updated_ms: u64,
}

/// The engine's connection.
#[derive(Debug)]
pub(crate) struct EngineDb {
    conn: Connection,
}

impl EngineDb {
    /// Opens the database in `data_dir` (created and migrated by `store::open`).
    pub(crate) fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            data_dir.join(DB_FILE),
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(EngineDb { conn })
    }

    /// Up to `limit` objects stored after `seq`, in commit order: `(seq, bytes)`.
    pub(crate) fn objects_after(
        &self,
        seq: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, id, bytes FROM objects WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![seq, limit as i64], |r| {
            let (seq, id, bytes): (i64, Vec<u8>, Vec<u8>) = (r.get(0)?, r.get(1)?, r.get(2)?);
            // A row whose bytes no longer hash to its id was damaged on disk: it is handed
            // on empty, so it fails to decode and is counted, never applied as something else.
            let intact = vouch_reputation::ObjectId::of_bytes(&bytes).0.as_slice() == id;
            Ok((seq, if intact { bytes } else { Vec::new() }))
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Every viewer, in key order. Rows whose key no longer parses are skipped.
    pub(crate) fn viewers(&self) -> Result<Vec<ViewerRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT viewer, policy, created_ms, updated_ms FROM viewers ORDER BY viewer",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (key, policy, created, updated) = row?;
            match PublicKey::from_bytes(&key) {
                Ok(viewer) => out.push(ViewerRow {
                    viewer,
                    policy,
                    created_ms: created.max(0) as u64,
                    updated_ms: updated.max(0) as u64,
                }),
                Err(_) => {
                    tracing::warn!(key = %hex::encode(&key), "skipping a viewer row with an invalid key")
                }
            }
        }
        Ok(out)
    }

    /// Creates or replaces a viewer; keeps `created_ms` of an existing row.
    pub(crate) fn put_viewer(&self, row: &ViewerRow) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO viewers (viewer, policy, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(viewer) DO UPDATE SET policy = excluded.policy,
             updated_ms = excluded.updated_ms",
            params![
                &row.viewer.as_bytes()[..],
                row.policy,
                row.created_ms as i64,
                row.updated_ms as i64
            ],
        )?;
        Ok(())
    }

    /// Deletes a viewer; false when there was none.
    pub(crate) fn delete_viewer(&self, viewer: &PublicKey) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "DELETE FROM viewers WHERE viewer = ?1",
            [&viewer.as_bytes()[..]],
        )?;
        Ok(n > 0)
    }
}
