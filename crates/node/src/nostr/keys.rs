//! Nostr keys in Vouch: the text forms (`npub1…`, 64 lowercase hex), and the subject key a
//! Nostr pubkey has in the engine (a Vouch [`PublicKey`] derived from it that nobody holds
//! a secret key for).

use bech32::{FromBase32, ToBase32, Variant};
use curve25519_dalek::edwards::CompressedEdwardsY;
use sha2::{Digest, Sha256};
use vouch_identity::PublicKey;

/// The domain of the subject-key derivation (`specs/nostr.md` §2).
const SUBJECT_DOMAIN: &[u8] = b"vouch/v1/nostr-subject\0";

/// A Nostr public key: an x-only secp256k1 key, 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct NostrKey(pub [u8; 32]);

impl NostrKey {
    /// Parses `npub1…`, `nostr:npub1…` or 64 lowercase hex characters (an optional
    /// `nostr:` prefix on hex too). Checks the key is a point of secp256k1.
    pub(crate) fn parse(s: &str) -> Option<NostrKey> {
        let s = s.strip_prefix("nostr:").unwrap_or(s);
        let bytes = if s.starts_with("npub1") {
            let (hrp, data, variant) = bech32::decode(s).ok()?;
            if hrp != "npub" || variant != Variant::Bech32 {
                return None;
            }
            let raw = Vec::<u8>::from_base32(&data).ok()?;
            <[u8; 32]>::try_from(raw.as_slice()).ok()?
        } else {
            crate::nostr::event::lower_hex::<32>(s)?
        };
        k256::schnorr::VerifyingKey::from_bytes(&bytes).ok()?;
        Some(NostrKey(bytes))
    }

    /// The `npub1…` form (NIP-19).
    pub(crate) fn to_npub(self) -> String {
        bech32::encode("npub", self.0.to_base32(), Variant::Bech32).unwrap_or_default()
    }

    /// The 64-character lowercase hex form.
    pub(crate) fn to_hex(self) -> String {
        hex::encode(self.0)
    }

    /// The bytes of the key this Nostr key has in the engine: the first hash of the domain,
    /// the key and a counter (try-and-increment) that decompresses to a point of
    /// edwards25519 not of small order, which is what `PublicKey::from_bytes` accepts. No
    /// one knows its discrete logarithm, so no Vouch object can ever be signed by it: its
    /// only evidence is the Nostr events its key signed, and it cannot collide with a real
    /// Vouch key (that would need a preimage of sha256). One decompression per try (half
    /// of all hashes are points); the trust graph needs only these bytes.
    pub(crate) fn subject_bytes(self) -> [u8; 32] {
        let mut counter: u32 = 0;
        loop {
            let mut h = Sha256::new();
            h.update(SUBJECT_DOMAIN);
            h.update(self.0);
            h.update(counter.to_be_bytes());
            let y: [u8; 32] = h.finalize().into();
            if CompressedEdwardsY(y)
                .decompress()
                .is_some_and(|p| !p.is_small_order())
            {
                return y;
            }
            // More than 64 tries has probability 2^-64.
            counter = counter.wrapping_add(1);
        }
    }

    /// The key this Nostr key has in the engine ([`NostrKey::subject_bytes`] as a key).
    pub(crate) fn subject(self) -> PublicKey {
        let y = self.subject_bytes();
        // `subject_bytes` checks what `from_bytes` checks (a unit test compares them); the
        // fallback is never taken.
        PublicKey::from_bytes(&y).unwrap_or_else(|_| subject_fallback(self))
    }
}

/// A key from the hash of the key alone, for the impossible case above.
fn subject_fallback(key: NostrKey) -> PublicKey {
    let mut counter: u32 = u32::MAX;
    loop {
        let mut h = Sha256::new();
        h.update(SUBJECT_DOMAIN);
        h.update(key.0);
        h.update(counter.to_be_bytes());
        let y: [u8; 32] = h.finalize().into();
        if let Ok(k) = PublicKey::from_bytes(&y) {
            return k;
        }
        counter = counter.wrapping_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npub_round_trip_and_nip19_vector() {
        // NIP-19's own example.
        let k = NostrKey::parse("npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg")
            .unwrap();
        assert_eq!(
            k.to_hex(),
            "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e"
        );
        assert_eq!(
            k.to_npub(),
            "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg"
        );
        assert_eq!(NostrKey::parse(&format!("nostr:{}", k.to_hex())), Some(k));
    }

    #[test]
    fn bad_forms_are_refused() {
        for s in [
            "",
            "npub1",
            // Upper-case hex.
            "7E7E9C42A91BFEF19FA929E5FDA1B72E0EBC1A4C1141673E2794234D86ADDF4E",
            // 31 bytes.
            "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf",
            // Not on the curve (x = p - 1 is on it? use an x with no point: 5).
            "0000000000000000000000000000000000000000000000000000000000000005",
            // nsec is not a public key.
            "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5",
        ] {
            assert_eq!(NostrKey::parse(s), None, "{s}");
        }
    }

    #[test]
    fn subject_bytes_are_what_from_bytes_accepts() {
        for i in 0..2000u32 {
            let mut k = [7u8; 32];
            k[..4].copy_from_slice(&i.to_be_bytes());
            let key = NostrKey(k);
            let y = key.subject_bytes();
            assert_eq!(PublicKey::from_bytes(&y).unwrap().as_bytes(), &y);
            // And the first counter whose hash from_bytes accepts is the same one.
            let mut c = 0u32;
            let first = loop {
                let mut h = Sha256::new();
                h.update(SUBJECT_DOMAIN);
                h.update(k);
                h.update(c.to_be_bytes());
                let y: [u8; 32] = h.finalize().into();
                if PublicKey::from_bytes(&y).is_ok() {
                    break y;
                }
                c += 1;
            };
            assert_eq!(first, y);
        }
    }

    #[test]
    fn subjects_are_distinct_valid_and_stable() {
        let a = NostrKey([1; 32]).subject();
        let b = NostrKey([2; 32]).subject();
        assert_ne!(a, b);
        assert_eq!(a, NostrKey([1; 32]).subject());
        // A valid Vouch key (PublicKey::from_bytes accepted it) that is not the raw bytes.
        assert_ne!(a.as_bytes(), &[1; 32]);
        assert!(PublicKey::from_bytes(a.as_bytes()).is_ok());
    }
}
