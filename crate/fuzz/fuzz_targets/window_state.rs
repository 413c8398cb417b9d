#![no_main]
//! Fuzz target `window_state`: see `shopper_intent::testing::fuzz::window_state`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| shopper_intent::testing::fuzz::window_state(data));
