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
use tract_core::tract_linalg::element_wise::ElementWise;
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
    not_out_of_plan!();

    fn state(&self, _ctx: &EvalContext) -> TractResult<Option<Box<dyn OpState>>> {
        Ok(Some(Box::new(CellState::new(self)?)))
    }
}

impl TypedOp for CellHead {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(inputs.len() == 2, "CellHead takes [pre, c]");
        let c = inputs[1];
        ensure!(c.datum_type == f32::datum_type(), "CellHead runs in f32");
        let rows = c.shape.first().cloned().unwrap_or_else(|| 1.to_dim());
        Ok(tvec!(f32::fact([rows, 1.to_dim()]), c.datum_type.fact(c.shape.clone()), c.datum_type.fact(c.shape.clone())))
    }
}

/// What a plan keeps for the op between runs: the activation kernels, looked up once, and a
/// scratch row for an MLP head's hidden layer.
#[derive(Debug, Clone)]
struct CellState {
    sigmoid: Box<dyn ElementWise<f32>>,
    tanh: Box<dyn ElementWise<f32>>,
    layer: Vec<f32>,
}

impl CellState {
    fn new(op: &CellHead) -> TractResult<CellState> {
        let layer = match &op.head {
            Head::Linear { .. } => Vec::new(),
            Head::Mlp { b1, .. } => vec![0.0; b1.0.len()],
        };
        Ok(CellState { sigmoid: Func::Sigmoid.ew_f32()?, tanh: Func::Tanh.ew_f32()?, layer })
    }
}

impl OpState for CellState {
    fn eval(&mut self, _ctx: &EvalContext, op: &dyn Op, mut inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let op = op.downcast_ref::<CellHead>().context("CellHead's state run for another op")?;
        ensure!(inputs.len() == 2, "CellHead takes [pre, c]");
        let h = op.hidden;
        let c_prev = inputs.pop().context("CellHead takes [pre, c]")?;
        // The gates are this op's alone once the product made them: taken, not copied.
        let mut pre = inputs.pop().context("CellHead takes [pre, c]")?.into_tensor();
        let cp = c_prev.try_as_plain_ram()?.as_slice::<f32>()?;
        let rows = cp.len() / h.max(1);
        ensure!(pre.len() == rows * 4 * h && cp.len() == rows * h, "CellHead expects pre [{rows}, {}], got {:?}", 4 * h, pre.shape());
        let shape = c_prev.shape();
        let mut pt = Tensor::zero::<f32>(&[rows, 1])?;
        let mut ht = Tensor::zero::<f32>(shape)?;
        let mut ct = Tensor::zero::<f32>(shape)?;
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
                self.sigmoid.run(&mut g[..3 * h])?;
                self.tanh.run(&mut g[3 * h..])?;
                let (c2, h2) = (&mut cs[r * h..(r + 1) * h], &mut hs[r * h..(r + 1) * h]);
                for j in 0..h {
                    c2[j] = g[2 * h + j] * cp[r * h + j] + g[j] * g[3 * h + j];
                }
                h2.copy_from_slice(c2);
                self.tanh.run(h2)?;
                for j in 0..h {
                    h2[j] *= g[h + j];
                }
                ps[r] = match &op.head {
                    Head::Linear { w, b } => dot(h2, &w.0) + f32::from_bits(*b),
                    Head::Mlp { w1, b1, w2, b2 } => {
                        let g1 = b1.0.len();
                        self.layer.copy_from_slice(&b1.0);
                        for (k, &hk) in h2.iter().enumerate() {
                            for (a, &wk) in self.layer.iter_mut().zip(&w1.0[k * g1..(k + 1) * g1]) {
                                *a += hk * wk;
                            }
                        }
                        self.layer.iter_mut().for_each(|a| *a = a.max(0.0));
                        dot(&self.layer, &w2.0) + f32::from_bits(*b2)
                    }
                };
            }
            self.sigmoid.run(ps)?;
        }
        Ok(tvec!(pt.into_tvalue(), ht.into_tvalue(), ct.into_tvalue()))
    }

    fn reset_lanes(&mut self, _lanes: &[LaneId]) -> TractResult<()> {
        // Nothing is carried from one run to the next: the state `(h, c)` lives outside the plan.
        Ok(())
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
