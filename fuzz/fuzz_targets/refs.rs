//! Fuzz target: `did:key`, CID, group and list strings (what parses prints back to the same value). Calls `vouch_node::fuzz::refs`, the node's real code path.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vouch_node::fuzz::refs(data));
