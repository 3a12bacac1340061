//! The daemon: its parts (config, store, ingest, engine, replication filter, metrics, clock,
//! seed) and `run`, which starts and stops a node: store, writer, ingest, engine, network
//! task and API, wired together over bounded channels.

pub(crate) mod admission;
pub(crate) mod clock;
pub(crate) mod config;
pub(crate) mod engine;
pub(crate) mod files;
pub(crate) mod filter;
pub(crate) mod health;
pub(crate) mod identity;
pub(crate) mod ingest;
pub(crate) mod metrics;
pub(crate) mod policy_record;
pub(crate) mod seed;
pub(crate) mod store;

use std::path::Path;
use std::sync::Arc;

use libp2p::identity::Keypair;
use tokio::sync::mpsc;
use vouch_reputation::Limits;

use crate::api::{login_url, router, ApiLimitsState, ApiState, Console, Guard, Tokens};
use crate::client::{API_ADDR_FILE, LISTEN_ADDRS_FILE};
use crate::net::peers::PenaltyParams;
use crate::net::topic::parse_group;
use crate::net::{parse_addrs, NetCmd, NetLoop, NetParams, NetStores, NET_CMD_QUEUE};
use crate::node::admission::{Admission, AdmissionHook};
use crate::node::config::NodeConfig;
use crate::node::engine::Engine;
use crate::node::filter::{ReplicationHook, SharedFilter};
use crate::node::health::{AliveGuard, Part};
use crate::node::ingest::Ingest;
use crate::node::metrics::Metrics;
use crate::node::store::{StoreReader, StoreWriter};

/// Name of the node's libp2p key file in the data directory.
pub(crate) const NODE_KEY_FILE: &str = "node.key";

/// Loads the node's libp2p key, creating it on first start.
pub(crate) fn load_or_create_key(data_dir: &Path) -> anyhow::Result<Keypair> {
    let path = data_dir.join(NODE_KEY_FILE);
    let secret = if path.exists() {
        vouch_identity::read_key_file(&path)?
    } else {
        let key = vouch_identity::SecretKey::generate(&mut rand::rngs::OsRng);
        vouch_identity::write_key_file(&path, &key)?;
        key
    };
    let mut seed = secret.to_seed();
    Ok(Keypair::ed25519_from_bytes(&mut seed)?)
}

/// How much lower than the rest of the node the network's threads run (a nice value): a
/// flood keeps them busy, and the API's latency must not pay for it. The network loses
/// nothing it must keep: gossip past its queue is `Ignore`d and catch-up brings it later.
const NETWORK_NICE: i32 = 10;

/// Lowers the calling thread's scheduling priority by [`NETWORK_NICE`] (Linux: nice values
/// are per thread; best effort, elsewhere nothing).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let tid = rustix::thread::gettid();
        let now = rustix::process::getpriority_process(Some(tid)).unwrap_or(0);
        if let Err(e) = rustix::process::setpriority_process(Some(tid), now + NETWORK_NICE) {
            tracing::debug!(error = %e, "could not lower the network thread's priority");
        }
    }
}

/// Starts the network loop on a thread of its own (a current-thread runtime, its threads at
/// a lower priority): answers the node's peer id once the swarm listens, or why it could
/// not start.
async fn spawn_network(
    params: NetParams,
    stores: NetStores,
    metrics: Arc<Metrics>,
    rx: mpsc::Receiver<NetCmd>,
    alive: AliveGuard,
    mut stop: tokio::sync::broadcast::Receiver<()>,
) -> anyhow::Result<(libp2p::PeerId, std::thread::JoinHandle<()>)> {
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("vouch-net".into())
        .spawn(move || {
            // The guard reports the network's end to `/healthz`, a panic included.
            let _alive = alive;
            lower_priority();
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .on_thread_start(lower_priority)
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = started_tx.send(Err(anyhow::Error::from(e)));
                    return;
                }
            };
            rt.block_on(async move {
                let net = match NetLoop::new(params, stores, metrics, rx) {
                    Ok(net) => net,
                    Err(e) => {
                        let _ = started_tx.send(Err(anyhow::Error::from(e)));
                        return;
                    }
                };
                let _ = started_tx.send(Ok(net.local_peer_id()));
                net.run(async move {
                    let _ = stop.recv().await;
                })
                .await;
            });
        })?;
    let peer_id = started_rx
        .await
        .map_err(|_| anyhow::anyhow!("the network thread ended before it started"))??;
    Ok((peer_id, thread))
}

/// Runs a node until `shutdown` completes, then stops cleanly (the writer drains and the
/// database is closed).
pub(crate) async fn run(
    config: NodeConfig,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    let (api_bind, token) = config.api_access()?;
    files::create_private_dir(&data_dir)?;
    let _ = std::fs::remove_file(data_dir.join(API_ADDR_FILE));
    let _ = std::fs::remove_file(data_dir.join(LISTEN_ADDRS_FILE));
    let metrics = Arc::new(Metrics::default());
    let tokens = Arc::new(Tokens::open(&data_dir, token)?);
    let conn = store::open(&data_dir, config.durability)?;
    let (writer, writer_thread) = StoreWriter::spawn(conn, metrics.clone());
    let health = writer.health();
    let reader = StoreReader::open(&data_dir)?.with_health(health.clone());
    let commits = writer.commits();
    // The config's rules are in force from the start; the engine adds the viewers' before
    // it reports ready, and keeps them in step.
    let config_rules = config.replication_filter()?;
    let filter = SharedFilter::new(config_rules.clone());
    let mut groups = Vec::new();
    for g in &config.groups {
        groups.push(parse_group(g).ok_or_else(|| anyhow::anyhow!("invalid group {g:?}"))?);
    }
    let mut roots = Vec::new();
    for r in &config.admission.roots {
        roots.push(
            vouch_identity::PublicKey::from_did_key(r)
                .map_err(|_| anyhow::anyhow!("invalid admission root {r:?}"))?,
        );
    }
    let admission = Admission::new(&config.admission, metrics.clone());
    let hook = ReplicationHook {
        filter: filter.clone(),
        config_rules,
        follow: config.replication.follow,
        max_candidates: config.replication.max_candidates,
        admission: Some(AdmissionHook {
            admission: admission.clone(),
            roots,
            groups: groups.clone(),
            writer: writer.clone(),
        }),
    };
    let (engine, engine_thread) = Engine::start(
        &data_dir,
        commits.clone(),
        metrics.clone(),
        config.engine.clone(),
        Some(hook),
    )
    .await?;
    let ingest = Ingest::new(
        Limits::default(),
        filter.clone(),
        writer.clone(),
        metrics.clone(),
    )
    .with_admission(admission);
    let keypair = load_or_create_key(&data_dir)?;

    let params = NetParams {
        keypair,
        listen: parse_addrs(&config.listen)?,
        bootstrap: parse_addrs(&config.bootstrap)?,
        rendezvous: match &config.rendezvous {
            Some(a) => parse_addrs(std::slice::from_ref(a))?.into_iter().next(),
            None => None,
        },
        groups,
        penalties: PenaltyParams {
            threshold: f64::from(config.max_invalid_per_peer.max(1)),
            half_life_ms: config.net.fault_half_life_secs.max(1).saturating_mul(1000),
            ban_ms: config.net.ban_secs.max(1).saturating_mul(1000),
        },
        resync: std::time::Duration::from_secs(config.resync_secs.max(1)),
        unsafe_dev_publish_raw: config.unsafe_dev_publish_raw,
        listen_file: Some(data_dir.join(LISTEN_ADDRS_FILE)),
        max_connections_per_ip: config.net.max_connections_per_ip.max(1),
        max_connections_per_prefix: config.net.max_connections_per_prefix.max(1),
        dial_scopes: config.net.dial_scopes.clone(),
        gossip_rate_per_peer: config.net.gossip_rate_per_peer,
        gossip_burst_per_peer: config.net.gossip_burst_per_peer,
        serve_rate_per_peer: config.net.serve_rate_per_peer,
    };
    let (net_tx, net_rx) = mpsc::channel::<NetCmd>(NET_CMD_QUEUE);
    // The network has its own read connection: serving catch-up never waits for the
    // API's reader, nor the API for it. It also runs on its own thread and runtime, so a
    // flood that keeps the swarm busy never queues the API's requests behind it on the
    // main runtime's workers (`specs/sync.md`, "stall the network loop").
    let (net_stop_tx, _) = tokio::sync::broadcast::channel::<()>(1);
    let net_stores = NetStores {
        reader: StoreReader::open(&data_dir)?,
        writer: writer.clone(),
        ingest: ingest.clone(),
        commits: commits.clone(),
    };
    let (peer_id, net_thread) = spawn_network(
        params,
        net_stores,
        metrics.clone(),
        net_rx,
        AliveGuard::new(health.clone(), Part::Network),
        net_stop_tx.subscribe(),
    )
    .await?;
    tracing::info!(%peer_id, data_dir = %data_dir.display(), "node starting");

    // Nostr: relays, the viewers' evidence and NIP-85 (`specs/nostr.md`).
    let (nostr_stop, _) = tokio::sync::broadcast::channel::<()>(1);
    let nostr = crate::nostr::source::NostrSource::start(
        config.nostr.clone(),
        &data_dir,
        engine.clone(),
        metrics.clone(),
        &nostr_stop,
    )
    .await?;

    let listener = tokio::net::TcpListener::bind(api_bind).await?;
    let api_addr = listener.local_addr()?;
    let limits = config.api_limits.clone();
    let guard = Guard::new(
        api_addr,
        &config.api_hosts,
        &config.api_origins,
        std::time::Duration::from_millis(limits.body_timeout_ms.max(1)),
        metrics.clone(),
    );
    // The web console signs, for admin sessions only, with the local key folder's keys.
    let key_dir = std::env::var_os("VOUCH_KEY_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(crate::cli::keys::default_key_dir);
    let console = Arc::new(Console::new(key_dir));
    let first_code = console.login_code(crate::api::Principal::Admin);
    let app = router(ApiState {
        ingest,
        reader,
        net: net_tx,
        metrics: metrics.clone(),
        engine: engine.clone(),
        commits,
        tokens,
        limits: Arc::new(ApiLimitsState::new(limits.clone(), metrics.clone())),
        guard: Arc::new(guard),
        health: health.clone(),
        console,
        nostr,
    });
    let tmp = data_dir.join("api.addr.tmp");
    std::fs::write(&tmp, api_addr.to_string())?;
    std::fs::rename(&tmp, data_dir.join(API_ADDR_FILE))?;
    tracing::info!(%api_addr, "http endpoint listening");
    // The console's one-time login link: the code is in the fragment, which the browser
    // never sends to anyone; it works once, within a minute (`vouch console` makes more).
    println!(
        "console: {} (one-time, {} s; `vouch console` prints a new link)",
        login_url(api_addr, &first_code),
        crate::api::CONSOLE_CODE_TTL.as_secs()
    );

    let (stop_tx, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut api_stop = stop_tx.subscribe();
    let api = tokio::spawn(crate::api::serve(
        listener,
        app,
        limits,
        metrics,
        async move {
            let _ = api_stop.recv().await;
        },
    ));
    shutdown.await;
    tracing::info!("shutting down");
    health.shutting_down();
    let _ = stop_tx.send(());
    let _ = net_stop_tx.send(());
    let _ = nostr_stop.send(());
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), api).await;
    let net_join = tokio::task::spawn_blocking(move || net_thread.join());
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), net_join).await;
    engine.stop().await;
    let _ = tokio::task::spawn_blocking(move || engine_thread.join()).await;
    drop(writer);
    let _ = std::fs::remove_file(data_dir.join(API_ADDR_FILE));
    // The writer thread ends when the last handle is gone (the API's and the network's went
    // with their tasks); wait for it so the last commit is on disk before exit.
    let join = tokio::task::spawn_blocking(move || writer_thread.join());
    if tokio::time::timeout(std::time::Duration::from_secs(10), join)
        .await
        .is_err()
    {
        tracing::warn!("store writer did not stop in time");
    }
    tracing::info!("stopped");
    Ok(())
}
