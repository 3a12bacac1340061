//! `vouch key`: create, list and show posting keys kept as owner-only files in a key folder.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vouch_identity::{read_key_file, write_key_file, SecretKey};

/// Where keys live unless `--key-dir` or `VOUCH_KEY_DIR` says otherwise.
pub(crate) fn default_key_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("VOUCH_HOME") {
        return PathBuf::from(dir).join("keys");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".vouch").join("keys")
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeyCmd {
    /// Create a new anonymous posting key.
    ///
    /// Example: vouch key new alice
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
    ///
    /// Example: vouch key list --json
    List {
        /// Key folder.
        #[arg(long, env = "VOUCH_KEY_DIR")]
        key_dir: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one key's public forms (did:key and hex).
    ///
    /// Example: vouch key show alice
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

/// Loads a key by local name from the key folder.
pub(crate) fn load_key(dir: Option<PathBuf>, name: &str) -> Result<SecretKey> {
    let dir = dir.unwrap_or_else(default_key_dir);
    let path = key_path(&dir, name)?;
    read_key_file(&path).with_context(|| format!("reading key {}", path.display()))
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
    }
    Ok(ExitCode::SUCCESS)
}
