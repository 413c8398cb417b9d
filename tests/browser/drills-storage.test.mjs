// Reliability drills (issue 11): storage. Storage that throws (SecurityError from the methods or
// from the localStorage getter), storage that is full (QuotaExceededError), stored states that
// are garbage, of another version, edited, expired or hostile, a state written by another tab
// between two loads, and two tabs of one session. Each time: no exception reaches the page,
// Object.prototype is untouched, the widget keeps scoring, and what is restored is exactly what
// the semantics say (web/package/README.md, "Persistence"): a state that cannot be used is
// discarded with one warning and removed; each tab scores its own events; the state saved last
// wins at the next load.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MODEL, importPackage, moduleHarness, ours, pause, setup, test } from './helpers.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

const KEY = 'shopper-intent:state';

/** Own property names of the built-in prototypes, to compare before and after. */
function prototypes() {
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype, Number.prototype]
    .map((p) => Object.getOwnPropertyNames(p).sort().join(','));
}

/** FNV-1a 64 of bytes, as the engine's state checksum (little-endian u64 at the end). */
function fnv1a64(bytes) {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h;
}
/** The engine state `bytes` with `edit(body)` applied and a checksum that fits again. */
function resealed(bytes, edit) {
  const body = Buffer.from(bytes.subarray(0, bytes.length - 8));
  edit(body);
  const sum = Buffer.alloc(8);
  sum.writeBigUInt64LE(fnv1a64(body));
  return Buffer.concat([body, sum]);
}

/** A page with the package, where `script` ran first (it may break storage). */
const harness = (script, context) => moduleHarness(env, script, { context });

/** Loads a widget in `page` (storage 'local' unless given), tracks `events`, returns what it sees. */
function visit(page, { events = [], storage = 'local', wait = 400, destroy = false } = {}) {
  return page.evaluate(async ({ model, events, storage, wait, destroy }) => {
    const intent = await window.SI.ShopperIntent.load({ model, storage, autoCapture: false });
    const restored = intent.history().map((p) => p.type);
    const updates = events.map((e) => intent.track(e));
    await new Promise((r) => setTimeout(r, wait));
    const out = {
      status: intent.status, storage: intent.storage, restored, updates,
      history: intent.history().map((p) => [p.type, p.score]), segment: intent.segment,
      variant: intent.experiment({ key: 'tabs', variants: ['a', 'b', 'c', 'd'] }),
      stored: (() => { try { return localStorage.getItem('shopper-intent:state'); } catch { return 'unreadable'; } })(),
    };
    if (destroy) intent.destroy();
    return out;
  }, { model: MODEL, events, storage, wait, destroy });
}

const ev = (type, item, ts) => ({ type, item, category: 'c', price: 20, ts });

// ---------------------------------------------------------------------------------------------

function throwingStorage() {
  for (const m of ['setItem', 'getItem', 'removeItem']) {
    Storage.prototype[m] = function () { throw new DOMException('The operation is insecure.', 'SecurityError'); };
  }
}
function quotaStorage() {
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (key, value) {
    if (String(key).startsWith('shopper-intent')) throw new DOMException('quota', 'QuotaExceededError');
    return setItem.call(this, key, value);
  };
}
function disabledStorage() {
  for (const name of ['localStorage', 'sessionStorage']) {
    Object.defineProperty(window, name, { configurable: true, get() { throw new DOMException('Access is denied for this document.', 'SecurityError'); } });
  }
}

for (const [name, script, storage] of [
  ['Storage methods that throw SecurityError', throwingStorage, 'local'],
  ['a full storage (setItem throws QuotaExceededError)', quotaStorage, 'session'],
  ['storage disabled (the localStorage getter throws SecurityError)', disabledStorage, 'local'],
]) {
  test(`${name}: the state falls back to memory with one warning, scoring goes on`, { timeout: 60_000 }, async () => {
    const { page, context } = await harness(script);
    const before = await page.evaluate(prototypes);
    const r = await page.evaluate(async ({ storage, model }) => {
      const intent = await window.SI.ShopperIntent.load({ model, storage, autoCapture: false });
      const now = Date.now();
      const updates = [];
      for (let i = 0; i < 5; i++) {
        updates.push(intent.track({ type: i % 2 ? 'add_to_cart' : 'view_item', item: `i-${i}`, ts: now + i * 1000 }));
        await new Promise((res) => setTimeout(res, 300)); // let each debounced save happen
      }
      const variant = intent.experiment({ key: 'e', variants: ['a', 'b'] });
      intent.forget();
      const afterForget = intent.track({ type: 'view_item', item: 'after', ts: now + 10_000 });
      return { status: intent.status, storage: intent.storage, updates, afterForget, stored: intent.storedState() !== null, variant };
    }, { storage, model: MODEL });
    assert.equal(r.status, 'ready');
    assert.equal(r.storage, 'memory');
    assert.ok(r.updates.every((u) => u && typeof u.score === 'number'), 'every event was tracked');
    assert.ok(r.afterForget && typeof r.afterForget.score === 'number', 'forget() and tracking after it work');
    assert.equal(r.variant, null, 'experiments need a state that outlives the page: none in memory');
    const storageWarnings = ours(page, 'warning').filter((m) => /(Storage|storage backend "[^"]*") cannot be used \(/.test(m.text));
    assert.equal(storageWarnings.length, 1, `one storage warning: ${ours(page, 'warning').map((m) => m.text)}`);
    assert.deepEqual(ours(page, 'error'), []);
    assert.deepEqual(page.pageErrors, []);
    assert.deepEqual(await page.evaluate(prototypes), before, 'the built-in prototypes are untouched');
    // The next page load in the same (broken) browser works as well.
    await page.reload();
    await importPackage(page);
    const next = await visit(page, { storage, events: [ev('view_item', 'n', Date.now())], wait: 0 });
    assert.equal(next.status, 'ready');
    assert.ok(next.updates[0], 'scoring after a reload');
    assert.deepEqual(page.pageErrors, []);
    await context.close();
  });
}

test('a state the new model refuses (a deploy, a session longer than the window): the shopper keeps their experiment arms, and an exposure is not their first', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const keys = Array.from({ length: 8 }, (_, i) => `deploy-${i}`);
  const run = (stored) => page.evaluate(async ({ model, keys, stored }) => {
    if (stored !== null) localStorage.setItem('shopper-intent:state', stored);
    const intent = await window.SI.ShopperIntent.load({ model, storage: 'local', autoCapture: false });
    const exposures = [];
    intent.on('exposure', (d) => exposures.push([d.experiment, d.variant, d.first]));
    // The first visit: a session longer than the model's window (a new model cannot recompute it).
    const earlier = stored === null ? intent.model.window + 2 : 0;
    for (let i = 0; i < earlier; i++) intent.track({ type: 'view_item', item: `e-${i}`, ts: Date.now() - (earlier - i) * 1000 });
    intent.track({ type: 'view_item', item: 'd', ts: Date.now() });
    const variants = keys.map((key) => intent.experiment({ key, variants: ['a', 'b'], autoExpose: true }));
    await new Promise((r) => setTimeout(r, 400));
    return { variants, exposures, history: intent.history().length, stored: localStorage.getItem('shopper-intent:state') };
  }, { model: MODEL, keys, stored });
  await page.evaluate(() => localStorage.clear());
  const first = await run(null);
  assert.ok(new Set(first.variants).size === 2, `eight experiments, both arms: ${first.variants}`);
  assert.ok(first.exposures.every(([, , isFirst]) => isFirst), 'the first exposures are the shopper\'s first');
  // The same entry as a state of another model (the checksum made right): the engine refuses it.
  const wrapper = JSON.parse(first.stored);
  // Saved after a forget (forgotAt), which the next save must still carry.
  const forgotAt = wrapper.savedAt - 60_000;
  const other = JSON.stringify({ ...wrapper, forgotAt, state: Buffer.from(resealed(Buffer.from(wrapper.state, 'base64'), (b) => { b[5] ^= 0xff; })).toString('base64') });
  await page.reload();
  await importPackage(page);
  const after = await run(other);
  assert.equal(after.history, 1, 'the refused state restored nothing: only the new event');
  assert.deepEqual(after.variants, first.variants, 'the same arms as before the deploy');
  assert.deepEqual(after.exposures, keys.map((k, i) => [k, first.variants[i], false]), 'exposed in this new engine session, not for the first time');
  assert.equal(JSON.parse(after.stored).extra.experiments.id, wrapper.extra.experiments.id, 'the id is saved again');
  assert.equal(JSON.parse(after.stored).forgotAt, forgotAt, 'and the time of the forget the refused state knew of');
  assert.ok(ours(page, 'warning').some((m) => /stored state was discarded: BAD_STATE/.test(m.text)), 'the refusal is said');
  await context.close();
});

test('a state of another model whose session is within the window (a deploy): recomputed by the new model, the session and its experiment go on', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const run = (stored) => page.evaluate(async ({ model, stored }) => {
    if (stored !== null) localStorage.setItem('shopper-intent:state', stored);
    const intent = await window.SI.ShopperIntent.load({ model, storage: 'local', autoCapture: false });
    const exposures = [];
    intent.on('exposure', (d) => exposures.push([d.experiment, d.variant]));
    const t = Date.now();
    const restored = { history: intent.history().map((p) => [p.type, p.score]), score: intent.score };
    if (stored === null) for (let i = 0; i < 3; i++) intent.track({ type: i === 1 ? 'add_to_cart' : 'view_item', item: `s-${i}`, ts: t - (3 - i) * 1000 });
    const variant = intent.experiment({ key: 'deploy', variants: ['a', 'b'], autoExpose: true });
    const next = intent.track({ type: 'view_item', item: 'next', ts: t });
    await new Promise((r) => setTimeout(r, 400));
    return { restored, variant, exposures, newSession: next.newSession, history: intent.history().map((p) => [p.type, p.score]), stored: localStorage.getItem('shopper-intent:state') };
  }, { model: MODEL, stored });
  await page.evaluate(() => localStorage.clear());
  const first = await run(null);
  const wrapper = JSON.parse(first.stored);
  // The engine's model here is the same; the state says another made it: recomputed, the same scores.
  const other = JSON.stringify({ ...wrapper, state: Buffer.from(resealed(Buffer.from(wrapper.state, 'base64'), (b) => { b[5] ^= 0xff; })).toString('base64') });
  await page.reload();
  await importPackage(page);
  const after = await run(other);
  assert.deepEqual(after.restored.history, first.history, 'every row recomputed by the new model');
  assert.equal(after.newSession, false, 'the session goes on');
  assert.equal(after.variant, first.variant);
  assert.deepEqual(after.exposures, [], 'the experiment session goes on: exposed already');
  assert.ok(!ours(page, 'warning').some((m) => /stored state was discarded/.test(m.text)), 'nothing discarded');
  await context.close();
});

test('stored states that are garbage, of another version, edited, expired or hostile are discarded; good ones restored', { timeout: 120_000 }, async () => {
  const { page, context } = await harness();
  const before = await page.evaluate(prototypes);
  const now = Date.now();
  // A real state of three events, saved by a widget on this page.
  const made = await visit(page, { events: [ev('view_item', 'r-1', now - 9000), ev('add_to_cart', 'r-1', now - 8000), ev('view_item', 'r-2', now - 7000)], destroy: true });
  const wrapper = JSON.parse(made.stored);
  assert.equal(wrapper.v, 1);
  const state = Buffer.from(wrapper.state, 'base64');
  const wrap = (fields) => JSON.stringify({ ...wrapper, ...fields });
  const b64 = (bytes) => Buffer.from(bytes).toString('base64');
  const edited = Buffer.from(state);
  edited[Math.floor(edited.length / 2)] ^= 0x10;
  const discarded = {
    'not JSON': '{oops',
    'JSON null': 'null',
    'a JSON array': '[1, 2]',
    'a JSON string': '"state"',
    'wrapper version 2': wrap({ v: 2 }),
    'wrapper version 0': wrap({ v: 0 }),
    'no state field': JSON.stringify({ v: 1, savedAt: now, expiresAt: now + 1e9 }),
    'savedAt a string': wrap({ savedAt: 'yesterday' }),
    'state not base64': wrap({ state: '%%% not base64 %%%' }),
    'random bytes': wrap({ state: b64(randomBytes(300)) }),
    'truncated state': wrap({ state: b64(state.subarray(0, state.length >> 1)) }),
    'one byte edited': wrap({ state: b64(edited) }),
    'another engine state format (checksum fixed)': wrap({ state: b64(resealed(state, (b) => { b[4] = 9; })) }),
    'a segment that does not exist (checksum fixed)': wrap({ state: b64(resealed(state, (b) => { b[13] = 7; })) }),
    'expired': wrap({ savedAt: now - 100 * 86_400_000, expiresAt: now - 1000 }),
    'expired in a year no date can hold': wrap({ expiresAt: -1e300 }),
    'saved days in the future (a clock that ran ahead, corrected since: its age cannot be told)': wrap({ savedAt: now + 3 * 86_400_000 }),
    '4 MB of garbage': 'x'.repeat(4 * 2 ** 20),
  };
  const restored = {
    'the state as saved': made.stored,
    // A deploy: the session's three rows are all kept, so the new model recomputes them.
    'another model (checksum fixed), a session within the window': wrap({ state: b64(resealed(state, (b) => { b[5] ^= 0xff; })) }),
    'saved minutes in the future (clocks that disagree)': wrap({ savedAt: now + 10 * 60_000 }),
    'junk experiments beside it': wrap({ extra: { experiments: { id: 'not-hex', session: 'junk' } } }),
    'hostile experiment keys beside it': wrap({ extra: JSON.parse(`{"experiments": {"id": "${'ab'.repeat(16)}", "session": {"entered": {"__proto__": "a", "constructor": "b", "k": 5}, "exposed": {"__proto__": "a"}, "converted": "yes"}}, "__proto__": {"polluted": true}}`) }),
  };
  const results = {};
  for (const [name, text] of Object.entries({ ...discarded, ...restored })) {
    const r = await page.evaluate(async ({ text, model }) => {
      localStorage.setItem('shopper-intent:state', text);
      const intent = await window.SI.ShopperIntent.load({ model, storage: 'local', autoCapture: false });
      const out = {
        status: intent.status, restored: intent.history().length, left: localStorage.getItem('shopper-intent:state') === null ? null : 'kept',
        assignments: Object.entries(intent.assignments()), protoOfAssignments: Object.getPrototypeOf(intent.assignments()) === Object.prototype,
        update: intent.track({ type: 'view_item', item: 'after', ts: Date.now() }) !== null,
        polluted: ({}).polluted,
      };
      intent.forget();
      intent.destroy();
      return out;
    }, { text, model: MODEL });
    results[name] = r;
  }
  for (const [name, r] of Object.entries(results)) {
    assert.equal(r.status, 'ready', `${name}: ready`);
    assert.equal(r.update, true, `${name}: tracking works`);
    assert.equal(r.polluted, undefined, `${name}: no prototype polluted`);
    assert.ok(r.protoOfAssignments, `${name}: assignments() is a plain object`);
    if (name in discarded) {
      assert.equal(r.restored, 0, `${name}: nothing restored`);
      assert.equal(r.left, null, `${name}: removed from storage`);
    } else {
      assert.equal(r.restored, 3, `${name}: the three events are restored`);
    }
  }
  assert.deepEqual(results['hostile experiment keys beside it'].assignments, [['__proto__', 'a'], ['constructor', 'b']],
    'keys like __proto__ are plain keys; a variant that is not a string is dropped');
  const warnings = ours(page, 'warning').filter((m) => m.text.includes('stored state was discarded'));
  assert.equal(warnings.length, Object.keys(discarded).length, `one warning per discarded state:\n${warnings.map((m) => m.text).join('\n')}`);
  assert.equal(warnings.filter((m) => m.text.includes('BAD_STATE')).length, 5, 'the engine\'s BAD_STATE is named for the five whose wrapper was fine');
  assert.ok(warnings.every((m) => m.text.length < 400), 'warnings stay short');
  assert.deepEqual(ours(page, 'error'), []);
  assert.deepEqual(page.pageErrors, []);
  assert.deepEqual(await page.evaluate(prototypes), before, 'the built-in prototypes are untouched');
  await context.close();
});

test('a state written by another tab between two loads is the one restored', { timeout: 60_000 }, async () => {
  const context = await env.browser.newContext();
  const { page: a } = await harness(null, context);
  const { page: b } = await harness(null, context);
  const t = Date.now() - 60_000;
  const first = await visit(a, { events: [ev('view_item', 'a-1', t), ev('add_to_cart', 'a-1', t + 1000)], destroy: true });
  assert.deepEqual(first.history.map((h) => h[0]), ['view_item', 'add_to_cart']);
  // The other tab restores that state, adds its own events and saves.
  const other = await visit(b, { events: [ev('add_to_wishlist', 'b-1', t + 2000), ev('view_item', 'b-2', t + 3000), ev('add_to_cart', 'b-2', t + 4000)], destroy: true });
  assert.deepEqual(other.restored, ['view_item', 'add_to_cart'], 'the other tab started from the saved state');
  assert.notEqual(other.stored, first.stored, 'and wrote its own');
  await a.reload();
  await importPackage(a);
  const next = await visit(a, { wait: 0 });
  assert.deepEqual(next.history, other.history, 'the next load restores what the other tab saved, scores included');
  assert.equal(next.variant, first.variant, 'one shopper, one experiment id, across tabs');
  await context.close();
});

test('two tabs of one session: each scores its own events; the state saved last wins at the next load', { timeout: 90_000 }, async () => {
  for (const lastWriter of ['A', 'B']) {
    const context = await env.browser.newContext();
    const { page: seed } = await harness(null, context);
    const t = Date.now() - 120_000;
    const s0 = await visit(seed, { events: [ev('view_item', 's-1', t)], destroy: true });
    const { page: a } = await harness(null, context);
    const { page: b } = await harness(null, context);
    // Both tabs load the same saved state, then score their own events (interleaved in time).
    const open = (page) => page.evaluate(async (model) => {
      window.intent = await window.SI.ShopperIntent.load({ model, storage: 'local', autoCapture: false });
      return window.intent.history().map((p) => p.type);
    }, MODEL);
    assert.deepEqual(await open(a), ['view_item']);
    assert.deepEqual(await open(b), ['view_item']);
    const track = (page, events) => page.evaluate((es) => es.map((e) => window.intent.track(e) !== null), events);
    assert.deepEqual(await track(a, [ev('add_to_cart', 'a-1', t + 10_000), ev('add_to_cart', 'a-2', t + 30_000)]), [true, true]);
    assert.deepEqual(await track(b, [ev('add_to_wishlist', 'b-1', t + 20_000)]), [true]);
    const history = (page) => page.evaluate(() => window.intent.history().map((p) => [p.type, p.score]));
    const ha = await history(a);
    const hb = await history(b);
    assert.deepEqual(ha.map((h) => h[0]), ['view_item', 'add_to_cart', 'add_to_cart'], 'tab A scores its own events');
    assert.deepEqual(hb.map((h) => h[0]), ['view_item', 'add_to_wishlist'], 'tab B scores its own events');
    // Saves: the first writer, then the last (each after its debounce).
    const [first, last] = lastWriter === 'A' ? [b, a] : [a, b];
    await pause(first, 400);
    await first.evaluate(() => window.intent.destroy());
    await last.evaluate(() => window.intent.track({ type: 'view_item', item: 'last', ts: Date.now() - 1000 }));
    const lastHistory = await history(last);
    await pause(last, 400);
    await last.evaluate(() => window.intent.destroy());
    const { page: next } = await harness(null, context);
    const restored = await visit(next, { wait: 0 });
    assert.deepEqual(restored.history, lastHistory, `the last writer (${lastWriter}) wins at the next load`);
    assert.equal(restored.variant, s0.variant, 'the experiment id came with the first saved state and stayed');
    for (const p of [seed, a, b, next]) assert.deepEqual(p.pageErrors, []);
    await context.close();
  }
});

// A backend may answer get() late (IndexedDB, a server). forget() while that read is on its way
// has wiped the shopper: the state the read brings back is the one forgotten, not restored.
test('forget() while an asynchronous backend is still reading: the state it brings back is not restored', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async (model) => {
    const { ShopperIntent } = window.SI;
    const stored = new Map();
    let release = null;
    let reads = 0;
    // A store whose get() of the state answers, with what it held when asked, only once the test
    // says so (its forget record at once).
    const slow = {
      kind: 'slow',
      get: (key) => {
        const text = stored.get(key) ?? null;
        if (key.endsWith(':forgotten')) return Promise.resolve(text);
        reads += 1;
        return new Promise((res) => { release = () => res(text); });
      },
      set: (key, value) => { stored.set(key, value); },
      remove: (key) => { stored.delete(key); },
    };
    const quick = { kind: 'quick', get: (key) => stored.get(key) ?? null, set: slow.set, remove: slow.remove };
    const opts = { model, autoCapture: false };
    const first = await ShopperIntent.load({ ...opts, storage: quick });
    const t = Date.now() - 60_000;
    first.track({ type: 'view_item', item: 'old-1', ts: t });
    first.track({ type: 'add_to_cart', item: 'old-1', ts: t + 1000 });
    const oldVariant = first.experiment({ key: 'e', variants: ['a', 'b'] });
    first.destroy(); // saves
    const saved = stored.has('shopper-intent:state');

    const intent = ShopperIntent.create({ ...opts, storage: slow });
    while (reads === 0) await new Promise((res) => setTimeout(res, 5)); // the restore is reading
    intent.forget();
    release();
    await intent.ready;
    await new Promise((res) => setTimeout(res, 50));
    return { saved, oldVariant, status: intent.status, history: intent.history().length, assignments: { ...intent.assignments() }, score: intent.score };
  }, MODEL);
  assert.equal(r.saved, true);
  assert.ok(r.oldVariant === 'a' || r.oldVariant === 'b');
  assert.equal(r.status, 'ready');
  assert.equal(r.history, 0, 'the forgotten session did not come back');
  assert.deepEqual(r.assignments, {}, 'nor its experiments');
  assert.equal(r.score, 0);
  assert.deepEqual(ours(page, 'warning'), [], 'the read is set aside silently: nothing was wrong with it');
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

// A shop's backend whose get() never settles (a hung IndexedDB, a server that never answers) must
// not hold the widget back for ever: after ANSWER_WAIT_MS it runs with its state in memory, and
// saves nothing over what the backend may still hold. While the read is on its way no private
// report is drawn: the segment and the reports the state holds are not known yet.
test('a backend that never answers the first read: ready after the wait, in memory, nothing saved over it, no private report meanwhile', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async (model) => {
    const { ShopperIntent } = window.SI;
    const calls = [];
    const hung = { kind: 'hung', get: (key) => { calls.push(`get ${key}`); return new Promise(() => {}); }, set: (key) => { calls.push(`set ${key}`); }, remove: (key) => { calls.push(`remove ${key}`); } };
    const started = performance.now();
    const intent = ShopperIntent.create({ model, autoCapture: false, storage: hung });
    let settled = false;
    intent.ready.then(() => { settled = true; });
    const reports = [];
    while (!settled) {
      if (intent.status === 'ready') reports.push(intent.privateReport('segment'));
      await new Promise((res) => setTimeout(res, 50));
    }
    const waited = performance.now() - started;
    const status = intent.status;
    const storage = intent.storage;
    const scored = intent.track({ type: 'add_to_cart', item: 'h-1' }) !== null;
    const report = intent.privateReport('segment');
    intent.destroy(); // saves: to memory
    return { waited, status, storage, scored, reportsWhileReading: reports, reportAfter: report !== null, calls };
  }, MODEL);
  assert.ok(r.waited >= 4500 && r.waited < 20_000, `ready after the wait (${r.waited} ms)`);
  assert.equal(r.status, 'ready');
  assert.equal(r.storage, 'memory');
  assert.equal(r.scored, true);
  assert.ok(r.reportsWhileReading.length > 0 && r.reportsWhileReading.every((x) => x === null), `no report while the state is read: ${JSON.stringify(r.reportsWhileReading.slice(0, 3))}`);
  assert.equal(r.reportAfter, true, 'reports once it runs');
  assert.ok(r.calls.every((c) => c.startsWith('get ')), `nothing but reads reached the backend: ${r.calls}`);
  const warnings = ours(page, 'warning').map((m) => m.text);
  assert.equal(warnings.filter((t) => /the storage backend "hung" cannot be used \(no answer to the first read within 5 s\)/.test(t)).length, 1, warnings.join('\n'));
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

// A shop's backend that parses what it stored, or wraps it, answers get() with something other
// than the text it was given: nothing can be restored from that, and the page is told once.
test('a backend whose get() answers something other than text: nothing restored, one warning naming it; text restores', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async (model) => {
    const { ShopperIntent } = window.SI;
    const run = async (kind, answer) => {
      const stored = new Map();
      const backend = { kind, get: (k) => (stored.has(k) ? answer(stored.get(k)) : null), set: (k, v) => { stored.set(k, v); }, remove: (k) => { stored.delete(k); } };
      const first = await ShopperIntent.load({ model, autoCapture: false, storage: backend });
      first.track({ type: 'view_item', item: 'g-1' });
      first.track({ type: 'add_to_cart', item: 'g-1' });
      first.destroy(); // saves
      const second = await ShopperIntent.load({ model, autoCapture: false, storage: backend });
      const out = { saved: [...stored.keys()].length > 0, restored: second.history().length, storage: second.storage };
      second.destroy();
      return out;
    };
    return {
      parsed: await run('parsing', (text) => JSON.parse(text)),
      wrapped: await run('wrapping', (text) => new String(text)),
      number: await run('counting', (text) => text.length),
      text: await run('plain', (text) => text),
    };
  }, MODEL);
  for (const k of ['parsed', 'wrapped', 'number']) assert.deepEqual(r[k], { saved: true, restored: 0, storage: r[k].storage }, k);
  assert.equal(r.text.restored, 2, 'the same backend answering the text restores the session');
  const warnings = ours(page, 'warning').map((m) => m.text);
  const said = (kind, what) => warnings.filter((t) => t.includes(`the storage backend "${kind}" answered get() with ${what}, not text`)).length;
  assert.equal(said('parsing', 'an object'), 1, warnings.join('\n'));
  assert.equal(said('wrapping', 'a String object'), 1, warnings.join('\n'));
  assert.equal(said('counting', 'a number'), 1, warnings.join('\n'));
  assert.ok(!warnings.some((t) => t.includes('"plain"')), warnings.join('\n'));
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

// The late answer of such a backend: a forget mark from before this page loaded is what an answer
// in time would have brought (nothing to undo); one made while the page ran (another tab) is followed.
test('a backend whose first read answers after the wait: an old forget mark wipes nothing, a new one is followed', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async (model) => {
    const { ShopperIntent } = window.SI;
    const stored = new Map();
    const quick = { kind: 'quick', get: (k) => stored.get(k) ?? null, set: (k, v) => { stored.set(k, v); }, remove: (k) => { stored.delete(k); } };
    // Answers after 6 s with what is stored then.
    const late = { kind: 'late', get: (k) => new Promise((res) => setTimeout(() => res(stored.get(k) ?? null), 6000)), set: quick.set, remove: quick.remove };
    const opts = { model, autoCapture: false };
    const run = async (forgetWhileRunning) => {
      stored.clear();
      const before = await ShopperIntent.load({ ...opts, storage: quick });
      before.forget(); // an old mark
      before.destroy();
      const intent = await ShopperIntent.load({ ...opts, storage: late });
      intent.track({ type: 'view_item', item: 'l-1' });
      intent.track({ type: 'add_to_cart', item: 'l-1' });
      if (forgetWhileRunning) {
        const other = await ShopperIntent.load({ ...opts, storage: quick });
        other.forget(); // another tab forgets the shopper while this page runs
        other.destroy();
      }
      await new Promise((res) => setTimeout(res, 2500)); // the late answer comes
      const out = { status: intent.status, consent: intent.consent, events: intent.history().length };
      intent.destroy();
      return out;
    };
    return { old: await run(false), fresh: await run(true) };
  }, MODEL);
  assert.deepEqual(r.old, { status: 'ready', consent: 'granted', events: 2 }, 'an old mark wipes nothing');
  assert.deepEqual(r.fresh, { status: 'ready', consent: 'granted', events: 0 }, 'a forget made while the page ran is followed');
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

// A backend that applies a write when it answers (a server) may apply two overlapping writes in
// either order. The widget sends one at a time; a page being left sends the newest at once, and
// again if an older one lands after it.
test('an asynchronous backend gets one save at a time; a page being left sends the newest at once, and it lands last', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async (model) => {
    const { ShopperIntent } = window.SI;
    let stored = null;
    const sets = [];
    const server = {
      kind: 'server',
      get: () => Promise.resolve(stored),
      set: (key, value) => new Promise((res) => { sets.push({ value, land: () => { stored = value; res(); } }); }),
      remove: () => Promise.resolve().then(() => { stored = null; }),
    };
    const wait = (ms) => new Promise((res) => setTimeout(res, ms));
    const intent = await ShopperIntent.load({ model, storage: server, autoCapture: false });
    const t = Date.now() - 10_000;
    intent.track({ type: 'view_item', item: 'sku-1', ts: t });
    await wait(400); // the first save is sent, and not answered
    intent.track({ type: 'add_to_cart', item: 'sku-1', ts: t + 1000 });
    await wait(400);
    const beforeLeaving = sets.length;
    dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
    const sentOnLeaving = sets.length;
    sets[1].land();
    sets[0].land(); // the older save lands after the newer one
    await wait(50);
    const sentAgain = sets.length;
    sets.at(-1).land();
    await wait(50);
    return { beforeLeaving, sentOnLeaving, sentAgain, newest: sets[1].value, stored };
  }, MODEL);
  assert.equal(r.beforeLeaving, 1, 'the second save waits for the first to be answered');
  assert.equal(r.sentOnLeaving, 2, 'leaving sends it at once');
  assert.equal(r.sentAgain, 3, 'and once more after the older save landed');
  assert.equal(r.stored, r.newest, 'the newest state is what stays');
  assert.ok(JSON.parse(r.stored).state.length > 0);
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

/** A backend in the page over a Map, whose writes land when the test says (`window.__pending`). */
const serverBackend = () => {
  window.__data = new Map();
  window.__pending = [];
  window.__server = {
    kind: 'server',
    get: (k) => new Promise((res) => setTimeout(() => res(window.__data.get(k) ?? null), 20)),
    set: (k, v) => new Promise((res) => { window.__pending.push({ k, v, land: () => { window.__data.set(k, v); res(); } }); }),
    remove: (k) => Promise.resolve().then(() => { window.__data.delete(k); }),
  };
};

for (const how of ['forget', 'withdrawConsent']) {
  test(`${how}() while an asynchronous backend is saving, then the page is left: the save landing after the mark is not restored`, { timeout: 60_000 }, async () => {
    const { page, context } = await harness(serverBackend);
    const r = await page.evaluate(async ({ model, how }) => {
      const { ShopperIntent } = window.SI;
      const wait = (ms) => new Promise((res) => setTimeout(res, ms));
      const landAll = () => { for (const p of window.__pending.splice(0)) p.land(); };
      const a = await ShopperIntent.load({ model, storage: window.__server, autoCapture: false });
      const t = Date.now() - 10_000;
      a.track({ type: 'view_item', item: 'sku-1', ts: t });
      a.track({ type: 'add_to_cart', item: 'sku-1', ts: t + 1000 });
      await wait(400); // the save is sent and not answered
      a[how]();
      const sent = window.__pending.map((p) => p.k);
      // The server applies the mark and the record first, then the older save.
      const [save, ...marks] = window.__pending.splice(0);
      for (const m of marks) m.land();
      save.land();
      a.destroy(); // the page is left
      const b = await ShopperIntent.load({ model, storage: window.__server, autoCapture: false });
      await wait(100);
      landAll();
      await wait(50);
      return { sent, history: b.history().length, stored: window.__data.get('shopper-intent:state') };
    }, { model: MODEL, how });
    assert.deepEqual(r.sent, ['shopper-intent:state', 'shopper-intent:state', 'shopper-intent:state:forgotten'], 'the mark and the record did not wait for the save');
    assert.equal(r.history, 0, 'the state saved before the forget did not come back');
    assert.ok(Number.isFinite(JSON.parse(r.stored).forgotten), 'the mark is back in place');
    assert.deepEqual(page.pageErrors, []);
    await context.close();
  });
}

test('back from the back/forward cache with an asynchronous backend: a forget made meanwhile by another page is honoured before anything is saved', { timeout: 60_000 }, async () => {
  const { page, context } = await harness(serverBackend);
  const r = await page.evaluate(async (model) => {
    const { ShopperIntent } = window.SI;
    const wait = (ms) => new Promise((res) => setTimeout(res, ms));
    const landAll = () => { for (const p of window.__pending.splice(0)) p.land(); };
    const a = await ShopperIntent.load({ model, storage: window.__server, autoCapture: false });
    const t = Date.now() - 60_000;
    a.track({ type: 'view_item', item: 'sku-1', ts: t });
    a.track({ type: 'add_to_cart', item: 'sku-1', ts: t + 1000 });
    await wait(400);
    landAll();
    dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
    // Another page of the shop forgets the shopper while this one is in the cache.
    const mark = JSON.stringify({ v: 1, forgotten: Date.now() - 1000 });
    window.__data.set('shopper-intent:state', mark);
    window.__data.set('shopper-intent:state:forgotten', mark);
    dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
    a.track({ type: 'view_item', item: 'sku-2' }); // while the stored state is read again: not saved over the mark
    for (let i = 0; i < 5; i++) { await wait(100); landAll(); }
    a.track({ type: 'add_to_wishlist', item: 'sku-3' });
    for (let i = 0; i < 5; i++) { await wait(100); landAll(); }
    const here = a.history().map((p) => p.type);
    a.destroy();
    const b = await ShopperIntent.load({ model, storage: window.__server, autoCapture: false });
    return { here, next: b.history().map((p) => p.type) };
  }, MODEL);
  assert.deepEqual(r.here, ['add_to_wishlist'], 'forgotten here too (with the event tracked while the state was read again)');
  assert.deepEqual(r.next, ['add_to_wishlist'], 'the next load restores no event from before the forget');
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

test('back from the back/forward cache: the page\'s own older save, landed after its newer one, is not restored; the newer is written again', { timeout: 60_000 }, async () => {
  const { page, context } = await harness(serverBackend);
  const r = await page.evaluate(async (model) => {
    const { ShopperIntent } = window.SI;
    const wait = (ms) => new Promise((res) => setTimeout(res, ms));
    const a = await ShopperIntent.load({ model, storage: window.__server, autoCapture: false });
    const t = Date.now() - 60_000;
    a.track({ type: 'view_item', item: 'sku-1', ts: t });
    await wait(400); // the first save, in flight
    a.track({ type: 'add_to_cart', item: 'sku-1', ts: t + 1000 });
    await wait(400); // the second, waiting behind it
    dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true })); // sent at once
    const [older, newer] = window.__pending.splice(0);
    newer.land();
    older.land(); // the older lands last
    dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
    for (let i = 0; i < 10; i++) { await wait(50); for (const p of window.__pending.splice(0)) p.land(); }
    return { history: a.history().map((p) => p.type), stored: JSON.parse(window.__data.get('shopper-intent:state')).savedAt, newer: JSON.parse(newer.v).savedAt };
  }, MODEL);
  assert.deepEqual(r.history, ['view_item', 'add_to_cart'], 'the page keeps its own newer state');
  assert.equal(r.stored, r.newer, 'and writes it again');
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

test('the demo shop keeps working when storage throws', { timeout: 60_000 }, async () => {
  const context = await env.browser.newContext();
  await context.addInitScript(throwingStorage);
  const page = await env.page(context);
  await page.goto(`${env.url}/product.html#trail-runner`);
  await page.waitForFunction(() => window.shopperIntent?.status === 'ready');
  await page.click('#add-to-cart');
  const r = await page.evaluate(() => ({ storage: window.shopperIntent.storage, events: window.shopperIntent.history().length, flash: document.getElementById('flash').textContent }));
  assert.equal(r.storage, 'memory');
  assert.ok(r.events >= 1);
  assert.equal(r.flash, 'Added to cart');
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

test('an entry whose state the engine refuses is discarded whole: its experiments and reports are not taken', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async (model) => {
    const now = Date.now();
    const crafted = {
      v: 1, savedAt: now, expiresAt: now + 86_400_000, state: btoa('not an engine state'),
      extra: {
        experiments: { id: 'a'.repeat(32), session: { entered: { offer: 'discount' }, exposed: { offer: 'discount' }, converted: false, tracked: true, lastAt: now } },
        reports: { memo: { 'segment\u00001\u0000low\u0001medium\u0001high\u0000low': 'high' }, tracked: true },
      },
    };
    localStorage.setItem('shopper-intent:state', JSON.stringify(crafted));
    const intent = await window.SI.ShopperIntent.load({ model, storage: 'local', autoCapture: false });
    const conversions = [];
    intent.on('conversion', (d) => conversions.push(d.experiment));
    intent.track({ type: 'purchase', item: 'p' });
    return { assignments: { ...intent.assignments() }, conversions, stored: localStorage.getItem('shopper-intent:state') };
  }, MODEL);
  assert.deepEqual(r.assignments, {}, 'the crafted experiment entry is not taken');
  assert.deepEqual(r.conversions, [], 'nor its exposures');
  assert.ok(r.stored === null || !r.stored.includes('a'.repeat(32)), 'nor its experiment id');
  assert.equal(ours(page, 'warning').filter((m) => /discarded/.test(m.text)).length, 1);
  await context.close();
});

test('retentionDays is the reading page\'s: an entry saved longer ago is discarded whatever its expiresAt says', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async (model) => {
    // A real state, saved by a page with the default 30 days, then read 10 days later by a page with 7.
    const first = await window.SI.ShopperIntent.load({ model, storage: 'local', autoCapture: false });
    first.track({ type: 'view_item', item: 'old' });
    first.destroy();
    const entry = JSON.parse(localStorage.getItem('shopper-intent:state'));
    entry.savedAt -= 10 * 86_400_000;
    entry.expiresAt = 1e300;
    localStorage.setItem('shopper-intent:state', JSON.stringify(entry));
    const later = await window.SI.ShopperIntent.load({ model, storage: 'local', autoCapture: false, retentionDays: 7 });
    return later.history().length;
  }, MODEL);
  assert.equal(r, 0, 'nothing restored');
  assert.equal(ours(page, 'warning').filter((m) => /retentionDays/.test(m.text)).length, 1);
  await context.close();
});
