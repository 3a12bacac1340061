//! The Vouch node: the SQLite store, ingest, the libp2p network with catch-up, the loopback
//! HTTP endpoint, and the `vouch node` / `vouch rendezvous` commands. This is the imperative
//! shell around `vouch-reputation`: it owns sockets, files, clocks and tasks, and holds no
//! trust logic.

pub mod api;
pub mod bench_http;
pub mod bench_node;
pub mod car;
pub mod cli_node;
pub mod cli_query;
pub mod client;
pub mod clock;
pub mod config;
pub mod demo;
pub mod engine;
pub mod filter;
pub mod ingest;
pub mod json;
pub mod metrics;
pub mod net;
pub mod node;
pub mod rendezvous;
pub mod seed;
pub mod store;
pub mod sync;
pub mod topic;

pub use config::NodeConfig;
pub use filter::{Refusal, ReplicationFilter, SharedFilter};
pub use ingest::{Ingest, IngestError, Ingested};
pub use metrics::Metrics;
pub use store::{StoreError, StoreReader, StoreWriter, StoredObject};
