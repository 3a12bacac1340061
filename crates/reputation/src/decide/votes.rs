//! Rate-limited votes: every vote is kept; the tally reads them with a budget per (voter,
//! epoch, group) taken in (at, id) order, one effective vote per (voter, target) (the
//! latest within budget), and each vote weighted by the voter's trust from the viewer.
//! In a group whose policy asks for personhood votes, the voter is the pseudonym a
//! verified personhood proof binds the voting key to (one voice, weight 1, per pseudonym
//! per epoch); votes without one have no effect.

use super::{seeded_map, FastMap, TrustLookup, VotePolicy};
use crate::{epoch_of, GroupRef, ObjectId, PollPseudonym, Subject};
use std::collections::BTreeMap;
use vouch_identity::PublicKey;

/// One vote as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VoteRecord {
    pub(crate) target: Subject,
    pub(crate) value: i8,
    pub(crate) group: Option<GroupRef>,
}

/// voter -> epoch -> (at, id) -> vote.
pub(crate) type VotesByEpoch = BTreeMap<u64, BTreeMap<(u64, ObjectId), VoteRecord>>;

/// Every vote received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct VoteStore {
    pub(crate) by_voter: BTreeMap<PublicKey, VotesByEpoch>,
}

/// The votes on one target, for one viewer: trust-weighted votes, or the voices of a
/// personhood group.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct VoteTally {
    /// Sum of weight × value over effective votes (weight: trust, or 1 per voice).
    pub(crate) net: f32,
    /// Effective up votes with weight.
    pub(crate) up: u32,
    /// Effective down votes with weight.
    pub(crate) down: u32,
    /// Effective votes by voters with no trust from the viewer (weight 0).
    pub(crate) untrusted: u32,
    /// Votes past their voter's budget for the epoch.
    pub(crate) over_budget: u32,
    /// Votes dated after `now` (a future epoch, or later today).
    pub(crate) future: u32,
    /// Earlier votes by the same voter on the same target.
    pub(crate) superseded: u32,
    /// In a personhood group's tally: votes in the group whose key no verified
    /// personhood proof binds to a pseudonym (no effect).
    pub(crate) not_personhood: u32,
    /// The weightiest effective votes: (weight, vote id), at most [`TOP_VOTES`].
    pub(crate) top: Vec<(f32, ObjectId)>,
}

impl VoteTally {
    /// Every vote this tally read.
    pub(crate) fn seen(&self) -> u32 {
        self.up
            + self.down
            + self.untrusted
            + self.over_budget
            + self.future
            + self.superseded
            + self.not_personhood
    }
}

/// How many vote ids a tally keeps as evidence.
pub(crate) const TOP_VOTES: usize = 8;

/// What the tally needs to know from outside.
pub(crate) struct TallyInput<'a> {
    pub(crate) now: u64,
    pub(crate) policy: &'a VotePolicy,
    pub(crate) trust: &'a dyn TrustLookup,
    /// The group's vote budget per epoch, if the group sets one.
    pub(crate) group_budget: &'a dyn Fn(&GroupRef) -> Option<u64>,
    /// True when the group's votes are personhood votes (and group rules apply).
    pub(crate) personhood: &'a dyn Fn(&GroupRef) -> bool,
    /// The pseudonym a verified proof binds a voting key to, in scope (group, epoch).
    pub(crate) pseudonym: &'a dyn Fn(&GroupRef, u64, &PublicKey) -> Option<PollPseudonym>,
    pub(crate) is_void: &'a dyn Fn(&PublicKey, u64) -> bool,
    /// Keys the returned map (vote targets are chosen by voters).
    pub(crate) seed: u64,
}

/// The tallies for one viewer: trust-weighted votes per target, and per (target,
/// personhood group) the group's voices.
pub(crate) struct Tallies {
    pub(crate) votes: FastMap<Subject, VoteTally>,
    pub(crate) voices: FastMap<(Subject, GroupRef), VoteTally>,
}

/// A voter's votes in one epoch, in (at, id) order: a key's, or a pseudonym's.
type EpochVotes<'v> = BTreeMap<(u64, ObjectId), &'v VoteRecord>;

impl VoteStore {
    pub(crate) fn insert(
        &mut self,
        voter: PublicKey,
        epoch: u64,
        at: u64,
        id: ObjectId,
        vote: VoteRecord,
    ) -> bool {
        self.by_voter
            .entry(voter)
            .or_default()
            .entry(epoch)
            .or_default()
            .insert((at, id), vote)
            .is_none()
    }

    /// Tallies every target's votes for one viewer.
    pub(crate) fn tally(&self, input: &TallyInput<'_>) -> Tallies {
        let mut votes: FastMap<Subject, VoteTally> = seeded_map(input.seed);
        let mut voices: FastMap<(Subject, GroupRef), VoteTally> = seeded_map(input.seed);
        let now_epoch = epoch_of(input.now);
        let oldest = now_epoch.saturating_sub(u64::from(input.policy.window_epochs.max(1)) - 1);
        // (group, epoch, pseudonym) -> that person's votes in the group that epoch.
        let mut by_person: BTreeMap<(&GroupRef, u64, PollPseudonym), EpochVotes<'_>> =
            BTreeMap::new();
        for (voter, epochs) in &self.by_voter {
            let weight = input
                .trust
                .trust(voter)
                .map_or(0.0, |t| t.score.clamp(0.0, 1.0));
            let mut effective = Effective::default();
            for (epoch, epoch_votes) in epochs.range(oldest..) {
                let mut plain: EpochVotes<'_> = BTreeMap::new();
                for ((at, id), v) in epoch_votes {
                    let in_personhood_group = v.group.as_ref().filter(|g| (input.personhood)(g));
                    if *epoch > now_epoch || *at > input.now {
                        match in_personhood_group {
                            Some(g) => voices.entry((v.target, g.clone())).or_default().future += 1,
                            None => votes.entry(v.target).or_default().future += 1,
                        }
                        continue;
                    }
                    if (input.is_void)(voter, *at) {
                        continue;
                    }
                    match in_personhood_group {
                        Some(g) => match (input.pseudonym)(g, *epoch, voter) {
                            Some(nym) => {
                                by_person
                                    .entry((g, *epoch, nym))
                                    .or_default()
                                    .insert((*at, *id), v);
                            }
                            None => {
                                voices
                                    .entry((v.target, g.clone()))
                                    .or_default()
                                    .not_personhood += 1;
                            }
                        },
                        None => {
                            plain.insert((*at, *id), v);
                        }
                    }
                }
                effective.read(&plain, input, &mut votes, |t| t);
            }
            for (target, (_, id, value)) in effective.latest {
                count(votes.entry(target).or_default(), weight, id, value);
            }
        }
        // One voice per pseudonym per epoch: its budget, its latest vote per target.
        for ((group, _, _), person_votes) in &by_person {
            let mut effective = Effective::default();
            effective.read(person_votes, input, &mut voices, |t| (t, (*group).clone()));
            for (target, (_, id, value)) in effective.latest {
                count(
                    voices.entry((target, (*group).clone())).or_default(),
                    1.0,
                    id,
                    value,
                );
            }
        }
        for t in votes.values_mut().chain(voices.values_mut()) {
            t.top
                .sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        }
        Tallies { votes, voices }
    }
}

/// One voter's effective votes: target -> (at, id, value) of the latest vote within budget.
#[derive(Default)]
struct Effective {
    latest: BTreeMap<Subject, (u64, ObjectId, i8)>,
}

impl Effective {
    /// Reads one epoch of a voter's votes in (at, id) order: the budget per group, then the
    /// latest vote per target. The counters go to `tallies[key(target)]`.
    fn read<K: std::hash::Hash + Eq>(
        &mut self,
        epoch_votes: &EpochVotes<'_>,
        input: &TallyInput<'_>,
        tallies: &mut FastMap<K, VoteTally>,
        key: impl Fn(Subject) -> K,
    ) {
        let mut used: BTreeMap<Option<&GroupRef>, u64> = BTreeMap::new();
        for ((at, id), v) in epoch_votes {
            let budget = v
                .group
                .as_ref()
                .and_then(|g| (input.group_budget)(g))
                .unwrap_or(u64::from(input.policy.budget_per_epoch));
            let n = used.entry(v.group.as_ref()).or_insert(0);
            if *n >= budget {
                tallies.entry(key(v.target)).or_default().over_budget += 1;
                continue;
            }
            *n += 1;
            match self.latest.get(&v.target) {
                Some(prev) if (prev.0, prev.1) > (*at, *id) => {
                    tallies.entry(key(v.target)).or_default().superseded += 1;
                }
                Some(_) => {
                    tallies.entry(key(v.target)).or_default().superseded += 1;
                    self.latest.insert(v.target, (*at, *id, v.value));
                }
                None => {
                    self.latest.insert(v.target, (*at, *id, v.value));
                }
            }
        }
    }
}

/// Counts one effective vote of `weight` into `t`.
fn count(t: &mut VoteTally, weight: f32, id: ObjectId, value: i8) {
    if weight <= 0.0 {
        t.untrusted += 1;
        return;
    }
    t.net += weight * f32::from(value);
    if value > 0 {
        t.up += 1;
    } else {
        t.down += 1;
    }
    t.top.push((weight, id));
    if t.top.len() > TOP_VOTES {
        t.top
            .sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        t.top.truncate(TOP_VOTES);
    }
}
