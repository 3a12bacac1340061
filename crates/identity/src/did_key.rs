//! The `did:key` text form of an ed25519 public key: `did:key:z` + base58btc(0xed 0x01 ‖ key).

use crate::keys::{KeyError, PublicKey, PUBLIC_KEY_LEN};
use std::str::FromStr;

const PREFIX: &str = "did:key:z";
/// Multicodec `ed25519-pub` (0xed) as an unsigned varint.
const ED25519_MULTICODEC: [u8; 2] = [0xed, 0x01];

/// Why a string is not a `did:key` for an ed25519 key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DidKeyError {
    /// It does not start with `did:key:z` (base58btc multibase).
    #[error("not a did:key with base58btc multibase (expected prefix \"did:key:z\")")]
    Prefix,
    /// The multibase part is not valid base58btc.
    #[error("did:key is not valid base58btc")]
    Base58,
    /// The multicodec is not `ed25519-pub` or the key has the wrong length.
    #[error("did:key is not an ed25519 public key")]
    NotEd25519,
    /// The key bytes are not a valid ed25519 public key.
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl DidKeyError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            DidKeyError::Prefix => "did-prefix",
            DidKeyError::Base58 => "did-base58",
            DidKeyError::NotEd25519 => "did-not-ed25519",
            DidKeyError::Key(e) => e.code(),
        }
    }
}

/// Most `did:key` strings remembered per thread. Base58 encoding is quadratic in the length
/// and costs a few microseconds; an API answer names the same keys (curators, moderators,
/// authors) again and again.
const DID_MEMO_CAPACITY: usize = 16 * 1024;

thread_local! {
    static DID_MEMO: std::cell::RefCell<std::collections::HashMap<[u8; PUBLIC_KEY_LEN], Box<str>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

impl PublicKey {
    /// The key as `did:key:z6Mk…`.
    pub fn to_did_key(&self) -> String {
        if let Some(s) = DID_MEMO.with(|m| m.borrow().get(self.as_bytes()).map(|s| s.to_string())) {
            return s;
        }
        let mut buf = Vec::with_capacity(2 + PUBLIC_KEY_LEN);
        buf.extend_from_slice(&ED25519_MULTICODEC);
        buf.extend_from_slice(self.as_bytes());
        let s = format!("{PREFIX}{}", bs58::encode(buf).into_string());
        DID_MEMO.with(|m| {
            let mut m = m.borrow_mut();
            if m.len() >= DID_MEMO_CAPACITY {
                m.clear();
            }
            m.insert(*self.as_bytes(), s.clone().into_boxed_str());
        });
        s
    }

    /// Parses `did:key:z6Mk…` (a fragment such as `#z6Mk…` is accepted and ignored).
    pub fn from_did_key(s: &str) -> Result<Self, DidKeyError> {
        let rest = s.strip_prefix(PREFIX).ok_or(DidKeyError::Prefix)?;
        let rest = rest.split('#').next().unwrap_or(rest);
        let raw = bs58::decode(rest)
            .into_vec()
            .map_err(|_| DidKeyError::Base58)?;
        if raw.len() != 2 + PUBLIC_KEY_LEN || raw[..2] != ED25519_MULTICODEC {
            return Err(DidKeyError::NotEd25519);
        }
        Ok(PublicKey::from_bytes(&raw[2..])?)
    }
}

impl FromStr for PublicKey {
    type Err = DidKeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PublicKey::from_did_key(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;

    #[test]
    fn known_vector_from_did_key_spec() {
        // did:key test vector from the W3C CCG did:key specification (ed25519 section).
        let did = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
        let key = PublicKey::from_did_key(did).unwrap();
        assert_eq!(key.to_did_key(), did);
        // The second call comes from the memo and must be the same.
        assert_eq!(key.to_did_key(), did);
        assert_eq!(key.to_string(), did);
    }

    #[test]
    fn round_trip_and_errors() {
        let sk = SecretKey::from_seed(&[7; 32]);
        let pk = sk.public_key();
        let did = pk.to_did_key();
        assert!(did.starts_with("did:key:z6Mk"));
        assert_eq!(did.parse::<PublicKey>().unwrap(), pk);
        assert_eq!(
            PublicKey::from_did_key("did:web:example.com").unwrap_err(),
            DidKeyError::Prefix
        );
        assert_eq!(
            PublicKey::from_did_key("did:key:z0OIl").unwrap_err(),
            DidKeyError::Base58
        );
        // A secp256k1 did:key (multicodec 0xe7) is not ed25519.
        assert_eq!(
            PublicKey::from_did_key("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme")
                .unwrap_err(),
            DidKeyError::NotEd25519
        );
    }
}
