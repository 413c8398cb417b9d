// Scheduling: giving the main thread back to the page. Nothing here knows the engine.

/** Work done in one go before yielding to the page (input, rendering) again. */
export const SLICE_MS = 8;

/** Set once `performance.now()` has failed: from then on every span is timed by `Date.now()`. */
let performanceClockBroken = false;

/**
 * Milliseconds for measuring spans (load timings, replay slices): `performance.now()`, or
 * `Date.now()` on a page whose performance clock throws or answers no number, so that a broken
 * clock of the page is not taken for a failing engine. Once it has failed, `Date.now()` for the
 * rest of the page, so that two readings of a span come from the same clock (a span across the
 * switch is the one exception).
 */
export function monotonicMs() {
  if (!performanceClockBroken) {
    try {
      const t = performance.now();
      if (Number.isFinite(t)) return t;
    } catch {
      // Below.
    }
    performanceClockBroken = true;
  }
  try {
    const t = Date.now();
    if (Number.isFinite(t)) return t;
  } catch {
    // Below.
  }
  return 0;
}

/** Gives the main thread back to the page before continuing (a macrotask, not a microtask). */
export function yieldToMain() {
  try {
    // A page's polyfill of scheduler.yield may throw or reject: then a message or a timer.
    if (typeof globalThis.scheduler?.yield === 'function') return Promise.resolve(globalThis.scheduler.yield()).catch(afterMessage);
  } catch {
    // Below.
  }
  return afterMessage();
}

/** A macrotask later: a MessageChannel's message, or a timer where there is none. */
function afterMessage() {
  return new Promise((resolve) => {
    try {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => resolve();
      channel.port2.postMessage(null);
    } catch {
      // No MessageChannel (an old or stripped-down environment): a timer, which browsers may
      // clamp to 4 ms after a few nested ones.
      setTimeout(resolve, 0);
    }
  });
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

/** The longest delay browsers' timers keep (2^31 - 1 ms, about 24.8 days): a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `Promise.race` of our own, for the package's own (native) promises: a page that replaced or broke
 * `Promise.race` (an old polyfill, a test harness) does not stop the widget. Only `new Promise`
 * and `then` (the package still calls `Promise.resolve` elsewhere).
 */
export function race(promises) {
  return new Promise((resolve, reject) => {
    for (let i = 0; i < promises.length; i++) promises[i].then(resolve, reject);
  });
}

/** `Promise.all` of our own, for the same reason as `race` (values that are not promises too). */
export function all(promises) {
  return new Promise((resolve, reject) => {
    const values = new Array(promises.length);
    let left = promises.length;
    if (left === 0) resolve(values);
    for (let i = 0; i < promises.length; i++) {
      const took = (v) => {
        values[i] = v;
        if (--left === 0) resolve(values);
      };
      // A value that is not a promise is taken as it is, as Promise.all takes it.
      const p = promises[i];
      if (typeof p?.then === 'function') p.then(took, reject);
      else took(p);
    }
  });
}
