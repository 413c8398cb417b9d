//! The model: its manifest, its weights, and the LSTM step that tract runs.
//!
//! A model is two files made by the trainer (`models/`): a JSON [`Manifest`] and a weights file
//! ([`Weights`], format `SIW1`) that the manifest names, sizes and checksums. The ONNX file
//! beside them is the exchange format: `shopper-intent convert` writes the weights from it and
//! checks that both give the same scores (the `onnx` feature, native builds only).
//!
//! The browser build runs the LSTM with tract-core alone: [`graph`] builds one step of the cell
//! as a small typed graph (one matrix product of `[x, h, 1]` with the stacked weights, the fused
//! LSTM gate epilogue, the head) from the weights, so neither the ONNX loader nor protobuf is
//! shipped. The state `(h, c)` is carried
//! from event to event through the whole session ([`SequenceModel::step`]); training runs the
//! same function over whole sessions, so a step-by-step score equals the whole-sequence score.
//!
//! This module and its children are the only code that knows tract; its types never leave them.

mod cell;
mod graph;
#[cfg(feature = "onnx")]
pub mod onnx;
#[cfg(feature = "onnx")]
pub mod tabular;

use serde::Deserialize;

use crate::error::Error;
use crate::features::{row_len, sequence_features, FEATURE_VERSION};
use crate::kinds::Kinds;
use crate::state::{fnv1a, Reader};
use crate::window::{MAX_UTC_OFFSET_MIN, MAX_WINDOW};

pub use graph::{BatchModel, ModelLoader, SequenceModel};

/// The manifest format this engine reads.
pub const MANIFEST_FORMAT: u32 = 2;
/// The largest hidden size accepted.
pub const MAX_HIDDEN: usize = 512;
/// The largest hidden layer of a head accepted.
pub const MAX_HEAD: usize = 256;

/// Segment thresholds on the score.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
pub struct Thresholds {
    /// Scores from this on are `medium`.
    pub medium: f32,
    /// Scores from this on are `high`.
    pub high: f32,
}

impl Thresholds {
    /// Checks `0 < medium <= high < 1`.
    pub fn validate(&self) -> Result<(), Error> {
        if self.medium > 0.0 && self.medium <= self.high && self.high < 1.0 {
            Ok(())
        } else {
            Err(Error::BadOptions(format!("segment thresholds need 0 < medium <= high < 1, got medium {} high {}", self.medium, self.high)))
        }
    }
}

/// What the manifest says about the network.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ModelSpec {
    /// `"lstm"`: one LSTM layer, then the head.
    #[serde(rename = "type")]
    pub kind: String,
    /// F: columns of a row, [`crate::features::row_len`] of the kinds.
    pub inputs: usize,
    /// H: the LSTM's hidden size; the state carried between events is `2 H` numbers.
    pub hidden: usize,
    /// The head's hidden layer (ReLU), 0 for a linear head on `h`.
    #[serde(default)]
    pub head: usize,
    /// The weights file, relative to the manifest.
    pub weights: String,
    /// Its length in bytes.
    pub weights_bytes: usize,
    /// Its FNV-1a 64 checksum, 16 hex digits: ties the weights to this manifest.
    pub weights_fnv1a64: String,
    /// The ONNX file the weights were converted from, relative to the manifest.
    #[serde(default)]
    pub onnx: Option<OnnxSpec>,
}

/// The ONNX exchange file of a model: one step of the cell, `x [B, F]`, `h [B, H]`,
/// `c [B, H]` in; `p [B]`, `h`, `c` out.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct OnnxSpec {
    /// File name, relative to the manifest.
    pub file: String,
    /// Input names: the row, then `h` and `c`.
    pub inputs: [String; 3],
    /// Output names: the probability, then `h` and `c`.
    pub outputs: [String; 3],
}

/// The JSON manifest shipped beside a model (`models/intent.json`).
#[derive(Clone, Debug, Deserialize)]
pub struct Manifest {
    /// Manifest format, [`MANIFEST_FORMAT`].
    pub format: u32,
    /// The model's name.
    pub name: String,
    /// The feature version the model was trained on.
    pub feature_version: u32,
    /// W: rows the window keeps (for explanations and restore).
    pub window: usize,
    /// The event kinds the model reads, in column order (purchase included, without a column).
    pub kinds: Vec<String>,
    /// The feature names, in order: must equal [`crate::features::sequence_features`] of the kinds.
    pub sequence_features: Vec<String>,
    /// The network.
    pub model: ModelSpec,
    /// The decision threshold chosen on validation (best positive-class F1).
    pub threshold: f32,
    /// Segment thresholds chosen on validation.
    pub segments: Thresholds,
    /// Minutes east of UTC of the shop's local time the model's hour-of-day features were
    /// computed in (the training log's `--utc-offset-min`); an engine uses it unless told
    /// otherwise. Absent in manifests made before it was written: UTC.
    #[serde(default)]
    pub utc_offset_min: Option<i32>,
    /// Everything else (calibration, training, data, metrics) is carried but not interpreted.
    #[serde(default)]
    pub metrics: serde_json::Value,
}

fn mismatch<T>(msg: impl Into<String>) -> Result<T, Error> {
    Err(Error::ManifestMismatch(msg.into()))
}

impl Manifest {
    /// Parses and checks a manifest against this engine's features.
    ///
    /// ```
    /// let err = shopper_intent::model::Manifest::parse("{}").unwrap_err();
    /// assert_eq!(err.code(), "MANIFEST_MISMATCH");
    /// let old = r#"{"format": 1, "feature_version": 1}"#;
    /// assert!(shopper_intent::model::Manifest::parse(old).unwrap_err().to_string().contains("format 1"));
    /// ```
    pub fn parse(json: &str) -> Result<Manifest, Error> {
        #[derive(Deserialize)]
        struct Head {
            format: Option<u32>,
            feature_version: Option<u32>,
        }
        let head: Head = serde_json::from_str(json).map_err(|e| Error::ManifestMismatch(format!("not a valid manifest: {e}")))?;
        match head.format {
            Some(MANIFEST_FORMAT) => {}
            Some(1) => {
                return mismatch(
                    "manifest format 1 is an ONNX model for feature version 1, which this engine no longer runs; \
                     retrain with `make train` (or convert a format-2 export with `shopper-intent convert`)",
                )
            }
            Some(f) => return mismatch(format!("manifest format {f}, this engine reads {MANIFEST_FORMAT}")),
            None => return mismatch("not a valid manifest: no format"),
        }
        if let Some(v) = head.feature_version.filter(|v| *v != FEATURE_VERSION) {
            return mismatch(format!("model was trained on feature version {v}, this engine computes version {FEATURE_VERSION}"));
        }
        let m: Manifest = serde_json::from_str(json).map_err(|e| Error::ManifestMismatch(format!("not a valid manifest: {e}")))?;
        let kinds = m.kinds()?;
        if m.sequence_features != sequence_features(&kinds) {
            return mismatch("the model's feature list differs from what this engine computes for its kinds");
        }
        if !(1..=MAX_WINDOW).contains(&m.window) {
            return mismatch(format!("window {} outside 1..={MAX_WINDOW}", m.window));
        }
        let s = &m.model;
        if s.kind != "lstm" {
            return mismatch(format!("model type {:?}, this engine runs \"lstm\"", s.kind));
        }
        if s.inputs != row_len(&kinds) {
            return mismatch(format!("the model reads {} inputs, the features have {}", s.inputs, row_len(&kinds)));
        }
        if !(1..=MAX_HIDDEN).contains(&s.hidden) || s.head > MAX_HEAD {
            return mismatch(format!("hidden size {} (1..={MAX_HIDDEN}) or head {} (0..={MAX_HEAD}) out of range", s.hidden, s.head));
        }
        if s.weights_bytes != weights_len(s.inputs, s.hidden, s.head) {
            return mismatch(format!("weights_bytes {} does not fit the sizes given", s.weights_bytes));
        }
        if u64::from_str_radix(&s.weights_fnv1a64, 16).is_err() || s.weights_fnv1a64.len() != 16 {
            return mismatch("weights_fnv1a64 must be 16 hex digits");
        }
        if !(m.threshold > 0.0 && m.threshold < 1.0) {
            return mismatch(format!("threshold {} outside (0, 1)", m.threshold));
        }
        m.segments.validate().map_err(|e| Error::ManifestMismatch(e.to_string()))?;
        if m.utc_offset_min.is_some_and(|o| o.abs() > MAX_UTC_OFFSET_MIN) {
            return mismatch(format!("utc_offset_min {} outside ±{MAX_UTC_OFFSET_MIN}", m.utc_offset_min.unwrap_or(0)));
        }
        Ok(m)
    }

    /// The kinds as a [`Kinds`].
    pub fn kinds(&self) -> Result<Kinds, Error> {
        Kinds::parse(&self.kinds).map_err(|e| Error::ManifestMismatch(format!("event kinds: {e}")))
    }

    /// The shop's local time the model was trained in, minutes east of UTC (0 when the manifest
    /// does not say).
    pub fn utc_offset(&self) -> i32 {
        self.utc_offset_min.unwrap_or(0)
    }

    /// The weights' checksum as a number.
    pub fn weights_id(&self) -> u64 {
        u64::from_str_radix(&self.model.weights_fnv1a64, 16).unwrap_or(0)
    }
}

const WEIGHTS_MAGIC: &[u8; 4] = b"SIW1";

/// The byte length of a weights file for these sizes.
pub fn weights_len(inputs: usize, hidden: usize, head: usize) -> usize {
    let floats = (inputs + hidden + 1) * 4 * hidden + if head == 0 { hidden + 1 } else { hidden * head + 2 * head + 1 };
    4 + 3 * 4 + floats * 4 + 8
}

/// The network's numbers, read from a weights file.
///
/// Layout (little-endian): `SIW1`; `u32` F, H, head size G; then f32 arrays, row-major:
/// `w_ih [F, 4H]`, `w_hh [H, 4H]`, `b [4H]` (the gate blocks in PyTorch's order: input, forget,
/// cell, output; the two PyTorch biases summed; input standardisation folded in); the head,
/// either `w [H]`, `b` (G = 0: `p = sigmoid(h · w + b)`) or `w1 [H, G]`, `b1 [G]`, `w2 [G]`,
/// `b2` (`p = sigmoid(relu(h · w1 + b1) · w2 + b2)`), calibration folded in; then the FNV-1a 64
/// checksum of everything before it.
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    /// F.
    pub inputs: usize,
    /// H.
    pub hidden: usize,
    /// G, 0 for a linear head.
    pub head: usize,
    /// `[F, 4H]`.
    pub w_ih: Vec<f32>,
    /// `[H, 4H]`.
    pub w_hh: Vec<f32>,
    /// `[4H]`.
    pub b: Vec<f32>,
    /// The head's first layer, `[H, G]` (or `[H, 1]` for a linear head).
    pub head_w1: Vec<f32>,
    /// `[G]` (or `[1]`).
    pub head_b1: Vec<f32>,
    /// The head's second layer `[G]`, empty for a linear head.
    pub head_w2: Vec<f32>,
    /// Its bias.
    pub head_b2: f32,
}

impl Weights {
    /// Reads a weights file and checks it against the manifest's sizes and checksum.
    pub fn parse(bytes: &[u8], spec: &ModelSpec) -> Result<Weights, Error> {
        let bad = |m: String| Error::BadModel(format!("weights file {}: {m}", spec.weights));
        if bytes.len() < 4 || &bytes[..4] != WEIGHTS_MAGIC {
            return Err(bad("not a shopper-intent weights file (SIW1)".into()));
        }
        if bytes.len() != spec.weights_bytes {
            return Err(Error::ManifestMismatch(format!(
                "the weights file has {} bytes, the manifest says {}: they do not belong together",
                bytes.len(),
                spec.weights_bytes
            )));
        }
        let sum = fnv1a(bytes);
        if format!("{sum:016x}") != spec.weights_fnv1a64 {
            return Err(Error::ManifestMismatch(format!(
                "the weights file's checksum is {sum:016x}, the manifest says {}: they do not belong together",
                spec.weights_fnv1a64
            )));
        }
        let (body, tail) = bytes.split_at(bytes.len() - 8);
        let inner = u64::from_le_bytes(tail.try_into().map_err(|_| bad("truncated".into()))?);
        if inner != fnv1a(body) {
            return Err(bad("corrupt (its own checksum does not match)".into()));
        }
        let mut r = Reader { bytes: body, at: 4 };
        let dims: Vec<usize> = (0..3).map(|_| r.u32().map(|v| v as usize)).collect::<Result<_, _>>().map_err(|e| bad(e.to_string()))?;
        let (f, h, g) = (dims[0], dims[1], dims[2]);
        if (f, h, g) != (spec.inputs, spec.hidden, spec.head) {
            return Err(Error::ManifestMismatch(format!(
                "the weights are for F={f} H={h} head={g}, the manifest says F={} H={} head={}",
                spec.inputs, spec.hidden, spec.head
            )));
        }
        let mut take = |n: usize| -> Result<Vec<f32>, Error> {
            (0..n).map(|_| r.f32()).collect::<Result<Vec<_>, _>>().map_err(|_| bad("a weight is not a finite number".into()))
        };
        let w_ih = take(f * 4 * h)?;
        let w_hh = take(h * 4 * h)?;
        let b = take(4 * h)?;
        let (head_w1, head_b1, head_w2, head_b2) = if g == 0 {
            (take(h)?, take(1)?, Vec::new(), 0.0)
        } else {
            let w1 = take(h * g)?;
            let b1 = take(g)?;
            let w2 = take(g)?;
            let b2 = take(1)?[0];
            (w1, b1, w2, b2)
        };
        Ok(Weights { inputs: f, hidden: h, head: g, w_ih, w_hh, b, head_w1, head_b1, head_w2, head_b2 })
    }

    /// Writes the weights file (what the converter and the tests use).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(weights_len(self.inputs, self.hidden, self.head));
        out.extend_from_slice(WEIGHTS_MAGIC);
        for d in [self.inputs, self.hidden, self.head] {
            out.extend_from_slice(&(d as u32).to_le_bytes());
        }
        let arrays: [&[f32]; 5] = [&self.w_ih, &self.w_hh, &self.b, &self.head_w1, &self.head_b1];
        for a in arrays {
            for v in a {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        if self.head > 0 {
            for v in self.head_w2.iter().chain([&self.head_b2]) {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        let sum = fnv1a(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// The weights' checksum, as the manifest records it.
    pub fn checksum(bytes: &[u8]) -> String {
        format!("{:016x}", fnv1a(bytes))
    }

    /// Random weights of these sizes (for tests and benchmarks), deterministic in `seed`.
    pub fn random(inputs: usize, hidden: usize, head: usize, seed: u64) -> Weights {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move |scale: f32| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        };
        let mut v = |n: usize, scale: f32| (0..n).map(|_| next(scale)).collect::<Vec<f32>>();
        let k = 1.0 / (hidden as f32).sqrt();
        Weights {
            inputs,
            hidden,
            head,
            w_ih: v(inputs * 4 * hidden, k),
            w_hh: v(hidden * 4 * hidden, k),
            b: v(4 * hidden, k),
            head_w1: v(if head == 0 { hidden } else { hidden * head }, k),
            head_b1: v(head.max(1), k),
            head_w2: v(head, k),
            head_b2: if head == 0 { 0.0 } else { 0.1 },
        }
    }

    /// A scalar reference of one step, for tests: `(p, h', c')` from `x`, `h`, `c`, in f64.
    pub fn reference_step(&self, x: &[f32], h: &[f32], c: &[f32]) -> (f32, Vec<f32>, Vec<f32>) {
        let n = self.hidden;
        let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
        let mut gates = vec![0f64; 4 * n];
        for (j, g) in gates.iter_mut().enumerate() {
            let mut acc = f64::from(self.b[j]);
            for (i, xv) in x.iter().enumerate() {
                acc += f64::from(*xv) * f64::from(self.w_ih[i * 4 * n + j]);
            }
            for (i, hv) in h.iter().enumerate() {
                acc += f64::from(*hv) * f64::from(self.w_hh[i * 4 * n + j]);
            }
            *g = acc;
        }
        let mut h2 = vec![0f32; n];
        let mut c2 = vec![0f32; n];
        for j in 0..n {
            let (i, f, g, o) = (sig(gates[j]), sig(gates[n + j]), gates[2 * n + j].tanh(), sig(gates[3 * n + j]));
            let cn = f * f64::from(c[j]) + i * g;
            c2[j] = cn as f32;
            h2[j] = (o * cn.tanh()) as f32;
        }
        let z = if self.head == 0 {
            h2.iter().zip(&self.head_w1).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum::<f64>() + f64::from(self.head_b1[0])
        } else {
            let g = self.head;
            let mut z = f64::from(self.head_b2);
            for k in 0..g {
                let mut a = f64::from(self.head_b1[k]);
                for (i, hv) in h2.iter().enumerate() {
                    a += f64::from(*hv) * f64::from(self.head_w1[i * g + k]);
                }
                z += a.max(0.0) * f64::from(self.head_w2[k]);
            }
            z
        };
        (sig(z) as f32, h2, c2)
    }
}

/// The recurrent state `(h, c)` of one session between events.
#[derive(Clone, Debug, PartialEq)]
pub struct LstmState {
    /// `h`, H numbers.
    pub h: Vec<f32>,
    /// `c`, H numbers.
    pub c: Vec<f32>,
}

impl LstmState {
    /// The state at the start of a session.
    pub fn zero(hidden: usize) -> LstmState {
        LstmState { h: vec![0.0; hidden], c: vec![0.0; hidden] }
    }

    /// Copies `other` into this state without allocating.
    pub fn copy_from(&mut self, other: &LstmState) {
        self.h.copy_from_slice(&other.h);
        self.c.copy_from_slice(&other.c);
    }

    /// Sets the state to zero without allocating.
    pub fn reset(&mut self) {
        self.h.fill(0.0);
        self.c.fill(0.0);
    }
}

pub(crate) fn check_probability(p: f32) -> Result<f32, Error> {
    if p.is_finite() && (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(Error::BadModel(format!("the model returned {p}, not a probability")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(w: &Weights, bytes: &[u8]) -> ModelSpec {
        ModelSpec {
            kind: "lstm".into(),
            inputs: w.inputs,
            hidden: w.hidden,
            head: w.head,
            weights: "test.bin".into(),
            weights_bytes: bytes.len(),
            weights_fnv1a64: Weights::checksum(bytes),
            onnx: None,
        }
    }

    #[test]
    fn weights_round_trip_and_every_flipped_byte_is_refused() {
        for head in [0, 4] {
            let w = Weights::random(5, 3, head, 1);
            let bytes = w.to_bytes();
            assert_eq!(bytes.len(), weights_len(5, 3, head));
            let s = spec(&w, &bytes);
            assert_eq!(Weights::parse(&bytes, &s).unwrap(), w);
            for i in 0..bytes.len() {
                let mut b = bytes.clone();
                b[i] ^= 0x10;
                assert!(Weights::parse(&b, &s).is_err(), "byte {i}");
            }
            assert!(Weights::parse(&bytes[..bytes.len() - 1], &s).is_err());
            // The same weights under another manifest's sizes are a mismatch.
            let other = ModelSpec { hidden: 4, ..s };
            assert_eq!(Weights::parse(&bytes, &other).unwrap_err().code(), "MANIFEST_MISMATCH");
        }
    }
}
