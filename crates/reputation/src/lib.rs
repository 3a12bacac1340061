//! Vouch reputation core: the signed object model and its validation; the trust graph,
//! policies and moderation decisions build on it.
//!
//! The crate is pure: no I/O, no clock, no randomness it did not receive. `now` comes in as
//! an argument, results come back as values.
#![deny(missing_docs)]

mod decide;
mod key_events;
mod object;
mod poll;
#[cfg(feature = "synthetic")]
pub mod synthetic;
mod trust;
mod validate;

pub use decide::{
    decide, decide_batch, diff, effective_seq, explain, AppealQueueItem, AppealState, Applied,
    CredentialLookup, CredentialProblem, CredentialSet, CuratorSubscription, Decision, DirectTrust,
    EngineTrust, EntryStatus, Equivocation, Exemption, GroupRules, IdentityFacts, Item, ListChange,
    ListEntry, ListHeader, ListRetraction, ListState, ListSubscription, Lookup, ModerationState,
    NoCredentials, ObjectIds, Override, Policy, PostItem, Quorum, Reason, ReasonCode, Reasons,
    ReportQueueItem, RuleAmendment, SubjectChange, TrustLookup, TrustStep, Verdict, View, ViewDiff,
    ViewerTrust, VotePolicy,
};
pub use key_events::{Commitment, KeyChange, KeyEvent, KeyEvents, KeyState, VoidCause};
pub use object::{
    Amendment, AppealBody, AppealOutcome, AttestBody, BallotBody, Body, CredentialBody,
    CredentialRevokeBody, DismissBody, GroupBody, GroupPolicy, GroupRef, InceptBody, Kind,
    LabelBody, LinkBody, ListAddBody, ListBody, ListPurpose, ListRef, ListRemoveBody, Object,
    ObjectId, PollBody, PostBody, ReportBody, RevokeBody, RotateBody, SignedObject, Subject,
    VoteBody, DAG_CBOR_CODEC, OBJECT_VERSION, SHA2_256_CODE,
};
#[cfg(feature = "personhood")]
pub use poll::{personhood_issuer, BbsPersonhood};
pub use poll::{
    tally_personhood_poll, DoubleVote, PersonhoodBallot, PersonhoodCheck, PersonhoodVerifier, Poll,
    PollError, PollPseudonym, PollRecord, PollResult, PollTally, ProofCheck, BALLOT_PREFIX,
    MAX_CHOICES, POLL_PSEUDONYM_LEN,
};
pub use trust::{
    Attestation, AuthorId, Evidence, EvidenceBudget, EvidenceKind, Explanation, GroupId,
    IngestError, Ingested, KeyBytes, ObjectDigest, PathHop, PriorRule, Revocation, Rotation,
    TrustGraph, TrustParams, TrustPath, TrustScore, TrustView, Vote,
};
pub use validate::{
    decode_stored, epoch_of, validate, validate_batch, Limits, ValidationError, ERROR_CODES,
    MS_PER_EPOCH,
};
