//! The trust graph: latest attestation and vote per slot, key events (rotations and
//! revocations, resolved by [`KeyEvents`]), and the effective edges (compressed rows plus a
//! bounded overlay of recently changed rows).

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::{
    Attestation, GroupId, IngestError, KeyBytes, ObjectDigest, Revocation, Rotation, Vote,
};
use crate::{KeyEvent, KeyEvents, ObjectId};

/// A dense identifier of an author inside one [`TrustGraph`] (interned in first-seen order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuthorId(pub u32);

/// What ingesting a record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ingested {
    /// The record is now the latest in its slot.
    Applied,
    /// The same record was already there.
    Duplicate,
    /// A later record holds the slot; this one changes nothing.
    Stale,
    /// An attestation for a context this graph does not cover.
    OutOfScope,
}

/// Kind of a stored edge, in precedence order (lower wins for the same subject).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum EdgeKind {
    /// An attestation in the graph's scope group.
    ScopedAttest = 0,
    /// An attestation without context.
    Attest = 1,
    /// A vote on an author.
    Vote = 2,
}

/// One stored record: the latest in its (author, subject, kind) slot.
#[derive(Debug, Clone)]
pub(crate) struct StoredEdge {
    pub(crate) subject: u32,
    pub(crate) at_ms: u64,
    pub(crate) expires_at_ms: u64,
    pub(crate) object: ObjectDigest,
    pub(crate) level: i8,
    pub(crate) kind: EdgeKind,
}

/// The effective out-edges of one author: flow edges (positive attestations) first, then the
/// remaining evidence (negative attestations and votes), each part sorted by target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Row {
    pub(crate) targets: Vec<u32>,
    pub(crate) levels: Vec<i8>,
    pub(crate) n_flow: u32,
}

/// One change of an author's effective row, kept for incremental view updates.
#[derive(Debug, Clone)]
pub(crate) struct RowChange {
    pub(crate) author: u32,
    pub(crate) before: Row,
    pub(crate) after: Row,
}

/// Level of evidence a vote carries (votes are weak: a tenth of a full attestation).
pub(crate) const VOTE_LEVEL: i8 = 10;
/// Changes kept for incremental updates; a view further behind recomputes in full.
const CHANGE_LOG_LEN: usize = 4096;
const NO_OVERRIDE: u32 = u32::MAX;

/// The trust graph of one scope (global, or global plus one group's attestations).
///
/// Records come in one at a time, in any order; the effective edges depend only on the set of
/// records and on `now_ms` (see [`TrustGraph::set_now`]).
#[derive(Debug, Clone)]
pub struct TrustGraph {
    scope: Option<GroupId>,
    now_ms: u64,
    ids: HashMap<KeyBytes, u32>,
    keys: Vec<KeyBytes>,
    stored: Vec<Vec<StoredEdge>>,
    /// Every key event, resolved (the same resolution as `ModerationState`'s).
    key_events: KeyEvents,
    /// old -> (new, rotation object): the rotations that count.
    rotated: BTreeMap<u32, (u32, ObjectDigest)>,
    /// new -> olds
    rotated_from: BTreeMap<u32, Vec<u32>>,
    /// key -> (time from which its records are void, the event behind it).
    void: BTreeMap<u32, (u64, ObjectDigest)>,
    // Compressed rows, built by `rebuild`.
    csr_n: usize,
    off: Vec<u32>,
    targets: Vec<u32>,
    levels: Vec<i8>,
    n_flow: Vec<u32>,
    // Rows changed since the last rebuild.
    override_of: Vec<u32>,
    overrides: Vec<Row>,
    overlay_edges: usize,
    next_expiry: u64,
    epoch: u64,
    generation: u64,
    changes: VecDeque<RowChange>,
    n_effective: usize,
    // Between `defer_rebuilds` and `finish_deferred`: key events mark the rows stale here
    // instead of rebuilding each time.
    deferring: bool,
    rebuild_pending: bool,
}

impl TrustGraph {
    /// An empty graph. `scope`: `None` counts attestations without context only; `Some(g)`
    /// also counts attestations in group `g`, which take precedence over context-free ones.
    pub fn new(scope: Option<GroupId>) -> Self {
        TrustGraph {
            scope,
            now_ms: 0,
            ids: HashMap::new(),
            keys: Vec::new(),
            stored: Vec::new(),
            key_events: KeyEvents::new(),
            rotated: BTreeMap::new(),
            rotated_from: BTreeMap::new(),
            void: BTreeMap::new(),
            csr_n: 0,
            off: vec![0],
            targets: Vec::new(),
            levels: Vec::new(),
            n_flow: Vec::new(),
            override_of: Vec::new(),
            overrides: Vec::new(),
            overlay_edges: 0,
            next_expiry: u64::MAX,
            epoch: 0,
            generation: 0,
            changes: VecDeque::new(),
            n_effective: 0,
            deferring: false,
            rebuild_pending: false,
        }
    }

    /// From now until [`TrustGraph::finish_deferred`], a key event (rotation, revocation,
    /// `incept`) that changes a key's state updates the key states at once but leaves the
    /// rebuild of the rows to `finish_deferred`: a batch of N key events costs one rebuild,
    /// not N. Attestations and votes added meanwhile are stored as usual (the rebuild
    /// recomputes every row from the stored records, so the result is the same as applying
    /// them one by one). Reading trust before `finish_deferred` sees rows that may predate
    /// the batch's key events.
    pub fn defer_rebuilds(&mut self) {
        self.deferring = true;
    }

    /// Ends [`TrustGraph::defer_rebuilds`]: rebuilds the rows once if a key event changed a
    /// key's state meanwhile. Returns whether it rebuilt.
    pub fn finish_deferred(&mut self) -> bool {
        self.deferring = false;
        if std::mem::take(&mut self.rebuild_pending) {
            self.rebuild();
            true
        } else {
            false
        }
    }

    /// How many times the rows were rebuilt in full (rotations, revocations, expiries).
    pub fn rebuilds(&self) -> u64 {
        self.epoch
    }

    /// Number of interned authors.
    pub fn n_authors(&self) -> usize {
        self.keys.len()
    }

    /// Number of effective edges (flow and evidence) at the current time.
    pub fn n_effective_edges(&self) -> usize {
        self.n_effective
    }

    /// The dense id of `key`, if the graph has seen it.
    pub fn author_id(&self, key: &KeyBytes) -> Option<AuthorId> {
        self.ids.get(key).map(|&i| AuthorId(i))
    }

    /// The key of a dense id.
    pub fn key(&self, id: AuthorId) -> Option<&KeyBytes> {
        self.keys.get(id.0 as usize)
    }

    /// The id that `id` currently speaks as, following rotations.
    pub fn current_id(&self, id: AuthorId) -> AuthorId {
        AuthorId(self.canon(id.0))
    }

    /// The time the effective edges are computed for.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Moves the graph's clock to `now_ms`: attestations that expired by then stop counting.
    /// Rebuilds the rows (and forces views to recompute) only if something expired or the clock
    /// went back past an expiry.
    pub fn set_now(&mut self, now_ms: u64) {
        let back = now_ms < self.now_ms;
        self.now_ms = now_ms;
        if now_ms >= self.next_expiry || back {
            self.rebuild();
        }
    }

    /// Adds an attestation. Latest per (author, subject, context) wins; ties on `at_ms` go to
    /// the larger object id.
    pub fn add_attestation(&mut self, a: &Attestation) -> Result<Ingested, IngestError> {
        if !(-100..=100).contains(&a.level) {
            return Err(IngestError::LevelOutOfRange(a.level));
        }
        if a.author == a.subject {
            return Err(IngestError::SelfReference);
        }
        let kind = match (&a.context, &self.scope) {
            (None, _) => EdgeKind::Attest,
            (Some(c), Some(s)) if c == s => EdgeKind::ScopedAttest,
            _ => return Ok(Ingested::OutOfScope),
        };
        let edge = |subject| StoredEdge {
            subject,
            at_ms: a.at_ms,
            expires_at_ms: a.expires_at_ms.unwrap_or(u64::MAX),
            object: a.object,
            level: a.level,
            kind,
        };
        self.store(&a.author, &a.subject, edge)
    }

    /// Adds many attestations at once, with the same result as adding them one by one
    /// (latest per slot wins), but each touched author's row is rebuilt once instead of once
    /// per record: an author attesting thousands of keys costs one row build, not thousands.
    /// Stops at the first refused record (the records before it stay applied). Returns the
    /// number of records in scope.
    pub fn add_attestations(&mut self, records: &[Attestation]) -> Result<usize, IngestError> {
        let mut touched: Vec<u32> = Vec::new();
        let mut in_scope = 0;
        let mut result = Ok(());
        for a in records {
            if !(-100..=100).contains(&a.level) {
                result = Err(IngestError::LevelOutOfRange(a.level));
                break;
            }
            if a.author == a.subject {
                result = Err(IngestError::SelfReference);
                break;
            }
            let kind = match (&a.context, &self.scope) {
                (None, _) => EdgeKind::Attest,
                (Some(c), Some(s)) if c == s => EdgeKind::ScopedAttest,
                _ => continue,
            };
            let (author, subject) = match (self.intern(&a.author), self.intern(&a.subject)) {
                (Ok(x), Ok(y)) => (x, y),
                (Err(e), _) | (_, Err(e)) => {
                    result = Err(e);
                    break;
                }
            };
            in_scope += 1;
            self.stored[author as usize].push(StoredEdge {
                subject,
                at_ms: a.at_ms,
                expires_at_ms: a.expires_at_ms.unwrap_or(u64::MAX),
                object: a.object,
                level: a.level,
                kind,
            });
            touched.push(author);
        }
        touched.sort_unstable();
        touched.dedup();
        for &a in &touched {
            // Sort by slot, the latest record of each slot first, and keep that one.
            let list = &mut self.stored[a as usize];
            list.sort_by(|x, y| {
                (x.subject, x.kind)
                    .cmp(&(y.subject, y.kind))
                    .then_with(|| (y.at_ms, y.object).cmp(&(x.at_ms, x.object)))
            });
            list.dedup_by(|later, kept| (later.subject, later.kind) == (kept.subject, kept.kind));
        }
        let mut canon: Vec<u32> = touched.iter().map(|&a| self.canon(a)).collect();
        canon.sort_unstable();
        canon.dedup();
        for c in canon {
            self.refresh_row(c);
        }
        result.map(|()| in_scope)
    }

    /// Adds a vote on an author. Latest per (voter, target) wins.
    pub fn add_vote(&mut self, v: &Vote) -> Result<Ingested, IngestError> {
        if v.value != 1 && v.value != -1 {
            return Err(IngestError::VoteValue(v.value));
        }
        if v.voter == v.target {
            return Err(IngestError::SelfReference);
        }
        let edge = |subject| StoredEdge {
            subject,
            at_ms: v.at_ms,
            expires_at_ms: u64::MAX,
            object: v.object,
            level: v.value * VOTE_LEVEL,
            kind: EdgeKind::Vote,
        };
        self.store(&v.voter, &v.target, edge)
    }

    /// Adds a version 1 rotation (a handover signed by the old key). Whether it counts is
    /// decided with every other key event ([`KeyEvents`]): never for a key that committed to
    /// a successor, never once the key is revoked, and not when the key handed over to two
    /// different keys. Views recompute in full when a key's state changes.
    pub fn add_rotation(&mut self, r: &Rotation) -> Result<Ingested, IngestError> {
        if r.old == r.new {
            return Err(IngestError::SelfReference);
        }
        self.add_key_event(
            r.object,
            KeyEvent::Handover {
                old: r.old,
                new: r.new,
                at: r.at_ms,
            },
        )
    }

    /// Adds a revocation: the key's records from `since_ms` on are void (the earliest
    /// `since_ms` wins), and so are its version 1 rotations and `incept` commitments.
    pub fn add_revocation(&mut self, r: &Revocation) -> Result<Ingested, IngestError> {
        self.add_key_event(
            r.object,
            KeyEvent::Revoke {
                key: r.key,
                since: r.since_ms,
            },
        )
    }

    /// Adds any key event (`incept`, either version of `rotate`, `revoke`) under its object's
    /// digest. `Applied` when some key's successor or void time changed (views then recompute
    /// in full), `Stale` when it is kept but changes nothing yet.
    pub fn add_key_event(
        &mut self,
        object: ObjectDigest,
        event: KeyEvent,
    ) -> Result<Ingested, IngestError> {
        let change = self.key_events.insert(ObjectId(object), event);
        if !change.fresh {
            return Ok(Ingested::Duplicate);
        }
        let mut any = false;
        for key in change.changed {
            let state = self.key_events.state(&key);
            let i = self.intern(&key)?;
            let successor = match state.successor {
                Some((k, id)) => Some((self.intern(&k)?, id.0)),
                None => None,
            };
            let void = state.void.map(|(t, _, id)| (t, id.0));
            if self.rotated.get(&i).copied() != successor || self.void.get(&i).copied() != void {
                any = true;
            }
            if let Some((prev, _)) = self.rotated.remove(&i) {
                if let Some(olds) = self.rotated_from.get_mut(&prev) {
                    olds.retain(|&o| o != i);
                    if olds.is_empty() {
                        self.rotated_from.remove(&prev);
                    }
                }
            }
            if let Some((new, obj)) = successor {
                self.rotated.insert(i, (new, obj));
                let olds = self.rotated_from.entry(new).or_default();
                olds.push(i);
                olds.sort_unstable();
            }
            match void {
                Some(v) => self.void.insert(i, v),
                None => self.void.remove(&i),
            };
        }
        if !any {
            return Ok(Ingested::Stale);
        }
        if self.deferring {
            self.rebuild_pending = true;
        } else {
            self.rebuild();
        }
        Ok(Ingested::Applied)
    }

    /// The resolved key events: each key's commitment, successor and void time.
    pub fn key_events(&self) -> &KeyEvents {
        &self.key_events
    }

    fn intern(&mut self, key: &KeyBytes) -> Result<u32, IngestError> {
        if let Some(&i) = self.ids.get(key) {
            return Ok(i);
        }
        let i = u32::try_from(self.keys.len())
            .ok()
            .filter(|&i| i < NO_OVERRIDE - 1)
            .ok_or(IngestError::TooManyAuthors)?;
        self.ids.insert(*key, i);
        self.keys.push(*key);
        self.stored.push(Vec::new());
        self.override_of.push(NO_OVERRIDE);
        self.n_flow.push(0);
        Ok(i)
    }

    fn store(
        &mut self,
        author: &KeyBytes,
        subject: &KeyBytes,
        edge: impl FnOnce(u32) -> StoredEdge,
    ) -> Result<Ingested, IngestError> {
        let a = self.intern(author)?;
        let s = self.intern(subject)?;
        let e = edge(s);
        let list = &mut self.stored[a as usize];
        match list.binary_search_by(|x| (x.subject, x.kind).cmp(&(e.subject, e.kind))) {
            Ok(i) => {
                let old = &list[i];
                if (old.at_ms, old.object) == (e.at_ms, e.object) {
                    return Ok(Ingested::Duplicate);
                }
                if (old.at_ms, old.object) > (e.at_ms, e.object) {
                    return Ok(Ingested::Stale);
                }
                list[i] = e;
            }
            Err(i) => list.insert(i, e),
        }
        self.refresh_row(self.canon(a));
        Ok(Ingested::Applied)
    }

    /// Follows rotations from `id` to the key it now speaks as (bounded against cycles).
    pub(crate) fn canon(&self, mut id: u32) -> u32 {
        for _ in 0..64 {
            match self.rotated.get(&id) {
                Some(&(new, _)) => id = new,
                None => break,
            }
        }
        id
    }

    /// All raw keys whose edges belong to canonical author `c`.
    fn raw_authors(&self, c: u32, out: &mut Vec<u32>) {
        out.clear();
        out.push(c);
        let mut i = 0;
        while i < out.len() && out.len() < 1024 {
            if let Some(olds) = self.rotated_from.get(&out[i]) {
                out.extend(olds.iter().copied());
            }
            i += 1;
        }
    }

    /// The stored edge that is effective for canonical (author, subject), if any, with the raw
    /// author that made it. Used by the row builder and by explanations.
    pub(crate) fn effective_edge(&self, c: u32, subject: u32) -> Option<(u32, &StoredEdge)> {
        let mut raws = Vec::new();
        self.raw_authors(c, &mut raws);
        let mut best: Option<(u32, &StoredEdge)> = None;
        for &a in &raws {
            for e in &self.stored[a as usize] {
                if self.canon(e.subject) == subject && self.counts(a, e) {
                    best = match best {
                        Some(b) if edge_order(b.1) <= edge_order(e) => Some(b),
                        _ => Some((a, e)),
                    };
                }
            }
        }
        best
    }

    /// Whether stored edge `e` of raw author `a` counts now (ignores rotation of its subject).
    fn counts(&self, a: u32, e: &StoredEdge) -> bool {
        if e.level == 0 || e.expires_at_ms <= self.now_ms {
            return false;
        }
        // Revoked, rotated away (from the rotation's cut) or forked (since 0).
        if let Some(&(since, _)) = self.void.get(&a) {
            if e.at_ms >= since {
                return false;
            }
        }
        true
    }

    /// The effective row of canonical author `c`, and the earliest future expiry in it.
    fn compute_row(&self, c: u32) -> (Row, u64) {
        let mut raws = Vec::new();
        self.raw_authors(c, &mut raws);
        if self.rotated.contains_key(&c) {
            return (Row::default(), u64::MAX);
        }
        let mut cand: Vec<(u32, &StoredEdge)> = Vec::new();
        let mut next_expiry = u64::MAX;
        for &a in &raws {
            for e in &self.stored[a as usize] {
                if !self.counts(a, e) {
                    continue;
                }
                let s = self.canon(e.subject);
                if s == c {
                    continue;
                }
                if e.expires_at_ms != u64::MAX {
                    next_expiry = next_expiry.min(e.expires_at_ms);
                }
                cand.push((s, e));
            }
        }
        cand.sort_by_key(|x| (x.0, edge_order(x.1)));
        cand.dedup_by_key(|x| x.0);
        let mut row = Row::default();
        for flow in [true, false] {
            for &(s, e) in &cand {
                if is_flow(e) == flow {
                    row.targets.push(s);
                    row.levels.push(e.level);
                }
            }
            if flow {
                row.n_flow = row.targets.len() as u32;
            }
        }
        (row, next_expiry)
    }

    fn refresh_row(&mut self, c: u32) {
        let before = self.row_owned(c);
        let (after, expiry) = self.compute_row(c);
        self.next_expiry = self.next_expiry.min(expiry);
        if before == after {
            return;
        }
        self.n_effective = self.n_effective + after.targets.len() - before.targets.len();
        self.n_flow[c as usize] = after.n_flow;
        let slot = self.override_of[c as usize];
        self.overlay_edges += after.targets.len();
        if slot == NO_OVERRIDE {
            self.override_of[c as usize] = self.overrides.len() as u32;
            self.overrides.push(after.clone());
        } else {
            self.overlay_edges -= self.overrides[slot as usize].targets.len();
            self.overrides[slot as usize] = after.clone();
        }
        self.generation += 1;
        if self.changes.len() == CHANGE_LOG_LEN {
            self.changes.pop_front();
        }
        self.changes.push_back(RowChange {
            author: c,
            before,
            after,
        });
        if self.overrides.len() > 1024 && self.overlay_edges * 8 > self.targets.len().max(8192) {
            self.compact();
        }
    }

    /// Rebuilds every row from the stored records (after a rotation, revocation or expiry).
    /// Views computed before must recompute in full.
    fn rebuild(&mut self) {
        self.epoch += 1;
        self.changes.clear();
        self.overrides.clear();
        self.override_of.iter_mut().for_each(|x| *x = NO_OVERRIDE);
        let n = self.keys.len();
        let mut off = Vec::with_capacity(n + 1);
        let mut targets = Vec::new();
        let mut levels = Vec::new();
        let mut n_flow = Vec::with_capacity(n);
        let mut next_expiry = u64::MAX;
        off.push(0u32);
        for c in 0..n as u32 {
            let (row, exp) = self.compute_row(c);
            next_expiry = next_expiry.min(exp);
            targets.extend_from_slice(&row.targets);
            levels.extend_from_slice(&row.levels);
            n_flow.push(row.n_flow);
            off.push(targets.len() as u32);
        }
        self.install(off, targets, levels, n_flow);
        self.next_expiry = next_expiry;
    }

    /// Folds the overlay into the compressed rows; effective edges do not change.
    fn compact(&mut self) {
        let n = self.keys.len();
        let mut off = Vec::with_capacity(n + 1);
        let mut targets = Vec::with_capacity(self.n_effective);
        let mut levels = Vec::with_capacity(self.n_effective);
        off.push(0u32);
        for c in 0..n as u32 {
            let (t, l, _) = self.row(c);
            targets.extend_from_slice(t);
            levels.extend_from_slice(l);
            off.push(targets.len() as u32);
        }
        let n_flow = self.n_flow.clone();
        self.overrides.clear();
        self.override_of.iter_mut().for_each(|x| *x = NO_OVERRIDE);
        self.install(off, targets, levels, n_flow);
    }

    fn install(&mut self, off: Vec<u32>, targets: Vec<u32>, levels: Vec<i8>, n_flow: Vec<u32>) {
        self.overlay_edges = 0;
        self.overrides = Vec::new();
        for list in &mut self.stored {
            list.shrink_to_fit();
        }
        self.csr_n = n_flow.len();
        self.n_effective = targets.len();
        self.off = off;
        self.targets = targets;
        self.levels = levels;
        self.n_flow = n_flow;
    }

    fn row_owned(&self, c: u32) -> Row {
        let (t, l, f) = self.row(c);
        Row {
            targets: t.to_vec(),
            levels: l.to_vec(),
            n_flow: f,
        }
    }

    /// The effective row of canonical author `c`: (targets, levels, number of flow edges).
    #[inline]
    pub(crate) fn row(&self, c: u32) -> (&[u32], &[i8], u32) {
        let i = c as usize;
        let slot = self.override_of.get(i).copied().unwrap_or(NO_OVERRIDE);
        if slot != NO_OVERRIDE {
            let r = &self.overrides[slot as usize];
            return (&r.targets, &r.levels, r.n_flow);
        }
        if i < self.csr_n {
            let (a, b) = (self.off[i] as usize, self.off[i + 1] as usize);
            return (&self.targets[a..b], &self.levels[a..b], self.n_flow[i]);
        }
        (&[], &[], 0)
    }

    /// Number of flow (positive attestation) edges of canonical author `c`.
    #[inline]
    pub(crate) fn n_flow(&self, c: u32) -> u32 {
        self.n_flow.get(c as usize).copied().unwrap_or(0)
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// Changes after generation `since`, or `None` if the log no longer reaches back that far.
    pub(crate) fn changes_since(&self, since: u64) -> Option<impl Iterator<Item = &RowChange>> {
        let behind = self.generation.checked_sub(since)?;
        if behind as usize > self.changes.len() {
            return None;
        }
        Some(
            self.changes
                .iter()
                .skip(self.changes.len() - behind as usize),
        )
    }

    /// Heap bytes held by the graph (capacities of its vectors and an estimate for the maps).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let stored: usize = self
            .stored
            .iter()
            .map(|v| v.capacity() * size_of::<StoredEdge>())
            .sum::<usize>()
            + self.stored.capacity() * size_of::<Vec<StoredEdge>>();
        // hashbrown: one (key, value) slot plus one control byte per bucket, buckets >= 8/7 len.
        let ids = self.ids.capacity() * 8 / 7 * (size_of::<(KeyBytes, u32)>() + 1);
        let overrides: usize = self
            .overrides
            .iter()
            .map(|r| r.targets.capacity() * 4 + r.levels.capacity())
            .sum::<usize>()
            + self.overrides.capacity() * size_of::<Row>();
        stored
            + ids
            + self.keys.capacity() * 32
            + self.off.capacity() * 4
            + self.targets.capacity() * 4
            + self.levels.capacity()
            + self.n_flow.capacity() * 4
            + self.override_of.capacity() * 4
            + overrides
            + (self.rotated.len() + self.rotated_from.len() + self.void.len()) * 64
            + self.key_events.len() * 160
    }
}

/// Precedence among stored edges for one (author, subject): scoped attestation, then
/// context-free attestation, then vote; within a kind the latest, then the larger object id.
fn edge_order(e: &StoredEdge) -> (EdgeKind, std::cmp::Reverse<(u64, ObjectDigest)>) {
    (e.kind, std::cmp::Reverse((e.at_ms, e.object)))
}

fn is_flow(e: &StoredEdge) -> bool {
    e.kind != EdgeKind::Vote && e.level > 0
}
