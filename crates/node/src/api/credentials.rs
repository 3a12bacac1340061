//! The holder's credentials on its node: hand one in (`POST /v1/credentials`), list them with
//! how each stands (`GET /v1/credentials`), forget one (`DELETE /v1/credentials/{digest}`),
//! and hand in an issuer's revocation statement (`POST /v1/credentials/revocations`).
//!
//! A credential handed in is verified offline first (a credential that does not verify is
//! refused with the identity layer's code), kept in the local table and private: the node
//! never publishes it. A holder who wants other nodes to show `verified by <issuer>`
//! publishes it as a `credential` object signed by the identity key (`vouch credential add
//! --public` does both) and marks it `public`. The answer comes once the viewers' views use
//! the change (bounded wait).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::extract::{JsonBody, PathParams};
use super::{blocking, ApiError, ApiState, SUBMIT_VIEW_WAIT};
use crate::json::{CredentialAddJson, CredentialJson, CredentialsJson};
use crate::node::identity::IdentityError;

impl From<IdentityError> for ApiError {
    fn from(e: IdentityError) -> Self {
        let status = match &e {
            IdentityError::Credential(_) | IdentityError::Revocation(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            IdentityError::NotFound(_) => StatusCode::NOT_FOUND,
            IdentityError::NotPublished => StatusCode::CONFLICT,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError::new(status, e.code(), &e)
    }
}

async fn wait_for_views(s: &ApiState, generation: u64) {
    if !s
        .engine
        .identity()
        .wait_published(generation, SUBMIT_VIEW_WAIT)
        .await
    {
        tracing::warn!(
            generation,
            "views did not reflect a credential change in time"
        );
    }
}

/// `GET /v1/credentials`.
pub(super) async fn list(State(s): State<ApiState>) -> Result<Json<CredentialsJson>, ApiError> {
    let engine = s.engine.clone();
    let out = blocking(move || {
        let now = crate::node::clock::now_ms();
        engine.read(|core| engine.identity().credentials(&core.state, now))
    })
    .await??;
    Ok(Json(CredentialsJson {
        credentials: out.into_iter().map(CredentialJson::from).collect(),
    }))
}

/// `POST /v1/credentials`.
pub(super) async fn add(
    State(s): State<ApiState>,
    JsonBody(body): JsonBody<CredentialAddJson>,
) -> Result<(StatusCode, Json<CredentialJson>), ApiError> {
    let text = body.text().ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad-json",
            "credential: the credential's JSON text, or its JSON object",
        )
    })?;
    let engine = s.engine.clone();
    let (status, generation) = blocking(move || {
        let now = crate::node::clock::now_ms();
        engine.read(|core| {
            engine
                .identity()
                .add_credential(&core.state, &text, body.public, now)
        })
    })
    .await??;
    wait_for_views(&s, generation).await;
    Ok((StatusCode::CREATED, Json(status.into())))
}

/// `DELETE /v1/credentials/{digest}`.
pub(super) async fn delete(
    State(s): State<ApiState>,
    PathParams(digest): PathParams<String>,
) -> Result<StatusCode, ApiError> {
    let engine = s.engine.clone();
    let generation = blocking(move || engine.identity().delete_credential(&digest)).await??;
    wait_for_views(&s, generation).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/credentials/revocations`: the statement as `vouch credential revoke` writes it.
pub(super) async fn add_revocation(
    State(s): State<ApiState>,
    JsonBody(statement): JsonBody<serde_json::Value>,
) -> Result<StatusCode, ApiError> {
    let engine = s.engine.clone();
    let generation = blocking(move || {
        let text = statement.to_string();
        engine
            .identity()
            .add_revocation(&text, crate::node::clock::now_ms())
    })
    .await??;
    wait_for_views(&s, generation).await;
    Ok(StatusCode::NO_CONTENT)
}
