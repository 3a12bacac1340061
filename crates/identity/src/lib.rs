//! Vouch identity: anonymous ed25519 posting keys, their `did:key` form, signing with a
//! domain-separation prefix, and single and batch verification.
//!
//! The crate is pure: randomness comes in as an argument (`rand_core` RNGs), and the only
//! file access is the opt-in `keyfile` feature, which writes secret keys owner-only.
#![deny(missing_docs)]

mod did_key;
#[cfg(feature = "keyfile")]
mod keyfile;
mod keys;
#[cfg(feature = "personhood")]
mod personhood;
mod serde_impls;
mod sign;
#[cfg(feature = "vc")]
mod vc;

pub use did_key::DidKeyError;
#[cfg(feature = "keyfile")]
pub use keyfile::{read_key_file, write_key_file, KeyFileError};
pub use keys::{
    KeyDigest, KeyError, PublicKey, SecretKey, NEXT_KEY_PREFIX, PUBLIC_KEY_LEN, SIGNATURE_LEN,
};
#[cfg(feature = "personhood")]
pub use personhood::{
    verify_personhood, PendingPersonhood, PersonhoodCredential, PersonhoodError,
    PersonhoodIssuance, PersonhoodIssuer, PersonhoodIssuerKey, PersonhoodProof, PersonhoodRequest,
    PersonhoodScope, Pseudonym, CREDENTIAL_LEN, EXPIRY_GRANULARITY_MS, MAX_GROUP_LEN, PENDING_LEN,
    PERSONHOOD_ISSUER_KEY_LEN, PSEUDONYM_LEN,
};
pub use sign::{
    signing_message, verify, verify_batch, verify_prefixed, Domain, Signature, VerifyError,
};
#[cfg(feature = "vc")]
pub use vc::{
    issue_credential, verify_credential, CredentialRequest, Revocation, VcError,
    VerifiedCredential, CRYPTOSUITE, MAX_CREDENTIAL_LEN, PERSONHOOD_CREDENTIAL_TYPE, VC_V2_CONTEXT,
    VOUCH_VOCAB,
};
