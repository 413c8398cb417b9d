// On-device experiments on purchase intent: assignment, holdout, eligibility, exposure and
// conversion, with no server and no event leaving the device.
//
// Assignment is deterministic: an anonymous random id, made on this device and kept with the
// saved state (never a fingerprint; a new one after `forget()`), is hashed with the experiment
// key into a bucket in [0, 1) with GrowthBook's hash, version 2: FNV-1a 32-bit over the UTF-16
// code units of `key + id`, hashed again as a decimal string, modulo 10000, divided by 10000
// (GrowthBook SDK specification 0.5.4, `hash` cases; Fowler, Noll and Vo's FNV-1a). The holdout
// is decided first, with its own seed `key + "/holdout"`; the variants then share the bucket
// by their weights, in order.

import { SESSION_GAP_MS, ShopperIntentError } from './engine.js';
import { TAG, logWarn, logError, errorName } from './log.js';
import { field, isThenable, keyMap, record, sum } from './fields.js';

/** The variant of holdout shoppers: show them no personalization. */
export const HOLDOUT = 'holdout';
/** The value a private report gives a session that entered no variant (`reports.js`): no variant may be named so. */
export const NOT_ENTERED = 'none';
/** The most experiments one page may define. */
export const MAX_EXPERIMENTS = 32;

/** FNV-1a, 32 bits, over the UTF-16 code units of `text` (as GrowthBook's SDK hashes). */
export function fnv1a32(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** GrowthBook's version-2 bucket of `value` under `seed`: a number in [0, 1) with 4 decimals. */
export function bucket(seed, value) {
  return (fnv1a32(String(fnv1a32(seed + value))) % 10000) / 10000;
}

/**
 * A fresh anonymous id: 128 random bits as hex; null where the page has no working
 * `crypto.getRandomValues` (the widget does not start there). A plain loop: pages with
 * MooTools replace `Array.from` with one that ignores its mapping function.
 */
export function newId() {
  let bytes;
  try {
    bytes = crypto.getRandomValues(new Uint8Array(16));
  } catch {
    return null;
  }
  let hex = '';
  for (const b of bytes) hex += (b < 16 ? '0' : '') + b.toString(16);
  return hex;
}

const bad = (message) => new ShopperIntentError('BAD_EXPERIMENT', message);
const KEY = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * Checks an experiment definition and returns its normal form; throws `BAD_EXPERIMENT` with
 * the reason. `{key, variants, weights?, holdout?, eligible?, autoExpose?}`.
 */
export function checkExperiment(def) {
  if (!def || typeof def !== 'object') throw bad('an experiment is an object {key, variants, ...}');
  let key, variants, weights, holdout, eligible, autoExpose;
  try {
    // Fields of the definition, never of a polluted Object.prototype.
    [key, variants, weights, holdout, eligible, autoExpose] = ['key', 'variants', 'weights', 'holdout', 'eligible', 'autoExpose'].map((name) => field(def, name));
    // Plain copies, read once: a Proxy or a getter cannot answer differently later.
    if (Array.isArray(variants) && variants.length <= 16) variants = Array.from(variants);
    if (Array.isArray(weights) && weights.length <= 16) weights = Array.from(weights);
  } catch (e) {
    throw bad(`the experiment's fields cannot be read (${errorName(e)})`);
  }
  if (typeof key !== 'string' || !KEY.test(key)) throw bad('key must be 1 to 64 letters, digits or _ . : -');
  if (!Array.isArray(variants) || variants.length < 1 || variants.length > 16) throw bad(`${key}: variants must be an array of 1 to 16 names`);
  variants = variants.map((v) => {
    if (typeof v !== 'string' || !KEY.test(v)) throw bad(`${key}: a variant name must be 1 to 64 letters, digits or _ . : -`);
    if (v === HOLDOUT) throw bad(`${key}: '${HOLDOUT}' is reserved for the holdout`);
    if (v === NOT_ENTERED) throw bad(`${key}: '${NOT_ENTERED}' is reserved: private reports give it to sessions not in the experiment`);
    return v;
  });
  if (new Set(variants).size !== variants.length) throw bad(`${key}: variant names must differ`);
  if (weights === undefined || weights === null) {
    weights = variants.map(() => 1 / variants.length);
  } else {
    if (!Array.isArray(weights) || weights.length !== variants.length) throw bad(`${key}: weights must have one number per variant`);
    if (!weights.every((w) => typeof w === 'number' && Number.isFinite(w) && w >= 0)) throw bad(`${key}: weights must be numbers >= 0`);
    const total = sum(weights);
    if (!(total > 0)) throw bad(`${key}: weights must not all be 0`);
    if (Math.abs(total - 1) > 1e-6) throw bad(`${key}: weights must sum to 1 (they sum to ${total})`);
    weights = [...weights];
  }
  holdout = holdout ?? 0;
  if (typeof holdout !== 'number' || !(holdout >= 0 && holdout < 1)) throw bad(`${key}: holdout must be a share from 0 to below 1`);
  if (eligible !== undefined && eligible !== null && typeof eligible !== 'function') throw bad(`${key}: eligible must be a function ({segment, score}) => boolean`);
  if (autoExpose !== undefined && autoExpose !== null && typeof autoExpose !== 'boolean') throw bad(`${key}: autoExpose must be a boolean`);
  return Object.freeze({ key, variants: Object.freeze(variants), weights: Object.freeze(weights), holdout, eligible: eligible ?? null, autoExpose: autoExpose === true });
}

/** The variant of `id` in the (checked) experiment: a variant name or `HOLDOUT`. */
export function assign(exp, id) {
  if (exp.holdout > 0 && bucket(`${exp.key}/holdout`, id) < exp.holdout) return HOLDOUT;
  const b = bucket(exp.key, id);
  let upper = 0;
  for (let i = 0; i < exp.variants.length; i++) {
    upper += exp.weights[i];
    if (b < upper) return exp.variants[i];
  }
  return exp.variants[exp.variants.length - 1];
}

/**
 * A new experiment session. Its `nonce` names it: tabs merge what they saved of one session only
 * (`merge`), and a shop's own session id may begin a new one within the session gap.
 */
const freshSession = () => ({ entered: keyMap(), exposed: keyMap(), dismissed: keyMap(), converted: false, tracked: false, lastAt: 0, nonce: newId()?.slice(0, 16) ?? null });

/** Names of the form experiment() accepts, and no more entries than a page may define. */
const readMap = (m) => keyMap(m && typeof m === 'object' ? Object.entries(m).filter(([k, v]) => KEY.test(k) && typeof v === 'string' && KEY.test(v)).slice(-MAX_EXPERIMENTS) : []);
/** A saved session in its normal form; anything malformed is left out. */
const readSession = (x) => ({
  entered: readMap(x.entered), exposed: readMap(x.exposed), dismissed: readMap(x.dismissed),
  converted: x.converted === true, tracked: x.tracked === true, lastAt: Number.isFinite(x.lastAt) ? x.lastAt : 0,
  nonce: typeof x.nonce === 'string' && /^[0-9a-f]{16}$/.test(x.nonce) ? x.nonce : null,
});

/** Whether `variant` is one the (checked) experiment can give now. */
const fits = (exp, variant) => exp.variants.includes(variant) || (variant === HOLDOUT && exp.holdout > 0);

/**
 * The experiments of one widget: which ones this session entered, was exposed to and converted
 * in. `emit(name, detail)` runs hooks; `intent()` gives `{segment, score}` now; `changed()` is
 * called when something worth saving changed (an entry, an exposure).
 */
export class Experiments {
  id;
  // Whether the id is in storage: read from it, or saved since (the widget sets it).
  stored = false;

  constructor(options) {
    const { emit, intent, changed = () => {}, open = () => true } = record(options);
    this._emit = emit;
    this._intent = intent;
    this._changed = changed;
    this._open = open;
    this._defs = new Map();
    this.id = newId();
    this._session = freshSession();
    // The saved session a restore found over by the clock (`restore`): the engine may yet take
    // it up again (an event of that time, or with the session's own id), and then so do we.
    this._ended = null;
    // Experiments the shopper was exposed to on this device, in any session: an exposure says
    // whether it is the shopper's first (`first`), so that an analysis per shopper needs no id.
    this._seen = keyMap();
    this._warned = new Set();
    this._warnedEligible = new Set();
  }

  /** Checks a definition against the contract and the ones this page made; returns its normal form. */
  check(def) {
    const exp = checkExperiment(def);
    const known = this._defs.get(exp.key);
    if (!known && this._defs.size >= MAX_EXPERIMENTS) throw bad(`at most ${MAX_EXPERIMENTS} experiments per page`);
    if (known && (known.variants.join() !== exp.variants.join() || known.weights.join() !== exp.weights.join() || known.holdout !== exp.holdout)) {
      throw bad(`${exp.key}: defined twice with different variants, weights or holdout`);
    }
    return exp;
  }

  /** Checks and keeps a definition made on this page; returns its normal form. */
  define(def) {
    const exp = this.check(def);
    this._defs.set(exp.key, exp);
    return exp;
  }

  /**
   * This session's variant of a defined experiment, or null. A session enters only before its
   * purchase: one that entered after it could never convert, in whichever arm. A variant kept
   * from an earlier definition of the key that this one cannot give is dropped, with its
   * exposure, and the session enters again.
   */
  experiment(exp) {
    if (this.id === null) return null;
    const s = this._session;
    if (Object.hasOwn(s.entered, exp.key) && !fits(exp, s.entered[exp.key])) {
      logWarn(`${TAG} experiment ${exp.key}: the session's variant ${JSON.stringify(s.entered[exp.key])} is not in its definition any more; it enters again.`);
      delete s.entered[exp.key];
      delete s.exposed[exp.key];
      delete s.dismissed[exp.key];
      this._changed();
    }
    if (!Object.hasOwn(s.entered, exp.key)) {
      if (s.converted) return null;
      if (exp.eligible) {
        let ok;
        try {
          ok = exp.eligible(this._intent());
        } catch (e) {
          logError(`${TAG} the eligible() of experiment ${exp.key} threw; the session does not enter it.`, e);
          ok = false;
        }
        if (ok !== true) {
          if (typeof ok !== 'boolean') this._eligibleAnswered(exp.key, ok);
          return null;
        }
        // eligible() is the page's code: it may have withdrawn consent, forgotten the shopper
        // (a new session) or destroyed the widget meanwhile. Then nobody enters.
        if (this._session !== s || this.id === null || !this._open()) return null;
      }
      s.entered[exp.key] = assign(exp, this.id);
      this._changed();
    }
    const variant = s.entered[exp.key];
    if (exp.autoExpose) this.expose(exp.key);
    return variant;
  }

  /**
   * `eligible()` of experiment `key` answered `ok`, neither true nor false (an async function's
   * promise, a score): one warning per key, and a promise's failure is not left unhandled.
   */
  _eligibleAnswered(key, ok) {
    let thenable = false;
    try {
      thenable = isThenable(ok);
      if (thenable) ok.then(undefined, () => {});
    } catch {
      // An answer that cannot be read is not true: the session stays out, as for any other.
    }
    if (this._warnedEligible.has(key) || this._warnedEligible.size >= MAX_EXPERIMENTS) return;
    this._warnedEligible.add(key);
    logWarn(`${TAG} the eligible() of experiment ${key} answered ${thenable ? 'a promise (an async function?)' : `a ${ok === null ? 'null' : typeof ok}`}, not true or false: the session does not enter it. eligible must answer at once, with a boolean.`);
  }

  /**
   * Marks the page as showing the experiment's variant now; fires `exposure` once per session,
   * and not after the session's purchase (such an exposure could not convert). A key this page
   * never defined is one console warning: its exposures would all be lost.
   */
  expose(key) {
    const s = this._session;
    if (!this._defined(key, 'expose', 'nothing is exposed')) return false;
    if (!Object.hasOwn(s.entered, key) || Object.hasOwn(s.exposed, key) || s.converted) return false;
    const variant = s.entered[key];
    s.exposed[key] = variant;
    const first = !Object.hasOwn(this._seen, key);
    delete this._seen[key]; // kept newest last
    this._seen[key] = true;
    this._changed();
    this._emit('exposure', Object.freeze({ experiment: key, variant, first, ...this._intent() }));
    return true;
  }

  /** Whether `key` was defined on this page; else one warning per key, naming `call`. */
  _defined(key, call, consequence) {
    if (typeof key === 'string' && this._defs.has(key)) return true;
    const name = typeof key === 'string' ? key.slice(0, 64) : typeof key;
    if (!this._warned.has(name) && this._warned.size < MAX_EXPERIMENTS) {
      this._warned.add(name);
      logWarn(`${TAG} ${call}(${JSON.stringify(name)}): no experiment of that key was defined on this page with experiment(); ${consequence}.`);
    }
    return false;
  }

  /**
   * The shopper dismissed what experiment `key` showed them (an offer's close button): kept with
   * the session, so that every page of it, in any tab loaded after, and a reload, can tell
   * (`dismissed`); a new session or a forget starts without. The session stays in the
   * experiment. Returns whether it was marked now.
   */
  dismiss(key) {
    const s = this._session;
    if (!this._defined(key, 'dismiss', 'nothing is dismissed')) return false;
    if (!Object.hasOwn(s.entered, key) || Object.hasOwn(s.dismissed, key)) return false;
    s.dismissed[key] = s.entered[key];
    this._changed();
    return true;
  }

  /** Whether this session dismissed experiment `key` (`dismiss`). */
  dismissed(key) {
    return typeof key === 'string' && Object.hasOwn(this._session.dismissed, key);
  }

  /** The session's variant of experiment `key` if its definition on this page can give it, else null. */
  variantOf(key) {
    const exp = this._defs.get(key);
    const v = this._session.entered[key];
    return exp && typeof v === 'string' && fits(exp, v) ? v : null;
  }

  /** The checked definition of experiment `key` made on this page, or `undefined`. */
  definition(key) {
    return this._defs.get(key);
  }

  /** This session's assignments: `{key: variant}` of the experiments it entered. */
  assignments() {
    // A plain loop (a page may have broken the array iterator that Object.fromEntries uses), with
    // own data properties as fromEntries makes them: a key '__proto__' is a key like any other.
    const out = {};
    const entered = this._session.entered;
    const keys = Object.keys(entered);
    for (let i = 0; i < keys.length; i++) {
      Object.defineProperty(out, keys[i], { __proto__: null, value: entered[keys[i]], writable: true, enumerable: true, configurable: true });
    }
    return Object.freeze(out);
  }

  /**
   * Follows the engine: a new session starts over (unless nothing has been tracked in this one
   * yet, so an assignment made before the first event holds); a purchase converts every
   * experiment the session was exposed to, once.
   */
  observe(update, now = Date.now()) {
    if (update.ignored) return;
    if (this._ended) {
      // The first event after a restore that found the session over: a new session, or the
      // engine took the old one up again, and with it what it entered, was exposed to and
      // converted (so neither an exposure nor a purchase counts twice).
      const ended = this._ended;
      this._ended = null;
      if (!update.newSession) this._session = takeUp(ended, this._session);
    }
    if (update.newSession && this._session.tracked) this._session = freshSession();
    this._session.tracked = true;
    this._session.lastAt = now;
    if (update.converted && !this._session.converted) {
      this._session.converted = true;
      for (const [experiment, variant] of Object.entries(this._session.exposed)) {
        this._emit('conversion', Object.freeze({ experiment, variant, ...this._intent() }));
      }
    }
  }

  /** What is saved with the state (and the session a restore found over, until an event decides it). */
  snapshot() {
    return { id: this.id, session: this._session, ...(this._ended && { ended: this._ended }), seen: Object.keys(this._seen) };
  }

  /**
   * Takes a saved snapshot back; anything malformed is ignored (a new id stays). A session whose
   * last event is more than the session gap before `now` is over: the page starts a fresh one,
   * which `observe` swaps for the saved one if the engine takes that up again. Returns whether
   * the session goes on now.
   */
  restore(snap, now = Date.now()) {
    if (!this.restoreShopper(snap)) return false;
    const s = snap.session;
    if (!s || typeof s !== 'object') return false;
    const session = readSession(s);
    if (session.tracked && !(Math.abs(now - session.lastAt) <= SESSION_GAP_MS)) {
      this._ended = session;
      this._session = freshSession();
      return false;
    }
    this._session = session;
    // Saved before any event decided whether the engine takes the ended session up again.
    if (!session.tracked && snap.ended && typeof snap.ended === 'object') this._ended = { ...readSession(snap.ended), tracked: true };
    return true;
  }

  /**
   * Takes in what another tab of the same shopper saved (`snap`, its snapshot): the experiments
   * it saw, and, when its session is this one, what that session entered, was exposed to and
   * dismissed, and its purchase, none of which fires a hook here (the other tab fired them).
   * Its session is this one when it bears the same nonce (a tab that restored the other's session)
   * and both last tracked within the session gap of each other. A variant this session holds for
   * a key stays. Returns whether anything was new.
   */
  merge(snap) {
    if (!snap || typeof snap !== 'object' || snap.id !== this.id || this.id === null) return false;
    let changed = false;
    const seen = Array.isArray(snap.seen) ? snap.seen.filter((k) => typeof k === 'string' && KEY.test(k)) : [];
    const missing = seen.filter((k) => !Object.hasOwn(this._seen, k));
    if (missing.length > 0) {
      // Theirs first: this tab's own stay the newest.
      this._seen = keyMap([...missing, ...Object.keys(this._seen)].slice(-4 * MAX_EXPERIMENTS).map((k) => [k, true]));
      changed = true;
    }
    if (!snap.session || typeof snap.session !== 'object') return changed;
    const theirs = readSession(snap.session);
    const mine = this._session;
    const same = theirs.nonce !== null && theirs.nonce === mine.nonce && Math.abs(theirs.lastAt - mine.lastAt) <= SESSION_GAP_MS;
    if (!same) return changed;
    for (const part of ['entered', 'exposed', 'dismissed']) {
      for (const [key, variant] of Object.entries(theirs[part])) {
        if (Object.hasOwn(mine[part], key) || Object.keys(mine[part]).length >= MAX_EXPERIMENTS) continue;
        // An exposure or a dismissal of another variant than this session's is not this one's.
        if (part !== 'entered' && Object.hasOwn(mine.entered, key) && mine.entered[key] !== variant) continue;
        if (part !== 'entered' && !Object.hasOwn(mine.entered, key) && theirs.entered[key] !== variant) continue;
        mine[part][key] = variant;
        changed = true;
      }
    }
    if (theirs.converted && !mine.converted) {
      mine.converted = true;
      changed = true;
    }
    return changed;
  }

  /**
   * Takes back only the shopper of a saved snapshot: the id and the experiments seen, not the
   * session (for a stored state the engine refused, after a new model: the shopper keeps their
   * arms, and a later exposure is not their first). Returns whether the id was taken.
   */
  restoreShopper(snap) {
    if (!snap || typeof snap !== 'object' || typeof snap.id !== 'string' || !/^[0-9a-f]{32}$/.test(snap.id)) return false;
    this.id = snap.id;
    this.stored = true;
    // The newest keys, when a long-lived id has seen more than are kept.
    const seen = Array.isArray(snap.seen) ? snap.seen.filter((k) => typeof k === 'string' && KEY.test(k)).slice(-4 * MAX_EXPERIMENTS) : [];
    this._seen = keyMap(seen.map((k) => [k, true]));
    return true;
  }

  /** Whether this page has given no variant and nothing is kept for the session: another id may be taken. */
  get untouched() {
    return Object.keys(this._session.entered).length === 0 && Object.keys(this._session.exposed).length === 0 && this._ended === null;
  }

  /** Whether the session has a purchase (false while a restore keeps an ended session aside). */
  get converted() {
    return this._ended === null && this._session.converted;
  }

  /** Whether a restore found the saved session over and keeps it aside until the next event. */
  get endedAside() {
    return this._ended !== null;
  }

  /** A new anonymous id and a fresh session: the shopper is not recognisable any more. */
  forget() {
    this.id = newId();
    this.stored = false;
    this._session = freshSession();
    this._ended = null;
    this._seen = keyMap();
  }
}

/**
 * The session a restore found over, taken up again by the engine, with what the page did in the
 * fresh session meanwhile (before the first event: the same id, so the same variants).
 */
function takeUp(ended, fresh) {
  return {
    entered: keyMap([...Object.entries(fresh.entered), ...Object.entries(ended.entered)].slice(-MAX_EXPERIMENTS)),
    exposed: keyMap([...Object.entries(fresh.exposed), ...Object.entries(ended.exposed)].slice(-MAX_EXPERIMENTS)),
    dismissed: keyMap([...Object.entries(fresh.dismissed), ...Object.entries(ended.dismissed)].slice(-MAX_EXPERIMENTS)),
    converted: ended.converted || fresh.converted,
    tracked: true,
    lastAt: Math.max(ended.lastAt, fresh.lastAt),
    nonce: ended.nonce,
  };
}
