//! Inputs a decision needs from outside this module: the viewer's trust in an author (with
//! the path that explains it) and whether an author holds a credential. The trust engine
//! plugs in through [`TrustLookup`]; [`DirectTrust`] is the one-hop stand-in.

use super::{FastMap, ModerationState};
use crate::{GroupRef, ObjectId, PersonhoodCheck, PollPseudonym};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Deref;
use std::sync::Arc;
use vouch_identity::PublicKey;

/// The viewer's trust in one author.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewerTrust {
    /// Trust in [0, 1].
    pub score: f32,
    /// True when the viewer attested the author themself (one hop). Such authors are
    /// protected from block lists unless the policy says otherwise.
    pub direct: bool,
}

/// One hop of a trust path: `from` attested `to` at `level` in object `attest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustStep {
    /// Who vouches.
    pub from: PublicKey,
    /// For whom.
    pub to: PublicKey,
    /// The attested level, -100..=100.
    pub level: i64,
    /// The attestation.
    pub attest: ObjectId,
}

/// The viewer's trust in authors. `trust` is on the hot path of every decision and must not
/// allocate; `path` is called only to explain. `Send + Sync` so that a compiled [`View`]
/// (which keeps its lookups) can be shared between threads.
///
/// [`View`]: crate::View
pub trait TrustLookup: Send + Sync {
    /// The viewer's trust in `author`, or `None` when there is no evidence at all.
    fn trust(&self, author: &PublicKey) -> Option<ViewerTrust>;
    /// The strongest path from the viewer to `author`, first hop first.
    fn path(&self, author: &PublicKey) -> Vec<TrustStep> {
        let _ = author;
        Vec::new()
    }
}

/// One-hop trust: the viewer's own latest, unexpired, context-free attestations. Level
/// `l > 0` gives trust `l / 100`; `l <= 0` gives trust 0 (still direct evidence).
#[derive(Debug, Clone, Default)]
pub struct DirectTrust {
    viewer: Option<PublicKey>,
    /// Keyed by the author's 32 bytes; the viewer's own choices, so a fixed hash seed is
    /// enough.
    entries: FastMap<[u8; 32], DirectEntry>,
}

/// One attestation by the viewer, as small as the lookup needs.
#[derive(Debug, Clone, Copy)]
struct DirectEntry {
    score: f32,
    level: i64,
    attest: ObjectId,
}

impl DirectTrust {
    /// An empty view for `viewer`.
    pub fn new(viewer: PublicKey) -> Self {
        DirectTrust {
            viewer: Some(viewer),
            entries: FastMap::default(),
        }
    }

    /// The viewer's attestations found in `state` that are in force at `now`.
    pub fn from_state(state: &ModerationState, viewer: &PublicKey, now: u64) -> Self {
        let mut t = DirectTrust::new(*viewer);
        for (subject, level, attest) in state.attestations_by(viewer, now) {
            t.insert(subject, level, attest);
        }
        t
    }

    /// Records the viewer's attestation of `subject` at `level` (-100..=100).
    pub fn insert(&mut self, subject: PublicKey, level: i64, attest: ObjectId) {
        let score = (level.clamp(0, 100) as f32) / 100.0;
        self.entries.insert(
            *subject.as_bytes(),
            DirectEntry {
                score,
                level,
                attest,
            },
        );
    }

    /// How many authors the view holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the view holds nobody.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl TrustLookup for DirectTrust {
    fn trust(&self, author: &PublicKey) -> Option<ViewerTrust> {
        self.entries.get(author.as_bytes()).map(|e| ViewerTrust {
            score: e.score,
            direct: true,
        })
    }

    fn path(&self, author: &PublicKey) -> Vec<TrustStep> {
        self.entries
            .get(author.as_bytes())
            .map(|e| {
                vec![TrustStep {
                    from: self.viewer.unwrap_or(*author),
                    to: *author,
                    level: e.level,
                    attest: e.attest,
                }]
            })
            .unwrap_or_default()
    }
}

/// Why a credential an author presented no longer counts (the host checked it with
/// `vouch_identity::verify_credential` and the revocations it holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialProblem {
    /// Its issuer revoked it.
    Revoked,
    /// It expired (or is not valid yet).
    Expired,
}

impl CredentialProblem {
    /// A stable name: `revoked` or `expired`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CredentialProblem::Revoked => "revoked",
            CredentialProblem::Expired => "expired",
        }
    }
}

/// What the identity layer verified, handed in by the host: whether an author holds a
/// credential from an issuer, and which pseudonym a personhood proof binds a voting key to.
/// Credential and proof checking live in `vouch-identity` (for proofs, a
/// [`PersonhoodVerifier`](crate::PersonhoodVerifier)); decisions only read the results.
pub trait CredentialLookup: Send + Sync {
    /// True when `author` holds a valid credential from `issuer` (a DID).
    fn holds(&self, author: &PublicKey, issuer: &str) -> bool;

    /// When `author` presented a credential from `issuer` that no longer counts, why.
    /// Read only to explain (and for `group-credential-missing`'s note); `holds` decides.
    fn problem(&self, author: &PublicKey, issuer: &str) -> Option<CredentialProblem> {
        let _ = (author, issuer);
        None
    }

    /// The pseudonym that a verified personhood proof, for scope (`group`, `epoch`) under
    /// the group's personhood issuer (`GroupPolicy::credential_issuer`), binds `voting_key`
    /// to; `None` when no verified proof does. Read when the view is built (bindings are as
    /// of `built_at`), only for votes in groups whose policy sets `personhood_votes`.
    fn pseudonym(
        &self,
        group: &GroupRef,
        epoch: u64,
        voting_key: &PublicKey,
    ) -> Option<PollPseudonym> {
        let _ = (group, epoch, voting_key);
        None
    }

    /// The verifier of the personhood proofs that `ballot` objects carry, with which a view
    /// tallies village polls (and so applies the group rules they amended). `None`: no poll
    /// can be verified and every group's header rules stand.
    fn personhood(&self) -> Option<&dyn PersonhoodCheck> {
        None
    }
}

/// Verified identity facts kept as sets: credentials held, and personhood bindings.
#[derive(Debug, Clone, Default)]
pub struct IdentityFacts {
    /// (author, issuer DID): the author holds a valid credential from the issuer.
    pub credentials: BTreeSet<(PublicKey, String)>,
    /// (group, epoch, voting key) -> the pseudonym a verified personhood proof binds the
    /// key to in that scope.
    pub pseudonyms: BTreeMap<(GroupRef, u64, PublicKey), PollPseudonym>,
    /// The verifier of ballots' personhood proofs (e.g. `BbsPersonhood`, shared between
    /// views so that each proof is verified once).
    pub personhood: Option<Arc<dyn PersonhoodCheck>>,
    /// (author, issuer DID) -> why a credential the author presented no longer counts.
    pub problems: BTreeMap<(PublicKey, String), CredentialProblem>,
}

impl CredentialLookup for IdentityFacts {
    fn holds(&self, author: &PublicKey, issuer: &str) -> bool {
        self.credentials.contains(&(*author, issuer.to_string()))
    }

    fn problem(&self, author: &PublicKey, issuer: &str) -> Option<CredentialProblem> {
        self.problems.get(&(*author, issuer.to_string())).copied()
    }

    fn pseudonym(
        &self,
        group: &GroupRef,
        epoch: u64,
        voting_key: &PublicKey,
    ) -> Option<PollPseudonym> {
        self.pseudonyms
            .get(&(group.clone(), epoch, *voting_key))
            .copied()
    }

    fn personhood(&self) -> Option<&dyn PersonhoodCheck> {
        self.personhood.as_deref()
    }
}

/// Nobody holds any credential.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCredentials;

impl CredentialLookup for NoCredentials {
    fn holds(&self, _: &PublicKey, _: &str) -> bool {
        false
    }
}

/// A set of checked (author, issuer) pairs.
#[derive(Debug, Clone, Default)]
pub struct CredentialSet(pub BTreeSet<(PublicKey, String)>);

impl CredentialLookup for CredentialSet {
    fn holds(&self, author: &PublicKey, issuer: &str) -> bool {
        self.0.contains(&(*author, issuer.to_string()))
    }
}

/// The trust engine as a decision's [`TrustLookup`]: scores and explanations come from the
/// viewer's [`crate::TrustView`]; whether an author is trusted *directly* (and so protected
/// from block lists) comes from the viewer's own attestations in a [`DirectTrust`].
#[derive(Debug, Clone, Copy)]
pub struct EngineTrust<'a> {
    graph: &'a crate::TrustGraph,
    view: &'a crate::TrustView,
    direct: &'a DirectTrust,
}

impl<'a> EngineTrust<'a> {
    /// Combines an engine view (computed for the viewer) with the viewer's own attestations.
    pub fn new(
        graph: &'a crate::TrustGraph,
        view: &'a crate::TrustView,
        direct: &'a DirectTrust,
    ) -> Self {
        EngineTrust {
            graph,
            view,
            direct,
        }
    }
}

impl TrustLookup for EngineTrust<'_> {
    fn trust(&self, author: &PublicKey) -> Option<ViewerTrust> {
        let direct = self.direct.trust(author).is_some_and(|t| t.score > 0.0);
        let engine = self.view.score(self.graph, author.as_bytes());
        match engine {
            Some(s) if s.has_signal() => Some(ViewerTrust {
                score: s.score as f32,
                direct,
            }),
            _ => self.direct.trust(author),
        }
    }

    fn path(&self, author: &PublicKey) -> Vec<TrustStep> {
        let strongest = self
            .view
            .explain(self.graph, author.as_bytes())
            .and_then(|e| e.paths.into_iter().next());
        let Some(path) = strongest else {
            return self.direct.path(author);
        };
        path.hops
            .iter()
            .filter_map(|hop| {
                Some(TrustStep {
                    from: PublicKey::from_bytes(&hop.from).ok()?,
                    to: PublicKey::from_bytes(&hop.to).ok()?,
                    level: i64::from(hop.level),
                    attest: ObjectId(hop.object),
                })
            })
            .collect()
    }
}

/// A lookup that a [`View`](crate::View) either borrows (`&lookup`, for a view that lives
/// next to its inputs) or shares (`Arc`, for a view a host keeps in a cache). `View::build`
/// takes anything that converts into one, so `&trust` and `Arc::new(trust)` both work.
pub enum Lookup<'a, T: ?Sized> {
    /// Borrowed for the view's lifetime.
    Borrowed(&'a T),
    /// Shared ownership.
    Shared(Arc<T>),
}

impl<T: ?Sized> Deref for Lookup<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self {
            Lookup::Borrowed(t) => t,
            Lookup::Shared(t) => t,
        }
    }
}

impl<T: ?Sized> std::fmt::Debug for Lookup<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Lookup::Borrowed(_) => "Lookup::Borrowed",
            Lookup::Shared(_) => "Lookup::Shared",
        })
    }
}

impl<'a, T: TrustLookup + 'a> From<&'a T> for Lookup<'a, dyn TrustLookup + 'a> {
    fn from(t: &'a T) -> Self {
        Lookup::Borrowed(t)
    }
}

impl<'a> From<Arc<dyn TrustLookup + 'a>> for Lookup<'a, dyn TrustLookup + 'a> {
    fn from(t: Arc<dyn TrustLookup + 'a>) -> Self {
        Lookup::Shared(t)
    }
}

impl<'a, T: CredentialLookup + 'a> From<&'a T> for Lookup<'a, dyn CredentialLookup + 'a> {
    fn from(t: &'a T) -> Self {
        Lookup::Borrowed(t)
    }
}

impl<'a> From<Arc<dyn CredentialLookup + 'a>> for Lookup<'a, dyn CredentialLookup + 'a> {
    fn from(t: Arc<dyn CredentialLookup + 'a>) -> Self {
        Lookup::Shared(t)
    }
}
