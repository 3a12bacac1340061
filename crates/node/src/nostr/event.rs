//! Nostr events (NIP-01): bounded parsing, the event id (sha256 of the canonical
//! serialization), BIP-340 Schnorr verification and signing. Pure: no I/O, no clock (`now`
//! is an argument).

use k256::schnorr::{Signature, SigningKey, VerifyingKey};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Bounds on one event; every event from a relay is checked against them before anything
/// else is done with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventLimits {
    /// The largest event, as JSON bytes.
    pub max_event_bytes: usize,
    /// The most tags in one event (a follow list of 10,000 people is 10,000 tags).
    pub max_tags: usize,
    /// The most items in one tag.
    pub max_tag_items: usize,
    /// The longest tag item, in bytes.
    pub max_tag_item_bytes: usize,
    /// The longest `content`, in bytes.
    pub max_content_bytes: usize,
    /// How far (seconds) `created_at` may lie ahead of the node's clock.
    pub max_future_s: u64,
}

impl Default for EventLimits {
    fn default() -> Self {
        EventLimits {
            max_event_bytes: 512 * 1024,
            max_tags: 10_000,
            max_tag_items: 16,
            max_tag_item_bytes: 1024,
            max_content_bytes: 64 * 1024,
            max_future_s: 15 * 60,
        }
    }
}

/// Why an event was refused. Every variant has a stable code (`specs/nostr.md`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum EventError {
    /// The event is larger than `max_event_bytes`.
    #[error("event of {0} bytes is over the limit")]
    Oversized(usize),
    /// Not an event: bad JSON, a missing or mistyped field, hex of the wrong length or case.
    #[error("malformed event: {0}")]
    Malformed(String),
    /// Too many tags, a tag with too many items, or an item that is too long.
    #[error("tags over the limits: {0}")]
    TagsOversized(&'static str),
    /// `content` is longer than `max_content_bytes`.
    #[error("content over the limit")]
    ContentOversized,
    /// `id` is not the sha256 of the event's canonical serialization.
    #[error("id does not match the event")]
    BadId,
    /// `pubkey` is not an x-only secp256k1 point.
    #[error("pubkey is not a secp256k1 x-only key")]
    BadPubkey,
    /// `sig` is not a valid BIP-340 signature of `id` by `pubkey`.
    #[error("signature does not verify")]
    BadSignature,
    /// `created_at` lies further in the future than the node accepts.
    #[error("created_at {0} is in the future")]
    Future(u64),
}

impl EventError {
    /// The stable code printed by metrics, logs and the API.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            EventError::Oversized(_) => "nostr.oversized",
            EventError::Malformed(_) => "nostr.malformed",
            EventError::TagsOversized(_) => "nostr.tags_oversized",
            EventError::ContentOversized => "nostr.content_oversized",
            EventError::BadId => "nostr.bad_id",
            EventError::BadPubkey => "nostr.bad_pubkey",
            EventError::BadSignature => "nostr.bad_signature",
            EventError::Future(_) => "nostr.future",
        }
    }
}

/// Every code of [`EventError`] (the spec's table).
#[cfg(test)]
pub(crate) const EVENT_ERROR_CODES: &[&str] = &[
    "nostr.oversized",
    "nostr.malformed",
    "nostr.tags_oversized",
    "nostr.content_oversized",
    "nostr.bad_id",
    "nostr.bad_pubkey",
    "nostr.bad_signature",
    "nostr.future",
];

/// A Nostr event whose id and signature were checked (or that this node signed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// sha256 of the canonical serialization.
    pub id: [u8; 32],
    /// The author's x-only secp256k1 key.
    pub pubkey: [u8; 32],
    /// Seconds since the epoch, as the author claims.
    pub created_at: u64,
    /// The event kind.
    pub kind: u32,
    /// The tags, each a non-empty list of strings.
    pub tags: Vec<Vec<String>>,
    /// The content.
    pub content: String,
    /// BIP-340 signature of `id`.
    pub sig: [u8; 64],
}

/// The wire form, as relays send it.
#[derive(Deserialize)]
struct WireEvent {
    id: String,
    pubkey: String,
    created_at: u64,
    kind: u32,
    tags: Vec<Vec<String>>,
    content: String,
    sig: String,
}

/// Decodes lowercase hex of exactly `N` bytes (NIP-01 asks for lowercase).
pub(crate) fn lower_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N || s.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

/// The event id: sha256 of `[0, pubkey, created_at, kind, tags, content]` serialized as
/// NIP-01 says (no whitespace, UTF-8, JSON string escapes; `serde_json` escapes exactly
/// what `JSON.stringify` escapes for strings without lone surrogates, which Rust strings
/// cannot hold).
pub(crate) fn event_id(
    pubkey: &[u8; 32],
    created_at: u64,
    kind: u32,
    tags: &[Vec<String>],
    content: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    let value = (0u8, hex::encode(pubkey), created_at, kind, tags, content);
    // Writing to a hasher cannot fail, and every part serializes.
    let bytes = serde_json::to_vec(&value).unwrap_or_default();
    h.update(&bytes);
    h.finalize().into()
}

/// Parses one event and checks its bounds and its id, but not its signature (see
/// [`verify_signature`]; split so that a batch can be checked cheaply first).
pub(crate) fn parse_event(
    json: &[u8],
    limits: &EventLimits,
    now_s: u64,
) -> Result<Event, EventError> {
    if json.len() > limits.max_event_bytes {
        return Err(EventError::Oversized(json.len()));
    }
    let w: WireEvent =
        serde_json::from_slice(json).map_err(|e| EventError::Malformed(e.to_string()))?;
    from_wire(w, limits, now_s)
}

fn from_wire(w: WireEvent, limits: &EventLimits, now_s: u64) -> Result<Event, EventError> {
    let malformed = |what: &str| EventError::Malformed(format!("{what} is not lowercase hex"));
    let id = lower_hex::<32>(&w.id).ok_or_else(|| malformed("id"))?;
    let pubkey = lower_hex::<32>(&w.pubkey).ok_or_else(|| malformed("pubkey"))?;
    let sig = lower_hex::<64>(&w.sig).ok_or_else(|| malformed("sig"))?;
    if w.tags.len() > limits.max_tags {
        return Err(EventError::TagsOversized("too many tags"));
    }
    for t in &w.tags {
        if t.is_empty() {
            return Err(EventError::Malformed("empty tag".into()));
        }
        if t.len() > limits.max_tag_items {
            return Err(EventError::TagsOversized("too many items in a tag"));
        }
        if t.iter().any(|s| s.len() > limits.max_tag_item_bytes) {
            return Err(EventError::TagsOversized("tag item too long"));
        }
    }
    if w.content.len() > limits.max_content_bytes {
        return Err(EventError::ContentOversized);
    }
    if w.created_at > now_s.saturating_add(limits.max_future_s) {
        return Err(EventError::Future(w.created_at));
    }
    if event_id(&pubkey, w.created_at, w.kind, &w.tags, &w.content) != id {
        return Err(EventError::BadId);
    }
    Ok(Event {
        id,
        pubkey,
        created_at: w.created_at,
        kind: w.kind,
        tags: w.tags,
        content: w.content,
        sig,
    })
}

/// Checks the BIP-340 signature of `event.id` by `event.pubkey`.
pub(crate) fn verify_signature(event: &Event) -> Result<(), EventError> {
    let key = VerifyingKey::from_bytes(&event.pubkey).map_err(|_| EventError::BadPubkey)?;
    let sig = Signature::try_from(&event.sig[..]).map_err(|_| EventError::BadSignature)?;
    key.verify_raw(&event.id, &sig)
        .map_err(|_| EventError::BadSignature)
}

/// Parses, checks bounds and id, and verifies the signature: what every event from a relay
/// goes through.
pub(crate) fn verify_event(
    json: &[u8],
    limits: &EventLimits,
    now_s: u64,
) -> Result<Event, EventError> {
    let e = parse_event(json, limits, now_s)?;
    verify_signature(&e)?;
    Ok(e)
}

/// Signs an event with `key`; `aux` is BIP-340's auxiliary randomness (the caller's).
pub(crate) fn sign_event(
    key: &SigningKey,
    created_at: u64,
    kind: u32,
    tags: Vec<Vec<String>>,
    content: String,
    aux: &[u8; 32],
) -> Result<Event, EventError> {
    let pubkey: [u8; 32] = key.verifying_key().to_bytes().into();
    let id = event_id(&pubkey, created_at, kind, &tags, &content);
    let sig = key
        .sign_raw(&id, aux)
        .map_err(|_| EventError::BadSignature)?;
    Ok(Event {
        id,
        pubkey,
        created_at,
        kind,
        tags,
        content,
        sig: sig.to_bytes(),
    })
}

impl Event {
    /// The NIP-01 JSON of the event.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": hex::encode(self.id),
            "pubkey": hex::encode(self.pubkey),
            "created_at": self.created_at,
            "kind": self.kind,
            "tags": self.tags,
            "content": self.content,
            "sig": hex::encode(self.sig),
        })
    }

    /// The first value of the first tag named `name`.
    pub(crate) fn tag_value(&self, name: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.first().map(String::as_str) == Some(name))
            .and_then(|t| t.get(1))
            .map(String::as_str)
    }

    /// Every tag named `name`.
    pub(crate) fn tags_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [String]> {
        self.tags
            .iter()
            .filter(move |t| t.first().map(String::as_str) == Some(name))
            .map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests;
