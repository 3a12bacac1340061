//! Per-viewer, sybil-tolerant trust: the input records, the trust graph and the viewer's view.
//!
//! The metric is specified in `specs/trust.md`. In short: trust is a conserved budget of mass
//! that flows out from the viewer's roots along positive attestations (a share `alpha` moves on
//! at every hop, the rest stays), so a region reached through `g` edges gains at most what
//! those edges carry. The ratings an author received, weighted by the viewer's trust in each
//! rater, plus the author's distrust of the viewer and the viewer's own distrust of keys that
//! vouch for it, give its goodness (evidence against a prior); its score is its reach
//! discounted by that balance. Distrust never chains further than one step.

mod explain;
mod graph;
mod view;

pub use explain::{Evidence, EvidenceKind, Explanation, PathHop, TrustPath};
pub use graph::{AuthorId, Ingested, TrustGraph};
pub use view::{EvidenceBudget, PriorRule, TrustParams, TrustScore, TrustView};

/// A 32-byte ed25519 public key (`vouch_identity::PublicKey::as_bytes`).
pub type KeyBytes = [u8; 32];
/// The sha2-256 digest of a signed object; carried into explanations.
pub type ObjectDigest = [u8; 32];
/// The identifier of a group, used as an attestation's context.
pub type GroupId = [u8; 32];

/// A validated attestation: `author` trusts (`level > 0`) or distrusts (`level < 0`) `subject`.
///
/// The latest attestation per (author, subject, context) replaces earlier ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestation {
    /// The attesting key.
    pub author: KeyBytes,
    /// The key the attestation is about.
    pub subject: KeyBytes,
    /// Trust level in -100..=100; 0 retracts an earlier attestation.
    pub level: i8,
    /// The group the attestation is limited to, if any.
    pub context: Option<GroupId>,
    /// Milliseconds since the epoch after which the attestation no longer counts.
    pub expires_at_ms: Option<u64>,
    /// Milliseconds since the epoch when the attestation was made.
    pub at_ms: u64,
    /// The object's digest.
    pub object: ObjectDigest,
}

/// A validated vote on an author: weak evidence, never a trust path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vote {
    /// The voting key.
    pub voter: KeyBytes,
    /// The author voted on.
    pub target: KeyBytes,
    /// +1 or -1.
    pub value: i8,
    /// Milliseconds since the epoch when the vote was cast.
    pub at_ms: u64,
    /// The object's digest.
    pub object: ObjectDigest,
}

/// A validated version 1 key rotation (a handover signed by `old`): from `at_ms` on, `old`
/// speaks as `new`, and trust in `old` moves to `new`, if it counts (`specs/trust.md` §1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The retired key.
    pub old: KeyBytes,
    /// The key that replaces it.
    pub new: KeyBytes,
    /// Milliseconds since the epoch when the rotation takes effect.
    pub at_ms: u64,
    /// The object's digest.
    pub object: ObjectDigest,
}

/// A validated revocation: `key` is compromised since `since_ms`; its attestations and votes
/// dated at or after that instant are void.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The compromised key.
    pub key: KeyBytes,
    /// Milliseconds since the epoch from which the key's objects are void.
    pub since_ms: u64,
    /// The object's digest.
    pub object: ObjectDigest,
}

impl TrustGraph {
    /// Feeds a validated object to the graph: attestations become edges, votes on authors
    /// weak evidence, key events (`incept`, `rotate`, `revoke`) move or void a key's edges. Other kinds (and
    /// votes on objects) do not touch the trust graph and come back as
    /// [`Ingested::OutOfScope`].
    pub fn apply_object(&mut self, object: &crate::SignedObject) -> Result<Ingested, IngestError> {
        use crate::{Body, Subject};
        let author = *object.author().as_bytes();
        let digest = object.id().0;
        let at_ms = object.at();
        match object.body() {
            Body::Attest(a) => self.add_attestation(&Attestation {
                author,
                subject: *a.subject.as_bytes(),
                // Validation bounds the level to -100..=100, so it fits an i8.
                level: i8::try_from(a.level).map_err(|_| IngestError::LevelOutOfRange(i8::MAX))?,
                context: a.context.as_ref().map(crate::GroupRef::id),
                expires_at_ms: a.expires,
                at_ms,
                object: digest,
            }),
            Body::Vote(v) => match v.target {
                Subject::Key(target) => self.add_vote(&Vote {
                    voter: author,
                    target: *target.as_bytes(),
                    value: if v.value > 0 { 1 } else { -1 },
                    at_ms,
                    object: digest,
                }),
                Subject::Object(_) => Ok(Ingested::OutOfScope),
            },
            Body::Rotate(_) | Body::Revoke(_) | Body::Incept(_) => {
                match crate::KeyEvent::from_object(object.object()) {
                    Some(event) => self.add_key_event(digest, event),
                    None => Ok(Ingested::OutOfScope),
                }
            }
            _ => Ok(Ingested::OutOfScope),
        }
    }
}

/// Why the trust graph refused a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// An attestation level outside -100..=100.
    #[error("attestation level {0} outside -100..=100")]
    LevelOutOfRange(i8),
    /// A vote value other than +1 or -1.
    #[error("vote value {0} is not +1 or -1")]
    VoteValue(i8),
    /// A key attesting, voting on or rotating to itself.
    #[error("a key cannot attest, vote on or rotate to itself")]
    SelfReference,
    /// No longer returned: conflicting rotations are kept and resolved as a set (the key is
    /// then forked, `specs/identity.md` §1). Kept for the stability of the codes.
    #[error("key was already rotated to another key")]
    RotationConflict,
    /// The graph holds the maximum number of authors (2^32 - 2).
    #[error("too many authors")]
    TooManyAuthors,
}

impl IngestError {
    /// The stable code printed by the API and the CLI.
    pub fn code(&self) -> &'static str {
        match self {
            IngestError::LevelOutOfRange(_) => "trust.level_out_of_range",
            IngestError::VoteValue(_) => "trust.vote_value",
            IngestError::SelfReference => "trust.self_reference",
            IngestError::RotationConflict => "trust.rotation_conflict",
            IngestError::TooManyAuthors => "trust.too_many_authors",
        }
    }
}
