//! The personhood proofs that `ballot` objects carry, verified on background threads as
//! they arrive, never inside a view build: a proof costs about 8 ms of one core (a cold poll
//! of 10,000 ballots about 80 s), a view is rebuilt every few hundred milliseconds.
//!
//! [`BallotChecker`] is the [`PersonhoodCheck`] the node hands its views and its poll
//! tallies. It answers from a bounded memory of results; a proof it has not verified yet is
//! queued (bounded, deduplicated) for the verifier threads and answered `personhood-pending`
//! meanwhile, so a tally counts only what was verified and says how much is still pending.
//! When the threads have verified what was queued (or every 250 ms while they work) they
//! wake the engine, which rebuilds the views: the tallies then include the new voices. The
//! engine also queues the ballots of every poll that objects touched as they are applied, so
//! verification starts on arrival, not when someone first asks.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use vouch_identity::PublicKey;
use vouch_reputation::{PersonhoodCheck, PollPseudonym, ProofCheck};

use crate::node::metrics::Metrics;

/// The answer for a proof waiting for a verifier thread.
pub(crate) const PENDING: &str = "personhood-pending";
/// Most proofs waiting for a verifier thread; beyond it a proof is queued again the next
/// time a tally reads it.
pub(crate) const QUEUE: usize = 65_536;
/// Most results remembered; past it the memory starts over (results are recomputed).
pub(crate) const MEMO_CAPACITY: usize = 1 << 20;
/// The engine is woken at least this often while proofs are being verified.
pub(crate) const NOTIFY_EVERY: Duration = Duration::from_millis(250);

type Verdict = Result<PollPseudonym, &'static str>;

/// One proof to verify, owned.
#[cfg_attr(not(feature = "vc"), allow(dead_code))]
struct Job {
    key: [u8; 32],
    issuer: String,
    scope: String,
    epoch: u64,
    voting_key: PublicKey,
    proof: Vec<u8>,
    at_ms: u64,
}

struct Inner {
    memo: Mutex<HashMap<[u8; 32], Verdict>>,
    queued: Mutex<HashSet<[u8; 32]>>,
    last_notify: Mutex<Instant>,
    changed: Arc<Notify>,
    metrics: Arc<Metrics>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The node's personhood checker (see the module's documentation). Dropping it stops the
/// verifier threads once they finish their current proof.
pub(crate) struct BallotChecker {
    inner: Arc<Inner>,
    tx: SyncSender<Job>,
}

impl std::fmt::Debug for BallotChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BallotChecker")
            .field("remembered", &lock(&self.inner.memo).len())
            .field("queued", &lock(&self.inner.queued).len())
            .finish()
    }
}

impl BallotChecker {
    /// Starts `threads` verifier threads (at least one); `changed` is notified when
    /// verified results are ready.
    pub(crate) fn start(
        threads: usize,
        changed: Arc<Notify>,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<BallotChecker> {
        let inner = Arc::new(Inner {
            memo: Mutex::new(HashMap::new()),
            queued: Mutex::new(HashSet::new()),
            last_notify: Mutex::new(Instant::now()),
            changed,
            metrics,
        });
        let (tx, rx) = sync_channel(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let (inner, rx) = (inner.clone(), rx.clone());
            std::thread::Builder::new()
                .name(format!("vouch-ballots-{i}"))
                .spawn(move || work(&inner, &rx))?;
        }
        Ok(BallotChecker { inner, tx })
    }

    /// Proofs waiting for a verifier thread.
    #[cfg(all(test, feature = "vc"))]
    pub(crate) fn queued(&self) -> usize {
        lock(&self.inner.queued).len()
    }

    fn memo_key(c: &ProofCheck<'_>) -> [u8; 32] {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for part in [c.issuer.as_bytes(), c.scope.as_bytes(), c.proof] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        h.update(c.epoch.to_be_bytes());
        h.update(c.voting_key.as_bytes());
        h.update(c.at_ms.to_be_bytes());
        h.finalize().into()
    }
}

impl PersonhoodCheck for BallotChecker {
    fn check(&self, c: &ProofCheck<'_>) -> Verdict {
        let key = Self::memo_key(c);
        if let Some(r) = lock(&self.inner.memo).get(&key) {
            return *r;
        }
        let fresh = lock(&self.inner.queued).insert(key);
        if fresh {
            let job = Job {
                key,
                issuer: c.issuer.to_owned(),
                scope: c.scope.to_owned(),
                epoch: c.epoch,
                voting_key: *c.voting_key,
                proof: c.proof.to_vec(),
                at_ms: c.at_ms,
            };
            match self.tx.try_send(job) {
                Ok(()) => {
                    let n = lock(&self.inner.queued).len() as u64;
                    self.inner
                        .metrics
                        .personhood_proofs_queued
                        .store(n, std::sync::atomic::Ordering::Relaxed);
                }
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                    lock(&self.inner.queued).remove(&key);
                    Metrics::inc(&self.inner.metrics.personhood_queue_full_total);
                }
            }
        }
        Err(PENDING)
    }
}

fn work(inner: &Inner, rx: &Mutex<Receiver<Job>>) {
    loop {
        let job = lock(rx).recv();
        let Ok(job) = job else {
            return;
        };
        let start = Instant::now();
        let verdict = verify(&job);
        let m = &inner.metrics;
        Metrics::inc(&m.personhood_proofs_checked_total);
        if verdict.is_err() {
            Metrics::inc(&m.personhood_proofs_rejected_total);
        }
        Metrics::add(
            &m.personhood_verify_micros_total,
            start.elapsed().as_micros() as u64,
        );
        {
            let mut memo = lock(&inner.memo);
            if memo.len() >= MEMO_CAPACITY {
                memo.clear();
            }
            memo.insert(job.key, verdict);
        }
        let left = {
            let mut q = lock(&inner.queued);
            q.remove(&job.key);
            q.len()
        };
        m.personhood_proofs_queued
            .store(left as u64, std::sync::atomic::Ordering::Relaxed);
        let mut last = lock(&inner.last_notify);
        if left == 0 || last.elapsed() >= NOTIFY_EVERY {
            *last = Instant::now();
            inner.changed.notify_one();
        }
    }
}

#[cfg(feature = "vc")]
fn verify(j: &Job) -> Verdict {
    use vouch_identity::{PersonhoodIssuerKey, PersonhoodProof, PersonhoodScope};
    let issuer = PersonhoodIssuerKey::from_did_key(&j.issuer).map_err(|e| e.code())?;
    let proof = PersonhoodProof::from_bytes(&j.proof).map_err(|e| e.code())?;
    let scope = PersonhoodScope::new(j.scope.clone(), j.epoch);
    vouch_identity::verify_personhood(&proof, &issuer, &scope, &j.voting_key, j.at_ms)
        .map(|p| p.0)
        .map_err(|e| e.code())
}

/// Without feature `vc` (no BBS) no proof can be verified.
#[cfg(not(feature = "vc"))]
fn verify(_: &Job) -> Verdict {
    Err("personhood-unsupported")
}

#[cfg(all(test, feature = "vc"))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use vouch_identity::{PersonhoodIssuer, PersonhoodRequest, PersonhoodScope, SecretKey};

    const DAY: u64 = 86_400_000;
    const NOW: u64 = 20_500 * DAY + 5_000;

    /// A proof is pending until a verifier thread has checked it, then answered from
    /// memory; a proof for another voting key is rejected with the identity layer's code.
    #[test]
    fn proofs_are_verified_in_the_background_and_remembered() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let issuer = PersonhoodIssuer::generate(&mut rng).unwrap();
        let (req, pending) = PersonhoodRequest::new(&mut rng).unwrap();
        let iss = issuer
            .issue(&req, NOW - NOW % DAY + 30 * DAY, NOW, &mut rng)
            .unwrap();
        let cred = pending.finalize(&issuer.public_key(), &iss).unwrap();
        let scope = PersonhoodScope::new("poll/x", 0);
        let key = SecretKey::generate(&mut rng).public_key();
        let other = SecretKey::generate(&mut rng).public_key();
        let proof = cred.prove(&scope, &key).unwrap().to_bytes();
        let did = issuer.public_key().to_did_key();

        let changed = Arc::new(Notify::new());
        let metrics = Arc::new(Metrics::default());
        let checker = BallotChecker::start(2, changed.clone(), metrics.clone()).unwrap();
        let c = ProofCheck {
            issuer: &did,
            scope: "poll/x",
            epoch: 0,
            voting_key: &key,
            proof: &proof,
            at_ms: NOW,
        };
        let wrong = ProofCheck {
            voting_key: &other,
            ..c
        };
        assert_eq!(checker.check(&c), Err(PENDING));
        assert_eq!(checker.check(&wrong), Err(PENDING));
        // Asking again does not queue it twice.
        assert_eq!(checker.check(&c), Err(PENDING));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while checker.queued() > 0 && Instant::now() < deadline {
            rt.block_on(async {
                let _ = tokio::time::timeout(Duration::from_secs(1), changed.notified()).await;
            });
        }
        assert_eq!(checker.check(&c), Ok(cred.pseudonym(&scope).unwrap().0));
        assert_eq!(checker.check(&wrong), Err("personhood-bad-proof"));
        let checked = metrics
            .personhood_proofs_checked_total
            .load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(checked, 2, "each proof verified once");
        assert_eq!(
            metrics
                .personhood_proofs_rejected_total
                .load(std::sync::atomic::Ordering::Relaxed),
            1
        );
    }
}
