//! Local viewers: their policies, subscriptions and compiled views.

use serde::{Deserialize, Serialize};

use super::*;

/// A resolved list subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ResolvedListJson {
    /// The list.
    pub list: String,
    /// Its weight for this viewer (after curator decay).
    pub weight: f32,
    /// `block`, `allow` or `label`.
    pub purpose: String,
}

/// What a viewer's compiled view holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ViewStatsJson {
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
pub(crate) struct ViewerJson {
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
pub(crate) struct CreateViewerJson {
    /// The viewer's `did:key`.
    pub viewer: String,
    /// The policy (defaults when absent).
    #[serde(default)]
    pub policy: PolicyJson,
}

/// `GET /v1/viewers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ViewersJson {
    /// Every local viewer.
    pub viewers: Vec<ViewerJson>,
}

/// `GET /v1/viewers/{viewer}/subscriptions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SubscriptionsJson {
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
