//! WebAssembly bindings of the shopper-intent engine.
//!
//! This is the only crate that knows JavaScript. It converts JS values into core types (by
//! reading only the known fields, so odd objects such as proxies, getters that throw or circular
//! structures cannot hurt it), calls the core, and converts results and errors back. Every export
//! that can fail returns a `JsResult`: an error crosses as a JS `Error` named `IntentError` with a
//! stable `code`, never as a trap.
//!
//! ```js
//! import init, { Engine } from './pkg/shopper_intent_wasm.js';
//! await init();
//! const engine = new Engine(modelBytes, manifestText, { salt: crypto.getRandomValues(new Uint8Array(16)) });
//! const update = engine.track({ type: 'view_item', ts: Date.now(), item: 'sku-1', category: 'shoes', price: 59 });
//! ```

use js_sys::{Reflect, Uint8Array};
use serde::Serialize;
use shopper_intent as core;
use shopper_intent::mapping::kind_from_any;
use wasm_bindgen::prelude::*;

/// The result type of every fallible export.
pub type JsResult<T> = Result<T, JsValue>;

/// A core error on its way to JavaScript.
struct IntentError(core::Error);

impl From<core::Error> for IntentError {
    fn from(e: core::Error) -> Self {
        IntentError(e)
    }
}

/// The one conversion of engine errors into JavaScript: an `Error` named `IntentError` with a
/// stable `code` and the engine's message.
impl From<IntentError> for JsValue {
    fn from(e: IntentError) -> JsValue {
        let err = js_sys::Error::new(&e.0.to_string());
        err.set_name("IntentError");
        // Setting a property on a fresh Error object cannot fail.
        let _ = Reflect::set(&err, &"code".into(), &e.0.code().into());
        err.into()
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> IntentError {
    IntentError(core::Error::InvalidField { field, reason: reason.into() })
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** One thing the shopper did. `type` is a GA4 ecommerce name or a mapped Shopify, Segment or Taobao name. */
export interface IntentEvent {
  type: string;
  /** Milliseconds since the epoch. */
  ts: number;
  item?: string | number;
  category?: string | number;
  price?: number;
  quantity?: number;
}
export type Segment = 'low' | 'medium' | 'high';
export interface Update {
  score: number;
  segment: Segment;
  previousSegment: Segment;
  segmentChanged: boolean;
  converted: boolean;
  ignored: boolean;
  newSession: boolean;
  events: number;
}
export interface Factor { factor: string; label: string; effect: number; }
export interface ScorePoint { position: number; type: string; score: number; }
export interface Thresholds { medium: number; high: number; }
export interface EngineOptions {
  /** 16 random bytes per device. */
  salt: Uint8Array;
  utcOffsetMinutes?: number;
  hysteresis?: number;
  thresholds?: Thresholds;
}
export interface ModelInfo { name: string; window: number; kinds: string[]; threshold: number; segments: Thresholds; }
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "IntentEvent")]
    pub type IntentEvent;
    #[wasm_bindgen(typescript_type = "EngineOptions")]
    pub type EngineOptions;
    #[wasm_bindgen(typescript_type = "Update")]
    pub type UpdateJs;
    #[wasm_bindgen(typescript_type = "Factor[]")]
    pub type Factors;
    #[wasm_bindgen(typescript_type = "ScorePoint[]")]
    pub type ScorePoints;
    #[wasm_bindgen(typescript_type = "Thresholds")]
    pub type ThresholdsJs;
    #[wasm_bindgen(typescript_type = "ModelInfo")]
    pub type ModelInfo;
}

/// Reads `obj[key]`; a throwing getter reads as an error, not a trap.
fn get(obj: &JsValue, key: &str) -> Result<JsValue, IntentError> {
    Reflect::get(obj, &JsValue::from_str(key)).map_err(|_| invalid("event", format!("could not be read: its {key} property threw")))
}

fn absent(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}

fn id(v: &JsValue, field: &'static str) -> Result<Option<String>, IntentError> {
    if absent(v) {
        return Ok(None);
    }
    if let Some(s) = v.as_string() {
        return Ok(Some(s));
    }
    match v.as_f64() {
        Some(n) if n.is_finite() => Ok(Some(format!("{n}"))),
        _ => Err(invalid(field, "must be a string or a finite number")),
    }
}

fn number(v: &JsValue, field: &'static str) -> Result<Option<f64>, IntentError> {
    if absent(v) {
        return Ok(None);
    }
    v.as_f64().map(Some).ok_or_else(|| invalid(field, "must be a number"))
}

/// Converts a JS event object into a core event.
fn event_from_js(v: &JsValue) -> Result<core::Event, IntentError> {
    if !v.is_object() || v.is_function() {
        return Err(invalid("event", "must be an object like {type: 'view_item', ts: Date.now()}"));
    }
    let name = get(v, "type")?.as_string().ok_or_else(|| invalid("type", "must be a string"))?;
    if name.len() > 64 {
        return Err(invalid("type", "is longer than 64 characters"));
    }
    let kind = kind_from_any(&name).ok_or(IntentError(core::Error::UnknownKind { name }))?;
    let ts = number(&get(v, "ts")?, "ts")?.ok_or_else(|| invalid("ts", "is required (milliseconds since the epoch)"))?;
    if !ts.is_finite() || ts < core::MIN_TS_MS as f64 || ts >= core::MAX_TS_MS as f64 {
        return Err(IntentError(core::Error::BadTimestamp { ts_ms: if ts.is_finite() { ts as i64 } else { 0 } }));
    }
    let mut e = core::Event::new(kind, ts as i64);
    e.item = id(&get(v, "item")?, "item")?;
    e.category = id(&get(v, "category")?, "category")?;
    e.price = number(&get(v, "price")?, "price")?;
    e.quantity = match number(&get(v, "quantity")?, "quantity")? {
        None => None,
        Some(q) if q.is_finite() && q >= 0.0 && q.fract() == 0.0 && q <= f64::from(core::MAX_QUANTITY) => Some(q as u32),
        Some(q) => return Err(invalid("quantity", format!("must be a whole number from 0 to {}, got {q}", core::MAX_QUANTITY))),
    };
    Ok(e)
}

fn thresholds_from_js(v: &JsValue) -> Result<core::Thresholds, IntentError> {
    let bad = |_| IntentError(core::Error::BadOptions("thresholds must be {medium: number, high: number}".into()));
    let medium = Reflect::get(v, &"medium".into()).map_err(bad)?.as_f64();
    let high = Reflect::get(v, &"high".into()).map_err(bad)?.as_f64();
    match (medium, high) {
        (Some(m), Some(h)) => {
            let t = core::Thresholds { medium: m as f32, high: h as f32 };
            t.validate()?;
            Ok(t)
        }
        _ => Err(IntentError(core::Error::BadOptions("thresholds must be {medium: number, high: number}".into()))),
    }
}

fn options_from_js(v: &JsValue) -> Result<core::EngineOptions, IntentError> {
    let bad = |m: &str| IntentError(core::Error::BadOptions(m.into()));
    if !v.is_object() {
        return Err(bad("options must be an object with at least a salt"));
    }
    let read = |k: &str| Reflect::get(v, &JsValue::from_str(k)).map_err(|_| bad("reading an option threw"));
    let salt = read("salt")?;
    let salt: Uint8Array = salt.dyn_into().map_err(|_| bad("salt must be a Uint8Array of 16 random bytes"))?;
    let mut options = core::EngineOptions::default();
    if salt.length() as usize != options.salt.len() {
        return Err(bad("salt must be a Uint8Array of 16 random bytes"));
    }
    salt.copy_to(&mut options.salt);
    let offset = read("utcOffsetMinutes")?;
    if !absent(&offset) {
        let o = offset.as_f64().filter(|o| o.is_finite() && o.fract() == 0.0).ok_or_else(|| bad("utcOffsetMinutes must be a whole number"))?;
        options.utc_offset_min = o.clamp(-100_000.0, 100_000.0) as i32;
    }
    let hysteresis = read("hysteresis")?;
    if !absent(&hysteresis) {
        options.hysteresis = hysteresis.as_f64().filter(|h| h.is_finite()).ok_or_else(|| bad("hysteresis must be a number"))? as f32;
    }
    let thresholds = read("thresholds")?;
    if !absent(&thresholds) {
        options.thresholds = Some(thresholds_from_js(&thresholds)?);
    }
    Ok(options)
}

fn to_js<T: Serialize>(value: &T) -> JsValue {
    // Plain structs of numbers, strings and booleans always serialize.
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::NULL)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UpdateOut {
    score: f32,
    segment: &'static str,
    previous_segment: &'static str,
    segment_changed: bool,
    converted: bool,
    ignored: bool,
    new_session: bool,
    events: u32,
}

#[derive(Serialize)]
struct FactorOut {
    factor: &'static str,
    label: &'static str,
    effect: f32,
}

#[derive(Serialize)]
struct PointOut {
    position: u32,
    #[serde(rename = "type")]
    kind: &'static str,
    score: f32,
}

#[derive(Serialize)]
struct ThresholdsOut {
    medium: f32,
    high: f32,
}

#[derive(Serialize)]
struct ModelInfoOut {
    name: String,
    window: usize,
    kinds: Vec<String>,
    threshold: f32,
    segments: ThresholdsOut,
}

/// Loads an engine in short steps: `while (!loader.step()) await yieldToMain();` then
/// `loader.finish()`. Each step is a fraction of the work of `new Engine(...)`, so a page that
/// yields between steps sees no long task, even while the engine's code runs for the first time.
#[wasm_bindgen]
pub struct EngineLoader {
    loader: Option<core::model::ModelLoader>,
    options: core::EngineOptions,
}

#[wasm_bindgen]
impl EngineLoader {
    /// Checks the manifest and the options; the model bytes are only copied.
    #[wasm_bindgen(constructor)]
    pub fn new(model: &[u8], manifest: &str, options: &EngineOptions) -> JsResult<EngineLoader> {
        #[cfg(feature = "panic-hook")]
        console_error_panic_hook::set_once();
        let options = options_from_js(options)?;
        let loader = core::model::ModelLoader::new(model, manifest).map_err(IntentError)?;
        Ok(EngineLoader { loader: Some(loader), options })
    }

    /// Takes one loading step; `true` once `finish()` is quick.
    pub fn step(&mut self) -> JsResult<bool> {
        let loader = self.loader.as_mut().ok_or_else(|| IntentError(core::Error::BadModel("the loader was already finished".into())))?;
        loader.step().map_err(|e| IntentError(e).into())
    }

    /// The engine, after whatever steps remain.
    pub fn finish(&mut self) -> JsResult<Engine> {
        let loader = self.loader.take().ok_or_else(|| IntentError(core::Error::BadModel("the loader was already finished".into())))?;
        let model = loader.finish().map_err(IntentError)?;
        let inner = core::Engine::new(model, self.options.clone()).map_err(IntentError)?;
        Ok(Engine { inner })
    }
}

/// The purchase-intent engine for one shopper.
#[wasm_bindgen]
pub struct Engine {
    inner: core::Engine,
}

#[wasm_bindgen]
impl Engine {
    /// Loads the ONNX model with its manifest (JSON text) and starts an empty window.
    #[wasm_bindgen(constructor)]
    pub fn new(model: &[u8], manifest: &str, options: &EngineOptions) -> JsResult<Engine> {
        #[cfg(feature = "panic-hook")]
        console_error_panic_hook::set_once();
        let options = options_from_js(options)?;
        let model = core::SequenceModel::load(model, manifest).map_err(IntentError)?;
        let inner = core::Engine::new(model, options).map_err(IntentError)?;
        Ok(Engine { inner })
    }

    /// Tracks one event; returns what changed. A bad event is an `IntentError` and changes nothing.
    pub fn track(&mut self, event: &IntentEvent) -> JsResult<UpdateJs> {
        let event = event_from_js(event)?;
        let u = self.inner.track(&event).map_err(IntentError)?;
        Ok(to_js(&UpdateOut {
            score: u.score,
            segment: u.segment.name(),
            previous_segment: u.previous_segment.name(),
            segment_changed: u.segment_changed,
            converted: u.converted,
            ignored: u.ignored,
            new_session: u.new_session,
            events: u.events,
        })
        .unchecked_into())
    }

    /// The probability of a purchase in this session (0 before the first event).
    #[wasm_bindgen(getter)]
    pub fn score(&self) -> f32 {
        self.inner.score()
    }

    /// `low`, `medium` or `high`.
    #[wasm_bindgen(getter)]
    pub fn segment(&self) -> String {
        self.inner.segment().name().to_string()
    }

    /// The factors behind the current score, largest effect first.
    pub fn explain(&mut self) -> JsResult<Factors> {
        let factors = self.inner.explain().map_err(IntentError)?;
        let out: Vec<FactorOut> = factors.iter().map(|f| FactorOut { factor: f.factor, label: f.label, effect: f.effect }).collect();
        Ok(to_js(&out).unchecked_into())
    }

    /// The current session's score curve.
    pub fn history(&self) -> ScorePoints {
        let out: Vec<PointOut> =
            self.inner.points().iter().map(|p| PointOut { position: p.position, kind: p.kind.name(), score: p.score }).collect();
        to_js(&out).unchecked_into()
    }

    /// The whole state as compact bytes (hashes and feature rows, never a raw id).
    #[wasm_bindgen(js_name = exportState)]
    pub fn export_state(&self) -> Vec<u8> {
        self.inner.export_state()
    }

    /// Restores state from `exportState`; a corrupt, foreign or mismatched state is an
    /// `IntentError` with code `BAD_STATE` and leaves the engine unchanged.
    #[wasm_bindgen(js_name = restoreState)]
    pub fn restore_state(&mut self, bytes: &[u8], now_ms: f64) -> JsResult<()> {
        if !now_ms.is_finite() {
            return Err(IntentError(core::Error::BadOptions("nowMs must be a finite number".into())).into());
        }
        self.inner.restore_state(bytes, now_ms as i64).map_err(|e| IntentError(e).into())
    }

    /// Forgets the shopper: window, earlier sessions, scores.
    pub fn forget(&mut self) {
        self.inner.forget();
    }

    /// Replaces the segment thresholds.
    #[wasm_bindgen(js_name = setThresholds)]
    pub fn set_thresholds(&mut self, medium: f32, high: f32) -> JsResult<()> {
        self.inner.set_thresholds(core::Thresholds { medium, high }).map_err(|e| IntentError(e).into())
    }

    /// The segment thresholds in force.
    #[wasm_bindgen(getter)]
    pub fn thresholds(&self) -> ThresholdsJs {
        let t = self.inner.thresholds();
        to_js(&ThresholdsOut { medium: t.medium, high: t.high }).unchecked_into()
    }

    /// What the manifest says about the model.
    #[wasm_bindgen(getter)]
    pub fn model(&self) -> ModelInfo {
        let m = self.inner.model().manifest();
        to_js(&ModelInfoOut {
            name: m.name.clone(),
            window: m.window,
            kinds: m.kinds.clone(),
            threshold: m.threshold,
            segments: ThresholdsOut { medium: m.segments.medium, high: m.segments.high },
        })
        .unchecked_into()
    }
}
