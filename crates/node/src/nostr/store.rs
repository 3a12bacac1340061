//! The Nostr source's own SQLite file (`nostr.db` in the data directory): the events in
//! force (the latest version of each replaceable slot, every report and label), the `since`
//! cursor per relay, the registered Nostr viewers and the NIP-85 ranks last published. Kept
//! apart from the object store: Nostr events are not Vouch objects and never replicate.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use super::event::Event;
use super::keys::NostrKey;

/// The file name.
pub(crate) const NOSTR_DB: &str = "nostr.db";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    id BLOB PRIMARY KEY,
    slot TEXT,
    created_at INTEGER NOT NULL,
    json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_slot ON events(slot);
CREATE TABLE IF NOT EXISTS cursors (relay TEXT PRIMARY KEY, since INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS viewers (key BLOB PRIMARY KEY);
CREATE TABLE IF NOT EXISTS published (
    viewer BLOB NOT NULL,
    subject BLOB NOT NULL,
    rank INTEGER NOT NULL,
    PRIMARY KEY (viewer, subject)
);
";

/// The open database.
#[derive(Debug)]
pub(crate) struct NostrDb {
    conn: Connection,
}

/// The slot key of a replaceable or addressable event, `None` for regular events.
pub(crate) fn slot_of(e: &Event) -> Option<String> {
    let k = e.kind;
    if k == 0 || k == 3 || (10_000..20_000).contains(&k) {
        Some(format!("{}:{k}:", hex::encode(e.pubkey)))
    } else if (30_000..40_000).contains(&k) {
        Some(format!(
            "{}:{k}:{}",
            hex::encode(e.pubkey),
            e.tag_value("d").unwrap_or("")
        ))
    } else {
        None
    }
}

impl NostrDb {
    /// Opens (creating) the file in `data_dir`.
    pub(crate) fn open(data_dir: &Path) -> rusqlite::Result<Self> {
        let conn = Connection::open(data_dir.join(NOSTR_DB))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(NostrDb { conn })
    }

    /// Every event held, oldest first (the order they are replayed in).
    pub(crate) fn events(&self) -> rusqlite::Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare("SELECT json FROM events ORDER BY created_at, id")?;
        let rows = st.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect()
    }

    /// Stores events now in force, replacing older versions of their slots; one
    /// transaction.
    pub(crate) fn put_events(&mut self, events: &[&Event]) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        for e in events {
            let slot = slot_of(e);
            if let Some(s) = &slot {
                tx.execute("DELETE FROM events WHERE slot = ?1", params![s])?;
            }
            tx.execute(
                "INSERT OR IGNORE INTO events (id, slot, created_at, json) VALUES (?1, ?2, ?3, ?4)",
                params![
                    &e.id[..],
                    slot,
                    e.created_at as i64,
                    e.to_json().to_string()
                ],
            )?;
        }
        tx.commit()
    }

    /// A relay's cursor.
    pub(crate) fn cursor(&self, relay: &str) -> rusqlite::Result<u64> {
        Ok(self
            .conn
            .query_row(
                "SELECT since FROM cursors WHERE relay = ?1",
                params![relay],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .unwrap_or(0)
            .max(0) as u64)
    }

    /// Saves a relay's cursor.
    pub(crate) fn set_cursor(&self, relay: &str, since: u64) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO cursors (relay, since) VALUES (?1, ?2)
             ON CONFLICT(relay) DO UPDATE SET since = excluded.since",
            params![relay, since as i64],
        )?;
        Ok(())
    }

    /// The registered Nostr viewers.
    pub(crate) fn viewers(&self) -> rusqlite::Result<Vec<NostrKey>> {
        let mut st = self.conn.prepare("SELECT key FROM viewers ORDER BY key")?;
        let rows = st.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for r in rows {
            if let Ok(k) = <[u8; 32]>::try_from(r?.as_slice()) {
                out.push(NostrKey(k));
            }
        }
        Ok(out)
    }

    /// Registers a Nostr viewer.
    pub(crate) fn add_viewer(&self, key: &NostrKey) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO viewers (key) VALUES (?1)",
            params![&key.0[..]],
        )?;
        Ok(())
    }

    /// The ranks last published for `viewer`.
    pub(crate) fn published(
        &self,
        viewer: &NostrKey,
    ) -> rusqlite::Result<std::collections::BTreeMap<NostrKey, u8>> {
        let mut st = self
            .conn
            .prepare("SELECT subject, rank FROM published WHERE viewer = ?1")?;
        let rows = st.query_map(params![&viewer.0[..]], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?))
        })?;
        let mut out = std::collections::BTreeMap::new();
        for r in rows {
            let (k, rank) = r?;
            if let Ok(k) = <[u8; 32]>::try_from(k.as_slice()) {
                out.insert(NostrKey(k), rank.clamp(0, 100) as u8);
            }
        }
        Ok(out)
    }

    /// Records published ranks.
    pub(crate) fn set_published(
        &mut self,
        viewer: &NostrKey,
        ranks: &[(NostrKey, u8)],
    ) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        for (k, r) in ranks {
            tx.execute(
                "INSERT INTO published (viewer, subject, rank) VALUES (?1, ?2, ?3)
                 ON CONFLICT(viewer, subject) DO UPDATE SET rank = excluded.rank",
                params![&viewer.0[..], &k.0[..], i64::from(*r)],
            )?;
        }
        tx.commit()
    }
}
