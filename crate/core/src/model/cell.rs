//! The part of a step after the gates' matrix product, as one tract op: the LSTM cell update and
//! the head, `[pre, c] -> [p, h', c']`.
//!
//! tract's own `LstmEpilogue` does the cell update, but it copies its input (the gates) before
//! working on it in place, every run, and the head after it was three more nodes (a matrix product
//! with one column, an addition, a sigmoid), each a dispatch of tract's plan and a tensor. This op
//! takes the gates it is handed, runs the activations in place in their memory, and scores the
//! head in the same pass. It uses tract's vectorised sigmoid and tanh kernels, as `LstmEpilogue`
//! and tract's `sigmoid` op do.

use std::sync::Arc;

use tract_core::internal::*;
use tract_core::tract_linalg::routines::Func;

/// Floats compared by their bits, so that an op holding weights can be `Eq`, as tract asks.
#[derive(Debug, Clone)]
pub(super) struct Floats(pub Arc<[f32]>);

impl PartialEq for Floats {
    fn eq(&self, other: &Floats) -> bool {
        self.0.len() == other.0.len() && self.0.iter().zip(other.0.iter()).all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

impl Eq for Floats {}

/// The head that turns `h'` into the score's logit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Head {
    /// `h'·w + b`.
    Linear { w: Floats, b: u32 },
    /// `relu(h'·W1 + b1)·w2 + b2`, with `W1` as `[H, G]` row-major.
    Mlp { w1: Floats, b1: Floats, w2: Floats, b2: u32 },
}

/// `[pre [B, 4H] (gates in the order input, output, forget, cell), c [B, H]] -> [p [B, 1], h' [B, H], c' [B, H]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CellHead {
    pub hidden: usize,
    pub head: Head,
}

impl Op for CellHead {
    fn name(&self) -> StaticName {
        "CellHead".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        let head = match &self.head {
            Head::Linear { .. } => "linear".to_string(),
            Head::Mlp { b1, .. } => format!("mlp {}", b1.0.len()),
        };
        Ok(vec![format!("hidden={}, head {head}", self.hidden)])
    }

    op_as_typed_op!();
}

impl EvalOp for CellHead {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, mut inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        ensure!(inputs.len() == 2, "CellHead takes [pre, c]");
        let (sigmoid, tanh) = (Func::Sigmoid.ew_f32()?, Func::Tanh.ew_f32()?);
        let h = self.hidden;
        let c_prev = inputs.pop().context("CellHead takes [pre, c]")?;
        // The gates are this op's alone once the product made them (the plan hands over a value
        // its last reader takes): taken, not copied; a value still shared is copied by tract.
        let mut pre = inputs.pop().context("CellHead takes [pre, c]")?.into_tensor();
        let cp = c_prev.try_as_plain_ram()?.as_slice::<f32>()?;
        let rows = cp.len() / h.max(1);
        ensure!(pre.len() == rows * 4 * h && cp.len() == rows * h, "CellHead expects pre [{rows}, {}], got {:?}", 4 * h, pre.shape());
        let shape = c_prev.shape();
        let mut pt = Tensor::zero::<f32>(&[rows, 1])?;
        let mut ht = Tensor::zero::<f32>(shape)?;
        let mut ct = Tensor::zero::<f32>(shape)?;
        let mut layer = match &self.head {
            Head::Linear { .. } => Vec::new(),
            Head::Mlp { b1, .. } => vec![0.0; b1.0.len()],
        };
        {
            let mut pre_view = pre.try_as_plain_ram_mut()?;
            let pre = pre_view.as_slice_mut::<f32>()?;
            let mut p_view = pt.try_as_plain_ram_mut()?;
            let ps = p_view.as_slice_mut::<f32>()?;
            let mut h_view = ht.try_as_plain_ram_mut()?;
            let hs = h_view.as_slice_mut::<f32>()?;
            let mut c_view = ct.try_as_plain_ram_mut()?;
            let cs = c_view.as_slice_mut::<f32>()?;
            for r in 0..rows {
                let g = &mut pre[r * 4 * h..(r + 1) * 4 * h];
                sigmoid.run(&mut g[..3 * h])?;
                tanh.run(&mut g[3 * h..])?;
                let (c2, h2) = (&mut cs[r * h..(r + 1) * h], &mut hs[r * h..(r + 1) * h]);
                for j in 0..h {
                    c2[j] = g[2 * h + j] * cp[r * h + j] + g[j] * g[3 * h + j];
                }
                h2.copy_from_slice(c2);
                tanh.run(h2)?;
                for j in 0..h {
                    h2[j] *= g[h + j];
                }
                ps[r] = match &self.head {
                    Head::Linear { w, b } => dot(h2, &w.0) + f32::from_bits(*b),
                    Head::Mlp { w1, b1, w2, b2 } => {
                        let g1 = b1.0.len();
                        layer.copy_from_slice(&b1.0);
                        for (k, &hk) in h2.iter().enumerate() {
                            for (a, &wk) in layer.iter_mut().zip(&w1.0[k * g1..(k + 1) * g1]) {
                                *a += hk * wk;
                            }
                        }
                        layer.iter_mut().for_each(|a| *a = a.max(0.0));
                        dot(&layer, &w2.0) + f32::from_bits(*b2)
                    }
                };
            }
            sigmoid.run(ps)?;
        }
        Ok(tvec!(pt.into_tvalue(), ht.into_tvalue(), ct.into_tvalue()))
    }
}

impl TypedOp for CellHead {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(inputs.len() == 2, "CellHead takes [pre, c]");
        let (pre, c) = (inputs[0], inputs[1]);
        let h = self.hidden;
        ensure!(pre.datum_type == f32::datum_type() && c.datum_type == f32::datum_type(), "CellHead runs in f32");
        ensure!(c.rank() == 2 && c.shape[1] == h.to_dim(), "CellHead expects c [B, {h}], got {:?}", c.shape);
        ensure!(
            pre.rank() == 2 && pre.shape[0] == c.shape[0] && pre.shape[1] == (4 * h).to_dim(),
            "CellHead expects pre [B, {}], got {:?}",
            4 * h,
            pre.shape
        );
        let (hw, g) = match &self.head {
            Head::Linear { w, .. } => (w.0.len(), 1),
            Head::Mlp { w1, b1, w2, .. } => {
                ensure!(
                    w2.0.len() == b1.0.len() && !b1.0.is_empty(),
                    "CellHead: an MLP head of {} units with {} output weights",
                    b1.0.len(),
                    w2.0.len()
                );
                (w1.0.len(), b1.0.len())
            }
        };
        ensure!(hw == h * g, "CellHead: a head of {g} unit(s) on hidden {h} takes {} weights, not {hw}", h * g);
        let rows = c.shape[0].clone();
        Ok(tvec!(f32::fact([rows, 1.to_dim()]), c.datum_type.fact(c.shape.clone()), c.datum_type.fact(c.shape.clone())))
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
