#![no_main]
//! Fuzz target `sniffed`: see `shopper_intent_cli::fuzzing::sniffed`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| shopper_intent_cli::fuzzing::sniffed(data));
