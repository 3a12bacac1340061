//! Per-viewer, sybil-tolerant trust: the input records, the trust graph and the viewer's view.
//!
//! The metric is specified in `specs/trust.md`. In short: trust is a conserved budget of mass
//! that flows out from the viewer's roots along positive attestations (a share `alpha` moves on
//! at every hop, the rest stays), so a region reached through `g` edges gains at most what
//! those edges carry; the score of an author is its reach multiplied by the trust-weighted share
//! of positive evidence about it (one step of distrust, never chained).

mod explain;
mod graph;
mod view;

pub use explain::{Evidence, EvidenceKind, Explanation, PathHop, TrustPath};
pub use graph::{AuthorId, Ingested, TrustGraph};
pub use view::{TrustParams, TrustScore, TrustView};

/// A 32-byte ed25519 public key (`vouch_identity::PublicKey::as_bytes`).
pub type KeyBytes = [u8; 32];
/// The sha2-256 digest of a signed object; carried into explanations.
pub type ObjectId = [u8; 32];
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
    pub object: ObjectId,
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
    pub object: ObjectId,
}

/// A validated key rotation: from `at_ms` on, `old` speaks as `new`, and trust in `old` moves
/// to `new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The retired key.
    pub old: KeyBytes,
    /// The key that replaces it.
    pub new: KeyBytes,
    /// Milliseconds since the epoch when the rotation takes effect.
    pub at_ms: u64,
    /// The object's digest.
    pub object: ObjectId,
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
    pub object: ObjectId,
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
    /// A second rotation of a key that was already rotated to another key.
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
