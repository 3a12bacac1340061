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
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey {
    bytes: [u8; PUBLIC_KEY_LEN],
}

impl PublicKey {
    /// Reads a public key from its 32 bytes, rejecting invalid and small-order points.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: [u8; PUBLIC_KEY_LEN] = bytes.try_into().map_err(|_| KeyError::Length {
            expected: PUBLIC_KEY_LEN,
            got: bytes.len(),
        })?;
        let vk = VerifyingKey::from_bytes(&arr).map_err(|_| KeyError::InvalidPoint)?;
        if vk.is_weak() {
            return Err(KeyError::InvalidPoint);
        }
        Ok(PublicKey { bytes: arr })
    }

    /// The 32 bytes of the key.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.bytes
    }

    /// The dalek verifying key. Cannot fail: the bytes were checked on construction.
    pub(crate) fn verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        VerifyingKey::from_bytes(&self.bytes).map_err(|_| KeyError::InvalidPoint)
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
        PublicKey {
            bytes: self.inner.verifying_key().to_bytes(),
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
