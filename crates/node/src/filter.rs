//! Replication follows trust: which valid objects this node refuses to store or relay.
//!
//! The filter is configured from the node's config (`[replication]`) and can be replaced at
//! run time through [`SharedFilter::replace`]: that is the hook for the decisions layer,
//! which will compute the bans and blocks its viewers' policies apply and hand them over.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use vouch_identity::PublicKey;
use vouch_reputation::{Body, GroupRef, SignedObject};

/// Why an object is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The author is blocked by this node's viewers.
    BlockedAuthor,
    /// The author is banned from the post's group.
    BannedInGroup,
}

impl Refusal {
    /// The stable code, as printed by the API.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::BlockedAuthor => "refused-blocked-author",
            Refusal::BannedInGroup => "refused-banned-in-group",
        }
    }
}

/// The set of authors whose posts are not stored or relayed.
///
/// Only posts are filtered: attestations, lists, votes, labels and the like are evidence the
/// trust engine needs, whoever wrote them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicationFilter {
    blocked_authors: HashSet<PublicKey>,
    group_bans: HashSet<(GroupRef, PublicKey)>,
}

impl ReplicationFilter {
    /// A filter that refuses nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Refuses every post by `author`.
    pub fn block_author(&mut self, author: PublicKey) {
        self.blocked_authors.insert(author);
    }

    /// Refuses posts by `author` in `group`.
    pub fn ban_in_group(&mut self, group: GroupRef, author: PublicKey) {
        self.group_bans.insert((group, author));
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.blocked_authors.len() + self.group_bans.len()
    }

    /// Whether the filter has no rules.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether to store and relay `object`.
    pub fn check(&self, object: &SignedObject) -> Result<(), Refusal> {
        let Body::Post(post) = object.body() else {
            return Ok(());
        };
        if self.blocked_authors.contains(object.author()) {
            return Err(Refusal::BlockedAuthor);
        }
        if let Some(group) = &post.group {
            if self.group_bans.contains(&(group.clone(), *object.author())) {
                return Err(Refusal::BannedInGroup);
            }
        }
        Ok(())
    }
}

/// A filter shared by the ingest path and the network, replaceable while the node runs.
#[derive(Debug, Clone, Default)]
pub struct SharedFilter(Arc<RwLock<ReplicationFilter>>);

impl SharedFilter {
    /// Shares `filter`.
    pub fn new(filter: ReplicationFilter) -> Self {
        SharedFilter(Arc::new(RwLock::new(filter)))
    }

    /// Replaces the rules (the hook for the decisions layer).
    pub fn replace(&self, filter: ReplicationFilter) {
        match self.0.write() {
            Ok(mut guard) => *guard = filter,
            Err(poisoned) => *poisoned.into_inner() = filter,
        }
    }

    /// Checks one object against the current rules.
    pub fn check(&self, object: &SignedObject) -> Result<(), Refusal> {
        match self.0.read() {
            Ok(guard) => guard.check(object),
            Err(poisoned) => poisoned.into_inner().check(object),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vouch_identity::SecretKey;
    use vouch_reputation::{AttestBody, Object, PostBody};

    fn post(author: &SecretKey, group: Option<GroupRef>) -> SignedObject {
        Object {
            author: author.public_key(),
            at: 1_700_000_000_000,
            body: Body::Post(PostBody {
                group,
                text: "hi".into(),
                ..Default::default()
            }),
        }
        .sign(author)
        .unwrap()
    }

    #[test]
    fn blocks_and_bans_apply_to_posts_only() {
        let alice = SecretKey::from_seed(&[1; 32]);
        let bob = SecretKey::from_seed(&[2; 32]);
        let g = GroupRef {
            owner: bob.public_key(),
            name: "g".into(),
        };
        let mut f = ReplicationFilter::new();
        assert_eq!(f.check(&post(&alice, None)), Ok(()));
        f.ban_in_group(g.clone(), alice.public_key());
        assert_eq!(f.check(&post(&alice, None)), Ok(()));
        assert_eq!(
            f.check(&post(&alice, Some(g.clone()))),
            Err(Refusal::BannedInGroup)
        );
        f.block_author(bob.public_key());
        assert_eq!(f.check(&post(&bob, None)), Err(Refusal::BlockedAuthor));
        let attest = Object {
            author: bob.public_key(),
            at: 1_700_000_000_000,
            body: Body::Attest(AttestBody {
                subject: alice.public_key(),
                level: 10,
                context: None,
                claim: None,
                expires: None,
            }),
        }
        .sign(&bob)
        .unwrap();
        assert_eq!(f.check(&attest), Ok(()));
        let shared = SharedFilter::new(f);
        shared.replace(ReplicationFilter::new());
        assert_eq!(shared.check(&post(&bob, None)), Ok(()));
    }
}
