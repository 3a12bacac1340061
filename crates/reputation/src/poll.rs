//! Village votes: personhood-backed ballots and a poll tally that counts one voice per
//! pseudonym, however many posting or voting keys a person holds.
//!
//! A [`PersonhoodBallot`] carries a choice, a fresh voting key, a personhood proof (see
//! `vouch_identity::PersonhoodProof`) binding that key to the voter's pseudonym for the
//! poll's scope (group, epoch), and the voting key's signature over all of it. The tally
//! checks each ballot through a [`PersonhoodVerifier`] (implemented for
//! `vouch_identity::PersonhoodIssuerKey` with feature `personhood`), then keeps one ballot per
//! pseudonym.

use crate::object::{GroupPolicy, GroupRef, Subject};
use std::collections::BTreeMap;
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
    let mut counts = vec![0u64; poll.choices as usize];
    let mut voters = 0;
    for entries in by_nym.values() {
        let first = entries[0].1;
        if entries.iter().all(|&(_, c)| c == first) {
            counts[first as usize] += 1;
            voters += 1;
            rejected.extend(
                entries[1..]
                    .iter()
                    .map(|&(i, _)| (i, PollError::DuplicatePseudonym)),
            );
        } else {
            rejected.extend(
                entries
                    .iter()
                    .map(|&(i, _)| (i, PollError::DuplicatePseudonym)),
            );
        }
    }
    rejected.sort_by_key(|(i, _)| *i);
    Ok(PollTally {
        counts,
        voters,
        rejected,
    })
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
