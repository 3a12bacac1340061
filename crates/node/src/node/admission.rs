//! Admission control: which authors' objects from the network this node stores and relays,
//! and a bounded quarantine for everyone else (`specs/sync.md`, "Admission").
//!
//! An author is *admitted* when it is within reach of what the node's viewers use: a local
//! viewer or configured root, any author with trust in a viewer's or root's view (trust
//! reach), the owner and moderators of a followed group, the curator of a subscribed list,
//! a key a viewer's policy names (labelers, overrides, exemptions). The engine derives the
//! set ([`derive`]) when it republishes the views and puts it in force with
//! [`Admission::replace`]; newly admitted authors get their quarantined objects promoted
//! into the store. Everyone else's objects go to the quarantine (bounded per author and in
//! total), are not relayed, not served by catch-up and never reach the engine: fresh keys
//! cost the node a bounded amount of disk and no memory.
//!
//! Each quarantined object carries its author's *standing* ([`Admit::Quarantine`]): 0 for an
//! author outside reach, more for one within reach that waits only because the store is over
//! its disk quota (the better the trust a viewer or root gives it, the higher). Over its
//! bounds the quarantine evicts the least standing first, oldest first among equals, so a
//! flood from fresh keys evicts only its own kind while trusted authors wait.
//!
//! The node also remembers, in bounded memory, the ids it refused or quarantined
//! ([`RefusedIds`], two generations of Bloom filters), so catch-up does not fetch them again
//! and a peer cannot learn a viewer's refusals by watching what the node re-fetches.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use vouch_identity::PublicKey;
use vouch_reputation::{GroupRef, ObjectId, Subject, TrustGraph, TrustView, View};

use crate::node::metrics::Metrics;
use crate::node::store::QuarantineQuotas;

/// When admission control is on (`[admission] mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdmissionMode {
    /// On when the node has a local viewer or a configured root (a node with neither is a
    /// relay: it has no one to rank authors for).
    #[default]
    Auto,
    /// Always on (a node with no viewers and no roots then admits no one from the network).
    On,
    /// Off: every valid, unrefused object is stored and relayed.
    Off,
}

/// `[admission]` settings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdmissionConfig {
    /// When admission control is on.
    pub mode: AdmissionMode,
    /// Keys (`did:key`) whose trust reach is admitted as a viewer's is.
    pub roots: Vec<String>,
    /// Most quarantined objects per author.
    pub quarantine_per_author: u64,
    /// Most quarantined objects in all.
    pub quarantine_objects: u64,
    /// Most MiB of quarantined objects in all.
    pub quarantine_mib: u64,
    /// Disk quota of the store in MiB (0: none). Over it, only the viewers' core (the
    /// viewers, roots, named keys, followed groups' owners and moderators, subscribed
    /// lists' curators) is admitted from the network; everyone else goes to the
    /// quarantine. Nothing stored is evicted.
    pub max_store_mib: u64,
    /// Most ballots admitted per known poll from keys outside reach (ballots are signed by
    /// fresh, unlinkable voting keys by design: their worth is the personhood proof, checked
    /// later on background threads).
    pub ballots_per_poll: u64,
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        AdmissionConfig {
            mode: AdmissionMode::Auto,
            roots: Vec::new(),
            quarantine_per_author: 8,
            quarantine_objects: 20_000,
            quarantine_mib: 64,
            max_store_mib: 0,
            ballots_per_poll: 10_000,
        }
    }
}

impl AdmissionConfig {
    /// The quarantine's bounds.
    pub(crate) fn quotas(&self) -> QuarantineQuotas {
        QuarantineQuotas {
            per_author: self.quarantine_per_author.max(1),
            objects: self.quarantine_objects.max(1),
            bytes: self.quarantine_mib.max(1).saturating_mul(1024 * 1024),
        }
    }
}

/// What to do with a valid, unrefused object from the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Store and relay it.
    Store,
    /// Hold it in quarantine: not relayed, not served, not applied.
    Quarantine {
        /// Its author's standing: 0 outside reach ([`STRANGER`]), else [`standing_of`] its
        /// best trust score. The quarantine evicts the least standing first.
        standing: u32,
    },
}

/// The standing of an author outside reach (and of anything admitted by exception, such as
/// ballots over their poll's allowance): the first to be evicted.
pub(crate) const STRANGER: u32 = 0;

/// The standing of an author within reach whose best trust score (in [0, 1], over the local
/// viewers' and roots' views) is `score`: 1 plus the score in millionths, so any author
/// within reach outranks every stranger and a more trusted one a less trusted one.
pub(crate) fn standing_of(score: f64) -> u32 {
    let millionths = if score.is_finite() {
        (score.clamp(0.0, 1.0) * 1e6).round() as u32
    } else {
        0
    };
    1 + millionths
}

#[derive(Debug, Default)]
struct AdmittedSet {
    /// Whether the set is in force (mode, and viewers or roots for `auto`).
    active: bool,
    /// The viewers' core: admitted even over the disk quota.
    core: HashSet<PublicKey>,
    /// Everyone within reach (the core included), with their standing ([`standing_of`]).
    reach: HashMap<PublicKey, u32>,
    /// Polls the engine holds (so their authors were admitted): ballots for them are
    /// admitted whoever signs them, up to `ballots_per_poll` each.
    polls: HashSet<ObjectId>,
}

/// The admitted authors, shared by ingest (which reads) and the engine (which replaces).
/// Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Admission {
    set: Arc<RwLock<AdmittedSet>>,
    mode: AdmissionMode,
    quotas: QuarantineQuotas,
    max_store_bytes: u64,
    metrics: Arc<Metrics>,
    refused: Arc<Mutex<RefusedIds>>,
    generation: Arc<AtomicU64>,
    ballots_per_poll: u64,
    ballots: Arc<Mutex<std::collections::HashMap<ObjectId, u64>>>,
}

impl Admission {
    /// Admission with `config`; until the engine derives the set, nobody is admitted from
    /// the network when the mode is `on`, and everybody when it is `auto` or `off`.
    pub(crate) fn new(config: &AdmissionConfig, metrics: Arc<Metrics>) -> Self {
        Admission {
            set: Arc::new(RwLock::new(AdmittedSet {
                active: config.mode == AdmissionMode::On,
                ..AdmittedSet::default()
            })),
            mode: config.mode,
            quotas: config.quotas(),
            max_store_bytes: config.max_store_mib.saturating_mul(1024 * 1024),
            metrics,
            refused: Arc::new(Mutex::new(RefusedIds::new(REFUSED_IDS_PER_GENERATION))),
            generation: Arc::new(AtomicU64::new(0)),
            ballots_per_poll: config.ballots_per_poll,
            ballots: Arc::default(),
        }
    }

    /// Admission off: every object is stored (tools and tests).
    pub(crate) fn off(metrics: Arc<Metrics>) -> Self {
        Admission::new(
            &AdmissionConfig {
                mode: AdmissionMode::Off,
                ..AdmissionConfig::default()
            },
            metrics,
        )
    }

    /// The quarantine's bounds.
    pub(crate) fn quotas(&self) -> QuarantineQuotas {
        self.quotas
    }

    /// What to do with an object from the network: a ballot for a poll the engine holds is
    /// admitted whoever signs it (up to `ballots_per_poll` per poll, counted since start),
    /// anything else by its author ([`Admission::decide`]).
    pub(crate) fn decide_object(&self, obj: &vouch_reputation::SignedObject) -> Admit {
        if let vouch_reputation::Body::Ballot(b) = obj.body() {
            let set = self.set.read().unwrap_or_else(|p| p.into_inner());
            if set.active && set.polls.contains(&b.poll) && !set.reach.contains_key(obj.author()) {
                drop(set);
                let mut counts = self.ballots.lock().unwrap_or_else(|p| p.into_inner());
                let n = counts.entry(b.poll).or_insert(0);
                if *n < self.ballots_per_poll {
                    *n += 1;
                    Metrics::inc(&self.metrics.admission_ballots_total);
                    return Admit::Store;
                }
                Metrics::inc(&self.metrics.admission_ballots_over_total);
                return Admit::Quarantine { standing: STRANGER };
            }
        }
        if let vouch_reputation::Body::Rotate(vouch_reputation::RotateBody::Reveal {
            old, ..
        }) = obj.body()
        {
            // A pre-rotation is signed by the new key, a stranger until it counts: it is
            // admitted when the key it replaces is (else a stolen key's owner could not
            // recover on nodes that run admission).
            if self.decide(old) == Admit::Store {
                return Admit::Store;
            }
        }
        self.decide(obj.author())
    }

    /// Puts in force the polls the engine holds; a poll new to the set clears the memory
    /// of refused ids, so catch-up fetches its ballots that were quarantined before it.
    pub(crate) fn set_polls(&self, polls: HashSet<ObjectId>) {
        let mut set = self.set.write().unwrap_or_else(|p| p.into_inner());
        let widened = polls.iter().any(|p| !set.polls.contains(p));
        set.polls = polls;
        drop(set);
        if widened {
            self.forget_refusals();
        }
    }

    /// What to do with an object by `author` from the network: an author within reach is
    /// quarantined only over the disk quota, with its standing; a stranger with none.
    pub(crate) fn decide(&self, author: &PublicKey) -> Admit {
        let set = self.set.read().unwrap_or_else(|p| p.into_inner());
        if !set.active || set.core.contains(author) {
            return Admit::Store;
        }
        let over_quota = self.over_quota();
        match set.reach.get(author) {
            Some(&standing) if over_quota => {
                Metrics::inc(&self.metrics.admission_over_quota_total);
                Admit::Quarantine { standing }
            }
            Some(_) => Admit::Store,
            None => {
                if over_quota {
                    Metrics::inc(&self.metrics.admission_over_quota_total);
                }
                Admit::Quarantine { standing: STRANGER }
            }
        }
    }

    /// Whether a disk quota is configured: only then do reachable authors' objects wait in
    /// quarantine with a positive standing, which must follow the reach as it changes.
    pub(crate) fn has_disk_quota(&self) -> bool {
        self.max_store_bytes > 0
    }

    /// Whether the store is over its disk quota (`max_store_mib`; none when 0).
    fn over_quota(&self) -> bool {
        self.max_store_bytes > 0
            && self.metrics.store_bytes.load(Ordering::Relaxed) > self.max_store_bytes
    }

    /// Puts a derived set in force; returns the authors admitted now that were not before
    /// and whose quarantined objects are to be promoted: over the disk quota only those of
    /// the core (the others' objects stay in quarantine, as [`Admission::decide`] would put
    /// them there). A set that admits more also clears the memory of refused ids, so
    /// catch-up fetches what it refused before.
    pub(crate) fn replace(
        &self,
        viewers_or_roots: bool,
        core: HashSet<PublicKey>,
        reach: HashMap<PublicKey, u32>,
    ) -> Vec<PublicKey> {
        let active = match self.mode {
            AdmissionMode::Auto => viewers_or_roots,
            AdmissionMode::On => true,
            AdmissionMode::Off => false,
        };
        let mut set = self.set.write().unwrap_or_else(|p| p.into_inner());
        let newly: Vec<PublicKey> = if active {
            reach
                .keys()
                .filter(|a| !set.reach.contains_key(a) || !set.active)
                .copied()
                .collect()
        } else {
            Vec::new()
        };
        let widened = (set.active && !active) || !newly.is_empty();
        let newly = if self.over_quota() {
            newly.into_iter().filter(|a| core.contains(a)).collect()
        } else {
            newly
        };
        set.active = active;
        set.core = core;
        set.reach = reach;
        self.metrics
            .admission_authors
            .store(set.reach.len() as u64, Ordering::Relaxed);
        Metrics::inc(&self.metrics.admission_builds_total);
        drop(set);
        if widened {
            self.forget_refusals();
        }
        newly
    }

    /// Remembers that this node refused or quarantined `id`.
    pub(crate) fn remember_refused(&self, id: &ObjectId) {
        let mut r = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        r.insert(id);
    }

    /// Whether this node refused or quarantined `id` (a Bloom filter: rarely a false yes).
    pub(crate) fn was_refused(&self, id: &ObjectId) -> bool {
        let r = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        r.contains(id)
    }

    /// Forgets every refusal (the rules changed: what was refused may be wanted now).
    pub(crate) fn forget_refusals(&self) {
        let mut r = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        r.clear();
        self.generation.fetch_add(1, Ordering::Relaxed);
    }
}

/// Ids remembered per Bloom generation.
pub(crate) const REFUSED_IDS_PER_GENERATION: usize = 500_000;
/// False-positive rate of each generation.
const REFUSED_FP_RATE: f64 = 0.001;

/// Ids this node refused, in two generations of Bloom filters (about 1.8 MB together):
/// when the current one holds its share, it becomes the previous one and a new one starts,
/// so memory is bounded and old refusals fade.
pub(crate) struct RefusedIds {
    per_generation: usize,
    current: Option<bloomfilter::Bloom<[u8; 32]>>,
    previous: Option<bloomfilter::Bloom<[u8; 32]>>,
    n_current: usize,
    seed: [u8; 32],
}

impl std::fmt::Debug for RefusedIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefusedIds")
            .field("n_current", &self.n_current)
            .finish()
    }
}

impl RefusedIds {
    /// Empty, holding `per_generation` ids per generation.
    pub(crate) fn new(per_generation: usize) -> Self {
        use rand::RngCore;
        let mut seed = [0u8; 32];
        // A per-process seed: a peer cannot craft ids that collide with refused ones.
        rand::rngs::OsRng.fill_bytes(&mut seed);
        RefusedIds {
            per_generation: per_generation.max(1),
            current: None,
            previous: None,
            n_current: 0,
            seed,
        }
    }

    fn fresh(&self) -> Option<bloomfilter::Bloom<[u8; 32]>> {
        bloomfilter::Bloom::new_for_fp_rate_with_seed(
            self.per_generation,
            REFUSED_FP_RATE,
            &self.seed,
        )
        .ok()
    }

    /// Remembers `id`.
    pub(crate) fn insert(&mut self, id: &ObjectId) {
        if self.n_current >= self.per_generation {
            self.previous = self.current.take();
            self.n_current = 0;
        }
        if self.current.is_none() {
            self.current = self.fresh();
        }
        if let Some(b) = self.current.as_mut() {
            b.set(&id.0);
            self.n_current += 1;
        }
    }

    /// Whether `id` was remembered (in either generation).
    pub(crate) fn contains(&self, id: &ObjectId) -> bool {
        self.current.as_ref().is_some_and(|b| b.check(&id.0))
            || self.previous.as_ref().is_some_and(|b| b.check(&id.0))
    }

    /// Forgets everything.
    pub(crate) fn clear(&mut self) {
        self.current = None;
        self.previous = None;
        self.n_current = 0;
    }
}

/// What the engine needs to keep admission in step: the shared set, the configured roots
/// and followed groups, and the writer that promotes quarantined objects.
#[derive(Debug, Clone)]
pub(crate) struct AdmissionHook {
    /// The set ingest reads.
    pub admission: Admission,
    /// Configured roots.
    pub roots: Vec<PublicKey>,
    /// Groups the node follows (from its config).
    pub groups: Vec<GroupRef>,
    /// Promotes quarantined objects of newly admitted authors.
    pub writer: crate::node::store::StoreWriter,
}

/// One local viewer as admission sees it: its policy's compiled view and its trust view.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ViewerReach<'a> {
    /// The viewer.
    pub viewer: PublicKey,
    /// Its compiled view (subscribed lists).
    pub view: &'a View<'static>,
    /// Its trust view.
    pub trust: &'a TrustView,
    /// Its policy's named keys (labelers, overrides, exemptions).
    pub named: &'a [PublicKey],
    /// Groups its event stream follows.
    pub groups: &'a [GroupRef],
}

/// Derives `(core, reach)`: the core is the viewers and roots, the keys they name, the
/// curators of their lists and the owners and moderators of followed groups; the reach is
/// the core plus every author with trust in a viewer's or root's view, each with its
/// standing ([`standing_of`] the best trust score any of those views gives it; 1 for a
/// member of the core without one).
pub(crate) fn derive(
    graph: &TrustGraph,
    state: &vouch_reputation::ModerationState,
    viewers: &[ViewerReach<'_>],
    roots: &[(PublicKey, &TrustView)],
    groups: &[GroupRef],
) -> (HashSet<PublicKey>, HashMap<PublicKey, u32>) {
    let mut core: HashSet<PublicKey> = HashSet::new();
    let mut followed: Vec<&GroupRef> = groups.iter().collect();
    for v in viewers {
        core.insert(v.viewer);
        core.extend(v.named.iter().copied());
        for (list, _) in v.view.lists() {
            core.insert(list.owner);
        }
        followed.extend(v.groups.iter());
    }
    for (root, _) in roots {
        core.insert(*root);
    }
    for g in followed {
        core.insert(g.owner);
        if let Some((_, header)) = state.group_header(g) {
            core.extend(header.moderators.iter().copied());
            // The issuer the group's rules name: its revocations must arrive.
            core.extend(
                header
                    .policy
                    .credential_issuer
                    .as_deref()
                    .and_then(|d| PublicKey::from_did_key(d).ok()),
            );
        }
    }
    let mut reach: HashMap<PublicKey, u32> = core.iter().map(|k| (*k, standing_of(0.0))).collect();
    let views = viewers
        .iter()
        .map(|v| v.trust)
        .chain(roots.iter().map(|(_, t)| *t));
    for trust in views {
        for (key, score) in trust.scores(graph) {
            if score.trust > 0.0 {
                if let Ok(k) = PublicKey::from_bytes(&key) {
                    let standing = reach.entry(k).or_insert(0);
                    *standing = (*standing).max(standing_of(score.score));
                }
            }
        }
    }
    (core, reach)
}

/// Adds to `reach` the keys identity needs (`Identity::identity_reach`: identity keys linked
/// by posting keys within reach, issuers of the credentials the node holds), each with the
/// best standing it is given; keys already within reach keep theirs if higher.
pub(crate) fn extend_reach(reach: &mut HashMap<PublicKey, u32>, extra: Vec<(PublicKey, u32)>) {
    for (k, standing) in extra {
        let s = reach.entry(k).or_insert(standing);
        *s = (*s).max(standing);
    }
}

/// The keys a policy names: labelers, curators, the `did:key` issuers it accepts
/// (`verified_issuers`: their revocations must arrive), and the key subjects of its
/// overrides and exemptions.
pub(crate) fn named_keys(policy: &vouch_reputation::Policy) -> Vec<PublicKey> {
    let mut out: Vec<PublicKey> = policy.labelers.clone();
    out.extend(
        policy
            .verified_issuers
            .iter()
            .filter_map(|d| PublicKey::from_did_key(d).ok()),
    );
    out.extend(policy.curators.iter().map(|c| c.curator));
    out.extend(policy.overrides.iter().filter_map(|o| match o.subject {
        Subject::Key(k) => Some(k),
        _ => None,
    }));
    out.extend(policy.exemptions.iter().filter_map(|e| match e.subject {
        Subject::Key(k) => Some(k),
        _ => None,
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use vouch_identity::SecretKey;

    fn key(n: u8) -> PublicKey {
        SecretKey::from_seed(&[n; 32]).public_key()
    }

    /// A reach of `keys`, each with the least standing within reach.
    fn within(keys: &[PublicKey]) -> HashMap<PublicKey, u32> {
        keys.iter().map(|k| (*k, standing_of(0.0))).collect()
    }

    #[test]
    fn strangers_go_to_quarantine_only_while_admission_is_in_force() {
        let m = Arc::new(Metrics::default());
        let auto = Admission::new(&AdmissionConfig::default(), m.clone());
        // Before the engine derives the set, and without viewers: everyone is stored.
        assert_eq!(auto.decide(&key(9)), Admit::Store);
        let core: HashSet<_> = [key(1)].into();
        let reach = within(&[key(1), key(2)]);
        let newly = auto.replace(true, core.clone(), reach.clone());
        assert_eq!(newly.len(), 2);
        assert_eq!(auto.decide(&key(1)), Admit::Store);
        assert_eq!(auto.decide(&key(2)), Admit::Store);
        assert_eq!(
            auto.decide(&key(9)),
            Admit::Quarantine { standing: STRANGER }
        );
        // Same set again: nobody newly admitted. A vouched-for newcomer is.
        assert!(auto.replace(true, core.clone(), reach.clone()).is_empty());
        let mut wider = reach.clone();
        wider.insert(key(9), standing_of(0.5));
        assert_eq!(auto.replace(true, core.clone(), wider), vec![key(9)]);
        assert_eq!(auto.decide(&key(9)), Admit::Store);
        // The last viewer leaves: auto turns off.
        auto.replace(false, HashSet::new(), HashMap::new());
        assert_eq!(auto.decide(&key(77)), Admit::Store);
        // Off never quarantines; on quarantines from the start.
        let off = Admission::off(m.clone());
        off.replace(true, core.clone(), reach.clone());
        assert_eq!(off.decide(&key(9)), Admit::Store);
        let on = Admission::new(
            &AdmissionConfig {
                mode: AdmissionMode::On,
                ..AdmissionConfig::default()
            },
            m,
        );
        assert_eq!(on.decide(&key(1)), Admit::Quarantine { standing: STRANGER });
    }

    #[test]
    fn ballots_for_known_polls_and_rotations_of_admitted_keys_get_in() {
        use vouch_reputation::{BallotBody, Body, Object, RotateBody};
        let m = Arc::new(Metrics::default());
        let a = Admission::new(
            &AdmissionConfig {
                ballots_per_poll: 2,
                ..AdmissionConfig::default()
            },
            m.clone(),
        );
        a.replace(true, [key(1)].into(), within(&[key(1)]));
        let poll = ObjectId::of_bytes(b"a poll");
        let ballot = |voter: u8, poll: ObjectId| {
            let k = SecretKey::from_seed(&[voter; 32]);
            Object {
                author: k.public_key(),
                at: 1_000,
                body: Body::Ballot(BallotBody {
                    poll,
                    choice: 0,
                    proof: vec![1, 2, 3],
                }),
            }
            .sign(&k)
            .unwrap()
        };
        // A ballot for a poll the engine does not hold: its fresh key is a stranger.
        assert_eq!(
            a.decide_object(&ballot(50, poll)),
            Admit::Quarantine { standing: STRANGER }
        );
        a.set_polls([poll].into());
        assert_eq!(a.decide_object(&ballot(51, poll)), Admit::Store);
        assert_eq!(a.decide_object(&ballot(52, poll)), Admit::Store);
        // Past `ballots_per_poll`, quarantined; another poll is still unknown.
        assert_eq!(
            a.decide_object(&ballot(53, poll)),
            Admit::Quarantine { standing: STRANGER }
        );
        assert_eq!(
            a.decide_object(&ballot(54, ObjectId::of_bytes(b"other"))),
            Admit::Quarantine { standing: STRANGER }
        );
        assert_eq!(m.admission_ballots_total.load(Ordering::Relaxed), 2);
        assert_eq!(m.admission_ballots_over_total.load(Ordering::Relaxed), 1);
        // A pre-rotation signed by a fresh key: in when the key it replaces is admitted.
        let reveal = |old: PublicKey| {
            let k = SecretKey::from_seed(&[60; 32]);
            Object {
                author: k.public_key(),
                at: 1_000,
                body: Body::Rotate(RotateBody::Reveal {
                    old,
                    next: None,
                    since: None,
                }),
            }
            .sign(&k)
            .unwrap()
        };
        assert_eq!(a.decide_object(&reveal(key(1))), Admit::Store);
        assert_eq!(
            a.decide_object(&reveal(key(9))),
            Admit::Quarantine { standing: STRANGER }
        );
    }

    #[test]
    fn issuers_a_viewer_accepts_are_named_and_identity_keys_join_the_reach() {
        let mut policy = vouch_reputation::Policy::new(key(1));
        policy.verified_issuers = vec![
            key(5).to_did_key(),
            // Not an ed25519 did:key (a BBS issuer): it signs no revocation objects.
            "did:key:zUC7notanedkey".into(),
            "did:web:example.org".into(),
        ];
        assert_eq!(named_keys(&policy), vec![key(5)]);
        let mut reach = within(&[key(1)]);
        let high = standing_of(0.5);
        extend_reach(
            &mut reach,
            vec![(key(6), high), (key(1), high), (key(6), 1)],
        );
        assert_eq!(reach.get(&key(6)), Some(&high), "the best standing wins");
        assert_eq!(reach.get(&key(1)), Some(&high));
    }

    #[test]
    fn over_the_disk_quota_only_the_core_is_admitted() {
        let m = Arc::new(Metrics::default());
        let a = Admission::new(
            &AdmissionConfig {
                max_store_mib: 1,
                ..AdmissionConfig::default()
            },
            m.clone(),
        );
        a.replace(true, [key(1)].into(), within(&[key(1), key(2)]));
        assert_eq!(a.decide(&key(2)), Admit::Store);
        m.store_bytes.store(2 * 1024 * 1024, Ordering::Relaxed);
        assert_eq!(a.decide(&key(1)), Admit::Store);
        assert_eq!(
            a.decide(&key(2)),
            Admit::Quarantine {
                standing: standing_of(0.0)
            }
        );
        assert_eq!(m.admission_over_quota_total.load(Ordering::Relaxed), 1);
        // Over the quota, a new set promotes the core's quarantined objects only (after a
        // restart every author is new to the set): the rest stay where `decide` puts them.
        let b = Admission::new(
            &AdmissionConfig {
                max_store_mib: 1,
                ..AdmissionConfig::default()
            },
            m.clone(),
        );
        let newly = b.replace(true, [key(1)].into(), within(&[key(1), key(2)]));
        assert_eq!(newly, vec![key(1)]);
        m.store_bytes.store(0, Ordering::Relaxed);
        let c = Admission::new(
            &AdmissionConfig {
                max_store_mib: 1,
                ..AdmissionConfig::default()
            },
            m.clone(),
        );
        let mut newly = c.replace(true, [key(1)].into(), within(&[key(1), key(2)]));
        newly.sort();
        let mut both = vec![key(1), key(2)];
        both.sort();
        assert_eq!(newly, both);
    }

    #[test]
    fn over_the_disk_quota_a_trusted_author_waits_with_a_standing_above_strangers() {
        use vouch_reputation::{Attestation, ModerationState, TrustParams};
        // A root trusts `high`, who trusts `low` (one step further: less of the root's
        // trust); `stranger` is outside its reach.
        let (root, high, low, stranger) = (key(1), key(2), key(3), key(9));
        let mut graph = TrustGraph::new(None);
        for (n, (author, subject)) in [(root, high), (high, low)].into_iter().enumerate() {
            graph
                .add_attestation(&Attestation {
                    author: *author.as_bytes(),
                    subject: *subject.as_bytes(),
                    level: 80,
                    context: None,
                    expires_at_ms: None,
                    at_ms: 1_000,
                    object: [n as u8 + 1; 32],
                })
                .unwrap();
        }
        graph.set_now(2_000);
        let trust = TrustView::compute(&graph, root.as_bytes(), &[], TrustParams::default());
        let score = |k: PublicKey| trust.score(&graph, k.as_bytes()).unwrap().score;
        assert!(score(high) > score(low) && score(low) > 0.0);
        let (core, reach) = derive(
            &graph,
            &ModerationState::default(),
            &[],
            &[(root, &trust)],
            &[],
        );
        assert_eq!(reach[&high], standing_of(score(high)));
        assert!(!reach.contains_key(&stranger));

        let m = Arc::new(Metrics::default());
        let a = Admission::new(
            &AdmissionConfig {
                max_store_mib: 1,
                ..AdmissionConfig::default()
            },
            m.clone(),
        );
        a.replace(true, core, reach);
        m.store_bytes.store(2 * 1024 * 1024, Ordering::Relaxed);
        let standing = |k: PublicKey| match a.decide(&k) {
            Admit::Quarantine { standing } => standing,
            Admit::Store => panic!("{k} stored over the disk quota"),
        };
        // The root is the core: stored even over the quota.
        assert_eq!(a.decide(&root), Admit::Store);
        assert_eq!(standing(stranger), STRANGER);
        assert!(standing(low) > STRANGER, "{}", standing(low));
        assert!(
            standing(high) > standing(low),
            "{} vs {}",
            standing(high),
            standing(low)
        );
        // Under the quota the same authors are stored, the stranger still is not.
        m.store_bytes.store(0, Ordering::Relaxed);
        assert_eq!(a.decide(&low), Admit::Store);
        assert_eq!(
            a.decide(&stranger),
            Admit::Quarantine { standing: STRANGER }
        );
        // Scores map into standings in order, never below 1, never past the top.
        assert_eq!(standing_of(0.0), 1);
        assert_eq!(standing_of(1.0), 1_000_001);
        assert_eq!(standing_of(f64::NAN), 1);
        assert!(standing_of(0.000_002) > standing_of(0.000_001));
    }

    #[test]
    fn refused_ids_are_remembered_in_bounded_generations() {
        let mut r = RefusedIds::new(100);
        let id = |n: u32| ObjectId(*blake(n));
        for n in 0..100 {
            r.insert(&id(n));
        }
        assert!((0..100).all(|n| r.contains(&id(n))));
        let false_yes = (1000..11_000).filter(|n| r.contains(&id(*n))).count();
        assert!(false_yes < 100, "{false_yes} false positives in 10,000");
        // Two more generations: the first ids are forgotten.
        for n in 100..300 {
            r.insert(&id(n));
        }
        assert!(!(0..100).all(|n| r.contains(&id(n))));
        assert!((200..300).all(|n| r.contains(&id(n))));
        r.clear();
        assert!(!r.contains(&id(250)));
    }

    fn blake(n: u32) -> Box<[u8; 32]> {
        use sha2::Digest;
        let d = sha2::Sha256::digest(n.to_be_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(&d);
        Box::new(out)
    }

    #[test]
    fn a_set_that_admits_more_forgets_refusals() {
        let a = Admission::new(&AdmissionConfig::default(), Arc::new(Metrics::default()));
        let id = ObjectId([7; 32]);
        a.remember_refused(&id);
        assert!(a.was_refused(&id));
        a.replace(true, [key(1)].into(), within(&[key(1)]));
        assert!(!a.was_refused(&id));
        a.remember_refused(&id);
        // The same set again does not.
        a.replace(true, [key(1)].into(), within(&[key(1)]));
        assert!(a.was_refused(&id));
    }
}
