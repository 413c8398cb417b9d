// Hooks: callbacks the page registers by name. They always run after the engine has returned,
// never inside it; a hook that throws is reported and the others still run.

const TAG = '[shopper-intent]';

/** The hooks a page can register. */
export const HOOK_NAMES = Object.freeze(['score', 'segment', 'exposure', 'conversion']);

export class Hooks {
  constructor() {
    this._sets = new Map(HOOK_NAMES.map((n) => [n, new Set()]));
  }

  /** Registers `callback` for `name`; returns the function that unregisters it, or null. */
  on(name, callback) {
    const set = this._sets.get(name);
    if (!set || typeof callback !== 'function') return null;
    const entry = (detail) => callback(detail); // A callback registered twice runs twice.
    set.add(entry);
    return () => { set.delete(entry); };
  }

  /** Whether anything listens to `name` (so details are built only when needed). */
  has(name) {
    return (this._sets.get(name)?.size ?? 0) > 0;
  }

  /** Calls every hook of `name` with `detail`; a throwing hook is reported and skipped. */
  emit(name, detail) {
    const set = this._sets.get(name);
    if (!set || set.size === 0) return;
    for (const hook of [...set]) {
      try {
        hook(detail);
      } catch (e) {
        console.error(`${TAG} a '${name}' hook threw; the widget keeps working.`, e);
      }
    }
  }

  clear() {
    for (const set of this._sets.values()) set.clear();
  }
}
