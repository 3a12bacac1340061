//! Who is calling and what they may call. The node generates an admin token into
//! `<data dir>/api.token` at first start (owner-only, like bitcoind's cookie file) and accepts
//! a configured one besides; per-viewer tokens, created by an admin, are kept as SHA-256
//! hashes in `<data dir>/api-tokens.json` and may read and decide only for their viewer.
//! `access` says what a route needs; `Principal::may` decides.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use axum::http::Method;
use base64::Engine as _;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use vouch_identity::PublicKey;

use crate::client::API_TOKEN_FILE;
use crate::node::files;

/// File of the per-viewer tokens (hashes only), in the data directory.
pub(crate) const VIEWER_TOKENS_FILE: &str = "api-tokens.json";
/// Most per-viewer tokens a node keeps.
pub(crate) const MAX_VIEWER_TOKENS: usize = 10_000;
/// Longest token label, in bytes.
pub(crate) const MAX_LABEL_BYTES: usize = 200;

/// What a per-viewer token may do besides reading and deciding for its viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Scope {
    /// Read the viewer, its policy, decisions, explanations, trust, diffs and events.
    Read,
    /// All of `Read`, and replace the viewer's policy.
    Policy,
}

impl Scope {
    /// The scope's name in the API.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Policy => "policy",
        }
    }
}

/// A per-viewer token, as kept (its secret is not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ViewerToken {
    /// Its id: the first 8 bytes of its hash, in hex (names it in lists and revocations).
    pub id: String,
    /// The only viewer it reads and decides for.
    pub viewer: PublicKey,
    /// What else it may do.
    pub scope: Scope,
    /// The admin's note (which app, whose).
    pub label: String,
    /// When it was created (ms since the epoch).
    pub created_ms: u64,
}

/// Who a request comes from.
#[derive(Debug, Clone)]
pub(crate) enum Principal {
    /// The generated or configured admin token: everything.
    Admin,
    /// A per-viewer token.
    Viewer(Arc<ViewerToken>),
}

impl Principal {
    /// The key its rate bucket and stream count are kept under.
    pub(crate) fn key(&self) -> &str {
        match self {
            Principal::Admin => "admin",
            Principal::Viewer(t) => &t.id,
        }
    }

    /// Whether it may make a call that needs `need`; `viewer` is the call's `{viewer}`.
    pub(crate) fn may(&self, need: Access, viewer: Option<&str>) -> bool {
        match (self, need) {
            (_, Access::Public) | (Principal::Admin, _) | (Principal::Viewer(_), Access::Token) => {
                true
            }
            (Principal::Viewer(_), Access::Admin) => false,
            (Principal::Viewer(t), Access::Viewer { write }) => {
                let own = viewer
                    .and_then(|v| PublicKey::from_did_key(v).ok())
                    .is_some_and(|v| v == t.viewer);
                own && (!write || t.scope == Scope::Policy)
            }
        }
    }
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Nothing (`/healthz`).
    Public,
    /// Any valid token (public data: objects, groups, lists; the viewer list, filtered).
    Token,
    /// The admin token.
    Admin,
    /// The admin token, or a viewer token for the `{viewer}` of the path (with the
    /// `policy` scope if `write`).
    Viewer {
        /// Whether the call changes the viewer.
        write: bool,
    },
}

/// What the route `path` (axum's matched path, `None` when no route matched) needs for
/// `method`. The one table of the API's permissions.
pub(crate) fn access(method: &Method, path: Option<&str>) -> Access {
    let Some(path) = path else {
        return Access::Token;
    };
    if path == "/healthz" || path.starts_with("/healthz/") || path == "/readyz" {
        return Access::Public;
    }
    match path {
        // The web console's page and files (no data), and its login (the code is the
        // credential); who am I, logout and login codes take any token or session.
        "/" | "/login" | "/console/{file}" => Access::Public,
        "/v1/session" if method == Method::POST => Access::Public,
        "/v1/session" | "/v1/console/codes" => Access::Token,
        "/v1/objects" | "/v1/objects/{cid}" | "/v1/viewers" if method != Method::POST => {
            Access::Token
        }
        "/v1/objects" => Access::Token,
        "/v1/viewers" => Access::Admin,
        "/v1/viewers/{viewer}" if method == Method::DELETE => Access::Admin,
        "/v1/viewers/{viewer}/policy" if method == Method::PUT => Access::Viewer { write: true },
        p if p.starts_with("/v1/viewers/{viewer}") => Access::Viewer { write: false },
        p if p.starts_with("/v1/groups/") || p.starts_with("/v1/lists/") => Access::Token,
        _ => Access::Admin,
    }
}

/// A token failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum TokenError {
    /// The token files could not be read or written.
    #[error("api tokens: {0}")]
    Io(#[from] std::io::Error),
    /// The per-viewer token file is not ours.
    #[error("{path}: not a Vouch token file: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// [`MAX_VIEWER_TOKENS`] tokens exist.
    #[error("at most {MAX_VIEWER_TOKENS} viewer tokens; revoke some first")]
    TooMany,
    /// The configured admin token is a per-viewer token (say, `VOUCH_API_TOKEN` exported
    /// for a client): it would have become an admin token.
    #[error(
        "the configured API token is a per-viewer token of this node; it cannot be an admin token"
    )]
    ViewerAsAdmin,
}

impl TokenError {
    /// The stable error code.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            TokenError::Io(_) => "api-tokens-io",
            TokenError::Format { .. } => "api-tokens-format",
            TokenError::TooMany => "too-many-tokens",
            TokenError::ViewerAsAdmin => "api-token-is-a-viewer-token",
        }
    }
}

/// The per-viewer token file's own format (versioned; never the API's JSON).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    version: u32,
    tokens: Vec<StoredToken>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredToken {
    sha256: String,
    viewer: String,
    scope: Scope,
    label: String,
    created_ms: u64,
}

/// Every token the API accepts.
#[derive(Debug)]
pub(crate) struct Tokens {
    admin: Vec<String>,
    viewers: RwLock<HashMap<[u8; 32], Arc<ViewerToken>>>,
    file: PathBuf,
    /// Serializes writers of the token file.
    write: Mutex<()>,
}

fn sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A new secret: 32 random bytes, base64url, after a prefix that says what it is.
fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Compares in time independent of where the first difference is.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Tokens {
    /// Reads the admin token of `data_dir` (creating it, owner-only, on first start), adds
    /// `configured`, and loads the per-viewer tokens. A token file others can read is
    /// refused (its secret may have leaked).
    pub(crate) fn open(data_dir: &Path, configured: Option<String>) -> Result<Tokens, TokenError> {
        let admin_file = data_dir.join(API_TOKEN_FILE);
        let admin = match files::read_private(&admin_file) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let t = new_secret("vouch-admin-");
                files::write_private(&admin_file, format!("{t}\n").as_bytes())?;
                tracing::info!(file = %admin_file.display(), "generated the API's admin token");
                t
            }
            Err(e) => return Err(e.into()),
        };
        if admin.len() < crate::node::config::MIN_API_TOKEN_LEN {
            return Err(TokenError::Format {
                path: admin_file,
                message: "the token is too short: delete the file to get a new one".into(),
            });
        }
        let file = data_dir.join(VIEWER_TOKENS_FILE);
        let mut viewers = HashMap::new();
        match files::read_private(&file) {
            Ok(bytes) => {
                let bad = |message: String| TokenError::Format {
                    path: file.clone(),
                    message,
                };
                let parsed: TokenFile =
                    serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
                if parsed.version != 1 {
                    return Err(bad(format!("version {}", parsed.version)));
                }
                for t in parsed.tokens {
                    let hash: [u8; 32] = hex::decode(&t.sha256)
                        .ok()
                        .and_then(|h| h.try_into().ok())
                        .ok_or_else(|| bad(format!("hash {:?}", t.sha256)))?;
                    let viewer = PublicKey::from_did_key(&t.viewer)
                        .map_err(|_| bad(format!("viewer {:?}", t.viewer)))?;
                    viewers.insert(
                        hash,
                        Arc::new(ViewerToken {
                            id: hex::encode(&hash[..8]),
                            viewer,
                            scope: t.scope,
                            label: t.label,
                            created_ms: t.created_ms,
                        }),
                    );
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        if let Some(c) = &configured {
            if c.starts_with("vouch-viewer-") || viewers.contains_key(&sha256(c)) {
                return Err(TokenError::ViewerAsAdmin);
            }
        }
        let mut admin = vec![admin];
        admin.extend(configured);
        Ok(Tokens {
            admin,
            viewers: RwLock::new(viewers),
            file,
            write: Mutex::new(()),
        })
    }

    /// Who presents `token`, if anyone.
    pub(crate) fn authenticate(&self, token: &str) -> Option<Principal> {
        if self
            .admin
            .iter()
            .any(|a| same_secret(a.as_bytes(), token.as_bytes()))
        {
            return Some(Principal::Admin);
        }
        // Looked up by hash: the time taken depends on the hash, not on the secret.
        let hash = sha256(token);
        self.read().get(&hash).map(|t| Principal::Viewer(t.clone()))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<[u8; 32], Arc<ViewerToken>>> {
        self.viewers.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The per-viewer tokens, oldest first.
    pub(crate) fn list(&self) -> Vec<Arc<ViewerToken>> {
        let mut all: Vec<_> = self.read().values().cloned().collect();
        all.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        all
    }

    /// Creates a per-viewer token; returns it and its secret (shown once, never stored).
    /// Blocking: writes the token file.
    pub(crate) fn create(
        &self,
        viewer: PublicKey,
        scope: Scope,
        label: String,
        now_ms: u64,
    ) -> Result<(Arc<ViewerToken>, String), TokenError> {
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let secret = new_secret("vouch-viewer-");
        let hash = sha256(&secret);
        let token = Arc::new(ViewerToken {
            id: hex::encode(&hash[..8]),
            viewer,
            scope,
            label,
            created_ms: now_ms,
        });
        let mut next = self.read().clone();
        if next.len() >= MAX_VIEWER_TOKENS {
            return Err(TokenError::TooMany);
        }
        next.insert(hash, token.clone());
        self.persist(&next)?;
        *self.viewers.write().unwrap_or_else(|p| p.into_inner()) = next;
        Ok((token, secret))
    }

    /// Revokes the tokens `which` selects; returns them. Blocking: writes the token file.
    pub(crate) fn revoke(
        &self,
        which: impl Fn(&ViewerToken) -> bool,
    ) -> Result<Vec<Arc<ViewerToken>>, TokenError> {
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = self.read().clone();
        let mut gone = Vec::new();
        next.retain(|_, t| {
            let keep = !which(t);
            if !keep {
                gone.push(t.clone());
            }
            keep
        });
        if !gone.is_empty() {
            self.persist(&next)?;
            *self.viewers.write().unwrap_or_else(|p| p.into_inner()) = next;
        }
        Ok(gone)
    }

    fn persist(&self, tokens: &HashMap<[u8; 32], Arc<ViewerToken>>) -> Result<(), TokenError> {
        let mut stored: Vec<StoredToken> = tokens
            .iter()
            .map(|(hash, t)| StoredToken {
                sha256: hex::encode(hash),
                viewer: t.viewer.to_did_key(),
                scope: t.scope,
                label: t.label.clone(),
                created_ms: t.created_ms,
            })
            .collect();
        stored.sort_by(|a, b| (a.created_ms, &a.sha256).cmp(&(b.created_ms, &b.sha256)));
        let bytes = serde_json::to_vec_pretty(&TokenFile {
            version: 1,
            tokens: stored,
        })
        .map_err(|e| TokenError::Format {
            path: self.file.clone(),
            message: e.to_string(),
        })?;
        files::write_private(&self.file, &bytes)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn key(n: u8) -> PublicKey {
        vouch_identity::SecretKey::from_seed(&[n; 32]).public_key()
    }

    #[test]
    fn admin_token_is_generated_once_and_viewer_tokens_survive_a_restart_as_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let configured = "c".repeat(40);
        let t = Tokens::open(dir.path(), Some(configured.clone())).unwrap();
        let admin = std::fs::read_to_string(dir.path().join(API_TOKEN_FILE)).unwrap();
        let admin = admin.trim();
        assert!(admin.starts_with("vouch-admin-") && admin.len() == 12 + 43);
        assert!(matches!(t.authenticate(admin), Some(Principal::Admin)));
        assert!(matches!(
            t.authenticate(&configured),
            Some(Principal::Admin)
        ));
        assert!(t.authenticate("").is_none());
        assert!(t.authenticate(&admin[..admin.len() - 1]).is_none());

        let (tok, secret) = t.create(key(1), Scope::Read, "app".into(), 5).unwrap();
        let Some(Principal::Viewer(v)) = t.authenticate(&secret) else {
            panic!("viewer token not accepted")
        };
        assert_eq!(v.viewer, key(1));
        assert_eq!(v.id, tok.id);
        // Only the hash is on disk.
        let stored = std::fs::read_to_string(dir.path().join(VIEWER_TOKENS_FILE)).unwrap();
        assert!(!stored.contains(&secret), "{stored}");
        assert!(stored.contains(&hex::encode(sha256(&secret))));

        // A restart keeps the admin token and the viewer token.
        drop(t);
        let t = Tokens::open(dir.path(), None).unwrap();
        assert!(matches!(t.authenticate(admin), Some(Principal::Admin)));
        assert!(t.authenticate(&configured).is_none());
        assert!(matches!(
            t.authenticate(&secret),
            Some(Principal::Viewer(_))
        ));
        let gone = t.revoke(|x| x.id == tok.id).unwrap();
        assert_eq!(gone.len(), 1);
        assert!(t.authenticate(&secret).is_none());
        let t = Tokens::open(dir.path(), None).unwrap();
        assert!(t.authenticate(&secret).is_none(), "revocation is persisted");
        assert!(t.list().is_empty());
        // A viewer token exported for a client never becomes an admin token of the node.
        let (_, viewer_secret) = t.create(key(2), Scope::Read, String::new(), 6).unwrap();
        let e = Tokens::open(dir.path(), Some(viewer_secret)).unwrap_err();
        assert_eq!(e.code(), "api-token-is-a-viewer-token");
    }

    #[test]
    fn a_token_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        drop(Tokens::open(dir.path(), None).unwrap());
        let f = dir.path().join(API_TOKEN_FILE);
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Tokens::open(dir.path(), None).unwrap_err();
        assert_eq!(e.code(), "api-tokens-io");
    }

    #[test]
    fn what_each_principal_may_call() {
        let mine = key(1).to_did_key();
        let other = key(2).to_did_key();
        let reader = Principal::Viewer(Arc::new(ViewerToken {
            id: "r".into(),
            viewer: key(1),
            scope: Scope::Read,
            label: String::new(),
            created_ms: 0,
        }));
        let editor = Principal::Viewer(Arc::new(ViewerToken {
            scope: Scope::Policy,
            ..match &reader {
                Principal::Viewer(t) => (**t).clone(),
                Principal::Admin => unreachable!(),
            }
        }));
        let get = Method::GET;
        let cases: &[(&Method, &str, &str, bool, bool, bool)] = &[
            // method, route, viewer, admin, reader, editor
            (&get, "/healthz", "", true, true, true),
            (&get, "/v1/status", "", true, false, false),
            (&get, "/metrics", "", true, false, false),
            (&Method::POST, "/v1/viewers", "", true, false, false),
            (&get, "/v1/viewers", "", true, true, true),
            (&get, "/v1/tokens", "", true, false, false),
            (&Method::POST, "/v1/dev/publish-raw", "", true, false, false),
            (&Method::POST, "/v1/objects", "", true, true, true),
            (&get, "/v1/objects/{cid}", "", true, true, true),
            (&get, "/v1/groups/{owner}/{name}/bans", "", true, true, true),
            (&get, "/v1/lists/{owner}/{name}", "", true, true, true),
            (&get, "/v1/viewers/{viewer}", &mine, true, true, true),
            (&get, "/v1/viewers/{viewer}", &other, true, false, false),
            (
                &Method::DELETE,
                "/v1/viewers/{viewer}",
                &mine,
                true,
                false,
                false,
            ),
            (&get, "/v1/viewers/{viewer}/policy", &mine, true, true, true),
            (
                &Method::PUT,
                "/v1/viewers/{viewer}/policy",
                &mine,
                true,
                false,
                true,
            ),
            (
                &Method::PUT,
                "/v1/viewers/{viewer}/policy",
                &other,
                true,
                false,
                false,
            ),
            (
                &Method::POST,
                "/v1/viewers/{viewer}/decide",
                &mine,
                true,
                true,
                true,
            ),
            (
                &Method::POST,
                "/v1/viewers/{viewer}/decide",
                &other,
                true,
                false,
                false,
            ),
            (
                &Method::POST,
                "/v1/viewers/{viewer}/diff",
                &mine,
                true,
                true,
                true,
            ),
            (
                &get,
                "/v1/viewers/{viewer}/events",
                &other,
                true,
                false,
                false,
            ),
            (
                &get,
                "/v1/viewers/{viewer}/explain/{subject}",
                "did:key:zbad",
                true,
                false,
                false,
            ),
        ];
        for (method, route, viewer, admin, r, e) in cases {
            let need = access(method, Some(route));
            let v = (!viewer.is_empty()).then_some(*viewer);
            assert_eq!(
                Principal::Admin.may(need, v),
                *admin,
                "admin {method} {route}"
            );
            assert_eq!(reader.may(need, v), *r, "reader {method} {route} {viewer}");
            assert_eq!(editor.may(need, v), *e, "editor {method} {route} {viewer}");
        }
        // No route matched: a token is needed to learn that.
        assert_eq!(access(&get, None), Access::Token);
    }
}
