// The event queue and the one explicit state that decides what `track()` does with an event.
//
//   state         what track() does                      left when
//   'loading'     queue                                  the engine is ready (or failed)
//   'held'        queue (consent pending, nothing kept)   grantConsent()
//   'replaying'   queue, behind the events replayed      the queue is empty
//   'ready'       process now                            -
//   'dispatching' queue; processed right after the hooks the hooks have returned
//   'recovering'  queue                                  the engine is re-created (then 'held'
//                                                        again if consent is still pending)
//   'failed'      drop                                   -
//   'destroyed'   drop                                   -

import { TAG, logWarn } from './log.js';

/** Events kept while the engine loads or consent is pending; the oldest are dropped beyond it. */
export const MAX_QUEUE = 256;

const NEXT = {
  loading: ['held', 'replaying', 'failed', 'destroyed'],
  held: ['replaying', 'recovering', 'failed', 'destroyed'],
  replaying: ['ready', 'dispatching', 'recovering', 'failed', 'destroyed'],
  ready: ['dispatching', 'replaying', 'recovering', 'failed', 'destroyed'],
  dispatching: ['ready', 'replaying', 'recovering', 'failed', 'destroyed'],
  recovering: ['replaying', 'held', 'failed', 'destroyed'],
  failed: ['destroyed'],
  destroyed: [],
};

export class EventQueue {
  // Public fields are declared, so that writing them never reaches a setter a page put on
  // Object.prototype (the same in every class of the package).
  state = 'loading';

  constructor(max = MAX_QUEUE) {
    this._max = max;
    this._events = [];
    /** When each event was queued (`Date.now()`): a forget in another tab drops those before it. */
    this._queuedAt = new WeakMap();
    this._warned = false;
    /** Events dropped since the widget was last ready; said with their count when it is again. */
    this._dropped = 0;
  }

  /** Moves to `next`; a move the table does not allow is a bug and throws. */
  to(next) {
    if (next === this.state) return;
    if (!NEXT[this.state]?.includes(next)) throw new Error(`internal: the event queue cannot go from ${this.state} to ${next}`);
    this.state = next;
    if (next === 'ready' && this._dropped > 0) {
      logWarn(`${TAG} ${this._dropped} event${this._dropped === 1 ? ' was' : 's were'} dropped while waiting (at most ${this._max} wait; the newest are kept)`);
      this._dropped = 0;
      this._warned = false;
    }
  }

  /** Runs `fn` in `state`, then returns to the state before unless `fn` moved elsewhere. */
  during(state, fn) {
    const before = this.state;
    this.to(state);
    try {
      return fn();
    } finally {
      if (this.state === state) this.to(before);
    }
  }

  /** Whether events are taken at all. */
  get open() {
    return this.state !== 'failed' && this.state !== 'destroyed';
  }

  /** Whether an event is processed now rather than queued. */
  get immediate() {
    return this.state === 'ready';
  }

  get length() {
    return this._events.length;
  }

  /**
   * Queues an event, dropping the oldest beyond the bound: one warning when the first is dropped,
   * and one with the count when the widget is ready again (events queued then are being replayed).
   */
  push(event) {
    if (this._events.length >= this._max) {
      this._events.shift();
      this._dropped++;
      if (!this._warned) {
        this._warned = true;
        logWarn(`${TAG} more than ${this._max} events are waiting; the oldest are dropped`);
      }
    }
    this._events.push(event);
    let at = NaN;
    try {
      at = Date.now();
    } catch {
      // A page whose clock throws: queued without a time, which a forget in another tab drops.
    }
    this._queuedAt.set(event, at);
  }

  /** Drops the events queued at or before `at` (a forget made then); returns how many. */
  dropQueuedBy(at) {
    const before = this._events.length;
    // An event without a queue time (one put back after the engine failed on it) is dropped too,
    // as the whole queue was before queue times were kept.
    this._events = this._events.filter((e) => this._queuedAt.get(e) > at);
    return before - this._events.length;
  }

  shift() {
    return this._events.shift();
  }

  /** The newest event queued, or undefined. */
  get newest() {
    return this._events[this._events.length - 1];
  }

  /** Whether `event` (an object `push` was given) is still queued. */
  includes(event) {
    return this._events.includes(event);
  }

  /** Puts an event back at the head (one that was taken off and could not be processed). */
  unshift(event) {
    this._events.unshift(event);
  }

  clear() {
    this._events.length = 0;
  }
}
