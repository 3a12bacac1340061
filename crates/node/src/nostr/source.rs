//! The node's Nostr source: one task per relay (`relay.rs`) feeding one apply loop that
//! verifies events off the runtime, maps them (`map.rs`), keeps them (`store.rs`) and hands
//! the facts to the engine; the set of authors followed on relays (the Nostr viewers and
//! the keys they reach); and the NIP-85 publisher. `NostrSource` is the handle the API uses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, watch, Notify};
use vouch_reputation::{CuratorSubscription, Policy, Quorum};

use super::event::{parse_event, verify_event, Event, EventError, EventLimits};
use super::keys::NostrKey;
use super::map::{NostrState, Outcome};
use super::nip85::{self, Assertion};
use super::relay::{Incoming, RelayTask};
use super::store::NostrDb;
use super::NostrConfig;
use crate::node::engine::{Engine, EngineError};
use crate::node::metrics::Metrics;

/// Events verified per batch (one blocking task each).
const VERIFY_BATCH: usize = 512;
/// The bound of the queue from the relay tasks to the apply loop.
const INCOMING_QUEUE: usize = 4096;
/// The bound of the queue of events to publish, per relay.
const PUBLISH_QUEUE: usize = 4096;
/// Facts sent to the engine per command.
const FACT_CHUNK: usize = 50_000;
/// The service key file.
pub(crate) const SERVICE_KEY_FILE: &str = "nostr-service.key";

/// The handle to the Nostr source. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct NostrSource {
    shared: Arc<Shared>,
}

struct Shared {
    config: NostrConfig,
    limits: EventLimits,
    state: RwLock<NostrState>,
    viewers: RwLock<BTreeSet<NostrKey>>,
    authors: watch::Sender<Arc<BTreeSet<NostrKey>>>,
    publish: broadcast::Sender<Arc<str>>,
    publish_now: Notify,
    db: Mutex<NostrDb>,
    engine: Engine,
    metrics: Arc<Metrics>,
    secret: [u8; 32],
    connected: Vec<Arc<AtomicBool>>,
    cursors: Vec<Arc<AtomicU64>>,
    /// The last `created_at` of each viewer's assertions: each publication is later than the
    /// one before, so a relay keeps the newest (NIP-01 ties go to the lowest id, at random).
    last_published: Mutex<BTreeMap<NostrKey, u64>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NostrSource")
            .field("relays", &self.config.relays)
            .finish_non_exhaustive()
    }
}

/// Counts a refused event under its code's metric.
fn count_refusal(m: &Metrics, e: &EventError) {
    let c = match e {
        EventError::Malformed(_) => &m.nostr_refused_malformed_total,
        EventError::Oversized(_) | EventError::TagsOversized(_) | EventError::ContentOversized => {
            &m.nostr_refused_oversized_total
        }
        EventError::Future(_) => &m.nostr_refused_future_total,
        _ => &m.nostr_refused_invalid_total,
    };
    Metrics::inc(c);
}

/// The policy a Nostr viewer starts with (`specs/nostr.md` §4): its own lists and those of
/// the keys it follows count, an author is hidden when `quorum` of them mute or report it,
/// and nobody the viewer follows directly is hidden by them.
pub(crate) fn nostr_policy(viewer: &NostrKey, quorum: u32) -> Policy {
    let v = viewer.subject();
    let mut p = Policy::new(v);
    p.curators.push(CuratorSubscription {
        curator: v,
        weight: 1.0,
        depth: 2,
        decay: 1.0,
    });
    let q = quorum.max(1);
    p.quorum = Quorum {
        min_lists: q,
        min_weight: q as f32,
    };
    p.protect_trusted = true;
    p
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

/// Loads the node's NIP-85 service secret, creating it on first start.
fn service_secret(data_dir: &Path) -> anyhow::Result<[u8; 32]> {
    let path = data_dir.join(SERVICE_KEY_FILE);
    let key = if path.exists() {
        vouch_identity::read_key_file(&path)?
    } else {
        let key = vouch_identity::SecretKey::generate(&mut rand::rngs::OsRng);
        vouch_identity::write_key_file(&path, &key)?;
        key
    };
    Ok(key.to_seed())
}

impl NostrSource {
    /// Opens the Nostr store, replays its events into the engine, creates the configured
    /// viewers, and starts the relay tasks, the apply loop and the publisher (all stop
    /// when `stop` fires).
    pub(crate) async fn start(
        config: NostrConfig,
        data_dir: &Path,
        engine: Engine,
        metrics: Arc<Metrics>,
        stop: &broadcast::Sender<()>,
    ) -> anyhow::Result<NostrSource> {
        let db = NostrDb::open(data_dir)?;
        let limits = EventLimits {
            max_event_bytes: config.max_event_bytes,
            ..EventLimits::default()
        };
        // Replay what was kept: ids are checked again, signatures were checked on arrival.
        let mut state = NostrState::new();
        let mut facts = Vec::new();
        let mut replayed = 0usize;
        for json in db.events()? {
            if let Ok(e) = parse_event(json.as_bytes(), &limits, u64::MAX / 2) {
                if state.apply(&e, &mut facts) == Outcome::Applied {
                    replayed += 1;
                }
            }
            if facts.len() >= FACT_CHUNK {
                engine.apply_nostr(std::mem::take(&mut facts)).await?;
            }
        }
        if !facts.is_empty() {
            engine.apply_nostr(facts).await?;
        }
        let mut viewers: BTreeSet<NostrKey> = db.viewers()?.into_iter().collect();
        for v in &config.viewers {
            let k = NostrKey::parse(v)
                .ok_or_else(|| anyhow::anyhow!("invalid Nostr viewer {v:?} in [nostr]"))?;
            db.add_viewer(&k)?;
            viewers.insert(k);
        }
        let secret = service_secret(data_dir)?;
        let n = config.relays.len();
        let cursors: Vec<Arc<AtomicU64>> = config
            .relays
            .iter()
            .map(|r| db.cursor(r).map(|c| Arc::new(AtomicU64::new(c))))
            .collect::<Result<_, _>>()?;
        let (authors, authors_rx) = watch::channel(Arc::new(BTreeSet::new()));
        let (publish, _) = broadcast::channel(PUBLISH_QUEUE);
        let source = NostrSource {
            shared: Arc::new(Shared {
                config: config.clone(),
                limits,
                state: RwLock::new(state),
                viewers: RwLock::new(BTreeSet::new()),
                authors,
                publish,
                publish_now: Notify::new(),
                db: Mutex::new(db),
                engine,
                metrics: metrics.clone(),
                secret,
                connected: (0..n).map(|_| Arc::new(AtomicBool::new(false))).collect(),
                cursors,
                last_published: Mutex::new(BTreeMap::new()),
            }),
        };
        for v in viewers {
            source.add_viewer(v).await?;
        }
        tracing::info!(replayed, relays = n, "nostr source ready");
        let (tx, rx) = mpsc::channel::<Incoming>(INCOMING_QUEUE);
        let tls = if config.relays.iter().any(|r| r.starts_with("wss://")) {
            let t = super::relay::tls_connector();
            if t.is_none() {
                tracing::warn!("no root certificates found: wss:// relays cannot connect");
            }
            t
        } else {
            None
        };
        for (i, url) in config.relays.iter().enumerate() {
            let task = RelayTask {
                index: i,
                url: url.clone(),
                authors: authors_rx.clone(),
                cursor: source.shared.cursors[i].clone(),
                events: tx.clone(),
                publish: source.shared.publish.subscribe(),
                max_message_bytes: config.max_event_bytes + 1024,
                max_backoff: Duration::from_secs(config.max_backoff_secs.max(1)),
                metrics: metrics.clone(),
                connected: source.shared.connected[i].clone(),
                tls: tls.clone(),
            };
            tokio::spawn(task.run(stop.subscribe()));
        }
        drop(tx);
        let s = source.clone();
        let mut stop_apply = stop.subscribe();
        tokio::spawn(async move {
            tokio::select! {
                _ = s.apply_loop(rx) => {}
                _ = stop_apply.recv() => {}
            }
        });
        if config.publish && n > 0 {
            let s = source.clone();
            let mut stop_pub = stop.subscribe();
            tokio::spawn(async move {
                tokio::select! {
                    _ = s.publish_loop() => {}
                    _ = stop_pub.recv() => {}
                }
            });
        }
        Ok(source)
    }

    /// Registers a Nostr viewer: a Vouch viewer with the Nostr policy (kept if it exists),
    /// and its evidence fetched from now on.
    pub(crate) async fn add_viewer(&self, key: NostrKey) -> Result<(), EngineError> {
        let policy = nostr_policy(&key, self.shared.config.quorum);
        match self
            .shared
            .engine
            .put_viewer(key.subject(), policy, Vec::new(), true)
            .await
        {
            Ok(_) | Err(EngineError::ViewerExists(_)) => {}
            Err(e) => return Err(e),
        }
        if let Err(e) = lock(&self.shared.db).add_viewer(&key) {
            tracing::warn!(error = %e, "cannot record the Nostr viewer");
        }
        let mut facts = Vec::new();
        write(&self.shared.state).add_viewer(key, &mut facts);
        if !facts.is_empty() {
            self.shared.engine.apply_nostr(facts).await?;
        }
        write(&self.shared.viewers).insert(key);
        self.refresh_authors();
        Ok(())
    }

    /// The registered Nostr viewers.
    pub(crate) fn viewers(&self) -> Vec<NostrKey> {
        read(&self.shared.viewers).iter().copied().collect()
    }

    /// The Nostr event behind a list entry or label.
    pub(crate) fn origin(&self, id: &vouch_reputation::ObjectId) -> Option<[u8; 32]> {
        read(&self.shared.state).origin(id)
    }

    /// The event limits in force.
    pub(crate) fn limits(&self) -> &EventLimits {
        &self.shared.limits
    }

    /// The viewer's NIP-85 service key.
    pub(crate) fn service_key(&self, viewer: &NostrKey) -> NostrKey {
        nip85::public(&nip85::service_key(&self.shared.secret, viewer))
    }

    /// The relays and whether each is connected now.
    pub(crate) fn relays(&self) -> Vec<(String, bool)> {
        self.shared
            .config
            .relays
            .iter()
            .zip(&self.shared.connected)
            .map(|(r, c)| (r.clone(), c.load(Ordering::Relaxed)))
            .collect()
    }

    /// Authors followed on relays now.
    pub(crate) fn n_authors(&self) -> usize {
        self.shared.authors.borrow().len()
    }

    /// Verifies, maps, keeps and applies a batch of events (from relays, or given to the
    /// API). Returns how many were applied.
    pub(crate) async fn ingest(&self, batch: Vec<(usize, serde_json::Value)>) -> usize {
        let limits = self.shared.limits;
        let now_s = crate::node::clock::now_ms() / 1000;
        let checked = tokio::task::spawn_blocking(move || {
            batch
                .into_iter()
                .map(|(relay, v)| {
                    let bytes = serde_json::to_vec(&v).unwrap_or_default();
                    (relay, verify_event(&bytes, &limits, now_s))
                })
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        let m = &self.shared.metrics;
        let mut facts = Vec::new();
        let mut kept: Vec<Event> = Vec::new();
        let mut follows_changed = false;
        let mut newest: BTreeMap<usize, u64> = BTreeMap::new();
        {
            let mut state = write(&self.shared.state);
            for (relay, r) in checked {
                let e = match r {
                    Ok(e) => e,
                    Err(err) => {
                        count_refusal(m, &err);
                        tracing::debug!(code = err.code(), "nostr event refused");
                        continue;
                    }
                };
                let at = newest.entry(relay).or_insert(0);
                *at = (*at).max(e.created_at);
                match state.apply(&e, &mut facts) {
                    Outcome::Applied => {
                        Metrics::inc(&m.nostr_events_applied_total);
                        follows_changed |= e.kind == super::map::KIND_FOLLOWS;
                        kept.push(e);
                    }
                    Outcome::Duplicate => Metrics::inc(&m.nostr_events_duplicate_total),
                    Outcome::Rollback => Metrics::inc(&m.nostr_events_rollback_total),
                    Outcome::Unsupported => Metrics::inc(&m.nostr_events_unsupported_total),
                }
            }
        }
        let applied = kept.len();
        if !kept.is_empty() {
            let refs: Vec<&Event> = kept.iter().collect();
            if let Err(e) = lock(&self.shared.db).put_events(&refs) {
                tracing::error!(error = %e, "cannot keep Nostr events");
            }
        }
        for (relay, at) in newest {
            if let (Some(c), Some(url)) = (
                self.shared.cursors.get(relay),
                self.shared.config.relays.get(relay),
            ) {
                // Never ahead of the node's clock: a relay cannot push the cursor past now.
                let at = at.min(now_s);
                if c.fetch_max(at, Ordering::Relaxed) < at {
                    let _ = lock(&self.shared.db).set_cursor(url, at);
                }
            }
        }
        for chunk in facts.chunks(FACT_CHUNK) {
            if let Err(e) = self.shared.engine.apply_nostr(chunk.to_vec()).await {
                tracing::error!(error = %e, "engine refused Nostr facts");
            }
        }
        if follows_changed {
            self.refresh_authors();
        }
        if applied > 0 {
            // Scores may have moved: the publisher checks the ranks (and publishes only
            // those that moved by the threshold).
            self.shared.publish_now.notify_one();
        }
        applied
    }

    async fn apply_loop(self, mut rx: mpsc::Receiver<Incoming>) {
        while let Some(first) = rx.recv().await {
            let mut batch = vec![(first.relay, first.event)];
            while batch.len() < VERIFY_BATCH {
                match rx.try_recv() {
                    Ok(i) => batch.push((i.relay, i.event)),
                    Err(_) => break,
                }
            }
            self.ingest(batch).await;
            let n = self
                .shared
                .connected
                .iter()
                .filter(|c| c.load(Ordering::Relaxed))
                .count();
            self.shared
                .metrics
                .nostr_relays_connected
                .store(n as u64, Ordering::Relaxed);
        }
    }

    /// The authors to follow: breadth-first from the viewers along follows, up to
    /// `fetch_depth` hops and `max_authors` keys.
    fn refresh_authors(&self) {
        let viewers = read(&self.shared.viewers).clone();
        let max = self.shared.config.max_authors.max(1);
        let mut set: BTreeSet<NostrKey> = BTreeSet::new();
        {
            let state = read(&self.shared.state);
            let mut frontier: Vec<NostrKey> = viewers.iter().copied().collect();
            for depth in 0..=self.shared.config.fetch_depth {
                let mut next = Vec::new();
                for k in frontier {
                    if set.len() >= max {
                        break;
                    }
                    if !set.insert(k) {
                        continue;
                    }
                    if depth < self.shared.config.fetch_depth {
                        if let Some(f) = state.follows_of(&k) {
                            next.extend(f.iter().copied());
                        }
                    }
                }
                frontier = next;
            }
        }
        self.shared
            .metrics
            .nostr_authors
            .store(set.len() as u64, Ordering::Relaxed);
        self.shared.authors.send_if_modified(|cur| {
            if **cur == set {
                false
            } else {
                *cur = Arc::new(set);
                true
            }
        });
    }

    /// The assertions the node makes for `viewer` now (every followed author the viewer's
    /// trust reaches, highest rank first, bounded).
    pub(crate) fn assertions(&self, viewer: &NostrKey) -> Vec<Assertion> {
        let subjects: Vec<NostrKey> = self
            .shared
            .authors
            .borrow()
            .iter()
            .filter(|k| *k != viewer)
            .copied()
            .collect();
        let vs = viewer.subject();
        let scores: Vec<(NostrKey, f64)> = self.shared.engine.read(|core| {
            let Some(view) = core.trust_view(&vs) else {
                return Vec::new();
            };
            subjects
                .iter()
                .map(|k| {
                    let s = view
                        .score(&core.graph, k.subject().as_bytes())
                        .map_or(0.0, |t| t.score);
                    (*k, s)
                })
                .collect()
        });
        let trusted: BTreeSet<NostrKey> = scores
            .iter()
            .filter(|(_, s)| *s > 0.0)
            .map(|(k, _)| *k)
            .chain(std::iter::once(*viewer))
            .collect();
        let mut followers: BTreeMap<NostrKey, u64> = BTreeMap::new();
        {
            let state = read(&self.shared.state);
            for f in &trusted {
                for s in state.follows_of(f).into_iter().flatten() {
                    *followers.entry(*s).or_insert(0) += 1;
                }
            }
        }
        let ranks = nip85::ranks(&scores);
        let mut out: Vec<Assertion> = scores
            .iter()
            .map(|(k, _)| Assertion {
                subject: *k,
                rank: ranks.get(k).copied().unwrap_or(0),
                followers: followers.get(k).copied().unwrap_or(0),
            })
            .collect();
        out.sort_by(|a, b| b.rank.cmp(&a.rank).then(a.subject.cmp(&b.subject)));
        out.truncate(self.shared.config.max_assertions_per_viewer);
        out
    }

    /// Signs and sends the assertions that changed enough (all of them when `all`);
    /// returns the events sent.
    pub(crate) fn publish(&self, viewer: &NostrKey, all: bool) -> Vec<Event> {
        let current = self.assertions(viewer);
        let published = lock(&self.shared.db).published(viewer).unwrap_or_default();
        let due = if all {
            current
        } else {
            nip85::due(&current, &published, self.shared.config.rank_threshold)
        };
        let key = nip85::service_key(&self.shared.secret, viewer);
        let now_s = {
            let mut last = lock(&self.shared.last_published);
            let t = last.entry(*viewer).or_insert(0);
            *t = (crate::node::clock::now_ms() / 1000).max(t.saturating_add(1));
            *t
        };
        let mut sent = Vec::new();
        for a in &due {
            let mut aux = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut aux);
            let Ok(e) = nip85::assertion_event(&key, a, now_s, &aux) else {
                continue;
            };
            let msg = serde_json::json!(["EVENT", e.to_json()]).to_string();
            // No relay connected: nothing is lost, the ranks stay unpublished.
            if self.shared.publish.send(Arc::from(msg)).is_ok() {
                Metrics::inc(&self.shared.metrics.nostr_assertions_published_total);
                sent.push(e);
            }
        }
        let ranks: Vec<(NostrKey, u8)> = sent
            .iter()
            .filter_map(|e| {
                let d = e.tag_value("d").and_then(NostrKey::parse)?;
                let r = e.tag_value("rank")?.parse().ok()?;
                Some((d, r))
            })
            .collect();
        if let Err(e) = lock(&self.shared.db).set_published(viewer, &ranks) {
            tracing::warn!(error = %e, "cannot record published ranks");
        }
        sent
    }

    async fn publish_loop(self) {
        let every = Duration::from_secs(self.shared.config.publish_interval_secs.max(1));
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = self.shared.publish_now.notified() => {}
            }
            for v in self.viewers() {
                let s = self.clone();
                let _ = tokio::task::spawn_blocking(move || s.publish(&v, false)).await;
            }
        }
    }
}
