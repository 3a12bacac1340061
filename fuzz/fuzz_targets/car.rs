//! Fuzz target: a CAR file as `vouch import` reads it (header, blocks against their CIDs, validation). Calls `vouch_node::fuzz::car`, the node's real code path.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vouch_node::fuzz::car(data));
