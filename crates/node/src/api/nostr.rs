//! The Nostr endpoints (`specs/nostr.md` §7): a Nostr client's decide call (items are
//! NIP-01 events or pubkeys, the viewer an npub or hex key), Nostr viewers, events given
//! directly, and NIP-85 assertions (what the node asserts, and publishing them now).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use vouch_reputation::{Item, ObjectId, PostItem};

use super::extract::{JsonDirect, PathParams, QueryParams};
use super::{blocking, ApiError, ApiState};
use crate::json::{DecisionJson, MAX_DECIDE_ITEMS};
use crate::node::metrics::Metrics;
use crate::nostr::event::verify_event;
use crate::nostr::keys::NostrKey;
use crate::nostr::nip85::KIND_USER_ASSERTION;

fn bad_key(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "nostr.bad_key",
        format!("{what} is not a Nostr public key (npub1… or 64 lowercase hex)"),
    )
}

fn parse_key(what: &str, s: &str) -> Result<NostrKey, ApiError> {
    NostrKey::parse(s).ok_or_else(|| bad_key(what))
}

/// `GET /v1/nostr`: relays, viewers and their NIP-85 service keys.
pub(super) async fn status(State(s): State<ApiState>) -> Json<Value> {
    let relays: Vec<Value> = s
        .nostr
        .relays()
        .into_iter()
        .map(|(url, connected)| json!({"url": url, "connected": connected}))
        .collect();
    let viewers: Vec<Value> = s
        .nostr
        .viewers()
        .into_iter()
        .map(|v| viewer_json(&s, &v))
        .collect();
    Json(json!({
        "relays": relays,
        "viewers": viewers,
        "authors": s.nostr.n_authors(),
    }))
}

fn viewer_json(s: &ApiState, v: &NostrKey) -> Value {
    let service = s.nostr.service_key(v);
    json!({
        "npub": v.to_npub(),
        "pubkey": v.to_hex(),
        "viewer": v.subject().to_did_key(),
        "service_key": service.to_hex(),
        "service_npub": service.to_npub(),
        "kind_10040_tag": [format!("{KIND_USER_ASSERTION}:rank"), service.to_hex()],
    })
}

/// `POST /v1/nostr/viewers` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AddViewer {
    viewer: String,
}

/// `POST /v1/nostr/viewers`: serve a Nostr key as a viewer (the Nostr policy; kept if the
/// viewer exists) and fetch its evidence.
pub(super) async fn add_viewer(
    State(s): State<ApiState>,
    JsonDirect(req): JsonDirect<AddViewer>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = parse_key("viewer", &req.viewer)?;
    s.nostr.add_viewer(key).await?;
    Ok((StatusCode::CREATED, Json(viewer_json(&s, &key))))
}

/// `POST /v1/nostr/viewers/{viewer}/decide` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NostrDecide {
    /// Objects, each read as a [`NostrItem`] (a struct would also accept an array).
    items: Vec<Value>,
    #[serde(default)]
    explain: bool,
}

/// One item: a NIP-01 event (a note, say) or an author's key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NostrItem {
    event: Option<Value>,
    pubkey: Option<String>,
}

fn item_error(code: &str, message: impl ToString) -> Value {
    json!({"error": {"code": code, "message": message.to_string()}})
}

/// `POST /v1/nostr/viewers/{viewer}/decide`: the same verdicts and reasons as for Vouch
/// objects, with the Nostr events behind every list entry or label cited.
pub(super) async fn decide(
    State(s): State<ApiState>,
    PathParams(viewer): PathParams<String>,
    JsonDirect(req): JsonDirect<NostrDecide>,
) -> Result<Json<Value>, ApiError> {
    let key = parse_key("viewer", &viewer)?;
    let snap = s.engine.viewer_snapshot(&key.subject())?;
    if req.items.len() > MAX_DECIDE_ITEMS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "too-many-items",
            format!(
                "{} items; at most {MAX_DECIDE_ITEMS} per call",
                req.items.len()
            ),
        ));
    }
    let items = req
        .items
        .into_iter()
        .map(|v| {
            if !v.is_object() {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad-json",
                    "every item is an object: {\"event\": …} or {\"pubkey\": …}",
                ));
            }
            serde_json::from_value::<NostrItem>(v)
                .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad-json", e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let now = crate::node::clock::now_ms();
    let limits = *s.nostr.limits();
    let nostr = s.nostr.clone();
    Metrics::inc(&s.metrics.api_decide_calls_total);
    Metrics::add(&s.metrics.api_decide_items_total, items.len() as u64);
    let decisions = blocking(move || {
        items
            .into_iter()
            .map(|i| {
                let item = match (i.event, i.pubkey) {
                    (Some(ev), None) => {
                        let bytes = serde_json::to_vec(&ev).unwrap_or_default();
                        match verify_event(&bytes, &limits, now / 1000) {
                            Ok(e) => Item::Post(PostItem {
                                id: ObjectId(e.id),
                                author: NostrKey(e.pubkey).subject(),
                                at: e.created_at.saturating_mul(1000),
                                group: None,
                            }),
                            Err(e) => return item_error(e.code(), e),
                        }
                    }
                    (None, Some(pk)) => match NostrKey::parse(&pk) {
                        Some(k) => Item::author(k.subject()),
                        None => return item_error("nostr.bad_key", "not a Nostr public key"),
                    },
                    _ => return item_error("bad-item", "give exactly one of event or pubkey"),
                };
                let d = if req.explain {
                    snap.view.explain(&item, now)
                } else {
                    snap.view.decide(&item, now)
                };
                let mut cited: Vec<String> = d
                    .reasons
                    .iter()
                    .flat_map(|r| r.objects.iter())
                    .filter_map(|id| nostr.origin(id))
                    .map(hex::encode)
                    .collect();
                cited.sort();
                cited.dedup();
                let mut v = serde_json::to_value(DecisionJson::from(&d)).unwrap_or(Value::Null);
                v["nostr_events"] = json!(cited);
                v
            })
            .collect::<Vec<Value>>()
    })
    .await?;
    Ok(Json(json!({
        "viewer": key.to_npub(),
        "decisions": decisions,
    })))
}

/// `POST /v1/nostr/events`: Nostr events given directly (a client that holds them), checked
/// and applied like events from relays.
pub(super) async fn events(
    State(s): State<ApiState>,
    JsonDirect(events): JsonDirect<Vec<Value>>,
) -> Result<Json<Value>, ApiError> {
    if events.len() > MAX_DECIDE_ITEMS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "too-many-items",
            format!(
                "{} events; at most {MAX_DECIDE_ITEMS} per call",
                events.len()
            ),
        ));
    }
    let n = events.len();
    let applied = s
        .nostr
        .ingest(events.into_iter().map(|e| (usize::MAX, e)).collect())
        .await;
    Ok(Json(json!({"received": n, "applied": applied})))
}

/// What the node asserts now for a viewer (unsigned), and its service key.
pub(super) async fn assertions(
    State(s): State<ApiState>,
    PathParams(viewer): PathParams<String>,
) -> Result<Json<Value>, ApiError> {
    let key = parse_key("viewer", &viewer)?;
    let nostr = s.nostr.clone();
    let list = blocking(move || nostr.assertions(&key)).await?;
    let items: Vec<Value> = list
        .iter()
        .map(|a| json!({"pubkey": a.subject.to_hex(), "rank": a.rank, "followers": a.followers}))
        .collect();
    let mut v = viewer_json(&s, &key);
    v["assertions"] = json!(items);
    Ok(Json(v))
}

/// `?all=true` republishes every assertion, not only the changed ones.
#[derive(Debug, Deserialize)]
pub(super) struct PublishQuery {
    all: Option<bool>,
}

/// `POST /v1/nostr/viewers/{viewer}/publish`: signs and sends the assertions due now.
pub(super) async fn publish(
    State(s): State<ApiState>,
    PathParams(viewer): PathParams<String>,
    QueryParams(q): QueryParams<PublishQuery>,
) -> Result<Json<Value>, ApiError> {
    let key = parse_key("viewer", &viewer)?;
    let nostr = s.nostr.clone();
    let all = q.all.unwrap_or(false);
    let sent = blocking(move || nostr.publish(&key, all)).await?;
    Ok(Json(json!({
        "published": sent.iter().map(|e| e.to_json()).collect::<Vec<_>>(),
    })))
}
