//! Vouch reputation core.
#![deny(missing_docs)]

mod trust;

pub use trust::{
    Attestation, AuthorId, Evidence, EvidenceKind, Explanation, GroupId, IngestError, Ingested,
    KeyBytes, ObjectId, PathHop, Revocation, Rotation, TrustGraph, TrustParams, TrustPath,
    TrustScore, TrustView, Vote,
};
