//! Decisions and trust for one viewer: batch decide, explain one subject, trust and its
//! explanation, and what a proposed policy would change.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde::Deserialize;
use vouch_identity::PublicKey;
use vouch_reputation::{
    decode_stored, diff, CredentialLookup, Decision, Item, Limits, ObjectId, PostItem, ReasonCode,
    Subject, TrustLookup, View,
};

use super::extract::{JsonBody, JsonDirect, PathParams, QueryParams};
use super::{blocking, ApiError, ApiState};
use crate::json::{
    self, DecideRequest, DecideResponse, DecisionJson, DiffJson, ErrorJson, EvidenceJson, ItemJson,
    ItemResultJson, PolicyJson, TrustJson, TrustPathJson, MAX_DECIDE_ITEMS,
};
use crate::node::engine::{PostMeta, ViewerSnapshot};
use crate::node::metrics::Metrics;

/// Reads the `{viewer}` path parameter and finds the viewer's snapshot.
pub(super) fn viewer_snapshot(
    s: &ApiState,
    viewer: &str,
) -> Result<(PublicKey, Arc<ViewerSnapshot>), ApiError> {
    let key = json::parse_did("viewer", viewer)?;
    let snap = s.engine.viewer_snapshot(&key)?;
    Ok((key, snap))
}

fn item_error(code: &str, message: impl ToString) -> ErrorJson {
    ErrorJson {
        code: code.to_owned(),
        message: message.to_string(),
    }
}

fn post_item(id: ObjectId, meta: PostMeta) -> Item {
    Item::Post(PostItem {
        id,
        author: meta.author,
        at: meta.at,
        group: meta.group,
    })
}

/// Reads one item; a post by CID that the index does not hold is left for the store.
// Short-lived and kept in one Vec per call: boxing the item would cost an allocation each.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Parsed {
    Ready(Item),
    Lookup(ObjectId),
    Failed(ErrorJson),
    /// An inline object, validated with the batch by [`parse_items`].
    Inline,
}

/// Reads the items; inline objects are validated together (one batch verification).
pub(crate) fn parse_items(items: &[ItemJson], now: u64) -> Vec<Parsed> {
    let mut decoded: Vec<Result<Vec<u8>, ErrorJson>> = Vec::new();
    for item in items {
        if let Some(b64) = &item.object {
            decoded.push(
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|e| item_error("bad-base64", e)),
            );
        }
    }
    let ok: Vec<&[u8]> = decoded
        .iter()
        .filter_map(|d| d.as_ref().ok().map(Vec::as_slice))
        .collect();
    let mut validated = Limits::default().validate_batch(&ok, now).into_iter();
    let mut inline = decoded.into_iter().map(move |d| match d {
        Ok(_) => validated
            .next()
            .unwrap_or(Err(vouch_reputation::ValidationError::Malformed(
                "missing".into(),
            )))
            .map_err(|e| item_error(e.code(), e)),
        Err(e) => Err(e),
    });
    items
        .iter()
        .map(|item| {
            let parsed = parse_item(item);
            if item.object.is_none() {
                return parsed;
            }
            let validated = inline.next();
            match (parsed, validated) {
                (Parsed::Inline, Some(Ok(obj))) => match Item::post(&obj) {
                    Some(item) => Parsed::Ready(item),
                    None => Parsed::Failed(item_error(
                        "not-a-post",
                        format!("the object is a {}, not a post", obj.kind()),
                    )),
                },
                (Parsed::Inline, Some(Err(e))) => Parsed::Failed(e),
                (Parsed::Inline, None) => Parsed::Failed(item_error("bad-item", "no object")),
                (other, _) => other,
            }
        })
        .collect()
}

/// Reads one item; an inline object is left to [`parse_items`].
fn parse_item(item: &ItemJson) -> Parsed {
    let given = [&item.post, &item.object, &item.author]
        .iter()
        .filter(|f| f.is_some())
        .count();
    if given != 1 || (item.group.is_some() && item.author.is_none()) {
        return Parsed::Failed(item_error(
            "bad-item",
            "give exactly one of post, object or author (group only with author)",
        ));
    }
    if let Some(cid) = &item.post {
        return match json::parse_cid("post", cid) {
            Ok(id) => Parsed::Lookup(id),
            Err(e) => Parsed::Failed(item_error(e.code(), e)),
        };
    }
    if item.object.is_some() {
        return Parsed::Inline;
    }
    let author = match item.author.as_deref().map(|a| json::parse_did("author", a)) {
        Some(Ok(a)) => a,
        Some(Err(e)) => return Parsed::Failed(item_error(e.code(), e)),
        None => return Parsed::Failed(item_error("bad-item", "no item")),
    };
    let group = match item.group.as_deref().map(|g| json::parse_group("group", g)) {
        Some(Ok(g)) => Some(g),
        Some(Err(e)) => return Parsed::Failed(item_error(e.code(), e)),
        None => None,
    };
    Parsed::Ready(Item::Author { author, group })
}

/// Resolves items: posts from the engine's index, then (off the runtime) from the store.
async fn resolve_items(
    s: &ApiState,
    items: &[ItemJson],
    now: u64,
) -> Result<Vec<Result<Item, ErrorJson>>, ApiError> {
    let parsed: Vec<Parsed> = if items.iter().any(|i| i.object.is_some()) {
        // Signature verification: a costly call, off the async runtime.
        let owned = items.to_vec();
        s.limits.costly(move || parse_items(&owned, now)).await?
    } else {
        parse_items(items, now)
    };
    let ids: Vec<ObjectId> = parsed
        .iter()
        .filter_map(|p| match p {
            Parsed::Lookup(id) => Some(*id),
            _ => None,
        })
        .collect();
    let mut found = s.engine.posts(ids.iter());
    let missing: Vec<ObjectId> = ids
        .iter()
        .zip(&found)
        .filter(|(_, f)| f.is_none())
        .map(|(id, _)| *id)
        .collect();
    if !missing.is_empty() {
        let reader = s.reader.clone();
        let from_store = blocking(move || {
            missing
                .iter()
                .map(|id| {
                    let bytes = reader.get(id)?;
                    Ok((*id, bytes.and_then(|b| decode_stored(&b).ok())))
                })
                .collect::<Result<Vec<_>, crate::node::store::StoreError>>()
        })
        .await?
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.code(), e))?;
        let mut from_store = from_store.into_iter();
        for f in found.iter_mut().filter(|f| f.is_none()) {
            if let Some((_, Some(obj))) = from_store.next() {
                *f = Some(match Item::post(&obj) {
                    Some(Item::Post(p)) => PostMeta {
                        author: p.author,
                        at: p.at,
                        group: p.group,
                    },
                    _ => {
                        // Stored, but not a post: mark with the author so the error below
                        // can say so.
                        PostMeta {
                            author: *obj.author(),
                            at: u64::MAX,
                            group: None,
                        }
                    }
                });
            }
        }
    }
    let mut found = found.into_iter();
    Ok(parsed
        .into_iter()
        .map(|p| match p {
            Parsed::Ready(item) => Ok(item),
            Parsed::Failed(e) => Err(e),
            Parsed::Inline => Err(item_error("bad-item", "an inline object not validated")),
            Parsed::Lookup(id) => match found.next().flatten() {
                Some(meta) if meta.at == u64::MAX => Err(item_error(
                    "not-a-post",
                    format!("object {id} is not a post"),
                )),
                Some(meta) => Ok(post_item(id, meta)),
                None => Err(item_error(
                    "not-found",
                    format!("this node stores no post {id}"),
                )),
            },
        })
        .collect())
}

/// Adds the engine's strongest trust path to explanations whose path the snapshot could not
/// give (authors the viewer did not attest directly).
fn add_trust_paths(s: &ApiState, viewer: &PublicKey, item: &Item, d: &mut Decision) {
    let author = *item.author_key();
    let mut reasons: Vec<_> = d.reasons.iter().cloned().collect();
    let mut changed = false;
    for r in &mut reasons {
        if matches!(
            r.code,
            ReasonCode::AuthorTrusted | ReasonCode::TrustedProtected
        ) && r.trust_path.is_empty()
        {
            r.trust_path = s.engine.trust_path(viewer, &author);
            r.objects = r.trust_path.iter().map(|s| s.attest).collect();
            changed = true;
        }
    }
    if changed {
        d.reasons = reasons.into();
    }
}

/// `POST /v1/viewers/{viewer}/decide`.
pub(super) async fn decide(
    State(s): State<ApiState>,
    PathParams(viewer): PathParams<String>,
    JsonDirect(req): JsonDirect<DecideRequest>,
) -> Result<Response, ApiError> {
    let (key, snap) = viewer_snapshot(&s, &viewer)?;
    if req.items.len() > MAX_DECIDE_ITEMS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "too-many-items",
            format!(
                "{} items; at most {MAX_DECIDE_ITEMS} per call",
                req.items.len()
            ),
        )
        .limit(super::LimitHit::TooManyItems));
    }
    let now = crate::node::clock::now_ms();
    let items = resolve_items(&s, &req.items, now).await?;
    Metrics::inc(&s.metrics.api_decide_calls_total);
    Metrics::add(&s.metrics.api_decide_items_total, items.len() as u64);
    let decisions = if req.explain {
        let s2 = s.clone();
        let snap2 = snap.clone();
        s.limits
            .costly(move || {
                items
                    .into_iter()
                    .map(|i| match i {
                        Ok(item) => {
                            let mut d = snap2.view.explain(&item, now);
                            add_trust_paths(&s2, &key, &item, &mut d);
                            ItemResultJson::Decision(DecisionJson::from(&d))
                        }
                        Err(error) => ItemResultJson::Error { error },
                    })
                    .collect()
            })
            .await?
    } else {
        items
            .into_iter()
            .map(|i| match i {
                Ok(item) => {
                    ItemResultJson::Decision(DecisionJson::from(&snap.view.decide(&item, now)))
                }
                Err(error) => ItemResultJson::Error { error },
            })
            .collect()
    };
    let answer = DecideResponse {
        viewer,
        seq: s.engine.reflects(&snap),
        built_at: snap.view.built_at(),
        decisions,
    };
    // Sized up front: an answer is a few hundred bytes per item.
    let mut body = Vec::with_capacity(256 + 320 * answer.decisions.len());
    serde_json::to_writer(&mut body, &answer)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `?group=<owner>/<name>`.
#[derive(Debug, Deserialize)]
pub(super) struct GroupQuery {
    group: Option<String>,
}

/// `GET /v1/viewers/{viewer}/explain/{subject}`: every reason for one author or post.
pub(super) async fn explain(
    State(s): State<ApiState>,
    PathParams((viewer, subject)): PathParams<(String, String)>,
    QueryParams(q): QueryParams<GroupQuery>,
) -> Result<Json<DecisionJson>, ApiError> {
    let (key, snap) = viewer_snapshot(&s, &viewer)?;
    let item = match json::parse_subject("subject", &subject)? {
        Subject::Key(author) => ItemJson {
            author: Some(author.to_did_key()),
            group: q.group,
            ..ItemJson::default()
        },
        Subject::Object(id) => {
            if q.group.is_some() {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad-item",
                    "group applies to authors only (a post names its own group)",
                ));
            }
            ItemJson {
                post: Some(id.to_string()),
                ..ItemJson::default()
            }
        }
    };
    let now = crate::node::clock::now_ms();
    let item = match resolve_items(&s, &[item], now).await?.pop() {
        Some(Ok(item)) => item,
        Some(Err(e)) => {
            let status = if e.code == "not-found" {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::BAD_REQUEST
            };
            return Err(ApiError::new(status, &e.code, e.message));
        }
        None => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad-item",
                "no item",
            ))
        }
    };
    let limits = s.limits.clone();
    let d = limits
        .costly(move || {
            let mut d = snap.view.explain(&item, now);
            add_trust_paths(&s, &key, &item, &mut d);
            d
        })
        .await?;
    Ok(Json(DecisionJson::from(&d)))
}

/// `GET /v1/viewers/{viewer}/trust/{subject}`: the viewer's trust in an author, with the
/// strongest paths and the heaviest evidence.
pub(super) async fn trust(
    State(s): State<ApiState>,
    PathParams((viewer, subject)): PathParams<(String, String)>,
) -> Result<Json<TrustJson>, ApiError> {
    let (key, snap) = viewer_snapshot(&s, &viewer)?;
    let author = json::parse_did("subject", &subject)?;
    let direct = snap.trust.trust(&author).is_some_and(|t| t.direct);
    let engine = s.engine.clone();
    let out = s
        .limits
        .costly(move || {
            engine.read(|core| {
                let view = core.trust_view(&key)?;
                let score = view.score(&core.graph, author.as_bytes());
                let explanation = view.explain(&core.graph, author.as_bytes());
                Some((score, explanation))
            })
        })
        .await?;
    let (score, explanation) = out.unwrap_or((None, None));
    let score = score.unwrap_or_default();
    let (paths, positive, negative) = match &explanation {
        Some(e) => (
            e.paths.iter().map(TrustPathJson::from).collect(),
            e.positive.iter().map(EvidenceJson::from).collect(),
            e.negative.iter().map(EvidenceJson::from).collect(),
        ),
        None => (Vec::new(), Vec::new(), Vec::new()),
    };
    let f = |x: f64| if x.is_finite() { x } else { 0.0 };
    Ok(Json(TrustJson {
        viewer,
        subject: author.to_did_key(),
        known: explanation.is_some(),
        score: f(score.score),
        reach: f(score.reach),
        trust: f(score.trust),
        positive: f(score.positive),
        negative: f(score.negative),
        direct,
        paths,
        positive_evidence: positive,
        negative_evidence: negative,
    }))
}

/// `POST /v1/viewers/{viewer}/diff`: what the proposed policy would change against the
/// viewer's current view (a read: nothing is stored).
pub(super) async fn diff_policy(
    State(s): State<ApiState>,
    PathParams(viewer): PathParams<String>,
    JsonBody(proposed): JsonBody<PolicyJson>,
) -> Result<Json<DiffJson>, ApiError> {
    let (key, snap) = viewer_snapshot(&s, &viewer)?;
    let (policy, _) = proposed.to_policy(key)?;
    let engine = s.engine.clone();
    let d = s
        .limits
        .costly(move || {
            let now = crate::node::clock::now_ms();
            // Both views from the same state, so that only the policy differs.
            engine.read(|core| {
                let trust = || -> Arc<dyn TrustLookup> { snap.trust.clone() };
                let facts = engine.identity().facts();
                let credentials = || -> Arc<dyn CredentialLookup> { facts.clone() };
                let seed = crate::node::seed::view_seed();
                let before: View<'static> = View::build_with_seed(
                    &core.state,
                    &snap.info.policy,
                    trust(),
                    credentials(),
                    now,
                    seed,
                );
                let after: View<'static> =
                    View::build_with_seed(&core.state, &policy, trust(), credentials(), now, seed);
                diff(&before, &after, now)
            })
        })
        .await?;
    Ok(Json(DiffJson::from(&d)))
}
