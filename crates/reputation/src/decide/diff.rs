//! What changed for a viewer between two views (a list was updated, a subscription added or
//! dropped, a ban lifted): per author the verdict before and after, and per list how many
//! authors it now hides, how many of them the viewer trusts, and how many it stopped hiding.

use super::reason::Short;
use super::{Item, ReasonCode, Verdict, View};
use crate::{ListRef, Subject};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use vouch_identity::PublicKey;

/// One author whose verdict changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectChange {
    /// The author.
    pub author: PublicKey,
    /// The verdict in the first view.
    pub before: Verdict,
    /// The verdict in the second view.
    pub after: Verdict,
    /// True when the viewer has some trust in the author (in the second view).
    pub trusted: bool,
    /// The lists behind the change (blocking after, or blocking before when it eased).
    pub lists: Vec<ListRef>,
}

/// How one list's effect changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListChange {
    /// The list; `owner` is the curator.
    pub list: ListRef,
    /// Authors it hides now and did not before.
    pub now_hides: Vec<PublicKey>,
    /// How many of those the viewer trusts.
    pub now_hides_trusted: u32,
    /// Authors it hid before and no longer does.
    pub no_longer_hides: Vec<PublicKey>,
}

impl fmt::Display for ListChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.list.name;
        let curator = Short(&self.list.owner);
        let n = self.now_hides.len();
        let gone = self.no_longer_hides.len();
        match (n, gone) {
            (0, g) => write!(
                f,
                "List '{name}' by {curator} no longer hides {g} author(s)."
            ),
            (n, g) => {
                if self.now_hides_trusted > 0 {
                    write!(
                        f,
                        "List '{name}' by {curator} now hides {} author(s) you trust ({n} in all)",
                        self.now_hides_trusted
                    )?;
                } else {
                    write!(f, "List '{name}' by {curator} now hides {n} author(s)")?;
                }
                if g > 0 {
                    write!(f, " and no longer hides {g}")?;
                }
                write!(f, ".")
            }
        }
    }
}

/// The difference between two views of one viewer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ViewDiff {
    /// Every author whose verdict changed, sorted by key.
    pub changes: Vec<SubjectChange>,
    /// Per list, sorted by list.
    pub lists: Vec<ListChange>,
}

impl ViewDiff {
    /// One sentence per list that changed.
    pub fn sentences(&self) -> Vec<String> {
        self.lists.iter().map(ToString::to_string).collect()
    }

    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

fn blocking_lists(d: &super::Decision) -> Vec<Arc<ListRef>> {
    let mut out: Vec<Arc<ListRef>> = d
        .reasons
        .iter()
        .filter(|r| r.code == ReasonCode::ListBlock && r.effect > Verdict::Show)
        .filter_map(|r| r.list.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Compares two views of the same viewer at `now`, author by author (every author either
/// view knows facts about).
pub fn diff(before: &View<'_>, after: &View<'_>, now: u64) -> ViewDiff {
    let authors: BTreeSet<PublicKey> = before
        .records
        .keys()
        .chain(after.records.keys())
        .filter_map(|s| match &s.0 {
            Subject::Key(k) => Some(*k),
            Subject::Object(_) => None,
        })
        .collect();
    let mut changes = Vec::new();
    let mut per_list: BTreeMap<ListRef, ListChange> = BTreeMap::new();
    for author in authors {
        let item = Item::author(author);
        let b = before.decide(&item, now);
        let a = after.decide(&item, now);
        if a.verdict == b.verdict {
            continue;
        }
        let trusted = after.trust.trust(&author).is_some_and(|t| t.score > 0.0);
        let lists = if a.verdict > b.verdict {
            blocking_lists(&a)
        } else {
            blocking_lists(&b)
        };
        let hidden_now = a.verdict == Verdict::Hide && b.verdict < Verdict::Hide;
        let hidden_before = b.verdict == Verdict::Hide && a.verdict < Verdict::Hide;
        for l in &lists {
            let e = per_list.entry((**l).clone()).or_insert_with(|| ListChange {
                list: (**l).clone(),
                now_hides: Vec::new(),
                now_hides_trusted: 0,
                no_longer_hides: Vec::new(),
            });
            if hidden_now {
                e.now_hides.push(author);
                if trusted {
                    e.now_hides_trusted += 1;
                }
            } else if hidden_before {
                e.no_longer_hides.push(author);
            }
        }
        changes.push(SubjectChange {
            author,
            before: b.verdict,
            after: a.verdict,
            trusted,
            lists: lists.iter().map(|l| (**l).clone()).collect(),
        });
    }
    ViewDiff {
        changes,
        lists: per_list
            .into_values()
            .filter(|c| !c.now_hides.is_empty() || !c.no_longer_hides.is_empty())
            .collect(),
    }
}
