#![no_main]
//! Fuzz target `weights`: see `shopper_intent::testing::fuzz::weights`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| shopper_intent::testing::fuzz::weights(data));
