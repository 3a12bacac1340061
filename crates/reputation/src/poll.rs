//! Village votes: personhood-backed ballots and a poll tally that counts one voice per
//! pseudonym, however many posting or voting keys a person holds.
//!
//! Two forms. As objects (kinds `poll` and `ballot`, `specs/objects.md`): a [`PollBody`]
//! names its group and the header it runs under; each `ballot` is signed by a fresh voting
//! key and carries a personhood proof for the poll's own scope (`"poll/" ‖ CID`, so ballots
//! in two polls cannot be linked). [`PollStore`] keeps them in any order and
//! [`crate::ModerationState::poll_result`] tallies them through a [`PersonhoodCheck`]
//! ([`BbsPersonhood`] with feature `personhood`, which remembers what it verified).
//!
//! Detached: a [`PersonhoodBallot`] carries a choice, a fresh voting key, a proof for scope
//! (group, epoch) and the voting key's signature; [`tally_personhood_poll`] checks them
//! through a [`PersonhoodVerifier`] (one issuer). Both forms keep one voice per pseudonym:
//! a pseudonym whose ballots agree counts once, one whose ballots disagree counts for
//! nothing, and every extra ballot is reported as `poll-duplicate-pseudonym`.

use crate::object::{GroupPolicy, GroupRef, ObjectId, PollBody, Subject};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use vouch_identity::{verify_prefixed, PublicKey, SecretKey, Signature};

/// Prefix of the bytes a voting key signs in a ballot.
pub const BALLOT_PREFIX: &[u8] = b"vouch/v1/personhood-ballot\0";
/// Length of a pseudonym (a compressed BLS12-381 G1 point).
pub const POLL_PSEUDONYM_LEN: usize = 48;
/// Most choices a poll may offer.
pub const MAX_CHOICES: u32 = 256;

/// A pseudonym as the tally sees it: opaque bytes, equal for one person in one scope.
pub type PollPseudonym = [u8; POLL_PSEUDONYM_LEN];

/// Why a ballot was not counted, or why a poll cannot be tallied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PollError {
    /// The group's policy does not ask for personhood votes.
    #[error("group does not require personhood for votes")]
    NotPersonhoodGroup,
    /// The group's policy names no (or an unusable) personhood issuer.
    #[error("group policy names no usable personhood issuer")]
    NoIssuer,
    /// The poll offers no choices, or more than [`MAX_CHOICES`].
    #[error("poll must offer 1..={MAX_CHOICES} choices")]
    BadPoll,
    /// The ballot is for another poll.
    #[error("ballot is for another poll")]
    WrongPoll,
    /// The choice is out of range.
    #[error("choice {0} out of range")]
    BadChoice(u32),
    /// The voting key's signature over the ballot does not verify.
    #[error("ballot signature does not verify")]
    BadSignature,
    /// The personhood proof was rejected; the code is the identity layer's.
    #[error("personhood proof rejected: {0}")]
    Personhood(&'static str),
    /// Another ballot with the same pseudonym made a different choice: the person
    /// equivocated and none of their ballots count.
    #[error("pseudonym voted more than once with different choices")]
    DuplicatePseudonym,
    /// The poll has not been received.
    #[error("poll not known")]
    UnknownPoll,
    /// The header the poll names is not a (non-void) header of its group by its owner, or
    /// has not been received.
    #[error("the poll's group header is missing or not the owner's")]
    BadHeader,
    /// The ballot is dated after the poll closed.
    #[error("ballot dated after the poll closed")]
    Late,
}

impl PollError {
    /// The stable error code (for `Personhood`, the identity layer's code).
    pub fn code(&self) -> &'static str {
        match self {
            PollError::NotPersonhoodGroup => "poll-not-personhood-group",
            PollError::NoIssuer => "poll-no-issuer",
            PollError::BadPoll => "poll-bad-poll",
            PollError::WrongPoll => "poll-wrong-poll",
            PollError::BadChoice(_) => "poll-bad-choice",
            PollError::BadSignature => "poll-bad-signature",
            PollError::Personhood(code) => code,
            PollError::DuplicatePseudonym => "poll-duplicate-pseudonym",
            PollError::UnknownPoll => "poll-unknown",
            PollError::BadHeader => "poll-bad-header",
            PollError::Late => "poll-late-ballot",
        }
    }
}

/// A poll in a group: one question, asked in one epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poll {
    /// The group whose members vote.
    pub group: GroupRef,
    /// The epoch the poll runs in: the personhood scope is `(group, epoch)`.
    pub epoch: u64,
    /// What is voted on (usually a post stating the question).
    pub subject: Subject,
    /// The number of choices (`0..choices`).
    pub choices: u32,
}

impl Poll {
    /// The personhood scope's group label: `did:key:… (owner) / name`.
    pub fn scope_group(&self) -> String {
        format!("{}/{}", self.group.owner.to_did_key(), self.group.name)
    }

    /// The bytes a voting key signs for `choice` with `proof`.
    pub fn ballot_message(&self, choice: u32, voting_key: &PublicKey, proof: &[u8]) -> Vec<u8> {
        let group = self.scope_group();
        let mut m = BALLOT_PREFIX.to_vec();
        m.extend_from_slice(&(group.len() as u64).to_be_bytes());
        m.extend_from_slice(group.as_bytes());
        m.extend_from_slice(&self.epoch.to_be_bytes());
        match &self.subject {
            Subject::Key(k) => {
                m.push(0);
                m.extend_from_slice(k.as_bytes());
            }
            Subject::Object(o) => {
                m.push(1);
                m.extend_from_slice(&o.0);
            }
        }
        m.extend_from_slice(&choice.to_be_bytes());
        m.extend_from_slice(voting_key.as_bytes());
        m.extend_from_slice(&(proof.len() as u64).to_be_bytes());
        m.extend_from_slice(proof);
        m
    }
}

/// One personhood-backed vote in a poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonhoodBallot {
    /// The poll's subject (must match the poll).
    pub subject: Subject,
    /// The chosen option.
    pub choice: u32,
    /// The fresh voting key the proof is bound to.
    pub voting_key: PublicKey,
    /// The encoded personhood proof for the poll's scope and this voting key.
    pub proof: Vec<u8>,
    /// The voting key's signature over [`Poll::ballot_message`].
    pub signature: Signature,
}

impl PersonhoodBallot {
    /// Makes a ballot: `proof` must be an encoded personhood proof for `poll`'s scope and
    /// `voting_key`'s public key.
    pub fn new(poll: &Poll, choice: u32, voting_key: &SecretKey, proof: Vec<u8>) -> Self {
        let pk = voting_key.public_key();
        let signature = voting_key.sign_prefixed(&poll.ballot_message(choice, &pk, &proof));
        PersonhoodBallot {
            subject: poll.subject,
            choice,
            voting_key: pk,
            proof,
            signature,
        }
    }
}

/// Checks a personhood proof: the identity layer's verifier for one issuer.
pub trait PersonhoodVerifier {
    /// Verifies `proof` for scope `(group, epoch)` and `voting_key` at `now_ms`; returns the
    /// pseudonym, or the identity layer's stable error code.
    fn verify_proof(
        &self,
        group: &str,
        epoch: u64,
        voting_key: &PublicKey,
        proof: &[u8],
        now_ms: u64,
    ) -> Result<PollPseudonym, &'static str>;
}

#[cfg(any(test, feature = "personhood"))]
impl PersonhoodVerifier for vouch_identity::PersonhoodIssuerKey {
    fn verify_proof(
        &self,
        group: &str,
        epoch: u64,
        voting_key: &PublicKey,
        proof: &[u8],
        now_ms: u64,
    ) -> Result<PollPseudonym, &'static str> {
        let proof = vouch_identity::PersonhoodProof::from_bytes(proof).map_err(|e| e.code())?;
        let scope = vouch_identity::PersonhoodScope::new(group, epoch);
        vouch_identity::verify_personhood(&proof, self, &scope, voting_key, now_ms)
            .map(|p| p.0)
            .map_err(|e| e.code())
    }
}

/// The personhood issuer a group names in `credential_issuer` (a BLS12-381 `did:key`).
#[cfg(any(test, feature = "personhood"))]
pub fn personhood_issuer(
    policy: &GroupPolicy,
) -> Result<vouch_identity::PersonhoodIssuerKey, PollError> {
    let did = policy
        .credential_issuer
        .as_deref()
        .ok_or(PollError::NoIssuer)?;
    vouch_identity::PersonhoodIssuerKey::from_did_key(did).map_err(|_| PollError::NoIssuer)
}

/// The result of a tally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollTally {
    /// Votes per choice: one per pseudonym.
    pub counts: Vec<u64>,
    /// Distinct pseudonyms counted.
    pub voters: u64,
    /// Ballots not counted, by index in the input, with the reason.
    pub rejected: Vec<(usize, PollError)>,
}

/// Tallies `ballots` for `poll` in a group with `policy`: each ballot must be signed by its
/// voting key and carry a valid personhood proof for the poll's scope; then each pseudonym
/// counts once. A pseudonym whose ballots agree counts once (the extra ballots are listed as
/// `poll-duplicate-pseudonym`); one whose ballots disagree counts for nothing (all of its
/// ballots are listed). The result does not depend on the order of `ballots`.
pub fn tally_personhood_poll(
    poll: &Poll,
    policy: &GroupPolicy,
    ballots: &[PersonhoodBallot],
    verifier: &dyn PersonhoodVerifier,
    now_ms: u64,
) -> Result<PollTally, PollError> {
    if !policy.personhood_votes {
        return Err(PollError::NotPersonhoodGroup);
    }
    if poll.choices == 0 || poll.choices > MAX_CHOICES {
        return Err(PollError::BadPoll);
    }
    let group = poll.scope_group();
    let mut rejected = Vec::new();
    let mut by_nym: BTreeMap<PollPseudonym, Vec<(usize, u32)>> = BTreeMap::new();
    for (i, b) in ballots.iter().enumerate() {
        let checked = check_ballot(poll, &group, b, verifier, now_ms);
        match checked {
            Ok(nym) => by_nym.entry(nym).or_default().push((i, b.choice)),
            Err(e) => rejected.push((i, e)),
        }
    }
    let voices = count_voices(u64::from(poll.choices), &by_nym);
    rejected.extend(
        voices
            .doubles
            .iter()
            .flat_map(|d| d.extra.iter().map(|&i| (i, PollError::DuplicatePseudonym))),
    );
    rejected.sort_by_key(|(i, _)| *i);
    Ok(PollTally {
        counts: voices.counts,
        voters: voices.voters,
        rejected,
    })
}

/// One voice per pseudonym, from the valid ballots grouped by pseudonym.
struct Voices<I> {
    counts: Vec<u64>,
    voters: u64,
    doubles: Vec<Double<I>>,
}

/// A pseudonym with more than one ballot.
struct Double<I> {
    nym: PollPseudonym,
    all: Vec<I>,
    /// The ballots that did not count.
    extra: Vec<I>,
    /// True when its ballots agree and it counted once.
    counted: bool,
}

/// Counts each pseudonym once: its choice when all its ballots agree (the first one counts,
/// in the caller's order of ballots), nothing when they disagree.
fn count_voices<I: Copy>(
    options: u64,
    by_nym: &BTreeMap<PollPseudonym, Vec<(I, u32)>>,
) -> Voices<I> {
    let mut counts = vec![0u64; usize::try_from(options).unwrap_or(0)];
    let mut voters = 0;
    let mut doubles = Vec::new();
    for (nym, entries) in by_nym {
        let Some(&(_, first)) = entries.first() else {
            continue;
        };
        let agree = entries.iter().all(|&(_, c)| c == first);
        if agree {
            if let Some(c) = counts.get_mut(first as usize) {
                *c += 1;
                voters += 1;
            }
        }
        if entries.len() > 1 {
            let skip = usize::from(agree);
            doubles.push(Double {
                nym: *nym,
                all: entries.iter().map(|&(i, _)| i).collect(),
                extra: entries[skip..].iter().map(|&(i, _)| i).collect(),
                counted: agree,
            });
        }
    }
    Voices {
        counts,
        voters,
        doubles,
    }
}

fn check_ballot(
    poll: &Poll,
    group: &str,
    b: &PersonhoodBallot,
    verifier: &dyn PersonhoodVerifier,
    now_ms: u64,
) -> Result<PollPseudonym, PollError> {
    if b.subject != poll.subject {
        return Err(PollError::WrongPoll);
    }
    if b.choice >= poll.choices {
        return Err(PollError::BadChoice(b.choice));
    }
    verify_prefixed(
        &b.voting_key,
        &poll.ballot_message(b.choice, &b.voting_key, &b.proof),
        &b.signature,
    )
    .map_err(|_| PollError::BadSignature)?;
    verifier
        .verify_proof(group, poll.epoch, &b.voting_key, &b.proof, now_ms)
        .map_err(PollError::Personhood)
}

// ---- polls and ballots as objects -------------------------------------------------------

/// What a [`PersonhoodCheck`] verifies: a personhood proof carried by a ballot.
#[derive(Debug, Clone, Copy)]
pub struct ProofCheck<'a> {
    /// The personhood issuer the poll's header names (`GroupPolicy::credential_issuer`).
    pub issuer: &'a str,
    /// The scope label ([`PollBody::scope_label`]).
    pub scope: &'a str,
    /// The scope's epoch (0 for polls).
    pub epoch: u64,
    /// The voting key the proof must be bound to (the ballot's author).
    pub voting_key: &'a PublicKey,
    /// The encoded proof.
    pub proof: &'a [u8],
    /// The credential must still be valid at this time (the poll's close).
    pub at_ms: u64,
}

/// Verifies personhood proofs for any issuer. A pure function of its input (the result for
/// one [`ProofCheck`] never changes), so implementations may remember results.
pub trait PersonhoodCheck: Send + Sync + fmt::Debug {
    /// The pseudonym the proof binds the voting key to, or the identity layer's error code.
    fn check(&self, c: &ProofCheck<'_>) -> Result<PollPseudonym, &'static str>;
}

/// BBS personhood proofs (`vouch_identity::verify_personhood`), with a bounded memory of
/// results: a proof costs about 10 ms to verify, and a view is rebuilt many times.
#[cfg(any(test, feature = "personhood"))]
#[derive(Debug, Default)]
pub struct BbsPersonhood {
    memo:
        std::sync::Mutex<std::collections::HashMap<[u8; 32], Result<PollPseudonym, &'static str>>>,
}

#[cfg(any(test, feature = "personhood"))]
impl BbsPersonhood {
    /// Most results remembered; past it the memory starts over.
    pub const CAPACITY: usize = 1 << 20;

    /// An empty memory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Results remembered.
    pub fn remembered(&self) -> usize {
        self.memo.lock().map(|m| m.len()).unwrap_or(0)
    }

    fn memo_key(c: &ProofCheck<'_>) -> [u8; 32] {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for part in [c.issuer.as_bytes(), c.scope.as_bytes(), c.proof] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        h.update(c.epoch.to_be_bytes());
        h.update(c.voting_key.as_bytes());
        h.update(c.at_ms.to_be_bytes());
        h.finalize().into()
    }

    fn verify(c: &ProofCheck<'_>) -> Result<PollPseudonym, &'static str> {
        let issuer =
            vouch_identity::PersonhoodIssuerKey::from_did_key(c.issuer).map_err(|e| e.code())?;
        let proof = vouch_identity::PersonhoodProof::from_bytes(c.proof).map_err(|e| e.code())?;
        let scope = vouch_identity::PersonhoodScope::new(c.scope, c.epoch);
        vouch_identity::verify_personhood(&proof, &issuer, &scope, c.voting_key, c.at_ms)
            .map(|p| p.0)
            .map_err(|e| e.code())
    }
}

#[cfg(any(test, feature = "personhood"))]
impl PersonhoodCheck for BbsPersonhood {
    fn check(&self, c: &ProofCheck<'_>) -> Result<PollPseudonym, &'static str> {
        let key = Self::memo_key(c);
        if let Some(r) = self.memo.lock().ok().and_then(|m| m.get(&key).copied()) {
            return r;
        }
        let r = Self::verify(c);
        if let Ok(mut m) = self.memo.lock() {
            if m.len() >= Self::CAPACITY {
                m.clear();
            }
            m.insert(key, r);
        }
        r
    }
}

/// One `poll` object as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollRecord {
    /// Who called the vote (anyone may; the voices decide).
    pub author: PublicKey,
    /// When.
    pub at: u64,
    /// The poll.
    pub body: PollBody,
}

/// One `ballot` object as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BallotRecord {
    pub(crate) voting_key: PublicKey,
    pub(crate) at: u64,
    pub(crate) choice: u64,
    pub(crate) proof: Vec<u8>,
}

/// Every poll and ballot received; ballots are kept whether or not their poll has arrived.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PollStore {
    pub(crate) polls: BTreeMap<ObjectId, PollRecord>,
    pub(crate) by_group: BTreeMap<GroupRef, BTreeSet<ObjectId>>,
    pub(crate) ballots: BTreeMap<ObjectId, BTreeMap<ObjectId, BallotRecord>>,
}

impl PollStore {
    pub(crate) fn insert_poll(&mut self, id: ObjectId, poll: PollRecord) -> bool {
        self.by_group
            .entry(poll.body.group.clone())
            .or_default()
            .insert(id);
        self.polls.insert(id, poll).is_none()
    }

    pub(crate) fn insert_ballot(&mut self, id: ObjectId, poll: ObjectId, b: BallotRecord) -> bool {
        self.ballots
            .entry(poll)
            .or_default()
            .insert(id, b)
            .is_none()
    }
}

/// One person who cast more than one ballot in a poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoubleVote {
    /// Their pseudonym in the poll's scope.
    pub pseudonym: PollPseudonym,
    /// All their ballots, by id.
    pub ballots: Vec<ObjectId>,
    /// True when the ballots agree and counted once; false when they disagree and counted
    /// for nothing.
    pub counted: bool,
}

/// A poll's tally: one voice per pseudonym, whatever order the ballots arrived in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollResult {
    /// Voices per choice.
    pub counts: Vec<u64>,
    /// Distinct people counted.
    pub voters: u64,
    /// Ballots received for the poll.
    pub ballots: u64,
    /// People who voted more than once (never counted twice).
    pub double_votes: Vec<DoubleVote>,
    /// Ballots that did not count, by id, with the reason (a double vote's extra ballots
    /// are `poll-duplicate-pseudonym`).
    pub rejected: Vec<(ObjectId, PollError)>,
    /// The personhood issuer the ballots were checked against.
    pub issuer: String,
    /// True once `now` has reached the poll's `closes`.
    pub closed: bool,
    /// For an amendment poll under a header that opted in to village rules: whether it
    /// passed (closed, at least `amend_quorum` voices, and "adopt" above `amend_majority`
    /// percent of them). `None` for other polls.
    pub adopted: Option<bool>,
}

impl PollResult {
    /// Tallies `ballots` for poll `id` under a header whose policy is `policy`.
    pub(crate) fn tally(
        id: &ObjectId,
        poll: &PollBody,
        policy: &GroupPolicy,
        ballots: &BTreeMap<ObjectId, BallotRecord>,
        check: &dyn PersonhoodCheck,
        now: u64,
    ) -> Result<PollResult, PollError> {
        if !policy.personhood_votes {
            return Err(PollError::NotPersonhoodGroup);
        }
        let issuer = policy
            .credential_issuer
            .as_deref()
            .ok_or(PollError::NoIssuer)?;
        let scope = PollBody::scope_label(id);
        let mut rejected = Vec::new();
        let mut by_nym: BTreeMap<PollPseudonym, Vec<(ObjectId, u32)>> = BTreeMap::new();
        for (bid, b) in ballots {
            let choice = match u32::try_from(b.choice) {
                Ok(c) if b.choice < poll.options => c,
                _ => {
                    rejected.push((*bid, PollError::BadChoice(b.choice as u32)));
                    continue;
                }
            };
            if b.at > poll.closes {
                rejected.push((*bid, PollError::Late));
                continue;
            }
            let checked = check.check(&ProofCheck {
                issuer,
                scope: &scope,
                epoch: 0,
                voting_key: &b.voting_key,
                proof: &b.proof,
                at_ms: poll.closes,
            });
            match checked {
                Ok(nym) => by_nym.entry(nym).or_default().push((*bid, choice)),
                Err(code) => rejected.push((*bid, PollError::Personhood(code))),
            }
        }
        let voices = count_voices(poll.options, &by_nym);
        let mut double_votes = Vec::new();
        for d in voices.doubles {
            rejected.extend(d.extra.iter().map(|i| (*i, PollError::DuplicatePseudonym)));
            double_votes.push(DoubleVote {
                pseudonym: d.nym,
                ballots: d.all,
                counted: d.counted,
            });
        }
        rejected.sort_by_key(|(i, _)| *i);
        let closed = now >= poll.closes;
        let adopted = match (&poll.amend, policy.amend_quorum) {
            (Some(_), Some(quorum)) => {
                let majority = policy.amend_majority.unwrap_or(50);
                let adopt = voices.counts.first().copied().unwrap_or(0);
                Some(
                    closed
                        && voices.voters >= quorum
                        && u128::from(adopt) * 100
                            > u128::from(majority) * u128::from(voices.voters),
                )
            }
            _ => None,
        };
        Ok(PollResult {
            counts: voices.counts,
            voters: voices.voters,
            ballots: ballots.len() as u64,
            double_votes,
            rejected,
            issuer: issuer.to_string(),
            closed,
            adopted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::ObjectId;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use vouch_identity::{
        PersonhoodCredential, PersonhoodIssuer, PersonhoodRequest, PersonhoodScope,
    };

    const DAY: u64 = 86_400_000;
    const NOW: u64 = 20_500 * DAY + 5_000;

    struct Village {
        issuer: PersonhoodIssuer,
        policy: GroupPolicy,
        poll: Poll,
    }

    fn village(rng: &mut ChaCha20Rng) -> Village {
        let issuer = PersonhoodIssuer::generate(rng).unwrap();
        let owner = SecretKey::generate(rng).public_key();
        let policy = GroupPolicy {
            min_trust: None,
            vote_budget: None,
            credential_issuer: Some(issuer.public_key().to_did_key()),
            personhood_votes: true,
            amend_quorum: None,
            amend_majority: None,
        };
        let poll = Poll {
            group: GroupRef {
                owner,
                name: "village".into(),
            },
            epoch: NOW / DAY,
            subject: Subject::Object(ObjectId([7; 32])),
            choices: 2,
        };
        Village {
            issuer,
            policy,
            poll,
        }
    }

    fn person(v: &Village, rng: &mut ChaCha20Rng) -> PersonhoodCredential {
        let (req, pending) = PersonhoodRequest::new(rng).unwrap();
        let iss = v
            .issuer
            .issue(&req, NOW - NOW % DAY + 30 * DAY, NOW, rng)
            .unwrap();
        pending.finalize(&v.issuer.public_key(), &iss).unwrap()
    }

    fn ballot(
        v: &Village,
        who: &PersonhoodCredential,
        choice: u32,
        rng: &mut ChaCha20Rng,
    ) -> PersonhoodBallot {
        let key = SecretKey::generate(rng);
        let scope = PersonhoodScope::new(v.poll.scope_group(), v.poll.epoch);
        let proof = who.prove(&scope, &key.public_key()).unwrap().to_bytes();
        PersonhoodBallot::new(&v.poll, choice, &key, proof)
    }

    fn codes(t: &PollTally) -> Vec<&'static str> {
        t.rejected.iter().map(|(_, e)| e.code()).collect()
    }

    #[test]
    fn one_person_with_fifty_keys_gets_one_vote() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let v = village(&mut rng);
        let verifier = personhood_issuer(&v.policy).unwrap();
        let mallory = person(&v, &mut rng);
        let alice = person(&v, &mut rng);
        let bob = person(&v, &mut rng);
        let mut ballots: Vec<_> = (0..50).map(|_| ballot(&v, &mallory, 1, &mut rng)).collect();
        ballots.push(ballot(&v, &alice, 0, &mut rng));
        ballots.push(ballot(&v, &bob, 0, &mut rng));

        let t = tally_personhood_poll(&v.poll, &v.policy, &ballots, &verifier, NOW).unwrap();
        assert_eq!(t.counts, vec![2, 1]);
        assert_eq!(t.voters, 3);
        assert_eq!(t.rejected.len(), 49);
        assert!(codes(&t).iter().all(|c| *c == "poll-duplicate-pseudonym"));

        // Order does not matter.
        ballots.reverse();
        let t2 = tally_personhood_poll(&v.poll, &v.policy, &ballots, &verifier, NOW).unwrap();
        assert_eq!(t2.counts, t.counts);
    }

    #[test]
    fn bbs_personhood_checks_once_and_agrees_with_the_identity_layer() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let v = village(&mut rng);
        let alice = person(&v, &mut rng);
        let key = SecretKey::generate(&mut rng);
        let poll = ObjectId([4; 32]);
        let label = PollBody::scope_label(&poll);
        let scope = PersonhoodScope::new(label.clone(), 0);
        let proof = alice.prove(&scope, &key.public_key()).unwrap().to_bytes();
        let issuer = v.issuer.public_key().to_did_key();
        let check = BbsPersonhood::new();
        let c = ProofCheck {
            issuer: &issuer,
            scope: &label,
            epoch: 0,
            voting_key: &key.public_key(),
            proof: &proof,
            at_ms: NOW,
        };
        let nym = check.check(&c).unwrap();
        assert_eq!(nym, alice.pseudonym(&scope).unwrap().0);
        assert_eq!(check.check(&c), Ok(nym));
        assert_eq!(check.remembered(), 1, "the second check is remembered");
        // Another voting key, another time past the expiry, another issuer: other answers,
        // each remembered on its own.
        let other = SecretKey::generate(&mut rng).public_key();
        assert_eq!(
            check.check(&ProofCheck {
                voting_key: &other,
                ..c
            }),
            Err("personhood-bad-proof")
        );
        assert_eq!(
            check.check(&ProofCheck {
                at_ms: NOW + 40 * DAY,
                ..c
            }),
            Err("personhood-expired")
        );
        assert_eq!(
            check.check(&ProofCheck {
                issuer: "did:key:z6Mkfake",
                ..c
            }),
            Err("personhood-malformed")
        );
        assert_eq!(check.remembered(), 4);
    }

    #[test]
    fn equivocation_voids_and_bad_ballots_carry_codes() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let v = village(&mut rng);
        let verifier = personhood_issuer(&v.policy).unwrap();
        let alice = person(&v, &mut rng);
        let bob = person(&v, &mut rng);
        let carol = person(&v, &mut rng);

        let mut forged = ballot(&v, &carol, 0, &mut rng);
        forged.choice = 1; // signature no longer matches
        let mut other_poll = v.poll.clone();
        other_poll.epoch += 1;
        let stale = {
            let key = SecretKey::generate(&mut rng);
            let scope = PersonhoodScope::new(other_poll.scope_group(), other_poll.epoch);
            let proof = carol.prove(&scope, &key.public_key()).unwrap().to_bytes();
            PersonhoodBallot::new(&v.poll, 0, &key, proof)
        };
        let foreign = {
            let other = PersonhoodIssuer::generate(&mut rng).unwrap();
            let (req, pending) = PersonhoodRequest::new(&mut rng).unwrap();
            let iss = other
                .issue(&req, NOW - NOW % DAY + DAY, NOW, &mut rng)
                .unwrap();
            let cred = pending.finalize(&other.public_key(), &iss).unwrap();
            ballot(&v, &cred, 0, &mut rng)
        };
        let ballots = vec![
            ballot(&v, &alice, 0, &mut rng),
            ballot(&v, &alice, 1, &mut rng), // alice equivocates: neither counts
            ballot(&v, &bob, 1, &mut rng),
            forged,
            stale,
            foreign,
            ballot(&v, &bob, 5, &mut rng),
        ];
        let t = tally_personhood_poll(&v.poll, &v.policy, &ballots, &verifier, NOW).unwrap();
        assert_eq!(t.counts, vec![0, 1]);
        assert_eq!(t.voters, 1);
        assert_eq!(
            codes(&t),
            vec![
                "poll-duplicate-pseudonym",
                "poll-duplicate-pseudonym",
                "poll-bad-signature",
                "personhood-wrong-scope",
                "personhood-wrong-issuer",
                "poll-bad-choice",
            ]
        );

        // After the credentials expire nothing counts.
        let late =
            tally_personhood_poll(&v.poll, &v.policy, &ballots[..1], &verifier, NOW + 40 * DAY)
                .unwrap();
        assert_eq!(codes(&late), vec!["personhood-expired"]);

        // A group without village votes cannot run this tally.
        let mut plain = v.policy.clone();
        plain.personhood_votes = false;
        assert_eq!(
            tally_personhood_poll(&v.poll, &plain, &ballots, &verifier, NOW)
                .unwrap_err()
                .code(),
            "poll-not-personhood-group"
        );
        plain.credential_issuer = None;
        assert_eq!(
            personhood_issuer(&plain).unwrap_err().code(),
            "poll-no-issuer"
        );
    }
}
