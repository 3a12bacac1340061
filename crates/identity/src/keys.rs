//! Posting keys: an ed25519 secret key and its public key, with byte and text forms.

use ed25519_dalek::{SigningKey, VerifyingKey};
use rand_core::CryptoRngCore;
use std::fmt;

/// Length in bytes of an ed25519 public key.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Length in bytes of an ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// Why bytes could not be read as a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The input does not have the length of a key.
    #[error("key must be {expected} bytes, got {got}")]
    Length {
        /// Expected length.
        expected: usize,
        /// Length received.
        got: usize,
    },
    /// The bytes are not a point on the curve, or a weak (small-order) point.
    #[error("not a valid ed25519 public key")]
    InvalidPoint,
}

impl KeyError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::Length { .. } => "key-length",
            KeyError::InvalidPoint => "invalid-key",
        }
    }
}

/// An ed25519 public key that has been checked to be a valid, non-weak curve point.
///
/// It keeps the decompressed point, so verifying with it never decompresses again.
/// Equality, hashing and order are those of the 32 bytes.
#[derive(Clone, Copy)]
pub struct PublicKey {
    bytes: [u8; PUBLIC_KEY_LEN],
    point: ed25519_zebra::VerificationKey,
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for PublicKey {}
impl std::hash::Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes.hash(state)
    }
}
impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.bytes.cmp(&other.bytes)
    }
}

/// Most decompressed keys remembered per thread. Decompressing a point costs about a fifth
/// of a signature verification, and the same authors sign object after object.
const KEY_MEMO_CAPACITY: usize = 16 * 1024;

thread_local! {
    static KEY_MEMO: std::cell::RefCell<std::collections::HashMap<[u8; PUBLIC_KEY_LEN], ed25519_zebra::VerificationKey>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

impl PublicKey {
    /// Reads a public key from its 32 bytes, rejecting invalid and small-order points.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: [u8; PUBLIC_KEY_LEN] = bytes.try_into().map_err(|_| KeyError::Length {
            expected: PUBLIC_KEY_LEN,
            got: bytes.len(),
        })?;
        if let Some(point) = KEY_MEMO.with(|m| m.borrow().get(&arr).copied()) {
            return Ok(PublicKey { bytes: arr, point });
        }
        let dalek = VerifyingKey::from_bytes(&arr).map_err(|_| KeyError::InvalidPoint)?;
        if dalek.is_weak() {
            return Err(KeyError::InvalidPoint);
        }
        let point =
            ed25519_zebra::VerificationKey::try_from(arr).map_err(|_| KeyError::InvalidPoint)?;
        KEY_MEMO.with(|m| {
            let mut m = m.borrow_mut();
            if m.len() >= KEY_MEMO_CAPACITY {
                m.clear();
            }
            m.insert(arr, point);
        });
        Ok(PublicKey { bytes: arr, point })
    }

    /// The 32 bytes of the key.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.bytes
    }

    /// The pre-rotation commitment to this key: what a key publishes, ahead of time, about
    /// the key that may later replace it (see [`KeyDigest`]).
    pub fn next_key_digest(&self) -> KeyDigest {
        KeyDigest::of(self)
    }

    /// The decompressed verification key.
    pub(crate) fn verification_key(&self) -> &ed25519_zebra::VerificationKey {
        &self.point
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_did_key())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_did_key())
    }
}

/// Prefix of the hashed bytes of a [`KeyDigest`].
pub const NEXT_KEY_PREFIX: &[u8] = b"vouch/v1/next-key\0";

/// A pre-rotation commitment: `sha2-256("vouch/v1/next-key\0" ‖ public key)`. A key that
/// publishes the digest of its successor ahead of time can later be rotated only by whoever
/// holds that successor's secret, which a thief of the current key does not have.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyDigest(pub [u8; 32]);

impl KeyDigest {
    /// The commitment to `key`.
    pub fn of(key: &PublicKey) -> Self {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(NEXT_KEY_PREFIX);
        h.update(key.as_bytes());
        KeyDigest(h.finalize().into())
    }

    /// Reads a digest from 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(KeyDigest)
    }
}

impl fmt::Debug for KeyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyDigest(")?;
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

/// An ed25519 secret key (a posting key or an identity key). Zeroized on drop.
#[derive(Clone)]
pub struct SecretKey {
    inner: SigningKey,
}

impl SecretKey {
    /// Generates a new key from the given cryptographic RNG.
    pub fn generate<R: CryptoRngCore + ?Sized>(rng: &mut R) -> Self {
        SecretKey {
            inner: SigningKey::generate(rng),
        }
    }

    /// Reads a secret key from its 32-byte seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        SecretKey {
            inner: SigningKey::from_bytes(seed),
        }
    }

    /// The 32-byte seed. Handle with care.
    pub fn to_seed(&self) -> [u8; 32] {
        self.inner.to_bytes()
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        let bytes = self.inner.verifying_key().to_bytes();
        // The key of a secret key is a valid point of prime order, so this cannot fail.
        match PublicKey::from_bytes(&bytes) {
            Ok(pk) => pk,
            Err(_) => unreachable!("the public key of a secret key is a valid point"),
        }
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.inner
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(public: {})", self.public_key())
    }
}
