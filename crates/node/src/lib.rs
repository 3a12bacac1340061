//! The Vouch node and the `vouch` command line.
//!
//! The node is the imperative shell around `vouch-reputation`: it owns the SQLite store,
//! the libp2p network with catch-up, the sidecar HTTP API, files, clocks and tasks, and
//! translates between them and the library's values. It holds no trust or decision logic of
//! its own. `ARCHITECTURE.md` is the map of the modules below.
#![deny(missing_docs, unreachable_pub)]

mod api;
pub mod car;
mod cli;
pub mod client;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzz;
mod json;
mod net;
mod node;
mod nostr;

pub use cli::main;
pub use json::{group_str, list_str};
pub use node::clock::{now_ms, TEST_CLOCK_OFFSET_ENV};
pub use node::config::NodeConfig;
pub use node::metrics::Metrics;

/// The node's SQLite store, for tools and tests that open a data directory directly.
pub mod store {
    pub use crate::node::store::{
        check, default_data_dir, integrity_check, open, rebuild, salvage, CheckReport, DamagedRow,
        Durability, SalvageReport, StoreError, StoreReader, StoreWriter, StoredObject, DB_FILE,
    };
}

/// The hostile peer of the attack suite and `vouch bench attack` (not part of a node).
#[doc(hidden)]
pub use net::hostile;

/// The community `vouch demo` generates, for tests that check what a viewer sees of it.
pub mod demo {
    pub use crate::cli::demo::community;
}
