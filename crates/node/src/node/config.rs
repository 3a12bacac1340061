//! Node configuration: defaults, overridden by a TOML file, overridden by environment
//! variables and command-line flags (clap reads both; see `cli_node.rs`).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::net::topic::parse_group;
use crate::node::filter::{Follow, ReplicationFilter};
use crate::node::store::Durability;

/// Name of the config file looked for in the data directory when none is given.
pub(crate) const CONFIG_FILE: &str = "config.toml";

/// Everything a node needs to start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// Where the database, the node key and the address files live.
    pub data_dir: PathBuf,
    /// libp2p listen addresses (TCP and QUIC).
    pub listen: Vec<String>,
    /// Peers to dial at start (multiaddrs, with or without `/p2p/<id>`).
    pub bootstrap: Vec<String>,
    /// A rendezvous point to register at and discover peers through.
    pub rendezvous: Option<String>,
    /// The loopback HTTP endpoint (submit, fetch, status, metrics).
    pub api: String,
    /// Groups (`<owner did:key>/<name>`) whose topics this node follows.
    pub groups: Vec<String>,
    /// Commit durability.
    pub durability: Durability,
    /// Faults (bad encodings, bad signatures, protocol violations; decaying with
    /// `net.fault_half_life_secs`) after which a peer is banned for `net.ban_secs`.
    pub max_invalid_per_peer: u32,
    /// Seconds between periodic catch-up rounds with a random connected peer.
    pub resync_secs: u64,
    /// Which posts are not stored or relayed.
    pub replication: ReplicationConfig,
    /// Development only: allow `POST /v1/dev/publish-raw` (publishes bytes unchecked).
    pub unsafe_dev_publish_raw: bool,
    /// Bearer token every writing API call must carry. Required when `api` is not a
    /// loopback address (the node refuses to start without one); enforced whenever set.
    pub api_token: Option<ApiToken>,
    /// The engine: how often views are rebuilt, how many posts and viewers it holds.
    pub engine: crate::node::engine::EngineConfig,
    /// The network under attack: penalties, bans, limits, dial scopes (`[net]`).
    pub net: crate::net::peers::NetConfig,
    /// Admission control and the quarantine (`[admission]`).
    pub admission: crate::node::admission::AdmissionConfig,
    /// Nostr relays, viewers and NIP-85 assertions (`[nostr]`, `specs/nostr.md`).
    pub nostr: crate::nostr::NostrConfig,
}

/// The API token. Its `Debug` form hides it, so it never reaches a log.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiToken(pub String);

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(<hidden>)")
    }
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            data_dir: crate::node::store::default_data_dir(),
            listen: vec![
                "/ip4/0.0.0.0/tcp/4001".into(),
                "/ip4/0.0.0.0/udp/4001/quic-v1".into(),
            ],
            bootstrap: Vec::new(),
            rendezvous: None,
            api: "127.0.0.1:7070".into(),
            groups: Vec::new(),
            durability: Durability::default(),
            max_invalid_per_peer: 3,
            resync_secs: 30,
            replication: ReplicationConfig::default(),
            unsafe_dev_publish_raw: false,
            api_token: None,
            engine: crate::node::engine::EngineConfig::default(),
            net: crate::net::peers::NetConfig::default(),
            admission: crate::node::admission::AdmissionConfig::default(),
            nostr: crate::nostr::NostrConfig::default(),
        }
    }
}

/// Default of `replication.max_candidates`.
pub(crate) const DEFAULT_MAX_CANDIDATES: usize = 100_000;

/// `[replication]`: which posts the node does not store or relay. The rules in force are
/// the static entries below plus, unless `follow = "off"`, the blocks and group bans the
/// local viewers' policies apply (`specs/sync.md`, "Replication follows trust").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReplicationConfig {
    /// Whose verdicts to follow: `all-viewers` (default: refuse only what every local
    /// viewer's policy hides by a block list or a group ban), `any-viewer`, or `off`.
    pub follow: Follow,
    /// Most candidates the engine considers per derivation: block-listed authors per
    /// viewer, and banned `(group, author)` pairs. Entries beyond it are not refused
    /// (counted in `vouch_replication_candidates_skipped_total`).
    pub max_candidates: usize,
    /// Authors (`did:key`) none of whose posts are stored or relayed.
    pub blocked_authors: Vec<String>,
    /// `(group, author)` pairs: the author's posts in that group are not stored or relayed.
    pub group_bans: Vec<GroupBan>,
}

impl Default for ReplicationConfig {
    fn default() -> Self {
        ReplicationConfig {
            follow: Follow::default(),
            max_candidates: DEFAULT_MAX_CANDIDATES,
            blocked_authors: Vec::new(),
            group_bans: Vec::new(),
        }
    }
}

/// One group ban.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupBan {
    /// `<owner did:key>/<name>`.
    pub group: String,
    /// The banned author's `did:key`.
    pub author: String,
}

/// A configuration error. Every variant has a stable [`code`](ConfigError::code).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The API would listen beyond loopback without a token.
    #[error("the API address {0} is not loopback: set an API token (VOUCH_API_TOKEN or api_token) so writing calls need it")]
    TokenRequired(String),
    /// A value is not valid.
    #[error("invalid value for {field}: {value}")]
    Value {
        /// The field.
        field: &'static str,
        /// The value.
        value: String,
    },
}

impl ConfigError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::Read { .. } => "config-read",
            ConfigError::Parse { .. } => "config-parse",
            ConfigError::Value { .. } => "config-value",
            ConfigError::TokenRequired(_) => "api-token-required",
        }
    }
}

impl NodeConfig {
    /// The API's bind address, and the token it requires: `Err` when the address is not a
    /// loopback address and no (non-empty) token is set.
    pub fn api_access(&self) -> Result<(std::net::SocketAddr, Option<String>), ConfigError> {
        let addr: std::net::SocketAddr = self.api.parse().map_err(|_| ConfigError::Value {
            field: "api",
            value: self.api.clone(),
        })?;
        let token = self
            .api_token
            .as_ref()
            .map(|t| t.0.clone())
            .filter(|t| !t.is_empty());
        if !addr.ip().is_loopback() && token.is_none() {
            return Err(ConfigError::TokenRequired(addr.to_string()));
        }
        Ok((addr, token))
    }

    /// Reads a TOML config file; fields it does not set keep their defaults.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text).map_err(|message| ConfigError::Parse {
            path: path.to_owned(),
            message,
        })
    }

    /// Parses TOML text.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The replication filter the config describes.
    pub fn replication_filter(&self) -> Result<ReplicationFilter, ConfigError> {
        let mut f = ReplicationFilter::new();
        for a in &self.replication.blocked_authors {
            let key =
                vouch_identity::PublicKey::from_did_key(a).map_err(|_| ConfigError::Value {
                    field: "replication.blocked_authors",
                    value: a.clone(),
                })?;
            f.block_author(key);
        }
        for b in &self.replication.group_bans {
            let group = parse_group(&b.group).ok_or_else(|| ConfigError::Value {
                field: "replication.group_bans.group",
                value: b.group.clone(),
            })?;
            let key = vouch_identity::PublicKey::from_did_key(&b.author).map_err(|_| {
                ConfigError::Value {
                    field: "replication.group_bans.author",
                    value: b.author.clone(),
                }
            })?;
            f.ban_in_group(group, key);
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_overrides_defaults_and_builds_the_filter() {
        let alice = vouch_identity::SecretKey::from_seed(&[1; 32])
            .public_key()
            .to_did_key();
        let text = format!(
            r#"
            listen = ["/ip4/127.0.0.1/tcp/0"]
            groups = ["{alice}/rust"]
            durability = "full"
            [replication]
            blocked_authors = ["{alice}"]
            group_bans = [{{ group = "{alice}/rust", author = "{alice}" }}]
            "#
        );
        let c = NodeConfig::from_toml(&text).unwrap();
        assert_eq!(c.replication.follow, Follow::AllViewers);
        assert_eq!(c.replication.max_candidates, DEFAULT_MAX_CANDIDATES);
        let any = NodeConfig::from_toml("[replication]\nfollow = \"any-viewer\"").unwrap();
        assert_eq!(any.replication.follow, Follow::AnyViewer);
        let off = NodeConfig::from_toml("[replication]\nfollow = \"off\"").unwrap();
        assert_eq!(off.replication.follow, Follow::Off);
        assert!(NodeConfig::from_toml("[replication]\nfollow = \"some\"").is_err());
        assert_eq!(c.listen, vec!["/ip4/127.0.0.1/tcp/0".to_string()]);
        assert_eq!(c.durability, Durability::Full);
        assert_eq!(NodeConfig::default().durability, Durability::Normal);
        assert_eq!(c.api, NodeConfig::default().api);
        assert_eq!(c.replication_filter().unwrap().len(), 2);
        assert!(NodeConfig::from_toml("nonsense = 1").is_err());
        let bad = NodeConfig {
            replication: ReplicationConfig {
                blocked_authors: vec!["did:key:nope".into()],
                ..ReplicationConfig::default()
            },
            ..NodeConfig::default()
        };
        assert_eq!(bad.replication_filter().unwrap_err().code(), "config-value");
    }

    #[test]
    fn net_and_admission_settings_parse_with_defaults() {
        let c = NodeConfig::from_toml(
            "[net]\nban_secs = 60\ndial_scopes = [\"public\", \"private\"]\n\
             [admission]\nmode = \"on\"\nquarantine_per_author = 2",
        )
        .unwrap();
        assert_eq!(c.net.ban_secs, 60);
        assert_eq!(
            c.net.dial_scopes,
            vec![
                crate::net::peers::DialScope::Public,
                crate::net::peers::DialScope::Private
            ]
        );
        assert_eq!(
            c.net.max_connections_per_ip,
            crate::net::peers::NetConfig::default().max_connections_per_ip
        );
        assert_eq!(c.admission.mode, crate::node::admission::AdmissionMode::On);
        assert_eq!(c.admission.quotas().per_author, 2);
        assert!(NodeConfig::from_toml("[net]\ndial_scopes = [\"anywhere\"]").is_err());
        assert!(NodeConfig::from_toml("[admission]\nmode = \"maybe\"").is_err());
    }

    #[test]
    fn non_loopback_api_needs_a_token_and_the_token_stays_out_of_debug() {
        let local = NodeConfig::default();
        assert_eq!(local.api_access().unwrap().1, None);
        let open = NodeConfig {
            api: "0.0.0.0:7070".into(),
            ..NodeConfig::default()
        };
        assert_eq!(open.api_access().unwrap_err().code(), "api-token-required");
        let empty = NodeConfig {
            api_token: Some(ApiToken(String::new())),
            ..open.clone()
        };
        assert_eq!(empty.api_access().unwrap_err().code(), "api-token-required");
        let guarded = NodeConfig {
            api_token: Some(ApiToken("s3cret".into())),
            ..open
        };
        assert_eq!(guarded.api_access().unwrap().1.as_deref(), Some("s3cret"));
        assert!(!format!("{guarded:?}").contains("s3cret"));
        let toml = NodeConfig::from_toml("api_token = \"t\"\n[engine]\nrefresh_ms = 5").unwrap();
        assert_eq!(toml.engine.refresh_ms, 5);
        assert_eq!(toml.api_token, Some(ApiToken("t".into())));
    }
}
