#![no_main]
//! Fuzz target `jsonl`: see `shopper_intent_cli::fuzzing::jsonl`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| shopper_intent_cli::fuzzing::jsonl(data));
