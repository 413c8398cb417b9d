// Where the engine's state is kept between page loads.
//
// A storage backend is a small object (the interface GrowthBook's sticky-bucket service uses:
// a keyed string store), so a shop can add IndexedDB or a cookie-free server-side store without
// editing the widget:
//
//   { kind: 'my-store', get(key) -> string | null | Promise, set(key, value) -> void | Promise,
//     remove(key) -> void | Promise }
//
// The package has three: `local` (localStorage), `session` (sessionStorage), `memory` (this page
// only). `StateStore` wraps a backend with the saved-state format, the retention period and the
// fallback to memory when the backend throws or rejects. Calls to a backend that answers with
// promises go one at a time, in the order the widget makes them (see `Lane`).

import { TAG, logWarn, logError, logInfo } from './log.js';
import { parseOwn, record as ownRecord } from './fields.js';
import { all } from './schedule.js';

/** The storage key the state is saved under. */
export const STATE_KEY = 'shopper-intent:state';
/** Version of the JSON wrapper around the engine's binary state. */
const WRAPPER_VERSION = 1;
/** The longest stored entry read (a state of the largest window is about a tenth of it). */
const MAX_ENTRY_CHARS = 1 << 20;

/**
 * JSON text of plain data (objects, arrays, strings, numbers, booleans, null), as `JSON.stringify`
 * writes it but without calling any `toJSON`: a page that gives arrays one (Prototype.js, still
 * shipped with old Magento shops, makes `JSON.stringify([1])` the string `"[1]"`) would otherwise
 * change what the widget saves.
 */
export function plainJson(value) {
  if (value === null || typeof value !== 'object') {
    // Primitives are written by JSON.stringify itself (it looks up no toJSON for them); what it
    // leaves out of an object (undefined, a function) is null here, as in an array.
    return typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number' ? JSON.stringify(value) : 'null';
  }
  let text = '';
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) text += (i ? ',' : '') + plainJson(value[i]);
    return `[${text}]`;
  }
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    text += `${text ? ',' : ''}${JSON.stringify(key)}:${plainJson(v)}`;
  }
  return `{${text}}`;
}

/** The package's own backends (memory and web storage): they answer at once, and never wait. */
const OWN = new WeakSet();
const own = (backend) => {
  OWN.add(backend);
  return backend;
};

/** This page's memory: gone with the page. */
export function memoryStore() {
  const map = new Map();
  return own({
    kind: 'memory',
    get: (key) => (map.has(key) ? map.get(key) : null),
    set: (key, value) => { map.set(key, String(value)); },
    remove: (key) => { map.delete(key); },
  });
}

/** `localStorage` or `sessionStorage`; throws when the page may not use it. */
export function webStore(kind) {
  const storage = kind === 'local' ? window.localStorage : window.sessionStorage;
  if (!storage) throw new Error(`${kind}Storage is not available`);
  return own({
    kind,
    get: (key) => storage.getItem(key),
    set: (key, value) => storage.setItem(key, value),
    remove: (key) => storage.removeItem(key),
  });
}

/** Whether `x` implements the backend interface (an object whose getters throw does not). */
export function isBackend(x) {
  try {
    return x !== null && typeof x === 'object' && typeof x.get === 'function' && typeof x.set === 'function' && typeof x.remove === 'function';
  } catch {
    return false;
  }
}

/**
 * How long a backend's promise is waited for before the next call goes ahead anyway: a backend
 * that never answers must not hold back a forget() behind it.
 */
export const ANSWER_WAIT_MS = 5000;

/**
 * The calls for one stored entry, made one at a time: the next call starts when the previous
 * promise settles (or after `ANSWER_WAIT_MS`). A backend that answers asynchronously (a server, a
 * worker) may complete two overlapping calls in either order, and then an older state could land
 * after a newer one. Calls that wait are coalesced: a write that waits behind another write of
 * the same entry replaces it, since only the newest is kept anyway. All the widgets of a page
 * that use one storage key share its lane, whatever backend object each was given (a page may
 * build a new one at every mount). The mark of a forget() does not wait (`markForgotten`).
 */
class Lane {
  busy = 0; // calls started and not yet settled
  waiting = []; // {store, key, method, args, start, promise}
  stale = new Set(); // stores whose writes went ahead of a call in flight (hurry())

  /** Counts `promise` (a call's answer, after any fallback) in flight until it settles. */
  track(promise) {
    this.busy += 1;
    let timer = 0;
    let done = false;
    const settle = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.busy -= 1;
      this.next();
    };
    timer = setTimeout(settle, ANSWER_WAIT_MS);
    promise.then(settle, settle);
  }

  /** Starts the waiting calls in order while nothing is in flight; then rewrites stale entries. */
  next() {
    while (this.busy === 0 && this.waiting.length > 0) Lane.start(this.waiting.shift());
    if (this.busy === 0 && this.stale.size > 0) {
      const stores = [...this.stale];
      this.stale.clear();
      for (const store of stores) store._rewrite();
    }
  }

  /** Starts a waiting call (`now`: ahead of the calls in flight); never throws. */
  static start(item, now = false) {
    try {
      item.start(now);
    } catch (e) {
      item.resolve(DROPPED);
      logError(`${TAG} internal error in a storage call; the page is unaffected.`, e);
    }
  }

  /** A promise of `store`'s call on `key`, made when the calls before it have settled. */
  wait(store, key, method, args) {
    const last = this.waiting[this.waiting.length - 1];
    if (method !== 'get' && last && last.store === store && last.key === key && last.method !== 'get') {
      last.method = method;
      last.args = args;
      return last.promise;
    }
    const item = { store, key, method, args, start: null, resolve: null, promise: null };
    item.promise = new Promise((resolve) => {
      item.resolve = resolve;
      item.start = (now = false) => resolve(store._callNow(item.method, item.args, now, item.key));
    });
    this.waiting.push(item);
    return item.promise;
  }

  /**
   * Drops `store`'s waiting writes of `key` (a forget() supersedes them); their callers learn
   * `DROPPED`.
   */
  drop(store, key) {
    const dropped = this.waiting.filter((item) => item.store === store && item.key === key && item.method !== 'get');
    this.waiting = this.waiting.filter((item) => !dropped.includes(item));
    for (const item of dropped) item.resolve(DROPPED);
  }

  /** The page is shown again: a rewrite `hurry()` planned for `store` is not wanted any more. */
  shown(store) {
    this.stale.delete(store);
  }

  /** Starts `store`'s waiting calls now, ahead of the calls in flight (the page is being left). */
  hurry(store) {
    const mine = this.waiting.filter((item) => item.store === store);
    if (mine.length === 0) return;
    this.waiting = this.waiting.filter((item) => item.store !== store);
    if (this.busy > 0 && mine.some((item) => item.method !== 'get')) this.stale.add(store);
    for (const item of mine) Lane.start(item, true);
  }
}

/** What a write dropped by a forget() resolves to. */
const DROPPED = Symbol('dropped');

const laneByKey = new Map();
const laneByBackend = new WeakMap();
/**
 * The lane of the entry `key` in `backend`: one per storage key for a shop's own backends; the
 * package's own (memory, web storage) answer at once and must never wait behind one.
 */
function laneOf(backend, key) {
  if (OWN.has(backend)) {
    let lane = laneByBackend.get(backend);
    if (!lane) laneByBackend.set(backend, (lane = new Lane()));
    return lane;
  }
  let lane = laneByKey.get(key);
  if (!lane) laneByKey.set(key, (lane = new Lane()));
  return lane;
}

/**
 * `backend[method](key, ...args)` for the one value a `set` carries, without spreading (a page
 * may have broken the array iterator that a spread uses).
 */
function invoke(backend, method, key, args) {
  return args.length === 0 ? backend[method](key) : backend[method](key, args[0]);
}

/** A backend's name in messages: `localStorage`, `sessionStorage`, or `the storage backend "name"`. */
function storageName(kind) {
  return kind === 'local' || kind === 'session' ? `${kind}Storage` : `the storage backend ${JSON.stringify(String(kind))}`;
}

/** A page's backend, its methods and kind read once: a getter cannot answer differently later. */
function ownBackend(x) {
  const { get, set, remove } = x;
  let kind;
  try {
    kind = typeof x.kind === 'string' && x.kind.length <= 64 ? x.kind : 'custom';
  } catch {
    kind = 'custom';
  }
  return { kind, get: (key) => get.call(x, key), set: (key, value) => set.call(x, key, value), remove: (key) => remove.call(x, key) };
}

function describeError(e) {
  try {
    return `${e && e.name ? e.name + ': ' : ''}${e && e.message ? e.message : e}`.slice(0, 200);
  } catch {
    return 'an unreadable error';
  }
}

/** What a value is, for a message: `a number`, `an object`, `an array`, a String object. */
function describeValue(v) {
  const type = typeof v;
  try {
    if (Array.isArray(v)) return 'an array';
  } catch {
    // A revoked Proxy: an object all the same.
  }
  try {
    String.prototype.valueOf.call(v); // throws for anything but a String object (no instanceof: see fields.js)
    return 'a String object';
  } catch {
    // Not a String object.
  }
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}

/** Standard base64 of bytes. */
function toBase64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Bytes of standard base64; throws on anything else. */
function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** How far ahead of the device's clock a saved state may have been saved (a clock corrected since). */
const FUTURE_SAVE_MS = 86_400_000;

/**
 * Parses the JSON wrapper `{v, savedAt, expiresAt, state, forgotAt?, extra?}` (the state's bytes
 * decoded unless `decode` is false), or the mark of a forget `{v, forgotten, withdrawn?}`;
 * throws with the reason.
 */
function parseWrapper(text, nowMs, retentionMs, decode = true) {
  if (text.length > MAX_ENTRY_CHARS) throw new Error(`it is ${text.length} characters long, more than a state can be (${MAX_ENTRY_CHARS})`);
  let w;
  try {
    w = parseOwn(text);
  } catch {
    throw new Error('it is not JSON');
  }
  if (!w || typeof w !== 'object' || Array.isArray(w)) throw new Error('it is not a state wrapper');
  if (w.v !== WRAPPER_VERSION) throw new Error(`its version is ${JSON.stringify(w.v)}, not ${WRAPPER_VERSION}`);
  // The mark forget() leaves, so that other tabs forget too (see `forgotten()`).
  if (Number.isFinite(w.forgotten)) {
    if (nowMs - w.forgotten > retentionMs) throw new Error('an old forget() mark');
    return ownRecord({ forgotten: w.forgotten, withdrawn: w.withdrawn === true });
  }
  if (!Number.isFinite(w.savedAt) || !Number.isFinite(w.expiresAt) || typeof w.state !== 'string') {
    throw new Error('it lacks savedAt, expiresAt or state');
  }
  if (w.expiresAt <= nowMs) throw new Error(`it expired at ${Math.abs(w.expiresAt) < 8.64e15 ? new Date(w.expiresAt).toISOString() : w.expiresAt}`);
  // The page's retention holds whatever the entry says of itself (another page's, or an edit's).
  if (nowMs - w.savedAt > retentionMs) throw new Error(`it was saved more than the ${Math.round(retentionMs / 86_400_000)} days retentionDays allows ago`);
  // Saved while the device's clock ran ahead (corrected since): how old it is cannot be told, so
  // neither can whether retentionDays allows it. A day of clocks that disagree is allowed.
  if (w.savedAt - nowMs > FUTURE_SAVE_MS) throw new Error(`it was saved ${Math.round((w.savedAt - nowMs) / 86_400_000)} days ahead of this device's clock, so its age cannot be told`);
  let bytes = null;
  try {
    if (decode) bytes = fromBase64(w.state);
  } catch {
    throw new Error('its state is not base64');
  }
  const extra = w.extra && typeof w.extra === 'object' && !Array.isArray(w.extra) ? w.extra : null;
  // The newest forget() the tab that saved it knew of: a tab that still holds a state from before
  // it forgets too, though the mark itself was overwritten by this save.
  const forgotAt = keptForgetTime(w.forgotAt, w.savedAt, nowMs, retentionMs);
  return ownRecord({ savedAt: w.savedAt, expiresAt: w.expiresAt, bytes, extra, forgotAt });
}

/**
 * `forgotAt` when a saved state may carry it, else null: a time no later than the save (a tab
 * cannot know of a later forget) and not in the future, each with a minute of clocks that
 * disagree allowed (a clock set back, devices sharing a shop's backend; an edited time far ahead
 * would outrank every real forget after it), and within the retention, as the mark of the
 * forget is.
 */
function keptForgetTime(forgotAt, savedAt, nowMs, retentionMs) {
  const ok = Number.isFinite(forgotAt) && forgotAt <= savedAt + 60_000 && forgotAt <= nowMs + 60_000 && nowMs - forgotAt <= retentionMs;
  return ok ? forgotAt : null;
}

/**
 * The saved state of one widget in one backend. Any backend error (disabled storage,
 * SecurityError, quota, a rejected promise) switches to memory for the rest of the page, with
 * one warning; nothing is thrown to the caller.
 */
export class StateStore {
  constructor(backend, options) {
    const { key = STATE_KEY, retentionMs } = ownRecord(options);
    this._backend = backend;
    this._key = key;
    this._retentionMs = retentionMs;
    this._last = null; // the text last read or written, for backends that answer asynchronously
    this._written = null; // the text last written (null: removed, or nothing written)
    this._writes = 0; // writes and removals made, so that a read does not outdate one made meanwhile
    this._async = false; // whether the backend has answered with a promise
    this._lastSavedAt = -Infinity; // when this page last saved a state
    this._forgetKey = `${key}:forgotten`; // the forget record (markForgotten), for such backends
  }

  /** The backend's kind after any fallback: `'local'`, `'session'`, `'memory'` or a custom name. */
  get kind() {
    return this._backend.kind ?? 'custom';
  }

  /** The storage key. */
  get key() {
    return this._key;
  }

  /** Whether the backend has answered with a promise (then `peekText` is the text last seen). */
  get answersLater() {
    return this._async && !OWN.has(this._backend);
  }

  /** Whether the state is in the page's memory (chosen, or after a failure). */
  _inMemory() {
    return OWN.has(this._backend) && this._backend.kind === 'memory';
  }

  /** The page is shown again (back from the back/forward cache): see `Lane.shown`. */
  shown() {
    laneOf(this._backend, this._key).shown(this);
  }

  /**
   * The backend did not answer the page's first read in time: the state is kept in memory for
   * this page (as after a failure), so that nothing is saved over the state it may yet hold.
   */
  gaveUpOnRead(waitedMs) {
    this._fallBack(`no answer to the first read within ${waitedMs / 1000} s`);
  }

  _fallBack(e) {
    if (this._inMemory()) return;
    logWarn(`${TAG} ${storageName(this.kind)} cannot be used (${describeError(e)}); the state is kept in memory for this page only`);
    const memory = memoryStore();
    if (this._last !== null) memory.set(this._key, this._last);
    this._backend = memory;
  }

  /**
   * Calls the backend's `method` for this entry: at once, or after the calls in flight on the same
   * entry (see `Lane`); `now` starts it at once regardless. `key` is the entry's own unless given
   * (the forget record, `markForgotten`). Returns its value or a promise.
   */
  _call(method, ...args) {
    return this._callNow(method, args, false);
  }

  _callNow(method, args, now, key = this._key) {
    const lane = laneOf(this._backend, this._key);
    if (lane.busy > 0 && !now) return lane.wait(this, key, method, args);
    // The forget record is an extra: a backend that refuses it (an allow-list of keys, say) keeps
    // serving the state, and a failure there is only a missing record.
    const record = key === this._forgetKey;
    const failed = (e) => {
      if (record) return null;
      this._fallBack(e);
      return invoke(this._backend, method, key, args);
    };
    try {
      const value = invoke(this._backend, method, key, args);
      if (!value || typeof value.then !== 'function') return value;
      this._async = true;
      const answer = Promise.resolve(value).catch(failed);
      // The next call starts after the fallback, so that it goes where this one's successor should.
      lane.track(answer);
      return answer;
    } catch (e) {
      return failed(e);
    }
  }

  /**
   * The page is being left or hidden: this entry's waiting writes start now, ahead of the calls
   * in flight, since the page may not run again to make them. The newest is written once more
   * after those calls settle, if the page still runs then. Never throws.
   */
  hurry() {
    try {
      laneOf(this._backend, this._key).hurry(this);
    } catch (e) {
      logError(`${TAG} internal error saving the state; the page is unaffected.`, e);
    }
  }

  /** When this page last saved a state (ms; -Infinity before its first save). */
  get lastSavedAt() {
    return this._lastSavedAt;
  }

  /** Writes the newest text this page wrote again (an older one landed after it). Never throws. */
  writeNewestAgain() {
    try {
      if (this._written !== null) this._rewrite();
    } catch (e) {
      logError(`${TAG} internal error saving the state; the page is unaffected.`, e);
    }
  }

  /** Writes the newest text this page wrote (or removes the entry) again; see `hurry()`. */
  _rewrite() {
    const r = this._written === null ? this._call('remove') : this._call('set', this._written);
    if (r && typeof r.then === 'function') r.catch(() => {});
  }

  /** The text this page last read or wrote. */
  get lastText() {
    return this._last;
  }

  /** The stored text now (the last one seen when the backend is asynchronous). */
  peekText() {
    if (this._async) return this._last;
    const v = this._call('get');
    if (v && typeof v.then === 'function') return this._last;
    return typeof v === 'string' ? v : null;
  }

  /**
   * Reads the saved state: `{savedAt, expiresAt, bytes, extra, forgotAt}` or the mark of a
   * forget `{forgotten, withdrawn}`, or `null` when there is none. A saved state that cannot be
   * used is removed and its reason returned as `{discarded: reason}`. With a shop's own backend
   * the forget record is read too: a state that does not know of it is the mark.
   */
  async read(nowMs) {
    const writes = this._writes;
    // The record is read beside the state, not after it: a slow backend answers both in one wait.
    const [text, record] = await all([this._call('get'), OWN.has(this._backend) ? null : this._readForgetRecord(nowMs)]);
    if (typeof text !== 'string') {
      if (text !== null && text !== undefined && !this._warnedNotText) {
        this._warnedNotText = true;
        logWarn(`${TAG} ${storageName(this.kind)} answered get() with ${describeValue(text)}, not text: nothing is restored from it. get(key) must answer the string that set(key, value) was given (or null or undefined for none), as is, without parsing it.`);
      }
      return record;
    }
    // A write made while the read was on its way is newer than what it brings.
    if (this._writes === writes) this._last = text;
    let saved;
    try {
      saved = parseWrapper(text, nowMs, this._retentionMs);
    } catch (e) {
      this.remove();
      return record ?? ownRecord({ discarded: e.message });
    }
    // A state saved by a page that knew of the forget carries its time (`forgotAt`); one that
    // does not was saved before it, or by a page that never learnt of it.
    const knew = Number.isFinite(saved.forgotten) ? saved.forgotten : saved.forgotAt;
    if (!record || (Number.isFinite(knew) && knew >= record.forgotten)) return saved;
    // A save made before a forget() landed after its mark (the backend took them out of order),
    // or a page that missed the forget saved over it: the mark is put back, nothing restored.
    if (this._writes === writes) this.markForgotten(record.forgotten, { withdrawn: record.withdrawn, recordToo: false });
    return record;
  }

  /** The forget record (`markForgotten`) as `{forgotten, withdrawn}`, or null. */
  async _readForgetRecord(nowMs) {
    try {
      const text = await this._callNow('get', [], true, this._forgetKey);
      if (typeof text !== 'string') return null;
      const w = parseWrapper(text, nowMs, this._retentionMs, false);
      return Number.isFinite(w.forgotten) ? ownRecord({ forgotten: w.forgotten, withdrawn: w.withdrawn }) : null;
    } catch {
      // Older than the retention, or not a record: ignored, and left for the next forget to
      // overwrite (removing it could remove a record another page has just written).
      return null;
    }
  }

  /**
   * The saved state in `text` (as `read` gives it, its bytes not decoded), or null for a mark, or
   * for text that is not a usable state. Never throws.
   */
  parse(text, nowMs) {
    try {
      const w = parseWrapper(text, nowMs, this._retentionMs, false);
      return Number.isFinite(w.forgotten) ? null : w;
    } catch {
      return null;
    }
  }

  /** What is stored right now, for the page to show: `{storage, key, size, savedAt, expiresAt, state}`. */
  describe(nowMs) {
    const text = this.peekText();
    if (text === null) return null;
    try {
      const w = parseWrapper(text, nowMs, this._retentionMs);
      if (!w.bytes) return null;
      return { storage: this.kind, key: this._key, size: text.length, savedAt: w.savedAt, expiresAt: w.expiresAt, state: w.bytes };
    } catch {
      return null;
    }
  }

  /**
   * Saves the engine's state bytes and `extra` (plain JSON data kept beside them), with
   * `forgotAt`, the time of the newest forget() the page knows of (none: null); never throws.
   * Returns whether the backend kept it (not memory after a failure), or a promise of that for a
   * backend that answers asynchronously.
   */
  write(bytes, nowMs, extra, forgotAt = null) {
    const kept = keptForgetTime(forgotAt, nowMs, nowMs, this._retentionMs);
    // Spread, not assigned: a setter a page put on Object.prototype would swallow an assignment.
    const w = {
      v: WRAPPER_VERSION, savedAt: nowMs, expiresAt: nowMs + this._retentionMs, state: toBase64(bytes),
      ...(kept !== null && { forgotAt: kept }), ...(extra && { extra }),
    };
    const text = plainJson(w);
    this._wrote(text);
    this._lastSavedAt = nowMs;
    const r = this._call('set', text);
    if (r && typeof r.then === 'function') return r.then((v) => v !== DROPPED && !this._inMemory(), () => false);
    return !this._inMemory();
  }

  /**
   * Replaces the saved state with the mark of a `forget()` (or a withdrawal of consent) at
   * `nowMs`: tabs that still hold the state from before see it and forget too, instead of writing
   * that state back. The mark waits for nothing: saves this page has not sent yet are dropped,
   * and the page may be gone before a call in flight answers. A shop's own backend may still
   * apply a save sent before the mark after it (a server, IndexedDB), or a page that missed the
   * forget may save over it, so there the mark is also written under a second key that saves
   * never touch, the forget record (`read` compares the two). If the backend refuses the mark,
   * the saved state is removed instead. Never throws.
   */
  markForgotten(nowMs, options) {
    const { withdrawn = false, recordToo = true } = ownRecord(options);
    const text = plainJson({ v: WRAPPER_VERSION, forgotten: nowMs, ...(withdrawn && { withdrawn: true }) });
    this._wrote(text);
    const backend = this._backend;
    const lane = laneOf(backend, this._key);
    lane.drop(this, this._key);
    lane.drop(this, this._forgetKey);
    const mark = this._callNow('set', [text], true);
    if (recordToo && !OWN.has(backend)) {
      const r = this._callNow('set', [text], true, this._forgetKey);
      if (r && typeof r.then === 'function') r.catch(() => {});
    }
    // Judged on the mark alone: the record is an extra (see _callNow).
    const checked = () => {
      if (this._backend !== backend) this._removeAfterFailure(backend);
    };
    if (mark && typeof mark.then === 'function') mark.then(checked, checked);
    else checked();
  }

  /** The mark of a forget() was refused by `backend`: removes the saved state there instead. */
  _removeAfterFailure(backend) {
    const warn = (e) => logWarn(`${TAG} forget(): ${storageName(backend.kind ?? 'custom')} refused its mark, and removing the saved state failed too (${describeError(e)}): it may come back at the next load`);
    try {
      const r = backend.remove(this._key);
      if (r && typeof r.then === 'function') Promise.resolve(r).catch(warn);
    } catch (e) {
      warn(e);
    }
  }

  /**
   * The newest forget() that `text` (the stored text now by default) tells of:
   * `{forgotten, withdrawn, state}`, where `state` says whether a state saved after the forget
   * holds it instead of the mark; or null when it tells of none. Read from the backend only when
   * it answers synchronously: an asynchronous backend is read at load, and this is the text last
   * read or written there.
   */
  forgotten(nowMs, text = this.peekText()) {
    if (typeof text !== 'string') return null;
    // Called before every save: an entry that tells of no forget is not parsed, and a state's
    // bytes are not decoded.
    if (!text.includes('"forgotten"') && !text.includes('"forgotAt"')) return null;
    try {
      const w = parseWrapper(text, nowMs, this._retentionMs, false);
      if (Number.isFinite(w.forgotten)) return ownRecord({ forgotten: w.forgotten, withdrawn: w.withdrawn, state: false });
      return Number.isFinite(w.forgotAt) ? ownRecord({ forgotten: w.forgotAt, withdrawn: false, state: true }) : null;
    } catch {
      return null;
    }
  }

  /** Notes a write of `text` (null: a removal) before it is made. */
  _wrote(text) {
    this._last = text;
    this._written = text;
    this._writes += 1;
  }

  /** Removes the saved state; never throws. */
  remove() {
    this._wrote(null);
    const r = this._call('remove');
    if (r && typeof r.then === 'function') r.catch(() => {});
  }
}

/**
 * Removes the package's entry from the page's localStorage and sessionStorage, where a state kept
 * in memory now (Global Privacy Control, a storage that fails) may have left one before. Never throws.
 */
export function removeFromWebStorage(key = STATE_KEY) {
  for (const name of ['localStorage', 'sessionStorage']) {
    try {
      window[name].removeItem(key);
    } catch {
      // Not reachable: nothing of ours can be there either.
    }
  }
}

/**
 * The backend for the `storage` option: a name or a backend object. Unknown names fall back to
 * `'session'` with a warning; a web storage the page may not use falls back to memory.
 */
export function resolveBackend(option, { globalPrivacyControl }) {
  let choice = option ?? 'session';
  if (typeof choice !== 'string' && !isBackend(choice)) {
    logWarn(`${TAG} the storage option must be 'local', 'session', 'memory' or a backend {get, set, remove}; using 'session'`);
    choice = 'session';
  }
  if (typeof choice === 'string' && !['local', 'session', 'memory'].includes(choice)) {
    logWarn(`${TAG} unknown storage ${choice.length > 40 ? `(a string of ${choice.length} characters)` : JSON.stringify(choice)}; using 'session'`);
    choice = 'session';
  }
  if (choice !== 'memory' && globalPrivacyControl) {
    logInfo(`${TAG} Global Privacy Control is on: the state is kept in memory for this page only`);
    return memoryStore();
  }
  if (choice === 'memory') return memoryStore();
  if (typeof choice !== 'string') return ownBackend(choice);
  try {
    return webStore(choice);
  } catch (e) {
    logWarn(`${TAG} ${storageName(choice)} cannot be used (${describeError(e)}); the state is kept in memory for this page only`);
    return memoryStore();
  }
}
