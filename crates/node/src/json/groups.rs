//! Groups and lists: headers, bans, reports, appeals and list entries.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use vouch_reputation::{AppealQueueItem, AppealState, ReportQueueItem};

use super::*;

/// Reports about one subject in a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ReportJson {
    /// What is reported.
    pub subject: String,
    /// The reports' CIDs, oldest first.
    pub reports: Vec<String>,
    /// Distinct reporters.
    pub reporters: Vec<String>,
    /// Reports per category.
    pub categories: BTreeMap<String, u32>,
    /// The reporters' texts.
    pub texts: Vec<String>,
    /// First report's time (ms).
    pub first_at: u64,
    /// Last report's time (ms).
    pub last_at: u64,
    /// Whether the subject is banned in the group now.
    pub banned: bool,
    /// True while some report is not dismissed (the item needs a moderator).
    #[serde(default = "yes")]
    pub open: bool,
    /// The reports a moderator dismissed (CIDs, a subset of `reports`).
    #[serde(default)]
    pub dismissed: Vec<String>,
    /// The dismissals that closed them, oldest first.
    #[serde(default)]
    pub dismissals: Vec<DismissalJson>,
}

fn yes() -> bool {
    true
}

/// A moderator's dismissal of reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DismissalJson {
    /// The `dismiss` object's CID.
    pub id: String,
    /// The moderator who dismissed.
    pub moderator: String,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl From<&ReportQueueItem> for ReportJson {
    fn from(r: &ReportQueueItem) -> Self {
        ReportJson {
            subject: subject_str(&r.subject),
            reports: r.reports.iter().map(ToString::to_string).collect(),
            reporters: r.reporters.iter().map(did).collect(),
            categories: r.categories.clone(),
            texts: r.texts.clone(),
            first_at: r.first_at,
            last_at: r.last_at,
            banned: r.banned,
            open: r.is_open(),
            dismissed: r.dismissed.iter().map(ToString::to_string).collect(),
            dismissals: r
                .dismissals
                .iter()
                .map(|(id, moderator, text)| DismissalJson {
                    id: id.to_string(),
                    moderator: did(moderator),
                    text: text.clone(),
                })
                .collect(),
        }
    }
}

/// An appeal against a group's ban.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AppealJson {
    /// The appeal's CID.
    pub appeal: String,
    /// Who appeals.
    pub appellant: String,
    /// When (ms).
    pub at: u64,
    /// The contested ban's CID.
    pub ban: String,
    /// Who is banned.
    pub subject: String,
    /// The appellant's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `open`, `upheld` or `granted`.
    pub state: String,
    /// The answer in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}

impl From<&AppealQueueItem> for AppealJson {
    fn from(a: &AppealQueueItem) -> Self {
        AppealJson {
            appeal: a.appeal.to_string(),
            appellant: did(&a.appellant),
            at: a.at,
            ban: a.ban.to_string(),
            subject: subject_str(&a.subject),
            text: a.text.clone(),
            state: match a.state {
                AppealState::Open => "open",
                AppealState::Upheld => "upheld",
                AppealState::Granted => "granted",
            }
            .to_owned(),
            answer: a.answer.map(|id| id.to_string()),
        }
    }
}

/// A group's header in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct GroupHeaderJson {
    /// The header's CID.
    pub id: String,
    /// Its sequence number.
    pub seq: u64,
    /// Rules, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<String>,
    /// Minimum trust (percent) for posts to show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_trust: Option<u64>,
    /// Votes per voter per epoch in the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote_budget: Option<u64>,
    /// The DID whose credential posters must hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_issuer: Option<String>,
    /// Only personhood-backed votes count.
    pub personhood_votes: bool,
}

/// Header versions that share a `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EquivocationJson {
    /// The contested `seq`.
    pub seq: u64,
    /// The versions' CIDs (the first is used).
    pub versions: Vec<String>,
}

/// `GET /v1/groups/{owner}/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct GroupJson {
    /// `<owner>/<name>`.
    pub group: String,
    /// The header in force, if any arrived.
    pub header: Option<GroupHeaderJson>,
    /// The owner and the current moderators.
    pub moderators: Vec<String>,
    /// Conflicting header versions.
    pub equivocations: Vec<EquivocationJson>,
    /// The group's ban lists.
    pub ban_lists: Vec<String>,
    /// Subjects banned now.
    pub banned: u64,
    /// Subjects in the report queue.
    pub reported: u64,
    /// Of those, subjects with a report no moderator dismissed.
    #[serde(default)]
    pub open_reports: u64,
    /// Appeals no moderator answered yet.
    pub open_appeals: u64,
}

/// One ban in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BanJson {
    /// Who or what is banned.
    pub subject: String,
    /// The ban (list entry) in force.
    pub ban: String,
}

/// `GET /v1/groups/{owner}/{name}/bans`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BansJson {
    /// The group.
    pub group: String,
    /// One page of the bans in force.
    pub bans: Vec<BanJson>,
    /// How many there are in all.
    pub total: u64,
    /// The first one on this page (`?offset=`).
    pub offset: u64,
    /// At most this many on a page (`?limit=`).
    pub limit: u64,
}

/// `GET /v1/groups/{owner}/{name}/reports`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ReportsJson {
    /// The group.
    pub group: String,
    /// One page of the reported subjects, most reported first.
    pub reports: Vec<ReportJson>,
    /// How many there are in all.
    pub total: u64,
    /// The first one on this page (`?offset=`).
    pub offset: u64,
    /// At most this many on a page (`?limit=`).
    pub limit: u64,
}

/// `GET /v1/groups/{owner}/{name}/appeals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AppealsJson {
    /// The group.
    pub group: String,
    /// One page of the appeals, open ones first.
    pub appeals: Vec<AppealJson>,
    /// How many there are in all.
    pub total: u64,
    /// The first one on this page (`?offset=`).
    pub offset: u64,
    /// At most this many on a page (`?limit=`).
    pub limit: u64,
}

/// A list's header in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ListHeaderJson {
    /// The header's CID.
    pub id: String,
    /// Its sequence number.
    pub seq: u64,
    /// `block`, `allow`, `ban` or `label`.
    pub purpose: String,
    /// For subscribers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The group of a ban list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// When it was signed (ms).
    pub at: u64,
}

/// One list entry with its status now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ListEntryJson {
    /// The `list-add`'s CID.
    pub id: String,
    /// Who or what is listed.
    pub subject: String,
    /// Who added it.
    pub author: String,
    /// When (ms).
    pub at: u64,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Category or label value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Expiry (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<u64>,
    /// `live`, `expired`, `retracted` or `unauthorized`.
    pub status: String,
    /// The `list-remove`s that retracted it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retracted_by: Vec<String>,
}

/// `GET /v1/lists/{owner}/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ListJson {
    /// `<curator>/<name>`.
    pub list: String,
    /// The curator.
    pub curator: String,
    /// The header in force.
    pub header: Option<ListHeaderJson>,
    /// Conflicting header versions.
    pub equivocations: Vec<EquivocationJson>,
    /// Entries per status.
    pub counts: BTreeMap<String, u64>,
    /// Entries in all.
    pub total: u64,
    /// The page: entries from `offset`, at most `limit`, in CID order.
    pub offset: u64,
    /// Page size.
    pub limit: u64,
    /// The entries of this page.
    pub entries: Vec<ListEntryJson>,
}
