//! Validation: one function from untrusted bytes to a [`SignedObject`] or an error with a
//! stable code. Checks, in this order: size, decoding (version, kind, body shape, keys),
//! canonical encoding, timestamp skew, field bounds (and co-signatures), signature.

use crate::object::{
    decode_canonical, decode_envelope, encode_envelope, prefixed_message_from_encoded, Body,
    GroupRef, LinkBody, ListPurpose, ListRef, Object, ObjectId, RotateBody, SignedObject,
};
use vouch_identity::{Domain, PublicKey, Signature};

/// Milliseconds in one vote epoch (one UTC day).
pub const MS_PER_EPOCH: u64 = 86_400_000;

/// The epoch (UTC day number) of a time in milliseconds since the Unix epoch.
pub const fn epoch_of(at_ms: u64) -> u64 {
    at_ms / MS_PER_EPOCH
}

/// Size and clock limits applied by validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted encoding, in bytes.
    pub max_size: usize,
    /// How far `at` may lie beyond the validator's `now`, in milliseconds.
    pub max_skew_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_size: 64 * 1024,
            max_skew_ms: 5 * 60 * 1000,
        }
    }
}

/// Why an object was rejected. Every variant has a stable [`code`](ValidationError::code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// The encoding is larger than the size limit.
    #[error("object is {len} bytes, over the limit of {max}")]
    Oversize {
        /// Size received.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes are not a DAG-CBOR envelope `{v, kind, author, at, body, sig}`.
    #[error("malformed object: {0}")]
    Malformed(String),
    /// The bytes decode, but are not the canonical DAG-CBOR encoding of what they decode to.
    #[error("object is not canonically encoded")]
    NonCanonical,
    /// The envelope version is not 1.
    #[error("unsupported object version {0}")]
    UnsupportedVersion(u64),
    /// The kind is not one this implementation knows.
    #[error("unknown object kind {0:?}")]
    UnknownKind(String),
    /// The body does not have the fields and types its kind requires.
    #[error("invalid body: {0}")]
    InvalidBody(String),
    /// A field is outside its bounds.
    #[error("field {field} out of bounds: {reason}")]
    OutOfBounds {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// `at` lies further in the future than the allowed clock skew.
    #[error("timestamp {at} is more than {max_skew_ms} ms after now ({now})")]
    FutureTimestamp {
        /// The object's time.
        at: u64,
        /// The validator's time.
        now: u64,
        /// The allowed skew.
        max_skew_ms: u64,
    },
    /// A key (the author or one in the body) is not a valid ed25519 public key.
    #[error("invalid ed25519 public key")]
    InvalidKey,
    /// The author's signature does not verify.
    #[error("signature does not verify")]
    InvalidSignature,
    /// A second signature in the body (rotation consent, link proof) does not verify.
    #[error("co-signature in the body does not verify")]
    InvalidCosignature,
    /// A vote's epoch is not the epoch of its `at`.
    #[error("vote epoch {epoch} is not the epoch of its timestamp ({expected})")]
    EpochMismatch {
        /// The epoch claimed.
        epoch: u64,
        /// The epoch of `at`.
        expected: u64,
    },
    /// An expiry is not after the object's own time.
    #[error("expiry {expires} is not after the object's time {at}")]
    BadExpiry {
        /// The expiry.
        expires: u64,
        /// The object's time.
        at: u64,
    },
    /// A link names an identity DID whose method is not supported (only `did:key` ed25519).
    #[error("unsupported identity DID: {0}")]
    UnsupportedDid(String),
}

/// Every error code, in spec order.
pub const ERROR_CODES: [&str; 14] = [
    "oversize",
    "malformed",
    "non-canonical",
    "unsupported-version",
    "unknown-kind",
    "invalid-body",
    "out-of-bounds",
    "future-timestamp",
    "invalid-key",
    "invalid-signature",
    "invalid-cosignature",
    "epoch-mismatch",
    "bad-expiry",
    "unsupported-did",
];

impl ValidationError {
    /// The stable error code, as printed by the API and CLI.
    pub fn code(&self) -> &'static str {
        match self {
            ValidationError::Oversize { .. } => "oversize",
            ValidationError::Malformed(_) => "malformed",
            ValidationError::NonCanonical => "non-canonical",
            ValidationError::UnsupportedVersion(_) => "unsupported-version",
            ValidationError::UnknownKind(_) => "unknown-kind",
            ValidationError::InvalidBody(_) => "invalid-body",
            ValidationError::OutOfBounds { .. } => "out-of-bounds",
            ValidationError::FutureTimestamp { .. } => "future-timestamp",
            ValidationError::InvalidKey => "invalid-key",
            ValidationError::InvalidSignature => "invalid-signature",
            ValidationError::InvalidCosignature => "invalid-cosignature",
            ValidationError::EpochMismatch { .. } => "epoch-mismatch",
            ValidationError::BadExpiry { .. } => "bad-expiry",
            ValidationError::UnsupportedDid(_) => "unsupported-did",
        }
    }
}

impl Limits {
    /// Validates one object (see the module docs for the order of checks).
    pub fn validate(&self, bytes: &[u8], now_ms: u64) -> Result<SignedObject, ValidationError> {
        let (object, sig, message) = self.check_all_but_signature(bytes, now_ms)?;
        vouch_identity::verify_prefixed(&object.author, &message, &sig)
            .map_err(|_| ValidationError::InvalidSignature)?;
        Ok(SignedObject {
            id: ObjectId::of_bytes(bytes),
            object,
            sig,
            bytes: bytes.to_vec(),
        })
    }

    /// Validates many objects, verifying their signatures as one batch. Returns one result
    /// per input, in order; the results are the same as [`Limits::validate`] on each.
    pub fn validate_batch(
        &self,
        items: &[&[u8]],
        now_ms: u64,
    ) -> Vec<Result<SignedObject, ValidationError>> {
        let mut results: Vec<Option<Result<SignedObject, ValidationError>>> =
            Vec::with_capacity(items.len());
        let mut pending: Vec<(usize, Object, Signature, Vec<u8>)> = Vec::new();
        for (i, bytes) in items.iter().enumerate() {
            match self.check_all_but_signature(bytes, now_ms) {
                Ok((object, sig, message)) => {
                    pending.push((i, object, sig, message));
                    results.push(None);
                }
                Err(e) => results.push(Some(Err(e))),
            }
        }
        let messages: Vec<&[u8]> = pending.iter().map(|p| p.3.as_slice()).collect();
        let sigs: Vec<Signature> = pending.iter().map(|p| p.2).collect();
        let keys: Vec<PublicKey> = pending.iter().map(|p| p.1.author).collect();
        let verdicts = vouch_identity::verify_batch(&messages, &sigs, &keys)
            .unwrap_or_else(|_| vec![Err(vouch_identity::VerifyError::LengthMismatch); sigs.len()]);
        for ((i, object, sig, _), verdict) in pending.into_iter().zip(verdicts) {
            results[i] = Some(match verdict {
                Ok(()) => Ok(SignedObject {
                    id: ObjectId::of_bytes(items[i]),
                    object,
                    sig,
                    bytes: items[i].to_vec(),
                }),
                Err(_) => Err(ValidationError::InvalidSignature),
            });
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(ValidationError::InvalidSignature)))
            .collect()
    }

    /// Every check but the author's signature; returns the prefixed signed message.
    fn check_all_but_signature(
        &self,
        bytes: &[u8],
        now_ms: u64,
    ) -> Result<(Object, Signature, Vec<u8>), ValidationError> {
        if bytes.len() > self.max_size {
            return Err(ValidationError::Oversize {
                len: bytes.len(),
                max: self.max_size,
            });
        }
        let (object, sig) = match decode_canonical(bytes) {
            Some(fast) => fast,
            None => {
                let (object, sig) = decode_envelope(bytes)?;
                if encode_envelope(&object, Some(&sig))? != bytes {
                    return Err(ValidationError::NonCanonical);
                }
                (object, sig)
            }
        };
        if object.at > now_ms.saturating_add(self.max_skew_ms) {
            return Err(ValidationError::FutureTimestamp {
                at: object.at,
                now: now_ms,
                max_skew_ms: self.max_skew_ms,
            });
        }
        check_fields(&object)?;
        let message = match prefixed_message_from_encoded(bytes) {
            Some(m) => m,
            None => {
                let unsigned = encode_envelope(&object, None)?;
                vouch_identity::signing_message(Domain::Object, &unsigned)
            }
        };
        Ok((object, sig, message))
    }
}

/// Decodes an object that this host validated before (read back from its own store),
/// running every check but the signature and the clock: the decoding, the canonical form
/// and the field bounds. About twenty times cheaper than [`validate`], which a node would
/// otherwise repeat for every object it reads back at start. Never use it on bytes from
/// anyone else: it does not verify who signed them.
pub fn decode_stored(bytes: &[u8]) -> Result<SignedObject, ValidationError> {
    let limits = Limits {
        max_size: usize::MAX,
        max_skew_ms: u64::MAX,
    };
    let (object, sig, _) = limits.check_all_but_signature(bytes, u64::MAX)?;
    Ok(SignedObject {
        id: ObjectId::of_bytes(bytes),
        object,
        sig,
        bytes: bytes.to_vec(),
    })
}

/// Validates one object with the default [`Limits`].
pub fn validate(bytes: &[u8], now_ms: u64) -> Result<SignedObject, ValidationError> {
    Limits::default().validate(bytes, now_ms)
}

/// Validates many objects with the default [`Limits`], batch-verifying signatures.
pub fn validate_batch(items: &[&[u8]], now_ms: u64) -> Vec<Result<SignedObject, ValidationError>> {
    Limits::default().validate_batch(items, now_ms)
}

// ---- field bounds -------------------------------------------------------------------------

/// Longest name (group, list), in bytes.
const MAX_NAME: usize = 64;
/// Longest post text or group rules text, in bytes.
const MAX_TEXT: usize = 16 * 1024;
/// Longest description, report or appeal text, in bytes.
const MAX_NOTE: usize = 2048;
/// Longest reason or claim, in bytes.
const MAX_REASON: usize = 512;
/// Longest label value or category, in bytes.
const MAX_TOKEN: usize = 64;
/// Longest DID, in bytes.
const MAX_DID: usize = 256;
/// Most links in a post.
const MAX_LINKS: usize = 16;
/// Most moderators in a group.
const MAX_MODERATORS: usize = 64;
/// Most adds retracted by one list-remove.
const MAX_REMOVES: usize = 256;
/// Largest vote budget a group may set per epoch.
const MAX_VOTE_BUDGET: u64 = 10_000;
/// Largest quorum (voices) a village may set for amendments.
const MAX_AMEND_QUORUM: u64 = 1_000_000;
/// Most choices a poll may offer.
const MAX_POLL_OPTIONS: u64 = 256;
/// Longest personhood proof a ballot may carry, in bytes.
const MAX_PROOF: usize = 1024;
/// Longest credential in a `credential` object (JSON text).
const MAX_VC: usize = 16 * 1024;
/// Longest credential id in a `credential-revoke` object.
const MAX_CREDENTIAL_ID: usize = 512;

fn bound(ok: bool, field: &'static str, reason: &'static str) -> Result<(), ValidationError> {
    if ok {
        Ok(())
    } else {
        Err(ValidationError::OutOfBounds { field, reason })
    }
}

fn check_name(name: &str, field: &'static str) -> Result<(), ValidationError> {
    bound(
        !name.is_empty() && name.len() <= MAX_NAME,
        field,
        "must be 1 to 64 bytes",
    )?;
    bound(
        !name.chars().any(char::is_control),
        field,
        "must not contain control characters",
    )
}

fn check_text(
    text: &Option<String>,
    max: usize,
    field: &'static str,
) -> Result<(), ValidationError> {
    match text {
        Some(t) => bound(t.len() <= max, field, "too long"),
        None => Ok(()),
    }
}

fn check_token(token: &str, field: &'static str) -> Result<(), ValidationError> {
    bound(
        !token.is_empty() && token.len() <= MAX_TOKEN,
        field,
        "must be 1 to 64 bytes",
    )?;
    bound(
        token
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        field,
        "only a-z, 0-9 and '-'",
    )
}

fn check_expiry(expires: Option<u64>, at: u64) -> Result<(), ValidationError> {
    match expires {
        Some(e) if e <= at => Err(ValidationError::BadExpiry { expires: e, at }),
        _ => Ok(()),
    }
}

fn check_group(g: &GroupRef, field: &'static str) -> Result<(), ValidationError> {
    check_name(&g.name, field)
}

fn check_list(l: &ListRef) -> Result<(), ValidationError> {
    check_name(&l.name, "list.name")
}

fn no_duplicates<T: Ord + Clone>(items: &[T]) -> bool {
    let mut sorted = items.to_vec();
    sorted.sort();
    sorted.windows(2).all(|w| w[0] != w[1])
}

/// Checks the field bounds and co-signatures of an object (everything but the envelope
/// signature and the timestamp skew).
pub(crate) fn check_fields(object: &Object) -> Result<(), ValidationError> {
    let at = object.at;
    match &object.body {
        Body::Post(p) => {
            if let Some(g) = &p.group {
                check_group(g, "group.name")?;
            }
            bound(p.text.len() <= MAX_TEXT, "text", "longer than 16384 bytes")?;
            bound(p.links.len() <= MAX_LINKS, "links", "more than 16 links")?;
            bound(
                !p.text.is_empty() || !p.links.is_empty(),
                "text",
                "a post needs text or links",
            )?;
            bound(
                p.reply.is_some() == p.root.is_some(),
                "root",
                "reply and root go together",
            )
        }
        Body::Vote(v) => {
            bound(v.value == 1 || v.value == -1, "value", "must be 1 or -1")?;
            if let Some(g) = &v.group {
                check_group(g, "group.name")?;
            }
            if v.epoch != epoch_of(at) {
                return Err(ValidationError::EpochMismatch {
                    epoch: v.epoch,
                    expected: epoch_of(at),
                });
            }
            Ok(())
        }
        Body::Attest(a) => {
            bound(
                (-100..=100).contains(&a.level),
                "level",
                "must be -100..=100",
            )?;
            bound(
                a.subject != object.author,
                "subject",
                "cannot attest oneself",
            )?;
            if let Some(g) = &a.context {
                check_group(g, "context.name")?;
            }
            check_text(&a.claim, MAX_REASON, "claim")?;
            check_expiry(a.expires, at)
        }
        Body::List(l) => {
            check_name(&l.name, "name")?;
            check_text(&l.description, MAX_NOTE, "description")?;
            bound(
                (l.purpose == ListPurpose::Ban) == l.group.is_some(),
                "group",
                "required for ban lists and only for them",
            )?;
            if let Some(g) = &l.group {
                check_group(g, "group.name")?;
            }
            Ok(())
        }
        Body::ListAdd(a) => {
            check_list(&a.list)?;
            check_text(&a.reason, MAX_REASON, "reason")?;
            if let Some(c) = &a.category {
                check_token(c, "category")?;
            }
            check_expiry(a.expires, at)
        }
        Body::ListRemove(r) => {
            check_list(&r.list)?;
            bound(
                !r.adds.is_empty() && r.adds.len() <= MAX_REMOVES,
                "adds",
                "must name 1 to 256 entries",
            )?;
            bound(no_duplicates(&r.adds), "adds", "duplicate entry")
        }
        Body::Group(g) => {
            check_name(&g.name, "name")?;
            check_text(&g.rules, MAX_TEXT, "rules")?;
            bound(
                g.moderators.len() <= MAX_MODERATORS,
                "moderators",
                "more than 64",
            )?;
            bound(no_duplicates(&g.moderators), "moderators", "duplicate key")?;
            bound(
                !g.moderators.contains(&object.author),
                "moderators",
                "the owner is not listed as a moderator",
            )?;
            if let Some(t) = g.policy.min_trust {
                bound(t <= 100, "policy.min_trust", "must be 0..=100")?;
            }
            if let Some(b) = g.policy.vote_budget {
                bound(
                    b <= MAX_VOTE_BUDGET,
                    "policy.vote_budget",
                    "must be <= 10000",
                )?;
            }
            if let Some(d) = &g.policy.credential_issuer {
                bound(
                    d.starts_with("did:") && d.len() <= MAX_DID,
                    "policy.credential_issuer",
                    "must be a DID of at most 256 bytes",
                )?;
            }
            if let Some(q) = g.policy.amend_quorum {
                bound(
                    (1..=MAX_AMEND_QUORUM).contains(&q),
                    "policy.amend_quorum",
                    "must be 1..=1000000",
                )?;
                bound(
                    g.policy.personhood_votes && g.policy.credential_issuer.is_some(),
                    "policy.amend_quorum",
                    "needs personhood_votes and a credential_issuer",
                )?;
            }
            if let Some(m) = g.policy.amend_majority {
                bound(
                    (50..=99).contains(&m) && g.policy.amend_quorum.is_some(),
                    "policy.amend_majority",
                    "must be 50..=99, with amend_quorum",
                )?;
            }
            Ok(())
        }
        Body::Label(l) => {
            check_token(&l.value, "value")?;
            check_text(&l.reason, MAX_REASON, "reason")?;
            check_expiry(l.expires, at)
        }
        Body::Report(r) => {
            check_group(&r.group, "group.name")?;
            check_token(&r.category, "category")?;
            check_text(&r.text, MAX_NOTE, "text")
        }
        Body::Appeal(a) => check_text(&a.text, MAX_NOTE, "text"),
        Body::Dismiss(d) => {
            check_group(&d.group, "group.name")?;
            bound(
                !d.reports.is_empty() && d.reports.len() <= MAX_REMOVES,
                "reports",
                "must name 1 to 256 reports",
            )?;
            bound(no_duplicates(&d.reports), "reports", "duplicate report")?;
            check_text(&d.text, MAX_NOTE, "text")
        }
        Body::Rotate(RotateBody::Handover { new, new_sig }) => {
            bound(*new != object.author, "new", "must differ from the old key")?;
            let msg = RotateBody::consent_message(&object.author, new, at);
            vouch_identity::verify(new, Domain::Rotate, &msg, new_sig)
                .map_err(|_| ValidationError::InvalidCosignature)
        }
        Body::Rotate(RotateBody::Reveal { old, next, since }) => {
            bound(*old != object.author, "old", "must differ from the author")?;
            bound(
                *next != Some(object.author.next_key_digest()),
                "next",
                "must not commit to the author itself",
            )?;
            bound(
                since.is_none_or(|s| s <= at),
                "since",
                "must not be after the object's time",
            )
        }
        Body::Incept(i) => bound(
            i.next != object.author.next_key_digest(),
            "next",
            "must not commit to the author itself",
        ),
        Body::Poll(p) => {
            check_group(&p.group, "group.name")?;
            bound(
                !p.text.is_empty() && p.text.len() <= MAX_NOTE,
                "text",
                "must be 1 to 2048 bytes",
            )?;
            bound(
                (2..=MAX_POLL_OPTIONS).contains(&p.options),
                "options",
                "must be 2..=256",
            )?;
            bound(p.closes > at, "closes", "must be after the object's time")?;
            if let Some(a) = &p.amend {
                bound(
                    p.options == 2,
                    "options",
                    "an amendment is adopt (0) or reject (1)",
                )?;
                bound(
                    a.min_trust.is_some() || a.vote_budget.is_some(),
                    "amend",
                    "must change at least one rule",
                )?;
                if let Some(t) = a.min_trust {
                    bound(t <= 100, "amend.min_trust", "must be 0..=100")?;
                }
                if let Some(b) = a.vote_budget {
                    bound(
                        b <= MAX_VOTE_BUDGET,
                        "amend.vote_budget",
                        "must be <= 10000",
                    )?;
                }
            }
            Ok(())
        }
        Body::Ballot(b) => {
            bound(b.choice < MAX_POLL_OPTIONS, "choice", "must be 0..=255")?;
            bound(
                !b.proof.is_empty() && b.proof.len() <= MAX_PROOF,
                "proof",
                "must be 1 to 1024 bytes",
            )
        }
        Body::Revoke(r) => {
            bound(
                r.since <= at,
                "since",
                "must not be after the object's time",
            )?;
            check_text(&r.reason, MAX_REASON, "reason")
        }
        Body::Credential(c) => bound(
            !c.vc.is_empty() && c.vc.len() <= MAX_VC,
            "vc",
            "must be 1 to 16384 bytes",
        ),
        Body::CredentialRevoke(r) => {
            bound(
                !r.credential.is_empty() && r.credential.len() <= MAX_CREDENTIAL_ID,
                "credential",
                "must be 1 to 512 bytes",
            )?;
            check_text(&r.reason, MAX_REASON, "reason")
        }
        Body::Link(l) => {
            bound(
                l.identity.len() <= MAX_DID,
                "identity",
                "longer than 256 bytes",
            )?;
            let identity = PublicKey::from_did_key(&l.identity)
                .map_err(|_| ValidationError::UnsupportedDid(l.identity.clone()))?;
            bound(
                identity != object.author,
                "identity",
                "the identity key must not be the posting key",
            )?;
            let msg = LinkBody::consent_message(&object.author, &l.identity, at);
            vouch_identity::verify(&identity, Domain::Link, &msg, &l.proof)
                .map_err(|_| ValidationError::InvalidCosignature)
        }
    }
}
