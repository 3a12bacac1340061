//! What changes for a viewer when lists, bans or its policy change.

use serde::{Deserialize, Serialize};
use vouch_reputation::{ListChange, SubjectChange, ViewDiff};

use super::*;

/// One author whose verdict changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SubjectChangeJson {
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
pub(crate) struct ListChangeJson {
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
pub(crate) struct DiffJson {
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
