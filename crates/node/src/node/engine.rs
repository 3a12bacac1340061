//! The engine: the node's derived moderation and trust state, kept beside the store. It owns
//! a [`TrustGraph`] and a [`ModerationState`], rebuilt from the objects table at start and fed
//! every object the store commits afterwards (the store's commit hook,
//! [`StoreWriter::commits`](crate::node::store::StoreWriter::commits)). For each local viewer it
//! keeps the viewer's [`Policy`] (in the `viewers` table), an incrementally updated
//! [`TrustView`], and a compiled [`View`] published as an immutable [`ViewerSnapshot`] that
//! request handlers share through an `Arc`: decisions never wait for a build.
//!
//! One thread does all the writing (applying objects, updating trust views, building
//! views), so the request path only ever takes short read locks. It holds no trust or
//! decision logic of its own: every rule is in `vouch-reputation`.
//!
//! Whenever it republishes the views it also derives the replication filter from them
//! ([`crate::node::filter::derive_from_policies`]) and replaces the node's
//! [`SharedFilter`](crate::node::filter::SharedFilter) with the config's rules plus the viewers'.

mod nostr;
mod sqlite;
mod trust_snapshot;

use crate::node::policy_record::{PolicyRecord, PolicyRecordError};

pub(crate) use sqlite::{EngineDb, ViewerRow};
pub(crate) use trust_snapshot::TrustSnapshot;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, mpsc, oneshot, watch};
use vouch_identity::PublicKey;
use vouch_reputation::{
    decode_stored, diff, Applied, Body, CredentialLookup, DirectTrust, GroupRef, Ingested,
    ListPurpose, ListRef, ModerationState, ObjectId, Policy, SignedObject, TrustGraph, TrustLookup,
    TrustParams, TrustStep, TrustView, View, ViewDiff,
};

use crate::node::filter::{derive_from_policies, ReplicationHook, ReplicationStatus};
use crate::node::identity::Identity;
use crate::node::metrics::Metrics;
use crate::node::store::StoreError;

/// Capacity of the engine's command queue.
pub(crate) const ENGINE_CMD_QUEUE: usize = 64;
/// Capacity of the event broadcast; a stream that falls further behind is told how much it
/// missed.
pub(crate) const EVENT_QUEUE: usize = 1024;
/// Objects read from the store per step while catching up.
pub(crate) const READ_CHUNK: usize = 4096;
/// Admission (the authors within the viewers' reach) is derived at most this often while
/// objects stream in; a viewer's change derives it at once.
pub(crate) const ADMISSION_MIN_INTERVAL: Duration = Duration::from_secs(1);
/// View rebuilds wait at least this many times the last rebuild's cost after it, so that
/// however fast lists change, rebuilding takes at most a third of the engine thread.
pub(crate) const REBUILD_COST_FACTOR: u32 = 2;

/// Engine settings (`[engine]` in the node's config).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Views are rebuilt at most once per this many milliseconds while objects stream in.
    pub refresh_ms: u64,
    /// Views are rebuilt at least this often (votes and trust are as of the build).
    pub max_view_age_ms: u64,
    /// Most posts kept in the in-memory index that decisions by CID read; beyond it, posts
    /// are read back from the store.
    pub post_index_capacity: usize,
    /// Most local viewers.
    pub max_viewers: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            refresh_ms: 50,
            max_view_age_ms: 300_000,
            post_index_capacity: 1_000_000,
            max_viewers: 1024,
        }
    }
}

/// Why the engine refused or failed. Every variant has a stable [`code`](EngineError::code).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum EngineError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A viewer with this key exists already.
    #[error("viewer {0} exists already")]
    ViewerExists(String),
    /// No such viewer.
    #[error("no viewer {0} on this node")]
    ViewerNotFound(String),
    /// The node serves its maximum number of viewers.
    #[error("this node serves at most {0} viewers")]
    TooManyViewers(usize),
    /// The viewer's stored policy cannot be read (it is kept; a new policy repairs it).
    #[error("viewer {viewer}: {error}")]
    ViewerUnreadable {
        /// The viewer.
        viewer: String,
        /// Why.
        error: PolicyRecordError,
    },
    /// The engine thread has stopped.
    #[error("the engine has stopped")]
    Stopped,
}

impl EngineError {
    /// The stable code.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            EngineError::Store(e) => e.code(),
            EngineError::ViewerExists(_) => "viewer-exists",
            EngineError::ViewerNotFound(_) => "viewer-not-found",
            EngineError::TooManyViewers(_) => "too-many-viewers",
            EngineError::ViewerUnreadable { .. } => "viewer-policy-unreadable",
            EngineError::Stopped => "engine-stopped",
        }
    }
}

/// A local viewer's settings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ViewerInfo {
    /// The viewer's key.
    pub viewer: PublicKey,
    /// The decision policy.
    pub policy: Policy,
    /// Groups whose new objects the viewer's event stream carries.
    pub groups: Vec<GroupRef>,
    /// When the viewer was created (ms).
    pub created_ms: u64,
    /// When the policy last changed (ms).
    pub updated_ms: u64,
}

/// A viewer's compiled view and trust, as of one point in the store (`seq`). Immutable:
/// the engine publishes a new one when something changes.
#[derive(Debug)]
pub(crate) struct ViewerSnapshot {
    /// The viewer and its policy.
    pub info: Arc<ViewerInfo>,
    /// The compiled view decisions are made with.
    pub view: View<'static>,
    /// The trust the view was compiled with.
    pub trust: Arc<TrustSnapshot>,
    /// The last store seq the view reflects.
    pub seq: i64,
}

/// What decisions need to know about a post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PostMeta {
    /// The author.
    pub author: PublicKey,
    /// When it was signed.
    pub at: u64,
    /// The group it was posted in.
    pub group: Option<GroupRef>,
}

/// Something a viewer's event stream may carry (always sent in an `Arc`).
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Event {
    /// A new object about a group (a post in it, a report to it, its header, its ban list).
    Object {
        /// The object.
        id: ObjectId,
        /// Its kind.
        kind: &'static str,
        /// Its author.
        author: PublicKey,
        /// When it was signed.
        at: u64,
        /// The group.
        group: GroupRef,
    },
    /// What changed for one viewer after lists, bans or its policy changed.
    ListChange {
        /// The viewer.
        viewer: PublicKey,
        /// The difference between the previous and the new view.
        diff: ViewDiff,
        /// The store seq the new view reflects.
        seq: i64,
    },
}

/// The derived state the engine thread writes and request handlers read.
#[derive(Debug)]
pub(crate) struct Core {
    /// The trust graph over every attestation, vote, rotation and revocation.
    pub graph: TrustGraph,
    /// Lists, groups, labels, votes, appeals.
    pub state: ModerationState,
    /// The last store seq applied.
    pub seq: i64,
    /// Every list whose header (any version) names it a group's ban list.
    pub ban_lists: BTreeMap<GroupRef, BTreeSet<ListRef>>,
    viewers: BTreeMap<PublicKey, ViewerCore>,
    /// Trust views of the configured admission roots (their reach is admitted).
    roots: Vec<(PublicKey, TrustView)>,
}

#[derive(Debug)]
struct ViewerCore {
    info: Arc<ViewerInfo>,
    trust: TrustView,
}

impl Core {
    /// The viewer's trust view, if the viewer exists.
    pub(crate) fn trust_view(&self, viewer: &PublicKey) -> Option<&TrustView> {
        self.viewers.get(viewer).map(|v| &v.trust)
    }
}

/// The post index, bounded.
#[derive(Debug, Default)]
struct PostIndex {
    map: HashMap<ObjectId, PostMeta>,
    capacity: usize,
}

enum Cmd {
    Put {
        info: Box<ViewerInfo>,
        create: bool,
        ack: oneshot::Sender<Result<Arc<ViewerSnapshot>, EngineError>>,
    },
    Delete {
        viewer: Box<PublicKey>,
        ack: oneshot::Sender<Result<(), EngineError>>,
    },
    /// Facts mapped from Nostr events (`engine/nostr.rs`).
    Nostr {
        facts: Vec<crate::nostr::map::Fact>,
        ack: nostr::NostrAck,
    },
    Stop,
}

struct Shared {
    core: RwLock<Core>,
    unreadable: RwLock<BTreeMap<PublicKey, PolicyRecordError>>,
    snapshots: RwLock<HashMap<PublicKey, Arc<ViewerSnapshot>>>,
    posts: RwLock<PostIndex>,
    events: broadcast::Sender<Arc<Event>>,
    published: watch::Receiver<i64>,
    cmd: mpsc::Sender<Cmd>,
    metrics: Arc<Metrics>,
    config: EngineConfig,
    replication: Option<ReplicationHook>,
    replication_status: RwLock<Option<ReplicationStatus>>,
    /// Credentials, links and ballot checks: the identity facts views are built with.
    identity: Identity,
}

/// The handle to the engine. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Engine {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("published", &*self.shared.published.borrow())
            .finish()
    }
}

fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

/// What [`Engine::load`] found (for `vouch node rebuild` and the logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) struct EngineReport {
    /// Objects applied.
    pub objects: u64,
    /// Objects that did not decode (left out).
    pub undecodable: u64,
    /// Authors in the trust graph.
    pub authors: u64,
    /// Effective edges in the trust graph.
    pub edges: u64,
    /// Posts indexed.
    pub posts: u64,
    /// Local viewers.
    pub viewers: u64,
    /// Milliseconds the load took.
    pub millis: u64,
}

impl Engine {
    /// Starts the engine thread on the database in `data_dir`: loads the viewers, applies
    /// every stored object, builds every viewer's view, then follows `commits`. Returns when
    /// the first views are published.
    ///
    /// With `replication`, it keeps that replication filter in step with the viewers'
    /// policies (before the first views are published, and at every republication).
    pub(crate) async fn start(
        data_dir: &Path,
        commits: watch::Receiver<i64>,
        metrics: Arc<Metrics>,
        config: EngineConfig,
        replication: Option<ReplicationHook>,
    ) -> Result<(Engine, std::thread::JoinHandle<()>), EngineError> {
        let db = EngineDb::open(data_dir)?;
        let identity = Identity::open(Some(data_dir), metrics.clone(), ballot_verifier_threads())
            .map_err(|e| {
            EngineError::Store(StoreError::Io(std::io::Error::other(e.to_string())))
        })?;
        let (cmd_tx, cmd_rx) = mpsc::channel(ENGINE_CMD_QUEUE);
        let (events, _) = broadcast::channel(EVENT_QUEUE);
        let (published_tx, published) = watch::channel(0i64);
        let shared = Arc::new(Shared {
            unreadable: RwLock::new(BTreeMap::new()),
            core: RwLock::new(Core {
                graph: TrustGraph::new(None),
                state: ModerationState::new(),
                seq: 0,
                ban_lists: BTreeMap::new(),
                viewers: BTreeMap::new(),
                roots: Vec::new(),
            }),
            snapshots: RwLock::new(HashMap::new()),
            posts: RwLock::new(PostIndex {
                map: HashMap::new(),
                capacity: config.post_index_capacity,
            }),
            events,
            published,
            cmd: cmd_tx,
            metrics,
            config,
            replication,
            replication_status: RwLock::new(None),
            identity,
        });
        let (ready_tx, ready_rx) = oneshot::channel();
        let worker = Worker {
            shared: shared.clone(),
            db,
            published: published_tx,
            pending: Pending::default(),
            last_build: Instant::now(),
            last_full: Instant::now(),
            filter_due: u64::MAX,
            skipped_logged: false,
            last_rebuild_cost: Duration::ZERO,
            last_admission: None,
            admission_pending: false,
        };
        let thread = std::thread::Builder::new()
            .name("vouch-engine".into())
            .spawn(move || worker.run(commits, cmd_rx, ready_tx))
            .map_err(|e| EngineError::Store(StoreError::Io(e)))?;
        match ready_rx.await {
            Ok(Ok(report)) => {
                tracing::info!(?report, "engine ready");
                Ok((Engine { shared }, thread))
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(EngineError::Stopped),
        }
    }

    /// Loads the engine's state from the database in `data_dir` without starting anything
    /// (`vouch node rebuild` runs it to check that every stored object applies).
    pub(crate) fn load(data_dir: &Path) -> Result<EngineReport, EngineError> {
        let db = EngineDb::open(data_dir)?;
        let (events, _) = broadcast::channel(1);
        let (published_tx, published) = watch::channel(0i64);
        let (cmd, _) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            unreadable: RwLock::new(BTreeMap::new()),
            core: RwLock::new(Core {
                graph: TrustGraph::new(None),
                state: ModerationState::new(),
                seq: 0,
                ban_lists: BTreeMap::new(),
                viewers: BTreeMap::new(),
                roots: Vec::new(),
            }),
            snapshots: RwLock::new(HashMap::new()),
            posts: RwLock::new(PostIndex {
                map: HashMap::new(),
                capacity: EngineConfig::default().post_index_capacity,
            }),
            events,
            published,
            cmd,
            metrics: Arc::new(Metrics::default()),
            config: EngineConfig::default(),
            replication: None,
            replication_status: RwLock::new(None),
            identity: Identity::open(None, Arc::new(Metrics::default()), 0).map_err(|e| {
                EngineError::Store(StoreError::Io(std::io::Error::other(e.to_string())))
            })?,
        });
        let mut worker = Worker {
            shared,
            db,
            published: published_tx,
            pending: Pending::default(),
            last_build: Instant::now(),
            last_full: Instant::now(),
            filter_due: u64::MAX,
            skipped_logged: false,
            last_rebuild_cost: Duration::ZERO,
            last_admission: None,
            admission_pending: false,
        };
        worker.initial_load()
    }

    /// Stops the engine thread (it finishes what it is doing first).
    pub(crate) async fn stop(&self) {
        let _ = self.shared.cmd.send(Cmd::Stop).await;
    }

    /// The viewer's current snapshot.
    pub(crate) fn snapshot(&self, viewer: &PublicKey) -> Option<Arc<ViewerSnapshot>> {
        read(&self.shared.snapshots).get(viewer).cloned()
    }

    /// The viewer's current snapshot, or why there is none: no such viewer, or one whose
    /// stored policy cannot be read.
    pub(crate) fn viewer_snapshot(
        &self,
        viewer: &PublicKey,
    ) -> Result<Arc<ViewerSnapshot>, EngineError> {
        if let Some(snap) = self.snapshot(viewer) {
            return Ok(snap);
        }
        match read(&self.shared.unreadable).get(viewer) {
            Some(error) => Err(EngineError::ViewerUnreadable {
                viewer: viewer.to_did_key(),
                error: error.clone(),
            }),
            None => Err(EngineError::ViewerNotFound(viewer.to_did_key())),
        }
    }

    /// The viewers whose stored policy cannot be read, and why, in key order.
    pub(crate) fn unreadable_viewers(&self) -> Vec<(PublicKey, PolicyRecordError)> {
        read(&self.shared.unreadable)
            .iter()
            .map(|(k, e)| (*k, e.clone()))
            .collect()
    }

    /// Every viewer's current snapshot, in key order.
    pub(crate) fn snapshots(&self) -> Vec<Arc<ViewerSnapshot>> {
        let mut v: Vec<_> = read(&self.shared.snapshots).values().cloned().collect();
        v.sort_by_key(|s| s.info.viewer);
        v
    }

    /// Looks up many posts under one lock.
    pub(crate) fn posts<'a>(
        &self,
        ids: impl Iterator<Item = &'a ObjectId>,
    ) -> Vec<Option<PostMeta>> {
        let index = read(&self.shared.posts);
        ids.map(|id| index.map.get(id).cloned()).collect()
    }

    /// The indexed posts of `group`, newest first (the web console's feed).
    pub(crate) fn group_posts(&self, group: &GroupRef) -> Vec<(ObjectId, PostMeta)> {
        let index = read(&self.shared.posts);
        let mut out: Vec<(ObjectId, PostMeta)> = index
            .map
            .iter()
            .filter(|(_, m)| m.group.as_ref() == Some(group))
            .map(|(id, m)| (*id, m.clone()))
            .collect();
        out.sort_by(|a, b| b.1.at.cmp(&a.1.at).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// Runs `f` on the current derived state (a read lock: keep it short, and call it off
    /// the async runtime when `f` is expensive).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Core) -> T) -> T {
        f(&read(&self.shared.core))
    }

    /// The viewer's strongest trust path to `author` according to the trust engine (a
    /// search over the graph: for explanations only).
    pub(crate) fn trust_path(&self, viewer: &PublicKey, author: &PublicKey) -> Vec<TrustStep> {
        self.read(|core| {
            let Some(view) = core.trust_view(viewer) else {
                return Vec::new();
            };
            let direct = DirectTrust::new(*viewer);
            vouch_reputation::EngineTrust::new(&core.graph, view, &direct).path(author)
        })
    }

    /// Creates (`create`) or replaces the viewer's policy; answers with the new snapshot
    /// once it is published.
    pub(crate) async fn put_viewer(
        &self,
        viewer: PublicKey,
        policy: Policy,
        groups: Vec<GroupRef>,
        create: bool,
    ) -> Result<Arc<ViewerSnapshot>, EngineError> {
        let now = crate::node::clock::now_ms();
        let (ack, rx) = oneshot::channel();
        let info = ViewerInfo {
            viewer,
            policy,
            groups,
            created_ms: now,
            updated_ms: now,
        };
        self.shared
            .cmd
            .send(Cmd::Put {
                info: Box::new(info),
                create,
                ack,
            })
            .await
            .map_err(|_| EngineError::Stopped)?;
        rx.await.map_err(|_| EngineError::Stopped)?
    }

    /// Deletes a viewer.
    pub(crate) async fn delete_viewer(&self, viewer: PublicKey) -> Result<(), EngineError> {
        let (ack, rx) = oneshot::channel();
        self.shared
            .cmd
            .send(Cmd::Delete {
                viewer: Box::new(viewer),
                ack,
            })
            .await
            .map_err(|_| EngineError::Stopped)?;
        rx.await.map_err(|_| EngineError::Stopped)?
    }

    /// Subscribes to the engine's events.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.shared.events.subscribe()
    }

    /// The last store seq every published view reflects.
    pub(crate) fn published_seq(&self) -> i64 {
        *self.shared.published.borrow()
    }

    /// The last store seq `snap` reflects: its own build, or later when only objects that
    /// change no view (posts) were applied since.
    pub(crate) fn reflects(&self, snap: &ViewerSnapshot) -> i64 {
        snap.seq.max(self.published_seq())
    }

    /// Waits (at most `timeout`) until the published views reflect store seq `seq`; false
    /// on timeout.
    pub(crate) async fn wait_published(&self, seq: i64, timeout: Duration) -> bool {
        let mut rx = self.shared.published.clone();
        tokio::time::timeout(timeout, rx.wait_for(|p| *p >= seq))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// The replication filter's sizes and sources, once derived (none when the engine does
    /// not keep a filter).
    pub(crate) fn replication(&self) -> Option<ReplicationStatus> {
        read(&self.shared.replication_status).clone()
    }

    /// The identity half: local credentials, identity facts, ballot checks.
    pub(crate) fn identity(&self) -> &Identity {
        &self.shared.identity
    }
}

/// Threads that verify ballots' personhood proofs: one per core, at most four.
fn ballot_verifier_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// What objects applied since the last build changed.
#[derive(Debug, Default)]
struct Pending {
    /// Some decision input changed: every view must be rebuilt.
    views: bool,
    /// Lists, bans or revocations changed: worth a diff for listeners.
    lists: bool,
}

struct Worker {
    shared: Arc<Shared>,
    db: EngineDb,
    published: watch::Sender<i64>,
    pending: Pending,
    last_build: Instant,
    last_full: Instant,
    /// When (ms) a list entry or ban the replication filter considered expires.
    filter_due: u64,
    /// The candidate bound was hit and logged.
    skipped_logged: bool,
    /// What the last rebuild of every view cost.
    last_rebuild_cost: Duration,
    /// When admission was last derived.
    last_admission: Option<Instant>,
    /// Admission is to be derived again.
    admission_pending: bool,
}

enum Wake {
    Cmd(Option<Cmd>),
    Commit,
    CommitsClosed,
    /// Ballots were verified or local credentials changed.
    Identity,
    Timer,
}

impl Worker {
    fn run(
        mut self,
        mut commits: watch::Receiver<i64>,
        mut cmds: mpsc::Receiver<Cmd>,
        ready: oneshot::Sender<Result<EngineReport, EngineError>>,
    ) {
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                let _ = ready.send(Err(EngineError::Store(StoreError::Io(e))));
                return;
            }
        };
        let report = self.initial_load();
        let failed = report.is_err();
        let _ = ready.send(report);
        if failed {
            return;
        }
        let mut commits_open = true;
        let identity_changed = self.shared.identity.changed();
        loop {
            let deadline = self.next_deadline();
            let wake = rt.block_on(async {
                tokio::select! {
                    c = cmds.recv() => Wake::Cmd(c),
                    r = commits.changed(), if commits_open => {
                        if r.is_ok() { Wake::Commit } else { Wake::CommitsClosed }
                    }
                    _ = identity_changed.notified() => Wake::Identity,
                    _ = tokio::time::sleep_until(deadline.into()) => Wake::Timer,
                }
            });
            match wake {
                Wake::Cmd(None) | Wake::Cmd(Some(Cmd::Stop)) => break,
                Wake::Cmd(Some(cmd)) => self.handle(cmd),
                Wake::Commit => self.catch_up(),
                Wake::CommitsClosed => commits_open = false,
                Wake::Identity => {
                    // Verified ballots can change tallies and a village's rules; local
                    // credentials change who is verified.
                    self.pending.views = true;
                    self.pending.lists = true;
                }
                Wake::Timer => {}
            }
            self.maybe_rebuild();
        }
        tracing::info!("engine stopped");
    }

    fn next_deadline(&self) -> Instant {
        let full = self.last_full + Duration::from_millis(self.shared.config.max_view_age_ms);
        // A credential starts or stops counting, or a poll closes (once the views are due
        // for a rebuild anyway, the rebuild below takes it in: no need to wake earlier).
        let identity_due = match self.pending.views {
            true => None,
            false => self.shared.identity.next_change(),
        };
        let full = match identity_due {
            Some(due) => {
                let wait = due.saturating_sub(crate::node::clock::now_ms());
                full.min(Instant::now() + Duration::from_millis(wait))
            }
            None => full,
        };
        let full = match self.filter_due {
            u64::MAX => full,
            due => {
                let wait = due.saturating_sub(crate::node::clock::now_ms());
                full.min(Instant::now() + Duration::from_millis(wait))
            }
        };
        let full = if self.admission_pending {
            full.min(self.admission_due())
        } else {
            full
        };
        if self.pending.views {
            soon_after(self.last_build, self.rebuild_gap()).min(full)
        } else {
            full
        }
    }

    /// The wait after a rebuild of every view: the refresh interval, or twice what the
    /// last rebuild cost when that is longer.
    fn rebuild_gap(&self) -> Duration {
        rebuild_gap(self.shared.config.refresh_ms, self.last_rebuild_cost)
    }

    fn admission_due(&self) -> Instant {
        self.last_admission
            .map_or_else(Instant::now, |t| t + ADMISSION_MIN_INTERVAL)
    }

    fn initial_load(&mut self) -> Result<EngineReport, EngineError> {
        let start = Instant::now();
        let now = crate::node::clock::now_ms();
        write(&self.shared.core).graph.set_now(now);
        let mut undecodable = 0;
        let mut objects = 0;
        loop {
            let (n, bad) = self.apply_chunk()?;
            objects += n;
            undecodable += bad;
            if n == 0 {
                break;
            }
        }
        let rows = self.db.viewers()?;
        {
            let mut core = write(&self.shared.core);
            let mut unreadable = write(&self.shared.unreadable);
            for row in rows {
                let loaded = PolicyRecord::from_bytes(&row.policy)
                    .and_then(|record| record.to_policy(row.viewer));
                let (policy, groups) = match loaded {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::error!(viewer = %row.viewer.to_did_key(), code = e.code(), error = %e,
                            "the viewer's stored policy cannot be read: the viewer is kept but not \
                             served until a new policy is written (PUT /v1/viewers/{{viewer}}/policy)");
                        unreadable.insert(row.viewer, e);
                        continue;
                    }
                };
                let trust = TrustView::compute(
                    &core.graph,
                    row.viewer.as_bytes(),
                    &[],
                    TrustParams::default(),
                );
                core.viewers.insert(
                    row.viewer,
                    ViewerCore {
                        info: Arc::new(ViewerInfo {
                            viewer: row.viewer,
                            policy,
                            groups,
                            created_ms: row.created_ms,
                            updated_ms: row.updated_ms,
                        }),
                        trust,
                    },
                );
            }
        }
        if let Some(hook) = self
            .shared
            .replication
            .as_ref()
            .and_then(|r| r.admission.as_ref())
        {
            let mut core = write(&self.shared.core);
            let core = &mut *core;
            core.roots = hook
                .roots
                .iter()
                .map(|r| {
                    let view =
                        TrustView::compute(&core.graph, r.as_bytes(), &[], TrustParams::default());
                    (*r, view)
                })
                .collect();
        }
        self.pending = Pending::default();
        self.rebuild_views(false);
        self.refresh_admission(true);
        self.update_viewer_gauge();
        let core = read(&self.shared.core);
        Ok(EngineReport {
            objects,
            undecodable,
            authors: core.graph.n_authors() as u64,
            edges: core.graph.n_effective_edges() as u64,
            posts: read(&self.shared.posts).map.len() as u64,
            viewers: core.viewers.len() as u64,
            millis: start.elapsed().as_millis() as u64,
        })
    }

    /// Applies every object committed since the last call.
    fn catch_up(&mut self) {
        loop {
            match self.apply_chunk() {
                Ok((0, _)) => break,
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "engine could not read new objects");
                    break;
                }
            }
        }
        if !self.pending.views {
            // Nothing a view depends on changed (posts only): the views are current.
            let seq = read(&self.shared.core).seq;
            self.published.send_replace(seq);
        }
    }

    /// Reads, decodes and applies one chunk of objects; `(read, undecodable)`.
    fn apply_chunk(&mut self) -> Result<(u64, u64), EngineError> {
        let after = read(&self.shared.core).seq;
        let rows = self.db.objects_after(after, READ_CHUNK)?;
        if rows.is_empty() {
            return Ok((0, 0));
        }
        let n = rows.len() as u64;
        let decoded: Vec<(i64, Option<SignedObject>)> = rows
            .into_iter()
            .map(|(seq, bytes)| (seq, decode_stored(&bytes).ok()))
            .collect();
        let mut bad = 0;
        let mut trust_changed = false;
        let mut posts = Vec::new();
        let mut events = Vec::new();
        let mut polls = BTreeSet::new();
        let listening = self.shared.events.receiver_count() > 0;
        {
            let mut core = write(&self.shared.core);
            // Key events in the chunk (rotations, revocations, incepts) rebuild the trust
            // graph's rows once for the chunk, not once each (specs/sync.md, threat model).
            core.graph.defer_rebuilds();
            for (seq, obj) in &decoded {
                core.seq = core.seq.max(*seq);
                let Some(obj) = obj else {
                    bad += 1;
                    continue;
                };
                if let Body::Post(p) = obj.body() {
                    posts.push((
                        obj.id(),
                        PostMeta {
                            author: *obj.author(),
                            at: obj.at(),
                            group: p.group.clone(),
                        },
                    ));
                }
                if let Body::List(l) = obj.body() {
                    if let (ListPurpose::Ban, Some(g)) = (l.purpose, &l.group) {
                        core.ban_lists
                            .entry(g.clone())
                            .or_default()
                            .insert(ListRef {
                                owner: *obj.author(),
                                name: l.name.clone(),
                            });
                    }
                }
                if core.state.apply(obj) == Applied::Stored {
                    self.pending.views = true;
                    if matches!(
                        obj.body(),
                        Body::List(_)
                            | Body::ListAdd(_)
                            | Body::ListRemove(_)
                            | Body::Group(_)
                            | Body::Appeal(_)
                            | Body::Revoke(_)
                            // A rotation or an incept can void a key's later bans and entries;
                            // a poll or a ballot can change a group's rules.
                            | Body::Rotate(_)
                            | Body::Incept(_)
                            | Body::Poll(_)
                            | Body::Ballot(_)
                    ) {
                        self.pending.lists = true;
                    }
                }
                if matches!(core.graph.apply_object(obj), Ok(Ingested::Applied)) {
                    trust_changed = true;
                    self.pending.views = true;
                }
                match obj.body() {
                    Body::Link(_) | Body::Credential(_) | Body::CredentialRevoke(_) => {
                        self.shared.identity.note_object(obj);
                        self.pending.views = true;
                    }
                    Body::Ballot(_) | Body::Poll(_) | Body::Group(_) => {
                        if let Body::Group(_) = obj.body() {
                            // Its moderators and credential issuer may be admitted now.
                            self.admission_pending = true;
                        }
                        if let Body::Poll(p) = obj.body() {
                            self.shared
                                .identity
                                .note_poll_close(p.closes, crate::node::clock::now_ms());
                        }
                        Identity::polls_touched(&core.state, obj, &mut polls);
                    }
                    _ => {}
                }
                if listening {
                    if let Some(group) = event_group(&core.state, obj) {
                        events.push(Event::Object {
                            id: obj.id(),
                            kind: obj.kind().as_str(),
                            author: *obj.author(),
                            at: obj.at(),
                            group,
                        });
                    }
                }
            }
            if core.graph.finish_deferred() {
                Metrics::inc(&self.shared.metrics.engine_graph_rebuilds_total);
                trust_changed = true;
            }
            if trust_changed {
                let core = &mut *core;
                for v in core.viewers.values_mut() {
                    v.trust.update(&core.graph);
                    Metrics::inc(&self.shared.metrics.engine_trust_updates_total);
                }
                for (_, t) in core.roots.iter_mut() {
                    t.update(&core.graph);
                }
                self.admission_pending = true;
            }
            let m = &self.shared.metrics;
            m.engine_seq
                .store(core.seq.max(0) as u64, std::sync::atomic::Ordering::Relaxed);
            m.engine_authors.store(
                core.graph.n_authors() as u64,
                std::sync::atomic::Ordering::Relaxed,
            );
        }
        if !polls.is_empty() {
            // Start verifying new ballots now, on the verifier threads, rather than when a
            // view first tallies them.
            let core = read(&self.shared.core);
            self.shared
                .identity
                .queue_ballots(&core.state, &polls, crate::node::clock::now_ms());
        }
        if !posts.is_empty() {
            let mut index = write(&self.shared.posts);
            for (id, meta) in posts {
                if index.map.len() >= index.capacity && !index.map.contains_key(&id) {
                    Metrics::inc(&self.shared.metrics.engine_post_index_full_total);
                    continue;
                }
                index.map.insert(id, meta);
            }
            self.shared
                .metrics
                .engine_posts_indexed
                .store(index.map.len() as u64, std::sync::atomic::Ordering::Relaxed);
        }
        for e in events {
            if self.shared.events.send(Arc::new(e)).is_ok() {
                Metrics::inc(&self.shared.metrics.events_sent_total);
            }
        }
        Metrics::add(&self.shared.metrics.engine_objects_applied_total, n - bad);
        Metrics::add(&self.shared.metrics.engine_objects_undecodable_total, bad);
        Ok((n, bad))
    }

    fn handle(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Put { info, create, ack } => {
                let _ = ack.send(self.put_viewer(*info, create));
            }
            Cmd::Delete { viewer, ack } => {
                let _ = ack.send(self.delete_viewer(&viewer));
            }
            Cmd::Nostr { facts, ack } => {
                let _ = ack.send(self.apply_nostr(facts));
            }
            Cmd::Stop => {}
        }
    }

    fn put_viewer(
        &mut self,
        mut info: ViewerInfo,
        create: bool,
    ) -> Result<Arc<ViewerSnapshot>, EngineError> {
        let viewer = info.viewer;
        let (exists, n) = {
            let core = read(&self.shared.core);
            (
                core.viewers.get(&viewer).map(|v| v.info.clone()),
                core.viewers.len(),
            )
        };
        // A viewer whose stored policy cannot be read exists: it cannot be created again,
        // and a new policy written over it repairs it.
        let unreadable = read(&self.shared.unreadable).contains_key(&viewer);
        match (&exists, create) {
            (Some(_), true) => return Err(EngineError::ViewerExists(viewer.to_did_key())),
            (None, true) if unreadable => {
                return Err(EngineError::ViewerExists(viewer.to_did_key()))
            }
            (None, false) if !unreadable => {
                return Err(EngineError::ViewerNotFound(viewer.to_did_key()))
            }
            (None, true) if n >= self.shared.config.max_viewers => {
                return Err(EngineError::TooManyViewers(self.shared.config.max_viewers))
            }
            _ => {}
        }
        if let Some(old) = &exists {
            info.created_ms = old.created_ms;
        }
        let record = PolicyRecord::new(&info.policy, &info.groups);
        self.db.put_viewer(&ViewerRow {
            viewer,
            policy: record.to_bytes(),
            created_ms: info.created_ms,
            updated_ms: info.updated_ms,
        })?;
        if unreadable {
            write(&self.shared.unreadable).remove(&viewer);
            tracing::info!(viewer = %viewer.to_did_key(), "unreadable viewer repaired by a new policy");
        }
        let info = Arc::new(info);
        {
            let mut core = write(&self.shared.core);
            let core = &mut *core;
            match core.viewers.get_mut(&viewer) {
                Some(v) => v.info = info.clone(),
                None => {
                    let trust = TrustView::compute(
                        &core.graph,
                        viewer.as_bytes(),
                        &[],
                        TrustParams::default(),
                    );
                    core.viewers.insert(viewer, ViewerCore { info, trust });
                }
            }
        }
        let snap = self.rebuild_one(&viewer, exists.is_some());
        self.update_viewer_gauge();
        self.refresh_filter();
        self.refresh_admission(true);
        snap.ok_or_else(|| EngineError::ViewerNotFound(viewer.to_did_key()))
    }

    fn delete_viewer(&mut self, viewer: &PublicKey) -> Result<(), EngineError> {
        let known = write(&self.shared.core).viewers.remove(viewer).is_some();
        write(&self.shared.unreadable).remove(viewer);
        let in_db = self.db.delete_viewer(viewer)?;
        write(&self.shared.snapshots).remove(viewer);
        self.update_viewer_gauge();
        self.refresh_filter();
        self.refresh_admission(true);
        if known || in_db {
            Ok(())
        } else {
            Err(EngineError::ViewerNotFound(viewer.to_did_key()))
        }
    }

    fn update_viewer_gauge(&self) {
        let n = read(&self.shared.core).viewers.len() as u64;
        let unreadable = read(&self.shared.unreadable).len() as u64;
        let m = &self.shared.metrics;
        m.engine_viewers
            .store(n, std::sync::atomic::Ordering::Relaxed);
        m.engine_viewers_unreadable
            .store(unreadable, std::sync::atomic::Ordering::Relaxed);
    }

    fn maybe_rebuild(&mut self) {
        let now = Instant::now();
        let full_due =
            now >= self.last_full + Duration::from_millis(self.shared.config.max_view_age_ms);
        if full_due {
            // Move the graph's clock (attestations expire) and refresh every view.
            {
                let mut core = write(&self.shared.core);
                let core = &mut *core;
                core.graph.set_now(crate::node::clock::now_ms());
                for v in core.viewers.values_mut() {
                    v.trust.update(&core.graph);
                }
            }
            self.rebuild_views(true);
            return;
        }
        if crate::node::clock::now_ms() >= self.filter_due {
            // An entry or ban the filter considered has expired.
            self.refresh_filter();
        }
        if self
            .shared
            .identity
            .next_change()
            .is_some_and(|t| crate::node::clock::now_ms() >= t)
        {
            // A credential started or stopped counting.
            self.pending.views = true;
            self.pending.lists = true;
        }
        let refresh = self.last_build + Duration::from_millis(self.shared.config.refresh_ms);
        let soon = soon_after(self.last_build, self.rebuild_gap());
        if self.pending.views && now >= soon {
            let diffs = self.pending.lists;
            self.rebuild_views(diffs);
        } else if self.pending.views && now >= refresh {
            // Due by the refresh interval, postponed by the cost of the last rebuild.
            Metrics::inc(&self.shared.metrics.engine_rebuilds_deferred_total);
        }
        if self.admission_pending && Instant::now() >= self.admission_due() {
            self.refresh_admission(false);
        }
    }

    /// Derives the admitted authors from the viewers and roots and puts them in force;
    /// promotes the quarantined objects of newly admitted authors. At most once per
    /// [`ADMISSION_MIN_INTERVAL`] unless `force`d (a viewer changed).
    fn refresh_admission(&mut self, force: bool) {
        let Some(hook) = self
            .shared
            .replication
            .as_ref()
            .and_then(|r| r.admission.clone())
        else {
            return;
        };
        if !force && Instant::now() < self.admission_due() {
            self.admission_pending = true;
            return;
        }
        self.admission_pending = false;
        self.last_admission = Some(Instant::now());
        let snaps: Vec<Arc<ViewerSnapshot>> =
            read(&self.shared.snapshots).values().cloned().collect();
        let (core_set, reach, any) = {
            let core = read(&self.shared.core);
            let named: Vec<Vec<PublicKey>> = snaps
                .iter()
                .map(|s| crate::node::admission::named_keys(&s.info.policy))
                .collect();
            let viewers: Vec<crate::node::admission::ViewerReach<'_>> = snaps
                .iter()
                .zip(&named)
                .filter_map(|(s, named)| {
                    let trust = core.trust_view(&s.info.viewer)?;
                    Some(crate::node::admission::ViewerReach {
                        viewer: s.info.viewer,
                        view: &s.view,
                        trust,
                        named,
                        groups: &s.info.groups,
                    })
                })
                .collect();
            let roots: Vec<(PublicKey, &TrustView)> =
                core.roots.iter().map(|(k, t)| (*k, t)).collect();
            let any = !viewers.is_empty() || !roots.is_empty();
            hook.admission.set_polls(
                core.state
                    .poll_ids()
                    .collect::<std::collections::HashSet<_>>(),
            );
            let (c, mut r) = crate::node::admission::derive(
                &core.graph,
                &core.state,
                &viewers,
                &roots,
                &hook.groups,
            );
            // Identity keys linked by keys within reach sign `credential` objects, and
            // issuers sign `credential-revoke` objects: neither is in the trust graph.
            let extra = self.shared.identity.identity_reach(&core.state, &r);
            crate::node::admission::extend_reach(&mut r, extra);
            (c, r, any)
        };
        // With a disk quota, rows of reachable authors wait in quarantine with a standing:
        // it follows their trust (0 once they leave the reach), so eviction stays
        // least-trusted first.
        let restand = hook.admission.has_disk_quota().then(|| {
            reach
                .iter()
                .map(|(k, s)| (*k.as_bytes(), *s))
                .collect::<std::collections::HashMap<_, _>>()
        });
        let newly = hook.admission.replace(any, core_set, reach);
        if let Some(r) = restand {
            hook.writer.restand(r);
        }
        if !newly.is_empty() {
            hook.writer
                .promote(newly.iter().map(|k| *k.as_bytes()).collect());
        }
    }

    /// Rebuilds every viewer's view and publishes them (with diffs for listeners).
    fn rebuild_views(&mut self, diffs: bool) {
        let start = Instant::now();
        let identity = &self.shared.identity;
        let generation = identity.generation();
        if identity.refresh(&read(&self.shared.core).state, crate::node::clock::now_ms()) {
            // Links and checked credentials name identity keys and issuers to admit.
            self.admission_pending = true;
        }
        let viewers: Vec<PublicKey> = read(&self.shared.core).viewers.keys().copied().collect();
        for v in &viewers {
            self.rebuild_one(v, diffs);
        }
        self.shared.identity.mark_published(generation);
        self.pending = Pending::default();
        self.last_build = Instant::now();
        self.last_rebuild_cost = start.elapsed();
        self.last_full = self.last_build;
        // The filter follows the views before they are announced: a caller that waited for
        // its objects to be reflected finds the rules in force too.
        self.refresh_filter();
        let seq = read(&self.shared.core).seq;
        self.published.send_replace(seq);
    }

    /// Derives the replication filter from the published views and puts the config's
    /// rules plus the derived ones in force.
    fn refresh_filter(&mut self) {
        let Some(hook) = &self.shared.replication else {
            return;
        };
        let start = Instant::now();
        let now = crate::node::clock::now_ms();
        let mut snaps: Vec<Arc<ViewerSnapshot>> =
            read(&self.shared.snapshots).values().cloned().collect();
        snaps.sort_by_key(|s| s.info.viewer);
        let views: Vec<&View<'static>> = snaps.iter().map(|s| &s.view).collect();
        let (derived, seq) = {
            let core = read(&self.shared.core);
            let ban_lists = core
                .ban_lists
                .iter()
                .flat_map(|(g, lists)| lists.iter().map(move |l| (g, l)));
            let d = derive_from_policies(
                &core.state,
                ban_lists,
                &views,
                hook.follow,
                now,
                hook.max_candidates,
            );
            (d, core.seq)
        };
        let mut rules = hook.config_rules.clone();
        rules.extend(&derived.filter);
        let mut status = ReplicationStatus::new(hook.follow, &hook.config_rules, &derived, &rules);
        status.derived_at_ms = now;
        status.seq = seq;
        let changed = hook.filter.replace_if_changed(rules);
        if changed {
            // What the old rules refused may be wanted now: catch-up may fetch it again.
            if let Some(a) = &hook.admission {
                a.admission.forget_refusals();
            }
        }
        self.filter_due = derived.next_expiry.unwrap_or(u64::MAX);
        let m = &self.shared.metrics;
        let set = |g: &std::sync::atomic::AtomicU64, v: u64| {
            g.store(v, std::sync::atomic::Ordering::Relaxed)
        };
        set(&m.replication_authors_config, status.authors.config);
        set(&m.replication_authors_policies, status.authors.policies);
        set(&m.replication_authors_refused, status.authors.total);
        set(&m.replication_group_bans_config, status.group_bans.config);
        set(
            &m.replication_group_bans_policies,
            status.group_bans.policies,
        );
        set(&m.replication_group_bans_refused, status.group_bans.total);
        Metrics::inc(&m.replication_filter_builds_total);
        Metrics::add(&m.replication_filter_decisions_total, derived.decisions);
        Metrics::add(
            &m.replication_filter_build_micros_total,
            start.elapsed().as_micros() as u64,
        );
        if derived.skipped > 0 {
            Metrics::add(&m.replication_candidates_skipped_total, derived.skipped);
            if !self.skipped_logged {
                self.skipped_logged = true;
                tracing::warn!(
                    skipped = derived.skipped,
                    max = hook.max_candidates,
                    "replication filter: more list entries than replication.max_candidates; the rest are not refused"
                );
            }
        }
        if changed {
            Metrics::inc(&m.replication_filter_changes_total);
            tracing::info!(
                follow = status.follow,
                authors = status.authors.total,
                group_bans = status.group_bans.total,
                "replication filter changed"
            );
        }
        *write(&self.shared.replication_status) = Some(status);
    }

    /// Builds one viewer's view and publishes it; sends a diff to listeners when asked and
    /// something changed.
    fn rebuild_one(
        &mut self,
        viewer: &PublicKey,
        diff_with_old: bool,
    ) -> Option<Arc<ViewerSnapshot>> {
        let start = Instant::now();
        let now = crate::node::clock::now_ms();
        let snap = {
            let core = read(&self.shared.core);
            let vc = core.viewers.get(viewer)?;
            let credentials: Arc<dyn CredentialLookup> = self.shared.identity.facts();
            Arc::new(build_snapshot(&core, vc, credentials, now))
        };
        let m = &self.shared.metrics;
        Metrics::inc(&m.engine_view_builds_total);
        Metrics::add(
            &m.engine_view_build_micros_total,
            start.elapsed().as_micros() as u64,
        );
        let old = write(&self.shared.snapshots).insert(*viewer, snap.clone());
        if let (Some(old), true) = (old, diff_with_old) {
            if self.shared.events.receiver_count() > 0 {
                let d = diff(&old.view, &snap.view, now);
                Metrics::inc(&m.engine_diffs_total);
                if !d.is_empty() {
                    let e = Event::ListChange {
                        viewer: *viewer,
                        diff: d,
                        seq: snap.seq,
                    };
                    if self.shared.events.send(Arc::new(e)).is_ok() {
                        Metrics::inc(&m.events_sent_total);
                    }
                }
            }
        }
        Some(snap)
    }
}

/// The wait after a rebuild of every view that cost `last_cost`: the refresh interval, or
/// [`REBUILD_COST_FACTOR`] times the cost when that is longer. However fast lists change,
/// rebuilding then takes at most `1 / (1 + REBUILD_COST_FACTOR)` of the engine thread.
fn rebuild_gap(refresh_ms: u64, last_cost: Duration) -> Duration {
    Duration::from_millis(refresh_ms).max(last_cost * REBUILD_COST_FACTOR)
}

/// `base + gap`, or far ahead if that overflows.
fn soon_after(base: Instant, gap: Duration) -> Instant {
    base.checked_add(gap)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600))
}

fn build_snapshot(
    core: &Core,
    vc: &ViewerCore,
    credentials: Arc<dyn CredentialLookup>,
    now: u64,
) -> ViewerSnapshot {
    let viewer = vc.info.viewer;
    let direct = DirectTrust::from_state(&core.state, &viewer, now);
    let trust = Arc::new(TrustSnapshot::new(&core.graph, &vc.trust, direct));
    let lookup: Arc<dyn TrustLookup> = trust.clone();
    let view = View::build_with_seed(
        &core.state,
        &vc.info.policy,
        lookup,
        credentials,
        now,
        crate::node::seed::view_seed(),
    );
    ViewerSnapshot {
        info: vc.info.clone(),
        view,
        trust,
        seq: core.seq,
    }
}

/// The group an object concerns, for event streams: a post in a group, a report to it, its
/// header, an entry of its ban list.
fn event_group(state: &ModerationState, obj: &SignedObject) -> Option<GroupRef> {
    match obj.body() {
        Body::Post(p) => p.group.clone(),
        Body::Report(r) => Some(r.group.clone()),
        Body::Dismiss(d) => Some(d.group.clone()),
        Body::Group(g) => Some(GroupRef {
            owner: *obj.author(),
            name: g.name.clone(),
        }),
        Body::List(l) => l.group.clone(),
        Body::ListAdd(a) => ban_list_group(state, &a.list),
        Body::ListRemove(r) => ban_list_group(state, &r.list),
        _ => None,
    }
}

fn ban_list_group(state: &ModerationState, list: &ListRef) -> Option<GroupRef> {
    state
        .list_header(list)
        .and_then(|(_, h)| h.body.group.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::store::{self, Durability, StoreWriter, StoredObject};
    use vouch_identity::SecretKey;
    use vouch_reputation::{Item, ListAddBody, ListBody, Object, ReasonCode, Subject, Verdict};

    fn key(n: u8) -> SecretKey {
        SecretKey::from_seed(&[n; 32])
    }

    fn signed(author: &SecretKey, body: Body) -> StoredObject {
        let obj = Object {
            author: author.public_key(),
            at: crate::node::clock::now_ms(),
            body,
        }
        .sign(author)
        .unwrap();
        StoredObject::from_signed(&obj)
    }

    #[test]
    fn costly_rebuilds_are_spaced_by_their_cost() {
        // Cheap rebuilds follow the refresh interval.
        assert_eq!(
            rebuild_gap(50, Duration::from_millis(3)),
            Duration::from_millis(50)
        );
        // A rebuild of 400 ms (a thousand viewers) waits 800 ms: a third of the thread.
        assert_eq!(
            rebuild_gap(50, Duration::from_millis(400)),
            Duration::from_millis(800)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn engine_follows_commits_and_keeps_policies_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let metrics = Arc::new(Metrics::default());
        let conn = store::open(dir.path(), Durability::Normal).unwrap();
        let (writer, writer_thread) = StoreWriter::spawn(conn, metrics.clone());
        let (engine, thread) = Engine::start(
            dir.path(),
            writer.commits(),
            metrics.clone(),
            EngineConfig::default(),
            None,
        )
        .await
        .unwrap();
        let (viewer, curator, spammer) = (key(1), key(2), key(3));
        let list = ListRef {
            owner: curator.public_key(),
            name: "spam".into(),
        };
        let policy = Policy::new(viewer.public_key()).subscribe(list.clone(), 1.0);
        engine
            .put_viewer(viewer.public_key(), policy.clone(), vec![], true)
            .await
            .unwrap();
        let item = Item::author(spammer.public_key());
        let decide = |e: &Engine| {
            let snap = e.snapshot(&viewer.public_key()).unwrap();
            snap.view.decide(&item, crate::node::clock::now_ms())
        };
        assert_eq!(decide(&engine).verdict, Verdict::Show);

        writer
            .insert(vec![
                signed(
                    &curator,
                    Body::List(ListBody {
                        name: "spam".into(),
                        purpose: vouch_reputation::ListPurpose::Block,
                        description: None,
                        group: None,
                        seq: 1,
                    }),
                ),
                signed(
                    &curator,
                    Body::ListAdd(ListAddBody {
                        list: list.clone(),
                        subject: Subject::Key(spammer.public_key()),
                        reason: Some("spam".into()),
                        category: None,
                        expires: None,
                    }),
                ),
            ])
            .await
            .unwrap();
        let seq = *writer.commits().borrow();
        assert_eq!(seq, 2);
        assert!(engine.wait_published(seq, Duration::from_secs(30)).await);
        let d = decide(&engine);
        assert_eq!(d.verdict, Verdict::Hide);
        assert!(d.has(ReasonCode::ListBlock));
        assert_eq!(engine.published_seq(), 2);

        engine.stop().await;
        tokio::task::spawn_blocking(move || thread.join().unwrap())
            .await
            .unwrap();
        drop(writer);
        tokio::task::spawn_blocking(move || writer_thread.join().unwrap())
            .await
            .unwrap();

        // A new engine on the same database: the viewer and its policy are back, and the
        // objects are applied again.
        let conn = store::open(dir.path(), Durability::Normal).unwrap();
        let (writer, _) = StoreWriter::spawn(conn, metrics.clone());
        let (engine, _) = Engine::start(
            dir.path(),
            writer.commits(),
            metrics,
            EngineConfig::default(),
            None,
        )
        .await
        .unwrap();
        let snap = engine.snapshot(&viewer.public_key()).unwrap();
        assert_eq!(snap.info.policy, policy);
        assert_eq!(decide(&engine).verdict, Verdict::Hide);
        assert!(matches!(
            engine
                .put_viewer(viewer.public_key(), policy, vec![], true)
                .await,
            Err(EngineError::ViewerExists(_))
        ));
        engine.delete_viewer(viewer.public_key()).await.unwrap();
        assert!(engine.snapshot(&viewer.public_key()).is_none());
        assert_eq!(Engine::load(dir.path()).unwrap().viewers, 0);
        assert_eq!(Engine::load(dir.path()).unwrap().objects, 2);
        engine.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_replication_filter_follows_the_viewers_policies() {
        use crate::node::filter::{Follow, Refusal, ReplicationFilter, SharedFilter};
        let dir = tempfile::tempdir().unwrap();
        let metrics = Arc::new(Metrics::default());
        let conn = store::open(dir.path(), Durability::Normal).unwrap();
        let (writer, _writer_thread) = StoreWriter::spawn(conn, metrics.clone());
        let (viewer, curator, spammer, pinned) = (key(1), key(2), key(3), key(4));
        // A static rule from the config stays in force whatever the policies say.
        let mut config_rules = ReplicationFilter::new();
        config_rules.block_author(pinned.public_key());
        let filter = SharedFilter::new(config_rules.clone());
        let hook = ReplicationHook {
            filter: filter.clone(),
            config_rules,
            follow: Follow::AllViewers,
            max_candidates: 1000,
            admission: None,
        };
        let (engine, _thread) = Engine::start(
            dir.path(),
            writer.commits(),
            metrics.clone(),
            EngineConfig::default(),
            Some(hook),
        )
        .await
        .unwrap();
        let status = engine.replication().unwrap();
        assert_eq!(status.follow, "all-viewers");
        assert_eq!(
            (
                status.authors.config,
                status.authors.policies,
                status.authors.total
            ),
            (1, 0, 1)
        );
        let spam_post = |at: u64| {
            Object {
                author: spammer.public_key(),
                at,
                body: Body::Post(vouch_reputation::PostBody {
                    text: "buy".into(),
                    ..Default::default()
                }),
            }
            .sign(&spammer)
            .unwrap()
        };
        assert_eq!(filter.check(&spam_post(1)), Ok(()));

        let list = ListRef {
            owner: curator.public_key(),
            name: "spam".into(),
        };
        let policy = Policy::new(viewer.public_key()).subscribe(list.clone(), 1.0);
        engine
            .put_viewer(viewer.public_key(), policy, vec![], true)
            .await
            .unwrap();
        writer
            .insert(vec![
                signed(
                    &curator,
                    Body::List(ListBody {
                        name: "spam".into(),
                        purpose: vouch_reputation::ListPurpose::Block,
                        description: None,
                        group: None,
                        seq: 1,
                    }),
                ),
                signed(
                    &curator,
                    Body::ListAdd(ListAddBody {
                        list,
                        subject: Subject::Key(spammer.public_key()),
                        reason: None,
                        category: None,
                        expires: None,
                    }),
                ),
            ])
            .await
            .unwrap();
        let seq = *writer.commits().borrow();
        // The filter is in force once the views reflecting the list are published.
        assert!(engine.wait_published(seq, Duration::from_secs(30)).await);
        assert_eq!(filter.check(&spam_post(2)), Err(Refusal::BlockedAuthor));
        let status = engine.replication().unwrap();
        assert_eq!(
            (
                status.authors.config,
                status.authors.policies,
                status.authors.total
            ),
            (1, 1, 2)
        );
        assert_eq!(status.seq, seq);
        assert_eq!(
            metrics
                .replication_authors_policies
                .load(std::sync::atomic::Ordering::Relaxed),
            1
        );
        assert!(
            metrics
                .replication_filter_changes_total
                .load(std::sync::atomic::Ordering::Relaxed)
                >= 1
        );

        // The only viewer who hid the spammer leaves: the policy rule goes, the static one stays.
        engine.delete_viewer(viewer.public_key()).await.unwrap();
        assert_eq!(filter.check(&spam_post(3)), Ok(()));
        assert!(filter.current().blocks(&pinned.public_key()));
        assert_eq!(engine.replication().unwrap().authors.total, 1);
        engine.stop().await;
    }
}
