//! The libp2p network: TCP and QUIC, noise, yamux; gossipsub (a topic per group and one
//! for social objects, message id bound to topic and content id, validation on); identify;
//! Kademlia under `/vouch/kad/1.0.0`; rendezvous for first contact; `/vouch/sync/1`
//! request-response for catch-up. One task owns the swarm; everything else talks to it over
//! bounded channels. Gossip messages are validated off that task, in batches on the ingest
//! pool, and answered once the store committed them. `net/sync.rs` is the catch-up protocol,
//! `net/topic.rs` the gossip topics, `net/peers.rs` what is held per peer (fault counters,
//! bans, rate limits, dial scopes), `net/guard.rs` the per-IP connection limit and the dial
//! filter, `net/rendezvous_server.rs` the rendezvous point (`vouch rendezvous`), and
//! `net/hostile.rs` the hostile peer of the attack suite and `vouch bench attack`.

pub(crate) mod guard;
pub mod hostile;
pub(crate) mod peers;
pub(crate) mod rendezvous_server;
pub(crate) mod sync;
pub(crate) mod topic;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::Transport;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{
    allow_block_list, connection_limits, gossipsub, identify, identity::Keypair, kad, noise,
    rendezvous, request_response, tcp, yamux, Multiaddr, PeerId, StreamProtocol, Swarm,
};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot, watch};
use vouch_reputation::{GroupRef, ObjectId};

use crate::net::guard::{DialFilter, IpLimits};
use crate::net::peers::{
    is_sender_fault, DialPolicy, DialScope, PeerBook, Penalised, PenaltyParams, RateLimits,
};
use crate::net::sync::{
    IndexCache, Initiator, SyncError, SyncRequest, SyncResponse, FETCH_BATCH,
    FETCH_RESPONSE_MAX_BYTES, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, MAX_TOPIC_LEN,
};
use crate::net::topic::{gossip_message_id, group_topic, SOCIAL_TOPIC};
use crate::node::admission::Admission;
use crate::node::ingest::{Ingest, IngestError};
use crate::node::metrics::Metrics;
use crate::node::store::{StoreReader, StoreWriter, MAX_ADDRS_PER_PEER};

/// The catch-up protocol.
pub(crate) const SYNC_PROTOCOL: StreamProtocol = StreamProtocol::new("/vouch/sync/1");
/// Vouch's own Kademlia protocol name (a DHT of Vouch nodes only).
pub(crate) const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/vouch/kad/1.0.0");
/// The identify protocol version string.
pub(crate) const IDENTIFY_PROTOCOL: &str = "/vouch/id/1.0.0";
/// The rendezvous namespace Vouch nodes register under.
pub(crate) const RENDEZVOUS_NAMESPACE: &str = "vouch";
/// Largest gossip message (one object): the object size limit.
pub(crate) const MAX_GOSSIP_BYTES: usize = 64 * 1024;
/// Capacity of the command channel into the network task.
pub(crate) const NET_CMD_QUEUE: usize = 256;
/// Capacity of the queue of gossip messages waiting for validation.
pub(crate) const GOSSIP_VALIDATE_QUEUE: usize = 4096;
/// Most gossip messages validated as one batch.
pub(crate) const GOSSIP_BATCH: usize = 256;
/// Gossip batches in the ingest pipeline at once (one verifies while another commits).
pub(crate) const GOSSIP_IN_FLIGHT: usize = 2;
/// Capacity of the queue of fetched batches waiting for ingest.
pub(crate) const FETCH_INGEST_QUEUE: usize = 16;
/// Fetched batches in the ingest pipeline at once (one verifies while another commits).
pub(crate) const FETCH_INGEST_IN_FLIGHT: usize = 4;
/// Most catch-up requests served at once; more get `busy`.
pub(crate) const MAX_SERVING: usize = 4;
/// Most catch-up requests served at once for one peer; more get `busy`.
pub(crate) const MAX_SERVING_PER_PEER: usize = 1;
/// Most catch-up sessions this node runs at once (as the asker).
pub(crate) const MAX_SESSIONS: usize = 64;
/// Known peers dialled at start.
pub(crate) const KNOWN_PEERS_DIALLED: usize = 32;
/// Connected peers below which the node dials peers Kademlia finds.
pub(crate) const TARGET_PEERS: usize = 8;
/// How often bans are checked for expiry.
pub(crate) const MAINTENANCE_EVERY: Duration = Duration::from_secs(5);

/// The node's network behaviour.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    ip_limits: IpLimits,
    limits: connection_limits::Behaviour,
    blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    gossipsub: gossipsub::Behaviour,
    identify: identify::Behaviour,
    kad: kad::Behaviour<kad::store::MemoryStore>,
    rendezvous: rendezvous::client::Behaviour,
    sync: request_response::cbor::Behaviour<SyncRequest, SyncResponse>,
}

impl std::fmt::Debug for Behaviour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Behaviour")
    }
}

/// A network failure at start. Every variant has a stable [`code`](NetError::code).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum NetError {
    /// The swarm could not be built.
    #[error("cannot build the network: {0}")]
    Build(String),
    /// A listen address is invalid or cannot be bound.
    #[error("cannot listen on {addr}: {message}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        message: String,
    },
}

/// A command for the network task.
#[derive(Debug)]
pub(crate) enum NetCmd {
    /// Publish a stored object on its topic.
    Publish {
        /// The topic.
        topic: String,
        /// The object's bytes.
        bytes: Vec<u8>,
    },
    /// Development only: publish bytes on a topic without any check.
    PublishRaw {
        /// The topic.
        topic: String,
        /// Any bytes.
        bytes: Vec<u8>,
        /// The outcome (gossipsub's error as text).
        ack: oneshot::Sender<Result<String, String>>,
    },
    /// Report the network's state.
    Status {
        /// Where to answer.
        ack: oneshot::Sender<NetStatus>,
    },
}

/// The network's state, as `GET /v1/status` shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct NetStatus {
    /// This node's peer id.
    pub peer_id: String,
    /// Addresses it listens on (with `/p2p/<id>`).
    pub listen: Vec<String>,
    /// Connected peers, with their gossipsub score.
    pub connected: Vec<PeerStatus>,
    /// Peers banned now (for bad encodings, bad signatures or protocol violations).
    pub banned: Vec<String>,
    /// When each ban ends (ms), in the order of `banned`.
    pub banned_until_ms: Vec<u64>,
    /// Topics followed.
    pub topics: Vec<String>,
    /// Address scopes the node dials.
    pub dial_scopes: Vec<DialScope>,
}

/// One connected peer.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PeerStatus {
    /// Its peer id.
    pub peer_id: String,
    /// Its gossipsub score, if scoring is on.
    pub score: Option<f64>,
    /// Its decayed fault count.
    pub faults: f64,
}

/// What the network task needs.
#[derive(Debug)]
pub(crate) struct NetParams {
    /// The node's libp2p key.
    pub keypair: Keypair,
    /// Listen addresses.
    pub listen: Vec<Multiaddr>,
    /// Peers to dial at start.
    pub bootstrap: Vec<Multiaddr>,
    /// Rendezvous point.
    pub rendezvous: Option<Multiaddr>,
    /// Groups to follow.
    pub groups: Vec<GroupRef>,
    /// Faults, penalties and bans.
    pub penalties: PenaltyParams,
    /// Periodic catch-up interval.
    pub resync: Duration,
    /// Development: larger gossip messages allowed, to test the others' limits.
    pub unsafe_dev_publish_raw: bool,
    /// Where to write the listen addresses (one a line) when they change.
    pub listen_file: Option<std::path::PathBuf>,
    /// Inbound connections per IP address.
    pub max_connections_per_ip: usize,
    /// Inbound connections per network prefix (IPv4 /24, IPv6 /64).
    pub max_connections_per_prefix: usize,
    /// Address scopes the node may dial besides those of the configured peers.
    pub dial_scopes: Vec<DialScope>,
    /// Gossip messages a second per peer (sustained).
    pub gossip_rate_per_peer: u32,
    /// Gossip messages per peer in a burst.
    pub gossip_burst_per_peer: u32,
    /// Catch-up requests served a second per peer (sustained).
    pub serve_rate_per_peer: u32,
}

impl NetParams {
    /// The dial policy: the configured scopes plus those of the configured peers.
    pub(crate) fn dial_policy(&self) -> DialPolicy {
        let mut configured: Vec<Multiaddr> = self.bootstrap.clone();
        configured.extend(self.rendezvous.iter().cloned());
        DialPolicy::new(&self.dial_scopes, &configured)
    }
}

/// Builds the swarm.
pub(crate) fn build_swarm(
    params: &NetParams,
    metrics: Arc<Metrics>,
) -> Result<Swarm<Behaviour>, NetError> {
    let max_transmit = if params.unsafe_dev_publish_raw {
        1024 * 1024
    } else {
        MAX_GOSSIP_BYTES + 1024
    };
    let policy = params.dial_policy();
    let transport_metrics = metrics.clone();
    let swarm = libp2p::SwarmBuilder::with_existing_identity(params.keypair.clone())
        .with_tokio()
        .with_other_transport(
            |key| -> Result<_, Box<dyn std::error::Error + Send + Sync>> {
                let tcp = tcp::tokio::Transport::new(tcp::Config::default().nodelay(true))
                    .upgrade(libp2p::core::upgrade::Version::V1Lazy)
                    .authenticate(noise::Config::new(key)?)
                    .multiplex(yamux::Config::default());
                let quic = libp2p::quic::tokio::Transport::new(libp2p::quic::Config::new(key));
                let both = tcp
                    .or_transport(quic)
                    .map(|either, _| match either {
                        futures::future::Either::Left((p, m)) => (p, StreamMuxerBox::new(m)),
                        futures::future::Either::Right((p, m)) => (p, StreamMuxerBox::new(m)),
                    })
                    .boxed();
                Ok(DialFilter::new(both, policy, transport_metrics))
            },
        )
        .map_err(|e| NetError::Build(e.to_string()))?
        .with_behaviour(|key| {
            let gossip_config = gossipsub::ConfigBuilder::default()
                .validation_mode(gossipsub::ValidationMode::Anonymous)
                .validate_messages()
                .max_transmit_size(max_transmit)
                .heartbeat_interval(Duration::from_millis(700))
                .message_id_fn(|m: &gossipsub::Message| {
                    gossipsub::MessageId::from(gossip_message_id(m.topic.as_str(), &m.data))
                })
                .build()
                .map_err(|e| e.to_string())?;
            let mut gossipsub = gossipsub::Behaviour::new(
                gossipsub::MessageAuthenticity::Anonymous,
                gossip_config,
            )?;
            gossipsub.with_peer_score(
                gossipsub::PeerScoreParams::default(),
                gossipsub::PeerScoreThresholds::default(),
            )?;
            let peer_id = key.public().to_peer_id();
            let mut kad = kad::Behaviour::with_config(
                peer_id,
                kad::store::MemoryStore::new(peer_id),
                kad::Config::new(KAD_PROTOCOL),
            );
            kad.set_mode(Some(kad::Mode::Server));
            let codec = request_response::cbor::codec::Codec::default()
                .set_request_size_maximum(MAX_REQUEST_BYTES)
                .set_response_size_maximum(MAX_RESPONSE_BYTES);
            let sync = request_response::Behaviour::with_codec(
                codec,
                [(SYNC_PROTOCOL, request_response::ProtocolSupport::Full)],
                request_response::Config::default()
                    .with_request_timeout(Duration::from_secs(60))
                    .with_max_concurrent_streams(32),
            );
            Ok(Behaviour {
                ip_limits: IpLimits::new(
                    params.max_connections_per_ip,
                    params.max_connections_per_prefix,
                    metrics.clone(),
                ),
                limits: connection_limits::Behaviour::new(
                    connection_limits::ConnectionLimits::default()
                        .with_max_established_per_peer(Some(2))
                        .with_max_established(Some(256))
                        .with_max_pending_incoming(Some(64)),
                ),
                blocked: allow_block_list::Behaviour::default(),
                gossipsub,
                identify: identify::Behaviour::new(
                    identify::Config::new(IDENTIFY_PROTOCOL.into(), key.public())
                        .with_agent_version(format!("vouch/{}", env!("CARGO_PKG_VERSION"))),
                ),
                kad,
                rendezvous: rendezvous::client::Behaviour::new(key.clone()),
                sync,
            })
        })
        .map_err(|e| NetError::Build(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(300)))
        .build();
    Ok(swarm)
}

/// One gossip message waiting for validation.
struct GossipItem {
    id: gossipsub::MessageId,
    source: PeerId,
    topic: String,
    data: Vec<u8>,
}

/// Gossipsub's answer for one message, and whether it counts as a fault of its source.
struct GossipVerdict {
    id: gossipsub::MessageId,
    source: PeerId,
    acceptance: gossipsub::MessageAcceptance,
    fault: bool,
}

/// Work finished off the network task, reported back to it.
enum Internal {
    SyncStart {
        peer: PeerId,
        topic: String,
        result: Result<(Initiator, Vec<u8>), SyncError>,
    },
    Respond {
        peer: PeerId,
        channel: request_response::ResponseChannel<SyncResponse>,
        response: SyncResponse,
    },
    FetchedFaults {
        peer: PeerId,
        faults: u32,
    },
    GossipVerdicts(Vec<GossipVerdict>),
}

enum Pending {
    Reconcile {
        topic: String,
    },
    Fetch {
        topic: String,
        ids: HashSet<ObjectId>,
    },
}

impl Pending {
    fn topic(self) -> String {
        match self {
            Pending::Reconcile { topic } | Pending::Fetch { topic, .. } => topic,
        }
    }
}

struct Session {
    init: Option<Initiator>,
    fetch_queue: VecDeque<Vec<ObjectId>>,
}

/// The network task: owns the swarm.
pub(crate) struct NetLoop {
    swarm: Swarm<Behaviour>,
    params: NetParams,
    reader: StoreReader,
    writer: StoreWriter,
    admission: Admission,
    commits: watch::Receiver<i64>,
    metrics: Arc<Metrics>,
    cmd_rx: mpsc::Receiver<NetCmd>,
    internal_tx: mpsc::Sender<Internal>,
    internal_rx: mpsc::Receiver<Internal>,
    gossip_tx: mpsc::Sender<GossipItem>,
    fetched_tx: mpsc::Sender<(PeerId, String, Vec<Vec<u8>>)>,
    topics: Vec<String>,
    book: PeerBook,
    gossip_rates: RateLimits,
    serve_rates: RateLimits,
    synced: HashSet<PeerId>,
    sessions: HashMap<(PeerId, String), Session>,
    /// Topics waiting for a session, per connected peer (bounded by the followed topics).
    queued: HashMap<PeerId, VecDeque<String>>,
    pending: HashMap<request_response::OutboundRequestId, (PeerId, Pending)>,
    serving: usize,
    serving_by_peer: HashMap<PeerId, usize>,
    index_cache: Arc<IndexCache>,
    dial_policy: DialPolicy,
    rendezvous_peers: HashSet<PeerId>,
    listen_addrs: Vec<Multiaddr>,
}

impl std::fmt::Debug for NetLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetLoop")
            .field("peer_id", self.swarm.local_peer_id())
            .finish()
    }
}

/// The stores and pipelines the network task works with.
#[derive(Debug)]
pub(crate) struct NetStores {
    /// The network's own read connection (catch-up serving never waits for the API's).
    pub reader: StoreReader,
    /// The store writer (peers, bans).
    pub writer: StoreWriter,
    /// Gossip and fetched objects go through it.
    pub ingest: Ingest,
    /// The store's commit hook (to know when a topic's index is stale).
    pub commits: watch::Receiver<i64>,
}

impl NetLoop {
    /// Builds the swarm, listens, dials bootstrap and known peers.
    pub(crate) fn new(
        params: NetParams,
        stores: NetStores,
        metrics: Arc<Metrics>,
        cmd_rx: mpsc::Receiver<NetCmd>,
    ) -> Result<Self, NetError> {
        let NetStores {
            reader,
            writer,
            ingest,
            commits,
        } = stores;
        let mut swarm = build_swarm(&params, metrics.clone())?;
        for addr in &params.listen {
            swarm
                .listen_on(addr.clone())
                .map_err(|e| NetError::Listen {
                    addr: addr.to_string(),
                    message: e.to_string(),
                })?;
        }
        let (internal_tx, internal_rx) = mpsc::channel(256);
        let (gossip_tx, gossip_rx) = mpsc::channel(GOSSIP_VALIDATE_QUEUE);
        let (fetched_tx, fetched_rx) = mpsc::channel(FETCH_INGEST_QUEUE);
        tokio::spawn(gossip_validate_task(
            ingest.clone(),
            gossip_rx,
            internal_tx.clone(),
            metrics.clone(),
        ));
        tokio::spawn(fetch_ingest_task(
            ingest.clone(),
            fetched_rx,
            internal_tx.clone(),
        ));
        let admission = ingest.admission().clone();
        let now = crate::node::clock::now_ms();
        let mut this = NetLoop {
            swarm,
            reader,
            writer,
            admission,
            commits,
            metrics,
            cmd_rx,
            internal_tx,
            internal_rx,
            gossip_tx,
            fetched_tx,
            topics: Vec::new(),
            book: PeerBook::new(params.penalties),
            gossip_rates: RateLimits::new(
                params.gossip_rate_per_peer,
                params.gossip_burst_per_peer,
            ),
            serve_rates: RateLimits::new(
                params.serve_rate_per_peer,
                params.serve_rate_per_peer.saturating_mul(4),
            ),
            synced: HashSet::new(),
            sessions: HashMap::new(),
            queued: HashMap::new(),
            pending: HashMap::new(),
            serving: 0,
            serving_by_peer: HashMap::new(),
            index_cache: Arc::new(IndexCache::default()),
            dial_policy: params.dial_policy(),
            rendezvous_peers: HashSet::new(),
            listen_addrs: Vec::new(),
            params,
        };
        this.follow(SOCIAL_TOPIC.to_owned());
        for g in this.params.groups.clone() {
            this.follow(group_topic(&g));
        }
        if let Ok(banned) = this.reader.banned_peers_since() {
            for (p, since) in banned {
                let Ok(peer) = p.parse::<PeerId>() else {
                    continue;
                };
                if this.book.restore_ban(peer, since, now) {
                    this.swarm.behaviour_mut().blocked.block_peer(peer);
                    this.swarm.behaviour_mut().gossipsub.blacklist_peer(&peer);
                } else {
                    // Ended while the node was down.
                    this.writer.unban_peer(p);
                }
            }
        }
        this.update_ban_gauge();
        for addr in this.params.bootstrap.clone() {
            this.dial_addr(addr);
        }
        if let Some(addr) = this.params.rendezvous.clone() {
            this.dial_addr(addr);
        }
        if let Ok(known) = this.reader.known_peers(KNOWN_PEERS_DIALLED * 4) {
            let mut by_peer: HashMap<PeerId, Vec<Multiaddr>> = HashMap::new();
            for (p, a) in known {
                if let (Ok(p), Ok(a)) = (p.parse::<PeerId>(), a.parse::<Multiaddr>()) {
                    if p != *this.swarm.local_peer_id() && this.dial_policy.allows(&a) {
                        by_peer.entry(p).or_default().push(a);
                    }
                }
            }
            for (p, addrs) in by_peer.into_iter().take(KNOWN_PEERS_DIALLED) {
                for a in &addrs {
                    this.swarm.behaviour_mut().kad.add_address(&p, a.clone());
                }
                let _ = this
                    .swarm
                    .dial(DialOpts::peer_id(p).addresses(addrs).build());
            }
        }
        Ok(this)
    }

    /// This node's peer id.
    pub(crate) fn local_peer_id(&self) -> PeerId {
        *self.swarm.local_peer_id()
    }

    fn dial_addr(&mut self, addr: Multiaddr) {
        if let Err(e) = self.swarm.dial(addr.clone()) {
            tracing::warn!(%addr, error = %e, "dial failed");
        }
    }

    fn follow(&mut self, topic: String) {
        if self.topics.contains(&topic) {
            return;
        }
        let t = gossipsub::IdentTopic::new(topic.clone());
        let gs = &mut self.swarm.behaviour_mut().gossipsub;
        if let Err(e) = gs.subscribe(&t) {
            tracing::warn!(%topic, error = %e, "subscribe failed");
            return;
        }
        let params = gossipsub::TopicScoreParams {
            topic_weight: 1.0,
            // Squared count: three invalid objects in a decay window pass the graylist
            // threshold (-80). Only faults of the sender are rejected (`peers.rs`).
            invalid_message_deliveries_weight: -10.0,
            ..Default::default()
        };
        if let Err(e) = gs.set_topic_params(t, params) {
            tracing::warn!(%topic, error = %e, "topic score params refused");
        }
        self.topics.push(topic);
    }

    /// Runs until `shutdown` completes.
    pub(crate) async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut resync = tokio::time::interval(self.params.resync);
        resync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut discover = tokio::time::interval(Duration::from_secs(3));
        discover.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut kad_tick = tokio::time::interval(Duration::from_secs(60));
        kad_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut maintenance = tokio::time::interval(MAINTENANCE_EVERY);
        maintenance.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                Some(cmd) = self.cmd_rx.recv() => self.on_cmd(cmd),
                Some(internal) = self.internal_rx.recv() => self.on_internal(internal),
                _ = resync.tick() => self.resync_random_peer(),
                _ = discover.tick() => self.discover(),
                _ = maintenance.tick() => self.expire_bans(),
                _ = kad_tick.tick() => {
                    let _ = self.swarm.behaviour_mut().kad.bootstrap();
                }
            }
        }
        tracing::info!("network stopped");
    }

    fn discover(&mut self) {
        let ns = match rendezvous::Namespace::new(RENDEZVOUS_NAMESPACE.to_owned()) {
            Ok(ns) => ns,
            Err(_) => return,
        };
        for rp in self.rendezvous_peers.clone() {
            self.swarm
                .behaviour_mut()
                .rendezvous
                .discover(Some(ns.clone()), None, Some(100), rp);
        }
    }

    fn resync_random_peer(&mut self) {
        let peers: Vec<PeerId> = self.synced.iter().copied().collect();
        if peers.is_empty() {
            return;
        }
        let i = (crate::node::clock::now_ms() as usize) % peers.len();
        self.start_sync(peers[i]);
    }

    fn write_listen_file(&self) {
        if let Some(path) = &self.params.listen_file {
            let me = *self.swarm.local_peer_id();
            let text: String = self
                .listen_addrs
                .iter()
                .map(|a| format!("{}\n", a.clone().with_p2p(me).unwrap_or_else(|a| a)))
                .collect();
            let tmp = path.with_extension("tmp");
            if std::fs::write(&tmp, text).is_ok() {
                let _ = std::fs::rename(&tmp, path);
            }
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening");
                self.swarm.add_external_address(address.clone());
                self.listen_addrs.push(address);
                self.write_listen_file();
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                num_established,
                ..
            } => {
                if num_established.get() == 1 {
                    Metrics::inc(&self.metrics.peers_connected);
                }
                if self.book.is_banned(&peer_id, crate::node::clock::now_ms()) {
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                self.metrics
                    .peers_connected
                    .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                self.synced.remove(&peer_id);
                self.sessions.retain(|(p, _), _| *p != peer_id);
                self.queued.remove(&peer_id);
                self.pending.retain(|_, (p, _)| *p != peer_id);
                self.rendezvous_peers.remove(&peer_id);
                self.gossip_rates.forget(&peer_id);
                self.serve_rates.forget(&peer_id);
            }
            SwarmEvent::Behaviour(ev) => self.on_behaviour_event(ev),
            _ => {}
        }
    }

    fn on_behaviour_event(&mut self, ev: BehaviourEvent) {
        match ev {
            BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => self.on_gossip(propagation_source, message_id, message),
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                self.on_identify(peer_id, info)
            }
            BehaviourEvent::Kad(kad::Event::RoutingUpdated {
                peer, addresses, ..
            }) => {
                let connected = self.swarm.connected_peers().count();
                let now = crate::node::clock::now_ms();
                let addrs: Vec<Multiaddr> = addresses
                    .into_vec()
                    .into_iter()
                    .filter(|a| self.dial_policy.allows(a))
                    .collect();
                if connected < TARGET_PEERS
                    && !addrs.is_empty()
                    && !self.swarm.is_connected(&peer)
                    && !self.book.is_banned(&peer, now)
                    && peer != *self.swarm.local_peer_id()
                {
                    let _ = self
                        .swarm
                        .dial(DialOpts::peer_id(peer).addresses(addrs).build());
                }
            }
            BehaviourEvent::Rendezvous(rendezvous::client::Event::Discovered {
                registrations,
                ..
            }) => {
                let me = *self.swarm.local_peer_id();
                let now = crate::node::clock::now_ms();
                for reg in registrations {
                    let peer = reg.record.peer_id();
                    if peer == me
                        || self.swarm.is_connected(&peer)
                        || self.book.is_banned(&peer, now)
                    {
                        continue;
                    }
                    let addrs: Vec<Multiaddr> = reg
                        .record
                        .addresses()
                        .iter()
                        .filter(|a| self.dial_policy.allows(a))
                        .take(MAX_ADDRS_PER_PEER)
                        .cloned()
                        .collect();
                    if addrs.is_empty() {
                        continue;
                    }
                    tracing::info!(%peer, "discovered through rendezvous");
                    let _ = self
                        .swarm
                        .dial(DialOpts::peer_id(peer).addresses(addrs).build());
                }
            }
            BehaviourEvent::Rendezvous(rendezvous::client::Event::RegisterFailed {
                error, ..
            }) => {
                tracing::warn!(?error, "rendezvous registration failed");
            }
            BehaviourEvent::Sync(ev) => self.on_sync_event(ev),
            _ => {}
        }
    }

    fn on_identify(&mut self, peer: PeerId, info: identify::Info) {
        // Only addresses this node may dial are kept, fed to Kademlia or remembered.
        let addrs: Vec<Multiaddr> = info
            .listen_addrs
            .iter()
            .take(16)
            .filter(|a| self.dial_policy.allows(a))
            .take(MAX_ADDRS_PER_PEER)
            .cloned()
            .collect();
        let supports_sync = info.protocols.contains(&SYNC_PROTOCOL);
        if supports_sync {
            for a in &addrs {
                self.swarm.behaviour_mut().kad.add_address(&peer, a.clone());
            }
            if !addrs.is_empty() {
                self.writer.remember_peer(
                    peer.to_string(),
                    addrs.iter().map(|a| a.to_string()).collect(),
                    crate::node::clock::now_ms(),
                );
            }
            if self.synced.insert(peer) {
                self.start_sync(peer);
            }
        }
        if self.params.rendezvous.is_some()
            && info.protocols.contains(&rendezvous::PROTOCOL_NAME)
            && self.rendezvous_peers.insert(peer)
        {
            if let Ok(ns) = rendezvous::Namespace::new(RENDEZVOUS_NAMESPACE.to_owned()) {
                if let Err(e) =
                    self.swarm
                        .behaviour_mut()
                        .rendezvous
                        .register(ns.clone(), peer, None)
                {
                    tracing::warn!(error = %e, "rendezvous register");
                }
                self.swarm
                    .behaviour_mut()
                    .rendezvous
                    .discover(Some(ns), None, Some(100), peer);
            }
        }
    }

    /// A gossip message: rate-limited per peer, then queued for validation off this task.
    fn on_gossip(
        &mut self,
        source: PeerId,
        message_id: gossipsub::MessageId,
        message: gossipsub::Message,
    ) {
        use gossipsub::MessageAcceptance as A;
        let now = crate::node::clock::now_ms();
        let ignore = |this: &mut Self, why: &std::sync::atomic::AtomicU64| {
            Metrics::inc(why);
            Metrics::inc(&this.metrics.gossip_ignored_total);
            this.swarm
                .behaviour_mut()
                .gossipsub
                .report_message_validation_result(&message_id, &source, A::Ignore);
        };
        if !self.gossip_rates.allow(source, now) {
            let m = self.metrics.clone();
            ignore(self, &m.gossip_rate_limited_total);
            return;
        }
        let item = GossipItem {
            id: message_id.clone(),
            source,
            topic: message.topic.as_str().to_owned(),
            data: message.data,
        };
        if self.gossip_tx.try_send(item).is_err() {
            let m = self.metrics.clone();
            ignore(self, &m.queue_full_total);
        }
    }

    fn on_gossip_verdicts(&mut self, verdicts: Vec<GossipVerdict>) {
        let mut faults: HashMap<PeerId, u32> = HashMap::new();
        for v in verdicts {
            self.swarm
                .behaviour_mut()
                .gossipsub
                .report_message_validation_result(&v.id, &v.source, v.acceptance);
            if v.fault {
                *faults.entry(v.source).or_default() += 1;
            }
        }
        let graylist = gossipsub::PeerScoreThresholds::default().graylist_threshold;
        for (peer, n) in faults {
            self.penalise(peer, n, "invalid gossip");
            let score = self.swarm.behaviour().gossipsub.peer_score(&peer);
            if score.is_some_and(|s| s < graylist) {
                self.ban(peer, "gossip score below the graylist threshold".into());
            }
        }
    }

    /// Counts `n` faults against `peer`; bans it at the threshold.
    fn penalise(&mut self, peer: PeerId, n: u32, why: &str) {
        Metrics::add(&self.metrics.peer_faults_total, u64::from(n));
        let now = crate::node::clock::now_ms();
        tracing::debug!(%peer, faults = n, why, "peer fault");
        if let Penalised::Ban(_) = self.book.penalise(peer, n, now) {
            let total = self.params.penalties.threshold;
            self.apply_ban(peer, format!("{why}: {total} faults"));
        }
    }

    fn ban(&mut self, peer: PeerId, reason: String) {
        let now = crate::node::clock::now_ms();
        if self.book.is_banned(&peer, now) {
            return;
        }
        self.book.ban(peer, now);
        self.apply_ban(peer, reason);
    }

    fn apply_ban(&mut self, peer: PeerId, reason: String) {
        tracing::warn!(%peer, %reason, ban_secs = self.params.penalties.ban_ms / 1000, "banning peer");
        Metrics::inc(&self.metrics.peers_banned_total);
        let b = self.swarm.behaviour_mut();
        b.gossipsub.blacklist_peer(&peer);
        b.blocked.block_peer(peer);
        b.kad.remove_peer(&peer);
        let _ = self.swarm.disconnect_peer_id(peer);
        self.sessions.retain(|(p, _), _| *p != peer);
        self.queued.remove(&peer);
        self.writer
            .ban_peer(peer.to_string(), reason, crate::node::clock::now_ms());
        self.update_ban_gauge();
    }

    fn expire_bans(&mut self) {
        let ended = self.book.expire(crate::node::clock::now_ms());
        for peer in ended {
            tracing::info!(%peer, "ban ended");
            Metrics::inc(&self.metrics.peers_unbanned_total);
            let b = self.swarm.behaviour_mut();
            b.blocked.unblock_peer(peer);
            b.gossipsub.remove_blacklisted_peer(&peer);
            self.writer.unban_peer(peer.to_string());
        }
        self.update_ban_gauge();
    }

    fn update_ban_gauge(&self) {
        self.metrics.peers_banned.store(
            self.book.n_bans() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    fn on_cmd(&mut self, cmd: NetCmd) {
        match cmd {
            NetCmd::Publish { topic, bytes } => {
                let t = gossipsub::IdentTopic::new(topic);
                match self.swarm.behaviour_mut().gossipsub.publish(t, bytes) {
                    Ok(_) => Metrics::inc(&self.metrics.gossip_published_total),
                    // No peer on the topic yet: catch-up will carry the object.
                    Err(e) => tracing::debug!(error = %e, "publish"),
                }
            }
            NetCmd::PublishRaw { topic, bytes, ack } => {
                let result = if self.params.unsafe_dev_publish_raw {
                    let t = gossipsub::IdentTopic::new(topic);
                    self.swarm
                        .behaviour_mut()
                        .gossipsub
                        .publish(t, bytes)
                        .map(|id| id.to_string())
                        .map_err(|e| e.to_string())
                } else {
                    Err("disabled".to_owned())
                };
                let _ = ack.send(result);
            }
            NetCmd::Status { ack } => {
                let me = *self.swarm.local_peer_id();
                let now = crate::node::clock::now_ms();
                let gs = &self.swarm.behaviour().gossipsub;
                let connected = self
                    .swarm
                    .connected_peers()
                    .map(|p| PeerStatus {
                        peer_id: p.to_string(),
                        score: gs.peer_score(p),
                        faults: self.book.faults(p, now),
                    })
                    .collect();
                let (banned, banned_until_ms) = self
                    .book
                    .bans()
                    .filter(|(_, until)| **until > now)
                    .map(|(p, until)| (p.to_string(), *until))
                    .unzip();
                let _ = ack.send(NetStatus {
                    peer_id: me.to_string(),
                    listen: self
                        .listen_addrs
                        .iter()
                        .map(|a| a.clone().with_p2p(me).unwrap_or_else(|a| a).to_string())
                        .collect(),
                    connected,
                    banned,
                    banned_until_ms,
                    topics: self.topics.clone(),
                    dial_scopes: self.dial_policy.scopes().to_vec(),
                });
            }
        }
    }

    /// Queues one reconciliation per followed topic with `peer` (skipping running and queued
    /// ones). A peer's sessions run one after the other, as its responder serves one request
    /// of a peer at a time (`MAX_SERVING_PER_PEER`).
    fn start_sync(&mut self, peer: PeerId) {
        let running: Vec<String> = self
            .sessions
            .keys()
            .filter(|(p, _)| *p == peer)
            .map(|(_, t)| t.clone())
            .collect();
        let queue = self.queued.entry(peer).or_default();
        for topic in &self.topics {
            if !running.contains(topic) && !queue.contains(topic) {
                queue.push_back(topic.clone());
            }
        }
        self.start_next(peer);
    }

    /// Starts `peer`'s next queued session unless one is running.
    fn start_next(&mut self, peer: PeerId) {
        if self.sessions.keys().any(|(p, _)| *p == peer) {
            return;
        }
        let Some(topic) = self.queued.get_mut(&peer).and_then(|q| q.pop_front()) else {
            self.queued.remove(&peer);
            return;
        };
        if self.sessions.len() >= MAX_SESSIONS {
            Metrics::inc(&self.metrics.limit_exceeded_total);
            self.queued.remove(&peer);
            return;
        }
        self.sessions.insert(
            (peer, topic.clone()),
            Session {
                init: None,
                fetch_queue: VecDeque::new(),
            },
        );
        let reader = self.reader.clone();
        let tx = self.internal_tx.clone();
        tokio::spawn(async move {
            let t = topic.clone();
            let result = tokio::task::spawn_blocking(move || {
                let items = reader
                    .sync_items(&t)
                    .map_err(|e| SyncError::Negentropy(e.to_string()))?;
                Initiator::start(&items)
            })
            .await
            .unwrap_or_else(|e| Err(SyncError::Negentropy(e.to_string())));
            let _ = tx
                .send(Internal::SyncStart {
                    peer,
                    topic,
                    result,
                })
                .await;
        });
    }

    /// Ends a session and starts the peer's next one.
    fn end_session(&mut self, peer: PeerId, topic: String) {
        self.sessions.remove(&(peer, topic));
        self.start_next(peer);
    }

    fn on_internal(&mut self, internal: Internal) {
        match internal {
            Internal::SyncStart {
                peer,
                topic,
                result,
            } => match result {
                Ok((init, first)) => {
                    let key = (peer, topic.clone());
                    if let Some(s) = self.sessions.get_mut(&key) {
                        s.init = Some(init);
                        Metrics::add(&self.metrics.sync_bytes_sent_total, first.len() as u64);
                        let id = self.swarm.behaviour_mut().sync.send_request(
                            &peer,
                            SyncRequest::Reconcile {
                                topic: topic.clone(),
                                msg: first,
                            },
                        );
                        self.pending
                            .insert(id, (peer, Pending::Reconcile { topic }));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot start catch-up");
                    self.end_session(peer, topic);
                }
            },
            Internal::Respond {
                peer,
                channel,
                response,
            } => {
                self.serving = self.serving.saturating_sub(1);
                if let Some(n) = self.serving_by_peer.get_mut(&peer) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        self.serving_by_peer.remove(&peer);
                    }
                }
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_response(channel, response);
            }
            Internal::FetchedFaults { peer, faults } => {
                self.penalise(peer, faults, "invalid or wrong-topic objects in a fetch");
            }
            Internal::GossipVerdicts(v) => self.on_gossip_verdicts(v),
        }
    }

    fn on_sync_event(&mut self, ev: request_response::Event<SyncRequest, SyncResponse>) {
        match ev {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => self.on_sync_request(peer, request, channel),
                request_response::Message::Response {
                    request_id,
                    response,
                } => self.on_sync_response(request_id, response),
            },
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                tracing::debug!(%peer, %error, "sync request failed");
                if let Some((peer, p)) = self.pending.remove(&request_id) {
                    self.end_session(peer, p.topic());
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(%peer, %error, "inbound sync request failed");
            }
            _ => {}
        }
    }

    fn on_sync_request(
        &mut self,
        peer: PeerId,
        request: SyncRequest,
        channel: request_response::ResponseChannel<SyncResponse>,
    ) {
        let bad = |code: &str| SyncResponse::Error {
            code: code.to_owned(),
        };
        let now = crate::node::clock::now_ms();
        let refuse = |this: &mut Self, channel, code: &str| {
            let _ = this
                .swarm
                .behaviour_mut()
                .sync
                .send_response(channel, bad(code));
        };
        if self.book.is_banned(&peer, now) {
            refuse(self, channel, "banned");
            return;
        }
        if self.serving >= MAX_SERVING {
            Metrics::inc(&self.metrics.limit_exceeded_total);
            refuse(self, channel, "busy");
            return;
        }
        let mine = self.serving_by_peer.get(&peer).copied().unwrap_or(0);
        if mine >= MAX_SERVING_PER_PEER || !self.serve_rates.allow(peer, now) {
            Metrics::inc(&self.metrics.sync_serving_quota_total);
            refuse(self, channel, "busy");
            return;
        }
        let reader = self.reader.clone();
        let response: Box<dyn FnOnce() -> SyncResponse + Send> = match request {
            SyncRequest::Reconcile { topic, msg } => {
                if topic.len() > MAX_TOPIC_LEN {
                    Metrics::inc(&self.metrics.limit_exceeded_total);
                    refuse(self, channel, "bad-request");
                    return;
                }
                Metrics::inc(&self.metrics.sync_requests_served_total);
                let followed = self.topics.contains(&topic);
                let cache = self.index_cache.clone();
                let seq = *self.commits.borrow();
                let metrics = self.metrics.clone();
                Box::new(move || {
                    let index = if followed {
                        // One index per topic, reused across messages and peers.
                        cache
                            .get(&topic, seq, || {
                                reader
                                    .sync_items(&topic)
                                    .map_err(|e| SyncError::Negentropy(e.to_string()))
                            })
                            .map(|(s, built)| {
                                if built {
                                    Metrics::inc(&metrics.sync_index_builds_total);
                                }
                                s
                            })
                    } else {
                        // A topic this node does not follow: it has nothing of it.
                        crate::net::sync::storage(&[]).map(Arc::new)
                    };
                    match index.and_then(|s| crate::net::sync::answer(&s, &msg)) {
                        Ok(msg) => SyncResponse::Reconcile { msg },
                        Err(_) => SyncResponse::Error {
                            code: "bad-request".into(),
                        },
                    }
                })
            }
            SyncRequest::Fetch { ids } => {
                let ids: Option<Vec<ObjectId>> = ids
                    .iter()
                    .map(|b| <[u8; 32]>::try_from(b.as_slice()).ok().map(ObjectId))
                    .collect();
                let ids = match ids {
                    Some(ids) if ids.len() <= FETCH_BATCH => ids,
                    _ => {
                        Metrics::inc(&self.metrics.limit_exceeded_total);
                        refuse(self, channel, "bad-request");
                        return;
                    }
                };
                Box::new(
                    move || match reader.get_many(&ids, FETCH_RESPONSE_MAX_BYTES) {
                        Ok(objects) => SyncResponse::Objects {
                            objects: objects
                                .into_iter()
                                .map(serde_bytes::ByteBuf::from)
                                .collect(),
                        },
                        Err(_) => SyncResponse::Error {
                            code: "internal".into(),
                        },
                    },
                )
            }
        };
        self.serving += 1;
        *self.serving_by_peer.entry(peer).or_default() += 1;
        let tx = self.internal_tx.clone();
        tokio::spawn(async move {
            let response =
                tokio::task::spawn_blocking(response)
                    .await
                    .unwrap_or(SyncResponse::Error {
                        code: "internal".into(),
                    });
            let _ = tx
                .send(Internal::Respond {
                    peer,
                    channel,
                    response,
                })
                .await;
        });
    }

    fn on_sync_response(
        &mut self,
        request_id: request_response::OutboundRequestId,
        response: SyncResponse,
    ) {
        let Some((peer, pending)) = self.pending.remove(&request_id) else {
            return;
        };
        match (pending, response) {
            (Pending::Reconcile { topic }, SyncResponse::Reconcile { msg }) => {
                let key = (peer, topic.clone());
                let Some(session) = self.sessions.get_mut(&key) else {
                    return;
                };
                let Some(init) = session.init.as_mut() else {
                    return;
                };
                Metrics::inc(&self.metrics.sync_round_trips_total);
                Metrics::add(&self.metrics.sync_bytes_received_total, msg.len() as u64);
                match init.step(&msg) {
                    Ok(Some(next)) => {
                        Metrics::add(&self.metrics.sync_bytes_sent_total, next.len() as u64);
                        let id = self.swarm.behaviour_mut().sync.send_request(
                            &peer,
                            SyncRequest::Reconcile {
                                topic: topic.clone(),
                                msg: next,
                            },
                        );
                        self.pending
                            .insert(id, (peer, Pending::Reconcile { topic }));
                    }
                    Ok(None) => {
                        if init.capped {
                            Metrics::inc(&self.metrics.sync_ids_capped_total);
                        }
                        let mut need = init.take_need();
                        let before = need.len();
                        // What this node refused before is not fetched again.
                        need.retain(|id| !self.admission.was_refused(id));
                        Metrics::add(
                            &self.metrics.sync_skipped_refused_total,
                            (before - need.len()) as u64,
                        );
                        tracing::info!(%peer, %topic, missing = need.len(), skipped = before - need.len(), "reconciled");
                        session.fetch_queue =
                            need.chunks(FETCH_BATCH).map(|c| c.to_vec()).collect();
                        self.next_fetch(peer, topic);
                    }
                    Err(e) => {
                        tracing::warn!(%peer, error = %e, "reconciliation failed");
                        self.end_session(peer, topic);
                    }
                }
            }
            (Pending::Fetch { topic, ids }, SyncResponse::Objects { objects }) => {
                let n = objects.len();
                Metrics::add(&self.metrics.sync_objects_fetched_total, n as u64);
                let mut asked = Vec::with_capacity(n);
                let mut unrequested = 0u32;
                let mut seen = HashSet::with_capacity(n);
                for b in objects {
                    let id = ObjectId::of_bytes(&b);
                    if ids.contains(&id) && seen.insert(id) {
                        asked.push(b.into_vec());
                    } else {
                        unrequested += 1;
                    }
                }
                if unrequested > 0 {
                    // Objects nobody asked for: a lying responder. Its session ends here.
                    Metrics::add(&self.metrics.sync_unrequested_total, u64::from(unrequested));
                    self.sessions.remove(&(peer, topic));
                    self.penalise(peer, unrequested, "unrequested objects in a fetch");
                    self.start_next(peer);
                    return;
                }
                if asked.is_empty() {
                    // It has none of what it listed: stop asking it in this session.
                    self.end_session(peer, topic);
                    return;
                }
                if self
                    .fetched_tx
                    .try_send((peer, topic.clone(), asked))
                    .is_err()
                {
                    Metrics::inc(&self.metrics.queue_full_total);
                }
                self.next_fetch(peer, topic);
            }
            (p, SyncResponse::Error { code }) => {
                tracing::debug!(%peer, %code, "peer refused a sync request");
                self.end_session(peer, p.topic());
            }
            (p, _) => {
                // A response of the wrong shape: a protocol violation.
                self.sessions.remove(&(peer, p.topic()));
                self.penalise(peer, 1, "sync response of the wrong shape");
                self.start_next(peer);
            }
        }
    }

    fn next_fetch(&mut self, peer: PeerId, topic: String) {
        let key = (peer, topic.clone());
        let Some(session) = self.sessions.get_mut(&key) else {
            return;
        };
        match session.fetch_queue.pop_front() {
            Some(ids) => {
                let wire = ids
                    .iter()
                    .map(|id| serde_bytes::ByteBuf::from(id.0.to_vec()))
                    .collect();
                let id = self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_request(&peer, SyncRequest::Fetch { ids: wire });
                self.pending.insert(
                    id,
                    (
                        peer,
                        Pending::Fetch {
                            topic,
                            ids: ids.into_iter().collect(),
                        },
                    ),
                );
            }
            None => {
                Metrics::inc(&self.metrics.sync_sessions_total);
                self.end_session(peer, topic);
            }
        }
    }
}

/// Gossipsub's answer for one ingest result: accept (relay) only what was stored new;
/// reject (a fault of the sender) only bad encodings and signatures; ignore everything
/// else, including what is valid only on another clock or version.
fn verdict_of(
    result: &Result<crate::node::ingest::Ingested, IngestError>,
    metrics: &Metrics,
) -> (gossipsub::MessageAcceptance, bool) {
    use gossipsub::MessageAcceptance as A;
    match result {
        Ok(done) if done.new && !done.quarantined => {
            Metrics::inc(&metrics.gossip_accepted_total);
            (A::Accept, false)
        }
        Ok(_) => {
            Metrics::inc(&metrics.gossip_ignored_total);
            (A::Ignore, false)
        }
        Err(IngestError::Invalid(e)) if is_sender_fault(e) => {
            Metrics::inc(&metrics.gossip_rejected_total);
            (A::Reject, true)
        }
        Err(IngestError::Invalid(_)) => {
            Metrics::inc(&metrics.gossip_ignored_clock_or_version_total);
            Metrics::inc(&metrics.gossip_ignored_total);
            (A::Ignore, false)
        }
        Err(IngestError::Store(_)) => {
            // Not stored (a full disk, an I/O error): not relayed, and no fault of the sender.
            Metrics::inc(&metrics.gossip_store_failed_total);
            Metrics::inc(&metrics.gossip_ignored_total);
            (A::Ignore, false)
        }
        Err(_) => {
            Metrics::inc(&metrics.gossip_ignored_total);
            (A::Ignore, false)
        }
    }
}

/// Validates gossip off the network task: batches of up to [`GOSSIP_BATCH`] messages go
/// through ingest (batch signature verification on the blocking pool, filter, admission,
/// store); each message's verdict goes back to the network task after its batch committed,
/// so nothing is relayed before it is stored.
async fn gossip_validate_task(
    ingest: Ingest,
    mut rx: mpsc::Receiver<GossipItem>,
    internal: mpsc::Sender<Internal>,
    metrics: Arc<Metrics>,
) {
    let mut running = tokio::task::JoinSet::new();
    let mut open = true;
    while open || !running.is_empty() {
        tokio::select! {
            Some(done) = running.join_next(), if !running.is_empty() => {
                if let Ok(verdicts) = done {
                    let _ = internal.send(Internal::GossipVerdicts(verdicts)).await;
                }
            }
            first = rx.recv(), if open && running.len() < GOSSIP_IN_FLIGHT => match first {
                Some(first) => {
                    let mut batch = vec![first];
                    while batch.len() < GOSSIP_BATCH {
                        match rx.try_recv() {
                            Ok(item) => batch.push(item),
                            Err(_) => break,
                        }
                    }
                    let ingest = ingest.clone();
                    let metrics = metrics.clone();
                    running.spawn(async move {
                        let (heads, (topics, datas)): (Vec<_>, (Vec<_>, Vec<_>)) = batch
                            .into_iter()
                            .map(|g| ((g.id, g.source), (g.topic, g.data)))
                            .unzip();
                        let results = ingest.ingest_on_topics(datas, topics).await;
                        heads
                            .into_iter()
                            .zip(results)
                            .map(|((id, source), r)| {
                                let (acceptance, fault) = verdict_of(&r, &metrics);
                                GossipVerdict { id, source, acceptance, fault }
                            })
                            .collect::<Vec<_>>()
                    });
                }
                None => open = false,
            },
        }
    }
}

async fn fetch_ingest_task(
    ingest: Ingest,
    mut rx: mpsc::Receiver<(PeerId, String, Vec<Vec<u8>>)>,
    internal: mpsc::Sender<Internal>,
) {
    // Each batch counts the faults of its responder: bad encodings and signatures, and
    // objects that are not of the session's topic.
    let mut running = tokio::task::JoinSet::new();
    let mut open = true;
    while open || !running.is_empty() {
        tokio::select! {
            Some(done) = running.join_next(), if !running.is_empty() => {
                if let Ok((peer, faults)) = done {
                    if faults > 0 {
                        let _ = internal
                            .send(Internal::FetchedFaults { peer, faults })
                            .await;
                    }
                }
            }
            next = rx.recv(), if open && running.len() < FETCH_INGEST_IN_FLIGHT => match next {
                Some((peer, topic, objects)) => {
                    let ingest = ingest.clone();
                    running.spawn(async move {
                        let topics = vec![topic; objects.len()];
                        let faults = ingest
                            .ingest_on_topics(objects, topics)
                            .await
                            .iter()
                            .filter(|r| match r {
                                Err(IngestError::Invalid(e)) => is_sender_fault(e),
                                Err(IngestError::WrongTopic { .. }) => true,
                                _ => false,
                            })
                            .count() as u32;
                        (peer, faults)
                    });
                }
                None => open = false,
            },
        }
    }
}

/// Parses multiaddrs, naming the bad one.
pub(crate) fn parse_addrs(addrs: &[String]) -> Result<Vec<Multiaddr>, NetError> {
    addrs
        .iter()
        .map(|a| {
            a.parse::<Multiaddr>().map_err(|e| NetError::Listen {
                addr: a.clone(),
                message: e.to_string(),
            })
        })
        .collect()
}
