//! A viewer's policy as the API reads and writes it, checked on the way in.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use vouch_identity::PublicKey;
use vouch_reputation::{
    CuratorSubscription, Exemption, GroupRef, ListSubscription, Override, Policy, Quorum,
    VotePolicy,
};

use super::*;

/// A subscription to one list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListSubscriptionJson {
    /// `<curator did:key>/<name>`.
    pub list: String,
    /// In (0, 1].
    #[serde(default = "one")]
    pub weight: f32,
}

/// A subscription to a curator's lists, followed transitively.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CuratorSubscriptionJson {
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
pub(crate) struct QuorumJson {
    /// Distinct lists that must agree, at least 1.
    pub min_lists: u32,
    /// Total weight they must reach, >= 0.
    pub min_weight: f32,
}

/// The viewer's own verdict on an author or a post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OverrideJson {
    /// A `did:key` (author) or a CID (post).
    pub subject: String,
    /// The verdict.
    pub verdict: VerdictJson,
}

/// One list entry the viewer ignores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExemptionJson {
    /// `<curator did:key>/<name>`.
    pub list: String,
    /// A `did:key` or a CID.
    pub subject: String,
}

/// How votes count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VotePolicyJson {
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
pub(crate) struct PolicyJson {
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
    /// Credential issuers (`did:key`) whose verified holders' linked keys decisions mark
    /// `verified by <issuer>`.
    pub verified_issuers: Vec<String>,
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
pub(crate) const MAX_POLICY_ITEMS: usize = 10_000;

impl Default for PolicyJson {
    fn default() -> Self {
        // The viewer key does not appear in the JSON form; any key gives the same defaults.
        let p = Policy::new(vouch_identity::SecretKey::from_seed(&[0; 32]).public_key());
        PolicyJson::from_policy(&p, &[])
    }
}

impl PolicyJson {
    /// The JSON form of a policy and the viewer's groups.
    pub(crate) fn from_policy(p: &Policy, groups: &[GroupRef]) -> Self {
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
            verified_issuers: p.verified_issuers.clone(),
        }
    }

    /// The library's policy for `viewer`, and the viewer's groups; checks every value.
    pub(crate) fn to_policy(
        &self,
        viewer: PublicKey,
    ) -> Result<(Policy, Vec<GroupRef>), JsonError> {
        let bad = |m: String| JsonError::Policy(m);
        for (name, n) in [
            ("lists", self.lists.len()),
            ("curators", self.curators.len()),
            ("overrides", self.overrides.len()),
            ("exemptions", self.exemptions.len()),
            ("labelers", self.labelers.len()),
            ("label_verdicts", self.label_verdicts.len()),
            ("groups", self.groups.len()),
            ("verified_issuers", self.verified_issuers.len()),
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
        for issuer in &self.verified_issuers {
            parse_did("verified_issuers", issuer)?;
            p.verified_issuers.push(issuer.clone());
        }
        let mut groups = Vec::with_capacity(self.groups.len());
        for g in &self.groups {
            groups.push(parse_group("groups", g)?);
        }
        groups.sort();
        groups.dedup();
        Ok((p, groups))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vouch_identity::SecretKey;
    use vouch_reputation::{ListRef, Subject, Verdict};

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
}
