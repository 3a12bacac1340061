//! Nostr in Vouch (`specs/nostr.md`): verified NIP-01 events (`event`), Nostr keys as
//! engine subjects (`keys`), the mapping of follows, mutes, people lists, reports and labels
//! into the engine's inputs (`map`), and NIP-85 trusted assertions (`nip85`). These are
//! pure; the relay client (`relay`) and the node's task (`source`) do the I/O.

pub(crate) mod event;
pub(crate) mod keys;
pub(crate) mod map;
pub(crate) mod nip85;
pub(crate) mod relay;
pub(crate) mod source;
pub(crate) mod store;

/// `[nostr]` settings (`specs/nostr.md` §6). With no relays the node reads no Nostr
/// evidence, but still answers Nostr keys and events in decisions.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NostrConfig {
    /// Relay URLs (`ws://` or `wss://`) to read evidence from and publish assertions to.
    pub relays: Vec<String>,
    /// Nostr viewers (`npub1…` or hex) the node serves: each is created as a viewer with
    /// the Nostr policy on start, and its evidence and its follows' are fetched.
    pub viewers: Vec<String>,
    /// Hide an author when at least this many keys the viewer follows (or the viewer)
    /// mute or report them.
    pub quorum: u32,
    /// How many follow hops from each viewer the node fetches evidence for.
    pub fetch_depth: u8,
    /// Most authors followed on relays (the viewers and the keys they reach, nearest first).
    pub max_authors: usize,
    /// Longest wait between reconnections to a relay, in seconds.
    pub max_backoff_secs: u64,
    /// Publish NIP-85 assertions for the viewers.
    pub publish: bool,
    /// Seconds between checks for changed ranks to publish.
    pub publish_interval_secs: u64,
    /// Republish a subject's assertion when its rank moved by at least this much.
    pub rank_threshold: u8,
    /// Most subjects with an assertion per viewer (highest ranks first).
    pub max_assertions_per_viewer: usize,
    /// The largest event accepted, in bytes.
    pub max_event_bytes: usize,
}

impl Default for NostrConfig {
    fn default() -> Self {
        NostrConfig {
            relays: Vec::new(),
            viewers: Vec::new(),
            quorum: 2,
            fetch_depth: 2,
            max_authors: 5_000,
            max_backoff_secs: 60,
            publish: true,
            publish_interval_secs: 60,
            rank_threshold: 5,
            max_assertions_per_viewer: 1_000,
            max_event_bytes: event::EventLimits::default().max_event_bytes,
        }
    }
}
