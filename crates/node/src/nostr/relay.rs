//! A NIP-01 relay connection: the messages a relay sends (parsed with bounds, every fault a
//! stable code), the subscriptions the node opens (bounded: at most `MAX_AUTHORS_PER_FILTER`
//! authors per filter and `MAX_SUBSCRIPTIONS` open at once), and the task that keeps one
//! connection alive, reconnecting with capped exponential backoff and resuming with `since`.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use super::keys::NostrKey;
use super::map::EVIDENCE_KINDS;
use crate::node::metrics::Metrics;

/// Most authors in one filter (relays bound filter sizes; 256 is accepted widely).
pub(crate) const MAX_AUTHORS_PER_FILTER: usize = 256;
/// Most subscriptions the node keeps open on one relay.
pub(crate) const MAX_SUBSCRIPTIONS: usize = 8;
/// How far `since` reaches back before the newest event seen (clock differences).
pub(crate) const SINCE_MARGIN_S: u64 = 600;
/// Garbage messages after which a connection is dropped as faulty.
pub(crate) const MAX_GARBAGE_PER_CONNECTION: u32 = 100;

/// A message from a relay.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RelayMsg {
    /// `["EVENT", sub, event]`.
    Event(String, Value),
    /// `["EOSE", sub]`.
    Eose(String),
    /// `["OK", id, accepted, message]`.
    Ok(String, bool, String),
    /// `["NOTICE", message]`.
    Notice(String),
    /// `["CLOSED", sub, message]`.
    Closed(String, String),
    /// A well-formed message of a type the node does not use (`AUTH`, `COUNT`, …).
    Other,
}

/// Why a relay message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum RelayError {
    /// Larger than the bound.
    #[error("relay message over the size limit")]
    Oversized,
    /// Not a JSON array starting with a known string, or fields of the wrong type.
    #[error("malformed relay message")]
    Malformed,
}

impl RelayError {
    /// The stable code.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            RelayError::Oversized => "nostr.relay_oversized",
            RelayError::Malformed => "nostr.relay_malformed",
        }
    }
}

/// Parses one relay message of at most `max_bytes`.
pub(crate) fn parse_relay_msg(text: &str, max_bytes: usize) -> Result<RelayMsg, RelayError> {
    if text.len() > max_bytes {
        return Err(RelayError::Oversized);
    }
    let v: Value = serde_json::from_str(text).map_err(|_| RelayError::Malformed)?;
    let Value::Array(mut a) = v else {
        return Err(RelayError::Malformed);
    };
    let s = |v: &Value| v.as_str().map(str::to_owned).ok_or(RelayError::Malformed);
    let kind = a
        .first()
        .and_then(Value::as_str)
        .ok_or(RelayError::Malformed)?;
    match (kind, a.len()) {
        ("EVENT", 3) => {
            let ev = a.pop().ok_or(RelayError::Malformed)?;
            if !ev.is_object() {
                return Err(RelayError::Malformed);
            }
            Ok(RelayMsg::Event(s(&a[1])?, ev))
        }
        ("EOSE", 2) => Ok(RelayMsg::Eose(s(&a[1])?)),
        ("OK", 3 | 4) => Ok(RelayMsg::Ok(
            s(&a[1])?,
            a[2].as_bool().ok_or(RelayError::Malformed)?,
            a.get(3).and_then(Value::as_str).unwrap_or("").to_owned(),
        )),
        ("NOTICE", 2) => Ok(RelayMsg::Notice(s(&a[1])?)),
        ("CLOSED", 2 | 3) => Ok(RelayMsg::Closed(
            s(&a[1])?,
            a.get(2).and_then(Value::as_str).unwrap_or("").to_owned(),
        )),
        ("EVENT" | "EOSE" | "OK" | "NOTICE" | "CLOSED", _) => Err(RelayError::Malformed),
        ("AUTH" | "COUNT" | "NEG-MSG" | "NEG-ERR", _) => Ok(RelayMsg::Other),
        _ => Err(RelayError::Malformed),
    }
}

/// The `REQ` for `authors`, one filter per `MAX_AUTHORS_PER_FILTER` of them.
pub(crate) fn req(sub: &str, authors: &[NostrKey], since: Option<u64>) -> String {
    let mut msg = vec![Value::from("REQ"), Value::from(sub)];
    for chunk in authors.chunks(MAX_AUTHORS_PER_FILTER) {
        let mut f = serde_json::json!({
            "authors": chunk.iter().map(|k| k.to_hex()).collect::<Vec<_>>(),
            "kinds": EVIDENCE_KINDS,
        });
        if let Some(s) = since {
            f["since"] = s.into();
        }
        msg.push(f);
    }
    Value::Array(msg).to_string()
}

/// The TLS setup of `wss://` relays: the system's root certificates, ring as the provider.
/// `None` when no root certificate could be read (then only `ws://` relays connect).
pub(crate) fn tls_connector() -> Option<tokio_tungstenite::Connector> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return None;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Some(tokio_tungstenite::Connector::Rustls(Arc::new(config)))
}

/// The backoff after `failures` failed connections in a row: 1 s doubling, capped.
pub(crate) fn backoff(failures: u32, max: Duration) -> Duration {
    let secs = 1u64.checked_shl(failures.min(20)).unwrap_or(u64::MAX);
    Duration::from_secs(secs).min(max)
}

/// An event a relay sent, for the source to verify and apply.
#[derive(Debug)]
pub(crate) struct Incoming {
    /// The relay's index in the config.
    pub relay: usize,
    /// The raw event.
    pub event: Value,
}

/// What one relay connection needs.
pub(crate) struct RelayTask {
    /// Its index in the config.
    pub index: usize,
    /// `ws://` or `wss://` URL.
    pub url: String,
    /// The authors to follow (all of them: new ones are fetched from the start).
    pub authors: watch::Receiver<Arc<BTreeSet<NostrKey>>>,
    /// The newest `created_at` applied from this relay (for `since`).
    pub cursor: Arc<AtomicU64>,
    /// Verified-and-applied goes through the source; events go there.
    pub events: mpsc::Sender<Incoming>,
    /// Events to publish (NIP-85 assertions), as `["EVENT", …]` texts.
    pub publish: broadcast::Receiver<Arc<str>>,
    /// The largest message accepted.
    pub max_message_bytes: usize,
    /// The longest wait between reconnections.
    pub max_backoff: Duration,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Connected now (for status).
    pub connected: Arc<std::sync::atomic::AtomicBool>,
    /// TLS for `wss://` (`tls_connector`).
    pub tls: Option<tokio_tungstenite::Connector>,
}

impl std::fmt::Debug for RelayTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayTask")
            .field("index", &self.index)
            .field("url", &self.url)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

/// Why a connection ended.
enum End {
    Stop,
    Failed,
}

impl RelayTask {
    /// Runs until `stop` fires: connect, subscribe, read; on any failure wait and retry.
    pub(crate) async fn run(mut self, mut stop: broadcast::Receiver<()>) {
        let mut failures: u32 = 0;
        loop {
            let started = std::time::Instant::now();
            let end = tokio::select! {
                e = self.connection() => e,
                _ = stop.recv() => End::Stop,
            };
            self.connected.store(false, Ordering::Relaxed);
            match end {
                End::Stop => return,
                End::Failed => {
                    // A connection that lived a while resets the backoff.
                    if started.elapsed() > Duration::from_secs(30) {
                        failures = 0;
                    }
                    let wait = backoff(failures, self.max_backoff);
                    failures = failures.saturating_add(1);
                    Metrics::inc(&self.metrics.nostr_relay_reconnects_total);
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.recv() => return,
                    }
                }
            }
        }
    }

    async fn connection(&mut self) -> End {
        let config = WebSocketConfig::default()
            .max_message_size(Some(self.max_message_bytes))
            .max_frame_size(Some(self.max_message_bytes));
        let connect = tokio_tungstenite::connect_async_tls_with_config(
            &self.url,
            Some(config),
            false,
            self.tls.clone(),
        );
        let mut ws = match tokio::time::timeout(Duration::from_secs(10), connect).await {
            Ok(Ok((ws, _))) => ws,
            Ok(Err(e)) => {
                tracing::debug!(relay = %self.url, error = %e, "relay connection failed");
                return End::Failed;
            }
            Err(_) => return End::Failed,
        };
        self.connected.store(true, Ordering::Relaxed);
        tracing::info!(relay = %self.url, "relay connected");
        // The main subscription: every author, newer than what was seen.
        let mut known: BTreeSet<NostrKey> = self.authors.borrow_and_update().as_ref().clone();
        let cursor = self.cursor.load(Ordering::Relaxed);
        let since = (cursor > 0).then(|| cursor.saturating_sub(SINCE_MARGIN_S));
        let list: Vec<NostrKey> = known.iter().copied().collect();
        if !list.is_empty()
            && ws
                .send(Message::text(req("vouch", &list, since)))
                .await
                .is_err()
        {
            return End::Failed;
        }
        // Back-fill subscriptions for authors added since: closed at their EOSE.
        let mut backfills: BTreeSet<String> = BTreeSet::new();
        let mut next_backfill: u64 = 0;
        let mut garbage: u32 = 0;
        loop {
            tokio::select! {
                msg = ws.next() => {
                    let text = match msg {
                        Some(Ok(Message::Text(t))) => t,
                        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                        Some(Ok(Message::Binary(_))) => {
                            Metrics::inc(&self.metrics.nostr_relay_garbage_total);
                            garbage += 1;
                            if garbage > MAX_GARBAGE_PER_CONNECTION { return End::Failed; }
                            continue;
                        }
                        Some(Ok(Message::Close(_))) | None => return End::Failed,
                        Some(Err(e)) => {
                            // Too large a message, a broken frame, a reset: counted, reconnect.
                            Metrics::inc(&self.metrics.nostr_relay_garbage_total);
                            tracing::debug!(relay = %self.url, error = %e, "relay stream error");
                            return End::Failed;
                        }
                    };
                    match parse_relay_msg(text.as_str(), self.max_message_bytes) {
                        Ok(RelayMsg::Event(_, event)) => {
                            Metrics::inc(&self.metrics.nostr_events_received_total);
                            if self.events.send(Incoming { relay: self.index, event }).await.is_err() {
                                return End::Stop;
                            }
                        }
                        Ok(RelayMsg::Eose(sub)) => {
                            if backfills.remove(&sub) {
                                let close = Value::from(vec![Value::from("CLOSE"), Value::from(sub)]);
                                if ws.send(Message::text(close.to_string())).await.is_err() {
                                    return End::Failed;
                                }
                            }
                        }
                        Ok(RelayMsg::Ok(_, accepted, _)) => {
                            if accepted {
                                Metrics::inc(&self.metrics.nostr_published_ok_total);
                            } else {
                                Metrics::inc(&self.metrics.nostr_published_refused_total);
                            }
                        }
                        Ok(RelayMsg::Notice(_) | RelayMsg::Closed(..) | RelayMsg::Other) => {}
                        Err(e) => {
                            Metrics::inc(&self.metrics.nostr_relay_garbage_total);
                            tracing::debug!(relay = %self.url, code = e.code(), "relay sent garbage");
                            garbage += 1;
                            if garbage > MAX_GARBAGE_PER_CONNECTION { return End::Failed; }
                        }
                    }
                }
                changed = self.authors.changed() => {
                    if changed.is_err() { return End::Stop; }
                    let now: BTreeSet<NostrKey> = self.authors.borrow_and_update().as_ref().clone();
                    let added: Vec<NostrKey> = now.difference(&known).copied().collect();
                    known = now;
                    let all: Vec<NostrKey> = known.iter().copied().collect();
                    // Replace the main subscription (live from now on) ...
                    if ws.send(Message::text(req("vouch", &all, Some(crate::node::clock::now_ms() / 1000)))).await.is_err() {
                        return End::Failed;
                    }
                    // ... and fetch the new authors' history, within the bound on subscriptions.
                    if !added.is_empty() && backfills.len() + 1 < MAX_SUBSCRIPTIONS {
                        next_backfill += 1;
                        let sub = format!("vouch-add-{next_backfill}");
                        if ws.send(Message::text(req(&sub, &added, None))).await.is_err() {
                            return End::Failed;
                        }
                        backfills.insert(sub);
                    } else if !added.is_empty() {
                        Metrics::inc(&self.metrics.nostr_subscriptions_deferred_total);
                        // Reconnect: the main subscription then fetches everyone since the cursor.
                        self.cursor.store(0, Ordering::Relaxed);
                        return End::Failed;
                    }
                }
                out = self.publish.recv() => {
                    match out {
                        Ok(text) => {
                            if ws.send(Message::text(text.to_string())).await.is_err() {
                                return End::Failed;
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            Metrics::add(&self.metrics.nostr_publish_dropped_total, n);
                        }
                        Err(broadcast::error::RecvError::Closed) => return End::Stop,
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_messages_parse_or_get_a_code() {
        let ev = r#"["EVENT","s",{"id":"x"}]"#;
        assert!(matches!(parse_relay_msg(ev, 1000), Ok(RelayMsg::Event(s, _)) if s == "s"));
        assert_eq!(
            parse_relay_msg(r#"["EOSE","s"]"#, 100),
            Ok(RelayMsg::Eose("s".into()))
        );
        assert_eq!(
            parse_relay_msg(r#"["OK","ab",false,"blocked: no"]"#, 100),
            Ok(RelayMsg::Ok("ab".into(), false, "blocked: no".into()))
        );
        assert_eq!(parse_relay_msg(r#"["AUTH","c"]"#, 100), Ok(RelayMsg::Other));
        for bad in [
            "",
            "{}",
            "[]",
            "[1]",
            r#"["EVENT","s"]"#,
            r#"["EVENT","s","notanobject"]"#,
            r#"["EOSE",5]"#,
            r#"["HELLO"]"#,
            "\u{0}",
        ] {
            assert_eq!(
                parse_relay_msg(bad, 100),
                Err(RelayError::Malformed),
                "{bad}"
            );
        }
        assert_eq!(
            parse_relay_msg(ev, 10).unwrap_err().code(),
            "nostr.relay_oversized"
        );
    }

    #[test]
    fn requests_are_bounded_and_resumable() {
        let keys: Vec<NostrKey> = (0..600u32)
            .map(|i| {
                let mut k = [0u8; 32];
                k[..4].copy_from_slice(&i.to_be_bytes());
                NostrKey(k)
            })
            .collect();
        let r: Value = serde_json::from_str(&req("vouch", &keys, Some(123))).unwrap();
        let a = r.as_array().unwrap();
        assert_eq!(a[0], "REQ");
        assert_eq!(a.len(), 2 + 3);
        assert_eq!(a[2]["authors"].as_array().unwrap().len(), 256);
        assert_eq!(a[4]["authors"].as_array().unwrap().len(), 600 - 512);
        assert_eq!(a[2]["since"], 123);
        assert_eq!(
            a[2]["kinds"],
            serde_json::json!([3, 10000, 30000, 1984, 1985])
        );
    }

    #[test]
    fn tls_uses_the_system_roots() {
        // Debian's ca-certificates: the connector for wss:// relays can be built.
        assert!(matches!(
            tls_connector(),
            Some(tokio_tungstenite::Connector::Rustls(_))
        ));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let max = Duration::from_secs(60);
        let got: Vec<u64> = (0..8).map(|f| backoff(f, max).as_secs()).collect();
        assert_eq!(got, vec![1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(backoff(u32::MAX, max), max);
    }
}
