//! Fuzz target: a negentropy message, answered by the responder and fed to an initiator. Calls `vouch_node::fuzz::negentropy`, the node's real code path.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vouch_node::fuzz::negentropy(data));
