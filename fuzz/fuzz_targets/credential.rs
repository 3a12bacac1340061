//! Fuzz target: a verifiable credential's JSON, verified offline. Calls `vouch_node::fuzz::credential`, the node's real code path.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vouch_node::fuzz::credential(data));
