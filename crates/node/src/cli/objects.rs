//! `vouch object`: check objects from files (raw DAG-CBOR blocks or hex), show them, and
//! sign simple ones.

use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use vouch_reputation::{validate, Body, Object, PostBody, RotateBody, SignedObject, Subject};

use crate::json::ObjectJson;

#[derive(Debug, Subcommand)]
pub(crate) enum ObjectCmd {
    /// Validate objects: each FILE holds one object as raw DAG-CBOR bytes or as hex text.
    /// Exit code 1 if any is invalid.
    #[command(after_help = "Example:\n  vouch object check post.cbor vote.hex --json")]
    Check {
        /// Object files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Validate as of this time (ms since the epoch) instead of now.
        #[arg(long)]
        now: Option<u64>,
        /// Print JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Sign a text post with a key from the key folder and write it as a DAG-CBOR block
    /// (`vouch post` also submits it).
    #[command(after_help = "Example:\n  vouch object post alice \"hello\" --out hello.cbor")]
    Post {
        /// The author's key name.
        key: String,
        /// The text.
        text: String,
        /// Where to write the block (default: print hex to stdout).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Key folder.
        #[arg(long, env = "VOUCH_KEY_DIR")]
        key_dir: Option<PathBuf>,
        /// Print JSON: the CID, the object and its bytes (hex).
        #[arg(long)]
        json: bool,
    },
}

/// Reads an object file: raw bytes, or hex text if the file is entirely hex digits.
pub(crate) fn read_object_file(path: &PathBuf) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let trimmed: Vec<u8> = raw
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if !trimmed.is_empty()
        && trimmed.len().is_multiple_of(2)
        && trimmed.iter().all(u8::is_ascii_hexdigit)
    {
        if let Ok(bytes) = hex::decode(&trimmed) {
            return Ok(bytes);
        }
    }
    Ok(raw)
}

fn describe(obj: &SignedObject) -> String {
    let what = match obj.body() {
        Body::Post(p) => format!("post {:?}", p.text),
        Body::Vote(v) => format!("vote {:+} on {}", v.value, subject(&v.target)),
        Body::Attest(a) => format!("attest level {} for {}", a.level, a.subject),
        Body::List(l) => format!("list {:?} ({}) seq {}", l.name, l.purpose.as_str(), l.seq),
        Body::ListAdd(a) => format!("list-add {} to {:?}", subject(&a.subject), a.list.name),
        Body::ListRemove(r) => format!(
            "list-remove {} entries from {:?}",
            r.adds.len(),
            r.list.name
        ),
        Body::Group(g) => format!(
            "group {:?} seq {} with {} moderators",
            g.name,
            g.seq,
            g.moderators.len()
        ),
        Body::Label(l) => format!(
            "label {}{} on {}",
            if l.neg { "not " } else { "" },
            l.value,
            subject(&l.subject)
        ),
        Body::Report(r) => format!("report {} for {}", r.category, subject(&r.subject)),
        Body::Appeal(a) => format!("appeal on {}", a.target),
        Body::Dismiss(d) => format!(
            "dismissal of {} reports to {:?}",
            d.reports.len(),
            d.group.name
        ),
        Body::Rotate(RotateBody::Handover { new, .. }) => format!("rotate to {new}"),
        Body::Rotate(RotateBody::Reveal { old, .. }) => format!("rotate from {old}"),
        Body::Revoke(r) => format!("revoke since {}", r.since),
        Body::Link(l) => format!("link to {}", l.identity),
        Body::Incept(_) => "incept (pre-rotation commitment)".to_string(),
        Body::Poll(p) => format!("poll in {:?} ({} options)", p.group.name, p.options),
        Body::Ballot(b) => format!("ballot {} in poll {}", b.choice, b.poll),
        Body::Credential(c) => format!("public credential ({} bytes)", c.vc.len()),
        Body::CredentialRevoke(r) => format!("revocation of credential {}", r.credential),
    };
    format!("{what} by {} at {}", obj.author(), obj.at())
}

fn subject(s: &Subject) -> String {
    s.to_string()
}

pub(crate) fn run(cmd: ObjectCmd) -> Result<ExitCode> {
    match cmd {
        ObjectCmd::Check { files, now, json } => {
            let now = now.unwrap_or_else(crate::node::clock::now_ms);
            let mut all_ok = true;
            for file in &files {
                let bytes = read_object_file(file)?;
                match validate(&bytes, now) {
                    Ok(obj) => {
                        if json {
                            println!(
                                "{}",
                                serde_json::json!({"file": file, "valid": true, "cid": obj.id().to_string(), "kind": obj.kind().as_str(), "author": obj.author().to_did_key(), "at": obj.at(), "object": ObjectJson::new(&obj)})
                            );
                        } else {
                            println!("{}: valid {} {}", file.display(), obj.id(), describe(&obj));
                        }
                    }
                    Err(e) => {
                        all_ok = false;
                        if json {
                            println!(
                                "{}",
                                serde_json::json!({"file": file, "valid": false, "error": {"code": e.code(), "message": e.to_string()}})
                            );
                        } else {
                            println!("{}: invalid [{}] {e}", file.display(), e.code());
                        }
                    }
                }
            }
            Ok(if all_ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        ObjectCmd::Post {
            key,
            text,
            out,
            key_dir,
            json,
        } => {
            let sk = crate::cli::keys::load_key(key_dir, &key)?;
            let obj = Object {
                author: sk.public_key(),
                at: crate::node::clock::now_ms(),
                body: Body::Post(PostBody {
                    text,
                    ..Default::default()
                }),
            }
            .sign(&sk)
            .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
            if let Some(path) = &out {
                std::fs::write(path, obj.bytes())
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            if json {
                println!(
                    "{}",
                    json!({"cid": obj.id().to_string(), "file": out, "object": ObjectJson::new(&obj), "hex": hex::encode(obj.bytes())})
                );
            } else if out.is_some() {
                println!("{}", obj.id());
            } else {
                println!("{}", hex::encode(obj.bytes()));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
