//! The only module that knows tract: loads ONNX bytes, checks the manifest, runs the model.
//!
//! The sequence model is run one event at a time (T = 1) with its LSTM state carried between
//! calls; see [`SequenceModel::step`]. tract's types never leave this module.

use std::sync::Arc;

use serde::Deserialize;
use tract_onnx::prelude::*;

use crate::features::{FEATURE_VERSION, SEQUENCE_FEATURES, SEQ_LEN};
use crate::{Error, EventKind, KindSet, MAX_WINDOW};

/// The manifest format this engine reads.
pub const MANIFEST_FORMAT: u32 = 1;

/// One recurrent state tensor: the graph input it is fed through, the output it comes back on.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct StateSpec {
    /// Graph input name.
    pub input: String,
    /// Graph output name.
    pub output: String,
    /// Its shape, e.g. `[1, 1, 32]`.
    pub shape: Vec<usize>,
}

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
            Err(Error::BadOptions(format!(
                "segment thresholds need 0 < medium <= high < 1, got medium {} high {}",
                self.medium, self.high
            )))
        }
    }
}

/// The JSON manifest shipped beside a sequence model (`models/intent.json`).
#[derive(Clone, Debug, Deserialize)]
pub struct Manifest {
    /// Manifest format, [`MANIFEST_FORMAT`].
    pub format: u32,
    /// The model's name.
    pub name: String,
    /// The feature version the model was trained on.
    pub feature_version: u32,
    /// W.
    pub window: usize,
    /// The feature names, in order: must equal [`SEQUENCE_FEATURES`].
    pub sequence_features: Vec<String>,
    /// The event kinds the model was trained on.
    pub kinds: Vec<String>,
    /// The graph input for the feature rows, `[1, T, F]`.
    pub input: String,
    /// The graph output for the probabilities, `[1, T]`.
    pub output: String,
    /// The recurrent state tensors.
    pub state: Vec<StateSpec>,
    /// The decision threshold chosen on validation (best positive-class F1).
    pub threshold: f32,
    /// Segment thresholds chosen on validation.
    pub segments: Thresholds,
    /// Everything else (calibration, training, data, metrics) is carried but not interpreted.
    #[serde(default)]
    pub metrics: serde_json::Value,
}

impl Manifest {
    /// Parses and checks a manifest against this engine's features.
    ///
    /// ```
    /// let err = shopper_intent::model::Manifest::parse("{}").unwrap_err();
    /// assert_eq!(err.code(), "MANIFEST_MISMATCH");
    /// ```
    pub fn parse(json: &str) -> Result<Manifest, Error> {
        let m: Manifest =
            serde_json::from_str(json).map_err(|e| Error::ManifestMismatch(format!("not a valid manifest: {e}")))?;
        let mismatch = |msg: String| Err(Error::ManifestMismatch(msg));
        if m.format != MANIFEST_FORMAT {
            return mismatch(format!("manifest format {}, this engine reads {MANIFEST_FORMAT}", m.format));
        }
        if m.feature_version != FEATURE_VERSION {
            return mismatch(format!(
                "model was trained on feature version {}, this engine computes version {FEATURE_VERSION}",
                m.feature_version
            ));
        }
        if m.sequence_features.len() != SEQ_LEN || m.sequence_features.iter().zip(SEQUENCE_FEATURES).any(|(a, b)| a != b) {
            return mismatch("the model's feature list differs from this engine's".into());
        }
        if !(1..=MAX_WINDOW).contains(&m.window) {
            return mismatch(format!("window {} outside 1..={MAX_WINDOW}", m.window));
        }
        m.kind_set()?;
        if !(m.threshold > 0.0 && m.threshold < 1.0) {
            return mismatch(format!("threshold {} outside (0, 1)", m.threshold));
        }
        m.segments.validate().map_err(|e| Error::ManifestMismatch(e.to_string()))?;
        for s in &m.state {
            let n: usize = s.shape.iter().product();
            if s.shape.is_empty() || n == 0 || n > 1 << 16 {
                return mismatch(format!("state {} has an unusable shape {:?}", s.input, s.shape));
            }
        }
        Ok(m)
    }

    /// The kinds as a set.
    pub fn kind_set(&self) -> Result<KindSet, Error> {
        let kinds = self
            .kinds
            .iter()
            .map(|k| EventKind::parse(k).ok_or_else(|| Error::ManifestMismatch(format!("unknown kind {k:?}"))))
            .collect::<Result<Vec<_>, _>>()?;
        if kinds.is_empty() {
            return Err(Error::ManifestMismatch("the model reads no event kind".into()));
        }
        Ok(KindSet::from_kinds(&kinds))
    }
}

/// The recurrent state of a sequence model between steps.
#[derive(Clone, Debug, PartialEq)]
pub struct LstmState(Vec<Vec<f32>>);

type Plan = Arc<TypedRunnableModel>;

/// Where a graph is on its way from ONNX bytes to a runnable plan.
enum Graph {
    Bytes(Vec<u8>),
    Proto(tract_onnx::pb::ModelProto),
    Inference(InferenceModel),
    Typed(TypedModel),
    Decluttered(TypedModel),
    Optimized(TypedModel),
}

/// A graph being loaded in steps, with its ONNX input and output names in graph order.
struct Staged {
    graph: Option<Graph>,
    /// The inputs to fix, by name, with their shapes.
    wanted: Vec<(String, Vec<usize>)>,
    inputs: Vec<String>,
    outputs: Vec<String>,
}

impl Staged {
    fn new(bytes: &[u8], wanted: Vec<(String, Vec<usize>)>) -> Staged {
        Staged { graph: Some(Graph::Bytes(bytes.to_vec())), wanted, inputs: Vec::new(), outputs: Vec::new() }
    }

    /// Takes one step; returns true once the graph is optimized.
    fn step(&mut self) -> Result<bool, Error> {
        let graph = self.graph.take().ok_or_else(|| Error::BadModel("an earlier loading step failed".into()))?;
        let next = match graph {
            Graph::Bytes(bytes) => Graph::Proto(
                tract_onnx::onnx()
                    .proto_model_for_read(&mut std::io::Cursor::new(bytes))
                    .map_err(|e| Error::BadModel(format!("not an ONNX model: {e:#}")))?,
            ),
            Graph::Proto(proto) => Graph::Inference(self.translate(&proto)?),
            Graph::Inference(m) => Graph::Typed(m.into_typed().map_err(|e| Error::BadModel(format!("{e:#}")))?),
            Graph::Typed(m) => Graph::Decluttered(m.into_decluttered().map_err(|e| Error::BadModel(format!("{e:#}")))?),
            Graph::Decluttered(mut m) => {
                m.optimize().map_err(|e| Error::BadModel(format!("{e:#}")))?;
                Graph::Optimized(m)
            }
            done @ Graph::Optimized(_) => done,
        };
        let done = matches!(next, Graph::Optimized(_));
        self.graph = Some(next);
        Ok(done)
    }

    /// Reads the names, translates the proto and fixes the input shapes.
    fn translate(&mut self, proto: &tract_onnx::pb::ModelProto) -> Result<InferenceModel, Error> {
        let graph = proto.graph.as_ref().ok_or_else(|| Error::BadModel("the ONNX model has no graph".into()))?;
        let initializers: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
        self.inputs =
            graph.input.iter().map(|i| i.name.clone()).filter(|n| !initializers.contains(&n.as_str())).collect();
        self.outputs = graph.output.iter().map(|o| o.name.clone()).collect();
        if self.inputs.len() != self.wanted.len() {
            return Err(Error::ManifestMismatch(format!(
                "the graph has inputs {:?}, the manifest names {:?}",
                self.inputs,
                self.wanted.iter().map(|i| &i.0).collect::<Vec<_>>()
            )));
        }
        for (name, _) in &self.wanted {
            if !self.inputs.contains(name) {
                return Err(Error::ManifestMismatch(format!("the graph has no input {name:?} (it has {:?})", self.inputs)));
            }
        }
        let mut model = tract_onnx::onnx().model_for_proto_model(proto).map_err(|e| Error::BadModel(format!("{e:#}")))?;
        for (name, shape) in &self.wanted {
            let ix = self.input(name);
            model
                .set_input_fact(ix, InferenceFact::dt_shape(f32::datum_type(), shape.as_slice()))
                .map_err(|e| Error::BadModel(format!("{e:#}")))?;
        }
        Ok(model)
    }

    fn input(&self, name: &str) -> usize {
        self.inputs.iter().position(|n| n == name).unwrap_or(0)
    }

    fn output(&self, name: &str) -> Result<usize, Error> {
        self.outputs.iter().position(|n| n == name).ok_or_else(|| {
            Error::ManifestMismatch(format!("the graph has no output {name:?} (it has {:?})", self.outputs))
        })
    }

    /// Runs the remaining steps and makes the plan.
    fn runnable(mut self) -> Result<(Plan, Staged), Error> {
        while !self.step()? {}
        match self.graph.take() {
            Some(Graph::Optimized(m)) => {
                let plan = m.into_runnable().map_err(|e| Error::BadModel(format!("{e:#}")))?;
                Ok((plan, self))
            }
            _ => Err(Error::BadModel("the graph did not reach the optimized stage".into())),
        }
    }
}

/// Loads a [`SequenceModel`] in short steps, so that a browser can give the main thread back
/// between them (no step is a long task even when the code runs for the first time).
///
/// ```no_run
/// # let (bytes, manifest) = (Vec::<u8>::new(), String::new());
/// let mut loader = shopper_intent::model::ModelLoader::new(&bytes, &manifest)?;
/// while !loader.step()? { /* yield to the event loop */ }
/// let model = loader.finish()?;
/// # Ok::<(), shopper_intent::Error>(())
/// ```
pub struct ModelLoader {
    manifest: Manifest,
    staged: Staged,
}

impl ModelLoader {
    /// Parses and checks the manifest; the model bytes are only copied.
    pub fn new(bytes: &[u8], manifest_json: &str) -> Result<ModelLoader, Error> {
        let manifest = Manifest::parse(manifest_json)?;
        let mut wanted = vec![(manifest.input.clone(), vec![1, 1, SEQ_LEN])];
        wanted.extend(manifest.state.iter().map(|s| (s.input.clone(), s.shape.clone())));
        Ok(ModelLoader { staged: Staged::new(bytes, wanted), manifest })
    }

    /// Takes one loading step; true once every step is done and [`ModelLoader::finish`] is quick.
    pub fn step(&mut self) -> Result<bool, Error> {
        self.staged.step()
    }

    /// Runs whatever steps remain, makes the plan and checks it with one step from a zero state.
    pub fn finish(self) -> Result<SequenceModel, Error> {
        let manifest = self.manifest;
        let (plan, staged) = self.staged.runnable()?;
        let x_at = staged.input(&manifest.input);
        let state_at = manifest.state.iter().map(|s| staged.input(&s.input)).collect();
        let p_out = staged.output(&manifest.output)?;
        let state_out = manifest.state.iter().map(|s| staged.output(&s.output)).collect::<Result<Vec<_>, _>>()?;
        let runner = plan.spawn().map_err(|e| Error::BadModel(format!("{e:#}")))?;
        let mut model = SequenceModel { manifest, runner, x_at, state_at, p_out, state_out };
        // One step from a zero state proves the graph runs and returns what the manifest says.
        let mut state = model.zero_state();
        model.step(&[0.0; SEQ_LEN], &mut state)?;
        Ok(model)
    }
}

fn check_probability(p: f32) -> Result<f32, Error> {
    if p.is_finite() && (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(Error::BadModel(format!("the model returned {p}, not a probability")))
    }
}

/// An LSTM sequence model, run one step at a time.
pub struct SequenceModel {
    manifest: Manifest,
    /// A spawned plan state, reused across steps (spawning one per step costs more than the step).
    runner: TypedSimpleState,
    /// Input position of the rows, then of each state, in graph order.
    x_at: usize,
    state_at: Vec<usize>,
    p_out: usize,
    state_out: Vec<usize>,
}

impl std::fmt::Debug for SequenceModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequenceModel").field("name", &self.manifest.name).finish_non_exhaustive()
    }
}

impl SequenceModel {
    /// Loads ONNX `bytes` described by `manifest_json`; checks that the two agree with each other
    /// and with this engine.
    pub fn load(bytes: &[u8], manifest_json: &str) -> Result<SequenceModel, Error> {
        ModelLoader::new(bytes, manifest_json)?.finish()
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The state at the start of a session: all zeros.
    pub fn zero_state(&self) -> LstmState {
        LstmState(self.manifest.state.iter().map(|s| vec![0.0; s.shape.iter().product()]).collect())
    }

    /// Feeds one feature row: returns the probability after it and advances `state`.
    pub fn step(&mut self, row: &[f32; SEQ_LEN], state: &mut LstmState) -> Result<f32, Error> {
        let mut inputs: Vec<Option<TValue>> = vec![None; 1 + self.state_at.len()];
        inputs[self.x_at] = Some(tensor_of(&[1, 1, SEQ_LEN], row)?);
        for (i, spec) in self.manifest.state.iter().enumerate() {
            inputs[self.state_at[i]] = Some(tensor_of(&spec.shape, &state.0[i])?);
        }
        let inputs: TVec<TValue> = inputs.into_iter().flatten().collect();
        let out = self.runner.run(inputs).map_err(|e| Error::BadModel(format!("{e:#}")))?;
        let p = out
            .get(self.p_out)
            .and_then(values)
            .and_then(|s| s.last().copied())
            .ok_or_else(|| Error::BadModel("no probability output".into()))?;
        let mut next = Vec::with_capacity(state.0.len());
        for (i, &o) in self.state_out.iter().enumerate() {
            let s = out
                .get(o)
                .and_then(values)
                .filter(|s| s.len() == state.0[i].len())
                .ok_or_else(|| Error::BadModel(format!("state output {} has the wrong shape", self.manifest.state[i].output)))?;
            next.push(s);
        }
        let p = check_probability(p)?;
        state.0 = next;
        Ok(p)
    }

    /// Runs `rows` from a zero state; returns the probability after each row and the final state.
    pub fn run<'a>(&mut self, rows: impl IntoIterator<Item = &'a [f32; SEQ_LEN]>) -> Result<(Vec<f32>, LstmState), Error> {
        let mut state = self.zero_state();
        let mut out = Vec::new();
        for row in rows {
            out.push(self.step(row, &mut state)?);
        }
        Ok((out, state))
    }
}

fn values(t: &TValue) -> Option<Vec<f32>> {
    t.to_plain_array_view::<f32>().ok().map(|a| a.iter().copied().collect())
}

fn tensor_of(shape: &[usize], data: &[f32]) -> Result<TValue, Error> {
    Tensor::from_shape(shape, data).map(|t| t.into_tvalue()).map_err(|e| Error::BadModel(format!("{e:#}")))
}

/// The JSON manifest of a tabular model (one row of numeric features in, one probability out).
#[derive(Clone, Debug, Deserialize)]
pub struct TabularManifest {
    /// Manifest format, [`MANIFEST_FORMAT`].
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

/// A tabular model such as the UCI Dense network.
pub struct TabularModel {
    manifest: TabularManifest,
    plan: Plan,
    p_out: usize,
}

impl TabularModel {
    /// Loads ONNX `bytes` described by `manifest_json`.
    pub fn load(bytes: &[u8], manifest_json: &str) -> Result<TabularModel, Error> {
        let manifest: TabularManifest = serde_json::from_str(manifest_json)
            .map_err(|e| Error::ManifestMismatch(format!("not a valid tabular manifest: {e}")))?;
        if manifest.format != MANIFEST_FORMAT || manifest.features.is_empty() {
            return Err(Error::ManifestMismatch("unsupported tabular manifest".into()));
        }
        let staged = Staged::new(bytes, vec![(manifest.input.clone(), vec![1, manifest.features.len()])]);
        let (plan, staged) = staged.runnable()?;
        let p_out = staged.output(&manifest.output)?;
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
        let out = self.plan.run(tvec![tensor_of(&[1, d], row)?]).map_err(|e| Error::BadModel(format!("{e:#}")))?;
        let p = out
            .get(self.p_out)
            .and_then(values)
            .and_then(|s| s.last().copied())
            .ok_or_else(|| Error::BadModel("no probability output".into()))?;
        check_probability(p)
    }
}
