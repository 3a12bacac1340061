//! The minimal loopback HTTP endpoint (axum): submit and fetch objects, status, health and
//! Prometheus metrics. The full sidecar API builds on this router.
//!
//! - `POST /v1/objects`: raw DAG-CBOR body -> `{"id": cid, "new": bool}` or
//!   `{"error": {"code", "message"}}`; answered after the store committed.
//! - `GET /v1/objects/{cid}`: the object's bytes.
//! - `GET /v1/status`: peer id, addresses, peers, bans, topics, counters (JSON).
//! - `GET /healthz`, `GET /metrics`.
//! - `POST /v1/dev/publish-raw?topic=T`: only with `unsafe_dev_publish_raw`; publishes the
//!   body unchecked (to test how peers treat bad input).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use vouch_reputation::ObjectId;

use crate::ingest::{Ingest, IngestError};
use crate::metrics::Metrics;
use crate::net::{NetCmd, NetStatus};
use crate::store::StoreReader;

/// Largest request body accepted (an object is at most 64 KiB; raw dev bodies up to 1 MiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct ApiState {
    /// The ingest pipeline.
    pub ingest: Ingest,
    /// Read access to the store.
    pub reader: StoreReader,
    /// The network task.
    pub net: mpsc::Sender<NetCmd>,
    /// Counters.
    pub metrics: Arc<Metrics>,
}

/// The router.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/objects", post(submit))
        .route("/v1/objects/{cid}", get(fetch))
        .route("/v1/status", get(status))
        .route("/v1/dev/publish-raw", post(publish_raw))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// An error answer: `{"error": {"code", "message"}}`.
#[derive(Debug, Serialize)]
pub struct ApiError {
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
pub struct Submitted {
    /// The object's CID.
    pub id: String,
    /// Whether it was new to this node.
    pub new: bool,
}

async fn submit(State(s): State<ApiState>, body: Bytes) -> Result<Json<Submitted>, ApiError> {
    let bytes = body.to_vec();
    let result = s
        .ingest
        .ingest(vec![bytes.clone()])
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

async fn fetch(State(s): State<ApiState>, Path(cid): Path<String>) -> Response {
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
pub struct Status {
    /// The network's state.
    #[serde(flatten)]
    pub net: NetStatus,
    /// Stored objects.
    pub objects: u64,
    /// Every counter.
    pub metrics: std::collections::BTreeMap<&'static str, u64>,
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
    Query(q): Query<RawQuery>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (ack, rx) = oneshot::channel();
    let topic = q
        .topic
        .unwrap_or_else(|| crate::topic::SOCIAL_TOPIC.to_owned());
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
