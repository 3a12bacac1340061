//! `GET /healthz` (liveness) and `GET /readyz` (readiness): the node's [`Health`] as JSON,
//! with 200 when the probe passes and 503 when it does not. Both are reachable without a
//! token (they are reads), so an orchestrator or a load balancer can ask.
//!
//! [`Health`]: crate::node::health::Health

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::ApiState;

/// `GET /healthz`: 200 while every part of the node runs (the store writer thread and the
/// network task), 503 when one has died (a restart helps). A store that cannot commit (a
/// full disk) shows as `status: degraded` with the problem, still 200: restarting would not
/// bring space back, and the writer notices by itself when it returns.
pub(super) async fn healthz(State(s): State<ApiState>) -> Response {
    let report = s.health.report();
    let code = if report.live {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(report)).into_response()
}

/// `GET /readyz`: 200 when the node acknowledges writes (live, and its last commit or
/// recovery probe succeeded), 503 otherwise (for example while the disk is full).
pub(super) async fn readyz(State(s): State<ApiState>) -> Response {
    let report = s.health.report();
    let code = if report.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(report)).into_response()
}
