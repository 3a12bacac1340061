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
//!   `/appeals`; `GET /v1/lists/{owner}/{name}`;
//! - Nostr (`specs/nostr.md`): `GET /v1/nostr`, `POST /v1/nostr/events`,
//!   `POST /v1/nostr/viewers`, `POST /v1/nostr/viewers/{viewer}/decide`,
//!   `GET /v1/nostr/viewers/{viewer}/assertions`, `POST /v1/nostr/viewers/{viewer}/publish`;
//! - `GET /v1/status`, `GET /healthz`, `GET /metrics`;
//! - `POST /v1/dev/publish-raw?topic=T`: only with `unsafe_dev_publish_raw`; publishes the
//!   body unchecked (to test how peers treat bad input).
//!
//! With a token configured (required when bound to a non-loopback address), every writing
//! call needs `Authorization: Bearer <token>`: every method but GET, except the two
//! read-only POSTs (`decide`, `diff`).

mod decide;
mod events;
mod extract;
mod groups;
mod nostr;
mod viewers;

use std::sync::Arc;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, Method, StatusCode};
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
use extract::{PathParams, QueryParams, RawBody};

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
    /// The bearer token writing calls need, if any.
    pub token: Option<Arc<str>>,
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
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

fn json_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(MAX_JSON_BODY_BYTES)
}

/// Whether a call writes: every method but GET and HEAD, except the read-only POSTs.
pub(crate) fn is_writing(method: &Method, path: &str) -> bool {
    !(method == Method::GET
        || method == Method::HEAD
        || (method == Method::POST && (path.ends_with("/decide") || path.ends_with("/diff"))))
}

/// Compares in time independent of where the first difference is.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn require_token(State(s): State<ApiState>, req: Request, next: Next) -> Response {
    if let Some(token) = &s.token {
        if is_writing(req.method(), req.uri().path()) {
            let given = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            if !given.is_some_and(|g| same_secret(g.as_bytes(), token.as_bytes())) {
                Metrics::inc(&s.metrics.api_unauthorized_total);
                let mut r = ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "this call writes: send Authorization: Bearer <the node's API token>",
                )
                .into_response();
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                );
                return r;
            }
        }
    }
    next.run(req).await
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
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self)).into_response()
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
    RawBody(body): RawBody,
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
    RawBody(body): RawBody,
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
