//! The log-reader fuzz targets' corpora and regressions, replayed on the stable toolchain.

use std::path::Path;

use shopper_intent::testing::replay_corpus;
use shopper_intent_cli::fuzzing;

#[test]
fn log_reader_fuzz_corpora_replay_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    for (target, harness) in [
        ("jsonl", fuzzing::jsonl as fn(&[u8])),
        ("ga4", fuzzing::ga4),
        ("taobao", fuzzing::taobao),
        ("sniffed", fuzzing::sniffed),
        ("event_json", fuzzing::event_json),
    ] {
        assert!(replay_corpus(&dir, target, harness) > 0, "the {target} corpus is empty: run `make fuzz-seeds`");
    }
}
