#![no_main]
//! Fuzz target `taobao`: see `shopper_intent_cli::fuzzing::taobao`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| shopper_intent_cli::fuzzing::taobao(data));
