//! Extractors whose rejections are the API's JSON errors (axum's own answer in plain text),
//! and the parsing of path parameters into keys, CIDs and references. A body must come with
//! the content type its extractor reads (`415 unsupported-media-type` otherwise) and arrive
//! within the guard's body timeout (`408 body-timeout`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use super::guard::Guard;
use super::ApiError;
use crate::json::JsonError;

/// Content types of JSON bodies.
const JSON_TYPES: &[&str] = &["application/json"];
/// Content types of object bodies (DAG-CBOR).
const CBOR_TYPES: &[&str] = &["application/vnd.ipld.dag-cbor", "application/cbor"];
/// Body timeout when no guard set one (routers built without it, in tests).
const DEFAULT_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Reads the whole body if it has one of the `types` and arrives in time.
async fn body_of<S: Send + Sync>(
    req: Request,
    state: &S,
    types: &[&str],
) -> Result<Bytes, ApiError> {
    let essence = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    let guard = req.extensions().get::<Arc<Guard>>().cloned();
    if !essence.as_deref().is_some_and(|e| types.contains(&e)) {
        if let Some(g) = &guard {
            g.media_type_refused();
        }
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            format!(
                "the body must be {} (Content-Type: {})",
                types.join(" or "),
                essence.as_deref().unwrap_or("none")
            ),
        ));
    }
    let timeout = guard
        .as_ref()
        .map_or(DEFAULT_BODY_TIMEOUT, |g| g.body_timeout);
    match tokio::time::timeout(timeout, Bytes::from_request(req, state)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(body_error(e.status(), e.body_text())),
        Err(_) => {
            if let Some(g) = guard {
                g.body_timed_out();
            }
            Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body-timeout",
                format!("the body did not arrive within {} s", timeout.as_secs()),
            ))
        }
    }
}

/// A JSON request body; malformed JSON is `400 bad-json`, an oversize body `413`.
#[derive(Debug)]
pub(super) struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_of(req, state, JSON_TYPES).await?;
        let bad = |e: String| ApiError::new(StatusCode::BAD_REQUEST, "bad-json", e);
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        objects_as_objects(&value, "body").map_err(bad)?;
        serde_json::from_value(value)
            .map(JsonBody)
            .map_err(|e| bad(e.to_string()))
    }
}

/// Fields of request bodies whose value is an object.
const OBJECT_FIELDS: [&str; 4] = ["policy", "quorum", "votes", "label_verdicts"];

/// Serde reads a struct from a JSON array too (`[1, 2.0]` for `{"a": 1, "b": 2.0}`); the API
/// documents objects only. No request body has an array where an object belongs: not at the
/// root, not inside an array, not in the fields above.
fn objects_as_objects(v: &serde_json::Value, at: &str) -> Result<(), String> {
    use serde_json::Value;
    match v {
        Value::Array(items) => {
            if at == "body" {
                return Err("the body must be a JSON object".into());
            }
            for item in items {
                if item.is_array() {
                    return Err(format!("{at}: an array inside an array"));
                }
                objects_as_objects(item, at)?;
            }
        }
        Value::Object(fields) => {
            for (k, v) in fields {
                if v.is_array() && OBJECT_FIELDS.contains(&k.as_str()) {
                    return Err(format!("{k} must be an object"));
                }
                objects_as_objects(v, k)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A JSON request body parsed in one pass, for types whose `Deserialize` reads objects
/// only (the decide request, on the hot path).
#[derive(Debug)]
pub(super) struct JsonDirect<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonDirect<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_of(req, state, JSON_TYPES).await?;
        serde_json::from_slice(&bytes)
            .map(JsonDirect)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad-json", e))
    }
}

/// A DAG-CBOR request body (`application/vnd.ipld.dag-cbor` or `application/cbor`), with
/// the API's errors.
#[derive(Debug)]
pub(super) struct CborBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for CborBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        body_of(req, state, CBOR_TYPES).await.map(CborBody)
    }
}

fn body_error(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(status, "payload-too-large", text).limit(super::LimitHit::BodyTooLarge)
    } else {
        ApiError::new(StatusCode::BAD_REQUEST, "bad-body", text)
    }
}

/// Path parameters, with the API's errors.
#[derive(Debug)]
pub(super) struct PathParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(t)| PathParams(t))
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad-path", e.body_text()))
    }
}

/// Query parameters, with the API's errors.
#[derive(Debug)]
pub(super) struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(t)| QueryParams(t))
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad-query", e.body_text()))
    }
}

impl From<JsonError> for ApiError {
    fn from(e: JsonError) -> Self {
        let status = match e {
            JsonError::Policy(_) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, e.code(), &e)
    }
}
