//! The viewer's event stream (Server-Sent Events): `ready` once subscribed, `object` for new
//! objects about the viewer's groups, `list-change` with the per-viewer diff when lists,
//! bans or the policy changed, `lagged` when the stream fell behind. Bounded: at most
//! [`MAX_EVENT_STREAMS`] streams at once and `api_limits.streams_per_token` per token, each
//! reading a bounded broadcast.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, Stream};
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use vouch_identity::PublicKey;

use super::auth::Principal;
use super::decide::viewer_snapshot;
use super::extract::PathParams;
use super::limits::StreamSlot;
use super::{ApiError, ApiState};
use crate::json::{
    self, DiffJson, LaggedEventJson, ListChangeEventJson, ObjectEventJson, ReadyEventJson,
};
use crate::node::engine::{Engine, Event};
use crate::node::metrics::Metrics;

/// Most event streams open at once.
pub(crate) const MAX_EVENT_STREAMS: u64 = 64;

/// Counts an open stream while it lives.
struct StreamGuard(Arc<Metrics>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.event_streams.fetch_sub(1, Ordering::Relaxed);
    }
}

fn sse<T: Serialize>(name: &str, data: &T) -> SseEvent {
    SseEvent::default()
        .event(name)
        .data(serde_json::to_string(data).unwrap_or_else(|_| "{}".to_owned()))
}

/// `GET /v1/viewers/{viewer}/events`.
pub(super) async fn events(
    State(s): State<ApiState>,
    Extension(who): Extension<Principal>,
    PathParams(viewer): PathParams<String>,
) -> Result<Response, ApiError> {
    let (key, snap) = viewer_snapshot(&s, &viewer)?;
    let slot = s.limits.open_stream(&who)?;
    let open = s.metrics.event_streams.fetch_add(1, Ordering::Relaxed);
    let guard = StreamGuard(s.metrics.clone());
    if open >= MAX_EVENT_STREAMS {
        Metrics::inc(&s.metrics.limit_exceeded_total);
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too-many-streams",
            format!("at most {MAX_EVENT_STREAMS} event streams at once"),
        ));
    }
    let rx = s.engine.subscribe();
    let ready = sse(
        "ready",
        &ReadyEventJson {
            viewer: viewer.clone(),
            seq: s.engine.reflects(&snap),
        },
    );
    let state = Follow {
        rx,
        engine: s.engine.clone(),
        viewer: key,
        metrics: s.metrics.clone(),
        _guard: guard,
        _slot: slot,
    };
    let body = stream::once(async move { Ok::<_, Infallible>(ready) }).chain(follow(state));
    Ok(Sse::new(body)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

struct Follow {
    rx: tokio::sync::broadcast::Receiver<Arc<Event>>,
    engine: Engine,
    viewer: PublicKey,
    metrics: Arc<Metrics>,
    _guard: StreamGuard,
    _slot: StreamSlot,
}

use futures::StreamExt as _;

/// The events for one viewer; ends when the viewer is deleted or the engine stops.
fn follow(state: Follow) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    stream::unfold(state, |mut st| async move {
        loop {
            match st.rx.recv().await {
                Ok(event) => {
                    if let Some(e) = render(&st, &event) {
                        return Some((Ok(e), st));
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    Metrics::add(&st.metrics.events_lagged_total, n);
                    return Some((Ok(sse("lagged", &LaggedEventJson { missed: n })), st));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    })
}

fn render(st: &Follow, event: &Event) -> Option<SseEvent> {
    match event {
        Event::Object {
            id,
            kind,
            author,
            at,
            group,
        } => {
            let snap = st.engine.snapshot(&st.viewer)?;
            if !snap.info.groups.contains(group) {
                return None;
            }
            Some(sse(
                "object",
                &ObjectEventJson {
                    id: id.to_string(),
                    kind: (*kind).to_owned(),
                    author: json::did(author),
                    at: *at,
                    group: json::group_str(group),
                },
            ))
        }
        Event::ListChange { viewer, diff, seq } if *viewer == st.viewer => {
            let d = DiffJson::from(diff);
            Some(sse(
                "list-change",
                &ListChangeEventJson {
                    viewer: json::did(viewer),
                    seq: *seq,
                    sentences: d.sentences,
                    changes: d.changes,
                    lists: d.lists,
                },
            ))
        }
        Event::ListChange { .. } => None,
    }
}
