//! The local record of what each local key last published: its current group and list
//! headers (so that `vouch group moderator add` can re-sign the header with `seq + 1` and
//! the current fields) and its list entries still in force (so that `vouch list remove` and
//! `vouch group unban` can name the adds they retract).
//!
//! One JSON file per author, `$VOUCH_HOME/published/<author key hex>.json`, holding the
//! objects themselves (hex of their DAG-CBOR bytes): the fields are read back by validating
//! them, so the record cannot say anything the objects do not.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use vouch_identity::PublicKey;
use vouch_reputation::{
    validate, Body, GroupBody, ListAddBody, ListBody, ListRef, ObjectId, SignedObject, Subject,
};

/// The record folder: `$VOUCH_HOME/published`.
pub(crate) fn published_dir() -> PathBuf {
    crate::cli::keys::vouch_home().join("published")
}

/// What one author published, as stored on disk.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Published {
    /// The author's did:key (for people reading the file).
    author: String,
    /// Current group headers by group name.
    #[serde(default)]
    groups: BTreeMap<String, String>,
    /// Current list headers by list name.
    #[serde(default)]
    lists: BTreeMap<String, String>,
    /// List entries (on any list, including other owners' ban lists) not yet retracted, by CID.
    #[serde(default)]
    adds: BTreeMap<String, String>,
}

fn decode(hex_bytes: &str) -> Result<SignedObject> {
    let bytes = hex::decode(hex_bytes).context("record holds bad hex")?;
    validate(&bytes, u64::MAX)
        .map_err(|e| anyhow::anyhow!("record holds an invalid object: [{}] {e}", e.code()))
}

impl Published {
    fn path(dir: &Path, author: &PublicKey) -> PathBuf {
        dir.join(format!("{}.json", hex::encode(author.as_bytes())))
    }

    /// The record of `author` (empty if none).
    pub(crate) fn load(author: &PublicKey) -> Result<Self> {
        let path = Self::path(&published_dir(), author);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("reading the record {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Published {
                author: author.to_did_key(),
                ..Default::default()
            }),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Every local author's record.
    fn load_all() -> Result<Vec<(PublicKey, Self)>> {
        let dir = published_dir();
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
        };
        for entry in entries {
            let path = entry?.path();
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let Ok(bytes) = hex::decode(stem) else {
                continue;
            };
            let Ok(author) = PublicKey::from_bytes(&bytes) else {
                continue;
            };
            out.push((author, Self::load(&author)?));
        }
        Ok(out)
    }

    /// Writes the record of `author` (atomically: a temporary file renamed over it).
    pub(crate) fn save(&self, author: &PublicKey) -> Result<()> {
        let dir = published_dir();
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = Self::path(&dir, author);
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }

    /// The current header of the author's group `name`.
    pub(crate) fn group(&self, name: &str) -> Result<Option<(SignedObject, GroupBody)>> {
        let Some(h) = self.groups.get(name) else {
            return Ok(None);
        };
        let obj = decode(h)?;
        match obj.body().clone() {
            Body::Group(g) if g.name == name => Ok(Some((obj, g))),
            _ => bail!("the record's header for group {name:?} is not that group's header"),
        }
    }

    /// The current header of the author's list `name`.
    pub(crate) fn list(&self, name: &str) -> Result<Option<(SignedObject, ListBody)>> {
        let Some(h) = self.lists.get(name) else {
            return Ok(None);
        };
        let obj = decode(h)?;
        match obj.body().clone() {
            Body::List(l) if l.name == name => Ok(Some((obj, l))),
            _ => bail!("the record's header for list {name:?} is not that list's header"),
        }
    }

    /// Records an object the author just published (headers replace, adds accumulate).
    pub(crate) fn note(&mut self, obj: &SignedObject) {
        let hex_bytes = hex::encode(obj.bytes());
        match obj.body() {
            Body::Group(g) => {
                self.groups.insert(g.name.clone(), hex_bytes);
            }
            Body::List(l) => {
                self.lists.insert(l.name.clone(), hex_bytes);
            }
            Body::ListAdd(_) => {
                self.adds.insert(obj.id().to_string(), hex_bytes);
            }
            _ => {}
        }
    }

    fn adds(&self) -> impl Iterator<Item = (ObjectId, ListAddBody)> + '_ {
        self.adds.values().filter_map(|h| {
            let obj = decode(h).ok()?;
            match obj.body() {
                Body::ListAdd(a) => Some((obj.id(), a.clone())),
                _ => None,
            }
        })
    }
}

/// The adds on `list` about `subject` recorded by any local key, oldest record first.
pub(crate) fn find_adds(list: &ListRef, subject: &Subject) -> Result<Vec<ObjectId>> {
    let mut out = Vec::new();
    for (_, record) in Published::load_all()? {
        for (id, add) in record.adds() {
            if &add.list == list && &add.subject == subject {
                out.push(id);
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Drops retracted adds from every local record.
pub(crate) fn forget_adds(ids: &[ObjectId]) -> Result<()> {
    for (author, mut record) in Published::load_all()? {
        let before = record.adds.len();
        for id in ids {
            record.adds.remove(&id.to_string());
        }
        if record.adds.len() != before {
            record.save(&author)?;
        }
    }
    Ok(())
}
