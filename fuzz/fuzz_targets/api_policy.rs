//! Fuzz target: a policy body (`PUT .../policy`, `POST .../diff`, `POST /v1/viewers`), stored and read back, built into a view. Calls `vouch_node::fuzz::api_policy`, the node's real code path.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vouch_node::fuzz::api_policy(data));
