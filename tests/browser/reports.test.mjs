// Randomized response in the page package (web/package/reports.js, `privateReport` and
// `estimateShares`), on the engine's one implementation.
//
// The statistical tests draw 20,000 reports in the page with `crypto.getRandomValues` replaced by
// a seeded generator (an init script), so their outcome is the same on every run:
// - per true value, the reports follow the mechanism (p for the truth, q for each other value):
//   chi-square with k − 1 degrees of freedom below its 0.001 critical value;
// - `estimateShares` equals the documented formulas (π̂, se, Wilson's interval) to 1e-12;
// - it recovers the true shares: over 20 batches of 1,000 reports, the realised true share of
//   each value lies within its 95% interval at least as often as a 95% interval allows (the
//   binomial lower bound, 3 standard errors below 0.95), and on all 20,000 reports within
//   3.29 standard errors (the 99.9% interval).
// One more run with the browser's own `crypto.getRandomValues` checks the distribution at the
// 1e-6 level. The rest: the memo
// (one draw per subject, ε and truth per session, kept across a reload, new in a new session
// and after forget()), invalid input (a console error and null, never a throw), and null while
// the engine is not running.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { MODEL, PKG, WEB, importPackage, moduleHarness, ours, setup, test } from './helpers.mjs';

const { MAX_MEMO, PrivateReports, experimentValues, countsOption, epsilonOption, NOT_ENTERED, SEGMENT_VALUES } = await import(pathToFileURL(join(WEB, 'package', 'reports.js')));
const { checkExperiment } = await import(pathToFileURL(join(WEB, 'package', 'experiments.js')));

/** Chi-square critical values by degrees of freedom: at the 0.001 level, and at 1e-6 (df 2). */
const CHI2_999 = { 2: 13.816, 4: 18.467 };
const CHI2_2_1E6 = 27.631; // -2 ln(1e-6): the chi-square quantile with 2 degrees of freedom
const chiSquare = (observed, expected) => observed.reduce((sum, o, i) => sum + (o - expected[i]) ** 2 / expected[i], 0);
const N = 20_000;

/** p and q of k-ary randomized response, as crate/core/src/privacy.rs documents them. */
function mechanism(k, epsilon) {
  const e = Math.exp(epsilon);
  return { p: e / (e + k - 1), q: 1 / (e + k - 1) };
}

/**
 * Init script: `crypto.getRandomValues` from a seeded generator (SplitMix32), counting its calls
 * in `window.__randomCalls`. Everything the package draws (salt, ids, reports) is then the same
 * on every run. Also `window.__batches(log, values, epsilon, size)`: `estimateShares` of each
 * batch of `size` consecutive `[truth, reported]` pairs, with the batch's true counts.
 */
function seededCrypto(seed) {
  return {
    content: `(() => {
      let s = ${seed} >>> 0;
      const next = () => {
        s = (s + 0x9e3779b9) >>> 0;
        let z = s;
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
        return (z ^ (z >>> 16)) >>> 0;
      };
      window.__randomCalls = 0;
      crypto.getRandomValues = function (array) {
        window.__randomCalls += 1;
        const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
        for (let i = 0; i < bytes.length; i += 4) {
          const w = next();
          for (let j = 0; j < 4 && i + j < bytes.length; j++) bytes[i + j] = (w >>> (8 * j)) & 0xff;
        }
        return array;
      };
      window.__batches = async (log, values, epsilon, size) => {
        const batches = [];
        for (let i = 0; i + size <= log.length; i += size) {
          const reported = {};
          const truths = {};
          for (const [truth, value] of log.slice(i, i + size)) {
            reported[value] = (reported[value] ?? 0) + 1;
            truths[truth] = (truths[truth] ?? 0) + 1;
          }
          batches.push({ estimate: await window.SI.estimateShares(reported, { epsilon, values }), truths });
        }
        return batches;
      };
    })();`,
  };
}

/**
 * Checks a table `{truth: {reported: count}}` against the mechanism: each truth's row, by
 * chi-square with k − 1 degrees of freedom below `critical`.
 */
function checkRows(table, values, epsilon, critical) {
  const { p, q } = mechanism(values.length, epsilon);
  for (const [truth, row] of Object.entries(table)) {
    const n = values.reduce((a, v) => a + (row[v] ?? 0), 0);
    if (n < 500) continue; // too few for the approximation; such rows are asserted absent below
    const observed = values.map((v) => row[v] ?? 0);
    const expected = values.map((v) => n * (v === truth ? p : q));
    const chi = chiSquare(observed, expected);
    assert.ok(chi < critical, `truth ${truth} (${n} reports): ${JSON.stringify(row)}; chi-square ${chi.toFixed(2)} >= ${critical}`);
  }
}

/** `estimateShares`' answer against the documented estimator, and the realised true shares within `z` standard errors. */
function checkEstimate(estimate, { reported, truths, values, epsilon }, zTruth = 3.29) {
  const n = values.reduce((a, v) => a + (reported[v] ?? 0), 0);
  assert.equal(estimate.n, n);
  assert.equal(estimate.epsilon, epsilon);
  assert.deepEqual(estimate.shares.map((s) => s.value), values);
  const { p, q } = mechanism(values.length, epsilon);
  for (const s of estimate.shares) {
    const lambda = (reported[s.value] ?? 0) / n;
    const share = (lambda - q) / (p - q);
    const se = Math.sqrt((lambda * (1 - lambda)) / n) / (p - q);
    assert.ok(Math.abs(s.share - share) < 1e-12, `${s.value}: π̂ ${s.share} is (c/n − q)/(p − q) = ${share}`);
    assert.ok(Math.abs(s.se - se) < 1e-12, `${s.value}: se ${s.se} = ${se}`);
    // Wilson's score interval for λ, mapped through (λ − q)/(p − q).
    const z = 1.959963984540054;
    const centre = (lambda + (z * z) / (2 * n)) / (1 + (z * z) / n);
    const half = (z * Math.sqrt((lambda * (1 - lambda)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
    const [lo, hi] = [(centre - half - q) / (p - q), (centre + half - q) / (p - q)];
    assert.ok(Math.abs(s.lo - lo) < 1e-12 && Math.abs(s.hi - hi) < 1e-12, `${s.value}: the 95% interval [${s.lo}, ${s.hi}] is Wilson's [${lo}, ${hi}]`);
    const truth = (truths[s.value] ?? 0) / n;
    assert.ok(Math.abs(s.share - truth) <= zTruth * s.se, `${s.value}: π̂ ${s.share.toFixed(4)} is within ${zTruth} se (${s.se.toFixed(4)}) of the true share ${truth}`);
  }
}

/** Batches of reports: the realised true share within the 95% interval at the rate such an interval promises. */
function checkCoverage(batches) {
  let covered = 0;
  let intervals = 0;
  for (const { estimate, truths } of batches) {
    for (const s of estimate.shares) {
      const truth = (truths[s.value] ?? 0) / estimate.n;
      intervals += 1;
      covered += Number(s.lo <= truth && truth <= s.hi);
    }
  }
  const floor = 0.95 - 3 * Math.sqrt((0.95 * 0.05) / intervals);
  assert.ok(covered / intervals >= floor, `${covered} of ${intervals} 95% intervals hold the true share; at least ${(floor * 100).toFixed(1)}% expected`);
}



// ---------------------------------------------------------------------------------------------
// In Node: the module's shapes.

test('first: once per session and subject, also around a session set aside at a restore, and from a snapshot of the previous version', async () => {
  const glue = await import(pathToFileURL(join(PKG, 'shopper_intent_wasm.js')));
  glue.initSync({ module: readFileSync(join(PKG, 'shopper_intent_wasm_bg.wasm')) });
  const key = (truth) => `segment\u00001\u0000${SEGMENT_VALUES.join('\u0001')}\u0000${truth}`;
  const ask = (r, truth) => r.report(glue, 'segment', 1, SEGMENT_VALUES, truth);
  const event = (newSession) => ({ ignored: false, newSession });
  // A session set aside at the restore had reported the segment.
  for (const continues of [true, false]) {
    const r = new PrivateReports();
    r.restore({ memo: { [key('medium')]: 'high' }, reported: ['segment'], tracked: true }, { ended: true });
    const before = ask(r, 'low');
    assert.equal(before.first, false, 'not first while the set-aside session may continue');
    r.observe(event(!continues));
    const after = ask(r, 'low');
    assert.equal(after.value, before.value, 'the same report');
    assert.equal(after.first, !continues, continues ? 'the session went on: it had its first' : 'a new session: this is its first');
    assert.equal(ask(r, 'low').first, false, 'and only once');
    assert.equal(ask(r, 'high').first, false, 'nor for a new truth');
  }
  // A snapshot saved before there was a list of subjects: the memo's own subjects.
  const old = new PrivateReports();
  old.restore({ memo: { [key('medium')]: 'low' }, tracked: true });
  assert.equal(ask(old, 'high').first, false);
  // A full memo (MAX_MEMO reports) refuses a new draw and drops none: a truth drawn again could
  // be averaged back to it.
  const many = new PrivateReports();
  many.observe(event(true));
  const kept = ask(many, 'low');
  assert.equal(kept.first, true);
  for (let e = 1; e < MAX_MEMO; e++) many.report(glue, 'segment', 1 + e / 100, SEGMENT_VALUES, 'low');
  const full = (e) => e.code === 'BAD_OPTIONS' && new RegExp(`drawn ${MAX_MEMO} reports`).test(e.message);
  assert.throws(() => ask(many, 'medium'), full, 'a new truth is refused');
  assert.throws(() => many.report(glue, 'segment', 5, SEGMENT_VALUES, 'low'), full, 'and a new ε');
  for (let i = 0; i < 20; i++) assert.equal(ask(many, 'low').value, kept.value, 'the first report is still the memo\'s');
  // A refused draw does not use up the first report a session is owed (a set-aside session that
  // turned out to be over).
  const owed = new PrivateReports();
  owed.restore({ memo: { [key('medium')]: 'high' }, reported: ['segment'], tracked: true }, { ended: true });
  assert.equal(ask(owed, 'low').first, false, 'held back while the set-aside session may continue');
  for (let e = 1; Object.keys(owed.snapshot().memo).length < MAX_MEMO; e++) owed.report(glue, 'segment', 1 + e / 100, SEGMENT_VALUES, 'low');
  owed.observe(event(true));
  assert.throws(() => ask(owed, 'high'), full);
  assert.equal(ask(owed, 'low').first, true, 'the owed first report is still given');
  // While the set-aside session may go on, its report of a truth is the one given: not a second
  // draw of the same truth (20 widgets: a second draw would differ in most).
  for (let i = 0; i < 20; i++) {
    const pending = new PrivateReports();
    pending.restore({ memo: { [key('low')]: 'medium' }, reported: ['segment'], tracked: true }, { ended: true });
    const r = ask(pending, 'low');
    assert.deepEqual([r.value, r.first], ['medium', false], `widget ${i}`);
    pending.observe(event(false));
    assert.equal(ask(pending, 'low').value, 'medium', 'the session went on: the same report');
  }
  // Saved and restored, the full memo is whole.
  const again = new PrivateReports();
  again.restore(many.snapshot());
  assert.equal(Object.keys(again.snapshot().memo).length, MAX_MEMO);
  assert.equal(ask(again, 'low').value, kept.value);
});

test('the values of a subject, and the shapes the options may take', () => {
  assert.deepEqual([...SEGMENT_VALUES], ['low', 'medium', 'high']);
  assert.equal(NOT_ENTERED, 'none');
  assert.deepEqual([...experimentValues(checkExperiment({ key: 'k', variants: ['a', 'b'], holdout: 0.1 }))], ['a', 'b', 'holdout', 'none']);
  assert.deepEqual([...experimentValues(checkExperiment({ key: 'k', variants: ['a', 'b'] }))], ['a', 'b', 'none'], 'no holdout value without a holdout');
  assert.equal(epsilonOption(undefined), 1);
  assert.equal(epsilonOption({}), 1);
  assert.equal(epsilonOption({ epsilon: 0.5 }), 0.5);
  for (const [i, bad] of ['1', 1, { epsilon: '1' }, { epsilon: null }, { get epsilon() { throw new Error('getter'); } }].entries()) {
    assert.throws(() => epsilonOption(bad), (e) => e.code === 'BAD_OPTIONS', `options ${i}`);
  }
  assert.deepEqual(countsOption({ high: 2, low: 5 }, ['low', 'medium', 'high']), { counts: [5, 0, 2], values: ['low', 'medium', 'high'] });
  assert.deepEqual(countsOption([5, 3], undefined), { counts: [5, 3], values: [0, 1] });
  for (const [counts, values] of [[{ lo: 1 }, ['low']], [{ low: 1 }, undefined], [[1, 2], ['a']], ['12', undefined], [[0, 0], undefined], [[1, '2'], undefined], [[1], [1]]]) {
    assert.throws(() => countsOption(counts, values), (e) => e.code === 'BAD_OPTIONS', JSON.stringify([counts, values]));
  }
});

// ---------------------------------------------------------------------------------------------
// In the browser.

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

test(`${N} segment reports follow the mechanism; the estimator recovers the true shares (seeded)`, { timeout: 90_000 }, async () => {
  const { page, context } = await moduleHarness(env, seededCrypto(20261130));
  const r = await page.evaluate(async ({ model, n }) => {
    const { ShopperIntent } = window.SI;
    const intent = await ShopperIntent.load({ model, storage: 'memory', autoCapture: false });
    const table = {};
    const reported = {};
    const truths = {};
    const shapes = new Set();
    const log = [];
    let t = Date.now() - 86_400_000;
    for (let i = 0; i < n; i++) {
      intent.forget(); // a fresh shopper: a fresh draw
      t += 1000;
      if (i % 2 === 1) intent.track({ type: 'purchase', item: 'p', ts: t }); // a purchase makes the session high
      const truth = intent.segment;
      const report = intent.privateReport('segment');
      shapes.add(JSON.stringify({ values: report.values, epsilon: report.epsilon, frozen: Object.isFrozen(report) }));
      log.push([truth, report.value]);
      (table[truth] ??= {})[report.value] = (table[truth][report.value] ?? 0) + 1;
      reported[report.value] = (reported[report.value] ?? 0) + 1;
      truths[truth] = (truths[truth] ?? 0) + 1;
    }
    const values = ['low', 'medium', 'high'];
    const estimate = await ShopperIntent.estimateShares(reported, { epsilon: 1, values });
    const batches = await window.__batches(log, values, 1, 1000);
    return { table, reported, truths, shapes: [...shapes], estimate, batches };
  }, { model: MODEL, n: N });
  assert.deepEqual(r.shapes, [JSON.stringify({ values: ['low', 'medium', 'high'], epsilon: 1, frozen: true })], 'every report has the same values, ε 1 by default');
  assert.ok(Object.keys(r.reported).every((v) => ['low', 'medium', 'high'].includes(v)), `reports are values: ${Object.keys(r.reported)}`);
  assert.equal(r.truths.high, N / 2, 'half the sessions bought, and are high');
  assert.ok(r.truths.low > 0, `the others are low or medium: ${JSON.stringify(r.truths)}`);
  checkRows(r.table, SEGMENT_VALUES, 1, CHI2_999[2]);
  checkEstimate(r.estimate, { reported: r.reported, truths: r.truths, values: [...SEGMENT_VALUES], epsilon: 1 });
  checkCoverage(r.batches);
  assert.deepEqual(ours(page, 'error'), []);
  await context.close();
});

test(`${N} experiment reports (variants, holdout, none) follow the mechanism with ε = 2 (seeded)`, { timeout: 90_000 }, async () => {
  const { page, context } = await moduleHarness(env, seededCrypto(7));
  const r = await page.evaluate(async ({ model, n }) => {
    const { ShopperIntent } = window.SI;
    const intent = await ShopperIntent.load({ model, storage: 'session', autoCapture: false });
    let enter = true;
    const def = { key: 'offer', variants: ['a', 'b', 'c'], weights: [0.5, 0.3, 0.2], holdout: 0.1, eligible: () => enter };
    const table = {};
    const reported = {};
    const truths = {};
    let values = null;
    const log = [];
    for (let i = 0; i < n; i++) {
      intent.forget(); // a new anonymous id: a new assignment
      enter = i % 4 !== 0; // a quarter of the sessions never enter: they report about 'none'
      intent.experiment(def);
      const truth = intent.assignments().offer ?? 'none';
      const report = intent.privateReport('offer', { epsilon: 2 });
      values ??= report.values;
      log.push([truth, report.value]);
      (table[truth] ??= {})[report.value] = (table[truth][report.value] ?? 0) + 1;
      reported[report.value] = (reported[report.value] ?? 0) + 1;
      truths[truth] = (truths[truth] ?? 0) + 1;
    }
    const estimate = await window.SI.estimateShares(values.map((v) => reported[v] ?? 0), { epsilon: 2, values });
    const batches = await window.__batches(log, values, 2, 1000);
    return { table, reported, truths, values, estimate, batches };
  }, { model: MODEL, n: N });
  const values = ['a', 'b', 'c', 'holdout', 'none'];
  assert.deepEqual(r.values, values);
  assert.deepEqual(Object.keys(r.truths).sort(), [...values].sort(), 'every value is somebody\'s truth');
  assert.equal(r.truths.none, N / 4);
  checkRows(r.table, values, 2, CHI2_999[4]);
  checkEstimate(r.estimate, { reported: r.reported, truths: r.truths, values, epsilon: 2 });
  checkCoverage(r.batches);
  await context.close();
});

test('with the browser\'s own crypto.getRandomValues the reports follow the mechanism too', { timeout: 60_000 }, async () => {
  const { page, context } = await moduleHarness(env, null);
  const r = await page.evaluate(async ({ model, n }) => {
    const intent = await window.SI.ShopperIntent.load({ model, storage: 'memory', autoCapture: false });
    const row = {};
    for (let i = 0; i < n; i++) {
      intent.forget();
      const report = intent.privateReport('segment', { epsilon: 0.5 });
      row[report.value] = (row[report.value] ?? 0) + 1;
    }
    return { row, truth: intent.segment };
  }, { model: MODEL, n: N });
  checkRows({ [r.truth]: r.row }, SEGMENT_VALUES, 0.5, CHI2_2_1E6);
  await context.close();
});

test('one draw per subject, ε and truth per session: kept across a reload, new in a new session and after forget()', { timeout: 60_000 }, async () => {
  const context = await env.browser.newContext();
  const { page } = await moduleHarness(env, seededCrypto(99), { context });
  const T = Date.now() - 3 * 3_600_000;
  const first = await page.evaluate(async ({ model, T }) => {
    const intent = await window.SI.ShopperIntent.load({ model, storage: 'local', autoCapture: false });
    const drawn = () => { const before = window.__randomCalls; const r = intent.privateReport('segment'); return { value: r.value, draws: window.__randomCalls - before }; };
    intent.track({ type: 'view_item', item: 'x', ts: T });
    const truth = intent.segment;
    const calls = Array.from({ length: 1000 }, drawn);
    const otherEpsilon = intent.privateReport('segment', { epsilon: 3 });
    intent.experiment({ key: 'exp', variants: ['a', 'b'] });
    const exp = intent.privateReport('exp');
    await new Promise((res) => setTimeout(res, 400)); // the debounced save
    const stored = JSON.parse(localStorage.getItem('shopper-intent:state'));
    return { truth, calls, otherEpsilon: otherEpsilon.value, otherFirst: otherEpsilon.first, exp: exp.value, expFirst: exp.first, reportsSaved: stored.extra.reports };
  }, { model: MODEL, T });
  assert.equal(first.calls[0].draws, 2, 'a fresh report takes two numbers from crypto.getRandomValues (u and v)');
  assert.ok(first.calls.slice(1).every((c) => c.draws === 0 && c.value === first.calls[0].value), '999 more calls: the same report, no draw');
  assert.equal(Object.keys(first.reportsSaved.memo).length, 3, 'three reports saved: segment with ε 1 and 3, and the experiment');
  assert.deepEqual([first.otherFirst, first.expFirst], [false, true], 'another ε is not a first report of the segment; the experiment\'s is');
  assert.deepEqual(Object.values(first.reportsSaved.memo).sort(), [first.calls[0].value, first.otherEpsilon, first.exp].sort());

  await page.reload();
  await importPackage(page);
  const again = await page.evaluate(async ({ model, T }) => {
    const intent = await window.SI.ShopperIntent.load({ model, storage: 'local', autoCapture: false });
    intent.experiment({ key: 'exp', variants: ['a', 'b'] });
    const before = window.__randomCalls;
    const same = { segment: intent.privateReport('segment').value, exp: intent.privateReport('exp').value, draws: window.__randomCalls - before };
    const firstAfterReload = intent.privateReport('exp').first;
    intent.track({ type: 'view_item', item: 'y', ts: T + 45 * 60_000 }); // a new session
    const b2 = window.__randomCalls;
    const fresh = intent.privateReport('exp');
    const newSessionDraws = window.__randomCalls - b2;
    intent.forget();
    intent.experiment({ key: 'exp', variants: ['a', 'b'] });
    const b3 = window.__randomCalls;
    intent.privateReport('exp');
    return { same, firstAfterReload, freshFirst: fresh.first, newSessionDraws, forgetDraws: window.__randomCalls - b3, fresh: fresh.value, segment: intent.segment };
  }, { model: MODEL, T });
  assert.deepEqual(again.same, { segment: first.calls[0].value, exp: first.exp, draws: 0 }, 'the same session after a reload: the same reports, no draw');
  assert.equal(again.newSessionDraws, 2, 'a new session draws again');
  assert.deepEqual([again.firstAfterReload, again.freshFirst], [false, true], 'first: not after a reload, again in a new session');
  assert.equal(again.forgetDraws, 2, 'after forget() the report is drawn again');
  await context.close();
});

test('a shop\'s own session id keeps a session past 30 minutes across a reload: its reports hold once the next event continues it', { timeout: 60_000 }, async () => {
  const context = await env.browser.newContext();
  const { page } = await moduleHarness(env, seededCrypto(7), { context });
  const keys = Array.from({ length: 12 }, (_, i) => `rr-${i}`);
  const first = await page.evaluate(async ({ model, keys }) => {
    localStorage.clear();
    const intent = await window.SI.ShopperIntent.load({ model, storage: 'local', autoCapture: false });
    intent.track({ type: 'view_item', item: 'x', ts: Date.now(), session: 'shop-session-9' });
    const reports = keys.map((key) => { intent.experiment({ key, variants: ['a', 'b', 'c'] }); return intent.privateReport(key, { epsilon: 0.1 }).value; });
    await new Promise((res) => setTimeout(res, 400));
    return reports;
  }, { model: MODEL, keys });
  await page.reload();
  await page.evaluate(() => { const real = Date.now; Date.now = () => real() + 40 * 60_000; });
  await importPackage(page);
  const later = await page.evaluate(async ({ model, keys }) => {
    const intent = await window.SI.ShopperIntent.load({ model, storage: 'local', autoCapture: false });
    const update = intent.track({ type: 'view_item', item: 'y', ts: Date.now(), session: 'shop-session-9' });
    const before = window.__randomCalls;
    const reports = keys.map((key) => { intent.experiment({ key, variants: ['a', 'b', 'c'] }); return intent.privateReport(key, { epsilon: 0.1 }).value; });
    return { newSession: update.newSession, reports, draws: window.__randomCalls - before };
  }, { model: MODEL, keys });
  assert.equal(later.newSession, false, 'the engine goes on with the session');
  assert.deepEqual(later.reports, first, 'the session\'s reports, not new draws');
  assert.equal(later.draws, 0, 'nothing drawn again');
  await context.close();
});

// README (Randomized response) sends a report from the page's own 'pagehide' listener. The draw
// changes the state (the memo), and no save timer runs once the page is going: it is saved at
// once. (A page left while visible also gets 'visibilitychange' after 'pagehide', which saves;
// a tab left while hidden, closed in the background say, gets 'pagehide' alone, as here.)
test('a report drawn in the page\'s pagehide listener is saved at once: no timer runs once the page is left', { timeout: 60_000 }, async () => {
  const { page, context } = await moduleHarness(env, null);
  const r = await page.evaluate(async (model) => {
    const intent = await window.SI.ShopperIntent.load({ model, storage: 'local', autoCapture: false });
    intent.track({ type: 'view_item', item: 'x' });
    await new Promise((res) => setTimeout(res, 400)); // the debounced save: nothing is left unsaved
    let drawn = null;
    addEventListener('pagehide', () => { drawn = intent.privateReport('segment').value; });
    dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
    // Read in the same task: a timer's save could not have run yet.
    const memo = JSON.parse(localStorage.getItem('shopper-intent:state'))?.extra?.reports?.memo ?? null;
    return { drawn, memo };
  }, MODEL);
  assert.ok(['low', 'medium', 'high'].includes(r.drawn), `the page drew a report as it went: ${r.drawn}`);
  assert.ok(r.memo, 'the stored state holds the session\'s reports');
  assert.deepEqual(Object.values(r.memo), [r.drawn], 'the report drawn in pagehide was saved');
  await context.close();
});

test('a truth that changes within the session is reported by a new draw; the earlier truth keeps its report', { timeout: 60_000 }, async () => {
  const { page, context } = await moduleHarness(env, seededCrypto(5));
  const r = await page.evaluate(async (model) => {
    const intent = await window.SI.ShopperIntent.load({ model, storage: 'session', autoCapture: false });
    let enter = false;
    const def = { key: 'late', variants: ['a', 'b'], eligible: () => enter };
    intent.experiment(def);
    const out = [];
    const report = () => { const b = window.__randomCalls; const r = intent.privateReport('late'); out.push({ truth: intent.assignments().late ?? 'none', value: r.value, first: r.first, draws: window.__randomCalls - b }); };
    report(); report();
    enter = true;
    intent.experiment(def);
    report(); report();
    return out;
  }, MODEL);
  assert.deepEqual(r.map((x) => x.draws), [2, 0, 2, 0]);
  assert.deepEqual(r.map((x) => x.first), [true, false, false, false], 'only the session\'s first report of the subject is first, not the draw for the new truth');
  assert.equal(r[0].truth, 'none');
  assert.ok(['a', 'b'].includes(r[2].truth));
  assert.equal(r[1].value, r[0].value);
  assert.equal(r[3].value, r[2].value);
  await context.close();
});

test('refused input is a console error and null, never a throw; null while the engine is not running', { timeout: 60_000 }, async () => {
  const { page, context } = await moduleHarness(env, null);
  const r = await page.evaluate(async (model) => {
    const { ShopperIntent, estimateShares } = window.SI;
    const call = (fn) => { try { return fn(); } catch (e) { return `threw ${e}`; } };
    const loading = ShopperIntent.create({ model, storage: 'memory', autoCapture: false });
    const whileLoading = call(() => loading.privateReport('segment'));
    const intent = await loading.ready;
    intent.experiment({ key: 'known', variants: ['a', 'b'] });
    const refused = [
      ['segment', { epsilon: 0 }], ['segment', { epsilon: -1 }], ['segment', { epsilon: NaN }], ['segment', { epsilon: Infinity }],
      ['segment', { epsilon: 21 }], ['segment', { epsilon: '1' }], ['segment', { epsilon: null }], ['segment', 'strict'],
      ['segment', { get epsilon() { throw new Error('getter'); } }], ['unknown', undefined], ['known ', undefined], [42, undefined],
      [undefined, undefined], [{ key: 'known' }, undefined],
    ].map(([about, options]) => call(() => intent.privateReport(about, options)));
    const acceptedReports = [
      call(() => intent.privateReport('segment', { epsilon: 20 })), call(() => intent.privateReport('segment', { epsilon: 1e-9 })),
      call(() => intent.privateReport('known', {})),
    ];
    const accepted = acceptedReports.map((x) => x && x.value);
    const firsts = acceptedReports.map((x) => x && x.first);
    const estimates = [];
    for (const [counts, options] of [[[], undefined], [[5], undefined], [[1, -1], undefined], [[1.5, 2], undefined], [[0, 0], undefined],
      [{ low: 3 }, undefined], [{ lo: 3 }, { values: ['low', 'high'] }], [[1, 2], { epsilon: 0 }], [[1, 2], { values: ['a'] }], ['1,2', undefined], [null, undefined],
      // Counts past what a number holds exactly, or whose sum would overflow.
      [[2 ** 60, 2 ** 60], undefined], [[Number.MAX_SAFE_INTEGER + 1, 1], undefined]]) {
      estimates.push(await estimateShares(counts, options).catch((e) => `rejected ${e}`));
    }
    const pending = await ShopperIntent.load({ model, storage: 'memory', autoCapture: false, consent: 'pending' });
    const failed = await ShopperIntent.load({ model: '/models/missing.bin', storage: 'memory', autoCapture: false });
    intent.destroy();
    return {
      whileLoading, refused, accepted, firsts, estimates,
      pending: call(() => pending.privateReport('segment')), failed: call(() => failed.privateReport('segment')),
      destroyed: call(() => intent.privateReport('segment')),
    };
  }, MODEL);
  assert.equal(r.whileLoading, null, 'null while loading');
  assert.deepEqual(r.refused, r.refused.map(() => null), `every refused call returns null: ${JSON.stringify(r.refused)}`);
  assert.ok(r.accepted.every((v) => typeof v === 'string'), `ε 20, ε 1e-9 and a known experiment are accepted: ${r.accepted}`);
  // The refused calls (ε 0, -1, 21 of the segment among them) spent nothing: the first report
  // drawn of each subject is still the session's first.
  assert.deepEqual(r.firsts, [true, false, true], 'after the refused calls, the first drawn report of a subject is first');
  assert.deepEqual(r.estimates, r.estimates.map(() => null), `every refused estimate resolves to null: ${JSON.stringify(r.estimates)}`);
  assert.equal(r.pending, null, 'null while consent is pending');
  assert.equal(r.failed, null, 'null after a failed load');
  assert.equal(r.destroyed, null, 'null after destroy()');
  const reportErrors = ours(page, 'error').filter((m) => m.text.includes('private report refused'));
  assert.equal(reportErrors.length, r.refused.length, reportErrors.map((m) => m.text).join('\n'));
  assert.ok(reportErrors.some((m) => m.text.includes('(BAD_EXPERIMENT)') && m.text.includes('"unknown"')), 'an unknown experiment names BAD_EXPERIMENT');
  assert.ok(reportErrors.some((m) => m.text.includes('(BAD_OPTIONS)') && m.text.includes('epsilon must be in (0, 20]')), 'an ε out of range is the engine\'s BAD_OPTIONS');
  const estimateErrors = ours(page, 'error').filter((m) => m.text.includes('estimate refused'));
  assert.equal(estimateErrors.length, r.estimates.length);
  assert.equal(estimateErrors.filter((m) => m.text.includes('counts must be whole numbers from 0 to 2^53 - 1')).length, 3, estimateErrors.map((m) => m.text).join('\n'));
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});
