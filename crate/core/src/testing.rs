//! Support for tests and benchmarks: a model of random weights with a valid manifest.

use crate::features::{row_len, sequence_features, FEATURE_VERSION};
use crate::kinds::Kinds;
use crate::model::Weights;

/// The weights file and manifest of a random model for `kinds` (W = `window`), deterministic in
/// `seed`. Its thresholds are 0.3 and 0.6.
pub fn random_model(kinds: &Kinds, window: usize, hidden: usize, head: usize, seed: u64) -> (Vec<u8>, String) {
    let w = Weights::random(row_len(kinds), hidden, head, seed);
    let bytes = w.to_bytes();
    let manifest = serde_json::json!({
        "format": 2, "name": format!("random-{seed}"), "feature_version": FEATURE_VERSION, "window": window,
        "kinds": kinds.names(), "sequence_features": sequence_features(kinds),
        "model": {"type": "lstm", "inputs": w.inputs, "hidden": hidden, "head": head, "weights": "random.bin",
                  "weights_bytes": bytes.len(), "weights_fnv1a64": Weights::checksum(&bytes)},
        "threshold": 0.5, "segments": {"medium": 0.3, "high": 0.6}
    });
    (bytes, manifest.to_string())
}

/// Runs `harness` on every file of the fuzz corpus and the crash regressions of `target`
/// (`crate/fuzz/{corpus,regressions}/<target>/`, below `fuzz_dir`); returns how many ran.
pub fn replay_corpus(fuzz_dir: &std::path::Path, target: &str, harness: fn(&[u8])) -> usize {
    let mut n = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir.join(dir).join(target)) else { continue };
        for e in entries.flatten() {
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            harness(&bytes);
            n += 1;
        }
    }
    n
}

/// Harnesses shared by the fuzz targets (`crate/fuzz`) and the regression tests that replay
/// their corpora on the stable toolchain: each takes arbitrary bytes and must neither panic nor
/// break an invariant, whatever the bytes are.
pub mod fuzz {
    use std::cell::RefCell;

    use crate::engine::{Engine, EngineOptions};
    use crate::event::{check_quantity, check_ts, Event, Kind};
    use crate::kinds::Kinds;
    use crate::model::{Manifest, SequenceModel, Weights};
    use crate::window::Window;

    /// Kinds of the harnesses' engine: GA4 ones and one of a shop's own.
    pub fn kinds() -> Kinds {
        Kinds::parse(&["page_view", "view_item", "add_to_cart", "remove_from_cart", "purchase", "coupon_applied"]).expect("valid kinds")
    }

    thread_local! {
        static ENGINE: RefCell<Engine> = RefCell::new(engine());
    }

    /// An engine with a small random model and W = 4.
    pub fn engine() -> Engine {
        let (bytes, manifest) = super::random_model(&kinds(), 4, 8, 0, 17);
        let model = SequenceModel::load(&bytes, &manifest).expect("the random model loads");
        Engine::new(model, EngineOptions { salt: [3; 16], ..EngineOptions::default() }).expect("an engine")
    }

    /// A little reader over the fuzzer's bytes.
    struct Bytes<'a>(&'a [u8]);
    impl Bytes<'_> {
        fn byte(&mut self) -> u8 {
            let (b, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
            self.0 = rest;
            b
        }
        fn f64(&mut self) -> f64 {
            let mut a = [0u8; 8];
            for x in &mut a {
                *x = self.byte();
            }
            f64::from_le_bytes(a)
        }
        fn text(&mut self) -> String {
            let n = usize::from(self.byte()) * 2;
            let take = n.min(self.0.len());
            let (s, rest) = self.0.split_at(take);
            self.0 = rest;
            String::from_utf8_lossy(s).into_owned()
        }
        fn empty(&self) -> bool {
            self.0.is_empty()
        }
    }

    /// Events built field by field from the bytes, converted as the wasm crate converts a page's
    /// values (type string, numeric ts, ids, price, quantity, session), then tracked: errors are
    /// values, accepted events keep the engine's invariants, and the state round-trips.
    pub fn event_fields(data: &[u8]) {
        let mut b = Bytes(data);
        ENGINE.with(|cell| {
            let mut engine = cell.borrow_mut();
            engine.forget([0; 16]);
            let names = ["view_item", "add_to_cart", "purchase", "coupon_applied", "remove_from_cart", "page_view", "search"];
            let mut ts = 1_700_000_000_000f64;
            while !b.empty() {
                let tag = b.byte();
                let name = if tag & 1 == 0 { names[usize::from(tag >> 1) % names.len()].to_string() } else { b.text() };
                ts += match b.byte() % 4 {
                    0 => f64::from(b.byte()) * 1000.0,
                    1 => b.f64(),
                    2 => -f64::from(b.byte()) * 60_000.0,
                    _ => f64::from(b.byte()) * 3_600_000.0,
                };
                let Ok(kind) = Kind::parse(&name) else { continue };
                let Ok(t) = check_ts(ts) else { continue };
                let mut e = Event::new(kind, t);
                let fields = b.byte();
                if fields & 1 != 0 {
                    e.item = Some(b.text());
                }
                if fields & 2 != 0 {
                    e.category = Some(b.text());
                }
                if fields & 4 != 0 {
                    e.price = Some(b.f64());
                }
                if fields & 8 != 0 {
                    e.quantity = check_quantity(b.f64()).ok();
                }
                if fields & 16 != 0 {
                    e.session = Some(b.text());
                }
                let before = engine.export_state();
                match engine.track(&e) {
                    Ok(u) => {
                        assert!((0.0..=1.0).contains(&u.score));
                        assert!(engine.window().rows().len() <= engine.window().config().window);
                    }
                    Err(err) => {
                        assert_ne!(err.code(), "ENGINE_FAILED", "{err}");
                        assert_eq!(engine.export_state(), before, "a refused event changes nothing");
                    }
                }
            }
            // Restored at the time of its newest event, the session is not over (by the clock
            // neither behind nor ahead of it): the state round-trips.
            let state = engine.export_state();
            let now = engine.window().newest_ms().unwrap_or(crate::event::MIN_TS_MS);
            RESTORER.with(|r| {
                let mut other = r.borrow_mut();
                other.restore_state(&state, now).expect("a state the engine wrote restores");
                assert_eq!(other.export_state(), state);
            });
        });
    }

    thread_local! {
        static RESTORER: RefCell<Engine> = RefCell::new(engine());
    }

    /// Arbitrary bytes as a saved engine state: refused with `BAD_STATE`, or restored into an
    /// engine whose own export restores to the same bytes.
    pub fn state(data: &[u8]) {
        RESTORER.with(|cell| {
            let mut engine = cell.borrow_mut();
            match engine.restore_state(data, 1_700_000_000_000) {
                Err(e) => assert_eq!(e.code(), "BAD_STATE", "{e}"),
                Ok(()) => {
                    let again = engine.export_state();
                    ENGINE.with(|f| {
                        let mut fresh = f.borrow_mut();
                        fresh.restore_state(&again, 1_700_000_000_000).expect("an exported state restores");
                        assert_eq!(fresh.export_state(), again);
                    });
                    let _ = engine.track(&Event::new(Kind::parse("view_item").expect("kind"), 1_700_000_100_000));
                }
            }
        });
    }

    /// Arbitrary bytes as a window state (the part of the engine state that holds the session).
    pub fn window_state(data: &[u8]) {
        if let Ok(w) = Window::from_bytes(data) {
            assert_eq!(Window::from_bytes(&w.to_bytes()).as_ref(), Ok(&w));
            assert!(w.rows().len() <= w.config().window);
        }
    }

    /// Arbitrary text as a manifest: refused with `MANIFEST_MISMATCH` or parsed into one whose
    /// sizes agree.
    pub fn manifest(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        match Manifest::parse(&text) {
            Err(e) => assert_eq!(e.code(), "MANIFEST_MISMATCH", "{e}"),
            Ok(m) => assert_eq!(m.model.inputs, crate::features::row_len(&m.kinds().expect("checked"))),
        }
    }

    /// Arbitrary bytes as a weights file for a fixed manifest, and as a weights file with its
    /// checksums made right (so the parser is exercised past them): parsed, or refused with a
    /// reason; never a panic.
    pub fn weights(data: &[u8]) {
        let (bytes, manifest) = super::random_model(&kinds(), 4, 4, 0, 1);
        let m = Manifest::parse(&manifest).expect("valid");
        let _ = Weights::parse(data, &m.model);
        // The same length as a valid file, with the bytes given and valid checksums.
        let mut body = bytes[..bytes.len() - 8].to_vec();
        for (i, b) in data.iter().enumerate().take(body.len().saturating_sub(16)) {
            body[16 + i] = *b;
        }
        let sum = crate::state::fnv1a(&body);
        body.extend_from_slice(&sum.to_le_bytes());
        let mut spec = m.model.clone();
        spec.weights_fnv1a64 = Weights::checksum(&body);
        if let Ok(w) = Weights::parse(&body, &spec) {
            assert!(w.w_ih.iter().chain(&w.w_hh).chain(&w.b).all(|v| v.is_finite()));
        }
    }

    /// Arbitrary finite weights of a valid file built into a model and stepped: any numbers a
    /// trainer could write give probabilities or a `BAD_MODEL` error, never a panic.
    pub fn model_build(data: &[u8]) {
        let kinds = kinds();
        let mut w = Weights::random(crate::features::row_len(&kinds), 2, 0, 5);
        let mut b = Bytes(data);
        for v in w.w_ih.iter_mut().chain(w.w_hh.iter_mut()).chain(w.b.iter_mut()).chain(w.head_w1.iter_mut()) {
            if b.empty() {
                break;
            }
            let x = b.f64() as f32;
            if x.is_finite() {
                *v = x;
            }
        }
        let bytes = w.to_bytes();
        let (_, manifest) = super::random_model(&kinds, 4, 2, 0, 5);
        let mut m: serde_json::Value = serde_json::from_str(&manifest).expect("json");
        m["model"]["weights_fnv1a64"] = Weights::checksum(&bytes).into();
        let Ok(mut model) = SequenceModel::load(&bytes, &m.to_string()) else { return };
        let mut s = model.zero_state();
        let row = vec![1.0; crate::features::row_len(&kinds)];
        for _ in 0..3 {
            if let Ok(p) = model.step(&row, &mut s) {
                assert!((0.0..=1.0).contains(&p));
            }
        }
    }
}
