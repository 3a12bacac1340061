//! Talking to a running node: the one set of flags every command that reaches a node takes
//! (`--node`, `--data-dir`, `--api-token`), the one resolver that turns them into an address
//! and a token, and the error that gives exit code 3 (specs/cli.md §1-2). Without
//! `--api-token`, the token is the admin token in the data directory (`api.token`), and only
//! for the node running on that data directory: it is never sent to another address.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use clap::Args;

use crate::client::{self, ClientError, HttpResponse};

/// The flags that name a running node, shared by every command that talks to one.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct NodeArgs {
    /// The node's API, e.g. http://127.0.0.1:7070, 127.0.0.1:7070 or localhost:7070
    /// [default: the node running on the data directory, as `vouch node status` finds it].
    #[arg(long, env = "VOUCH_NODE", value_name = "URL")]
    pub(crate) node: Option<String>,
    /// The running node's data directory [default: $VOUCH_DATA_DIR, else
    /// $XDG_DATA_HOME/vouch or ~/.local/share/vouch].
    #[arg(long, env = "VOUCH_DATA_DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Bearer token for the node's API [default: the admin token in the data directory's
    /// api.token, for the node running on that data directory].
    #[arg(long, env = "VOUCH_API_TOKEN", hide_env_values = true)]
    pub(crate) api_token: Option<String>,
}

/// No node to talk to: none running on the data directory, or nothing answers at the
/// address. Exit code 3.
#[derive(Debug, thiserror::Error)]
#[error("[node-unreachable] {0} (start one with `vouch node run`, or name it with --node)")]
pub(crate) struct NodeUnreachable(pub(crate) String);

/// A resolved node: where its API listens and the token to present.
#[derive(Debug, Clone)]
pub(crate) struct NodeConn {
    /// The API's address.
    pub(crate) addr: SocketAddr,
    token: Option<String>,
}

impl NodeArgs {
    /// The data directory these flags name (`--data-dir`, else the default).
    pub(crate) fn data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(crate::node::store::default_data_dir)
    }

    /// Finds the node: `--node` (host names are resolved), else the `api.addr` file of the
    /// data directory; and the token: `--api-token`, else the data directory's `api.token`
    /// if the node found is the one running on that data directory.
    pub(crate) fn resolve(&self) -> Result<NodeConn, NodeUnreachable> {
        let dir = self.data_dir();
        let local = client::api_addr(&dir).ok();
        let addr = match &self.node {
            Some(url) => {
                let addrs = parse_node_url(url)?;
                // A name with several addresses: the data directory's node if it is one.
                match local.filter(|l| addrs.contains(l)) {
                    Some(l) => l,
                    None => addrs[0],
                }
            }
            None => local.ok_or_else(|| {
                NodeUnreachable(format!(
                    "no running node on data directory {}",
                    dir.display()
                ))
            })?,
        };
        let token = match &self.api_token {
            Some(t) => Some(t.clone()),
            None if local == Some(addr) => client::api_token(&dir).ok(),
            None => None,
        };
        Ok(NodeConn { addr, token })
    }
}

/// `http://host:port`, `host:port` (a trailing `/` allowed) to the addresses the host name
/// resolves to (at least one).
fn parse_node_url(url: &str) -> Result<Vec<SocketAddr>, NodeUnreachable> {
    let trimmed = url.trim();
    let hostport = trimmed
        .strip_prefix("http://")
        .unwrap_or(trimmed)
        .trim_end_matches('/');
    hostport
        .to_socket_addrs()
        .ok()
        .map(Iterator::collect::<Vec<_>>)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            NodeUnreachable(format!(
                "--node {url:?} is not host:port or http://host:port of a reachable host"
            ))
        })
}

impl NodeConn {
    /// Sends one request (with the token, when there is one) and reads the whole answer. A
    /// node that does not answer is [`NodeUnreachable`].
    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> anyhow::Result<HttpResponse> {
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers = Vec::new();
        if let Some(ct) = content_type {
            headers.push(("Content-Type", ct));
        }
        if let Some(a) = &auth {
            headers.push(("Authorization", a.as_str()));
        }
        client::request_with(self.addr, method, path, &headers, body).map_err(|e| match e {
            ClientError::Io(io) => {
                anyhow::Error::new(NodeUnreachable(format!("node at {}: {io}", self.addr)))
            }
            other => anyhow::Error::new(other),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn args(node: &str) -> NodeArgs {
        NodeArgs {
            node: Some(node.to_owned()),
            ..NodeArgs::default()
        }
    }

    #[test]
    fn node_urls_and_host_names() {
        let a = args("http://127.0.0.1:7070/").resolve().unwrap();
        assert_eq!(a.addr, "127.0.0.1:7070".parse().unwrap());
        assert_eq!(args("127.0.0.1:9").resolve().unwrap().addr.port(), 9);
        // Host names resolve (the query commands refused them before).
        let local = args("localhost:7070").resolve().unwrap();
        assert!(local.addr.ip().is_loopback());
        assert_eq!(local.addr.port(), 7070);
        assert!(args("https://").resolve().is_err());
    }

    #[test]
    fn the_data_directory_token_goes_to_its_own_node_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(client::API_ADDR_FILE), "127.0.0.1:7999").unwrap();
        std::fs::write(
            dir.path().join(client::API_TOKEN_FILE),
            "vouch-admin-secret\n",
        )
        .unwrap();
        let with = |node: Option<&str>, token: Option<&str>| NodeArgs {
            node: node.map(str::to_owned),
            data_dir: Some(dir.path().to_path_buf()),
            api_token: token.map(str::to_owned),
        };
        let own = with(None, None).resolve().unwrap();
        assert_eq!(own.token.as_deref(), Some("vouch-admin-secret"));
        let named = with(Some("http://127.0.0.1:7999"), None).resolve().unwrap();
        assert_eq!(named.token.as_deref(), Some("vouch-admin-secret"));
        let other = with(Some("127.0.0.1:7998"), None).resolve().unwrap();
        assert_eq!(
            other.token, None,
            "another node never gets this node's token"
        );
        let given = with(Some("127.0.0.1:7998"), Some("t")).resolve().unwrap();
        assert_eq!(given.token.as_deref(), Some("t"));
    }

    #[test]
    fn no_node_on_an_empty_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        let a = NodeArgs {
            data_dir: Some(dir.path().to_path_buf()),
            ..NodeArgs::default()
        };
        let e = a.resolve().unwrap_err();
        assert!(e.0.contains("no running node"), "{e}");
    }
}
