// Reliability drills (issue 11): loading fails. The model, the manifest or the wasm module is
// missing (404), never answers (with the `timeoutMs` option), or is junk; the manifest's weights
// checksum does not match; the options name no model. Each time the widget degrades visibly and
// safely: load() resolves, status 'failed' with error {code, message}, exactly one console error
// of the package naming the code, no score (0, 'low', no history, no factors, no experiments),
// track() returns null, nothing reaches the page, the page keeps running. A bad download is never
// cached.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { BROWSER, MANIFEST, MODEL, MODELS, PACKAGE_MODULE, PKG, blankPage, ours, setup, test } from './helpers.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

const WEIGHTS = readFileSync(join(MODELS, 'intent.bin'));
const MANIFEST_TEXT = readFileSync(join(MODELS, 'intent.json'), 'utf8');
const WASM_FILES = /\/pkg\/shopper_intent_wasm_(bg|simd)\.wasm$/;

/** FNV-1a 64 as 16 hex digits (the manifest's weights checksum). */
function fnv1a64(bytes) {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}

/**
 * Loads the package with `options` on a fresh page whose requests `routes` answer
 * (`[{url: RegExp, handler}]`); returns the widget's state, the console and the page errors.
 */
async function load(options, routes = [], { context: given } = {}) {
  const context = given ?? (await env.browser.newContext());
  const page = await env.page(context);
  for (const r of routes) await page.route(r.url, r.handler);
  await blankPage(page, env.url);
  const r = await page.evaluate(async ({ opts, module }) => {
    const { ShopperIntent } = await import(module);
    let rejected = null;
    let intent;
    let whileLoading = null;
    try {
      intent = ShopperIntent.create(opts);
      // The page runs while the widget loads: its own work goes on.
      await new Promise((res) => setTimeout(res, 0));
      whileLoading = { status: intent.status, dom: (() => { const d = document.createElement('p'); document.body.append(d); return d.isConnected; })() };
      await intent.ready;
    } catch (e) { rejected = String(e); }
    const update = intent.track({ type: 'view_item', item: 'x' });
    return {
      rejected, whileLoading, status: intent.status, error: intent.error, update, score: intent.score, segment: intent.segment,
      explain: intent.explain(), history: intent.history(), experiment: intent.experiment({ key: 'k', variants: ['a', 'b'] }),
      attributes: intent.attributes(), attr: document.documentElement.getAttribute('data-shopper-intent-segment'),
      alive: document.body !== null && 1 + 1,
    };
  }, { opts: { storage: 'memory', autoCapture: false, ...options }, module: PACKAGE_MODULE });
  const out = { ...r, errors: ours(page, 'error'), pageErrors: page.pageErrors, page };
  if (!given) await context.close();
  return out;
}

function assertFailed(r, codes, mention) {
  const allowed = Array.isArray(codes) ? codes : [codes];
  assert.equal(r.rejected, null, 'load() resolves, it does not reject');
  assert.equal(r.status, 'failed');
  assert.ok(allowed.includes(r.error?.code), `error ${JSON.stringify(r.error)}, expected ${allowed.join(' or ')}`);
  assert.equal(typeof r.error.message, 'string');
  assert.ok(r.error.message.length > 0 && r.error.message.length <= 1000, 'the message says why, briefly');
  assert.equal(r.update, null, 'track() returns null');
  assert.equal(r.score, 0);
  assert.equal(r.segment, 'low');
  assert.deepEqual(r.explain, []);
  assert.deepEqual(r.history, []);
  assert.equal(r.experiment, null, 'no experiments without a running widget');
  assert.deepEqual(r.attributes, { intentSegment: 'low', intentScoreBucket: 0 });
  assert.equal(r.attr, null, 'no segment attribute on <html>');
  assert.equal(r.alive, 2, 'the page still runs');
  assert.deepEqual(r.pageErrors, [], 'no uncaught error reaches the page');
  assert.equal(r.errors.length, 1, `exactly one console error of the package: ${r.errors.map((m) => m.text)}`);
  assert.match(r.errors[0].text, new RegExp(`\\((${allowed.join('|')})\\)`));
  assert.ok(r.errors[0].text.length <= 1200, 'the console error is short');
  if (mention) assert.ok(r.errors[0].text.includes(mention), `the message names ${mention}: ${r.errors[0].text}`);
}

const fulfill = (body, contentType = 'application/octet-stream', status = 200) => (route) => route.fulfill({ status, contentType, body });
const never = () => () => { /* the request is never answered */ };

// WebKitGTK's WebDriver sessions keep their data in memory, and there a reload empties the Cache
// API's caches (measured: a cache still listed by caches.keys(), with no entries left), so a
// repeat visit served from the cache cannot be staged in WebKit.
const NO_REPEAT_VISIT = BROWSER === 'webkit' && 'WebKitGTK under WebDriver empties Cache API caches on a reload';

test('the weights (404) fail cleanly', { timeout: 60_000 }, async () => {
  const r = await load({ model: '/models/missing.bin', manifest: MANIFEST });
  assertFailed(r, 'LOAD_FAILED', '/models/missing.bin');
  assert.match(r.errors[0].text, /404/);
});

test('the manifest (404) fails cleanly', { timeout: 60_000 }, async () => {
  const r = await load({ model: MODEL, manifest: '/models/missing.json' });
  assertFailed(r, 'LOAD_FAILED', '/models/missing.json');
});

test('the wasm module (404) fails cleanly', { timeout: 60_000 }, async () => {
  const r = await load({ model: MODEL }, [{ url: WASM_FILES, handler: fulfill('not found', 'text/plain', 404) }]);
  assertFailed(r, 'LOAD_FAILED', 'wasm');
});

for (const [what, url, option] of [
  ['weights', /\/models\/intent\.bin$/, '/models/intent.bin'],
  ['manifest', /\/models\/intent\.json$/, '/models/intent.json'],
  ['wasm module', WASM_FILES, 'wasm'],
]) {
  test(`a download that never ends (${what}): LOAD_FAILED after timeoutMs, the page never waits`, { timeout: 60_000 }, async () => {
    const r = await load({ model: MODEL, manifest: MANIFEST, timeoutMs: 700 }, [{ url, handler: never() }]);
    assert.deepEqual(r.whileLoading, { status: 'loading', dom: true }, 'the page runs while the widget waits');
    assertFailed(r, 'LOAD_FAILED', option);
    assert.match(r.errors[0].text, /no answer within 700 ms/);
  });
}

/**
 * Init script: the wasm module's requests are answered at once with their headers (of
 * `contentType`), then eight bytes of body, then nothing: a server that stalls mid-download.
 * (The tests' routes answer whole bodies only, so the stall is made in the page, at `fetch`.)
 * `window.__wasmAborted` counts the requests the page aborted; an aborted one's body ends there
 * (erroring it instead, as the network does, makes Firefox report a page error for a stream the
 * reader handled).
 */
function stalledWasmBody(contentType, builds = 'bg|simd') {
  const fetch = window.fetch;
  window.__stalled = 0;
  window.__wasmAborted = 0;
  window.fetch = function (input, init) {
    const url = String(input instanceof Request ? input.url : input);
    if (!new RegExp(`/pkg/shopper_intent_wasm_(${builds})\\.wasm$`).test(url)) return fetch.call(this, input, init);
    window.__stalled += 1;
    const signal = init?.signal;
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
        signal?.addEventListener('abort', () => { window.__wasmAborted += 1; controller.close(); });
      },
    });
    return Promise.resolve(new Response(body, { status: 200, headers: { 'Content-Type': contentType } }));
  };
}

for (const contentType of ['application/wasm', 'application/octet-stream']) {
  test(`a wasm download whose body stalls after the headers (${contentType}): LOAD_FAILED after timeoutMs`, { timeout: 60_000 }, async () => {
    const context = await env.browser.newContext();
    await context.addInitScript({ content: `(${stalledWasmBody})(${JSON.stringify(contentType)});` });
    const r = await load({ model: MODEL, manifest: MANIFEST, timeoutMs: 700 }, [], { context });
    const { stalled, aborted } = await r.page.evaluate(() => ({ stalled: window.__stalled, aborted: window.__wasmAborted }));
    await context.close();
    assert.ok(stalled >= 1, 'the wasm module was requested, and its body stalled');
    assert.ok(aborted >= 1, 'the stalled download was aborted');
    assertFailed(r, 'LOAD_FAILED', 'wasm');
    assert.match(r.errors[0].text, /within 700 ms/);
  });
}

test('a SIMD build whose body stalls after the headers: the plain build is loaded instead', { timeout: 60_000 }, async () => {
  const context = await env.browser.newContext();
  await context.addInitScript({ content: `(${stalledWasmBody})('application/wasm', 'simd');` });
  const page = await env.page(context);
  await blankPage(page, env.url);
  const r = await page.evaluate(async ({ model, module }) => {
    const { ShopperIntent } = await import(module);
    const intent = await ShopperIntent.load({ model, storage: 'memory', autoCapture: false, timeoutMs: 700 });
    return { status: intent.status, error: intent.error, stalled: window.__stalled, simd: WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 15, 11])) }; // engine.js's probe
  }, { model: MODEL, module: PACKAGE_MODULE });
  await context.close();
  if (!r.simd) return; // a browser without SIMD never asks for that build
  assert.equal(r.stalled, 1, 'the SIMD build was asked for, and its body stalled');
  assert.deepEqual({ status: r.status, error: r.error }, { status: 'ready', error: null });
});

test('junk weights (random bytes) fail cleanly with BAD_MODEL', { timeout: 60_000 }, async () => {
  const junk = randomBytes(WEIGHTS.length);
  const r = await load({ model: '/models/junk.bin', manifest: MANIFEST, modelCache: false },
    [{ url: /\/models\/junk\.bin$/, handler: fulfill(junk) }]);
  assertFailed(r, 'BAD_MODEL');
});

test('weights whose checksum does not match the manifest fail with MANIFEST_MISMATCH', { timeout: 60_000 }, async () => {
  const edited = Buffer.from(WEIGHTS);
  edited[edited.length >> 1] ^= 0x40; // one bit of one weight
  const r = await load({ model: '/models/edited.bin', manifest: MANIFEST, modelCache: false },
    [{ url: /\/models\/edited\.bin$/, handler: fulfill(edited) }]);
  assertFailed(r, 'MANIFEST_MISMATCH');
  // The other way round: the real weights, a manifest naming another checksum.
  const manifest = JSON.parse(MANIFEST_TEXT);
  manifest.model.weights_fnv1a64 = manifest.model.weights_fnv1a64.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  const r2 = await load({ model: MODEL, manifest: '/models/other.json', modelCache: false },
    [{ url: /\/models\/other\.json$/, handler: fulfill(JSON.stringify(manifest), 'application/json') }]);
  assertFailed(r2, 'MANIFEST_MISMATCH');
  assert.ok(r2.error.message.includes('checksum'), r2.error.message);
  // And junk whose checksum the manifest does name: the engine reads it and refuses it.
  const junk = Buffer.concat([Buffer.from('SIW1'), randomBytes(WEIGHTS.length - 4)]);
  const named = JSON.parse(MANIFEST_TEXT);
  named.model.weights_fnv1a64 = fnv1a64(junk);
  const r3 = await load({ model: '/models/named-junk.bin', manifest: '/models/named.json', modelCache: false }, [
    { url: /\/models\/named-junk\.bin$/, handler: fulfill(junk) },
    { url: /\/models\/named\.json$/, handler: fulfill(JSON.stringify(named), 'application/json') },
  ]);
  assertFailed(r3, 'BAD_MODEL');
});

test('a junk manifest fails cleanly (not JSON, another format, an HTML page, nonsense fields)', { timeout: 90_000 }, async () => {
  const bodies = {
    'not JSON': '{"format": 2, "name": ',
    'an HTML page': '<!doctype html><html><body>Welcome to our shop</body></html>',
    'another format': JSON.stringify({ ...JSON.parse(MANIFEST_TEXT), format: 99 }),
    'nonsense fields': '{"window": "many"}',
    'a JSON array': '[1, 2, 3]',
    'an empty file': '',
  };
  for (const [name, body] of Object.entries(bodies)) {
    const r = await load({ model: MODEL, manifest: '/models/junk.json', modelCache: false },
      [{ url: /\/models\/junk\.json$/, handler: fulfill(body, name === 'an HTML page' ? 'text/html' : 'application/json') }]);
    assertFailed(r, ['MANIFEST_MISMATCH', 'BAD_MODEL'], undefined);
  }
});

test('a junk wasm module fails cleanly', { timeout: 60_000 }, async () => {
  const r = await load({ model: MODEL }, [{ url: WASM_FILES, handler: fulfill(randomBytes(5000), 'application/wasm') }]);
  assertFailed(r, 'LOAD_FAILED');
});

test('no model option fails cleanly with BAD_OPTIONS', { timeout: 60_000 }, async () => {
  for (const model of [undefined, 42, null, {}]) {
    const r = await load({ model });
    assertFailed(r, 'BAD_OPTIONS', 'model');
  }
});

/**
 * Imports the package in `page`, loads it with `options` (state in memory, no auto-capture) and
 * tracks `event`: the status, the model cache's log at ready (set by `slowCache`) and the update.
 */
function loadAndTrack(page, options, event) {
  return page.evaluate(async ({ opts, ev, module }) => {
    const { ShopperIntent } = await import(module);
    const intent = await ShopperIntent.load({ storage: 'memory', autoCapture: false, ...opts });
    const cacheAtReady = window.__cacheLog ? [...window.__cacheLog] : null;
    return { status: intent.status, cacheAtReady, update: intent.track(ev) };
  }, { opts: options, ev: event, module: PACKAGE_MODULE });
}

test('a bad download is never cached: the next load fetches the weights again and works', { timeout: 60_000 }, async () => {
  const context = await env.browser.newContext();
  const junk = Buffer.from(WEIGHTS);
  junk[100] ^= 1;
  const first = await load({ model: MODEL, manifest: MANIFEST }, [{ url: /\/models\/intent\.bin$/, handler: fulfill(junk) }], { context });
  assertFailed(first, 'MANIFEST_MISMATCH');
  const page = await env.page(context);
  const fetched = [];
  page.on('request', (q) => { if (q.url().endsWith(MODEL)) fetched.push(q.url()); });
  await blankPage(page, env.url);
  const ok = async () => {
    const r = await loadAndTrack(page, { model: MODEL, manifest: MANIFEST }, { type: 'view_item', item: 'y' });
    return { status: r.status, update: r.update !== null };
  };
  assert.deepEqual(await ok(), { status: 'ready', update: true }, 'the real weights load');
  assert.equal(fetched.length, 1, 'the weights were fetched, not taken from the cache');
  if (!NO_REPEAT_VISIT) {
    await page.reload();
    assert.deepEqual(await ok(), { status: 'ready', update: true });
    assert.equal(fetched.length, 1, 'accepted weights are cached: no second download');
  }
  await context.close();
});

test('a first visit fetches the weights while the manifest is on its way; a repeat visit takes them from the cache', { timeout: 60_000, skip: NO_REPEAT_VISIT }, async () => {
  const context = await env.browser.newContext();
  const page = await env.page(context);
  const log = [];
  // The manifest answers 1.5 s late: the weights request must not wait for it.
  await page.route(/\/models\/intent\.json$/, async (route) => {
    log.push('manifest requested');
    await new Promise((r) => setTimeout(r, 1500));
    log.push('manifest answered');
    await route.continue();
  });
  page.on('request', (q) => { if (q.url().endsWith(MODEL)) log.push('weights requested'); });
  await blankPage(page, env.url);
  const visit = async () => {
    const r = await loadAndTrack(page, { model: MODEL, manifest: MANIFEST }, { type: 'view_item', item: 'z' });
    return { status: r.status, update: r.update !== null };
  };
  assert.deepEqual(await visit(), { status: 'ready', update: true });
  assert.deepEqual(log, ['manifest requested', 'weights requested', 'manifest answered'], 'both in flight at once');
  log.length = 0;
  await page.reload();
  assert.deepEqual(await visit(), { status: 'ready', update: true });
  assert.deepEqual(log, ['manifest requested', 'manifest answered'], 'no download: the cached weights match the manifest');
  await context.close();
});

/** An init script that records in `window.__aborted` the path of each fetch the page aborts. */
const recordAborts = `(() => {
  const real = window.fetch;
  window.__aborted = [];
  window.fetch = (input, init) => {
    const path = new URL(input instanceof Request ? input.url : String(input), location.href).pathname;
    init?.signal?.addEventListener('abort', () => window.__aborted.push(path));
    return real(input, init);
  };
})()`;

/** An init script that makes the page's `caches.open` answer `ms` late and logs when it does. */
const slowCache = (ms) => `(() => {
  const open = caches.open.bind(caches);
  window.__cacheLog = [];
  caches.open = (name) => new Promise((r) => setTimeout(r, ${ms})).then(() => { window.__cacheLog.push('cache answered'); return open(name); });
})()`;

test('a Cache API that does not answer holds a first visit back by CACHE_GRACE_MS at most, then the weights download', { timeout: 60_000 }, async () => {
  const context = await env.browser.newContext();
  await context.addInitScript(slowCache(4000));
  const page = await env.page(context);
  const log = [];
  page.on('request', (q) => { if (q.url().endsWith(MODEL)) log.push('weights requested'); });
  await blankPage(page, env.url);
  const r = await loadAndTrack(page, { model: MANIFEST }, { type: 'view_item', item: 'z' });
  assert.deepEqual({ ...r, update: r.update !== null }, { status: 'ready', cacheAtReady: [], update: true }, 'ready before the cache answered');
  assert.deepEqual(log, ['weights requested']);
  // Once the cache answers, the accepted weights go in it: the next visit downloads nothing.
  await page.waitForFunction(async () => (await (await caches.open('shopper-intent-model')).keys()).filter((q) => q.url.includes('shopper-intent-weights=')).length === 1, null, { timeout: 10_000 });
  await context.close();
});

test('a repeat visit takes the weights from a cache that answers late; a download started meanwhile is cancelled', { timeout: 60_000, skip: NO_REPEAT_VISIT }, async () => {
  const context = await env.browser.newContext();
  const page = await env.page(context);
  const visit = async () => {
    const r = await loadAndTrack(page, { model: MANIFEST }, { type: 'view_item', item: 'z', ts: 1.7e12 });
    return { status: r.status, score: r.update?.score };
  };
  await blankPage(page, env.url);
  const first = await visit();
  assert.equal(first.status, 'ready');
  await page.waitForFunction(async () => (await (await caches.open('shopper-intent-model')).keys()).filter((q) => q.url.includes('shopper-intent-weights=')).length === 1, null, { timeout: 10_000 });
  // From now on the network never finishes the weights.
  const requested = [];
  const failed = [];
  page.on('request', (q) => { if (q.url().endsWith(MODEL)) requested.push(q.url()); });
  page.on('requestfailed', (q) => { if (q.url().endsWith(MODEL)) failed.push(q.url()); });
  await page.route(new RegExp(`${MODEL.replace(/\./g, '\\.')}$`), () => { /* never answered */ });
  await context.addInitScript(recordAborts);
  // The cache answers 200 ms late, within the grace: it decides, nothing is downloaded.
  await context.addInitScript(slowCache(200));
  await page.reload();
  assert.deepEqual(await visit(), first, 'ready from the cache, with the same weights');
  assert.equal(requested.length, 0, 'no download');
  // Now 1.7 s late (the two delays add up), past the grace: the download starts, then the cache serves.
  await context.addInitScript(slowCache(1500));
  await page.reload();
  assert.deepEqual(await visit(), first, 'ready from the cache, with the same weights');
  assert.equal(requested.length, 1, 'a download was started while the cache kept silent');
  await page.waitForFunction(() => window.__aborted.length > 0, null, { timeout: 5000 });
  assert.deepEqual(await page.evaluate(() => window.__aborted), [MODEL], 'and cancelled once the cache had answered');
  // Chromium also reports the request as failed. (Firefox does not report the cancelling of a
  // request held by an interception over WebDriver BiDi: there the page's own record is the proof.)
  if (BROWSER === 'chromium') {
    for (let i = 0; i < 50 && failed.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(failed.length, 1, 'the browser saw the weights request fail');
  }
  await context.close();
});

test('a weights download that fails while the Cache API is silent fails the load at once, not when the cache answers', { timeout: 60_000 }, async () => {
  const context = await env.browser.newContext();
  await context.addInitScript(slowCache(20_000));
  const r = await load({ model: MANIFEST }, [{ url: /\/models\/intent\.bin$/, handler: (route) => route.fulfill({ status: 404, body: 'gone' }) }], { context });
  assertFailed(r, 'LOAD_FAILED', 'HTTP 404');
  assert.deepEqual(await r.page.evaluate(() => window.__cacheLog), [], 'failed before the cache answered');
  await context.close();
});

test('weights in the cache that the engine refuses are removed and downloaded again: one bad entry does not fail every visit', { timeout: 60_000 }, async () => {
  const context = await env.browser.newContext();
  const page = await env.page(context);
  await blankPage(page, env.url);
  const checksum = JSON.parse(MANIFEST_TEXT).model.weights_fnv1a64;
  const r = await page.evaluate(async ({ model, manifest, checksum, module }) => {
    // The entry a damaged disk or another script left under this version's key.
    const key = new URL(`${model}?shopper-intent-weights=${checksum}`, location.href).href;
    const cache = await caches.open('shopper-intent-model');
    await cache.put(key, new Response(new Uint8Array(64).fill(7)));
    const { ShopperIntent } = await import(module);
    const intent = await ShopperIntent.load({ model, manifest, storage: 'memory', autoCapture: false });
    return { status: intent.status, error: intent.error, scored: intent.track({ type: 'view_item', item: 'x' }) !== null, left: (await cache.keys()).map((q) => q.url) };
  }, { model: MODEL, manifest: MANIFEST, checksum, module: PACKAGE_MODULE });
  assert.deepEqual({ status: r.status, error: r.error, scored: r.scored }, { status: 'ready', error: null, scored: true });
  // The weights downloaded in its place are cached (put once the engine took them).
  let left = [];
  for (let i = 0; i < 50; i++) {
    left = await page.evaluate(async () => {
      const cache = await caches.open('shopper-intent-model');
      const weights = (await cache.keys()).filter((q) => q.url.includes('shopper-intent-weights='));
      return Promise.all(weights.map(async (q) => ({ url: q.url, bytes: (await (await cache.match(q)).arrayBuffer()).byteLength })));
    });
    if (left.length > 0 && left[0].bytes === WEIGHTS.length) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.deepEqual(left.map((e) => e.bytes), [WEIGHTS.length], `the refused entry is replaced by the good weights: ${JSON.stringify(left)}`);
  assert.equal(ours(page, 'warning').filter((m) => /cached model was refused/.test(m.text)).length, 1);
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

/**
 * A shop's own server in front of the test server: `/dep/intent.json` and `/dep/intent.bin` are
 * the model deployed now (`deploy(name)`), the weights with an HTTP lifetime of an hour, as a CDN
 * gives static files; everything else is passed through. Model 'b' is the shipped one with one
 * weight changed (and its checksum and name in its manifest).
 */
async function shopServer() {
  // One weight changed (a low bit of the last float), and the file's own checksum (its last 8
  // bytes, FNV-1a 64 of the rest, little-endian) made right again.
  const b = Buffer.from(WEIGHTS);
  b[b.length - 12] ^= 0x01;
  b.writeBigUInt64LE(BigInt(`0x${fnv1a64(b.subarray(0, b.length - 8))}`), b.length - 8);
  const models = {
    a: { weights: WEIGHTS, manifest: MANIFEST_TEXT },
    b: { weights: b, manifest: JSON.stringify((() => { const m = JSON.parse(MANIFEST_TEXT); m.name = 'intent-b'; m.model.weights_fnv1a64 = fnv1a64(b); return m; })()) },
  };
  let deployed = 'a';
  const served = [];
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!doctype html><html><head><meta charset="utf-8"><title>shop</title></head><body></body></html>');
      return;
    }
    if (path === '/dep/intent.json' || path === '/dep/intent.bin') {
      const m = models[deployed];
      const body = path.endsWith('.json') ? Buffer.from(m.manifest) : m.weights;
      const etag = `"${deployed}-${path.endsWith('.json') ? 'm' : 'w'}"`;
      served.push(`${path} ${deployed} ${req.headers['if-none-match'] === etag ? 304 : 200}`);
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { ETag: etag }).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': path.endsWith('.json') ? 'application/json' : 'application/octet-stream', 'Cache-Control': 'public, max-age=3600', ETag: etag }).end(body);
      return;
    }
    try {
      const up = await fetch(`${env.url}${req.url}`);
      const headers = {};
      for (const h of ['content-type', 'etag', 'cache-control']) if (up.headers.get(h)) headers[h] = up.headers.get(h);
      res.writeHead(up.status, headers).end(Buffer.from(await up.arrayBuffer()));
    } catch (e) {
      res.writeHead(502).end(String(e));
    }
  });
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    deploy: (name) => { deployed = name; },
    served,
    close: () => new Promise((res) => server.close(res)),
  };
}

test('a model deployed at the same URLs reaches a returning visitor at once, although the HTTP cache holds the old weights for an hour', { timeout: 90_000, skip: BROWSER === 'webkit' && 'the WebKit harness drives only pages of its own front server' }, async () => {
  const shop = await shopServer();
  const context = await env.browser.newContext();
  const visit = async () => {
    const page = await env.page(context);
    await page.goto(`${shop.url}/`);
    // No Cache API (modelCache: false), as in a browser that refuses it: the HTTP cache alone.
    const r = await page.evaluate(async (module) => {
      const { ShopperIntent } = await import(module);
      const intent = await ShopperIntent.load({ model: '/dep/intent.bin', storage: 'memory', autoCapture: false, modelCache: false });
      return { status: intent.status, error: intent.error, name: intent.model && intent.model.name };
    }, PACKAGE_MODULE);
    await page.close();
    return r;
  };
  try {
    const first = await visit();
    const again = await visit();
    shop.deploy('b');
    const deployed = await visit();
    assert.deepEqual(first, { status: 'ready', error: null, name: 'intent' });
    assert.deepEqual(again, { status: 'ready', error: null, name: 'intent' });
    assert.deepEqual(deployed, { status: 'ready', error: null, name: 'intent-b' }, `the new model, not MANIFEST_MISMATCH: ${shop.served.join(', ')}`);
    assert.ok(shop.served.includes('/dep/intent.bin a 304'), `an unchanged weights file is revalidated, not downloaded again: ${shop.served.join(', ')}`);
  } finally {
    await context.close();
    await shop.close();
  }
});

test('the model cache keeps the weights in use and the ones before, not every version a shop deployed under its own path', { timeout: 90_000 }, async () => {
  const context = await env.browser.newContext();
  const page = await env.page(context);
  await blankPage(page, env.url);
  const r = await page.evaluate(async ({ model, module }) => {
    const cache = await caches.open('shopper-intent-model');
    // Three earlier versions, each under its own path (as a shop that versions its URLs leaves them).
    for (const v of ['v1', 'v2', 'v3']) await cache.put(new URL(`/models/${v}/intent.bin?shopper-intent-weights=0123456789abcdef`, location.href).href, new Response(new Uint8Array(8)));
    const { ShopperIntent } = await import(module);
    const intent = await ShopperIntent.load({ model, storage: 'memory', autoCapture: false });
    let keys = [];
    for (let i = 0; i < 50; i++) {
      keys = (await cache.keys()).filter((q) => q.url.includes('shopper-intent-weights=')).map((q) => new URL(q.url).pathname);
      if (keys.includes('/models/intent.bin') && keys.length <= 2) break; // put, then the old ones deleted
      await new Promise((res) => setTimeout(res, 100));
    }
    return { status: intent.status, keys };
  }, { model: MODEL, module: PACKAGE_MODULE });
  assert.equal(r.status, 'ready');
  assert.deepEqual(r.keys, ['/models/v3/intent.bin', '/models/intent.bin'], 'the newest earlier version, and the one in use');
  await context.close();
});

/** The model cache's keys as paths with their query strings, once `done(keys)` holds (5 s at most). */
async function cacheKeys(page, done) {
  let keys = [];
  for (let i = 0; i < 50; i++) {
    keys = await page.evaluate(async () => (await (await caches.open('shopper-intent-model')).keys()).map((q) => { const u = new URL(q.url); return u.pathname + u.search; }));
    if (done(keys)) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  return keys;
}

test('a returning visitor whose manifest cannot be fetched loads the model kept from the last visit, with a warning; a kept pair the engine refuses is removed', { timeout: 90_000 }, async () => {
  const context = await env.browser.newContext();
  const page = await env.page(context);
  await blankPage(page, env.url);
  const checksum = JSON.parse(MANIFEST_TEXT).model.weights_fnv1a64;
  const kept = [`${MANIFEST}?shopper-intent-manifest=1`, `${MODEL}?shopper-intent-weights=${checksum}`].map((k) => new URL(k, env.url).pathname + new URL(k, env.url).search);
  const visit = () => page.evaluate(async ({ model, manifest, module }) => {
    const { ShopperIntent } = await import(module);
    const intent = await ShopperIntent.load({ model, manifest, storage: 'memory', autoCapture: false });
    const r = { status: intent.status, error: intent.error, scored: intent.track({ type: 'view_item', item: 'x' }) !== null };
    intent.destroy();
    return r;
  }, { model: MODEL, manifest: MANIFEST, module: PACKAGE_MODULE });
  assert.deepEqual(await visit(), { status: 'ready', error: null, scored: true });
  assert.deepEqual((await cacheKeys(page, (k) => k.length === 2)).sort(), [...kept].sort(), 'the weights and the manifest they were used with are kept');
  // The shop's server (or its CDN) is down for the manifest.
  await page.route(/\/models\/intent\.json$/, fulfill('unavailable', 'text/plain', 503));
  assert.deepEqual(await visit(), { status: 'ready', error: null, scored: true }, 'the kept pair loads');
  const warned = ours(page, 'warning').filter((m) => /kept from an earlier visit/.test(m.text));
  assert.equal(warned.length, 1);
  assert.match(warned[0].text, /HTTP 503/, 'the warning says why');
  // A kept pair the engine refuses (a damaged entry here): removed, and the load fails on the
  // manifest's error, as it would with nothing kept.
  await page.evaluate(async (key) => (await caches.open('shopper-intent-model')).put(new URL(key, location.href).href, new Response(new Uint8Array(64).fill(7))), kept[1]);
  const refused = await visit();
  assert.equal(refused.status, 'failed');
  assert.equal(refused.error.code, 'LOAD_FAILED');
  assert.match(refused.error.message, /manifest.*HTTP 503/);
  assert.equal(ours(page, 'warning').filter((m) => /cached model was refused/.test(m.text)).length, 1, 'the kept pair was offered, and refused');
  assert.deepEqual(await cacheKeys(page, (k) => k.length === 0), [], 'both kept entries are removed');
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

test('a manifest refused before the cache has answered still gives the kept pair, and starts no download of the weights', { timeout: 60_000 }, async () => {
  // A shop's server can answer 503 at once while this browser's Cache API takes its time (WebKit
  // did, now and then): the load waits for the cache instead of failing on the manifest.
  const context = await env.browser.newContext();
  const page = await env.page(context);
  await blankPage(page, env.url);
  const visit = (slowCacheMs) => page.evaluate(async ({ model, manifest, module, slowCacheMs }) => {
    if (slowCacheMs) {
      const open = CacheStorage.prototype.open;
      CacheStorage.prototype.open = function (...args) {
        return new Promise((r) => { setTimeout(r, slowCacheMs); }).then(() => open.apply(this, args));
      };
    }
    const { ShopperIntent } = await import(module);
    const intent = await ShopperIntent.load({ model, manifest, storage: 'memory', autoCapture: false });
    const r = { status: intent.status, error: intent.error, scored: intent.track({ type: 'view_item', item: 'x' }) !== null };
    intent.destroy();
    return r;
  }, { model: MODEL, manifest: MANIFEST, module: PACKAGE_MODULE, slowCacheMs });
  assert.deepEqual(await visit(0), { status: 'ready', error: null, scored: true });
  await cacheKeys(page, (k) => k.length === 2);
  let manifestAsked = 0;
  await page.route(/\/models\/intent\.json$/, (route) => { manifestAsked += 1; return route.fulfill({ status: 503, contentType: 'text/plain', body: 'unavailable' }); });
  const weightsAsked = [];
  page.on('request', (r) => { if (new URL(r.url()).pathname === new URL(MODEL, env.url).pathname) weightsAsked.push(r.url()); });
  assert.deepEqual(await visit(400), { status: 'ready', error: null, scored: true }, 'the kept pair loads');
  assert.equal(manifestAsked, 1);
  assert.deepEqual(weightsAsked, [], 'the weights were not asked for: the manifest failed before the cache answered');
  const warned = ours(page, 'warning').filter((m) => /kept from an earlier visit/.test(m.text));
  assert.equal(warned.length, 1);
  assert.match(warned[0].text, /HTTP 503/);
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

test('weights taken from the cache become the last used: after a rollback, the next deploy keeps them', { timeout: 60_000 }, async () => {
  const context = await env.browser.newContext();
  const page = await env.page(context);
  await blankPage(page, env.url);
  const checksum = JSON.parse(MANIFEST_TEXT).model.weights_fnv1a64;
  const r = await page.evaluate(async ({ model, manifest, checksum, weights, module }) => {
    const cache = await caches.open('shopper-intent-model');
    // This version was cached first; a later deploy under its own path was cached after it, and
    // the shop has now rolled back to this one.
    await cache.put(new URL(`${model}?shopper-intent-weights=${checksum}`, location.href).href, new Response(new Uint8Array(weights)));
    await cache.put(new URL('/models/v9/intent.bin?shopper-intent-weights=0123456789abcdef', location.href).href, new Response(new Uint8Array(8)));
    const { ShopperIntent } = await import(module);
    const intent = await ShopperIntent.load({ model, manifest, storage: 'memory', autoCapture: false });
    return { status: intent.status };
  }, { model: MODEL, manifest: MANIFEST, checksum, weights: [...WEIGHTS], module: PACKAGE_MODULE });
  assert.equal(r.status, 'ready');
  const weightsKeys = (k) => k.filter((x) => x.includes('shopper-intent-weights='));
  const keys = weightsKeys(await cacheKeys(page, (k) => weightsKeys(k).at(-1)?.startsWith(new URL(MODEL, env.url).pathname)));
  assert.deepEqual(keys.map((k) => k.split('?')[0]), ['/models/v9/intent.bin', new URL(MODEL, env.url).pathname], 'the weights in use come last: the bound drops the other first');
  await context.close();
});

test('a wasm module served with another Content-Type loads, with one warning that names it', { timeout: 60_000 }, async () => {
  const context = await env.browser.newContext();
  const retype = (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body: readFileSync(join(PKG, new URL(route.request().url()).pathname.split('/').pop())) });
  const r = await load({ model: MODEL, manifest: MANIFEST }, [{ url: WASM_FILES, handler: retype }], { context });
  assert.equal(r.status, 'ready');
  assert.notEqual(r.update, null);
  const warned = ours(r.page, 'warning').filter((m) => /Content-Type/.test(m.text));
  assert.equal(warned.length, 1, `one warning: ${warned.map((m) => m.text)}`);
  assert.match(warned[0].text, /"application\/octet-stream", not application\/wasm/);
  assert.deepEqual(r.pageErrors, []);
  await context.close();
});

// README (Errors): a page may retry a failed load with a new widget. Each failed widget leaves
// the page: its listeners (pagehide, pageshow, storage, visibilitychange) and the page's set of
// live widgets, so that a retry loop (offline, say) does not pile up widgets.
test('a failed widget leaves the page: a retry loop keeps no listener, no hook and no widget of the failed ones', { timeout: 60_000 }, async () => {
  const context = await env.browser.newContext();
  const page = await env.page(context);
  await blankPage(page, env.url);
  const r = await page.evaluate(async ({ module, model }) => {
    // Counts the listeners added and not removed, per event name, on window and document.
    const active = new Map();
    for (const target of [window, document]) {
      const add = target.addEventListener.bind(target);
      const remove = target.removeEventListener.bind(target);
      target.addEventListener = (name, fn, o) => { active.set(name, (active.get(name) ?? 0) + 1); return add(name, fn, o); };
      target.removeEventListener = (name, fn, o) => { active.set(name, (active.get(name) ?? 0) - 1); return remove(name, fn, o); };
    }
    const count = () => ['pagehide', 'pageshow', 'storage', 'visibilitychange'].map((n) => active.get(n) ?? 0);
    const live = () => window[Symbol.for('shopper-intent.live')]?.size ?? 0;
    const { ShopperIntent } = await import(module);
    const after = [];
    for (let i = 0; i < 3; i++) {
      const failed = ShopperIntent.create({ model: '/models/missing.bin', storage: 'memory', autoCapture: false });
      failed.on('segment', () => {});
      await failed.ready;
      const hooks = [...failed._hooks._sets.values()].reduce((n, set) => n + set.size, 0);
      after.push({ status: failed.status, listeners: count(), live: live(), hooks });
    }
    const ok = await ShopperIntent.load({ model, storage: 'memory', autoCapture: false });
    const running = { status: ok.status, listeners: count(), live: live() };
    ok.destroy();
    return { after, running, destroyed: { listeners: count(), live: live() } };
  }, { module: PACKAGE_MODULE, model: MODEL });
  for (const [i, a] of r.after.entries()) {
    assert.deepEqual(a, { status: 'failed', listeners: [0, 0, 0, 0], live: 0, hooks: 0 }, `failed widget ${i + 1}`);
  }
  assert.deepEqual(r.running, { status: 'ready', listeners: [1, 1, 1, 1], live: 1 }, 'a widget that loads is attached');
  assert.deepEqual(r.destroyed, { listeners: [0, 0, 0, 0], live: 0 });
  assert.equal(ours(page, 'warning').filter((m) => /another widget already runs/.test(m.text)).length, 0);
  await context.close();
});
