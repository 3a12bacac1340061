//! One person, one vote, as objects (`specs/identity.md` §6): `poll` and `ballot` objects
//! with real BBS personhood proofs, tallied by [`ModerationState::poll_result`] one voice per
//! pseudonym whatever the arrival order; double votes reported, never counted twice; ballots
//! in two polls unlinkable. Village rules: a group that opted in has its rules amended by
//! polls that pass, every node derives the same rules, decisions cite the poll, and the owner
//! cannot take a passed amendment back with a header.
#![allow(clippy::unwrap_used)]

#[path = "support/objects.rs"]
mod support;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::Arc;
use support::{key, sign, NOW};
use vouch_identity::{
    PersonhoodCredential, PersonhoodIssuer, PersonhoodIssuerKey, PersonhoodProof,
    PersonhoodRequest, PersonhoodScope, SecretKey,
};
use vouch_reputation::*;

const DAY: u64 = MS_PER_EPOCH;

/// Verifies proofs with `vouch_identity` directly (the crate's own `BbsPersonhood` needs the
/// `personhood` feature, which integration tests do not turn on); counts the checks.
#[derive(Debug, Default)]
struct Bbs(std::sync::atomic::AtomicUsize);

impl PersonhoodCheck for Bbs {
    fn check(&self, c: &ProofCheck<'_>) -> Result<PollPseudonym, &'static str> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let issuer = PersonhoodIssuerKey::from_did_key(c.issuer).map_err(|e| e.code())?;
        let proof = PersonhoodProof::from_bytes(c.proof).map_err(|e| e.code())?;
        let scope = PersonhoodScope::new(c.scope, c.epoch);
        vouch_identity::verify_personhood(&proof, &issuer, &scope, c.voting_key, c.at_ms)
            .map(|p| p.0)
            .map_err(|e| e.code())
    }
}

struct Village {
    rng: ChaCha20Rng,
    issuer: PersonhoodIssuer,
    owner: SecretKey,
    group: GroupRef,
}

impl Village {
    fn new(seed: u64) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let issuer = PersonhoodIssuer::generate(&mut rng).unwrap();
        let owner = key(60);
        let group = GroupRef {
            owner: owner.public_key(),
            name: "village".into(),
        };
        Village {
            rng,
            issuer,
            owner,
            group,
        }
    }

    fn person(&mut self) -> PersonhoodCredential {
        let (req, pending) = PersonhoodRequest::new(&mut self.rng).unwrap();
        let issued_at = NOW - 10 * DAY;
        let expires = NOW - NOW % DAY + 30 * DAY;
        let iss = self
            .issuer
            .issue(&req, expires, issued_at, &mut self.rng)
            .unwrap();
        pending.finalize(&self.issuer.public_key(), &iss).unwrap()
    }

    fn header(&self, seq: u64, policy: GroupPolicy) -> SignedObject {
        sign(
            &self.owner,
            NOW - 20 * DAY + seq,
            Body::Group(GroupBody {
                name: "village".into(),
                rules: None,
                policy,
                moderators: vec![],
                seq,
            }),
        )
    }

    fn charter(&self, seq: u64, min_trust: u64, quorum: u64) -> SignedObject {
        self.header(
            seq,
            GroupPolicy {
                min_trust: Some(min_trust),
                credential_issuer: Some(self.issuer.public_key().to_did_key()),
                personhood_votes: true,
                amend_quorum: Some(quorum),
                ..Default::default()
            },
        )
    }

    fn poll(
        &self,
        by: &SecretKey,
        header: &SignedObject,
        amend: Option<Amendment>,
        closes: u64,
    ) -> SignedObject {
        sign(
            by,
            closes - 5 * DAY,
            Body::Poll(PollBody {
                group: self.group.clone(),
                header: header.id(),
                text: "Should we change the rule?".into(),
                options: 2,
                closes,
                amend,
            }),
        )
    }

    /// A ballot by `who` in `poll` with a fresh voting key.
    fn ballot(
        &mut self,
        who: &PersonhoodCredential,
        poll: &SignedObject,
        choice: u64,
    ) -> SignedObject {
        let vk = SecretKey::generate(&mut self.rng);
        ballot_with(who, poll.id(), &vk, choice, poll_closes(poll) - DAY)
    }
}

fn poll_closes(poll: &SignedObject) -> u64 {
    match poll.body() {
        Body::Poll(p) => p.closes,
        _ => unreachable!(),
    }
}

fn ballot_with(
    who: &PersonhoodCredential,
    poll: ObjectId,
    vk: &SecretKey,
    choice: u64,
    at: u64,
) -> SignedObject {
    let scope = PersonhoodScope::new(PollBody::scope_label(&poll), 0);
    let proof = who.prove(&scope, &vk.public_key()).unwrap().to_bytes();
    sign(
        vk,
        at,
        Body::Ballot(BallotBody {
            poll,
            choice,
            proof,
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

fn codes(r: &PollResult) -> Vec<(ObjectId, &'static str)> {
    r.rejected.iter().map(|(id, e)| (*id, e.code())).collect()
}

#[test]
fn three_people_with_ten_keys_each_are_three_voices_and_a_double_vote_is_reported() {
    let mut v = Village::new(1);
    let header = v.charter(1, 10, 3);
    let poll = v.poll(&key(61), &header, None, NOW - DAY);
    let people: Vec<PersonhoodCredential> = (0..3).map(|_| v.person()).collect();
    let mut objs = vec![header.clone(), poll.clone()];
    // Each person holds ten keys and votes with every one of them, the same way.
    for (i, p) in people.iter().enumerate() {
        for _ in 0..10 {
            objs.push(v.ballot(p, &poll, u64::from(i == 2)));
        }
    }
    // A fourth person votes twice, differently: counted for nothing.
    let dora = v.person();
    let d1 = v.ballot(&dora, &poll, 0);
    let d2 = v.ballot(&dora, &poll, 1);
    // A proof made for another poll, a proof lifted onto another key, a late ballot, a
    // choice out of range.
    let other_poll = v.poll(&key(62), &header, None, NOW - 2 * DAY);
    let wrong_scope = {
        let vk = SecretKey::generate(&mut v.rng);
        let scope = PersonhoodScope::new(PollBody::scope_label(&other_poll.id()), 0);
        let proof = dora.prove(&scope, &vk.public_key()).unwrap().to_bytes();
        sign(
            &vk,
            NOW - 3 * DAY,
            Body::Ballot(BallotBody {
                poll: poll.id(),
                choice: 0,
                proof,
            }),
        )
    };
    let lifted = {
        let Body::Ballot(b) = d1.body() else {
            unreachable!()
        };
        let thief = SecretKey::generate(&mut v.rng);
        sign(
            &thief,
            NOW - 3 * DAY,
            Body::Ballot(BallotBody {
                proof: b.proof.clone(),
                ..b.clone()
            }),
        )
    };
    let late = {
        let vk = SecretKey::generate(&mut v.rng);
        let extra = v.person();
        ballot_with(&extra, poll.id(), &vk, 0, NOW - DAY + 1)
    };
    let bad_choice = v.ballot(&people[0], &poll, 7);
    objs.push(other_poll.clone());
    objs.extend([
        d1.clone(),
        d2.clone(),
        wrong_scope.clone(),
        lifted.clone(),
        late.clone(),
        bad_choice.clone(),
    ]);

    let check = Bbs::default();
    let expected = {
        let s = state(&objs);
        let r = s.poll_result(&poll.id(), &check, NOW).unwrap();
        assert_eq!(r.counts, vec![2, 1]);
        assert_eq!(r.voters, 3);
        assert_eq!(r.ballots, 30 + 6);
        assert!(r.closed);
        assert_eq!(r.adopted, None, "not an amendment");
        // Four people voted more than once: three agreed with themselves (counted once),
        // Dora did not (counted for nothing); the bad choice is not one of her ballots.
        assert_eq!(r.double_votes.len(), 4);
        let dora_double: Vec<_> = r.double_votes.iter().filter(|d| !d.counted).collect();
        assert_eq!(dora_double.len(), 1);
        let mut dora_ids = vec![d1.id(), d2.id()];
        dora_ids.sort();
        assert_eq!(dora_double[0].ballots, dora_ids);
        let rejected = codes(&r);
        let code_of = |o: &SignedObject| {
            rejected
                .iter()
                .find(|(id, _)| *id == o.id())
                .map(|(_, c)| *c)
        };
        assert_eq!(code_of(&wrong_scope), Some("personhood-wrong-scope"));
        assert_eq!(code_of(&lifted), Some("personhood-bad-proof"));
        assert_eq!(code_of(&late), Some("poll-late-ballot"));
        assert_eq!(code_of(&bad_choice), Some("poll-bad-choice"));
        assert_eq!(code_of(&d1), Some("poll-duplicate-pseudonym"));
        assert_eq!(code_of(&d2), Some("poll-duplicate-pseudonym"));
        assert_eq!(
            rejected
                .iter()
                .filter(|(_, c)| *c == "poll-duplicate-pseudonym")
                .count(),
            3 * 9 + 2
        );
        r
    };
    // Any arrival order, ballots before their poll or their header included: the same tally.
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    for _ in 0..5 {
        objs.shuffle(&mut rng);
        let r = state(&objs).poll_result(&poll.id(), &check, NOW).unwrap();
        assert_eq!(r, expected);
    }
    // Without its header the poll cannot be tallied; an unknown poll neither.
    let no_header: Vec<_> = objs
        .iter()
        .filter(|o| o.id() != header.id())
        .cloned()
        .collect();
    assert_eq!(
        state(&no_header)
            .poll_result(&poll.id(), &check, NOW)
            .unwrap_err()
            .code(),
        "poll-bad-header"
    );
    assert_eq!(
        state(&objs)
            .poll_result(&other_poll.id(), &check, NOW)
            .map(|r| r.voters),
        Ok(0)
    );
    assert_eq!(
        state(&objs)
            .poll_result(&ObjectId([1; 32]), &check, NOW)
            .unwrap_err()
            .code(),
        "poll-unknown"
    );
}

#[test]
fn ballots_in_two_polls_cannot_be_linked() {
    let mut v = Village::new(2);
    let header = v.charter(1, 10, 3);
    let p1 = v.poll(&key(61), &header, None, NOW - DAY);
    let p2 = v.poll(&key(61), &header, None, NOW - 2 * DAY);
    let alice = v.person();
    let check = Bbs::default();
    let (a1, a1b, a2) = (
        v.ballot(&alice, &p1, 0),
        v.ballot(&alice, &p1, 0),
        v.ballot(&alice, &p2, 0),
    );
    let issuer = v.issuer.public_key().to_did_key();
    let nym = |poll: &SignedObject, b: &SignedObject| {
        let Body::Ballot(body) = b.body() else {
            unreachable!()
        };
        check
            .check(&ProofCheck {
                issuer: &issuer,
                scope: &PollBody::scope_label(&poll.id()),
                epoch: 0,
                voting_key: b.author(),
                proof: &body.proof,
                at_ms: poll_closes(poll),
            })
            .unwrap()
    };
    assert_eq!(
        nym(&p1, &a1),
        nym(&p1, &a1b),
        "one person, one pseudonym per poll"
    );
    assert_ne!(nym(&p1, &a1), nym(&p2, &a2), "each poll is its own scope");
}

/// The viewer's decision on a post by `author` in the village, the viewer trusting the
/// author 40% (and the author holding the village issuer's credential, which the group asks
/// of posters).
fn decide_in_village(
    objects: &[SignedObject],
    v: &Village,
    author: &SecretKey,
    now: u64,
) -> Decision {
    let s = state(objects);
    let viewer = key(63);
    let mut trust = DirectTrust::new(viewer.public_key());
    trust.insert(author.public_key(), 40, ObjectId([9; 32]));
    let facts = IdentityFacts {
        credentials: [(author.public_key(), v.issuer.public_key().to_did_key())].into(),
        personhood: Some(Arc::new(Bbs::default())),
        ..Default::default()
    };
    let view = View::build(&s, &Policy::new(viewer.public_key()), &trust, &facts, now);
    let p = sign(
        author,
        now - 1,
        Body::Post(PostBody {
            group: Some(v.group.clone()),
            text: "hi".into(),
            ..Default::default()
        }),
    );
    view.decide(&Item::post(&p).unwrap(), now)
}

/// A village's `credential_issuer` is its personhood issuer (a BBS key): no poster can hold
/// a W3C credential from it, so the poster rule does not apply there, while a group whose
/// issuer is an ordinary `did:key` still requires the credential.
#[test]
fn a_village_does_not_require_posters_to_hold_a_credential_from_its_personhood_issuer() {
    let v = Village::new(5);
    let author = key(70);
    let header = v.charter(1, 10, 3);
    let issuer_did = v.issuer.public_key().to_did_key();
    assert!(issuer_did.starts_with("did:key:zUC7"), "{issuer_did}");
    let decide = |objs: &[SignedObject]| {
        let s = state(objs);
        let viewer = key(63);
        let mut trust = DirectTrust::new(viewer.public_key());
        trust.insert(author.public_key(), 40, ObjectId([9; 32]));
        // No credentials at all.
        let facts = IdentityFacts {
            personhood: Some(Arc::new(Bbs::default())),
            ..Default::default()
        };
        let view = View::build(&s, &Policy::new(viewer.public_key()), &trust, &facts, NOW);
        let p = sign(
            &author,
            NOW - 1,
            Body::Post(PostBody {
                group: Some(v.group.clone()),
                text: "hi".into(),
                ..Default::default()
            }),
        );
        view.decide(&Item::post(&p).unwrap(), NOW)
    };
    let d = decide(std::slice::from_ref(&header));
    assert_eq!(d.verdict, Verdict::Show, "{:?}", d.reasons);
    assert!(!d
        .reasons
        .iter()
        .any(|r| r.code == ReasonCode::GroupCredentialMissing));
    // The same group with an ordinary did:key issuer keeps the poster rule.
    let plain = v.header(
        2,
        GroupPolicy {
            min_trust: Some(10),
            credential_issuer: Some(key(71).public_key().to_did_key()),
            ..Default::default()
        },
    );
    let d = decide(&[plain]);
    assert!(d
        .reasons
        .iter()
        .any(|r| r.code == ReasonCode::GroupCredentialMissing));
}

#[test]
fn a_passed_amendment_changes_the_rule_and_decisions_cite_the_poll() {
    let mut v = Village::new(3);
    let author = key(64);
    // The group's rule: 10% trust to post. It opted in to village rules, quorum 3.
    let header = v.charter(1, 10, 3);
    let closes = NOW - DAY;
    let poll = v.poll(
        &key(61),
        &header,
        Some(Amendment {
            min_trust: Some(60),
            vote_budget: None,
        }),
        closes,
    );
    let people: Vec<_> = (0..4).map(|_| v.person()).collect();
    let mut objs = vec![header.clone(), poll.clone()];
    objs.push(v.ballot(&people[0], &poll, 0));
    objs.push(v.ballot(&people[1], &poll, 0));
    // Two voices do not reach the quorum of 3: the rule stands.
    let check = Bbs::default();
    let r = state(&objs).poll_result(&poll.id(), &check, NOW).unwrap();
    assert_eq!((r.voters, r.adopted), (2, Some(false)));
    assert_eq!(
        decide_in_village(&objs, &v, &author, NOW).verdict,
        Verdict::Show
    );

    // A third person adopts, a fourth rejects: 3 of 4 > 50%, quorum met.
    objs.push(v.ballot(&people[2], &poll, 0));
    objs.push(v.ballot(&people[3], &poll, 1));
    let r = state(&objs).poll_result(&poll.id(), &check, NOW).unwrap();
    assert_eq!((r.counts.clone(), r.adopted), (vec![3, 1], Some(true)));
    // Not before the poll closes.
    assert_eq!(
        decide_in_village(&objs, &v, &author, closes - 1).verdict,
        Verdict::Show
    );
    let d = decide_in_village(&objs, &v, &author, NOW);
    assert_eq!(d.verdict, Verdict::Collapse);
    let min_trust = d
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::GroupMinTrust)
        .unwrap();
    assert_eq!(min_trust.count, 60);
    assert_eq!(
        min_trust.objects.to_vec(),
        vec![poll.id()],
        "cites the poll, not the header"
    );
    let amended = d
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::GroupRuleAmended)
        .unwrap();
    assert_eq!(amended.objects.to_vec(), vec![poll.id()]);
    assert!(
        amended
            .sentence()
            .contains("set min_trust to 60 by village poll"),
        "{}",
        amended.sentence()
    );
    assert!(
        amended.sentence().contains("adopted by 3 of 4 people"),
        "{}",
        amended.sentence()
    );

    // Every node derives the same rules from the same objects, in any order.
    let rules = |objs: &[SignedObject]| {
        state(objs)
            .group_rules(&v.group, NOW, Some(&check))
            .unwrap()
    };
    let expected = rules(&objs);
    assert_eq!(expected.policy.min_trust, Some(60));
    assert_eq!(expected.amendments.len(), 1);
    let reversed: Vec<_> = objs.iter().rev().cloned().collect();
    assert_eq!(rules(&reversed), expected);
    // Without a proof checker nothing can be verified and the header's rules stand.
    assert_eq!(
        state(&objs)
            .group_rules(&v.group, NOW, None)
            .unwrap()
            .policy
            .min_trust,
        Some(10)
    );

    // The owner publishes a new header: rule back to 5% and no more village rules. The
    // amendment stays in force (the opt-in is for good), and so does the village.
    let mut owner_tries = objs.clone();
    owner_tries.push(v.header(
        2,
        GroupPolicy {
            min_trust: Some(5),
            ..Default::default()
        },
    ));
    let r = rules(&owner_tries);
    assert_eq!(r.policy.min_trust, Some(60));
    assert_eq!(r.village, vec![header.id()]);
    assert_eq!(
        decide_in_village(&owner_tries, &v, &author, NOW).verdict,
        Verdict::Collapse
    );

    // The owner names another personhood issuer in a new opting-in header and passes a
    // counter-amendment with people of its own making: possible, but never silent. Every
    // decision that uses the rule cites the new poll and says the village has two issuers.
    let mut sybil = Village::new(4);
    sybil.owner = key(60);
    sybil.group = v.group.clone();
    let mut other = sybil.charter(3, 10, 1);
    if let Body::Group(g) = other.body() {
        let mut g = g.clone();
        g.policy.min_trust = Some(60);
        other = sign(&v.owner, other.at(), Body::Group(g));
    }
    let counter = sybil.poll(
        &v.owner,
        &other,
        Some(Amendment {
            min_trust: Some(0),
            vote_budget: None,
        }),
        NOW - DAY / 2,
    );
    let puppet = sybil.person();
    let mut overridden = objs.clone();
    overridden.extend([other, counter.clone()]);
    overridden.push(sybil.ballot(&puppet, &counter, 0));
    let r = rules(&overridden);
    assert_eq!(r.village_issuers.len(), 2);
    assert_eq!(r.policy.min_trust, None, "0 removes the minimum");
    let d = View::build(
        &state(&overridden),
        &Policy::new(key(63).public_key()),
        &DirectTrust::new(key(63).public_key()),
        &IdentityFacts {
            personhood: Some(Arc::new(Bbs::default())),
            ..Default::default()
        },
        NOW,
    )
    .explain(
        &Item::post(&sign(
            &author,
            NOW - 1,
            Body::Post(PostBody {
                group: Some(v.group.clone()),
                text: "x".into(),
                ..Default::default()
            }),
        ))
        .unwrap(),
        NOW,
    );
    let cited: Vec<_> = d
        .reasons
        .iter()
        .filter(|r| r.code == ReasonCode::GroupRuleAmended)
        .flat_map(|r| r.objects.to_vec())
        .collect();
    assert_eq!(cited, vec![counter.id()]);
    assert!(d
        .reasons
        .iter()
        .any(|r| r.code == ReasonCode::GroupVillageIssuers && r.count == 2));
}

#[test]
fn the_latest_passed_amendment_wins_and_a_majority_can_be_required() {
    let mut v = Village::new(5);
    let header = v.header(
        1,
        GroupPolicy {
            vote_budget: Some(10),
            credential_issuer: Some(v.issuer.public_key().to_did_key()),
            personhood_votes: true,
            amend_quorum: Some(2),
            amend_majority: Some(66),
            ..Default::default()
        },
    );
    let people: Vec<_> = (0..3).map(|_| v.person()).collect();
    let budget = |n| {
        Some(Amendment {
            min_trust: None,
            vote_budget: Some(n),
        })
    };
    let early = v.poll(&key(61), &header, budget(3), NOW - 3 * DAY);
    let later = v.poll(&key(62), &header, budget(30), NOW - DAY);
    let mut objs = vec![header, early.clone(), later.clone()];
    for p in &people {
        objs.push(v.ballot(p, &early, 0));
    }
    // 2 of 3 adopt the later poll: 66.7% > 66%, passes.
    objs.push(v.ballot(&people[0], &later, 0));
    objs.push(v.ballot(&people[1], &later, 0));
    objs.push(v.ballot(&people[2], &later, 1));
    let check = Bbs::default();
    let s = state(&objs);
    let rules = s.group_rules(&v.group, NOW, Some(&check)).unwrap();
    assert_eq!(rules.policy.vote_budget, Some(30));
    assert_eq!(rules.amendments[0].poll, later.id());
    // Between the two closes, the early one is in force.
    let mid = s
        .group_rules(&v.group, NOW - 2 * DAY, Some(&check))
        .unwrap();
    assert_eq!(mid.policy.vote_budget, Some(3));
    // Each proof was verified once per tally.
    assert!(check.0.load(std::sync::atomic::Ordering::Relaxed) >= 6);
}
