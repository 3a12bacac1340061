//! Catch-up by range-based set reconciliation (negentropy), keyed by (time, object id).
//!
//! The initiator holds an [`Initiator`] per (peer, topic); the other side answers each
//! message with [`answer`], which is stateless. When the initiator has no next message, it
//! knows the ids it lacks and fetches them by id in batches of [`FETCH_BATCH`].

use negentropy::{Id, Negentropy, NegentropyStorageVector};
use serde::{Deserialize, Serialize};
use vouch_reputation::ObjectId;

/// Largest negentropy message either side sends (bytes); `0` would mean unlimited.
pub(crate) const FRAME_SIZE_LIMIT: u64 = 1024 * 1024;
/// Most round trips an initiator makes before it gives up on a session.
pub(crate) const MAX_ROUNDS: u32 = 64;
/// Most object ids in one fetch request.
pub(crate) const FETCH_BATCH: usize = 256;
/// Most bytes of objects in one fetch response.
pub(crate) const FETCH_RESPONSE_MAX_BYTES: usize = 4 * 1024 * 1024;
/// Longest topic name accepted in a request.
pub(crate) const MAX_TOPIC_LEN: usize = 128;
/// Largest encoded request (bytes).
pub(crate) const MAX_REQUEST_BYTES: u64 = FRAME_SIZE_LIMIT + 64 * 1024;
/// Largest encoded response (bytes).
pub(crate) const MAX_RESPONSE_BYTES: u64 = FETCH_RESPONSE_MAX_BYTES as u64 + 64 * 1024;
/// Most ids one session fetches: a responder that claims more (an inflated id list) costs
/// the asker at most this many ids of memory and `MAX_IDS_PER_SESSION / FETCH_BATCH` fetch
/// requests; an honest responder's rest comes at the next session.
pub(crate) const MAX_IDS_PER_SESSION: usize = 50_000;
/// How long the responder reuses a topic's reconciliation index before it reads the store
/// again (only if something was committed since).
pub(crate) const INDEX_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(2);

/// A request of the `/vouch/sync/1` protocol (CBOR-encoded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum SyncRequest {
    /// One negentropy message about one topic.
    Reconcile {
        /// The topic.
        topic: String,
        /// The negentropy message.
        #[serde(with = "serde_bytes")]
        msg: Vec<u8>,
    },
    /// Objects by id (at most [`FETCH_BATCH`]).
    Fetch {
        /// 32-byte sha2-256 digests (the CIDs' digests).
        ids: Vec<serde_bytes::ByteBuf>,
    },
}

/// A response of the `/vouch/sync/1` protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum SyncResponse {
    /// The answer to a negentropy message.
    Reconcile {
        /// The negentropy message.
        #[serde(with = "serde_bytes")]
        msg: Vec<u8>,
    },
    /// The requested objects that the responder has (canonical bytes).
    Objects {
        /// The objects.
        objects: Vec<serde_bytes::ByteBuf>,
    },
    /// The request was refused.
    Error {
        /// A stable code: `bad-request`, `busy`, `internal`.
        code: String,
    },
}

/// A catch-up failure. Every variant has a stable [`code`](SyncError::code).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum SyncError {
    /// The negentropy library refused a message or a state.
    #[error("negentropy: {0}")]
    Negentropy(String),
    /// The session went past [`MAX_ROUNDS`].
    #[error("too many round trips")]
    TooManyRounds,
}

fn neg(e: negentropy::Error) -> SyncError {
    SyncError::Negentropy(e.to_string())
}

/// Sealed negentropy storage of `(at, id)` items (any order).
pub(crate) fn storage(items: &[(u64, [u8; 32])]) -> Result<NegentropyStorageVector, SyncError> {
    let mut s = NegentropyStorageVector::with_capacity(items.len());
    for (at, id) in items {
        s.insert(*at, Id::from_byte_array(*id)).map_err(neg)?;
    }
    s.seal().map_err(neg)?;
    Ok(s)
}

/// The responder's answer to one negentropy message.
pub(crate) fn answer(
    storage: &NegentropyStorageVector,
    query: &[u8],
) -> Result<Vec<u8>, SyncError> {
    let mut n = Negentropy::borrowed(storage, FRAME_SIZE_LIMIT).map_err(neg)?;
    n.reconcile(query).map_err(neg)
}

/// The initiator's side of one reconciliation.
#[derive(Debug)]
pub(crate) struct Initiator {
    neg: Negentropy<'static, NegentropyStorageVector>,
    need: Vec<ObjectId>,
    have: usize,
    /// Round trips so far.
    pub rounds: u32,
    /// The session stopped at [`MAX_IDS_PER_SESSION`].
    pub capped: bool,
    /// Bytes of negentropy messages sent.
    pub bytes_sent: u64,
    /// Bytes of negentropy messages received.
    pub bytes_received: u64,
}

impl Initiator {
    /// Starts a session over `items`; returns it and the first message to send.
    pub(crate) fn start(items: &[(u64, [u8; 32])]) -> Result<(Self, Vec<u8>), SyncError> {
        let mut neg = Negentropy::owned(storage(items)?, FRAME_SIZE_LIMIT).map_err(neg)?;
        let first = neg.initiate().map_err(neg_err)?;
        let init = Initiator {
            neg,
            need: Vec::new(),
            have: 0,
            rounds: 0,
            capped: false,
            bytes_sent: first.len() as u64,
            bytes_received: 0,
        };
        Ok((init, first))
    }

    /// Takes the peer's answer; returns the next message, or `None` when reconciled.
    pub(crate) fn step(&mut self, answer: &[u8]) -> Result<Option<Vec<u8>>, SyncError> {
        self.rounds += 1;
        self.bytes_received += answer.len() as u64;
        if self.rounds > MAX_ROUNDS {
            return Err(SyncError::TooManyRounds);
        }
        let mut have = Vec::new();
        let mut need = Vec::new();
        let next = self
            .neg
            .reconcile_with_ids(answer, &mut have, &mut need)
            .map_err(neg)?;
        self.have += have.len();
        self.need
            .extend(need.into_iter().map(|id| ObjectId(id.to_bytes())));
        if self.need.len() >= MAX_IDS_PER_SESSION {
            // Enough for one session, whatever the responder claims beyond.
            self.need.truncate(MAX_IDS_PER_SESSION);
            self.capped = true;
            return Ok(None);
        }
        if let Some(m) = &next {
            self.bytes_sent += m.len() as u64;
        }
        Ok(next)
    }

    /// Ids the peer has and this side lacks (complete once [`Initiator::step`] gave `None`).
    pub(crate) fn need(&self) -> &[ObjectId] {
        &self.need
    }

    /// Takes the needed ids out of the session.
    pub(crate) fn take_need(&mut self) -> Vec<ObjectId> {
        std::mem::take(&mut self.need)
    }

    /// Number of ids this side has and the peer lacks.
    #[cfg(test)]
    fn have_count(&self) -> usize {
        self.have
    }
}

fn neg_err(e: negentropy::Error) -> SyncError {
    neg(e)
}

/// The responder's reconciliation indexes, one per followed topic, reused across messages
/// and peers for [`INDEX_MAX_AGE`] (and longer while nothing is committed), so a peer's
/// messages do not make the node reread and re-sort a topic each time.
#[derive(Debug, Default)]
pub(crate) struct IndexCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, CachedIndex>>,
}

/// One topic's index, the store seq it was built at, and when.
type CachedIndex = (
    std::sync::Arc<NegentropyStorageVector>,
    i64,
    std::time::Instant,
);

impl IndexCache {
    /// The index of `topic` as of at least `seq` or [`INDEX_MAX_AGE`] ago; `load` reads the
    /// topic's items when a new one is needed (its second value says it was built).
    pub(crate) fn get(
        &self,
        topic: &str,
        seq: i64,
        load: impl FnOnce() -> Result<Vec<(u64, [u8; 32])>, SyncError>,
    ) -> Result<(std::sync::Arc<NegentropyStorageVector>, bool), SyncError> {
        {
            let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((s, built_seq, at)) = entries.get(topic) {
                if *built_seq >= seq || at.elapsed() < INDEX_MAX_AGE {
                    return Ok((s.clone(), false));
                }
            }
        }
        let built = std::sync::Arc::new(storage(&load()?)?);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.insert(
            topic.to_owned(),
            (built.clone(), seq, std::time::Instant::now()),
        );
        Ok((built, true))
    }
}

/// Runs a whole reconciliation between two in-memory sets; returns the initiator (with its
/// counters and needed ids). Used by tests and the sync benchmark.
pub(crate) fn reconcile_in_memory(
    local: &[(u64, [u8; 32])],
    remote: &NegentropyStorageVector,
) -> Result<Initiator, SyncError> {
    let (mut init, mut msg) = Initiator::start(local)?;
    loop {
        let reply = answer(remote, &msg)?;
        match init.step(&reply)? {
            Some(next) => msg = next,
            None => return Ok(init),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(range: std::ops::Range<u64>) -> Vec<(u64, [u8; 32])> {
        range
            .map(|i| {
                let mut id = [0u8; 32];
                id[..8].copy_from_slice(&i.to_be_bytes());
                id[31] = 7;
                (1_000 + i, id)
            })
            .collect()
    }

    #[test]
    fn finds_exactly_what_is_missing() {
        let remote = items(0..5_000);
        let mut local = items(0..5_000);
        local.retain(|(at, _)| at % 97 != 0);
        let missing: Vec<ObjectId> = remote
            .iter()
            .filter(|(at, _)| at % 97 == 0)
            .map(|(_, id)| ObjectId(*id))
            .collect();
        let store = storage(&remote).unwrap();
        let mut init = reconcile_in_memory(&local, &store).unwrap();
        let mut need = init.take_need();
        need.sort();
        let mut want = missing;
        want.sort();
        assert_eq!(need, want);
        assert!(init.rounds <= 3, "{} rounds", init.rounds);
        assert_eq!(init.have_count(), 0);
    }

    #[test]
    fn an_inflated_id_list_is_cut_at_the_cap() {
        // The responder claims far more ids than a session fetches.
        let n = MAX_IDS_PER_SESSION as u64 + 20_000;
        let remote = storage(&items(0..n)).unwrap();
        let init = reconcile_in_memory(&[], &remote).unwrap();
        assert!(init.capped);
        assert_eq!(init.need().len(), MAX_IDS_PER_SESSION);
    }

    #[test]
    fn the_index_cache_reads_the_store_once_while_nothing_changes() {
        let cache = IndexCache::default();
        let mut loads = 0;
        for _ in 0..5 {
            let (_, built) = cache
                .get("t", 7, || {
                    loads += 1;
                    Ok(items(0..100))
                })
                .unwrap();
            let _ = built;
        }
        assert_eq!(loads, 1);
        // A commit since, but the index is young: still reused.
        let (_, built) = cache.get("t", 8, || Ok(items(0..101))).unwrap();
        assert!(!built);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let store = storage(&items(0..10)).unwrap();
        for bad in [&b""[..], &[0x00; 40]] {
            assert!(answer(&store, bad).is_err());
        }
        // Truncated or odd but well-versioned input: an answer or an error, never a panic.
        for odd in [
            &[0x61][..],
            &[0x61, 0xff, 0xff, 0xff],
            &[0x61, 0x00, 0x02, 0x05],
        ] {
            let _ = answer(&store, odd);
        }
    }

    #[test]
    fn requests_round_trip_through_cbor_sizes() {
        let req = SyncRequest::Fetch {
            ids: vec![serde_bytes::ByteBuf::from(vec![1u8; 32]); FETCH_BATCH],
        };
        let json = serde_json::to_vec(&req).unwrap();
        assert!(!json.is_empty());
    }
}
