//! WebAssembly bindings of the shopper-intent engine: the exports, and nothing else.
//!
//! This is the only crate that knows JavaScript. Every conversion of a JS value lives in
//! [`interop`]; this file calls the core with what it returns. Every export that can fail returns
//! a [`JsResult`]: an error crosses as a JS `Error` named `IntentError` with a stable `code`,
//! never as a trap.
//!
//! ```js
//! import init, { EngineLoader } from './pkg/shopper_intent_wasm.js';
//! await init();
//! const loader = new EngineLoader(weightsBytes, manifestText, { salt: crypto.getRandomValues(new Uint8Array(16)) });
//! while (!loader.step()) await new Promise((r) => setTimeout(r));
//! const engine = loader.finish();
//! engine.trackPlain('view_item', Date.now(), 'sku-1', 'shoes', 59, undefined, undefined);
//! const [score] = new Float64Array(wasm.memory.buffer, engine.updatePtr(), 6);
//! ```

mod interop;

use interop::{event_from_fields, event_from_plain, event_types, options_from_js, pack_update, plain_limits, thresholds_from_js, to_json};
use interop::{EventFields, IntentError, JsResult, UPDATE_LEN};
use interop::{FactorOut, ModelInfoOut, PointOut, ThresholdsOut};
use shopper_intent as core;
use wasm_bindgen::prelude::*;

/// Runs the module's static constructors (tract registers its kernels through them) once, when
/// the instance is made. Without an explicit call, wasm-ld links the module "command style" and
/// wraps every export in a call to `__wasm_call_ctors`: the registrations then ran again on every
/// call (`track()` in Chromium took 9.4 us with the wrappers, 6.8 us without).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen(start)]
fn run_constructors_once() {
    extern "C" {
        fn __wasm_call_ctors();
    }
    // SAFETY: the linker's own function, called once per instance before any other export (the
    // bindings call the start function when they instantiate the module).
    unsafe { __wasm_call_ctors() }
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/*
 * The raw bindings' own shapes. The package's types (IntentEvent, Update, ...) are declared once,
 * in web/package/shopper-intent.d.ts: `track` and `trackPlain` take an event's fields and write
 * their update into the engine's memory (see web/package/engine.js), so they need neither here.
 * Answers (Factor[], ScorePoint[], Thresholds, ModelInfo, EventType[], ShareEstimate[]) cross
 * as JSON text of these shapes; web/package/engine.js parses and checks them.
 */
export interface Factor { factor: string; label: string; effect: number; }
export interface ScorePoint { position: number; type: string; score: number; }
export interface Thresholds { medium: number; high: number; }
export interface EngineOptions {
  /** 16 random bytes per device. */
  salt: Uint8Array;
  /** The shop's local time, minutes east of UTC; the manifest's `utc_offset_min` (else 0) when absent. */
  utcOffsetMinutes?: number;
  hysteresis?: number;
  thresholds?: Thresholds;
}
export interface ModelInfo { name: string; featureVersion: number; window: number; kinds: string[]; hidden: number; threshold: number; segments: Thresholds; }
export interface EventType { vocabulary: 'ga4' | 'shopify' | 'segment' | 'taobao'; name: string; kind: string; }
export interface ShareEstimate { value: number; se: number; lo: number; hi: number; }
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "EngineOptions")]
    pub type EngineOptions;
    #[wasm_bindgen(typescript_type = "Thresholds")]
    pub type ThresholdsJs;
}

fn err(e: core::Error) -> JsValue {
    IntentError(e).into()
}

/// The engine's one table of event names: every GA4, Shopify, Segment and Taobao name it maps,
/// with the GA4 kind it means, as the JSON text of an `EventType[]`. The page package reads it
/// instead of keeping a copy.
#[wasm_bindgen(js_name = eventTypes)]
pub fn event_types_js() -> JsResult<String> {
    Ok(to_json(&event_types(), "the event type table")?)
}

/// The answer to report instead of the true `value` (an index among `k` values) under k-ary
/// randomized response with privacy `epsilon`; `u` and `v` are uniform random numbers in
/// [0, 1) from the page (the engine reads no random source). See the core's `privacy` module.
#[wasm_bindgen(js_name = randomizedResponse)]
pub fn randomized_response(value: u32, k: u32, epsilon: f64, u: f64, v: f64) -> JsResult<u32> {
    let rr = core::privacy::RandomizedResponse::new(k as usize, epsilon).map_err(err)?;
    if value >= k {
        return Err(err(core::Error::BadOptions(format!("value {value} is not one of {k} values"))));
    }
    Ok(rr.report(value as usize, u, v) as u32)
}

/// The unbiased estimates of the true shares from counts of randomized reports (one count per
/// value, in the order of the values): the JSON text of `[{value, se, lo, hi}]`, with 95% intervals.
#[wasm_bindgen(js_name = estimateRandomizedResponse)]
pub fn estimate_randomized_response(counts: Vec<f64>, epsilon: f64) -> JsResult<String> {
    // Counts a page's numbers hold exactly (Number.MAX_SAFE_INTEGER at most).
    const MAX_COUNT: f64 = 9_007_199_254_740_991.0;
    if counts.iter().any(|c| !(c.is_finite() && (0.0..=MAX_COUNT).contains(c) && c.fract() == 0.0)) {
        return Err(err(core::Error::BadOptions("counts must be whole numbers from 0 to 2^53 - 1".into())));
    }
    let rr = core::privacy::RandomizedResponse::new(counts.len(), epsilon).map_err(err)?;
    let counts: Vec<u64> = counts.iter().map(|c| *c as u64).collect();
    Ok(to_json(&rr.estimate(&counts).map_err(err)?, "the estimates")?)
}

/// For failure drills only: traps this wasm instance on purpose (a panic, which aborts), as an
/// engine bug would. The page package must notice, say why once and re-create the engine.
#[wasm_bindgen(js_name = drillTrap)]
pub fn drill_trap() {
    panic!("failure drill: this instance traps on purpose");
}

/// Loads an engine in short steps: `while (!loader.step()) await yieldToMain();` then
/// `loader.finish()`. Each step is a fraction of the work, so a page that yields between steps
/// sees no long task, even while the engine's code runs for the first time.
#[wasm_bindgen]
pub struct EngineLoader {
    loader: Option<core::model::ModelLoader>,
    options: core::EngineOptions,
}

#[wasm_bindgen]
impl EngineLoader {
    /// Checks the manifest (JSON text) and the options; the weights are only copied.
    #[wasm_bindgen(constructor)]
    pub fn new(weights: &[u8], manifest: &str, options: &EngineOptions) -> JsResult<EngineLoader> {
        #[cfg(feature = "panic-hook")]
        console_error_panic_hook::set_once();
        let options = options_from_js(options)?;
        let loader = core::model::ModelLoader::new(weights, manifest).map_err(err)?;
        Ok(EngineLoader { loader: Some(loader), options })
    }

    /// Takes one loading step; `true` once `finish()` is immediate.
    pub fn step(&mut self) -> JsResult<bool> {
        let loader = self.loader.as_mut().ok_or_else(|| err(core::Error::BadModel("the loader was already finished".into())))?;
        loader.step().map_err(err)
    }

    /// The engine, after whatever steps remain.
    pub fn finish(&mut self) -> JsResult<Engine> {
        let loader = self.loader.take().ok_or_else(|| err(core::Error::BadModel("the loader was already finished".into())))?;
        let model = loader.finish().map_err(err)?;
        let inner = core::Engine::new(model, self.options.clone()).map_err(err)?;
        Ok(Engine { inner, update: Box::new([0.0; UPDATE_LEN]) })
    }
}

/// `[type, id]`: the longest strings, in UTF-16 units, that `trackPlain` takes.
#[wasm_bindgen(js_name = plainLimits)]
pub fn plain_limits_js() -> Vec<u32> {
    plain_limits().to_vec()
}

/// The purchase-intent engine for one shopper.
#[wasm_bindgen]
pub struct Engine {
    inner: core::Engine,
    /// What the last tracked event did, packed (`pack_update`); JS reads it in place through
    /// `updatePtr`, so no array is made per event. Boxed: its address never changes.
    update: Box<[f64; UPDATE_LEN]>,
}

#[wasm_bindgen]
impl Engine {
    /// Loads the model from its weights and manifest in one go (see `EngineLoader` for a
    /// page's first visit).
    #[wasm_bindgen(constructor)]
    pub fn new(weights: &[u8], manifest: &str, options: &EngineOptions) -> JsResult<Engine> {
        EngineLoader::new(weights, manifest, options)?.finish()
    }

    /// Tracks one event given field by field (`type, ts, item, category, price, quantity,
    /// session`), any JS values; writes what changed into the update at `updatePtr` (see
    /// `web/package/engine.js`). A bad event is an `IntentError` and changes nothing.
    #[allow(clippy::too_many_arguments)]
    pub fn track(
        &mut self,
        kind: &JsValue,
        ts: &JsValue,
        item: &JsValue,
        category: &JsValue,
        price: &JsValue,
        quantity: &JsValue,
        session: &JsValue,
    ) -> JsResult<()> {
        let event = event_from_fields(&EventFields { kind, ts, item, category, price, quantity, session })?;
        self.apply(&event)
    }

    /// `track` for the plain shapes, the common case: `type` a string, `ts` a number, ids strings
    /// or absent, within `plainLimits()`; `price`, `quantity` numbers or absent. The strings
    /// cross as arguments instead of being read out of JS values one call at a time.
    #[wasm_bindgen(js_name = trackPlain)]
    #[allow(clippy::too_many_arguments)]
    pub fn track_plain(
        &mut self,
        kind: &str,
        ts: f64,
        item: Option<String>,
        category: Option<String>,
        price: Option<f64>,
        quantity: Option<f64>,
        session: Option<String>,
    ) -> JsResult<()> {
        let event = event_from_plain(kind, ts, [item, category, session], price, quantity)?;
        self.apply(&event)
    }

    /// Where the packed update of the last tracked event lives in the instance's memory: six
    /// f64, `[score, segment, previousSegment, flags, events, prefix]`.
    #[wasm_bindgen(js_name = updatePtr)]
    pub fn update_ptr(&self) -> usize {
        self.update.as_ptr() as usize
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

    /// The time of the newest event the engine holds (ms), NaN before any.
    #[wasm_bindgen(getter, js_name = newestMs)]
    pub fn newest_ms(&self) -> f64 {
        self.inner.window().newest_ms().map_or(f64::NAN, |t| t as f64)
    }

    /// The factors behind the current score, largest effect first (JSON text of a `Factor[]`).
    pub fn explain(&mut self) -> JsResult<String> {
        let factors = self.inner.explain().map_err(err)?;
        let out: Vec<FactorOut> = factors.iter().map(FactorOut::from).collect();
        Ok(to_json(&out, "the factors")?)
    }

    /// The current session's score history: the JSON text of `[{position, type, score}]`.
    pub fn history(&self) -> JsResult<String> {
        let out: Vec<PointOut> = self.inner.history().map(PointOut::from).collect();
        Ok(to_json(&out, "the score history")?)
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
        let now = shopper_intent::event::check_ts(now_ms).map_err(|_| err(core::Error::BadOptions("nowMs must be a time in ms".into())))?;
        self.inner.restore_state(bytes, now).map_err(err)
    }

    /// Forgets the shopper: window, earlier sessions, scores; `salt` (16 new random bytes) replaces
    /// the salt, so that no hash kept after links to one kept before.
    pub fn forget(&mut self, salt: &[u8]) -> JsResult<()> {
        let salt = salt.try_into().map_err(|_| err(core::Error::BadOptions("salt must be a Uint8Array of 16 random bytes".into())))?;
        self.inner.forget(salt);
        Ok(())
    }

    /// Replaces the segment thresholds.
    #[wasm_bindgen(js_name = setThresholds)]
    pub fn set_thresholds(&mut self, thresholds: &ThresholdsJs) -> JsResult<()> {
        let t = thresholds_from_js(thresholds)?;
        self.inner.set_thresholds(t).map_err(err)
    }

    /// The segment thresholds in force (JSON text of a `Thresholds`).
    #[wasm_bindgen(getter)]
    pub fn thresholds(&self) -> JsResult<String> {
        Ok(to_json(&ThresholdsOut::from(self.inner.thresholds()), "the thresholds")?)
    }

    /// What the manifest says about the model (JSON text of a `ModelInfo`).
    #[wasm_bindgen(getter)]
    pub fn model(&self) -> JsResult<String> {
        Ok(to_json(&ModelInfoOut::from(self.inner.model().manifest()), "the model info")?)
    }
}

impl Engine {
    /// Tracks a checked event and packs what it did into `update`.
    fn apply(&mut self, event: &core::Event) -> JsResult<()> {
        let u = self.inner.track(event).map_err(err)?;
        *self.update = pack_update(&u);
        Ok(())
    }
}
