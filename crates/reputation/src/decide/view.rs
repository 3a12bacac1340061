//! The viewer's compiled view and the decision itself. [`View::build`] folds the state, the
//! policy and the trust input into one hash map from subject (author or post) to the facts
//! that concern it, so that [`decide`] costs two or three hash lookups for most items.

use super::votes::{TallyInput, VoteTally};
use super::{
    seeded_map, CredentialLookup, EntryStatus, FastMap, Lookup, ModerationState, Policy, Reason,
    ReasonCode, Reasons, TrustLookup, Verdict, ViewerTrust,
};
use crate::{
    AppealOutcome, Body, GroupRef, ListPurpose, ListRef, ObjectId, RuleAmendment, SignedObject,
    Subject, VoidCause,
};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use vouch_identity::PublicKey;

/// A post in a feed, as much of it as a decision needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostItem {
    /// The post's id.
    pub id: ObjectId,
    /// Its author.
    pub author: PublicKey,
    /// When it was signed.
    pub at: u64,
    /// The group it was posted in.
    pub group: Option<GroupRef>,
}

/// What to decide about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A post.
    Post(PostItem),
    /// An author, in a group or in general.
    Author {
        /// The author.
        author: PublicKey,
        /// The group, if the question is about the author in a group.
        group: Option<GroupRef>,
    },
}

impl Item {
    /// The item for a post object; `None` for other kinds.
    pub fn post(obj: &SignedObject) -> Option<Item> {
        match obj.body() {
            Body::Post(p) => Some(Item::Post(PostItem {
                id: obj.id(),
                author: *obj.author(),
                at: obj.at(),
                group: p.group.clone(),
            })),
            _ => None,
        }
    }

    /// The item for an author, outside any group.
    pub fn author(author: PublicKey) -> Item {
        Item::Author {
            author,
            group: None,
        }
    }

    /// The author the item is by or about.
    pub fn author_key(&self) -> &PublicKey {
        match self {
            Item::Post(p) => &p.author,
            Item::Author { author, .. } => author,
        }
    }

    /// The group the item is in.
    pub fn group(&self) -> Option<&GroupRef> {
        match self {
            Item::Post(p) => p.group.as_ref(),
            Item::Author { group, .. } => group.as_ref(),
        }
    }
}

/// What the viewer sees, with the score and the reasons behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Show, warn, collapse or hide.
    pub verdict: Verdict,
    /// The viewer's trust in the author (0..1) plus the trust-weighted sum of votes.
    pub score: f32,
    /// The reasons, in rule order.
    pub reasons: Reasons,
}

impl Decision {
    /// One plain sentence per reason.
    pub fn sentences(&self) -> Vec<String> {
        self.reasons.iter().map(Reason::sentence).collect()
    }

    /// True when some reason has this code.
    pub fn has(&self, code: ReasonCode) -> bool {
        self.reasons.iter().any(|r| r.code == code)
    }
}

/// A decision of a batch waiting for its reasons: (index, start, end) in the shared buffer.
type Head = (usize, usize, usize);

/// What [`View::evaluate`] found: a compiled decision, or one it decided (reasons in `out`).
pub(crate) enum Outcome<'v> {
    Template(&'v Template),
    Decided(Verdict, f32),
}

/// The decision on any post by an author, compiled with the view: valid for a post with
/// no record of its own, outside group rules, while `now` is before the record's earliest
/// expiry (until then nothing in it depends on `now`).
#[derive(Debug, Clone)]
pub(crate) struct Template {
    verdict: Verdict,
    score: f32,
    reasons: Arc<[Reason]>,
}

impl Template {
    fn decision(&self) -> Decision {
        Decision {
            verdict: self.verdict,
            score: self.score,
            reasons: Reasons::compiled(&self.reasons),
        }
    }
}

/// What the rules read about one item, looked up once.
#[derive(Clone, Copy)]
struct Facts<'i, 'v> {
    author: &'i PublicKey,
    post: Option<&'i PostItem>,
    post_rec: Option<&'v Record>,
    author_rec: Option<&'v Record>,
    trust: Option<ViewerTrust>,
    tally: Option<&'v VoteTally>,
    /// The personhood group whose voices `tally` holds.
    personhood: Option<u32>,
    /// Votes on the post that do not count because they are not the group's voices.
    not_personhood: u32,
    gi: Option<u32>,
}

/// Which of an item's two records (the post's, the author's) a hit is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum On {
    Post,
    Author,
}

/// Where a hit came from: a subscribed list, a group's ban list, a labeler, the viewer.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub(crate) list: Option<Arc<ListRef>>,
    pub(crate) header: Option<ObjectId>,
    pub(crate) labeler: Option<PublicKey>,
    pub(crate) weight: f32,
    /// The curator subscription the list was reached through, if not subscribed directly.
    pub(crate) via: Option<PublicKey>,
    /// (seq, versions) when the publisher equivocated.
    pub(crate) equivocation: Option<(u64, Vec<ObjectId>)>,
    /// A subscribed list the viewer owns: its block entries need no quorum.
    pub(crate) own: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum HitKind {
    Block,
    Allow,
    /// A label; the index is into `View::labels`.
    Label(u32),
    /// A ban in force in a group; indices into `View::groups` and `View::actors`.
    Ban {
        group: u32,
        actor: u32,
    },
    /// A ban by someone who may not ban.
    BanIgnored {
        group: u32,
        actor: u32,
    },
    /// A ban a moderator retracted.
    BanRetracted {
        group: u32,
    },
    /// A list entry its curator retracted.
    Retracted,
    /// A ban, entry or label lifted by a granted appeal.
    AppealGranted,
    /// An entry the viewer exempted.
    Exempt,
    /// The viewer's own verdict.
    Override(Verdict),
    /// The author's key is void from this time on (revoked, rotated away or forked).
    Revoked(u64, VoidCause),
}

#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub(crate) source: u32,
    pub(crate) kind: HitKind,
    pub(crate) object: ObjectId,
    pub(crate) expires: Option<u64>,
    pub(crate) note: Option<Arc<str>>,
}

/// A subject as the view's key: hashed as a tag byte and its 32 bytes (two folded
/// multiplies, inlined), not through `Subject`'s derived `Hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SubjectKey(pub(crate) Subject);

impl std::hash::Hash for SubjectKey {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match &self.0 {
            Subject::Key(k) => {
                state.write_u8(0);
                state.write(k.as_bytes());
            }
            Subject::Object(o) => {
                state.write_u8(1);
                state.write(&o.0);
            }
        }
    }
}

/// Everything the view knows about one subject.
#[derive(Debug, Clone, Default)]
pub(crate) struct Record {
    /// Sorted by source weight (heaviest first), then source index.
    pub(crate) hits: Vec<Hit>,
    pub(crate) votes: Option<Box<VoteTally>>,
    /// For a post: the voices of each personhood group (index into `View::groups`) on it.
    pub(crate) voices: Box<[(u32, VoteTally)]>,
    /// Every hit is a block entry of a subscribed list: `decide` can use the summary below
    /// instead of reading the hits (until `min_expiry`).
    pub(crate) pure_blocks: bool,
    /// Distinct block sources, and their total weight.
    pub(crate) n_block_srcs: u32,
    pub(crate) block_weight: f32,
    /// The latest expiry of a block entry on a list the viewer owns (`u64::MAX`: one does
    /// not expire; 0: none): while it is after now, the quorum is met.
    pub(crate) own_until: u64,
    /// The earliest expiry among the hits (`u64::MAX` when none expires).
    pub(crate) min_expiry: u64,
    /// For an author: the viewer's trust in them, read once when the record is compiled
    /// (trust is as of `built_at`).
    pub(crate) trust: Option<ViewerTrust>,
    /// For an author whose hits are all block entries: the decision on their posts.
    pub(crate) template: Option<Template>,
}

impl Record {
    /// Orders the hits and computes the summary; call after the hits change.
    fn finalize(&mut self, sources: &[Source]) {
        self.hits.shrink_to_fit();
        self.hits.sort_by(|a, b| {
            sources[b.source as usize]
                .weight
                .total_cmp(&sources[a.source as usize].weight)
                .then(a.source.cmp(&b.source))
        });
        self.pure_blocks =
            !self.hits.is_empty() && self.hits.iter().all(|h| h.kind == HitKind::Block);
        self.n_block_srcs = 0;
        self.block_weight = 0.0;
        self.own_until = 0;
        let mut last = None;
        for h in &self.hits {
            if h.kind == HitKind::Block && sources[h.source as usize].own {
                self.own_until = self.own_until.max(h.expires.unwrap_or(u64::MAX));
            }
            if h.kind == HitKind::Block && last != Some(h.source) {
                self.n_block_srcs += 1;
                self.block_weight += sources[h.source as usize].weight;
                last = Some(h.source);
            }
        }
        self.min_expiry = self
            .hits
            .iter()
            .filter_map(|h| h.expires)
            .min()
            .unwrap_or(u64::MAX);
    }
}

/// The `did:key` prefix of a BBS personhood issuer's key (multicodec `bls12_381-g2-pub`,
/// base58btc), as `vouch_identity::PersonhoodIssuerKey::to_did_key` writes it.
const PERSONHOOD_DID_PREFIX: &str = "did:key:zUC7";

#[derive(Debug, Clone)]
pub(crate) struct GroupInfo {
    pub(crate) group: Arc<GroupRef>,
    pub(crate) header: Option<ObjectId>,
    pub(crate) min_trust: Option<u64>,
    pub(crate) credential_issuer: Option<Arc<str>>,
    /// The owner and the current moderators.
    pub(crate) moderators: Vec<PublicKey>,
    pub(crate) equivocation: Option<(u64, Vec<ObjectId>)>,
    /// Decisions on the group's posts count only personhood-backed votes.
    pub(crate) personhood_votes: bool,
    /// The vote budget in force (the header's, or a village poll's).
    pub(crate) vote_budget: Option<u64>,
    /// Rules changed by village polls that passed.
    pub(crate) amendments: Arc<[RuleAmendment]>,
    /// How many personhood issuers the village's opting-in headers name (more than one is
    /// shown with any amendment).
    pub(crate) village_issuers: u64,
}

/// A viewer's compiled view: the policy, the state and the trust input folded into hash
/// maps. Build it again (or build a new one next to it) when the state or the policy
/// changes; list entries', bans' and labels' expiries are checked at decision time, votes
/// and trust are as of [`View::built_at`].
pub struct View<'a> {
    pub(crate) policy: Policy,
    pub(crate) trust: Lookup<'a, dyn TrustLookup + 'a>,
    pub(crate) credentials: Lookup<'a, dyn CredentialLookup + 'a>,
    pub(crate) sources: Vec<Source>,
    pub(crate) records: FastMap<SubjectKey, Record>,
    pub(crate) groups: Vec<GroupInfo>,
    pub(crate) group_index: FastMap<GroupRef, u32>,
    pub(crate) labels: Vec<(Arc<str>, Verdict)>,
    pub(crate) label_index: BTreeMap<String, u32>,
    pub(crate) actors: Vec<PublicKey>,
    pub(crate) built_at: u64,
}

impl fmt::Debug for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("View")
            .field("viewer", &self.policy.viewer)
            .field("sources", &self.sources.len())
            .field("subjects", &self.records.len())
            .field("groups", &self.groups.len())
            .field("built_at", &self.built_at)
            .finish()
    }
}

/// Which lists a viewer's subscriptions reach, with weights: direct subscriptions, then
/// curators followed transitively (max weight over paths).
fn resolve_subscriptions(
    state: &ModerationState,
    policy: &Policy,
    now: u64,
) -> BTreeMap<ListRef, (f32, Option<PublicKey>)> {
    let mut lists: BTreeMap<ListRef, (f32, Option<PublicKey>)> = BTreeMap::new();
    let put = |lists: &mut BTreeMap<ListRef, (f32, Option<PublicKey>)>,
               list: ListRef,
               w: f32,
               via: Option<PublicKey>| {
        let e = lists.entry(list).or_insert((w, via));
        if w > e.0 {
            *e = (w, via);
        }
    };
    for s in &policy.lists {
        put(&mut lists, s.list.clone(), s.weight.clamp(0.0, 1.0), None);
    }
    // curator -> (weight, hops left, subscription root)
    let mut reached: BTreeMap<PublicKey, (f32, u8, PublicKey)> = BTreeMap::new();
    let mut frontier: Vec<PublicKey> = Vec::new();
    for c in &policy.curators {
        let w = c.weight.clamp(0.0, 1.0);
        let e = reached.entry(c.curator).or_insert((w, c.depth, c.curator));
        if w > e.0 || (w == e.0 && c.depth > e.1) {
            *e = (w, c.depth.max(e.1), c.curator);
        }
        frontier.push(c.curator);
    }
    let decay_of = |root: &PublicKey| {
        policy
            .curators
            .iter()
            .filter(|c| c.curator == *root)
            .map(|c| c.decay.clamp(0.0, 1.0))
            .fold(0.0f32, f32::max)
    };
    // Breadth-first, deterministic (sorted frontier), bounded by depth.
    while !frontier.is_empty() {
        frontier.sort();
        frontier.dedup();
        let mut next = Vec::new();
        for c in frontier {
            let Some(&(w, left, root)) = reached.get(&c) else {
                continue;
            };
            if left <= 1 {
                continue;
            }
            let decay = decay_of(&root);
            for (subject, level, _) in state.attestations_by(&c, now) {
                if level <= 0 || subject == policy.viewer {
                    continue;
                }
                let nw = w * decay * (level as f32 / 100.0);
                let e = reached.entry(subject).or_insert((0.0, 0, root));
                if nw > e.0 || (nw == e.0 && left - 1 > e.1) {
                    *e = (nw, left - 1, root);
                    next.push(subject);
                }
            }
        }
        frontier = next;
    }
    for (curator, (w, _, root)) in &reached {
        if *w <= 0.0 {
            continue;
        }
        let lo = ListRef {
            owner: *curator,
            name: String::new(),
        };
        for (list, _) in state.lists.range(lo..) {
            if list.owner != *curator {
                break;
            }
            let purpose = state.list_header(list).map(|(_, h)| h.body.purpose);
            if matches!(
                purpose,
                Some(ListPurpose::Block | ListPurpose::Allow | ListPurpose::Label)
            ) {
                let via = if curator == root { None } else { Some(*root) };
                put(&mut lists, list.clone(), *w, via.or(Some(*curator)));
            }
        }
    }
    lists
}

struct Builder<'s> {
    state: &'s ModerationState,
    sources: Vec<Source>,
    records: FastMap<SubjectKey, Record>,
    labels: Vec<(Arc<str>, Verdict)>,
    label_index: BTreeMap<String, u32>,
    actors: Vec<PublicKey>,
}

impl Builder<'_> {
    fn hit(&mut self, subject: Subject, hit: Hit) {
        self.records
            .entry(SubjectKey(subject))
            .or_default()
            .hits
            .push(hit);
    }

    fn label(&mut self, policy: &Policy, value: &str) -> u32 {
        if let Some(i) = self.label_index.get(value) {
            return *i;
        }
        let verdict = policy
            .label_verdicts
            .get(value)
            .copied()
            .unwrap_or(policy.unmapped_label);
        let i = self.labels.len() as u32;
        self.labels.push((Arc::from(value), verdict));
        self.label_index.insert(value.to_string(), i);
        i
    }

    /// Compiles the entries of the subscribed list `sources[source]` into hits, and fills in
    /// the source's header and equivocation. False when the list has no header yet or is a
    /// ban list (ban lists apply through their group).
    fn compile_list(&mut self, policy: &Policy, exempt: &Exempt<'_>, source: u32) -> bool {
        let state = self.state;
        let Some(list_ref) = self.sources[source as usize].list.clone() else {
            return false;
        };
        let Some(list) = state.lists.get(&list_ref) else {
            return false;
        };
        let Some((header_id, header)) = state.list_header(&list_ref) else {
            return false;
        };
        let purpose = header.body.purpose;
        if purpose == ListPurpose::Ban {
            return false;
        }
        let valid = |a: &PublicKey, at: u64| !state.is_void(a, at);
        let src = &mut self.sources[source as usize];
        src.header = Some(header_id);
        src.equivocation = list
            .equivocations(&valid)
            .into_iter()
            .next_back()
            .map(|e| (e.seq, e.versions));
        let owner = list_ref.owner;
        let may_write = |a: &PublicKey, at: u64| *a == owner && !state.is_void(a, at);
        for (id, entry) in &list.adds {
            let status = list.status(id, entry, &may_write, u64::MIN);
            let kind = match status {
                EntryStatus::Unauthorized => continue,
                EntryStatus::Retracted(_) => HitKind::Retracted,
                _ if self.granted(id) => HitKind::AppealGranted,
                _ if exempt.contains_key(&(&*list_ref, &entry.subject)) => HitKind::Exempt,
                _ => match purpose {
                    ListPurpose::Block => HitKind::Block,
                    ListPurpose::Allow => HitKind::Allow,
                    _ => {
                        let v = entry.category.as_deref().unwrap_or(&list_ref.name);
                        HitKind::Label(self.label(policy, v))
                    }
                },
            };
            self.hit(
                entry.subject,
                Hit {
                    source,
                    kind,
                    object: *id,
                    expires: entry.expires,
                    note: note(&entry.reason),
                },
            );
        }
        true
    }

    fn granted(&self, target: &ObjectId) -> bool {
        !self.state.appeals_by_target.is_empty()
            && self.state.appeal_outcome(target).map(|(o, _)| o) == Some(AppealOutcome::Granted)
    }
}

/// A set of source indices that stays on the stack for the usual handful of lists.
#[derive(Default)]
struct SourceSet {
    small: [u32; 16],
    n: usize,
    spill: Vec<u32>,
}

impl SourceSet {
    /// Adds `s`; true when it was not there.
    fn insert(&mut self, s: u32) -> bool {
        if self.small[..self.n].contains(&s) || self.spill.contains(&s) {
            return false;
        }
        if self.n < self.small.len() {
            self.small[self.n] = s;
            self.n += 1;
        } else {
            self.spill.push(s);
        }
        true
    }

    fn len(&self) -> usize {
        self.n + self.spill.len()
    }

    fn contains(&self, s: u32) -> bool {
        self.small[..self.n].contains(&s) || self.spill.contains(&s)
    }

    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.small[..self.n].iter().chain(&self.spill).copied()
    }

    /// The heaviest sources (ties: lowest index) until both `min_lists` and `min_weight`
    /// are reached, or all of them.
    fn heaviest(&self, sources: &[Source], min_lists: u32, min_weight: f32) -> SourceSet {
        let mut all = SourceSet::default();
        let mut weight = 0.0f32;
        while all.len() < self.len() {
            let next = self.iter().filter(|s| !all.contains(*s)).max_by(|a, b| {
                sources[*a as usize]
                    .weight
                    .total_cmp(&sources[*b as usize].weight)
                    .then(b.cmp(a))
            });
            let Some(next) = next else {
                break;
            };
            all.insert(next);
            weight += sources[next as usize].weight;
            if all.len() >= min_lists.max(1) as usize && weight >= min_weight {
                break;
            }
        }
        all
    }
}

/// The viewer's exempted (list, subject) pairs.
type Exempt<'p> = BTreeMap<(&'p ListRef, &'p Subject), ()>;

fn exemptions(policy: &Policy) -> Exempt<'_> {
    policy
        .exemptions
        .iter()
        .map(|e| ((&e.list, &e.subject), ()))
        .collect()
}

fn note(s: &Option<String>) -> Option<Arc<str>> {
    s.as_deref().map(Arc::from)
}

impl<'a> View<'a> {
    /// Compiles the viewer's view of `state` at `now`, with the hash maps keyed by a fixed
    /// seed (0). Where `state` holds objects from untrusted peers, use
    /// [`View::build_with_seed`] with a secret random seed, so that nobody can grind keys or
    /// object ids that collide in the view's maps.
    pub fn build(
        state: &ModerationState,
        policy: &Policy,
        trust: impl Into<Lookup<'a, dyn TrustLookup + 'a>>,
        credentials: impl Into<Lookup<'a, dyn CredentialLookup + 'a>>,
        now: u64,
    ) -> View<'a> {
        View::build_with_seed(state, policy, trust, credentials, now, 0)
    }

    /// Compiles the viewer's view of `state` at `now`; `seed` keys the view's hash maps
    /// (foldhash). The host draws it from its own randomness, once per process or per view;
    /// decisions do not depend on it.
    pub fn build_with_seed(
        state: &ModerationState,
        policy: &Policy,
        trust: impl Into<Lookup<'a, dyn TrustLookup + 'a>>,
        credentials: impl Into<Lookup<'a, dyn CredentialLookup + 'a>>,
        now: u64,
        seed: u64,
    ) -> View<'a> {
        let trust = trust.into();
        let credentials = credentials.into();
        let mut b = Builder {
            state,
            sources: Vec::new(),
            records: seeded_map(seed),
            labels: Vec::new(),
            label_index: BTreeMap::new(),
            actors: Vec::new(),
        };
        let exempt = exemptions(policy);

        // Groups: every group with a header, and every group some ban list names.
        let mut group_refs: Vec<GroupRef> = state.groups.keys().cloned().collect();
        for list in state.lists.keys() {
            if let Some((_, h)) = state.list_header(list) {
                if let (ListPurpose::Ban, Some(g)) = (h.body.purpose, &h.body.group) {
                    group_refs.push(g.clone());
                }
            }
        }
        group_refs.sort();
        group_refs.dedup();
        let mut groups = Vec::with_capacity(group_refs.len());
        let mut group_index = seeded_map(seed);
        for g in group_refs {
            let header = state.group_header(&g);
            let rules = state.group_rules(&g, now, credentials.personhood());
            let mut moderators = vec![g.owner];
            if let Some((_, h)) = header {
                moderators.extend(h.moderators.iter().copied());
            }
            let equivocation = state
                .group_equivocations(&g)
                .into_iter()
                .next_back()
                .map(|e| (e.seq, e.versions));
            let policy = rules.as_ref().map(|r| &r.policy);
            group_index.insert(g.clone(), groups.len() as u32);
            groups.push(GroupInfo {
                header: header.map(|(id, _)| id),
                min_trust: policy.and_then(|p| p.min_trust),
                credential_issuer: policy
                    .and_then(|p| p.credential_issuer.as_deref())
                    .map(Arc::from),
                moderators,
                equivocation,
                personhood_votes: policy.is_some_and(|p| p.personhood_votes),
                vote_budget: policy.and_then(|p| p.vote_budget),
                amendments: rules
                    .as_ref()
                    .map_or_else(|| Arc::from([]), |r| Arc::from(r.amendments.clone())),
                village_issuers: rules.as_ref().map_or(0, |r| r.village_issuers.len() as u64),
                group: Arc::new(g),
            });
        }

        // Subscribed block, allow and label lists.
        for (list_ref, (weight, via)) in resolve_subscriptions(state, policy, now) {
            let source = b.sources.len() as u32;
            b.sources.push(Source {
                own: list_ref.owner == policy.viewer,
                list: Some(Arc::new(list_ref.clone())),
                header: None,
                labeler: None,
                weight,
                via,
                equivocation: None,
            });
            if !b.compile_list(policy, &exempt, source) {
                b.sources.pop();
            }
        }

        // Ban lists: every list whose header says `ban` for a known group.
        if policy.group_rules {
            for (list_ref, list) in &state.lists {
                let Some((header_id, header)) = state.list_header(list_ref) else {
                    continue;
                };
                let (ListPurpose::Ban, Some(g)) = (header.body.purpose, &header.body.group) else {
                    continue;
                };
                let Some(&gi) = group_index.get(g) else {
                    continue;
                };
                let source = b.sources.len() as u32;
                b.sources.push(Source {
                    own: false,
                    list: Some(Arc::new(list_ref.clone())),
                    header: Some(header_id),
                    labeler: None,
                    weight: 1.0,
                    via: None,
                    equivocation: None,
                });
                let mods = &groups[gi as usize].moderators;
                let may_write = |a: &PublicKey, at: u64| mods.contains(a) && !state.is_void(a, at);
                for (id, entry) in &list.adds {
                    if state.is_void(&entry.author, entry.at) {
                        continue;
                    }
                    let actor = b.actors.len() as u32;
                    b.actors.push(entry.author);
                    let kind = match list.status(id, entry, &may_write, u64::MIN) {
                        EntryStatus::Unauthorized => HitKind::BanIgnored { group: gi, actor },
                        EntryStatus::Retracted(_) => HitKind::BanRetracted { group: gi },
                        _ if b.granted(id) => HitKind::AppealGranted,
                        _ => HitKind::Ban { group: gi, actor },
                    };
                    b.hit(
                        entry.subject,
                        Hit {
                            source,
                            kind,
                            object: *id,
                            expires: entry.expires,
                            note: note(&entry.reason),
                        },
                    );
                }
            }
        }

        // Labelers.
        let mut labelers = policy.labelers.clone();
        labelers.sort();
        labelers.dedup();
        for labeler in labelers {
            let source = b.sources.len() as u32;
            b.sources.push(Source {
                own: false,
                list: None,
                header: None,
                labeler: Some(labeler),
                weight: 1.0,
                via: None,
                equivocation: None,
            });
            let is_void = |a: &PublicKey, at: u64| state.is_void(a, at);
            let current: Vec<_> = state
                .labels
                .current(&labeler, &is_void)
                .map(|l| (l.subject, l.value.to_string(), l.id, l.record.clone()))
                .collect();
            for (subject, value, id, record) in current {
                let kind = if b.granted(&id) {
                    HitKind::AppealGranted
                } else {
                    HitKind::Label(b.label(policy, &value))
                };
                b.hit(
                    subject,
                    Hit {
                        source,
                        kind,
                        object: id,
                        expires: record.expires,
                        note: note(&record.reason),
                    },
                );
            }
        }

        // The viewer's overrides and revoked keys.
        let viewer_source = b.sources.len() as u32;
        b.sources.push(Source {
            own: false,
            list: None,
            header: None,
            labeler: None,
            weight: 1.0,
            via: None,
            equivocation: None,
        });
        for o in &policy.overrides {
            b.hit(
                o.subject,
                Hit {
                    source: viewer_source,
                    kind: HitKind::Override(o.verdict),
                    object: ObjectId([0; 32]),
                    expires: None,
                    note: None,
                },
            );
        }
        for (key, key_state) in state.keys.states() {
            let Some((since, cause, id)) = key_state.void else {
                continue;
            };
            let Ok(key) = PublicKey::from_bytes(key) else {
                continue;
            };
            b.hit(
                Subject::Key(key),
                Hit {
                    source: viewer_source,
                    kind: HitKind::Revoked(since, cause),
                    object: id,
                    expires: None,
                    note: None,
                },
            );
        }

        // Votes.
        let group_budget = |g: &GroupRef| {
            group_index
                .get(g)
                .and_then(|gi| groups[*gi as usize].vote_budget)
        };
        let is_void = |a: &PublicKey, at: u64| state.is_void(a, at);
        let personhood = |g: &GroupRef| {
            policy.group_rules
                && group_index
                    .get(g)
                    .is_some_and(|gi| groups[*gi as usize].personhood_votes)
        };
        let pseudonym =
            |g: &GroupRef, epoch: u64, key: &PublicKey| credentials.pseudonym(g, epoch, key);
        let tallies = state.votes.tally(&TallyInput {
            now,
            policy: &policy.votes,
            trust: &*trust,
            group_budget: &group_budget,
            personhood: &personhood,
            pseudonym: &pseudonym,
            is_void: &is_void,
            seed,
        });
        for (subject, tally) in tallies.votes {
            b.records.entry(SubjectKey(subject)).or_default().votes = Some(Box::new(tally));
        }
        let mut voices: BTreeMap<Subject, Vec<(u32, VoteTally)>> = BTreeMap::new();
        for ((subject, g), tally) in tallies.voices {
            if let Some(gi) = group_index.get(&g) {
                voices.entry(subject).or_default().push((*gi, tally));
            }
        }
        for (subject, mut v) in voices {
            v.sort_by_key(|(gi, _)| *gi);
            b.records.entry(SubjectKey(subject)).or_default().voices = v.into_boxed_slice();
        }
        for (SubjectKey(subject), rec) in b.records.iter_mut() {
            if let Subject::Key(k) = subject {
                rec.trust = trust.trust(k);
            }
            rec.finalize(&b.sources);
        }

        let mut view = View {
            policy: policy.clone(),
            trust,
            credentials,
            sources: b.sources,
            records: FastMap::default(),
            groups,
            group_index,
            labels: b.labels,
            label_index: b.label_index,
            actors: b.actors,
            built_at: now,
        };
        let mut records = b.records;
        for (SubjectKey(subject), rec) in records.iter_mut() {
            rec.template = view.template(subject, rec);
        }
        view.records = records;
        view
    }

    /// The decision on a post by `subject` (an author) that has no record of its own and
    /// no group rules, while nothing in it can change before the record's earliest expiry:
    /// when every hit is a live block entry. The rules never read `self.records`.
    fn template(&self, subject: &Subject, rec: &Record) -> Option<Template> {
        let Subject::Key(author) = subject else {
            return None;
        };
        if !rec.pure_blocks || self.built_at >= rec.min_expiry {
            return None;
        }
        let post = PostItem {
            id: ObjectId([0; 32]),
            author: *author,
            at: self.built_at,
            group: None,
        };
        let facts = Facts {
            author,
            post: Some(&post),
            post_rec: None,
            author_rec: Some(rec),
            trust: rec.trust,
            tally: None,
            personhood: None,
            not_personhood: 0,
            gi: None,
        };
        let mut out = Vec::with_capacity(1);
        let (verdict, score) = self.rules(&facts, self.built_at, false, &mut out);
        Some(Template {
            verdict,
            score,
            reasons: Arc::from(out),
        })
    }

    /// Brings one subscribed block, allow or label list up to date with `state` (the state
    /// the view was built from, with more objects applied since), in time proportional to
    /// the list's size rather than to everything the view holds. Returns false, changing
    /// nothing, when the list is not one of the view's subscribed lists or has become a ban
    /// list: build the view again then.
    pub fn refresh_list(&mut self, state: &ModerationState, list: &ListRef) -> bool {
        let Some(source) = self
            .sources
            .iter()
            .position(|s| s.labeler.is_none() && s.list.as_deref() == Some(list))
        else {
            return false;
        };
        if state
            .list_header(list)
            .is_none_or(|(_, h)| h.body.purpose == ListPurpose::Ban)
        {
            return false;
        }
        let source = source as u32;
        // Every subject the list ever named is in its index (adds are never dropped).
        if let Some(l) = state.lists.get(list) {
            for subject in l.by_subject.keys() {
                let key = SubjectKey(*subject);
                if let Some(rec) = self.records.get_mut(&key) {
                    rec.hits.retain(|h| h.source != source);
                    if rec.hits.is_empty() && rec.votes.is_none() && rec.voices.is_empty() {
                        self.records.remove(&key);
                    }
                }
            }
        }
        let policy = self.policy.clone();
        let exempt = exemptions(&policy);
        let mut b = Builder {
            state,
            sources: std::mem::take(&mut self.sources),
            records: std::mem::take(&mut self.records),
            labels: std::mem::take(&mut self.labels),
            label_index: std::mem::take(&mut self.label_index),
            actors: std::mem::take(&mut self.actors),
        };
        b.compile_list(&policy, &exempt, source);
        self.sources = b.sources;
        self.records = b.records;
        self.labels = b.labels;
        self.label_index = b.label_index;
        self.actors = b.actors;
        // Hits in the order a full build leaves them, summaries and templates up to date.
        if let Some(l) = state.lists.get(list) {
            let mut records = std::mem::take(&mut self.records);
            for subject in l.by_subject.keys() {
                if let Some(rec) = records.get_mut(&SubjectKey(*subject)) {
                    if let Subject::Key(k) = subject {
                        rec.trust = self.trust.trust(k);
                    }
                    rec.finalize(&self.sources);
                    rec.template = self.template(subject, rec);
                }
            }
            self.records = records;
        }
        true
    }

    /// The time the view was built for.
    pub fn built_at(&self) -> u64 {
        self.built_at
    }

    /// The viewer.
    pub fn viewer(&self) -> &PublicKey {
        &self.policy.viewer
    }

    /// How many subjects (authors and posts) the view holds facts about.
    pub fn n_subjects(&self) -> usize {
        self.records.len()
    }

    /// The subscribed lists the view uses, with their weights.
    pub fn lists(&self) -> Vec<(ListRef, f32)> {
        self.sources
            .iter()
            .filter_map(|s| s.list.as_ref().map(|l| ((**l).clone(), s.weight)))
            .collect()
    }

    /// Decides one item.
    pub fn decide(&self, item: &Item, now: u64) -> Decision {
        self.decision(item, now, false)
    }

    /// Decides one item with every reason, including the ones that had no effect.
    pub fn explain(&self, item: &Item, now: u64) -> Decision {
        self.decision(item, now, true)
    }

    fn decision(&self, item: &Item, now: u64, explain: bool) -> Decision {
        let mut out = Vec::new();
        match self.evaluate(item, now, explain, &mut out) {
            Outcome::Template(t) => t.decision(),
            Outcome::Decided(verdict, score) => Decision {
                verdict,
                score,
                reasons: Reasons::from(out),
            },
        }
    }

    /// Decides a batch. The decisions' reasons live in a few shared allocations (one for
    /// the usual batch), each decision holding its range of one: no allocation per reason
    /// and no copy of a grown buffer.
    pub fn decide_batch(&self, items: &[Item], now: u64) -> Vec<Decision> {
        // Room for this many more reasons before an item is decided; an item that needs
        // more (hundreds of lists agreeing) grows the buffer, which stays correct.
        const SLACK: usize = 32;
        let room = |left: usize| left + left / 2 + SLACK;
        let mut decisions = Vec::with_capacity(items.len());
        // Decided here, waiting for their reasons to be shared: (index, verdict, score, range).
        let mut heads: Vec<Head> = Vec::new();
        let mut out: Vec<Reason> = Vec::with_capacity(room(items.len()));
        for (i, item) in items.iter().enumerate() {
            if out.capacity() - out.len() < SLACK {
                let full = std::mem::replace(&mut out, Vec::with_capacity(room(items.len() - i)));
                Self::share(full, &mut heads, &mut decisions);
            }
            let start = out.len();
            match self.evaluate(item, now, false, &mut out) {
                Outcome::Template(t) => decisions.push(t.decision()),
                Outcome::Decided(verdict, score) => {
                    decisions.push(Decision {
                        verdict,
                        score,
                        reasons: Reasons::new(),
                    });
                    heads.push((i, start, out.len()));
                }
            }
        }
        Self::share(out, &mut heads, &mut decisions);
        decisions
    }

    /// Gives the decisions in `heads` their reasons, ranges of `reasons`, shared.
    fn share(reasons: Vec<Reason>, heads: &mut Vec<Head>, decisions: &mut [Decision]) {
        let all = Arc::new(reasons);
        for (i, start, end) in heads.drain(..) {
            if let Some(d) = decisions.get_mut(i) {
                d.reasons = Reasons::shared(&all, start, end);
            }
        }
    }

    fn list_reason(
        &self,
        code: ReasonCode,
        effect: Verdict,
        subject: Subject,
        hit: &Hit,
    ) -> Reason {
        let src = &self.sources[hit.source as usize];
        let mut r = Reason::new(code, effect);
        r.subject = Some(subject);
        r.objects.push(hit.object);
        r.objects.extend(src.header);
        r.list = src.list.clone();
        r.actor = src.via.or(src.labeler);
        r.note = hit.note.clone();
        r.weight = src.weight;
        r.expires = hit.expires;
        r
    }

    fn equivocation_reason(&self, hit: &Hit) -> Option<Reason> {
        let src = &self.sources[hit.source as usize];
        let (seq, versions) = src.equivocation.as_ref()?;
        let mut r = Reason::new(ReasonCode::ListEquivocation, Verdict::Show);
        r.list = src.list.clone();
        r.objects = versions.iter().copied().collect();
        r.count = *seq;
        Some(r)
    }

    /// Decides `item`: its compiled decision when one applies, else the rules' verdict and
    /// score with the reasons appended to `out` (which may hold other decisions' reasons
    /// before them).
    pub(crate) fn evaluate<'v>(
        &'v self,
        item: &Item,
        now: u64,
        explain: bool,
        out: &mut Vec<Reason>,
    ) -> Outcome<'v> {
        let author = item.author_key();
        let post = match item {
            Item::Post(p) => Some(p),
            Item::Author { .. } => None,
        };
        let post_rec = post.and_then(|p| self.records.get(&SubjectKey(Subject::Object(p.id))));
        let author_rec = self.records.get(&SubjectKey(Subject::Key(*author)));
        let gi = match (self.policy.group_rules, item.group()) {
            (true, Some(g)) => self.group_index.get(g).copied(),
            _ => None,
        };
        // The usual listed post: nothing about the post itself, no group rules, an author
        // record whose decision was compiled with the view and is still valid.
        if let (false, Some(_), None, None, Some(rec)) = (explain, post, post_rec, gi, author_rec) {
            if let (Some(t), true) = (&rec.template, now < rec.min_expiry) {
                return Outcome::Template(t);
            }
        }
        // In a personhood group a post's votes are the group's voices; every other vote on
        // it has no effect.
        let personhood = gi.filter(|g| self.groups[*g as usize].personhood_votes);
        let (tally, not_personhood) = match (item, personhood) {
            (Item::Post(_), Some(g)) => {
                let voices = post_rec
                    .and_then(|r| r.voices.iter().find(|(vg, _)| *vg == g))
                    .map(|(_, t)| t);
                let plain = post_rec.and_then(|r| r.votes.as_deref());
                let ignored =
                    plain.map_or(0, VoteTally::seen) + voices.map_or(0, |t| t.not_personhood);
                (voices, ignored)
            }
            (Item::Post(_), None) => (post_rec.and_then(|r| r.votes.as_deref()), 0),
            (Item::Author { .. }, _) => (author_rec.and_then(|r| r.votes.as_deref()), 0),
        };
        let facts = Facts {
            author,
            post,
            post_rec,
            author_rec,
            trust: match author_rec {
                Some(r) => r.trust,
                None => self.trust.trust(author),
            },
            tally,
            personhood,
            not_personhood,
            gi,
        };
        let (verdict, score) = self.rules(&facts, now, explain, out);
        Outcome::Decided(verdict, score)
    }

    /// Applies the rules, in order, to what is known about an item; appends the reasons to
    /// `out` (which may hold other decisions' reasons before them).
    fn rules(
        &self,
        facts: &Facts<'_, '_>,
        now: u64,
        explain: bool,
        out: &mut Vec<Reason>,
    ) -> (Verdict, f32) {
        let base = out.len();
        let Facts {
            author,
            post,
            post_rec,
            author_rec,
            trust,
            tally,
            personhood,
            not_personhood,
            gi,
        } = *facts;
        let post_rec = post_rec.map(|r| (On::Post, r));
        let author_rec = author_rec.map(|r| (On::Author, r));
        // The subject a hit is about: built only when a reason names it.
        let subject_of = |on: On| match (on, post) {
            (On::Post, Some(p)) => Subject::Object(p.id),
            _ => Subject::Key(*author),
        };
        let tscore = trust.map_or(0.0, |t| t.score);
        let score = tscore + tally.map_or(0.0, |t| t.net);

        // Fast path: nothing is known about the item, its author or its group.
        if post_rec.is_none() && author_rec.is_none() && gi.is_none() {
            let mut verdict = Verdict::Show;
            if trust.is_none() && (self.policy.unknown_author > Verdict::Show || explain) {
                verdict = self.policy.unknown_author;
                let mut r = Reason::new(ReasonCode::AuthorUnknown, self.policy.unknown_author);
                r.subject = Some(Subject::Key(*author));
                out.push(r);
            } else if explain {
                out.push(self.trusted_reason(author, tscore));
            }
            self.identity_reasons(author, explain, out);
            return (verdict, score);
        }

        let recs = [post_rec, author_rec];
        // The common listed case: one record with hits, all of them block entries, none
        // expired: use its summary and read only the hits that become reasons.
        fn with_hits(r: Option<(On, &Record)>) -> Option<(On, &Record)> {
            r.filter(|(_, rec)| !rec.hits.is_empty())
        }
        let pure = match (with_hits(post_rec), with_hits(author_rec)) {
            (Some(one), None) | (None, Some(one))
                if !explain && one.1.pure_blocks && now < one.1.min_expiry =>
            {
                Some(one)
            }
            _ => None,
        };
        let hits_all = || {
            recs.iter()
                .flatten()
                .flat_map(|(s, rec)| rec.hits.iter().map(move |h| (*s, h)))
        };
        // Every hit, unless the summary stands in for them.
        let hits = || hits_all().take(if pure.is_none() { usize::MAX } else { 0 });

        // 1. Revocation.
        for (s, h) in hits() {
            if let HitKind::Revoked(since, cause) = h.kind {
                let applies = match post {
                    Some(p) => p.at >= since,
                    None => true,
                };
                if applies {
                    let effect = if post.is_some() {
                        Verdict::Hide
                    } else {
                        Verdict::Warn
                    };
                    let code = match cause {
                        VoidCause::Revoked => ReasonCode::AuthorRevoked,
                        VoidCause::Rotated => ReasonCode::AuthorKeyRotated,
                        VoidCause::Forked => ReasonCode::AuthorKeyForked,
                    };
                    let mut r = Reason::new(code, effect);
                    r.subject = Some(subject_of(s));
                    r.objects.push(h.object);
                    r.count = since;
                    if post.is_some() {
                        out.truncate(base);
                        out.push(r);
                        return (Verdict::Hide, score);
                    }
                    out.push(r);
                }
            }
        }

        // 2. The viewer's overrides: the post's first, then the author's.
        if let Some((s, v)) = hits()
            .filter(|_| pure.is_none())
            .find_map(|(s, h)| match h.kind {
                HitKind::Override(v) => Some((s, v)),
                _ => None,
            })
        {
            let mut r = Reason::new(ReasonCode::ViewerOverride, v);
            r.subject = Some(subject_of(s));
            out.push(r);
            let verdict = out[base..]
                .iter()
                .map(|r| r.effect)
                .max()
                .unwrap_or(v)
                .max(v);
            let verdict = if v == Verdict::Show {
                Verdict::Show
            } else {
                verdict
            };
            return (verdict, score);
        }

        let mut verdict = out[base..]
            .iter()
            .map(|r| r.effect)
            .max()
            .unwrap_or_default();
        let live = |h: &Hit| h.expires.is_none_or(|e| e > now);

        // 3. Group rules.
        if let Some(gi) = gi {
            let g = &self.groups[gi as usize];
            for (s, h) in hits() {
                let (code, effect, actor) = match h.kind {
                    HitKind::Ban { group, actor } if group == gi => {
                        if live(h) {
                            (ReasonCode::GroupBan, Verdict::Hide, Some(actor))
                        } else {
                            (ReasonCode::EntryExpired, Verdict::Show, Some(actor))
                        }
                    }
                    HitKind::BanIgnored { group, actor } if group == gi => {
                        (ReasonCode::GroupBanNotModerator, Verdict::Show, Some(actor))
                    }
                    HitKind::BanRetracted { group } if group == gi => {
                        (ReasonCode::GroupBanRetracted, Verdict::Show, None)
                    }
                    _ => continue,
                };
                if effect == Verdict::Show && !explain {
                    continue;
                }
                let mut r = self.list_reason(code, effect, subject_of(s), h);
                r.group = Some(g.group.clone());
                r.actor = actor.map(|a| self.actors[a as usize]);
                out.push(r);
                verdict = verdict.max(effect);
            }
            let is_mod = g.moderators.contains(author);
            let mut amended_used = false;
            if let (Some(min), false) = (g.min_trust, is_mod) {
                if tscore * 100.0 < min as f32 {
                    let by_poll = g.amendments.iter().find(|a| a.rule == "min_trust");
                    let mut r = Reason::new(ReasonCode::GroupMinTrust, Verdict::Collapse);
                    r.group = Some(g.group.clone());
                    match by_poll {
                        Some(a) => r.objects.push(a.poll),
                        None => r.objects.extend(g.header),
                    }
                    r.count = min;
                    r.weight = tscore;
                    r.subject = Some(Subject::Key(*author));
                    out.push(r);
                    verdict = verdict.max(Verdict::Collapse);
                    amended_used |= by_poll.is_some();
                }
            }
            // Village rules: cite the poll behind every amended rule that applied (every
            // amendment in force when explaining).
            for a in g.amendments.iter() {
                if explain || (amended_used && a.rule == "min_trust") {
                    let mut r = Reason::new(ReasonCode::GroupRuleAmended, Verdict::Show);
                    r.group = Some(g.group.clone());
                    r.objects.push(a.poll);
                    r.value = Some(Arc::from(a.rule));
                    r.count = a.value;
                    r.note = Some(Arc::from(format!(
                        ", adopted by {} of {} people",
                        a.adopt, a.voters
                    )));
                    out.push(r);
                }
            }
            if g.village_issuers > 1 && !g.amendments.is_empty() && (explain || amended_used) {
                let mut r = Reason::new(ReasonCode::GroupVillageIssuers, Verdict::Show);
                r.group = Some(g.group.clone());
                r.count = g.village_issuers;
                out.push(r);
            }
            // In a personhood group whose issuer is a BBS personhood key (`did:key:zUC7…`,
            // BLS12-381 G2), the issuer names who certifies voters, not a credential posters
            // could hold (no W3C credential comes from such a key): the poster rule is off.
            let poster_rule = g
                .credential_issuer
                .as_ref()
                .filter(|i| !(g.personhood_votes && i.starts_with(PERSONHOOD_DID_PREFIX)));
            if let (Some(issuer), false) = (poster_rule, is_mod) {
                if !self.credentials.holds(author, issuer) {
                    let mut r = Reason::new(ReasonCode::GroupCredentialMissing, Verdict::Collapse);
                    r.group = Some(g.group.clone());
                    r.objects.extend(g.header);
                    r.value = Some(issuer.clone());
                    r.note = self
                        .credentials
                        .problem(author, issuer)
                        .map(|p| Arc::from(p.as_str()));
                    r.subject = Some(Subject::Key(*author));
                    out.push(r);
                    verdict = verdict.max(Verdict::Collapse);
                }
            }
            if let Some((seq, versions)) = &g.equivocation {
                if explain
                    || out[base..]
                        .iter()
                        .any(|r| r.group.is_some() && r.effect > Verdict::Show)
                {
                    let mut r = Reason::new(ReasonCode::GroupEquivocation, Verdict::Show);
                    r.group = Some(g.group.clone());
                    r.objects = versions.iter().copied().collect();
                    r.count = *seq;
                    out.push(r);
                }
            }
        }

        // 4. Shared lists. Distinct lists and their weights, without allocating.
        let mut block_srcs = SourceSet::default();
        let mut allow_srcs = SourceSet::default();
        let mut block_weight = 0.0f32;
        let mut allow_weight = 0.0f32;
        let mut n_pure = 0;
        // A block list the viewer owns is the viewer's own choice, as an override is: it
        // hides without the quorum, which is about trusting others' lists.
        let mut own_block = false;
        if let Some((_, rec)) = pure {
            n_pure = rec.n_block_srcs as usize;
            block_weight = rec.block_weight;
            own_block = rec.own_until > now;
        }
        for (s, h) in hits() {
            match h.kind {
                HitKind::Block | HitKind::Allow if !live(h) => out.extend(explain.then(|| {
                    self.list_reason(ReasonCode::EntryExpired, Verdict::Show, subject_of(s), h)
                })),
                HitKind::Block => {
                    own_block |= self.sources[h.source as usize].own;
                    let new = block_srcs.insert(h.source);
                    block_weight +=
                        f32::from(u8::from(new)) * self.sources[h.source as usize].weight;
                }
                HitKind::Allow => {
                    let new = allow_srcs.insert(h.source);
                    allow_weight +=
                        f32::from(u8::from(new)) * self.sources[h.source as usize].weight;
                }
                HitKind::Retracted if explain => out.push(self.list_reason(
                    ReasonCode::EntryRetracted,
                    Verdict::Show,
                    subject_of(s),
                    h,
                )),
                HitKind::Exempt if explain => out.push(self.list_reason(
                    ReasonCode::EntryExempt,
                    Verdict::Show,
                    subject_of(s),
                    h,
                )),
                HitKind::AppealGranted if explain => out.push(self.list_reason(
                    ReasonCode::AppealGranted,
                    Verdict::Show,
                    subject_of(s),
                    h,
                )),
                _ => {}
            }
        }
        let n_blocks = block_srcs.len() + n_pure;
        if n_blocks > 0 {
            let q = self.policy.quorum;
            let quorum_met = own_block
                || (n_blocks >= q.min_lists.max(1) as usize && block_weight >= q.min_weight);
            let mut effect = if quorum_met {
                Verdict::Hide
            } else {
                self.policy.below_quorum
            };
            let neutral = allow_srcs.len() > 0 && allow_weight >= block_weight;
            if neutral {
                for (s, h) in hits() {
                    if h.kind == HitKind::Allow && live(h) {
                        out.push(self.list_reason(
                            ReasonCode::ListAllow,
                            Verdict::Show,
                            subject_of(s),
                            h,
                        ));
                    }
                }
            }
            let protected = self.policy.protect_trusted
                && trust.is_some_and(|t| t.direct && t.score > 0.0)
                && effect > Verdict::Warn
                && !neutral;
            if protected {
                effect = Verdict::Warn;
                let mut r = Reason::new(ReasonCode::TrustedProtected, Verdict::Warn);
                r.subject = Some(Subject::Key(*author));
                r.weight = tscore;
                r.trust_path = self.trust.path(author);
                r.objects = r.trust_path.iter().map(|s| s.attest).collect();
                out.push(r);
            }
            let effect = if neutral { Verdict::Show } else { effect };
            // `decide` names the heaviest lists needed to reach the quorum (all of them when
            // it is not reached); `explain` names every list. `count` says how many agree.
            if let (Some((s, rec)), true) = (pure, quorum_met) {
                // Hits are sorted heaviest first: the prefix that reaches the quorum.
                let (mut n, mut w, mut last) = (0usize, 0.0f32, None);
                for h in &rec.hits {
                    if last != Some(h.source) {
                        if n >= q.min_lists.max(1) as usize && w >= q.min_weight {
                            break;
                        }
                        n += 1;
                        w += self.sources[h.source as usize].weight;
                        last = Some(h.source);
                    }
                    let mut r = self.list_reason(ReasonCode::ListBlock, effect, subject_of(s), h);
                    r.count = n_blocks as u64;
                    out.push(r);
                    if let Some(r) = self.equivocation_reason(h) {
                        out.push(r);
                    }
                }
            }
            let shown = if explain || !quorum_met || neutral {
                None
            } else {
                Some(block_srcs.heaviest(&self.sources, q.min_lists, q.min_weight))
            };
            for (s, h) in hits_all().take(if pure.is_none() || !quorum_met {
                usize::MAX
            } else {
                0
            }) {
                if h.kind == HitKind::Block
                    && live(h)
                    && shown.as_ref().is_none_or(|set| set.contains(h.source))
                {
                    let mut r = self.list_reason(ReasonCode::ListBlock, effect, subject_of(s), h);
                    r.count = n_blocks as u64;
                    out.push(r);
                    if let Some(r) = self.equivocation_reason(h) {
                        out.push(r);
                    }
                }
            }
            // Only when the quorum is really missed: a protected, directly trusted author
            // is warned about with `trusted-protected`, not "fewer lists than you need".
            if !neutral && !quorum_met {
                let mut r = Reason::new(ReasonCode::ListBelowQuorum, effect);
                r.count = n_blocks as u64;
                r.weight = block_weight;
                out.push(r);
            }
            verdict = verdict.max(effect);
        } else if explain {
            for (s, h) in hits() {
                if h.kind == HitKind::Allow && live(h) {
                    out.push(self.list_reason(
                        ReasonCode::ListAllow,
                        Verdict::Show,
                        subject_of(s),
                        h,
                    ));
                }
            }
        }

        // 5. Labels.
        for (s, h) in hits() {
            let HitKind::Label(li) = h.kind else {
                continue;
            };
            let (value, v) = &self.labels[li as usize];
            let expired = !live(h);
            let effect = if expired { Verdict::Show } else { *v };
            if effect == Verdict::Show && !explain {
                continue;
            }
            let code = if expired {
                ReasonCode::EntryExpired
            } else {
                ReasonCode::Label
            };
            let mut r = self.list_reason(code, effect, subject_of(s), h);
            let src = &self.sources[h.source as usize];
            r.actor = src.labeler.or(src.list.as_ref().map(|l| l.owner));
            r.value = Some(value.clone());
            out.push(r);
            if let Some(r) = self.equivocation_reason(h) {
                out.push(r);
            }
            verdict = verdict.max(effect);
        }

        // 6. Votes.
        if let Some(t) = tally {
            let vp = &self.policy.votes;
            let effect = if t.net <= -vp.hide_at {
                Verdict::Hide
            } else if t.net <= -vp.collapse_at {
                Verdict::Collapse
            } else {
                Verdict::Show
            };
            if effect > Verdict::Show || explain {
                let mut r = Reason::new(ReasonCode::VotesNegative, effect);
                r.subject = Some(match post {
                    Some(p) => Subject::Object(p.id),
                    None => Subject::Key(*author),
                });
                r.objects = t.top.iter().map(|(_, id)| *id).collect();
                r.count = u64::from(t.down);
                r.weight = t.net;
                // Voices of verified people in the group, not trust-weighted votes.
                r.group = personhood.map(|g| self.groups[g as usize].group.clone());
                out.push(r);
                verdict = verdict.max(effect);
            }
            let ignored = t.untrusted + t.over_budget + t.future;
            if explain && ignored > 0 {
                let mut r = Reason::new(ReasonCode::VotesIgnored, Verdict::Show);
                r.count = u64::from(ignored);
                out.push(r);
            }
        }
        if let (Some(g), true, true) = (personhood, explain, not_personhood > 0) {
            let mut r = Reason::new(ReasonCode::VotesNotPersonhood, Verdict::Show);
            r.subject = post.map(|p| Subject::Object(p.id));
            r.group = Some(self.groups[g as usize].group.clone());
            r.count = u64::from(not_personhood);
            out.push(r);
        }

        // 7. Unknown authors.
        if trust.is_none() {
            let effect = self.policy.unknown_author;
            if effect > Verdict::Show || explain {
                let mut r = Reason::new(ReasonCode::AuthorUnknown, effect);
                r.subject = Some(Subject::Key(*author));
                out.push(r);
                verdict = verdict.max(effect);
            }
        } else if explain {
            out.push(self.trusted_reason(author, tscore));
        }
        self.identity_reasons(author, explain, out);

        (verdict, score)
    }

    /// `author-verified` for an author holding a credential from an issuer the viewer
    /// accepts (the first in the policy's order); when explaining, the accepted issuers'
    /// credentials that no longer count. Nothing when the policy accepts no issuer.
    fn identity_reasons(&self, author: &PublicKey, explain: bool, out: &mut Vec<Reason>) {
        for issuer in &self.policy.verified_issuers {
            if self.credentials.holds(author, issuer) {
                let mut r = Reason::new(ReasonCode::AuthorVerified, Verdict::Show);
                r.subject = Some(Subject::Key(*author));
                r.value = Some(Arc::from(issuer.as_str()));
                out.push(r);
                return;
            }
        }
        if !explain {
            return;
        }
        for issuer in &self.policy.verified_issuers {
            if let Some(p) = self.credentials.problem(author, issuer) {
                let mut r = Reason::new(ReasonCode::AuthorCredentialVoid, Verdict::Show);
                r.subject = Some(Subject::Key(*author));
                r.value = Some(Arc::from(issuer.as_str()));
                r.note = Some(Arc::from(p.as_str()));
                out.push(r);
            }
        }
    }

    fn trusted_reason(&self, author: &PublicKey, tscore: f32) -> Reason {
        let mut r = Reason::new(ReasonCode::AuthorTrusted, Verdict::Show);
        r.subject = Some(Subject::Key(*author));
        r.weight = tscore;
        r.trust_path = self.trust.path(author);
        r.objects = r.trust_path.iter().map(|s| s.attest).collect();
        r
    }
}

/// Decides one item for the viewer whose compiled view is `view`.
pub fn decide(view: &View<'_>, item: &Item, now: u64) -> Decision {
    view.decide(item, now)
}

/// Decides a batch of items, in order. The decisions' reasons share one allocation (each
/// decision holds a reference to it), so a batch allocates a fixed number of times.
pub fn decide_batch(view: &View<'_>, items: &[Item], now: u64) -> Vec<Decision> {
    view.decide_batch(items, now)
}

/// Decides one item and gives every reason, including those that had no effect (a ban by
/// a non-moderator, a retracted or expired entry, votes that did not count).
pub fn explain(view: &View<'_>, item: &Item, now: u64) -> Decision {
    view.explain(item, now)
}

#[cfg(test)]
mod tests;
