//! The identity half's own SQLite connection: the local tables `credentials` (credentials
//! the holder handed this node) and `credential_revocations` (issuers' signed statements),
//! both local settings of schema 4 (`node/store.rs`). Writes are rare (an API call each).

use std::path::Path;

use rusqlite::{params, Connection, OpenFlags};

use crate::node::store::{StoreError, DB_FILE};

/// One row of `credentials`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CredentialRow {
    /// sha2-256 of `json`.
    pub digest: [u8; 32],
    /// The credential as handed in.
    pub json: String,
    /// The holder also published it as a `credential` object.
    pub public: bool,
    /// When it was handed in (ms).
    pub added_ms: u64,
}

/// One row of `credential_revocations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RevocationRow {
    /// sha2-256 of `json`.
    pub digest: [u8; 32],
    /// The statement's JSON text.
    pub json: String,
    /// When it was handed in (ms).
    pub added_ms: u64,
}

/// The connection.
#[derive(Debug)]
pub(crate) struct IdentityDb {
    conn: Connection,
}

impl IdentityDb {
    /// Opens the database in `data_dir` (created and migrated by `store::open`).
    pub(crate) fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            data_dir.join(DB_FILE),
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(IdentityDb { conn })
    }

    /// Every local credential, oldest first. Rows with a malformed digest are skipped.
    pub(crate) fn credentials(&self) -> Result<Vec<CredentialRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT digest, json, public, added_ms FROM credentials ORDER BY added_ms, digest",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (digest, json, public, added) = row?;
            if let Ok(digest) = <[u8; 32]>::try_from(digest.as_slice()) {
                out.push(CredentialRow {
                    digest,
                    json,
                    public: public != 0,
                    added_ms: added.max(0) as u64,
                });
            }
        }
        Ok(out)
    }

    /// Adds a credential, or marks an existing one public (a credential never goes back
    /// from public to private: its object is out). True when the row is new.
    pub(crate) fn put_credential(&self, row: &CredentialRow) -> Result<bool, StoreError> {
        let existed = self.conn.query_row(
            "SELECT count(*) FROM credentials WHERE digest = ?1",
            [&row.digest[..]],
            |r| r.get::<_, i64>(0),
        )? > 0;
        self.conn.execute(
            "INSERT INTO credentials (digest, json, public, added_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(digest) DO UPDATE SET public = max(public, excluded.public)",
            params![
                &row.digest[..],
                row.json,
                i64::from(row.public),
                row.added_ms as i64
            ],
        )?;
        Ok(!existed)
    }

    /// Forgets a local credential; false when there was none.
    pub(crate) fn delete_credential(&self, digest: &[u8; 32]) -> Result<bool, StoreError> {
        let n = self
            .conn
            .execute("DELETE FROM credentials WHERE digest = ?1", [&digest[..]])?;
        Ok(n > 0)
    }

    /// Every revocation statement, oldest first.
    pub(crate) fn revocations(&self) -> Result<Vec<RevocationRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT digest, json, added_ms FROM credential_revocations ORDER BY added_ms, digest",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (digest, json, added) = row?;
            if let Ok(digest) = <[u8; 32]>::try_from(digest.as_slice()) {
                out.push(RevocationRow {
                    digest,
                    json,
                    added_ms: added.max(0) as u64,
                });
            }
        }
        Ok(out)
    }

    /// Adds a revocation statement (idempotent).
    pub(crate) fn put_revocation(&self, row: &RevocationRow) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO credential_revocations (digest, json, added_ms)
             VALUES (?1, ?2, ?3)",
            params![&row.digest[..], row.json, row.added_ms as i64],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::node::store::{self, Durability};

    fn row(n: u8, public: bool) -> CredentialRow {
        CredentialRow {
            digest: [n; 32],
            json: format!("{{\"n\":{n}}}"),
            public,
            added_ms: u64::from(n),
        }
    }

    #[test]
    fn credentials_and_revocations_are_kept_and_public_is_sticky() {
        let dir = tempfile::tempdir().unwrap();
        drop(store::open(dir.path(), Durability::Normal).unwrap());
        let db = IdentityDb::open(dir.path()).unwrap();
        assert!(db.put_credential(&row(1, false)).unwrap());
        assert!(db.put_credential(&row(2, true)).unwrap());
        // Again, now public: not new, but public from now on; private again changes nothing.
        assert!(!db.put_credential(&row(1, true)).unwrap());
        assert!(!db.put_credential(&row(1, false)).unwrap());
        let rows = db.credentials().unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r.public));
        assert!(db.delete_credential(&[2; 32]).unwrap());
        assert!(!db.delete_credential(&[2; 32]).unwrap());
        assert_eq!(db.credentials().unwrap(), vec![row(1, true)]);

        let rev = RevocationRow {
            digest: [9; 32],
            json: "{}".into(),
            added_ms: 5,
        };
        db.put_revocation(&rev).unwrap();
        db.put_revocation(&rev).unwrap();
        assert_eq!(db.revocations().unwrap(), vec![rev]);
    }

    /// Schema 3 databases (before the credential tables) open as schema 4 with the tables.
    #[test]
    fn a_schema_3_database_migrates_to_4() {
        let dir = tempfile::tempdir().unwrap();
        drop(store::open(dir.path(), Durability::Normal).unwrap());
        {
            let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
            conn.execute_batch(
                "DROP TABLE credentials; DROP TABLE credential_revocations;
                 UPDATE meta SET value = '3' WHERE key = 'schema_version';",
            )
            .unwrap();
            assert!(IdentityDb::open(dir.path()).unwrap().credentials().is_err());
        }
        drop(store::open(dir.path(), Durability::Normal).unwrap());
        let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
        let version: String = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(version, store::SCHEMA_VERSION.to_string());
        assert_eq!(version, "5"); // and on to schema 5 (the quarantine's standing)
        let db = IdentityDb::open(dir.path()).unwrap();
        assert!(db.put_credential(&row(3, false)).unwrap());
        assert_eq!(db.credentials().unwrap().len(), 1);
    }
}
