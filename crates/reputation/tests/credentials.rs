//! Credentials in decisions (issue 16, point 3, the library half): a viewer who accepts an
//! issuer sees "verified by <issuer>" on authors holding its credential and nothing on others;
//! a revoked or expired credential stops counting, with a reason.
#![allow(clippy::unwrap_used)]

#[path = "support/objects.rs"]
mod support;

use support::{key, sign, NOW};
use vouch_identity::SecretKey;
use vouch_reputation::*;

const ISSUER: &str = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";

fn post(author: &SecretKey, group: Option<GroupRef>) -> Item {
    let p = sign(
        author,
        NOW - 1,
        Body::Post(PostBody {
            group,
            text: "hi".into(),
            ..Default::default()
        }),
    );
    Item::post(&p).unwrap()
}

fn reasons(d: &Decision, code: ReasonCode) -> Vec<&Reason> {
    d.reasons.iter().filter(|r| r.code == code).collect()
}

#[test]
fn verified_by_an_accepted_issuer_and_void_credentials_say_why() {
    let (viewer, alice, bob, carol, owner) = (key(70), key(71), key(72), key(73), key(74));
    let group = GroupRef {
        owner: owner.public_key(),
        name: "verified-only".into(),
    };
    let mut state = ModerationState::new();
    state.apply(&sign(
        &owner,
        NOW - 100,
        Body::Group(GroupBody {
            name: group.name.clone(),
            rules: None,
            policy: GroupPolicy {
                credential_issuer: Some(ISSUER.into()),
                ..Default::default()
            },
            moderators: vec![],
            seq: 1,
        }),
    ));
    let facts = IdentityFacts {
        credentials: [(alice.public_key(), ISSUER.to_string())].into(),
        problems: [
            (
                (bob.public_key(), ISSUER.to_string()),
                CredentialProblem::Revoked,
            ),
            (
                (carol.public_key(), ISSUER.to_string()),
                CredentialProblem::Expired,
            ),
        ]
        .into(),
        ..Default::default()
    };
    let trust = DirectTrust::new(viewer.public_key());
    let mut policy = Policy::new(viewer.public_key());
    policy.verified_issuers = vec!["did:key:z6Mkother".into(), ISSUER.into()];
    let view = View::build(&state, &policy, &trust, &facts, NOW);

    let d = view.decide(&post(&alice, None), NOW);
    let v = reasons(&d, ReasonCode::AuthorVerified);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].value.as_deref(), Some(ISSUER));
    assert_eq!(v[0].sentence(), format!("Verified by {ISSUER}."));
    assert_eq!(d.verdict, Verdict::Show);
    // The batch path and the compiled path agree.
    assert_eq!(view.decide_batch(&[post(&alice, None)], NOW)[0], d);

    // Bob's credential was revoked: no mark; explain says why; the group that asks for the
    // credential collapses his post and says it was revoked.
    let d = view.decide(&post(&bob, None), NOW);
    assert!(reasons(&d, ReasonCode::AuthorVerified).is_empty());
    assert!(reasons(&d, ReasonCode::AuthorCredentialVoid).is_empty());
    let e = view.explain(&post(&bob, None), NOW);
    let void = reasons(&e, ReasonCode::AuthorCredentialVoid);
    assert_eq!(void.len(), 1);
    assert!(
        void[0].sentence().contains("was revoked"),
        "{}",
        void[0].sentence()
    );
    let g = view.decide(&post(&bob, Some(group.clone())), NOW);
    assert_eq!(g.verdict, Verdict::Collapse);
    let missing = reasons(&g, ReasonCode::GroupCredentialMissing);
    assert!(missing[0]
        .sentence()
        .ends_with("and the author's was revoked."));
    let e = view.explain(&post(&carol, None), NOW);
    assert_eq!(
        reasons(&e, ReasonCode::AuthorCredentialVoid)[0]
            .note
            .as_deref(),
        Some("expired")
    );
    // In the group, Alice's credential is what the group asks for.
    let g = view.decide(&post(&alice, Some(group)), NOW);
    assert_eq!(g.verdict, Verdict::Show);

    // A viewer who accepts no issuer sees no mark, even on Alice.
    let plain = View::build(
        &state,
        &Policy::new(viewer.public_key()),
        &trust,
        &facts,
        NOW,
    );
    let d = plain.explain(&post(&alice, None), NOW);
    assert!(reasons(&d, ReasonCode::AuthorVerified).is_empty());
}
