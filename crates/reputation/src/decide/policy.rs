//! The viewer's policy: list and curator subscriptions, quorum, overrides, labelers and the
//! label-to-verdict map, vote and group settings. Plain data; [`crate::View`] compiles it.

use crate::{ListRef, Subject};
use std::collections::BTreeMap;
use std::fmt;
use vouch_identity::PublicKey;

/// What the viewer is shown. Ordered from mildest to strongest: when rules disagree, the
/// strongest verdict wins (unless a viewer override or an allow list says otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Verdict {
    /// Show normally.
    #[default]
    Show,
    /// Show with a warning.
    Warn,
    /// Show folded: one click to open.
    Collapse,
    /// Do not show.
    Hide,
}

impl Verdict {
    /// Every verdict, mildest first.
    pub const ALL: [Verdict; 4] = [
        Verdict::Show,
        Verdict::Warn,
        Verdict::Collapse,
        Verdict::Hide,
    ];

    /// The stable name printed by the API and CLI.
    pub const fn as_str(self) -> &'static str {
        match self {
            Verdict::Show => "show",
            Verdict::Warn => "warn",
            Verdict::Collapse => "collapse",
            Verdict::Hide => "hide",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A subscription to one list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListSubscription {
    /// The list.
    pub list: ListRef,
    /// How much the viewer believes it, in (0, 1].
    pub weight: f32,
}

/// A subscription to every block, allow and label list of a curator, and, up to `depth`
/// hops, to the curators that curator vouches for (positive context-free attestations).
#[derive(Debug, Clone, PartialEq)]
pub struct CuratorSubscription {
    /// The curator.
    pub curator: PublicKey,
    /// The weight of the curator's own lists, in (0, 1].
    pub weight: f32,
    /// How many hops to follow: 1 = the curator only, 2 = also the curators it vouches for, ...
    pub depth: u8,
    /// Weight multiplier per hop, in [0, 1].
    pub decay: f32,
}

/// When enough subscribed block lists agree to hide.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quorum {
    /// At least this many distinct lists must list the item or its author ("k of my n").
    pub min_lists: u32,
    /// And their weights must add up to at least this.
    pub min_weight: f32,
}

impl Default for Quorum {
    fn default() -> Self {
        Quorum {
            min_lists: 1,
            min_weight: 1.0,
        }
    }
}

/// The viewer's own verdict on one author or post; it overrides every rule but revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// The author or post.
    pub subject: Subject,
    /// The verdict the viewer wants.
    pub verdict: Verdict,
}

/// Ignore one entry of one list ("this list is fine, but not about this person").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exemption {
    /// The list.
    pub list: ListRef,
    /// The entry's subject.
    pub subject: Subject,
}

/// How votes count for this viewer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VotePolicy {
    /// Votes one voter may cast per epoch outside groups (a group's own budget applies in it).
    pub budget_per_epoch: u32,
    /// How many epochs (UTC days) back votes count, the current one included.
    pub window_epochs: u32,
    /// Collapse when the trust-weighted sum of votes is at or below minus this.
    pub collapse_at: f32,
    /// Hide when the trust-weighted sum of votes is at or below minus this.
    pub hide_at: f32,
}

impl Default for VotePolicy {
    fn default() -> Self {
        VotePolicy {
            budget_per_epoch: 100,
            window_epochs: 30,
            collapse_at: 1.0,
            hide_at: 3.0,
        }
    }
}

/// Everything a viewer decides about what they see.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The viewer.
    pub viewer: PublicKey,
    /// Lists subscribed one by one.
    pub lists: Vec<ListSubscription>,
    /// Curators whose lists are subscribed, transitively.
    pub curators: Vec<CuratorSubscription>,
    /// When block lists hide.
    pub quorum: Quorum,
    /// The verdict when some block lists list an item but not enough to hide.
    pub below_quorum: Verdict,
    /// The viewer's own verdicts.
    pub overrides: Vec<Override>,
    /// Single list entries the viewer ignores.
    pub exemptions: Vec<Exemption>,
    /// People the viewer trusts directly are never hidden or collapsed by a block list (at
    /// most warned); set to false, or override, to let lists hide them.
    pub protect_trusted: bool,
    /// Labelers whose labels count.
    pub labelers: Vec<PublicKey>,
    /// What each label value does.
    pub label_verdicts: BTreeMap<String, Verdict>,
    /// What a label value missing from `label_verdicts` does.
    pub unmapped_label: Verdict,
    /// Votes.
    pub votes: VotePolicy,
    /// The verdict for authors the viewer has no trust in at all.
    pub unknown_author: Verdict,
    /// Enforce groups' bans and machine-readable rules on posts in groups.
    pub group_rules: bool,
    /// Credential issuers (DIDs) the viewer accepts as verifying people: a decision on an
    /// author whose key holds a valid credential from one of them (as the host's
    /// [`CredentialLookup`](crate::CredentialLookup) says, e.g. through a public `link`)
    /// says it was verified by that issuer (`author-verified`). Empty: no such reason.
    pub verified_issuers: Vec<String>,
}

impl Policy {
    /// A policy with no subscriptions and the defaults written in `specs/decisions.md`.
    pub fn new(viewer: PublicKey) -> Self {
        Policy {
            viewer,
            lists: Vec::new(),
            curators: Vec::new(),
            quorum: Quorum::default(),
            below_quorum: Verdict::Warn,
            overrides: Vec::new(),
            exemptions: Vec::new(),
            protect_trusted: true,
            labelers: Vec::new(),
            label_verdicts: BTreeMap::new(),
            unmapped_label: Verdict::Show,
            votes: VotePolicy::default(),
            unknown_author: Verdict::Show,
            group_rules: true,
            verified_issuers: Vec::new(),
        }
    }

    /// Subscribes to a list with a weight (builder style).
    pub fn subscribe(mut self, list: ListRef, weight: f32) -> Self {
        self.lists.push(ListSubscription { list, weight });
        self
    }
}
