//! Ingest: decode -> validate (batch signature verification) -> replication filter -> store.
//! Idempotent: an object already stored is answered as such and changes nothing.

use std::sync::Arc;
use vouch_reputation::{Limits, ObjectId, ValidationError};

use crate::filter::{Refusal, SharedFilter};
use crate::metrics::Metrics;
use crate::store::{StoreError, StoreWriter, StoredObject};

/// Most objects validated as one batch.
pub const MAX_INGEST_BATCH: usize = 1024;

/// Why an object was not stored. Every variant has a stable [`code`](IngestError::code).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The object is invalid (the code is the validation code).
    #[error("invalid object: {0}")]
    Invalid(#[from] ValidationError),
    /// The object is valid, but the replication policy refuses it.
    #[error("refused by the replication policy: {}", .0.code())]
    Refused(Refusal),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// More objects than [`MAX_INGEST_BATCH`] in one call.
    #[error("batch of {0} objects is over the limit of {MAX_INGEST_BATCH}")]
    BatchTooLarge(usize),
}

impl IngestError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            IngestError::Invalid(e) => e.code(),
            IngestError::Refused(r) => r.code(),
            IngestError::Store(e) => e.code(),
            IngestError::BatchTooLarge(_) => "batch-too-large",
        }
    }
}

/// An object that went through ingest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    /// Its id.
    pub id: ObjectId,
    /// Whether it was new to this store.
    pub new: bool,
    /// The topic it travels on.
    pub topic: String,
}

/// The ingest pipeline in front of the store writer. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Ingest {
    limits: Limits,
    filter: SharedFilter,
    writer: StoreWriter,
    metrics: Arc<Metrics>,
}

impl Ingest {
    /// A pipeline writing through `writer`.
    pub fn new(
        limits: Limits,
        filter: SharedFilter,
        writer: StoreWriter,
        metrics: Arc<Metrics>,
    ) -> Self {
        Ingest {
            limits,
            filter,
            writer,
            metrics,
        }
    }

    /// Validates and filters a batch (CPU only; call it off the async runtime).
    pub fn check_batch(
        &self,
        items: &[&[u8]],
        now_ms: u64,
    ) -> Vec<Result<StoredObject, IngestError>> {
        self.limits
            .validate_batch(items, now_ms)
            .into_iter()
            .map(|r| match r {
                Ok(obj) => match self.filter.check(&obj) {
                    Ok(()) => Ok(StoredObject::from_signed(&obj)),
                    Err(refusal) => {
                        Metrics::inc(&self.metrics.objects_refused_by_policy_total);
                        Err(IngestError::Refused(refusal))
                    }
                },
                Err(e) => {
                    Metrics::inc(&self.metrics.objects_invalid_total);
                    Err(IngestError::Invalid(e))
                }
            })
            .collect()
    }

    /// Runs the whole pipeline on a batch; answers after the store committed.
    pub async fn ingest(&self, items: Vec<Vec<u8>>) -> Vec<Result<Ingested, IngestError>> {
        if items.len() > MAX_INGEST_BATCH {
            Metrics::inc(&self.metrics.limit_exceeded_total);
            return items
                .iter()
                .map(|_| Err(IngestError::BatchTooLarge(items.len())))
                .collect();
        }
        let this = self.clone();
        let checked = tokio::task::spawn_blocking(move || {
            let refs: Vec<&[u8]> = items.iter().map(|b| b.as_slice()).collect();
            this.check_batch(&refs, crate::clock::now_ms())
        })
        .await;
        let checked = match checked {
            Ok(c) => c,
            Err(_) => return vec![Err(IngestError::Store(StoreError::Closed))],
        };
        self.store_checked(checked).await
    }

    /// Stores the objects that passed [`Ingest::check_batch`].
    pub async fn store_checked(
        &self,
        checked: Vec<Result<StoredObject, IngestError>>,
    ) -> Vec<Result<Ingested, IngestError>> {
        let good: Vec<StoredObject> = checked
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .cloned()
            .collect();
        let stored = self.writer.insert(good).await;
        let mut news = match stored {
            Ok(n) => n.into_iter(),
            Err(e) => {
                let code = e.to_string();
                return checked
                    .into_iter()
                    .map(|r| {
                        r.and_then(|_| Err(IngestError::Store(StoreError::Commit(code.clone()))))
                    })
                    .collect();
            }
        };
        checked
            .into_iter()
            .map(|r| {
                r.map(|o| Ingested {
                    id: o.id,
                    new: news.next().unwrap_or(false),
                    topic: o.topic,
                })
            })
            .collect()
    }
}
