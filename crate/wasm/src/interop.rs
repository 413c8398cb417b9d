//! Every conversion between JavaScript values and the core's types, in one place.
//!
//! Inbound values are read field by field with `Reflect.get`, so proxies, getters that throw and
//! circular objects cannot hurt; shapes are converted here and the values are checked by the
//! core (the event contract lives there). Outbound values cross as JSON text, which the page
//! package parses: `JSON.parse` defines each field on its object, where building an object here
//! would write `obj[key] = value` and reach any setter a page put on `Object.prototype` (one that
//! throws failed every answer, one that keeps the value elsewhere emptied it). A conversion that
//! fails is an `ENGINE_FAILED` error, never a default.

use js_sys::{Reflect, Uint8Array};
use serde::Serialize;
use shopper_intent as core;
use shopper_intent::event::{check_quantity, check_ts};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The result type of every fallible export.
pub type JsResult<T> = Result<T, JsValue>;

/// A core error on its way to JavaScript.
pub struct IntentError(pub core::Error);

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
        // `code` is defined, not assigned (see the module's note on setters), from a descriptor
        // without a prototype, whose fields are its own. Neither step fails on fresh objects.
        let descriptor = js_sys::Object::create(JsValue::NULL.unchecked_ref::<js_sys::Object>());
        for (key, value) in
            [("value", JsValue::from(e.0.code())), ("writable", true.into()), ("enumerable", true.into()), ("configurable", true.into())]
        {
            let _ = Reflect::set(&descriptor, &key.into(), &value);
        }
        let _ = Reflect::define_property(&err, &"code".into(), &descriptor);
        err.into()
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> IntentError {
    IntentError(core::Error::InvalidField { field, reason: reason.into() })
}

fn options_error(reason: impl Into<String>) -> IntentError {
    IntentError(core::Error::BadOptions(reason.into()))
}

/// An engine failure: a value that should always convert did not.
pub fn failed(what: &str, e: impl std::fmt::Debug) -> IntentError {
    IntentError(core::Error::Failed(format!("{what}: {e:?}")))
}

fn absent(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}

/// A JS string copied into wasm memory, refused without copying when it cannot fit `max_bytes`:
/// a string of n UTF-16 units has at least n UTF-8 bytes, so a page's megabyte string never
/// reaches the allocator (where running out of memory would trap the instance). The exact
/// limit is the core's check on the copy.
fn bounded_string(v: &JsValue, max_bytes: usize, field: &'static str) -> Result<Option<String>, IntentError> {
    let Some(js) = v.dyn_ref::<js_sys::JsString>() else { return Ok(None) };
    let units = js.length() as usize;
    if units > max_bytes {
        return Err(match field {
            "type" => invalid("type", format!("is at least {units} bytes long; at most {max_bytes} are accepted")),
            _ => IntentError(core::Error::IdTooLong { field, len: units, max: max_bytes }),
        });
    }
    Ok(v.as_string())
}

fn id(v: &JsValue, field: &'static str) -> Result<Option<String>, IntentError> {
    if absent(v) {
        return Ok(None);
    }
    if let Some(s) = bounded_string(v, core::event::MAX_ID_BYTES, field)? {
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

/// The fields of an event, as the page package passes them (read out of the page's object in
/// JavaScript, so no property is read here: no key string crosses per event).
pub struct EventFields<'a> {
    /// `type`: a string.
    pub kind: &'a JsValue,
    /// `ts`: milliseconds since the epoch (the package fills in `Date.now()`).
    pub ts: &'a JsValue,
    /// `item`, `category`, `session`: a string, a finite number, or absent.
    pub item: &'a JsValue,
    /// See `item`.
    pub category: &'a JsValue,
    /// `price`, `quantity`: a number or absent.
    pub price: &'a JsValue,
    /// See `price`.
    pub quantity: &'a JsValue,
    /// See `item`.
    pub session: &'a JsValue,
}

/// An event's fields as a core event: shapes are converted here, values checked by the core.
/// Any JS values: wrong shapes are `INVALID_EVENT` naming the field.
pub fn event_from_fields(f: &EventFields<'_>) -> Result<core::Event, IntentError> {
    let name = bounded_string(f.kind, core::event::MAX_TYPE_BYTES, "type")?.ok_or_else(|| invalid("type", "must be a string"))?;
    let kind = core::Kind::parse(&name)?;
    let ts = number(f.ts, "ts")?.ok_or_else(|| invalid("ts", "is required (milliseconds since the epoch)"))?;
    let ts = check_ts(ts)?;
    let ids = [id(f.item, "item")?, id(f.category, "category")?, id(f.session, "session")?];
    event_from_parts(kind, ts, ids, number(f.price, "price")?, number(f.quantity, "quantity")?)
}

/// The same event from fields that already have the plain shapes (the page package passes
/// strings within the length limits and numbers this way, and anything else through
/// [`event_from_fields`]); both end in [`event_from_parts`].
pub fn event_from_plain(
    kind: &str,
    ts: f64,
    ids: [Option<String>; 3],
    price: Option<f64>,
    quantity: Option<f64>,
) -> Result<core::Event, IntentError> {
    let kind = core::Kind::parse(kind)?;
    event_from_parts(kind, check_ts(ts)?, ids, price, quantity)
}

/// `ids`: item, category, session.
fn event_from_parts(
    kind: core::Kind,
    ts: i64,
    ids: [Option<String>; 3],
    price: Option<f64>,
    quantity: Option<f64>,
) -> Result<core::Event, IntentError> {
    let [item, category, session] = ids;
    let mut e = core::Event::new(kind, ts);
    e.item = item;
    e.category = category;
    e.session = session;
    e.price = price;
    e.quantity = quantity.map(check_quantity).transpose()?;
    Ok(e)
}

/// The longest `type` and id strings, in UTF-16 units, that the page package passes as plain
/// strings (longer ones go through [`event_from_fields`], which refuses them without copying).
pub fn plain_limits() -> [u32; 2] {
    [core::event::MAX_TYPE_BYTES as u32, core::event::MAX_ID_BYTES as u32]
}

/// `{medium, high}` as thresholds.
pub fn thresholds_from_js(v: &JsValue) -> Result<core::Thresholds, IntentError> {
    let read = |k: &str| Reflect::get(v, &JsValue::from_str(k)).ok().and_then(|x| x.as_f64());
    match (read("medium"), read("high")) {
        (Some(m), Some(h)) => {
            let t = core::Thresholds { medium: m as f32, high: h as f32 };
            t.validate()?;
            Ok(t)
        }
        _ => Err(options_error("thresholds must be {medium: number, high: number}")),
    }
}

/// The engine options object (`{salt, utcOffsetMinutes?, hysteresis?, thresholds?}`).
pub fn options_from_js(v: &JsValue) -> Result<core::EngineOptions, IntentError> {
    if !v.is_object() {
        return Err(options_error("options must be an object with at least a salt"));
    }
    let read = |k: &str| Reflect::get(v, &JsValue::from_str(k)).map_err(|_| options_error(format!("reading the option {k} threw")));
    let salt: Uint8Array = read("salt")?.dyn_into().map_err(|_| options_error("salt must be a Uint8Array of 16 random bytes"))?;
    let mut options = core::EngineOptions::default();
    if salt.length() as usize != options.salt.len() {
        return Err(options_error("salt must be a Uint8Array of 16 random bytes"));
    }
    salt.copy_to(&mut options.salt);
    let offset = read("utcOffsetMinutes")?;
    if !absent(&offset) {
        let o = offset
            .as_f64()
            .filter(|o| o.is_finite() && o.fract() == 0.0 && o.abs() <= f64::from(core::window::MAX_UTC_OFFSET_MIN))
            .ok_or_else(|| options_error("utcOffsetMinutes must be a whole number of minutes within ±1080"))?;
        options.utc_offset_min = Some(o as i32);
    }
    let hysteresis = read("hysteresis")?;
    if !absent(&hysteresis) {
        options.hysteresis =
            hysteresis.as_f64().filter(|h| h.is_finite()).ok_or_else(|| options_error("hysteresis must be a number"))? as f32;
    }
    let thresholds = read("thresholds")?;
    if !absent(&thresholds) {
        options.thresholds = Some(thresholds_from_js(&thresholds)?);
    }
    Ok(options)
}

/// A serializable value as JSON text, for the page package to parse (see the module's note).
pub fn to_json<T: Serialize>(value: &T, what: &str) -> Result<String, IntentError> {
    serde_json::to_string(value).map_err(|e| failed(what, e))
}

/// What one tracked event did, packed into six numbers that JS reads in place (the engine's
/// `updatePtr`), so that no object, array or string is built per event: `[score, segment, previousSegment, flags, events, prefix]`, segments as 0 low,
/// 1 medium, 2 high, flags as bits: 1 segmentChanged, 2 converted, 4 ignored, 8 scored,
/// 16 newSession. `web/package/engine.js` unpacks it (its `UPDATE_LAYOUT` names the same slots,
/// and a browser test reads every field of a real update).
pub fn pack_update(u: &core::Update) -> [f64; UPDATE_LEN] {
    let flags = u8::from(u.segment_changed)
        | u8::from(u.converted) << 1
        | u8::from(u.ignored) << 2
        | u8::from(u.scored) << 3
        | u8::from(u.new_session) << 4;
    [
        f64::from(u.score),
        u.segment as u8 as f64,
        u.previous_segment as u8 as f64,
        f64::from(flags),
        f64::from(u.events),
        f64::from(u.prefix),
    ]
}

/// Numbers in a packed update.
pub const UPDATE_LEN: usize = 6;

// The engine's f32 values are widened to f64 before they are written as JSON: the text of an f32
// is its shortest decimal (0.3), which JS would read as another number than the f32 it is.

/// A factor, as JS reads it.
#[derive(Serialize)]
pub struct FactorOut {
    factor: &'static str,
    label: &'static str,
    effect: f64,
}

impl From<&core::Factor> for FactorOut {
    fn from(f: &core::Factor) -> FactorOut {
        FactorOut { factor: f.factor, label: f.label, effect: f64::from(f.effect) }
    }
}

/// A point of the score history, as JS reads it.
#[derive(Serialize)]
pub struct PointOut {
    position: u32,
    #[serde(rename = "type")]
    kind: String,
    score: f64,
}

impl From<&core::ScorePoint> for PointOut {
    fn from(p: &core::ScorePoint) -> PointOut {
        PointOut { position: p.position, kind: p.kind.name().to_string(), score: f64::from(p.score) }
    }
}

/// Segment thresholds, as JS reads them.
#[derive(Serialize)]
pub struct ThresholdsOut {
    medium: f64,
    high: f64,
}

impl From<core::Thresholds> for ThresholdsOut {
    fn from(t: core::Thresholds) -> ThresholdsOut {
        ThresholdsOut { medium: f64::from(t.medium), high: f64::from(t.high) }
    }
}

/// What the manifest says about the model, as JS reads it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfoOut {
    name: String,
    feature_version: u32,
    window: usize,
    kinds: Vec<String>,
    hidden: usize,
    threshold: f64,
    segments: ThresholdsOut,
}

impl From<&core::Manifest> for ModelInfoOut {
    fn from(m: &core::Manifest) -> ModelInfoOut {
        ModelInfoOut {
            name: m.name.clone(),
            feature_version: m.feature_version,
            window: m.window,
            kinds: m.kinds.clone(),
            hidden: m.model.hidden,
            threshold: f64::from(m.threshold),
            segments: m.segments.into(),
        }
    }
}

/// One row of the engine's name table, as JS reads it.
#[derive(Serialize)]
pub struct EventTypeOut {
    vocabulary: &'static str,
    name: &'static str,
    kind: &'static str,
}

/// The whole name table.
pub fn event_types() -> Vec<EventTypeOut> {
    core::mapping::table().map(|(v, name, k)| EventTypeOut { vocabulary: v.name(), name, kind: k.name() }).collect()
}
