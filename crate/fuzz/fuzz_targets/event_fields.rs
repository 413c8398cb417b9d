#![no_main]
//! Fuzz target `event_fields`: see `shopper_intent::testing::fuzz::event_fields`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| shopper_intent::testing::fuzz::event_fields(data));
