//! Verdicts and decisions with their reasons.

use serde::{Deserialize, Serialize};
use vouch_reputation::{Decision, Reason, TrustStep, Verdict};

use super::*;

/// A verdict as JSON: `"show" | "warn" | "collapse" | "hide"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerdictJson {
    /// Show.
    Show,
    /// Warn.
    Warn,
    /// Collapse.
    Collapse,
    /// Hide.
    Hide,
}

impl From<Verdict> for VerdictJson {
    fn from(v: Verdict) -> Self {
        match v {
            Verdict::Show => VerdictJson::Show,
            Verdict::Warn => VerdictJson::Warn,
            Verdict::Collapse => VerdictJson::Collapse,
            Verdict::Hide => VerdictJson::Hide,
        }
    }
}

impl From<VerdictJson> for Verdict {
    fn from(v: VerdictJson) -> Self {
        match v {
            VerdictJson::Show => Verdict::Show,
            VerdictJson::Warn => Verdict::Warn,
            VerdictJson::Collapse => Verdict::Collapse,
            VerdictJson::Hide => Verdict::Hide,
        }
    }
}

/// One hop of a trust path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TrustStepJson {
    /// Who vouches.
    pub from: String,
    /// For whom.
    pub to: String,
    /// The attested level, -100..=100.
    pub level: i64,
    /// The attestation's CID.
    pub attest: String,
}

impl From<&TrustStep> for TrustStepJson {
    fn from(s: &TrustStep) -> Self {
        TrustStepJson {
            from: did(&s.from),
            to: did(&s.to),
            level: s.level,
            attest: s.attest.to_string(),
        }
    }
}

/// One reason of a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ReasonJson {
    /// The stable code (`specs/decisions.md`).
    pub code: String,
    /// What this reason asks for.
    pub effect: VerdictJson,
    /// The reason as one plain sentence.
    pub sentence: String,
    /// The author (`did:key`) or post (CID) it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The objects behind it.
    pub objects: Vec<String>,
    /// The list (`<curator>/<name>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<String>,
    /// The list's curator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curator: Option<String>,
    /// The group (`<owner>/<name>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Who acted (moderator, labeler, curator followed through).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// A label value or a required credential issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The curator's, moderator's or labeler's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A weight (list weight, vote sum, trust).
    pub weight: f32,
    /// A count (lists agreeing, votes, ...).
    pub count: u64,
    /// When the entry, ban or label expires (ms since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<u64>,
    /// The viewer's trust path to the author, first hop first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trust_path: Vec<TrustStepJson>,
}

impl From<&Reason> for ReasonJson {
    fn from(r: &Reason) -> Self {
        ReasonJson {
            code: r.code.as_str().to_owned(),
            effect: r.effect.into(),
            sentence: r.sentence(),
            subject: r.subject.as_ref().map(subject_str),
            objects: r.objects.iter().map(ToString::to_string).collect(),
            list: r.list.as_deref().map(list_str),
            curator: r.list.as_deref().map(|l| did(&l.owner)),
            group: r.group.as_deref().map(group_str),
            actor: r.actor.as_ref().map(did),
            value: r.value.as_deref().map(str::to_owned),
            note: r.note.as_deref().map(str::to_owned),
            weight: finite(r.weight),
            count: r.count,
            expires: r.expires,
            trust_path: r.trust_path.iter().map(TrustStepJson::from).collect(),
        }
    }
}

pub(crate) fn finite(x: f32) -> f32 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

pub(crate) fn finite64(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// A decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DecisionJson {
    /// Show, warn, collapse or hide.
    pub verdict: VerdictJson,
    /// Trust in the author plus the trust-weighted vote sum.
    pub score: f32,
    /// The reasons, in rule order.
    pub reasons: Vec<ReasonJson>,
}

impl From<&Decision> for DecisionJson {
    fn from(d: &Decision) -> Self {
        DecisionJson {
            verdict: d.verdict.into(),
            score: finite(d.score),
            reasons: d.reasons.iter().map(ReasonJson::from).collect(),
        }
    }
}
