//! The web console: its pages (HTML, JavaScript modules and CSS of our own, compiled into the
//! binary, served with a strict Content-Security-Policy), its login (a one-time code from
//! `vouch node run`, `vouch console` or `vouch demo --keep` opens a `vouch_session` cookie
//! session) and the calls only it needs: a group's posts (`feed.rs`) and, for an admin
//! session, objects signed by the node with keys of the local key folder (`sign.rs`).
//!
//! A cookie names a principal exactly as a token does (`authorize` in `api.rs`), but only
//! on requests the node's own pages make: same `Origin` (when sent, and always on a change),
//! `Sec-Fetch-Site` `same-origin` or `none`. `specs/console.md` has the threat model.

mod feed;
mod session;
mod sign;

pub(crate) use feed::{list_appeals, posts};
pub(crate) use sign::{keys, sign};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use session::Sessions;

use super::auth::{Principal, Scope, ViewerToken};
use super::extract::{JsonBody, PathParams};
use super::{ApiError, ApiState};
use crate::json;
use crate::node::metrics::Metrics;

pub(crate) use session::CODE_TTL;

/// The console's state: login codes, sessions, and the key folder an admin session signs
/// with.
#[derive(Debug)]
pub(crate) struct Console {
    sessions: Sessions,
    /// `VOUCH_KEY_DIR`, else `$VOUCH_HOME/keys`, else `~/.vouch/keys`: the keys the node may
    /// sign with for an admin session.
    key_dir: PathBuf,
}

impl Console {
    /// A console that signs, for admin sessions, with the keys in `key_dir`.
    pub(crate) fn new(key_dir: PathBuf) -> Console {
        Console {
            sessions: Sessions::default(),
            key_dir,
        }
    }

    /// A one-time login code for `who` (the link is `http://<api>/login#<code>`).
    pub(crate) fn login_code(&self, who: Principal) -> String {
        self.sessions.new_code(who, Instant::now())
    }

    /// Ends the sessions of a deleted viewer.
    pub(crate) fn forget_viewer(&self, viewer: &vouch_identity::PublicKey) {
        self.sessions.forget_viewer(viewer);
    }
}

/// The link that opens the console on a node bound to `addr` with `code`.
pub(crate) fn login_url(addr: std::net::SocketAddr, code: &str) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!(
        "http://{}/login#{code}",
        std::net::SocketAddr::new(ip, addr.port())
    )
}

/// Whether a request comes from the node's own pages (or from no browser page at all):
/// `Origin`, when present, is `http://<Host>`; `Sec-Fetch-Site`, when present, is
/// `same-origin` or `none`; a request that changes something carries an `Origin` (browsers
/// always send one on those).
fn same_origin(method: &Method, headers: &HeaderMap) -> bool {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let origin_ok = match headers.get(header::ORIGIN).map(|o| o.to_str()) {
        Some(Ok(o)) => o.eq_ignore_ascii_case(&format!("http://{host}")),
        Some(Err(_)) => false,
        None => method == Method::GET || method == Method::HEAD,
    };
    let site_ok = headers
        .get("sec-fetch-site")
        .is_none_or(|v| v == "same-origin" || v == "none");
    origin_ok && site_ok
}

/// Who the request's session cookie names, when it has one; `Err` when the cookie came on
/// a request that is not the node's own page's (refused, counted).
pub(crate) fn session_principal(
    s: &ApiState,
    parts: &Parts,
) -> Result<Option<Principal>, Box<Response>> {
    let Some(secret) = parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(session::cookie_value)
    else {
        return Ok(None);
    };
    let Some(who) = s.console.sessions.principal(secret, Instant::now()) else {
        return Ok(None);
    };
    if !same_origin(&parts.method, &parts.headers) {
        Metrics::inc(&s.metrics.api_origin_refused_total);
        return Err(Box::new(
            ApiError::new(
                StatusCode::FORBIDDEN,
                "cross-site-request",
                "a session cookie is accepted only on the console's own requests",
            )
            .into_response(),
        ));
    }
    Ok(Some(who))
}

/// The console's files: path, content type, bytes.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/app.js"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/api.js"),
    ),
    (
        "graph.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/graph.js"),
    ),
    (
        "screens.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/screens.js"),
    ),
    (
        "moderation.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/moderation.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../console/app.css"),
    ),
];

const INDEX: &str = include_str!("../../console/index.html");

/// The Content-Security-Policy of every console page: our own files only, no inline script
/// or style, no framing, no plugins, forms and links to ourselves.
pub(crate) const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

fn page(content_type: &'static str, body: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// `GET /` and `GET /login`: the console's one page (the login code, if any, is in the
/// fragment, which browsers never send).
pub(crate) async fn index() -> Response {
    page("text/html; charset=utf-8", INDEX)
}

/// `GET /console/{file}`.
pub(crate) async fn asset(PathParams(file): PathParams<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, ct, body)) => page(ct, body),
        None => {
            ApiError::new(StatusCode::NOT_FOUND, "no-route", "no such console file").into_response()
        }
    }
}

/// `POST /v1/session` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginJson {
    code: String,
}

/// Who a session or token is (`GET /v1/session`, `POST /v1/session`).
#[derive(Debug, Serialize)]
pub(crate) struct WhoJson {
    /// `admin` or `viewer`.
    role: &'static str,
    /// The viewer, for a viewer principal.
    #[serde(skip_serializing_if = "Option::is_none")]
    viewer: Option<String>,
    /// `read` or `policy`, for a viewer principal.
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'static str>,
    /// Whether the node signs for this principal (admin only).
    signs: bool,
}

fn who_json(who: &Principal) -> WhoJson {
    match who {
        Principal::Admin => WhoJson {
            role: "admin",
            viewer: None,
            scope: None,
            signs: true,
        },
        Principal::Viewer(t) => WhoJson {
            role: "viewer",
            viewer: Some(t.viewer.to_did_key()),
            scope: Some(t.scope.as_str()),
            signs: false,
        },
    }
}

/// `POST /v1/session`: spends a login code, opens a session (`Set-Cookie: vouch_session`,
/// HttpOnly, SameSite=Strict). Only from the node's own page (or a program without
/// `Origin`): a configured CORS origin cannot open a session.
pub(crate) async fn login(
    State(s): State<ApiState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<LoginJson>,
) -> Result<Response, ApiError> {
    if !same_origin(&Method::POST, &headers) && headers.contains_key(header::ORIGIN) {
        Metrics::inc(&s.metrics.api_origin_refused_total);
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "cross-site-request",
            "a session is opened only by the console's own page",
        ));
    }
    let Some((secret, who)) = s.console.sessions.login(req.code.trim(), Instant::now()) else {
        Metrics::inc(&s.metrics.api_unauthorized_total);
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad-login-code",
            "this login code is unknown, used or expired: run `vouch console` for a new link",
        ));
    };
    let mut r = (StatusCode::CREATED, Json(who_json(&who))).into_response();
    let cookie = format!(
        "{}={secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        session::COOKIE,
        session::SESSION_TTL.as_secs()
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// `GET /v1/session`: who the caller is.
pub(crate) async fn whoami(axum::Extension(who): axum::Extension<Principal>) -> Json<WhoJson> {
    Json(who_json(&who))
}

/// `DELETE /v1/session`: closes the caller's session and clears the cookie.
pub(crate) async fn logout(State(s): State<ApiState>, headers: HeaderMap) -> Response {
    if let Some(secret) = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(session::cookie_value)
    {
        s.console.sessions.logout(secret);
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("vouch_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    r
}

/// `POST /v1/console/codes` body: for whom the code opens a session.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodeRequestJson {
    /// A viewer of the node: the session reads and decides only for it (admin only, or a
    /// viewer token for its own viewer). Absent: the caller's own principal.
    #[serde(default, deserialize_with = "present")]
    viewer: Option<String>,
    /// `read` or `policy` (a viewer token cannot raise its own scope).
    #[serde(default, deserialize_with = "present")]
    scope: Option<String>,
}

/// A field that may be absent but not `null`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

/// `POST /v1/console/codes` answer.
#[derive(Debug, Serialize)]
pub(crate) struct CodeJson {
    /// The one-time code.
    code: String,
    /// The path to open on the node's address (the code in the fragment).
    path: String,
    /// Seconds the code stays usable.
    expires_in: u64,
    /// Whom it logs in.
    who: WhoJson,
}

/// `POST /v1/console/codes`: a one-time login code. An admin gets one for itself or for a
/// viewer of the node; a viewer token for its own viewer, at most its own scope.
pub(crate) async fn new_code(
    State(s): State<ApiState>,
    axum::Extension(caller): axum::Extension<Principal>,
    JsonBody(req): JsonBody<CodeRequestJson>,
) -> Result<Json<CodeJson>, ApiError> {
    let scope = match req.scope.as_deref() {
        None => None,
        Some("read") => Some(Scope::Read),
        Some("policy") => Some(Scope::Policy),
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad-scope",
                format!("scope {other:?}: read or policy"),
            ))
        }
    };
    let viewer = req
        .viewer
        .as_deref()
        .map(|v| json::parse_did("viewer", v))
        .transpose()?;
    let forbidden = |m: &str| ApiError::new(StatusCode::FORBIDDEN, "forbidden", m);
    let who = match (&caller, viewer) {
        (Principal::Admin, None) => Principal::Admin,
        (Principal::Admin, Some(v)) => {
            s.engine.viewer_snapshot(&v)?;
            Principal::Viewer(Arc::new(ViewerToken {
                id: format!("console-{}", &session::random_id()),
                viewer: v,
                scope: scope.unwrap_or(Scope::Policy),
                label: "console session".into(),
                created_ms: crate::node::clock::now_ms(),
            }))
        }
        (Principal::Viewer(t), v) => {
            if v.is_some_and(|v| v != t.viewer) {
                return Err(forbidden("this token is for another viewer"));
            }
            if scope == Some(Scope::Policy) && t.scope != Scope::Policy {
                return Err(forbidden("this token may not change its viewer's policy"));
            }
            match scope {
                Some(sc) if sc != t.scope => Principal::Viewer(Arc::new(ViewerToken {
                    scope: sc,
                    ..(**t).clone()
                })),
                _ => caller.clone(),
            }
        }
    };
    let code = s.console.login_code(who.clone());
    Ok(Json(CodeJson {
        path: format!("/login#{code}"),
        code,
        expires_in: CODE_TTL.as_secs(),
        who: who_json(&who),
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn a_cookie_counts_only_on_the_consoles_own_requests() {
        let host = ("host", "127.0.0.1:7070");
        let own = ("origin", "http://127.0.0.1:7070");
        type Headers<'a> = &'a [(&'static str, &'a str)];
        let cases: &[(&Method, Headers<'_>, bool)] = &[
            // A same-origin fetch: GET without Origin, changes with it.
            (
                &Method::GET,
                &[host, ("sec-fetch-site", "same-origin")],
                true,
            ),
            (&Method::GET, &[host], true),
            (
                &Method::POST,
                &[host, own, ("sec-fetch-site", "same-origin")],
                true,
            ),
            (&Method::PUT, &[host, own], true),
            // A change without Origin: not a page of ours (browsers send one).
            (&Method::POST, &[host], false),
            (
                &Method::DELETE,
                &[host, ("sec-fetch-site", "same-origin")],
                false,
            ),
            // Another origin, even a same-site one (another port of localhost).
            (
                &Method::POST,
                &[host, ("origin", "http://127.0.0.1:8080")],
                false,
            ),
            (
                &Method::GET,
                &[host, ("origin", "http://evil.example")],
                false,
            ),
            (
                &Method::GET,
                &[host, ("sec-fetch-site", "same-site")],
                false,
            ),
            (
                &Method::GET,
                &[host, ("sec-fetch-site", "cross-site")],
                false,
            ),
            (
                &Method::GET,
                &[host, own, ("sec-fetch-site", "cross-site")],
                false,
            ),
            // Typed into the address bar.
            (&Method::GET, &[host, ("sec-fetch-site", "none")], true),
        ];
        for (method, h, ok) in cases {
            assert_eq!(same_origin(method, &headers(h)), *ok, "{method} {h:?}");
        }
    }

    #[test]
    fn a_code_request_names_a_viewer_or_nobody_never_null() {
        let ok: CodeRequestJson = serde_json::from_str("{}").unwrap();
        assert!(ok.viewer.is_none() && ok.scope.is_none());
        let v: CodeRequestJson = serde_json::from_str(r#"{"viewer":"did:key:x"}"#).unwrap();
        assert_eq!(v.viewer.as_deref(), Some("did:key:x"));
        for bad in [r#"{"viewer":null}"#, r#"{"scope":null}"#, r#"{"other":1}"#] {
            assert!(
                serde_json::from_str::<CodeRequestJson>(bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_login_link_names_a_loopback_address() {
        let code = "abc";
        assert_eq!(
            login_url("0.0.0.0:7070".parse().unwrap(), code),
            "http://127.0.0.1:7070/login#abc"
        );
        assert_eq!(
            login_url("[::]:7070".parse().unwrap(), code),
            "http://[::1]:7070/login#abc"
        );
        assert_eq!(
            login_url("127.0.0.1:9".parse().unwrap(), code),
            "http://127.0.0.1:9/login#abc"
        );
    }

    #[test]
    fn every_console_file_is_served_with_the_strict_headers() {
        assert!(CSP.contains("default-src 'self'") && CSP.contains("frame-ancestors 'none'"));
        assert!(!CSP.contains("unsafe"));
        for (name, ct, body) in ASSETS {
            assert!(!body.is_empty(), "{name}");
            let r = page(ct, body);
            assert_eq!(r.headers()["content-security-policy"], CSP, "{name}");
            assert_eq!(r.headers()["x-content-type-options"], "nosniff");
            assert_eq!(r.headers()["x-frame-options"], "DENY");
        }
        // No inline script or style in the page: the CSP would block it.
        assert!(!INDEX.contains("<script>") && !INDEX.contains("style="));
        assert!(
            !INDEX.contains("http://") && !INDEX.contains("https://"),
            "no CDN"
        );
    }
}
