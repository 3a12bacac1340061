//! Nostr in Vouch (`specs/nostr.md`): verified NIP-01 events (`event`), Nostr keys as
//! engine subjects (`keys`), the mapping of follows, mutes, people lists, reports and labels
//! into the engine's inputs (`map`), and NIP-85 trusted assertions (`nip85`). These are
//! pure; the relay client (`relay`) and the node's task (`source`) do the I/O.

pub(crate) mod event;
pub(crate) mod keys;
pub(crate) mod map;
