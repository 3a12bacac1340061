//! No single header takes a list or a group for good (`specs/decisions.md`, "Headers"): a
//! header's effective `seq` is bounded by its own time, so its owner can always supersede
//! one signed with `seq = u64::MAX` (by mistake, or by a thief of the key).
#![allow(clippy::unwrap_used)]

#[path = "support/objects.rs"]
mod support;

use support::{key, sign, NOW};
use vouch_identity::SecretKey;
use vouch_reputation::*;

const MIN: u64 = 60_000;

fn group_header(owner: &SecretKey, at: u64, seq: u64, min_trust: u64) -> SignedObject {
    sign(
        owner,
        at,
        Body::Group(GroupBody {
            name: "garden".into(),
            rules: None,
            policy: GroupPolicy {
                min_trust: Some(min_trust),
                ..Default::default()
            },
            moderators: vec![],
            seq,
        }),
    )
}

fn list_header(owner: &SecretKey, at: u64, seq: u64, description: &str) -> SignedObject {
    sign(
        owner,
        at,
        Body::List(ListBody {
            name: "spam".into(),
            purpose: ListPurpose::Block,
            description: Some(description.into()),
            group: None,
            seq,
        }),
    )
}

fn state(objects: &[SignedObject]) -> ModerationState {
    let mut s = ModerationState::new();
    for o in objects {
        s.apply(o);
    }
    s
}

#[test]
fn a_header_with_seq_max_is_superseded_by_the_next_one() {
    let owner = key(50);
    let g = GroupRef {
        owner: owner.public_key(),
        name: "garden".into(),
    };
    let l = ListRef {
        owner: owner.public_key(),
        name: "spam".into(),
    };
    let first = [
        group_header(&owner, NOW - 60 * MIN, 1, 10),
        list_header(&owner, NOW - 60 * MIN, 1, "first"),
    ];
    // Signed with the owner's key (a compromised client, or a bug): seq = u64::MAX. Under
    // "highest seq wins" nothing could ever replace it.
    let captured = [
        group_header(&owner, NOW - 30 * MIN, u64::MAX, 90),
        list_header(&owner, NOW - 30 * MIN, u64::MAX, "captured"),
    ];
    let s = state(&[first.clone(), captured.clone()].concat());
    assert_eq!(s.group_header(&g).unwrap().1.policy.min_trust, Some(90));
    assert_eq!(
        s.list_header(&l).unwrap().1.body.description.as_deref(),
        Some("captured")
    );
    // Its effective seq is its own time; the owner's next header, with a later time and a
    // seq to match, wins whatever order the objects arrive in.
    let at = NOW - 10 * MIN;
    let fixed = [
        group_header(&owner, at, at, 20),
        list_header(&owner, at, at, "fixed"),
    ];
    let all = [first, captured, fixed].concat();
    for order in [all.clone(), all.iter().rev().cloned().collect()] {
        let s = state(&order);
        assert_eq!(s.group_header(&g).unwrap().1.policy.min_trust, Some(20));
        assert_eq!(
            s.list_header(&l).unwrap().1.body.description.as_deref(),
            Some("fixed")
        );
        assert!(s.group_equivocations(&g).is_empty());
        assert!(s.list_equivocations(&l).is_empty());
    }
    assert_eq!(effective_seq(u64::MAX, at), at);
    assert_eq!(effective_seq(7, at), 7);
}

#[test]
fn headers_that_tie_on_effective_seq_are_equivocation() {
    let owner = key(51);
    let g = GroupRef {
        owner: owner.public_key(),
        name: "garden".into(),
    };
    // Same time, one with seq = at and one with seq = u64::MAX: both claim slot `at`.
    let at = NOW - MIN;
    let a = group_header(&owner, at, at, 10);
    let b = group_header(&owner, at, u64::MAX, 90);
    let s = state(&[a.clone(), b.clone()]);
    let eq = s.group_equivocations(&g);
    assert_eq!(eq.len(), 1);
    assert_eq!(eq[0].seq, at);
    let mut ids = vec![a.id(), b.id()];
    ids.sort();
    assert_eq!(eq[0].versions, ids);
    // The smaller id is used, as for any equivocation.
    assert_eq!(s.group_header(&g).unwrap().0, ids[0]);
}
