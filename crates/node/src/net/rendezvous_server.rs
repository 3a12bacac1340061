//! `vouch rendezvous`: a rendezvous point for first contact. Nodes register under the
//! `vouch` namespace and discover each other; after that they remember their peers and no
//! longer need it.

use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{connection_limits, identify, noise, rendezvous, tcp, yamux};

use crate::net::{parse_addrs, IDENTIFY_PROTOCOL};

/// The rendezvous point's behaviour.
#[derive(NetworkBehaviour)]
pub(crate) struct PointBehaviour {
    limits: connection_limits::Behaviour,
    identify: identify::Behaviour,
    rendezvous: rendezvous::server::Behaviour,
}

impl std::fmt::Debug for PointBehaviour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PointBehaviour")
    }
}

/// Runs a rendezvous point until `shutdown`; writes its addresses to `addr_file` if given.
pub(crate) async fn run(
    listen: Vec<String>,
    keypair: libp2p::identity::Keypair,
    addr_file: Option<std::path::PathBuf>,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_quic()
        .with_behaviour(|key| PointBehaviour {
            limits: connection_limits::Behaviour::new(
                connection_limits::ConnectionLimits::default()
                    .with_max_established(Some(1024))
                    .with_max_established_per_peer(Some(2))
                    .with_max_pending_incoming(Some(128)),
            ),
            identify: identify::Behaviour::new(
                identify::Config::new(IDENTIFY_PROTOCOL.into(), key.public())
                    .with_agent_version(format!("vouch-rendezvous/{}", env!("CARGO_PKG_VERSION"))),
            ),
            rendezvous: rendezvous::server::Behaviour::new(rendezvous::server::Config::default()),
        })?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(120)))
        .build();
    for addr in parse_addrs(&listen)? {
        swarm.listen_on(addr)?;
    }
    let me = *swarm.local_peer_id();
    tracing::info!(peer_id = %me, "rendezvous point starting");
    let mut addrs = Vec::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            event = swarm.select_next_some() => match event {
                SwarmEvent::NewListenAddr { address, .. } => {
                    let full = address.with_p2p(me).unwrap_or_else(|a| a);
                    println!("listening on {full}");
                    addrs.push(full.to_string());
                    if let Some(path) = &addr_file {
                        let tmp = path.with_extension("tmp");
                        std::fs::write(&tmp, addrs.join("\n") + "\n")?;
                        std::fs::rename(&tmp, path)?;
                    }
                }
                SwarmEvent::Behaviour(PointBehaviourEvent::Rendezvous(
                    rendezvous::server::Event::PeerRegistered { peer, registration },
                )) => {
                    tracing::info!(%peer, namespace = %registration.namespace, "registered");
                }
                _ => {}
            }
        }
    }
    tracing::info!("rendezvous point stopped");
    Ok(())
}
