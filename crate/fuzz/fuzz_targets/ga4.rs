#![no_main]
//! Fuzz target `ga4`: see `shopper_intent_cli::fuzzing::ga4`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| shopper_intent_cli::fuzzing::ga4(data));
