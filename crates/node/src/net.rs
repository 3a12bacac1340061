//! The libp2p network: TCP and QUIC, noise, yamux; gossipsub (a topic per group and one
//! for social objects, message id = content id, validation on); identify; Kademlia under
//! `/vouch/kad/1.0.0`; rendezvous for first contact; `/vouch/sync/1` request-response for
//! catch-up. One task owns the swarm; everything else talks to it over bounded channels.
//! `net/sync.rs` is the catch-up protocol, `net/topic.rs` the gossip topics,
//! `net/rendezvous_server.rs` the rendezvous point (`vouch rendezvous`).

pub(crate) mod rendezvous_server;
pub(crate) mod sync;
pub(crate) mod topic;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{
    allow_block_list, connection_limits, gossipsub, identify, identity::Keypair, kad, noise,
    rendezvous, request_response, tcp, yamux, Multiaddr, PeerId, StreamProtocol, Swarm,
};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use vouch_reputation::{GroupRef, Limits, ObjectId};

use crate::net::sync::{
    Initiator, SyncError, SyncRequest, SyncResponse, FETCH_BATCH, FETCH_RESPONSE_MAX_BYTES,
    MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, MAX_TOPIC_LEN,
};
use crate::net::topic::{group_topic, SOCIAL_TOPIC};
use crate::node::filter::SharedFilter;
use crate::node::ingest::Ingest;
use crate::node::metrics::Metrics;
use crate::node::store::{StoreReader, StoreWriter, StoredObject};

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
/// Capacity of the queue of gossiped objects waiting for the store.
pub(crate) const GOSSIP_STORE_QUEUE: usize = 4096;
/// Capacity of the queue of fetched batches waiting for ingest.
pub(crate) const FETCH_INGEST_QUEUE: usize = 16;
/// Fetched batches in the ingest pipeline at once (one verifies while another commits).
pub(crate) const FETCH_INGEST_IN_FLIGHT: usize = 4;
/// Most reconciliation requests served at once; more get `busy`.
pub(crate) const MAX_SERVING: usize = 4;
/// Known peers dialled at start.
pub(crate) const KNOWN_PEERS_DIALLED: usize = 32;
/// Connected peers below which the node dials peers Kademlia finds.
pub(crate) const TARGET_PEERS: usize = 8;

/// The node's network behaviour.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
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
    /// Peers banned for sending invalid objects.
    pub banned: Vec<String>,
    /// Topics followed.
    pub topics: Vec<String>,
}

/// One connected peer.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PeerStatus {
    /// Its peer id.
    pub peer_id: String,
    /// Its gossipsub score, if scoring is on.
    pub score: Option<f64>,
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
    /// Invalid objects before a ban.
    pub max_invalid_per_peer: u32,
    /// Periodic catch-up interval.
    pub resync: Duration,
    /// Development: larger gossip messages allowed, to test the others' limits.
    pub unsafe_dev_publish_raw: bool,
    /// Where to write the listen addresses (one a line) when they change.
    pub listen_file: Option<std::path::PathBuf>,
}

/// Builds the swarm.
pub(crate) fn build_swarm(params: &NetParams) -> Result<Swarm<Behaviour>, NetError> {
    let max_transmit = if params.unsafe_dev_publish_raw {
        1024 * 1024
    } else {
        MAX_GOSSIP_BYTES + 1024
    };
    let swarm = libp2p::SwarmBuilder::with_existing_identity(params.keypair.clone())
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| NetError::Build(e.to_string()))?
        .with_quic()
        .with_behaviour(|key| {
            let gossip_config = gossipsub::ConfigBuilder::default()
                .validation_mode(gossipsub::ValidationMode::Anonymous)
                .validate_messages()
                .max_transmit_size(max_transmit)
                .heartbeat_interval(Duration::from_millis(700))
                .message_id_fn(|m: &gossipsub::Message| {
                    gossipsub::MessageId::from(ObjectId::of_bytes(&m.data).to_cid().to_bytes())
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

/// Work finished off the network task, reported back to it.
enum Internal {
    SyncStart {
        peer: PeerId,
        topic: String,
        result: Result<(Initiator, Vec<u8>), SyncError>,
    },
    Respond {
        channel: request_response::ResponseChannel<SyncResponse>,
        response: SyncResponse,
    },
    FetchedInvalid {
        peer: PeerId,
        invalid: u32,
    },
    /// Gossiped objects whose commit finished: `true` if stored (new or already there).
    /// Only now are they accepted (and so relayed), or ignored if the commit failed.
    GossipStored {
        verdicts: Vec<(gossipsub::MessageId, PeerId, bool)>,
    },
}

/// A valid gossiped object waiting for its commit before gossipsub hears the verdict.
type GossipPending = (StoredObject, gossipsub::MessageId, PeerId);

enum Pending {
    Reconcile { topic: String },
    Fetch { topic: String },
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
    filter: SharedFilter,
    limits: Limits,
    metrics: Arc<Metrics>,
    cmd_rx: mpsc::Receiver<NetCmd>,
    internal_tx: mpsc::Sender<Internal>,
    internal_rx: mpsc::Receiver<Internal>,
    gossip_store_tx: mpsc::Sender<GossipPending>,
    fetched_tx: mpsc::Sender<(PeerId, Vec<Vec<u8>>)>,
    topics: Vec<String>,
    invalid_by_peer: HashMap<PeerId, u32>,
    banned: HashSet<PeerId>,
    synced: HashSet<PeerId>,
    sessions: HashMap<(PeerId, String), Session>,
    pending: HashMap<request_response::OutboundRequestId, (PeerId, Pending)>,
    serving: usize,
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

impl NetLoop {
    /// Builds the swarm, listens, dials bootstrap and known peers.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        params: NetParams,
        reader: StoreReader,
        writer: StoreWriter,
        ingest: Ingest,
        filter: SharedFilter,
        metrics: Arc<Metrics>,
        cmd_rx: mpsc::Receiver<NetCmd>,
    ) -> Result<Self, NetError> {
        let mut swarm = build_swarm(&params)?;
        for addr in &params.listen {
            swarm
                .listen_on(addr.clone())
                .map_err(|e| NetError::Listen {
                    addr: addr.to_string(),
                    message: e.to_string(),
                })?;
        }
        let (internal_tx, internal_rx) = mpsc::channel(256);
        let (gossip_store_tx, gossip_store_rx) = mpsc::channel(GOSSIP_STORE_QUEUE);
        let (fetched_tx, fetched_rx) = mpsc::channel(FETCH_INGEST_QUEUE);
        tokio::spawn(gossip_store_task(
            writer.clone(),
            gossip_store_rx,
            internal_tx.clone(),
        ));
        tokio::spawn(fetch_ingest_task(ingest, fetched_rx, internal_tx.clone()));
        let mut this = NetLoop {
            swarm,
            limits: Limits::default(),
            reader,
            writer,
            filter,
            metrics,
            cmd_rx,
            internal_tx,
            internal_rx,
            gossip_store_tx,
            fetched_tx,
            topics: Vec::new(),
            invalid_by_peer: HashMap::new(),
            banned: HashSet::new(),
            synced: HashSet::new(),
            sessions: HashMap::new(),
            pending: HashMap::new(),
            serving: 0,
            rendezvous_peers: HashSet::new(),
            listen_addrs: Vec::new(),
            params,
        };
        this.follow(SOCIAL_TOPIC.to_owned());
        for g in this.params.groups.clone() {
            this.follow(group_topic(&g));
        }
        if let Ok(banned) = this.reader.banned_peers() {
            for p in banned {
                if let Ok(peer) = p.parse::<PeerId>() {
                    this.banned.insert(peer);
                    this.swarm.behaviour_mut().blocked.block_peer(peer);
                }
            }
        }
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
                    if p != *this.swarm.local_peer_id() {
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
            // threshold (-80).
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
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                Some(cmd) = self.cmd_rx.recv() => self.on_cmd(cmd),
                Some(internal) = self.internal_rx.recv() => self.on_internal(internal),
                _ = resync.tick() => self.resync_random_peer(),
                _ = discover.tick() => self.discover(),
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
                if self.banned.contains(&peer_id) {
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
                self.rendezvous_peers.remove(&peer_id);
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
                if connected < TARGET_PEERS
                    && !self.swarm.is_connected(&peer)
                    && !self.banned.contains(&peer)
                    && peer != *self.swarm.local_peer_id()
                {
                    let _ = self.swarm.dial(
                        DialOpts::peer_id(peer)
                            .addresses(addresses.into_vec())
                            .build(),
                    );
                }
            }
            BehaviourEvent::Rendezvous(rendezvous::client::Event::Discovered {
                registrations,
                ..
            }) => {
                let me = *self.swarm.local_peer_id();
                for reg in registrations {
                    let peer = reg.record.peer_id();
                    if peer == me || self.swarm.is_connected(&peer) || self.banned.contains(&peer) {
                        continue;
                    }
                    let addrs = reg.record.addresses().to_vec();
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
        let addrs: Vec<Multiaddr> = info.listen_addrs.iter().take(16).cloned().collect();
        let supports_sync = info.protocols.contains(&SYNC_PROTOCOL);
        if supports_sync {
            for a in &addrs {
                self.swarm.behaviour_mut().kad.add_address(&peer, a.clone());
            }
            self.writer.remember_peer(
                peer.to_string(),
                addrs.iter().map(|a| a.to_string()).collect(),
                crate::node::clock::now_ms(),
            );
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

    fn on_gossip(
        &mut self,
        source: PeerId,
        message_id: gossipsub::MessageId,
        message: gossipsub::Message,
    ) {
        use gossipsub::MessageAcceptance as A;
        let verdict = match self
            .limits
            .validate(&message.data, crate::node::clock::now_ms())
        {
            Err(e) => {
                tracing::debug!(peer = %source, code = e.code(), "invalid gossip");
                Metrics::inc(&self.metrics.objects_invalid_total);
                Metrics::inc(&self.metrics.gossip_rejected_total);
                self.count_invalid(source, 1);
                let graylist = gossipsub::PeerScoreThresholds::default().graylist_threshold;
                let score = self.swarm.behaviour().gossipsub.peer_score(&source);
                if score.is_some_and(|s| s < graylist) {
                    self.ban(source, "gossip score below the graylist threshold".into());
                }
                A::Reject
            }
            Ok(obj) => {
                let topic = crate::net::topic::topic_of(&obj);
                if topic != message.topic.as_str() {
                    // A valid object on the wrong topic: not ours to relay there.
                    Metrics::inc(&self.metrics.gossip_ignored_total);
                    A::Ignore
                } else if let Err(refusal) = self.filter.check(&obj) {
                    self.metrics.refused(refusal);
                    Metrics::inc(&self.metrics.gossip_ignored_total);
                    A::Ignore
                } else if self
                    .gossip_store_tx
                    .try_send((StoredObject::from_signed(&obj), message_id.clone(), source))
                    .is_err()
                {
                    Metrics::inc(&self.metrics.queue_full_total);
                    Metrics::inc(&self.metrics.gossip_ignored_total);
                    A::Ignore
                } else {
                    // Accepted (and relayed) only once it is stored: the verdict comes
                    // back from the store task as `Internal::GossipStored`.
                    return;
                }
            }
        };
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(&message_id, &source, verdict);
    }

    fn count_invalid(&mut self, peer: PeerId, n: u32) {
        let count = self.invalid_by_peer.entry(peer).or_insert(0);
        *count = count.saturating_add(n);
        if *count >= self.params.max_invalid_per_peer {
            let reason = format!("{count} invalid objects");
            self.ban(peer, reason);
        }
    }

    fn ban(&mut self, peer: PeerId, reason: String) {
        if !self.banned.insert(peer) {
            return;
        }
        tracing::warn!(%peer, %reason, "banning peer");
        Metrics::inc(&self.metrics.peers_banned_total);
        let b = self.swarm.behaviour_mut();
        b.gossipsub.blacklist_peer(&peer);
        b.blocked.block_peer(peer);
        b.kad.remove_peer(&peer);
        let _ = self.swarm.disconnect_peer_id(peer);
        self.writer
            .ban_peer(peer.to_string(), reason, crate::node::clock::now_ms());
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
                let gs = &self.swarm.behaviour().gossipsub;
                let connected = self
                    .swarm
                    .connected_peers()
                    .map(|p| PeerStatus {
                        peer_id: p.to_string(),
                        score: gs.peer_score(p),
                    })
                    .collect();
                let _ = ack.send(NetStatus {
                    peer_id: me.to_string(),
                    listen: self
                        .listen_addrs
                        .iter()
                        .map(|a| a.clone().with_p2p(me).unwrap_or_else(|a| a).to_string())
                        .collect(),
                    connected,
                    banned: self.banned.iter().map(|p| p.to_string()).collect(),
                    topics: self.topics.clone(),
                });
            }
        }
    }

    /// Starts one reconciliation per followed topic with `peer` (skipping running ones).
    fn start_sync(&mut self, peer: PeerId) {
        for topic in self.topics.clone() {
            let key = (peer, topic.clone());
            if self.sessions.contains_key(&key) {
                continue;
            }
            self.sessions.insert(
                key,
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
                    self.sessions.remove(&(peer, topic));
                }
            },
            Internal::Respond { channel, response } => {
                self.serving = self.serving.saturating_sub(1);
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_response(channel, response);
            }
            Internal::FetchedInvalid { peer, invalid } => {
                self.count_invalid(peer, invalid);
            }
            Internal::GossipStored { verdicts } => {
                use gossipsub::MessageAcceptance as A;
                for (message_id, source, stored) in verdicts {
                    let verdict = if stored {
                        Metrics::inc(&self.metrics.gossip_accepted_total);
                        A::Accept
                    } else {
                        Metrics::inc(&self.metrics.gossip_store_failed_total);
                        Metrics::inc(&self.metrics.gossip_ignored_total);
                        A::Ignore
                    };
                    self.swarm
                        .behaviour_mut()
                        .gossipsub
                        .report_message_validation_result(&message_id, &source, verdict);
                }
            }
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
                    let topic = match p {
                        Pending::Reconcile { topic } | Pending::Fetch { topic } => topic,
                    };
                    self.sessions.remove(&(peer, topic));
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
        if self.banned.contains(&peer) {
            let _ = self
                .swarm
                .behaviour_mut()
                .sync
                .send_response(channel, bad("banned"));
            return;
        }
        if self.serving >= MAX_SERVING {
            Metrics::inc(&self.metrics.limit_exceeded_total);
            let _ = self
                .swarm
                .behaviour_mut()
                .sync
                .send_response(channel, bad("busy"));
            return;
        }
        let reader = self.reader.clone();
        let response: Box<dyn FnOnce() -> SyncResponse + Send> = match request {
            SyncRequest::Reconcile { topic, msg } => {
                if topic.len() > MAX_TOPIC_LEN {
                    Metrics::inc(&self.metrics.limit_exceeded_total);
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .sync
                        .send_response(channel, bad("bad-request"));
                    return;
                }
                Metrics::inc(&self.metrics.sync_requests_served_total);
                Box::new(move || {
                    let answer = reader
                        .sync_items(&topic)
                        .map_err(|e| SyncError::Negentropy(e.to_string()))
                        .and_then(|items| crate::net::sync::storage(&items))
                        .and_then(|s| crate::net::sync::answer(&s, &msg));
                    match answer {
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
                        let _ = self
                            .swarm
                            .behaviour_mut()
                            .sync
                            .send_response(channel, bad("bad-request"));
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
        let tx = self.internal_tx.clone();
        tokio::spawn(async move {
            let response =
                tokio::task::spawn_blocking(response)
                    .await
                    .unwrap_or(SyncResponse::Error {
                        code: "internal".into(),
                    });
            let _ = tx.send(Internal::Respond { channel, response }).await;
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
                        let need = init.take_need();
                        tracing::info!(%peer, %topic, missing = need.len(), "reconciled");
                        session.fetch_queue =
                            need.chunks(FETCH_BATCH).map(|c| c.to_vec()).collect();
                        self.next_fetch(peer, topic);
                    }
                    Err(e) => {
                        tracing::warn!(%peer, error = %e, "reconciliation failed");
                        self.sessions.remove(&key);
                    }
                }
            }
            (Pending::Fetch { topic }, SyncResponse::Objects { objects }) => {
                let n = objects.len();
                Metrics::add(&self.metrics.sync_objects_fetched_total, n as u64);
                let objects: Vec<Vec<u8>> = objects.into_iter().map(|b| b.into_vec()).collect();
                if !objects.is_empty() && self.fetched_tx.try_send((peer, objects)).is_err() {
                    Metrics::inc(&self.metrics.queue_full_total);
                }
                self.next_fetch(peer, topic);
            }
            (p, SyncResponse::Error { code }) => {
                tracing::debug!(%peer, %code, "peer refused a sync request");
                let topic = match p {
                    Pending::Reconcile { topic } | Pending::Fetch { topic } => topic,
                };
                self.sessions.remove(&(peer, topic));
            }
            (p, _) => {
                // A response of the wrong shape: a protocol violation.
                let topic = match p {
                    Pending::Reconcile { topic } | Pending::Fetch { topic } => topic,
                };
                self.sessions.remove(&(peer, topic));
                self.count_invalid(peer, 1);
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
                let ids = ids
                    .into_iter()
                    .map(|id| serde_bytes::ByteBuf::from(id.0.to_vec()))
                    .collect();
                let id = self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_request(&peer, SyncRequest::Fetch { ids });
                self.pending.insert(id, (peer, Pending::Fetch { topic }));
            }
            None => {
                self.sessions.remove(&key);
                Metrics::inc(&self.metrics.sync_sessions_total);
            }
        }
    }
}

/// Stores gossiped objects in groups of up to 512 and reports each one's verdict back to
/// the network task after the commit: accepted (relayed) if stored, ignored if the commit
/// failed (a full disk), so the node never relays what it has not stored.
async fn gossip_store_task(
    writer: StoreWriter,
    mut rx: mpsc::Receiver<GossipPending>,
    internal: mpsc::Sender<Internal>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 512 {
            match rx.try_recv() {
                Ok(o) => batch.push(o),
                Err(_) => break,
            }
        }
        let (objects, ids): (Vec<StoredObject>, Vec<(gossipsub::MessageId, PeerId)>) = batch
            .into_iter()
            .map(|(o, id, peer)| (o, (id, peer)))
            .unzip();
        let stored = match writer.insert(objects).await {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(error = %e, code = e.code(), "storing gossiped objects failed");
                false
            }
        };
        let verdicts = ids
            .into_iter()
            .map(|(id, peer)| (id, peer, stored))
            .collect();
        if internal
            .send(Internal::GossipStored { verdicts })
            .await
            .is_err()
        {
            return;
        }
    }
}

async fn fetch_ingest_task(
    ingest: Ingest,
    mut rx: mpsc::Receiver<(PeerId, Vec<Vec<u8>>)>,
    internal: mpsc::Sender<Internal>,
) {
    // Each batch counts its invalid objects; the loop reports them against the peer.
    let mut running = tokio::task::JoinSet::new();
    let mut open = true;
    while open || !running.is_empty() {
        tokio::select! {
            Some(done) = running.join_next(), if !running.is_empty() => {
                if let Ok((peer, invalid)) = done {
                    if invalid > 0 {
                        let _ = internal
                            .send(Internal::FetchedInvalid { peer, invalid })
                            .await;
                    }
                }
            }
            next = rx.recv(), if open && running.len() < FETCH_INGEST_IN_FLIGHT => match next {
                Some((peer, objects)) => {
                    let ingest = ingest.clone();
                    running.spawn(async move {
                        let invalid = ingest
                            .ingest(objects)
                            .await
                            .iter()
                            .filter(|r| matches!(r, Err(crate::node::ingest::IngestError::Invalid(_))))
                            .count() as u32;
                        (peer, invalid)
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
