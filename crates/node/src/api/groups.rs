//! What group owners, moderators and list curators read: a group's header, moderators, bans,
//! report queue and appeals; a list's header and entries.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use vouch_identity::PublicKey;
use vouch_reputation::{AppealState, EntryStatus, GroupRef, ListRef};

use super::extract::{PathParams, QueryParams};
use super::{blocking, ApiError, ApiState};
use crate::json::{
    self, AppealJson, AppealsJson, BanJson, BansJson, EquivocationJson, GroupHeaderJson, GroupJson,
    ListEntryJson, ListHeaderJson, ListJson, ReportJson, ReportsJson,
};

/// Default page size of list entries.
pub(crate) const DEFAULT_ENTRIES_PAGE: u64 = 1000;
/// Largest page size of list entries.
pub(crate) const MAX_ENTRIES_PAGE: u64 = 10_000;

fn group_ref(owner: &str, name: &str) -> Result<GroupRef, ApiError> {
    Ok(json::parse_group("group", &format!("{owner}/{name}"))?)
}

fn not_found(what: &str, name: String) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        &format!("{what}-not-found"),
        format!("this node knows nothing about {what} {name}"),
    )
}

fn equivocations(e: Vec<vouch_reputation::Equivocation>) -> Vec<EquivocationJson> {
    e.into_iter()
        .map(|e| EquivocationJson {
            seq: e.seq,
            versions: e.versions.iter().map(ToString::to_string).collect(),
        })
        .collect()
}

/// `GET /v1/groups/{owner}/{name}`.
pub(super) async fn group(
    State(s): State<ApiState>,
    PathParams((owner, name)): PathParams<(String, String)>,
) -> Result<Json<GroupJson>, ApiError> {
    let g = group_ref(&owner, &name)?;
    let engine = s.engine.clone();
    let out = blocking(move || {
        let now = crate::node::clock::now_ms();
        engine.read(|core| {
            let st = &core.state;
            let header = st.group_header(&g);
            let reports = st.reports_queue(&g, now);
            let appeals = st.appeals_queue(&g);
            let ban_lists: Vec<&ListRef> = core
                .ban_lists
                .get(&g)
                .into_iter()
                .flatten()
                .filter(|l| {
                    st.list_header(l)
                        .is_some_and(|(_, h)| h.body.group.as_ref() == Some(&g))
                })
                .collect();
            if header.is_none() && reports.is_empty() && ban_lists.is_empty() {
                return None;
            }
            let mut moderators: Vec<PublicKey> = vec![g.owner];
            if let Some((_, h)) = header {
                moderators.extend(h.moderators.iter().copied());
            }
            moderators.dedup();
            Some(GroupJson {
                group: json::group_str(&g),
                header: header.map(|(id, h)| GroupHeaderJson {
                    id: id.to_string(),
                    seq: h.seq,
                    rules: h.rules.clone(),
                    min_trust: h.policy.min_trust,
                    vote_budget: h.policy.vote_budget,
                    credential_issuer: h.policy.credential_issuer.clone(),
                    personhood_votes: h.policy.personhood_votes,
                }),
                moderators: moderators.iter().map(json::did).collect(),
                equivocations: equivocations(st.group_equivocations(&g)),
                ban_lists: ban_lists.into_iter().map(json::list_str).collect(),
                banned: st.banned_subjects(&g, now).len() as u64,
                reported: reports.len() as u64,
                open_reports: reports.iter().filter(|r| r.is_open()).count() as u64,
                open_appeals: appeals
                    .iter()
                    .filter(|a| a.state == AppealState::Open)
                    .count() as u64,
            })
        })
    })
    .await?;
    out.map(Json)
        .ok_or_else(|| not_found("group", format!("{owner}/{name}")))
}

/// `?offset=&limit=` to `(offset, limit)`; `400 bad-query` for a limit outside
/// 1..=[`MAX_ENTRIES_PAGE`].
fn page(p: &Page) -> Result<(u64, u64), ApiError> {
    let limit = p.limit.unwrap_or(DEFAULT_ENTRIES_PAGE);
    if limit == 0 || limit > MAX_ENTRIES_PAGE {
        let e = ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad-query",
            format!("limit must be 1..={MAX_ENTRIES_PAGE}"),
        );
        // Only a page over the largest is a limit hit; `limit=0` is a plain bad query.
        return Err(if limit > MAX_ENTRIES_PAGE {
            e.limit(super::LimitHit::PageTooLarge)
        } else {
            e
        });
    }
    Ok((p.offset.unwrap_or(0), limit))
}

/// One page of `all`.
fn slice<T>(all: Vec<T>, offset: u64, limit: u64) -> (u64, Vec<T>) {
    let total = all.len() as u64;
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    let n = usize::try_from(limit).unwrap_or(usize::MAX);
    (total, all.into_iter().skip(start).take(n).collect())
}

/// `GET /v1/groups/{owner}/{name}/bans`: one page of the bans in force.
pub(super) async fn bans(
    State(s): State<ApiState>,
    PathParams((owner, name)): PathParams<(String, String)>,
    QueryParams(p): QueryParams<Page>,
) -> Result<Json<BansJson>, ApiError> {
    let (offset, limit) = page(&p)?;
    let g = group_ref(&owner, &name)?;
    let engine = s.engine.clone();
    let group = json::group_str(&g);
    let bans = blocking(move || {
        let now = crate::node::clock::now_ms();
        engine.read(|core| core.state.banned_subjects(&g, now))
    })
    .await?;
    let (total, bans) = slice(bans.into_iter().collect(), offset, limit);
    Ok(Json(BansJson {
        group,
        bans: bans
            .iter()
            .map(|(subject, ban)| BanJson {
                subject: json::subject_str(subject),
                ban: ban.to_string(),
            })
            .collect(),
        total,
        offset,
        limit,
    }))
}

/// `GET /v1/groups/{owner}/{name}/reports`: one page of the report queue, most reported
/// first.
pub(super) async fn reports(
    State(s): State<ApiState>,
    PathParams((owner, name)): PathParams<(String, String)>,
    QueryParams(q): QueryParams<ReportsQuery>,
) -> Result<Json<ReportsJson>, ApiError> {
    let (offset, limit) = page(&Page {
        offset: q.offset,
        limit: q.limit,
    })?;
    let keep: fn(&vouch_reputation::ReportQueueItem) -> bool = match q.state.as_deref() {
        None | Some("all") => |_| true,
        Some("open") => |r| r.is_open(),
        Some("dismissed") => |r| !r.is_open(),
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad-query",
                format!("state {other:?}: open, dismissed or all"),
            ))
        }
    };
    let g = group_ref(&owner, &name)?;
    let engine = s.engine.clone();
    let group = json::group_str(&g);
    let queue = blocking(move || {
        let now = crate::node::clock::now_ms();
        engine.read(|core| core.state.reports_queue(&g, now))
    })
    .await?;
    let queue: Vec<_> = queue.into_iter().filter(keep).collect();
    let (total, queue) = slice(queue, offset, limit);
    Ok(Json(ReportsJson {
        group,
        reports: queue.iter().map(ReportJson::from).collect(),
        total,
        offset,
        limit,
    }))
}

/// `GET /v1/groups/{owner}/{name}/appeals`: one page of the appeals, open ones first.
pub(super) async fn appeals(
    State(s): State<ApiState>,
    PathParams((owner, name)): PathParams<(String, String)>,
    QueryParams(p): QueryParams<Page>,
) -> Result<Json<AppealsJson>, ApiError> {
    let (offset, limit) = page(&p)?;
    let g = group_ref(&owner, &name)?;
    let engine = s.engine.clone();
    let group = json::group_str(&g);
    let queue = blocking(move || engine.read(|core| core.state.appeals_queue(&g))).await?;
    let (total, queue) = slice(queue, offset, limit);
    Ok(Json(AppealsJson {
        group,
        appeals: queue.iter().map(AppealJson::from).collect(),
        total,
        offset,
        limit,
    }))
}

/// `?offset=&limit=&state=` for the report queue: `state` is `open` (a report no moderator
/// dismissed), `dismissed` or `all` (the default).
#[derive(Debug, Deserialize)]
pub(super) struct ReportsQuery {
    offset: Option<u64>,
    limit: Option<u64>,
    state: Option<String>,
}

/// `?offset=&limit=` for pages of bans, reports, appeals and list entries.
#[derive(Debug, Deserialize)]
pub(super) struct Page {
    offset: Option<u64>,
    limit: Option<u64>,
}

/// `GET /v1/lists/{owner}/{name}`: the header in force and one page of entries with their
/// status now.
pub(super) async fn list(
    State(s): State<ApiState>,
    PathParams((owner, name)): PathParams<(String, String)>,
    QueryParams(page): QueryParams<Page>,
) -> Result<Json<ListJson>, ApiError> {
    let (curator, name_s) = json::parse_ref("list", &format!("{owner}/{name}"))?;
    let l = ListRef {
        owner: curator,
        name: name_s,
    };
    let (offset, limit) = self::page(&page)?;
    let engine = s.engine.clone();
    let out = blocking(move || {
        let now = crate::node::clock::now_ms();
        engine.read(|core| {
            let st = &core.state;
            let state = st.list(&l)?;
            let may_write = |a: &PublicKey, at: u64| st.may_write(&l, a, at);
            let mut counts = std::collections::BTreeMap::new();
            for name in ["live", "expired", "retracted", "unauthorized"] {
                counts.insert(name.to_owned(), 0u64);
            }
            let mut entries = Vec::new();
            let mut total = 0u64;
            for (i, (id, e, status)) in state.entries(&may_write, now).enumerate() {
                total += 1;
                let (status_name, retracted_by) = match status {
                    EntryStatus::Live => ("live", Vec::new()),
                    EntryStatus::Expired => ("expired", Vec::new()),
                    EntryStatus::Retracted(by) => ("retracted", by),
                    EntryStatus::Unauthorized => ("unauthorized", Vec::new()),
                };
                *counts.entry(status_name.to_owned()).or_insert(0) += 1;
                let i = i as u64;
                if i >= offset && i < offset.saturating_add(limit) {
                    entries.push(ListEntryJson {
                        id: id.to_string(),
                        subject: json::subject_str(&e.subject),
                        author: json::did(&e.author),
                        at: e.at,
                        reason: e.reason.clone(),
                        category: e.category.clone(),
                        expires: e.expires,
                        status: status_name.to_owned(),
                        retracted_by: retracted_by.iter().map(ToString::to_string).collect(),
                    });
                }
            }
            Some(ListJson {
                list: json::list_str(&l),
                curator: json::did(&l.owner),
                header: st.list_header(&l).map(|(id, h)| ListHeaderJson {
                    id: id.to_string(),
                    seq: h.body.seq,
                    purpose: h.body.purpose.as_str().to_owned(),
                    description: h.body.description.clone(),
                    group: h.body.group.as_ref().map(json::group_str),
                    at: h.at,
                }),
                equivocations: equivocations(st.list_equivocations(&l)),
                counts,
                total,
                offset,
                limit,
                entries,
            })
        })
    })
    .await?;
    out.map(Json)
        .ok_or_else(|| not_found("list", format!("{owner}/{name}")))
}
