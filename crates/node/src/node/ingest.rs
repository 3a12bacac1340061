//! Ingest: decode -> validate (batch signature verification) -> replication filter -> store.
//! Idempotent: an object already stored is answered as such and changes nothing.
//!
//! Objects from the network also meet admission control (`node/admission.rs`): an author
//! outside the viewers' reach (or, over the disk quota, outside their core) goes to the
//! bounded quarantine instead of the store, with its standing there, and a
//! caller may require each object to be on a given topic (gossip: the message's topic;
//! catch-up: the session's).
//!
//! Verification runs on the blocking thread pool, at most one batch per core at a time (a
//! semaphore); a batch's permit is released before its objects go to the store writer, so
//! while one batch commits the next one verifies. Each call still answers only after the
//! commit of its own objects.

use std::sync::Arc;
use tokio::sync::Semaphore;
use vouch_reputation::{Limits, ObjectId, ValidationError};

use crate::node::admission::{Admission, Admit};
use crate::node::filter::{Refusal, SharedFilter};
use crate::node::metrics::Metrics;
use crate::node::store::{Quarantined, StoreError, StoreWriter, StoredObject, ToQuarantine};

/// Most objects validated as one batch.
pub(crate) const MAX_INGEST_BATCH: usize = 1024;

/// Why an object was not stored. Every variant has a stable [`code`](IngestError::code).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum IngestError {
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
    /// The object is valid but was sent on another topic than its own.
    #[error("object of topic {got} sent as {expected}")]
    WrongTopic {
        /// The topic the sender used.
        expected: String,
        /// The object's topic.
        got: String,
    },
}

impl IngestError {
    /// The stable error code.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            IngestError::Invalid(e) => e.code(),
            IngestError::Refused(r) => r.code(),
            IngestError::Store(e) => e.code(),
            IngestError::BatchTooLarge(_) => "batch-too-large",
            IngestError::WrongTopic { .. } => "wrong-topic",
        }
    }
}

/// An object that went through ingest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ingested {
    /// Its id.
    pub id: ObjectId,
    /// Whether it was new to this store.
    pub new: bool,
    /// The topic it travels on.
    pub topic: String,
    /// Held in quarantine (its author is outside the viewers' reach), not stored: it is
    /// not relayed, served or applied. `new` then says whether the quarantine took it.
    pub quarantined: bool,
}

/// A checked object and where it goes.
#[derive(Debug)]
pub(crate) struct Checked {
    row: StoredObject,
    admit: Admit,
}

/// Where a batch comes from: which replication rules apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// From peers (gossip, catch-up): the rules in force, the viewers' policies included.
    Network,
    /// From the node's own clients (`POST /v1/objects`): the config's rules only.
    Local,
}

/// The ingest pipeline in front of the store writer. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Ingest {
    limits: Limits,
    filter: SharedFilter,
    writer: StoreWriter,
    metrics: Arc<Metrics>,
    verifiers: Arc<Semaphore>,
    admission: Admission,
}

/// The number of cores, the default number of batches verified at once.
pub(crate) fn default_verify_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Ingest {
    /// A pipeline writing through `writer`, verifying up to one batch per core at once.
    pub(crate) fn new(
        limits: Limits,
        filter: SharedFilter,
        writer: StoreWriter,
        metrics: Arc<Metrics>,
    ) -> Self {
        Ingest {
            limits,
            filter,
            writer,
            admission: Admission::off(metrics.clone()),
            metrics,
            verifiers: Arc::new(Semaphore::new(default_verify_threads())),
        }
    }

    /// The same pipeline with admission control for objects from the network.
    pub(crate) fn with_admission(mut self, admission: Admission) -> Self {
        self.admission = admission;
        self
    }

    /// The admission in force.
    pub(crate) fn admission(&self) -> &Admission {
        &self.admission
    }

    /// The same pipeline, verifying at most `threads` batches at once (at least one).
    pub(crate) fn with_verify_threads(mut self, threads: usize) -> Self {
        self.verifiers = Arc::new(Semaphore::new(threads.max(1)));
        self
    }

    /// Validates, filters and admits a batch with the rules for its origin; `topics`, when
    /// given, is the topic each item was sent on (an object of another topic is refused
    /// with `wrong-topic`).
    pub(crate) fn check_batch_from(
        &self,
        items: &[&[u8]],
        topics: Option<&[String]>,
        now_ms: u64,
        origin: Origin,
    ) -> Vec<Result<Checked, IngestError>> {
        let check = |obj: &vouch_reputation::SignedObject| match origin {
            Origin::Network => self.filter.check(obj),
            Origin::Local => self.filter.check_local(obj),
        };
        self.limits
            .validate_batch(items, now_ms)
            .into_iter()
            .enumerate()
            .map(|(i, r)| match r {
                Ok(obj) => {
                    if let Some(expected) = topics.and_then(|t| t.get(i)) {
                        let got = crate::net::topic::topic_of(&obj);
                        if *expected != got {
                            return Err(IngestError::WrongTopic {
                                expected: expected.clone(),
                                got,
                            });
                        }
                    }
                    match check(&obj) {
                        Ok(()) => {
                            let admit = match origin {
                                Origin::Network => self.admission.decide_object(&obj),
                                Origin::Local => Admit::Store,
                            };
                            Ok(Checked {
                                row: StoredObject::from_signed_owned(obj),
                                admit,
                            })
                        }
                        Err(refusal) => {
                            self.metrics.refused(refusal);
                            if origin == Origin::Network {
                                self.admission.remember_refused(&obj.id());
                            }
                            Err(IngestError::Refused(refusal))
                        }
                    }
                }
                Err(e) => {
                    Metrics::inc(&self.metrics.objects_invalid_total);
                    Err(IngestError::Invalid(e))
                }
            })
            .collect()
    }

    /// Runs the whole pipeline on a batch from the network; answers after the store
    /// committed.
    pub(crate) async fn ingest(&self, items: Vec<Vec<u8>>) -> Vec<Result<Ingested, IngestError>> {
        self.ingest_from(items, Origin::Network).await
    }

    /// Runs the whole pipeline on a batch with the rules for its origin; answers after the
    /// store committed.
    pub(crate) async fn ingest_from(
        &self,
        items: Vec<Vec<u8>>,
        origin: Origin,
    ) -> Vec<Result<Ingested, IngestError>> {
        self.ingest_on(items, None, origin).await
    }

    /// Runs the whole pipeline on a batch from the network whose items were each sent on a
    /// topic (`topics[i]` for `items[i]`); answers after the store committed.
    pub(crate) async fn ingest_on_topics(
        &self,
        items: Vec<Vec<u8>>,
        topics: Vec<String>,
    ) -> Vec<Result<Ingested, IngestError>> {
        self.ingest_on(items, Some(topics), Origin::Network).await
    }

    async fn ingest_on(
        &self,
        items: Vec<Vec<u8>>,
        topics: Option<Vec<String>>,
        origin: Origin,
    ) -> Vec<Result<Ingested, IngestError>> {
        if items.len() > MAX_INGEST_BATCH {
            Metrics::inc(&self.metrics.limit_exceeded_total);
            return items
                .iter()
                .map(|_| Err(IngestError::BatchTooLarge(items.len())))
                .collect();
        }
        let n = items.len();
        let closed = || {
            (0..n)
                .map(|_| Err(IngestError::Store(StoreError::Closed)))
                .collect()
        };
        // The permit is held while the batch verifies and released before it is stored.
        let Ok(permit) = self.verifiers.clone().acquire_owned().await else {
            return closed();
        };
        let this = self.clone();
        let checked = tokio::task::spawn_blocking(move || {
            let refs: Vec<&[u8]> = items.iter().map(|b| b.as_slice()).collect();
            let checked = this.check_batch_from(
                &refs,
                topics.as_deref(),
                crate::node::clock::now_ms(),
                origin,
            );
            drop(permit);
            checked
        })
        .await;
        match checked {
            Ok(checked) => self.store_checked(checked).await,
            Err(_) => closed(),
        }
    }

    /// Stores the objects that passed [`Ingest::check_batch_from`]: admitted ones in the
    /// store, the others in the quarantine.
    pub(crate) async fn store_checked(
        &self,
        checked: Vec<Result<Checked, IngestError>>,
    ) -> Vec<Result<Ingested, IngestError>> {
        // The objects go to the writer; each answer keeps what it needs of its object.
        let mut good = Vec::with_capacity(checked.len());
        let mut held = Vec::new();
        let answers: Vec<Result<(ObjectId, String, Admit), IngestError>> = checked
            .into_iter()
            .map(|r| {
                r.map(|c| {
                    let keep = (c.row.id, c.row.topic.clone(), c.admit);
                    match c.admit {
                        Admit::Store => good.push(c.row),
                        Admit::Quarantine { standing } => held.push(ToQuarantine {
                            object: c.row,
                            standing,
                        }),
                    }
                    keep
                })
            })
            .collect();
        let stored = self.writer.insert(good).await;
        let quarantined = self.writer.quarantine(held, self.admission.quotas()).await;
        let (mut news, mut holds) = match (stored, quarantined) {
            (Ok(n), Ok(q)) => (n.into_iter(), q.into_iter()),
            (Err(e), _) | (_, Err(e)) => {
                // Each answer carries the failure's kind (disk full, I/O, corrupt, commit).
                return answers
                    .into_iter()
                    .map(|r| r.and_then(|_| Err(IngestError::Store(e.classify()))))
                    .collect();
            }
        };
        answers
            .into_iter()
            .map(|r| {
                r.map(|(id, topic, admit)| match admit {
                    Admit::Store => Ingested {
                        id,
                        new: news.next().unwrap_or(false),
                        topic,
                        quarantined: false,
                    },
                    Admit::Quarantine { .. } => {
                        let q = holds.next().unwrap_or(Quarantined::Duplicate);
                        // Held or over its author's quota: either way, not to be fetched
                        // again by catch-up.
                        self.admission.remember_refused(&id);
                        Ingested {
                            id,
                            new: q == Quarantined::Held,
                            topic,
                            quarantined: true,
                        }
                    }
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::filter::ReplicationFilter;
    use crate::node::store::{self, Durability, StoreReader};
    use vouch_identity::SecretKey;
    use vouch_reputation::{Body, Object, PostBody, SignedObject};

    fn post(key: &SecretKey, n: u64) -> SignedObject {
        Object {
            author: key.public_key(),
            at: 1_700_000_000_000 + n,
            body: Body::Post(PostBody {
                text: format!("post {n}"),
                ..Default::default()
            }),
        }
        .sign(key)
        .unwrap()
    }

    fn pipeline(dir: &std::path::Path, filter: ReplicationFilter, threads: usize) -> Ingest {
        let metrics = Arc::new(Metrics::default());
        let conn = store::open(dir, Durability::default()).unwrap();
        let (writer, _thread) = StoreWriter::spawn(conn, metrics.clone());
        Ingest::new(
            Limits::default(),
            SharedFilter::new(filter),
            writer,
            metrics,
        )
        .with_verify_threads(threads)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn answers_each_item_in_place_and_only_after_the_commit() {
        let dir = tempfile::tempdir().unwrap();
        let alice = SecretKey::from_seed(&[1; 32]);
        let mallory = SecretKey::from_seed(&[2; 32]);
        let mut filter = ReplicationFilter::new();
        filter.block_author(mallory.public_key());
        let ingest = pipeline(dir.path(), filter, 2);
        let reader = StoreReader::open(dir.path()).unwrap();

        let good = post(&alice, 1);
        let mut flipped = post(&alice, 2).bytes().to_vec();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        let blocked = post(&mallory, 3);
        let items = vec![
            good.bytes().to_vec(),
            flipped,
            blocked.bytes().to_vec(),
            good.bytes().to_vec(),
        ];
        let out = ingest.ingest(items).await;
        assert_eq!(out.len(), 4);
        let first = out[0].as_ref().unwrap();
        assert_eq!((first.id, first.new), (good.id(), true));
        assert_eq!(first.topic, crate::net::topic::SOCIAL_TOPIC);
        assert_eq!(out[1].as_ref().unwrap_err().code(), "invalid-signature");
        assert_eq!(
            out[2].as_ref().unwrap_err().code(),
            "refused-blocked-author"
        );
        // The same object twice in one batch: stored once, the second answer says so.
        assert!(!out[3].as_ref().unwrap().new);
        // Answered after the commit: another connection sees the object at once.
        assert!(reader.contains(&good.id()).unwrap());
        assert!(!reader.contains(&blocked.id()).unwrap());
        assert_eq!(reader.count().unwrap(), 1);

        let over = vec![good.bytes().to_vec(); MAX_INGEST_BATCH + 1];
        let out = ingest.ingest(over).await;
        assert_eq!(out.len(), MAX_INGEST_BATCH + 1);
        assert!(out
            .iter()
            .all(|r| matches!(r, Err(IngestError::BatchTooLarge(_)))));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_batches_with_one_verifier_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let ingest = pipeline(dir.path(), ReplicationFilter::new(), 1);
        let keys: Vec<SecretKey> = (0..4u8)
            .map(|i| SecretKey::from_seed(&[i + 10; 32]))
            .collect();
        let batches: Vec<Vec<Vec<u8>>> = (0..8u64)
            .map(|b| {
                (0..50u64)
                    .map(|i| post(&keys[(i % 4) as usize], b * 1000 + i).bytes().to_vec())
                    .collect()
            })
            .collect();
        let calls = batches.into_iter().map(|b| {
            let ingest = ingest.clone();
            tokio::spawn(async move { ingest.ingest(b).await })
        });
        let mut new = 0;
        for call in calls.collect::<Vec<_>>() {
            let out = call.await.unwrap();
            assert_eq!(out.len(), 50);
            new += out.iter().filter(|r| r.as_ref().unwrap().new).count();
        }
        assert_eq!(new, 400);
        assert_eq!(StoreReader::open(dir.path()).unwrap().count().unwrap(), 400);
    }
}
