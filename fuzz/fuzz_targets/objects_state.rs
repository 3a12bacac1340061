//! Fuzz target: objects as the engine reads them, into the moderation state and the trust graph, in two orders (same trust, same decisions). Calls `vouch_node::fuzz::objects_state`, the node's real code path.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vouch_node::fuzz::objects_state(data));
