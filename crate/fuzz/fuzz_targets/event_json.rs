#![no_main]
//! Fuzz target `event_json`: see `shopper_intent_cli::fuzzing::event_json`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| shopper_intent_cli::fuzzing::event_json(data));
