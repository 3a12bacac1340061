//! Replication follows trust: which valid objects this node refuses to store or relay.
//!
//! The rules are the union of two parts: the static entries of the node's config
//! (`[replication]`), and the rules its local viewers' policies give
//! ([`derive_from_policies`]): an author whom the viewers' policies hide by a block list, and
//! an author whom a group's ban hides in that group. The engine derives the second part
//! whenever it republishes the viewers' views and hands the union to
//! [`SharedFilter::replace`]. Which viewers must agree is [`Follow`]. The derivation only
//! asks each viewer's compiled [`View`] for its decision on an author: every rule (quorum,
//! exemptions, overrides, protection of directly trusted people, expiry, appeals) is the
//! library's.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, RwLock};
use vouch_identity::PublicKey;
use vouch_reputation::{
    Body, Decision, EntryStatus, GroupRef, Item, ListPurpose, ListRef, ModerationState, ReasonCode,
    SignedObject, Subject, Verdict, View,
};

/// Why an object is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The author is blocked by this node's viewers.
    BlockedAuthor,
    /// The author is banned from the post's group.
    BannedInGroup,
}

impl Refusal {
    /// The stable code, as printed by the API.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::BlockedAuthor => "refused-blocked-author",
            Refusal::BannedInGroup => "refused-banned-in-group",
        }
    }
}

/// The set of authors whose posts are not stored or relayed.
///
/// Only posts are filtered: attestations, lists, votes, labels and the like are evidence the
/// trust engine needs, whoever wrote them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicationFilter {
    blocked_authors: HashSet<PublicKey>,
    group_bans: HashSet<(GroupRef, PublicKey)>,
}

impl ReplicationFilter {
    /// A filter that refuses nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Refuses every post by `author`.
    pub fn block_author(&mut self, author: PublicKey) {
        self.blocked_authors.insert(author);
    }

    /// Refuses posts by `author` in `group`.
    pub fn ban_in_group(&mut self, group: GroupRef, author: PublicKey) {
        self.group_bans.insert((group, author));
    }

    /// Adds every rule of `other`.
    pub fn extend(&mut self, other: &ReplicationFilter) {
        self.blocked_authors
            .extend(other.blocked_authors.iter().copied());
        self.group_bans.extend(other.group_bans.iter().cloned());
    }

    /// Whether every post by `author` is refused.
    pub fn blocks(&self, author: &PublicKey) -> bool {
        self.blocked_authors.contains(author)
    }

    /// Whether posts by `author` in `group` are refused by a group rule.
    pub fn bans(&self, group: &GroupRef, author: &PublicKey) -> bool {
        self.group_bans.contains(&(group.clone(), *author))
    }

    /// Number of authors refused everywhere.
    pub fn n_authors(&self) -> usize {
        self.blocked_authors.len()
    }

    /// Number of `(group, author)` rules.
    pub fn n_group_bans(&self) -> usize {
        self.group_bans.len()
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.blocked_authors.len() + self.group_bans.len()
    }

    /// Whether the filter has no rules.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether to store and relay `object`.
    pub fn check(&self, object: &SignedObject) -> Result<(), Refusal> {
        let Body::Post(post) = object.body() else {
            return Ok(());
        };
        if self.blocked_authors.contains(object.author()) {
            return Err(Refusal::BlockedAuthor);
        }
        if let Some(group) = &post.group {
            if self.group_bans.contains(&(group.clone(), *object.author())) {
                return Err(Refusal::BannedInGroup);
            }
        }
        Ok(())
    }
}

/// A filter shared by the ingest path and the network, replaceable while the node runs.
///
/// It holds the rules in force (the config's plus the viewers' policies', replaced by the
/// engine) for what comes from the network, and the config's rules alone, fixed at start,
/// for what the node's own clients submit ([`SharedFilter::check_local`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct SharedFilter {
    rules: Arc<RwLock<ReplicationFilter>>,
    config: Arc<ReplicationFilter>,
}

impl SharedFilter {
    /// Shares `filter`: the config's rules, and the rules in force until replaced.
    pub(crate) fn new(filter: ReplicationFilter) -> Self {
        SharedFilter {
            config: Arc::new(filter.clone()),
            rules: Arc::new(RwLock::new(filter)),
        }
    }

    /// Replaces the rules in force unless they are the same; true when they changed.
    pub(crate) fn replace_if_changed(&self, filter: ReplicationFilter) -> bool {
        let mut guard = match self.rules.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if *guard == filter {
            return false;
        }
        *guard = filter;
        true
    }

    /// A copy of the rules in force.
    #[cfg(test)]
    pub(crate) fn current(&self) -> ReplicationFilter {
        match self.rules.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the rules in force.
    #[cfg(test)]
    fn replace(&self, filter: ReplicationFilter) {
        let _ = self.replace_if_changed(filter);
    }

    /// Checks an object from the network (gossip, catch-up) against the rules in force.
    pub(crate) fn check(&self, object: &SignedObject) -> Result<(), Refusal> {
        match self.rules.read() {
            Ok(guard) => guard.check(object),
            Err(poisoned) => poisoned.into_inner().check(object),
        }
    }

    /// Checks an object one of the node's own clients submits: against the config's rules
    /// only. The viewers' policies govern what the node takes from the network; a client's
    /// own submission is the client's choice (the views still hide it from the viewers
    /// whose policies hide its author).
    pub(crate) fn check_local(&self, object: &SignedObject) -> Result<(), Refusal> {
        self.config.check(object)
    }
}

/// Whose verdicts the replication filter follows (`[replication] follow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Follow {
    /// Refuse an author (or an author in a group) only when *every* local viewer's policy
    /// hides them by a block list or a group ban: no viewer loses a post it would be shown.
    #[default]
    AllViewers,
    /// Refuse when at least one local viewer's policy hides them so (a node whose viewers
    /// share one moderation stance; the others then never see those posts).
    AnyViewer,
    /// Follow no policy: only the config's static rules.
    Off,
}

impl Follow {
    /// The name used in the config and the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Follow::AllViewers => "all-viewers",
            Follow::AnyViewer => "any-viewer",
            Follow::Off => "off",
        }
    }
}

/// What [`derive_from_policies`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Derived {
    /// The rules the viewers' policies give.
    pub filter: ReplicationFilter,
    /// The earliest expiry (ms, after `now`) of a live entry or ban that was considered:
    /// derive again then, as the rules may change.
    pub next_expiry: Option<u64>,
    /// Candidates left out because of `max_candidates`.
    pub skipped: u64,
    /// Decisions asked of the views.
    pub decisions: u64,
}

/// True when the viewer's decision hides the item *because of* a block list or a group's
/// ban: the verdict is hide and a `list-block` or `group-ban` reason asks for hide. A block
/// list below its quorum, exempted, overridden by the viewer, neutralised by an allow list or
/// softened for a directly trusted author gives no such reason (the library's rules), so
/// it is not followed; neither are hides by labels, votes or the viewer's own overrides.
pub(crate) fn hidden_by_list_or_ban(d: &Decision) -> bool {
    d.verdict == Verdict::Hide
        && d.reasons.iter().any(|r| {
            r.effect == Verdict::Hide
                && matches!(r.code, ReasonCode::ListBlock | ReasonCode::GroupBan)
        })
}

/// The viewer's decision on `author` (in `group`) hides them by a block list or a ban.
fn hides(
    view: &View<'_>,
    author: PublicKey,
    group: Option<GroupRef>,
    now: u64,
    n: &mut u64,
) -> bool {
    *n += 1;
    hidden_by_list_or_ban(&view.decide(&Item::Author { author, group }, now))
}

/// The authors with a live entry on one of the block lists `view` subscribes to (directly or
/// through a curator), up to `max` of them.
fn block_candidates(
    state: &ModerationState,
    view: &View<'_>,
    now: u64,
    max: usize,
    out: &mut Derived,
) -> BTreeSet<PublicKey> {
    let mut authors = BTreeSet::new();
    for (list, _) in view.lists() {
        let block = state
            .list_header(&list)
            .is_some_and(|(_, h)| h.body.purpose == ListPurpose::Block);
        if !block {
            continue;
        }
        live_key_entries(state, &list, now, out, |key, out| {
            if authors.len() >= max && !authors.contains(&key) {
                out.skipped += 1;
            } else {
                authors.insert(key);
            }
        });
    }
    authors
}

/// The `(group, author)` pairs with a live entry on one of the groups' ban lists, up to
/// `max` of them.
fn ban_candidates<'l>(
    state: &ModerationState,
    ban_lists: impl IntoIterator<Item = (&'l GroupRef, &'l ListRef)>,
    now: u64,
    max: usize,
    out: &mut Derived,
) -> BTreeSet<(GroupRef, PublicKey)> {
    let mut pairs = BTreeSet::new();
    for (group, list) in ban_lists {
        let ban = state.list_header(list).is_some_and(|(_, h)| {
            h.body.purpose == ListPurpose::Ban && h.body.group.as_ref() == Some(group)
        });
        if !ban {
            continue;
        }
        live_key_entries(state, list, now, out, |key, out| {
            let pair = (group.clone(), key);
            if pairs.len() >= max && !pairs.contains(&pair) {
                out.skipped += 1;
            } else {
                pairs.insert(pair);
            }
        });
    }
    pairs
}

/// Calls `f` with the key of every live entry of `list` that names a key (entries by
/// writers the list accepts, unexpired, unretracted), and notes the earliest expiry.
fn live_key_entries(
    state: &ModerationState,
    list: &ListRef,
    now: u64,
    out: &mut Derived,
    mut f: impl FnMut(PublicKey, &mut Derived),
) {
    let Some(entries) = state.list(list) else {
        return;
    };
    let may_write = |a: &PublicKey, at: u64| state.may_write(list, a, at);
    for (_, entry, status) in entries.entries(&may_write, now) {
        let (EntryStatus::Live, Subject::Key(key)) = (status, entry.subject) else {
            continue;
        };
        if let Some(e) = entry.expires {
            out.next_expiry = Some(out.next_expiry.map_or(e, |n| n.min(e)));
        }
        f(key, out);
    }
}

/// The rules the local viewers' policies give at `now`: an author is refused when the
/// viewers' decisions on that author ([`Item::Author`], no group) hide them by a block list
/// ([`hidden_by_list_or_ban`]); `(group, author)` is refused when the decisions on the author
/// in the group hide them by the group's ban or a block list. `follow` says whether every
/// viewer or any one must hide. No viewers, or [`Follow::Off`]: no rules.
///
/// The work is bounded by the list entries, not by the authors: the candidates are the
/// keys on the block lists the viewers subscribe to and on the groups' ban lists
/// (`ban_lists`: every group's ban lists), at most `max_candidates` of each kind per
/// viewer; each candidate costs one decision per viewer (fewer with
/// [`Follow::AllViewers`], which stops asking once one viewer shows it).
pub(crate) fn derive_from_policies<'l>(
    state: &ModerationState,
    ban_lists: impl IntoIterator<Item = (&'l GroupRef, &'l ListRef)>,
    views: &[&View<'_>],
    follow: Follow,
    now: u64,
    max_candidates: usize,
) -> Derived {
    let mut out = Derived::default();
    if follow == Follow::Off || views.is_empty() {
        return out;
    }
    let mut n = 0u64;
    let bans = ban_candidates(state, ban_lists, now, max_candidates, &mut out);
    let (authors, pairs) = match follow {
        Follow::AllViewers => {
            // Hidden by a block list for every viewer means listed on the first viewer's
            // lists: start from those, and drop each one the next viewer does not hide.
            let mut authors = block_candidates(state, views[0], now, max_candidates, &mut out);
            let mut pairs = bans;
            for view in views {
                authors.retain(|a| hides(view, *a, None, now, &mut n));
                pairs.retain(|(g, a)| hides(view, *a, Some(g.clone()), now, &mut n));
            }
            (authors, pairs)
        }
        Follow::AnyViewer | Follow::Off => {
            let mut authors = BTreeSet::new();
            for view in views {
                for a in block_candidates(state, view, now, max_candidates, &mut out) {
                    if !authors.contains(&a) && hides(view, a, None, now, &mut n) {
                        authors.insert(a);
                    }
                }
            }
            let pairs = bans
                .into_iter()
                .filter(|(g, a)| {
                    views
                        .iter()
                        .any(|view| hides(view, *a, Some(g.clone()), now, &mut n))
                })
                .collect();
            (authors, pairs)
        }
    };
    for a in &authors {
        out.filter.block_author(*a);
    }
    for (g, a) in pairs {
        // A group rule for an author refused everywhere adds nothing.
        if !authors.contains(&a) {
            out.filter.ban_in_group(g, a);
        }
    }
    out.decisions = n;
    out
}

/// How many rules of one kind the filter holds, and where they came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct RuleCounts {
    /// From the config's static entries.
    pub config: u64,
    /// From the local viewers' policies.
    pub policies: u64,
    /// In force (the union).
    pub total: u64,
}

/// The replication filter as `/v1/status` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct ReplicationStatus {
    /// Whose verdicts are followed: `all-viewers`, `any-viewer` or `off`.
    pub follow: &'static str,
    /// Authors none of whose posts are stored or relayed.
    pub authors: RuleCounts,
    /// `(group, author)` rules: the author's posts in that group are not stored or relayed.
    pub group_bans: RuleCounts,
    /// When the rules were last derived (ms).
    pub derived_at_ms: u64,
    /// The store seq the engine had applied then.
    pub seq: i64,
    /// Candidates left out of the last derivation because of `max_candidates`.
    pub skipped_candidates: u64,
}

impl ReplicationStatus {
    /// The status of `rules` (in force) made of `config` and `derived`.
    pub(crate) fn new(
        follow: Follow,
        config: &ReplicationFilter,
        derived: &Derived,
        rules: &ReplicationFilter,
    ) -> Self {
        ReplicationStatus {
            follow: follow.as_str(),
            authors: RuleCounts {
                config: config.n_authors() as u64,
                policies: derived.filter.n_authors() as u64,
                total: rules.n_authors() as u64,
            },
            group_bans: RuleCounts {
                config: config.n_group_bans() as u64,
                policies: derived.filter.n_group_bans() as u64,
                total: rules.n_group_bans() as u64,
            },
            derived_at_ms: 0,
            seq: 0,
            skipped_candidates: derived.skipped,
        }
    }
}

/// What the engine needs to keep the node's replication filter: the filter ingest and the
/// network read, the config's static rules, and how to follow the viewers' policies.
#[derive(Debug, Clone)]
pub(crate) struct ReplicationHook {
    /// The filter to replace.
    pub filter: SharedFilter,
    /// The config's static rules (always in force).
    pub config_rules: ReplicationFilter,
    /// Whose verdicts to follow.
    pub follow: Follow,
    /// Most candidates of each kind (block-listed authors per viewer, banned pairs).
    pub max_candidates: usize,
    /// Admission control to keep in step with the viewers (none: every object is admitted).
    pub admission: Option<crate::node::admission::AdmissionHook>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use vouch_identity::SecretKey;
    use vouch_reputation::{AttestBody, Object, PostBody};

    fn post(author: &SecretKey, group: Option<GroupRef>) -> SignedObject {
        Object {
            author: author.public_key(),
            at: 1_700_000_000_000,
            body: Body::Post(PostBody {
                group,
                text: "hi".into(),
                ..Default::default()
            }),
        }
        .sign(author)
        .unwrap()
    }

    #[test]
    fn blocks_and_bans_apply_to_posts_only() {
        let alice = SecretKey::from_seed(&[1; 32]);
        let bob = SecretKey::from_seed(&[2; 32]);
        let g = GroupRef {
            owner: bob.public_key(),
            name: "g".into(),
        };
        let mut f = ReplicationFilter::new();
        assert_eq!(f.check(&post(&alice, None)), Ok(()));
        f.ban_in_group(g.clone(), alice.public_key());
        assert_eq!(f.check(&post(&alice, None)), Ok(()));
        assert_eq!(
            f.check(&post(&alice, Some(g.clone()))),
            Err(Refusal::BannedInGroup)
        );
        f.block_author(bob.public_key());
        assert_eq!(f.check(&post(&bob, None)), Err(Refusal::BlockedAuthor));
        let attest = Object {
            author: bob.public_key(),
            at: 1_700_000_000_000,
            body: Body::Attest(AttestBody::new(alice.public_key(), 10)),
        }
        .sign(&bob)
        .unwrap();
        assert_eq!(f.check(&attest), Ok(()));
        let shared = SharedFilter::new(f);
        shared.replace(ReplicationFilter::new());
        assert_eq!(shared.check(&post(&bob, None)), Ok(()));
        // The config's rules still apply to the node's own clients.
        assert_eq!(
            shared.check_local(&post(&bob, None)),
            Err(Refusal::BlockedAuthor)
        );
        // Rules added at run time (the viewers') apply to the network only.
        let mut more = ReplicationFilter::new();
        more.block_author(alice.public_key());
        assert!(shared.replace_if_changed(more.clone()));
        assert!(!shared.replace_if_changed(more));
        assert_eq!(
            shared.check(&post(&alice, None)),
            Err(Refusal::BlockedAuthor)
        );
        assert_eq!(shared.check_local(&post(&alice, None)), Ok(()));
    }

    // ---- derivation from the viewers' policies ------------------------------------------

    use std::collections::BTreeMap;
    use vouch_reputation::{
        CredentialLookup, DirectTrust, ListAddBody, ListBody, NoCredentials, Policy, Quorum,
        TrustLookup,
    };

    const NOW: u64 = 1_700_000_000_000;

    fn key(n: u8) -> SecretKey {
        SecretKey::from_seed(&[n; 32])
    }

    /// A world: a moderation state and the ban lists by group, as the engine keeps them.
    #[derive(Default)]
    struct World {
        state: ModerationState,
        ban_lists: BTreeMap<GroupRef, BTreeSet<ListRef>>,
    }

    impl World {
        fn put(&mut self, author: &SecretKey, body: Body) {
            let obj = Object {
                author: author.public_key(),
                at: NOW - 10_000,
                body,
            }
            .sign(author)
            .unwrap();
            if let Body::List(l) = obj.body() {
                if let (ListPurpose::Ban, Some(g)) = (l.purpose, &l.group) {
                    self.ban_lists
                        .entry(g.clone())
                        .or_default()
                        .insert(ListRef {
                            owner: *obj.author(),
                            name: l.name.clone(),
                        });
                }
            }
            self.state.apply(&obj);
        }

        fn list(&mut self, owner: &SecretKey, name: &str, purpose: ListPurpose) -> ListRef {
            self.list_in(owner, name, purpose, None)
        }

        fn list_in(
            &mut self,
            owner: &SecretKey,
            name: &str,
            purpose: ListPurpose,
            group: Option<GroupRef>,
        ) -> ListRef {
            self.put(
                owner,
                Body::List(ListBody {
                    name: name.into(),
                    purpose,
                    description: None,
                    group,
                    seq: 1,
                }),
            );
            ListRef {
                owner: owner.public_key(),
                name: name.into(),
            }
        }

        fn add(
            &mut self,
            writer: &SecretKey,
            list: &ListRef,
            who: &SecretKey,
            expires: Option<u64>,
        ) {
            self.put(
                writer,
                Body::ListAdd(ListAddBody {
                    list: list.clone(),
                    subject: Subject::Key(who.public_key()),
                    reason: Some("spam".into()),
                    category: None,
                    expires,
                }),
            );
        }

        /// The viewer's compiled view, with the viewer's own attestations as trust (what
        /// protects directly trusted authors).
        fn view(&self, policy: &Policy) -> View<'static> {
            let direct = DirectTrust::from_state(&self.state, &policy.viewer, NOW);
            let trust: Arc<dyn TrustLookup> = Arc::new(direct);
            let credentials: Arc<dyn CredentialLookup> = Arc::new(NoCredentials);
            View::build(&self.state, policy, trust, credentials, NOW)
        }

        fn derive(&self, views: &[&View<'_>], follow: Follow) -> Derived {
            let bans = self
                .ban_lists
                .iter()
                .flat_map(|(g, ls)| ls.iter().map(move |l| (g, l)));
            derive_from_policies(&self.state, bans, views, follow, NOW, 1000)
        }
    }

    fn authors(f: &ReplicationFilter) -> Vec<PublicKey> {
        let mut v: Vec<_> = f.blocked_authors.iter().copied().collect();
        v.sort();
        v
    }

    #[test]
    fn one_viewer_of_two_subscribing_a_block_list_refuses_only_under_any_viewer() {
        let (alice, bob, curator, spammer, other) = (key(1), key(2), key(3), key(4), key(5));
        let mut w = World::default();
        let spam = w.list(&curator, "spam", ListPurpose::Block);
        w.add(&curator, &spam, &spammer, None);
        // An entry by someone who may not write to the list counts for nobody.
        w.add(&other, &spam, &other, None);
        let subscribed = Policy::new(alice.public_key()).subscribe(spam.clone(), 1.0);
        let a = w.view(&subscribed);
        let b = w.view(&Policy::new(bob.public_key()));

        let all = w.derive(&[&a, &b], Follow::AllViewers);
        assert!(all.filter.is_empty(), "{all:?}");
        let any = w.derive(&[&a, &b], Follow::AnyViewer);
        assert_eq!(authors(&any.filter), vec![spammer.public_key()]);
        assert_eq!(any.filter.n_group_bans(), 0);
        assert!(any.decisions >= 1);
        assert!(w.derive(&[&a, &b], Follow::Off).filter.is_empty());
        assert!(w.derive(&[], Follow::AnyViewer).filter.is_empty());

        // Once both subscribe, every viewer hides the spammer: all-viewers refuses too.
        let b2 = w.view(&Policy::new(bob.public_key()).subscribe(spam, 1.0));
        let all = w.derive(&[&a, &b2], Follow::AllViewers);
        assert_eq!(authors(&all.filter), vec![spammer.public_key()]);
        // And the refusal applies to the spammer's posts, not to anyone else's.
        assert_eq!(
            all.filter.check(&post(&spammer, None)),
            Err(Refusal::BlockedAuthor)
        );
        assert_eq!(all.filter.check(&post(&other, None)), Ok(()));
    }

    #[test]
    fn trusted_exempted_and_below_quorum_authors_are_not_refused() {
        let (viewer, curator, friend, spammer, exempted) = (key(1), key(3), key(6), key(4), key(7));
        let mut w = World::default();
        let spam = w.list(&curator, "spam", ListPurpose::Block);
        for who in [&friend, &spammer, &exempted] {
            w.add(&curator, &spam, who, None);
        }
        // The viewer attests the friend: a block list may warn about them, not hide them.
        w.put(
            &viewer,
            Body::Attest(AttestBody::new(friend.public_key(), 80)),
        );
        let mut policy = Policy::new(viewer.public_key()).subscribe(spam.clone(), 1.0);
        policy.exemptions.push(vouch_reputation::Exemption {
            list: spam.clone(),
            subject: Subject::Key(exempted.public_key()),
        });
        let v = w.view(&policy);
        let d = w.derive(&[&v], Follow::AnyViewer);
        assert_eq!(authors(&d.filter), vec![spammer.public_key()]);
        assert!(!d.filter.blocks(&friend.public_key()));
        assert!(!d.filter.blocks(&exempted.public_key()));

        // Two lists required, one lists the spammer: below the quorum (a warning), kept.
        policy.quorum = Quorum {
            min_lists: 2,
            min_weight: 1.0,
        };
        let v = w.view(&policy);
        assert!(w.derive(&[&v], Follow::AnyViewer).filter.is_empty());
    }

    #[test]
    fn group_bans_by_moderators_refuse_in_the_group_until_they_expire() {
        let (alice, bob, owner, troll, old_troll, framed, rando) =
            (key(1), key(2), key(10), key(11), key(12), key(13), key(14));
        let g = GroupRef {
            owner: owner.public_key(),
            name: "g".into(),
        };
        let mut w = World::default();
        let bans = w.list_in(&owner, "g-bans", ListPurpose::Ban, Some(g.clone()));
        let expires = NOW + 60_000;
        w.add(&owner, &bans, &troll, Some(expires));
        // Expired: the ban no longer hides anyone.
        w.add(&owner, &bans, &old_troll, Some(NOW - 1));
        // Not a moderator: ignored.
        w.add(&rando, &bans, &framed, None);

        let enforcing = w.view(&Policy::new(alice.public_key()));
        let mut lax = Policy::new(bob.public_key());
        lax.group_rules = false;
        let lax = w.view(&lax);

        let one = w.derive(&[&enforcing], Follow::AllViewers);
        assert_eq!(one.filter.n_authors(), 0);
        assert_eq!(one.filter.n_group_bans(), 1, "{one:?}");
        assert!(one.filter.bans(&g, &troll.public_key()));
        assert!(!one.filter.bans(&g, &old_troll.public_key()));
        assert!(!one.filter.bans(&g, &framed.public_key()));
        // Derive again when the ban expires.
        assert_eq!(one.next_expiry, Some(expires));
        // The troll's posts in the group are refused; elsewhere they are not.
        assert_eq!(
            one.filter.check(&post(&troll, Some(g.clone()))),
            Err(Refusal::BannedInGroup)
        );
        assert_eq!(one.filter.check(&post(&troll, None)), Ok(()));

        // A viewer who does not enforce group rules would see the troll's posts.
        let all = w.derive(&[&enforcing, &lax], Follow::AllViewers);
        assert!(all.filter.is_empty(), "{all:?}");
        let any = w.derive(&[&enforcing, &lax], Follow::AnyViewer);
        assert!(any.filter.bans(&g, &troll.public_key()));
    }

    #[test]
    fn candidates_are_bounded_and_the_rest_counted() {
        let (viewer, curator) = (key(1), key(3));
        let mut w = World::default();
        let spam = w.list(&curator, "spam", ListPurpose::Block);
        for n in 100..110 {
            w.add(&curator, &spam, &key(n), None);
        }
        let v = w.view(&Policy::new(viewer.public_key()).subscribe(spam, 1.0));
        let bans = std::iter::empty::<(&GroupRef, &ListRef)>();
        let d = derive_from_policies(&w.state, bans, &[&v], Follow::AllViewers, NOW, 4);
        assert_eq!(d.filter.n_authors(), 4);
        assert_eq!(d.skipped, 6);
        let d = derive_from_policies(
            &w.state,
            std::iter::empty::<(&GroupRef, &ListRef)>(),
            &[&v],
            Follow::AllViewers,
            NOW,
            100,
        );
        assert_eq!((d.filter.n_authors(), d.skipped), (10, 0));
    }
}
