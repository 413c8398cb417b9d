//! A tabular ONNX model (one row of numeric features in, one probability out), such as the UCI
//! Online Shoppers network of `models/uci/`: a benchmark beside the product, not part of the
//! engine (feature `onnx`, native tools only).

use serde::Deserialize;
use tract_onnx::prelude::*;

use super::check_probability;
use crate::error::Error;

fn bad(e: impl std::fmt::Display) -> Error {
    Error::BadModel(format!("{e:#}"))
}

/// The JSON manifest of a tabular model.
#[derive(Clone, Debug, Deserialize)]
pub struct TabularManifest {
    /// Manifest format, 1.
    pub format: u32,
    /// The model's name.
    pub name: String,
    /// Graph input `[N, D]`.
    pub input: String,
    /// Graph output, `[N]` or `[N, 1]`.
    pub output: String,
    /// The D column names.
    pub features: Vec<String>,
    /// The decision threshold.
    pub threshold: f32,
}

/// A tabular model run by tract-onnx.
pub struct TabularModel {
    manifest: TabularManifest,
    plan: Arc<TypedRunnableModel>,
    p_out: usize,
}

impl TabularModel {
    /// Loads ONNX `bytes` described by `manifest_json`.
    pub fn load(bytes: &[u8], manifest_json: &str) -> Result<TabularModel, Error> {
        let manifest: TabularManifest =
            serde_json::from_str(manifest_json).map_err(|e| Error::ManifestMismatch(format!("not a valid tabular manifest: {e}")))?;
        if manifest.format != 1 || manifest.features.is_empty() {
            return Err(Error::ManifestMismatch("unsupported tabular manifest".into()));
        }
        let proto = tract_onnx::onnx()
            .proto_model_for_read(&mut std::io::Cursor::new(bytes))
            .map_err(|e| Error::BadModel(format!("not an ONNX model: {e:#}")))?;
        let graph = proto.graph.as_ref().ok_or_else(|| bad("the ONNX model has no graph"))?;
        let p_out = graph
            .output
            .iter()
            .position(|o| o.name == manifest.output)
            .ok_or_else(|| Error::ManifestMismatch(format!("the graph has no output {:?}", manifest.output)))?;
        let mut model = tract_onnx::onnx().model_for_proto_model(&proto).map_err(bad)?;
        model.set_input_fact(0, InferenceFact::dt_shape(f32::datum_type(), [1, manifest.features.len()])).map_err(bad)?;
        let plan = model.into_optimized().map_err(bad)?.into_runnable().map_err(bad)?;
        Ok(TabularModel { manifest, plan, p_out })
    }

    /// The manifest.
    pub fn manifest(&self) -> &TabularManifest {
        &self.manifest
    }

    /// The probability for one row of `features.len()` values.
    pub fn score(&self, row: &[f32]) -> Result<f32, Error> {
        let d = self.manifest.features.len();
        if row.len() != d {
            return Err(Error::BadOptions(format!("expected {d} features, got {}", row.len())));
        }
        let x = Tensor::from_shape(&[1, d], row).map_err(bad)?;
        let out = self.plan.run(tvec![x.into_tvalue()]).map_err(bad)?;
        let p = out
            .get(self.p_out)
            .and_then(|t| t.to_plain_array_view::<f32>().ok().and_then(|v| v.iter().last().copied()))
            .ok_or_else(|| bad("no probability output"))?;
        check_probability(p)
    }
}
