//! Moderation decisions: what one viewer sees and why. [`ModerationState`] ingests signed
//! objects in any order; [`View::build`] compiles it with a viewer's [`Policy`] and trust into
//! hash maps; [`decide`], [`decide_batch`] and [`explain`] answer show / warn / collapse /
//! hide with machine-readable [`Reason`]s. The rule order is in `specs/decisions.md`.

mod diff;
mod evidence;
mod groups;
mod labels;
mod lists;
mod policy;
mod reason;
mod view;
mod votes;

pub use diff::{diff, ListChange, SubjectChange, ViewDiff};
pub use evidence::{
    CredentialLookup, CredentialProblem, CredentialSet, DirectTrust, EngineTrust, IdentityFacts,
    Lookup, NoCredentials, TrustLookup, TrustStep, ViewerTrust,
};
pub use groups::{AppealQueueItem, AppealState, GroupRules, ReportQueueItem, RuleAmendment};
pub use lists::{
    effective_seq, EntryStatus, Equivocation, ListEntry, ListHeader, ListRetraction, ListState,
};
pub use policy::{
    CuratorSubscription, Exemption, ListSubscription, Override, Policy, Quorum, Verdict, VotePolicy,
};
pub use reason::{ObjectIds, Reason, ReasonCode, Reasons};
pub use view::{decide, decide_batch, explain, Decision, Item, PostItem, View};

use crate::poll::{BallotRecord, PollRecord, PollStore};
use crate::{
    AppealOutcome, Body, GroupRef, KeyEvents, KeyState, ListPurpose, ListRef, Object, ObjectId,
    SignedObject,
};
use groups::{AnswerRecord, AppealRecord, DismissRecord, GroupHeader, GroupState, ReportRecord};
use labels::{LabelRecord, LabelStore};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use votes::{VoteRecord, VoteStore};
use vouch_identity::PublicKey;

/// Hash maps of the compiled view: foldhash keyed with a seed the host passes in
/// ([`View::build_with_seed`]), so nothing depends on randomness the crate did not receive,
/// and someone who cannot learn the seed cannot grind keys or ids that collide. Iteration
/// order is never observable.
pub(crate) type FastMap<K, V> = HashMap<K, V, KeyedState>;

/// A map keyed with `seed`.
pub(crate) fn seeded_map<K, V>(seed: u64) -> FastMap<K, V> {
    HashMap::with_hasher(KeyedState(foldhash::fast::FixedState::with_seed(seed)))
}

/// Builds [`KeyHasher`]s: foldhash with a seed.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyedState(foldhash::fast::FixedState);

impl std::hash::BuildHasher for KeyedState {
    type Hasher = KeyHasher;
    #[inline]
    fn build_hasher(&self) -> KeyHasher {
        KeyHasher(self.0.build_hasher())
    }
}

/// foldhash, fed the 32-byte keys and ids the view is keyed by as two 128-bit words (two
/// folded multiplies) instead of through its general byte path; everything else as is.
pub(crate) struct KeyHasher(foldhash::fast::FoldHasher<'static>);

impl std::hash::Hasher for KeyHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        match <&[u8; 32]>::try_from(bytes) {
            Ok(b) => {
                let (lo, hi) = b.split_at(16);
                let word = |h: &[u8]| {
                    let mut w = [0u8; 16];
                    w.copy_from_slice(h);
                    u128::from_le_bytes(w)
                };
                self.0.write_u128(word(lo));
                self.0.write_u128(word(hi));
            }
            Err(_) => self.0.write(bytes),
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.0.write_u8(i)
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.0.write_u32(i)
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0.write_u64(i)
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.0.write_usize(i)
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0.finish()
    }
}

/// Versions of one attestation: (at, id) -> (level, expires).
pub(crate) type AttestVersions = BTreeMap<(u64, ObjectId), (i64, Option<u64>)>;

/// What [`ModerationState::apply`] did with an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Stored: it may change decisions.
    Stored,
    /// Already stored: nothing changed.
    Duplicate,
    /// Not a kind decisions use (posts, links, scoped attestations).
    NotUsed,
}

/// Every object decisions are made from, kept whole so that the state is the same whatever
/// order objects arrive in. Authority, expiry and revocation are read at [`View::build`].
#[derive(Debug, Clone, Default)]
pub struct ModerationState {
    pub(crate) lists: BTreeMap<ListRef, ListState>,
    pub(crate) groups: BTreeMap<GroupRef, GroupState>,
    pub(crate) appeals: BTreeMap<ObjectId, AppealRecord>,
    pub(crate) appeals_by_target: BTreeMap<ObjectId, BTreeSet<ObjectId>>,
    pub(crate) answers: BTreeMap<ObjectId, AnswerRecord>,
    pub(crate) answers_by_appeal: BTreeMap<ObjectId, BTreeSet<ObjectId>>,
    pub(crate) labels: LabelStore,
    pub(crate) votes: VoteStore,
    /// author -> subject -> (at, id) -> (level, expires); context-free attestations only.
    pub(crate) attestations: BTreeMap<PublicKey, BTreeMap<PublicKey, AttestVersions>>,
    /// Every `incept`, `rotate` and `revoke`, resolved (the same resolution as the trust
    /// graph's): which keys are void from when, and which rotations count.
    pub(crate) keys: KeyEvents,
    /// Every `poll` and `ballot`.
    pub(crate) polls: PollStore,
    /// list-add id -> its list.
    pub(crate) add_index: BTreeMap<ObjectId, ListRef>,
    /// label id -> its labeler.
    pub(crate) label_index: BTreeMap<ObjectId, PublicKey>,
}

impl ModerationState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ingests a validated object. Idempotent and order-independent.
    pub fn apply(&mut self, obj: &SignedObject) -> Applied {
        self.apply_object(obj.id(), obj.object())
    }

    /// Ingests an object that was validated earlier (e.g. read back from the store), under
    /// its id. The caller vouches that `id` is the object's id and that it was valid.
    pub fn apply_object(&mut self, id: ObjectId, obj: &Object) -> Applied {
        let author = obj.author;
        let at = obj.at;
        let fresh = match &obj.body {
            Body::List(l) => self
                .lists
                .entry(ListRef {
                    owner: author,
                    name: l.name.clone(),
                })
                .or_default()
                .insert_header(
                    id,
                    ListHeader {
                        author,
                        at,
                        body: l.clone(),
                    },
                ),
            Body::ListAdd(a) => {
                self.add_index.insert(id, a.list.clone());
                self.lists.entry(a.list.clone()).or_default().insert_add(
                    id,
                    ListEntry {
                        author,
                        at,
                        subject: a.subject,
                        reason: a.reason.clone(),
                        category: a.category.clone(),
                        expires: a.expires,
                    },
                )
            }
            Body::ListRemove(r) => self.lists.entry(r.list.clone()).or_default().insert_remove(
                id,
                ListRetraction {
                    author,
                    at,
                    adds: r.adds.clone(),
                },
            ),
            Body::Group(g) => self
                .groups
                .entry(GroupRef {
                    owner: author,
                    name: g.name.clone(),
                })
                .or_default()
                .headers
                .insert(
                    id,
                    GroupHeader {
                        author,
                        at,
                        body: g.clone(),
                    },
                )
                .is_none(),
            Body::Report(r) => self
                .groups
                .entry(r.group.clone())
                .or_default()
                .reports
                .insert(
                    id,
                    ReportRecord {
                        reporter: author,
                        at,
                        subject: r.subject,
                        category: r.category.clone(),
                        text: r.text.clone(),
                    },
                )
                .is_none(),
            Body::Dismiss(d) => self
                .groups
                .entry(d.group.clone())
                .or_default()
                .dismissals
                .insert(
                    id,
                    DismissRecord {
                        author,
                        at,
                        reports: d.reports.clone(),
                        text: d.text.clone(),
                    },
                )
                .is_none(),
            Body::Appeal(a) => match a.outcome {
                None => {
                    self.appeals_by_target
                        .entry(a.target)
                        .or_default()
                        .insert(id);
                    self.appeals
                        .insert(
                            id,
                            AppealRecord {
                                appellant: author,
                                at,
                                target: a.target,
                                text: a.text.clone(),
                            },
                        )
                        .is_none()
                }
                Some(outcome) => {
                    self.answers_by_appeal
                        .entry(a.target)
                        .or_default()
                        .insert(id);
                    self.answers
                        .insert(
                            id,
                            AnswerRecord {
                                author,
                                at,
                                appeal: a.target,
                                outcome,
                                text: a.text.clone(),
                            },
                        )
                        .is_none()
                }
            },
            Body::Label(l) => {
                self.label_index.insert(id, author);
                self.labels.insert(
                    author,
                    l.subject,
                    l.value.clone(),
                    at,
                    id,
                    LabelRecord {
                        neg: l.neg,
                        reason: l.reason.clone(),
                        expires: l.expires,
                    },
                )
            }
            Body::Vote(v) => self.votes.insert(
                author,
                v.epoch,
                at,
                id,
                VoteRecord {
                    target: v.target,
                    value: if v.value > 0 { 1 } else { -1 },
                    group: v.group.clone(),
                },
            ),
            Body::Attest(a) if a.context.is_none() => self
                .attestations
                .entry(author)
                .or_default()
                .entry(a.subject)
                .or_default()
                .insert((at, id), (a.level, a.expires))
                .is_none(),
            Body::Revoke(_) | Body::Rotate(_) | Body::Incept(_) => {
                self.keys.apply(id, obj).is_some_and(|c| c.fresh)
            }
            Body::Poll(p) => self.polls.insert_poll(
                id,
                PollRecord {
                    author,
                    at,
                    body: p.clone(),
                },
            ),
            Body::Ballot(b) => self.polls.insert_ballot(
                id,
                b.poll,
                BallotRecord {
                    voting_key: author,
                    at,
                    choice: b.choice,
                    proof: b.proof.clone(),
                },
            ),
            _ => return Applied::NotUsed,
        };
        if fresh {
            Applied::Stored
        } else {
            Applied::Duplicate
        }
    }

    /// The time from which `key`'s objects are void, if it is: revoked, rotated away (from
    /// the rotation's cut) or forked (since 0). See [`ModerationState::key_state`].
    pub fn revoked_since(&self, key: &PublicKey) -> Option<u64> {
        self.keys.void_since(key.as_bytes())
    }

    /// True when an object by `author` at `at` is void: its key was revoked, rotated away or
    /// forked by then.
    pub fn is_void(&self, author: &PublicKey, at: u64) -> bool {
        self.revoked_since(author).is_some_and(|s| at >= s)
    }

    /// The resolved state of `key`: its commitment, the rotation that counts, and from when
    /// (and why) its objects are void. The same as the trust graph's for the same objects.
    pub fn key_state(&self, key: &PublicKey) -> KeyState {
        self.keys.state(key.as_bytes())
    }

    /// The key that `key` now speaks as, following the rotations that count.
    pub fn current_key(&self, key: &PublicKey) -> PublicKey {
        let c = self.keys.current(key.as_bytes());
        PublicKey::from_bytes(&c).unwrap_or(*key)
    }

    /// Every key event received, resolved.
    pub fn key_events(&self) -> &KeyEvents {
        &self.keys
    }

    /// The list's state as received, if anything about it was.
    pub fn list(&self, list: &ListRef) -> Option<&ListState> {
        self.lists.get(list)
    }

    /// The list's header in force (highest `seq`, void versions skipped).
    pub fn list_header(&self, list: &ListRef) -> Option<(ObjectId, &ListHeader)> {
        let valid = |a: &PublicKey, at: u64| !self.is_void(a, at);
        self.lists.get(list)?.header(&valid)
    }

    /// True when `author` may add to or retract from `list` at `at`: the curator for block,
    /// allow and label lists; the group's owner or a current moderator for ban lists.
    pub fn may_write(&self, list: &ListRef, author: &PublicKey, at: u64) -> bool {
        if self.is_void(author, at) {
            return false;
        }
        match self.list_header(list) {
            Some((_, h)) if h.body.purpose == ListPurpose::Ban => match &h.body.group {
                Some(g) => self.is_group_moderator(g, author, at),
                None => false,
            },
            _ => *author == list.owner,
        }
    }

    /// The ids of `list`'s live entries at `now`, sorted: the observed-remove set's value.
    pub fn live_entries(&self, list: &ListRef, now: u64) -> BTreeSet<ObjectId> {
        let Some(state) = self.lists.get(list) else {
            return BTreeSet::new();
        };
        let may_write = |a: &PublicKey, at: u64| self.may_write(list, a, at);
        state.live(&may_write, now)
    }

    /// Header versions of `list` that share a `seq`.
    pub fn list_equivocations(&self, list: &ListRef) -> Vec<Equivocation> {
        let valid = |a: &PublicKey, at: u64| !self.is_void(a, at);
        self.lists
            .get(list)
            .map(|s| s.equivocations(&valid))
            .unwrap_or_default()
    }

    /// The answer in force for the object `target` (a ban, list entry or label): the latest
    /// answer, by an authority over the target, to any appeal against it.
    pub fn appeal_outcome(&self, target: &ObjectId) -> Option<(AppealOutcome, ObjectId)> {
        let mut best: Option<(u64, ObjectId, AppealOutcome)> = None;
        for appeal in self.appeals_by_target.get(target).into_iter().flatten() {
            for ans_id in self.answers_by_appeal.get(appeal).into_iter().flatten() {
                let Some(ans) = self.answers.get(ans_id) else {
                    continue;
                };
                if !self.may_answer(target, &ans.author, ans.at) {
                    continue;
                }
                if best.is_none_or(|(at, id, _)| (ans.at, *ans_id) > (at, id)) {
                    best = Some((ans.at, *ans_id, ans.outcome));
                }
            }
        }
        best.map(|(_, id, o)| (o, id))
    }

    /// Who may answer appeals against `target`: the authority over the list entry (see
    /// [`ModerationState::may_write`]) or the labeler of a label.
    pub fn may_answer(&self, target: &ObjectId, author: &PublicKey, at: u64) -> bool {
        if let Some(list) = self.add_index.get(target) {
            return self.may_write(list, author, at);
        }
        if let Some(labeler) = self.label_index.get(target) {
            return labeler == author && !self.is_void(author, at);
        }
        false
    }

    /// The viewer's attestations in force at `now`: (subject, level, attestation id).
    pub fn attestations_by(&self, author: &PublicKey, now: u64) -> Vec<(PublicKey, i64, ObjectId)> {
        let mut out = Vec::new();
        for (subject, versions) in self.attestations.get(author).into_iter().flatten() {
            let latest = versions
                .iter()
                .rev()
                .find(|((at, _), _)| !self.is_void(author, *at));
            if let Some(((_, id), (level, expires))) = latest {
                if expires.is_none_or(|e| e > now) {
                    out.push((*subject, *level, *id));
                }
            }
        }
        out
    }
}
