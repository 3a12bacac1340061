//! The sidecar HTTP API (axum), loopback by default. Every answer is JSON except object bytes
//! and metrics; every error is `{"error": {"code", "message"}}` with a stable code.
//! `specs/api/openapi.yaml` is the contract; `specs/api/README.md` explains auth, errors
//! and events.
//!
//! - objects: `POST /v1/objects` (raw DAG-CBOR; answered after the store committed and the
//!   viewers' views reflect it; only the config's replication rules apply to it, not the
//!   viewers' policies), `GET /v1/objects/{cid}`;
//! - viewers: `GET|POST /v1/viewers`, `GET|DELETE /v1/viewers/{viewer}`,
//!   `GET|PUT /v1/viewers/{viewer}/policy`, `GET /v1/viewers/{viewer}/subscriptions`;
//! - decisions: `POST /v1/viewers/{viewer}/decide`, `GET /v1/viewers/{viewer}/explain/{subject}`,
//!   `GET /v1/viewers/{viewer}/trust/{subject}`, `POST /v1/viewers/{viewer}/diff`;
//! - events: `GET /v1/viewers/{viewer}/events` (Server-Sent Events);
//! - groups and lists: `GET /v1/groups/{owner}/{name}` and its `/bans`, `/reports`,
//!   `/appeals`, `/polls`, `/rules`; `GET /v1/lists/{owner}/{name}`;
//! - polls: `GET /v1/polls/{cid}` (a poll and its tally);
//! - credentials: `GET|POST /v1/credentials`, `DELETE /v1/credentials/{digest}`,
//!   `POST /v1/credentials/revocations` (the holder's own, private unless published);
//! - Nostr (`specs/nostr.md`): `GET /v1/nostr`, `POST /v1/nostr/events`,
//!   `POST /v1/nostr/viewers`, `POST /v1/nostr/viewers/{viewer}/decide`,
//!   `GET /v1/nostr/viewers/{viewer}/assertions`, `POST /v1/nostr/viewers/{viewer}/publish`;
//! - `GET /v1/status`, `GET /healthz` (liveness), `GET /readyz` (readiness), `GET /metrics`;
//! - `POST /v1/dev/publish-raw?topic=T`: only with `unsafe_dev_publish_raw`; publishes the
//!   body unchecked (to test how peers treat bad input).
//!
//! - tokens: `GET|POST /v1/tokens`, `DELETE /v1/tokens/{id}` (per-viewer tokens; admin).
//!
//! Every call but `/healthz` needs `Authorization: Bearer <token>`: the admin token the node
//! generates into `<data dir>/api.token` (or a configured one), or a per-viewer token that
//! reads and decides only for its viewer (`auth.rs`). Before the token, `guard.rs` refuses
//! what a web page could send (unknown `Host`, foreign `Origin`, form and text bodies);
//! `limits.rs` bounds the work per token; `server.rs` the connections.

mod auth;
mod console;
mod credentials;
pub(crate) mod decide;
mod events;
mod extract;
mod groups;
mod guard;
mod health;
mod limits;
mod nostr;
mod polls;
mod server;
mod tokens;
mod viewers;

pub(crate) use auth::{Principal, Tokens};
pub(crate) use console::CODE_TTL as CONSOLE_CODE_TTL;
pub(crate) use console::{login_url, Console};
pub(crate) use guard::Guard;
pub(crate) use limits::Limits as ApiLimitsState;
use limits::Limits;
pub(crate) use server::serve;

use std::sync::Arc;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, RawPathParams, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, watch};
use vouch_reputation::ObjectId;

use crate::net::{NetCmd, NetStatus};
use crate::node::engine::Engine;
use crate::node::ingest::{Ingest, IngestError};
use crate::node::metrics::Metrics;
use crate::node::store::StoreReader;
use axum::extract::FromRequestParts as _;
use extract::{CborBody, PathParams, QueryParams};

/// How long `POST /v1/objects` waits for the viewers' views to reflect a new object before
/// answering anyway.
pub(crate) const SUBMIT_VIEW_WAIT: Duration = Duration::from_secs(5);

/// Largest request body accepted (an object is at most 64 KiB; raw dev bodies up to 1 MiB).
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest JSON body of the viewer calls: a policy may hold up to 10,000 entries per list,
/// a decide call 1,000 items.
pub(crate) const MAX_JSON_BODY_BYTES: usize = 4 * 1024 * 1024;

/// What the handlers share.
#[derive(Debug, Clone)]
pub(crate) struct ApiState {
    /// The ingest pipeline.
    pub ingest: Ingest,
    /// Read access to the store.
    pub reader: StoreReader,
    /// The network task.
    pub net: mpsc::Sender<NetCmd>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The derived state and the viewers.
    pub engine: Engine,
    /// The store's commit hook (the highest committed seq).
    pub commits: watch::Receiver<i64>,
    /// The tokens the API accepts.
    pub tokens: Arc<Tokens>,
    /// Rates, costly calls, streams.
    pub limits: Arc<Limits>,
    /// Host, Origin and content-type checks.
    pub guard: Arc<Guard>,
    /// The node's health (`/healthz`, `/readyz`).
    pub health: Arc<crate::node::health::Health>,
    /// The web console's login codes, sessions and key folder.
    pub console: Arc<Console>,
    /// The Nostr source (relays, Nostr viewers, NIP-85).
    pub nostr: crate::nostr::source::NostrSource,
}

/// The router.
pub(crate) fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/objects", post(submit))
        .route("/v1/objects/{cid}", get(fetch))
        .route("/v1/status", get(status))
        .route(
            "/v1/viewers",
            get(viewers::list).post(viewers::create).layer(json_limit()),
        )
        .route(
            "/v1/viewers/{viewer}",
            get(viewers::get).delete(viewers::delete),
        )
        .route(
            "/v1/viewers/{viewer}/policy",
            get(viewers::get_policy)
                .put(viewers::put_policy)
                .layer(json_limit()),
        )
        .route(
            "/v1/viewers/{viewer}/subscriptions",
            get(viewers::subscriptions),
        )
        .route(
            "/v1/viewers/{viewer}/decide",
            post(decide::decide).layer(json_limit()),
        )
        .route(
            "/v1/viewers/{viewer}/explain/{subject}",
            get(decide::explain),
        )
        .route("/v1/viewers/{viewer}/trust/{subject}", get(decide::trust))
        .route(
            "/v1/viewers/{viewer}/diff",
            post(decide::diff_policy).layer(json_limit()),
        )
        .route("/v1/viewers/{viewer}/events", get(events::events))
        .route("/v1/groups/{owner}/{name}", get(groups::group))
        .route("/v1/groups/{owner}/{name}/bans", get(groups::bans))
        .route("/v1/groups/{owner}/{name}/reports", get(groups::reports))
        .route("/v1/groups/{owner}/{name}/appeals", get(groups::appeals))
        .route("/v1/lists/{owner}/{name}", get(groups::list))
        .route("/v1/groups/{owner}/{name}/polls", get(polls::group_polls))
        .route("/v1/groups/{owner}/{name}/rules", get(polls::rules))
        .route("/v1/polls/{cid}", get(polls::poll))
        .route(
            "/v1/credentials",
            get(credentials::list)
                .post(credentials::add)
                .layer(json_limit()),
        )
        .route(
            "/v1/credentials/{digest}",
            axum::routing::delete(credentials::delete),
        )
        .route(
            "/v1/credentials/revocations",
            post(credentials::add_revocation),
        )
        .route("/v1/dev/publish-raw", post(publish_raw))
        .route("/v1/nostr", get(nostr::status))
        .route("/v1/nostr/events", post(nostr::events).layer(json_limit()))
        .route("/v1/nostr/viewers", post(nostr::add_viewer))
        .route(
            "/v1/nostr/viewers/{viewer}/decide",
            post(nostr::decide).layer(json_limit()),
        )
        .route(
            "/v1/nostr/viewers/{viewer}/assertions",
            get(nostr::assertions),
        )
        .route("/v1/nostr/viewers/{viewer}/publish", post(nostr::publish))
        .route(
            "/v1/tokens",
            get(tokens::list).post(tokens::create).layer(json_limit()),
        )
        .route("/v1/tokens/{id}", axum::routing::delete(tokens::revoke))
        .route("/", get(console::index))
        .route("/login", get(console::index))
        .route("/console/{file}", get(console::asset))
        .route(
            "/v1/session",
            get(console::whoami)
                .post(console::login)
                .delete(console::logout),
        )
        .route("/v1/console/codes", post(console::new_code))
        .route("/v1/console/keys", get(console::keys))
        .route("/v1/console/sign", post(console::sign))
        .route("/v1/groups/{owner}/{name}/posts", get(console::posts))
        .route(
            "/v1/lists/{owner}/{name}/appeals",
            get(console::list_appeals),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), count_limits))
        .layer(middleware::from_fn_with_state(state.clone(), authorize))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            state.guard.clone(),
            guard::check,
        ))
        .with_state(state)
}

fn json_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(MAX_JSON_BODY_BYTES)
}

/// Counts the request bounds answers hit ([`LimitHit`]).
async fn count_limits(State(s): State<ApiState>, req: Request, next: Next) -> Response {
    let r = next.run(req).await;
    if let Some(l) = r.extensions().get::<LimitHit>() {
        Metrics::inc(match l {
            LimitHit::BodyTooLarge => &s.metrics.api_body_too_large_total,
            LimitHit::PageTooLarge => &s.metrics.api_page_too_large_total,
            LimitHit::TooManyItems => &s.metrics.api_too_many_items_total,
        });
    }
    r
}

/// The token check, after routing: who calls (`Authorization: Bearer`), whether they may
/// make this call (`auth::access`), and their rate. The principal goes into the request's
/// extensions for the handlers that answer per caller.
async fn authorize(State(s): State<ApiState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let need = auth::access(&parts.method, route.as_deref());
    if need == auth::Access::Public {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let given = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    // No bearer token: the console's session cookie, on the console's own requests only.
    let who = match given {
        Some(t) => s.tokens.authenticate(t),
        None => match console::session_principal(&s, &parts) {
            Ok(who) => who,
            Err(r) => return *r,
        },
    };
    let Some(who) = who else {
        Metrics::inc(&s.metrics.api_unauthorized_total);
        let mut r = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send Authorization: Bearer <token>: the admin token is in <data dir>/api.token",
        )
        .into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return r;
    };
    let viewer = match RawPathParams::from_request_parts(&mut parts, &()).await {
        Ok(params) => params
            .iter()
            .find(|(k, _)| *k == "viewer")
            .map(|(_, v)| v.to_owned()),
        Err(_) => None,
    };
    if !who.may(need, viewer.as_deref()) {
        Metrics::inc(&s.metrics.api_forbidden_total);
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            match need {
                auth::Access::Viewer { write: true } => "this token may not change this viewer",
                auth::Access::Viewer { write: false } => "this token is for another viewer",
                _ => "this call needs the admin token",
            },
        )
        .into_response();
    }
    if let Err(r) = s.limits.admit(&who) {
        return *r;
    }
    parts.extensions.insert(who);
    next.run(Request::from_parts(parts, body)).await
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no-route", "no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this endpoint does not take that method",
    )
}

/// Runs CPU work or blocking reads off the async runtime.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e))
}

/// An error answer: `{"error": {"code", "message"}}`.
#[derive(Debug, Serialize)]
pub(crate) struct ApiError {
    #[serde(skip)]
    status: StatusCode,
    error: ErrorBody,
    #[serde(skip)]
    retry_after: bool,
    #[serde(skip)]
    limit: Option<LimitHit>,
}

/// A request bound an answer hit, put in the answer's extensions by [`ApiError`] and
/// counted by [`count_limits`] (the other limits count where they act: `api/limits.rs`,
/// `api/server.rs`, `api/guard.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LimitHit {
    /// A body over its size limit (`413 payload-too-large`).
    BodyTooLarge,
    /// A page over the most a page may hold (`400 bad-query`).
    PageTooLarge,
    /// More decide items than one call may hold (`400 too-many-items`).
    TooManyItems,
}

#[derive(Debug, Serialize)]
struct ErrorBody {
    code: String,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: impl ToString) -> Self {
        ApiError {
            status,
            error: ErrorBody {
                code: code.to_owned(),
                message: message.to_string(),
            },
            retry_after: false,
            limit: None,
        }
    }

    /// The same error, counted as a hit of `limit`.
    pub(crate) fn limit(self, limit: LimitHit) -> Self {
        ApiError {
            limit: Some(limit),
            ..self
        }
    }

    /// `503` with `Retry-After: 1`: a limit that frees up soon.
    fn busy(code: &str, message: impl ToString) -> Self {
        ApiError {
            retry_after: true,
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry = self.retry_after;
        let limit = self.limit;
        let mut r = (self.status, Json(self)).into_response();
        if let Some(l) = limit {
            r.extensions_mut().insert(l);
        }
        if retry {
            r.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        r
    }
}

/// The answer to a submission.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Submitted {
    /// The object's CID.
    pub id: String,
    /// Whether it was new to this node.
    pub new: bool,
}

/// `?wait=false` answers as soon as the store committed, without waiting for the views.
#[derive(Debug, Deserialize)]
struct SubmitQuery {
    wait: Option<bool>,
}

async fn submit(
    State(s): State<ApiState>,
    QueryParams(q): QueryParams<SubmitQuery>,
    CborBody(body): CborBody,
) -> Result<Json<Submitted>, ApiError> {
    let bytes = body.to_vec();
    let result = s
        .ingest
        .ingest_from(vec![bytes.clone()], crate::node::ingest::Origin::Local)
        .await
        .into_iter()
        .next();
    match result {
        Some(Ok(done)) => {
            if done.new {
                // Best effort: the object is stored; catch-up carries it if gossip cannot.
                if s.net
                    .try_send(NetCmd::Publish {
                        topic: done.topic,
                        bytes,
                    })
                    .is_err()
                {
                    Metrics::inc(&s.metrics.queue_full_total);
                }
            }
            if done.new && q.wait != Some(false) {
                // Read your writes: the commit hook passed this object's seq before the
                // store acknowledged it; wait (bounded) until the views reflect it.
                let seq = *s.commits.borrow();
                if !s.engine.wait_published(seq, SUBMIT_VIEW_WAIT).await {
                    tracing::warn!(seq, "views did not reflect a submitted object in time");
                }
            }
            Ok(Json(Submitted {
                id: done.id.to_string(),
                new: done.new,
            }))
        }
        Some(Err(e)) => {
            let status = match &e {
                IngestError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                IngestError::Refused(_) => StatusCode::FORBIDDEN,
                IngestError::BatchTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            Err(ApiError::new(status, e.code(), &e))
        }
        None => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store-closed",
            "no answer from the store",
        )),
    }
}

async fn fetch(State(s): State<ApiState>, PathParams(cid): PathParams<String>) -> Response {
    let id: ObjectId = match cid.parse() {
        Ok(id) => id,
        Err(e) => {
            return ApiError::new(StatusCode::BAD_REQUEST, "bad-cid", e).into_response();
        }
    };
    let reader = s.reader.clone();
    match tokio::task::spawn_blocking(move || reader.get(&id)).await {
        Ok(Ok(Some(bytes))) => (
            [(header::CONTENT_TYPE, "application/vnd.ipld.dag-cbor")],
            bytes,
        )
            .into_response(),
        Ok(Ok(None)) => {
            ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such object").into_response()
        }
        Ok(Err(e)) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.code(), e).into_response(),
        Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e).into_response(),
    }
}

/// `GET /v1/status`.
#[derive(Debug, Serialize)]
pub(crate) struct Status {
    /// The network's state.
    #[serde(flatten)]
    pub net: NetStatus,
    /// Stored objects.
    pub objects: u64,
    /// The replication filter: whose verdicts it follows, its rules by source.
    pub replication: Option<crate::node::filter::ReplicationStatus>,
    /// Viewers whose stored policy cannot be read: kept, not served, repaired by writing a
    /// new policy.
    pub viewers_unreadable: Vec<UnreadableViewer>,
    /// Every counter.
    pub metrics: std::collections::BTreeMap<&'static str, u64>,
}

/// A viewer whose stored policy cannot be read.
#[derive(Debug, Serialize)]
pub(crate) struct UnreadableViewer {
    /// The viewer.
    viewer: String,
    /// The stable code of the reason.
    code: &'static str,
    /// The reason.
    message: String,
}

async fn status(State(s): State<ApiState>) -> Result<Json<Status>, ApiError> {
    let (ack, rx) = oneshot::channel();
    s.net.send(NetCmd::Status { ack }).await.map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "net-closed",
            "network stopped",
        )
    })?;
    let net = rx.await.map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "net-closed",
            "network stopped",
        )
    })?;
    let reader = s.reader.clone();
    let objects = tokio::task::spawn_blocking(move || reader.count())
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e))?
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.code(), e))?;
    Ok(Json(Status {
        net,
        objects,
        replication: s.engine.replication(),
        viewers_unreadable: s
            .engine
            .unreadable_viewers()
            .into_iter()
            .map(|(viewer, e)| UnreadableViewer {
                viewer: viewer.to_did_key(),
                code: e.code(),
                message: e.to_string(),
            })
            .collect(),
        metrics: s.metrics.snapshot().into_iter().collect(),
    }))
}

async fn metrics(State(s): State<ApiState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
}

#[derive(Debug, Deserialize)]
struct RawQuery {
    topic: Option<String>,
}

async fn publish_raw(
    State(s): State<ApiState>,
    QueryParams(q): QueryParams<RawQuery>,
    CborBody(body): CborBody,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (ack, rx) = oneshot::channel();
    let topic = q
        .topic
        .unwrap_or_else(|| crate::net::topic::SOCIAL_TOPIC.to_owned());
    s.net
        .send(NetCmd::PublishRaw {
            topic,
            bytes: body.to_vec(),
            ack,
        })
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "net-closed",
                "network stopped",
            )
        })?;
    match rx.await {
        Ok(Ok(id)) => Ok(Json(serde_json::json!({ "message_id": id }))),
        Ok(Err(e)) if e == "disabled" => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "disabled",
            "start the node with --unsafe-dev-publish-raw",
        )),
        Ok(Err(e)) => Err(ApiError::new(StatusCode::CONFLICT, "publish-failed", e)),
        Err(_) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "net-closed",
            "network stopped",
        )),
    }
}
