//! The node's health, as `/healthz` (liveness) and `/readyz` (readiness) report it: whether
//! the store writer thread and the network task are running, whether the last commit
//! succeeded (a full disk, an I/O error, a corrupt database), and how many stored rows were
//! found damaged when read. The parts report into one shared [`Health`]; the API renders it.
//!
//! Liveness fails only when a part is dead (a restart helps); readiness also fails while the
//! store cannot commit (a restart does not help: space must come back, and the writer finds
//! out by itself, see `store::writer_loop`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::node::metrics::Metrics;

/// One problem with the store, as the last failed commit or probe reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct StoreProblem {
    /// A stable code: `store-disk-full`, `store-io`, `store-corrupt`, `store-commit`.
    pub code: &'static str,
    /// SQLite's message.
    pub message: String,
    /// When it was seen first in this run of failures (ms since the epoch).
    pub since_ms: u64,
}

/// Shared health of one node. Cheap to read; written by the parts as things happen.
#[derive(Debug)]
pub(crate) struct Health {
    metrics: Arc<Metrics>,
    writer_alive: AtomicBool,
    network_alive: AtomicBool,
    shutting_down: AtomicBool,
    failing: Mutex<Option<StoreProblem>>,
    corrupt_rows: AtomicU64,
}

/// What `/healthz` and `/readyz` answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct HealthReport {
    /// `ok`, `degraded` (alive, but the store cannot commit) or `failed` (a part is dead).
    pub status: &'static str,
    /// Every part is running (liveness).
    pub live: bool,
    /// Live, and the store commits (readiness: writes will be acknowledged).
    pub ready: bool,
    /// The store.
    pub store: StoreHealthJson,
    /// The network task.
    pub network: NetworkHealthJson,
}

/// The store part of a [`HealthReport`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct StoreHealthJson {
    /// The writer thread is running.
    pub writer_alive: bool,
    /// The last commit (or recovery probe) succeeded.
    pub commits: bool,
    /// Why commits fail, while they do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<StoreProblem>,
    /// Commits that failed since the node started.
    pub failed_commits: u64,
    /// Stored rows found damaged when read since the node started (never served).
    pub corrupt_rows: u64,
}

/// The network part of a [`HealthReport`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct NetworkHealthJson {
    /// The network task is running.
    pub alive: bool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Health {
    /// Healthy, counting into `metrics`.
    pub(crate) fn new(metrics: Arc<Metrics>) -> Arc<Self> {
        metrics.store_healthy.store(1, Ordering::Relaxed);
        metrics.network_alive.store(1, Ordering::Relaxed);
        Arc::new(Health {
            metrics,
            writer_alive: AtomicBool::new(true),
            network_alive: AtomicBool::new(true),
            shutting_down: AtomicBool::new(false),
            failing: Mutex::new(None),
            corrupt_rows: AtomicU64::new(0),
        })
    }

    /// A commit (or a recovery probe) succeeded: the store is healthy again.
    pub(crate) fn commit_ok(&self) {
        let mut failing = lock(&self.failing);
        if let Some(p) = failing.take() {
            tracing::warn!(code = p.code, "the store commits again");
            self.metrics.store_healthy.store(1, Ordering::Relaxed);
            self.metrics.store_disk_full.store(0, Ordering::Relaxed);
        }
    }

    /// A commit failed with `code` (see [`StoreProblem::code`]).
    pub(crate) fn commit_failed(&self, code: &'static str, message: String, now_ms: u64) {
        Metrics::inc(&self.metrics.store_commit_failures_total);
        self.metrics.store_healthy.store(0, Ordering::Relaxed);
        self.metrics
            .store_disk_full
            .store(u64::from(code == "store-disk-full"), Ordering::Relaxed);
        let mut failing = lock(&self.failing);
        match failing.as_mut() {
            Some(p) if p.code == code => p.message = message,
            _ => {
                *failing = Some(StoreProblem {
                    code,
                    message,
                    since_ms: now_ms,
                })
            }
        }
    }

    /// Whether the last commit failed.
    pub(crate) fn store_failing(&self) -> bool {
        lock(&self.failing).is_some()
    }

    /// A stored row failed re-verification when read (it was not served); the count so far.
    pub(crate) fn corrupt_row(&self) -> u64 {
        Metrics::inc(&self.metrics.store_rows_corrupt_total);
        self.corrupt_rows.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The writer thread has ended (normally at shutdown, or by a panic).
    pub(crate) fn writer_stopped(&self) {
        self.writer_alive.store(false, Ordering::Relaxed);
        if !self.shutting_down.load(Ordering::Relaxed) {
            tracing::error!("the store writer thread stopped");
            self.metrics.store_healthy.store(0, Ordering::Relaxed);
        }
    }

    /// The network task has ended.
    pub(crate) fn network_stopped(&self) {
        self.network_alive.store(false, Ordering::Relaxed);
        if !self.shutting_down.load(Ordering::Relaxed) {
            tracing::error!("the network task stopped");
            self.metrics.network_alive.store(0, Ordering::Relaxed);
        }
    }

    /// The node is stopping: parts that end from now on are not failures.
    pub(crate) fn shutting_down(&self) {
        self.shutting_down.store(true, Ordering::Relaxed);
    }

    /// The report `/healthz` and `/readyz` answer with.
    pub(crate) fn report(&self) -> HealthReport {
        let writer_alive = self.writer_alive.load(Ordering::Relaxed);
        let network_alive = self.network_alive.load(Ordering::Relaxed);
        let problem = lock(&self.failing).clone();
        let live = writer_alive && network_alive;
        let ready = live && problem.is_none();
        HealthReport {
            status: if !live {
                "failed"
            } else if !ready {
                "degraded"
            } else {
                "ok"
            },
            live,
            ready,
            store: StoreHealthJson {
                writer_alive,
                commits: problem.is_none(),
                problem,
                failed_commits: self
                    .metrics
                    .store_commit_failures_total
                    .load(Ordering::Relaxed),
                corrupt_rows: self.corrupt_rows.load(Ordering::Relaxed),
            },
            network: NetworkHealthJson {
                alive: network_alive,
            },
        }
    }
}

/// Sets [`Health::writer_stopped`] when dropped: held by the writer thread, so a panic that
/// unwinds it is seen too.
#[derive(Debug)]
pub(crate) struct AliveGuard {
    health: Arc<Health>,
    part: Part,
}

/// A part of the node whose life [`AliveGuard`] watches.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Part {
    /// The store writer thread.
    Writer,
    /// The network task.
    Network,
}

impl AliveGuard {
    /// Watches `part` until the guard is dropped.
    pub(crate) fn new(health: Arc<Health>, part: Part) -> Self {
        AliveGuard { health, part }
    }
}

impl Drop for AliveGuard {
    fn drop(&mut self) {
        match self.part {
            Part::Writer => self.health.writer_stopped(),
            Part::Network => self.health.network_stopped(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_follows_failures_recovery_and_dead_parts() {
        let metrics = Arc::new(Metrics::default());
        let h = Health::new(metrics.clone());
        let r = h.report();
        assert_eq!((r.status, r.live, r.ready), ("ok", true, true));

        h.commit_failed("store-disk-full", "database or disk is full".into(), 5);
        h.commit_failed("store-disk-full", "database or disk is full".into(), 9);
        let r = h.report();
        assert_eq!((r.status, r.live, r.ready), ("degraded", true, false));
        let p = r.store.problem.unwrap();
        assert_eq!((p.code, p.since_ms), ("store-disk-full", 5));
        assert_eq!(r.store.failed_commits, 2);
        assert_eq!(metrics.store_disk_full.load(Ordering::Relaxed), 1);
        assert_eq!(metrics.store_healthy.load(Ordering::Relaxed), 0);

        h.commit_ok();
        let r = h.report();
        assert_eq!((r.status, r.ready, r.store.failed_commits), ("ok", true, 2));
        assert_eq!(metrics.store_disk_full.load(Ordering::Relaxed), 0);
        assert_eq!(metrics.store_healthy.load(Ordering::Relaxed), 1);

        h.corrupt_row();
        assert_eq!(h.report().store.corrupt_rows, 1);
        assert_eq!(metrics.store_rows_corrupt_total.load(Ordering::Relaxed), 1);

        // A part that dies (here: its guard dropped by a panicking thread) fails liveness.
        let guard = AliveGuard::new(h.clone(), Part::Network);
        let _ = std::thread::spawn(move || {
            let _guard = guard;
            panic!("the network task panics");
        })
        .join();
        let r = h.report();
        assert_eq!((r.status, r.live, r.ready), ("failed", false, false));
        assert!(!r.network.alive);
        assert_eq!(metrics.network_alive.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn parts_that_end_at_shutdown_are_not_failures_in_metrics() {
        let metrics = Arc::new(Metrics::default());
        let h = Health::new(metrics.clone());
        metrics.network_alive.store(1, Ordering::Relaxed);
        h.shutting_down();
        drop(AliveGuard::new(h.clone(), Part::Network));
        assert_eq!(metrics.network_alive.load(Ordering::Relaxed), 1);
        assert!(!h.report().live);
    }
}
