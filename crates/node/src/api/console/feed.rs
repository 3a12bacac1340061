//! A group's posts, newest first, with their text: the feed the console shows with and
//! without Vouch (the verdicts come from `decide`, as for any client).

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use vouch_reputation::{decode_stored, Body};

use super::super::extract::{PathParams, QueryParams};
use super::super::{blocking, ApiError, ApiState};
use crate::json;

/// Default page of posts.
const DEFAULT_POSTS: u64 = 200;
/// Largest page of posts.
const MAX_POSTS: u64 = 1000;
/// Longest text sent per post, in characters (the console shows a feed, not archives).
const MAX_TEXT_CHARS: usize = 2000;

/// `?offset=&limit=`.
#[derive(Debug, Deserialize)]
pub(crate) struct PageQuery {
    #[serde(default)]
    offset: u64,
    #[serde(default)]
    limit: Option<u64>,
}

/// One post.
#[derive(Debug, Serialize)]
pub(crate) struct PostJson {
    /// Its CID.
    id: String,
    /// Its author.
    author: String,
    /// When it was signed (ms since the epoch).
    at: u64,
    /// Its text (clipped).
    text: String,
    /// The post it answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    reply: Option<String>,
}

/// `GET /v1/groups/{owner}/{name}/posts` answer.
#[derive(Debug, Serialize)]
pub(crate) struct PostsJson {
    /// The group.
    group: String,
    /// The page, newest first.
    posts: Vec<PostJson>,
    /// Posts of the group the node indexes.
    total: u64,
    /// The page's start.
    offset: u64,
    /// The page's size.
    limit: u64,
}

/// `GET /v1/groups/{owner}/{name}/posts?offset=&limit=`: public, signed data (any token).
pub(crate) async fn posts(
    State(s): State<ApiState>,
    PathParams((owner, name)): PathParams<(String, String)>,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Json<PostsJson>, ApiError> {
    let g = json::parse_group("group", &format!("{owner}/{name}"))?;
    let limit = q.limit.unwrap_or(DEFAULT_POSTS);
    if limit == 0 || limit > MAX_POSTS {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "bad-query",
            format!("limit: 1 to {MAX_POSTS}"),
        ));
    }
    let engine = s.engine.clone();
    let reader = s.reader.clone();
    blocking(move || {
        let all = engine.group_posts(&g);
        let total = all.len() as u64;
        let mut posts = Vec::new();
        for (id, meta) in all
            .into_iter()
            .skip(usize::try_from(q.offset).unwrap_or(usize::MAX))
            .take(limit as usize)
        {
            let (text, reply) = match reader.get(&id) {
                Ok(Some(bytes)) => match decode_stored(&bytes).ok().map(|o| o.body().clone()) {
                    Some(Body::Post(p)) => (
                        p.text.chars().take(MAX_TEXT_CHARS).collect(),
                        p.reply.map(|r| r.to_string()),
                    ),
                    _ => (String::new(), None),
                },
                _ => (String::new(), None),
            };
            posts.push(PostJson {
                id: id.to_string(),
                author: meta.author.to_did_key(),
                at: meta.at,
                text,
                reply,
            });
        }
        Json(PostsJson {
            group: json::group_str(&g),
            posts,
            total,
            offset: q.offset,
            limit,
        })
    })
    .await
}

/// `GET /v1/lists/{owner}/{name}/appeals` answer.
#[derive(Debug, Serialize)]
pub(crate) struct ListAppealsJson {
    /// The list.
    list: String,
    /// One page: open appeals first (oldest first), then answered ones; `ban` is the
    /// contested entry.
    appeals: Vec<json::AppealJson>,
    /// Appeals in all.
    total: u64,
    /// The page's start.
    offset: u64,
    /// The page's size.
    limit: u64,
}

/// `GET /v1/lists/{owner}/{name}/appeals?offset=&limit=`: appeals against the list's
/// entries, for its curator (public, signed data: any token).
pub(crate) async fn list_appeals(
    State(s): State<ApiState>,
    PathParams((owner, name)): PathParams<(String, String)>,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Json<ListAppealsJson>, ApiError> {
    let l = json::parse_list("list", &format!("{owner}/{name}"))?;
    let limit = q.limit.unwrap_or(MAX_POSTS);
    if limit == 0 || limit > MAX_POSTS {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "bad-query",
            format!("limit: 1 to {MAX_POSTS}"),
        ));
    }
    let engine = s.engine.clone();
    let list = json::list_str(&l);
    let all = blocking(move || engine.read(|core| core.state.list_appeals(&l))).await?;
    let total = all.len() as u64;
    let appeals = all
        .iter()
        .skip(usize::try_from(q.offset).unwrap_or(usize::MAX))
        .take(limit as usize)
        .map(json::AppealJson::from)
        .collect();
    Ok(Json(ListAppealsJson {
        list,
        appeals,
        total,
        offset: q.offset,
        limit,
    }))
}
