//! The events of a viewer's Server-Sent Events stream.

use serde::{Deserialize, Serialize};

use super::*;

/// SSE `object`: a new object about one of the viewer's groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ObjectEventJson {
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
pub(crate) struct ListChangeEventJson {
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
pub(crate) struct ReadyEventJson {
    /// The viewer.
    pub viewer: String,
    /// The store seq the viewer's view reflects now.
    pub seq: i64,
}

/// SSE `lagged`: the stream fell behind and missed events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LaggedEventJson {
    /// How many events were missed.
    pub missed: u64,
}
