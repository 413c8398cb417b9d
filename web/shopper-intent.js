// shopper-intent: on-device purchase-intent scoring for storefronts.
//
// This module is the page-facing layer around the WebAssembly engine (crate/wasm, reached only
// through ./engine.js): loading, the queue of events before the engine is ready, hooks,
// persistence of the state, consent, and auto-capture from the shop's analytics calls.
//
// Invariants kept here:
// - Nothing thrown by this package reaches the page from `track()`, hooks, storage or loading:
//   bad input is a console warning and a `null` return, a failure to load is one console error.
// - Hooks run after the engine has returned, never inside it; an event tracked from inside a
//   hook is queued and processed once the current hooks have run.
// - The package makes no network request other than fetching its wasm module, the model and its
//   manifest. Events never leave the device; only the segment may be pushed to `dataLayer`,
//   and only when `dataLayerPush` is set.

import { loadBindings, EngineHandle, ShopperIntentError, toError } from './engine.js';
import { attachDataLayer, fromDataLayer, fromShopifyPixel, fromSegment, EVENT_TYPES } from './capture.js';

export { ShopperIntentError, fromDataLayer, fromShopifyPixel, fromSegment, EVENT_TYPES };

const TAG = '[shopper-intent]';
/** The storage key the state is saved under. */
export const STATE_KEY = 'shopper-intent:state';
/** Version of the JSON wrapper around the engine's binary state. */
const WRAPPER_VERSION = 1;
/** Events kept while the engine loads or consent is pending; the oldest are dropped beyond it. */
export const MAX_QUEUE = 256;
const SAVE_DELAY_MS = 250;
const DEFAULT_RETENTION_DAYS = 30;
/** Replaying queued events yields to the page after this much work, to stay off long tasks. */
const SLICE_MS = 8;
const MAX_ID_CHARS = 256;
const MODEL_CACHE = 'shopper-intent-model';
const SEGMENT_ATTRIBUTE = 'data-shopper-intent-segment';
const SEGMENT_EVENT = 'shopper-intent:segment';

const STORAGES = new Set(['local', 'session', 'memory']);
const CONSENTS = new Set(['granted', 'pending']);
const HOOKS = new Set(['score', 'segment']);

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Gives the main thread back to the page (input, rendering) before continuing. */
function yieldToMain() {
  if (typeof globalThis.scheduler?.yield === 'function') return globalThis.scheduler.yield();
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}

/** Standard base64 of bytes. */
export function toBase64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Bytes of standard base64; throws on anything else. */
export function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** 32-bit FNV-1a of a string, as 8 hex digits: a cache version, not a security measure. */
function fnv1a(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

function describe(value) {
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  return `a value of type ${typeof value}`;
}

const invalid = (message) => new ShopperIntentError('INVALID_EVENT', message);

function checkId(name, value) {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') throw invalid(`${name} must be a string or a finite number, got ${describe(value)}`);
  if (value.length > MAX_ID_CHARS) throw invalid(`${name} is longer than ${MAX_ID_CHARS} characters (${value.length})`);
  return value;
}

function checkAmount(name, value, integer) {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalid(`${name} must be a finite number >= 0, got ${describe(value)}`);
  }
  if (integer && !Number.isInteger(value)) throw invalid(`${name} must be a whole number, got ${value}`);
  return value;
}

/**
 * Checks the shape of an event and copies its known fields into a new plain object, filling
 * `ts` with `Date.now()` when absent. Values are checked by the engine (kinds, time range,
 * order); only what cannot cross into wasm cleanly is refused here.
 * @throws {ShopperIntentError} code `INVALID_EVENT`
 */
export function normalizeEvent(input) {
  if (input === null || typeof input !== 'object') throw invalid(`an event must be an object, got ${describe(input)}`);
  let type, ts, item, category, price, quantity;
  try {
    ({ type, ts, item, category, price, quantity } = input);
  } catch (e) {
    throw invalid(`the event's fields cannot be read: ${e}`);
  }
  if (typeof type !== 'string' || type === '') throw invalid(`type must be a non-empty string, got ${describe(type)}`);
  if (type.length > 64) throw invalid(`type is longer than 64 characters (${type.length})`);
  if (ts === undefined || ts === null) ts = Date.now();
  else if (ts instanceof Date) ts = ts.getTime();
  if (typeof ts !== 'number' || !Number.isFinite(ts)) throw invalid(`ts must be milliseconds since the epoch, got ${describe(ts)}`);
  const event = { type, ts: Math.round(ts) };
  item = checkId('item', item);
  category = checkId('category', category);
  price = checkAmount('price', price, false);
  quantity = checkAmount('quantity', quantity, true);
  if (item !== undefined) event.item = item;
  if (category !== undefined) event.category = category;
  if (price !== undefined) event.price = price;
  if (quantity !== undefined) event.quantity = quantity;
  return event;
}

// ---------------------------------------------------------------------------------------------
// Storage

/**
 * Where the state lives: `localStorage`, `sessionStorage` or this page's memory.
 * Any storage error (disabled storage, SecurityError, quota) switches to memory for the rest of
 * the page, with one warning.
 */
class StateStore {
  constructor(kind) {
    this.kind = kind;
    this._memory = null;
    this._storage = null;
    if (kind !== 'memory') {
      try {
        this._storage = kind === 'local' ? window.localStorage : window.sessionStorage;
        if (!this._storage) throw new Error('the storage is not available');
      } catch (e) {
        this._fallBack(e);
      }
    }
  }

  _fallBack(e) {
    console.warn(`${TAG} ${this.kind}Storage cannot be used (${e && e.name ? e.name + ': ' : ''}${e && e.message ? e.message : e}); the state is kept in memory for this page only`);
    this.kind = 'memory';
    this._storage = null;
  }

  read() {
    if (this._storage) {
      try {
        return this._storage.getItem(STATE_KEY);
      } catch (e) {
        this._fallBack(e);
      }
    }
    return this._memory;
  }

  write(text) {
    if (this._storage) {
      try {
        this._storage.setItem(STATE_KEY, text);
        return;
      } catch (e) {
        this._fallBack(e);
      }
    }
    this._memory = text;
  }

  remove() {
    this._memory = null;
    if (this._storage) {
      try {
        this._storage.removeItem(STATE_KEY);
      } catch (e) {
        this._fallBack(e);
      }
    }
  }
}

/** Parses the JSON wrapper `{v, savedAt, expiresAt, state}`; throws with the reason. */
function parseWrapper(text, nowMs) {
  let w;
  try {
    w = JSON.parse(text);
  } catch {
    throw new Error('it is not JSON');
  }
  if (!w || typeof w !== 'object') throw new Error('it is not a state wrapper');
  if (w.v !== WRAPPER_VERSION) throw new Error(`its version is ${describe(w.v)}, not ${WRAPPER_VERSION}`);
  if (!Number.isFinite(w.savedAt) || !Number.isFinite(w.expiresAt) || typeof w.state !== 'string') {
    throw new Error('it lacks savedAt, expiresAt or state');
  }
  if (w.expiresAt <= nowMs) throw new Error(`it expired at ${new Date(w.expiresAt).toISOString()}`);
  let bytes;
  try {
    bytes = fromBase64(w.state);
  } catch {
    throw new Error('its state is not base64');
  }
  return { savedAt: w.savedAt, expiresAt: w.expiresAt, bytes };
}

// ---------------------------------------------------------------------------------------------
// Loading the model

/**
 * Fetches the manifest (revalidated on every load: it is small) and the model. The model is
 * kept in the Cache API under a key made from the manifest's digest, so it is downloaded once
 * per model version; where the Cache API is missing or fails, the HTTP cache is used.
 */
async function fetchModel(modelUrl, manifestUrl, useCache) {
  const get = async (url, what, cache) => {
    let res;
    try {
      res = await fetch(url, { credentials: 'same-origin', cache });
    } catch (e) {
      throw new ShopperIntentError('LOAD_FAILED', `could not fetch the ${what} ${url}: ${e}`, { cause: e });
    }
    if (!res.ok) throw new ShopperIntentError('LOAD_FAILED', `could not fetch the ${what} ${url}: HTTP ${res.status}`);
    return res;
  };
  const manifest = await (await get(manifestUrl, 'manifest', 'no-cache')).text();
  const url = new URL(modelUrl, document.baseURI);
  const key = new URL(url);
  key.searchParams.set('shopper-intent-manifest', fnv1a(manifest));
  let cache = null;
  if (useCache && typeof caches !== 'undefined') {
    try {
      cache = await caches.open(MODEL_CACHE);
      const hit = await cache.match(key.href);
      if (hit) return { model: new Uint8Array(await hit.arrayBuffer()), manifest };
    } catch {
      cache = null; // Opaque origins and some private modes refuse the Cache API.
    }
  }
  const res = await get(url.href, 'model', 'default');
  const model = new Uint8Array(await res.arrayBuffer());
  if (cache) {
    const stored = new Response(model, { headers: { 'Content-Type': 'application/octet-stream' } });
    cache.put(key.href, stored)
      .then(() => cache.keys())
      .then((keys) => Promise.all(keys
        .filter((k) => { const u = new URL(k.url); u.search = ''; return u.href === url.href.split('?')[0] && k.url !== key.href; })
        .map((k) => cache.delete(k))))
      .catch(() => {});
  }
  return { model, manifest };
}

function replaceExtension(url, ext) {
  return url.replace(/\.onnx(?=$|[?#])/, ext);
}

// ---------------------------------------------------------------------------------------------
// The widget

/**
 * The intent widget of one page. Make it with `ShopperIntent.load(options)` (resolves once the
 * engine is ready) or `ShopperIntent.create(options)` (returns at once; events are queued).
 */
export class ShopperIntent {
  /** Creates the widget and starts loading the engine; resolves when it is ready or has failed. */
  static load(options = {}) {
    return ShopperIntent.create(options).ready;
  }

  /** Creates the widget at once; `intent.ready` resolves when the engine is ready or has failed. */
  static create(options = {}) {
    return new ShopperIntent(options);
  }

  constructor(options = {}) {
    const o = options && typeof options === 'object' ? options : {};
    const here = import.meta.url;
    this._modelUrl = typeof o.model === 'string' ? o.model : null;
    this._manifestUrl = typeof o.manifest === 'string' ? o.manifest : this._modelUrl && replaceExtension(this._modelUrl, '.json');
    this._wasmUrl = typeof o.wasm === 'string' ? o.wasm : new URL('./pkg/shopper_intent_wasm_bg.wasm', here).href;
    this._engineOptions = {
      utcOffsetMinutes: o.utcOffsetMinutes,
      hysteresis: o.hysteresis,
      thresholds: o.thresholds,
    };
    this._retentionMs = (Number.isFinite(o.retentionDays) && o.retentionDays > 0 ? o.retentionDays : DEFAULT_RETENTION_DAYS) * 86_400_000;
    this._modelCache = o.modelCache !== false;
    this._dataLayerPush = o.dataLayerPush === true;

    let storage = o.storage ?? 'session';
    if (!STORAGES.has(storage)) {
      console.warn(`${TAG} unknown storage ${describe(storage)}; using 'session'`);
      storage = 'session';
    }
    if (storage !== 'memory' && typeof navigator !== 'undefined' && navigator.globalPrivacyControl === true) {
      console.info(`${TAG} Global Privacy Control is on: the state is kept in memory for this page only`);
      storage = 'memory';
    }
    this._store = new StateStore(storage);

    let consent = o.consent ?? 'granted';
    if (!CONSENTS.has(consent)) {
      console.warn(`${TAG} unknown consent ${describe(consent)}; using 'pending'`);
      consent = 'pending';
    }
    this._consent = consent;

    /** @type {'loading' | 'ready' | 'failed' | 'destroyed'} */
    this._status = 'loading';
    this._error = null;
    this._engine = null;
    this._queue = [];
    this._overflowWarned = false;
    this._dispatching = false;
    this._replaying = false;
    this._hooks = { score: new Set(), segment: new Set() };
    this._saveTimer = 0;
    this._dirty = false;
    this._lastSegment = 'low';
    this._thresholds = null;
    this._model = null;
    /** Where loading spent its time (ms since start): read by the benchmark page. */
    this._timings = null;

    this._onPageHide = () => this._flush();
    this._onVisibility = () => { if (document.visibilityState === 'hidden') this._flush(); };
    addEventListener('pagehide', this._onPageHide);
    document.addEventListener('visibilitychange', this._onVisibility);

    this._detachDataLayer = null;
    if (o.autoCapture !== false) {
      try {
        this._detachDataLayer = attachDataLayer(window, (ev) => this.track(ev),
          (e) => console.warn(`${TAG} a dataLayer entry could not be read:`, e));
      } catch (e) {
        console.warn(`${TAG} window.dataLayer cannot be read (${e}); auto-capture is off`);
      }
    }

    this.ready = new Promise((resolve) => { this._resolveReady = resolve; });
    if (!this._modelUrl) {
      this._fail(new ShopperIntentError('BAD_OPTIONS', "the 'model' option (URL of the ONNX model) is required"));
    } else if (o.start === 'idle') {
      whenIdle(() => this._start());
    } else {
      this._start();
    }
  }

  /** `'loading'`, `'ready'`, `'failed'` (see `error`) or `'destroyed'`. */
  get status() { return this._status; }

  /** Why loading failed (`{code, message}`), or `null`. */
  get error() { return this._error; }

  /** Where the state is kept: `'local'`, `'session'` or `'memory'` (after any fallback). */
  get storage() { return this._store.kind; }

  /** `'granted'` or `'pending'`. */
  get consent() { return this._consent; }

  /** The segment thresholds in use (`{medium, high}`), or `null` until the engine is ready. */
  get thresholds() { return this._thresholds; }

  /** The model's manifest summary (`{name, window, kinds, threshold, segments}`), or `null`. */
  get model() { return this._model; }

  /** The probability of a purchase in this session, in [0, 1]; 0 until the engine is ready. */
  get score() {
    if (this._status !== 'ready') return 0;
    try { return this._engine.score; } catch (e) { this._broken(e); return 0; }
  }

  /** `'low'`, `'medium'` or `'high'`; `'low'` until the engine is ready. */
  get segment() {
    if (this._status !== 'ready') return 'low';
    try { return this._engine.segment; } catch (e) { this._broken(e); return 'low'; }
  }

  /**
   * Tracks one event. Returns the engine's `Update`, or `null` when the event was refused (with
   * a console warning naming the error code) or queued (engine loading, consent pending, or
   * called from inside a hook). Never throws.
   */
  track(input) {
    if (this._status === 'destroyed' || this._status === 'failed') return null;
    let event;
    try {
      event = normalizeEvent(input);
    } catch (e) {
      const err = toError(e);
      console.warn(`${TAG} event refused (${err.code}): ${err.message}`);
      return null;
    }
    if (this._status !== 'ready' || this._consent !== 'granted' || this._dispatching || this._replaying) {
      this._enqueue(event);
      return null;
    }
    this._drainNow();
    if (this._status !== 'ready') return null;
    const update = this._process(event);
    this._drainNow();
    return update;
  }

  /**
   * Registers a hook: `'score'` runs after every event that changed the window, `'segment'`
   * exactly when the segment changes. Returns the function that unregisters it.
   */
  on(name, callback) {
    if (!HOOKS.has(name) || typeof callback !== 'function') {
      console.warn(`${TAG} on(${describe(name)}, ...) ignored: the hooks are 'score' and 'segment', with a function`);
      return () => {};
    }
    const set = this._hooks[name];
    const entry = (detail) => callback(detail); // A callback registered twice runs twice.
    set.add(entry);
    return () => { set.delete(entry); };
  }

  /** The factors behind the current score, largest effect first; `[]` before the first event. */
  explain() {
    if (this._status !== 'ready') return [];
    try { return this._engine.explain(); } catch (e) { this._broken(e); return []; }
  }

  /** The current session's events and scores: `[{position, type, score}]`. */
  history() {
    if (this._status !== 'ready') return [];
    try { return this._engine.history(); } catch (e) { this._broken(e); return []; }
  }

  /**
   * What is stored right now: `{storage, key, size, savedAt, expiresAt, state}` (`size` in
   * characters of the stored text, `state` the engine's binary state), or `null`.
   */
  storedState() {
    if (this._consent !== 'granted') return null;
    const text = this._store.read();
    if (text === null) return null;
    try {
      const w = parseWrapper(text, Date.now());
      return { storage: this._store.kind, key: STATE_KEY, size: text.length, savedAt: w.savedAt, expiresAt: w.expiresAt, state: w.bytes };
    } catch {
      return null;
    }
  }

  /**
   * Lifts the hold of `consent: 'pending'`: restores the stored state and tracks the queued
   * events.
   */
  grantConsent() {
    if (this._consent === 'granted' || this._status === 'destroyed') return;
    this._consent = 'granted';
    if (this._status === 'ready') {
      this._restore();
      this._replay();
    }
    // While loading, `_start` restores and replays once the engine is ready.
  }

  /** Wipes the window, the history summary, the stored state and the queued events. */
  forget() {
    if (this._status === 'destroyed') return;
    this._queue.length = 0;
    clearTimeout(this._saveTimer);
    this._dirty = false;
    this._store.remove();
    if (this._status !== 'ready') return;
    const previous = this._lastSegment;
    try {
      this._engine.forget();
    } catch (e) {
      this._broken(e);
      return;
    }
    const segment = this.segment;
    if (segment !== previous) this._segmentChanged(segment, previous, this.score, 'forget');
  }

  /** Saves the state, detaches from the page and frees the engine. Later calls do nothing. */
  destroy() {
    if (this._status === 'destroyed') return;
    this._flush();
    removeEventListener('pagehide', this._onPageHide);
    document.removeEventListener('visibilitychange', this._onVisibility);
    if (this._detachDataLayer) this._detachDataLayer();
    this._detachDataLayer = null;
    this._hooks.score.clear();
    this._hooks.segment.clear();
    this._queue.length = 0;
    document.documentElement.removeAttribute(SEGMENT_ATTRIBUTE);
    if (this._engine) this._engine.free();
    this._engine = null;
    this._status = 'destroyed';
    this._resolveReady(this);
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  async _start() {
    const t0 = performance.now();
    const timings = (this._timings = {});
    try {
      const [glue, { model, manifest }] = await Promise.all([
        loadBindings(this._wasmUrl).then((g) => { timings.wasmMs = performance.now() - t0; return g; }),
        fetchModel(this._modelUrl, this._manifestUrl, this._modelCache).then((m) => { timings.modelMs = performance.now() - t0; return m; }),
      ]);
      if (this._status === 'destroyed') return;
      await yieldToMain();
      const salt = crypto.getRandomValues(new Uint8Array(16));
      const t1 = performance.now();
      const engine = await EngineHandle.create(glue, model, manifest, { salt, ...this._engineOptions }, yieldToMain);
      timings.engineMs = performance.now() - t1;
      try {
        this._thresholds = engine.thresholds;
        this._model = engine.model;
      } catch {
        this._thresholds = readThresholds(this._engineOptions.thresholds, manifest);
      }
      if (this._status === 'destroyed') { engine.free(); return; }
      this._engine = engine;
      this._status = 'ready';
      await yieldToMain();
      if (this._status !== 'ready') return;
      document.documentElement.setAttribute(SEGMENT_ATTRIBUTE, this._lastSegment);
      const t2 = performance.now();
      if (this._consent === 'granted') this._restore();
      timings.restoreMs = performance.now() - t2;
      await this._replay();
      timings.readyMs = performance.now() - t0;
    } catch (e) {
      this._fail(toError(e));
    }
    this._resolveReady(this);
  }

  _fail(err) {
    if (this._status === 'destroyed') return;
    this._status = 'failed';
    this._error = Object.freeze({ code: err.code, message: err.message });
    this._queue.length = 0;
    if (this._engine) this._engine.free();
    this._engine = null;
    console.error(`${TAG} not started (${err.code}): ${err.message}. The page works on without intent scores.`);
    this._resolveReady(this);
  }

  /** The engine broke outside its contract (a trap): stop using it, keep the page working. */
  _broken(e) {
    const err = toError(e);
    if (err.code === 'ENGINE_FAILED' || err.code === 'DESTROYED') this._fail(err);
    return err;
  }

  _restore() {
    const text = this._store.read();
    if (text === null) return;
    const now = Date.now();
    try {
      const w = parseWrapper(text, now);
      this._engine.restoreState(w.bytes, now);
    } catch (e) {
      const err = e instanceof ShopperIntentError ? e : null;
      if (err && err.code !== 'BAD_STATE') { this._broken(err); return; }
      console.warn(`${TAG} the stored state was discarded: ${err ? `${err.code}: ${err.message}` : e.message}`);
      this._store.remove();
      return;
    }
    const segment = this.segment;
    if (this._status === 'ready' && segment !== this._lastSegment) {
      this._segmentChanged(segment, this._lastSegment, this.score, 'restore');
    }
  }

  _enqueue(event) {
    if (this._queue.length >= MAX_QUEUE) {
      this._queue.shift();
      if (!this._overflowWarned) {
        this._overflowWarned = true;
        console.warn(`${TAG} more than ${MAX_QUEUE} events are waiting; the oldest are dropped`);
      }
    }
    this._queue.push(event);
  }

  /** Tracks one checked event and runs the hooks; returns the `Update` or `null`. */
  _process(event) {
    let update;
    try {
      update = this._engine.track(event);
    } catch (e) {
      const err = this._broken(e);
      if (this._status === 'ready') console.warn(`${TAG} event refused (${err.code}): ${err.message}`);
      return null;
    }
    if (!update.ignored) {
      this._dirty = true;
      this._scheduleSave();
    }
    this._dispatching = true;
    try {
      if (!update.ignored) {
        this._emit('score', Object.freeze({ score: update.score, segment: update.segment, type: event.type, update }));
      }
      if (update.segmentChanged) this._segmentChanged(update.segment, update.previousSegment, update.score, 'event');
    } finally {
      this._dispatching = false;
    }
    return update;
  }

  /** Processes events queued from inside hooks, right after the hooks have returned. */
  _drainNow() {
    while (this._queue.length > 0 && this._status === 'ready' && this._consent === 'granted' && !this._dispatching) {
      this._process(this._queue.shift());
    }
  }

  /** Replays the queue in slices of about `SLICE_MS`, giving the page the main thread between. */
  async _replay() {
    if (this._replaying) return;
    this._replaying = true;
    try {
      let sliceStart = performance.now();
      while (this._queue.length > 0 && this._status === 'ready' && this._consent === 'granted') {
        this._process(this._queue.shift());
        if (performance.now() - sliceStart > SLICE_MS) {
          await yieldToMain();
          sliceStart = performance.now();
        }
      }
    } finally {
      this._replaying = false;
    }
  }

  _segmentChanged(segment, previousSegment, score, cause) {
    this._lastSegment = segment;
    document.documentElement.setAttribute(SEGMENT_ATTRIBUTE, segment);
    const detail = Object.freeze({ segment, previousSegment, score, cause });
    const wasDispatching = this._dispatching;
    this._dispatching = true;
    try {
      this._emit('segment', detail);
      dispatchEvent(new CustomEvent(SEGMENT_EVENT, { detail }));
      if (this._dataLayerPush) {
        try {
          (window.dataLayer = window.dataLayer || []).push({ event: 'shopper_intent_segment', shopper_intent_segment: segment });
        } catch (e) {
          console.error(`${TAG} pushing the segment to dataLayer failed:`, e);
        }
      }
    } finally {
      this._dispatching = wasDispatching;
    }
    if (!wasDispatching) this._drainNow();
  }

  _emit(name, detail) {
    for (const hook of [...this._hooks[name]]) {
      try {
        hook(detail);
      } catch (e) {
        console.error(`${TAG} a '${name}' hook threw; the widget keeps working.`, e);
      }
    }
  }

  _scheduleSave() {
    if (this._consent !== 'granted') return;
    clearTimeout(this._saveTimer);
    this._saveTimer = setTimeout(() => this._flush(), SAVE_DELAY_MS);
  }

  /** Writes the state now if it changed since the last save. */
  _flush() {
    clearTimeout(this._saveTimer);
    if (!this._dirty || this._status !== 'ready' || this._consent !== 'granted') return;
    this._dirty = false;
    const now = Date.now();
    let bytes;
    try {
      bytes = this._engine.exportState(now);
    } catch (e) {
      const err = this._broken(e);
      if (this._status === 'ready') console.warn(`${TAG} the state could not be saved (${err.code}): ${err.message}`);
      return;
    }
    const text = JSON.stringify({ v: WRAPPER_VERSION, savedAt: now, expiresAt: now + this._retentionMs, state: toBase64(bytes) });
    this._store.write(text);
  }
}

/** The thresholds given as options, else the manifest's `segments`, else `null`. */
function readThresholds(given, manifest) {
  const ok = (t) => t && Number.isFinite(t.medium) && Number.isFinite(t.high);
  if (ok(given)) return Object.freeze({ medium: given.medium, high: given.high });
  try {
    const m = JSON.parse(manifest);
    if (ok(m.segments)) return Object.freeze({ medium: m.segments.medium, high: m.segments.high });
  } catch {
    // The engine accepted the manifest; a display-only reading of it may still fail.
  }
  return null;
}

/** Runs `fn` once the page has loaded and the main thread is idle (or after 3 s at most). */
export function whenIdle(fn) {
  const idle = () => {
    if (typeof requestIdleCallback === 'function') requestIdleCallback(() => fn(), { timeout: 3000 });
    else setTimeout(fn, 1);
  };
  if (document.readyState === 'complete') idle();
  else addEventListener('load', idle, { once: true });
}

export default ShopperIntent;
