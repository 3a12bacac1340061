//! Per-viewer tokens, for an admin: create one for a viewer (its secret is answered once),
//! list them, revoke one. Deleting a viewer revokes its tokens (`viewers.rs`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::auth::{Scope, TokenError, ViewerToken, MAX_LABEL_BYTES};
use super::extract::{JsonBody, PathParams};
use super::{blocking, ApiError, ApiState};
use crate::json::{self, CreateTokenJson, CreatedTokenJson, TokenJson, TokensJson};

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        let status = match e {
            TokenError::TooMany => StatusCode::INSUFFICIENT_STORAGE,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError::new(status, e.code(), &e)
    }
}

pub(super) fn token_json(t: &ViewerToken) -> TokenJson {
    TokenJson {
        id: t.id.clone(),
        viewer: t.viewer.to_did_key(),
        scope: t.scope.as_str().to_owned(),
        label: t.label.clone(),
        created_ms: t.created_ms,
    }
}

/// `POST /v1/tokens`.
pub(super) async fn create(
    State(s): State<ApiState>,
    JsonBody(req): JsonBody<CreateTokenJson>,
) -> Result<Response, ApiError> {
    let viewer = json::parse_did("viewer", &req.viewer)?;
    let scope = match req.scope.as_deref() {
        None | Some("read") => Scope::Read,
        Some("policy") => Scope::Policy,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad-scope",
                format!("scope {other:?}: read or policy"),
            ))
        }
    };
    let label = req.label.unwrap_or_default();
    if label.len() > MAX_LABEL_BYTES {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad-label",
            format!("a label has at most {MAX_LABEL_BYTES} bytes"),
        ));
    }
    // Only for a viewer of this node (a token for no one would start working when someone
    // creates that viewer).
    s.engine.viewer_snapshot(&viewer)?;
    let tokens = s.tokens.clone();
    let now = crate::node::clock::now_ms();
    let (token, secret) = blocking(move || tokens.create(viewer, scope, label, now)).await??;
    tracing::info!(id = %token.id, viewer = %token.viewer, scope = token.scope.as_str(), "API token created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedTokenJson {
            token: token_json(&token),
            secret,
        }),
    )
        .into_response())
}

/// `GET /v1/tokens`.
pub(super) async fn list(State(s): State<ApiState>) -> Json<TokensJson> {
    Json(TokensJson {
        tokens: s.tokens.list().iter().map(|t| token_json(t)).collect(),
    })
}

/// `DELETE /v1/tokens/{id}`.
pub(super) async fn revoke(
    State(s): State<ApiState>,
    PathParams(id): PathParams<String>,
) -> Result<StatusCode, ApiError> {
    let gone = revoke_where(&s, move |t| t.id == id).await?;
    if gone.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "token-not-found",
            "no such token",
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes the tokens `which` selects and forgets their rate buckets.
pub(super) async fn revoke_where(
    s: &ApiState,
    which: impl Fn(&ViewerToken) -> bool + Send + 'static,
) -> Result<Vec<Arc<ViewerToken>>, ApiError> {
    let tokens = s.tokens.clone();
    let gone = blocking(move || tokens.revoke(which)).await??;
    for t in &gone {
        s.limits.forget(&t.id);
        tracing::info!(id = %t.id, viewer = %t.viewer, "API token revoked");
    }
    Ok(gone)
}
