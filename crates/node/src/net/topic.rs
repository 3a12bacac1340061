//! Gossip topics: which topic an object travels on, and how topic names are written.
//!
//! A post in a group travels on that group's topic; every other object (posts outside a
//! group, attestations, lists, votes, ...) travels on the social topic. The same topic name
//! keys the object in the catch-up index, so reconciliation runs per topic.

use sha2::{Digest, Sha256};
use vouch_reputation::{Body, GroupRef, SignedObject};

/// The topic of social objects (everything that is not a post in a group).
pub(crate) const SOCIAL_TOPIC: &str = "vouch/1/social";

/// Prefix of group topics; the rest is the hex of a digest of the group's owner and name.
pub(crate) const GROUP_TOPIC_PREFIX: &str = "vouch/1/group/";

/// The topic of a group: `vouch/1/group/<hex of sha256(owner key || name), first 16 bytes>`.
pub(crate) fn group_topic(group: &GroupRef) -> String {
    let mut h = Sha256::new();
    h.update(group.owner.as_bytes());
    h.update(group.name.as_bytes());
    let digest = h.finalize();
    format!("{GROUP_TOPIC_PREFIX}{}", hex::encode(&digest[..16]))
}

/// The topic an object is published, relayed and reconciled on.
pub(crate) fn topic_of(object: &SignedObject) -> String {
    match object.body() {
        Body::Post(post) => match &post.group {
            Some(g) => group_topic(g),
            None => SOCIAL_TOPIC.to_owned(),
        },
        _ => SOCIAL_TOPIC.to_owned(),
    }
}

/// The gossipsub message id of `data` published on `topic`:
/// `sha256(topic UTF-8 || 0x00 || CID bytes of data)` (32 bytes).
///
/// Bound to the topic, so a copy of an object sent first on the wrong topic (and ignored
/// there) cannot make the genuine copy a duplicate: the two have different ids. Every
/// implementation computes it from what gossipsub gives its id function (topic and data).
pub(crate) fn gossip_message_id(topic: &str, data: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(topic.as_bytes());
    h.update([0u8]);
    h.update(
        vouch_reputation::ObjectId::of_bytes(data)
            .to_cid()
            .to_bytes(),
    );
    h.finalize().to_vec()
}

/// Parses `<owner did:key>/<name>` as given on the command line or in the config file.
pub(crate) fn parse_group(s: &str) -> Option<GroupRef> {
    let (owner, name) = s.split_once('/')?;
    let owner = vouch_identity::PublicKey::from_did_key(owner).ok()?;
    if name.is_empty() {
        return None;
    }
    Some(GroupRef {
        owner,
        name: name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vouch_identity::SecretKey;

    #[test]
    fn group_topics_are_stable_and_distinct() {
        let owner = SecretKey::from_seed(&[3; 32]).public_key();
        let a = GroupRef {
            owner,
            name: "rust".into(),
        };
        let b = GroupRef {
            owner,
            name: "rusty".into(),
        };
        assert_eq!(group_topic(&a), group_topic(&a.clone()));
        assert_ne!(group_topic(&a), group_topic(&b));
        assert!(group_topic(&a).starts_with(GROUP_TOPIC_PREFIX));
        let parsed = parse_group(&format!("{}/rust", owner.to_did_key()));
        assert_eq!(parsed, Some(a));
        assert_eq!(parse_group("nope"), None);
    }

    #[test]
    fn message_ids_are_bound_to_the_topic() {
        let data = b"any bytes";
        let social = gossip_message_id(SOCIAL_TOPIC, data);
        assert_eq!(social.len(), 32);
        assert_ne!(social, gossip_message_id("vouch/1/group/00", data));
        assert_ne!(social, gossip_message_id(SOCIAL_TOPIC, b"other bytes"));
        // The vector in specs/sync.md: sha256("vouch/1/social" || 0x00 || CID of "any bytes").
        let mut h = Sha256::new();
        h.update(b"vouch/1/social\0");
        h.update(
            vouch_reputation::ObjectId::of_bytes(data)
                .to_cid()
                .to_bytes(),
        );
        assert_eq!(social, h.finalize().to_vec());
        assert_eq!(
            hex::encode(&social),
            hex::encode(gossip_message_id(SOCIAL_TOPIC, data))
        );
    }
}
