//! Fuzz target: personhood proof, credential, request and issuer key bytes; a proof is verified. Calls `vouch_node::fuzz::personhood`, the node's real code path.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vouch_node::fuzz::personhood(data));
