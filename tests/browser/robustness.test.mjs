// Bad input and a broken environment leave the page working, with a clear console message:
// malformed events, a missing or corrupt model, a missing wasm module, throwing storage.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { blankPage, setup, moduleHarness, ours } from './helpers.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

const harness = (initScript) => moduleHarness(env, initScript);

test('malformed events are refused one by one, with the error code, and lose nothing else', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async () => {
    const intent = await window.SI.ShopperIntent.load({ model: '/models/intent.onnx', storage: 'memory', autoCapture: false });
    const now = Date.now();
    const circular = { type: 'view_item', item: 'c-1', ts: now + 1000 };
    circular.self = circular;
    circular.nested = { back: circular };
    const trap = new Proxy({}, { get() { throw new Error('getter trap'); } });
    const bad = [
      ['null', null], ['undefined', undefined], ['number', 42], ['string', 'view_item'], ['array', []],
      ['empty object', {}], ['numeric type', { type: 5 }], ['NaN price', { type: 'view_item', price: NaN }],
      ['string price', { type: 'view_item', price: '59' }], ['negative price', { type: 'view_item', price: -1 }],
      ['infinite quantity', { type: 'add_to_cart', quantity: Infinity }], ['fractional quantity', { type: 'add_to_cart', quantity: 1.5 }],
      ['unknown type', { type: 'teleport' }], ['huge item', { type: 'view_item', item: 'x'.repeat(1_000_000) }],
      ['huge category', { type: 'view_item', category: 'é'.repeat(300) }], ['huge type', { type: 'v'.repeat(100_000) }],
      ['object item', { type: 'view_item', item: { id: 1 } }], ['boolean category', { type: 'view_item', category: true }],
      ['ts in 1970', { type: 'view_item', ts: 1000 }], ['ts NaN', { type: 'view_item', ts: NaN }],
      ['ts string', { type: 'view_item', ts: 'yesterday' }], ['ts in 2200', { type: 'view_item', ts: Date.UTC(2200, 0, 1) }],
      ['throwing getters', trap],
    ];
    const first = intent.track({ type: 'view_item', item: 'ok-1', category: 'cat-1', price: 20, ts: now });
    const out = [];
    for (const [name, ev] of bad) {
      let result;
      let threw = null;
      try { result = intent.track(ev); } catch (e) { threw = String(e); }
      out.push({ name, result, threw });
    }
    const outOfOrder = intent.track({ type: 'view_item', item: 'ok-2', ts: now - 3_600_000 });
    const circ = intent.track(circular);
    const last = intent.track({ type: 'add_to_cart', item: 'ok-1', category: 'cat-1', price: 20, quantity: 1, ts: now + 2000 });
    return { first, out, outOfOrder, circ, last, history: intent.history(), status: intent.status, badCount: bad.length };
  });
  assert.equal(r.status, 'ready');
  assert.ok(r.first && !r.first.ignored, 'a valid event before');
  for (const o of r.out) {
    assert.equal(o.threw, null, `${o.name}: track() threw ${o.threw}`);
    assert.equal(o.result, null, `${o.name}: track() returns null`);
  }
  assert.equal(r.outOfOrder, null, 'an event an hour older than the newest is refused');
  assert.ok(r.circ, 'a circular object with valid fields is tracked (only known fields are read)');
  assert.ok(r.last && !r.last.ignored, 'a valid event after');
  assert.equal(r.history.length, 3, 'exactly the three valid events are in the window');
  assert.deepEqual(r.history.map((p) => p.type), ['view_item', 'view_item', 'add_to_cart']);

  const warnings = ours(page, 'warning');
  const invalid = warnings.filter((m) => m.text.includes('event refused (INVALID_EVENT)'));
  const order = warnings.filter((m) => m.text.includes('event refused (OUT_OF_ORDER)'));
  assert.equal(invalid.length, r.badCount, `one INVALID_EVENT warning per bad event:\n${warnings.map((m) => m.text).join('\n')}`);
  assert.equal(order.length, 1, 'one OUT_OF_ORDER warning');
  assert.ok(warnings.every((m) => m.text.length < 400), 'warnings stay short (no echo of huge input)');
  assert.deepEqual(page.pageErrors, []);
  assert.deepEqual(ours(page, 'error'), []);
  await context.close();
});

/** Loads with `options` on a fresh page; returns the widget's state and the console. */
async function loadFailure(options, route) {
  const context = await env.browser.newContext();
  const page = await env.page(context);
  if (route) await page.route(route.url, route.handler);
  await blankPage(page, env.url);
  const r = await page.evaluate(async (opts) => {
    const { ShopperIntent } = await import('/shopper-intent.js');
    let rejected = null;
    let intent;
    try { intent = await ShopperIntent.load(opts); } catch (e) { rejected = String(e); }
    const update = intent.track({ type: 'view_item', item: 'x' });
    return {
      rejected, status: intent.status, error: intent.error, update, score: intent.score, segment: intent.segment,
      explain: intent.explain(), history: intent.history(), alive: document.body !== null && 1 + 1,
    };
  }, { storage: 'memory', autoCapture: false, ...options });
  await context.close();
  return { ...r, errors: ours(page, 'error'), pageErrors: page.pageErrors };
}

function assertFailed(r, code, mention) {
  assert.equal(r.rejected, null, 'load() resolves, it does not reject');
  assert.equal(r.status, 'failed');
  assert.equal(r.error?.code, code, `error ${JSON.stringify(r.error)}`);
  assert.equal(r.update, null);
  assert.equal(r.score, 0);
  assert.equal(r.segment, 'low');
  assert.deepEqual(r.explain, []);
  assert.deepEqual(r.history, []);
  assert.equal(r.alive, 2, 'the page still runs');
  assert.deepEqual(r.pageErrors, [], 'no uncaught error reaches the page');
  assert.equal(r.errors.length, 1, `exactly one console error: ${r.errors.map((m) => m.text)}`);
  assert.match(r.errors[0].text, new RegExp(`\\(${code}\\)`));
  if (mention) assert.ok(r.errors[0].text.includes(mention), `the message names ${mention}: ${r.errors[0].text}`);
}

test('a missing model (404) fails cleanly', { timeout: 60_000 }, async () => {
  const r = await loadFailure({ model: '/models/missing.onnx', manifest: '/models/intent.json' });
  assertFailed(r, 'LOAD_FAILED', '/models/missing.onnx');
  assert.match(r.errors[0].text, /404/);
});

test('a missing manifest fails cleanly', { timeout: 60_000 }, async () => {
  const r = await loadFailure({ model: '/models/intent.onnx', manifest: '/models/missing.json' });
  assertFailed(r, 'LOAD_FAILED', '/models/missing.json');
});

test('a corrupt model (random bytes) fails cleanly with BAD_MODEL', { timeout: 60_000 }, async () => {
  const junk = randomBytes(4096);
  const r = await loadFailure(
    { model: '/models/corrupt.onnx', manifest: '/models/intent.json', modelCache: false },
    { url: `${env.url}/models/corrupt.onnx`, handler: (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body: junk }) },
  );
  assertFailed(r, 'BAD_MODEL');
});

test('a manifest that does not match fails cleanly', { timeout: 60_000 }, async () => {
  const r = await loadFailure(
    { model: '/models/intent.onnx', manifest: '/models/other.json' },
    { url: `${env.url}/models/other.json`, handler: (route) => route.fulfill({ status: 200, contentType: 'application/json', body: '{"window": "many"}' }) },
  );
  assert.ok(['BAD_MODEL', 'MANIFEST_MISMATCH'].includes(r.error?.code), `error ${JSON.stringify(r.error)}`);
  assertFailed(r, r.error.code);
});

test('a missing wasm module fails cleanly', { timeout: 60_000 }, async () => {
  const r = await loadFailure({ model: '/models/intent.onnx', wasm: '/pkg/missing.wasm' });
  assertFailed(r, 'LOAD_FAILED', '/pkg/missing.wasm');
});

test('a missing model option fails cleanly', { timeout: 60_000 }, async () => {
  const r = await loadFailure({});
  assertFailed(r, 'BAD_OPTIONS', 'model');
});

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
  ['a full storage (QuotaExceededError)', quotaStorage, 'session'],
  ['storage disabled (the getter throws)', disabledStorage, 'local'],
]) {
  test(`${name}: the state falls back to memory with one warning`, { timeout: 60_000 }, async () => {
    const { page, context } = await harness(script);
    const r = await page.evaluate(async (storage) => {
      const intent = await window.SI.ShopperIntent.load({ model: '/models/intent.onnx', storage, autoCapture: false });
      const now = Date.now();
      const updates = [];
      for (let i = 0; i < 5; i++) {
        updates.push(intent.track({ type: i % 2 ? 'add_to_cart' : 'view_item', item: `i-${i}`, ts: now + i * 1000 }));
        await new Promise((res) => setTimeout(res, 300)); // let each debounced save happen
      }
      return { status: intent.status, storage: intent.storage, updates, stored: intent.storedState() !== null, history: intent.history().length };
    }, storage);
    assert.equal(r.status, 'ready');
    assert.equal(r.storage, 'memory');
    assert.ok(r.updates.every((u) => u && typeof u.score === 'number'), 'every event was tracked');
    assert.equal(r.history, 5);
    assert.equal(r.stored, true, 'the state is kept in memory');
    const storageWarnings = ours(page, 'warning').filter((m) => /Storage cannot be used/.test(m.text));
    assert.equal(storageWarnings.length, 1, `one storage warning: ${ours(page, 'warning').map((m) => m.text)}`);
    assert.deepEqual(page.pageErrors, []);
    await context.close();
  });
}

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
