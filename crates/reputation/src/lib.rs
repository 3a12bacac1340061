//! Vouch reputation core: the signed object model and its validation; the trust graph,
//! policies and moderation decisions build on it.
//!
//! The crate is pure: no I/O, no clock, no randomness it did not receive. `now` comes in as
//! an argument, results come back as values.
#![deny(missing_docs)]

mod object;
mod poll;
mod validate;

pub use object::{
    AppealBody, AppealOutcome, AttestBody, Body, GroupBody, GroupPolicy, GroupRef, Kind, LabelBody,
    LinkBody, ListAddBody, ListBody, ListPurpose, ListRef, ListRemoveBody, Object, ObjectId,
    PostBody, ReportBody, RevokeBody, RotateBody, SignedObject, Subject, VoteBody, DAG_CBOR_CODEC,
    OBJECT_VERSION, SHA2_256_CODE,
};
#[cfg(feature = "personhood")]
pub use poll::personhood_issuer;
pub use poll::{
    tally_personhood_poll, PersonhoodBallot, PersonhoodVerifier, Poll, PollError, PollPseudonym,
    PollTally, BALLOT_PREFIX, MAX_CHOICES, POLL_PSEUDONYM_LEN,
};
pub use validate::{
    epoch_of, validate, validate_batch, Limits, ValidationError, ERROR_CODES, MS_PER_EPOCH,
};
