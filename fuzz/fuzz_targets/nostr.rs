//! Fuzz target: a Nostr relay message and the event in it (parse, id, BIP-340 signature, mapping into engine facts). Calls `vouch_node::fuzz::nostr`, the node's real code path.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vouch_node::fuzz::nostr(data));
