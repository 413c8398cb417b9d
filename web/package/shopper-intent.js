// shopper-intent: on-device purchase-intent scoring for storefronts.
//
// This module is the facade a storefront imports. The work is done by the modules beside it:
//   engine.js       the only module that touches the wasm bindings (crate/wasm)
//   queue.js        the event queue and the one state that decides when an event is processed
//   hooks.js        hooks by name
//   storage.js      storage backends and the saved-state format
//   model-fetch.js  fetching and caching the model
//   experiments.js  on-device experiments
//   reports.js      randomized response: private reports of the segment or a variant
//   capture.js      GA4 dataLayer / gtag, Shopify and Segment mappers
//   schedule.js     yielding to the page
//
// Invariants kept here:
// - Nothing thrown by this package reaches the page from `track()`, hooks, storage or loading:
//   bad input is a console warning and a `null` return, a failure to load is one console error.
// - Hooks run after the engine has returned, never inside it; an event tracked from inside a
//   hook is queued and processed once the current hooks have run.
// - The package makes no network request other than fetching its wasm module, the model and its
//   manifest. Events never leave the device; only the segment and experiment assignments may be
//   pushed to `dataLayer`, and only when `dataLayerPush` is set. Randomized reports are returned
//   to the page, never sent by the package.

import { loadBindings, EngineHandle, ShopperIntentError, isShopperIntentError, toError, estimateRandomizedResponse, SESSION_GAP_MS, STALE_STATE } from './engine.js';
import { attachDataLayer, DataLayerLocked, fromDataLayer, fromShopifyPixel, fromSegment, EVENT_TYPES, pageShared } from './capture.js';
import { EventQueue, MAX_QUEUE } from './queue.js';
import { Hooks, HOOK_NAMES } from './hooks.js';
import { ANSWER_WAIT_MS, StateStore, STATE_KEY, resolveBackend, memoryStore, removeFromWebStorage } from './storage.js';
import { fetchModel, DEFAULT_FETCH_TIMEOUT_MS } from './model-fetch.js';
import { Experiments, HOLDOUT } from './experiments.js';
import { yieldToMain, whenIdle, SLICE_MS, MAX_TIMER_MS, all, race, monotonicMs } from './schedule.js';
import { PrivateReports, SEGMENT, SEGMENT_VALUES, NOT_ENTERED, epsilonOption, experimentValues, countsOption } from './reports.js';
import { TAG, logWarn, logError, logInfo, errorName, limitedWarn, lookalike } from './log.js';
import { field, record, sum, isThenable } from './fields.js';

export { ShopperIntentError, fromDataLayer, fromShopifyPixel, fromSegment, EVENT_TYPES, STATE_KEY, MAX_QUEUE, HOLDOUT, NOT_ENTERED, memoryStore };
// Diagnostics (benchmarks, support): the engine's wasm memory and whether the SIMD build runs here.
export { wasmMemoryBytes, simdSupported } from './engine.js';

/** What `_recheckStored` gets from a read that did not answer in time. */
const LATE = Symbol('late');
const SAVE_DELAY_MS = 250;

/** A span of time for a message: minutes, hours or days. */
const span = (ms) => (ms < 90 * 60_000 ? `${Math.round(ms / 60_000)} minutes`
  : ms < 48 * 3600e3 ? `${Math.round(ms / 3600e3)} hours` : `${Math.round(ms / 86_400e3)} days`);
const DEFAULT_RETENTION_DAYS = 30;
const SEGMENT_ATTRIBUTE = 'data-shopper-intent-segment';

/**
 * Sets attribute `name` on <html> to `value`, or removes it (`null`). A page whose framework owns
 * <html> (or a document without one) may refuse: the attributes are a convenience for CSS, so the
 * widget goes on without them, and says so once per page.
 */
let warnedAttribute = false;
function markRoot(name, value) {
  if (typeof document === 'undefined') return;
  try {
    const root = document.documentElement;
    if (value === null) root.removeAttribute(name);
    else root.setAttribute(name, value);
  } catch (e) {
    if (warnedAttribute) return;
    warnedAttribute = true;
    logWarn(`${TAG} the <html> ${name} attribute cannot be ${value === null ? 'removed' : 'set'} (${errorName(e)}); the widget works on without it`);
  }
}
/** The segment on <html>, or none (`null`). */
const markSegment = (segment) => markRoot(SEGMENT_ATTRIBUTE, segment);
const SEGMENT_EVENT = 'shopper-intent:segment';
/**
 * `<html data-shopper-intent-converted="true">` while the session has a purchase: the segment
 * stays `high` after a purchase (the score is 1), and a page hides its offers from shoppers who
 * just bought by this attribute.
 */
const CONVERTED_ATTRIBUTE = 'data-shopper-intent-converted';
const markConverted = (on) => markRoot(CONVERTED_ATTRIBUTE, on ? 'true' : null);
/** Events kept since the last save, to replay after the engine is re-created. */
const MAX_UNSAVED = 256;
/** Ignored event types a widget looks at for a misspelling (`_hintLookalike`). */
const MAX_TYPES_LOOKED_AT = 64;
/** Re-creations of a failed engine allowed per page before the widget gives up. */
const MAX_RECOVERIES = 3;
/**
 * Events that hooks may track, one after another, from one call of the page (each scored event's
 * hooks tracking the next): past this, the chain is cut. A hook that tracks from every score
 * would otherwise hold the page's main thread for ever.
 */
const MAX_HOOK_CHAIN = 256;
/** Queue states in which the stored state has been read and the engine runs (or is re-created). */
const RUNNING = new Set(['replaying', 'ready', 'dispatching', 'recovering']);
/** Queue states in which the engine is there to draw a randomized report. */
const REPORTING = new Set(['replaying', 'ready', 'dispatching']);
/** Queue states from which hooks run in the state 'dispatching' (in the others, track() queues anyway). */
const DISPATCHING_FROM = new Set(['replaying', 'ready', 'dispatching']);
/** Marks a widget of any copy of this module (two bundles on one page): the snippet's "ran twice" test. */
const WIDGET = Symbol.for('shopper-intent.widget');

/** The widgets of this page not destroyed, whichever copy of the package made them. */
const liveWidgets = () => pageShared(window, 'shopper-intent.live', Set);

function describe(value) {
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  return `a value of type ${typeof value}`;
}

/**
 * Whether the page put a `then` on Object.prototype (a function, or a getter that throws): every
 * object then looks like a promise to `await` and to a promise's resolution.
 */
function objectsLookThenable() {
  try {
    return typeof Object.prototype.then === 'function';
  } catch {
    return true;
  }
}

/**
 * Copies the fields of an event into a plain object, filling `ts` with `Date.now()` when absent
 * (and marking it `stamped`: `_process` keeps it from falling before the newest event) and
 * turning a `Date` into its milliseconds. Only the shape is handled here: the engine checks
 * every value (one contract, in crate/core).
 */
function copyEvent(input) {
  if (input === null || typeof input !== 'object') {
    throw new ShopperIntentError('INVALID_EVENT', `an event must be an object, got ${describe(input)}`);
  }
  let type, ts, item, category, price, quantity, session;
  let stamped = false;
  let date = false;
  try {
    // Fields of the event or its class, never of Object.prototype (a page may have polluted it).
    type = field(input, 'type');
    ts = field(input, 'ts');
    item = field(input, 'item');
    category = field(input, 'category');
    price = field(input, 'price');
    quantity = field(input, 'quantity');
    session = field(input, 'session');
    if (ts === undefined || ts === null) {
      ts = pageNow();
      stamped = true;
    } else if (isDateOfAnyRealm(ts)) {
      date = true;
      ts = Date.prototype.getTime.call(ts);
    }
  } catch (e) {
    if (isShopperIntentError(e)) throw e;
    throw new ShopperIntentError('INVALID_EVENT', `the event's fields cannot be read (${errorName(e)})`);
  }
  if (typeof ts === 'number' && !Number.isFinite(ts)) {
    throw new ShopperIntentError('INVALID_EVENT', `ts must be milliseconds since the epoch, got ${ts}${date ? ' (an invalid Date)' : ''}`);
  }
  return { type, ts, item, category, price, quantity, session, stamped };
}

/**
 * Now, for an event without `ts`: `Date.now()`, refused with the reason when the page has broken
 * it (it throws, or answers text or seconds), so that the message does not blame a `ts` the page
 * never gave.
 */
function pageNow() {
  let now;
  try {
    now = Date.now();
  } catch (e) {
    throw new ShopperIntentError('INVALID_EVENT', `the event has no ts, and this page's Date.now() threw (${errorName(e)}): give ts, in milliseconds since the epoch`);
  }
  if (typeof now !== 'number' || !(now >= EPOCH_2000_MS)) {
    throw new ShopperIntentError('INVALID_EVENT', `the event has no ts, and this page's Date.now() answered ${describe(now)}, not milliseconds since the epoch: give ts`);
  }
  return now;
}

/** 2000-01-01 in milliseconds since the epoch: the engine refuses earlier times. */
const EPOCH_2000_MS = 946_684_800_000;

/** URL's own `href` getter: it answers for a URL of any realm and throws for anything else. */
const URL_HREF = typeof URL === 'function' ? Object.getOwnPropertyDescriptor(URL.prototype, 'href')?.get : undefined;

/**
 * The address of a URL object (of any frame), or undefined for anything else. Not `instanceof`:
 * a page's Proxy may have a prototype chain without end, which `instanceof` walks.
 */
function urlHref(value) {
  if (value === null || typeof value !== 'object' || !URL_HREF) return undefined;
  try {
    return URL_HREF.call(value);
  } catch {
    return undefined;
  }
}

/**
 * Whether `value` is a Date of another realm (an iframe's `new frame.contentWindow.Date()`):
 * `Date.prototype.getTime` reads any realm's Date and throws for anything else.
 */
function isDateOfAnyRealm(value) {
  if (value === null || typeof value !== 'object') return false;
  try {
    Date.prototype.getTime.call(value);
    return true;
  } catch {
    return false;
  }
}

function readOption(o, name) {
  try {
    return field(o, name);
  } catch (e) {
    logWarn(`${TAG} the option ${name} could not be read (${errorName(e)}); using its default`);
    return undefined;
  }
}

/**
 * A number option: a finite number, or `undefined` (absent, or a warning naming `fallback`, the
 * default said in words, and the default).
 */
function numberOption(value, name, fallback, ok = () => true) {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && ok(value)) return value;
  logWarn(`${TAG} the option ${name} must be a finite number${ok === positive ? ' above 0' : ''}, not ${describe(value)}; using its default (${fallback})`);
  return undefined;
}
const positive = (v) => v > 0;

/** The thresholds option copied into a plain `{medium, high}` of numbers, or `undefined`. */
function thresholdsOption(value) {
  if (value === undefined) return undefined;
  try {
    if (value !== null && typeof value === 'object') {
      const medium = field(value, 'medium');
      const high = field(value, 'high');
      if (Number.isFinite(medium) && Number.isFinite(high)) return { medium, high };
    }
  } catch { /* an unreadable object is reported below */ }
  logWarn(`${TAG} the option thresholds must be {medium: number, high: number}, not ${describe(value)}; using the model's`);
  return undefined;
}

/** A boolean option: the value, or `fallback` when absent or (with a warning) not a boolean. */
function booleanOption(value, name, fallback) {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  logWarn(`${TAG} the option ${name} must be true or false, not ${describe(value)}; using its default (${fallback})`);
  return fallback;
}

/**
 * A URL option as a string: a string, or a `URL` object (a bundler's `new URL('./x.wasm',
 * import.meta.url)`); `undefined` when absent or, with a warning, of another type.
 */
function urlOption(value, name, fallback) {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  const href = urlHref(value);
  if (href !== undefined) return href;
  logWarn(`${TAG} the option ${name} must be a URL (a string or a URL object), not ${describe(value)}; using its default (${fallback})`);
  return undefined;
}

/** Every option `load()` and `create()` read; another name is most likely a misspelt one. */
const OPTION_NAMES = Object.freeze(['model', 'manifest', 'wasm', 'storage', 'consent', 'autoCapture', 'dataLayerPush', 'thresholds',
  'hysteresis', 'utcOffsetMinutes', 'retentionDays', 'modelCache', 'timeoutMs', 'start']);

/** One warning naming the options given that the widget does not read (a typo keeps a default silently otherwise). */
function warnUnknownOptions(o) {
  let unknown;
  try {
    unknown = Object.keys(o).filter((k) => !OPTION_NAMES.includes(k));
  } catch {
    return; // An options object that cannot be listed (a Proxy): each option is still read by name.
  }
  if (unknown.length === 0) return;
  const near = (k) => OPTION_NAMES.find((n) => n.toLowerCase() === k.toLowerCase().replace(/[-_]/g, ''));
  const named = unknown.slice(0, 5).map((k) => (near(k) ? `${JSON.stringify(k)} (${near(k)}?)` : JSON.stringify(k.slice(0, 40))));
  logWarn(`${TAG} unknown option${unknown.length > 1 ? 's' : ''} ${named.join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}: ignored. The options are ${OPTION_NAMES.join(', ')}.`);
}

/** The `start` option: `'now'` (the default) or `'idle'`. */
function startOption(value) {
  if (value === undefined || value === 'now' || value === 'idle') return value ?? 'now';
  logWarn(`${TAG} the option start must be 'now' or 'idle', not ${describe(value)}; using 'now'`);
  return 'now';
}

/**
 * The `consent` option. Consent is never assumed: only an absent option means `'granted'`; a
 * value that is neither `'granted'` nor `'pending'`, or that cannot be read, is `'pending'`
 * (with a warning).
 */
function consentOption(o) {
  let value;
  try {
    value = field(o, 'consent');
  } catch (e) {
    logWarn(`${TAG} the option consent could not be read (${errorName(e)}); using 'pending' (consent is never assumed)`);
    return 'pending';
  }
  if (value === undefined) return 'granted';
  if (value === 'granted' || value === 'pending') return value;
  logWarn(`${TAG} unknown consent ${describe(value)}; using 'pending' (consent is never assumed)`);
  return 'pending';
}

function replaceExtension(url, ext) {
  return url.replace(/\.(bin|onnx)(?=$|[?#])/, ext);
}

/**
 * The wasm builds next to this module, `{wasm, simd}`, or null where this module has no URL (a
 * bundle made as a classic script). Each is written as `new URL('literal', import.meta.url)`, the
 * form bundlers (Vite, webpack, Parcel) recognise: they emit both files and rewrite both URLs.
 */
function defaultWasmUrls() {
  try {
    return {
      wasm: new URL('./pkg/shopper_intent_wasm_bg.wasm', import.meta.url).href,
      simd: new URL('./pkg/shopper_intent_wasm_simd.wasm', import.meta.url).href,
    };
  } catch {
    return null;
  }
}

const NO_WASM_URL = "this copy of the package cannot tell where its wasm is (bundled as a classic script, it has no import.meta.url): give the 'wasm' option";

/**
 * Estimates the true shares behind counts of randomized reports (`privateReport`), with the
 * engine's unbiased estimator: resolves to `{n, epsilon, shares: [{value, share, se, lo, hi}]}`
 * in the order of the values, or to `null` with a console error when the input is refused or the
 * engine cannot be loaded. Never rejects.
 *
 * `counts`: one number per value, in the order of a report's `values`, or `{value: count}` with
 * the `values` option. `epsilon` must be the one the reports were drawn with (default 1).
 * `wasm`: the module's URL (a string or a `URL`; default: beside this module), or its bytes (in Node).
 */
export async function estimateShares(counts, options) {
  try {
    const epsilon = epsilonOption(options);
    let values, wasm;
    if (options !== undefined && options !== null) {
      try {
        values = field(options, 'values');
        wasm = field(options, 'wasm');
        if (Array.isArray(values) && values.length <= 1024) values = Array.from(values);
      } catch (e) {
        throw new ShopperIntentError('BAD_OPTIONS', `the options cannot be read (${errorName(e)})`);
      }
    }
    const given = countsOption(counts, values);
    const wasmGiven = urlHref(wasm) ?? wasm;
    const defaults = wasmGiven === undefined || wasmGiven === null ? defaultWasmUrls() : null;
    if ((wasmGiven === undefined || wasmGiven === null) && !defaults) throw new ShopperIntentError('LOAD_FAILED', NO_WASM_URL);
    const glue = await loadBindings(defaults?.wasm ?? wasmGiven, { timeoutMs: DEFAULT_FETCH_TIMEOUT_MS, simd: defaults?.simd });
    const estimates = estimateRandomizedResponse(glue, given.counts, epsilon);
    return Object.freeze({
      n: sum(given.counts),
      epsilon,
      shares: Object.freeze(estimates.map((e, i) => Object.freeze({ value: given.values[i], ...e }))),
    });
  } catch (e) {
    const err = toError(e);
    logError(`${TAG} estimate refused (${err.code}): ${err.message}`);
    return null;
  }
}

/**
 * The intent widget of one page. Make it with `ShopperIntent.load(options)` (resolves once the
 * engine is ready) or `ShopperIntent.create(options)` (returns at once; events are queued).
 */
/** Calls a function the page pushed (`push(fn)`) with the widget; what it throws or rejects is a console error. */
function callPushed(fn, intent) {
  const threw = (e) => logError(`${TAG} a function pushed to shopperIntent threw; the widget keeps working.`, e);
  try {
    const result = fn(intent);
    if (isThenable(result)) result.then(undefined, threw);
  } catch (e) {
    threw(e);
  }
}

export class ShopperIntent {
  /** Creates the widget and starts loading the engine; resolves when it is ready or has failed. */
  static load(options = {}) {
    return ShopperIntent.create(options).ready;
  }

  /** Creates the widget at once; `intent.ready` resolves when the engine is ready or has failed. */
  static create(options = {}) {
    return new ShopperIntent(options);
  }

  /** `estimateShares` (exported beside this class), for pages that only hold the class. */
  static estimateShares(counts, options) {
    return estimateShares(counts, options);
  }

  /** True on every widget, whichever copy of this module made it (see `WIDGET`). */
  get [WIDGET]() {
    return true;
  }

  /** Resolves with the widget when the engine is ready or has failed. */
  ready;

  constructor(options = {}) {
    // What every method relies on comes first and cannot throw; the options are read after,
    // and anything unexpected there fails this widget (one console error), never the page.
    this._queue = new EventQueue();
    this._hooks = new Hooks();
    this._warnRepeated = limitedWarn();
    this.ready = new Promise((resolve) => { this._resolveReady = resolve; });
    this._error = null;
    // Why the options given are no options (a string, say), or null.
    this._notOptions = null;
    // The ignored event types looked at for a misspelling (`_hintLookalike`).
    this._typesLookedAt = new Set();
    this._engine = null;
    this._glue = null;
    this._modelFiles = null;
    this._model = null;
    this._thresholds = null;
    this._saveTimer = 0;
    this._dirty = false;
    // When (the page's clock) the session the engine holds had its last event, or 0 when no
    // session is going on: a session over by the clock is ended where the page goes on without
    // a reload (`_endIfOver`), as a reload would. The timer ends it in a page left open.
    this._lastEventAt = 0;
    this._endTimer = 0;
    // The newest event time tracked on this page (for the warning on a ts far before it).
    this._newestTs = -Infinity;
    // The stored text of another tab last taken in (`_fromOtherTab`).
    this._heardText = null;
    // Set once the page has been left ('pagehide'), until it is shown again from the
    // back-forward cache: a save timer would not run any more, so changes are saved at once.
    this._leaving = false;
    this._rechecking = 0; // reads of the stored state after the back/forward cache under way (_recheckStored)
    this._lastSegment = 'low';
    this._convertedMarked = false; // what <html data-shopper-intent-converted> says (_syncConverted)
    // The detail of the last segment change if the stored state restored at load made it (and
    // no other change came since): told once to 'segment' hooks registered after it.
    this._restored = null;
    // Counts forget() calls: a stored state read before the last one is not restored.
    this._forgets = 0;
    // experiment() with the state in memory warns once.
    this._warnedMemoryExperiments = false;
    // The time of the newest forget this widget knows of (its own, or another tab's mark).
    this._forgottenAt = -Infinity;
    // When this widget began to gather data: a forget before it, which a state saved after the
    // forget tells of (`forgotAt`), concerns none of its data.
    this._startedAt = Date.now();
    // The state the engine can be re-created from after a failure: the last state saved (or
    // restored, or checkpointed), and the events tracked since.
    this._checkpoint = null;
    this._unsaved = [];
    this._recoveries = 0;
    this._stateRead = false;
    // Restores under way (`_restore`): while the stored state is being read, the shopper's id
    // (and so any variant) is not known.
    this._restoring = 0;
    /** Where loading spent its time (ms since start): read by the benchmark page. */
    this._timings = null;
    this._urls = { weights: null, manifest: null, wasm: null };
    this._engineOptions = {};
    this._timeoutMs = DEFAULT_FETCH_TIMEOUT_MS;
    this._modelCache = true;
    this._gpc = false;
    this._dataLayerPush = false;
    this._consent = 'granted';
    this._store = new StateStore(memoryStore(), { retentionMs: DEFAULT_RETENTION_DAYS * 86_400_000 });
    this._experiments = new Experiments({
      emit: (name, detail) => this._announce(name, detail),
      intent: () => ({ segment: this.segment, score: this.score }),
      changed: () => this._markDirty(),
      open: () => RUNNING.has(this._queue.state) && this._consent === 'granted',
    });
    this._reports = new PrivateReports({ changed: () => this._markDirty() });
    this._detachDataLayer = null;
    this._attached = false; // to the page: listeners and the page's list of live widgets (_open)
    // Leaving or hidden (a phone may end a hidden page without another event): the newest save
    // goes to the backend at once, even ahead of an asynchronous backend's call in flight.
    this._onPageHide = () => { this._leaving = true; this._flush(); this._store.hurry(); };
    this._onPageShow = (e) => {
      this._leaving = false;
      this._store.shown();
      if (e?.persisted) this._cameBack(true);
    };
    this._onVisibility = () => {
      if (document.visibilityState === 'hidden') {
        this._flush();
        this._store.hurry();
      } else {
        this._store.shown();
        this._cameBack(false);
      }
    };
    // Another tab's forget, heard at once (localStorage only: other storages raise no event).
    this._onStorage = (e) => {
      try {
        if (e.key !== this._store.key || this.storage !== 'local' || e.storageArea !== window.localStorage) return;
        if (this._queue.state === 'destroyed') return;
        const mark = this._store.forgotten(Date.now(), e.newValue);
        if (this._consent !== 'granted') { this._dropHeld(mark); return; }
        if (this._forgottenElsewhere(mark)) return;
        // Another tab's save: its experiments are taken in (a dismissal there holds here at once).
        this._fromOtherTab(e.newValue);
      } catch (err) {
        logError(`${TAG} internal error on a storage event; the page is unaffected.`, err);
      }
    };

    // Outside a page (Node, a worker): failed at once, not a ReferenceError out of create().
    if (typeof window === 'undefined' || typeof document === 'undefined') {
      this._fail(new ShopperIntentError('LOAD_FAILED', 'the widget runs in a browser page (it needs window and document); outside one, estimateShares() and the CLI work'));
      return;
    }
    if (objectsLookThenable()) {
      // `ready` resolves with the widget: here that would call the page's then() and never settle.
      Object.defineProperty(this, 'then', { value: undefined, configurable: true });
      this._fail(new ShopperIntentError('LOAD_FAILED', 'this page has put a then() on Object.prototype: every object looks like a promise, so nothing the widget waits for would settle'));
      return;
    }
    let start = 'now';
    try {
      start = this._readOptions(options);
    } catch (e) {
      this._fail(new ShopperIntentError('BAD_OPTIONS', `the options could not be read (${errorName(e)})`));
      return;
    }
    if (this._experiments.id === null) {
      this._fail(new ShopperIntentError('LOAD_FAILED', 'this page has no working crypto.getRandomValues, which the widget needs for its salt and ids'));
      return;
    }

    // A prerendered page (speculation rules) may never be shown: nothing is read, captured or
    // saved until it is. Events the page tracks meanwhile wait in the queue.
    let prerendering = false;
    try {
      prerendering = document.prerendering === true;
    } catch {
      // An odd document: taken as shown.
    }
    try {
      if (prerendering) {
        document.addEventListener('prerenderingchange', () => this._openOrFail(start), { once: true });
      } else {
        this._openOrFail(start);
      }
    } catch (e) {
      this._refusedByPage(e);
    }
  }

  /** `_open`, or a failed widget when the page's own functions it calls throw (a patched addEventListener). */
  _openOrFail(start) {
    try {
      this._open(start);
    } catch (e) {
      this._refusedByPage(e);
    }
  }

  _refusedByPage(e) {
    this._fail(new ShopperIntentError('LOAD_FAILED', `the page refused what the widget needs to start (${errorName(e)})`));
  }

  /** Starts the widget on a shown page: listeners, auto-capture, loading. */
  _open(start) {
    if (this._queue.state === 'destroyed') return;
    // Two widgets on one page (the snippet and a create(), say) share the <html> attribute and
    // the dataLayer; under one storage key each also saves over the other's events: said once, here.
    const live = liveWidgets();
    const running = [...live].filter((w) => w.status !== 'failed');
    if (running.length > 0) {
      const sameStore = (this.storage === 'local' || this.storage === 'session') && running.some((w) => w.storage === this.storage);
      logWarn(`${TAG} another widget already runs on this page${sameStore ? ` with its state in ${this.storage}Storage: each would save over the other's events, and` : ':'} the two share the <html> ${SEGMENT_ATTRIBUTE} attribute (the widget whose segment changed last sets it, and one destroyed removes it) and, with autoCapture, both score every later dataLayer push, each in its own engine (of the entries pushed before, the second reads none the first already read). Keep one (the snippet or ShopperIntent.create())${sameStore ? ', or give one a storage backend of its own' : ''}.`);
    }
    live.add(this);
    this._attached = true;
    addEventListener('pagehide', this._onPageHide);
    addEventListener('pageshow', this._onPageShow);
    addEventListener('storage', this._onStorage);
    document.addEventListener('visibilitychange', this._onVisibility);
    if (this._autoCapture) {
      try {
        // Timed as the widget times any event without a time (see _process).
        this._detachDataLayer = attachDataLayer(window, (ev) => this._trackCaptured({ ...ev, ts: undefined }),
          (e) => this._warnRepeated('unreadable dataLayer entries', `${TAG} a dataLayer entry could not be read (${errorName(e)})`),
          () => logWarn(`${TAG} window.dataLayer did not keep the widget's push (a Proxy or a setter around it): later pushes may not be tracked; call track() for them`));
      } catch (e) {
        if (e instanceof DataLayerLocked) logWarn(`${TAG} window.dataLayer is frozen: ${e.read === 1 ? 'the event it held is tracked, ' : e.read > 1 ? `the ${e.read} events it held are tracked, ` : ''}later pushes are not (${e.message})`);
        else logWarn(`${TAG} window.dataLayer cannot be read (${errorName(e)}); auto-capture is off`);
      }
    }

    if (!this._urls.manifest) {
      this._fail(new ShopperIntentError('BAD_OPTIONS', this._notOptions ?? "the 'model' option (URL of the model's weights or manifest) is required"));
    } else if (!this._urls.wasm) {
      this._fail(new ShopperIntentError('LOAD_FAILED', NO_WASM_URL));
    } else if (start === 'idle') {
      // A widget destroyed before the page was idle (a component unmounted at once) fetches nothing.
      whenIdle(() => { if (this._queue.state === 'loading') this._start(); });
    } else {
      this._start();
    }
  }

  /** Reads the options into the widget; returns the `start` option. Wrong types are warnings. */
  _readOptions(options) {
    const o = options && typeof options === 'object' ? options : {};
    // The model's URL given alone, as the options: said as such (the widget has no model then).
    if (options !== undefined && options !== null && typeof options !== 'object') {
      this._notOptions = `the options are an object, not ${describe(options)}${typeof options === 'string' ? `: give { model: ${JSON.stringify(options.slice(0, 200))} }` : ''}`;
    }
    warnUnknownOptions(o);
    const opt = (name) => readOption(o, name);
    // The model has no default: without a usable one the widget fails with BAD_OPTIONS below.
    const given = opt('model');
    const model = typeof given === 'string' ? given : urlHref(given) ?? null;
    const manifest = urlOption(opt('manifest'), 'manifest', 'the model URL with .json');
    const wasm = urlOption(opt('wasm'), 'wasm', 'the engine beside the package');
    const defaults = wasm === undefined ? defaultWasmUrls() : null;
    this._urls = {
      weights: model !== null && !/\.json(?=$|[?#])/.test(model) ? model : null,
      manifest: manifest ?? (model !== null ? replaceExtension(model, '.json') : null),
      // null: this copy cannot tell where its wasm is (a failure, in _open)
      wasm: wasm ?? defaults?.wasm ?? null,
      simd: defaults?.simd,
    };
    // Shapes are checked here, values by the engine (a value it refuses is BAD_OPTIONS).
    const engineOptions = {
      utcOffsetMinutes: numberOption(opt('utcOffsetMinutes'), 'utcOffsetMinutes', "the model's"),
      hysteresis: numberOption(opt('hysteresis'), 'hysteresis', "the engine's"),
      thresholds: thresholdsOption(opt('thresholds')),
    };
    this._engineOptions = Object.fromEntries(Object.entries(engineOptions).filter(([, v]) => v !== undefined));
    const days = numberOption(opt('retentionDays'), 'retentionDays', DEFAULT_RETENTION_DAYS, positive) ?? DEFAULT_RETENTION_DAYS;
    // Past what timers keep, a browser's timer fires at once: a longer wait is the longest one.
    this._timeoutMs = Math.min(numberOption(opt('timeoutMs'), 'timeoutMs', DEFAULT_FETCH_TIMEOUT_MS, positive) ?? DEFAULT_FETCH_TIMEOUT_MS, MAX_TIMER_MS);
    this._modelCache = booleanOption(opt('modelCache'), 'modelCache', true);
    this._dataLayerPush = booleanOption(opt('dataLayerPush'), 'dataLayerPush', false);
    this._autoCapture = booleanOption(opt('autoCapture'), 'autoCapture', true);

    const gpc = typeof navigator !== 'undefined' && navigator.globalPrivacyControl === true;
    this._gpc = gpc;
    this._store = new StateStore(resolveBackend(opt('storage'), { globalPrivacyControl: gpc }), { retentionMs: days * 86_400_000 });

    this._consent = consentOption(o);
    return startOption(opt('start'));
  }

  /** `'loading'`, `'ready'`, `'failed'` (see `error`) or `'destroyed'`. */
  get status() {
    const s = this._queue.state;
    if (s === 'failed' || s === 'destroyed' || s === 'loading') return s;
    return s === 'recovering' ? 'loading' : 'ready';
  }

  /** Why loading failed (`{code, message}`), or `null`. */
  get error() { return this._error; }

  /** Where the state is kept: `'local'`, `'session'`, `'memory'` or a custom backend's kind. */
  get storage() { return this._store.kind; }

  /** `'granted'` or `'pending'`. */
  get consent() { return this._consent; }

  /** The segment thresholds in use (`{medium, high}`), or `null` until the engine is ready. */
  get thresholds() { return this._thresholds; }

  /** The model's manifest summary, or `null` until ready. */
  get model() { return this._model; }

  /** The probability of a purchase in this session, in [0, 1]; 0 until ready and after a failure. */
  get score() {
    if (!this._engine || this.status !== 'ready') return 0;
    try { return this._engine.score; } catch (e) { this._engineFailed(e); return 0; }
  }

  /**
   * Whether this session has a purchase (its score is 1 and its segment stays where it was):
   * false until ready, without consent, after a failure, and once a new session begins. Also
   * `<html data-shopper-intent-converted="true">` while true.
   */
  get converted() {
    if (this.status !== 'ready' || this._consent !== 'granted') return false;
    return this._experiments.converted;
  }

  /** The converted attribute brought in line with `converted` (or with `on`, when given). */
  _syncConverted(on = this.converted) {
    if (on === this._convertedMarked) return;
    this._convertedMarked = on;
    markConverted(on);
  }

  /** `'low'`, `'medium'` or `'high'`; `'low'` until ready and after a failure. */
  get segment() {
    if (!this._engine || this.status !== 'ready') return 'low';
    try { return this._engine.segment; } catch (e) { this._engineFailed(e); return 'low'; }
  }

  /**
   * Tracks one event. Returns the engine's `Update`, or `null` when the event was refused (with
   * a console warning naming the error code) or queued (engine loading, consent pending, or
   * called from inside a hook). Never throws.
   */
  track(input) {
    try {
      if (!this._queue.open) return null;
      let event;
      try {
        event = copyEvent(input);
      } catch (e) {
        const err = toError(e);
        this._warnRepeated(`events refused as ${err.code}`, `${TAG} event refused (${err.code}): ${err.message}`);
        return null;
      }
      if (!this._queue.immediate) {
        this._queue.push(event);
        return null;
      }
      return this._process(event);
    } catch (e) {
      logError(`${TAG} internal error in track(); the page is unaffected.`, e);
      return null;
    }
  }

  /**
   * `track()` of an auto-captured event. Returns the queued event when the event was only
   * queued (a token: `destroy()` gives its dataLayer entry back if it is still queued then).
   */
  _trackCaptured(event) {
    const before = this._queue.newest;
    this.track(event);
    const after = this._queue.newest;
    return after !== before ? after : null;
  }

  /**
   * One console warning per page for an event the engine took, timed more than a session gap
   * ahead of this device's clock. It is tracked (the device's clock may be the wrong one), but
   * the next event the widget times itself looks more than a session gap older and starts a new
   * session: page code that writes local time as UTC splits sessions so.
   */
  _warnIfAhead(event) {
    const ahead = event.stamped || typeof event.ts !== 'number' ? 0 : event.ts - Date.now();
    if (!(ahead > SESSION_GAP_MS) || this._warnedAhead) return;
    this._warnedAhead = true;
    logWarn(`${TAG} an event's ts is ${span(ahead)} ahead of this device's clock: ts is milliseconds since the epoch in UTC, not local time. The event is tracked, but the next event without a ts (timed by the widget) starts a new session, and so does each one where events with and without a ts alternate. Leave ts out for events of now.`);
  }

  /**
   * Tracks each event in order, as `track()` does, and calls each function among them with the
   * widget (`push((intent) => intent.grantConsent())`): a page can leave its events and calls
   * with `(window.shopperIntent = window.shopperIntent || []).push(...)` before and after the
   * snippet has replaced its early array with the widget. A function that throws (or rejects) is
   * a console error. Returns nothing; never throws.
   */
  push(...events) {
    // An index loop: a page may have broken the array iterator (push never throws).
    for (let i = 0; i < events.length; i++) {
      const entry = events[i];
      if (typeof entry === 'function') callPushed(entry, this);
      else this.track(entry);
    }
  }

  /**
   * Registers a hook: `'score'` after every event that changed the window, `'segment'` when the
   * segment changes and when a new session begins in a segment other than low (cause
   * `'session'`), `'exposure'` and `'conversion'` for experiments. Returns the
   * function that unregisters it. A `'segment'` hook registered after the restore at load, while
   * no other segment change has come since, is called once with that restore's detail, right
   * after the code that registered it.
   */
  on(name, callback) {
    const off = this._hooks.on(name, callback);
    if (!off) {
      logWarn(`${TAG} on(${describe(name)}, ...) ignored: the hooks are ${HOOK_NAMES.map((n) => `'${n}'`).join(', ')}, with a function`);
      return () => {};
    }
    // A segment restored at load is announced before load() resolves, so a page that registers
    // its 'segment' hook after `await load()` would never hear of it: such a hook is told once,
    // after the code that registered it, while that restore is still the latest change.
    const restored = name === 'segment' ? this._restored : null;
    if (restored) {
      queueMicrotask(() => {
        try {
          if (this._restored !== restored || !this._queue.open) return;
          this._dispatch(() => this._hooks.emitOne('segment', off, restored));
        } catch (e) {
          logError(`${TAG} internal error in a 'segment' hook's late call; the page is unaffected.`, e);
        }
      });
    }
    return off;
  }

  /** The factors behind the current score, largest effect first; `[]` before the first event. */
  explain() {
    if (!this._engine || this.status !== 'ready') return [];
    try { return this._engine.explain(); } catch (e) { this._engineFailed(e); return []; }
  }

  /** The current session's score history: `[{position, type, score}]`. */
  history() {
    if (!this._engine || this.status !== 'ready') return [];
    try { return this._engine.history(); } catch (e) { this._engineFailed(e); return []; }
  }

  /**
   * This session's variant of an experiment (`{key, variants, weights?, holdout?, eligible?,
   * autoExpose?}`), `'holdout'` for holdout shoppers, or `null` while the session is not
   * eligible (or has made its purchase without having entered), and while the shopper's id is
   * not known: before the stored state is read (loading, consent pending), when the widget is not
   * running, and when the state is kept in memory and the id was not stored before (a new id on
   * every page; a storage that fails after the id was stored keeps it). The definition is
   * kept even then (for `privateReport`). An invalid definition returns `null` with a console
   * error naming `BAD_EXPERIMENT`.
   */
  experiment(definition) {
    try {
      const exp = this._experiments.define(definition);
      if (!RUNNING.has(this._queue.state) || this._restoring) return null;
      // A session over by the clock is not entered (ending it runs the segment hooks, which may
      // destroy the widget or withdraw consent); another tab's id and session are taken in.
      this._endIfOver();
      if (!RUNNING.has(this._queue.state) || this._consent !== 'granted') return null;
      this._fromOtherTab(this._store.peekText());
      // A variant needs an id that outlives the page: one read from storage or saved since, or
      // one a storage that has not failed is to keep at its next save. With the state in memory
      // (storage 'memory', Global Privacy Control, a storage that failed before the id was
      // stored) none is given; a storage that fails after keeps this page's variants.
      // A variant this page has given already stays, for this page: it may be on show.
      if (!this._experiments.stored && this.storage === 'memory' && this._experiments.variantOf(exp.key) === null) {
        if (!this._warnedMemoryExperiments) {
          this._warnedMemoryExperiments = true;
          // A shopper's Global Privacy Control is no mistake of the page: said as information.
          if (this._gpc) logInfo(`${TAG} experiments need the state to outlive the page, and this shopper's Global Privacy Control keeps it in memory: experiment() returns null, the page shows no variant.`);
          else logWarn(`${TAG} experiments need the state to outlive the page (storage 'local' or 'session'; the state is kept in memory now): experiment() returns null, the page shows no variant.`);
        }
        return null;
      }
      return this._experiments.experiment(exp);
    } catch (e) {
      const err = isShopperIntentError(e) ? e : new ShopperIntentError('BAD_EXPERIMENT', `the definition could not be read (${errorName(e)})`);
      logError(`${TAG} experiment refused (${err.code}): ${err.message}`);
      return null;
    }
  }

  /** Tells the widget the page shows experiment `key`'s variant now: fires `'exposure'` once per session. */
  expose(key) {
    try {
      if (this._restoring) return false; // the session it would expose is not known yet
      // Detached, failed or without consent: nothing is announced, as experiment() gives no variant then.
      if (!RUNNING.has(this._queue.state) || this._consent !== 'granted') return false;
      return this._experiments.expose(key);
    } catch (e) {
      logError(`${TAG} expose() failed; the page is unaffected.`, e);
      return false;
    }
  }

  /**
   * The shopper dismissed what experiment `key` shows them (an offer's close button): `dismissed(key)`
   * is true for the rest of the session, on every page of it (kept with the state), and false in
   * the next session or after a forget. The session stays in the experiment. Returns whether it
   * was marked now (false if the session has not entered the experiment, or dismissed it before).
   */
  dismiss(key) {
    try {
      if (this._restoring || this._queue.state === 'destroyed') return false;
      return this._experiments.dismiss(key);
    } catch (e) {
      logError(`${TAG} dismiss() failed; the page is unaffected.`, e);
      return false;
    }
  }

  /** Whether this session dismissed experiment `key` (`dismiss()`). */
  dismissed(key) {
    try {
      return this._experiments.dismissed(key);
    } catch {
      return false;
    }
  }

  /** The experiments this session entered: `{key: variant}`. */
  assignments() {
    return this._experiments.assignments();
  }

  /**
   * A randomized report about this session for the page to send (`about`: `'segment'` or the key
   * of an experiment this page defined): `{value, values, epsilon}`, where `value` is the true
   * value with probability e^ε / (e^ε + k − 1) and each other of the k `values` with probability
   * 1 / (e^ε + k − 1). The same subject, ε and truth give the same report for the rest of the
   * session. `null` while the engine is not running (loading, consent pending, failed), and,
   * with a console error, for an ε or a subject that is refused. Never throws.
   */
  privateReport(about, options) {
    try {
      const epsilon = epsilonOption(options);
      if (typeof about !== 'string') throw new ShopperIntentError('BAD_OPTIONS', `about must be 'segment' or an experiment key, not ${describe(about)}`);
      // Not while the stored state is read: its reports, and the segment it restores, are not known yet.
      if (!REPORTING.has(this._queue.state) || !this._engine || !this._glue || this._restoring) return null;
      let values, truth;
      if (about === SEGMENT) {
        values = SEGMENT_VALUES;
        truth = this._engine.segment;
      } else {
        const exp = this._experiments.definition(about);
        if (!exp) throw new ShopperIntentError('BAD_EXPERIMENT', `no experiment ${describe(about)} was defined on this page (with experiment())`);
        values = experimentValues(exp);
        truth = this._experiments.variantOf(about) ?? NOT_ENTERED;
      }
      return this._reports.report(this._glue, about, epsilon, values, truth);
    } catch (e) {
      if (!isShopperIntentError(e)) {
        logError(`${TAG} internal error in privateReport(); the page is unaffected.`, e);
      } else if (e.code === 'ENGINE_FAILED') {
        this._engineFailed(e);
      } else {
        logError(`${TAG} private report refused (${e.code}): ${e.message}`);
      }
      return null;
    }
  }

  /**
   * Attributes for a targeting tool (GrowthBook, Optimizely): the segment and the score rounded
   * down to a tenth. Never the events behind them.
   */
  attributes() {
    const score = this.score;
    return Object.freeze({ intentSegment: this.segment, intentScoreBucket: Math.floor(score * 10) / 10 });
  }

  /**
   * What is stored right now: `{storage, key, size, savedAt, expiresAt, state}` (`size` in
   * characters of the stored text, `state` the engine's binary state), or `null`.
   */
  storedState() {
    if (this._consent !== 'granted') return null;
    try {
      return this._store.describe(Date.now());
    } catch {
      return null;
    }
  }

  /** Lifts the hold of `consent: 'pending'`: restores the stored state and tracks the held events. */
  grantConsent() {
    if (this._consent === 'granted' || !this._queue.open) return;
    this._consent = 'granted';
    if (this._queue.state === 'held') this._begin().catch((e) => this._fail(toError(e)));
    // While loading, `_start` restores and replays once the engine is ready.
  }

  /**
   * Consent withdrawn (the shop's consent tool said so): wipes what the widget kept, as
   * `forget()` does, and stops it on this page without saving anything again; the page works on
   * without scores. The next page load passes the consent tool's answer (`'pending'`).
   */
  withdrawConsent() {
    this._withdraw(this._forgetTime(), true);
  }

  /**
   * Wipes the window, the earlier-session summary, the stored state, the queued events and the
   * experiment id. The stored state is replaced by a mark of the forget, so that other tabs that
   * still hold the old state forget too instead of writing it back.
   */
  forget() {
    this._forget(this._forgetTime(), true);
  }

  /**
   * The time of a forget made here: now, but always after the newest forget this widget knows of
   * (a clock set back would otherwise give a mark older than the last, which tabs ignore).
   */
  _forgetTime() {
    // A forget goes through even on a page whose Date.now is broken (it throws, or answers text
    // or seconds): the time then comes from the performance clock, so that other tabs take the
    // mark for a recent one (a mark older than the retention is ignored).
    const plausible = (t) => typeof t === 'number' && t >= EPOCH_2000_MS;
    let now = NaN;
    try {
      now = Date.now();
    } catch {
      // Below.
    }
    if (!plausible(now)) {
      try {
        now = performance.timeOrigin + performance.now();
      } catch {
        now = NaN;
      }
    }
    return Math.max(plausible(now) ? now : 0, this._forgottenAt + 1);
  }

  _withdraw(at, mark) {
    if (this._queue.state === 'destroyed') {
      // A widget the page unmounted, held by a consent tool: what it stored is wiped all the same.
      if (mark) this._wipeStored(at, { withdrawn: true });
      this._consent = 'pending';
      return;
    }
    // The mark first (it is written only with consent), then consent goes: the segment hook the
    // forget fires, and anything the page does from it, already runs without consent (no
    // experiment entered, no exposure, no dataLayer push).
    if (mark) this._wipeStored(at, { withdrawn: true });
    this._consent = 'pending';
    this._forget(at, false);
    this.destroy();
  }

  /**
   * Wipes the shopper's stored state at `at` (a forget or withdrawal made here; `how`: whether it
   * is a withdrawal). With consent the entry becomes the mark of it, which the shop's other tabs
   * follow; without consent nothing is written, and the entry is removed unless it is already such
   * a mark (a tab that missed the mark would write its old state back). Never throws.
   */
  _wipeStored(at, how = {}) {
    try {
      this._forgottenAt = Math.max(this._forgottenAt, at);
      if (this._consent === 'granted') this._store.markForgotten(at, how);
      else if (this._store.forgotten(Date.now())?.state !== false) this._store.remove();
      // A state kept in memory now (Global Privacy Control, a failed storage) may have one from before there.
      if (this.storage === 'memory') removeFromWebStorage(this._store.key);
    } catch (e) {
      logError(`${TAG} internal error wiping the stored state; the page is unaffected.`, e);
    }
  }

  /** The forget at `at`: marked in the storage (`mark`) when this widget made it, not when another tab did. */
  _forget(at, mark) {
    if (this._queue.state === 'destroyed') {
      // A widget the page unmounted, held by a "forget me" button: what it stored is wiped all the same.
      if (mark) this._wipeStored(at);
      return;
    }
    this._forgets += 1;
    this._forgottenAt = at;
    this._restored = null;
    // Another tab's forget: the events queued here since are after it, and kept.
    if (mark) this._queue.clear();
    else this._queue.dropQueuedBy(at);
    this._unsaved.length = 0;
    this._checkpoint = null;
    clearTimeout(this._saveTimer);
    this._saveTimer = 0;
    this._dirty = false;
    this._lastEventAt = 0;
    this._newestTs = -Infinity;
    this._armEnd();
    if (mark) this._wipeStored(at);
    else if (this.storage === 'memory') removeFromWebStorage(this._store.key);
    this._experiments.forget();
    this._reports.forget();
    this._syncConverted();
    if (!this._engine || this.status !== 'ready') return;
    const previous = this._lastSegment;
    try {
      this._engine.forget();
    } catch (e) {
      this._engineFailed(e);
      return;
    }
    // Announced even when the segment stays low: a page that shows experiments from the
    // segment hook takes them down (the session left every experiment). The dataLayer hears of
    // a change only (a forget or a withdrawal of consent at low pushes nothing).
    const segment = this.segment;
    this._segmentChanged(segment, previous, this.score, 'forget', { push: segment !== previous });
  }

  /** Saves the state, detaches from the page and frees the engine. Later calls do nothing. */
  destroy() {
    if (this._queue.state === 'destroyed') return;
    // Events queued while loading have no engine to score them and no state to save into.
    const queued = this._queue.state === 'ready' ? 0 : this._queue.length;
    if (queued > 0) logWarn(`${TAG} destroy(): the ${queued} event(s) still queued (the widget loading, waiting for consent or replaying) are dropped, not saved (those read from dataLayer are left for the next widget to read)`);
    try {
      this._flush();
    } catch (e) {
      // The page's own built-ins broke the save: the widget is taken down all the same.
      logError(`${TAG} destroy(): the last save failed; the widget is stopped all the same.`, e);
    }
    clearTimeout(this._endTimer);
    this._endTimer = 0;
    this._detach();
    // The dataLayer entries whose events are dropped here are given back to the next widget.
    if (this._detachDataLayer) this._detachDataLayer((event) => this._queue.includes(event));
    this._detachDataLayer = null;
    this._hooks.clear();
    this._queue.clear();
    this._queue.to('destroyed');
    markSegment(null);
    this._syncConverted(false);
    if (this._engine) this._engine.free();
    this._engine = null;
    this._resolveReady(this);
  }

  // -------------------------------------------------------------------------------------------
  // Loading

  async _start() {
    let t0 = 0;
    const timings = (this._timings = record());
    try {
      t0 = monotonicMs();
      let [glue, model] = await all([
        loadBindings(this._urls.wasm, { timeoutMs: this._timeoutMs, simd: this._urls.simd }).then((g) => { timings.wasmMs = monotonicMs() - t0; return g; }),
        // The model cache is storage too: not used without consent or under Global Privacy Control.
        fetchModel({ weightsUrl: this._urls.weights, manifestUrl: this._urls.manifest, useCache: this._modelCache && this._consent === 'granted' && !this._gpc, timeoutMs: this._timeoutMs })
          .then((m) => { timings.modelMs = monotonicMs() - t0; return m; }),
      ]);
      if (this._queue.state !== 'loading') return;
      if (model.stale) logWarn(`${TAG} ${model.stale.message}; the model this browser kept from an earlier visit is used`);
      this._glue = glue;
      this._modelFiles = model;
      const t1 = monotonicMs();
      let engine;
      try {
        engine = await this._buildAtLoad();
      } catch (e) {
        const err = toError(e);
        if (!model.fromCache || (err.code !== 'BAD_MODEL' && err.code !== 'MANIFEST_MISMATCH')) throw e;
        // Weights the cache served and the engine refuses (a damaged or tampered entry): removed,
        // and downloaded once more, so that one bad entry does not fail every visit.
        logWarn(`${TAG} the cached model was refused (${err.code}); it is removed and downloaded again`);
        model.evict();
        model = await fetchModel({ weightsUrl: this._urls.weights, manifestUrl: this._urls.manifest, useCache: true, readCache: false, timeoutMs: this._timeoutMs });
        if (this._queue.state !== 'loading') return;
        this._modelFiles = model;
        engine = await this._buildAtLoad();
      }
      timings.engineMs = monotonicMs() - t1;
      if (this._queue.state !== 'loading') { engine.free(); return; }
      model.remember();
      this._engine = engine;
      this._thresholds = engine.thresholds;
      this._model = engine.model;
      markSegment(this._lastSegment);
      if (this._consent === 'granted') {
        const t2 = monotonicMs();
        await this._begin();
        timings.restoreMs = monotonicMs() - t2;
      } else {
        this._queue.to('held');
      }
      timings.readyMs = monotonicMs() - t0;
    } catch (e) {
      this._fail(toError(e));
    } finally {
      // Whatever happened above, even in the page's own code (a console that throws), `ready`
      // resolves: `load()` never hangs.
      this._resolveReady(this);
    }
  }

  /**
   * The first engine of the page, in `this._glue`'s instance. An instance that traps while the
   * engine is built (JavaScriptCore now and then traps with "Out of bounds memory access" in a
   * sound module) is replaced by a fresh one, as after a trap once ready: said once per trap,
   * counted against `MAX_RECOVERIES`. A widget destroyed meanwhile gets the error.
   */
  async _buildAtLoad() {
    for (;;) {
      try {
        return await this._build(this._glue);
      } catch (e) {
        const err = toError(e);
        if (err.code !== 'ENGINE_FAILED' || this._queue.state !== 'loading') throw err;
        this._recoveries += 1;
        if (this._recoveries > MAX_RECOVERIES) throw new ShopperIntentError('ENGINE_FAILED', `the engine failed ${this._recoveries} times on this page; last: ${err.message}`);
        logError(`${TAG} the engine failed (${err.message}) at load; building it in a new instance.`);
        const glue = await loadBindings(this._urls.wasm, { timeoutMs: this._timeoutMs, fresh: true });
        if (this._queue.state !== 'loading') throw err;
        this._glue = glue;
      }
    }
  }

  /** A new engine from the fetched model, built in short steps. */
  _build(glue) {
    const salt = crypto.getRandomValues(new Uint8Array(16));
    return EngineHandle.create(glue, this._modelFiles.weights, this._modelFiles.manifest, { salt, ...this._engineOptions }, yieldToMain);
  }

  /** Consent granted and engine ready: restore the stored state, then replay the queue. */
  async _begin() {
    this._queue.to('replaying');
    await this._restore();
    await this._replay();
    // A shopper's first page saves their experiment id at once, though no event of it counted (a
    // landing page): tabs opened from it then share the id, so every tab gives the same arms.
    if (!this._experiments.stored && this._queue.state === 'ready' && this.storage !== 'memory') this._markDirty();
  }

  /**
   * Leaves the page: its listeners and the page's set of live widgets. Destroyed, or failed (a
   * failed widget has nothing more to do on the page, and a page that retries with a new widget
   * keeps no old one attached). Attached by `_open`: a widget that failed before it, or outside a
   * page, has nothing to detach. A page whose removeEventListener throws keeps a listener, not the
   * rest undone; it does nothing once the widget is stopped.
   */
  _detach() {
    if (!this._attached) return;
    this._attached = false;
    liveWidgets().delete(this);
    const listeners = [[window, 'pagehide', this._onPageHide], [window, 'pageshow', this._onPageShow],
      [window, 'storage', this._onStorage], [document, 'visibilitychange', this._onVisibility]];
    // An index loop: a page may have broken the array iterator.
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i][0].removeEventListener(listeners[i][1], listeners[i][2]);
      } catch {
        // The listener stays.
      }
    }
  }

  _fail(err) {
    if (this._queue.state === 'destroyed' || this._queue.state === 'failed') return;
    this._queue.to('failed');
    this._detach();
    // No hook will be called again: the page's callbacks are let go.
    this._hooks.clear();
    clearTimeout(this._endTimer);
    this._endTimer = 0;
    // Nothing will be built again: the downloaded weights and the last saved state go.
    this._modelFiles = null;
    this._checkpoint = null;
    const message = err.message.length > 500 ? `${err.message.slice(0, 500)}…` : err.message;
    this._error = Object.freeze({ code: err.code, message });
    // A failed widget reads the dataLayer no more, and gives back the entries whose events it had
    // only queued: a widget the page creates after it (a retry) reads them, and the later pushes.
    if (this._detachDataLayer) this._detachDataLayer((event) => this._queue.includes(event));
    this._detachDataLayer = null;
    this._queue.clear();
    if (this._engine) this._engine.free();
    this._engine = null;
    markSegment(null);
    this._syncConverted(false);
    logError(`${TAG} not running (${err.code}): ${message}. The page works on without intent scores.`);
    this._resolveReady(this);
  }

  /**
   * A forget (or a withdrawal of consent) that another tab made after this widget last read or
   * forgot (`mark` from the storage): this widget forgets too, without marking again.
   * Returns whether there was one.
   */
  _forgottenElsewhere(mark) {
    if (!mark || !(mark.forgotten > this._forgottenAt)) return false;
    // A state saved after a forget that came before this widget started: nothing to forget here,
    // whether this widget read nothing at load (storage empty, consent pending, an entry
    // discarded) or read that state.
    if (mark.state && !(mark.forgotten > this._startedAt)) {
      this._forgottenAt = mark.forgotten;
      return false;
    }
    logInfo(`${TAG} the shopper's data was ${mark.withdrawn ? 'withdrawn (consent)' : 'forgotten'} in another tab: forgotten here too`);
    if (mark.withdrawn) this._withdraw(mark.forgotten, false);
    else this._forget(mark.forgotten, false);
    return true;
  }

  /**
   * A forget or withdrawal that another tab made while this page ran (`mark` from the storage),
   * met before this widget read the stored state (consent pending, or still loading): the events
   * queued here before it are dropped, as that tab's were; once consent comes they would be stored.
   * A pending widget stays as it is otherwise: its consent is this page's to give.
   */
  _dropHeld(mark) {
    if (!mark || !(mark.forgotten > this._startedAt) || !(mark.forgotten > this._forgottenAt)) return;
    this._forgottenAt = mark.forgotten;
    const dropped = this._queue.dropQueuedBy(mark.forgotten);
    if (dropped > 0) logInfo(`${TAG} the shopper's data was ${mark.withdrawn ? 'withdrawn (consent)' : 'forgotten'} in another tab: the ${dropped} event${dropped === 1 ? '' : 's'} queued here before that are dropped`);
  }

  /**
   * Back from the back/forward cache: while this page was frozen, another page of the shop may
   * have tracked events and saved, or forgotten the shopper. Its stored state is newer than this
   * page's (saved at `pagehide`), so it is restored, as at load.
   */
  _resumeFromCache() {
    if (this._store.answersLater) {
      this._recheckStored().catch((e) => logError(`${TAG} reading the stored state again failed; the page is unaffected.`, e));
      return true;
    }
    const text = this._store.peekText();
    if (text === null || text === this._store.lastText) return false;
    const mark = this._store.forgotten(Date.now(), text);
    // A mark holds nothing to restore; a state saved after the forget is restored.
    if (this._forgottenElsewhere(mark) && !mark.state) return true;
    this._restore().catch((e) => logError(`${TAG} restoring the newer stored state failed; the page is unaffected.`, e));
    return true;
  }

  /**
   * The page is in view again: back from the back/forward cache (`fromCache`), or a tab switched
   * back to. The state another page saved meanwhile is newer than this one's, which was saved
   * when it went (unless something is left unsaved, in a tab): it is restored, as at load, so a
   * shopper's tabs take turns on one session. Otherwise a session over by the clock is ended.
   */
  _cameBack(fromCache) {
    try {
      if (this.status !== 'ready' || this._consent !== 'granted' || this._restoring) return;
      if (fromCache ? this._resumeFromCache() : this._takeTurn() && this._resumeFromCache()) return;
      this._endIfOver();
    } catch (e) {
      logError(`${TAG} internal error on ${fromCache ? 'pageshow' : 'visibilitychange'}; the page is unaffected.`, e);
    }
  }

  /**
   * Whether a tab switched back to may restore what another tab saved: nothing left unsaved here,
   * a storage that answers at once (an asynchronous one is not asked at every switch), and the
   * same shopper id, unless this page has given no variant (the stored id is then taken: a page
   * that showed one arm must not count its exposures under another).
   */
  _takeTurn() {
    if (this._dirty || this._store.answersLater) return false;
    const text = this._store.peekText();
    if (typeof text !== 'string' || text === this._store.lastText) return false;
    const snap = this._store.parse(text, Date.now())?.extra?.experiments;
    return !snap || snap.id === this._experiments.id || this._experiments.untouched;
  }

  /**
   * Ends the session the engine holds if its last event is more than the session gap ago by the
   * page's clock (a page left open, or frozen in the back/forward cache, past the gap), as a
   * reload would: its state is restored over itself at the time its clock has reached (score 0,
   * segment low, announced with cause 'restore'; its experiments aside until the next event).
   */
  _endIfOver() {
    const elapsed = Date.now() - this._lastEventAt;
    if (this._lastEventAt === 0 || !(elapsed > SESSION_GAP_MS) || !this._engine || this._consent !== 'granted') return true;
    // Busy (a restore, a replay, hooks running, the engine re-created): not now.
    if (this._restoring || this._queue.state !== 'ready') return false;
    let newest;
    let bytes;
    try {
      newest = this._engine.newestMs;
      bytes = this._engine.exportState();
    } catch (e) {
      this._engineFailed(e);
      return true;
    }
    this._lastEventAt = 0;
    if (newest === null) return true;
    const reports = this._reports.snapshot();
    // A record without a prototype, as the store's: _restoreStored tells a state from a forget
    // mark by the fields it lacks.
    const saved = record({ bytes, extra: { experiments: this._experiments.snapshot(), ...(reports && { reports }) } });
    // Its own snapshot taken back: whether the id is in storage stays as it was (with the state
    // in memory it is not, and experiments stay off).
    const stored = this._experiments.stored;
    // The engine's time (the events' own `ts`, which a page may give) moved on as the clock did.
    // Given the state, the restore runs to its end now (no read to wait for): a variant asked
    // for right after is the new session's, and an exposure right after is not held back.
    this._restoreStored(saved, newest + elapsed).catch((e) => logError(`${TAG} ending the session failed; the page is unaffected.`, e));
    this._experiments.stored = stored;
    return true;
  }

  /**
   * Takes in what another tab of this shopper saved (`text`, the stored entry): the experiment id
   * it drew, while this page has neither an id stored nor a variant given; and the experiments
   * its session saw, entered, was exposed to and dismissed, when it is this session (see
   * `Experiments.merge`). Synchronous backends only (an asynchronous one is read at load).
   */
  _fromOtherTab(text) {
    if (typeof text !== 'string' || text === this._store.lastText || text === this._heardText) return;
    if (this._store.answersLater || this._consent !== 'granted') return;
    this._heardText = text;
    const snap = this._store.parse(text, Date.now())?.extra?.experiments;
    if (!snap || typeof snap !== 'object') return;
    const ex = this._experiments;
    if (!ex.stored && snap.id !== ex.id && ex.untouched) ex.restoreShopper(snap);
    ex.merge(snap);
    this._syncConverted();
  }

  /**
   * Back from the back/forward cache with a backend that answers asynchronously: what is stored
   * now is read before anything is saved again, since another page may have forgotten the
   * shopper, or saved a newer state, while this one was in the cache (the synchronous route is
   * `_resumeFromCache`'s).
   */
  async _recheckStored() {
    this._rechecking += 1;
    let timer = 0;
    try {
      const before = this._store.lastText;
      // A backend that never answers holds the saves back no longer than it holds its lane; a
      // forget its late answer brings is still followed.
      const late = new Promise((res) => { timer = setTimeout(() => res(LATE), ANSWER_WAIT_MS); });
      const reading = this._store.read(Date.now());
      const saved = await race([reading, late]);
      if (saved === LATE) {
        reading.then((s) => {
          if (s && Number.isFinite(s.forgotten) && this.status === 'ready') this._forgottenElsewhere({ forgotten: s.forgotten, withdrawn: s.withdrawn, state: false });
        }).catch(() => {});
        return;
      }
      if (!saved || saved.discarded || this.status !== 'ready') return;
      if (Number.isFinite(saved.forgotten)) {
        this._forgottenElsewhere({ forgotten: saved.forgotten, withdrawn: saved.withdrawn, state: false });
        return;
      }
      if (this._store.lastText === before) return; // what this page saved last
      // An older save of this page's own that landed after its newer one: the newer goes again.
      if (saved.savedAt <= this._store.lastSavedAt) {
        this._store.writeNewestAgain();
        return;
      }
      if (Number.isFinite(saved.forgotAt)) this._forgottenElsewhere({ forgotten: saved.forgotAt, withdrawn: false, state: true });
      if (this.status === 'ready') await this._restore(saved); // the state just read, not read again
    } finally {
      clearTimeout(timer);
      this._rechecking -= 1;
      if (this._rechecking === 0 && this._dirty && this.status === 'ready') this._markDirty();
    }
  }

  /**
   * Reads the stored state, waiting `ANSWER_WAIT_MS` at most: a backend that has not answered by
   * then is replaced by memory for this page (the widget starts without its state and saves
   * nothing over it); a forget its late answer brings is still followed.
   */
  async _readInTime(now) {
    let timer = 0;
    const reading = this._store.read(now);
    const late = new Promise((res) => { timer = setTimeout(() => res(LATE), ANSWER_WAIT_MS); });
    try {
      const saved = await race([reading, late]);
      if (saved !== LATE) return saved;
    } finally {
      clearTimeout(timer);
    }
    if (!this._queue.open) return null; // destroyed meanwhile: nothing to say
    this._store.gaveUpOnRead(ANSWER_WAIT_MS);
    reading.then((s) => {
      if (!s || !Number.isFinite(s.forgotten)) return;
      // A forget made while this page ran is followed; an older mark is what an answer in time
      // would have brought: known, nothing to undo.
      if (s.forgotten > this._startedAt && this.status === 'ready') this._forgottenElsewhere({ forgotten: s.forgotten, withdrawn: s.withdrawn, state: false });
      else this._forgottenAt = Math.max(this._forgottenAt, s.forgotten);
    }).catch(() => {});
    return null;
  }

  /** Restores the stored state: `given`, one just read (`_recheckStored`), or read now. */
  async _restore(given, engineNow) {
    // A count: a restore may begin while another still reads (back from the back/forward cache
    // during load's read), and the first to end must not clear the second's.
    this._restoring += 1;
    try {
      await this._restoreStored(given, engineNow);
    } finally {
      this._restoring -= 1;
    }
  }

  /** `engineNow`: the time the engine's clock shows (by default the page's). */
  async _restoreStored(given, engineNow) {
    const first = !this._stateRead;
    this._stateRead = true;
    const now = Date.now();
    const forgets = this._forgets;
    const saved = given ?? (await this._readInTime(now));
    // forget() while an asynchronous backend was reading: what it read is what was forgotten.
    if (!saved || !this._engine || this._forgets !== forgets) return;
    if (saved.discarded) {
      logWarn(`${TAG} the stored state was discarded: ${saved.discarded}`);
      return;
    }
    // A forget in another tab while this page waited for consent or loaded: the events queued
    // before it go too (a forget or withdrawal made here already emptied the queue).
    if (first) this._dropHeld({ forgotten: saved.forgotten ?? saved.forgotAt, withdrawn: saved.withdrawn === true });
    // The shopper was forgotten (in this tab or another) and nothing was saved since.
    if (saved.forgotten) {
      this._forgottenAt = Math.max(this._forgottenAt, saved.forgotten);
      return;
    }
    // A state saved after a forget: this widget knows of that forget, whether or not the engine
    // takes the state (a deploy), so that its own saves carry the forget's time on.
    if (Number.isFinite(saved.forgotAt)) this._forgottenAt = Math.max(this._forgottenAt, saved.forgotAt);
    try {
      this._engine.restoreState(saved.bytes, engineNow ?? now);
    } catch (e) {
      const err = toError(e);
      if (err.code === 'ENGINE_FAILED') { this._engineFailed(err); return; }
      logWarn(`${TAG} the stored state was discarded: ${err.code}: ${err.message}`);
      // A state the engine refused as another model's, hidden size's, window's or format's (a
      // deploy, not damage the checksum found): the shopper keeps their id, so their
      // experiment arms, and what they were exposed to; the next save writes them again. A
      // damaged entry is not trusted for anything.
      if (STALE_STATE.test(err.message)) this._experiments.restoreShopper(saved.extra?.experiments);
      this._store.remove();
      this._experiments.stored = false; // until the next save writes it again
      return;
    }
    // Only beside a state the engine took: an entry is restored whole or not at all. An
    // experiment session that ended before this load is kept aside, with its reports, until the
    // next event says whether the engine takes the session up again.
    if (this._experiments.restore(saved.extra?.experiments, now)) this._reports.restore(saved.extra?.reports);
    else if (this._experiments.endedAside) this._reports.restore(saved.extra?.reports, { ended: true });
    this._checkpoint = saved.bytes;
    this._unsaved.length = 0;
    // A session that goes on is timed from its last event (the page's clock, as the engine's).
    try {
      const newest = this._engine.newestMs;
      this._lastEventAt = newest !== null && this._engine.history().length > 0 ? Math.min(now, newest) : 0;
    } catch (e) {
      this._engineFailed(e);
      return;
    }
    this._armEnd();
    const segment = this.segment;
    if (segment !== this._lastSegment) this._segmentChanged(segment, this._lastSegment, this.score, 'restore');
    this._syncConverted();
  }

  /**
   * The timer that ends the session in a page left open past the session gap. One per page, not
   * set again at each event: when it fires, it waits on for the newest event's gap if need be.
   */
  _armEnd() {
    if (this._lastEventAt === 0) {
      clearTimeout(this._endTimer);
      this._endTimer = 0;
      return;
    }
    if (this._endTimer) return;
    this._endTimer = setTimeout(() => {
      this._endTimer = 0;
      try {
        if (this._lastEventAt === 0) return;
        if (this._lastEventAt + SESSION_GAP_MS + 1000 > Date.now()) {
          this._armEnd();
          return;
        }
        // Busy when it fired: tried again a little later.
        if (!this._endIfOver() && this._lastEventAt !== 0) this._endTimer = setTimeout(() => { this._endTimer = 0; this._armEnd(); }, 5000);
      } catch (e) {
        logError(`${TAG} internal error ending a session; the page is unaffected.`, e);
      }
    }, Math.max(0, this._lastEventAt + SESSION_GAP_MS + 1000 - Date.now()));
  }

  /** Replays the queue in slices of about `SLICE_MS`, giving the page the main thread between. */
  async _replay() {
    let sliceStart = monotonicMs();
    while (this._queue.length > 0 && this._queue.state === 'replaying') {
      this._process(this._queue.shift());
      if (monotonicMs() - sliceStart > SLICE_MS) {
        await yieldToMain();
        sliceStart = monotonicMs();
      }
    }
    if (this._queue.state === 'replaying') this._queue.to('ready');
  }

  // -------------------------------------------------------------------------------------------
  // Events and hooks

  /** Tracks one copied event and runs the hooks; returns the `Update` or `null`. */
  _process(event) {
    let update;
    // How far a page's ts is before the newest time tracked on this page (no call into the
    // engine on the hot path), when that is more than a session gap.
    let behind = 0;
    try {
      // An event the widget timed itself cannot be late: a clock set back a little (by the
      // shopper, or by a sync) must not make it out of order, so it takes the newest event's
      // time. A clock set back further than a session gap is the engine's: a new session then.
      if (event.stamped) {
        const newest = this._engine.newestMs;
        if (newest !== null && newest > event.ts && newest - event.ts <= SESSION_GAP_MS) event.ts = newest;
      } else if (typeof event.ts === 'number' && this._newestTs - event.ts > SESSION_GAP_MS && !this._warnedBehind) {
        behind = this._newestTs - event.ts;
      }
      update = this._engine.track(event);
    } catch (e) {
      const err = toError(e);
      if (err.code === 'ENGINE_FAILED' || err.code === 'DESTROYED') {
        this._engineFailed(err, event);
      } else {
        this._warnRepeated(`events refused as ${err.code}`, `${TAG} event refused (${err.code}): ${err.message}`);
      }
      return null;
    }
    this._warnIfAhead(event);
    if (behind > 0) {
      // Taken by the engine as a clock set back: a new session. Said once, as a ts ahead is, and
      // only for an event the engine took (one it refused has had its own warning).
      this._warnedBehind = true;
      logWarn(`${TAG} an event's ts is ${span(behind)} before the newest event's: the engine takes it for a clock set back, and a new session starts with it. ts is milliseconds since the epoch in UTC; leave it out for events of now.`);
    }
    if (!update.ignored) {
      this._remember(event);
      this._markDirty();
      this._lastEventAt = Date.now();
      if (event.ts > this._newestTs) this._newestTs = event.ts;
      this._armEnd();
    }
    if (update.ignored) this._hintLookalike(event.type);
    this._reports.observe(update);
    const hooksWanted = !update.ignored || update.segmentChanged;
    if (hooksWanted) {
      this._dispatch(() => {
        this._experiments.observe(update);
        this._syncConverted(); // before the hooks: they read it as the page's CSS does
        if (!update.ignored && this._hooks.has('score')) {
          this._hooks.emit('score', Object.freeze({ score: update.score, segment: update.segment, type: String(event.type), update }));
        }
        // A score hook may have called forget() or destroy(): announce the change only if it
        // still holds. A new session that begins in the segment the last one ended in (not low)
        // is announced too, as cause 'session': pages enter experiments on this hook.
        const fresh = update.newSession && !update.ignored && update.segment !== 'low';
        if ((update.segmentChanged || fresh) && this._engine && this.segment === update.segment) {
          if (this._lastSegment !== update.segment) this._segmentChanged(update.segment, this._lastSegment, update.score, 'event');
          else if (fresh) this._segmentChanged(update.segment, this._lastSegment, update.score, 'session');
        }
      });
    }
    return update;
  }

  /**
   * One warning per type for an ignored event whose type looks like a misspelling of a GA4 name or
   * of one of the model's own kinds (`add_to_card`, `Add To Cart`): names are matched exactly, and
   * such an event is otherwise dropped without a word. The first `MAX_TYPES_LOOKED_AT` types are
   * looked at.
   */
  _hintLookalike(type) {
    const seen = this._typesLookedAt;
    if (typeof type !== 'string' || seen.size >= MAX_TYPES_LOOKED_AT || seen.has(type)) return;
    seen.add(type);
    const near = lookalike(type, [...EVENT_TYPES, ...(this._model?.kinds ?? [])]);
    if (near !== undefined) logWarn(`${TAG} events of type ${JSON.stringify(type.slice(0, 60))} are ignored: the model reads no such type (types are matched exactly). Did you mean ${JSON.stringify(near)}?`);
  }

  /**
   * Keeps a tracked event for a re-created engine; past `MAX_UNSAVED` events, the engine's
   * state becomes the checkpoint instead (in memory: storage is written on its own schedule).
   */
  _remember(event) {
    if (this._unsaved.length >= MAX_UNSAVED) {
      try {
        this._checkpoint = this._engine.exportState();
        this._unsaved.length = 0;
      } catch (e) {
        this._engineFailed(e);
        return;
      }
    }
    this._unsaved.push(event);
  }

  /**
   * Runs `emit`, which calls hooks, the one way every hook is called: in the queue state
   * 'dispatching' (where `track()` queues) when the engine runs, then processes the events the
   * hooks tracked. While loading, held or recovering, `track()` queues anyway.
   */
  _dispatch(emit) {
    if (DISPATCHING_FROM.has(this._queue.state)) this._queue.during('dispatching', emit);
    else emit();
    this._drainAfterHooks();
  }

  /** Processes events that hooks tracked, right after the hooks have returned. */
  _drainAfterHooks() {
    if (this._queue.state === 'ready' && this._queue.length > 0) {
      this._queue.to('replaying');
      let n = 0;
      while (this._queue.length > 0 && this._queue.state === 'replaying') {
        if (++n > MAX_HOOK_CHAIN) {
          const dropped = this._queue.length;
          this._queue.clear();
          this._warnRepeated('cut chains of events tracked from hooks', `${TAG} hooks tracked ${MAX_HOOK_CHAIN} events one after another from one call (a hook that tracks at every score?): the ${dropped} queued now are dropped, and the widget goes on.`);
          break;
        }
        this._process(this._queue.shift());
      }
      if (this._queue.state === 'replaying') this._queue.to('ready');
    }
  }

  _segmentChanged(segment, previousSegment, score, cause, options) {
    const { push = true } = record(options);
    this._lastSegment = segment;
    markSegment(segment);
    const detail = Object.freeze({ segment, previousSegment, score, cause });
    this._restored = cause === 'restore' ? detail : null;
    this._dispatch(() => {
      // Pushed before the hooks run: an exposure a hook announces lands after the segment that led to it.
      if (this._dataLayerPush && push) this._pushDataLayer({ event: 'shopper_intent_segment', shopper_intent_segment: segment });
      this._hooks.emit('segment', detail);
      let event = null;
      try {
        event = new CustomEvent(SEGMENT_EVENT, { detail });
      } catch (e) {
        logError(`${TAG} this page's CustomEvent cannot be constructed (${errorName(e)}); no '${SEGMENT_EVENT}' event is sent.`);
      }
      try {
        if (event) dispatchEvent(event);
      } catch (e) {
        logError(`${TAG} a '${SEGMENT_EVENT}' listener threw; the widget keeps working.`, e);
      }
    });
  }

  /** Experiment hooks, and their dataLayer pushes when asked for. */
  _announce(name, detail) {
    this._dispatch(() => {
      this._hooks.emit(name, detail);
      if (this._dataLayerPush) {
        this._pushDataLayer({
          event: `shopper_intent_${name}`,
          shopper_intent_experiment: detail.experiment,
          shopper_intent_variant: detail.variant,
          shopper_intent_segment: detail.segment,
          ...(name === 'exposure' && { shopper_intent_first_exposure: detail.first }),
        });
      }
    });
  }

  _pushDataLayer(entry) {
    // Consent withdrawn (or not yet given): the widget tells the page's analytics nothing.
    if (this._consent !== 'granted') return;
    try {
      (window.dataLayer = window.dataLayer || []).push(entry);
    } catch (e) {
      this._warnRepeated('failed dataLayer pushes', `${TAG} pushing to dataLayer failed (${errorName(e)}); the widget keeps working.`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Failures of the engine itself

  /**
   * The engine broke outside its contract (a trap, a malformed answer). Says why once, then
   * re-creates the engine from the last checkpoint and the events tracked since, instead of
   * staying dead; after `MAX_RECOVERIES`, the widget stops and exposes no score. `event`, if
   * given, is the event the engine failed on: it is tracked again by the new engine.
   */
  _engineFailed(e, event) {
    const err = toError(e);
    if (err.code !== 'ENGINE_FAILED' && err.code !== 'DESTROYED') return;
    if (this._queue.state === 'recovering' || !this._queue.open) return;
    if (event !== undefined) this._queue.unshift(event);
    const old = this._engine;
    this._engine = null;
    if (old) old.free();
    this._recoveries += 1;
    if (this._recoveries > MAX_RECOVERIES || !this._modelFiles) {
      this._fail(new ShopperIntentError('ENGINE_FAILED', `the engine failed ${this._recoveries} times on this page; last: ${err.message}`));
      return;
    }
    logError(`${TAG} the engine failed (${err.message}); re-creating it from the saved state.`);
    this._queue.to('recovering');
    this._recover().catch((e2) => this._fail(toError(e2)));
  }

  /**
   * A new engine in a new wasm instance, brought to where the old one was: the checkpoint, then
   * the events tracked since, without hooks (the page has had them; the experiments, plain
   * JavaScript, were not lost). Then the queued events are processed as usual.
   */
  async _recover() {
    const glue = await loadBindings(this._urls.wasm, { timeoutMs: this._timeoutMs, fresh: true });
    if (this._queue.state !== 'recovering') return;
    const engine = await this._build(glue);
    if (this._queue.state !== 'recovering') { engine.free(); return; }
    const now = Date.now();
    const silently = (fn) => {
      try {
        fn();
      } catch (e) {
        const err = toError(e);
        if (err.code === 'ENGINE_FAILED') { engine.free(); throw err; }
        // An event or a state the new engine refuses was refused before too: nothing to redo.
      }
    };
    if (this._checkpoint) silently(() => engine.restoreState(this._checkpoint, now));
    for (const ev of this._unsaved) silently(() => engine.track(ev));
    this._glue = glue;
    this._engine = engine;
    if (this._consent !== 'granted') {
      this._queue.to('held');
      return;
    }
    this._queue.to('replaying');
    if (!this._stateRead) {
      // Consent was granted while the engine was re-created: what the stored state holds now.
      await this._restore();
      await this._replay();
      return;
    }
    const segment = this.segment;
    if (segment !== this._lastSegment) this._segmentChanged(segment, this._lastSegment, this.score, 'restore');
    this._syncConverted();
    await this._replay();
  }

  // -------------------------------------------------------------------------------------------
  // Saving

  _markDirty() {
    this._dirty = true;
    if (this._consent !== 'granted') return;
    // After 'pagehide' (a report drawn in the page's own listener, say) no timer runs any more.
    if (this._leaving) { this._flush(); return; }
    if (this._saveTimer) return;
    this._saveTimer = setTimeout(() => { this._saveTimer = 0; this._flush(); }, SAVE_DELAY_MS);
  }

  /** Writes the state now if it changed since the last save. */
  _flush() {
    clearTimeout(this._saveTimer);
    this._saveTimer = 0;
    if (!this._dirty || !this._engine || this.status !== 'ready' || this._consent !== 'granted') return;
    // Back from the cache, the stored state is being read again (_recheckStored): saved after.
    if (this._rechecking > 0) return;
    // Another tab forgot the shopper since this widget's state was read: not written back.
    if (this._forgottenElsewhere(this._store.forgotten(Date.now()))) return;
    let bytes;
    try {
      bytes = this._engine.exportState();
    } catch (e) {
      this._engineFailed(e);
      return;
    }
    this._dirty = false;
    this._checkpoint = bytes;
    this._unsaved.length = 0;
    try {
      // What another tab saved since is not written over blindly: its experiments are taken in.
      this._fromOtherTab(this._store.peekText());
      const reports = this._reports.snapshot();
      const id = this._experiments.id;
      const extra = { experiments: this._experiments.snapshot(), ...(reports && { reports }) };
      // The newest forget this widget knows of goes with the state: the save replaces the mark of
      // it, and a tab that missed the mark (a backend of the shop's raises no storage event) must
      // still see it before it writes its state from before the forget back.
      const kept = this._store.write(bytes, Date.now(), extra, this._forgottenAt);
      // The id is stored once the backend kept it (an asynchronous one says so later), unless
      // forget() drew another meanwhile.
      const stored = (ok) => { if (ok === true && this._experiments.id === id) this._experiments.stored = true; };
      if (kept && typeof kept.then === 'function') kept.then(stored, () => {});
      else stored(kept);
    } catch (e) {
      // A page that broke a global the save uses (JSON.stringify, btoa): this save is lost, not
      // the page's timer, pagehide listener or destroy(); the next change tries again.
      this._dirty = true;
      this._warnRepeated('failed saves', `${TAG} the state could not be saved (${errorName(e)}); the widget keeps working and tries again at the next change.`);
    }
  }
}

export default ShopperIntent;
