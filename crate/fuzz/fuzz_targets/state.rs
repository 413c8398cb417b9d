#![no_main]
//! Fuzz target `state`: see `shopper_intent::testing::fuzz::state`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| shopper_intent::testing::fuzz::state(data));
