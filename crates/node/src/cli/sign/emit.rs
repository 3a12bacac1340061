//! What every signing command does with the objects it signed: write them (`--out`), submit
//! them to a running node (`POST /v1/objects`, unless `--no-submit`) and print their CIDs
//! (or JSON with `--json`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use vouch_reputation::SignedObject;

use crate::cli::connect::{NodeArgs, NodeConn};

/// Output and submission flags shared by every command that signs objects.
#[derive(Debug, Clone, Args)]
pub(crate) struct EmitArgs {
    /// Also write the object to FILE as a raw DAG-CBOR block (a command that signs several
    /// objects writes FILE, then FILE-2, FILE-3 … before the extension).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Sign only: do not submit to a node.
    #[arg(long)]
    pub(crate) no_submit: bool,
    #[command(flatten)]
    pub(crate) node: NodeArgs,
    /// Print one JSON line per object, with the object itself.
    #[arg(long)]
    pub(crate) json: bool,
}

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

/// Sends one object to the node.
pub(crate) fn submit(node: &NodeConn, bytes: &[u8]) -> Result<Submission> {
    let resp = node.request("POST", "/v1/objects", Some("application/cbor"), bytes)?;
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
    let node = if args.no_submit {
        None
    } else {
        Some(args.node.resolve()?)
    };
    for (obj, file) in objects.iter().zip(&files) {
        let result = match &node {
            None => Submission::Skipped,
            Some(node) => submit(node, obj.bytes())?,
        };
        if args.json {
            let submitted = match &result {
                Submission::Skipped => serde_json::Value::Null,
                Submission::Accepted { new } => {
                    json!({ "node": node.as_ref().map(|n| n.addr.to_string()), "new": new })
                }
                Submission::Refused { .. } => serde_json::Value::Null,
            };
            let mut line = json!({
                "cid": obj.id().to_string(),
                "kind": obj.kind().as_str(),
                "object": crate::json::ObjectJson::new(obj),
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
}
