// The one-line install: configures itself from its own <script> tag's data- attributes.
//
//   <script type="module" src="/shopper-intent/snippet.js" data-model="/models/intent.bin"></script>
//
// Attributes (all optional but data-model):
//   data-model, data-manifest, data-wasm            URLs (manifest: the model's with .json)
//   data-storage="local|session|memory"             default session
//   data-consent="granted|pending"                  default granted
//   data-auto-capture="false"                       turn off reading window.dataLayer
//   data-data-layer-push="true"                     push the segment to window.dataLayer
//   data-thresholds="0.3,0.6"                       medium,high
//   data-hysteresis="0.02"  data-utc-offset-minutes="60"  data-retention-days="30"
//
// The widget starts after the page's load event, when the main thread is idle, so it never
// competes with the page's own loading. It is `window.shopperIntent`; events tracked on it
// before it is ready are queued. A page that runs before the snippet can leave its events in
// an array, `(window.shopperIntent = window.shopperIntent || []).push(event)`: they are tracked
// in order, and the same line keeps working once the widget is there (its `push` tracks). A
// function pushed so is called with the widget once it is there, in the same order: a consent
// tool that answers before the snippet has run pushes `(intent) => intent.grantConsent()`.
//
// A second copy of the snippet on the page (loaded from another URL, or another bundle) finds
// the first widget by the marker every widget carries, `Symbol.for('shopper-intent.widget')`,
// which is the same symbol in every copy, and leaves it in place.

import { ShopperIntent } from './shopper-intent.js';
import { TAG, logWarn, logError, errorName, lookalike } from './log.js';

/** `window.shopperIntent`, or undefined when the page's getter for it throws (said once). */
let readFailed = false;
function readGlobal() {
  try {
    const value = window.shopperIntent;
    // A widget's own check reads a symbol; a Proxy's traps may throw there too.
    if (value !== null && typeof value === 'object') void value[WIDGET];
    return value;
  } catch (e) {
    if (!readFailed) logWarn(`${TAG} window.shopperIntent cannot be read (${errorName(e)}): early events queued there are not tracked`);
    readFailed = true;
    return undefined;
  }
}

/** The <script> tag that loaded this module, or null (also outside a page: a server render importing it). */
function ownScript() {
  if (typeof document === 'undefined' || typeof window === 'undefined') return null;
  for (const s of document.querySelectorAll('script[src]')) {
    if (s.src === import.meta.url) return s;
  }
  return document.querySelector('script[data-model]');
}

const number = (v) => (v === undefined || v.trim() === '' || !Number.isFinite(Number(v)) ? undefined : Number(v));

/** `dataset` name → the attribute as written on the tag (`utcOffsetMinutes` → `data-utc-offset-minutes`). */
const attribute = (name) => `data-${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** A number attribute; one that is not a number is a console warning, and the option's default. */
function numberFrom(d, name) {
  const v = number(d[name]);
  if (v === undefined && d[name] !== undefined) logWarn(`${TAG} ${attribute(name)}="${d[name]}" is not a number; using the default`);
  return v;
}

/** A true/false attribute (either case); anything else is a console warning, and `fallback`. */
function flagFrom(d, name, fallback) {
  const v = d[name]?.trim().toLowerCase();
  if (v === undefined) return fallback;
  if (v === 'true' || v === 'false') return v === 'true';
  logWarn(`${TAG} ${attribute(name)}="${d[name]}" is not true or false; using ${fallback}`);
  return fallback;
}

/** The attributes the snippet reads, by their `dataset` names. */
const ATTRIBUTES = ['model', 'manifest', 'wasm', 'storage', 'consent', 'autoCapture', 'dataLayerPush', 'thresholds', 'hysteresis', 'utcOffsetMinutes', 'retentionDays'];
/** Options of `ShopperIntent.create()` that the snippet has no attribute for. */
const CREATE_ONLY = ['timeoutMs', 'modelCache', 'start'];

/**
 * One warning for each attribute of the tag that looks meant for the snippet and is not one of
 * its own: a misspelt one (`data-storgae`, `data-datalayer-push`), or an option only
 * `ShopperIntent.create()` takes. Other `data-` attributes are left alone: a tag may carry other
 * tools' (a consent manager's, a framework's).
 */
function warnUnreadAttributes(d) {
  for (const name of Object.keys(d)) {
    if (ATTRIBUTES.includes(name)) continue;
    const createOnly = CREATE_ONLY.find((o) => o.toLowerCase() === name.toLowerCase());
    const near = createOnly ? undefined : lookalike(name, ATTRIBUTES);
    if (createOnly) logWarn(`${TAG} ${attribute(name)} is not read: the snippet has no such attribute (${createOnly} is an option of ShopperIntent.create(), see the README)`);
    else if (near) logWarn(`${TAG} ${attribute(name)} is not read: did you mean ${attribute(near)}?`);
  }
}

function optionsFrom(d) {
  warnUnreadAttributes(d);
  const options = {
    model: d.model,
    manifest: d.manifest,
    wasm: d.wasm,
    storage: d.storage,
    consent: d.consent,
    autoCapture: flagFrom(d, 'autoCapture', true),
    dataLayerPush: flagFrom(d, 'dataLayerPush', false),
    hysteresis: numberFrom(d, 'hysteresis'),
    utcOffsetMinutes: numberFrom(d, 'utcOffsetMinutes'),
    retentionDays: numberFrom(d, 'retentionDays'),
    start: 'idle',
    thresholds: undefined, // set below; declared here so that the write stays on this object
  };
  if (d.thresholds) {
    const parts = d.thresholds.split(',');
    const [medium, high] = parts.map(number);
    if (parts.length === 2 && medium !== undefined && high !== undefined) options.thresholds = { medium, high };
    else logWarn(`${TAG} data-thresholds="${d.thresholds}" is not "medium,high"; using the manifest's`);
  }
  for (const k of Object.keys(options)) if (options[k] === undefined) delete options[k];
  return options;
}

/** The marker of a widget, made by any copy of the package (shopper-intent.js sets it). */
const WIDGET = Symbol.for('shopper-intent.widget');

const script = ownScript();
if (typeof document === 'undefined' || typeof window === 'undefined') {
  // Imported outside a page (a server render): nothing to start, and nothing said.
} else if (!script || !script.dataset.model) {
  logError(`${TAG} snippet.js needs a data-model attribute with the model URL; not started`);
} else if (readGlobal()?.[WIDGET] === true) {
  logWarn(`${TAG} snippet.js ran twice; keeping the first widget`);
} else {
  const before = readGlobal();
  const early = Array.isArray(before) ? before : [];
  // An element with id="shopperIntent" is window.shopperIntent too (named access): no queue of
  // the page's, and nothing to say.
  const element = typeof before === 'object' && before !== null && typeof before.nodeType === 'number';
  if (before !== undefined && before !== null && !Array.isArray(before) && !element) {
    logWarn(`${TAG} window.shopperIntent held ${typeof before === 'object' ? 'an object' : `a ${typeof before}`} that is not an array of early events: it is replaced by the widget, and nothing in it is tracked (queue early events as window.shopperIntent = window.shopperIntent || []; window.shopperIntent.push(event))`);
  }
  const intent = ShopperIntent.create(optionsFrom(script.dataset));
  try {
    window.shopperIntent = intent;
  } catch {
    // A page that made the name read-only: defined over it if it can be, else said once. The
    // widget runs either way (auto-capture, the <html> attribute); only page code cannot reach it.
    try {
      Object.defineProperty(window, 'shopperIntent', { value: intent, writable: true, configurable: true, enumerable: true });
    } catch (e) {
      logWarn(`${TAG} window.shopperIntent cannot be set (${errorName(e)}): the widget runs, but page code cannot reach it there`);
    }
  }
  // Events are tracked, functions (`(intent) => intent.grantConsent()`) called with the widget.
  for (let i = 0; i < early.length; i++) intent.push(early[i]);
  // Page code that kept the early array (`const q = window.shopperIntent`) and pushes to it later
  // reaches the widget too.
  try {
    // No spread (a page may have broken the array iterator): push() takes the events one by one.
    Object.defineProperty(early, 'push', { value: (...events) => { for (let i = 0; i < events.length; i++) intent.push(events[i]); return early.length; }, configurable: true, writable: true });
  } catch {
    // A frozen array: its pushes throw in the page's own code, as they would without the widget.
  }
}
