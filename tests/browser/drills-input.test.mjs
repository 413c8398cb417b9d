// Reliability drills (issue 11): hostile input. Random and hostile values through track(),
// dataLayer.push, gtag()-style arguments and the options: wrong types, getters that throw,
// Proxies, strings of 10 MB, NaN, cyclic objects, prototype-polluting keys (__proto__,
// constructor.prototype), out-of-range dates. Each time: no exception reaches the page, the
// built-in prototypes are untouched, the console stays short, and the widget keeps scoring: a
// good event after the hostile ones returns an Update. Malformed events are refused one by one
// with the engine's code (INVALID_EVENT, OUT_OF_ORDER) and change nothing.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MODEL, moduleHarness, ours, setup, test } from './helpers.mjs';
import { REPEATED_WARNINGS } from '../../web/package/log.js';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

/**
 * Init script: `window.__hostile(rand)` makes one hostile value; `window.__protos()` lists the
 * built-in prototypes' own properties (to compare before and after).
 */
function hostileValues() {
  const big = 'x'.repeat(10 * 2 ** 20); // 10 MB
  const cyclic = { type: 'view_item' };
  cyclic.self = cyclic;
  const throwing = new Proxy({}, {
    get() { throw new Error('get trap'); }, has() { throw new Error('has trap'); }, ownKeys() { throw new Error('ownKeys trap'); },
    getPrototypeOf() { throw new Error('getPrototypeOf trap'); }, getOwnPropertyDescriptor() { throw new Error('gopd trap'); },
  });
  // Prototype chains without end: a Proxy that is its own prototype, and one that answers a new
  // Proxy each time.
  const selfish = new Proxy({}, { getPrototypeOf: () => selfish });
  const endlessTraps = { getPrototypeOf: () => new Proxy({}, endlessTraps) };
  const endless = new Proxy({}, endlessTraps);
  const getter = Object.defineProperty({}, 'type', { enumerable: true, get() { throw new Error('getter'); } });
  const evil = { toString() { throw new Error('toString'); }, valueOf() { throw new Error('valueOf'); }, [Symbol.toPrimitive]() { throw new Error('toPrimitive'); } };
  const date = new Date();
  Object.defineProperty(date, 'getTime', { value() { throw new Error('getTime'); } });
  const sparse = [];
  sparse.length = 2 ** 32 - 1;
  const values = [
    undefined, null, true, false, 0, -0, 1, -1, NaN, Infinity, -Infinity, 1e308, -1e308, 2 ** 53, Number.MIN_VALUE, 1.5,
    '', ' ', 'view_item', 'purchase', big, '\u0000', '\uD800', 'é'.repeat(300), 'a\nb', ' padded', '__proto__', 'constructor',
    Symbol('s'), 10n, () => {}, [], [1, 2], sparse, {}, Object.create(null), cyclic, throwing, selfish, endless, getter, evil,
    new Date(NaN), new Date(-8.64e15), new Date(8.64e15), new Date(Date.UTC(1999, 11, 31)), new Date(Date.UTC(2200, 0, 1)), date,
    new Uint8Array(4), new Map(), new Set(), Promise.resolve(1), document.body, window, /re/, new Error('e'),
    JSON.parse('{"__proto__": {"polluted": true}}'), JSON.parse('{"constructor": {"prototype": {"polluted": true}}}'),
  ];
  window.__hostile = (rand) => values[Math.floor(rand() * values.length)];
  window.__hostileCount = values.length;
  window.__hostileAt = (i) => values[i];
  window.__big = big;
  window.__protos = () => [Object.prototype, Array.prototype, Function.prototype, String.prototype, Number.prototype, Boolean.prototype, Symbol.prototype, Date.prototype, Promise.prototype]
    .map((p) => Object.getOwnPropertyNames(p).sort().join(','));
  /** A small deterministic generator. */
  window.__rng = (seed) => () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

const harness = () => moduleHarness(env, hostileValues);

/** Common end of every drill: nothing reached the page, prototypes untouched, short console. */
async function assertUnharmed(page, before) {
  assert.deepEqual(page.pageErrors, [], 'no exception reached the page');
  assert.deepEqual(await page.evaluate(() => window.__protos()), before, 'the built-in prototypes are untouched');
  assert.equal(await page.evaluate(() => ({}).polluted), undefined);
  // (The browser's own messages, e.g. about a 10 MB URL, are the browser's.)
  const long = page.consoleMessages.filter((m) => m.text.startsWith('[shopper-intent]') && m.text.length > 600);
  assert.deepEqual(long.map((m) => m.text.slice(0, 120)), [], 'the package\'s console messages stay short (no echo of huge input)');
}

/**
 * Of each code in `codes`, at most the first REPEATED_WARNINGS refusals are warned about, and one
 * more warning says so when there were more; `refused` refusals happened in all, when known.
 */
function assertRepeatsCapped(warnings, codes, refused) {
  let reported = 0;
  for (const code of codes) {
    const each = warnings.filter((m) => m.text.includes(`event refused (${code})`)).length;
    const more = warnings.filter((m) => m.text.includes(`more events refused as ${code}:`)).length;
    assert.ok(each <= REPEATED_WARNINGS && more <= 1, `${code}: ${each} warnings, ${more} saying the rest go unreported`);
    if (each < REPEATED_WARNINGS) assert.equal(more, 0, `${code}: the rest are said to go unreported only after the first ${REPEATED_WARNINGS}`);
    reported += each;
  }
  if (refused !== undefined) assert.ok(refused > reported, `${refused} refusals, ${reported} warned about: the console is not flooded`);
  assert.ok(warnings.some((m) => /more events refused as/.test(m.text)), 'the cap was reached and said so');
}

test('track(): every hostile value as the event and in every field, then a good event scores', { timeout: 120_000 }, async () => {
  const { page, context } = await harness();
  const before = await page.evaluate(() => window.__protos());
  const r = await page.evaluate(async (model) => {
    const intent = await window.SI.ShopperIntent.load({ model, storage: 'memory', autoCapture: false });
    const fields = ['type', 'ts', 'item', 'category', 'price', 'quantity', 'session'];
    const results = { threw: [], updates: 0, refused: 0, badUpdates: [] };
    const check = (u) => {
      if (u === null) { results.refused += 1; return; }
      results.updates += 1;
      if (!Object.isFrozen(u) || typeof u.score !== 'number' || !(u.score >= 0 && u.score <= 1)) results.badUpdates.push(JSON.stringify(u));
    };
    const base = () => ({ type: 'view_item', item: 'ok', category: 'c', price: 1, quantity: 1, ts: Date.now() });
    // Each value as the whole event, then in each field of a good event.
    for (let i = 0; i < window.__hostileCount; i++) {
      const v = window.__hostileAt(i);
      try { check(intent.track(v)); } catch (e) { results.threw.push(`event #${i}: ${e}`); }
      for (const f of fields) {
        const e = base();
        e[f] = v;
        try { check(intent.track(e)); } catch (err) { results.threw.push(`${f} #${i}: ${err}`); }
      }
    }
    // Random events: random fields with random hostile values.
    const rand = window.__rng(20251130);
    for (let n = 0; n < 3000; n++) {
      const e = rand() < 0.5 ? base() : {};
      for (const f of fields) if (rand() < 0.4) e[f] = window.__hostile(rand);
      try { check(intent.track(e)); } catch (err) { results.threw.push(`random ${n}: ${err}`); }
    }
    const good = intent.track({ type: 'add_to_cart', item: 'good', category: 'c', price: 30, quantity: 1, ts: Date.now() + 60 * 60_000 });
    return { ...results, good, status: intent.status, history: intent.history().length };
  }, MODEL);
  assert.deepEqual(r.threw, [], 'track() never throws');
  assert.deepEqual(r.badUpdates, [], 'what track() returns is null or a frozen Update with a score in [0, 1]');
  assert.ok(r.refused > 100 && r.updates > 10, `both refusals (${r.refused}) and updates (${r.updates}) happened`);
  assert.equal(r.status, 'ready');
  assert.ok(r.good && !r.good.ignored && r.good.scored, 'a good event afterwards is scored');
  const warnings = ours(page, 'warning');
  // The good event is timed an hour ahead, after every time a hostile event may have set: one
  // warning says so (once per page).
  const refusalOrAhead = /event refused \((INVALID_EVENT|OUT_OF_ORDER)\)|more events refused as (INVALID_EVENT|OUT_OF_ORDER): this widget reported|ahead of this device's clock|before the newest event's: the engine takes it for a clock set back/;
  assert.ok(warnings.every((m) => refusalOrAhead.test(m.text)), `only refusals are reported: ${warnings.find((m) => !refusalOrAhead.test(m.text))?.text}`);
  assertRepeatsCapped(warnings, ['INVALID_EVENT', 'OUT_OF_ORDER'], r.refused);
  assert.ok(warnings.filter((m) => /ahead of this device's clock/.test(m.text)).length <= 1);
  assert.ok(warnings.filter((m) => /before the newest event's/.test(m.text)).length <= 1);
  assert.deepEqual(ours(page, 'error'), []);
  await assertUnharmed(page, before);
  await context.close();
});

test('malformed events are refused one by one, with the error code, and lose nothing else', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async (model) => {
    const intent = await window.SI.ShopperIntent.load({ model, storage: 'memory', autoCapture: false });
    const now = Date.now();
    const circular = { type: 'view_item', item: 'c-1', ts: now + 1000 };
    circular.self = circular;
    circular.nested = { back: circular };
    const trap = new Proxy({}, { get() { throw new Error('getter trap'); } });
    const bad = [
      ['null', null], ['undefined', undefined], ['number', 42], ['string', 'view_item'], ['array', []],
      ['empty object', {}], ['numeric type', { type: 5 }], ['empty type', { type: '' }], ['type with a control character', { type: 'view\u0000item' }],
      ['padded type', { type: ' view_item' }], ['NaN price', { type: 'view_item', price: NaN }],
      ['string price', { type: 'view_item', price: '59' }], ['negative price', { type: 'view_item', price: -1 }],
      ['infinite quantity', { type: 'add_to_cart', quantity: Infinity }], ['fractional quantity', { type: 'add_to_cart', quantity: 1.5 }],
      ['huge item', { type: 'view_item', item: window.__big }], ['huge category', { type: 'view_item', category: 'é'.repeat(300) }],
      ['huge type', { type: window.__big }], ['object item', { type: 'view_item', item: { id: 1 } }], ['boolean category', { type: 'view_item', category: true }],
      ['ts in 1970', { type: 'view_item', ts: 1000 }], ['ts NaN', { type: 'view_item', ts: NaN }],
      ['ts string', { type: 'view_item', ts: 'yesterday' }], ['ts in 2200', { type: 'view_item', ts: Date.UTC(2200, 0, 1) }],
      ['an invalid Date', { type: 'view_item', ts: new Date(NaN) }], ['the last Date', { type: 'view_item', ts: new Date(8.64e15) }],
      ['throwing getters', trap], ['BigInt ts', { type: 'view_item', ts: 10n }], ['symbol item', { type: 'view_item', item: Symbol('x') }],
    ];
    const first = intent.track({ type: 'view_item', item: 'ok-1', category: 'cat-1', price: 20, ts: now });
    const out = [];
    for (const [name, ev] of bad) {
      let result;
      let threw = null;
      try { result = intent.track(ev); } catch (e) { threw = String(e); }
      out.push({ name, result, threw });
    }
    const outOfOrder = intent.track({ type: 'view_item', item: 'ok-2', ts: now - 60_000 });
    const circ = intent.track(circular);
    const last = intent.track({ type: 'add_to_cart', item: 'ok-1', category: 'cat-1', price: 20, quantity: 1, ts: now + 2000 });
    return { first, out, outOfOrder, circ, last, history: intent.history(), status: intent.status, badCount: bad.length };
  }, MODEL);
  assert.equal(r.status, 'ready');
  assert.ok(r.first && !r.first.ignored, 'a valid event before');
  for (const o of r.out) {
    assert.equal(o.threw, null, `${o.name}: track() threw ${o.threw}`);
    assert.equal(o.result, null, `${o.name}: track() returns null`);
  }
  assert.equal(r.outOfOrder, null, 'an event a minute older than the newest is refused (beyond the 2 s tolerance, short of a clock reset)');
  assert.ok(r.circ, 'a circular object with valid fields is tracked (only known fields are read)');
  assert.ok(r.last && !r.last.ignored, 'a valid event after');
  assert.deepEqual(r.history.map((p) => p.type), ['view_item', 'view_item', 'add_to_cart'], 'exactly the three valid events are in the window');
  const warnings = ours(page, 'warning');
  const invalid = warnings.filter((m) => m.text.includes('event refused (INVALID_EVENT)'));
  const order = warnings.filter((m) => m.text.includes('event refused (OUT_OF_ORDER)'));
  assert.ok(r.badCount > REPEATED_WARNINGS);
  assert.equal(invalid.length, REPEATED_WARNINGS, `one INVALID_EVENT warning per bad event, for the first ${REPEATED_WARNINGS}:\n${warnings.map((m) => m.text).join('\n')}`);
  assert.deepEqual(warnings.filter((m) => m.text.includes('more events refused as')).map((m) => m.text),
    [`[shopper-intent] more events refused as INVALID_EVENT: this widget reported the first ${REPEATED_WARNINGS}, and reports no more`], 'then one warning says the rest go unreported');
  assert.equal(order.length, 1, 'one OUT_OF_ORDER warning: another code is reported on its own count');
  assert.ok(warnings.every((m) => m.text.length < 400), 'warnings stay short (no echo of huge input)');
  assert.deepEqual(page.pageErrors, []);
  assert.deepEqual(ours(page, 'error'), []);
  await context.close();
});

// engine.js passes plain shapes (strings within the limits, numbers) as typed arguments and
// anything else as JS values to the engine's thorough conversion: both must give the same answers.
test('the plain and the thorough way into the engine agree: same scores, same refusals', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async (model) => {
    const { ShopperIntent } = window.SI;
    const a = await ShopperIntent.load({ model, storage: 'memory', autoCapture: false });
    const b = await ShopperIntent.load({ model, storage: 'memory', autoCapture: false });
    const now = Date.now() - 3_600_000;
    const kinds = ['view_item', 'view_item', 'add_to_cart', 'view_item', 'add_to_wishlist', 'view_item', 'purchase'];
    const same = [];
    for (let i = 0; i < 60; i++) {
      const n = (i * 7) % 11;
      const base = { type: kinds[i % kinds.length], ts: now + i * 20_000 + (i >= 30 ? 40 * 60_000 : 0), price: 10 + n };
      const ua = a.track({ ...base, item: String(n), category: String(n % 3) });       // plain strings
      const ub = b.track({ ...base, item: n, category: String(n % 3) });               // a number id: the thorough way
      same.push([ua?.score, ub?.score, ua?.segment, ub?.segment, ua?.newSession, ub?.newSession]);
    }
    // 200 UTF-16 units pass the plain way but are 400 UTF-8 bytes: the core refuses them, as
    // it refuses 300 units the thorough way.
    const refused = [a.track({ type: 'view_item', item: 'é'.repeat(200), ts: now + 3_600_000 }),
      a.track({ type: 'view_item', item: 'é'.repeat(300), ts: now + 3_600_000 })];
    return { same, refused, history: a.history().length };
  }, MODEL);
  assert.equal(r.same.length, 60);
  for (const [sa, sb, ga, gb, na, nb] of r.same) {
    assert.equal(typeof sa, 'number', 'every event scored');
    assert.equal(sa, sb);
    assert.equal(ga, gb);
    assert.equal(na, nb);
  }
  assert.ok(r.same.some(([, , , , n], i) => n && i > 0), 'the 40-minute gap started a new session on both');
  assert.deepEqual(r.refused, [null, null]);
  const refusals = ours(page, 'warning').filter((m) => m.text.includes('event refused (INVALID_EVENT)') && m.text.includes('item'));
  assert.equal(refusals.length, 2, ours(page, 'warning').map((m) => m.text).join('\n'));
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

test('dataLayer.push and gtag(): hostile entries never break the push or the page, and scoring goes on', { timeout: 120_000 }, async () => {
  const { page, context } = await harness();
  const before = await page.evaluate(() => window.__protos());
  const r = await page.evaluate(async (model) => {
    // Hostile entries already in the layer before the widget starts, and a hostile item list.
    const items = [];
    items.length = 2 ** 31;
    items[0] = { item_id: 'first' };
    window.dataLayer = [window.__hostileAt(0), { event: 'view_item', ecommerce: { items } }, new Proxy({}, { get() { throw new Error('early trap'); } })];
    const gtag = function () { window.dataLayer.push(arguments); };
    const intent = await window.SI.ShopperIntent.load({ model, storage: 'memory', dataLayerPush: true });
    const threw = [];
    const returns = [];
    const rand = window.__rng(7);
    for (let i = 0; i < window.__hostileCount; i++) {
      const v = window.__hostileAt(i);
      for (const entry of [v, { event: v }, { event: 'view_item', ecommerce: v }, { event: 'add_to_cart', ecommerce: { items: [v] } },
        { event: 'add_to_cart', ecommerce: { items: [{ item_id: v, price: v, quantity: v, item_category: v }] } }, { event: 'view_item', ecommerce: { items: v } }]) {
        try { returns.push(window.dataLayer.push(entry)); } catch (e) { threw.push(`push #${i}: ${e}`); }
      }
      try { gtag('event', v, { items: [{ item_id: v }] }); } catch (e) { threw.push(`gtag name #${i}: ${e}`); }
      try { gtag('event', 'view_item', v); } catch (e) { threw.push(`gtag params #${i}: ${e}`); }
      try { gtag(v, v, v); } catch (e) { threw.push(`gtag command #${i}: ${e}`); }
    }
    for (let n = 0; n < 1000; n++) {
      const entry = rand() < 0.5 ? { event: window.__hostile(rand), ecommerce: { items: [{ item_id: window.__hostile(rand), price: window.__hostile(rand) }] } } : window.__hostile(rand);
      try { window.dataLayer.push(entry); } catch (e) { threw.push(`random ${n}: ${e}`); }
    }
    const length = window.dataLayer.length;
    const scored = [];
    intent.on('score', (d) => scored.push(d.type));
    window.dataLayer.push({ event: 'add_to_cart', ecommerce: { items: [{ item_id: 'good', price: 10, quantity: 1 }] } });
    const after = scored.at(-1);
    const good = intent.track({ type: 'view_item', item: 'good', ts: Date.now() + 3_600_000 });
    return { threw, pushReturnsLength: returns.every((x, i) => typeof x === 'number'), length, after, good, status: intent.status };
  }, MODEL);
  assert.deepEqual(r.threw, [], 'no push and no gtag() call threw');
  assert.ok(r.pushReturnsLength, 'every push returned what Array.prototype.push returns');
  assert.ok(r.length > 1000, 'every entry reached the layer');
  assert.equal(r.status, 'ready');
  assert.equal(r.after, 'add_to_cart', 'a good push afterwards is tracked');
  assert.ok(r.good && !r.good.ignored, 'and so is a good track()');
  const warnings = ours(page, 'warning');
  const expected = /event refused \((INVALID_EVENT|OUT_OF_ORDER)\)|a dataLayer entry could not be read|more (events refused as (INVALID_EVENT|OUT_OF_ORDER)|unreadable dataLayer entries): this widget reported|ahead of this device's clock|before the newest event's: the engine takes it for a clock set back/;
  assert.ok(warnings.every((m) => expected.test(m.text)),
    `only refusals, unreadable entries and the good event's time an hour ahead are reported: ${warnings.find((m) => !expected.test(m.text))?.text}`);
  const unreadable = warnings.filter((m) => /a dataLayer entry could not be read/.test(m.text)).length;
  const moreUnreadable = warnings.filter((m) => /more unreadable dataLayer entries/.test(m.text)).length;
  assert.ok(unreadable <= REPEATED_WARNINGS && moreUnreadable <= 1, `${unreadable} unreadable entries reported, then ${moreUnreadable}`);
  if (unreadable < REPEATED_WARNINGS) assert.equal(moreUnreadable, 0);
  assertRepeatsCapped(warnings, ['INVALID_EVENT', 'OUT_OF_ORDER']);
  assert.ok(warnings.filter((m) => /ahead of this device's clock/.test(m.text)).length <= 1);
  assert.ok(warnings.filter((m) => /before the newest event's/.test(m.text)).length <= 1);
  assert.deepEqual(ours(page, 'error'), []);
  await assertUnharmed(page, before);
  await context.close();
});

test('hostile options: wrong types are warnings and defaults, values the engine refuses are BAD_OPTIONS; never a throw', { timeout: 180_000 }, async () => {
  const { page, context } = await harness();
  const before = await page.evaluate(() => window.__protos());
  const r = await page.evaluate(async (model) => {
    const { ShopperIntent } = window.SI;
    const throwingGetter = (name) => Object.defineProperty({ model, storage: 'memory' }, name, { enumerable: true, get() { throw new Error(`${name} getter`); } });
    const cyclic = { model, storage: 'memory' };
    cyclic.self = cyclic;
    cyclic.thresholds = { medium: 0.1, high: 0.2, self: cyclic };
    const onlyModel = new Proxy({}, { get(_, k) { if (k === 'model') return model; throw new Error(`option ${String(k)}`); } });
    const inherited = Object.create({ model, storage: 'memory' });
    const B = { model, storage: 'memory', autoCapture: false };
    const cases = {
      // The widget runs with its defaults for what it cannot use (a warning each).
      ready: {
        'thresholds a string': { ...B, thresholds: '0.3,0.6' },
        'thresholds of strings': { ...B, thresholds: { medium: '0.1', high: '0.5' } },
        'thresholds NaN': { ...B, thresholds: { medium: NaN, high: 0.5 } },
        'thresholds a Proxy that throws': { ...B, thresholds: new Proxy({}, { get() { throw new Error('t'); } }) },
        'hysteresis a string': { ...B, hysteresis: '0.05' },
        'hysteresis NaN': { ...B, hysteresis: NaN },
        'utcOffsetMinutes an object': { ...B, utcOffsetMinutes: {} },
        'utcOffsetMinutes Infinity': { ...B, utcOffsetMinutes: Infinity },
        'retentionDays negative': { ...B, retentionDays: -1 },
        'retentionDays a string': { ...B, retentionDays: 'forever' },
        'timeoutMs NaN': { ...B, timeoutMs: NaN },
        'storage a number': { ...B, storage: 42 },
        'storage a 10 MB string': { ...B, storage: window.__big },
        'storage an object without methods': { ...B, storage: { get: 1 } },
        'storage with a throwing kind': { ...B, storage: { get kind() { throw new Error('kind'); }, get: () => null, set() {}, remove() {} } },
        'storage whose methods throw': { ...B, storage: { kind: 'broken', get() { throw new Error('get'); }, set() { throw new Error('set'); }, remove() { throw new Error('remove'); } } },
        'storage getters that throw': { ...B, storage: { get get() { throw new Error('g'); }, set() {}, remove() {} } },
        'consent an object': { ...B, consent: {} },
        'autoCapture a string': { ...B, autoCapture: 'maybe' },
        'start a number': { ...B, start: 7 },
        'wasm a number': { ...B, wasm: 12 },
        'manifest a number': { ...B, manifest: 5 },
        'a getter that throws (hysteresis)': throwingGetter('hysteresis'),
        'a getter that throws (storage)': throwingGetter('storage'),
        'a getter that throws (consent)': throwingGetter('consent'),
        'cyclic options': cyclic,
        'a Proxy that only answers model': onlyModel,
        'options inherited from a prototype': inherited,
        'polluting keys': JSON.parse(`{"model": "${model}", "storage": "memory", "__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}`),
        'a null-prototype object': Object.assign(Object.create(null), { model, storage: 'memory' }),
      },
      // The engine refuses these values: a failed widget, one console error.
      failed: {
        'thresholds medium above high': { ...B, thresholds: { medium: 0.6, high: 0.2 } },
        'thresholds of 1 and more': { ...B, thresholds: { medium: 0.5, high: 1.5 } },
        'hysteresis 0.9': { ...B, hysteresis: 0.9 },
        'utcOffsetMinutes 5000': { ...B, utcOffsetMinutes: 5000 },
        'utcOffsetMinutes 1.5': { ...B, utcOffsetMinutes: 1.5 },
        'no options': undefined,
        'options null': null,
        'options a string': 'model',
        'a Proxy that throws everywhere': new Proxy({}, { get() { throw new Error('everything'); } }),
        'a model URL of 10 MB': { model: `/models/${window.__big}.bin` },
      },
    };
    const out = {};
    for (const [expect, group] of Object.entries(cases)) {
      for (const [name, opts] of Object.entries(group)) {
        let threw = null;
        let intent = null;
        try {
          intent = await ShopperIntent.load(opts);
        } catch (e) { threw = String(e); }
        // An unknown consent means 'pending': nothing is scored until it is granted.
        const held = intent?.consent === 'pending';
        if (held) {
          intent.grantConsent();
          await new Promise((res) => setTimeout(res, 50));
        }
        const good = intent?.track({ type: 'view_item', item: 'good', ts: Date.now() }) ?? null;
        out[name] = { expect, threw, held, status: intent?.status, code: intent?.error?.code ?? null, messageLength: intent?.error?.message?.length ?? 0, good: good !== null };
        try { intent?.destroy(); } catch (e) { out[name].destroyThrew = String(e); }
      }
    }
    return out;
  }, MODEL);
  for (const [name, c] of Object.entries(r)) {
    assert.equal(c.threw, null, `${name}: load() threw ${c.threw}`);
    assert.equal(c.destroyThrew, undefined, `${name}: destroy() threw`);
    if (c.expect === 'ready') {
      assert.equal(c.status, 'ready', `${name}: runs (${c.code})`);
      assert.equal(c.good, true, `${name}: scores`);
    } else {
      assert.equal(c.status, 'failed', `${name}: fails`);
      assert.ok(['BAD_OPTIONS', 'LOAD_FAILED'].includes(c.code), `${name}: ${c.code}`);
      assert.equal(c.good, false);
      assert.ok(c.messageLength > 0 && c.messageLength <= 600, `${name}: a short message (${c.messageLength})`);
    }
  }
  assert.deepEqual(Object.entries(r).filter(([, c]) => c.held).map(([n]) => n).sort(),
    ['a Proxy that only answers model', 'a Proxy that throws everywhere', 'a getter that throws (consent)', 'consent an object'],
    'an unknown or unreadable consent is pending: consent is never assumed');
  const failedCount = Object.values(r).filter((c) => c.expect === 'failed').length;
  assert.equal(ours(page, 'error').filter((m) => m.text.includes('not running')).length, failedCount, 'one console error per failed widget');
  assert.ok(ours(page, 'warning').length >= 20, 'wrong option types are reported as warnings');
  await assertUnharmed(page, before);
  await context.close();
});

test('options of the wrong type are one warning each, naming the option, and its default; URL objects are URLs; an unknown consent stays pending', { timeout: 120_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async (model) => {
    const { ShopperIntent, estimateShares } = window.SI;
    /** Creates a widget with `opts`; the package's warnings while reading them, and the widget. */
    const make = (opts) => {
      const warnings = [];
      const warn = console.warn;
      console.warn = (...args) => { if (String(args[0]).startsWith('[shopper-intent]')) warnings.push(String(args[0])); warn.apply(console, args); };
      try {
        return { intent: ShopperIntent.create(opts), warnings };
      } finally {
        console.warn = warn;
      }
    };
    const out = {};
    // First on this page, so that the bindings are not loaded yet: the wasm URL object is used,
    // and it names a file that is not there.
    const missing = make({ model, storage: 'memory', autoCapture: false, wasm: new URL('/pkg/missing_bg.wasm', location.href) });
    await missing.intent.ready;
    out.missingWasm = { warnings: missing.warnings, status: missing.intent.status, code: missing.intent.error?.code, names: /missing_bg\.wasm/.test(missing.intent.error?.message) };
    const urls = make({ model: new URL('/models/intent.bin', location.href), storage: 'memory', autoCapture: false, wasm: new URL('/pkg/shopper_intent_wasm_bg.wasm', location.href) });
    await urls.intent.ready;
    out.urls = { warnings: urls.warnings, status: urls.intent.status, scores: urls.intent.track({ type: 'view_item', item: 'u' }) !== null };
    urls.intent.destroy();

    const B = { model, storage: 'memory', autoCapture: false };
    const cases = {
      autoCapture: { ...B, autoCapture: 'false' },
      dataLayerPush: { ...B, dataLayerPush: 'true', thresholds: { medium: 1e-6, high: 2e-6 } },
      modelCache: { ...B, modelCache: 'no' },
      start: { ...B, start: 'later' },
      manifest: { ...B, manifest: 12 },
      wasm: { ...B, wasm: { href: '/pkg/shopper_intent_wasm_bg.wasm' } },
    };
    for (const [name, opts] of Object.entries(cases)) {
      window.dataLayer = [];
      const { intent, warnings } = make(opts);
      const statusAtOnce = intent.status;
      await intent.ready;
      window.dataLayer.push({ event: 'view_item', ecommerce: { items: [{ item_id: 'from-data-layer' }] } });
      intent.track({ type: 'view_item', item: 'tracked' });
      out[name] = {
        warnings, statusAtOnce, status: intent.status, events: intent.history().length,
        pushes: window.dataLayer.filter((e) => String(e.event).startsWith('shopper_intent_')).length,
      };
      intent.destroy();
    }
    for (const [name, consent] of Object.entries({ 'consent yes': 'yes', 'consent null': null, 'consent true': true })) {
      const { intent, warnings } = make({ ...B, storage: 'local', consent });
      await intent.ready;
      intent.track({ type: 'view_item', item: 'held' });
      out[name] = { warnings, consent: intent.consent, events: intent.history().length, stored: intent.storedState() !== null || localStorage.length > 0 };
      intent.destroy();
    }
    out.estimate = (await estimateShares([5, 3, 2], { wasm: new URL('/pkg/shopper_intent_wasm_bg.wasm', location.href) }))?.n ?? null;
    return out;
  }, MODEL);
  assert.deepEqual(r.missingWasm, { warnings: [], status: 'failed', code: 'LOAD_FAILED', names: true }, 'a URL object is the wasm URL, not replaced by the default');
  assert.deepEqual(r.urls, { warnings: [], status: 'ready', scores: true }, 'URL objects for the model and the wasm module work, without a warning');
  const one = (name, c) => {
    assert.equal(c.warnings.length, 1, `${name}: one warning (${c.warnings.join(' | ')})`);
    assert.ok(c.warnings[0].includes(name), `${name}: the warning names the option: ${c.warnings[0]}`);
  };
  for (const name of ['autoCapture', 'dataLayerPush', 'modelCache', 'start', 'manifest', 'wasm']) {
    one(name, r[name]);
    assert.equal(r[name].status, 'ready', `${name}: the widget runs with the default`);
  }
  assert.equal(r.autoCapture.events, 2, 'autoCapture: its default (on): the dataLayer push was read');
  assert.equal(r.dataLayerPush.pushes, 0, 'dataLayerPush: its default (off): nothing pushed on the segment change');
  assert.equal(r.start.statusAtOnce, 'loading', "start: its default ('now')");
  for (const name of ['consent yes', 'consent null', 'consent true']) {
    assert.equal(r[name].consent, 'pending', `${name}: pending, never granted`);
    assert.equal(r[name].events, 0, `${name}: nothing scored`);
    assert.equal(r[name].stored, false, `${name}: nothing stored`);
    assert.equal(r[name].warnings.length, 1, `${name}: one warning`);
    assert.match(r[name].warnings[0], /pending/);
  }
  assert.equal(r.estimate, 10, 'estimateShares takes a URL object for the wasm module too');
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

test('experiments and hooks with hostile keys and callbacks leave the prototypes alone', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const before = await page.evaluate(() => window.__protos());
  const r = await page.evaluate(async (model) => {
    const intent = await window.SI.ShopperIntent.load({ model, storage: 'session', autoCapture: false });
    const out = { keys: [] };
    for (const key of ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString']) {
      out.keys.push({ key, variant: intent.experiment({ key, variants: ['a', 'b'] }), exposed: intent.expose(key) });
    }
    out.assignments = Object.entries(intent.assignments());
    const offs = [];
    for (const name of ['score', 'segment', 'exposure', 'conversion', '__proto__', 'constructor', 42, null, window.__big]) {
      for (const cb of [() => { throw new Error('hook'); }, null, 'not a function', new Proxy(() => {}, { apply() { throw new Error('proxy hook'); } })]) {
        offs.push(intent.on(name, cb));
      }
    }
    out.offsAreFunctions = offs.every((f) => typeof f === 'function');
    offs.forEach((f) => f());
    // Keys that name Object.prototype's properties, of experiments this session has not entered:
    // their reports are of 'none', as any other key's.
    const fresh = await window.SI.ShopperIntent.load({ model, storage: 'memory', autoCapture: false });
    out.reports = [];
    for (const key of ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf']) {
      const variant = fresh.experiment({ key, variants: ['a', 'b'], eligible: () => false });
      const report = fresh.privateReport(key, { epsilon: 20 });
      out.reports.push({ key, variant, values: report?.values ?? null, value: report?.value ?? null });
    }
    out.entered = ['__proto__', 'constructor', 'toString'].map((key) => intent.privateReport(key, { epsilon: 20 })?.value ?? null);
    out.freshStatus = fresh.status;
    out.good = intent.track({ type: 'purchase', item: 'p', ts: Date.now() }) !== null;
    return out;
  }, MODEL);
  for (const { key, variant, exposed } of r.keys) {
    assert.ok(variant === 'a' || variant === 'b', `${key} is a key like any other`);
    assert.equal(exposed, true, `${key}: exposed`);
  }
  assert.deepEqual(r.assignments.map(([k]) => k), ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString']);
  assert.ok(r.offsAreFunctions, 'on() always returns an unsubscribe function');
  for (const { key, variant, values, value } of r.reports) {
    assert.equal(variant, null, `${key}: not entered`);
    assert.deepEqual(values, ['a', 'b', 'none'], `${key}: reported like any key`);
    // With ε = 20 the report is the truth but for a chance of e^-20.
    assert.equal(value, 'none', `${key}: the truth is 'none', not a property of Object.prototype`);
  }
  assert.ok(r.entered.every((v) => v === 'a' || v === 'b'), `entered keys report their variant: ${r.entered}`);
  assert.equal(r.freshStatus, 'ready');
  assert.deepEqual(ours(page, 'error').map((m) => m.text), [], 'no engine failure, no re-creation');
  assert.ok(r.good);
  await assertUnharmed(page, before);
  await context.close();
});
