//! Per-viewer API tokens: the create call and what the admin sees of them.

use serde::{Deserialize, Serialize};

/// `POST /v1/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateTokenJson {
    /// The viewer the token reads and decides for (`did:key`; must exist on the node).
    pub viewer: String,
    /// `read` (default: read and decide) or `policy` (also replace the viewer's policy).
    #[serde(default)]
    pub scope: Option<String>,
    /// A note for the admin: which app, whose.
    #[serde(default)]
    pub label: Option<String>,
}

/// A per-viewer token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TokenJson {
    /// Its id (names it in `DELETE /v1/tokens/{id}`).
    pub id: String,
    /// Its viewer.
    pub viewer: String,
    /// `read` or `policy`.
    pub scope: String,
    /// The admin's note.
    pub label: String,
    /// Created (ms).
    pub created_ms: u64,
}

/// The answer to `POST /v1/tokens`: the token and, this once, its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CreatedTokenJson {
    /// The token.
    #[serde(flatten)]
    pub token: TokenJson,
    /// The bearer secret. The node keeps only its hash: it cannot show it again.
    pub secret: String,
}

/// `GET /v1/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TokensJson {
    /// Oldest first.
    pub tokens: Vec<TokenJson>,
}
