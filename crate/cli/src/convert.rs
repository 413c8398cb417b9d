//! `shopper-intent convert`: the ONNX exchange file to the weights file the browser loads, and
//! the checks that the two are the same model.
//!
//! 1. The weights are read from the ONNX graph's named initializers and written beside the
//!    manifest; the manifest gets their size and checksum.
//! 2. The ONNX graph (run by tract-onnx) and the weights graph (run by tract-core, as in the
//!    browser) are stepped over the same sessions: every score and state must agree within
//!    [`PARITY_TOLERANCE`].
//! 3. When the trainer wrote fixtures (PyTorch's scores over whole sessions), stepping the
//!    weights graph event by event from a zero state must give the same scores within
//!    [`FIXTURE_TOLERANCE`]: the model that was trained on whole sessions is the model that
//!    streams.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use shopper_intent::model::onnx::{weights_from_onnx, OnnxModel};
use shopper_intent::model::{LstmState, Manifest, Weights};
use shopper_intent::SequenceModel;

use crate::npy;

/// The largest difference allowed between the scores of the ONNX graph and the weights graph.
pub const PARITY_TOLERANCE: f32 = 1e-6;
/// The largest difference allowed between their states (relative to the value once above 1).
pub const STATE_TOLERANCE: f32 = 1e-5;
/// The largest difference allowed between PyTorch's whole-session scores and tract's steps
/// (tract's sigmoid and tanh are rational approximations, about 1e-7 off).
pub const FIXTURE_TOLERANCE: f32 = 1e-5;

/// What the checks found.
#[derive(Debug, serde::Serialize)]
pub struct Parity {
    /// Steps compared between the ONNX graph and the weights graph.
    pub steps: usize,
    /// The largest difference in score.
    pub worst_onnx: f32,
    /// The largest difference in the state `(h, c)`.
    pub worst_state: f32,
    /// Steps compared with the fixtures (0 without fixtures).
    pub fixture_steps: usize,
    /// The largest difference from the fixtures.
    pub worst_fixture: f32,
}

/// Sessions of rows to compare the two graphs on: the fixtures' rows when there are some, and
/// deterministic pseudo-random rows (one-hot kinds, numeric columns of realistic size).
fn probe_sessions(w: &Weights, kinds: usize, fixtures: Option<&Fixtures>) -> Vec<Vec<Vec<f32>>> {
    let mut out = Vec::new();
    if let Some(Fixtures { shape, x, len, .. }) = fixtures {
        let (t, f) = (shape[1], shape[2]);
        for (i, &l) in len.iter().enumerate() {
            out.push((0..l as usize).map(|r| x[(i * t + r) * f..(i * t + r + 1) * f].to_vec()).collect());
        }
    }
    let mut s = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 40) as f32 / (1u64 << 24) as f32
    };
    for _ in 0..16 {
        let steps = 1 + (next() * 80.0) as usize;
        out.push(
            (0..steps)
                .map(|_| {
                    let mut r = vec![0.0; w.inputs];
                    if kinds > 0 {
                        r[((next() * kinds as f32) as usize).min(kinds - 1)] = 1.0;
                    }
                    for v in &mut r[kinds..] {
                        *v = next() * 6.0 - 1.0;
                    }
                    r
                })
                .collect(),
        );
    }
    out
}

/// The trainer's fixtures: rows `x` of shape (sessions, steps, features), each session's length,
/// and PyTorch's whole-session score `p` at each step.
struct Fixtures {
    shape: Vec<usize>,
    x: Vec<f32>,
    len: Vec<i32>,
    p: Vec<f32>,
}

fn read_fixtures(dir: &Path) -> Result<Option<Fixtures>> {
    if !dir.join("x.npy").exists() {
        return Ok(None);
    }
    let (shape, x) = npy::read::<f32>(&dir.join("x.npy"))?;
    let (_, len) = npy::read::<i32>(&dir.join("len.npy"))?;
    let (pshape, p) = npy::read::<f32>(&dir.join("p.npy"))?;
    if shape.len() != 3 || pshape != shape[..2] || len.len() != shape[0] || len.iter().any(|&l| l < 1 || l as usize > shape[1]) {
        bail!("the fixtures in {} do not fit together (x {shape:?}, p {pshape:?}, len {})", dir.display(), len.len());
    }
    Ok(Some(Fixtures { shape, x, len, p }))
}

/// The error for a fixtures folder given on the command line that holds none.
fn no_fixtures(dir: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "no trainer fixtures in {} (x.npy, len.npy and p.npy): give the folder the trainer wrote them to, or no --fixtures",
        dir.display()
    )
}

/// The fixtures folder of a manifest: `fixtures/<stem>` beside it.
pub fn fixtures_dir(manifest_path: &Path) -> PathBuf {
    let stem = manifest_path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    manifest_path.parent().unwrap_or(Path::new(".")).join("fixtures").join(stem)
}

/// Runs the parity checks of a model whose manifest, weights and ONNX file are on disk.
pub fn check(manifest_path: &Path, fixtures: Option<&Path>) -> Result<Parity> {
    let files = crate::model_files::read(manifest_path)?;
    let m = &files.manifest;
    let onnx_spec = m.model.onnx.as_ref().context("the manifest names no ONNX file (model.onnx)")?;
    let dir = files.manifest_path.parent().unwrap_or(Path::new("."));
    let onnx_path = dir.join(&onnx_spec.file);
    let onnx_bytes = std::fs::read(&onnx_path)
        .with_context(|| format!("reading {}, the ONNX file the manifest names (model.onnx.file) beside it", onnx_path.display()))?;
    let mut onnx = OnnxModel::load(&onnx_bytes, onnx_spec, m.model.inputs, m.model.hidden)?;
    let mut model = SequenceModel::load(&files.weights, &files.manifest_text)?;
    let fixture_dir = fixtures.map(Path::to_path_buf).unwrap_or_else(|| fixtures_dir(&files.manifest_path));
    let fx = read_fixtures(&fixture_dir)?;
    if fx.is_none() && fixtures.is_some() {
        return Err(no_fixtures(&fixture_dir));
    }
    let kinds = m.kinds()?.columns();
    let mut parity = Parity { steps: 0, worst_onnx: 0.0, worst_state: 0.0, fixture_steps: 0, worst_fixture: 0.0 };
    for (i, rows) in probe_sessions(model.weights(), kinds, fx.as_ref()).iter().enumerate() {
        let (mut a, mut b) = (model.zero_state(), LstmState::zero(m.model.hidden));
        for (t, row) in rows.iter().enumerate() {
            let pa = model.step(row, &mut a)?;
            let pb = onnx.step(row, &mut b)?;
            // The score must agree within PARITY_TOLERANCE. The state (h in [-1, 1], c growing
            // to about 5 over long sessions) carries f32 rounding from step to step; it must
            // agree within STATE_TOLERANCE, relative to its size once it exceeds 1.
            let rel = |x: f32, y: f32| (x - y).abs() / x.abs().max(1.0);
            let ds = a.h.iter().zip(&b.h).chain(a.c.iter().zip(&b.c)).map(|(x, y)| rel(*x, *y)).fold(0.0, f32::max);
            let d = (pa - pb).abs();
            parity.worst_onnx = parity.worst_onnx.max(d);
            parity.worst_state = parity.worst_state.max(ds);
            if d > PARITY_TOLERANCE || ds > STATE_TOLERANCE {
                bail!("session {i} step {t}: the weights graph and the ONNX graph differ by {d:e} in the score ({pa} vs {pb}) and {ds:e} in the state");
            }
            parity.steps += 1;
        }
    }
    if let Some(Fixtures { shape, len, p, .. }) = &fx {
        let t = shape[1];
        for (i, rows) in probe_sessions(model.weights(), kinds, fx.as_ref()).iter().take(len.len()).enumerate() {
            let mut s = model.zero_state();
            for (r, row) in rows.iter().enumerate() {
                let got = model.step(row, &mut s)?;
                let d = (got - p[i * t + r]).abs();
                parity.worst_fixture = parity.worst_fixture.max(d);
                parity.fixture_steps += 1;
                if d > FIXTURE_TOLERANCE {
                    bail!(
                        "fixture session {i} step {r}: streamed score {got} vs the trainer's whole-session score {} ({d:e})",
                        p[i * t + r]
                    );
                }
            }
        }
    }
    Ok(parity)
}

/// Writes the weights file named by the manifest from the ONNX file it names, records its size
/// and checksum in the manifest, then runs [`check`].
pub fn convert(manifest_path: &Path, fixtures: Option<&Path>) -> Result<Parity> {
    // Checked before anything is written: the check after the writes would come too late.
    if let Some(dir) = fixtures {
        if !dir.join("x.npy").exists() {
            return Err(no_fixtures(dir));
        }
    }
    let text = std::fs::read_to_string(manifest_path).with_context(|| format!("reading {}", manifest_path.display()))?;
    let mut json: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", manifest_path.display()))?;
    let dir = manifest_path.parent().unwrap_or(Path::new("."));
    let model = json.get_mut("model").and_then(|m| m.as_object_mut()).context("the manifest has no model section")?;
    let onnx_file =
        model.get("onnx").and_then(|o| o.get("file")).and_then(|f| f.as_str()).context("the manifest names no model.onnx.file")?;
    let weights_file = model.get("weights").and_then(|f| f.as_str()).context("the manifest names no model.weights file")?.to_string();
    let onnx_path = dir.join(onnx_file);
    let onnx_bytes = std::fs::read(&onnx_path)
        .with_context(|| format!("reading {}, the ONNX file the manifest names (model.onnx.file) beside it", onnx_path.display()))?;
    let w = weights_from_onnx(&onnx_bytes)?;
    let bytes = w.to_bytes();
    model.insert("inputs".into(), w.inputs.into());
    model.insert("hidden".into(), w.hidden.into());
    model.insert("head".into(), w.head.into());
    model.insert("weights_bytes".into(), bytes.len().into());
    model.insert("weights_fnv1a64".into(), Weights::checksum(&bytes).into());
    let text = serde_json::to_string_pretty(&json)? + "\n";
    Manifest::parse(&text).context("the converted manifest")?;
    std::fs::write(dir.join(&weights_file), &bytes).with_context(|| format!("writing {weights_file}"))?;
    std::fs::write(manifest_path, text).with_context(|| format!("writing {}", manifest_path.display()))?;
    check(manifest_path, fixtures)
}
