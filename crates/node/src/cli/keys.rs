//! `vouch key`: create, list, show, rotate and revoke posting keys kept as owner-only files
//! in a key folder, with pre-rotation (`specs/identity.md` §1.1).
//!
//! Files of a key NAME in the key folder (all owner-only): `NAME.key` the posting key;
//! `NAME.next.key` the key it committed to (keep it offline: whoever holds it can rotate
//! NAME); `NAME.incept.cbor` the signed commitment (`incept`), or `NAME.incept.pending.cbor`
//! while no node has accepted it (the key's next signed object publishes it first).
//! `vouch key rotate NAME NEW` signs a version 2 rotation with the committed key, which
//! becomes `NEW.key` with a commitment of its own; a key without a commitment can only hand
//! over with a version 1 rotation, which whoever stole its file can sign too (a warning).

use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vouch_identity::{read_key_file, write_key_file, SecretKey};
use vouch_reputation::{Body, InceptBody, Object, RevokeBody, RotateBody, SignedObject};

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
    /// Create a new anonymous posting key, and the key it commits to for a rotation
    /// (NAME.next.key: keep it offline); publish the commitment (`incept`).
    #[command(
        after_help = "Examples:\n  vouch key new alice\n  vouch key new bob --json\n  \
        vouch key new carol --no-submit    # the commitment waits in carol.incept.pending.cbor\n\n\
        With no node to publish to, the commitment is kept and published before the key's\n\
        next signed object (or by `vouch key commit NAME`)."
    )]
    New {
        /// A local name for the key (the file is NAME.key in the key folder).
        name: String,
        /// Key folder [default: $VOUCH_HOME/keys or ~/.vouch/keys].
        #[arg(long, env = "VOUCH_KEY_DIR")]
        key_dir: Option<PathBuf>,
        /// No next key and no commitment (such a key can be revoked, never recovered).
        #[arg(long)]
        no_commit: bool,
        /// Do not publish the commitment now.
        #[arg(long)]
        no_submit: bool,
        #[command(flatten)]
        node: crate::cli::connect::NodeArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Publish a key's commitment to its next key, making one first if it has none (keys
    /// made with --no-commit or before pre-rotation).
    #[command(after_help = "Example:\n  vouch key commit alice")]
    Commit {
        /// The key's local name.
        name: String,
        /// Key folder.
        #[arg(long, env = "VOUCH_KEY_DIR")]
        key_dir: Option<PathBuf>,
        #[command(flatten)]
        emit: crate::cli::sign::EmitArgs,
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
    /// Rotate OLD to NEW: with a committed next key (OLD.next.key), a version 2 rotation
    /// signed by it (OLD's own key is not needed, so a stolen or lost key is recovered);
    /// NEW is that key, with a fresh commitment. Without one, a version 1 handover signed by
    /// OLD and countersigned by a new key (a warning: a thief holding OLD can sign one too).
    #[command(after_help = "Examples:\n  vouch key rotate alice alice-2\n  \
        vouch key rotate alice alice-2 --since 2026-11-20T08:00:00Z   # alice's objects from then on are void\n\n\
        If NEW already exists in the key folder (e.g. a first try could not reach the node),\n\
        it is used as the new key.")]
    Rotate {
        /// The key being replaced (its local name).
        old: String,
        /// The local name of the new key.
        new: String,
        /// OLD's objects from this time on are void (version 2 only) [default: the
        /// rotation's time]. Set it to before a theft.
        #[arg(long, allow_hyphen_values = true)]
        since: Option<String>,
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

/// The file of the key NAME committed to.
pub(crate) fn next_key_path(dir: &Path, name: &str) -> Result<PathBuf> {
    key_path(dir, name)?;
    Ok(dir.join(format!("{name}.next.key")))
}

/// NAME's commitment, published (`NAME.incept.cbor`) or not yet (`…pending.cbor`).
fn incept_path(dir: &Path, name: &str, pending: bool) -> PathBuf {
    if pending {
        dir.join(format!("{name}.incept.pending.cbor"))
    } else {
        dir.join(format!("{name}.incept.cbor"))
    }
}

/// Creates the key folder, owner-only.
fn ensure_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {}", dir.display()))?;
    }
    Ok(())
}

/// Makes NAME's next key (`NAME.next.key`) and the `incept` committing `key` to it, kept in
/// `NAME.incept.pending.cbor` until a node accepts it.
fn make_commitment(dir: &Path, name: &str, key: &SecretKey) -> Result<SignedObject> {
    let next_path = next_key_path(dir, name)?;
    let next = SecretKey::generate(&mut rand_core::OsRng);
    write_key_file(&next_path, &next)
        .with_context(|| format!("writing {}", next_path.display()))?;
    let obj = Object {
        author: key.public_key(),
        at: crate::node::clock::now_ms(),
        body: Body::Incept(InceptBody {
            next: next.public_key().next_key_digest(),
        }),
    }
    .sign(key)
    .map_err(|e| anyhow!("[{}] {e}", e.code()))?;
    let pending = incept_path(dir, name, true);
    std::fs::write(&pending, obj.bytes())
        .with_context(|| format!("writing {}", pending.display()))?;
    Ok(obj)
}

/// NAME's commitment not yet accepted by a node, if any.
pub(crate) fn pending_incept(dir: &Path, name: &str) -> Option<Vec<u8>> {
    std::fs::read(incept_path(dir, name, true)).ok()
}

/// Submits NAME's pending commitment to `node`; once accepted it is kept as
/// `NAME.incept.cbor`. Nothing to do without one.
pub(crate) fn publish_pending_incept(
    dir: &Path,
    name: &str,
    node: &crate::cli::connect::NodeConn,
) -> Result<()> {
    let Some(bytes) = pending_incept(dir, name) else {
        return Ok(());
    };
    match crate::cli::sign::submit_object(node, &bytes)? {
        crate::cli::sign::Submission::Refused { code, message } => {
            bail!("the node refused {name}'s commitment: [{code}] {message}")
        }
        _ => {
            std::fs::rename(incept_path(dir, name, true), incept_path(dir, name, false))
                .with_context(|| format!("recording {name}'s published commitment"))?;
            Ok(())
        }
    }
}

/// The public key of NAME: from NAME.key, else (a key whose file is lost) from its
/// commitment, which it signed.
fn public_key_of(dir: &Path, name: &str) -> Result<vouch_identity::PublicKey> {
    if let Ok(k) = load_key(Some(dir.to_path_buf()), name) {
        return Ok(k.public_key());
    }
    for pending in [false, true] {
        if let Ok(bytes) = std::fs::read(incept_path(dir, name, pending)) {
            if let Ok(obj) = vouch_reputation::validate(&bytes, u64::MAX) {
                return Ok(*obj.author());
            }
        }
    }
    bail!(
        "neither {name}.key nor its commitment ({name}.incept.cbor) is in {}",
        dir.display()
    )
}

/// Reads the key at `path`, or makes and writes a new one there.
fn read_or_make(path: &Path) -> Result<SecretKey> {
    if path.exists() {
        read_key_file(path).with_context(|| format!("reading key {}", path.display()))
    } else {
        let key = SecretKey::generate(&mut rand_core::OsRng);
        write_key_file(path, &key).with_context(|| format!("writing {}", path.display()))?;
        Ok(key)
    }
}

/// Local key names in `dir` (the stems of `NAME.key`; `NAME.next.key` files are not keys
/// one signs with).
pub(crate) fn key_names(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    if dir.exists() {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "key") {
                if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                    if !stem.contains('.') {
                        names.push(stem.to_string());
                    }
                }
            }
        }
    }
    names.sort();
    Ok(names)
}

pub(crate) fn run(cmd: KeyCmd) -> Result<ExitCode> {
    match cmd {
        KeyCmd::New {
            name,
            key_dir,
            no_commit,
            no_submit,
            node,
            json,
        } => {
            let dir = key_dir.unwrap_or_else(default_key_dir);
            ensure_dir(&dir)?;
            let path = key_path(&dir, &name)?;
            let key = SecretKey::generate(&mut rand_core::OsRng);
            write_key_file(&path, &key).with_context(|| format!("writing {}", path.display()))?;
            let mut incept = None;
            let mut published = false;
            if !no_commit {
                let obj = make_commitment(&dir, &name, &key)?;
                incept = Some(obj.id());
                if !no_submit {
                    let sent = node
                        .resolve()
                        .map_err(anyhow::Error::new)
                        .and_then(|conn| publish_pending_incept(&dir, &name, &conn));
                    match sent {
                        Ok(()) => published = true,
                        Err(e) if is_unreachable(&e) => eprintln!(
                            "note: no node to publish {name}'s commitment to; it waits in {} and \
                             goes out before {name}'s next signed object (or `vouch key commit {name}`)",
                            incept_path(&dir, &name, true).display()
                        ),
                        Err(e) => return Err(e),
                    }
                }
                eprintln!(
                    "{name} commits to its next key {}: keep that file offline; whoever holds \
                     it can rotate {name} (`vouch key rotate {name} NEW`)",
                    next_key_path(&dir, &name)?.display()
                );
            }
            let pk = key.public_key();
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "name": name,
                        "did": pk.to_did_key(),
                        "public_key": hex::encode(pk.as_bytes()),
                        "incept": incept.map(|i| i.to_string()),
                        "committed": incept.is_some(),
                        "published": published,
                    })
                );
            } else {
                println!("{name}\t{}", pk.to_did_key());
            }
        }
        KeyCmd::Commit {
            name,
            key_dir,
            emit,
        } => {
            let dir = key_dir.unwrap_or_else(default_key_dir);
            let key = load_key(Some(dir.clone()), &name)?;
            let published = incept_path(&dir, &name, false);
            let obj = match pending_incept(&dir, &name) {
                Some(bytes) => vouch_reputation::validate(&bytes, u64::MAX)
                    .map_err(|e| anyhow!("[{}] {e}", e.code()))?,
                None if published.exists() => {
                    let bytes = std::fs::read(&published)?;
                    eprintln!("{name} is committed already; publishing its commitment again");
                    vouch_reputation::validate(&bytes, u64::MAX)
                        .map_err(|e| anyhow!("[{}] {e}", e.code()))?
                }
                None => {
                    if next_key_path(&dir, &name)?.exists() {
                        bail!("{name}.next.key exists without a commitment: move it away first");
                    }
                    make_commitment(&dir, &name, &key)?
                }
            };
            let code = crate::cli::sign::emit_objects(&emit, std::slice::from_ref(&obj))?;
            if code == ExitCode::SUCCESS && !emit.no_submit && pending_incept(&dir, &name).is_some()
            {
                std::fs::rename(incept_path(&dir, &name, true), &published)?;
            }
            return Ok(code);
        }
        KeyCmd::List { key_dir, json } => {
            let dir = key_dir.unwrap_or_else(default_key_dir);
            for name in key_names(&dir)? {
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
            since,
            key_dir,
            emit,
        } => {
            let dir = key_dir.unwrap_or_else(default_key_dir);
            ensure_dir(&dir)?;
            let next_path = next_key_path(&dir, &old)?;
            if next_path.exists() {
                return rotate_committed(&dir, &old, &new, since.as_deref(), &emit);
            }
            if since.is_some() {
                bail!("--since needs a committed next key ({old}.next.key): a version 1 handover voids from its own time");
            }
            eprintln!(
                "warning: {old} has no committed next key ({}): this is a version 1 handover \
                 signed by {old}, which anyone holding {old}'s key file can sign too. It counts \
                 only while {old} has no commitment on the network (specs/identity.md §1.1). \
                 {new} gets a commitment of its own.",
                next_path.display()
            );
            let old_sk = load_key(Some(dir.clone()), &old)?;
            let new_sk = read_or_make(&key_path(&dir, &new)?)?;
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
            let mut objects = vec![obj];
            if !next_key_path(&dir, &new)?.exists() {
                objects.push(make_commitment(&dir, &new, &new_sk)?);
            }
            let code = crate::cli::sign::emit_objects(&emit, &objects)?;
            if code == ExitCode::SUCCESS && !emit.no_submit && objects.len() > 1 {
                std::fs::rename(
                    incept_path(&dir, &new, true),
                    incept_path(&dir, &new, false),
                )?;
            }
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

/// True when `e` says no node answers (exit code 3 elsewhere).
fn is_unreachable(e: &anyhow::Error) -> bool {
    e.downcast_ref::<crate::cli::connect::NodeUnreachable>()
        .is_some()
        || e.downcast_ref::<crate::client::ClientError>().is_some()
}

/// `vouch key rotate OLD NEW` with OLD.next.key: the committed key signs a version 2
/// rotation of OLD and becomes NEW, committed in turn to a fresh NEW.next.key.
fn rotate_committed(
    dir: &Path,
    old: &str,
    new: &str,
    since: Option<&str>,
    emit: &crate::cli::sign::EmitArgs,
) -> Result<ExitCode> {
    let next_path = next_key_path(dir, old)?;
    let committed = read_key_file(&next_path)
        .with_context(|| format!("reading the committed key {}", next_path.display()))?;
    let old_pk = public_key_of(dir, old)?;
    let new_path = key_path(dir, new)?;
    if new_path.exists() {
        let existing = read_key_file(&new_path)
            .with_context(|| format!("reading key {}", new_path.display()))?;
        if existing.public_key() != committed.public_key() {
            bail!("{new}.key exists and is not the key {old} committed to: name another NEW");
        }
    } else {
        write_key_file(&new_path, &committed)
            .with_context(|| format!("writing {}", new_path.display()))?;
    }
    let after = read_or_make(&next_key_path(dir, new)?)?;
    let at = crate::node::clock::now_ms();
    let since = since
        .map(|t| crate::cli::sign::parse_time(t, at))
        .transpose()?;
    let obj = Object {
        author: committed.public_key(),
        at,
        body: Body::Rotate(RotateBody::Reveal {
            old: old_pk,
            next: Some(after.public_key().next_key_digest()),
            since,
        }),
    }
    .sign(&committed)
    .map_err(|e| anyhow!("[{}] {e}", e.code()))?;
    // The commitment must be known for the rotation to count: publish it first if no node
    // accepted it yet.
    if !emit.no_submit {
        let node = emit.node.resolve()?;
        publish_pending_incept(dir, old, &node)?;
    }
    let code = crate::cli::sign::emit_objects(emit, std::slice::from_ref(&obj))?;
    if code == ExitCode::SUCCESS && !emit.no_submit {
        // The committed key now lives as NEW.key.
        std::fs::remove_file(&next_path)
            .with_context(|| format!("removing {}", next_path.display()))?;
    }
    eprintln!(
        "rotated {old} to {new}\t{} (signed by the key {old} committed to); {new} commits to \
         {}: keep it offline",
        committed.public_key().to_did_key(),
        next_key_path(dir, new)?.display()
    );
    Ok(code)
}
