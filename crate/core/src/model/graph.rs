//! One LSTM step as a tract-core graph built from [`Weights`], and the two ways it is run: one
//! session at a time ([`SequenceModel`], the browser's engine) and many sessions at once
//! ([`BatchModel`], offline scoring).
//!
//! ```text
//!  [x, h, 1] [B, F+H+1] ─ · [W; R; b] ─ CellHead(·, c) ─┬─ p [B,1]  (the head, then a sigmoid)
//!                                           c [B,H] ┘  ├─ h' [B,H]
//!                                                      └─ c' [B,H]
//! ```
//!
//! The row, the state `h` and a constant 1 sit side by side in one input, so the four gates are
//! one matrix product with the input weights, recurrent weights and bias stacked: measured natively
//! on the model shipped until Dec 1 (hidden 24), a step took 4.6 us as two products and two additions, 3.5 us
//! as one product and an addition, 3.3 us with the bias folded in (`shopper-intent bench
//! --graph`). After the product, one op of ours (`cell.rs`) updates the cell and scores the head:
//! with tract's `LstmEpilogue` and the head as three nodes after it, featurize + score in batches
//! of 64 took 0.53 M events/s on one thread, 0.70-0.72 with `CellHead` (runs of `shopper-intent
//! bench` on Dec 3, before and after; 0.80-0.82 once counts' logarithms came from a table too).

use std::sync::{Arc, OnceLock};

use tract_core::internal::*;
use tract_core::ops::einsum::EinSum;
use tract_core::optim::{Optimizer, OptimizerSession};

use super::cell::{CellHead, Floats, Head};
use super::{check_probability, LstmState, Manifest, Weights};
use crate::error::Error;

fn bad(e: impl std::fmt::Display) -> Error {
    Error::BadModel(format!("{e:#}"))
}

/// Reorders the four gate blocks of each row of a `[rows, 4H]` matrix from PyTorch's order
/// (input, forget, cell, output) to the order `CellHead` reads (input, output,
/// forget, cell).
fn to_epilogue_order(m: &[f32], rows: usize, h: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(m.len());
    for r in 0..rows {
        let row = &m[r * 4 * h..(r + 1) * 4 * h];
        for g in [0, 3, 1, 2] {
            out.extend_from_slice(&row[g * h..(g + 1) * h]);
        }
    }
    out
}

fn floats(v: &[f32]) -> Floats {
    Floats(v.into())
}

fn konst(model: &mut TypedModel, name: &str, shape: &[usize], data: &[f32]) -> TractResult<OutletId> {
    model.add_const(name, Tensor::from_shape(shape, data)?)
}

/// The graph of one step for `batch` sessions: inputs `[x, h, 1] [B,F+H+1]` and `c [B,H]`;
/// outputs `p [B,1]`, `h'`, `c'`.
fn build(w: &Weights, batch: usize) -> TractResult<TypedModel> {
    let (f, h) = (w.inputs, w.hidden);
    let mut m = TypedModel::default();
    let xh = m.add_source("xh1", f32::fact([batch, f + h + 1]))?;
    let cs = m.add_source("c", f32::fact([batch, h]))?;
    let matmul = || EinSum::new("mk,kn->mn".parse().expect("a valid einsum expression"), f32::datum_type());
    let mut stacked = to_epilogue_order(&w.w_ih, f, h);
    stacked.extend(to_epilogue_order(&w.w_hh, h, h));
    stacked.extend(to_epilogue_order(&w.b, 1, h));
    let wxh = konst(&mut m, "w_xh1", &[f + h + 1, 4 * h], &stacked)?;
    let pre = m.wire_node("gates", matmul(), &[xh, wxh])?[0];
    let head = if w.head == 0 {
        ensure!(w.head_b1.len() == 1, "a linear head has one bias, not {}", w.head_b1.len());
        Head::Linear { w: floats(&w.head_w1), b: w.head_b1[0].to_bits() }
    } else {
        Head::Mlp { w1: floats(&w.head_w1), b1: floats(&w.head_b1), w2: floats(&w.head_w2), b2: w.head_b2.to_bits() }
    };
    let out = m.wire_node("cell", CellHead { hidden: h, head }, &[pre, cs])?;
    let (p, h2, c2) = (out[0], out[1], out[2]);
    m.select_output_outlets(&[p, h2, c2])?;
    Ok(m)
}

/// tract's code generation on the graph `build` made: the matrix products become packed kernels
/// with the additions fused in. tract's declutter pass is not run first: on these graphs code
/// generation alone makes the same kernels as `into_optimized`, with the same outputs, and no
/// more nodes (a test checks it), and on a page's first visit declutter was 10-16 ms of the
/// engine's build.
fn optimize(mut model: TypedModel) -> TractResult<TypedModel> {
    model.optimize()?;
    Ok(model)
}

/// tract's code generation passes, once for the process: a session borrows them.
fn codegen() -> &'static Optimizer {
    static CODEGEN: OnceLock<Optimizer> = OnceLock::new();
    CODEGEN.get_or_init(Optimizer::codegen)
}

/// [`optimize`] cut into steps for [`ModelLoader`]: the first round of tract's code generation
/// one pass per step, then the rounds that follow until one changes nothing, in one step (they
/// have little left to do). The passes run in the same order and session as in `optimize`, so the
/// graph comes out the same (a test compares them). Measured in WebKitGTK 2.50, where a wasm
/// function runs interpreted at first, `optimize` was one 63-69 ms step; Chromium 15-22 ms.
struct SteppedOptimize {
    session: OptimizerSession<'static>,
    next_pass: usize,
}

impl SteppedOptimize {
    fn start(model: &mut TypedModel) -> TractResult<SteppedOptimize> {
        model.compact()?;
        Ok(SteppedOptimize { session: codegen().session(), next_pass: 0 })
    }

    /// One step; true once the graph is optimized.
    fn step(&mut self, model: &mut TypedModel) -> TractResult<bool> {
        let passes = &codegen().passes;
        if let Some(pass) = passes.get(self.next_pass) {
            let mut pass = pass.clone();
            self.session.run_one_pass_outer(0, pass.as_mut(), model).with_context(|| format!("running pass {pass:?}"))?;
            model.compact()?;
            self.next_pass += 1;
            return Ok(false);
        }
        model.optimize_with_session(&mut self.session)?;
        Ok(true)
    }
}

type Plan = Arc<TypedRunnableModel>;

/// A runnable step for `batch` sessions, with input tensors that are written in place: `[x, h, 1]`
/// side by side in one tensor (one matrix product for the gates), and `c`.
struct Step {
    state: TypedSimpleState,
    batch: usize,
    f: usize,
    h: usize,
    inputs: [Arc<Tensor>; 2],
}

impl Step {
    fn new(w: &Weights, batch: usize) -> Result<Step, Error> {
        let model = optimize(build(w, batch).map_err(bad)?).map_err(bad)?;
        Step::from_optimized(model, w, batch)
    }

    fn from_optimized(model: TypedModel, w: &Weights, batch: usize) -> Result<Step, Error> {
        let plan: Plan = model.into_runnable().map_err(bad)?;
        let state = plan.spawn().map_err(bad)?;
        let zeros = |n: usize| Tensor::zero::<f32>(&[batch, n]).map(Arc::new).map_err(bad);
        Ok(Step { state, batch, f: w.inputs, h: w.hidden, inputs: [zeros(w.inputs + w.hidden + 1)?, zeros(w.hidden)?] })
    }

    /// Writes `n` sessions' rows `x [n, F]` and states `h, c [n, H]` into the inputs; the other
    /// rows of the batch are zeros.
    fn fill(&mut self, x: &[f32], h: &[f32], c: &[f32]) -> Result<(), Error> {
        let (f, hd) = (self.f, self.h);
        let n = x.len() / f;
        let width = f + hd + 1;
        Self::write(&mut self.inputs[0], |xh| {
            for i in 0..n {
                let row = &mut xh[i * width..(i + 1) * width];
                row[..f].copy_from_slice(&x[i * f..(i + 1) * f]);
                row[f..f + hd].copy_from_slice(&h[i * hd..(i + 1) * hd]);
                row[f + hd] = 1.0;
            }
            xh[n * width..].fill(0.0);
        })?;
        Self::write(&mut self.inputs[1], |cs| {
            cs[..n * hd].copy_from_slice(c);
            cs[n * hd..].fill(0.0);
        })
    }

    /// Calls `write` with an input tensor's floats, reusing its memory when no one else holds it.
    /// (A tensor's floats are contiguous; the slice is read straight from its storage, without
    /// an array view.)
    fn write(t: &mut Arc<Tensor>, write: impl FnOnce(&mut [f32])) -> Result<(), Error> {
        if Arc::get_mut(t).is_none() {
            *t = Arc::new((**t).clone());
        }
        let t = Arc::get_mut(t).ok_or_else(|| bad("an input tensor is still in use"))?;
        let mut view = t.try_as_plain_ram_mut().map_err(bad)?;
        write(view.as_slice_mut::<f32>().map_err(bad)?);
        Ok(())
    }

    /// Runs the step; calls `read(p, h', c')` with the outputs, batch-major.
    fn run(&mut self, read: impl FnOnce(&[f32], &[f32], &[f32]) -> Result<(), Error>) -> Result<(), Error> {
        let inputs: TVec<TValue> = self.inputs.iter().map(|t| TValue::from_const(t.clone())).collect();
        let out = self.state.run(inputs).map_err(bad)?;
        let slice = |i: usize| -> Result<&[f32], Error> {
            let t = out.get(i).ok_or_else(|| bad("missing output"))?;
            t.try_as_plain_ram().map_err(bad)?.as_slice::<f32>().map_err(bad)
        };
        read(slice(0)?, slice(1)?, slice(2)?)
    }
}

/// An LSTM run one event at a time for one session, carrying `(h, c)` between events.
pub struct SequenceModel {
    manifest: Manifest,
    weights: Weights,
    step: Step,
}

impl std::fmt::Debug for SequenceModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequenceModel").field("name", &self.manifest.name).field("hidden", &self.weights.hidden).finish_non_exhaustive()
    }
}

impl SequenceModel {
    /// Loads a model from its weights file and manifest (JSON text); checks that the two belong
    /// together and fit this engine, builds the step and runs it once.
    pub fn load(weights: &[u8], manifest_json: &str) -> Result<SequenceModel, Error> {
        let manifest = Manifest::parse(manifest_json)?;
        let weights = Weights::parse(weights, &manifest.model)?;
        SequenceModel::new(manifest, weights)
    }

    /// A model from a checked manifest and its weights.
    pub fn new(manifest: Manifest, weights: Weights) -> Result<SequenceModel, Error> {
        let step = Step::new(&weights, 1)?;
        SequenceModel::checked(manifest, weights, step)
    }

    fn checked(manifest: Manifest, weights: Weights, step: Step) -> Result<SequenceModel, Error> {
        let mut model = SequenceModel { manifest, weights, step };
        // One step from a zero state proves the graph runs and returns a probability.
        let mut state = model.zero_state();
        model.step(&vec![0.0; model.weights.inputs], &mut state)?;
        Ok(model)
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The weights.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// H.
    pub fn hidden(&self) -> usize {
        self.weights.hidden
    }

    /// The state at the start of a session: all zeros.
    pub fn zero_state(&self) -> LstmState {
        LstmState::zero(self.weights.hidden)
    }

    /// Feeds one feature row: returns the probability after it and advances `state`.
    /// On error `state` is unchanged.
    pub fn step(&mut self, row: &[f32], state: &mut LstmState) -> Result<f32, Error> {
        if row.len() != self.weights.inputs || state.h.len() != self.weights.hidden || state.c.len() != self.weights.hidden {
            return Err(Error::BadOptions(format!(
                "a step needs {} inputs and a state of {}, got {} and {}",
                self.weights.inputs,
                self.weights.hidden,
                row.len(),
                state.h.len()
            )));
        }
        self.step.fill(row, &state.h, &state.c)?;
        let mut p = 0.0;
        self.step.run(|pp, h, c| {
            p = check_probability(pp.first().copied().unwrap_or(f32::NAN))?;
            if h.len() != state.h.len() || c.len() != state.c.len() || !h.iter().chain(c).all(|v| v.is_finite()) {
                return Err(bad("the model returned a state that is not finite numbers of the right size"));
            }
            state.h.copy_from_slice(h);
            state.c.copy_from_slice(c);
            Ok(())
        })?;
        Ok(p)
    }

    /// Runs `rows` from `start`; returns the probability after each row and the final state.
    pub fn run<'a>(&mut self, start: &LstmState, rows: impl IntoIterator<Item = &'a [f32]>) -> Result<(Vec<f32>, LstmState), Error> {
        let mut state = start.clone();
        let mut out = Vec::new();
        for row in rows {
            out.push(self.step(row, &mut state)?);
        }
        Ok((out, state))
    }
}

/// Loads a [`SequenceModel`] in short steps, so that a page can give the main thread back between
/// them: parse, build the graph, optimize it (in several steps), then make the plan and run one
/// step.
///
/// ```no_run
/// # let (weights, manifest) = (Vec::<u8>::new(), String::new());
/// let mut loader = shopper_intent::model::ModelLoader::new(&weights, &manifest)?;
/// while !loader.step()? { /* yield to the event loop */ }
/// let model = loader.finish()?;
/// # Ok::<(), shopper_intent::Error>(())
/// ```
pub struct ModelLoader {
    stage: Option<Stage>,
}

enum Stage {
    Bytes(Manifest, Vec<u8>),
    Parsed(Manifest, Weights),
    Built(Manifest, Weights, TypedModel),
    Optimizing(Manifest, Weights, TypedModel, SteppedOptimize),
    Optimized(Manifest, Weights, TypedModel),
    Done(SequenceModel),
}

impl ModelLoader {
    /// Parses and checks the manifest (quick); the weights are only copied.
    pub fn new(weights: &[u8], manifest_json: &str) -> Result<ModelLoader, Error> {
        let manifest = Manifest::parse(manifest_json)?;
        Ok(ModelLoader { stage: Some(Stage::Bytes(manifest, weights.to_vec())) })
    }

    /// Takes one step; true once the model is ready and [`ModelLoader::finish`] is immediate.
    /// After an error the loader is spent.
    pub fn step(&mut self) -> Result<bool, Error> {
        let stage = self.stage.take().ok_or_else(|| Error::BadModel("an earlier loading step failed".into()))?;
        let next = match stage {
            Stage::Bytes(m, bytes) => {
                let w = Weights::parse(&bytes, &m.model)?;
                Stage::Parsed(m, w)
            }
            Stage::Parsed(m, w) => {
                let g = build(&w, 1).map_err(bad)?;
                Stage::Built(m, w, g)
            }
            Stage::Built(m, w, mut g) => {
                let o = SteppedOptimize::start(&mut g).map_err(bad)?;
                Stage::Optimizing(m, w, g, o)
            }
            Stage::Optimizing(m, w, mut g, mut o) => {
                if o.step(&mut g).map_err(bad)? {
                    Stage::Optimized(m, w, g)
                } else {
                    Stage::Optimizing(m, w, g, o)
                }
            }
            Stage::Optimized(m, w, g) => {
                let step = Step::from_optimized(g, &w, 1)?;
                Stage::Done(SequenceModel::checked(m, w, step)?)
            }
            done @ Stage::Done(_) => done,
        };
        let done = matches!(next, Stage::Done(_));
        self.stage = Some(next);
        Ok(done)
    }

    /// The model, after whatever steps remain.
    pub fn finish(mut self) -> Result<SequenceModel, Error> {
        while !self.step()? {}
        match self.stage {
            Some(Stage::Done(m)) => Ok(m),
            _ => Err(Error::BadModel("the loader did not finish".into())),
        }
    }
}

/// The same step run for up to B sessions at once: one matrix product scores the next event of
/// many shoppers (offline scoring and evaluation; the page scores one event at a time). Plans
/// of several sizes are kept (1, 8, 64, then B) so that a run with few sessions left, as at the
/// end of a log, does not pay for B rows.
pub struct BatchModel {
    weights: Weights,
    steps: Vec<Step>,
}

impl BatchModel {
    /// A batch step of up to `batch` rows for a loaded model.
    pub fn new(model: &SequenceModel, batch: usize) -> Result<BatchModel, Error> {
        if batch == 0 {
            return Err(Error::BadOptions("a batch needs at least one row".into()));
        }
        let mut sizes: Vec<usize> = [1, 8, 64].into_iter().filter(|&s| s < batch).collect();
        sizes.push(batch);
        let steps = sizes.into_iter().map(|b| Step::new(&model.weights, b)).collect::<Result<Vec<_>, _>>()?;
        Ok(BatchModel { weights: model.weights.clone(), steps })
    }

    /// Rows per run, at most.
    pub fn batch(&self) -> usize {
        self.steps.last().map_or(0, |s| s.batch)
    }

    /// Steps `n = rows.len() / F` sessions (n <= B): row i with state `(h[i], c[i])`, each H
    /// numbers, flat; writes the probabilities into `p[..n]` and the new states in place.
    pub fn step(&mut self, rows: &[f32], h: &mut [f32], c: &mut [f32], p: &mut [f32]) -> Result<(), Error> {
        let (f, hd, b) = (self.weights.inputs, self.weights.hidden, self.batch());
        let n = rows.len() / f;
        if n > b || rows.len() != n * f || h.len() != n * hd || c.len() != n * hd || p.len() < n {
            return Err(Error::BadOptions(format!("a batch step takes at most {b} rows of {f} with their states")));
        }
        let step = self.steps.iter_mut().find(|s| s.batch >= n).ok_or_else(|| bad("no plan for this batch"))?;
        step.fill(rows, h, c)?;
        step.run(|pp, h2, c2| {
            for (i, v) in pp[..n].iter().enumerate() {
                p[i] = check_probability(*v)?;
            }
            h.copy_from_slice(&h2[..n * hd]);
            c.copy_from_slice(&c2[..n * hd]);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest_for(w: &Weights, bytes: &[u8]) -> String {
        let kinds = crate::kinds::Kinds::standard();
        let feats = crate::features::sequence_features(&kinds);
        assert_eq!(feats.len(), w.inputs);
        serde_json::json!({
            "format": 2, "name": "test", "feature_version": crate::features::FEATURE_VERSION, "window": 4,
            "kinds": kinds.names(), "sequence_features": feats,
            "model": {"type": "lstm", "inputs": w.inputs, "hidden": w.hidden, "head": w.head, "weights": "t.bin",
                      "weights_bytes": bytes.len(), "weights_fnv1a64": Weights::checksum(bytes)},
            "threshold": 0.5, "segments": {"medium": 0.2, "high": 0.4}
        })
        .to_string()
    }

    fn inputs(f: usize, t: usize) -> Vec<Vec<f32>> {
        (0..t).map(|i| (0..f).map(|j| ((i * 31 + j * 7) % 13) as f32 / 6.0 - 1.0).collect()).collect()
    }

    #[test]
    fn steps_match_a_scalar_reference_with_both_heads() {
        let f = crate::features::row_len(&crate::kinds::Kinds::standard());
        for (hidden, head) in [(8, 0), (16, 5)] {
            let w = Weights::random(f, hidden, head, 7);
            let bytes = w.to_bytes();
            let mut model = SequenceModel::load(&bytes, &manifest_for(&w, &bytes)).unwrap();
            let mut state = model.zero_state();
            let (mut h, mut c) = (vec![0.0; hidden], vec![0.0; hidden]);
            for x in inputs(f, 20) {
                let p = model.step(&x, &mut state).unwrap();
                let (pr, h2, c2) = w.reference_step(&x, &h, &c);
                assert!((p - pr).abs() < 1e-5, "p {p} vs {pr}");
                for (a, b) in state.h.iter().zip(&h2).chain(state.c.iter().zip(&c2)) {
                    assert!((a - b).abs() < 1e-5, "{a} vs {b}");
                }
                (h, c) = (h2, c2);
            }
        }
    }

    #[test]
    fn odd_hidden_sizes_both_heads_and_padded_batches_match_the_scalar_reference() {
        // Hidden sizes off the SIMD width, heads of 1 to 5 units, and batches with padded rows
        // (3 of 8, 9 of 64): every session's step against the reference, four steps on.
        let f = crate::features::row_len(&crate::kinds::Kinds::standard());
        for hidden in [1, 2, 3, 5, 7, 9, 13, 17, 31] {
            for head in [0, 1, 3, 5] {
                let w = Weights::random(f, hidden, head, 11 + hidden as u64);
                let bytes = w.to_bytes();
                let single = SequenceModel::load(&bytes, &manifest_for(&w, &bytes)).unwrap();
                for (b, n) in [(8, 3), (64, 9), (8, 8)] {
                    let mut batch = BatchModel::new(&single, b).unwrap();
                    let xs = inputs(f, n);
                    let rows: Vec<f32> = xs.iter().flatten().copied().collect();
                    let (mut h, mut c, mut p) = (vec![0.0; n * hidden], vec![0.0; n * hidden], vec![0.0; b]);
                    let (mut rh, mut rc) = (vec![vec![0.0; hidden]; n], vec![vec![0.0; hidden]; n]);
                    for t in 0..4 {
                        batch.step(&rows, &mut h, &mut c, &mut p).unwrap();
                        for i in 0..n {
                            let (pr, h2, c2) = w.reference_step(&xs[i], &rh[i], &rc[i]);
                            let case = format!("hidden {hidden}, head {head}, batch {b} with {n}, step {t}, session {i}");
                            assert!((p[i] - pr).abs() < 1e-5, "{case}: p {} vs {pr}", p[i]);
                            let got =
                                h[i * hidden..(i + 1) * hidden].iter().zip(&h2).chain(c[i * hidden..(i + 1) * hidden].iter().zip(&c2));
                            for (a, e) in got {
                                assert!((a - e).abs() < 1e-5, "{case}: {a} vs {e}");
                            }
                            (rh[i], rc[i]) = (h2, c2);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn head_weights_of_the_wrong_length_are_a_model_error_not_a_panic() {
        let f = crate::features::row_len(&crate::kinds::Kinds::standard());
        for head in [0, 4] {
            let mut w = Weights::random(f, 6, head, 1);
            w.head_w1.pop();
            assert!(matches!(Step::new(&w, 1), Err(Error::BadModel(_))), "head {head}: a short first layer");
            let mut w = Weights::random(f, 6, head, 1);
            w.head_b1.push(0.5);
            assert!(matches!(Step::new(&w, 1), Err(Error::BadModel(_))), "head {head}: one bias too many");
        }
        let mut w = Weights::random(f, 6, 4, 1);
        w.head_w2.pop();
        assert!(matches!(Step::new(&w, 1), Err(Error::BadModel(_))), "a short second layer");
    }

    #[test]
    fn a_batch_step_gives_each_session_its_own_step() {
        let f = crate::features::row_len(&crate::kinds::Kinds::standard());
        let w = Weights::random(f, 12, 0, 3);
        let bytes = w.to_bytes();
        let mut single = SequenceModel::load(&bytes, &manifest_for(&w, &bytes)).unwrap();
        let mut batch = BatchModel::new(&single, 8).unwrap();
        let xs = inputs(f, 5);
        let mut states: Vec<LstmState> = (0..5).map(|_| single.zero_state()).collect();
        let (mut h, mut c, mut p) = (vec![0.0; 5 * 12], vec![0.0; 5 * 12], vec![0.0; 8]);
        for t in 0..3 {
            let rows: Vec<f32> = xs.iter().flatten().copied().collect();
            batch.step(&rows, &mut h, &mut c, &mut p).unwrap();
            for (i, x) in xs.iter().enumerate() {
                let pi = single.step(x, &mut states[i]).unwrap();
                assert!((pi - p[i]).abs() < 1e-6, "step {t} session {i}: {pi} vs {}", p[i]);
                assert!(states[i].h.iter().zip(&h[i * 12..(i + 1) * 12]).all(|(a, b)| (a - b).abs() < 1e-6));
            }
        }
    }

    /// The computing ops of a plan, in order (sources, constants and reshapes left out).
    fn compute_ops(model: &TypedModel) -> Vec<String> {
        let order = model.eval_order().unwrap();
        let names = order.iter().map(|&n| model.nodes[n].op.name().to_string());
        names.filter(|op| !matches!(op.as_str(), "Source" | "Const" | "IntoShape" | "AxisOp")).collect()
    }

    #[test]
    fn code_generation_alone_makes_a_plan_as_lean_as_into_optimized_with_the_same_outputs() {
        let f = crate::features::row_len(&crate::kinds::Kinds::standard());
        for (hidden, head, batch) in [(24, 0, 1), (8, 5, 1), (24, 0, 64), (8, 5, 8)] {
            let w = Weights::random(f, hidden, head, 5);
            let ours = optimize(build(&w, batch).unwrap()).unwrap();
            let full = build(&w, batch).unwrap().into_optimized().unwrap();
            let case = format!("hidden {hidden}, head {head}, batch {batch}");
            let ops = compute_ops(&ours);
            assert!(ops.iter().any(|op| op == "OptMatMul") && !ops.iter().any(|op| op == "EinSum"), "{case}: {ops:?}");
            let mut rest = compute_ops(&full).into_iter();
            assert!(ops.iter().all(|op| rest.any(|o| &o == op)), "{case}: {ops:?} is not within {:?}", compute_ops(&full));
            assert!(ours.nodes.len() <= full.nodes.len(), "{case}: {} nodes against {}", ours.nodes.len(), full.nodes.len());
            let xh: Vec<f32> = (0..batch * (f + hidden + 1)).map(|i| ((i * 37) % 17) as f32 / 8.0 - 1.0).collect();
            let c: Vec<f32> = (0..batch * hidden).map(|i| ((i * 11) % 7) as f32 / 4.0 - 0.8).collect();
            let run = |m: TypedModel| -> Vec<Vec<f32>> {
                let inputs = tvec![
                    Tensor::from_shape(&[batch, f + hidden + 1], &xh).unwrap().into_tvalue(),
                    Tensor::from_shape(&[batch, hidden], &c).unwrap().into_tvalue()
                ];
                let out = m.into_runnable().unwrap().run(inputs).unwrap();
                out.iter().map(|t| t.to_plain_array_view::<f32>().unwrap().iter().copied().collect()).collect()
            };
            let (a, b) = (run(ours), run(full));
            assert_eq!(a.len(), 3, "{case}");
            for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
                assert!((x - y).abs() < 1e-6, "{case}: {x} vs {y}");
            }
        }
    }

    /// Each node's name, op and output facts, in evaluation order.
    fn layout(model: &TypedModel) -> Vec<String> {
        let order = model.eval_order().unwrap();
        order
            .iter()
            .map(|&n| {
                format!("{} {} {:?} {:?}", model.nodes[n].name, model.nodes[n].op.name(), model.nodes[n].inputs, model.nodes[n].outputs)
            })
            .collect()
    }

    #[test]
    fn the_optimizer_in_steps_makes_the_graph_optimize_makes() {
        let f = crate::features::row_len(&crate::kinds::Kinds::standard());
        for (hidden, head) in [(24, 0), (8, 5)] {
            let w = Weights::random(f, hidden, head, 9);
            let whole = optimize(build(&w, 1).unwrap()).unwrap();
            let mut stepped = build(&w, 1).unwrap();
            let mut o = SteppedOptimize::start(&mut stepped).unwrap();
            let mut steps = 1;
            while !o.step(&mut stepped).unwrap() {
                steps += 1;
            }
            assert_eq!(steps, codegen().passes.len() + 1, "one step per pass of the first round, then the rest");
            assert_eq!(layout(&stepped), layout(&whole), "hidden {hidden}, head {head}");
        }
        // And the loader takes those steps: parse, build, start, the passes, the rest, the plan.
        let w = Weights::random(f, 8, 0, 2);
        let bytes = w.to_bytes();
        let mut loader = ModelLoader::new(&bytes, &manifest_for(&w, &bytes)).unwrap();
        let mut steps = 1;
        while !loader.step().unwrap() {
            steps += 1;
        }
        assert_eq!(steps, 4 + codegen().passes.len() + 1);
    }

    #[test]
    fn bad_input_sizes_are_errors_and_leave_the_state() {
        let f = crate::features::row_len(&crate::kinds::Kinds::standard());
        let w = Weights::random(f, 4, 0, 1);
        let bytes = w.to_bytes();
        let mut model = SequenceModel::load(&bytes, &manifest_for(&w, &bytes)).unwrap();
        let mut s = model.zero_state();
        assert!(model.step(&[0.0; 3], &mut s).is_err());
        assert_eq!(s, model.zero_state());
    }
}
