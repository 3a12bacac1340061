//! A viewer's trust in a subject: score, paths and evidence.

use serde::{Deserialize, Serialize};
use vouch_reputation::{Evidence, EvidenceKind, ObjectId, TrustPath};

use super::*;

/// A trust path with its strength.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TrustPathJson {
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

/// One rating of the subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct EvidenceJson {
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
pub(crate) struct TrustJson {
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
