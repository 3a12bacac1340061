//! What keeps web pages the user visits away from the API, before any token is looked at: the
//! `Host` must be a name the node answers to (a DNS-rebinding page's own name is not), an
//! `Origin` must be the node's own or a configured one, a browser's cross-site request
//! (`Sec-Fetch-Site`) needs a configured origin, a body may not come in the types a page can
//! send without a CORS preflight, and CORS headers go to configured origins only.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::limits::LogOnce;
use super::ApiError;
use crate::node::metrics::Metrics;

/// How long a browser may cache a CORS preflight answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

/// The names and origins the API answers to.
#[derive(Debug)]
pub(crate) struct Guard {
    /// Configured host names (lowercase, no port).
    hosts: Vec<String>,
    /// The address the API is bound to.
    bound: SocketAddr,
    /// Configured origins (lowercase, `scheme://host[:port]`).
    origins: Vec<String>,
    /// How long a client has to send a body.
    pub(crate) body_timeout: Duration,
    metrics: Arc<Metrics>,
    body_log: LogOnce,
}

/// What an `Origin` header means for a request.
#[derive(Debug, PartialEq, Eq)]
enum OriginVerdict {
    /// No `Origin`, or the node's own: a request from a program or from the node's own pages.
    Own,
    /// A configured origin: allowed, and CORS headers name it.
    Cors(HeaderValue),
    /// Anything else.
    Refused,
}

/// `host[:port]` or `[v6][:port]` to the host part, lowercase, without a trailing dot.
fn host_name(host: &str) -> Option<String> {
    let h = host.trim();
    let name = if let Some(rest) = h.strip_prefix('[') {
        let end = rest.find(']')?;
        let tail = &rest[end + 1..];
        if !(tail.is_empty() || tail.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        &rest[..end]
    } else {
        match h.rsplit_once(':') {
            Some((name, port)) if is_port(port) => name,
            Some(_) => return None,
            None => h,
        }
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    (!name.is_empty()).then_some(name)
}

fn is_port(p: &str) -> bool {
    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
}

impl Guard {
    /// A guard for an API bound to `bound`, answering to `hosts` besides the loopback names
    /// and the bound address, with CORS for `origins`.
    pub(crate) fn new(
        bound: SocketAddr,
        hosts: &[String],
        origins: &[String],
        body_timeout: Duration,
        metrics: Arc<Metrics>,
    ) -> Guard {
        Guard {
            hosts: hosts.iter().filter_map(|h| host_name(h)).collect(),
            bound,
            origins: origins.iter().map(|o| o.to_ascii_lowercase()).collect(),
            body_timeout,
            metrics,
            body_log: LogOnce::default(),
        }
    }

    /// Counts a body refused for its content type by an extractor.
    pub(crate) fn media_type_refused(&self) {
        Metrics::inc(&self.metrics.api_media_type_refused_total);
    }

    /// Counts a body that did not arrive within [`Guard::body_timeout`].
    pub(crate) fn body_timed_out(&self) {
        self.body_log.hit(
            &self.metrics.api_body_timeouts_total,
            "api_body_timeouts_total",
            "a client did not send its request body in time",
        );
    }

    /// Whether the API answers to `Host: host`. An IP literal cannot be a rebinding page's
    /// name, but only loopback, the bound address (or any address when bound to all of
    /// them) is accepted; names must be `localhost` or configured.
    fn host_allowed(&self, host: &str) -> bool {
        let Some(name) = host_name(host) else {
            return false;
        };
        if let Ok(ip) = name.parse::<IpAddr>() {
            return ip.is_loopback() || ip == self.bound.ip() || self.bound.ip().is_unspecified();
        }
        name == "localhost" || self.hosts.contains(&name)
    }

    fn origin(&self, origin: Option<&HeaderValue>, host: &str) -> OriginVerdict {
        let Some(origin) = origin else {
            return OriginVerdict::Own;
        };
        let Ok(o) = origin.to_str() else {
            return OriginVerdict::Refused;
        };
        let o = o.to_ascii_lowercase();
        if self.origins.contains(&o) {
            return OriginVerdict::Cors(origin.clone());
        }
        // The node's own pages (the web console, later): same scheme, host and port.
        if o == format!("http://{}", host.to_ascii_lowercase()) {
            return OriginVerdict::Own;
        }
        OriginVerdict::Refused
    }

    fn refuse(
        &self,
        counter: &std::sync::atomic::AtomicU64,
        status: StatusCode,
        code: &str,
        message: String,
    ) -> Response {
        Metrics::inc(counter);
        ApiError::new(status, code, message).into_response()
    }
}

/// Body types a web page may send cross-origin without a CORS preflight (the Fetch
/// standard's CORS-safelisted request headers), or sent with none: never accepted.
fn simple_content_type(headers: &HeaderMap) -> Option<String> {
    let ct = headers.get(header::CONTENT_TYPE)?;
    let essence = ct
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "text/plain" | "application/x-www-form-urlencoded" | "multipart/form-data"
    )
    .then_some(essence)
}

/// The middleware: runs before routing's handlers and before the token check.
pub(crate) async fn check(State(g): State<Arc<Guard>>, mut req: Request, next: Next) -> Response {
    let m = g.metrics.clone();
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if !g.host_allowed(&host) {
        return g.refuse(
            &m.api_host_refused_total,
            StatusCode::MISDIRECTED_REQUEST,
            "host-not-allowed",
            format!(
                "this node does not answer to Host {host:?}: add the name to api_hosts if it is yours"
            ),
        );
    }
    let verdict = g.origin(req.headers().get(header::ORIGIN), &host);
    if verdict == OriginVerdict::Refused {
        return g.refuse(
            &m.api_origin_refused_total,
            StatusCode::FORBIDDEN,
            "origin-not-allowed",
            "requests from this web origin are refused: add it to api_origins if it is yours"
                .into(),
        );
    }
    let cross_site = req
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v == "cross-site" || v == "same-site");
    if cross_site && !matches!(verdict, OriginVerdict::Cors(_)) {
        return g.refuse(
            &m.api_origin_refused_total,
            StatusCode::FORBIDDEN,
            "cross-site-request",
            "a browser sent this request for another site's page; refused".into(),
        );
    }
    if req.method() == Method::OPTIONS && req.headers().contains_key(header::ORIGIN) {
        // A CORS preflight: only configured origins get an answer that lets the call go.
        return match verdict {
            OriginVerdict::Cors(origin) => {
                let mut r = StatusCode::NO_CONTENT.into_response();
                let h = r.headers_mut();
                h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("GET, POST, PUT, DELETE"),
                );
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static("authorization, content-type"),
                );
                h.insert(
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static(PREFLIGHT_MAX_AGE),
                );
                h.insert(header::VARY, HeaderValue::from_static("origin"));
                r
            }
            _ => g.refuse(
                &m.api_origin_refused_total,
                StatusCode::FORBIDDEN,
                "origin-not-allowed",
                "no CORS for this origin".into(),
            ),
        };
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        if let Some(ct) = simple_content_type(req.headers()) {
            return g.refuse(
                &m.api_media_type_refused_total,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                format!("{ct} bodies are refused: send application/json (objects: application/vnd.ipld.dag-cbor)"),
            );
        }
    }
    // The body extractors read the body deadline from here.
    req.extensions_mut().insert(g.clone());
    let mut r = next.run(req).await;
    if let OriginVerdict::Cors(origin) = verdict {
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after, www-authenticate"),
        );
        h.append(header::VARY, HeaderValue::from_static("origin"));
    }
    r
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn guard(bound: &str, hosts: &[&str], origins: &[&str]) -> Guard {
        Guard::new(
            bound.parse().unwrap(),
            &hosts.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            &origins.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            Duration::from_secs(1),
            Arc::new(Metrics::default()),
        )
    }

    #[test]
    fn host_names() {
        let g = guard("127.0.0.1:7070", &["vouch.lan"], &[]);
        for ok in [
            "127.0.0.1:7070",
            "127.0.0.1",
            "127.1.2.3:9",
            "localhost:7070",
            "LOCALHOST.",
            "[::1]:7070",
            "vouch.lan:7070",
            "Vouch.Lan",
        ] {
            assert!(g.host_allowed(ok), "{ok}");
        }
        for bad in [
            "",
            "evil.example:7070",
            "evil.example",
            "localhost.evil.example",
            "127.0.0.1.nip.io:7070",
            "10.0.0.5:7070",
            "[::1]x",
            "localhost:70x",
            "vouch.lan.evil.example",
        ] {
            assert!(!g.host_allowed(bad), "{bad}");
        }
        // Bound to one address: that address too; bound to all: any address literal, still
        // no unknown names.
        let lan = guard("192.168.1.9:7070", &[], &[]);
        assert!(lan.host_allowed("192.168.1.9:7070"));
        assert!(!lan.host_allowed("192.168.1.10:7070"));
        let all = guard("0.0.0.0:7070", &[], &[]);
        assert!(all.host_allowed("192.168.1.10:7070"));
        assert!(!all.host_allowed("rebind.evil.example:7070"));
    }

    #[test]
    fn origins() {
        let g = guard("127.0.0.1:7070", &[], &["https://app.example"]);
        let v = |o: &str, host: &str| g.origin(Some(&HeaderValue::from_str(o).unwrap()), host);
        assert_eq!(g.origin(None, "127.0.0.1:7070"), OriginVerdict::Own);
        assert_eq!(
            v("http://127.0.0.1:7070", "127.0.0.1:7070"),
            OriginVerdict::Own
        );
        assert!(matches!(
            v("https://app.example", "127.0.0.1:7070"),
            OriginVerdict::Cors(_)
        ));
        for bad in [
            "null",
            "http://evil.example",
            "http://127.0.0.1:8080",
            "https://127.0.0.1:7070",
            "https://app.example.evil.example",
            "http://localhost:7070",
        ] {
            assert_eq!(v(bad, "127.0.0.1:7070"), OriginVerdict::Refused, "{bad}");
        }
    }

    #[test]
    fn simple_types_are_spotted() {
        let mut h = HeaderMap::new();
        assert_eq!(simple_content_type(&h), None);
        for (ct, simple) in [
            ("text/plain", true),
            ("Text/Plain; charset=utf-8", true),
            ("application/x-www-form-urlencoded", true),
            ("multipart/form-data; boundary=x", true),
            ("application/json", false),
            ("application/vnd.ipld.dag-cbor", false),
        ] {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
            assert_eq!(simple_content_type(&h).is_some(), simple, "{ct}");
        }
    }
}
