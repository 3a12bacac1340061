//! Local viewers: create, list, read, delete; read and replace a viewer's policy; read its
//! subscriptions as the compiled view resolved them.

use std::sync::Arc;

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::auth::Principal;
use super::decide::viewer_snapshot;
use super::extract::{JsonBody, PathParams};
use super::{blocking, ApiError, ApiState};
use crate::json::{
    self, CreateViewerJson, PolicyJson, ResolvedListJson, SubscriptionsJson, ViewStatsJson,
    ViewerJson, ViewersJson,
};
use crate::node::engine::{Engine, EngineError, ViewerSnapshot};

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let status = match &e {
            EngineError::ViewerExists(_) => StatusCode::CONFLICT,
            EngineError::ViewerNotFound(_) => StatusCode::NOT_FOUND,
            EngineError::TooManyViewers(_) => StatusCode::INSUFFICIENT_STORAGE,
            EngineError::ViewerUnreadable { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError::new(status, e.code(), &e)
    }
}

/// The JSON form of a viewer's snapshot.
pub(super) fn viewer_json(engine: &Engine, snap: &ViewerSnapshot) -> ViewerJson {
    let info = &snap.info;
    ViewerJson {
        viewer: info.viewer.to_did_key(),
        policy: PolicyJson::from_policy(&info.policy, &info.groups),
        created_ms: info.created_ms,
        updated_ms: info.updated_ms,
        view: ViewStatsJson {
            seq: engine.reflects(snap),
            built_at: snap.view.built_at(),
            subjects: snap.view.n_subjects() as u64,
            trusted_authors: snap.trust.len() as u64,
        },
    }
}

/// `GET /v1/viewers`: every viewer for the admin, its own for a per-viewer token.
pub(super) async fn list(
    State(s): State<ApiState>,
    Extension(who): Extension<Principal>,
) -> Json<ViewersJson> {
    Json(ViewersJson {
        viewers: s
            .engine
            .snapshots()
            .iter()
            .filter(|snap| match &who {
                Principal::Admin => true,
                Principal::Viewer(t) => snap.info.viewer == t.viewer,
            })
            .map(|snap| viewer_json(&s.engine, snap))
            .collect(),
    })
}

/// `POST /v1/viewers`.
pub(super) async fn create(
    State(s): State<ApiState>,
    JsonBody(req): JsonBody<CreateViewerJson>,
) -> Result<Response, ApiError> {
    let viewer = json::parse_did("viewer", &req.viewer)?;
    let (policy, groups) = req.policy.to_policy(viewer)?;
    let snap = s.engine.put_viewer(viewer, policy, groups, true).await?;
    Ok((StatusCode::CREATED, Json(viewer_json(&s.engine, &snap))).into_response())
}

/// `GET /v1/viewers/{viewer}`.
pub(super) async fn get(
    State(s): State<ApiState>,
    PathParams(viewer): PathParams<String>,
) -> Result<Json<ViewerJson>, ApiError> {
    let (_, snap) = viewer_snapshot(&s, &viewer)?;
    Ok(Json(viewer_json(&s.engine, &snap)))
}

/// `DELETE /v1/viewers/{viewer}`.
pub(super) async fn delete(
    State(s): State<ApiState>,
    PathParams(viewer): PathParams<String>,
) -> Result<StatusCode, ApiError> {
    let key = json::parse_did("viewer", &viewer)?;
    s.engine.delete_viewer(key).await?;
    // Its tokens go with it: a viewer created later under the same key starts with none.
    super::tokens::revoke_where(&s, move |t| t.viewer == key).await?;
    s.console.forget_viewer(&key);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/viewers/{viewer}/policy`.
pub(super) async fn get_policy(
    State(s): State<ApiState>,
    PathParams(viewer): PathParams<String>,
) -> Result<Json<PolicyJson>, ApiError> {
    let (_, snap) = viewer_snapshot(&s, &viewer)?;
    Ok(Json(PolicyJson::from_policy(
        &snap.info.policy,
        &snap.info.groups,
    )))
}

/// `PUT /v1/viewers/{viewer}/policy`: replaces the policy; answers once the new view is
/// published.
pub(super) async fn put_policy(
    State(s): State<ApiState>,
    PathParams(viewer): PathParams<String>,
    JsonBody(policy): JsonBody<PolicyJson>,
) -> Result<Json<ViewerJson>, ApiError> {
    let key = json::parse_did("viewer", &viewer)?;
    let (policy, groups) = policy.to_policy(key)?;
    let snap = s.engine.put_viewer(key, policy, groups, false).await?;
    Ok(Json(viewer_json(&s.engine, &snap)))
}

/// `GET /v1/viewers/{viewer}/subscriptions`.
pub(super) async fn subscriptions(
    State(s): State<ApiState>,
    PathParams(viewer): PathParams<String>,
) -> Result<Json<SubscriptionsJson>, ApiError> {
    let (_, snap) = viewer_snapshot(&s, &viewer)?;
    let engine = s.engine.clone();
    let snap2: Arc<ViewerSnapshot> = snap.clone();
    let resolved = blocking(move || {
        let lists = snap2.view.lists();
        engine.read(|core| {
            lists
                .into_iter()
                .filter_map(|(list, weight)| {
                    let purpose = core.state.list_header(&list)?.1.body.purpose;
                    (purpose != vouch_reputation::ListPurpose::Ban).then(|| ResolvedListJson {
                        list: json::list_str(&list),
                        weight,
                        purpose: purpose.as_str().to_owned(),
                    })
                })
                .collect::<Vec<_>>()
        })
    })
    .await?;
    let p = PolicyJson::from_policy(&snap.info.policy, &snap.info.groups);
    Ok(Json(SubscriptionsJson {
        viewer,
        lists: p.lists,
        curators: p.curators,
        groups: p.groups,
        resolved,
    }))
}
