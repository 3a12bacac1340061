//! The mapping of verified Nostr events into the engine's inputs (`specs/nostr.md` §3):
//! follows (kind 3) become positive attestations, mutes (kind 10000) negative ones plus
//! entries of the muter's `nostr-block` list, reports (kind 1984) entries of that list,
//! people lists (kind 30000) lists of their own, labels (kind 1985) labels. Replaceable
//! events keep the latest `created_at` per (pubkey, kind, `d`), the lowest id on a tie;
//! an older version is refused as a rollback. Pure: the same events give the same state.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sha2::{Digest, Sha256};
use vouch_identity::PublicKey;
use vouch_reputation::{
    Attestation, Body, LabelBody, ListAddBody, ListBody, ListPurpose, ListRef, ListRemoveBody,
    Object, ObjectId, Subject,
};

use super::event::{lower_hex, Event};
use super::keys::NostrKey;

/// NIP-02 follow list.
pub(crate) const KIND_FOLLOWS: u32 = 3;
/// NIP-51 mute list.
pub(crate) const KIND_MUTES: u32 = 10_000;
/// NIP-51 follow sets (people lists), addressable by `d`.
pub(crate) const KIND_PEOPLE: u32 = 30_000;
/// NIP-56 report.
pub(crate) const KIND_REPORT: u32 = 1984;
/// NIP-32 label.
pub(crate) const KIND_LABEL: u32 = 1985;
/// The kinds a node reads from relays.
pub(crate) const EVIDENCE_KINDS: [u32; 5] = [
    KIND_FOLLOWS,
    KIND_MUTES,
    KIND_PEOPLE,
    KIND_REPORT,
    KIND_LABEL,
];

/// The trust level of a follow.
pub(crate) const FOLLOW_LEVEL: i8 = 100;
/// The trust level of a mute (distrust: one step, budgeted, never chains).
pub(crate) const MUTE_LEVEL: i8 = -100;
/// The name of every Nostr key's block list (its mutes and reports).
pub(crate) const BLOCK_LIST: &str = "nostr-block";
/// Most subject keys kept computed.
const MAX_SUBJECT_CACHE: usize = 4_000_000;
/// The longest `d` kept in a people list's name.
const MAX_D: usize = 64;

/// Something the engine applies: a trust-graph record or a moderation object (never signed
/// with a Vouch key: its id is the Nostr event's id or derived from it, `specs/nostr.md`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Fact {
    /// A trust-graph edge (the latest per author and subject wins).
    Attest(Attestation),
    /// A moderation object under an id (boxed: an `Object` is five times an attestation).
    Object(ObjectId, Box<Object>),
}

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The event is now current; its facts were produced.
    Applied,
    /// The same event was already applied.
    Duplicate,
    /// A newer version of this replaceable event is held: the event changes nothing.
    Rollback,
    /// A kind the mapping does not read.
    Unsupported,
}

/// The current version of one replaceable slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Current {
    created_at: u64,
    id: [u8; 32],
}

/// One replaceable list's live entries: subject -> the id of the list entry that added it.
type Entries = BTreeMap<Subject, ObjectId>;

/// Everything the mapping remembers; rebuilt from the stored events on start.
#[derive(Debug, Default)]
pub(crate) struct NostrState {
    /// (author, kind, d) -> the version in force.
    current: HashMap<(NostrKey, u32, String), Current>,
    /// Who each key follows (its latest kind 3), sorted (32 bytes per follow).
    follows: HashMap<NostrKey, Box<[NostrKey]>>,
    /// The viewers: only their own follows and mutes go to the moderation state as
    /// attestations (what "never hide someone I follow" and the first hop of the curator
    /// walk read); everyone's go to the trust graph.
    viewers: BTreeSet<NostrKey>,
    /// Subject key bytes computed so far (a hash to the curve each; bounded).
    subjects: HashMap<NostrKey, [u8; 32]>,
    /// Who each key mutes (its latest kind 10000).
    muted: HashMap<NostrKey, BTreeSet<NostrKey>>,
    /// The entries of each key's block list that its mutes made.
    mutes: HashMap<NostrKey, Entries>,
    /// Each key's people lists by `d`, and their entries.
    people: HashMap<(NostrKey, String), Entries>,
    /// Lists whose header was emitted.
    headers: BTreeSet<ListRef>,
    /// Regular events (reports, labels) already applied.
    seen: BTreeSet<[u8; 32]>,
    /// The last `at_ms` given to a record of each author: every new record of an author is
    /// later than its previous ones, so it wins its slot.
    last_ms: HashMap<NostrKey, u64>,
    /// List entries and labels -> the Nostr event that made them (for explanations).
    origin: HashMap<ObjectId, [u8; 32]>,
}

/// True for kinds NIP-01 calls replaceable (latest per pubkey and kind).
fn replaceable(kind: u32) -> bool {
    kind == 0 || kind == 3 || (10_000..20_000).contains(&kind)
}

/// True for kinds NIP-01 calls addressable (latest per pubkey, kind and `d`).
fn addressable(kind: u32) -> bool {
    (30_000..40_000).contains(&kind)
}

/// An id derived from an event for one of the several facts it produces.
fn derived_id(event: &[u8; 32], part: &str, subject: &Subject) -> ObjectId {
    let mut h = Sha256::new();
    h.update(b"vouch/v1/nostr-fact\0");
    h.update(event);
    h.update(part.as_bytes());
    h.update([0]);
    match subject {
        Subject::Key(k) => {
            h.update([1]);
            h.update(k.as_bytes());
        }
        Subject::Object(o) => {
            h.update([2]);
            h.update(o.0);
        }
    }
    ObjectId(h.finalize().into())
}

/// The moderation-state attestation of a viewer's follow or mute (under an id derived from
/// the event that set it).
fn attest_object(
    event: &[u8; 32],
    author: PublicKey,
    subject: PublicKey,
    level: i8,
    at: u64,
) -> Fact {
    Fact::Object(
        derived_id(event, "attest", &Subject::Key(subject)),
        Box::new(Object {
            author,
            at,
            body: Body::Attest(vouch_reputation::AttestBody {
                subject,
                level: i64::from(level),
                context: None,
                claim: None,
                expires: None,
            }),
        }),
    )
}

/// The keys named by an event's `p` tags (tags that are not 64 lowercase hex skipped),
/// sorted, without repeats.
fn p_keys(e: &Event) -> Vec<NostrKey> {
    let mut keys: Vec<NostrKey> = e
        .tags_named("p")
        .filter_map(|t| t.get(1))
        .filter_map(|s| lower_hex::<32>(s))
        // Not checked to be on the curve (a square root per tag would cost more than the
        // event's signature): a key that is not a point signs nothing, so as a subject it
        // only ever receives evidence.
        .map(NostrKey)
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The keys in exactly one of two sorted slices.
fn changed(a: &[NostrKey], b: &[NostrKey]) -> Vec<NostrKey> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => {
                out.push(*x);
                i += 1;
            }
            (Some(_), Some(y)) => {
                out.push(*y);
                j += 1;
            }
            (Some(x), None) => {
                out.push(*x);
                i += 1;
            }
            (None, Some(y)) => {
                out.push(*y);
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// A label value in Vouch's alphabet (lowercase ASCII letters, digits, `-`), or `None`.
fn label_value(s: &str) -> Option<String> {
    let v: String = s
        .chars()
        .take(64)
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    let v = v.trim_matches('-').to_string();
    (!v.is_empty()).then_some(v)
}

impl NostrState {
    /// An empty state.
    pub(crate) fn new() -> Self {
        NostrState::default()
    }

    /// The Nostr event behind a list entry or label id, if it came from Nostr.
    pub(crate) fn origin(&self, id: &ObjectId) -> Option<[u8; 32]> {
        self.origin.get(id).copied()
    }

    /// The keys a key follows, sorted.
    pub(crate) fn follows_of(&self, key: &NostrKey) -> Option<&[NostrKey]> {
        self.follows.get(key).map(|f| &f[..])
    }

    /// Number of follow edges held.
    pub(crate) fn n_follows(&self) -> usize {
        self.follows.values().map(|f| f.len()).sum()
    }

    /// The bytes of the engine subject of `key`, computed once.
    fn subject_bytes(&mut self, key: NostrKey) -> [u8; 32] {
        if let Some(s) = self.subjects.get(&key) {
            return *s;
        }
        let s = key.subject_bytes();
        if self.subjects.len() < MAX_SUBJECT_CACHE {
            self.subjects.insert(key, s);
        }
        s
    }

    /// The engine subject of `key` as a key (for lists, labels and viewers' attestations).
    fn subject(&mut self, key: NostrKey) -> PublicKey {
        let y = self.subject_bytes(key);
        PublicKey::from_bytes(&y).unwrap_or_else(|_| key.subject())
    }

    /// Makes `key` a viewer: its follows and mutes in force go to the moderation state too
    /// (from now on, and now for those already held).
    pub(crate) fn add_viewer(&mut self, key: NostrKey, out: &mut Vec<Fact>) {
        if !self.viewers.insert(key) {
            return;
        }
        let mut subjects: BTreeSet<NostrKey> = self
            .follows
            .get(&key)
            .map(|f| f.iter().copied().collect())
            .unwrap_or_default();
        subjects.extend(self.muted.get(&key).into_iter().flatten().copied());
        let (at, id) = [KIND_FOLLOWS, KIND_MUTES]
            .iter()
            .filter_map(|k| self.current.get(&(key, *k, String::new())))
            .map(|c| (c.created_at, c.id))
            .max()
            .unwrap_or((0, [0; 32]));
        let a = self.subject(key);
        for s in subjects {
            let level = self.level(&key, &s);
            let at = self.stamp(key, at);
            let subject = self.subject(s);
            out.push(attest_object(&id, a, subject, level, at));
        }
    }

    /// The version in force of a replaceable slot (`created_at`, id).
    #[cfg(test)]
    pub(crate) fn current(&self, author: &NostrKey, kind: u32, d: &str) -> Option<(u64, [u8; 32])> {
        self.current
            .get(&(*author, kind, d.to_string()))
            .map(|c| (c.created_at, c.id))
    }

    /// A strictly increasing time (ms) for `author`'s next record, at least `created_at`.
    fn stamp(&mut self, author: NostrKey, created_at: u64) -> u64 {
        let base = created_at.saturating_mul(1000);
        let last = self.last_ms.entry(author).or_insert(0);
        *last = base.max(last.saturating_add(1));
        *last
    }

    /// Applies one verified event; `out` receives the facts it produces.
    pub(crate) fn apply(&mut self, e: &Event, out: &mut Vec<Fact>) -> Outcome {
        if !EVIDENCE_KINDS.contains(&e.kind) {
            return Outcome::Unsupported;
        }
        let author = NostrKey(e.pubkey);
        if replaceable(e.kind) || addressable(e.kind) {
            let d = if addressable(e.kind) {
                e.tag_value("d").unwrap_or("").to_string()
            } else {
                String::new()
            };
            let slot = (author, e.kind, d.clone());
            let new = Current {
                created_at: e.created_at,
                id: e.id,
            };
            if let Some(old) = self.current.get(&slot) {
                if old.id == e.id {
                    return Outcome::Duplicate;
                }
                // Newer wins; on the same second the lowest id (NIP-01).
                if (old.created_at, std::cmp::Reverse(old.id))
                    > (new.created_at, std::cmp::Reverse(new.id))
                {
                    return Outcome::Rollback;
                }
            }
            self.current.insert(slot, new);
            match e.kind {
                KIND_FOLLOWS => self.apply_follows(e, out),
                KIND_MUTES => self.apply_mutes(e, out),
                _ => self.apply_people(e, &d, out),
            }
            return Outcome::Applied;
        }
        if !self.seen.insert(e.id) {
            return Outcome::Duplicate;
        }
        match e.kind {
            KIND_REPORT => self.apply_report(e, out),
            _ => self.apply_label(e, out),
        }
        Outcome::Applied
    }

    /// The combined level of `author`'s edge to `subject`: a mute wins over a follow.
    fn level(&self, author: &NostrKey, subject: &NostrKey) -> i8 {
        if self.muted.get(author).is_some_and(|m| m.contains(subject)) {
            MUTE_LEVEL
        } else if self
            .follows
            .get(author)
            .is_some_and(|f| f.binary_search(subject).is_ok())
        {
            FOLLOW_LEVEL
        } else {
            0
        }
    }

    fn attest(&mut self, e: &Event, subjects: &[NostrKey], out: &mut Vec<Fact>) {
        let author = NostrKey(e.pubkey);
        let a = self.subject_bytes(author);
        let viewer = self.viewers.contains(&author);
        // The author's lists are looked up once, not once per follow.
        let levels: Vec<(NostrKey, i8)> = {
            let muted = self.muted.get(&author);
            let follows = self.follows.get(&author);
            subjects
                .iter()
                .filter(|s| **s != author)
                .map(|s| {
                    let level = if muted.is_some_and(|m| m.contains(s)) {
                        MUTE_LEVEL
                    } else if follows.is_some_and(|f| f.binary_search(s).is_ok()) {
                        FOLLOW_LEVEL
                    } else {
                        0
                    };
                    (*s, level)
                })
                .collect()
        };
        if levels.is_empty() {
            return;
        }
        // What `stamp` gives record after record: strictly increasing per author.
        let mut at = self.stamp(author, e.created_at);
        for (i, (s, level)) in levels.into_iter().enumerate() {
            if i > 0 {
                at = at.saturating_add(1);
            }
            let subject = self.subject_bytes(s);
            out.push(Fact::Attest(Attestation {
                author: a,
                subject,
                level,
                context: None,
                expires_at_ms: None,
                at_ms: at,
                object: e.id,
            }));
            if viewer {
                let (ak, sk) = (self.subject(author), self.subject(s));
                out.push(attest_object(&e.id, ak, sk, level, at));
            }
        }
        self.last_ms.insert(author, at);
    }

    fn apply_follows(&mut self, e: &Event, out: &mut Vec<Fact>) {
        let author = NostrKey(e.pubkey);
        let new: Box<[NostrKey]> = p_keys(e).into_boxed_slice();
        let old = self.follows.insert(author, new).unwrap_or_default();
        let new = self.follows.get(&author).map(|f| &f[..]).unwrap_or(&[]);
        let changed = changed(new, &old);
        self.attest(e, &changed, out);
    }

    fn header(&mut self, list: &ListRef, purpose: ListPurpose, at: u64, out: &mut Vec<Fact>) {
        if self.headers.insert(list.clone()) {
            let id = derived_id(&[0; 32], &list.name, &Subject::Key(list.owner));
            out.push(Fact::Object(
                id,
                Box::new(Object {
                    author: list.owner,
                    at,
                    body: Body::List(ListBody {
                        name: list.name.clone(),
                        purpose,
                        description: Some("from Nostr".into()),
                        group: None,
                        seq: 1,
                    }),
                }),
            ));
        }
    }

    /// Replaces a list's live entries with `wanted`; emits adds and one remove.
    #[allow(clippy::too_many_arguments)]
    fn replace_entries(
        &mut self,
        e: &Event,
        list: &ListRef,
        purpose: ListPurpose,
        category: &str,
        old: &Entries,
        wanted: &BTreeSet<Subject>,
        out: &mut Vec<Fact>,
    ) -> Entries {
        let author = NostrKey(e.pubkey);
        let first = self.stamp(author, e.created_at);
        self.header(list, purpose, first, out);
        let mut live = Entries::new();
        let mut removed = Vec::new();
        for (s, id) in old {
            if wanted.contains(s) {
                live.insert(*s, *id);
            } else {
                removed.push(*id);
            }
        }
        for s in wanted {
            if live.contains_key(s) {
                continue;
            }
            let id = derived_id(&e.id, list.name.as_str(), s);
            let at = self.stamp(author, e.created_at);
            self.origin.insert(id, e.id);
            out.push(Fact::Object(
                id,
                Box::new(Object {
                    author: list.owner,
                    at,
                    body: Body::ListAdd(ListAddBody {
                        list: list.clone(),
                        subject: *s,
                        reason: Some(format!("nostr event {}", hex::encode(e.id))),
                        category: Some(category.to_string()),
                        expires: None,
                    }),
                }),
            ));
            live.insert(*s, id);
        }
        if !removed.is_empty() {
            let at = self.stamp(author, e.created_at);
            let id = derived_id(&e.id, "remove", &Subject::Key(list.owner));
            self.origin.insert(id, e.id);
            out.push(Fact::Object(
                id,
                Box::new(Object {
                    author: list.owner,
                    at,
                    body: Body::ListRemove(ListRemoveBody {
                        list: list.clone(),
                        adds: removed,
                    }),
                }),
            ));
        }
        live
    }

    fn apply_mutes(&mut self, e: &Event, out: &mut Vec<Fact>) {
        let author = NostrKey(e.pubkey);
        let keys: BTreeSet<NostrKey> = p_keys(e).into_iter().filter(|k| *k != author).collect();
        let sorted: Vec<NostrKey> = keys.iter().copied().collect();
        let wanted: BTreeSet<Subject> = keys
            .iter()
            .map(|k| Subject::Key(self.subject(*k)))
            .collect();
        let old = self.mutes.get(&author).cloned().unwrap_or_default();
        let list = ListRef {
            owner: self.subject(author),
            name: BLOCK_LIST.into(),
        };
        let live = self.replace_entries(e, &list, ListPurpose::Block, "mute", &old, &wanted, out);
        self.mutes.insert(author, live);
        let before: Vec<NostrKey> = self
            .muted
            .insert(author, keys)
            .unwrap_or_default()
            .into_iter()
            .collect();
        let changed = changed(&sorted, &before);
        self.attest(e, &changed, out);
    }

    fn apply_people(&mut self, e: &Event, d: &str, out: &mut Vec<Fact>) {
        let author = NostrKey(e.pubkey);
        let Some(name) = label_value(d).map(|d| format!("nostr-set-{}", &d[..d.len().min(MAX_D)]))
        else {
            return;
        };
        let wanted: BTreeSet<Subject> = p_keys(e)
            .into_iter()
            .map(|k| Subject::Key(self.subject(k)))
            .collect();
        let old = self
            .people
            .get(&(author, d.to_string()))
            .cloned()
            .unwrap_or_default();
        let list = ListRef {
            owner: self.subject(author),
            name,
        };
        let live = self.replace_entries(e, &list, ListPurpose::Label, "people", &old, &wanted, out);
        self.people.insert((author, d.to_string()), live);
    }

    fn apply_report(&mut self, e: &Event, out: &mut Vec<Fact>) {
        let author = NostrKey(e.pubkey);
        // NIP-56: ["p", <pubkey>, <type>] and optionally ["e", <event id>, <type>].
        let mut subjects: Vec<(Subject, String)> = Vec::new();
        for t in e.tags_named("e") {
            if let Some(id) = t.get(1).and_then(|s| lower_hex::<32>(s)) {
                let ty = t
                    .get(2)
                    .and_then(|s| label_value(s))
                    .unwrap_or("other".into());
                subjects.push((Subject::Object(ObjectId(id)), ty));
            }
        }
        if subjects.is_empty() {
            for t in e.tags_named("p") {
                let Some(k) = t.get(1).and_then(|s| NostrKey::parse(s)) else {
                    continue;
                };
                if k == author {
                    continue;
                }
                let ty = t
                    .get(2)
                    .and_then(|s| label_value(s))
                    .unwrap_or("other".into());
                subjects.push((Subject::Key(self.subject(k)), ty));
            }
        }
        if subjects.is_empty() {
            return;
        }
        let list = ListRef {
            owner: self.subject(author),
            name: BLOCK_LIST.into(),
        };
        let at = self.stamp(author, e.created_at);
        self.header(&list, ListPurpose::Block, at, out);
        for (s, ty) in subjects {
            let id = derived_id(&e.id, "report", &s);
            let at = self.stamp(author, e.created_at);
            self.origin.insert(id, e.id);
            out.push(Fact::Object(
                id,
                Box::new(Object {
                    author: list.owner,
                    at,
                    body: Body::ListAdd(ListAddBody {
                        list: list.clone(),
                        subject: s,
                        reason: Some(format!("nostr report {}", hex::encode(e.id))),
                        category: Some(format!("report-{ty}")),
                        expires: None,
                    }),
                }),
            ));
        }
    }

    fn apply_label(&mut self, e: &Event, out: &mut Vec<Fact>) {
        let author = NostrKey(e.pubkey);
        // NIP-32: ["l", <value>, <namespace>] labels; ["p", ..] / ["e", ..] targets.
        let values: BTreeSet<String> = e
            .tags_named("l")
            .filter_map(|t| t.get(1))
            .filter_map(|v| label_value(v))
            .collect();
        let mut targets: Vec<Subject> = Vec::new();
        for t in e.tags_named("e") {
            if let Some(id) = t.get(1).and_then(|s| lower_hex::<32>(s)) {
                targets.push(Subject::Object(ObjectId(id)));
            }
        }
        for t in e.tags_named("p") {
            if let Some(k) = t.get(1).and_then(|s| NostrKey::parse(s)) {
                targets.push(Subject::Key(self.subject(k)));
            }
        }
        let labeler = self.subject(author);
        for value in &values {
            for s in &targets {
                let id = derived_id(&e.id, value, s);
                let at = self.stamp(author, e.created_at);
                self.origin.insert(id, e.id);
                out.push(Fact::Object(
                    id,
                    Box::new(Object {
                        author: labeler,
                        at,
                        body: Body::Label(LabelBody {
                            subject: *s,
                            value: value.clone(),
                            neg: false,
                            reason: Some(format!("nostr label {}", hex::encode(e.id))),
                            expires: None,
                        }),
                    }),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests;
