//! What every signing command does with the objects it signed: write them (`--out`), submit
//! them to a running node (`POST /v1/objects`, unless `--no-submit`) and print their CIDs
//! (or JSON with `--json`).

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use vouch_node::client::{self, ClientError};
use vouch_reputation::SignedObject;

/// Output and submission flags shared by every command that signs objects.
#[derive(Debug, Clone, Args)]
pub(crate) struct EmitArgs {
    /// Also write the object to FILE as a raw DAG-CBOR block (a command that signs several
    /// objects writes FILE, then FILE-2, FILE-3 … before the extension).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Sign only: do not submit to a node.
    #[arg(long)]
    pub no_submit: bool,
    /// The node's loopback endpoint, e.g. http://127.0.0.1:7070 [default: the node running
    /// on the data directory, as `vouch node status` finds it].
    #[arg(long, env = "VOUCH_NODE", value_name = "URL")]
    pub node: Option<String>,
    /// The running node's data directory [default: $VOUCH_DATA_DIR, else
    /// $XDG_DATA_HOME/vouch or ~/.local/share/vouch].
    #[arg(long, env = "VOUCH_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print one JSON line per object, with the object itself.
    #[arg(long)]
    pub json: bool,
}

/// No node to submit to: not running, or not answering. Exit code 3.
#[derive(Debug, thiserror::Error)]
#[error("[node-unreachable] {0} (start one with `vouch node run`, name it with --node, or use --no-submit)")]
pub(crate) struct NodeUnreachable(pub String);

/// The node's answer to one object.
#[derive(Debug, Clone)]
pub(crate) enum Submission {
    /// Not submitted (`--no-submit`).
    Skipped,
    /// Stored; `new` is false when the node already had it.
    Accepted { new: bool },
    /// Refused, with the node's error code and message.
    Refused { code: String, message: String },
}

impl Submission {
    /// True when the object is published (or deliberately kept local).
    pub(crate) fn ok(&self) -> bool {
        !matches!(self, Submission::Refused { .. })
    }
}

/// Finds the node: `--node URL`, else the `api.addr` of the data directory.
pub(crate) fn node_addr(node: Option<&str>, data_dir: Option<&Path>) -> Result<SocketAddr> {
    if let Some(url) = node {
        let hostport = url
            .trim()
            .strip_prefix("http://")
            .unwrap_or(url.trim())
            .trim_end_matches('/');
        return hostport
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| {
                NodeUnreachable(format!(
                    "--node {url:?} is not host:port or http://host:port"
                ))
                .into()
            });
    }
    let dir = data_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(vouch_node::store::default_data_dir);
    client::api_addr(&dir).map_err(|_| {
        NodeUnreachable(format!(
            "no running node on data directory {}",
            dir.display()
        ))
        .into()
    })
}

/// Sends one object to the node.
pub(crate) fn submit(addr: SocketAddr, bytes: &[u8]) -> Result<Submission> {
    let resp = client::request(addr, "POST", "/v1/objects", bytes).map_err(|e| match e {
        ClientError::Io(io) => anyhow::Error::new(NodeUnreachable(format!("node at {addr}: {io}"))),
        other => anyhow::Error::new(other),
    })?;
    let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
    if resp.status == 200 {
        return Ok(Submission::Accepted {
            new: body["new"].as_bool().unwrap_or(false),
        });
    }
    Ok(Submission::Refused {
        code: body["error"]["code"]
            .as_str()
            .unwrap_or("http-error")
            .to_owned(),
        message: body["error"]["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("status {}", resp.status)),
    })
}

/// `FILE` for the first object, `FILE-2.ext`, `FILE-3.ext` … for the next ones.
fn out_path(out: &Path, index: usize) -> PathBuf {
    if index == 0 {
        return out.to_path_buf();
    }
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match out.extension() {
        Some(ext) => format!("{stem}-{}.{}", index + 1, ext.to_string_lossy()),
        None => format!("{stem}-{}", index + 1),
    };
    out.with_file_name(name)
}

/// Writes, submits and prints `objects`; answers each one's submission. Refusals are
/// printed (stderr, or in the JSON line); a missing node is an error (exit code 3).
pub(crate) fn emit(args: &EmitArgs, objects: &[SignedObject]) -> Result<Vec<Submission>> {
    let mut files = Vec::new();
    if let Some(out) = &args.out {
        for (i, obj) in objects.iter().enumerate() {
            let path = out_path(out, i);
            std::fs::write(&path, obj.bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            files.push(Some(path));
        }
    }
    files.resize(objects.len(), None);
    let mut results = Vec::new();
    let addr = if args.no_submit {
        None
    } else {
        Some(node_addr(args.node.as_deref(), args.data_dir.as_deref())?)
    };
    for (obj, file) in objects.iter().zip(&files) {
        let result = match addr {
            None => Submission::Skipped,
            Some(addr) => submit(addr, obj.bytes())?,
        };
        if args.json {
            let submitted = match &result {
                Submission::Skipped => serde_json::Value::Null,
                Submission::Accepted { new } => {
                    json!({ "node": addr.map(|a| a.to_string()), "new": new })
                }
                Submission::Refused { .. } => serde_json::Value::Null,
            };
            let mut line = json!({
                "cid": obj.id().to_string(),
                "kind": obj.kind().as_str(),
                "object": crate::cli_objects::object_json(obj),
                "file": file,
                "submitted": submitted,
            });
            if let Submission::Refused { code, message } = &result {
                line["error"] = json!({ "code": code, "message": message });
            }
            println!("{line}");
        } else {
            println!("{}", obj.id());
            if let Submission::Refused { code, message } = &result {
                eprintln!("error: the node refused {}: [{code}] {message}", obj.id());
            }
        }
        results.push(result);
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn out_paths_number_the_extra_objects() {
        let p = Path::new("/tmp/x/group.cbor");
        assert_eq!(out_path(p, 0), PathBuf::from("/tmp/x/group.cbor"));
        assert_eq!(out_path(p, 1), PathBuf::from("/tmp/x/group-2.cbor"));
        assert_eq!(out_path(Path::new("g"), 2), PathBuf::from("g-3"));
    }

    #[test]
    fn node_urls() {
        let a = node_addr(Some("http://127.0.0.1:7070/"), None).unwrap();
        assert_eq!(a, "127.0.0.1:7070".parse().unwrap());
        let a = node_addr(Some("127.0.0.1:9"), None).unwrap();
        assert_eq!(a.port(), 9);
        let e = node_addr(Some("https://"), None).unwrap_err();
        assert!(e.downcast_ref::<NodeUnreachable>().is_some());
    }
}
