//! The ONNX exchange file (feature `onnx`, native tools only): reading a model's weights out of
//! it, and running it with tract-onnx to check that the weights graph gives the same scores.
//!
//! The trainer exports one step of the cell with named initializers (`w_ih [F,4H]`,
//! `w_hh [H,4H]`, `b [4H]` in PyTorch's gate order, then `head_w1`, `head_b1` and, for an MLP
//! head, `head_w2`, `head_b2`); [`weights_from_onnx`] reads exactly those.

use tract_onnx::prelude::*;

use super::{check_probability, LstmState, OnnxSpec, Weights};
use crate::error::Error;

fn bad(e: impl std::fmt::Display) -> Error {
    Error::BadModel(format!("{e:#}"))
}

fn proto(bytes: &[u8]) -> Result<tract_onnx::pb::ModelProto, Error> {
    tract_onnx::onnx()
        .proto_model_for_read(&mut std::io::Cursor::new(bytes))
        .map_err(|e| Error::BadModel(format!("not an ONNX model: {e:#}")))
}

/// Reads the weights from an exported step graph's named initializers.
pub fn weights_from_onnx(bytes: &[u8]) -> Result<Weights, Error> {
    let onnx = tract_onnx::onnx();
    let proto = proto(bytes)?;
    let graph = proto.graph.as_ref().ok_or_else(|| bad("the ONNX model has no graph"))?;
    // An initializer's shape and values.
    type Initializer = (Vec<usize>, Vec<f32>);
    let get = |name: &str| -> Result<Option<Initializer>, Error> {
        let Some(t) = graph.initializer.iter().find(|t| t.name == name) else { return Ok(None) };
        let tensor = tract_onnx::tensor::load_tensor(&*onnx.provider, t, None).map_err(bad)?;
        let tensor = tensor.cast_to::<f32>().map_err(bad)?;
        let view = tensor.to_plain_array_view::<f32>().map_err(bad)?;
        Ok(Some((tensor.shape().to_vec(), view.iter().copied().collect())))
    };
    let need = |name: &str| get(name)?.ok_or_else(|| bad(format!("the ONNX graph has no initializer {name:?}")));
    let (s_ih, w_ih) = need("w_ih")?;
    let (s_hh, w_hh) = need("w_hh")?;
    let (_, b) = need("b")?;
    let (s1, head_w1) = need("head_w1")?;
    let (_, head_b1) = need("head_b1")?;
    if s_ih.len() != 2 || s_hh.len() != 2 || s_ih[1] % 4 != 0 {
        return Err(bad(format!("w_ih {s_ih:?} / w_hh {s_hh:?} are not [F, 4H] / [H, 4H]")));
    }
    let (inputs, hidden) = (s_ih[0], s_ih[1] / 4);
    let head = get("head_w2")?;
    let (head, head_w2, head_b2) = match head {
        None => (0, Vec::new(), 0.0),
        Some((_, w2)) => {
            let (_, b2) = need("head_b2")?;
            (s1.last().copied().unwrap_or(0), w2, b2.first().copied().unwrap_or(0.0))
        }
    };
    let w = Weights { inputs, hidden, head, w_ih, w_hh, b, head_w1, head_b1, head_w2, head_b2 };
    let ok = s_hh == [hidden, 4 * hidden]
        && w.b.len() == 4 * hidden
        && w.head_w1.len() == if head == 0 { hidden } else { hidden * head }
        && w.head_b1.len() == head.max(1)
        && w.head_w2.len() == head;
    if !ok || ![&w.w_ih, &w.w_hh, &w.b, &w.head_w1, &w.head_b1, &w.head_w2].iter().all(|v| v.iter().all(|x| x.is_finite())) {
        return Err(bad("the initializers do not have the sizes of one LSTM layer and its head, or are not finite"));
    }
    Ok(w)
}

/// The ONNX step graph run by tract-onnx, one session at a time.
pub struct OnnxModel {
    state: TypedSimpleState,
    inputs: usize,
    hidden: usize,
    outputs: [usize; 3],
}

impl OnnxModel {
    /// Loads the ONNX file of a model with `inputs` columns and `hidden` units.
    pub fn load(bytes: &[u8], spec: &OnnxSpec, inputs: usize, hidden: usize) -> Result<OnnxModel, Error> {
        let p = proto(bytes)?;
        let graph = p.graph.as_ref().ok_or_else(|| bad("the ONNX model has no graph"))?;
        let initializers: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
        let names: Vec<&str> = graph.input.iter().map(|i| i.name.as_str()).filter(|n| !initializers.contains(n)).collect();
        if names != spec.inputs.iter().map(String::as_str).collect::<Vec<_>>() {
            return Err(Error::ManifestMismatch(format!("the ONNX inputs are {names:?}, the manifest names {:?}", spec.inputs)));
        }
        let out_names: Vec<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
        let mut outputs = [0; 3];
        for (k, name) in spec.outputs.iter().enumerate() {
            outputs[k] = out_names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| Error::ManifestMismatch(format!("the ONNX graph has no output {name:?} (it has {out_names:?})")))?;
        }
        let mut model = tract_onnx::onnx().model_for_proto_model(&p).map_err(bad)?;
        for (i, n) in [inputs, hidden, hidden].into_iter().enumerate() {
            model.set_input_fact(i, InferenceFact::dt_shape(f32::datum_type(), [1, n])).map_err(bad)?;
        }
        let plan = model.into_optimized().map_err(bad)?.into_runnable().map_err(bad)?;
        Ok(OnnxModel { state: plan.spawn().map_err(bad)?, inputs, hidden, outputs })
    }

    /// One step: the probability after `row`; advances `state`.
    pub fn step(&mut self, row: &[f32], state: &mut LstmState) -> Result<f32, Error> {
        if row.len() != self.inputs || state.h.len() != self.hidden {
            return Err(Error::BadOptions("row or state of the wrong size".into()));
        }
        let t = |n: usize, v: &[f32]| Tensor::from_shape(&[1, n], v).map(|t| t.into_tvalue()).map_err(bad);
        let out = self.state.run(tvec![t(self.inputs, row)?, t(self.hidden, &state.h)?, t(self.hidden, &state.c)?]).map_err(bad)?;
        let read = |k: usize| -> Result<Vec<f32>, Error> {
            let v = out.get(self.outputs[k]).ok_or_else(|| bad("missing output"))?;
            Ok(v.to_plain_array_view::<f32>().map_err(bad)?.iter().copied().collect())
        };
        let p = check_probability(read(0)?.first().copied().unwrap_or(f32::NAN))?;
        let (h, c) = (read(1)?, read(2)?);
        if h.len() != self.hidden || c.len() != self.hidden {
            return Err(bad("the ONNX graph returned a state of the wrong size"));
        }
        state.h = h;
        state.c = c;
        Ok(p)
    }
}
