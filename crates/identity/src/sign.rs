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

/// Verifies one signature over `prefix(domain) ‖ message` with the ZIP-215 rules: `s`
/// canonical, `R` any point encoding, and the cofactored equation `[8][s]B = [8]R + [8][k]A`.
/// Keys were already checked (valid point, not of small order) when the [`PublicKey`] was made.
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
    let sig = ed25519_zebra::Signature::from_bytes(&sig.0);
    key.verification_key()
        .verify(&sig, prefixed_message)
        .map_err(|_| VerifyError::BadSignature)
}

/// Verifies many signatures at once. Each message must already carry its domain prefix
/// (see [`signing_message`]).
///
/// Returns one result per input, in order, always the same as [`verify_prefixed`] on each
/// input: the batch equation is the cofactored ZIP-215 one, which agrees with the single
/// check by construction. Its random coefficients come from a ChaCha20 stream seeded with a
/// SHA-256 hash of every key, signature and message in the batch (Fiat–Shamir, so the
/// function stays deterministic). When the batch fails, every signature is checked on its
/// own so that the bad ones are named and the good ones still pass.
pub fn verify_batch(
    prefixed_messages: &[&[u8]],
    sigs: &[Signature],
    keys: &[PublicKey],
) -> Result<Vec<Result<(), VerifyError>>, VerifyError> {
    use rand_chacha::rand_core::SeedableRng;
    use sha2::Digest;
    let n = prefixed_messages.len();
    if sigs.len() != n || keys.len() != n {
        return Err(VerifyError::LengthMismatch);
    }
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut transcript = sha2::Sha256::new();
    transcript.update(b"vouch/v1/batch-verify\0");
    let mut verifier = ed25519_zebra::batch::Verifier::new();
    for ((msg, sig), key) in prefixed_messages.iter().zip(sigs).zip(keys) {
        transcript.update(key.as_bytes());
        transcript.update(sig.0);
        transcript.update((msg.len() as u64).to_le_bytes());
        transcript.update(msg);
        let key_bytes = ed25519_zebra::VerificationKeyBytes::from(*key.as_bytes());
        verifier.queue((key_bytes, ed25519_zebra::Signature::from_bytes(&sig.0), msg));
    }
    let rng = rand_chacha::ChaCha20Rng::from_seed(transcript.finalize().into());
    if verifier.verify(rng).is_ok() {
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

    /// A signature whose `R` carries a small-order component: only the key's owner can make
    /// one. The cofactored rule accepts it; what matters is that single and batch
    /// verification give the same answer whatever the batch holds (ed25519-dalek's strict
    /// single check and its cofactorless batch equation can disagree on exactly this).
    #[test]
    fn torsioned_signature_gets_the_same_answer_single_and_batch() {
        use curve25519_dalek::{
            constants::ED25519_BASEPOINT_POINT as B, edwards::CompressedEdwardsY, Scalar,
        };
        use sha2::Digest;
        let sk = &keys(1)[0];
        let pk = sk.public_key();
        let msg = signing_message(Domain::Object, b"torsion");
        // A point of order 2: (0, -1).
        let mut t_bytes = [0xffu8; 32];
        t_bytes[0] = 0xec;
        t_bytes[31] = 0x7f;
        let t = CompressedEdwardsY(t_bytes).decompress().unwrap();
        assert!(t.is_small_order());
        let a = sk.signing_key().to_scalar();
        let r = Scalar::from(123_456_789u64);
        let big_r = (r * B + t).compress();
        let k = Scalar::from_hash(
            sha2::Sha512::new()
                .chain_update(big_r.as_bytes())
                .chain_update(pk.as_bytes())
                .chain_update(&msg),
        );
        let s = r + k * a;
        let mut raw = [0u8; 64];
        raw[..32].copy_from_slice(big_r.as_bytes());
        raw[32..].copy_from_slice(s.as_bytes());
        let sig = Signature(raw);
        // dalek's strict (cofactorless) single check rejects it ...
        let dalek_vk = ed25519_dalek::VerifyingKey::from_bytes(pk.as_bytes()).unwrap();
        assert!(dalek_vk
            .verify_strict(&msg, &ed25519_dalek::Signature::from_bytes(&raw))
            .is_err());
        // ... while Vouch's rule is ZIP-215's, and single and batch agree, in any company.
        let single = verify_prefixed(&pk, &msg, &sig);
        assert_eq!(single, Ok(()));
        let others = keys(4);
        let mut msgs = vec![msg.clone()];
        let mut sigs = vec![sig];
        let mut pks = vec![pk];
        for (i, o) in others.iter().enumerate() {
            let m = signing_message(Domain::Object, &[i as u8; 5]);
            sigs.push(o.sign_prefixed(&m));
            pks.push(o.public_key());
            msgs.push(m);
        }
        for n in 1..=msgs.len() {
            let refs: Vec<&[u8]> = msgs[..n].iter().map(|m| m.as_slice()).collect();
            let res = verify_batch(&refs, &sigs[..n], &pks[..n]).unwrap();
            assert_eq!(res[0], single, "batch of {n}");
        }
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
