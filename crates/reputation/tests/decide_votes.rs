//! Rate-limited votes: one effective vote per (voter, target), a budget per voter per epoch
//! applied the same way on every node, every vote weighted by the voter's trust from this
//! viewer; a swarm of fresh keys changes nothing, three trusted voters do.
#![allow(clippy::unwrap_used)]

#[path = "support/objects.rs"]
mod support;

use support::{key, sign, NOW};
use vouch_identity::SecretKey;
use vouch_reputation::*;

fn vote(
    by: &SecretKey,
    target: Subject,
    value: i64,
    at: u64,
    group: Option<GroupRef>,
) -> SignedObject {
    sign(
        by,
        at,
        Body::Vote(VoteBody {
            target,
            value,
            epoch: epoch_of(at),
            group,
        }),
    )
}

/// An attestation signed a day before `NOW`.
fn attest(by: &SecretKey, subject: &SecretKey, level: i64) -> SignedObject {
    support::attest(by, subject, level, NOW - MS_PER_EPOCH)
}

fn the_post(author: &SecretKey) -> (Item, ObjectId) {
    let o = sign(
        author,
        NOW - 3_600_000,
        Body::Post(PostBody {
            text: "a post".into(),
            ..Default::default()
        }),
    );
    (Item::post(&o).unwrap(), o.id())
}

fn decide_in(state: &ModerationState, viewer: &SecretKey, item: &Item) -> Decision {
    let policy = Policy::new(viewer.public_key());
    let trust = DirectTrust::from_state(state, &viewer.public_key(), NOW);
    let view = View::build(state, &policy, &trust, &NoCredentials, NOW);
    view.explain(item, NOW)
}

#[test]
fn ten_thousand_fresh_keys_change_nothing_three_trusted_voters_do() {
    let viewer = key(100);
    let author = key(101);
    let (item, id) = the_post(&author);
    let mut state = ModerationState::new();
    let baseline = decide_in(&state, &viewer, &item);
    assert_eq!(baseline.verdict, Verdict::Show);

    for i in 0..10_000u32 {
        let mut seed = [7u8; 32];
        seed[..4].copy_from_slice(&i.to_le_bytes());
        let sybil = SecretKey::from_seed(&seed);
        let v = vote(
            &sybil,
            Subject::Object(id),
            -1,
            NOW - 60_000 - u64::from(i),
            None,
        );
        assert_eq!(state.apply(&v), Applied::Stored);
    }
    let d = decide_in(&state, &viewer, &item);
    assert_eq!(d.verdict, baseline.verdict);
    assert_eq!(d.score, baseline.score);
    let ignored = d
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::VotesIgnored)
        .unwrap();
    assert_eq!(ignored.count, 10_000);

    let trusted: Vec<SecretKey> = (0..3).map(|i| key(110 + i)).collect();
    for t in &trusted {
        state.apply(&attest(&viewer, t, 100));
        state.apply(&vote(t, Subject::Object(id), -1, NOW - 120_000, None));
    }
    let d = decide_in(&state, &viewer, &item);
    assert_eq!(
        d.verdict,
        Verdict::Hide,
        "three fully trusted down-votes reach hide_at = 3"
    );
    let r = d
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::VotesNegative)
        .unwrap();
    assert_eq!(r.count, 3);
    assert_eq!(r.weight, -3.0);
    assert_eq!(r.objects.len(), 3);
    assert_eq!(d.score, -3.0);
    // Trust, not numbers: at 40% trust the same three only collapse.
    let mut state2 = ModerationState::new();
    for t in &trusted {
        state2.apply(&attest(&viewer, t, 40));
        state2.apply(&vote(t, Subject::Object(id), -1, NOW - 120_000, None));
    }
    assert_eq!(
        decide_in(&state2, &viewer, &item).verdict,
        Verdict::Collapse
    );
}

#[test]
fn one_effective_vote_per_voter_and_target() {
    let viewer = key(100);
    let voter = key(120);
    let (item, id) = the_post(&key(101));
    let mut state = ModerationState::new();
    state.apply(&attest(&viewer, &voter, 100));
    for i in 0..5 {
        state.apply(&vote(
            &voter,
            Subject::Object(id),
            -1,
            NOW - 600_000 + i * 1000,
            None,
        ));
    }
    // Votes on other days count once as well.
    state.apply(&vote(
        &voter,
        Subject::Object(id),
        -1,
        NOW - 2 * MS_PER_EPOCH,
        None,
    ));
    let d = decide_in(&state, &viewer, &item);
    let r = d
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::VotesNegative)
        .unwrap();
    assert_eq!(r.weight, -1.0);
    assert_eq!(d.verdict, Verdict::Collapse);
    // The latest vote wins: an up vote after them cancels the down vote.
    state.apply(&vote(&voter, Subject::Object(id), 1, NOW - 1000, None));
    let d = decide_in(&state, &viewer, &item);
    assert_eq!(d.verdict, Verdict::Show);
    assert_eq!(d.score, 1.0);
}

#[test]
fn budget_per_epoch_ignores_extra_votes_deterministically() {
    let viewer = key(100);
    let voter = key(121);
    let author = key(101);
    let budget = Policy::new(viewer.public_key()).votes.budget_per_epoch as u64;
    let day_start = (NOW / MS_PER_EPOCH - 1) * MS_PER_EPOCH;
    let mut votes = Vec::new();
    let mut targets = Vec::new();
    for i in 0..budget + 5 {
        let target = ObjectId([i as u8; 32]);
        targets.push(target);
        votes.push(vote(
            &voter,
            Subject::Object(target),
            -1,
            day_start + 1000 * (i + 1),
            None,
        ));
    }
    let mut forward = ModerationState::new();
    let mut backward = ModerationState::new();
    forward.apply(&attest(&viewer, &voter, 100));
    backward.apply(&attest(&viewer, &voter, 100));
    for v in &votes {
        forward.apply(v);
    }
    for v in votes.iter().rev() {
        backward.apply(v);
    }
    let verdicts = |state: &ModerationState| -> Vec<Verdict> {
        targets
            .iter()
            .map(|t| {
                decide_in(
                    state,
                    &viewer,
                    &Item::Post(PostItem {
                        id: *t,
                        author: author.public_key(),
                        at: NOW - 1000,
                        group: None,
                    }),
                )
                .verdict
            })
            .collect()
    };
    let f = verdicts(&forward);
    assert_eq!(
        f,
        verdicts(&backward),
        "the same on every node, whatever the arrival order"
    );
    // The first `budget` votes of the day (by time, then id) count; the last 5 do not.
    assert!(f[..budget as usize].iter().all(|v| *v == Verdict::Collapse));
    assert!(f[budget as usize..].iter().all(|v| *v == Verdict::Show));
    let last = decide_in(
        &forward,
        &viewer,
        &Item::Post(PostItem {
            id: targets[budget as usize],
            author: author.public_key(),
            at: NOW - 1000,
            group: None,
        }),
    );
    assert!(last.has(ReasonCode::VotesIgnored));
}

#[test]
fn a_groups_vote_budget_applies_to_votes_in_the_group() {
    let viewer = key(100);
    let voter = key(122);
    let owner = key(123);
    let g = GroupRef {
        owner: owner.public_key(),
        name: "g".into(),
    };
    let gh = sign(
        &owner,
        NOW - 2 * MS_PER_EPOCH,
        Body::Group(GroupBody {
            name: "g".into(),
            rules: None,
            policy: GroupPolicy {
                vote_budget: Some(1),
                ..Default::default()
            },
            moderators: vec![],
            seq: 1,
        }),
    );
    let mut state = ModerationState::new();
    state.apply(&gh);
    state.apply(&attest(&viewer, &voter, 100));
    let (a, b) = (ObjectId([1; 32]), ObjectId([2; 32]));
    state.apply(&vote(
        &voter,
        Subject::Object(a),
        -1,
        NOW - 20_000,
        Some(g.clone()),
    ));
    state.apply(&vote(
        &voter,
        Subject::Object(b),
        -1,
        NOW - 10_000,
        Some(g.clone()),
    ));
    let item = |id| {
        Item::Post(PostItem {
            id,
            author: key(101).public_key(),
            at: NOW - 30_000,
            group: Some(g.clone()),
        })
    };
    assert_eq!(
        decide_in(&state, &viewer, &item(a)).verdict,
        Verdict::Collapse
    );
    assert_eq!(decide_in(&state, &viewer, &item(b)).verdict, Verdict::Show);
}

#[test]
fn hostile_vote_dated_in_a_future_epoch_is_ignored() {
    let viewer = key(100);
    let voter = key(124);
    let (item, id) = the_post(&key(101));
    let mut state = ModerationState::new();
    state.apply(&attest(&viewer, &voter, 100));
    // Signed without the skew check a validator would apply: a vote for tomorrow.
    let future = vote(&voter, Subject::Object(id), -1, NOW + MS_PER_EPOCH, None);
    assert_eq!(state.apply(&future), Applied::Stored);
    let d = decide_in(&state, &viewer, &item);
    assert_eq!(d.verdict, Verdict::Show);
    let r = d
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::VotesIgnored)
        .unwrap();
    assert_eq!(r.count, 1);
    // It does not use up today's budget either: a vote today still counts.
    state.apply(&vote(&voter, Subject::Object(id), -1, NOW - 1000, None));
    assert_eq!(decide_in(&state, &viewer, &item).verdict, Verdict::Collapse);
    // And validation itself rejects it, with a stable code.
    assert_eq!(
        validate(future.bytes(), NOW).unwrap_err().code(),
        "future-timestamp"
    );
}

#[test]
fn votes_by_a_revoked_key_after_revocation_do_not_count() {
    let viewer = key(100);
    let voter = key(125);
    let (item, id) = the_post(&key(101));
    let mut state = ModerationState::new();
    state.apply(&attest(&viewer, &voter, 100));
    state.apply(&vote(&voter, Subject::Object(id), -1, NOW - 1000, None));
    state.apply(&sign(
        &voter,
        NOW - 500,
        Body::Revoke(RevokeBody {
            since: NOW - 2000,
            reason: None,
        }),
    ));
    assert_eq!(decide_in(&state, &viewer, &item).verdict, Verdict::Show);
}

/// A village: a group whose policy counts only personhood-backed votes, its issuer, and the
/// host's verified bindings (the node checks each proof with `vouch-identity` and hands the
/// results in through `CredentialLookup::pseudonym`).
struct Village {
    owner: SecretKey,
    group: GroupRef,
    issuer: vouch_identity::PersonhoodIssuer,
    facts: IdentityFacts,
    rng: rand_chacha::ChaCha20Rng,
}

impl Village {
    fn new(personhood_votes: bool) -> (Village, SignedObject) {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(4);
        let issuer = vouch_identity::PersonhoodIssuer::generate(&mut rng).unwrap();
        let owner = key(120);
        let group = GroupRef {
            owner: owner.public_key(),
            name: "village".into(),
        };
        let header = sign(
            &owner,
            NOW - 2 * MS_PER_EPOCH,
            Body::Group(GroupBody {
                name: group.name.clone(),
                rules: None,
                policy: GroupPolicy {
                    credential_issuer: Some(issuer.public_key().to_did_key()),
                    personhood_votes,
                    ..Default::default()
                },
                moderators: vec![],
                seq: 1,
            }),
        );
        let v = Village {
            owner,
            group,
            issuer,
            facts: IdentityFacts::default(),
            rng,
        };
        (v, header)
    }

    fn person(&mut self) -> vouch_identity::PersonhoodCredential {
        let (req, pending) = vouch_identity::PersonhoodRequest::new(&mut self.rng).unwrap();
        let expiry = NOW - NOW % MS_PER_EPOCH + 30 * MS_PER_EPOCH;
        let iss = self.issuer.issue(&req, expiry, NOW, &mut self.rng).unwrap();
        pending.finalize(&self.issuer.public_key(), &iss).unwrap()
    }

    /// The scope label the personhood layer uses for the group (as `Poll::scope_group`).
    fn scope(&self, epoch: u64) -> vouch_identity::PersonhoodScope {
        let poll = Poll {
            group: self.group.clone(),
            epoch,
            subject: Subject::Key(self.owner.public_key()),
            choices: 2,
        };
        vouch_identity::PersonhoodScope::new(poll.scope_group(), epoch)
    }

    /// A down-vote on `post` by a fresh voting key in the group at `at`; with `who`, the
    /// key carries a personhood proof, which the host verifies and records.
    fn down_vote(
        &mut self,
        who: Option<&vouch_identity::PersonhoodCredential>,
        post: ObjectId,
        at: u64,
        n: u32,
    ) -> SignedObject {
        let mut seed = [9u8; 32];
        seed[..4].copy_from_slice(&n.to_le_bytes());
        let voting_key = SecretKey::from_seed(&seed);
        let epoch = epoch_of(at);
        if let Some(cred) = who {
            let scope = self.scope(epoch);
            let proof = cred.prove(&scope, &voting_key.public_key()).unwrap();
            // The host's side: verify against the issuer the group names, then record.
            let issuer = vouch_identity::PersonhoodIssuerKey::from_did_key(
                &self.issuer.public_key().to_did_key(),
            )
            .unwrap();
            let nym = vouch_identity::verify_personhood(
                &proof,
                &issuer,
                &scope,
                &voting_key.public_key(),
                NOW,
            )
            .unwrap();
            self.facts
                .pseudonyms
                .insert((self.group.clone(), epoch, voting_key.public_key()), nym.0);
        }
        vote(
            &voting_key,
            Subject::Object(post),
            -1,
            at,
            Some(self.group.clone()),
        )
    }
}

fn explain_village(
    state: &ModerationState,
    viewer: &SecretKey,
    facts: &IdentityFacts,
    item: &Item,
) -> Decision {
    let policy = Policy::new(viewer.public_key());
    let trust = DirectTrust::from_state(state, &viewer.public_key(), NOW);
    let view = View::build(state, &policy, &trust, facts, NOW);
    let d = view.decide(item, NOW);
    let e = view.explain(item, NOW);
    assert_eq!(d.verdict, e.verdict);
    assert_eq!(d.score, e.score);
    e
}

fn code(d: &Decision, c: ReasonCode) -> Option<&Reason> {
    d.reasons.iter().find(|r| r.code == c)
}

#[test]
fn one_person_with_fifty_keys_is_one_voice_in_a_personhood_group() {
    let viewer = key(100);
    let author = key(101);
    let (mut v, header) = Village::new(true);
    let post = sign(
        &author,
        NOW - 3_600_000,
        Body::Post(PostBody {
            group: Some(v.group.clone()),
            text: "shall we fix the well?".into(),
            ..Default::default()
        }),
    );
    let item = Item::post(&post).unwrap();
    let mut state = ModerationState::new();
    state.apply(&header);
    // The group names its issuer in `credential_issuer`, which also asks posters for a
    // credential from it: the author has one (or their post would be collapsed).
    let did = v.issuer.public_key().to_did_key();
    v.facts.credentials.insert((author.public_key(), did));
    let at = NOW - 1_800_000;
    let baseline = explain_village(&state, &viewer, &v.facts, &item);
    assert_eq!(baseline.verdict, Verdict::Show);

    // Mallory votes down with 50 keys, each with a valid proof: one pseudonym, one voice.
    let mallory = v.person();
    for n in 0..50 {
        let o = v.down_vote(Some(&mallory), post.id(), at + u64::from(n), n);
        assert_eq!(state.apply(&o), Applied::Stored);
    }
    let d = explain_village(&state, &viewer, &v.facts, &item);
    let neg = code(&d, ReasonCode::VotesNegative).unwrap();
    assert_eq!((neg.count, neg.weight), (1, -1.0), "exactly one voice");
    assert_eq!(neg.group.as_deref(), Some(&v.group));
    assert_eq!(d.score, baseline.score - 1.0);
    assert_eq!(d.verdict, Verdict::Collapse, "collapse_at = 1 voice");
    assert!(d.sentences().iter().any(|s| s.contains("verified people")));

    // Keys without a proof move nothing, and explain says why.
    for n in 0..20 {
        let o = v.down_vote(None, post.id(), at + 100 + u64::from(n), 1_000 + n);
        state.apply(&o);
    }
    let d = explain_village(&state, &viewer, &v.facts, &item);
    assert_eq!(code(&d, ReasonCode::VotesNegative).unwrap().weight, -1.0);
    assert_eq!(d.score, baseline.score - 1.0);
    let plain = code(&d, ReasonCode::VotesNotPersonhood).unwrap();
    assert_eq!(plain.count, 20);
    assert_eq!(plain.effect, Verdict::Show);
    assert_eq!(plain.group.as_deref(), Some(&v.group));

    // Nor do trusted voters' plain votes: in the village only voices count.
    for i in 0..3u8 {
        let t = key(130 + i);
        state.apply(&attest(&viewer, &t, 100));
        state.apply(&vote(&t, Subject::Object(post.id()), -1, at, None));
    }
    let d = explain_village(&state, &viewer, &v.facts, &item);
    assert_eq!(d.verdict, Verdict::Collapse);
    assert_eq!(code(&d, ReasonCode::VotesNotPersonhood).unwrap().count, 23);

    // Two more people, one key each: three voices hide (hide_at = 3).
    let (alice, bob) = (v.person(), v.person());
    state.apply(&v.down_vote(Some(&alice), post.id(), at + 500, 2_000));
    state.apply(&v.down_vote(Some(&bob), post.id(), at + 600, 2_001));
    let d = explain_village(&state, &viewer, &v.facts, &item);
    let neg = code(&d, ReasonCode::VotesNegative).unwrap();
    assert_eq!((neg.count, neg.weight), (3, -3.0));
    assert_eq!(d.verdict, Verdict::Hide);

    // Outside the group the same post (say, re-shared without it) is judged by trust:
    // the three trusted down-votes count there, the voting keys weigh nothing.
    let outside = match &item {
        Item::Post(p) => Item::Post(PostItem {
            group: None,
            ..p.clone()
        }),
        other => other.clone(),
    };
    let d = explain_village(&state, &viewer, &v.facts, &outside);
    let neg = code(&d, ReasonCode::VotesNegative).unwrap();
    assert_eq!((neg.count, neg.weight), (3, -3.0));
    assert!(neg.group.is_none());
    assert!(code(&d, ReasonCode::VotesNotPersonhood).is_none());
}

#[test]
fn without_personhood_votes_the_same_keys_are_untrusted_votes() {
    let viewer = key(100);
    let author = key(101);
    let (mut v, header) = Village::new(false);
    let post = sign(
        &author,
        NOW - 3_600_000,
        Body::Post(PostBody {
            group: Some(v.group.clone()),
            text: "shall we fix the well?".into(),
            ..Default::default()
        }),
    );
    let item = Item::post(&post).unwrap();
    let mut state = ModerationState::new();
    state.apply(&header);
    // The group names its issuer in `credential_issuer`, which also asks posters for a
    // credential from it: the author has one (or their post would be collapsed).
    let did = v.issuer.public_key().to_did_key();
    v.facts.credentials.insert((author.public_key(), did));
    let mallory = v.person();
    for n in 0..5 {
        let o = v.down_vote(Some(&mallory), post.id(), NOW - 1_800_000 + u64::from(n), n);
        state.apply(&o);
    }
    let d = explain_village(&state, &viewer, &v.facts, &item);
    assert_eq!(d.verdict, Verdict::Show);
    assert_eq!(code(&d, ReasonCode::VotesIgnored).unwrap().count, 5);
    assert!(code(&d, ReasonCode::VotesNotPersonhood).is_none());
}
