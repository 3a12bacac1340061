//! What the node holds about other peers, bounded: decaying fault counters, bans that
//! expire, per-peer rate limits, and connections per IP address.
//!
//! A peer is penalised only for faults that are its own on every clock and in every
//! version of the protocol ([`is_sender_fault`]): bytes that are not a canonical object, a
//! key that is not a key, a signature that does not verify, and catch-up answers that break
//! the protocol. Everything that depends on the receiver's clock or version (a timestamp in
//! the near future, an unknown kind or version, a field bound a later version may relax) is
//! ignored without penalty. Counters decay with a half-life, a ban lasts a configured time,
//! and every map here has a bound: when it is full, the entry that matters least goes.

use std::collections::HashMap;
use std::net::IpAddr;

use libp2p::{multiaddr::Protocol, Multiaddr, PeerId};
use vouch_reputation::ValidationError;

/// Most peers whose fault counters are kept at once.
pub(crate) const MAX_TRACKED_PEERS: usize = 4096;
/// Most bans kept at once (memory and the `banned_peers` table).
pub(crate) const MAX_BANS: usize = 4096;
/// Most peers with a rate limiter at once.
pub(crate) const MAX_RATE_LIMITED_PEERS: usize = 4096;

/// True when `e` is the sender's fault whatever its clock and version: a relaying peer is
/// penalised only for these. A future version keeps the envelope's fields (the `v` field is
/// how versions change), so an undecodable envelope is a fault too.
pub(crate) fn is_sender_fault(e: &ValidationError) -> bool {
    matches!(
        e,
        ValidationError::Malformed(_)
            | ValidationError::NonCanonical
            | ValidationError::InvalidKey
            | ValidationError::InvalidSignature
            | ValidationError::InvalidCosignature
    )
}

/// Penalty settings (from the node's config).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PenaltyParams {
    /// Faults (after decay) at which a peer is banned.
    pub threshold: f64,
    /// Half-life of a fault, ms.
    pub half_life_ms: u64,
    /// How long a ban lasts, ms.
    pub ban_ms: u64,
}

#[derive(Debug, Clone, Copy)]
struct Faults {
    value: f64,
    at_ms: u64,
}

impl Faults {
    fn decayed(&self, now_ms: u64, half_life_ms: u64) -> f64 {
        let dt = now_ms.saturating_sub(self.at_ms) as f64;
        self.value * 0.5f64.powf(dt / half_life_ms.max(1) as f64)
    }
}

/// Fault counters and bans, bounded.
#[derive(Debug)]
pub(crate) struct PeerBook {
    params: PenaltyParams,
    faults: HashMap<PeerId, Faults>,
    /// Banned peers and when each ban ends (ms).
    bans: HashMap<PeerId, u64>,
}

/// What a penalty led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Penalised {
    /// Counted; below the threshold.
    Counted,
    /// The threshold was reached: ban the peer until this time (ms).
    Ban(u64),
    /// Already banned.
    AlreadyBanned,
}

impl PeerBook {
    /// An empty book.
    pub(crate) fn new(params: PenaltyParams) -> Self {
        PeerBook {
            params,
            faults: HashMap::new(),
            bans: HashMap::new(),
        }
    }

    /// Restores a ban recorded at `since_ms` (from the store); false when it has expired.
    pub(crate) fn restore_ban(&mut self, peer: PeerId, since_ms: u64, now_ms: u64) -> bool {
        let until = since_ms.saturating_add(self.params.ban_ms);
        if until <= now_ms || self.bans.len() >= MAX_BANS {
            return false;
        }
        self.bans.insert(peer, until);
        true
    }

    /// Whether `peer` is banned at `now_ms`.
    pub(crate) fn is_banned(&self, peer: &PeerId, now_ms: u64) -> bool {
        self.bans.get(peer).is_some_and(|until| *until > now_ms)
    }

    /// Banned peers with the end of their ban.
    pub(crate) fn bans(&self) -> impl Iterator<Item = (&PeerId, &u64)> {
        self.bans.iter()
    }

    /// Number of bans held.
    pub(crate) fn n_bans(&self) -> usize {
        self.bans.len()
    }

    /// Number of fault counters held.
    #[cfg(test)]
    pub(crate) fn n_tracked(&self) -> usize {
        self.faults.len()
    }

    /// The peer's decayed fault count.
    pub(crate) fn faults(&self, peer: &PeerId, now_ms: u64) -> f64 {
        self.faults
            .get(peer)
            .map_or(0.0, |f| f.decayed(now_ms, self.params.half_life_ms))
    }

    /// Counts `n` faults against `peer`.
    pub(crate) fn penalise(&mut self, peer: PeerId, n: u32, now_ms: u64) -> Penalised {
        if self.is_banned(&peer, now_ms) {
            return Penalised::AlreadyBanned;
        }
        let half_life = self.params.half_life_ms;
        if !self.faults.contains_key(&peer) && self.faults.len() >= MAX_TRACKED_PEERS {
            // Forget the peer with the fewest faults left (it is the least likely to be
            // banned soon); a new offender starts from zero either way.
            if let Some(victim) = self
                .faults
                .iter()
                .min_by(|a, b| {
                    a.1.decayed(now_ms, half_life)
                        .total_cmp(&b.1.decayed(now_ms, half_life))
                })
                .map(|(p, _)| *p)
            {
                self.faults.remove(&victim);
            }
        }
        let f = self.faults.entry(peer).or_insert(Faults {
            value: 0.0,
            at_ms: now_ms,
        });
        f.value = f.decayed(now_ms, half_life) + f64::from(n);
        f.at_ms = now_ms;
        if f.value + 1e-9 >= self.params.threshold {
            self.faults.remove(&peer);
            Penalised::Ban(self.ban(peer, now_ms))
        } else {
            Penalised::Counted
        }
    }

    /// Bans `peer` from now; returns when the ban ends.
    pub(crate) fn ban(&mut self, peer: PeerId, now_ms: u64) -> u64 {
        let until = now_ms.saturating_add(self.params.ban_ms);
        if !self.bans.contains_key(&peer) && self.bans.len() >= MAX_BANS {
            // Full: the ban that ends first goes first.
            if let Some(first) = self.bans.iter().min_by_key(|(_, u)| **u).map(|(p, _)| *p) {
                self.bans.remove(&first);
            }
        }
        self.bans.insert(peer, until);
        until
    }

    /// Removes the bans that ended by `now_ms` and returns them.
    pub(crate) fn expire(&mut self, now_ms: u64) -> Vec<PeerId> {
        let ended: Vec<PeerId> = self
            .bans
            .iter()
            .filter(|(_, until)| **until <= now_ms)
            .map(|(p, _)| *p)
            .collect();
        for p in &ended {
            self.bans.remove(p);
        }
        // Counters that decayed to nothing are forgotten too.
        let half_life = self.params.half_life_ms;
        self.faults
            .retain(|_, f| f.decayed(now_ms, half_life) >= 0.01);
        ended
    }
}

/// A token bucket per peer: `rate` per second, bursts of `burst`.
#[derive(Debug)]
pub(crate) struct RateLimits {
    rate_per_s: f64,
    burst: f64,
    buckets: HashMap<PeerId, (f64, u64)>,
}

impl RateLimits {
    /// Limits of `rate_per_s` messages a second with bursts of `burst`.
    pub(crate) fn new(rate_per_s: u32, burst: u32) -> Self {
        RateLimits {
            rate_per_s: f64::from(rate_per_s.max(1)),
            burst: f64::from(burst.max(1)),
            buckets: HashMap::new(),
        }
    }

    /// Takes one token for `peer`; false when the peer is over its rate.
    pub(crate) fn allow(&mut self, peer: PeerId, now_ms: u64) -> bool {
        if !self.buckets.contains_key(&peer) && self.buckets.len() >= MAX_RATE_LIMITED_PEERS {
            // Full buckets carry no information: drop those first.
            let (rate, burst) = (self.rate_per_s, self.burst);
            self.buckets.retain(|_, (tokens, at)| {
                let refilled = *tokens + (now_ms.saturating_sub(*at) as f64) * rate / 1000.0;
                refilled < burst
            });
            if self.buckets.len() >= MAX_RATE_LIMITED_PEERS {
                return false;
            }
        }
        let (rate, burst) = (self.rate_per_s, self.burst);
        let b = self.buckets.entry(peer).or_insert((burst, now_ms));
        b.0 = (b.0 + (now_ms.saturating_sub(b.1) as f64) * rate / 1000.0).min(burst);
        b.1 = now_ms;
        if b.0 >= 1.0 {
            b.0 -= 1.0;
            true
        } else {
            false
        }
    }

    /// Forgets a peer (disconnected).
    pub(crate) fn forget(&mut self, peer: &PeerId) {
        self.buckets.remove(peer);
    }

    /// Number of peers with a bucket.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.buckets.len()
    }
}

/// The IP address of a multiaddr, if it has one.
pub(crate) fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    addr.iter().find_map(|p| match p {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    })
}

/// Address scopes a node may dial (`[net] dial_scopes`): where the addresses it learns from
/// other peers may point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DialScope {
    /// Globally routable addresses.
    Public,
    /// Private ranges: 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7.
    Private,
    /// Loopback: 127/8, ::1.
    Loopback,
    /// Link-local: 169.254/16, fe80::/10.
    LinkLocal,
}

impl DialScope {
    /// The scope of an IP address; `None` for addresses nobody should dial (unspecified,
    /// multicast, broadcast, documentation ranges).
    pub(crate) fn of(ip: IpAddr) -> Option<DialScope> {
        match ip {
            IpAddr::V4(v4) => {
                let o = v4.octets();
                if v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast() {
                    None
                } else if v4.is_loopback() {
                    Some(DialScope::Loopback)
                } else if v4.is_link_local() {
                    Some(DialScope::LinkLocal)
                } else if v4.is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64) {
                    Some(DialScope::Private)
                } else if v4.is_documentation() || o[0] == 0 || o[0] >= 240 {
                    None
                } else {
                    Some(DialScope::Public)
                }
            }
            IpAddr::V6(v6) => {
                let seg = v6.segments();
                if let Some(v4) = v6.to_ipv4_mapped() {
                    return DialScope::of(IpAddr::V4(v4));
                }
                if v6.is_unspecified() || v6.is_multicast() {
                    None
                } else if v6.is_loopback() {
                    Some(DialScope::Loopback)
                } else if (seg[0] & 0xffc0) == 0xfe80 {
                    Some(DialScope::LinkLocal)
                } else if (seg[0] & 0xfe00) == 0xfc00 {
                    Some(DialScope::Private)
                } else if seg[0] == 0x2001 && seg[1] == 0x0db8 {
                    None
                } else {
                    Some(DialScope::Public)
                }
            }
        }
    }
}

/// Which addresses the node dials: those in the allowed scopes, plus the addresses the
/// config names (bootstrap, rendezvous), which are always allowed and also allow their own
/// scope (a node told to bootstrap from a LAN address may dial the LAN).
#[derive(Debug, Clone, Default)]
pub(crate) struct DialPolicy {
    scopes: Vec<DialScope>,
}

impl DialPolicy {
    /// Scopes from the config, widened by the scopes of the configured peers' addresses.
    pub(crate) fn new(configured: &[DialScope], peers: &[Multiaddr]) -> Self {
        let mut scopes = configured.to_vec();
        for a in peers {
            if let Some(s) = ip_of(a).and_then(DialScope::of) {
                if !scopes.contains(&s) {
                    scopes.push(s);
                }
            }
        }
        DialPolicy { scopes }
    }

    /// Whether the node may dial `addr`. Addresses without an IP (DNS names) are refused:
    /// the node resolves no names.
    pub(crate) fn allows(&self, addr: &Multiaddr) -> bool {
        ip_of(addr)
            .and_then(DialScope::of)
            .is_some_and(|s| self.scopes.contains(&s))
    }

    /// The scopes in force.
    pub(crate) fn scopes(&self) -> &[DialScope] {
        &self.scopes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> PenaltyParams {
        PenaltyParams {
            threshold: 3.0,
            half_life_ms: 60_000,
            ban_ms: 3_600_000,
        }
    }

    #[test]
    fn only_faults_of_the_sender_in_every_clock_and_version_count() {
        use ValidationError as E;
        assert!(is_sender_fault(&E::InvalidSignature));
        assert!(is_sender_fault(&E::NonCanonical));
        assert!(is_sender_fault(&E::Malformed("x".into())));
        assert!(is_sender_fault(&E::InvalidKey));
        assert!(is_sender_fault(&E::InvalidCosignature));
        for clock_or_version in [
            E::FutureTimestamp {
                at: 2,
                now: 1,
                max_skew_ms: 0,
            },
            E::UnknownKind("poll".into()),
            E::UnsupportedVersion(2),
            E::InvalidBody("new field".into()),
            E::OutOfBounds {
                field: "text",
                reason: "too long",
            },
            E::Oversize { len: 2, max: 1 },
        ] {
            assert!(!is_sender_fault(&clock_or_version), "{clock_or_version:?}");
        }
    }

    #[test]
    fn faults_decay_and_bans_expire() {
        let mut book = PeerBook::new(params());
        let p = PeerId::random();
        let t = 1_000_000;
        assert_eq!(book.penalise(p, 2, t), Penalised::Counted);
        // Two half-lives later two faults are worth a half: one more does not ban.
        assert_eq!(book.penalise(p, 1, t + 120_000), Penalised::Counted);
        assert!((book.faults(&p, t + 120_000) - 1.5).abs() < 1e-6);
        // Three at once do.
        assert_eq!(
            book.penalise(p, 3, t + 120_000),
            Penalised::Ban(t + 120_000 + 3_600_000)
        );
        assert!(book.is_banned(&p, t + 120_001));
        assert_eq!(book.penalise(p, 1, t + 120_002), Penalised::AlreadyBanned);
        assert!(book.expire(t + 120_000 + 3_599_999).is_empty());
        assert_eq!(book.expire(t + 120_000 + 3_600_000), vec![p]);
        assert!(!book.is_banned(&p, t + 120_000 + 3_600_000));
        // A ban read back from the store holds until it ends, and an ended one is dropped.
        assert!(book.restore_ban(p, t, t + 10));
        assert!(book.is_banned(&p, t + 10));
        let q = PeerId::random();
        assert!(!book.restore_ban(q, t, t + 3_600_000));
    }

    #[test]
    fn every_map_is_bounded() {
        let mut book = PeerBook::new(params());
        let t = 5_000;
        for i in 0..(MAX_TRACKED_PEERS + 100) {
            book.penalise(PeerId::random(), 1, t + i as u64);
        }
        assert_eq!(book.n_tracked(), MAX_TRACKED_PEERS);
        for _ in 0..(MAX_BANS + 10) {
            book.ban(PeerId::random(), t);
        }
        assert_eq!(book.n_bans(), MAX_BANS);
        let mut rl = RateLimits::new(10, 20);
        for _ in 0..(MAX_RATE_LIMITED_PEERS + 10) {
            rl.allow(PeerId::random(), t);
        }
        assert!(rl.len() <= MAX_RATE_LIMITED_PEERS);
    }

    #[test]
    fn a_rate_limit_allows_its_burst_then_its_rate() {
        let mut rl = RateLimits::new(10, 5);
        let p = PeerId::random();
        let allowed = (0..20).filter(|_| rl.allow(p, 1_000)).count();
        assert_eq!(allowed, 5);
        // 500 ms later: 5 more tokens.
        let allowed = (0..20).filter(|_| rl.allow(p, 1_500)).count();
        assert_eq!(allowed, 5);
    }

    #[test]
    fn the_dial_policy_follows_scopes_and_configured_peers() {
        let a = |s: &str| s.parse::<Multiaddr>().unwrap();
        let public_only = DialPolicy::new(&[DialScope::Public], &[]);
        assert!(public_only.allows(&a("/ip4/8.8.8.8/tcp/4001")));
        for refused in [
            "/ip4/127.0.0.1/tcp/4001",
            "/ip4/10.1.2.3/tcp/4001",
            "/ip4/192.168.1.1/udp/4001/quic-v1",
            "/ip4/169.254.1.1/tcp/1",
            "/ip4/0.0.0.0/tcp/1",
            "/ip4/224.0.0.1/tcp/1",
            "/ip6/::1/tcp/1",
            "/ip6/fd00::1/tcp/1",
            "/dns4/example.com/tcp/1",
        ] {
            assert!(!public_only.allows(&a(refused)), "{refused}");
        }
        // Bootstrapping from loopback allows loopback, not private ranges.
        let lo = DialPolicy::new(&[DialScope::Public], &[a("/ip4/127.0.0.1/tcp/9")]);
        assert!(lo.allows(&a("/ip4/127.0.0.1/tcp/4001")));
        assert!(!lo.allows(&a("/ip4/10.0.0.1/tcp/4001")));
        let lan = DialPolicy::new(&[DialScope::Public, DialScope::Private], &[]);
        assert!(lan.allows(&a("/ip4/10.0.0.1/tcp/4001")));
    }
}

/// `[net]` settings: penalties, bans, limits per peer and per address, dial scopes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetConfig {
    /// How long a ban lasts, in seconds (bans survive restarts until they end).
    pub ban_secs: u64,
    /// Half-life of a peer's fault count, in seconds.
    pub fault_half_life_secs: u64,
    /// Inbound connections per IP address (pending ones included).
    pub max_connections_per_ip: usize,
    /// Inbound connections per network prefix, IPv4 /24 or IPv6 /64 (pending ones included).
    pub max_connections_per_prefix: usize,
    /// Address scopes the node dials besides those of its configured peers (`public`,
    /// `private`, `loopback`, `link-local`). Addresses learned from peers (identify,
    /// Kademlia, rendezvous, the known-peers table) outside them are never dialled.
    pub dial_scopes: Vec<DialScope>,
    /// Gossip messages a second per peer, sustained (more are ignored without penalty;
    /// catch-up brings what was dropped).
    pub gossip_rate_per_peer: u32,
    /// Gossip messages per peer in a burst.
    pub gossip_burst_per_peer: u32,
    /// Catch-up requests served a second per peer, sustained.
    pub serve_rate_per_peer: u32,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            ban_secs: 3600,
            fault_half_life_secs: 600,
            max_connections_per_ip: 16,
            max_connections_per_prefix: 64,
            dial_scopes: vec![DialScope::Public],
            gossip_rate_per_peer: 500,
            gossip_burst_per_peer: 2000,
            serve_rate_per_peer: 20,
        }
    }
}
