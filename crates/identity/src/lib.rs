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
mod sign;

pub use did_key::DidKeyError;
#[cfg(feature = "keyfile")]
pub use keyfile::{read_key_file, write_key_file, KeyFileError};
pub use keys::{KeyError, PublicKey, SecretKey, PUBLIC_KEY_LEN, SIGNATURE_LEN};
pub use sign::{
    signing_message, verify, verify_batch, verify_prefixed, Domain, Signature, VerifyError,
};
