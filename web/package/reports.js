// Randomized response for the page: a report of the segment or of an experiment's variant that
// a shop may send to its analytics with local differential privacy, and the estimate of the true
// shares from many such reports.
//
// The mechanism and the estimator are the engine's (crate/core's `privacy` module, through
// `engine.js`); this module adds what only the page knows: the list of values a subject can
// take, uniform numbers from `crypto.getRandomValues`, and a memo that gives the same report
// for the same truth within a session.
//
// Why the memo: a fresh report per call would let whoever collects them average the reports of
// one session back to its truth (n reports of one truth cost n·ε). With the memo, a session
// spends ε once per distinct true value and subject (RAPPOR's "permanent randomized response",
// Erlingsson, Pihur and Korolova, CCS 2014), however often the page asks; it is saved with the
// state, so a reload in the same session gets the same report too. What the memo does not hide,
// as RAPPOR says of its own: one truth always gives the same report, so two different reports of
// one session show that the truth changed. `first` marks the session's first report of a
// subject, for a page that sends only that one (ε per session, nothing about changes).

import { ShopperIntentError, randomizedResponse } from './engine.js';
import { HOLDOUT, NOT_ENTERED } from './experiments.js';
import { errorName } from './log.js';
import { field, keyMap, record, sum } from './fields.js';

/** The subject `'segment'` and its values, in the order reports and estimates use. */
export const SEGMENT = 'segment';
export const SEGMENT_VALUES = Object.freeze(['low', 'medium', 'high']);
/** What a session that has not entered an experiment reports, as one more value. */
export { NOT_ENTERED };
export const DEFAULT_EPSILON = 1;
/**
 * Reports a session may draw (one per subject, ε and true value): beyond, a new one is refused,
 * never drawn over a dropped one (a truth drawn again could be averaged back). Restored and
 * merged memos keep up to `MAX_MEMO_KEPT`.
 */
export const MAX_MEMO = 64;
const MAX_MEMO_KEPT = 4 * MAX_MEMO;
/**
 * Subjects a session has reported, kept whole for `first` (never trimmed as the memo is); beyond,
 * no report is `first` any more.
 */
const MAX_REPORTED = 256;

const bad = (message) => new ShopperIntentError('BAD_OPTIONS', message);

/**
 * ε from the options of `privateReport` or `estimateShares`: `DEFAULT_EPSILON` when absent. Only
 * the shape is checked here; the range (0, 20] is the engine's to check.
 */
export function epsilonOption(options) {
  if (options === undefined || options === null) return DEFAULT_EPSILON;
  if (typeof options !== 'object') throw bad('the options must be an object {epsilon}');
  let epsilon;
  try {
    epsilon = field(options, 'epsilon');
  } catch (e) {
    throw bad(`the options cannot be read (${errorName(e)})`);
  }
  if (epsilon === undefined) return DEFAULT_EPSILON;
  if (typeof epsilon !== 'number') throw bad('epsilon must be a number in (0, 20]');
  return epsilon;
}

/** An experiment's values: its variants, then `'holdout'` if it has a holdout, then `'none'`. */
export function experimentValues(exp) {
  return Object.freeze([...exp.variants, ...(exp.holdout > 0 ? [HOLDOUT] : []), NOT_ENTERED]);
}

/** A uniform number in [0, 1) with 53 random bits from `crypto.getRandomValues`. */
export function uniform() {
  const w = crypto.getRandomValues(new Uint32Array(2));
  return (w[0] * 2 ** 21 + (w[1] >>> 11)) / 2 ** 53;
}

/**
 * The reports of one widget's current session. `changed()` is called when the memo changed
 * (worth saving).
 */
export class PrivateReports {
  constructor(options) {
    const { changed = () => {} } = record(options);
    this._changed = changed;
    this._memo = keyMap();
    this._reported = new Set(); // subjects this session has drawn a report of (for `first`)
    // Subjects whose report was not first only because a set-aside session had reported them, and
    // subjects owed a first report since that session turned out to be over (see observe()).
    this._suppressed = new Set();
    this._owed = new Set();
    this._tracked = false;
    // The memo of a session a restore found over, until the next event says whether the engine
    // takes that session up again (experiments.js keeps its session aside the same way), and the
    // subjects it reported.
    this._ended = null;
    this._endedReported = null;
  }

  /**
   * The report of `truth` (one of `values`) about `about` with `epsilon`: the memo's if this
   * session drew one for the same subject, values, ε and truth, else a new draw by the engine.
   * Returns a frozen `{value, values, epsilon, first}`, `first` when no report of the subject
   * (with any ε or truth) was drawn before in this session. Throws `BAD_OPTIONS` (ε refused by
   * the engine, or `MAX_MEMO` reports drawn this session already) or `ENGINE_FAILED`.
   */
  report(glue, about, epsilon, values, truth) {
    const index = values.indexOf(truth);
    if (index < 0) throw new ShopperIntentError('ENGINE_FAILED', `internal: ${JSON.stringify(truth)} is not one of the values of ${about}`);
    const key = `${about}\u0000${epsilon}\u0000${values.join('\u0001')}\u0000${truth}`;
    const valid = (v) => typeof v === 'string' && values.includes(v);
    let value = this._memo[key];
    // A session set aside at the restore that the next event may yet take up: its report of the
    // same truth is this one (a second draw would be averaged with it if the session goes on).
    if (!valid(value) && this._ended && valid(this._ended[key])) return Object.freeze({ value: this._ended[key], values, epsilon, first: false });
    if (!valid(value) && Object.keys(this._memo).length >= MAX_MEMO) {
      throw bad(`this session has drawn ${MAX_MEMO} reports (one per subject, ε and true value) and draws no more: keep to a few subjects and one ε`);
    }
    // The draw before anything is recorded: a report the engine refuses (its ε) leaves the
    // session's reports as they were, the next one of the subject still first.
    const drawn = valid(value) ? null : values[randomizedResponse(glue, index, values.length, epsilon, uniform(), uniform())];
    // A report held back as not first, in a session that turned out new, is first now.
    let first = this._owed.delete(about);
    if (drawn !== null) {
      // Not first if this session, or the ended one it may yet continue, reported the subject,
      // or if the list of subjects is full.
      const fresh = !this._reported.has(about) && this._reported.size < MAX_REPORTED;
      if (fresh && this._endedReported?.has(about)) this._suppressed.add(about);
      first ||= fresh && !this._endedReported?.has(about);
      if (this._reported.size < MAX_REPORTED) this._reported.add(about);
      value = drawn;
      this._memo[key] = value;
      this._changed();
    }
    return Object.freeze({ value, values, epsilon, first });
  }

  /** Follows the engine: a new session starts a new memo (as experiments.js does). */
  observe(update) {
    if (update.ignored) return;
    if (this._ended) {
      // The session goes on: its reports hold (the ended session's first, for a subject drawn twice).
      const ended = this._ended;
      const endedReported = this._endedReported ?? new Set();
      this._ended = null;
      this._endedReported = null;
      if (!update.newSession) {
        this._memo = keyMap([...Object.entries(this._memo).filter(([k]) => !Object.hasOwn(ended, k)), ...Object.entries(ended)].slice(-MAX_MEMO_KEPT));
        this._reported = new Set([...endedReported, ...this._reported].slice(0, MAX_REPORTED));
      } else {
        this._owed = new Set(this._suppressed);
      }
      this._suppressed.clear();
    }
    if (update.newSession && this._tracked) {
      this._memo = keyMap();
      this._reported = new Set();
      this._owed.clear();
    }
    this._tracked = true;
  }

  /**
   * What is saved with the state: the memo (each report under its subject, ε, values and true
   * value) and whether the session has events; `null` when this session drew no report.
   */
  snapshot() {
    if (Object.keys(this._memo).length === 0 && !this._ended && this._reported.size === 0) return null;
    return {
      memo: { ...this._memo },
      reported: [...this._reported],
      tracked: this._tracked,
      ...(this._ended && { ended: { ...this._ended }, endedReported: [...(this._endedReported ?? [])] }),
    };
  }

  /**
   * Takes a saved snapshot back; anything malformed is ignored. With `ended` (the session was
   * over at the restore) its memo is kept aside for `observe`, and this session starts empty.
   */
  restore(snap, options) {
    const { ended = false } = record(options);
    if (!snap || typeof snap !== 'object' || !snap.memo || typeof snap.memo !== 'object') return;
    const read = (memo) => keyMap(Object.entries(memo).filter(([k, v]) => typeof v === 'string' && k.length <= 2048 && v.length <= 64).slice(-MAX_MEMO_KEPT));
    // The subjects reported: those saved, else (a state saved before there was such a list) the
    // memo's own.
    const subjects = (list, memo) => new Set((Array.isArray(list) ? list : Object.keys(memo).map((k) => k.split('\u0000')[0]))
      .filter((x) => typeof x === 'string' && x.length <= 2048).slice(0, MAX_REPORTED));
    if (ended) {
      this._ended = read(snap.memo);
      this._endedReported = subjects(snap.reported, snap.memo);
      return;
    }
    this._memo = read(snap.memo);
    this._reported = subjects(snap.reported, snap.memo);
    this._tracked = snap.tracked === true;
    // Saved before any event decided whether the engine takes the ended session up again.
    if (!this._tracked && snap.ended && typeof snap.ended === 'object') {
      this._ended = read(snap.ended);
      this._endedReported = subjects(snap.endedReported, snap.ended);
    }
  }

  forget() {
    this._memo = keyMap();
    this._reported = new Set();
    this._suppressed.clear();
    this._owed.clear();
    this._tracked = false;
    this._ended = null;
    this._endedReported = null;
  }
}

/**
 * Counts of reports in the order of `values`, from an array (in that order) or an object
 * `{value: count}` (a missing value counts 0). Only shapes are checked here; whole numbers from 0 to 2^53 - 1
 * are the engine's to check.
 * @returns {{counts: number[], values: (string|number)[]}}
 */
export function countsOption(counts, values) {
  if (values !== undefined) {
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) throw bad('values must be an array of strings (a report\'s values)');
    if (new Set(values).size !== values.length) throw bad('values must differ');
  }
  let list;
  if (Array.isArray(counts)) {
    if (values !== undefined && values.length !== counts.length) throw bad(`${counts.length} counts for ${values.length} values`);
    list = Array.from(counts);
  } else if (counts !== null && typeof counts === 'object') {
    if (values === undefined) throw bad('counts given by value need the values option (a report\'s values) for their order');
    const own = Object.keys(counts);
    const unknown = own.filter((k) => !values.includes(k));
    if (unknown.length) throw bad(`counts of values that are not among the values: ${unknown.slice(0, 3).map((k) => JSON.stringify(k)).join(', ')}`);
    list = values.map((v) => (Object.hasOwn(counts, v) ? counts[v] : 0));
  } else {
    throw bad('counts must be an array of numbers or an object {value: count}');
  }
  if (!list.every((c) => typeof c === 'number')) throw bad('every count must be a number');
  const n = sum(list);
  if (Number.isFinite(n) && n <= 0) throw bad('there are no reports to estimate from (the counts sum to 0)');
  return { counts: list, values: values ?? list.map((_, i) => i) };
}
