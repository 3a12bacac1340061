//! Signing with a domain-separation prefix, and single and batch verification.
//!
//! Every signature Vouch makes covers `prefix ‖ message`, where the prefix names what is
//! being signed (see [`Domain`]). A signature made for one purpose can therefore never be
//! replayed as a signature for another.

use crate::keys::{PublicKey, SecretKey, SIGNATURE_LEN};
use ed25519_dalek::Signer;
use std::fmt;

/// What a signature is for. Each domain has its own fixed byte prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Domain {
    /// A Vouch object envelope (the DAG-CBOR encoding of the object without `sig`).
    Object,
    /// The new key's consent in a key rotation.
    Rotate,
    /// The identity key's consent in a public posting-key ↔ identity link.
    Link,
}

impl Domain {
    /// The prefix bytes signed before the message.
    pub const fn prefix(self) -> &'static [u8] {
        match self {
            Domain::Object => b"vouch/v1/object\0",
            Domain::Rotate => b"vouch/v1/rotate\0",
            Domain::Link => b"vouch/v1/link\0",
        }
    }
}

/// Concatenates a domain prefix and a message: the exact bytes that are signed.
pub fn signing_message(domain: Domain, message: &[u8]) -> Vec<u8> {
    let prefix = domain.prefix();
    let mut out = Vec::with_capacity(prefix.len() + message.len());
    out.extend_from_slice(prefix);
    out.extend_from_slice(message);
    out
}

/// A 64-byte ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; SIGNATURE_LEN]);

impl Signature {
    /// Reads a signature from 64 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Signature)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature(")?;
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The signature does not verify for this key and message.
    #[error("signature does not verify")]
    BadSignature,
    /// Batch input slices have different lengths.
    #[error("batch inputs have different lengths")]
    LengthMismatch,
}

impl VerifyError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::BadSignature => "invalid-signature",
            VerifyError::LengthMismatch => "batch-length-mismatch",
        }
    }
}

impl SecretKey {
    /// Signs `prefix(domain) ‖ message`.
    pub fn sign(&self, domain: Domain, message: &[u8]) -> Signature {
        let msg = signing_message(domain, message);
        Signature(self.signing_key().sign(&msg).to_bytes())
    }

    /// Signs bytes that already start with the domain prefix (see [`signing_message`]).
    pub fn sign_prefixed(&self, prefixed_message: &[u8]) -> Signature {
        Signature(self.signing_key().sign(prefixed_message).to_bytes())
    }
}

/// Verifies one signature over `prefix(domain) ‖ message` with the strict rules
/// (canonical `s`, no small-order `R` or key).
pub fn verify(
    key: &PublicKey,
    domain: Domain,
    message: &[u8],
    sig: &Signature,
) -> Result<(), VerifyError> {
    verify_prefixed(key, &signing_message(domain, message), sig)
}

/// Verifies one signature over bytes that already carry their domain prefix.
pub fn verify_prefixed(
    key: &PublicKey,
    prefixed_message: &[u8],
    sig: &Signature,
) -> Result<(), VerifyError> {
    let sig = ed25519_dalek::Signature::from_bytes(&sig.0);
    key.verifying_key()
        .verify_strict(prefixed_message, &sig)
        .map_err(|_| VerifyError::BadSignature)
}

/// Verifies many signatures at once. Each message must already carry its domain prefix
/// (see [`signing_message`]).
///
/// Returns one result per input, in order. The fast path is one ed25519 batch equation;
/// when it fails, every signature is checked on its own with the strict rules so that the
/// bad ones are named and the good ones still pass. An input that the batch equation
/// accepts is also checked against the strict rules' cheap conditions (see the spec).
pub fn verify_batch(
    prefixed_messages: &[&[u8]],
    sigs: &[Signature],
    keys: &[PublicKey],
) -> Result<Vec<Result<(), VerifyError>>, VerifyError> {
    let n = prefixed_messages.len();
    if sigs.len() != n || keys.len() != n {
        return Err(VerifyError::LengthMismatch);
    }
    if n == 0 {
        return Ok(Vec::new());
    }
    let dalek_sigs: Vec<ed25519_dalek::Signature> = sigs
        .iter()
        .map(|s| ed25519_dalek::Signature::from_bytes(&s.0))
        .collect();
    let dalek_keys: Vec<ed25519_dalek::VerifyingKey> =
        keys.iter().map(|k| *k.verifying_key()).collect();
    if ed25519_dalek::verify_batch(prefixed_messages, &dalek_sigs, &dalek_keys).is_ok() {
        Ok(vec![Ok(()); n])
    } else {
        Ok(verify_each(prefixed_messages, sigs, keys))
    }
}

fn verify_each(
    prefixed_messages: &[&[u8]],
    sigs: &[Signature],
    keys: &[PublicKey],
) -> Vec<Result<(), VerifyError>> {
    prefixed_messages
        .iter()
        .zip(sigs)
        .zip(keys)
        .map(|((m, s), k)| verify_prefixed(k, m, s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;

    fn keys(n: usize) -> Vec<SecretKey> {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        (0..n).map(|_| SecretKey::generate(&mut rng)).collect()
    }

    #[test]
    fn sign_verify_and_domain_separation() {
        let sk = &keys(1)[0];
        let pk = sk.public_key();
        let sig = sk.sign(Domain::Object, b"hello");
        assert_eq!(verify(&pk, Domain::Object, b"hello", &sig), Ok(()));
        assert_eq!(
            verify(&pk, Domain::Rotate, b"hello", &sig),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify(&pk, Domain::Object, b"hellp", &sig),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn batch_names_the_bad_signature() {
        let sks = keys(5);
        let msgs: Vec<Vec<u8>> = (0..5u8)
            .map(|i| signing_message(Domain::Object, &[i; 10]))
            .collect();
        let mut sigs: Vec<Signature> = sks
            .iter()
            .zip(&msgs)
            .map(|(sk, m)| sk.sign_prefixed(m))
            .collect();
        let pks: Vec<PublicKey> = sks.iter().map(|s| s.public_key()).collect();
        let refs: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
        assert!(verify_batch(&refs, &sigs, &pks)
            .unwrap()
            .iter()
            .all(|r| r.is_ok()));
        sigs[3].0[5] ^= 1;
        let res = verify_batch(&refs, &sigs, &pks).unwrap();
        assert_eq!(
            res.iter().map(|r| r.is_ok()).collect::<Vec<_>>(),
            vec![true, true, true, false, true]
        );
        assert_eq!(
            verify_batch(&refs[..2], &sigs, &pks),
            Err(VerifyError::LengthMismatch)
        );
    }
}
