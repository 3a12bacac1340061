//! Fuzz target: a viewer's stored policy as the engine reads it from the database. Calls `vouch_node::fuzz::policy_record`, the node's real code path.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vouch_node::fuzz::policy_record(data));
