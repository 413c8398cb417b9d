// The only module that knows the wasm-bindgen bindings of crate/wasm.
//
// Everything the rest of the package needs from the engine goes through `loadBindings` and
// `EngineHandle`; if an export of `web/pkg/shopper_intent_wasm.js` is renamed, this file is the
// one to change. Values coming out of wasm are copied into plain objects here, so no
// wasm-bindgen class ever escapes to the page (and none is left for the page to `free()`).

/** Error codes the engine (crate/wasm) throws, as `IntentError.code`. */
export const ENGINE_CODES = new Set([
  'INVALID_EVENT',
  'OUT_OF_ORDER',
  'BAD_STATE',
  'BAD_MODEL',
  'MANIFEST_MISMATCH',
  'BAD_OPTIONS',
]);

/**
 * An error of the package, matched by `code`, never by message text.
 *
 * Engine codes are those of `ENGINE_CODES`; the JS layer adds `LOAD_FAILED` (a fetch failed),
 * `ENGINE_FAILED` (the wasm instance trapped or behaved outside its contract) and `DESTROYED`.
 */
export class ShopperIntentError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'ShopperIntentError';
    this.code = code;
  }
}

/**
 * Turns anything thrown by the bindings into a `ShopperIntentError`.
 * An `IntentError` keeps its code; anything else (a trap, a `TypeError` from the glue) becomes
 * `ENGINE_FAILED`, which the caller treats as fatal for this engine instance.
 */
export function toError(e) {
  if (e instanceof ShopperIntentError) return e;
  const code = e && typeof e === 'object' && typeof e.code === 'string' ? e.code : '';
  const message = e && typeof e === 'object' && typeof e.message === 'string' ? e.message : String(e);
  if (ENGINE_CODES.has(code)) return new ShopperIntentError(code, message, { cause: e });
  return new ShopperIntentError('ENGINE_FAILED', message, { cause: e });
}

let bindingsPromise = null;

/**
 * Imports the bindings next to this module and instantiates the wasm module from `wasmUrl`.
 *
 * The wasm is fetched by us (so a 404 is reported as `LOAD_FAILED` with the URL) and the
 * `Response` is handed to wasm-bindgen's `init`, which compiles it with
 * `WebAssembly.instantiateStreaming` when the server sends `application/wasm`: the module is
 * compiled while it downloads, off the main thread. Instantiation happens once per page.
 */
export function loadBindings(wasmUrl) {
  if (!bindingsPromise) {
    bindingsPromise = (async () => {
      const glue = await import('./pkg/shopper_intent_wasm.js');
      let response;
      try {
        response = await fetch(wasmUrl, { credentials: 'same-origin' });
      } catch (e) {
        throw new ShopperIntentError('LOAD_FAILED', `could not fetch the wasm module ${wasmUrl}: ${e}`, { cause: e });
      }
      if (!response.ok) {
        throw new ShopperIntentError('LOAD_FAILED', `could not fetch the wasm module ${wasmUrl}: HTTP ${response.status}`);
      }
      try {
        await glue.default({ module_or_path: response });
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

const num = (v, fallback = 0) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const str = (v, fallback = '') => (typeof v === 'string' ? v : fallback);

/** Copies an `Update` out of the bindings into a plain, frozen object. */
function plainUpdate(u) {
  const out = Object.freeze({
    score: num(u.score),
    segment: str(u.segment, 'low'),
    previousSegment: str(u.previousSegment, 'low'),
    segmentChanged: Boolean(u.segmentChanged),
    converted: Boolean(u.converted),
    ignored: Boolean(u.ignored),
    newSession: Boolean(u.newSession),
    events: num(u.events),
  });
  if (typeof u.free === 'function') u.free();
  return out;
}

/**
 * One engine instance: the rolling window and the model, behind plain-JS methods.
 * Every method either returns plain data or throws a `ShopperIntentError`.
 */
export class EngineHandle {
  /**
   * @param glue the module returned by `loadBindings`
   * @param {Uint8Array} model ONNX bytes
   * @param {string} manifest manifest JSON text
   * @param {{salt: Uint8Array, utcOffsetMinutes?: number, hysteresis?: number,
   *          thresholds?: {medium: number, high: number}}} options
   */
  constructor(engine) {
    this._engine = engine;
  }

  /**
   * Builds an engine with the bindings' `EngineLoader`, one short step at a time, awaiting
   * `pause()` between steps so that loading never holds the main thread for long: tract parses
   * and optimizes the model in several steps, and V8 compiles each step's code as it first runs.
   *
   * @param {() => Promise<void>} pause gives the main thread back (e.g. a macrotask)
   */
  static async create(glue, model, manifest, options, pause) {
    const opts = { salt: options.salt };
    if (options.utcOffsetMinutes !== undefined) opts.utcOffsetMinutes = options.utcOffsetMinutes;
    if (options.hysteresis !== undefined) opts.hysteresis = options.hysteresis;
    if (options.thresholds !== undefined) opts.thresholds = { medium: options.thresholds.medium, high: options.thresholds.high };
    let loader;
    try {
      loader = new glue.EngineLoader(model, manifest, opts);
      while (!loader.step()) await pause();
      await pause();
      return new EngineHandle(loader.finish());
    } catch (e) {
      throw toError(e);
    } finally {
      loader?.free();
    }
  }

  _call(fn) {
    if (!this._engine) throw new ShopperIntentError('DESTROYED', 'the engine was freed');
    try {
      return fn(this._engine);
    } catch (e) {
      throw toError(e);
    }
  }

  /** Feeds one event (already shaped as an `IntentEvent`); returns a plain `Update`. */
  track(event) {
    return this._call((e) => plainUpdate(e.track(event)));
  }

  get score() {
    return this._call((e) => num(e.score));
  }

  get segment() {
    return this._call((e) => str(e.segment, 'low'));
  }

  /** Top factors behind the score: `[{factor, label, effect}]`, largest |effect| first. */
  explain() {
    return this._call((e) => Array.from(e.explain() ?? [], (f) => Object.freeze({
      factor: str(f.factor),
      label: str(f.label, str(f.factor)),
      effect: num(f.effect),
    })));
  }

  /** The current session's scores: `[{position, type, score}]`, position from 0 in the session. */
  history() {
    return this._call((e) => Array.from(e.history() ?? [], (p, i) => Object.freeze({
      position: num(p.position, i),
      type: str(p.type),
      score: num(p.score),
    })));
  }

  /** The segment thresholds in force: `{medium, high}`. */
  get thresholds() {
    return this._call((e) => {
      const t = e.thresholds;
      return Object.freeze({ medium: num(t?.medium), high: num(t?.high) });
    });
  }

  /** What the manifest says about the model: `{name, window, kinds, threshold, segments}`. */
  get model() {
    return this._call((e) => {
      const m = e.model ?? {};
      return Object.freeze({
        name: str(m.name),
        window: num(m.window),
        kinds: Object.freeze(Array.from(m.kinds ?? [], String)),
        threshold: num(m.threshold),
        segments: Object.freeze({ medium: num(m.segments?.medium), high: num(m.segments?.high) }),
      });
    });
  }

  /** @returns {Uint8Array} the serialized state (hashed ids, feature rows, salt). */
  exportState(nowMs) {
    return this._call((e) => {
      const bytes = e.exportState(nowMs);
      return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    });
  }

  /** Replaces the window with `bytes`; on `BAD_STATE` the engine is left unchanged. */
  restoreState(bytes, nowMs) {
    this._call((e) => e.restoreState(bytes, nowMs));
  }

  forget() {
    this._call((e) => e.forget());
  }

  setThresholds(medium, high) {
    this._call((e) => e.setThresholds(medium, high));
  }

  free() {
    const e = this._engine;
    this._engine = null;
    if (e) {
      try { e.free(); } catch { /* A trapped instance may fail to free; nothing is left to do. */ }
    }
  }
}
