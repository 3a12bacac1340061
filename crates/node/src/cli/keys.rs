//! `vouch key`: create, list and show posting keys kept as owner-only files in a key folder.

use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vouch_identity::{read_key_file, write_key_file, SecretKey};
use vouch_reputation::{Body, Object, RevokeBody, RotateBody};

/// Vouch's local folder: `$VOUCH_HOME`, else `~/.vouch`. Keys live in `keys/`, the record
/// of what local keys published in `published/`.
pub(crate) fn vouch_home() -> PathBuf {
    if let Some(dir) = std::env::var_os("VOUCH_HOME") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".vouch")
}

/// Where keys live unless `--key-dir` or `VOUCH_KEY_DIR` says otherwise.
pub(crate) fn default_key_dir() -> PathBuf {
    vouch_home().join("keys")
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeyCmd {
    /// Create a new anonymous posting key.
    #[command(after_help = "Examples:\n  vouch key new alice\n  vouch key new bob --json")]
    New {
        /// A local name for the key (the file is NAME.key in the key folder).
        name: String,
        /// Key folder [default: $VOUCH_HOME/keys or ~/.vouch/keys].
        #[arg(long, env = "VOUCH_KEY_DIR")]
        key_dir: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the keys in the key folder.
    #[command(after_help = "Example:\n  vouch key list --json")]
    List {
        /// Key folder.
        #[arg(long, env = "VOUCH_KEY_DIR")]
        key_dir: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one key's public forms (did:key and hex).
    #[command(after_help = "Example:\n  vouch key show alice --json")]
    Show {
        /// The key's local name.
        name: String,
        /// Key folder.
        #[arg(long, env = "VOUCH_KEY_DIR")]
        key_dir: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rotate to a new key: create NEW and publish a `rotate` object signed by OLD and
    /// countersigned by NEW, so that OLD's trust moves to NEW.
    #[command(after_help = "Example:\n  vouch key rotate alice alice-2\n\n\
        If NEW already exists in the key folder (e.g. a first try could not reach the node),\n\
        it is used as the new key.")]
    Rotate {
        /// The key handing over (its local name).
        old: String,
        /// The local name of the new key.
        new: String,
        /// Key folder.
        #[arg(long, env = "VOUCH_KEY_DIR")]
        key_dir: Option<PathBuf>,
        #[command(flatten)]
        emit: crate::cli::sign::EmitArgs,
    },
    /// Declare a key compromised: publish a `revoke` object; its objects from SINCE on are
    /// void everywhere.
    #[command(after_help = "Examples:\n  vouch key revoke alice\n  \
        vouch key revoke alice --since 2026-11-20T08:00:00Z --reason \"laptop stolen\"")]
    Revoke {
        /// The key's local name.
        name: String,
        /// Compromised since (now, ms, -2h, 2026-11-20, 2026-11-20T08:00:00Z).
        #[arg(long, default_value = "now", allow_hyphen_values = true)]
        since: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
        /// Key folder.
        #[arg(long, env = "VOUCH_KEY_DIR")]
        key_dir: Option<PathBuf>,
        #[command(flatten)]
        emit: crate::cli::sign::EmitArgs,
    },
}

pub(crate) fn key_path(dir: &Path, name: &str) -> Result<PathBuf> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("key names use letters, digits, '-' and '_' only: {name:?}");
    }
    Ok(dir.join(format!("{name}.key")))
}

/// Loads a key: by path when `name` contains `/` or ends in `.key`, else by local name from
/// the key folder (`dir`, else the default). The one key loader of every command.
pub(crate) fn load_key(dir: Option<PathBuf>, name: &str) -> Result<SecretKey> {
    let path = if name.contains('/') || name.ends_with(".key") {
        PathBuf::from(name)
    } else {
        key_path(&dir.unwrap_or_else(default_key_dir), name)?
    };
    read_key_file(&path).map_err(|e| anyhow::anyhow!("[{}] {e} ({})", e.code(), path.display()))
}

fn print_key(name: &str, key: &SecretKey, json: bool) {
    let pk = key.public_key();
    if json {
        println!(
            "{}",
            serde_json::json!({"name": name, "did": pk.to_did_key(), "public_key": hex::encode(pk.as_bytes())})
        );
    } else {
        println!("{name}\t{}", pk.to_did_key());
    }
}

pub(crate) fn run(cmd: KeyCmd) -> Result<ExitCode> {
    match cmd {
        KeyCmd::New {
            name,
            key_dir,
            json,
        } => {
            let dir = key_dir.unwrap_or_else(default_key_dir);
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                    .with_context(|| format!("restricting {}", dir.display()))?;
            }
            let path = key_path(&dir, &name)?;
            let key = SecretKey::generate(&mut rand_core::OsRng);
            write_key_file(&path, &key).with_context(|| format!("writing {}", path.display()))?;
            print_key(&name, &key, json);
        }
        KeyCmd::List { key_dir, json } => {
            let dir = key_dir.unwrap_or_else(default_key_dir);
            let mut names = Vec::new();
            if dir.exists() {
                for entry in std::fs::read_dir(&dir)? {
                    let path = entry?.path();
                    if path.extension().is_some_and(|e| e == "key") {
                        if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                            names.push(stem.to_string());
                        }
                    }
                }
            }
            names.sort();
            for name in names {
                let key = load_key(Some(dir.clone()), &name)?;
                print_key(&name, &key, json);
            }
        }
        KeyCmd::Show {
            name,
            key_dir,
            json,
        } => {
            let key = load_key(key_dir, &name)?;
            print_key(&name, &key, json);
        }
        KeyCmd::Rotate {
            old,
            new,
            key_dir,
            emit,
        } => {
            let dir = key_dir.unwrap_or_else(default_key_dir);
            let old_sk = load_key(Some(dir.clone()), &old)?;
            let new_path = key_path(&dir, &new)?;
            let new_sk = if new_path.exists() {
                read_key_file(&new_path)
                    .with_context(|| format!("reading key {}", new_path.display()))?
            } else {
                let key = SecretKey::generate(&mut rand_core::OsRng);
                write_key_file(&new_path, &key)
                    .with_context(|| format!("writing {}", new_path.display()))?;
                key
            };
            if new_sk.public_key() == old_sk.public_key() {
                bail!("{new:?} is the same key as {old:?}");
            }
            let at = crate::node::clock::now_ms();
            let obj = Object {
                author: old_sk.public_key(),
                at,
                body: Body::Rotate(RotateBody::new(&old_sk.public_key(), &new_sk, at)),
            }
            .sign(&old_sk)
            .map_err(|e| anyhow!("[{}] {e}", e.code()))?;
            let code = crate::cli::sign::emit_objects(&emit, std::slice::from_ref(&obj))?;
            eprintln!("new key {new}\t{}", new_sk.public_key().to_did_key());
            return Ok(code);
        }
        KeyCmd::Revoke {
            name,
            since,
            reason,
            key_dir,
            emit,
        } => {
            let sk = load_key(key_dir, &name)?;
            let at = crate::node::clock::now_ms();
            let since = crate::cli::sign::parse_time(&since, at)?;
            let obj = Object {
                author: sk.public_key(),
                at,
                body: Body::Revoke(RevokeBody { since, reason }),
            }
            .sign(&sk)
            .map_err(|e| anyhow!("[{}] {e}", e.code()))?;
            return crate::cli::sign::emit_objects(&emit, std::slice::from_ref(&obj));
        }
    }
    Ok(ExitCode::SUCCESS)
}
