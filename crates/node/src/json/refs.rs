//! Keys, objects, groups, lists and subjects as strings: `did:key:…`, CIDs and
//! `<owner did:key>/<name>`, both ways.

use vouch_identity::PublicKey;
use vouch_reputation::{GroupRef, ListRef, ObjectId, Subject};

use super::*;

/// Longest list or group name, in bytes (as `specs/objects.md` bounds it).
pub(crate) const MAX_NAME_BYTES: usize = 64;

/// Reads a `did:key`, or a Nostr key (`npub1…`, `nostr:<hex>`, 64 lowercase hex) as the
/// subject key it has in the engine (`specs/nostr.md` §2).
pub(crate) fn parse_did(field: &'static str, s: &str) -> Result<PublicKey, JsonError> {
    if !s.starts_with("did:") {
        if let Some(k) = crate::nostr::keys::NostrKey::parse(s) {
            return Ok(k.subject());
        }
    }
    PublicKey::from_did_key(s).map_err(|_| JsonError::Did {
        field,
        value: clip(s),
    })
}

/// Reads an object CID.
pub(crate) fn parse_cid(field: &'static str, s: &str) -> Result<ObjectId, JsonError> {
    s.parse().map_err(|_| JsonError::Cid {
        field,
        value: clip(s),
    })
}

/// Reads `<owner did:key>/<name>` into its owner and name.
pub(crate) fn parse_ref(field: &'static str, s: &str) -> Result<(PublicKey, String), JsonError> {
    let bad = || JsonError::Ref {
        field,
        value: clip(s),
    };
    let (owner, name) = s.split_once('/').ok_or_else(bad)?;
    let owner = PublicKey::from_did_key(owner).map_err(|_| bad())?;
    if name.is_empty() || name.len() > MAX_NAME_BYTES {
        return Err(bad());
    }
    Ok((owner, name.to_owned()))
}

/// Reads a group reference.
pub(crate) fn parse_group(field: &'static str, s: &str) -> Result<GroupRef, JsonError> {
    parse_ref(field, s).map(|(owner, name)| GroupRef { owner, name })
}

/// Reads a list reference.
pub(crate) fn parse_list(field: &'static str, s: &str) -> Result<ListRef, JsonError> {
    parse_ref(field, s).map(|(owner, name)| ListRef { owner, name })
}

/// Reads a subject: a `did:key` is an author, anything else must be an object CID.
pub(crate) fn parse_subject(field: &'static str, s: &str) -> Result<Subject, JsonError> {
    if s.starts_with("did:") || crate::nostr::keys::NostrKey::parse(s).is_some() {
        parse_did(field, s).map(Subject::Key)
    } else {
        parse_cid(field, s).map(Subject::Object)
    }
}

/// `did:key:…`.
pub(crate) fn did(k: &PublicKey) -> String {
    k.to_did_key()
}

/// `<owner did:key>/<name>` of a group.
pub fn group_str(g: &GroupRef) -> String {
    format!("{}/{}", g.owner.to_did_key(), g.name)
}

/// `<owner did:key>/<name>` of a list.
pub fn list_str(l: &ListRef) -> String {
    format!("{}/{}", l.owner.to_did_key(), l.name)
}

/// A subject as a string (a `did:key` or a CID).
pub(crate) fn subject_str(s: &Subject) -> String {
    match s {
        Subject::Key(k) => k.to_did_key(),
        Subject::Object(o) => o.to_string(),
    }
}

fn clip(s: &str) -> String {
    s.chars().take(120).collect()
}

/// A key given as bytes (from the trust graph) as a `did:key`, or its hex if the bytes are
/// not a valid key (the graph only holds keys that validated, so this does not happen).
pub(crate) fn key_bytes_did(k: &[u8; 32]) -> String {
    PublicKey::from_bytes(k).map_or_else(|_| hex::encode(k), |k| k.to_did_key())
}

#[cfg(test)]
mod tests {
    use super::*;
    use vouch_identity::SecretKey;

    fn k(n: u8) -> PublicKey {
        SecretKey::from_seed(&[n; 32]).public_key()
    }

    #[test]
    fn refs_and_subjects_parse_and_print_both_ways() {
        let owner = k(5);
        let s = format!("{}/a/b", owner.to_did_key());
        let l = parse_list("x", &s).unwrap();
        assert_eq!(l.name, "a/b");
        assert_eq!(list_str(&l), s);
        assert_eq!(
            parse_ref("x", &format!("{}/", owner.to_did_key()))
                .unwrap_err()
                .code(),
            "bad-ref"
        );
        assert_eq!(
            parse_subject("x", &owner.to_did_key()).unwrap(),
            Subject::Key(owner)
        );
        assert_eq!(
            parse_subject("x", "did:web:x").unwrap_err().code(),
            "bad-did"
        );
    }
}
