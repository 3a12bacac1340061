//! Identity: the local credentials, polls and their tallies, a group's rules in force.

use serde::{Deserialize, Serialize};
use vouch_reputation::{GroupRules, PollRecord, PollResult};

use super::*;

/// `POST /v1/credentials`: a credential the holder hands its node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CredentialAddJson {
    /// The credential: its JSON text as issued, or the JSON object itself.
    pub credential: serde_json::Value,
    /// The holder published it as a `credential` object (which the node must hold).
    #[serde(default)]
    pub public: bool,
}

impl CredentialAddJson {
    /// The credential's text: a string as given, an object as compact JSON.
    pub(crate) fn text(&self) -> Option<String> {
        match &self.credential {
            serde_json::Value::String(s) => Some(s.clone()),
            v @ serde_json::Value::Object(_) => serde_json::to_string(v).ok(),
            _ => None,
        }
    }
}

/// A local credential and how it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CredentialJson {
    /// Hex of the sha2-256 of its text: its name in `DELETE /v1/credentials/{digest}`.
    pub digest: String,
    /// The credential's `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The issuer's did:key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The identity DID it was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Its types.
    pub types: Vec<String>,
    /// `valid`, `revoked`, `expired`, `not-yet-valid`, or why it does not verify (a code).
    pub status: String,
    /// The holder published it (other nodes can show it too).
    pub public: bool,
    /// Posting keys linked to its subject: while it is valid, decisions say `verified by
    /// <issuer>` for them (to viewers who accept the issuer).
    pub linked_keys: Vec<String>,
    /// When it was handed in (ms).
    pub added_ms: u64,
}

impl From<crate::node::identity::CredentialStatus> for CredentialJson {
    fn from(c: crate::node::identity::CredentialStatus) -> Self {
        CredentialJson {
            digest: c.digest,
            id: c.id,
            issuer: c.issuer,
            subject: c.subject,
            types: c.types,
            status: c.status.to_owned(),
            public: c.public,
            linked_keys: c.linked_keys.iter().map(did).collect(),
            added_ms: c.added_ms,
        }
    }
}

/// `GET /v1/credentials`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CredentialsJson {
    /// The local credentials, oldest first.
    pub credentials: Vec<CredentialJson>,
}

/// A change of a group's rules put to a poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AmendmentJson {
    /// New minimum trust (percent; 0 removes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_trust: Option<u64>,
    /// New vote budget per voter per day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote_budget: Option<u64>,
}

/// One person who cast more than one ballot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DoubleVoteJson {
    /// Their pseudonym in the poll's scope (hex).
    pub pseudonym: String,
    /// All their ballots.
    pub ballots: Vec<String>,
    /// True when the ballots agree and counted once; false when they disagree and counted
    /// for nothing.
    pub counted: bool,
}

/// A ballot that did not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RejectedBallotJson {
    /// The ballot.
    pub ballot: String,
    /// Why (`poll-duplicate-pseudonym`, `personhood-bad-proof`, … ; `personhood-pending`
    /// while its proof waits for verification).
    pub code: String,
}

/// A poll's tally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TallyJson {
    /// Voices per option: one per person.
    pub counts: Vec<u64>,
    /// People counted.
    pub voters: u64,
    /// Ballots received.
    pub ballots: u64,
    /// Ballots whose proof is still being verified (not counted yet).
    pub pending: u64,
    /// People who voted more than once (never counted twice).
    pub double_votes: Vec<DoubleVoteJson>,
    /// Ballots that did not count, with why.
    pub rejected: Vec<RejectedBallotJson>,
    /// The personhood issuer the ballots were checked against.
    pub issuer: String,
    /// The poll has closed.
    pub closed: bool,
    /// For an amendment in a village: whether it passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted: Option<bool>,
}

impl TallyJson {
    /// From the library's result and the count of pending proofs.
    pub(crate) fn new(r: &PollResult, pending: u64) -> Self {
        TallyJson {
            counts: r.counts.clone(),
            voters: r.voters,
            ballots: r.ballots,
            pending,
            double_votes: r
                .double_votes
                .iter()
                .map(|d| DoubleVoteJson {
                    pseudonym: hex::encode(d.pseudonym),
                    ballots: d.ballots.iter().map(ToString::to_string).collect(),
                    counted: d.counted,
                })
                .collect(),
            rejected: r
                .rejected
                .iter()
                .map(|(id, e)| RejectedBallotJson {
                    ballot: id.to_string(),
                    code: e.code().to_owned(),
                })
                .collect(),
            issuer: r.issuer.clone(),
            closed: r.closed,
            adopted: r.adopted,
        }
    }
}

/// Why a poll cannot be tallied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TallyErrorJson {
    /// The stable code (`poll-bad-header`, `poll-not-personhood-group`, …).
    pub code: String,
    /// For people.
    pub message: String,
}

/// A poll and its tally on this node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PollJson {
    /// The poll's CID.
    pub poll: String,
    /// `<owner did:key>/<name>`.
    pub group: String,
    /// The group header it runs under.
    pub header: String,
    /// Who called it.
    pub author: String,
    /// When (ms).
    pub at: u64,
    /// The question.
    pub text: String,
    /// How many options.
    pub options: u64,
    /// When it closes (ms).
    pub closes: u64,
    /// The rule change it proposes, for an amendment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amend: Option<AmendmentJson>,
    /// The personhood scope of its ballots (`poll/<cid>`, epoch 0).
    pub scope: String,
    /// The tally, when the poll can be tallied here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tally: Option<TallyJson>,
    /// Why it cannot be tallied, otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<TallyErrorJson>,
}

impl PollJson {
    /// The poll `id` as recorded, with its tally or why there is none.
    pub(crate) fn new(
        id: &vouch_reputation::ObjectId,
        p: &PollRecord,
        tally: Result<(PollResult, u64), vouch_reputation::PollError>,
    ) -> Self {
        let (tally, error) = match tally {
            Ok((r, pending)) => (Some(TallyJson::new(&r, pending)), None),
            Err(e) => (
                None,
                Some(TallyErrorJson {
                    code: e.code().to_owned(),
                    message: e.to_string(),
                }),
            ),
        };
        PollJson {
            poll: id.to_string(),
            group: group_str(&p.body.group),
            header: p.body.header.to_string(),
            author: did(&p.author),
            at: p.at,
            text: p.body.text.clone(),
            options: p.body.options,
            closes: p.body.closes,
            amend: p.body.amend.as_ref().map(|a| AmendmentJson {
                min_trust: a.min_trust,
                vote_budget: a.vote_budget,
            }),
            scope: vouch_reputation::PollBody::scope_label(id),
            tally,
            error,
        }
    }
}

/// `GET /v1/groups/{owner}/{name}/polls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PollsJson {
    /// The group.
    pub group: String,
    /// Its polls, latest closing first.
    pub polls: Vec<PollJson>,
}

/// A rule changed by a village poll that passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RuleAmendmentJson {
    /// `min_trust` or `vote_budget`.
    pub rule: String,
    /// Its value now.
    pub value: u64,
    /// The poll that changed it.
    pub poll: String,
    /// When the poll closed.
    pub closes: u64,
    /// People who voted.
    pub voters: u64,
    /// Of them, for "adopt".
    pub adopt: u64,
}

/// `GET /v1/groups/{owner}/{name}/rules`: the rules decisions use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GroupRulesJson {
    /// The group.
    pub group: String,
    /// The owner's header in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Minimum trust (percent) a viewer needs in a poster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_trust: Option<u64>,
    /// Votes per voter per day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote_budget: Option<u64>,
    /// The issuer whose credential posters need (and, with personhood votes, whose
    /// personhood credentials voters need).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_issuer: Option<String>,
    /// Votes count one per person.
    pub personhood_votes: bool,
    /// Village rules: voices an amendment needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amend_quorum: Option<u64>,
    /// Village rules: percent of voices an amendment must exceed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amend_majority: Option<u64>,
    /// The owner's headers that opted in to village rules.
    pub village: Vec<String>,
    /// The personhood issuers those headers name (more than one is shown in decisions).
    pub village_issuers: Vec<String>,
    /// The rules the village changed, with the poll behind each.
    pub amendments: Vec<RuleAmendmentJson>,
    /// Ballots of the village's amendment polls still being verified.
    pub pending: u64,
}

impl GroupRulesJson {
    /// From the library's rules.
    pub(crate) fn new(group: &vouch_reputation::GroupRef, r: &GroupRules, pending: u64) -> Self {
        GroupRulesJson {
            group: group_str(group),
            header: r.header.map(|h| h.to_string()),
            min_trust: r.policy.min_trust,
            vote_budget: r.policy.vote_budget,
            credential_issuer: r.policy.credential_issuer.clone(),
            personhood_votes: r.policy.personhood_votes,
            amend_quorum: r.policy.amend_quorum,
            amend_majority: r.policy.amend_majority,
            village: r.village.iter().map(ToString::to_string).collect(),
            village_issuers: r.village_issuers.clone(),
            amendments: r
                .amendments
                .iter()
                .map(|a| RuleAmendmentJson {
                    rule: a.rule.to_owned(),
                    value: a.value,
                    poll: a.poll.to_string(),
                    closes: a.closes,
                    voters: a.voters,
                    adopt: a.adopt,
                })
                .collect(),
            pending,
        }
    }
}
