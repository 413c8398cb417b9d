//! The shipped models: tract's outputs against the onnxruntime fixtures written at export, and
//! clear errors for models and manifests that do not fit.

use std::path::{Path, PathBuf};

use shopper_intent::features::SEQ_LEN;
use shopper_intent::{Engine, EngineOptions, Event, EventKind, SequenceModel, TabularModel};
use shopper_intent_cli::npy;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shipped() -> (Vec<u8>, String) {
    let r = root();
    (std::fs::read(r.join("models/intent.onnx")).unwrap(), std::fs::read_to_string(r.join("models/intent.json")).unwrap())
}

#[test]
fn tract_matches_onnxruntime_step_by_step() {
    let (bytes, manifest) = shipped();
    let mut model = SequenceModel::load(&bytes, &manifest).unwrap();
    let dir = root().join("models/fixtures/intent");
    let (shape, x) = npy::read::<f32>(&dir.join("x.npy")).unwrap();
    let (pshape, p) = npy::read::<f32>(&dir.join("p.npy")).unwrap();
    let (_, len) = npy::read::<i32>(&dir.join("len.npy")).unwrap();
    let (s, t, f) = (shape[0], shape[1], shape[2]);
    assert_eq!(f, SEQ_LEN);
    assert_eq!(pshape, vec![s, t]);
    assert!(s >= 8, "too few parity sequences");
    let mut worst = 0f32;
    let mut compared = 0;
    for i in 0..s {
        let rows: Vec<[f32; SEQ_LEN]> =
            (0..len[i] as usize).map(|r| x[(i * t + r) * f..(i * t + r + 1) * f].try_into().unwrap()).collect();
        let (scores, _) = model.run(rows.iter()).unwrap();
        for (r, score) in scores.iter().enumerate() {
            let d = (score - p[i * t + r]).abs();
            worst = worst.max(d);
            compared += 1;
            assert!(d <= 1e-5, "sequence {i} step {r}: tract {score} vs onnxruntime {}", p[i * t + r]);
        }
    }
    assert!(compared > 50);
    eprintln!("parity: {compared} steps, worst |tract - onnxruntime| = {worst:e}");
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
fn corrupt_or_truncated_models_are_clear_errors() {
    let (bytes, manifest) = shipped();
    for bad in [&bytes[..bytes.len() / 2], &bytes[..10], b"not a model at all".as_slice(), &[]] {
        let err = SequenceModel::load(bad, &manifest).unwrap_err();
        assert_eq!(err.code(), "BAD_MODEL", "{err}");
        assert!(err.to_string().starts_with("cannot load the model"), "{err}");
    }
    let mut flipped = bytes.clone();
    for i in (100..flipped.len()).step_by(97) {
        flipped[i] ^= 0xff;
    }
    assert!(SequenceModel::load(&flipped, &manifest).is_err());
}

#[test]
fn manifests_that_do_not_match_are_refused_with_the_reason() {
    let (bytes, manifest) = shipped();
    let base: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let cases: Vec<(&str, Box<dyn Fn(&mut serde_json::Value)>)> = vec![
        ("feature version", Box::new(|m| m["feature_version"] = 99.into())),
        ("feature list", Box::new(|m| m["sequence_features"].as_array_mut().unwrap().swap(0, 1))),
        ("window", Box::new(|m| m["window"] = 0.into())),
        ("unknown kind", Box::new(|m| m["kinds"] = serde_json::json!(["view_item", "teleport"]))),
        ("no input", Box::new(|m| m["input"] = "rows".into())),
        ("no output", Box::new(|m| m["output"] = "probability".into())),
        ("thresholds", Box::new(|m| m["segments"]["high"] = 0.0001.into())),
        ("format", Box::new(|m| m["format"] = 2.into())),
    ];
    for (what, change) in cases {
        let mut m = base.clone();
        change(&mut m);
        let err = SequenceModel::load(&bytes, &m.to_string()).unwrap_err();
        assert_eq!(err.code(), "MANIFEST_MISMATCH", "{what}: {err}");
    }
    let err = SequenceModel::load(&bytes, "{ not json").unwrap_err();
    assert_eq!(err.code(), "MANIFEST_MISMATCH");
}

#[test]
fn engine_scores_sessions_converts_and_rolls_the_window_like_training() {
    let (bytes, manifest) = shipped();
    let model = SequenceModel::load(&bytes, &manifest).unwrap();
    let w = model.manifest().window;
    let mut engine = Engine::new(model, EngineOptions::default()).unwrap();
    let mut reference = SequenceModel::load(&bytes, &manifest).unwrap();
    let t0 = 1_700_000_000_000;
    for i in 0..(w as i64 + 10) {
        let e = Event::new(EventKind::ViewItem, t0 + i * 20_000).with_item(format!("i{}", i % 7), "c");
        let u = engine.track(&e).unwrap();
        assert!((0.0..=1.0).contains(&u.score));
        // Whatever the session length, the score is the model over the rows in the window.
        let (scores, _) = reference.run(engine.window().rows()).unwrap();
        assert!((scores.last().unwrap() - u.score).abs() < 1e-6, "event {i}");
    }
    let ignored = engine.track(&Event::new(EventKind::PageView, t0 + 10_000_000)).unwrap();
    assert!(ignored.ignored);
    let bought = engine.track(&Event::new(EventKind::Purchase, t0 + 10_000_000)).unwrap();
    assert!(bought.converted && bought.score == 1.0 && bought.segment.name() == "high");
    let fresh = engine.track(&Event::new(EventKind::ViewItem, t0 + 20_000_000).with_item("i1", "c")).unwrap();
    assert!(fresh.new_session && !fresh.converted && fresh.events == 1);

    // State survives a round trip: the restored engine scores the next event identically.
    let state = engine.export_state();
    let mut restored = Engine::new(SequenceModel::load(&bytes, &manifest).unwrap(), EngineOptions::default()).unwrap();
    restored.restore_state(&state, t0 + 20_000_000).unwrap();
    assert_eq!(restored.score(), engine.score());
    assert_eq!(restored.segment(), engine.segment());
    assert_eq!(restored.points(), engine.points());
    let next = Event::new(EventKind::AddToCart, t0 + 20_060_000).with_item("i1", "c");
    assert_eq!(restored.track(&next).unwrap(), engine.track(&next).unwrap());
    assert!(!engine.explain().unwrap().is_empty());
}
