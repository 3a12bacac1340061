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
    /// An admin bearer token besides the one the node generates into `<data dir>/api.token`
    /// (for deployments that provision their own secret): at least
    /// 32 characters. Every API call but `/healthz` needs a token.
    pub api_token: Option<ApiToken>,
    /// Host names the API answers to besides the loopback names (`localhost`, 127.0.0.0/8,
    /// `::1`) and the bound address; any other `Host` is refused (DNS rebinding).
    pub api_hosts: Vec<String>,
    /// Web origins (`https://app.example`) allowed to call the API from a browser (CORS);
    /// a request with any other `Origin` is refused.
    pub api_origins: Vec<String>,
    /// The API's bounds: connections, timeouts, costly calls, rates.
    pub api_limits: ApiLimits,
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

/// Shortest configured API token accepted (a generated one is 43 characters of base64).
pub(crate) const MIN_API_TOKEN_LEN: usize = 32;

/// `[api_limits]`: what bounds the work one client can make the API do
/// (`specs/api/README.md`, "Limits").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiLimits {
    /// Most open connections; one more is accepted and closed at once.
    pub max_connections: usize,
    /// Milliseconds a client has to send a request's headers (also the idle time of a
    /// kept-alive connection).
    pub header_timeout_ms: u64,
    /// Milliseconds a client has to send a request's body.
    pub body_timeout_ms: u64,
    /// Milliseconds a write to a client may stall (it does not read its answers) before the
    /// connection is closed.
    pub write_timeout_ms: u64,
    /// Costly calls (diff, explain, trust, decide with inline objects or explanations) run
    /// at once; 0 means one per core.
    pub costly_concurrency: usize,
    /// Milliseconds a costly call may wait for its turn and run before `503`.
    pub costly_timeout_ms: u64,
    /// Requests per second a per-viewer token may make (a bucket of `viewer_burst`).
    pub viewer_rate: u32,
    /// Requests a per-viewer token may make at once after a quiet time.
    pub viewer_burst: u32,
    /// Requests per second an admin token may make; 0: unlimited.
    pub admin_rate: u32,
    /// Requests an admin token may make at once after a quiet time.
    pub admin_burst: u32,
    /// Event streams one token may hold open at once.
    pub streams_per_token: u64,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            max_connections: 256,
            header_timeout_ms: 10_000,
            body_timeout_ms: 30_000,
            write_timeout_ms: 30_000,
            costly_concurrency: 0,
            costly_timeout_ms: 10_000,
            viewer_rate: 50,
            viewer_burst: 200,
            admin_rate: 0,
            admin_burst: 1_000,
            streams_per_token: 8,
        }
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
            api_hosts: Vec::new(),
            api_origins: Vec::new(),
            api_limits: ApiLimits::default(),
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
    /// A configured API token is too short to be a secret.
    #[error("the configured API token has {0} characters; use at least {MIN_API_TOKEN_LEN} (e.g. `head -c 32 /dev/urandom | base64`), or none: the node generates one into <data dir>/api.token")]
    TokenTooShort(usize),
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
            ConfigError::TokenTooShort(_) => "api-token-too-short",
        }
    }
}

impl NodeConfig {
    /// The API's bind address and the configured admin token, if any: `Err` when the token
    /// is shorter than 32 characters or an allowed host or origin is malformed.
    pub fn api_access(&self) -> Result<(std::net::SocketAddr, Option<String>), ConfigError> {
        let addr: std::net::SocketAddr = self.api.parse().map_err(|_| ConfigError::Value {
            field: "api",
            value: self.api.clone(),
        })?;
        let token = self.api_token.as_ref().map(|t| t.0.clone());
        if let Some(t) = &token {
            let n = t.chars().count();
            if n < MIN_API_TOKEN_LEN || t.trim() != t {
                return Err(ConfigError::TokenTooShort(n));
            }
        }
        for h in &self.api_hosts {
            if h.is_empty() || h.contains(['/', ' ', '@']) {
                return Err(ConfigError::Value {
                    field: "api_hosts",
                    value: h.clone(),
                });
            }
        }
        for o in &self.api_origins {
            let ok = (o.starts_with("http://") || o.starts_with("https://"))
                && !o.ends_with('/')
                && o.split("://")
                    .nth(1)
                    .is_some_and(|r| !r.is_empty() && !r.contains('/'));
            if !ok {
                return Err(ConfigError::Value {
                    field: "api_origins",
                    value: o.clone(),
                });
            }
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
    fn a_short_configured_token_is_refused_and_the_token_stays_out_of_debug() {
        let local = NodeConfig::default();
        assert_eq!(local.api_access().unwrap().1, None);
        // Off loopback needs no configured token: the generated one always guards the API.
        let open = NodeConfig {
            api: "0.0.0.0:7070".into(),
            ..NodeConfig::default()
        };
        assert_eq!(open.api_access().unwrap().1, None);
        for short in ["", "t", "s3cret", &"x".repeat(MIN_API_TOKEN_LEN - 1)] {
            let c = NodeConfig {
                api_token: Some(ApiToken(short.to_owned())),
                ..open.clone()
            };
            assert_eq!(c.api_access().unwrap_err().code(), "api-token-too-short");
        }
        let padded = NodeConfig {
            api_token: Some(ApiToken(format!(" {} ", "x".repeat(40)))),
            ..open.clone()
        };
        assert_eq!(
            padded.api_access().unwrap_err().code(),
            "api-token-too-short"
        );
        let secret = "k".repeat(MIN_API_TOKEN_LEN);
        let guarded = NodeConfig {
            api_token: Some(ApiToken(secret.clone())),
            ..open
        };
        assert_eq!(guarded.api_access().unwrap().1.as_deref(), Some(&*secret));
        assert!(!format!("{guarded:?}").contains(&secret));
        let toml = NodeConfig::from_toml(
            "api_token = \"t\"\napi_hosts = [\"vouch.lan\"]\n[engine]\nrefresh_ms = 5\n[api_limits]\nviewer_rate = 7",
        )
        .unwrap();
        assert_eq!(toml.engine.refresh_ms, 5);
        assert_eq!(toml.api_token, Some(ApiToken("t".into())));
        assert_eq!(toml.api_hosts, vec!["vouch.lan".to_string()]);
        assert_eq!(toml.api_limits.viewer_rate, 7);
        assert_eq!(toml.api_limits.max_connections, 256);
        assert_eq!(toml.api_access().unwrap_err().code(), "api-token-too-short");
        for (hosts, origins) in [
            (vec!["evil.example/x"], vec![]),
            (vec![], vec!["app.example"]),
            (vec![], vec!["https://app.example/"]),
            (vec![], vec!["https://app.example/path"]),
        ] {
            let c = NodeConfig {
                api_hosts: hosts.into_iter().map(String::from).collect(),
                api_origins: origins.into_iter().map(String::from).collect(),
                ..NodeConfig::default()
            };
            assert_eq!(c.api_access().unwrap_err().code(), "config-value");
        }
    }
}
