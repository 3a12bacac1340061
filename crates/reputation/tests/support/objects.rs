//! Deterministic sample objects of every kind, shared by the integration tests, the vector
//! generator and the benchmarks.
#![allow(dead_code, clippy::unwrap_used)]

use vouch_identity::SecretKey;
use vouch_reputation::*;

/// A fixed "now": 2026-01-01T00:00:00Z in ms.
pub const NOW: u64 = 1_767_225_600_000;

pub fn key(n: u8) -> SecretKey {
    SecretKey::from_seed(&[n; 32])
}

pub fn group(owner: &SecretKey) -> GroupRef {
    GroupRef {
        owner: owner.public_key(),
        name: "rust-lang".into(),
    }
}

pub fn some_id(n: u8) -> ObjectId {
    ObjectId([n; 32])
}

/// Signs a body as `k` at `at` (bounds checked).
pub fn sign(k: &SecretKey, at: u64, body: Body) -> SignedObject {
    Object {
        author: k.public_key(),
        at,
        body,
    }
    .sign(k)
    .unwrap()
}

/// An attestation by `by` of `subject` at `level`, signed at `at`.
pub fn attest(by: &SecretKey, subject: &SecretKey, level: i64, at: u64) -> SignedObject {
    sign(
        by,
        at,
        Body::Attest(AttestBody::new(subject.public_key(), level)),
    )
}

/// One body of every kind (as authored by `key(1)` at `at`), in spec order.
pub fn bodies(at: u64) -> Vec<Body> {
    let a = key(1).public_key();
    let b = key(2).public_key();
    let owner = key(3);
    vec![
        Body::Post(PostBody {
            group: Some(group(&owner)),
            text: "Hello, Vouch! ✓".into(),
            links: vec![some_id(9).to_cid()],
            reply: Some(some_id(7)),
            root: Some(some_id(6)),
        }),
        Body::Vote(VoteBody {
            target: Subject::Object(some_id(7)),
            value: -1,
            epoch: epoch_of(at),
            group: Some(group(&owner)),
        }),
        Body::Attest(AttestBody {
            subject: b,
            level: 80,
            context: None,
            claim: Some("traded with them 12 times".into()),
            expires: Some(at + 365 * MS_PER_EPOCH),
        }),
        Body::List(ListBody {
            name: "spam-rings".into(),
            purpose: ListPurpose::Block,
            description: Some("Accounts that post coordinated spam".into()),
            group: None,
            seq: 3,
        }),
        Body::ListAdd(ListAddBody {
            list: ListRef {
                owner: a,
                name: "spam-rings".into(),
            },
            subject: Subject::Key(b),
            reason: Some("posted 400 identical links in an hour".into()),
            category: Some("spam".into()),
            expires: None,
        }),
        Body::ListRemove(ListRemoveBody {
            list: ListRef {
                owner: a,
                name: "spam-rings".into(),
            },
            adds: vec![some_id(4), some_id(5)],
        }),
        Body::Group(GroupBody {
            name: "rust-lang".into(),
            rules: Some("Be kind. No spam.".into()),
            policy: GroupPolicy {
                min_trust: Some(20),
                vote_budget: Some(50),
                credential_issuer: None,
                personhood_votes: true,
                amend_quorum: None,
                amend_majority: None,
            },
            moderators: vec![b],
            seq: 1,
        }),
        Body::Label(LabelBody {
            subject: Subject::Object(some_id(8)),
            value: "nsfw".into(),
            neg: false,
            reason: None,
            expires: None,
        }),
        Body::Report(ReportBody {
            subject: Subject::Key(b),
            group: group(&owner),
            category: "harassment".into(),
            text: Some("see thread".into()),
        }),
        Body::Appeal(AppealBody {
            target: some_id(3),
            text: Some("I was hacked that day".into()),
            outcome: None,
        }),
        Body::Rotate(RotateBody::new(&a, &key(11), at)),
        Body::Revoke(RevokeBody {
            since: at - 1000,
            reason: Some("laptop stolen".into()),
        }),
        Body::Link(LinkBody::new(&a, &key(12), at)),
        Body::Incept(InceptBody {
            next: key(13).public_key().next_key_digest(),
        }),
        Body::Poll(PollBody {
            group: group(&owner),
            header: some_id(2),
            text: "Raise the minimum trust to post to 30%?".into(),
            options: 2,
            closes: at + 7 * MS_PER_EPOCH,
            amend: Some(Amendment {
                min_trust: Some(30),
                vote_budget: None,
            }),
        }),
        Body::Ballot(BallotBody {
            poll: some_id(10),
            choice: 1,
            // Opaque to validation (the tally verifies it): a version byte and filler.
            proof: [&[1u8][..], &[0x5a; 63][..]].concat(),
        }),
        Body::Credential(CredentialBody {
            // Opaque to validation (nodes verify the credential where they use it).
            vc: r#"{"type":["VerifiableCredential"],"issuer":"did:key:z6Mk…"}"#.into(),
        }),
        Body::CredentialRevoke(CredentialRevokeBody {
            credential: "urn:uuid:11111111-2222-4333-8444-555555555555".into(),
            reason: Some("issued in error".into()),
        }),
        Body::Dismiss(DismissBody {
            group: group(&owner),
            reports: vec![some_id(5), some_id(6)],
            text: Some("satire, not harassment".into()),
        }),
    ]
}

/// A version 2 (pre-rotation) rotation of `key(1)`, signed by the key it committed to
/// (`key(13)`, see the `incept` sample), naming `key(14)` as the next one.
pub fn reveal_sample(at: u64) -> SignedObject {
    sign(
        &key(13),
        at,
        Body::Rotate(RotateBody::Reveal {
            old: key(1).public_key(),
            next: Some(key(14).public_key().next_key_digest()),
            since: Some(at - 60_000),
        }),
    )
}

/// One signed object of every kind by `key(1)`.
pub fn signed_samples(at: u64) -> Vec<SignedObject> {
    let k = key(1);
    bodies(at)
        .into_iter()
        .map(|body| {
            Object {
                author: k.public_key(),
                at,
                body,
            }
            .sign(&k)
            .unwrap()
        })
        .collect()
}
