//! A hostile peer, for the attack suite (`crates/node/tests/e2e_attack.rs`) and
//! `vouch bench attack`. It speaks Vouch's protocols with libp2p directly and does what an
//! attacker would: floods valid objects from fresh keys, publishes objects on the wrong
//! topic, answers catch-up with inflated id lists, unrequested objects and objects of
//! another topic, and opens connections under many peer ids. A node never runs it.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{gossipsub, identify, noise, request_response, tcp, yamux, Multiaddr, PeerId};
use negentropy::NegentropyStorageVector;
use tokio::sync::{mpsc, oneshot};
use vouch_identity::SecretKey;
use vouch_reputation::{Body, GroupRef, Object, PostBody};

use crate::net::sync::{SyncRequest, SyncResponse, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES};
use crate::net::topic::gossip_message_id;
use crate::net::{IDENTIFY_PROTOCOL, SYNC_PROTOCOL};

/// How the hostile peer answers catch-up requests.
#[derive(Debug, Clone, Default)]
pub struct Lie {
    /// Ids it claims to have besides the listed objects (none of them exist).
    pub fake_ids: usize,
    /// Objects it claims (lists in reconciliation) and sends when asked for them, on
    /// whatever topic they belong to.
    pub listed: Vec<Vec<u8>>,
    /// Objects it adds to every fetch response, unasked.
    pub unrequested: Vec<Vec<u8>>,
}

/// What the hostile peer did.
#[derive(Debug, Default)]
pub struct HostileStats {
    /// Messages published.
    pub published: AtomicU64,
    /// Publishes gossipsub refused (no peer, queue full).
    pub publish_failed: AtomicU64,
    /// Reconciliation requests answered.
    pub reconciles: AtomicU64,
    /// Fetch requests answered.
    pub fetches: AtomicU64,
}

#[derive(NetworkBehaviour)]
struct HostileBehaviour {
    gossipsub: gossipsub::Behaviour,
    identify: identify::Behaviour,
    sync: request_response::cbor::Behaviour<SyncRequest, SyncResponse>,
}

enum Cmd {
    Dial(Multiaddr, oneshot::Sender<Result<(), String>>),
    Subscribe(String),
    Publish(String, Vec<u8>, oneshot::Sender<bool>),
    Connected(oneshot::Sender<Vec<PeerId>>),
    TopicPeers(String, oneshot::Sender<usize>),
}

/// A running hostile peer. Dropping it stops it.
#[derive(Debug)]
pub struct Hostile {
    tx: mpsc::Sender<Cmd>,
    peer_id: PeerId,
    /// What it did.
    pub stats: Arc<HostileStats>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn swarm_for(key: libp2p::identity::Keypair) -> anyhow::Result<libp2p::Swarm<HostileBehaviour>> {
    Ok(libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_quic()
        .with_behaviour(|key| {
            let config = gossipsub::ConfigBuilder::default()
                .validation_mode(gossipsub::ValidationMode::Anonymous)
                .heartbeat_interval(Duration::from_millis(700))
                .max_transmit_size(1024 * 1024)
                // A flooder does not wait: large queues.
                .connection_handler_queue_len(100_000)
                .message_id_fn(|m: &gossipsub::Message| {
                    gossipsub::MessageId::from(gossip_message_id(m.topic.as_str(), &m.data))
                })
                .build()
                .map_err(|e| e.to_string())?;
            let gossipsub =
                gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Anonymous, config)?;
            let codec = request_response::cbor::codec::Codec::default()
                .set_request_size_maximum(MAX_REQUEST_BYTES)
                .set_response_size_maximum(MAX_RESPONSE_BYTES);
            Ok(HostileBehaviour {
                gossipsub,
                identify: identify::Behaviour::new(identify::Config::new(
                    IDENTIFY_PROTOCOL.into(),
                    key.public(),
                )),
                sync: request_response::Behaviour::with_codec(
                    codec,
                    [(SYNC_PROTOCOL, request_response::ProtocolSupport::Full)],
                    request_response::Config::default()
                        .with_request_timeout(Duration::from_secs(60)),
                ),
            })
        })?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(300)))
        .build())
}

impl Hostile {
    /// Starts a hostile peer listening on `listen`, answering catch-up with `lie`.
    pub async fn start(listen: &[Multiaddr], lie: Lie) -> anyhow::Result<Hostile> {
        let key = libp2p::identity::Keypair::generate_ed25519();
        let peer_id = key.public().to_peer_id();
        let mut swarm = swarm_for(key)?;
        for a in listen {
            swarm.listen_on(a.clone())?;
        }
        let index = build_lie_index(&lie)?;
        let stats = Arc::new(HostileStats::default());
        let (tx, rx) = mpsc::channel(1024);
        let task = tokio::spawn(drive(swarm, rx, lie, index, stats.clone()));
        Ok(Hostile {
            tx,
            peer_id,
            stats,
            task,
        })
    }

    /// Its peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// Dials `addr`; returns once connected (or the dial failed).
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), String> {
        let (ack, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Dial(addr, ack))
            .await
            .map_err(|e| e.to_string())?;
        rx.await.map_err(|e| e.to_string())?
    }

    /// Subscribes to a topic (so that peers send it their messages and mesh with it).
    pub async fn subscribe(&self, topic: &str) {
        let _ = self.tx.send(Cmd::Subscribe(topic.to_owned())).await;
    }

    /// Publishes `data` on `topic`; false when gossipsub refused it.
    pub async fn publish(&self, topic: &str, data: Vec<u8>) -> bool {
        let (ack, rx) = oneshot::channel();
        if self
            .tx
            .send(Cmd::Publish(topic.to_owned(), data, ack))
            .await
            .is_err()
        {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    /// Connected peers.
    pub async fn connected(&self) -> Vec<PeerId> {
        let (ack, rx) = oneshot::channel();
        if self.tx.send(Cmd::Connected(ack)).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Peers known to be subscribed to `topic`.
    pub async fn topic_peers(&self, topic: &str) -> usize {
        let (ack, rx) = oneshot::channel();
        if self
            .tx
            .send(Cmd::TopicPeers(topic.to_owned(), ack))
            .await
            .is_err()
        {
            return 0;
        }
        rx.await.unwrap_or(0)
    }
}

fn build_lie_index(lie: &Lie) -> anyhow::Result<NegentropyStorageVector> {
    let now = crate::node::clock::now_ms();
    let mut items: Vec<(u64, [u8; 32])> = Vec::with_capacity(lie.fake_ids + lie.listed.len());
    for i in 0..lie.fake_ids as u64 {
        use sha2::Digest;
        let d = sha2::Sha256::digest(i.to_be_bytes());
        let mut id = [0u8; 32];
        id.copy_from_slice(&d);
        items.push((now - 60_000 + (i % 50_000), id));
    }
    for o in &lie.listed {
        let obj = vouch_reputation::decode_stored(o)
            .map_err(|e| anyhow::anyhow!("listed object: {e}"))?;
        items.push((obj.at(), obj.id().0));
    }
    crate::net::sync::storage(&items).map_err(|e| anyhow::anyhow!("{e}"))
}

async fn drive(
    mut swarm: libp2p::Swarm<HostileBehaviour>,
    mut rx: mpsc::Receiver<Cmd>,
    lie: Lie,
    index: NegentropyStorageVector,
    stats: Arc<HostileStats>,
) {
    let mut dials: Vec<(Multiaddr, oneshot::Sender<Result<(), String>>)> = Vec::new();
    let listed: Vec<(vouch_reputation::ObjectId, Vec<u8>)> = lie
        .listed
        .iter()
        .map(|b| (vouch_reputation::ObjectId::of_bytes(b), b.clone()))
        .collect();
    loop {
        tokio::select! {
            cmd = rx.recv() => match cmd {
                None => return,
                Some(Cmd::Dial(addr, ack)) => {
                    match swarm.dial(addr.clone()) {
                        Ok(()) => dials.push((addr, ack)),
                        Err(e) => { let _ = ack.send(Err(e.to_string())); }
                    }
                }
                Some(Cmd::Subscribe(t)) => {
                    let _ = swarm.behaviour_mut().gossipsub.subscribe(&gossipsub::IdentTopic::new(t));
                }
                Some(Cmd::Publish(t, data, ack)) => {
                    let ok = swarm
                        .behaviour_mut()
                        .gossipsub
                        .publish(gossipsub::IdentTopic::new(t), data)
                        .is_ok();
                    let counter = if ok { &stats.published } else { &stats.publish_failed };
                    counter.fetch_add(1, Ordering::Relaxed);
                    let _ = ack.send(ok);
                }
                Some(Cmd::Connected(ack)) => {
                    let _ = ack.send(swarm.connected_peers().copied().collect());
                }
                Some(Cmd::TopicPeers(t, ack)) => {
                    let hash = gossipsub::IdentTopic::new(t).hash();
                    let n = swarm
                        .behaviour()
                        .gossipsub
                        .all_peers()
                        .filter(|(_, topics)| topics.contains(&&hash))
                        .count();
                    let _ = ack.send(n);
                }
            },
            event = swarm.select_next_some() => match event {
                SwarmEvent::ConnectionEstablished { endpoint, .. } => {
                    let addr = endpoint.get_remote_address().clone();
                    if let Some(i) = dials.iter().position(|(a, _)| same_host_port(a, &addr)) {
                        let (_, ack) = dials.swap_remove(i);
                        let _ = ack.send(Ok(()));
                    }
                }
                // Fail the oldest pending dial (the hostile peer dials one at a time).
                SwarmEvent::OutgoingConnectionError { error, .. } if !dials.is_empty() => {
                    let (_, ack) = dials.remove(0);
                    let _ = ack.send(Err(error.to_string()));
                }
                SwarmEvent::Behaviour(HostileBehaviourEvent::Sync(
                    request_response::Event::Message {
                        message: request_response::Message::Request { request, channel, .. },
                        ..
                    },
                )) => {
                    let response = match request {
                        SyncRequest::Reconcile { msg, .. } => {
                            stats.reconciles.fetch_add(1, Ordering::Relaxed);
                            match crate::net::sync::answer(&index, &msg) {
                                Ok(msg) => SyncResponse::Reconcile { msg },
                                Err(_) => SyncResponse::Error { code: "bad-request".into() },
                            }
                        }
                        SyncRequest::Fetch { ids } => {
                            stats.fetches.fetch_add(1, Ordering::Relaxed);
                            let asked: HashSet<Vec<u8>> =
                                ids.iter().map(|b| b.to_vec()).collect();
                            let mut objects: Vec<serde_bytes::ByteBuf> = listed
                                .iter()
                                .filter(|(id, _)| asked.contains(id.0.as_slice()))
                                .map(|(_, b)| serde_bytes::ByteBuf::from(b.clone()))
                                .collect();
                            objects.extend(
                                lie.unrequested.iter().map(|b| serde_bytes::ByteBuf::from(b.clone())),
                            );
                            SyncResponse::Objects { objects }
                        }
                    };
                    let _ = swarm.behaviour_mut().sync.send_response(channel, response);
                }
                _ => {}
            },
        }
    }
}

fn same_host_port(a: &Multiaddr, b: &Multiaddr) -> bool {
    let strip = |m: &Multiaddr| {
        m.iter()
            .filter(|p| !matches!(p, libp2p::multiaddr::Protocol::P2p(_)))
            .collect::<Multiaddr>()
    };
    strip(a) == strip(b)
}

/// `n` posts, each by its own fresh key (derived from `seed`), dated `at_ms`, in `group`
/// when given. Valid objects: only admission control and rate limits stand between them
/// and a node's disk.
pub fn fresh_key_posts(n: usize, seed: u64, at_ms: u64, group: Option<GroupRef>) -> Vec<Vec<u8>> {
    (0..n as u64)
        .filter_map(|i| {
            let mut s = [0u8; 32];
            s[..8].copy_from_slice(&seed.to_be_bytes());
            s[8..16].copy_from_slice(&i.to_be_bytes());
            s[31] = 0x5a;
            let key = SecretKey::from_seed(&s);
            Object {
                author: key.public_key(),
                at: at_ms,
                body: Body::Post(PostBody {
                    group: group.clone(),
                    text: format!("junk {i}"),
                    ..Default::default()
                }),
            }
            .sign(&key)
            .ok()
            .map(|o| o.bytes().to_vec())
        })
        .collect()
}

/// What [`sybil_connect`] saw.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct SybilReport {
    /// Peer ids tried.
    pub tried: u64,
    /// Connections established (and held for a while).
    pub established: u64,
    /// Connections refused or failed.
    pub refused: u64,
}

/// Connects to `target` under `n` fresh peer ids, `parallel` at a time; each holds its
/// connection for `hold` (identify and catch-up run, so the target records the peer).
pub async fn sybil_connect(
    target: Multiaddr,
    n: usize,
    parallel: usize,
    hold: Duration,
) -> SybilReport {
    let report = Arc::new(std::sync::Mutex::new(SybilReport::default()));
    let sem = Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let Ok(permit) = sem.clone().acquire_owned().await else {
            break;
        };
        let target = target.clone();
        let report = report.clone();
        tasks.spawn(async move {
            let ok = one_sybil(target, hold).await;
            let mut r = report.lock().unwrap_or_else(|p| p.into_inner());
            r.tried += 1;
            if ok {
                r.established += 1;
            } else {
                r.refused += 1;
            }
            drop(permit);
        });
    }
    while tasks.join_next().await.is_some() {}
    let r = *report.lock().unwrap_or_else(|p| p.into_inner());
    r
}

async fn one_sybil(target: Multiaddr, hold: Duration) -> bool {
    let key = libp2p::identity::Keypair::generate_ed25519();
    let Ok(mut swarm) = swarm_for(key) else {
        return false;
    };
    if swarm.dial(target).is_err() {
        return false;
    }
    let deadline = tokio::time::sleep(Duration::from_secs(20));
    tokio::pin!(deadline);
    let mut up = false;
    loop {
        tokio::select! {
            _ = &mut deadline => return up,
            ev = swarm.select_next_some() => match ev {
                SwarmEvent::ConnectionEstablished { .. } => {
                    up = true;
                    deadline.as_mut().reset(tokio::time::Instant::now() + hold);
                }
                SwarmEvent::OutgoingConnectionError { .. } => return false,
                SwarmEvent::ConnectionClosed { num_established: 0, .. } => return up,
                _ => {}
            }
        }
    }
}
