//! Groups: headers (highest effective `seq` wins, equivocation detected), who moderates, the
//! reports queue and the appeals queue that a group's moderators work through, and village
//! rules: the group's amendable rules as changed by personhood polls that passed.

use super::lists::effective_seq;
use super::{Equivocation, ModerationState};
use crate::poll::{PersonhoodCheck, PollError, PollResult};
use crate::{
    AppealOutcome, GroupBody, GroupPolicy, GroupRef, ListPurpose, ListRef, ObjectId, Subject,
};
use std::collections::BTreeMap;
use vouch_identity::PublicKey;

/// One version of a group header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupHeader {
    pub(crate) author: PublicKey,
    pub(crate) at: u64,
    pub(crate) body: GroupBody,
}

/// One report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReportRecord {
    pub(crate) reporter: PublicKey,
    pub(crate) at: u64,
    pub(crate) subject: Subject,
    pub(crate) category: String,
    pub(crate) text: Option<String>,
}

/// One dismissal of reports (counts only from the group's moderators).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DismissRecord {
    pub(crate) author: PublicKey,
    pub(crate) at: u64,
    pub(crate) reports: Vec<ObjectId>,
    pub(crate) text: Option<String>,
}

/// One appeal (an `appeal` without outcome).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppealRecord {
    pub(crate) appellant: PublicKey,
    pub(crate) at: u64,
    pub(crate) target: ObjectId,
    pub(crate) text: Option<String>,
}

/// One answer (an `appeal` with outcome, whose target is the appeal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AnswerRecord {
    pub(crate) author: PublicKey,
    pub(crate) at: u64,
    pub(crate) appeal: ObjectId,
    pub(crate) outcome: AppealOutcome,
    pub(crate) text: Option<String>,
}

/// Everything received for one group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GroupState {
    pub(crate) headers: BTreeMap<ObjectId, GroupHeader>,
    pub(crate) reports: BTreeMap<ObjectId, ReportRecord>,
    pub(crate) dismissals: BTreeMap<ObjectId, DismissRecord>,
}

/// Reports about one subject in one group, for its moderators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQueueItem {
    /// What is reported.
    pub subject: Subject,
    /// The reports, oldest first.
    pub reports: Vec<ObjectId>,
    /// Distinct reporters.
    pub reporters: Vec<PublicKey>,
    /// How many reports per category.
    pub categories: BTreeMap<String, u32>,
    /// The reporters' texts, oldest first.
    pub texts: Vec<String>,
    /// The first report's time.
    pub first_at: u64,
    /// The last report's time.
    pub last_at: u64,
    /// True when the subject is currently banned in the group.
    pub banned: bool,
    /// The reports a moderator dismissed (a subset of `reports`); the item is open while
    /// some report is not dismissed.
    pub dismissed: Vec<ObjectId>,
    /// The dismissals that closed them, oldest first: (dismissal, moderator, text).
    pub dismissals: Vec<(ObjectId, PublicKey, Option<String>)>,
}

impl ReportQueueItem {
    /// True while some report about the subject is not dismissed.
    pub fn is_open(&self) -> bool {
        self.dismissed.len() < self.reports.len()
    }
}

/// A rule of a group changed by a village poll that passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleAmendment {
    /// The rule: `min_trust` or `vote_budget`.
    pub rule: &'static str,
    /// Its value now.
    pub value: u64,
    /// The poll that changed it.
    pub poll: ObjectId,
    /// When the poll closed (the amendment stands from then).
    pub closes: u64,
    /// People who voted, and how many of them adopted.
    pub voters: u64,
    /// Voices for "adopt".
    pub adopt: u64,
}

/// A group's rules in force: the owner's header, with the rules its people changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRules {
    /// The header in force, if any.
    pub header: Option<ObjectId>,
    /// The machine-readable rules in force: the header's, with `amendments` applied.
    pub policy: GroupPolicy,
    /// Village rules: the group opted in, in these headers (any of the owner's non-void
    /// headers that set `amend_quorum`; once set, the owner cannot take it back).
    pub village: Vec<ObjectId>,
    /// The personhood issuers those headers name, sorted; more than one means the owner
    /// named another issuer after opting in, and decisions say so.
    pub village_issuers: Vec<String>,
    /// The rules changed by polls, one per rule: the latest poll to pass (by `closes`, then
    /// id) wins, whatever the header says.
    pub amendments: Vec<RuleAmendment>,
}

/// Where an appeal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppealState {
    /// No moderator has answered.
    Open,
    /// Answered: the ban stands.
    Upheld,
    /// Answered: the ban no longer applies.
    Granted,
}

/// An appeal against one of a group's bans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealQueueItem {
    /// The appeal.
    pub appeal: ObjectId,
    /// Who appeals (the banned person or anyone else).
    pub appellant: PublicKey,
    /// When.
    pub at: u64,
    /// The ban contested.
    pub ban: ObjectId,
    /// Who is banned.
    pub subject: Subject,
    /// The appellant's text.
    pub text: Option<String>,
    /// Where it stands.
    pub state: AppealState,
    /// The answer in force, if any.
    pub answer: Option<ObjectId>,
}

impl GroupState {
    /// The header in force: highest effective `seq` (`min(seq, at)`) among the owner's
    /// non-void versions, smallest id on a tie.
    pub(crate) fn header(
        &self,
        valid: &dyn Fn(&PublicKey, u64) -> bool,
    ) -> Option<(ObjectId, &GroupHeader)> {
        self.headers
            .iter()
            .filter(|(_, h)| valid(&h.author, h.at))
            .max_by(|(ia, a), (ib, b)| {
                effective_seq(a.body.seq, a.at)
                    .cmp(&effective_seq(b.body.seq, b.at))
                    .then(ib.cmp(ia))
            })
            .map(|(id, h)| (*id, h))
    }

    pub(crate) fn equivocations(
        &self,
        valid: &dyn Fn(&PublicKey, u64) -> bool,
    ) -> Vec<Equivocation> {
        let mut by_seq: BTreeMap<u64, Vec<ObjectId>> = BTreeMap::new();
        for (id, h) in &self.headers {
            if valid(&h.author, h.at) {
                by_seq
                    .entry(effective_seq(h.body.seq, h.at))
                    .or_default()
                    .push(*id);
            }
        }
        by_seq
            .into_iter()
            .filter(|(_, v)| v.len() > 1)
            .map(|(seq, versions)| Equivocation { seq, versions })
            .collect()
    }
}

impl ModerationState {
    /// The group's header in force, with its id.
    pub fn group_header(&self, group: &GroupRef) -> Option<(ObjectId, &GroupBody)> {
        let valid = |a: &PublicKey, at: u64| *a == group.owner && !self.is_void(a, at);
        self.groups
            .get(group)?
            .header(&valid)
            .map(|(id, h)| (id, &h.body))
    }

    /// Header versions of the group that share a `seq`.
    pub fn group_equivocations(&self, group: &GroupRef) -> Vec<Equivocation> {
        let valid = |a: &PublicKey, at: u64| *a == group.owner && !self.is_void(a, at);
        self.groups
            .get(group)
            .map(|g| g.equivocations(&valid))
            .unwrap_or_default()
    }

    /// The non-void header version `id` of `group`, signed by its owner.
    pub(crate) fn group_header_version(
        &self,
        group: &GroupRef,
        id: &ObjectId,
    ) -> Option<&GroupBody> {
        let h = self.groups.get(group)?.headers.get(id)?;
        (h.author == group.owner && !self.is_void(&h.author, h.at)).then_some(&h.body)
    }

    /// The tally of poll `poll` at `now`: ballots checked through `check` against the
    /// personhood issuer of the header the poll names, one voice per pseudonym; double votes
    /// listed, never counted twice. The same for any arrival order of the objects.
    pub fn poll_result(
        &self,
        poll: &ObjectId,
        check: &dyn PersonhoodCheck,
        now: u64,
    ) -> Result<PollResult, PollError> {
        let p = self.polls.polls.get(poll).ok_or(PollError::UnknownPoll)?;
        let header = self
            .group_header_version(&p.body.group, &p.body.header)
            .ok_or(PollError::BadHeader)?;
        let empty = BTreeMap::new();
        let ballots = self.polls.ballots.get(poll).unwrap_or(&empty);
        PollResult::tally(poll, &p.body, &header.policy, ballots, check, now)
    }

    /// The poll `id`, if received.
    pub fn poll(&self, id: &ObjectId) -> Option<&crate::poll::PollRecord> {
        self.polls.polls.get(id)
    }

    /// The ids of every poll received.
    pub fn poll_ids(&self) -> impl Iterator<Item = ObjectId> + '_ {
        self.polls.polls.keys().copied()
    }

    /// The polls called in `group`, by id.
    pub fn polls_in(&self, group: &GroupRef) -> Vec<(ObjectId, &crate::poll::PollRecord)> {
        self.polls
            .by_group
            .get(group)
            .into_iter()
            .flatten()
            .filter_map(|id| self.polls.polls.get(id).map(|p| (*id, p)))
            .collect()
    }

    /// The rules of `group` in force at `now`: the header's, with the amendments of every
    /// village poll that passed by then (checked through `check`; without one, no poll can
    /// be verified and the header's rules stand). `None` when the group has no header.
    pub fn group_rules(
        &self,
        group: &GroupRef,
        now: u64,
        check: Option<&dyn PersonhoodCheck>,
    ) -> Option<GroupRules> {
        let (header_id, header) = self.group_header(group)?;
        let mut rules = GroupRules {
            header: Some(header_id),
            policy: header.policy.clone(),
            village: Vec::new(),
            village_issuers: Vec::new(),
            amendments: Vec::new(),
        };
        if let Some(g) = self.groups.get(group) {
            for (id, h) in &g.headers {
                if h.author == group.owner
                    && !self.is_void(&h.author, h.at)
                    && h.body.policy.amend_quorum.is_some()
                {
                    rules.village.push(*id);
                    rules
                        .village_issuers
                        .extend(h.body.policy.credential_issuer.iter().cloned());
                }
            }
        }
        rules.village_issuers.sort();
        rules.village_issuers.dedup();
        let Some(check) = check.filter(|_| !rules.village.is_empty()) else {
            return Some(rules);
        };
        // rule -> ((closes, poll id), amendment)
        let mut latest: BTreeMap<&'static str, ((u64, ObjectId), RuleAmendment)> = BTreeMap::new();
        for (id, p) in self.polls_in(group) {
            let Some(amend) = &p.body.amend else {
                continue;
            };
            if p.body.closes > now {
                continue;
            }
            let Ok(result) = self.poll_result(&id, check, now) else {
                continue;
            };
            if result.adopted != Some(true) {
                continue;
            }
            let changes = [
                ("min_trust", amend.min_trust),
                ("vote_budget", amend.vote_budget),
            ];
            for (rule, value) in changes {
                let Some(value) = value else {
                    continue;
                };
                let key = (p.body.closes, id);
                if latest.get(rule).is_none_or(|(k, _)| *k < key) {
                    latest.insert(
                        rule,
                        (
                            key,
                            RuleAmendment {
                                rule,
                                value,
                                poll: id,
                                closes: p.body.closes,
                                voters: result.voters,
                                adopt: result.counts.first().copied().unwrap_or(0),
                            },
                        ),
                    );
                }
            }
        }
        for (_, a) in latest.into_values() {
            match a.rule {
                "min_trust" => rules.policy.min_trust = (a.value > 0).then_some(a.value),
                _ => rules.policy.vote_budget = Some(a.value),
            }
            rules.amendments.push(a);
        }
        Some(rules)
    }

    /// True when `key`, acting at `at`, is the group's owner or a moderator named in the
    /// group's *current* header (not void by revocation). Bans and unbans count only from
    /// them; a moderator's bans stop counting when a later header drops the moderator.
    pub fn is_group_moderator(&self, group: &GroupRef, key: &PublicKey, at: u64) -> bool {
        if self.is_void(key, at) {
            return false;
        }
        if *key == group.owner {
            return true;
        }
        self.group_header(group)
            .is_some_and(|(_, h)| h.moderators.contains(key))
    }

    /// The reports sent to the group, one item per subject: open items (some report not
    /// dismissed) first, then most reported, then oldest first. Reports by revoked keys are
    /// left out; a dismissal counts only when its author moderates the group now
    /// ([`ModerationState::is_group_moderator`]), so a dropped moderator's dismissals reopen.
    pub fn reports_queue(&self, group: &GroupRef, now: u64) -> Vec<ReportQueueItem> {
        let Some(g) = self.groups.get(group) else {
            return Vec::new();
        };
        // Report -> the dismissals (by a moderator) that name it, oldest first.
        let mut dismissed_by: BTreeMap<ObjectId, Vec<(u64, ObjectId)>> = BTreeMap::new();
        for (id, d) in &g.dismissals {
            if self.is_group_moderator(group, &d.author, d.at) {
                for r in &d.reports {
                    dismissed_by.entry(*r).or_default().push((d.at, *id));
                }
            }
        }
        let mut by_subject: BTreeMap<Subject, Vec<(&ObjectId, &ReportRecord)>> = BTreeMap::new();
        for (id, r) in &g.reports {
            if !self.is_void(&r.reporter, r.at) {
                by_subject.entry(r.subject).or_default().push((id, r));
            }
        }
        let banned = self.banned_subjects(group, now);
        let mut out: Vec<ReportQueueItem> = by_subject
            .into_iter()
            .map(|(subject, mut rs)| {
                rs.sort_by_key(|(id, r)| (r.at, **id));
                let mut reporters: Vec<PublicKey> = rs.iter().map(|(_, r)| r.reporter).collect();
                reporters.sort();
                reporters.dedup();
                let mut categories = BTreeMap::new();
                for (_, r) in &rs {
                    *categories.entry(r.category.clone()).or_insert(0) += 1;
                }
                let dismissed: Vec<ObjectId> = rs
                    .iter()
                    .filter(|(id, _)| dismissed_by.contains_key(*id))
                    .map(|(id, _)| **id)
                    .collect();
                let mut closing: Vec<(u64, ObjectId)> = dismissed
                    .iter()
                    .flat_map(|r| dismissed_by.get(r).into_iter().flatten().copied())
                    .collect();
                closing.sort();
                closing.dedup();
                let dismissals = closing
                    .into_iter()
                    .filter_map(|(_, d)| {
                        g.dismissals
                            .get(&d)
                            .map(|rec| (d, rec.author, rec.text.clone()))
                    })
                    .collect();
                ReportQueueItem {
                    subject,
                    reports: rs.iter().map(|(id, _)| **id).collect(),
                    reporters,
                    categories,
                    texts: rs.iter().filter_map(|(_, r)| r.text.clone()).collect(),
                    first_at: rs.first().map_or(0, |(_, r)| r.at),
                    last_at: rs.last().map_or(0, |(_, r)| r.at),
                    banned: banned.contains_key(&subject),
                    dismissed,
                    dismissals,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.is_open()
                .cmp(&a.is_open())
                .then(b.reports.len().cmp(&a.reports.len()))
                .then(a.first_at.cmp(&b.first_at))
                .then(a.subject.cmp(&b.subject))
        });
        out
    }

    /// Appeals against the group's bans: open ones first (oldest first), then answered ones.
    pub fn appeals_queue(&self, group: &GroupRef) -> Vec<AppealQueueItem> {
        self.appeals_where(|list| {
            self.list_header(list).is_some_and(|(_, header)| {
                header.body.purpose == ListPurpose::Ban && header.body.group.as_ref() == Some(group)
            })
        })
    }

    /// Appeals against entries of one list (any purpose), for its curator: open ones first
    /// (oldest first), then answered ones. `ban` is the contested entry.
    pub fn list_appeals(&self, list: &ListRef) -> Vec<AppealQueueItem> {
        self.appeals_where(|l| l == list)
    }

    /// Appeals against entries of the lists `keep` selects.
    fn appeals_where(&self, keep: impl Fn(&ListRef) -> bool) -> Vec<AppealQueueItem> {
        let mut out = Vec::new();
        for (appeal_id, appeal) in &self.appeals {
            if self.is_void(&appeal.appellant, appeal.at) {
                continue;
            }
            let Some(list) = self.add_index.get(&appeal.target) else {
                continue;
            };
            if !keep(list) {
                continue;
            }
            let Some(entry) = self
                .lists
                .get(list)
                .and_then(|l| l.adds.get(&appeal.target))
            else {
                continue;
            };
            let mut answer: Option<(u64, ObjectId, AppealOutcome)> = None;
            for ans_id in self.answers_by_appeal.get(appeal_id).into_iter().flatten() {
                let Some(ans) = self.answers.get(ans_id) else {
                    continue;
                };
                if self.may_answer(&appeal.target, &ans.author, ans.at)
                    && answer.is_none_or(|(at, id, _)| (ans.at, *ans_id) > (at, id))
                {
                    answer = Some((ans.at, *ans_id, ans.outcome));
                }
            }
            out.push(AppealQueueItem {
                appeal: *appeal_id,
                appellant: appeal.appellant,
                at: appeal.at,
                ban: appeal.target,
                subject: entry.subject,
                text: appeal.text.clone(),
                state: match answer {
                    None => AppealState::Open,
                    Some((_, _, AppealOutcome::Upheld)) => AppealState::Upheld,
                    Some((_, _, AppealOutcome::Granted)) => AppealState::Granted,
                },
                answer: answer.map(|(_, id, _)| id),
            });
        }
        out.sort_by_key(|a| (a.state != AppealState::Open, a.at, a.appeal));
        out
    }

    /// Subjects banned in the group at `now`, each with the ban in force (smallest id).
    pub fn banned_subjects(&self, group: &GroupRef, now: u64) -> BTreeMap<Subject, ObjectId> {
        let mut out = BTreeMap::new();
        for (list_ref, list) in &self.lists {
            let Some((_, header)) = self.list_header(list_ref) else {
                continue;
            };
            if header.body.purpose != ListPurpose::Ban || header.body.group.as_ref() != Some(group)
            {
                continue;
            }
            let may_write = |a: &PublicKey, at: u64| self.is_group_moderator(group, a, at);
            for (id, entry, status) in list.entries(&may_write, now) {
                if status == super::EntryStatus::Live
                    && self.appeal_outcome(&id).map(|(o, _)| o) != Some(AppealOutcome::Granted)
                {
                    out.entry(entry.subject).or_insert(id);
                }
            }
        }
        out
    }
}
