//! The shipped models: the weights graph (what the browser runs) against the ONNX exchange file
//! and against the trainer's whole-session scores, and clear errors for weights and manifests
//! that do not fit.

use std::path::{Path, PathBuf};
use std::process::Command;

use shopper_intent::model::tabular::TabularModel;
use shopper_intent::{Engine, EngineOptions, Event, EventKind, SequenceModel};
use shopper_intent_cli::{convert, npy};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shipped() -> (Vec<u8>, String) {
    let r = root();
    (std::fs::read(r.join("models/intent.bin")).unwrap(), std::fs::read_to_string(r.join("models/intent.json")).unwrap())
}

#[test]
fn the_weights_graph_equals_the_onnx_file_and_streams_the_trainers_whole_sessions() {
    let parity = convert::check(&root().join("models/intent.json"), None).unwrap();
    assert!(parity.steps > 500, "{parity:?}");
    assert!(parity.worst_onnx <= convert::PARITY_TOLERANCE);
    assert!(parity.fixture_steps > 200, "the fixtures must hold long sessions: {parity:?}");
    assert!(parity.worst_fixture <= convert::FIXTURE_TOLERANCE);
    eprintln!("parity: {parity:?}");
    // The same through the command line.
    let run = Command::new(env!("CARGO_BIN_EXE_shopper-intent"))
        .args(["convert", "--check", "--model"])
        .arg(root().join("models/intent.json"))
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
}

#[test]
fn a_fixtures_folder_given_without_fixtures_is_an_error_not_a_check_of_nothing() {
    let empty = std::env::temp_dir().join(format!("shopper-intent-no-fixtures-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_shopper-intent"))
        .args(["convert", "--check", "--model"])
        .arg(root().join("models/intent.json"))
        .arg("--fixtures")
        .arg(&empty)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "{stderr}");
    assert!(stderr.contains("no trainer fixtures in") && stderr.contains("x.npy"), "{stderr}");
    // Without --check, refused before the weights and the manifest are written (on a copy).
    let copy = empty.join("model");
    std::fs::create_dir_all(&copy).unwrap();
    for f in ["intent.json", "intent.bin", "intent.onnx"] {
        std::fs::copy(root().join("models").join(f), copy.join(f)).unwrap();
    }
    let manifest = std::fs::read(copy.join("intent.json")).unwrap();
    std::fs::write(copy.join("intent.bin"), b"stale").unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_shopper-intent"))
        .args(["convert", "--model"])
        .arg(copy.join("intent.json"))
        .arg("--fixtures")
        .arg(&empty)
        .output()
        .unwrap();
    assert!(!run.status.success() && String::from_utf8_lossy(&run.stderr).contains("no trainer fixtures in"));
    assert_eq!(std::fs::read(copy.join("intent.bin")).unwrap(), b"stale", "the weights were not rewritten");
    assert_eq!(std::fs::read(copy.join("intent.json")).unwrap(), manifest, "nor the manifest");
    // The folder the trainer wrote, given explicitly, is checked.
    let parity = convert::check(&root().join("models/intent.json"), Some(&root().join("models/fixtures/intent"))).unwrap();
    assert!(parity.fixture_steps > 200, "{parity:?}");
    // Converting an unchanged model writes back the same weights and the same manifest, every
    // number as it was written (a float parsed one unit off showed as a change in git).
    let run = Command::new(env!("CARGO_BIN_EXE_shopper-intent"))
        .args(["convert", "--model"])
        .arg(copy.join("intent.json"))
        .arg("--fixtures")
        .arg(root().join("models/fixtures/intent"))
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(std::fs::read(copy.join("intent.bin")).unwrap(), std::fs::read(root().join("models/intent.bin")).unwrap());
    assert_eq!(std::fs::read_to_string(copy.join("intent.json")).unwrap(), String::from_utf8(manifest).unwrap(), "the manifest as it was");
    // Without the ONNX file, the error names the path it looked at.
    std::fs::remove_file(copy.join("intent.onnx")).unwrap();
    let run =
        Command::new(env!("CARGO_BIN_EXE_shopper-intent")).args(["convert", "--model"]).arg(copy.join("intent.json")).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success() && stderr.contains(&format!("reading {}", copy.join("intent.onnx").display())), "{stderr}");
    std::fs::remove_dir_all(&empty).unwrap();
}

#[test]
fn the_engine_streams_the_fixture_sessions_as_the_trainer_scored_them() {
    let (bytes, manifest) = shipped();
    let model = SequenceModel::load(&bytes, &manifest).unwrap();
    let mut engine = Engine::new(model, EngineOptions::default()).unwrap();
    // Replaying the fixture rows through a fresh model step by step, from a zero state, gives the
    // fixture's scores; the engine's own rows come from events, so here the check is on the
    // model the engine runs.
    let dir = root().join("models/fixtures/intent");
    let (shape, x) = npy::read::<f32>(&dir.join("x.npy")).unwrap();
    let (_, p) = npy::read::<f32>(&dir.join("p.npy")).unwrap();
    let (_, len) = npy::read::<i32>(&dir.join("len.npy")).unwrap();
    let (t, f) = (shape[1], shape[2]);
    let mut m = SequenceModel::load(&bytes, &manifest).unwrap();
    for (i, &l) in len.iter().enumerate() {
        let mut s = m.zero_state();
        for r in 0..l as usize {
            let got = m.step(&x[(i * t + r) * f..(i * t + r + 1) * f], &mut s).unwrap();
            assert!((got - p[i * t + r]).abs() <= 1e-5, "session {i} step {r}");
        }
    }
    // And the engine converts, restarts sessions and survives a round trip of its state.
    let t0 = 1_700_000_000_000;
    for i in 0..50 {
        let u = engine.track(&Event::new(EventKind::ViewItem, t0 + i * 20_000).with_item(format!("i{}", i % 7), "c")).unwrap();
        assert!((0.0..=1.0).contains(&u.score) && u.scored);
    }
    let bought = engine.track(&Event::new(EventKind::Purchase, t0 + 10_000_000)).unwrap();
    assert!(bought.converted && bought.score == 1.0);
    let state = engine.export_state();
    let mut restored = Engine::new(SequenceModel::load(&bytes, &manifest).unwrap(), EngineOptions::default()).unwrap();
    restored.restore_state(&state, t0 + 10_000_000).unwrap();
    let next = Event::new(EventKind::ViewItem, t0 + 20_000_000).with_item("i1", "c");
    assert_eq!(restored.track(&next).unwrap(), engine.track(&next).unwrap());
}

#[test]
fn uci_dense_matches_onnxruntime() {
    let r = root();
    let bytes = std::fs::read(r.join("models/uci/uci_dense.onnx")).unwrap();
    let manifest = std::fs::read_to_string(r.join("models/uci/uci_dense.json")).unwrap();
    let model = TabularModel::load(&bytes, &manifest).unwrap();
    let (shape, x) = npy::read::<f32>(&r.join("models/fixtures/uci/x.npy")).unwrap();
    let (_, p) = npy::read::<f32>(&r.join("models/fixtures/uci/p.npy")).unwrap();
    let d = shape[1];
    assert_eq!(d, model.manifest().features.len());
    for i in 0..shape[0] {
        let got = model.score(&x[i * d..(i + 1) * d]).unwrap();
        assert!((got - p[i]).abs() <= 1e-5, "row {i}: tract {got} vs onnxruntime {}", p[i]);
    }
}

#[test]
fn corrupt_or_truncated_weights_are_clear_errors() {
    let (bytes, manifest) = shipped();
    for bad in [&bytes[..bytes.len() / 2], &bytes[..10], b"not a model at all".as_slice(), &[]] {
        let err = SequenceModel::load(bad, &manifest).unwrap_err();
        assert!(matches!(err.code(), "BAD_MODEL" | "MANIFEST_MISMATCH"), "{err}");
    }
    for i in (0..bytes.len()).step_by(97) {
        let mut flipped = bytes.clone();
        flipped[i] ^= 0x5a;
        assert!(SequenceModel::load(&flipped, &manifest).is_err(), "byte {i}");
    }
}

#[test]
fn manifests_that_do_not_match_are_refused_with_the_reason() {
    let (bytes, manifest) = shipped();
    let base: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("feature version", Box::new(|m| m["feature_version"] = 1.into())),
        ("feature list", Box::new(|m| m["sequence_features"].as_array_mut().unwrap().swap(0, 1))),
        ("window", Box::new(|m| m["window"] = 0.into())),
        ("no purchase", Box::new(|m| m["kinds"] = serde_json::json!(["view_item", "add_to_cart"]))),
        ("kinds and features disagree", Box::new(|m| m["kinds"].as_array_mut().unwrap().reverse())),
        ("weights checksum", Box::new(|m| m["model"]["weights_fnv1a64"] = "0123456789abcdef".into())),
        ("hidden size", Box::new(|m| m["model"]["hidden"] = (m["model"]["hidden"].as_u64().unwrap() + 1).into())),
        ("thresholds", Box::new(|m| m["segments"]["high"] = 0.0001.into())),
        ("format", Box::new(|m| m["format"] = 1.into())),
        ("model type", Box::new(|m| m["model"]["type"] = "gru".into())),
    ];
    for (what, change) in cases {
        let mut m = base.clone();
        change(&mut m);
        let err = SequenceModel::load(&bytes, &m.to_string()).unwrap_err();
        assert_eq!(err.code(), "MANIFEST_MISMATCH", "{what}: {err}");
    }
    let err = SequenceModel::load(&bytes, "{ not json").unwrap_err();
    assert_eq!(err.code(), "MANIFEST_MISMATCH");
    let mut old = base.clone();
    old["format"] = 1.into();
    assert!(SequenceModel::load(&bytes, &old.to_string()).unwrap_err().to_string().contains("retrain"));
}

#[test]
fn score_reads_the_hours_in_the_models_time_zone_unless_told() {
    // The shipped model was trained at UTC+8 (its manifest's utc_offset_min); a JSONL log scored
    // without --utc-offset-min is read at that offset, with a note, as the widget reads it.
    let score = |extra: &[&str]| {
        let run = Command::new(env!("CARGO_BIN_EXE_shopper-intent"))
            .args(["score", "--input"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small.jsonl"))
            .arg("--model")
            .arg(root().join("models/intent.json"))
            .args(extra)
            .output()
            .unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        (String::from_utf8(run.stdout).unwrap(), String::from_utf8(run.stderr).unwrap())
    };
    let manifest: serde_json::Value = serde_json::from_str(&shipped().1).unwrap();
    assert_eq!(manifest["utc_offset_min"], 480, "the shipped model says where it was trained");
    let (default, note) = score(&[]);
    assert!(note.contains("taken as the model's, UTC+08:00"), "{note}");
    let (given, quiet) = score(&["--utc-offset-min", "480"]);
    assert_eq!(default, given);
    assert!(!quiet.contains("utc-offset-min"), "{quiet}");
    assert_ne!(default, score(&["--utc-offset-min", "0"]).0, "the hours move the scores");
}
