//! Rate-limited votes: every vote is kept; the tally reads them with a budget per (voter,
//! epoch, group) taken in (at, id) order, one effective vote per (voter, target) (the
//! latest within budget), and each vote weighted by the voter's trust from the viewer.

use super::{seeded_map, FastMap, TrustLookup, VotePolicy};
use crate::{epoch_of, GroupRef, ObjectId, Subject};
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

/// The votes on one target, for one viewer.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct VoteTally {
    /// Sum of trust × value over effective votes.
    pub(crate) net: f32,
    /// Effective up votes by voters the viewer trusts.
    pub(crate) up: u32,
    /// Effective down votes by voters the viewer trusts.
    pub(crate) down: u32,
    /// Effective votes by voters with no trust from the viewer (weight 0).
    pub(crate) untrusted: u32,
    /// Votes past their voter's budget for the epoch.
    pub(crate) over_budget: u32,
    /// Votes dated after `now` (a future epoch, or later today).
    pub(crate) future: u32,
    /// Earlier votes by the same voter on the same target.
    pub(crate) superseded: u32,
    /// The weightiest effective votes: (weight, vote id), at most [`TOP_VOTES`].
    pub(crate) top: Vec<(f32, ObjectId)>,
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
    pub(crate) is_void: &'a dyn Fn(&PublicKey, u64) -> bool,
    /// Keys the returned map (vote targets are chosen by voters).
    pub(crate) seed: u64,
}

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
    pub(crate) fn tally(&self, input: &TallyInput<'_>) -> FastMap<Subject, VoteTally> {
        let mut out: FastMap<Subject, VoteTally> = seeded_map(input.seed);
        let now_epoch = epoch_of(input.now);
        let oldest = now_epoch.saturating_sub(u64::from(input.policy.window_epochs.max(1)) - 1);
        for (voter, epochs) in &self.by_voter {
            let weight = input
                .trust
                .trust(voter)
                .map_or(0.0, |t| t.score.clamp(0.0, 1.0));
            // target -> (at, id, value) of the latest vote within budget.
            let mut effective: BTreeMap<Subject, (u64, ObjectId, i8)> = BTreeMap::new();
            for (epoch, votes) in epochs.range(oldest..) {
                let mut used: BTreeMap<Option<&GroupRef>, u64> = BTreeMap::new();
                for ((at, id), v) in votes {
                    if *epoch > now_epoch || *at > input.now {
                        out.entry(v.target).or_default().future += 1;
                        continue;
                    }
                    if (input.is_void)(voter, *at) {
                        continue;
                    }
                    let budget = v
                        .group
                        .as_ref()
                        .and_then(|g| (input.group_budget)(g))
                        .unwrap_or(u64::from(input.policy.budget_per_epoch));
                    let n = used.entry(v.group.as_ref()).or_insert(0);
                    if *n >= budget {
                        out.entry(v.target).or_default().over_budget += 1;
                        continue;
                    }
                    *n += 1;
                    match effective.get(&v.target) {
                        Some(prev) if (prev.0, prev.1) > (*at, *id) => {
                            out.entry(v.target).or_default().superseded += 1;
                        }
                        Some(_) => {
                            out.entry(v.target).or_default().superseded += 1;
                            effective.insert(v.target, (*at, *id, v.value));
                        }
                        None => {
                            effective.insert(v.target, (*at, *id, v.value));
                        }
                    }
                }
            }
            for (target, (_, id, value)) in effective {
                let t = out.entry(target).or_default();
                if weight <= 0.0 {
                    t.untrusted += 1;
                    continue;
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
        }
        for t in out.values_mut() {
            t.top
                .sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        }
        out
    }
}
