//! Fuzz target: a `/vouch/sync/1` request as the CBOR codec decodes it, served as the responder does. Calls `vouch_node::fuzz::sync_request`, the node's real code path.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vouch_node::fuzz::sync_request(data));
