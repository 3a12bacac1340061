//! Fuzz target: the body of `POST /v1/viewers/{viewer}/decide`, its items, decided one by one and in a batch. Calls `vouch_node::fuzz::api_decide`, the node's real code path.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vouch_node::fuzz::api_decide(data));
