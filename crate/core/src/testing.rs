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
