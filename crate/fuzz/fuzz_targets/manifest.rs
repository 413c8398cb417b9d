#![no_main]
//! Fuzz target `manifest`: see `shopper_intent::testing::fuzz::manifest`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| shopper_intent::testing::fuzz::manifest(data));
