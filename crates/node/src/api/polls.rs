//! Village votes as this node counts them: a poll and its tally (`GET /v1/polls/{cid}`), a
//! group's polls (`GET /v1/groups/{owner}/{name}/polls`) and the rules in force after the
//! village's amendments (`GET /v1/groups/{owner}/{name}/rules`).
//!
//! Tallies read the node's ballot checker: proofs are verified on background threads as
//! ballots arrive, so a tally never waits for one; ballots still waiting are counted in
//! `pending` (and listed as `personhood-pending`), and the tally includes them once checked.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use vouch_reputation::{GroupRef, ObjectId};

use super::extract::PathParams;
use super::{blocking, ApiError, ApiState};
use crate::json::{self, GroupRulesJson, PollJson, PollsJson};

fn group_ref(owner: &str, name: &str) -> Result<GroupRef, ApiError> {
    Ok(json::parse_group("group", &format!("{owner}/{name}"))?)
}

/// `GET /v1/polls/{cid}`.
pub(super) async fn poll(
    State(s): State<ApiState>,
    PathParams(cid): PathParams<String>,
) -> Result<Json<PollJson>, ApiError> {
    let id: ObjectId = json::parse_cid("poll", &cid)?;
    let engine = s.engine.clone();
    let out = blocking(move || {
        let now = crate::node::clock::now_ms();
        engine.read(|core| {
            let p = core.state.poll(&id)?;
            let tally = engine.identity().poll_result(&core.state, &id, now);
            Some(PollJson::new(&id, p, tally))
        })
    })
    .await?;
    out.map(Json).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "poll-unknown",
            format!("this node has not received poll {cid}"),
        )
    })
}

/// `GET /v1/groups/{owner}/{name}/polls`.
pub(super) async fn group_polls(
    State(s): State<ApiState>,
    PathParams((owner, name)): PathParams<(String, String)>,
) -> Result<Json<PollsJson>, ApiError> {
    let g = group_ref(&owner, &name)?;
    let engine = s.engine.clone();
    let out = blocking(move || {
        let now = crate::node::clock::now_ms();
        engine.read(|core| {
            let mut polls: Vec<PollJson> = core
                .state
                .polls_in(&g)
                .into_iter()
                .map(|(id, p)| {
                    let tally = engine.identity().poll_result(&core.state, &id, now);
                    PollJson::new(&id, p, tally)
                })
                .collect();
            polls.sort_by(|a, b| b.closes.cmp(&a.closes).then(a.poll.cmp(&b.poll)));
            PollsJson {
                group: json::group_str(&g),
                polls,
            }
        })
    })
    .await?;
    Ok(Json(out))
}

/// `GET /v1/groups/{owner}/{name}/rules`.
pub(super) async fn rules(
    State(s): State<ApiState>,
    PathParams((owner, name)): PathParams<(String, String)>,
) -> Result<Json<GroupRulesJson>, ApiError> {
    let g = group_ref(&owner, &name)?;
    let engine = s.engine.clone();
    let out = blocking(move || {
        let now = crate::node::clock::now_ms();
        engine.read(|core| {
            let identity = engine.identity();
            let check = identity.personhood();
            let rules = core.state.group_rules(&g, now, check.as_deref())?;
            // Ballots of the village's closed amendment polls still being verified.
            let pending = if rules.village.is_empty() {
                0
            } else {
                core.state
                    .polls_in(&g)
                    .into_iter()
                    .filter(|(_, p)| p.body.amend.is_some() && p.body.closes <= now)
                    .filter_map(|(id, _)| identity.poll_result(&core.state, &id, now).ok())
                    .map(|(_, pending)| pending)
                    .sum()
            };
            Some(GroupRulesJson::new(&g, &rules, pending))
        })
    })
    .await?;
    out.map(Json).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "group-not-found",
            format!("this node has no header of group {owner}/{name}"),
        )
    })
}
