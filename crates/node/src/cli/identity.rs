//! `vouch identity new`, `vouch credential issue|verify|show|revoke|add|list|remove|
//! add-revocation` and `vouch link`: the command-line shell over `vouch-identity`'s keys and
//! verifiable credentials, and the holder's side of credentials on its node (`add` hands a
//! credential to the node, private unless `--public` publishes it as a `credential` object
//! signed by the identity key).
//!
//! Keys live in a key directory: `--key-dir`, else `$VOUCH_KEY_DIR`, else `$VOUCH_HOME/keys`,
//! else `~/.vouch/keys`. A key is named on the command line either by a path to a key file or
//! by a bare name `NAME`, meaning `<key dir>/NAME.key`.

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use rand_core::{OsRng, RngCore};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vouch_identity::{
    issue_credential, verify_credential, write_key_file, CredentialRequest, Revocation, SecretKey,
    PERSONHOOD_CREDENTIAL_TYPE,
};
use vouch_reputation::{Body, CredentialBody, CredentialRevokeBody, LinkBody, Object};

use crate::cli::connect::NodeArgs;
use crate::cli::read_input;

/// Identity commands (flattened into the top-level `vouch` command).
#[derive(Debug, Subcommand)]
pub(super) enum IdentityCommand {
    /// Verifiable credentials: issue, verify, show, revoke.
    #[command(subcommand)]
    #[command(after_help = "Examples:\n  \
        vouch credential issue --issuer issuer --subject did:key:z6Mk… --out vc.json\n  \
        vouch credential verify vc.json")]
    Credential(CredentialCommand),
    /// Identity keys (kept apart from posting keys).
    #[command(subcommand)]
    #[command(after_help = "Examples:\n  vouch identity new --name me\n  vouch identity show me")]
    Identity(IdentitySubcommand),
    /// Make the public `link` object tying a posting key to an identity DID (signed by both),
    /// submit it to the running node and print its CID.
    #[command(
        after_help = "Examples:\n  vouch link --posting alice --identity me\n  \
        vouch link --posting alice --identity me --no-submit --out link.cbor --json"
    )]
    Link(LinkArgs),
}

/// Where keys are.
#[derive(Debug, Args)]
pub(super) struct KeyDir {
    /// Key directory [default: $VOUCH_HOME/keys, else ~/.vouch/keys].
    #[arg(long, env = "VOUCH_KEY_DIR")]
    pub key_dir: Option<PathBuf>,
}

/// `vouch identity …`
#[derive(Debug, Subcommand)]
pub(super) enum IdentitySubcommand {
    /// Create a new ed25519 key in the key directory and print its did:key.
    #[command(after_help = "Example:\n  vouch identity new --name me")]
    New {
        /// The key's name (file `<key dir>/NAME.key`).
        #[arg(long, default_value = "identity")]
        name: String,
        #[command(flatten)]
        dir: KeyDir,
        /// Print `{"did": …, "file": …}` instead of the DID alone.
        #[arg(long)]
        json: bool,
    },
    /// Print the did:key of a key.
    #[command(after_help = "Example:\n  vouch identity show me")]
    Show {
        /// Key name or path.
        #[arg(default_value = "identity")]
        key: String,
        #[command(flatten)]
        dir: KeyDir,
        /// Print `{"did": …, "public_key": <hex>}` instead of the DID alone.
        #[arg(long)]
        json: bool,
    },
}

/// `vouch credential …`
#[derive(Debug, Subcommand)]
pub(super) enum CredentialCommand {
    /// Issue a VC 2.0 credential (eddsa-rdfc-2022) to an identity DID.
    #[command(after_help = "Example:\n  \
        vouch credential issue --issuer issuer --subject did:key:z6Mk… --claim verifiedBy=passport --out vc.json")]
    Issue {
        /// The issuer's key (name or path).
        #[arg(long)]
        issuer: String,
        /// The subject's identity DID (did:key:z6Mk…).
        #[arg(long)]
        subject: String,
        /// Extra credential types [default: VouchPersonhoodCredential].
        #[arg(long = "type")]
        types: Vec<String>,
        /// Claims about the subject, `name=value` (repeatable).
        #[arg(long = "claim")]
        claims: Vec<String>,
        /// Days until `validUntil`; 0 for no expiry.
        #[arg(long, default_value_t = 365)]
        valid_days: u64,
        /// `validUntil` as a time instead (+90d, +10m, 2027-06-30, ms …).
        #[arg(long, conflicts_with = "valid_days", allow_hyphen_values = true)]
        valid_until: Option<String>,
        /// The credential id [default: a random urn:uuid].
        #[arg(long)]
        id: Option<String>,
        /// Write here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        dir: KeyDir,
    },
    /// Verify a credential (offline); exit status 1 with a stable error code if invalid.
    #[command(
        after_help = "Example:\n  vouch credential verify vc.json --revocations revoked.json"
    )]
    Verify {
        /// The credential file (`-` for stdin).
        file: PathBuf,
        /// Revocation statements: a file with a JSON array (or one object).
        #[arg(long)]
        revocations: Option<PathBuf>,
        /// Check as of this time (RFC 3339) instead of now.
        #[arg(long)]
        at: Option<String>,
    },
    /// Print a credential's main fields (without verifying).
    #[command(after_help = "Example:\n  vouch credential show vc.json")]
    Show {
        /// The credential file (`-` for stdin).
        file: PathBuf,
    },
    /// Sign a revocation of a credential id, as its issuer: a JSON statement (for offline
    /// checks and nodes it is handed to), and with --publish a `credential-revoke` object
    /// every node receives.
    #[command(
        after_help = "Examples:\n  vouch credential revoke --issuer issuer --id urn:uuid:… --out revoked.json\n  \
        vouch credential revoke --issuer issuer --id urn:uuid:… --publish --reason \"issued in error\""
    )]
    Revoke {
        /// The issuer's key (name or path).
        #[arg(long)]
        issuer: String,
        /// The credential id to revoke.
        #[arg(long)]
        id: String,
        /// Write here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also sign a `credential-revoke` object with the issuer key and submit it to the
        /// node (which publishes it).
        #[arg(long)]
        publish: bool,
        /// Why (in the published object).
        #[arg(long, requires = "publish")]
        reason: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
        #[command(flatten)]
        dir: KeyDir,
    },
    /// Hand a credential to the running node (it verifies it offline and keeps it,
    /// private); with --public also publish it as a `credential` object signed by the
    /// identity key, so that other nodes can show `verified by <issuer>` too.
    #[command(after_help = "Examples:\n  vouch credential add vc.json\n  \
        vouch credential add vc.json --public --identity me")]
    Add {
        /// The credential file (`-` for stdin).
        file: PathBuf,
        /// Publish it: a `credential` object signed by the identity key it was issued to.
        #[arg(long)]
        public: bool,
        /// The identity key (name or path) the credential was issued to (with --public).
        #[arg(long, default_value = "identity")]
        identity: String,
        #[command(flatten)]
        dir: KeyDir,
        #[command(flatten)]
        node: NodeArgs,
        /// Print the node's JSON answer.
        #[arg(long)]
        json: bool,
    },
    /// The credentials handed to the running node, and how each stands.
    #[command(after_help = "Example:\n  vouch credential list --json")]
    List {
        #[command(flatten)]
        node: NodeArgs,
        /// Print the node's JSON answer.
        #[arg(long)]
        json: bool,
    },
    /// Make the running node forget a credential handed to it (by its digest, as `list`
    /// shows it). A published credential stays published.
    #[command(after_help = "Example:\n  vouch credential remove 3f2a…")]
    Remove {
        /// The credential's digest (hex).
        digest: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Hand an issuer's revocation statement (`vouch credential revoke --out`) to the
    /// running node: credentials it names stop counting there.
    #[command(after_help = "Example:\n  vouch credential add-revocation revoked.json")]
    AddRevocation {
        /// The statement file.
        file: PathBuf,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// `vouch link`
#[derive(Debug, Args)]
pub(super) struct LinkArgs {
    /// The posting key (name or path); it authors the object.
    #[arg(long)]
    posting: String,
    /// The identity key (name or path); it co-signs.
    #[arg(long, default_value = "identity")]
    identity: String,
    #[command(flatten)]
    dir: KeyDir,
    #[command(flatten)]
    emit: crate::cli::sign::EmitArgs,
}

/// Runs an identity command. Exit code 1: a credential did not verify.
pub(super) fn run(cmd: IdentityCommand) -> Result<ExitCode> {
    match cmd {
        IdentityCommand::Identity(IdentitySubcommand::New { name, dir, json }) => {
            let dir = key_dir(&dir);
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("creating key directory {}", dir.display()))?;
            let path = crate::cli::keys::key_path(&dir, &name)?;
            let key = SecretKey::generate(&mut OsRng);
            write_key_file(&path, &key)
                .map_err(|e| anyhow!("{}: {e} ({})", e.code(), path.display()))?;
            eprintln!("wrote {}", path.display());
            let did = key.public_key().to_did_key();
            if json {
                println!("{}", serde_json::json!({ "did": did, "file": path }));
            } else {
                println!("{did}");
            }
        }
        IdentityCommand::Identity(IdentitySubcommand::Show { key, dir, json }) => {
            let pk = load_key(&key, &dir)?.public_key();
            if json {
                let doc = serde_json::json!({
                    "did": pk.to_did_key(),
                    "public_key": hex::encode(pk.as_bytes()),
                });
                println!("{doc}");
            } else {
                println!("{}", pk.to_did_key());
            }
        }
        IdentityCommand::Credential(c) => return run_credential(c),
        IdentityCommand::Link(args) => {
            let posting = load_key(&args.posting, &args.dir)?;
            let identity = load_key(&args.identity, &args.dir)?;
            if posting.public_key() == identity.public_key() {
                bail!("the identity key must not be the posting key");
            }
            let at = crate::node::clock::now_ms();
            let object = Object {
                author: posting.public_key(),
                at,
                body: Body::Link(LinkBody::new(&posting.public_key(), &identity, at)),
            };
            let signed = object
                .sign(&posting)
                .map_err(|e| anyhow!("{}: {e}", e.code()))?;
            return crate::cli::sign::emit_objects(&args.emit, std::slice::from_ref(&signed));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_credential(cmd: CredentialCommand) -> Result<ExitCode> {
    match cmd {
        CredentialCommand::Issue {
            issuer,
            subject,
            types,
            claims,
            valid_days,
            valid_until,
            id,
            out,
            dir,
        } => {
            let issuer = load_key(&issuer, &dir)?;
            let now = crate::node::clock::now_ms();
            let mut map = Map::new();
            for c in claims {
                let (k, v) = c
                    .split_once('=')
                    .ok_or_else(|| anyhow!("--claim must be name=value: {c}"))?;
                map.insert(k.to_owned(), Value::from(v));
            }
            let types = if types.is_empty() {
                vec![PERSONHOOD_CREDENTIAL_TYPE.to_owned()]
            } else {
                types
            };
            let request = CredentialRequest {
                id: id.unwrap_or_else(random_urn_uuid),
                subject,
                types,
                claims: map,
                valid_from_ms: now - now % 1000,
                valid_until_ms: match valid_until {
                    Some(t) => Some(crate::cli::sign::parse_time(&t, now)?),
                    None => (valid_days > 0).then(|| now - now % 1000 + valid_days * 86_400_000),
                },
            };
            let json = issue_credential(&issuer, &request, now)
                .map_err(|e| anyhow!("{}: {e}", e.code()))?;
            write_out(out.as_deref(), &json)?;
        }
        CredentialCommand::Verify {
            file,
            revocations,
            at,
        } => {
            let json = read_input(&file)?;
            let revs = match revocations {
                Some(p) => read_revocations(&p)?,
                None => Vec::new(),
            };
            let now = match at {
                Some(t) => chrono::DateTime::parse_from_rfc3339(&t)
                    .map_err(|e| anyhow!("--at: {e}"))?
                    .timestamp_millis()
                    .try_into()
                    .map_err(|_| anyhow!("--at before 1970"))?,
                None => crate::node::clock::now_ms(),
            };
            match verify_credential(&json, now, &revs) {
                Ok(v) => {
                    let summary = serde_json::json!({
                        "valid": true,
                        "id": v.id,
                        "issuer": v.issuer.to_did_key(),
                        "subject": v.subject,
                        "types": v.types,
                        "validFrom": v.valid_from,
                        "validUntil": v.valid_until,
                    });
                    println!("{}", serde_json::to_string_pretty(&summary)?);
                }
                Err(e) => {
                    println!(
                        "{}",
                        serde_json::json!({"valid": false, "code": e.code(), "error": e.to_string()})
                    );
                    eprintln!("{}: {e}", e.code());
                    return Ok(ExitCode::from(1));
                }
            }
        }
        CredentialCommand::Show { file } => {
            let json = read_input(&file)?;
            let v: Value = serde_json::from_str(&json).context("credential is not JSON")?;
            let field = |name: &str| v.get(name).cloned().unwrap_or(Value::Null);
            let proof = field("proof");
            let summary = serde_json::json!({
                "id": field("id"),
                "type": field("type"),
                "issuer": field("issuer"),
                "credentialSubject": field("credentialSubject"),
                "validFrom": field("validFrom"),
                "validUntil": field("validUntil"),
                "proof": {
                    "type": proof.get("type"),
                    "cryptosuite": proof.get("cryptosuite"),
                    "verificationMethod": proof.get("verificationMethod"),
                    "created": proof.get("created"),
                },
                "verified": false,
            });
            println!("{}", serde_json::to_string_pretty(&summary)?);
        }
        CredentialCommand::Revoke {
            issuer,
            id,
            out,
            publish,
            reason,
            node,
            dir,
        } => {
            let issuer = load_key(&issuer, &dir)?;
            let now = crate::node::clock::now_ms();
            let rev = Revocation::new(&issuer, &id, now);
            write_out(
                out.as_deref(),
                &serde_json::to_string_pretty(&rev.to_json())?,
            )?;
            if publish {
                let obj = Object {
                    author: issuer.public_key(),
                    at: now,
                    body: Body::CredentialRevoke(CredentialRevokeBody {
                        credential: id,
                        reason,
                    }),
                }
                .sign(&issuer)
                .map_err(|e| anyhow!("{}: {e}", e.code()))?;
                return submit_one(&node, &obj);
            }
        }
        CredentialCommand::Add {
            file,
            public,
            identity,
            dir,
            node,
            json,
        } => {
            let text = read_input(&file)?;
            let conn = node.resolve()?;
            if public {
                let key = load_key(&identity, &dir)?;
                let at = crate::node::clock::now_ms();
                let v =
                    verify_credential(&text, at, &[]).map_err(|e| anyhow!("{}: {e}", e.code()))?;
                if v.subject.as_deref() != Some(key.public_key().to_did_key().as_str()) {
                    bail!(
                        "the credential was issued to {}, not to the identity key {identity:?} ({})",
                        v.subject.as_deref().unwrap_or("nobody"),
                        key.public_key().to_did_key()
                    );
                }
                let obj = Object {
                    author: key.public_key(),
                    at,
                    body: Body::Credential(CredentialBody { vc: text.clone() }),
                }
                .sign(&key)
                .map_err(|e| anyhow!("{}: {e}", e.code()))?;
                if submit_one(&node, &obj)? != ExitCode::SUCCESS {
                    return Ok(ExitCode::from(1));
                }
            }
            let body = serde_json::json!({ "credential": text, "public": public });
            let r = conn.request(
                "POST",
                "/v1/credentials",
                Some("application/json"),
                &serde_json::to_vec(&body)?,
            )?;
            return answer(r.status, &r.body, json, |v| {
                println!(
                    "{}\t{}\t{}\t{}",
                    v["digest"].as_str().unwrap_or(""),
                    v["status"].as_str().unwrap_or(""),
                    v["issuer"].as_str().unwrap_or(""),
                    if v["public"].as_bool() == Some(true) {
                        "public"
                    } else {
                        "private"
                    }
                );
            });
        }
        CredentialCommand::List { node, json } => {
            let r = node
                .resolve()?
                .request("GET", "/v1/credentials", None, &[])?;
            return answer(r.status, &r.body, json, |v| {
                for c in v["credentials"].as_array().into_iter().flatten() {
                    println!(
                        "{}\t{}\t{}\t{}\t{} linked key(s)",
                        c["digest"].as_str().unwrap_or(""),
                        c["status"].as_str().unwrap_or(""),
                        c["issuer"].as_str().unwrap_or(""),
                        if c["public"].as_bool() == Some(true) {
                            "public"
                        } else {
                            "private"
                        },
                        c["linked_keys"].as_array().map_or(0, Vec::len)
                    );
                }
            });
        }
        CredentialCommand::Remove { digest, node } => {
            let r = node.resolve()?.request(
                "DELETE",
                &format!("/v1/credentials/{digest}"),
                None,
                &[],
            )?;
            return answer(r.status, &r.body, false, |_| {});
        }
        CredentialCommand::AddRevocation { file, node } => {
            let text = read_input(&file)?;
            let r = node.resolve()?.request(
                "POST",
                "/v1/credentials/revocations",
                Some("application/json"),
                text.as_bytes(),
            )?;
            return answer(r.status, &r.body, false, |_| {});
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Submits one object signed here; prints its CID. Exit code 1 when the node refused it.
fn submit_one(node: &NodeArgs, obj: &vouch_reputation::SignedObject) -> Result<ExitCode> {
    let emit = crate::cli::sign::EmitArgs {
        out: None,
        no_submit: false,
        node: node.clone(),
        json: false,
    };
    crate::cli::sign::emit_objects(&emit, std::slice::from_ref(obj))
}

/// Prints a node's answer (`json`: as is; else with `text`); an error answer exits 1.
fn answer(status: u16, body: &[u8], json: bool, text: impl FnOnce(&Value)) -> Result<ExitCode> {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        eprintln!(
            "error ({status}): {}: {}",
            v["error"]["code"].as_str().unwrap_or("error"),
            v["error"]["message"].as_str().unwrap_or("")
        );
        return Ok(ExitCode::from(1));
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        text(&v);
    }
    Ok(ExitCode::SUCCESS)
}

fn key_dir(dir: &KeyDir) -> PathBuf {
    dir.key_dir
        .clone()
        .unwrap_or_else(crate::cli::keys::default_key_dir)
}

/// A key named by path (contains `/` or ends in `.key`) or by name in the key directory.
fn load_key(name: &str, dir: &KeyDir) -> Result<SecretKey> {
    crate::cli::keys::load_key(dir.key_dir.clone(), name)
}

fn random_urn_uuid() -> String {
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn read_revocations(path: &Path) -> Result<Vec<Revocation>> {
    let v: Value = serde_json::from_str(&read_input(path)?).context("revocations: not JSON")?;
    let items = match v {
        Value::Array(a) => a,
        other => vec![other],
    };
    items
        .iter()
        .map(|r| Revocation::from_json(r).map_err(|e| anyhow!("{}: {e}", e.code())))
        .collect()
}

fn write_out(out: Option<&Path>, text: &str) -> Result<()> {
    match out {
        Some(p) => std::fs::write(p, format!("{text}\n"))
            .with_context(|| format!("writing {}", p.display())),
        None => {
            println!("{text}");
            Ok(())
        }
    }
}
