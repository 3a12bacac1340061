//! How the node stores a viewer's policy: [`PolicyRecord`], a DAG-CBOR map with its own
//! format number, kept apart from the API's JSON (`json/policy.rs`) so that a change to the
//! API cannot silently change what is on disk, and the other way round.
//!
//! Format 1 was the API's JSON text of release 0.1 (store schema 1); format 2 is this
//! record (store schema 2). `node/store.rs` migrates format 1 rows when it opens a schema 1
//! database, reading them with [`PolicyRecord::from_v1_json`], the one place that still
//! knows format 1. A row that cannot be read is never dropped: the engine keeps the viewer
//! as unreadable, logs it, counts it and reports it in `/v1/status`, and a new policy
//! written over it repairs it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vouch_identity::PublicKey;
use vouch_reputation::{
    CuratorSubscription, Exemption, GroupRef, ListRef, ListSubscription, Override, Policy, Quorum,
    Subject, Verdict, VotePolicy,
};

/// The format number this release writes.
pub(crate) const POLICY_FORMAT: u32 = 2;

/// Why a stored policy cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum PolicyRecordError {
    /// Not a DAG-CBOR map of this shape.
    #[error("stored policy is not a readable record: {0}")]
    Decode(String),
    /// A format this release does not know (written by a newer one).
    #[error("stored policy has format {0}, this release reads format {POLICY_FORMAT}")]
    Format(u32),
    /// A verdict name this release does not know.
    #[error("stored policy names an unknown verdict {0:?}")]
    Verdict(String),
    /// A format 1 row (the API's JSON of release 0.1) that does not parse.
    #[error("stored format 1 policy does not parse: {0}")]
    V1(String),
}

impl PolicyRecordError {
    /// The stable code.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            PolicyRecordError::Decode(_) => "policy-record-decode",
            PolicyRecordError::Format(_) => "policy-record-format",
            PolicyRecordError::Verdict(_) => "policy-record-verdict",
            PolicyRecordError::V1(_) => "policy-record-v1",
        }
    }
}

/// A viewer's policy and followed groups as stored (format 2). Field names are part of the
/// format: never rename one; add fields with `#[serde(default)]` and keep the number, or
/// bump [`POLICY_FORMAT`] and migrate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PolicyRecord {
    format: u32,
    lists: Vec<ListRecord>,
    curators: Vec<CuratorRecord>,
    quorum_lists: u32,
    quorum_weight: f32,
    below_quorum: String,
    overrides: Vec<(Subject, String)>,
    exemptions: Vec<(ListRef, Subject)>,
    protect_trusted: bool,
    labelers: Vec<PublicKey>,
    label_verdicts: BTreeMap<String, String>,
    unmapped_label: String,
    votes: VotesRecord,
    unknown_author: String,
    group_rules: bool,
    groups: Vec<GroupRef>,
    /// Added in format 2 after release 0.1 (absent in older format 2 rows: none).
    #[serde(default)]
    verified_issuers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ListRecord {
    list: ListRef,
    weight: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CuratorRecord {
    curator: PublicKey,
    weight: f32,
    depth: u8,
    decay: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct VotesRecord {
    budget_per_epoch: u32,
    window_epochs: u32,
    collapse_at: f32,
    hide_at: f32,
}

fn verdict(name: &str) -> Result<Verdict, PolicyRecordError> {
    Verdict::ALL
        .into_iter()
        .find(|v| v.as_str() == name)
        .ok_or_else(|| PolicyRecordError::Verdict(name.chars().take(40).collect()))
}

impl PolicyRecord {
    /// The record of `policy` and `groups`. Every field of [`Policy`] is named here, so a
    /// field added to the library's policy does not compile until the format holds it.
    pub(crate) fn new(policy: &Policy, groups: &[GroupRef]) -> Self {
        let Policy {
            viewer: _,
            lists,
            curators,
            quorum,
            below_quorum,
            overrides,
            exemptions,
            protect_trusted,
            labelers,
            label_verdicts,
            unmapped_label,
            votes,
            unknown_author,
            group_rules,
            verified_issuers,
        } = policy;
        PolicyRecord {
            format: POLICY_FORMAT,
            lists: lists
                .iter()
                .map(|s| ListRecord {
                    list: s.list.clone(),
                    weight: s.weight,
                })
                .collect(),
            curators: curators
                .iter()
                .map(|c| CuratorRecord {
                    curator: c.curator,
                    weight: c.weight,
                    depth: c.depth,
                    decay: c.decay,
                })
                .collect(),
            quorum_lists: quorum.min_lists,
            quorum_weight: quorum.min_weight,
            below_quorum: below_quorum.as_str().to_owned(),
            overrides: overrides
                .iter()
                .map(|o| (o.subject, o.verdict.as_str().to_owned()))
                .collect(),
            exemptions: exemptions
                .iter()
                .map(|e| (e.list.clone(), e.subject))
                .collect(),
            protect_trusted: *protect_trusted,
            labelers: labelers.clone(),
            label_verdicts: label_verdicts
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().to_owned()))
                .collect(),
            unmapped_label: unmapped_label.as_str().to_owned(),
            votes: VotesRecord {
                budget_per_epoch: votes.budget_per_epoch,
                window_epochs: votes.window_epochs,
                collapse_at: votes.collapse_at,
                hide_at: votes.hide_at,
            },
            unknown_author: unknown_author.as_str().to_owned(),
            group_rules: *group_rules,
            groups: groups.to_vec(),
            verified_issuers: verified_issuers.clone(),
        }
    }

    /// The stored bytes.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        // Every field is a plain value DAG-CBOR can hold (floats are finite: policies are
        // checked when they come in); an encoder failure would be a bug, shown as an empty
        // record that then reads back as unreadable, never as a lost viewer.
        serde_ipld_dagcbor::to_vec(self).unwrap_or_default()
    }

    /// Reads stored bytes.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, PolicyRecordError> {
        #[derive(Deserialize)]
        struct Head {
            format: u32,
        }
        let head: Head = serde_ipld_dagcbor::from_slice(bytes)
            .map_err(|e| PolicyRecordError::Decode(e.to_string()))?;
        if head.format != POLICY_FORMAT {
            return Err(PolicyRecordError::Format(head.format));
        }
        serde_ipld_dagcbor::from_slice(bytes).map_err(|e| PolicyRecordError::Decode(e.to_string()))
    }

    /// Reads a format 1 row: the API's policy JSON as release 0.1 wrote it (store schema 1).
    pub(crate) fn from_v1_json(viewer: PublicKey, text: &str) -> Result<Self, PolicyRecordError> {
        let json: crate::json::PolicyJson =
            serde_json::from_str(text).map_err(|e| PolicyRecordError::V1(e.to_string()))?;
        let (policy, groups) = json
            .to_policy(viewer)
            .map_err(|e| PolicyRecordError::V1(e.to_string()))?;
        Ok(PolicyRecord::new(&policy, &groups))
    }

    /// The library's policy for `viewer`, and the followed groups.
    pub(crate) fn to_policy(
        &self,
        viewer: PublicKey,
    ) -> Result<(Policy, Vec<GroupRef>), PolicyRecordError> {
        let mut p = Policy::new(viewer);
        p.lists = self
            .lists
            .iter()
            .map(|s| ListSubscription {
                list: s.list.clone(),
                weight: s.weight,
            })
            .collect();
        p.curators = self
            .curators
            .iter()
            .map(|c| CuratorSubscription {
                curator: c.curator,
                weight: c.weight,
                depth: c.depth,
                decay: c.decay,
            })
            .collect();
        p.quorum = Quorum {
            min_lists: self.quorum_lists,
            min_weight: self.quorum_weight,
        };
        p.below_quorum = verdict(&self.below_quorum)?;
        p.overrides = self
            .overrides
            .iter()
            .map(|(subject, v)| {
                Ok(Override {
                    subject: *subject,
                    verdict: verdict(v)?,
                })
            })
            .collect::<Result<_, PolicyRecordError>>()?;
        p.exemptions = self
            .exemptions
            .iter()
            .map(|(list, subject)| Exemption {
                list: list.clone(),
                subject: *subject,
            })
            .collect();
        p.protect_trusted = self.protect_trusted;
        p.labelers = self.labelers.clone();
        p.label_verdicts = self
            .label_verdicts
            .iter()
            .map(|(k, v)| Ok((k.clone(), verdict(v)?)))
            .collect::<Result<_, PolicyRecordError>>()?;
        p.unmapped_label = verdict(&self.unmapped_label)?;
        p.votes = VotePolicy {
            budget_per_epoch: self.votes.budget_per_epoch,
            window_epochs: self.votes.window_epochs,
            collapse_at: self.votes.collapse_at,
            hide_at: self.votes.hide_at,
        };
        p.unknown_author = verdict(&self.unknown_author)?;
        p.group_rules = self.group_rules;
        p.verified_issuers = self.verified_issuers.clone();
        Ok((p, self.groups.clone()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use vouch_identity::SecretKey;

    fn k(n: u8) -> PublicKey {
        SecretKey::from_seed(&[n; 32]).public_key()
    }

    fn busy_policy() -> (Policy, Vec<GroupRef>) {
        let list = ListRef {
            owner: k(2),
            name: "spam".into(),
        };
        let mut p = Policy::new(k(1)).subscribe(list.clone(), 0.5);
        p.curators.push(CuratorSubscription {
            curator: k(3),
            weight: 0.8,
            depth: 2,
            decay: 0.25,
        });
        p.quorum = Quorum {
            min_lists: 2,
            min_weight: 1.5,
        };
        p.below_quorum = Verdict::Collapse;
        p.overrides.push(Override {
            subject: Subject::Key(k(4)),
            verdict: Verdict::Show,
        });
        p.exemptions.push(Exemption {
            list,
            subject: Subject::Key(k(5)),
        });
        p.protect_trusted = false;
        p.labelers.push(k(3));
        p.label_verdicts.insert("nsfw".into(), Verdict::Collapse);
        p.unmapped_label = Verdict::Warn;
        p.votes.budget_per_epoch = 7;
        p.unknown_author = Verdict::Collapse;
        p.group_rules = false;
        p.verified_issuers
            .push("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK".into());
        let g = GroupRef {
            owner: k(6),
            name: "garden".into(),
        };
        (p, vec![g])
    }

    #[test]
    fn records_round_trip_every_field() {
        let (p, groups) = busy_policy();
        let bytes = PolicyRecord::new(&p, &groups).to_bytes();
        let back = PolicyRecord::from_bytes(&bytes).unwrap();
        assert_eq!(back.to_policy(k(1)).unwrap(), (p, groups));
    }

    #[test]
    fn unreadable_records_get_codes() {
        assert_eq!(
            PolicyRecord::from_bytes(b"{\"lists\": []}")
                .unwrap_err()
                .code(),
            "policy-record-decode"
        );
        let (p, groups) = busy_policy();
        let mut r = PolicyRecord::new(&p, &groups);
        r.format = 3;
        let e = PolicyRecord::from_bytes(&r.to_bytes()).unwrap_err();
        assert_eq!(e, PolicyRecordError::Format(3));
        let mut r = PolicyRecord::new(&p, &groups);
        r.unknown_author = "vanish".into();
        let e = PolicyRecord::from_bytes(&r.to_bytes())
            .unwrap()
            .to_policy(k(1))
            .unwrap_err();
        assert_eq!(e.code(), "policy-record-verdict");
        assert_eq!(
            PolicyRecord::from_v1_json(k(1), "{\"nope\": 1}")
                .unwrap_err()
                .code(),
            "policy-record-v1"
        );
    }

    #[test]
    fn format_1_rows_read_as_the_api_wrote_them() {
        let (p, groups) = busy_policy();
        let v1 = serde_json::to_string(&crate::json::PolicyJson::from_policy(&p, &groups)).unwrap();
        let r = PolicyRecord::from_v1_json(k(1), &v1).unwrap();
        assert_eq!(r.to_policy(k(1)).unwrap(), (p, groups));
    }
}
