#![no_main]
//! Fuzz target `model_build`: see `shopper_intent::testing::fuzz::model_build`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| shopper_intent::testing::fuzz::model_build(data));
