//! Reasons: a stable code, the objects behind the reason, the list and its curator, the
//! group, the trust path; each renders to one plain sentence.

use super::{TrustStep, Verdict};
use crate::{GroupRef, ListRef, ObjectId, Subject};
use std::fmt;
use std::sync::Arc;
use vouch_identity::PublicKey;

/// Why a decision came out as it did. The codes are stable: the API and CLI print them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ReasonCode {
    /// The post was signed after its author's key was revoked.
    AuthorRevoked,
    /// The post was signed with a key its owner retired by a rotation, after the rotation.
    AuthorKeyRotated,
    /// The author's key has conflicting successors (a fork: two commitments or two
    /// handovers), which only a thief or a broken client makes: everything it signed is void.
    AuthorKeyForked,
    /// The viewer's own verdict on this post or author.
    ViewerOverride,
    /// Banned in the group by its owner or a current moderator.
    GroupBan,
    /// A ban by someone who is not the group's owner or a current moderator: no effect.
    GroupBanNotModerator,
    /// A ban that a moderator retracted: no effect.
    GroupBanRetracted,
    /// An appeal against this ban, entry or label was granted: no effect.
    AppealGranted,
    /// The group requires more trust in the author than the viewer has.
    GroupMinTrust,
    /// The group requires a credential the author does not hold.
    GroupCredentialMissing,
    /// The group's owner published two headers with the same `seq`.
    GroupEquivocation,
    /// A group rule that applied was set by a village poll (the poll is cited).
    GroupRuleAmended,
    /// The group's owner named more than one personhood issuer for its village polls.
    GroupVillageIssuers,
    /// On a subscribed block list.
    ListBlock,
    /// On some subscribed block lists, but fewer than the quorum.
    ListBelowQuorum,
    /// On a subscribed allow list, which outweighs the block lists.
    ListAllow,
    /// The curator published two versions of the list with the same `seq`.
    ListEquivocation,
    /// The viewer trusts the author directly: lists may not hide them.
    TrustedProtected,
    /// The viewer exempted this list entry.
    EntryExempt,
    /// A list entry, ban or label whose expiry passed: no effect.
    EntryExpired,
    /// A list entry its curator retracted: no effect.
    EntryRetracted,
    /// Labelled by a subscribed labeler or label list.
    Label,
    /// Voted down by people the viewer trusts.
    VotesNegative,
    /// Votes that did not count: untrusted voters, over budget, dated in the future.
    VotesIgnored,
    /// Votes on a post in a group that counts only personhood-backed votes, without a
    /// verified personhood proof: no effect.
    VotesNotPersonhood,
    /// The viewer has no trust in the author at all.
    AuthorUnknown,
    /// The viewer's trust in the author, with its path.
    AuthorTrusted,
    /// The author's key holds a valid credential from an issuer the viewer accepts.
    AuthorVerified,
    /// A credential the author presented from an issuer the viewer accepts was revoked or
    /// expired: it no longer counts.
    AuthorCredentialVoid,
}

impl ReasonCode {
    /// Every code, in rule order (`specs/decisions.md`).
    pub const ALL: [ReasonCode; 29] = [
        ReasonCode::AuthorRevoked,
        ReasonCode::AuthorKeyRotated,
        ReasonCode::AuthorKeyForked,
        ReasonCode::ViewerOverride,
        ReasonCode::GroupBan,
        ReasonCode::GroupBanNotModerator,
        ReasonCode::GroupBanRetracted,
        ReasonCode::AppealGranted,
        ReasonCode::GroupMinTrust,
        ReasonCode::GroupCredentialMissing,
        ReasonCode::GroupEquivocation,
        ReasonCode::GroupRuleAmended,
        ReasonCode::GroupVillageIssuers,
        ReasonCode::ListBlock,
        ReasonCode::ListBelowQuorum,
        ReasonCode::ListAllow,
        ReasonCode::ListEquivocation,
        ReasonCode::TrustedProtected,
        ReasonCode::EntryExempt,
        ReasonCode::EntryExpired,
        ReasonCode::EntryRetracted,
        ReasonCode::Label,
        ReasonCode::VotesNegative,
        ReasonCode::VotesIgnored,
        ReasonCode::VotesNotPersonhood,
        ReasonCode::AuthorUnknown,
        ReasonCode::AuthorTrusted,
        ReasonCode::AuthorVerified,
        ReasonCode::AuthorCredentialVoid,
    ];

    /// The stable code.
    pub const fn as_str(self) -> &'static str {
        match self {
            ReasonCode::AuthorRevoked => "author-revoked",
            ReasonCode::AuthorKeyRotated => "author-key-rotated",
            ReasonCode::AuthorKeyForked => "author-key-forked",
            ReasonCode::ViewerOverride => "viewer-override",
            ReasonCode::GroupBan => "group-ban",
            ReasonCode::GroupBanNotModerator => "group-ban-not-moderator",
            ReasonCode::GroupBanRetracted => "group-ban-retracted",
            ReasonCode::AppealGranted => "appeal-granted",
            ReasonCode::GroupMinTrust => "group-min-trust",
            ReasonCode::GroupCredentialMissing => "group-credential-missing",
            ReasonCode::GroupEquivocation => "group-equivocation",
            ReasonCode::GroupRuleAmended => "group-rule-amended",
            ReasonCode::GroupVillageIssuers => "group-village-issuers",
            ReasonCode::ListBlock => "list-block",
            ReasonCode::ListBelowQuorum => "list-below-quorum",
            ReasonCode::ListAllow => "list-allow",
            ReasonCode::ListEquivocation => "list-equivocation",
            ReasonCode::TrustedProtected => "trusted-protected",
            ReasonCode::EntryExempt => "entry-exempt",
            ReasonCode::EntryExpired => "entry-expired",
            ReasonCode::EntryRetracted => "entry-retracted",
            ReasonCode::Label => "label",
            ReasonCode::VotesNegative => "votes-negative",
            ReasonCode::VotesIgnored => "votes-ignored",
            ReasonCode::VotesNotPersonhood => "votes-not-personhood",
            ReasonCode::AuthorUnknown => "author-unknown",
            ReasonCode::AuthorTrusted => "author-trusted",
            ReasonCode::AuthorVerified => "author-verified",
            ReasonCode::AuthorCredentialVoid => "author-credential-void",
        }
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The ids of the objects behind a reason. Up to two are kept inline, so that the common
/// reasons (a list entry and its list header) cost no allocation; it reads as a slice.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ObjectIds {
    inline: [Option<ObjectId>; 2],
    more: Vec<ObjectId>,
}

impl ObjectIds {
    /// No ids.
    pub const fn new() -> Self {
        ObjectIds {
            inline: [None, None],
            more: Vec::new(),
        }
    }

    /// Appends an id.
    pub fn push(&mut self, id: ObjectId) {
        if !self.more.is_empty() {
            self.more.push(id);
        } else if self.inline[0].is_none() {
            self.inline[0] = Some(id);
        } else if self.inline[1].is_none() {
            self.inline[1] = Some(id);
        } else {
            self.more.extend(self.inline.iter().flatten());
            self.inline = [None, None];
            self.more.push(id);
        }
    }

    /// The ids, in order.
    pub fn to_vec(&self) -> Vec<ObjectId> {
        self.iter().copied().collect()
    }

    /// How many ids.
    pub fn len(&self) -> usize {
        self.more.len() + self.inline.iter().flatten().count()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The ids, in order.
    pub fn iter(&self) -> impl Iterator<Item = &ObjectId> {
        self.inline.iter().flatten().chain(self.more.iter())
    }

    /// True when `id` is one of them.
    pub fn contains(&self, id: &ObjectId) -> bool {
        self.iter().any(|i| i == id)
    }
}

impl Extend<ObjectId> for ObjectIds {
    fn extend<I: IntoIterator<Item = ObjectId>>(&mut self, iter: I) {
        for id in iter {
            self.push(id);
        }
    }
}

impl FromIterator<ObjectId> for ObjectIds {
    fn from_iter<I: IntoIterator<Item = ObjectId>>(iter: I) -> Self {
        let mut ids = ObjectIds::new();
        ids.extend(iter);
        ids
    }
}

impl From<Vec<ObjectId>> for ObjectIds {
    fn from(v: Vec<ObjectId>) -> Self {
        v.into_iter().collect()
    }
}

impl PartialEq<Vec<ObjectId>> for ObjectIds {
    fn eq(&self, other: &Vec<ObjectId>) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b)
    }
}

impl fmt::Debug for ObjectIds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The reasons of a decision, in rule order; reads as a slice. A decision's own vector, its
/// range of the reasons of the batch it was decided in ([`crate::decide_batch`] puts every
/// decision's reasons in one shared allocation), or the reasons of a decision compiled with
/// the view (shared by every decision it answers). Either way a
/// [`Decision`](crate::Decision) is a few words wide, however large a [`Reason`] is.
#[derive(Clone, Default)]
pub struct Reasons {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    Own(Vec<Reason>),
    /// A decision compiled with the view, shared by every decision it answers.
    Compiled(Arc<[Reason]>),
    Shared {
        all: Arc<Vec<Reason>>,
        start: usize,
        end: usize,
    },
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Own(Vec::new())
    }
}

impl Reasons {
    /// No reasons.
    pub const fn new() -> Self {
        Reasons {
            repr: Repr::Own(Vec::new()),
        }
    }

    /// `all[start..end]`, sharing `all`.
    pub(crate) fn shared(all: &Arc<Vec<Reason>>, start: usize, end: usize) -> Self {
        if start >= end {
            return Reasons::new();
        }
        Reasons {
            repr: Repr::Shared {
                all: all.clone(),
                start,
                end,
            },
        }
    }

    /// A compiled decision's reasons, sharing them.
    pub(crate) fn compiled(all: &Arc<[Reason]>) -> Self {
        if all.is_empty() {
            return Reasons::new();
        }
        Reasons {
            repr: Repr::Compiled(all.clone()),
        }
    }

    /// Appends a reason (shared reasons are copied first).
    pub fn push(&mut self, r: Reason) {
        match &mut self.repr {
            Repr::Own(v) => v.push(r),
            Repr::Compiled(_) | Repr::Shared { .. } => {
                let mut v = self.to_vec();
                v.push(r);
                self.repr = Repr::Own(v);
            }
        }
    }
}

impl std::ops::Deref for Reasons {
    type Target = [Reason];
    fn deref(&self) -> &[Reason] {
        match &self.repr {
            Repr::Own(v) => v,
            Repr::Compiled(all) => all,
            Repr::Shared { all, start, end } => all.get(*start..*end).unwrap_or_default(),
        }
    }
}

impl Extend<Reason> for Reasons {
    fn extend<I: IntoIterator<Item = Reason>>(&mut self, iter: I) {
        for r in iter {
            self.push(r);
        }
    }
}

impl From<Vec<Reason>> for Reasons {
    fn from(all: Vec<Reason>) -> Self {
        Reasons {
            repr: Repr::Own(all),
        }
    }
}

impl<'a> IntoIterator for &'a Reasons {
    type Item = &'a Reason;
    type IntoIter = std::slice::Iter<'a, Reason>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl PartialEq for Reasons {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl fmt::Debug for Reasons {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// One machine-readable reason. Fields a code does not use are empty.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    /// The stable code.
    pub code: ReasonCode,
    /// What this reason asks for; `Show` for reasons that explain why something had no effect.
    pub effect: Verdict,
    /// The post or author the reason is about.
    pub subject: Option<Subject>,
    /// The objects behind it (list entries, bans, labels, votes, attestations, headers).
    pub objects: ObjectIds,
    /// The list; its `owner` is the curator.
    pub list: Option<Arc<ListRef>>,
    /// The group.
    pub group: Option<Arc<GroupRef>>,
    /// Who acted: the moderator who banned, the labeler, the curator followed through.
    pub actor: Option<PublicKey>,
    /// A label value or a required credential issuer.
    pub value: Option<Arc<str>>,
    /// The curator's, moderator's or labeler's own words.
    pub note: Option<Arc<str>>,
    /// A weight: the list's weight, the vote sum, the trust in the author.
    pub weight: f32,
    /// A count: lists agreeing, votes, a required percentage, a contested `seq`.
    pub count: u64,
    /// When the entry, ban or label expires.
    pub expires: Option<u64>,
    /// The viewer's trust path to the author, first hop first.
    pub trust_path: Vec<TrustStep>,
}

impl Reason {
    /// A reason with only a code and an effect.
    pub fn new(code: ReasonCode, effect: Verdict) -> Self {
        Reason {
            code,
            effect,
            subject: None,
            objects: ObjectIds::new(),
            list: None,
            group: None,
            actor: None,
            value: None,
            note: None,
            weight: 0.0,
            count: 0,
            expires: None,
            trust_path: Vec::new(),
        }
    }

    /// The reason as one plain sentence.
    pub fn sentence(&self) -> String {
        self.to_string()
    }
}

/// A key written short: `did:key:z6Mk…` plus its last 4 characters.
pub(crate) struct Short<'a>(pub(crate) &'a PublicKey);

impl fmt::Display for Short<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.to_string();
        if s.len() > 24 {
            write!(f, "{}…{}", &s[..16], &s[s.len() - 4..])
        } else {
            f.write_str(&s)
        }
    }
}

fn opt_key(k: &Option<PublicKey>) -> String {
    k.as_ref()
        .map_or_else(|| "someone".to_string(), |k| Short(k).to_string())
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = self
            .list
            .as_ref()
            .map_or("?".to_string(), |l| format!("'{}'", l.name));
        let curator = self
            .list
            .as_ref()
            .map_or("?".to_string(), |l| Short(&l.owner).to_string());
        let group = self
            .group
            .as_ref()
            .map_or("?".to_string(), |g| format!("'{}'", g.name));
        let note = self
            .note
            .as_ref()
            .map_or(String::new(), |n| format!(": \"{n}\""));
        let value = self.value.as_deref().unwrap_or("?");
        match self.code {
            ReasonCode::AuthorRevoked => write!(
                f,
                "The author's key was revoked as compromised, and this was signed after that."
            ),
            ReasonCode::AuthorKeyRotated => write!(
                f,
                "The author retired this key by rotating to a new one, and this was signed after that."
            ),
            ReasonCode::AuthorKeyForked => write!(
                f,
                "The author's key has two conflicting successors, a sign that it was stolen: nothing it signed counts."
            ),
            ReasonCode::ViewerOverride => write!(f, "You chose to {} this.", self.effect),
            ReasonCode::GroupBan => write!(
                f,
                "Banned from group {group} by {}{note}.",
                opt_key(&self.actor)
            ),
            ReasonCode::GroupBanNotModerator => write!(
                f,
                "A ban in group {group} by {} has no effect: they are not its owner or a current moderator.",
                opt_key(&self.actor)
            ),
            ReasonCode::GroupBanRetracted => {
                write!(f, "A ban in group {group} was lifted by a moderator.")
            }
            ReasonCode::AppealGranted => write!(
                f,
                "An appeal was granted, so the ban, entry or label behind it no longer applies."
            ),
            ReasonCode::GroupMinTrust => write!(
                f,
                "Group {group} asks for {}% trust in the author; you trust them {:.0}%.",
                self.count,
                self.weight * 100.0
            ),
            ReasonCode::GroupCredentialMissing => match &self.note {
                Some(why) => write!(
                    f,
                    "Group {group} asks for a credential from {value}, and the author's was {why}."
                ),
                None => write!(
                    f,
                    "Group {group} asks for a credential from {value}, and the author has none."
                ),
            },
            ReasonCode::GroupEquivocation => write!(
                f,
                "The owner of group {group} published conflicting versions of its header (seq {}).",
                self.count
            ),
            ReasonCode::GroupRuleAmended => {
                let poll = self
                    .objects
                    .iter()
                    .next()
                    .map_or("?".to_string(), ToString::to_string);
                write!(
                    f,
                    "Group {group}'s people set {value} to {} by village poll {poll}{note}.",
                    self.count
                )
            }
            ReasonCode::GroupVillageIssuers => write!(
                f,
                "The owner of group {group} named {} personhood issuers for its village polls, not one: an amendment may come from an issuer the group did not start with.",
                self.count
            ),
            ReasonCode::ListBlock => write!(
                f,
                "On block list {list} by {curator}{note} (weight {:.2}).",
                self.weight
            ),
            ReasonCode::ListBelowQuorum => write!(
                f,
                "{} of your block lists (weight {:.2}) list this, fewer than you need to hide it.",
                self.count, self.weight
            ),
            ReasonCode::ListAllow => write!(
                f,
                "On allow list {list} by {curator}, which outweighs your block lists."
            ),
            ReasonCode::ListEquivocation => write!(
                f,
                "Curator {curator} published conflicting versions of list {list} (seq {}).",
                self.count
            ),
            ReasonCode::TrustedProtected => write!(
                f,
                "You trust the author directly, so your lists only warn about them."
            ),
            ReasonCode::EntryExempt => write!(f, "You exempted this entry of list {list}."),
            ReasonCode::EntryExpired => {
                write!(f, "An entry on list {list} has expired and no longer applies.")
            }
            ReasonCode::EntryRetracted => write!(
                f,
                "An entry on list {list} was retracted and no longer applies."
            ),
            ReasonCode::Label => write!(
                f,
                "Labelled '{value}' by {}{note}.",
                opt_key(&self.actor)
            ),
            ReasonCode::VotesNegative if self.group.is_some() => write!(
                f,
                "{} verified people in group {group} voted this down, one voice each (net {:.2}).",
                self.count, self.weight
            ),
            ReasonCode::VotesNegative => write!(
                f,
                "{} people you trust voted this down (net {:.2}).",
                self.count, self.weight
            ),
            ReasonCode::VotesIgnored => write!(
                f,
                "{} votes did not count: their voters have no trust from you, were over budget, or dated them in the future.",
                self.count
            ),
            ReasonCode::VotesNotPersonhood => write!(
                f,
                "{} votes did not count: group {group} counts only personhood-backed votes, one per person per epoch.",
                self.count
            ),
            ReasonCode::AuthorUnknown => write!(f, "You have no trust path to the author."),
            ReasonCode::AuthorVerified => write!(f, "Verified by {value}."),
            ReasonCode::AuthorCredentialVoid => write!(
                f,
                "The author's credential from {value} was {}, so it no longer counts.",
                self.note.as_deref().unwrap_or("revoked or expired")
            ),
            ReasonCode::AuthorTrusted => {
                let pct = self.weight * 100.0;
                let hops = self.trust_path.len();
                let plural = if hops == 1 { "" } else { "s" };
                if pct < 0.5 {
                    write!(
                        f,
                        "You trust the author a little (under 1%) through {hops} hop{plural}."
                    )
                } else {
                    write!(
                        f,
                        "You trust the author {pct:.0}% through {hops} hop{plural}."
                    )
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use vouch_identity::SecretKey;

    fn step(i: u8) -> TrustStep {
        TrustStep {
            from: SecretKey::from_seed(&[i; 32]).public_key(),
            to: SecretKey::from_seed(&[i + 1; 32]).public_key(),
            level: 50,
            attest: ObjectId::of_bytes(&[i]),
        }
    }

    #[test]
    fn trust_sentences_say_hops_and_small_trust_plainly() {
        let mut r = Reason::new(ReasonCode::AuthorTrusted, Verdict::Show);
        r.weight = 0.24;
        r.trust_path = vec![step(1)];
        assert_eq!(r.sentence(), "You trust the author 24% through 1 hop.");
        r.weight = 0.003;
        r.trust_path.push(step(2));
        assert_eq!(
            r.sentence(),
            "You trust the author a little (under 1%) through 2 hops."
        );
    }
}
