//! The fuzz targets' corpora and every crash they ever found, replayed through the same
//! harnesses on the stable toolchain (`crate/fuzz/corpus/<target>/`, `crate/fuzz/regressions/<target>/`).

use std::path::Path;

use shopper_intent::testing::fuzz;

fn replay(target: &str, harness: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut n = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else { continue };
        for e in entries.flatten() {
            let bytes = std::fs::read(e.path()).unwrap();
            harness(&bytes);
            n += 1;
        }
    }
    n
}

#[test]
fn core_fuzz_corpora_replay_cleanly() {
    for (target, harness) in [
        ("event_fields", fuzz::event_fields as fn(&[u8])),
        ("state", fuzz::state),
        ("window_state", fuzz::window_state),
        ("manifest", fuzz::manifest),
        ("weights", fuzz::weights),
        ("model_build", fuzz::model_build),
    ] {
        let n = replay(target, harness);
        assert!(n > 0, "the {target} corpus is empty: run `make fuzz-seeds`");
    }
}
