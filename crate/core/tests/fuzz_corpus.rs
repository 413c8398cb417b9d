//! The fuzz targets' corpora and every crash they ever found, replayed through the same
//! harnesses on the stable toolchain (`crate/fuzz/corpus/<target>/`, `crate/fuzz/regressions/<target>/`).

use std::path::Path;

use shopper_intent::testing::{fuzz, replay_corpus};

#[test]
fn core_fuzz_corpora_replay_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    for (target, harness) in [
        ("event_fields", fuzz::event_fields as fn(&[u8])),
        ("state", fuzz::state),
        ("window_state", fuzz::window_state),
        ("manifest", fuzz::manifest),
        ("weights", fuzz::weights),
        ("model_build", fuzz::model_build),
    ] {
        assert!(replay_corpus(&dir, target, harness) > 0, "the {target} corpus is empty: run `make fuzz-seeds`");
    }
}
