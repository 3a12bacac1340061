//! The JSON forms of the core's values, as the HTTP API, the viewers table and the CLI write
//! them: keys as `did:key`, objects as CIDs, lists and groups as `<owner did:key>/<name>`,
//! subjects as either. The library crates know nothing of JSON; every conversion is here.
//!
//! Parsing goes through [`JsonError`], whose stable codes the API returns.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vouch_identity::PublicKey;
use vouch_reputation::{
    AppealQueueItem, AppealState, CuratorSubscription, Decision, Evidence, EvidenceKind, Exemption,
    GroupRef, ListChange, ListRef, ListSubscription, ObjectId, Override, Policy, Quorum, Reason,
    ReportQueueItem, Subject, SubjectChange, TrustPath, TrustStep, Verdict, ViewDiff, VotePolicy,
};

/// A value in a request that is not what it should be. Every variant has a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// Not a `did:key` of an ed25519 key.
    #[error("{field}: not an ed25519 did:key: {value:?}")]
    BadDid {
        /// Where.
        field: &'static str,
        /// What was given.
        value: String,
    },
    /// Not a CIDv1 dag-cbor sha2-256 object id.
    #[error("{field}: not a Vouch object CID: {value:?}")]
    BadCid {
        /// Where.
        field: &'static str,
        /// What was given.
        value: String,
    },
    /// Not `<owner did:key>/<name>` with a name of 1 to 64 bytes.
    #[error("{field}: not <owner did:key>/<name>: {value:?}")]
    BadRef {
        /// Where.
        field: &'static str,
        /// What was given.
        value: String,
    },
    /// A number outside its range, or a policy that contradicts itself.
    #[error("invalid policy: {0}")]
    BadPolicy(String),
}

impl JsonError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            JsonError::BadDid { .. } => "bad-did",
            JsonError::BadCid { .. } => "bad-cid",
            JsonError::BadRef { .. } => "bad-ref",
            JsonError::BadPolicy(_) => "invalid-policy",
        }
    }
}

/// Longest list or group name, in bytes (as `specs/objects.md` bounds it).
pub const MAX_NAME_BYTES: usize = 64;

/// Reads a `did:key`.
pub fn parse_did(field: &'static str, s: &str) -> Result<PublicKey, JsonError> {
    PublicKey::from_did_key(s).map_err(|_| JsonError::BadDid {
        field,
        value: clip(s),
    })
}

/// Reads an object CID.
pub fn parse_cid(field: &'static str, s: &str) -> Result<ObjectId, JsonError> {
    s.parse().map_err(|_| JsonError::BadCid {
        field,
        value: clip(s),
    })
}

/// Reads `<owner did:key>/<name>` into its owner and name.
pub fn parse_ref(field: &'static str, s: &str) -> Result<(PublicKey, String), JsonError> {
    let bad = || JsonError::BadRef {
        field,
        value: clip(s),
    };
    let (owner, name) = s.split_once('/').ok_or_else(bad)?;
    let owner = PublicKey::from_did_key(owner).map_err(|_| bad())?;
    if name.is_empty() || name.len() > MAX_NAME_BYTES {
        return Err(bad());
    }
    Ok((owner, name.to_owned()))
}

/// Reads a group reference.
pub fn parse_group(field: &'static str, s: &str) -> Result<GroupRef, JsonError> {
    parse_ref(field, s).map(|(owner, name)| GroupRef { owner, name })
}

/// Reads a list reference.
pub fn parse_list(field: &'static str, s: &str) -> Result<ListRef, JsonError> {
    parse_ref(field, s).map(|(owner, name)| ListRef { owner, name })
}

/// Reads a subject: a `did:key` is an author, anything else must be an object CID.
pub fn parse_subject(field: &'static str, s: &str) -> Result<Subject, JsonError> {
    if s.starts_with("did:") {
        parse_did(field, s).map(Subject::Key)
    } else {
        parse_cid(field, s).map(Subject::Object)
    }
}

/// `did:key:…`.
pub fn did(k: &PublicKey) -> String {
    k.to_did_key()
}

/// `<owner did:key>/<name>` of a group.
pub fn group_str(g: &GroupRef) -> String {
    format!("{}/{}", g.owner.to_did_key(), g.name)
}

/// `<owner did:key>/<name>` of a list.
pub fn list_str(l: &ListRef) -> String {
    format!("{}/{}", l.owner.to_did_key(), l.name)
}

/// A subject as a string (a `did:key` or a CID).
pub fn subject_str(s: &Subject) -> String {
    match s {
        Subject::Key(k) => k.to_did_key(),
        Subject::Object(o) => o.to_string(),
    }
}

fn clip(s: &str) -> String {
    s.chars().take(120).collect()
}

/// Reads a verdict name.
pub fn parse_verdict(s: &str) -> Option<Verdict> {
    Verdict::ALL.into_iter().find(|v| v.as_str() == s)
}

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

// ---- policy ---------------------------------------------------------------------------------

/// A subscription to one list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListSubscriptionJson {
    /// `<curator did:key>/<name>`.
    pub list: String,
    /// In (0, 1].
    #[serde(default = "one")]
    pub weight: f32,
}

/// A subscription to a curator's lists, followed transitively.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CuratorSubscriptionJson {
    /// The curator's `did:key`.
    pub curator: String,
    /// In (0, 1].
    #[serde(default = "one")]
    pub weight: f32,
    /// Hops to follow, 1..=8.
    #[serde(default = "one_u8")]
    pub depth: u8,
    /// Weight multiplier per hop, in [0, 1].
    #[serde(default = "half")]
    pub decay: f32,
}

/// "Hide when k of my lists agree, with this much weight."
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuorumJson {
    /// Distinct lists that must agree, at least 1.
    pub min_lists: u32,
    /// Total weight they must reach, >= 0.
    pub min_weight: f32,
}

/// The viewer's own verdict on an author or a post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideJson {
    /// A `did:key` (author) or a CID (post).
    pub subject: String,
    /// The verdict.
    pub verdict: VerdictJson,
}

/// One list entry the viewer ignores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExemptionJson {
    /// `<curator did:key>/<name>`.
    pub list: String,
    /// A `did:key` or a CID.
    pub subject: String,
}

/// How votes count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VotePolicyJson {
    /// Votes per voter per epoch outside groups.
    pub budget_per_epoch: u32,
    /// Epochs (UTC days) back that count, at least 1.
    pub window_epochs: u32,
    /// Collapse at or below minus this (>= 0).
    pub collapse_at: f32,
    /// Hide at or below minus this (>= 0).
    pub hide_at: f32,
}

/// A viewer's policy as JSON: the library's [`Policy`] plus the groups whose new objects the
/// viewer's event stream carries. Every field has the default of [`Policy::new`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyJson {
    /// Lists subscribed one by one.
    pub lists: Vec<ListSubscriptionJson>,
    /// Curators whose lists are subscribed.
    pub curators: Vec<CuratorSubscriptionJson>,
    /// When block lists hide.
    pub quorum: QuorumJson,
    /// The verdict when block lists list an item but fewer than the quorum.
    pub below_quorum: VerdictJson,
    /// The viewer's own verdicts.
    pub overrides: Vec<OverrideJson>,
    /// List entries the viewer ignores.
    pub exemptions: Vec<ExemptionJson>,
    /// Never let lists hide or collapse someone the viewer attested.
    pub protect_trusted: bool,
    /// Labelers (`did:key`) whose labels count.
    pub labelers: Vec<String>,
    /// Label value -> verdict.
    pub label_verdicts: BTreeMap<String, VerdictJson>,
    /// The verdict of a label missing from `label_verdicts`.
    pub unmapped_label: VerdictJson,
    /// Votes.
    pub votes: VotePolicyJson,
    /// The verdict for authors the viewer has no trust in.
    pub unknown_author: VerdictJson,
    /// Apply groups' bans and rules to posts in groups.
    pub group_rules: bool,
    /// Groups (`<owner did:key>/<name>`) whose new objects the event stream carries.
    pub groups: Vec<String>,
}

fn one() -> f32 {
    1.0
}
fn one_u8() -> u8 {
    1
}
fn half() -> f32 {
    0.5
}

/// Most entries in any one array of a policy.
pub const MAX_POLICY_ITEMS: usize = 10_000;

impl Default for PolicyJson {
    fn default() -> Self {
        // The viewer key does not appear in the JSON form; any key gives the same defaults.
        let p = Policy::new(vouch_identity::SecretKey::from_seed(&[0; 32]).public_key());
        PolicyJson::from_policy(&p, &[])
    }
}

impl PolicyJson {
    /// The JSON form of a policy and the viewer's groups.
    pub fn from_policy(p: &Policy, groups: &[GroupRef]) -> Self {
        PolicyJson {
            lists: p
                .lists
                .iter()
                .map(|s| ListSubscriptionJson {
                    list: list_str(&s.list),
                    weight: s.weight,
                })
                .collect(),
            curators: p
                .curators
                .iter()
                .map(|c| CuratorSubscriptionJson {
                    curator: did(&c.curator),
                    weight: c.weight,
                    depth: c.depth,
                    decay: c.decay,
                })
                .collect(),
            quorum: QuorumJson {
                min_lists: p.quorum.min_lists,
                min_weight: p.quorum.min_weight,
            },
            below_quorum: p.below_quorum.into(),
            overrides: p
                .overrides
                .iter()
                .map(|o| OverrideJson {
                    subject: subject_str(&o.subject),
                    verdict: o.verdict.into(),
                })
                .collect(),
            exemptions: p
                .exemptions
                .iter()
                .map(|e| ExemptionJson {
                    list: list_str(&e.list),
                    subject: subject_str(&e.subject),
                })
                .collect(),
            protect_trusted: p.protect_trusted,
            labelers: p.labelers.iter().map(did).collect(),
            label_verdicts: p
                .label_verdicts
                .iter()
                .map(|(k, v)| (k.clone(), (*v).into()))
                .collect(),
            unmapped_label: p.unmapped_label.into(),
            votes: VotePolicyJson {
                budget_per_epoch: p.votes.budget_per_epoch,
                window_epochs: p.votes.window_epochs,
                collapse_at: p.votes.collapse_at,
                hide_at: p.votes.hide_at,
            },
            unknown_author: p.unknown_author.into(),
            group_rules: p.group_rules,
            groups: groups.iter().map(group_str).collect(),
        }
    }

    /// The library's policy for `viewer`, and the viewer's groups; checks every value.
    pub fn to_policy(&self, viewer: PublicKey) -> Result<(Policy, Vec<GroupRef>), JsonError> {
        let bad = |m: String| JsonError::BadPolicy(m);
        for (name, n) in [
            ("lists", self.lists.len()),
            ("curators", self.curators.len()),
            ("overrides", self.overrides.len()),
            ("exemptions", self.exemptions.len()),
            ("labelers", self.labelers.len()),
            ("label_verdicts", self.label_verdicts.len()),
            ("groups", self.groups.len()),
        ] {
            if n > MAX_POLICY_ITEMS {
                return Err(bad(format!("{name}: more than {MAX_POLICY_ITEMS} entries")));
            }
        }
        let unit = |name: &str, w: f32, zero_ok: bool| {
            let ok = w.is_finite() && w <= 1.0 && (w > 0.0 || (zero_ok && w == 0.0));
            if ok {
                Ok(w)
            } else {
                Err(bad(format!(
                    "{name} must be in {}, 1]: {w}",
                    if zero_ok { "[0" } else { "(0" }
                )))
            }
        };
        let non_negative = |name: &str, w: f32| {
            if w.is_finite() && w >= 0.0 {
                Ok(w)
            } else {
                Err(bad(format!("{name} must be a finite number >= 0: {w}")))
            }
        };
        let mut p = Policy::new(viewer);
        for s in &self.lists {
            p.lists.push(ListSubscription {
                list: parse_list("lists.list", &s.list)?,
                weight: unit("lists.weight", s.weight, false)?,
            });
        }
        for c in &self.curators {
            if !(1..=8).contains(&c.depth) {
                return Err(bad(format!("curators.depth must be 1..=8: {}", c.depth)));
            }
            p.curators.push(CuratorSubscription {
                curator: parse_did("curators.curator", &c.curator)?,
                weight: unit("curators.weight", c.weight, false)?,
                depth: c.depth,
                decay: unit("curators.decay", c.decay, true)?,
            });
        }
        if self.quorum.min_lists == 0 {
            return Err(bad("quorum.min_lists must be at least 1".into()));
        }
        p.quorum = Quorum {
            min_lists: self.quorum.min_lists,
            min_weight: non_negative("quorum.min_weight", self.quorum.min_weight)?,
        };
        p.below_quorum = self.below_quorum.into();
        for o in &self.overrides {
            p.overrides.push(Override {
                subject: parse_subject("overrides.subject", &o.subject)?,
                verdict: o.verdict.into(),
            });
        }
        for e in &self.exemptions {
            p.exemptions.push(Exemption {
                list: parse_list("exemptions.list", &e.list)?,
                subject: parse_subject("exemptions.subject", &e.subject)?,
            });
        }
        p.protect_trusted = self.protect_trusted;
        for l in &self.labelers {
            p.labelers.push(parse_did("labelers", l)?);
        }
        for (k, v) in &self.label_verdicts {
            if k.is_empty() || k.len() > MAX_NAME_BYTES {
                return Err(bad(format!("label value must be 1 to 64 bytes: {k:?}")));
            }
            p.label_verdicts.insert(k.clone(), (*v).into());
        }
        p.unmapped_label = self.unmapped_label.into();
        if self.votes.window_epochs == 0 {
            return Err(bad("votes.window_epochs must be at least 1".into()));
        }
        p.votes = VotePolicy {
            budget_per_epoch: self.votes.budget_per_epoch,
            window_epochs: self.votes.window_epochs,
            collapse_at: non_negative("votes.collapse_at", self.votes.collapse_at)?,
            hide_at: non_negative("votes.hide_at", self.votes.hide_at)?,
        };
        p.unknown_author = self.unknown_author.into();
        p.group_rules = self.group_rules;
        let mut groups = Vec::with_capacity(self.groups.len());
        for g in &self.groups {
            groups.push(parse_group("groups", g)?);
        }
        groups.sort();
        groups.dedup();
        Ok((p, groups))
    }
}

// ---- decisions ------------------------------------------------------------------------------

/// One hop of a trust path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustStepJson {
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
pub struct ReasonJson {
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

fn finite(x: f32) -> f32 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

fn finite64(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// A decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionJson {
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

// ---- trust ----------------------------------------------------------------------------------

/// A trust path with its strength.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrustPathJson {
    /// Share of the root's budget that travels along this path.
    pub strength: f64,
    /// The hops, from the viewer to the subject.
    pub hops: Vec<TrustStepJson>,
}

impl From<&TrustPath> for TrustPathJson {
    fn from(p: &TrustPath) -> Self {
        TrustPathJson {
            strength: finite64(p.strength),
            hops: p
                .hops
                .iter()
                .map(|h| TrustStepJson {
                    from: key_bytes_did(&h.from),
                    to: key_bytes_did(&h.to),
                    level: i64::from(h.level),
                    attest: ObjectId(h.object).to_string(),
                })
                .collect(),
        }
    }
}

/// A key given as bytes (from the trust graph) as a `did:key`, or its hex if the bytes are
/// not a valid key (the graph only holds keys that validated, so this does not happen).
pub fn key_bytes_did(k: &[u8; 32]) -> String {
    PublicKey::from_bytes(k).map_or_else(|_| hex::encode(k), |k| k.to_did_key())
}

/// One rating of the subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceJson {
    /// The rater.
    pub rater: String,
    /// `attestation` or `vote`.
    pub kind: String,
    /// The level (votes count as +-10).
    pub level: i64,
    /// The viewer's trust in the rater.
    pub rater_trust: f64,
    /// Its weight in the score.
    pub weight: f64,
    /// The record's CID.
    pub object: String,
}

impl From<&Evidence> for EvidenceJson {
    fn from(e: &Evidence) -> Self {
        EvidenceJson {
            rater: key_bytes_did(&e.rater),
            kind: match e.kind {
                EvidenceKind::Vote => "vote",
                _ => "attestation",
            }
            .to_owned(),
            level: i64::from(e.level),
            rater_trust: finite64(e.rater_trust),
            weight: finite64(e.weight),
            object: ObjectId(e.object).to_string(),
        }
    }
}

/// A viewer's trust in a subject, with the paths and evidence behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrustJson {
    /// The viewer.
    pub viewer: String,
    /// The subject.
    pub subject: String,
    /// True when the trust graph has seen the subject.
    pub known: bool,
    /// The trust score in [0, 1] that decisions use.
    pub score: f64,
    /// Reach in [0, 1].
    pub reach: f64,
    /// The subject's share of the viewer's trust budget.
    pub trust: f64,
    /// Positive evidence.
    pub positive: f64,
    /// Negative evidence.
    pub negative: f64,
    /// True when the viewer attested the subject directly.
    pub direct: bool,
    /// The strongest paths, strongest first.
    pub paths: Vec<TrustPathJson>,
    /// The heaviest positive evidence.
    pub positive_evidence: Vec<EvidenceJson>,
    /// The heaviest negative evidence.
    pub negative_evidence: Vec<EvidenceJson>,
}

// ---- groups and lists ---------------------------------------------------------------------

/// Reports about one subject in a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportJson {
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
        }
    }
}

/// An appeal against a group's ban.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealJson {
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

// ---- diffs ----------------------------------------------------------------------------------

/// One author whose verdict changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectChangeJson {
    /// The author.
    pub author: String,
    /// Verdict before.
    pub before: VerdictJson,
    /// Verdict after.
    pub after: VerdictJson,
    /// Whether the viewer trusts the author.
    pub trusted: bool,
    /// The lists behind the change.
    pub lists: Vec<String>,
}

impl From<&SubjectChange> for SubjectChangeJson {
    fn from(c: &SubjectChange) -> Self {
        SubjectChangeJson {
            author: did(&c.author),
            before: c.before.into(),
            after: c.after.into(),
            trusted: c.trusted,
            lists: c.lists.iter().map(list_str).collect(),
        }
    }
}

/// How one list's effect changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListChangeJson {
    /// The list.
    pub list: String,
    /// Its curator.
    pub curator: String,
    /// Authors it now hides.
    pub now_hides: Vec<String>,
    /// How many of them the viewer trusts.
    pub now_hides_trusted: u32,
    /// Authors it no longer hides.
    pub no_longer_hides: Vec<String>,
    /// The change as a sentence.
    pub sentence: String,
}

impl From<&ListChange> for ListChangeJson {
    fn from(c: &ListChange) -> Self {
        ListChangeJson {
            list: list_str(&c.list),
            curator: did(&c.list.owner),
            now_hides: c.now_hides.iter().map(did).collect(),
            now_hides_trusted: c.now_hides_trusted,
            no_longer_hides: c.no_longer_hides.iter().map(did).collect(),
            sentence: c.to_string(),
        }
    }
}

/// What changed for a viewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffJson {
    /// One sentence per list that changed.
    pub sentences: Vec<String>,
    /// Every author whose verdict changed.
    pub changes: Vec<SubjectChangeJson>,
    /// Per list.
    pub lists: Vec<ListChangeJson>,
}

impl From<&ViewDiff> for DiffJson {
    fn from(d: &ViewDiff) -> Self {
        DiffJson {
            sentences: d.sentences(),
            changes: d.changes.iter().map(SubjectChangeJson::from).collect(),
            lists: d.lists.iter().map(ListChangeJson::from).collect(),
        }
    }
}

// ---- API requests and answers ---------------------------------------------------------------

/// Most items in one decide call.
pub const MAX_DECIDE_ITEMS: usize = 1000;

/// One item to decide: exactly one of `post` (a stored post's CID), `object` (a signed post,
/// base64 of its DAG-CBOR bytes) or `author` (a `did:key`, optionally in `group`). Read from
/// a JSON object only (see [`DecideRequest`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ItemJson {
    /// A post this node stores, by CID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post: Option<String>,
    /// A signed post given inline (standard base64 of its bytes); validated, not stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// An author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The group the author question is about (`<owner did:key>/<name>`); only with `author`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// `POST /v1/viewers/{viewer}/decide`. It and [`ItemJson`] deserialize by hand from JSON
/// objects only (derived impls would also read arrays, which the API does not document), so
/// the hot path parses the body in one pass.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DecideRequest {
    /// The items, at most [`MAX_DECIDE_ITEMS`].
    pub items: Vec<ItemJson>,
    /// Every reason, including those that had no effect, with trust paths.
    #[serde(default)]
    pub explain: bool,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum ItemField {
    Post,
    Object,
    Author,
    Group,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum DecideField {
    Items,
    Explain,
}

impl<'de> Deserialize<'de> for ItemJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ItemJson;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an item object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<ItemJson, A::Error> {
                let mut out = ItemJson::default();
                while let Some(field) = m.next_key::<ItemField>()? {
                    let slot = match field {
                        ItemField::Post => &mut out.post,
                        ItemField::Object => &mut out.object,
                        ItemField::Author => &mut out.author,
                        ItemField::Group => &mut out.group,
                    };
                    *slot = m.next_value()?;
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for DecideRequest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = DecideRequest;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a decide request object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<DecideRequest, A::Error> {
                let mut items = None;
                let mut explain = false;
                while let Some(field) = m.next_key::<DecideField>()? {
                    match field {
                        DecideField::Items => items = Some(m.next_value()?),
                        DecideField::Explain => explain = m.next_value()?,
                    }
                }
                let items = items.ok_or_else(|| serde::de::Error::missing_field("items"))?;
                Ok(DecideRequest { items, explain })
            }
        }
        d.deserialize_map(V)
    }
}

/// An error answer's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorJson {
    /// The stable code.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

/// One item's answer: a decision, or why the item could not be decided. Read back by
/// looking for `error` (serde's `untagged` cannot read floats when a dependency turns on
/// serde_json's `arbitrary_precision`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ItemResultJson {
    /// The decision.
    Decision(DecisionJson),
    /// The item was not understood (unknown post, invalid object, bad key).
    Error {
        /// The error.
        error: ErrorJson,
    },
}

impl<'de> Deserialize<'de> for ItemResultJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut v = serde_json::Value::deserialize(d)?;
        match v.get_mut("error").map(serde_json::Value::take) {
            Some(e) => serde_json::from_value(e)
                .map(|error| ItemResultJson::Error { error })
                .map_err(D::Error::custom),
            None => serde_json::from_value(v)
                .map(ItemResultJson::Decision)
                .map_err(D::Error::custom),
        }
    }
}

/// The answer to a decide call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecideResponse {
    /// The viewer.
    pub viewer: String,
    /// The store seq the viewer's view reflects.
    pub seq: i64,
    /// When the view was built (ms since the epoch).
    pub built_at: u64,
    /// One answer per item, in order.
    pub decisions: Vec<ItemResultJson>,
}

/// A resolved list subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedListJson {
    /// The list.
    pub list: String,
    /// Its weight for this viewer (after curator decay).
    pub weight: f32,
    /// `block`, `allow` or `label`.
    pub purpose: String,
}

/// What a viewer's compiled view holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewStatsJson {
    /// The store seq it reflects.
    pub seq: i64,
    /// When it was built (ms).
    pub built_at: u64,
    /// Authors and posts it knows facts about.
    pub subjects: u64,
    /// Authors with a trust signal.
    pub trusted_authors: u64,
}

/// A local viewer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewerJson {
    /// The viewer's `did:key`.
    pub viewer: String,
    /// The policy.
    pub policy: PolicyJson,
    /// Created (ms).
    pub created_ms: u64,
    /// Policy last changed (ms).
    pub updated_ms: u64,
    /// The compiled view.
    pub view: ViewStatsJson,
}

/// `POST /v1/viewers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateViewerJson {
    /// The viewer's `did:key`.
    pub viewer: String,
    /// The policy (defaults when absent).
    #[serde(default)]
    pub policy: PolicyJson,
}

/// `GET /v1/viewers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewersJson {
    /// Every local viewer.
    pub viewers: Vec<ViewerJson>,
}

/// `GET /v1/viewers/{viewer}/subscriptions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionsJson {
    /// The viewer.
    pub viewer: String,
    /// Lists subscribed one by one.
    pub lists: Vec<ListSubscriptionJson>,
    /// Curators subscribed.
    pub curators: Vec<CuratorSubscriptionJson>,
    /// Groups followed by the event stream.
    pub groups: Vec<String>,
    /// Every block, allow and label list the subscriptions reach, with its weight.
    pub resolved: Vec<ResolvedListJson>,
}

/// A group's header in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupHeaderJson {
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
pub struct EquivocationJson {
    /// The contested `seq`.
    pub seq: u64,
    /// The versions' CIDs (the first is used).
    pub versions: Vec<String>,
}

/// `GET /v1/groups/{owner}/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupJson {
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
    /// Appeals no moderator answered yet.
    pub open_appeals: u64,
}

/// One ban in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BanJson {
    /// Who or what is banned.
    pub subject: String,
    /// The ban (list entry) in force.
    pub ban: String,
}

/// `GET /v1/groups/{owner}/{name}/bans`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BansJson {
    /// The group.
    pub group: String,
    /// The bans in force.
    pub bans: Vec<BanJson>,
}

/// `GET /v1/groups/{owner}/{name}/reports`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportsJson {
    /// The group.
    pub group: String,
    /// One item per reported subject, most reported first.
    pub reports: Vec<ReportJson>,
}

/// `GET /v1/groups/{owner}/{name}/appeals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealsJson {
    /// The group.
    pub group: String,
    /// Open appeals first.
    pub appeals: Vec<AppealJson>,
}

/// A list's header in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListHeaderJson {
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
pub struct ListEntryJson {
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
pub struct ListJson {
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

/// `POST /v1/objects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmittedJson {
    /// The object's CID.
    pub id: String,
    /// Whether it was new to this node.
    pub new: bool,
}

/// SSE `object`: a new object about one of the viewer's groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectEventJson {
    /// The object's CID.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// Its author.
    pub author: String,
    /// When it was signed (ms).
    pub at: u64,
    /// The group.
    pub group: String,
}

/// SSE `list-change`: what changed for the viewer when lists, bans or its policy changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListChangeEventJson {
    /// The viewer.
    pub viewer: String,
    /// The store seq the new view reflects.
    pub seq: i64,
    /// One sentence per list that changed.
    pub sentences: Vec<String>,
    /// Every author whose verdict changed.
    pub changes: Vec<SubjectChangeJson>,
    /// Per list.
    pub lists: Vec<ListChangeJson>,
}

/// SSE `ready`: the stream is subscribed; events from here on are delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyEventJson {
    /// The viewer.
    pub viewer: String,
    /// The store seq the viewer's view reflects now.
    pub seq: i64,
}

/// SSE `lagged`: the stream fell behind and missed events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaggedEventJson {
    /// How many events were missed.
    pub missed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use vouch_identity::SecretKey;

    fn k(n: u8) -> PublicKey {
        SecretKey::from_seed(&[n; 32]).public_key()
    }

    #[test]
    fn policy_round_trips_through_json_and_bad_values_get_codes() {
        let viewer = k(1);
        let list = ListRef {
            owner: k(2),
            name: "spam".into(),
        };
        let mut p = Policy::new(viewer).subscribe(list.clone(), 0.5);
        p.overrides.push(Override {
            subject: Subject::Key(k(3)),
            verdict: Verdict::Hide,
        });
        p.label_verdicts.insert("nsfw".into(), Verdict::Collapse);
        let g = GroupRef {
            owner: k(4),
            name: "rust".into(),
        };
        let json = PolicyJson::from_policy(&p, std::slice::from_ref(&g));
        let text = serde_json::to_string(&json).unwrap();
        let back: PolicyJson = serde_json::from_str(&text).unwrap();
        assert_eq!(back.to_policy(viewer).unwrap(), (p, vec![g]));

        // Missing fields take the defaults.
        let empty: PolicyJson = serde_json::from_str("{}").unwrap();
        assert_eq!(empty.to_policy(viewer).unwrap().0, Policy::new(viewer));

        let mut bad = back.clone();
        bad.lists[0].weight = 0.0;
        assert_eq!(bad.to_policy(viewer).unwrap_err().code(), "invalid-policy");
        let mut bad = back.clone();
        bad.lists[0].list = "did:key:nope/x".into();
        assert_eq!(bad.to_policy(viewer).unwrap_err().code(), "bad-ref");
        let mut bad = back;
        bad.overrides[0].subject = "nonsense".into();
        assert_eq!(bad.to_policy(viewer).unwrap_err().code(), "bad-cid");
        assert!(serde_json::from_str::<PolicyJson>(r#"{"nope": 1}"#).is_err());
    }

    #[test]
    fn refs_and_subjects_parse_and_print_both_ways() {
        let owner = k(5);
        let s = format!("{}/a/b", owner.to_did_key());
        let l = parse_list("x", &s).unwrap();
        assert_eq!(l.name, "a/b");
        assert_eq!(list_str(&l), s);
        assert_eq!(
            parse_ref("x", &format!("{}/", owner.to_did_key()))
                .unwrap_err()
                .code(),
            "bad-ref"
        );
        assert_eq!(
            parse_subject("x", &owner.to_did_key()).unwrap(),
            Subject::Key(owner)
        );
        assert_eq!(
            parse_subject("x", "did:web:x").unwrap_err().code(),
            "bad-did"
        );
        assert_eq!(parse_verdict("collapse"), Some(Verdict::Collapse));
        assert_eq!(parse_verdict("nope"), None);
    }
}

#[cfg(test)]
mod wire_tests {
    use super::*;

    #[test]
    fn decide_answers_read_back() {
        let text = r#"{"viewer":"did:key:z6MktsLs7ByDkjGWBmDQMgZin2gPpd2H4i8PWmz1qVua7dmq","seq":12,"built_at":1,"decisions":[{"verdict":"hide","score":0.0,"reasons":[{"code":"list-block","effect":"hide","sentence":"x","subject":"did:key:z6Mkfi2W1cpVi1GEzScHLmPVBYqRGodLeEj8ghLZ1cpELxrV","objects":["bafyreiegulyyyqcfzf2oaz6kjm7bwyda4shruck2u6ip76xx6vd37gfoky"],"list":"a/b","curator":"c","note":"sells pills","weight":1.0,"count":1}]},{"error":{"code":"not-found","message":"m"}}]}"#;
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        let d: Result<DecisionJson, _> = serde_json::from_value(v["decisions"][0].clone());
        assert!(d.is_ok(), "{d:?}");
        let r: DecideResponse = serde_json::from_str(text).unwrap();
        assert_eq!(r.decisions.len(), 2);
        let req: DecideRequest = serde_json::from_str(
            r#"{"items":[{"author":"a","group":null},{"post":"p"}],"explain":true}"#,
        )
        .unwrap();
        assert_eq!(req.items[0].author.as_deref(), Some("a"));
        assert_eq!(req.items[1].post.as_deref(), Some("p"));
        assert!(req.explain);
        for bad in [
            r#"[[{"post":"p"}], false]"#,
            r#"{"items":[["p", null, null, null]]}"#,
            r#"{"items":[{"nope":1}]}"#,
            r#"{"explain":true}"#,
            r#"{"items":[],"x":1}"#,
        ] {
            assert!(serde_json::from_str::<DecideRequest>(bad).is_err(), "{bad}");
        }
        assert!(matches!(r.decisions[1], ItemResultJson::Error { .. }));
    }
}
