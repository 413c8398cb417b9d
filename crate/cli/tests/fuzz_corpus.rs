//! The log-reader fuzz targets' corpora and regressions, replayed on the stable toolchain.

use std::path::Path;

use shopper_intent_cli::fuzzing;

fn replay(target: &str, harness: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut n = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else { continue };
        for e in entries.flatten() {
            harness(&std::fs::read(e.path()).unwrap());
            n += 1;
        }
    }
    n
}

#[test]
fn log_reader_fuzz_corpora_replay_cleanly() {
    for (target, harness) in [
        ("jsonl", fuzzing::jsonl as fn(&[u8])),
        ("taobao", fuzzing::taobao),
        ("sniffed", fuzzing::sniffed),
        ("event_json", fuzzing::event_json),
    ] {
        assert!(replay(target, harness) > 0, "the {target} corpus is empty: run `make fuzz-seeds`");
    }
}
