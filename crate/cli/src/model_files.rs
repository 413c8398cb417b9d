//! A model on disk: the manifest (JSON) and the weights file it names, beside it.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use shopper_intent::model::Manifest;
use shopper_intent::SequenceModel;

/// A model's files, read.
pub struct ModelFiles {
    /// The manifest's path.
    pub manifest_path: PathBuf,
    /// Its text.
    pub manifest_text: String,
    /// The parsed manifest.
    pub manifest: Manifest,
    /// The weights file's bytes.
    pub weights: Vec<u8>,
}

/// The manifest of a model path: the path itself when it ends in `.json`, else the same path
/// with `.json` (so `models/intent.bin` and `models/intent.onnx` name `models/intent.json`).
pub fn manifest_path(path: &Path) -> PathBuf {
    if path.extension().is_some_and(|e| e == "json") {
        path.to_path_buf()
    } else {
        path.with_extension("json")
    }
}

/// Reads a model's manifest and weights (checked against each other by the engine on load).
pub fn read(path: &Path) -> Result<ModelFiles> {
    if !path.extension().is_some_and(|e| e == "json" || e == "bin" || e == "onnx") {
        bail!("the model {} is not a manifest (.json), weights (.bin) or ONNX (.onnx) file", path.display());
    }
    let manifest_path = manifest_path(path);
    let manifest_text =
        std::fs::read_to_string(&manifest_path).with_context(|| format!("reading the model manifest {}", manifest_path.display()))?;
    let manifest = Manifest::parse(&manifest_text).with_context(|| format!("in {}", manifest_path.display()))?;
    let weights_path = manifest_path.parent().unwrap_or(Path::new(".")).join(&manifest.model.weights);
    let weights = std::fs::read(&weights_path).with_context(|| format!("reading the model weights {}", weights_path.display()))?;
    Ok(ModelFiles { manifest_path, manifest_text, manifest, weights })
}

/// Reads and loads a model.
pub fn load(path: &Path) -> Result<(SequenceModel, ModelFiles)> {
    let files = read(path)?;
    let model =
        SequenceModel::load(&files.weights, &files.manifest_text).with_context(|| format!("loading {}", files.manifest_path.display()))?;
    Ok((model, files))
}
