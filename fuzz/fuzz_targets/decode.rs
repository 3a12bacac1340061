//! Fuzz target: the object decoder and validator on arbitrary bytes. It must never panic,
//! and whatever it accepts must re-encode to exactly the input and keep its id.
#![no_main]

use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_767_225_600_000;

fuzz_target!(|data: &[u8]| {
    let single = vouch_reputation::validate(data, NOW);
    let batch = vouch_reputation::validate_batch(&[data], NOW);
    assert_eq!(single.is_ok(), batch[0].is_ok());
    if let Ok(obj) = single {
        assert_eq!(obj.bytes(), data);
        assert_eq!(obj.id(), vouch_reputation::ObjectId::of_bytes(data));
    }
});
