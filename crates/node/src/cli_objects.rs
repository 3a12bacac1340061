//! `vouch object`: check objects from files (raw DAG-CBOR blocks or hex), show them, and
//! sign simple ones.

use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::process::ExitCode;
use vouch_identity::PublicKey;
use vouch_reputation::{
    validate, Body, GroupRef, Object, PostBody, RotateBody, SignedObject, Subject,
};

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

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
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
        Body::Rotate(RotateBody::Handover { new, .. }) => format!("rotate to {new}"),
        Body::Rotate(RotateBody::Reveal { old, .. }) => format!("rotate from {old}"),
        Body::Revoke(r) => format!("revoke since {}", r.since),
        Body::Link(l) => format!("link to {}", l.identity),
        Body::Incept(_) => "incept (pre-rotation commitment)".to_string(),
        Body::Poll(p) => format!("poll in {:?} ({} options)", p.group.name, p.options),
        Body::Ballot(b) => format!("ballot {} in poll {}", b.choice, b.poll),
    };
    format!("{what} by {} at {}", obj.author(), obj.at())
}

fn subject(s: &Subject) -> String {
    s.to_string()
}

fn subject_json(s: &Subject) -> Value {
    match s {
        Subject::Key(k) => json!({ "key": k.to_did_key() }),
        Subject::Object(o) => json!({ "obj": o.to_string() }),
    }
}

fn owner_name_json(owner: &PublicKey, name: &str) -> Value {
    json!({ "owner": owner.to_did_key(), "name": name })
}

/// An object as JSON for people and scripts: keys as did:key, ids as CIDs, signatures as
/// hex, every body field under its wire name (absent optional fields are left out).
pub(crate) fn object_json(obj: &SignedObject) -> Value {
    let mut body = Map::new();
    let mut put = |k: &str, v: Value| {
        if !v.is_null() {
            body.insert(k.to_owned(), v);
        }
    };
    let group = |g: &Option<GroupRef>| {
        g.as_ref()
            .map_or(Value::Null, |g| owner_name_json(&g.owner, &g.name))
    };
    match obj.body() {
        Body::Post(p) => {
            put("group", group(&p.group));
            put("text", json!(p.text));
            if !p.links.is_empty() {
                put(
                    "links",
                    json!(p.links.iter().map(|c| c.to_string()).collect::<Vec<_>>()),
                );
            }
            put("reply", json!(p.reply.map(|r| r.to_string())));
            put("root", json!(p.root.map(|r| r.to_string())));
        }
        Body::Vote(v) => {
            put("target", subject_json(&v.target));
            put("value", json!(v.value));
            put("epoch", json!(v.epoch));
            put("group", group(&v.group));
        }
        Body::Attest(a) => {
            put("subject", json!(a.subject.to_did_key()));
            put("level", json!(a.level));
            put("context", group(&a.context));
            put("claim", json!(a.claim));
            put("expires", json!(a.expires));
        }
        Body::List(l) => {
            put("name", json!(l.name));
            put("purpose", json!(l.purpose.as_str()));
            put("description", json!(l.description));
            put("group", group(&l.group));
            put("seq", json!(l.seq));
        }
        Body::ListAdd(a) => {
            put("list", owner_name_json(&a.list.owner, &a.list.name));
            put("subject", subject_json(&a.subject));
            put("reason", json!(a.reason));
            put("category", json!(a.category));
            put("expires", json!(a.expires));
        }
        Body::ListRemove(r) => {
            put("list", owner_name_json(&r.list.owner, &r.list.name));
            put(
                "adds",
                json!(r.adds.iter().map(|a| a.to_string()).collect::<Vec<_>>()),
            );
        }
        Body::Group(g) => {
            put("name", json!(g.name));
            put("rules", json!(g.rules));
            let mut policy = Map::new();
            if let Some(v) = g.policy.min_trust {
                policy.insert("min_trust".into(), json!(v));
            }
            if let Some(v) = g.policy.vote_budget {
                policy.insert("vote_budget".into(), json!(v));
            }
            if let Some(v) = &g.policy.credential_issuer {
                policy.insert("credential_issuer".into(), json!(v));
            }
            if g.policy.personhood_votes {
                policy.insert("personhood_votes".into(), json!(true));
            }
            put("policy", Value::Object(policy));
            if !g.moderators.is_empty() {
                put(
                    "moderators",
                    json!(g
                        .moderators
                        .iter()
                        .map(|m| m.to_did_key())
                        .collect::<Vec<_>>()),
                );
            }
            put("seq", json!(g.seq));
        }
        Body::Label(l) => {
            put("subject", subject_json(&l.subject));
            put("value", json!(l.value));
            if l.neg {
                put("neg", json!(true));
            }
            put("reason", json!(l.reason));
            put("expires", json!(l.expires));
        }
        Body::Report(r) => {
            put("subject", subject_json(&r.subject));
            put("group", owner_name_json(&r.group.owner, &r.group.name));
            put("category", json!(r.category));
            put("text", json!(r.text));
        }
        Body::Appeal(a) => {
            put("target", json!(a.target.to_string()));
            put("text", json!(a.text));
            put("outcome", json!(a.outcome.map(|o| o.as_str())));
        }
        Body::Rotate(RotateBody::Handover { new, new_sig }) => {
            put("new", json!(new.to_did_key()));
            put("new_sig", json!(hex::encode(new_sig.0)));
        }
        Body::Rotate(RotateBody::Reveal { old, next, since }) => {
            put("old", json!(old.to_did_key()));
            put("next", json!(next.map(|d| hex::encode(d.0))));
            put("since", json!(since));
        }
        Body::Incept(i) => put("next", json!(hex::encode(i.next.0))),
        Body::Poll(p) => {
            put("group", owner_name_json(&p.group.owner, &p.group.name));
            put("header", json!(p.header.to_string()));
            put("text", json!(p.text));
            put("options", json!(p.options));
            put("closes", json!(p.closes));
            if let Some(a) = &p.amend {
                put(
                    "amend",
                    json!({"min_trust": a.min_trust, "vote_budget": a.vote_budget}),
                );
            }
        }
        Body::Ballot(b) => {
            put("poll", json!(b.poll.to_string()));
            put("choice", json!(b.choice));
            put("proof", json!(hex::encode(&b.proof)));
        }

        Body::Revoke(r) => {
            put("since", json!(r.since));
            put("reason", json!(r.reason));
        }
        Body::Link(l) => {
            put("identity", json!(l.identity));
            put("proof", json!(hex::encode(l.proof.0)));
        }
    }
    json!({
        "v": 1,
        "kind": obj.kind().as_str(),
        "author": obj.author().to_did_key(),
        "at": obj.at(),
        "body": Value::Object(body),
        "sig": hex::encode(obj.signature().0),
    })
}

pub(crate) fn run(cmd: ObjectCmd) -> Result<ExitCode> {
    match cmd {
        ObjectCmd::Check { files, now, json } => {
            let now = now.unwrap_or_else(now_ms);
            let mut all_ok = true;
            for file in &files {
                let bytes = read_object_file(file)?;
                match validate(&bytes, now) {
                    Ok(obj) => {
                        if json {
                            println!(
                                "{}",
                                serde_json::json!({"file": file, "valid": true, "cid": obj.id().to_string(), "kind": obj.kind().as_str(), "author": obj.author().to_did_key(), "at": obj.at(), "object": object_json(&obj)})
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
            let sk = crate::cli_keys::load_key(key_dir, &key)?;
            let obj = Object {
                author: sk.public_key(),
                at: now_ms(),
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
                    json!({"cid": obj.id().to_string(), "file": out, "object": object_json(&obj), "hex": hex::encode(obj.bytes())})
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
