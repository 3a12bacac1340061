//! `vouch personhood …`: anonymous personhood credentials (`specs/identity.md` §5) on the
//! command line. An issuer makes a BBS key once (`issuer new`); a person asks for a
//! credential (`request`: the blinded commitment goes to the issuer, the secrets stay in
//! the key folder), the issuer signs it blindly after checking the person (`issue`), and
//! the person finishes it (`finalize`). The credential then proves, per poll, "one person
//! under this issuer" without saying who (`vouch poll vote --credential NAME`).
//!
//! Files in the key folder, owner-only: `NAME.bbs-issuer` (an issuer's secret key),
//! `NAME.personhood-pending` (a holder's secrets while a request is out), `NAME.personhood`
//! (the holder's credential). Requests and issuances travel as small JSON files.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use serde_json::{json, Value};
use vouch_identity::{
    PendingPersonhood, PersonhoodCredential, PersonhoodIssuance, PersonhoodIssuer,
    PersonhoodIssuerKey, PersonhoodRequest, EXPIRY_GRANULARITY_MS,
};

/// `vouch personhood …`
#[derive(Debug, Subcommand)]
pub(super) enum PersonhoodCmd {
    /// An issuer's BBS key: make one, or show its did:key (what groups name in
    /// `--credential-issuer`).
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  vouch personhood issuer new --name town-hall\n  \
        vouch personhood issuer show town-hall"
    )]
    Issuer(IssuerCmd),
    /// (Person) Ask an issuer for a credential: writes the request to send and keeps the
    /// secrets in NAME.personhood-pending.
    #[command(after_help = "Example:\n  vouch personhood request --name me --out request.json")]
    Request {
        /// The credential's local name.
        #[arg(long, default_value = "personhood")]
        name: String,
        /// Write the request here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Key folder.
        #[arg(long, env = "VOUCH_KEY_DIR")]
        key_dir: Option<PathBuf>,
    },
    /// (Issuer) Sign a person's request blindly, once per person, after checking them.
    #[command(after_help = "Example:\n  \
        vouch personhood issue --issuer town-hall --request request.json --expires +90d --out issuance.json")]
    Issue {
        /// The issuer key's local name.
        #[arg(long)]
        issuer: String,
        /// The person's request (`vouch personhood request`).
        #[arg(long)]
        request: PathBuf,
        /// Expiry (+90d, 2027-03-31, ms …), rounded up to the end of its UTC day (every
        /// proof discloses it: issuers should use few shared days).
        #[arg(long, default_value = "+90d")]
        expires: String,
        /// Write the issuance here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Key folder.
        #[arg(long, env = "VOUCH_KEY_DIR")]
        key_dir: Option<PathBuf>,
    },
    /// (Person) Finish the credential with the issuer's answer: writes NAME.personhood.
    #[command(
        after_help = "Example:\n  vouch personhood finalize --name me --issuance issuance.json"
    )]
    Finalize {
        /// The credential's local name (as in `request`).
        #[arg(long, default_value = "personhood")]
        name: String,
        /// The issuer's answer (`vouch personhood issue`).
        #[arg(long)]
        issuance: PathBuf,
        /// Key folder.
        #[arg(long, env = "VOUCH_KEY_DIR")]
        key_dir: Option<PathBuf>,
    },
    /// Show a credential's issuer and expiry.
    #[command(after_help = "Example:\n  vouch personhood show me")]
    Show {
        /// The credential's local name.
        #[arg(default_value = "personhood")]
        name: String,
        /// Key folder.
        #[arg(long, env = "VOUCH_KEY_DIR")]
        key_dir: Option<PathBuf>,
    },
}

/// `vouch personhood issuer …`
#[derive(Debug, Subcommand)]
pub(super) enum IssuerCmd {
    /// Make an issuer key (NAME.bbs-issuer) and print its did:key.
    #[command(after_help = "Example:\n  vouch personhood issuer new --name town-hall")]
    New {
        /// The key's local name.
        #[arg(long)]
        name: String,
        /// Key folder.
        #[arg(long, env = "VOUCH_KEY_DIR")]
        key_dir: Option<PathBuf>,
    },
    /// Print an issuer key's did:key.
    #[command(after_help = "Example:\n  vouch personhood issuer show town-hall")]
    Show {
        /// The key's local name.
        name: String,
        /// Key folder.
        #[arg(long, env = "VOUCH_KEY_DIR")]
        key_dir: Option<PathBuf>,
    },
}

const ISSUER_HEADER: &str = "vouch-personhood-issuer-v1";
const PENDING_HEADER: &str = "vouch-personhood-pending-v1";
const CREDENTIAL_HEADER: &str = "vouch-personhood-credential-v1";

fn dir_of(key_dir: Option<PathBuf>) -> PathBuf {
    key_dir.unwrap_or_else(crate::cli::keys::default_key_dir)
}

fn file(dir: &Path, name: &str, ext: &str) -> Result<PathBuf> {
    let key = crate::cli::keys::key_path(dir, name)?;
    Ok(key.with_extension(ext))
}

/// Writes a secret: a header line and hex, to a new owner-only file.
fn write_secret(path: &Path, header: &str, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
    writeln!(f, "{header}\n{}", hex::encode(bytes))
        .with_context(|| format!("writing {}", path.display()))?;
    f.sync_all()?;
    Ok(())
}

/// Reads a secret written by [`write_secret`]; refuses files others can read.
fn read_secret(path: &Path, header: &str) -> Result<Vec<u8>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("reading {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            bail!(
                "{} is readable by others (mode {:o}): chmod 600 it",
                path.display(),
                mode & 0o777
            );
        }
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    if lines.next() != Some(header) {
        bail!("{} is not a {header} file", path.display());
    }
    hex::decode(lines.next().unwrap_or("").trim())
        .with_context(|| format!("{}: bad hex", path.display()))
}

fn write_out(out: Option<&Path>, v: &Value) -> Result<()> {
    let text = serde_json::to_string_pretty(v)?;
    match out {
        Some(p) => std::fs::write(p, format!("{text}\n"))
            .with_context(|| format!("writing {}", p.display())),
        None => {
            println!("{text}");
            Ok(())
        }
    }
}

fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))
}

fn hex_field(v: &Value, name: &str) -> Result<Vec<u8>> {
    hex::decode(v[name].as_str().ok_or_else(|| anyhow!("missing {name}"))?)
        .with_context(|| format!("{name}: bad hex"))
}

/// Loads the holder's credential NAME from the key folder.
pub(crate) fn load_credential(
    key_dir: Option<PathBuf>,
    name: &str,
) -> Result<PersonhoodCredential> {
    let path = if name.contains('/') {
        PathBuf::from(name)
    } else {
        file(&dir_of(key_dir), name, "personhood")?
    };
    let bytes = read_secret(&path, CREDENTIAL_HEADER)?;
    PersonhoodCredential::from_bytes(&bytes).map_err(|e| anyhow!("[{}] {e}", e.code()))
}

fn load_issuer(dir: &Path, name: &str) -> Result<PersonhoodIssuer> {
    let bytes = read_secret(&file(dir, name, "bbs-issuer")?, ISSUER_HEADER)?;
    PersonhoodIssuer::from_bytes(&bytes).map_err(|e| anyhow!("[{}] {e}", e.code()))
}

/// Runs a personhood command.
pub(super) fn run(cmd: PersonhoodCmd) -> Result<ExitCode> {
    let mut rng = rand_core::OsRng;
    match cmd {
        PersonhoodCmd::Issuer(IssuerCmd::New { name, key_dir }) => {
            let dir = dir_of(key_dir);
            let issuer =
                PersonhoodIssuer::generate(&mut rng).map_err(|e| anyhow!("[{}] {e}", e.code()))?;
            let path = file(&dir, &name, "bbs-issuer")?;
            write_secret(&path, ISSUER_HEADER, &issuer.to_bytes())?;
            eprintln!("wrote {}", path.display());
            println!("{}", issuer.public_key().to_did_key());
        }
        PersonhoodCmd::Issuer(IssuerCmd::Show { name, key_dir }) => {
            println!(
                "{}",
                load_issuer(&dir_of(key_dir), &name)?
                    .public_key()
                    .to_did_key()
            );
        }
        PersonhoodCmd::Request { name, out, key_dir } => {
            let dir = dir_of(key_dir);
            let (request, pending) =
                PersonhoodRequest::new(&mut rng).map_err(|e| anyhow!("[{}] {e}", e.code()))?;
            write_secret(
                &file(&dir, &name, "personhood-pending")?,
                PENDING_HEADER,
                &pending.to_bytes(),
            )?;
            write_out(
                out.as_deref(),
                &json!({
                    "type": "VouchPersonhoodRequest",
                    "request": hex::encode(request.as_bytes()),
                }),
            )?;
        }
        PersonhoodCmd::Issue {
            issuer,
            request,
            expires,
            out,
            key_dir,
        } => {
            let issuer = load_issuer(&dir_of(key_dir), &issuer)?;
            let req = read_json(&request)?;
            let req = PersonhoodRequest::from_bytes(&hex_field(&req, "request")?)
                .map_err(|e| anyhow!("[{}] {e}", e.code()))?;
            let now = crate::node::clock::now_ms();
            let t = crate::cli::sign::parse_time(&expires, now)?;
            let day = EXPIRY_GRANULARITY_MS;
            let expires_at = t.div_ceil(day).saturating_mul(day);
            let iss = issuer
                .issue(&req, expires_at, now, &mut rng)
                .map_err(|e| anyhow!("[{}] {e}", e.code()))?;
            write_out(
                out.as_deref(),
                &json!({
                    "type": "VouchPersonhoodIssuance",
                    "issuer": issuer.public_key().to_did_key(),
                    "signature": hex::encode(iss.signature),
                    "signer_nym_entropy": hex::encode(iss.signer_nym_entropy),
                    "expires_at_ms": iss.expires_at_ms,
                }),
            )?;
        }
        PersonhoodCmd::Finalize {
            name,
            issuance,
            key_dir,
        } => {
            let dir = dir_of(key_dir);
            let pending_path = file(&dir, &name, "personhood-pending")?;
            let pending =
                PendingPersonhood::from_bytes(&read_secret(&pending_path, PENDING_HEADER)?)
                    .map_err(|e| anyhow!("[{}] {e}", e.code()))?;
            let v = read_json(&issuance)?;
            let issuer = PersonhoodIssuerKey::from_did_key(v["issuer"].as_str().unwrap_or(""))
                .map_err(|e| anyhow!("issuer: [{}] {e}", e.code()))?;
            let iss = PersonhoodIssuance {
                signature: hex_field(&v, "signature")?
                    .try_into()
                    .map_err(|_| anyhow!("signature: wrong length"))?,
                signer_nym_entropy: hex_field(&v, "signer_nym_entropy")?
                    .try_into()
                    .map_err(|_| anyhow!("signer_nym_entropy: wrong length"))?,
                expires_at_ms: v["expires_at_ms"]
                    .as_u64()
                    .ok_or_else(|| anyhow!("missing expires_at_ms"))?,
            };
            let cred = pending
                .finalize(&issuer, &iss)
                .map_err(|e| anyhow!("[{}] {e}", e.code()))?;
            let path = file(&dir, &name, "personhood")?;
            write_secret(&path, CREDENTIAL_HEADER, &cred.to_bytes())?;
            std::fs::remove_file(&pending_path)
                .with_context(|| format!("removing {}", pending_path.display()))?;
            eprintln!("wrote {}", path.display());
            println!(
                "{}",
                json!({"issuer": issuer.to_did_key(), "expires_at_ms": cred.expires_at_ms()})
            );
        }
        PersonhoodCmd::Show { name, key_dir } => {
            let cred = load_credential(key_dir, &name)?;
            println!(
                "{}",
                json!({"issuer": cred.issuer().to_did_key(), "expires_at_ms": cred.expires_at_ms()})
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
