//! What the node signs for an admin session (or the admin token): the console's moderator
//! and curator actions (ban = an entry on the group's ban list, unban = a `list-remove`,
//! list entries, report dismissals, appeal answers), with a key of the local key folder, named by the caller.
//! The node never signs for a viewer token or a viewer session: whoever can make it sign
//! already holds the admin token, which is as private as the key folder (same owner,
//! owner-only files).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use vouch_identity::{read_key_file, SecretKey};
use vouch_reputation::{
    AppealBody, AppealOutcome, Body, DismissBody, ListAddBody, ListRemoveBody, Object, ObjectId,
};

use super::super::extract::JsonBody;
use super::super::{blocking, ApiError, ApiState};
use crate::json;
use crate::node::ingest::IngestError;

/// Most keys listed from the key folder.
const MAX_KEYS: usize = 1000;
/// Most adds one `list-remove` retracts from the console.
const MAX_ADDS: usize = 256;
/// Longest free text (reason, category, answer) the console signs, in bytes.
const MAX_TEXT_BYTES: usize = 2000;

/// A key of the local key folder.
#[derive(Debug, Serialize)]
pub(crate) struct KeyJson {
    /// Its local name (the file is `<name>.key`).
    name: String,
    /// Its public key.
    did: String,
}

/// `GET /v1/console/keys` answer.
#[derive(Debug, Serialize)]
pub(crate) struct KeysJson {
    /// The folder.
    key_dir: String,
    /// Its keys, by name.
    keys: Vec<KeyJson>,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `GET /v1/console/keys` (admin): the keys the node can sign with.
pub(crate) async fn keys(State(s): State<ApiState>) -> Result<Json<KeysJson>, ApiError> {
    let dir = s.console.key_dir.clone();
    blocking(move || {
        let mut keys = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let path = e.path();
                let Some(name) = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".key"))
                else {
                    continue;
                };
                if !valid_name(name) {
                    continue;
                }
                if let Ok(k) = read_key_file(&path) {
                    keys.push(KeyJson {
                        name: name.to_owned(),
                        did: k.public_key().to_did_key(),
                    });
                }
                if keys.len() >= MAX_KEYS {
                    break;
                }
            }
        }
        keys.sort_by(|a, b| a.name.cmp(&b.name));
        Json(KeysJson {
            key_dir: dir.display().to_string(),
            keys,
        })
    })
    .await
}

/// What to sign.
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) enum ActionJson {
    /// An entry on a list (a ban when the list is a group's ban list).
    ListAdd {
        /// The local key's name.
        key: String,
        /// `<owner>/<name>`.
        list: String,
        /// A `did:key` or a post's CID.
        subject: String,
        /// Why.
        #[serde(default)]
        reason: Option<String>,
        /// spam, harassment, …
        #[serde(default)]
        category: Option<String>,
        /// When it ends (ms since the epoch).
        #[serde(default)]
        expires: Option<u64>,
    },
    /// Retracts entries (an unban on a ban list).
    ListRemove {
        /// The local key's name.
        key: String,
        /// `<owner>/<name>`.
        list: String,
        /// The `list-add` objects retracted.
        adds: Vec<String>,
    },
    /// Dismisses reports sent to a group (no action taken on them).
    Dismiss {
        /// The local key's name (the group's owner or a moderator).
        key: String,
        /// `<owner>/<name>`.
        group: String,
        /// The reports dismissed (CIDs).
        reports: Vec<String>,
        /// Why.
        #[serde(default)]
        text: Option<String>,
    },
    /// Answers an appeal.
    AppealAnswer {
        /// The local key's name.
        key: String,
        /// The appeal's CID.
        appeal: String,
        /// `upheld` or `granted`.
        outcome: String,
        /// The answer.
        #[serde(default)]
        text: Option<String>,
    },
}

/// `POST /v1/console/sign` answer.
#[derive(Debug, Serialize)]
pub(crate) struct SignedJson {
    /// The signed object's CID.
    id: String,
    /// Its kind.
    kind: &'static str,
    /// Its author (the key's public key).
    author: String,
    /// Whether it was new to the node.
    new: bool,
}

fn bad(code: &str, message: impl ToString) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

fn text(field: &str, t: Option<String>) -> Result<Option<String>, ApiError> {
    match t.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) {
        Some(t) if t.len() > MAX_TEXT_BYTES => Err(bad(
            "bad-body",
            format!("{field}: at most {MAX_TEXT_BYTES} bytes"),
        )),
        other => Ok(other),
    }
}

fn cid(field: &'static str, s: &str) -> Result<ObjectId, ApiError> {
    Ok(json::parse_cid(field, s)?)
}

/// The key name and the body of an action, checked.
fn body_of(action: ActionJson) -> Result<(String, Body), ApiError> {
    Ok(match action {
        ActionJson::ListAdd {
            key,
            list,
            subject,
            reason,
            category,
            expires,
        } => (
            key,
            Body::ListAdd(ListAddBody {
                list: json::parse_list("list", &list)?,
                subject: json::parse_subject("subject", &subject)?,
                reason: text("reason", reason)?,
                category: text("category", category)?,
                expires,
            }),
        ),
        ActionJson::ListRemove { key, list, adds } => {
            if adds.is_empty() || adds.len() > MAX_ADDS {
                return Err(bad(
                    "bad-body",
                    format!("adds: 1 to {MAX_ADDS} list-add CIDs"),
                ));
            }
            (
                key,
                Body::ListRemove(ListRemoveBody {
                    list: json::parse_list("list", &list)?,
                    adds: adds
                        .iter()
                        .map(|a| cid("adds", a))
                        .collect::<Result<_, _>>()?,
                }),
            )
        }
        ActionJson::Dismiss {
            key,
            group,
            reports,
            text: why,
        } => {
            if reports.is_empty() || reports.len() > MAX_ADDS {
                return Err(bad(
                    "bad-body",
                    format!("reports: 1 to {MAX_ADDS} report CIDs"),
                ));
            }
            (
                key,
                Body::Dismiss(DismissBody {
                    group: json::parse_group("group", &group)?,
                    reports: reports
                        .iter()
                        .map(|r| cid("reports", r))
                        .collect::<Result<_, _>>()?,
                    text: text("text", why)?,
                }),
            )
        }
        ActionJson::AppealAnswer {
            key,
            appeal,
            outcome,
            text: answer,
        } => (
            key,
            Body::Appeal(AppealBody {
                target: cid("appeal", &appeal)?,
                text: text("text", answer)?,
                outcome: Some(match outcome.as_str() {
                    "upheld" => AppealOutcome::Upheld,
                    "granted" => AppealOutcome::Granted,
                    other => {
                        return Err(bad(
                            "bad-body",
                            format!("outcome {other:?}: upheld or granted"),
                        ))
                    }
                }),
            }),
        ),
    })
}

/// `POST /v1/console/sign` (admin only: the access table's default): signs the action with
/// the named key of the local key folder, stores and publishes it like `POST /v1/objects`.
pub(crate) async fn sign(
    State(s): State<ApiState>,
    JsonBody(action): JsonBody<ActionJson>,
) -> Result<(StatusCode, Json<SignedJson>), ApiError> {
    let (key, body) = body_of(action)?;
    if !valid_name(&key) {
        return Err(bad(
            "bad-key-name",
            "a key's local name: letters, digits, '-' and '_'",
        ));
    }
    let path = s.console.key_dir.join(format!("{key}.key"));
    let sk: SecretKey = blocking(move || read_key_file(&path)).await?.map_err(|e| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "key-not-found",
            format!("no usable key {key:?} in the node's key folder: {e}"),
        )
    })?;
    let obj = Object {
        author: sk.public_key(),
        at: crate::node::clock::now_ms(),
        body,
    }
    .sign(&sk)
    .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e))?;
    let kind = obj.kind().as_str();
    let author = obj.author().to_did_key();
    let bytes = obj.bytes().to_vec();
    let result = s
        .ingest
        .ingest_from(vec![bytes.clone()], crate::node::ingest::Origin::Local)
        .await
        .into_iter()
        .next();
    match result {
        Some(Ok(done)) => {
            if done.new {
                if s.net
                    .try_send(crate::net::NetCmd::Publish {
                        topic: done.topic,
                        bytes,
                    })
                    .is_err()
                {
                    crate::node::metrics::Metrics::inc(&s.metrics.queue_full_total);
                }
                let seq = *s.commits.borrow();
                s.engine
                    .wait_published(seq, crate::api::SUBMIT_VIEW_WAIT)
                    .await;
            }
            Ok((
                StatusCode::CREATED,
                Json(SignedJson {
                    id: done.id.to_string(),
                    kind,
                    author,
                    new: done.new,
                }),
            ))
        }
        Some(Err(e)) => {
            let status = match &e {
                IngestError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                IngestError::Refused(_) => StatusCode::FORBIDDEN,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            Err(ApiError::new(status, e.code(), &e))
        }
        None => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store-closed",
            "no answer from the store",
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn actions_become_the_objects_the_cli_would_sign() {
        let owner = vouch_identity::SecretKey::from_seed(&[3; 32]).public_key();
        let troll = vouch_identity::SecretKey::from_seed(&[4; 32]).public_key();
        let list = format!("{}/garden-bans", owner.to_did_key());
        let a: ActionJson = serde_json::from_value(serde_json::json!({
            "action": "list-add", "key": "owner", "list": list,
            "subject": troll.to_did_key(), "reason": " trolling ", "expires": 5
        }))
        .unwrap();
        let (key, body) = body_of(a).unwrap();
        assert_eq!(key, "owner");
        let Body::ListAdd(add) = body else {
            panic!("not a list-add")
        };
        assert_eq!(add.list.owner, owner);
        assert_eq!(add.list.name, "garden-bans");
        assert_eq!(add.subject, vouch_reputation::Subject::Key(troll));
        assert_eq!(add.reason.as_deref(), Some("trolling"));
        assert_eq!(add.category, None);
        assert_eq!(add.expires, Some(5));

        let remove: ActionJson = serde_json::from_value(serde_json::json!({
            "action": "list-remove", "key": "owner", "list": list, "adds": []
        }))
        .unwrap();
        assert_eq!(body_of(remove).unwrap_err().error.code, "bad-body");
        let answer: ActionJson = serde_json::from_value(serde_json::json!({
            "action": "appeal-answer", "key": "owner", "appeal": "bafynot", "outcome": "granted"
        }))
        .unwrap();
        assert_eq!(body_of(answer).unwrap_err().error.code, "bad-cid");
        let report = vouch_reputation::ObjectId::of_bytes(b"a report");
        let dismiss: ActionJson = serde_json::from_value(serde_json::json!({
            "action": "dismiss", "key": "owner", "group": format!("{}/garden", owner.to_did_key()),
            "reports": [report.to_string()], "text": " not spam "
        }))
        .unwrap();
        let Body::Dismiss(d) = body_of(dismiss).unwrap().1 else {
            panic!("not a dismiss")
        };
        assert_eq!((d.group.owner, d.group.name.as_str()), (owner, "garden"));
        assert_eq!(d.reports, vec![report]);
        assert_eq!(d.text.as_deref(), Some("not spam"));
        let none: ActionJson = serde_json::from_value(serde_json::json!({
            "action": "dismiss", "key": "owner", "group": format!("{}/garden", owner.to_did_key()),
            "reports": []
        }))
        .unwrap();
        assert_eq!(body_of(none).unwrap_err().error.code, "bad-body");
        let unknown = serde_json::from_value::<ActionJson>(serde_json::json!({
            "action": "attest", "key": "owner"
        }));
        assert!(unknown.is_err());
        assert!(valid_name("owner-1_x") && !valid_name("../owner") && !valid_name(""));
    }
}
