//! The JSON forms of the core's values, as the HTTP API, the viewers table and the CLI write
//! them: keys as `did:key`, objects as CIDs, lists and groups as `<owner did:key>/<name>`,
//! subjects as either. The library crates know nothing of JSON; every conversion is here.
//!
//! Parsing goes through [`JsonError`], whose stable codes the API returns.

mod decide;
mod decision;
mod diff;
mod events;
mod groups;
mod identity;
mod object;
mod policy;
mod refs;
mod tokens;
mod trust;
mod viewers;

pub(crate) use decide::*;
pub(crate) use decision::*;
pub(crate) use diff::*;
pub(crate) use events::*;
pub(crate) use groups::*;
pub(crate) use identity::*;
pub(crate) use object::*;
pub(crate) use policy::*;
pub(crate) use refs::*;
pub use refs::{group_str, list_str};
pub(crate) use tokens::*;
pub(crate) use trust::*;
pub(crate) use viewers::*;

/// A value in a request that is not what it should be. Every variant has a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum JsonError {
    /// Not a `did:key` of an ed25519 key.
    #[error("{field}: not an ed25519 did:key: {value:?}")]
    Did {
        /// Where.
        field: &'static str,
        /// What was given.
        value: String,
    },
    /// Not a CIDv1 dag-cbor sha2-256 object id.
    #[error("{field}: not a Vouch object CID: {value:?}")]
    Cid {
        /// Where.
        field: &'static str,
        /// What was given.
        value: String,
    },
    /// Not `<owner did:key>/<name>` with a name of 1 to 64 bytes.
    #[error("{field}: not <owner did:key>/<name>: {value:?}")]
    Ref {
        /// Where.
        field: &'static str,
        /// What was given.
        value: String,
    },
    /// A number outside its range, or a policy that contradicts itself.
    #[error("invalid policy: {0}")]
    Policy(String),
}

impl JsonError {
    /// The stable code.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            JsonError::Did { .. } => "bad-did",
            JsonError::Cid { .. } => "bad-cid",
            JsonError::Ref { .. } => "bad-ref",
            JsonError::Policy(_) => "invalid-policy",
        }
    }
}
