// The only module that knows the wasm-bindgen bindings of crate/wasm.
//
// Everything the rest of the package needs from the engine goes through `loadBindings` and
// `EngineHandle`; if an export of `pkg/shopper_intent_wasm.js` is renamed, this file is the one
// to change. Values coming out of wasm are checked and copied into plain frozen objects here: a
// value that does not have the declared shape is an `ENGINE_FAILED` error, never a default.

import initBindings, {
  EngineLoader, eventTypes as bindingsEventTypes, plainLimits, randomizedResponse as bindingsRandomizedResponse,
  estimateRandomizedResponse as bindingsEstimate,
} from './pkg/shopper_intent_wasm.js';
import { TAG, logWarn } from './log.js';
import { race } from './schedule.js';
import { parseOwn, record } from './fields.js';

/**
 * The bindings this package instantiates first, as a plain object of the exports it calls: named
 * imports, not the module's namespace object. Once bundled (web/dev/bundle.mjs), a namespace (which
 * `import()` returns) is built by the bundler's helper, which walks the exports with `for...in`
 * and so also meets whatever a page has added to `Object.prototype` (an old library, or a
 * query-string parser fed `?__proto__[x]=1`): the bundle then threw on import and the widget
 * never started. The price: the bindings' top level (a TextDecoder made and used) runs when the
 * package is imported, not at `load()`; a page whose TextDecoder throws fails that import.
 */
const FIRST_BINDINGS = Object.freeze({
  __proto__: null,
  default: initBindings,
  EngineLoader,
  eventTypes: bindingsEventTypes,
  plainLimits,
  randomizedResponse: bindingsRandomizedResponse,
  estimateRandomizedResponse: bindingsEstimate,
});

/** Error codes the engine (crate/wasm) throws, as `IntentError.code`. */
export const ENGINE_CODES = new Set([
  'INVALID_EVENT',
  'OUT_OF_ORDER',
  'BAD_STATE',
  'BAD_MODEL',
  'MANIFEST_MISMATCH',
  'BAD_OPTIONS',
  'ENGINE_FAILED',
]);

/**
 * An error of the package, matched by `code`, never by message text.
 *
 * Engine codes are those of `ENGINE_CODES`; the JS layer adds `LOAD_FAILED` (a fetch failed or
 * timed out), `BAD_EXPERIMENT` (an invalid experiment definition) and `DESTROYED`.
 * `ENGINE_FAILED` means the engine broke outside its contract (a trap, a malformed answer).
 */
/** The engine's session gap (crate/core `SESSION_GAP_MS`; tests/browser/constants.test.mjs holds this copy to it): 30 minutes without events end a session. */
export const SESSION_GAP_MS = 30 * 60 * 1000;
/**
 * The engine's refusals of a sound state made by another model, or in another engine- or
 * window-state format or feature version (crate/core/src/engine.rs and state.rs; tests/browser/constants.test.mjs
 * holds this to their messages): the shopper's experiment id and exposures are kept then.
 */
export const STALE_STATE = /another model|another hidden size|another window|state format \d+, this engine reads|feature version \d+, this engine computes/;

/** Every ShopperIntentError made (`isShopperIntentError`). */
const OWN_ERRORS = new WeakSet();

export class ShopperIntentError extends Error {
  code;

  constructor(code, message, options) {
    super(message, options);
    this.name = 'ShopperIntentError';
    this.code = code;
    OWN_ERRORS.add(this);
  }
}

/**
 * Whether `e` is one of ours. Not `instanceof`: a page may throw a Proxy whose prototype chain has
 * no end, and `instanceof` walks it (for ever in Firefox and WebKit).
 */
export function isShopperIntentError(e) {
  return OWN_ERRORS.has(e);
}

/**
 * Turns anything thrown by the bindings into a `ShopperIntentError`. An `IntentError` keeps its
 * code; anything else (a trap, a `TypeError` from the glue) becomes `ENGINE_FAILED`.
 */
export function toError(e) {
  if (isShopperIntentError(e)) return e;
  let code = '';
  let message = '';
  try {
    code = e && typeof e === 'object' && typeof e.code === 'string' ? e.code : '';
    message = e && typeof e === 'object' && typeof e.message === 'string' ? e.message : String(e);
  } catch {
    message = 'an unreadable error';
  }
  if (ENGINE_CODES.has(code)) return new ShopperIntentError(code, message, { cause: e });
  return new ShopperIntentError('ENGINE_FAILED', message, { cause: e });
}

let bindingsPromise = null;
let compiled = null;
let instances = 0;
let exportsOfInstance = null;

/** Bytes of the current wasm instance's linear memory (for benchmarks and memory drills), or 0. */
export function wasmMemoryBytes() {
  try {
    return exportsOfInstance?.memory?.buffer?.byteLength ?? 0;
  } catch {
    return 0;
  }
}

/** The smallest module that uses a SIMD instruction: `(func (result v128) i32.const 0 i8x16.splat)`. */
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 15, 11]);

/** Whether this browser runs WebAssembly SIMD (Chrome 91, Firefox 89, Safari 16.4 and later). */
export function simdSupported() {
  try {
    return WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/** A failed import's error for a message ("TypeError: …"), which never throws itself. */
function importError(e) {
  try {
    const text = `${e?.name ?? typeof e}: ${e?.message ?? ''}`;
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return 'an unreadable error';
  }
}

/** The SIMD build beside a plain module URL (`..._bg.wasm` -> `..._simd.wasm`), or null. */
export function simdUrl(plainUrl) {
  return /_bg\.wasm(?=$|[?#])/.test(plainUrl) ? plainUrl.replace(/_bg\.wasm(?=$|[?#])/, '_simd.wasm') : null;
}

/**
 * For each bindings module: a probe of its instance's shadow-stack pointer and the pointer's
 * value at rest.
 *
 * Rust keeps its shadow stack pointer in a wasm global, and every export puts it back before
 * returning, so between calls it always has its resting value. A trap (a panic, which aborts)
 * returns nothing and leaves it moved. wasm-bindgen 0.2.130 does not mark an aborted instance
 * (wasm-bindgen issue 3687) and calling into one again is unsound, so every call of
 * `EngineHandle` first checks the pointer: an instance that trapped, in our call or in anyone
 * else's call of the same bindings, is `ENGINE_FAILED` from then on. (A trap in code that never
 * touched the shadow stack would go unseen; a panic always touches it: its message is
 * formatted there.)
 */
const stacks = new WeakMap();

function watchStack(glue, exports) {
  const probe = exports?.__wbindgen_add_to_stack_pointer;
  if (typeof probe === 'function') stacks.set(glue, { probe, rest: probe(0) });
  if (exports?.memory instanceof WebAssembly.Memory) memories.set(glue, exports.memory);
}

/** The linear memory of the instance behind each copy of the bindings (see `EngineHandle`). */
const memories = new WeakMap();

/** Whether the wasm instance behind `glue` has trapped since it was instantiated. */
export function trapped(glue) {
  const s = stacks.get(glue);
  if (!s) return false;
  try {
    return s.probe(0) !== s.rest;
  } catch {
    return true;
  }
}

/** Whether a wasm file served with another Content-Type was reported (once per page). */
let warnedType = false;

/**
 * Fetches the wasm module at `url` and compiles it, all within `timeoutMs` (none when it is not
 * above 0): the deadline runs from the request to the compiled module, so a server that sends its
 * headers and then stalls the body fails the load as one that never answers (the download is
 * aborted then). Compiled while it downloads when the server sends `application/wasm`. Throws
 * `LOAD_FAILED`; with `optional` (the SIMD build, which may not be deployed), any failure (a
 * request that fails, an error status, no answer or a stalled body within the time, a module that
 * does not compile) resolves to null instead, and the plain build is tried.
 */
async function compileFrom(url, timeoutMs, options) {
  const { optional = false } = record(options);
  const controller = typeof AbortController === 'function' ? new AbortController() : null;
  let answered = false;
  let timer = 0;
  const expired = new Promise((_, reject) => {
    if (!(timeoutMs > 0)) return;
    timer = setTimeout(() => {
      controller?.abort();
      const why = answered ? `the download did not complete within ${timeoutMs} ms` : `no answer within ${timeoutMs} ms`;
      reject(new ShopperIntentError('LOAD_FAILED', `could not fetch the wasm module ${url}: ${why}`));
    }, timeoutMs);
  });
  const work = (async () => {
    let response;
    try {
      response = await fetch(url, { credentials: 'same-origin', signal: controller?.signal });
    } catch (e) {
      if (optional) return null;
      throw new ShopperIntentError('LOAD_FAILED', `could not fetch the wasm module ${url}: ${e}`, { cause: e });
    }
    answered = true;
    if (!response.ok) {
      if (optional) return null;
      throw new ShopperIntentError('LOAD_FAILED', `could not fetch the wasm module ${url}: HTTP ${response.status}`);
    }
    try {
      // A page's fetch wrapper may answer with its own Response object (a polyfill's, or a Proxy),
      // which compileStreaming refuses before reading it: then the bytes are read whole.
      const native = typeof Response === 'function' && response instanceof Response;
      const type = native ? response.headers.get('Content-Type') || '' : '';
      if (native && !/application\/wasm/.test(type) && !warnedType) {
        warnedType = true;
        // Works, but a second or more later on a slow network: said once, so a shop can fix it.
        logWarn(`${TAG} the wasm module ${url} is served with ${type ? `Content-Type "${type.slice(0, 80)}"` : 'no Content-Type'}, not application/wasm: it is compiled only after the whole download. Serve .wasm files as application/wasm.`);
      }
      if (native && typeof WebAssembly.compileStreaming === 'function' && /application\/wasm/.test(type)) {
        try {
          return await WebAssembly.compileStreaming(response);
        } catch (e) {
          if (!(e instanceof TypeError) || response.bodyUsed) throw e;
        }
      }
      return await WebAssembly.compile(await response.arrayBuffer());
    } catch (e) {
      // The SIMD build that does not compile here: the plain one is tried.
      if (optional) return null;
      throw new ShopperIntentError('LOAD_FAILED', `could not instantiate the wasm module ${url}: ${e}`, { cause: e });
    }
  })();
  // Whichever loses the race is settled later, by no one's await.
  work.catch(() => {});
  expired.catch(() => {});
  try {
    return await race([work, expired]);
  } catch (e) {
    // The SIMD build that did not answer, or whose body stalled: the plain one is tried.
    if (optional) return null;
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The bindings file beside this module, as a literal `new URL(...)` that bundlers (Vite, webpack)
 * emit and rewrite, as they do the wasm files' URLs: a fresh copy of it re-creates a failed engine.
 */
const bindingsUrl = () => new URL('./pkg/shopper_intent_wasm.js', import.meta.url);

/**
 * Imports the bindings next to this module and instantiates the wasm module from `wasmUrl`.
 *
 * The wasm is fetched by us (so a 404 is reported as `LOAD_FAILED` with the URL) and compiled
 * with `WebAssembly.compileStreaming` when the server sends `application/wasm`: the module is
 * compiled while it downloads, off the main thread. `timeoutMs` bounds each download up to the
 * compiled module, its body included (`compileFrom`). Instantiation happens once per page; with
 * `fresh`, a new instance of the same compiled module is made behind a new copy of the bindings
 * (after the old instance trapped, its memory cannot be trusted). `wasmUrl` may also be the
 * module's bytes or a compiled `WebAssembly.Module` (for Node, where `fetch` reads no files).
 * `simd` is the SIMD build's URL; without it, the one `simdUrl` names beside `wasmUrl`.
 */
export function loadBindings(wasmUrl, options) {
  const { timeoutMs, fresh = false, simd: simdGiven } = record(options);
  if (fresh && compiled) {
    instances += 1;
    return (async () => {
      // The fresh copy of the bindings must be a separate module: from beside this file (the
      // package as published), else from beside the wasm (an app that bundled this file
      // elsewhere and serves the package's pkg/ folder with the wasm it names). URLs built at
      // run time, not literals, so that bundlers leave these imports alone.
      const tried = [];
      let why = null; // the last import's error
      for (const candidate of [bindingsUrl, () => new URL('./shopper_intent_wasm.js', new URL(wasmUrl, globalThis.document?.baseURI))]) {
        let url;
        try {
          // A relative wasm URL is the page's, as fetch() reads it.
          url = new URL(`?instance=${instances}`, candidate()).href;
        } catch {
          continue;
        }
        if (tried.includes(url)) continue;
        tried.push(url);
        let glue;
        try {
          glue = await import(/* webpackIgnore: true */ /* @vite-ignore */ url);
        } catch (e) {
          why = importError(e);
          continue;
        }
        let exports;
        try {
          exports = await glue.default({ module_or_path: compiled });
        } catch (e) {
          throw new ShopperIntentError('LOAD_FAILED', `could not instantiate the wasm module again: ${e}`, { cause: e });
        }
        // The bindings already in use (a bundler made the URL one module): their instance trapped.
        if (exports === exportsOfInstance) continue;
        exportsOfInstance = exports;
        watchStack(glue, exportsOfInstance);
        return glue;
      }
      throw new ShopperIntentError('LOAD_FAILED', `no fresh copy of the engine's bindings could be loaded (tried ${tried.join(', ') || 'no URL'}${why ? `; the last import failed: ${why}` : ''}); serve the package's pkg/shopper_intent_wasm.js beside the wasm file the widget loads`);
    })();
  }
  if (!bindingsPromise) {
    bindingsPromise = (async () => {
      const glue = FIRST_BINDINGS;
      if (typeof wasmUrl !== 'string') {
        try {
          compiled = wasmUrl instanceof WebAssembly.Module ? wasmUrl : await WebAssembly.compile(wasmUrl);
          exportsOfInstance = await glue.default({ module_or_path: compiled });
          watchStack(glue, exportsOfInstance);
        } catch (e) {
          throw new ShopperIntentError('LOAD_FAILED', `could not instantiate the given wasm module: ${e}`, { cause: e });
        }
        return glue;
      }
      // The SIMD build where the browser runs it; the plain one otherwise, or when the SIMD file
      // is not deployed beside it.
      const simd = simdSupported() ? simdGiven ?? simdUrl(wasmUrl) : null;
      const module = (simd ? await compileFrom(simd, timeoutMs, { optional: true }) : null) ?? await compileFrom(wasmUrl, timeoutMs);
      try {
        compiled = module;
        exportsOfInstance = await glue.default({ module_or_path: compiled });
        watchStack(glue, exportsOfInstance);
      } catch (e) {
        throw new ShopperIntentError('LOAD_FAILED', `could not instantiate the wasm module ${wasmUrl}: ${e}`, { cause: e });
      }
      return glue;
    })();
    // A failed load may be retried by a later `load()` (for instance after a network error).
    bindingsPromise.catch(() => { bindingsPromise = null; });
  }
  return bindingsPromise;
}

function broken(what) {
  return new ShopperIntentError('ENGINE_FAILED', `the engine returned ${what}`);
}

function num(v, what) {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw broken(`${what} that is not a finite number`);
  return v;
}

function str(v, what) {
  if (typeof v !== 'string') throw broken(`${what} that is not a string`);
  return v;
}

const SEGMENTS = new Set(['low', 'medium', 'high']);
function segment(v, what) {
  if (!SEGMENTS.has(v)) throw broken(`${what} that is not a segment`);
  return v;
}

/**
 * An answer of the engine, which crosses as JSON text (crate/wasm's interop.rs says why), parsed
 * into objects without a prototype; text that is not JSON is `ENGINE_FAILED`.
 */
function answer(text, what) {
  if (typeof text !== 'string') throw broken(`${what} that is not JSON text`);
  try {
    return parseOwn(text);
  } catch {
    throw broken(`${what} that is not JSON`);
  }
}

function list(v, what) {
  if (!Array.isArray(v)) throw broken(`${what} that is not an array`);
  return v;
}

/** An answer of the engine that is a list (JSON text of an array). */
const listAnswer = (text, what) => list(answer(text, what), what);

/**
 * The packed update the engine writes per event (crate/wasm's `pack_update`, at `updatePtr`): six numbers,
 * `[score, segment, previousSegment, flags, events, prefix]`, with segments 0 low, 1 medium,
 * 2 high and flags 1 segmentChanged, 2 converted, 4 ignored, 8 scored, 16 newSession.
 */
export const UPDATE_LAYOUT = Object.freeze(['score', 'segment', 'previousSegment', 'flags', 'events', 'prefix']);
const SEGMENT_NAMES = ['low', 'medium', 'high'];

/** Unpacks an update into a plain, frozen `Update`; anything else is `ENGINE_FAILED`. */
function plainUpdate(u) {
  if (!(u instanceof Float64Array) || u.length !== UPDATE_LAYOUT.length) throw broken('an update of the wrong shape');
  const [score, seg, prev, flags, events, prefix] = u;
  if (!(score >= 0 && score <= 1) || !Number.isInteger(flags) || flags < 0 || flags > 31
      || !Number.isInteger(events) || events < 0 || !Number.isInteger(prefix) || prefix < 0) {
    throw broken('an update with values out of range');
  }
  return Object.freeze({
    score,
    segment: segment(SEGMENT_NAMES[seg], 'a segment'),
    previousSegment: segment(SEGMENT_NAMES[prev], 'a previous segment'),
    segmentChanged: (flags & 1) !== 0,
    converted: (flags & 2) !== 0,
    ignored: (flags & 4) !== 0,
    scored: (flags & 8) !== 0,
    newSession: (flags & 16) !== 0,
    events,
    prefix,
  });
}

function plainThresholds(t, what) {
  if (!t || typeof t !== 'object') throw broken(`no ${what}`);
  return Object.freeze({ medium: num(t.medium, `${what}.medium`), high: num(t.high, `${what}.high`) });
}

/**
 * One engine instance: the rolling window and the model, behind plain-JS methods.
 * Every method either returns plain data or throws a `ShopperIntentError`.
 */
export class EngineHandle {
  constructor(engine, glue) {
    this._engine = engine;
    this._glue = glue;
    // Each event's update is read in place from the engine's memory (six f64 at `updatePtr`);
    // the view is made again whenever the memory has grown (which empties the old one).
    this._memory = memories.get(glue);
    this._updateAt = engine.updatePtr();
    this._update = null;
    const limits = glue.plainLimits();
    this._maxType = limits[0];
    this._maxId = limits[1];
  }

  /**
   * Builds an engine with the bindings' `EngineLoader`, one short step at a time, awaiting
   * `pause()` between steps so that loading never holds the main thread for long.
   *
   * @param glue the module returned by `loadBindings`
   * @param {Uint8Array} weights the weights file
   * @param {string} manifest manifest JSON text
   * @param {{salt: Uint8Array, utcOffsetMinutes?: number, hysteresis?: number,
   *          thresholds?: {medium: number, high: number}}} options
   * @param {() => Promise<void>} pause gives the main thread back (e.g. a macrotask)
   */
  static async create(glue, weights, manifest, options, pause) {
    if (trapped(glue)) throw new ShopperIntentError('ENGINE_FAILED', 'the wasm instance trapped before the engine was built');
    let loader;
    try {
      // Cold code runs slowly (wasm compiled lazily, on first call): the instantiation before,
      // the loader's constructor and its first step each get a task of their own.
      await pause();
      // A copy without a prototype: the engine reads only the options given, not the page's
      // Object.prototype.hysteresis.
      loader = new glue.EngineLoader(weights, manifest, record(options));
      await pause();
      while (!loader.step()) await pause();
      await pause();
      return new EngineHandle(loader.finish(), glue);
    } catch (e) {
      throw toError(e);
    } finally {
      try { loader?.free(); } catch { /* nothing left to free */ }
    }
  }

  _call(fn) {
    if (!this._engine) throw new ShopperIntentError('DESTROYED', 'the engine was freed');
    if (trapped(this._glue)) throw new ShopperIntentError('ENGINE_FAILED', 'the wasm instance trapped (its stack was left unwound)');
    try {
      return fn(this._engine);
    } catch (e) {
      throw toError(e);
    }
  }

  /**
   * Feeds one event (a plain copy with `ts`); returns a plain `Update`. Plain shapes (strings
   * within the engine's limits, numbers) cross as typed arguments; anything else goes as JS
   * values to the engine's thorough conversion, which names the field that is wrong.
   */
  track(ev) {
    const { type, ts, item, category, price, quantity, session } = ev;
    const plain = typeof type === 'string' && type.length <= this._maxType && typeof ts === 'number'
      && this._plainId(item) && this._plainId(category) && this._plainId(session)
      && (price == null || typeof price === 'number') && (quantity == null || typeof quantity === 'number');
    this._call((e) => (plain
      ? e.trackPlain(type, ts, item, category, price, quantity, session)
      : e.track(type, ts, item, category, price, quantity, session)));
    return plainUpdate(this._packedUpdate());
  }

  _plainId(v) {
    return v == null || (typeof v === 'string' && v.length <= this._maxId);
  }

  /** The engine's packed update of the last event, read in place. */
  _packedUpdate() {
    let u = this._update;
    if (!u || u.length === 0) {
      if (!this._memory) throw broken('no memory to read its update from');
      u = this._update = new Float64Array(this._memory.buffer, this._updateAt, UPDATE_LAYOUT.length);
    }
    return u;
  }

  get score() {
    return num(this._call((e) => e.score), 'a score');
  }

  get segment() {
    return segment(this._call((e) => e.segment), 'a segment');
  }

  /** The time of the newest event the engine holds (ms), or null before any. */
  get newestMs() {
    const t = this._call((e) => e.newestMs);
    if (typeof t !== 'number') throw broken(`a time that is not a number (${typeof t})`);
    return Number.isFinite(t) ? t : null;
  }

  /** Top factors behind the score: `[{factor, label, effect}]`, largest |effect| first. */
  explain() {
    return listAnswer(this._call((e) => e.explain()), 'factors').map((f) => Object.freeze({
      factor: str(f?.factor, 'a factor id'),
      label: str(f?.label, 'a factor label'),
      effect: num(f?.effect, 'a factor effect'),
    }));
  }

  /** The current session's score history: `[{position, type, score}]`. */
  history() {
    return listAnswer(this._call((e) => e.history()), 'a score history').map((p) => Object.freeze({
      position: num(p?.position, 'a position'),
      type: str(p?.type, 'an event type'),
      score: num(p?.score, 'a score'),
    }));
  }

  /** The segment thresholds in force: `{medium, high}`. */
  get thresholds() {
    return plainThresholds(answer(this._call((e) => e.thresholds), 'thresholds'), 'thresholds');
  }

  /** What the manifest says about the model. */
  get model() {
    const m = answer(this._call((e) => e.model), 'a model description');
    if (!m || typeof m !== 'object') throw broken('no model description');
    return Object.freeze({
      name: str(m.name, 'a model name'),
      featureVersion: num(m.featureVersion, 'a feature version'),
      window: num(m.window, 'a window'),
      kinds: Object.freeze(list(m.kinds, 'kinds').map((k) => str(k, 'a kind'))),
      hidden: num(m.hidden, 'a hidden size'),
      threshold: num(m.threshold, 'a threshold'),
      segments: plainThresholds(m.segments, 'segments'),
    });
  }

  /** @returns {Uint8Array} the serialized state (hashed ids, feature rows, LSTM state, salt). */
  exportState() {
    const bytes = this._call((e) => e.exportState());
    if (!(bytes instanceof Uint8Array)) throw broken('a state that is not bytes');
    return bytes;
  }

  /** Replaces the window with `bytes`; on `BAD_STATE` the engine is left unchanged. */
  restoreState(bytes, nowMs) {
    this._call((e) => e.restoreState(bytes, nowMs));
  }

  /** Wipes the window; ids are hashed with a new salt from now on. */
  forget() {
    this._call((e) => e.forget(crypto.getRandomValues(new Uint8Array(16))));
  }

  setThresholds(thresholds) {
    this._call((e) => e.setThresholds(record(thresholds)));
  }

  free() {
    const e = this._engine;
    this._engine = null;
    if (e) {
      try { e.free(); } catch { /* A trapped instance may fail to free; nothing is left to do. */ }
    }
  }
}

/** The engine's one table of event names: `[{vocabulary, name, kind}]`. */
export function eventTypes(glue) {
  try {
    return listAnswer(glue.eventTypes(), 'an event type table').map((t) => Object.freeze({
      vocabulary: str(t?.vocabulary, 'a vocabulary'),
      name: str(t?.name, 'a name'),
      kind: str(t?.kind, 'a kind'),
    }));
  } catch (e) {
    throw toError(e);
  }
}

/**
 * The value to report instead of the true one under k-ary randomized response, by the engine's
 * one implementation (crate/core's `privacy` module, exported by crate/wasm): `value` and the
 * answer are indices among `k` values; `u` and `v` are uniform numbers in [0, 1) drawn by the
 * caller (the engine reads no random source). A refused argument is `BAD_OPTIONS`.
 */
export function randomizedResponse(glue, value, k, epsilon, u, v) {
  if (trapped(glue)) throw new ShopperIntentError('ENGINE_FAILED', 'the wasm instance trapped (its stack was left unwound)');
  let answer;
  try {
    answer = glue.randomizedResponse(value, k, epsilon, u, v);
  } catch (e) {
    throw toError(e);
  }
  if (!Number.isInteger(answer) || answer < 0 || answer >= k) throw broken('a randomized report that is not one of the values');
  return answer;
}

/**
 * The engine's unbiased estimates of the true shares from counts of randomized reports, one
 * count per value: `[{share, se, lo, hi}]` in the order of the counts (`share` is the core's
 * `ShareEstimate.value`, π̂; `lo`, `hi` its 95% interval). A refused argument is `BAD_OPTIONS`.
 */
export function estimateRandomizedResponse(glue, counts, epsilon) {
  if (trapped(glue)) throw new ShopperIntentError('ENGINE_FAILED', 'the wasm instance trapped (its stack was left unwound)');
  let estimates;
  try {
    estimates = glue.estimateRandomizedResponse(Float64Array.from(counts), epsilon);
  } catch (e) {
    throw toError(e);
  }
  const out = listAnswer(estimates, 'estimates').map((x) => Object.freeze({
    share: num(x?.value, 'an estimated share'),
    se: num(x?.se, 'a standard error'),
    lo: num(x?.lo, 'an interval end'),
    hi: num(x?.hi, 'an interval end'),
  }));
  if (out.length !== counts.length) throw broken('estimates of the wrong length');
  return out;
}
