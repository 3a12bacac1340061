//! Shared lists as observed-remove sets. Every header, add and remove is kept; the list's
//! state is read from them, so it is the same whatever order they arrived in: the header is
//! the one with the highest effective `seq` (smallest id on a tie, and the tie is
//! equivocation), and an entry is live when its add is authorized, unexpired and named by no
//! authorized remove.
//!
//! A header's effective `seq` is `min(seq, at)`: bounded by its own time, so that no single
//! header (a `seq` of `u64::MAX` signed by mistake or by a thief of the key) can hold the slot
//! for good; the owner supersedes it with any later header whose `seq` and `at` exceed it.

use crate::{ListBody, ObjectId, Subject};
use std::collections::{BTreeMap, BTreeSet};
use vouch_identity::PublicKey;

/// One version of a list header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListHeader {
    /// The curator (the list's owner).
    pub author: PublicKey,
    /// When it was signed.
    pub at: u64,
    /// The header.
    pub body: ListBody,
}

/// One `list-add`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// Who added it (the curator, or for ban lists a moderator).
    pub author: PublicKey,
    /// When.
    pub at: u64,
    /// Who or what is listed.
    pub subject: Subject,
    /// Why, in the curator's words.
    pub reason: Option<String>,
    /// The category (the label value on label lists).
    pub category: Option<String>,
    /// When the entry stops applying.
    pub expires: Option<u64>,
}

/// One `list-remove`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRetraction {
    /// Who retracted.
    pub author: PublicKey,
    /// When.
    pub at: u64,
    /// The adds it names.
    pub adds: Vec<ObjectId>,
}

/// A header's effective sequence number: its `seq`, bounded by its own time `at`.
pub fn effective_seq(seq: u64, at: u64) -> u64 {
    seq.min(at)
}

/// Two or more header versions with the same effective `seq`: the curator equivocated.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Equivocation {
    /// The contested effective `seq`.
    pub seq: u64,
    /// The versions, smallest id first (the first one is the one used).
    pub versions: Vec<ObjectId>,
}

/// The state of an entry at a time, for one authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryStatus {
    /// It applies.
    Live,
    /// Its expiry has passed.
    Expired,
    /// Retracted by these removes.
    Retracted(Vec<ObjectId>),
    /// Its author may not write to this list (or the author's key was revoked before it).
    Unauthorized,
}

/// Who may write to a list: `(author, at) -> allowed`. Revocation is part of it.
pub(crate) type Authority<'a> = &'a dyn Fn(&PublicKey, u64) -> bool;

/// Everything received for one list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListState {
    pub(crate) headers: BTreeMap<ObjectId, ListHeader>,
    pub(crate) adds: BTreeMap<ObjectId, ListEntry>,
    pub(crate) removes: BTreeMap<ObjectId, ListRetraction>,
    /// add id -> the removes naming it (whether or not the add has arrived).
    pub(crate) removed_by: BTreeMap<ObjectId, BTreeSet<ObjectId>>,
    pub(crate) by_subject: BTreeMap<Subject, BTreeSet<ObjectId>>,
}

impl ListState {
    /// Stores a header version; false when already present.
    pub(crate) fn insert_header(&mut self, id: ObjectId, header: ListHeader) -> bool {
        self.headers.insert(id, header).is_none()
    }

    /// Stores an add; false when already present.
    pub(crate) fn insert_add(&mut self, id: ObjectId, entry: ListEntry) -> bool {
        self.by_subject.entry(entry.subject).or_default().insert(id);
        self.adds.insert(id, entry).is_none()
    }

    /// Stores a remove; false when already present.
    pub(crate) fn insert_remove(&mut self, id: ObjectId, r: ListRetraction) -> bool {
        for add in &r.adds {
            self.removed_by.entry(*add).or_default().insert(id);
        }
        self.removes.insert(id, r).is_none()
    }

    /// The header in force among those `valid` accepts: highest effective `seq`
    /// ([`effective_seq`]), smallest id on a tie.
    pub fn header(&self, valid: Authority<'_>) -> Option<(ObjectId, &ListHeader)> {
        self.headers
            .iter()
            .filter(|(_, h)| valid(&h.author, h.at))
            .max_by(|(ia, a), (ib, b)| {
                effective_seq(a.body.seq, a.at)
                    .cmp(&effective_seq(b.body.seq, b.at))
                    .then(ib.cmp(ia))
            })
            .map(|(id, h)| (*id, h))
    }

    /// Every effective `seq` claimed by two or more different header versions.
    pub fn equivocations(&self, valid: Authority<'_>) -> Vec<Equivocation> {
        let mut by_seq: BTreeMap<u64, Vec<ObjectId>> = BTreeMap::new();
        for (id, h) in &self.headers {
            if valid(&h.author, h.at) {
                by_seq
                    .entry(effective_seq(h.body.seq, h.at))
                    .or_default()
                    .push(*id);
            }
        }
        by_seq
            .into_iter()
            .filter(|(_, v)| v.len() > 1)
            .map(|(seq, versions)| Equivocation { seq, versions })
            .collect()
    }

    /// The removes by authorized writers that name `add`.
    pub fn retractions_of(&self, add: &ObjectId, may_write: Authority<'_>) -> Vec<ObjectId> {
        self.removed_by
            .get(add)
            .into_iter()
            .flatten()
            .filter(|r| {
                self.removes
                    .get(r)
                    .is_some_and(|rem| may_write(&rem.author, rem.at))
            })
            .copied()
            .collect()
    }

    /// The status of one entry at `now` for the writers `may_write` accepts.
    pub fn status(
        &self,
        add: &ObjectId,
        entry: &ListEntry,
        may_write: Authority<'_>,
        now: u64,
    ) -> EntryStatus {
        if !may_write(&entry.author, entry.at) {
            return EntryStatus::Unauthorized;
        }
        let retracted = self.retractions_of(add, may_write);
        if !retracted.is_empty() {
            return EntryStatus::Retracted(retracted);
        }
        if entry.expires.is_some_and(|e| e <= now) {
            return EntryStatus::Expired;
        }
        EntryStatus::Live
    }

    /// Every entry with its status.
    pub fn entries<'s>(
        &'s self,
        may_write: Authority<'s>,
        now: u64,
    ) -> impl Iterator<Item = (ObjectId, &'s ListEntry, EntryStatus)> + 's {
        self.adds
            .iter()
            .map(move |(id, e)| (*id, e, self.status(id, e, may_write, now)))
    }

    /// The ids of the live entries, sorted.
    pub fn live(&self, may_write: Authority<'_>, now: u64) -> BTreeSet<ObjectId> {
        self.entries(may_write, now)
            .filter(|(_, _, s)| *s == EntryStatus::Live)
            .map(|(id, _, _)| id)
            .collect()
    }

    /// Retractions naming adds that were never received: `(remove, add)`. They have no
    /// effect now; if the add arrives later it arrives retracted.
    pub fn orphan_retractions(&self) -> Vec<(ObjectId, ObjectId)> {
        let mut out = Vec::new();
        for (add, removes) in &self.removed_by {
            if !self.adds.contains_key(add) {
                out.extend(removes.iter().map(|r| (*r, *add)));
            }
        }
        out.sort();
        out
    }

    /// The adds naming `subject`.
    pub fn adds_for(&self, subject: &Subject) -> impl Iterator<Item = (ObjectId, &ListEntry)> {
        self.by_subject
            .get(subject)
            .into_iter()
            .flatten()
            .filter_map(|id| self.adds.get(id).map(|e| (*id, e)))
    }
}
