//! Writes the seed corpora of the fuzz targets (`crate/fuzz/corpus/<target>/`): valid engine and
//! window states after varied sessions, valid manifests and weights, and event streams.
//!
//!   cargo run --example fuzz_seeds -- crate/fuzz/corpus

use std::path::Path;

use shopper_intent::testing::{fuzz, random_model};
use shopper_intent::{Event, EventKind, Kind};

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let d = dir.join(target);
    std::fs::create_dir_all(&d).expect("a corpus folder");
    std::fs::write(d.join(name), bytes).expect("a seed file");
}

fn main() {
    let out = std::env::args().nth(1).unwrap_or_else(|| "crate/fuzz/corpus".into());
    let out = Path::new(&out);
    let t0 = 1_700_000_000_000i64;
    let own = Kind::parse("coupon_applied").expect("a kind");
    let streams: Vec<Vec<Event>> = vec![
        vec![],
        vec![Event::new(EventKind::ViewItem, t0).with_item("sku-1", "shoes").with_price(59.0)],
        (0..40).map(|i| Event::new(EventKind::ViewItem, t0 + i * 10_000).with_item(format!("sku-{}", i % 6), "c")).collect(),
        vec![
            Event::new(EventKind::AddToCart, t0).with_item("a", "x"),
            Event::new(own.clone(), t0 + 1_000),
            Event::new(EventKind::Purchase, t0 + 2_000),
            Event::new(EventKind::ViewItem, t0 + 3_000_000).with_item("b", "y").with_session("s-2"),
        ],
    ];
    for (i, events) in streams.iter().enumerate() {
        let mut engine = fuzz::engine();
        for e in events {
            let _ = engine.track(e);
        }
        write(out, "state", &format!("engine-{i}"), &engine.export_state());
        write(out, "window_state", &format!("window-{i}"), &engine.window().to_bytes());
    }
    for (i, (hidden, head)) in [(4usize, 0usize), (8, 3)].into_iter().enumerate() {
        let (bytes, manifest) = random_model(&fuzz::kinds(), 4, hidden, head, i as u64);
        write(out, "manifest", &format!("manifest-{i}.json"), manifest.as_bytes());
        write(out, "weights", &format!("weights-{i}.bin"), &bytes);
        write(out, "model_build", &format!("weights-{i}"), &bytes[16..bytes.len().min(16 + 512)]);
    }
    // Event streams for `event_fields`: tag, time step, fields.
    let mut s = 0x9e37_79b9u64;
    for i in 0..8 {
        let mut seed = Vec::new();
        for _ in 0..(4 + i * 3) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            seed.extend_from_slice(&s.to_le_bytes()[..6]);
        }
        write(out, "event_fields", &format!("stream-{i}"), &seed);
    }
    println!("seed corpora written to {}", out.display());
}
