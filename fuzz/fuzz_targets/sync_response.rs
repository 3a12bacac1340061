//! Fuzz target: a `/vouch/sync/1` response as the CBOR codec decodes it, handled as the initiator does. Calls `vouch_node::fuzz::sync_response`, the node's real code path.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vouch_node::fuzz::sync_response(data));
