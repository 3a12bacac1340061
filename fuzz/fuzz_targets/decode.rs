//! Fuzz target: the object decoder and validator on arbitrary bytes (single and batch agree; what is accepted re-encodes to the input). Calls `vouch_node::fuzz::decode`, the node's real code path.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vouch_node::fuzz::decode(data));
