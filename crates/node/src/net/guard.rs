//! The network's gates: a behaviour that refuses inbound connections beyond a number per IP
//! address before any handshake ([`IpLimits`]), and a transport that refuses to dial
//! addresses outside the scopes the config allows ([`DialFilter`]), whoever asked for the
//! dial (Kademlia, identify, rendezvous, known peers).

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use libp2p::core::transport::{DialOpts, ListenerId, TransportError, TransportEvent};
use libp2p::core::{Endpoint, Transport};
use libp2p::swarm::{
    dummy, ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};

use crate::net::peers::{ip_of, DialPolicy};
use crate::node::metrics::Metrics;

/// The error of a refused inbound connection.
#[derive(Debug, thiserror::Error)]
#[error("more than {0} connections from one IP address")]
pub(crate) struct TooManyFromIp(pub usize);

/// Refuses inbound connections (pending ones included) beyond `max_per_ip` per IP address.
#[derive(Debug)]
pub(crate) struct IpLimits {
    max_per_ip: usize,
    by_ip: HashMap<IpAddr, usize>,
    by_conn: HashMap<ConnectionId, IpAddr>,
    metrics: Arc<Metrics>,
}

impl IpLimits {
    /// At most `max_per_ip` inbound connections per address.
    pub(crate) fn new(max_per_ip: usize, metrics: Arc<Metrics>) -> Self {
        IpLimits {
            max_per_ip: max_per_ip.max(1),
            by_ip: HashMap::new(),
            by_conn: HashMap::new(),
            metrics,
        }
    }

    fn release(&mut self, id: ConnectionId) {
        if let Some(ip) = self.by_conn.remove(&id) {
            if let Some(n) = self.by_ip.get_mut(&ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.by_ip.remove(&ip);
                }
            }
        }
    }
}

impl NetworkBehaviour for IpLimits {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = std::convert::Infallible;

    fn handle_pending_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        _local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        let Some(ip) = ip_of(remote_addr) else {
            return Ok(());
        };
        let n = self.by_ip.entry(ip).or_insert(0);
        if *n >= self.max_per_ip {
            Metrics::inc(&self.metrics.net_ip_limit_refused_total);
            return Err(ConnectionDenied::new(TooManyFromIp(self.max_per_ip)));
        }
        *n += 1;
        self.by_conn.insert(connection_id, ip);
        Ok(())
    }

    fn handle_established_inbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        _peer: PeerId,
        _local_addr: &Multiaddr,
        _remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        _peer: PeerId,
        _addr: &Multiaddr,
        _role_override: Endpoint,
        _port_use: libp2p::core::transport::PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm<'_>) {
        match event {
            FromSwarm::ConnectionClosed(c) => self.release(c.connection_id),
            FromSwarm::ListenFailure(f) => self.release(f.connection_id),
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _peer_id: PeerId,
        _connection_id: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

/// A transport that dials only addresses the [`DialPolicy`] allows.
#[derive(Debug)]
pub(crate) struct DialFilter<T> {
    inner: T,
    policy: DialPolicy,
    metrics: Arc<Metrics>,
}

impl<T> DialFilter<T> {
    /// Wraps `inner`.
    pub(crate) fn new(inner: T, policy: DialPolicy, metrics: Arc<Metrics>) -> Self {
        DialFilter {
            inner,
            policy,
            metrics,
        }
    }
}

impl<T: Transport + Unpin> Transport for DialFilter<T> {
    type Output = T::Output;
    type Error = T::Error;
    type ListenerUpgrade = T::ListenerUpgrade;
    type Dial = T::Dial;

    fn listen_on(
        &mut self,
        id: ListenerId,
        addr: Multiaddr,
    ) -> Result<(), TransportError<Self::Error>> {
        self.inner.listen_on(id, addr)
    }

    fn remove_listener(&mut self, id: ListenerId) -> bool {
        self.inner.remove_listener(id)
    }

    fn dial(
        &mut self,
        addr: Multiaddr,
        opts: DialOpts,
    ) -> Result<Self::Dial, TransportError<Self::Error>> {
        if !self.policy.allows(&addr) {
            Metrics::inc(&self.metrics.net_dials_refused_total);
            return Err(TransportError::MultiaddrNotSupported(addr));
        }
        self.inner.dial(addr, opts)
    }

    fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<TransportEvent<Self::ListenerUpgrade, Self::Error>> {
        Pin::new(&mut self.get_mut().inner).poll(cx)
    }
}
