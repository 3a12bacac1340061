//! Labels: the latest label per (labeler, subject, value) wins, a negation withdraws it, an
//! expiry ends it. The viewer's policy maps label values to verdicts.

use crate::{ObjectId, Subject};
use std::collections::BTreeMap;
use vouch_identity::PublicKey;

/// One label version as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LabelRecord {
    pub(crate) neg: bool,
    pub(crate) reason: Option<String>,
    pub(crate) expires: Option<u64>,
}

/// (subject, value) -> (at, id) -> label.
pub(crate) type LabelsBySubject =
    BTreeMap<(Subject, String), BTreeMap<(u64, ObjectId), LabelRecord>>;

/// Every label received, by labeler.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LabelStore {
    pub(crate) by_labeler: BTreeMap<PublicKey, LabelsBySubject>,
}

/// A label in force (before its expiry is checked against `now`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CurrentLabel<'a> {
    pub(crate) subject: Subject,
    pub(crate) value: &'a str,
    pub(crate) id: ObjectId,
    pub(crate) record: &'a LabelRecord,
}

impl LabelStore {
    pub(crate) fn insert(
        &mut self,
        labeler: PublicKey,
        subject: Subject,
        value: String,
        at: u64,
        id: ObjectId,
        record: LabelRecord,
    ) -> bool {
        self.by_labeler
            .entry(labeler)
            .or_default()
            .entry((subject, value))
            .or_default()
            .insert((at, id), record)
            .is_none()
    }

    /// The labeler's labels in force: per (subject, value) the latest non-void version,
    /// unless it is a negation.
    pub(crate) fn current<'s>(
        &'s self,
        labeler: &PublicKey,
        is_void: &'s dyn Fn(&PublicKey, u64) -> bool,
    ) -> impl Iterator<Item = CurrentLabel<'s>> + 's {
        let labeler = *labeler;
        self.by_labeler
            .get(&labeler)
            .into_iter()
            .flatten()
            .filter_map(move |((subject, value), versions)| {
                let ((_, id), record) = versions
                    .iter()
                    .rev()
                    .find(|((at, _), _)| !is_void(&labeler, *at))?;
                if record.neg {
                    return None;
                }
                Some(CurrentLabel {
                    subject: *subject,
                    value,
                    id: *id,
                    record,
                })
            })
    }
}
