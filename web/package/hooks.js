// Hooks: callbacks the page registers by name. They always run after the engine has returned,
// never inside it; a hook that throws is reported and the others still run.

import { TAG, logError } from './log.js';
import { isThenable } from './fields.js';

/** The hooks a page can register. */
export const HOOK_NAMES = Object.freeze(['score', 'segment', 'exposure', 'conversion']);

function run(name, hook, detail) {
  const threw = (e) => logError(`${TAG} ${/^[aeiou]/.test(name) ? 'an' : 'a'} '${name}' hook threw; the widget keeps working.`, e);
  try {
    const result = hook(detail);
    // An async hook that fails is reported the same way, not left to the page as an unhandled rejection.
    if (isThenable(result)) result.then(undefined, threw);
  } catch (e) {
    threw(e);
  }
}

export class Hooks {
  constructor() {
    this._sets = new Map(HOOK_NAMES.map((n) => [n, new Set()]));
    /** The entry each unregistering function removes (for `emitOne`). */
    this._entries = new WeakMap();
  }

  /** Registers `callback` for `name`; returns the function that unregisters it, or null. */
  on(name, callback) {
    const set = this._sets.get(name);
    if (!set || typeof callback !== 'function') return null;
    const entry = (detail) => callback(detail); // A callback registered twice runs twice.
    set.add(entry);
    const off = () => { set.delete(entry); };
    this._entries.set(off, entry);
    return off;
  }

  /** Whether anything listens to `name` (so details are built only when needed). */
  has(name) {
    return (this._sets.get(name)?.size ?? 0) > 0;
  }

  /** Calls every hook of `name` with `detail`; a throwing hook is reported and skipped. */
  emit(name, detail) {
    const set = this._sets.get(name);
    if (!set || set.size === 0) return;
    for (const hook of [...set]) run(name, hook, detail);
  }

  /**
   * Calls the one hook of `name` that `off` (what `on` returned) unregisters, with `detail`, if
   * it is still registered; a throwing hook is reported as by `emit`.
   */
  emitOne(name, off, detail) {
    const entry = this._entries.get(off);
    if (entry && this._sets.get(name)?.has(entry)) run(name, entry, detail);
  }

  clear() {
    for (const set of this._sets.values()) set.clear();
  }
}
