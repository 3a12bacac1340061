//! The network's gates: a behaviour that refuses inbound connections beyond a number per IP
//! address and per network prefix (IPv4 /24, IPv6 /64) before any handshake ([`IpLimits`]), and a transport that refuses to dial
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

/// The error of an inbound connection refused for its network prefix.
#[derive(Debug, thiserror::Error)]
#[error("more than {0} connections from one network prefix (IPv4 /24, IPv6 /64)")]
pub(crate) struct TooManyFromPrefix(pub usize);

/// The network prefix an address counts against: its IPv4 /24 or its IPv6 /64 (an
/// IPv4-mapped IPv6 address counts as the IPv4 address). One party usually holds a whole
/// prefix (a home or cloud IPv6 /64 has 2^64 addresses), so a per-address limit alone does
/// not bound it.
pub(crate) fn prefix_of(ip: IpAddr) -> (bool, u64) {
    match ip {
        IpAddr::V4(v4) => (false, u64::from(u32::from(v4) >> 8)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => (false, u64::from(u32::from(v4) >> 8)),
            None => (true, (u128::from(v6) >> 64) as u64),
        },
    }
}

/// Refuses inbound connections (pending ones included) beyond `max_per_ip` per IP address
/// and `max_per_prefix` per network prefix ([`prefix_of`]).
#[derive(Debug)]
pub(crate) struct IpLimits {
    max_per_ip: usize,
    max_per_prefix: usize,
    by_ip: HashMap<IpAddr, usize>,
    by_prefix: HashMap<(bool, u64), usize>,
    by_conn: HashMap<ConnectionId, IpAddr>,
    metrics: Arc<Metrics>,
}

/// One less in `map[key]`, the entry gone at zero.
fn decrement<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = map.get_mut(key) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            map.remove(key);
        }
    }
}

impl IpLimits {
    /// At most `max_per_ip` inbound connections per address and `max_per_prefix` per
    /// network prefix.
    pub(crate) fn new(max_per_ip: usize, max_per_prefix: usize, metrics: Arc<Metrics>) -> Self {
        IpLimits {
            max_per_ip: max_per_ip.max(1),
            max_per_prefix: max_per_prefix.max(1),
            by_ip: HashMap::new(),
            by_prefix: HashMap::new(),
            by_conn: HashMap::new(),
            metrics,
        }
    }

    /// Counts an inbound connection from `ip`, or refuses it.
    fn admit(&mut self, id: ConnectionId, ip: IpAddr) -> Result<(), ConnectionDenied> {
        if self.by_ip.get(&ip).copied().unwrap_or(0) >= self.max_per_ip {
            Metrics::inc(&self.metrics.net_ip_limit_refused_total);
            return Err(ConnectionDenied::new(TooManyFromIp(self.max_per_ip)));
        }
        let prefix = prefix_of(ip);
        if self.by_prefix.get(&prefix).copied().unwrap_or(0) >= self.max_per_prefix {
            Metrics::inc(&self.metrics.net_prefix_limit_refused_total);
            return Err(ConnectionDenied::new(TooManyFromPrefix(
                self.max_per_prefix,
            )));
        }
        *self.by_ip.entry(ip).or_insert(0) += 1;
        *self.by_prefix.entry(prefix).or_insert(0) += 1;
        self.by_conn.insert(id, ip);
        Ok(())
    }

    fn release(&mut self, id: ConnectionId) {
        if let Some(ip) = self.by_conn.remove(&id) {
            decrement(&mut self.by_ip, &ip);
            decrement(&mut self.by_prefix, &prefix_of(ip));
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
        self.admit(connection_id, ip)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    fn ip(s: &str) -> IpAddr {
        s.parse()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn addresses_of_one_prefix_share_its_limit_and_release_frees_it() {
        let m = Arc::new(Metrics::default());
        let mut g = IpLimits::new(2, 3, m.clone());
        let mut n = 0;
        let mut next = || {
            n += 1;
            ConnectionId::new_unchecked(n)
        };
        // Two from one address, then the address is full.
        assert!(g.admit(next(), ip("10.0.0.1")).is_ok());
        assert!(g.admit(next(), ip("10.0.0.1")).is_ok());
        assert!(g.admit(next(), ip("10.0.0.1")).is_err());
        assert_eq!(m.net_ip_limit_refused_total.load(Ordering::Relaxed), 1);
        // A third address of the same /24 fills the prefix; a fourth is refused for it.
        let third = next();
        assert!(g.admit(third, ip("10.0.0.2")).is_ok());
        assert!(g.admit(next(), ip("10.0.0.3")).is_err());
        assert_eq!(m.net_prefix_limit_refused_total.load(Ordering::Relaxed), 1);
        // Another /24, and an IPv6 /64, count apart.
        assert!(g.admit(next(), ip("10.0.1.3")).is_ok());
        for host in ["2001:db8::1", "2001:db8::2", "2001:db8::ffff:1"] {
            assert!(g.admit(next(), ip(host)).is_ok());
        }
        assert!(g.admit(next(), ip("2001:db8::9")).is_err());
        assert!(g.admit(next(), ip("2001:db8:0:1::9")).is_ok());
        // An IPv4-mapped IPv6 address is its IPv4 address's prefix.
        assert_eq!(prefix_of(ip("::ffff:10.0.0.7")), prefix_of(ip("10.0.0.7")));
        // A closed connection frees its address's and its prefix's share.
        g.release(third);
        assert!(g.admit(next(), ip("10.0.0.3")).is_ok());
        assert_eq!(g.by_conn.len(), g.by_ip.values().sum::<usize>());
        assert_eq!(g.by_conn.len(), g.by_prefix.values().sum::<usize>());
    }
}
