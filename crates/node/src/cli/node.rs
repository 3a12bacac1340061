//! The `vouch node ...` and `vouch rendezvous` subcommands (clap), and their glue.

mod bench;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use crate::cli::connect::NodeArgs;
use crate::node::config::{NodeConfig, CONFIG_FILE};
use crate::node::store::{self, Durability};

/// `vouch node ...`.
#[derive(Debug, Subcommand)]
pub(super) enum NodeCmd {
    /// Run a node until Ctrl-C.
    #[command(after_help = "Examples:\n  \
        vouch node run --listen /ip4/0.0.0.0/tcp/4001 --api 127.0.0.1:7070\n  \
        vouch node run --data-dir /tmp/n2 --bootstrap /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…")]
    Run(RunArgs),
    /// Submit object files (raw DAG-CBOR) to a running node.
    #[command(after_help = "Example:\n  vouch node submit hello.cbor vote.cbor")]
    Submit {
        #[command(flatten)]
        node: NodeArgs,
        /// Object files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print one object's bytes (to stdout or a file).
    #[command(after_help = "Example:\n  vouch node get bafyrei… -o post.cbor")]
    Get {
        #[command(flatten)]
        node: NodeArgs,
        /// The object's CID.
        cid: String,
        /// Write to this file instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Print the running node's status (JSON).
    #[command(after_help = "Example:\n  vouch node status --data-dir /tmp/n1")]
    Status {
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Rebuild every derived table from the stored objects (node stopped).
    #[command(after_help = "Example:\n  vouch node rebuild --data-dir /tmp/n1")]
    Rebuild {
        /// The data directory.
        #[arg(long, env = "VOUCH_DATA_DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Check the database (`PRAGMA integrity_check`) and re-verify every stored object (id,
    /// encoding, signature); exits 1 if anything is wrong.
    #[command(after_help = "Example:\n  vouch node check --data-dir /tmp/n1")]
    Check {
        /// The data directory.
        #[arg(long, env = "VOUCH_DATA_DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Recover a damaged database (node stopped): copy every intact object, the viewers and
    /// the peer tables into a new database and swap it in, keeping the damaged file beside
    /// it; catch-up refetches lost objects from peers.
    #[command(after_help = "Example:\n  vouch node salvage --data-dir /tmp/n1")]
    Salvage {
        /// The data directory.
        #[arg(long, env = "VOUCH_DATA_DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Benchmark end-to-end ingest against raw batch verification of the same objects.
    #[command(after_help = "Example:\n  vouch node bench-ingest")]
    BenchIngest(bench::BenchIngestArgs),
    /// Benchmark catch-up reconciliation against sending the full list of ids.
    #[command(after_help = "Example:\n  vouch node bench-sync")]
    BenchSync(bench::BenchSyncArgs),
}

/// `vouch node run` flags. Each also reads an environment variable; a TOML file
/// (`--config`, else `<data dir>/config.toml`) gives the rest.
#[derive(Debug, Args)]
pub(super) struct RunArgs {
    /// Data directory (default: $XDG_DATA_HOME/vouch or ~/.local/share/vouch).
    #[arg(long, env = "VOUCH_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// TOML config file.
    #[arg(long, env = "VOUCH_CONFIG")]
    pub config: Option<PathBuf>,
    /// libp2p listen address (repeatable), e.g. /ip4/0.0.0.0/tcp/4001, /ip4/0.0.0.0/udp/4001/quic-v1.
    #[arg(long, env = "VOUCH_LISTEN", value_delimiter = ',')]
    pub listen: Vec<String>,
    /// Peer to dial at start (repeatable).
    #[arg(long, env = "VOUCH_BOOTSTRAP", value_delimiter = ',')]
    pub bootstrap: Vec<String>,
    /// Rendezvous point address.
    #[arg(long, env = "VOUCH_RENDEZVOUS")]
    pub rendezvous: Option<String>,
    /// HTTP API address (port 0 picks one; see `<data dir>/api.addr`). Loopback by default.
    /// Every call but /healthz needs a token: the node generates one into
    /// `<data dir>/api.token`.
    #[arg(long, env = "VOUCH_API")]
    pub api: Option<String>,
    /// Another admin token the API accepts besides the generated one (at least 32
    /// characters).
    #[arg(long, env = "VOUCH_API_TOKEN", hide_env_values = true)]
    pub api_token: Option<String>,
    /// A host name the API answers to besides localhost and its addresses (repeatable).
    #[arg(long = "api-host", value_delimiter = ',')]
    pub api_hosts: Vec<String>,
    /// A web origin allowed to call the API from a browser, e.g. https://app.example
    /// (repeatable; CORS).
    #[arg(long = "api-origin", value_delimiter = ',')]
    pub api_origins: Vec<String>,
    /// Group to follow, `<owner did:key>/<name>` (repeatable).
    #[arg(long = "group", env = "VOUCH_GROUPS", value_delimiter = ',')]
    pub groups: Vec<String>,
    /// Block an author's posts (did:key; repeatable).
    #[arg(long = "block-author", value_delimiter = ',')]
    pub block_authors: Vec<String>,
    /// Commit durability: normal (default; a commit survives a crash or `kill -9`) or full
    /// (a commit also survives power loss; one fsync per commit).
    #[arg(long, env = "VOUCH_DURABILITY")]
    pub durability: Option<String>,
    /// Seconds between periodic catch-up rounds.
    #[arg(long)]
    pub resync_secs: Option<u64>,
    /// Development only: enable POST /v1/dev/publish-raw (publishes unchecked bytes).
    #[arg(long, hide = true)]
    pub unsafe_dev_publish_raw: bool,
}

/// `vouch rendezvous` flags.
#[derive(Debug, Args)]
pub(super) struct RendezvousArgs {
    /// Listen address (repeatable).
    #[arg(
        long,
        env = "VOUCH_RENDEZVOUS_LISTEN",
        value_delimiter = ',',
        default_value = "/ip4/0.0.0.0/tcp/4002"
    )]
    pub listen: Vec<String>,
    /// Directory for the point's key (a fresh key each start if not given).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Write the listen addresses (with `/p2p/<id>`) to this file.
    #[arg(long)]
    pub addr_file: Option<PathBuf>,
}

/// Sets up logging to stderr (`RUST_LOG`, default `info`).
pub(super) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn data_dir_or_default(d: Option<PathBuf>) -> PathBuf {
    d.unwrap_or_else(store::default_data_dir)
}

/// Merges file, environment and flags into one config (flags and env win).
pub(super) fn resolve_config(args: &RunArgs) -> anyhow::Result<NodeConfig> {
    let file = match &args.config {
        Some(f) => Some(f.clone()),
        None => {
            let candidate = data_dir_or_default(args.data_dir.clone()).join(CONFIG_FILE);
            candidate.exists().then_some(candidate)
        }
    };
    let mut c = match file {
        Some(f) => NodeConfig::from_file(&f)?,
        None => NodeConfig::default(),
    };
    if let Some(d) = &args.data_dir {
        c.data_dir = d.clone();
    }
    if !args.listen.is_empty() {
        c.listen = args.listen.clone();
    }
    if !args.bootstrap.is_empty() {
        c.bootstrap = args.bootstrap.clone();
    }
    if args.rendezvous.is_some() {
        c.rendezvous = args.rendezvous.clone();
    }
    if let Some(a) = &args.api {
        c.api = a.clone();
    }
    if let Some(t) = &args.api_token {
        c.api_token = Some(crate::node::config::ApiToken(t.clone()));
    }
    c.api_hosts.extend(args.api_hosts.iter().cloned());
    c.api_origins.extend(args.api_origins.iter().cloned());
    c.groups.extend(args.groups.iter().cloned());
    c.replication
        .blocked_authors
        .extend(args.block_authors.iter().cloned());
    if let Some(d) = &args.durability {
        c.durability = match d.as_str() {
            "full" => Durability::Full,
            "normal" => Durability::Normal,
            other => anyhow::bail!("invalid durability {other:?} (full or normal)"),
        };
    }
    if let Some(s) = args.resync_secs {
        c.resync_secs = s;
    }
    c.unsafe_dev_publish_raw |= args.unsafe_dev_publish_raw;
    Ok(c)
}

async fn ctrl_c() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(16)
        .build()?)
}

/// Runs `vouch node ...`.
pub(super) fn run_node_cmd(cmd: NodeCmd) -> anyhow::Result<ExitCode> {
    init_logging();
    match cmd {
        NodeCmd::Run(args) => {
            let config = resolve_config(&args)?;
            runtime()?.block_on(crate::node::run(config, ctrl_c()))?;
            Ok(ExitCode::SUCCESS)
        }
        NodeCmd::Submit { node, files } => {
            let node = node.resolve()?;
            let mut ok = true;
            for f in files {
                let bytes =
                    std::fs::read(&f).with_context(|| format!("reading {}", f.display()))?;
                let resp = node.request("POST", "/v1/objects", Some("application/cbor"), &bytes)?;
                println!("{}", String::from_utf8_lossy(&resp.body));
                ok &= resp.status == 200;
            }
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        NodeCmd::Get { node, cid, output } => {
            let resp = node
                .resolve()?
                .request("GET", &format!("/v1/objects/{cid}"), None, &[])?;
            if resp.status != 200 {
                eprintln!("{}", String::from_utf8_lossy(&resp.body));
                return Ok(ExitCode::FAILURE);
            }
            match output {
                Some(p) => std::fs::write(p, &resp.body)?,
                None => std::io::Write::write_all(&mut std::io::stdout(), &resp.body)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        NodeCmd::Status { node } => {
            let resp = node.resolve()?.request("GET", "/v1/status", None, &[])?;
            println!("{}", String::from_utf8_lossy(&resp.body));
            Ok(if resp.status == 200 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        NodeCmd::Rebuild { data_dir } => {
            let dir = data_dir_or_default(data_dir);
            let report = store::rebuild(&dir)?;
            // The engine's state lives in memory and is rebuilt at every start; derive it
            // once here too, so a stopped node's data is known to load.
            let engine = crate::node::engine::Engine::load(&dir)?;
            println!(
                "{}",
                serde_json::json!({
                    "objects": report.objects,
                    "invalid": report.invalid,
                    "engine": engine,
                })
            );
            Ok(ExitCode::SUCCESS)
        }
        NodeCmd::Check { data_dir } => check(&data_dir_or_default(data_dir)),
        NodeCmd::Salvage { data_dir } => {
            let report = store::salvage(&data_dir_or_default(data_dir))?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        NodeCmd::BenchIngest(args) => bench::bench_ingest(&args),
        NodeCmd::BenchSync(args) => bench::bench_sync(&args),
    }
}

fn check(dir: &Path) -> anyhow::Result<ExitCode> {
    if !dir.join(store::DB_FILE).exists() {
        anyhow::bail!("no database in {}", dir.display());
    }
    let report = store::check(dir)?;
    println!(
        "{}",
        serde_json::json!({
            "ok": report.is_ok(),
            "integrity_check": report.integrity.join("; "),
            "objects": report.objects,
            "damaged": report.damaged,
            "unreadable": report.unreadable,
        })
    );
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs `vouch rendezvous`.
pub(super) fn run_rendezvous_cmd(args: RendezvousArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let keypair = match &args.data_dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            crate::node::load_or_create_key(d)?
        }
        None => libp2p::identity::Keypair::generate_ed25519(),
    };
    runtime()?.block_on(crate::net::rendezvous_server::run(
        args.listen,
        keypair,
        args.addr_file,
        ctrl_c(),
    ))?;
    Ok(ExitCode::SUCCESS)
}
