// The bundle a shop installs (web/package/shopper-intent.min.js and snippet.min.js, made by
// web/dev/bundle.mjs; run.sh makes them from the current sources) against the sources: the same
// exports, the same answers event by event, one saved state readable by both, the same failure
// contract, only its own files fetched, and the snippet bundle starting under the CSP.
// (SHOPPER_INTENT_MODULE=/shopper-intent.min.js runs every other test against the bundle too.)

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CSP, MODEL, WEB, blankPage, isPackageRequest, ours, recordRequests, setup, widgetReady, test } from './helpers.mjs';

const SOURCE = '/shopper-intent.js';
const BUNDLE = '/shopper-intent.min.js';

let env;
before(async () => {
  assert.ok(existsSync(join(WEB, 'package', 'shopper-intent.min.js')), 'the bundle is built (node web/dev/bundle.mjs; run.sh does it)');
  env = await setup();
});
after(async () => { await env?.close(); });

/** A session of events of every sort: the shop's own type, mapped names, refused ones, a purchase. */
// The session's first events are five hours ahead of the clock, and its last (after a clock set
// back) ten minutes ago: a page that restores the state finds the session going on. One time for
// every run of this file, so the runs score the same hours.
const T = Date.now() + 5 * 3_600_000 - 10 * 60_000;
function sessionEvents() {
  const types = ['view_item', 'add_to_wishlist', 'Product Viewed', 'product_added_to_cart', 'size_guide_open', 'view_item', 'add_to_cart'];
  const events = types.flatMap((type, i) => [{ type, item: `sku-${i % 3}`, category: 'c', price: 10 + i, ts: T + i * 30_000 }]);
  events.push({ type: 'view_item', item: 'x', ts: T - 3_600_000 * 5 }); // a clock set back: a new session
  events.push({ type: 'view_item', price: -1, ts: T + 400_000 }); // refused
  events.push({ type: 'purchase', item: 'sku-1', ts: T - 3_600_000 * 5 + 60_000 });
  events.push({ type: 'view_item', item: 'after', ts: T - 3_600_000 * 5 + 90_000 });
  return events;
}

/** Runs the session in `module` on a fresh page; returns every answer. */
async function run(module, { storage = 'memory', context } = {}) {
  const ctx = context ?? (await env.browser.newContext());
  const page = await env.page(ctx);
  const requests = recordRequests(page);
  await blankPage(page, env.url);
  const r = await page.evaluate(async ({ module, model, events, storage }) => {
    const mod = await import(module);
    const intent = await mod.ShopperIntent.load({ model, storage, autoCapture: false, utcOffsetMinutes: 0 });
    const hooks = [];
    intent.on('score', (d) => hooks.push(['score', d.type, d.score]));
    intent.on('segment', (d) => hooks.push(['segment', d.previousSegment, d.segment, d.cause]));
    const restored = intent.history();
    const updates = events.map((e) => intent.track(e));
    const variant = intent.experiment({ key: 'both', variants: ['a', 'b', 'c'] });
    await new Promise((res) => setTimeout(res, 400));
    return {
      exports: Object.keys(mod).sort(), restored, updates, hooks, variant,
      history: intent.history(), explain: intent.explain(), model: intent.model, thresholds: intent.thresholds,
      stored: storage === 'local' ? localStorage.getItem('shopper-intent:state') : null,
    };
  }, { module, model: MODEL, events: sessionEvents(), storage });
  const out = { ...r, requests: requests.map((q) => q.path), page };
  if (!context) await ctx.close();
  return out;
}

test('the bundle exports what the sources export and answers every event as they do', { timeout: 60_000 }, async () => {
  const src = await run(SOURCE);
  const min = await run(BUNDLE);
  assert.deepEqual(min.exports, src.exports);
  assert.ok(src.updates.some((u) => u === null) && src.updates.some((u) => u?.ignored) && src.updates.some((u) => u?.converted), 'the session has refused, ignored and converting events');
  assert.deepEqual(min.updates, src.updates, 'the same Update (or null) for every event');
  assert.deepEqual(min.hooks, src.hooks, 'the same hooks');
  assert.deepEqual(min.history, src.history);
  assert.deepEqual(min.explain, src.explain);
  assert.deepEqual(min.model, src.model);
  assert.deepEqual(min.thresholds, src.thresholds);
  assert.deepEqual(min.page.pageErrors, []);
  // The bundle page fetches the bundle and the wasm, manifest and weights: no source module.
  assert.ok(min.requests.includes(BUNDLE));
  const sources = min.requests.filter((p) => p.endsWith('.js') && p !== BUNDLE && !p.startsWith('/pkg/'));
  assert.deepEqual(sources, [], 'no source module is fetched by the bundle');
  assert.ok(min.requests.every((p) => p === '/__blank.html' || p === '/favicon.ico' || isPackageRequest({ path: p, search: '' })), min.requests.join(' '));
});

test('a state saved by the sources is restored by the bundle, and back', { timeout: 60_000 }, async () => {
  const context = await env.browser.newContext();
  const first = await run(SOURCE, { storage: 'local', context });
  const second = await run(BUNDLE, { storage: 'local', context });
  assert.deepEqual(second.restored, first.history, 'the bundle restores the sources\' session');
  assert.equal(second.variant, first.variant, 'and its experiment id');
  const third = await run(SOURCE, { storage: 'local', context });
  assert.deepEqual(third.restored, second.history, 'and the sources restore the bundle\'s');
  await context.close();
});

test('the bundle keeps the failure contract: a missing model is one console error and no score', { timeout: 60_000 }, async () => {
  const context = await env.browser.newContext();
  const page = await env.page(context);
  await blankPage(page, env.url);
  const r = await page.evaluate(async (module) => {
    const { ShopperIntent } = await import(module);
    const intent = await ShopperIntent.load({ model: '/models/missing.bin', storage: 'memory', autoCapture: false });
    return { status: intent.status, code: intent.error?.code, score: intent.score, segment: intent.segment, track: intent.track({ type: 'view_item' }) };
  }, BUNDLE);
  assert.deepEqual(r, { status: 'failed', code: 'LOAD_FAILED', score: 0, segment: 'low', track: null });
  assert.equal(ours(page, 'error').length, 1);
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

test('snippet.min.js self-configures and starts under the CSP', { timeout: 60_000 }, async () => {
  const context = await env.browser.newContext();
  await context.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective));
  });
  const page = await env.page(context);
  await page.route(`${env.url}/__snippet-min.html`, (route) => route.fulfill({
    status: 200,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CSP },
    body: `<!doctype html><html><head><meta charset="utf-8"><title>snippet</title>
<script type="module" src="/snippet.min.js" data-model="${MODEL}" data-storage="memory"></script>
</head><body><p>A shop page.</p></body></html>`,
  }));
  await page.goto(`${env.url}/__snippet-min.html`);
  assert.equal(await widgetReady(page), 'ready');
  const update = await page.evaluate(() => window.shopperIntent.track({ type: 'view_item', item: 'i' }));
  assert.ok(update && typeof update.score === 'number');
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

// A page's old library, or a query-string parser fed `?__proto__[x]=1`, adds an enumerable
// property to Object.prototype. The bundler's helper for module namespaces walked them with
// `for...in`: the bundle threw on import ("Getter must be a function") and the widget never started.
test('a page whose Object.prototype has an enumerable property: the bundle and snippet.min.js load and score', { timeout: 60_000 }, async () => {
  const context = await env.browser.newContext();
  await context.addInitScript(() => { Object.prototype.polluted = 1; }); // eslint-disable-line no-extend-native
  const page = await env.page(context);
  await blankPage(page, env.url);
  const r = await page.evaluate(async ({ module, model }) => {
    const { ShopperIntent } = await import(module);
    const intent = await ShopperIntent.load({ model, storage: 'memory', autoCapture: false });
    return { status: intent.status, score: typeof intent.track({ type: 'view_item', item: 'a' })?.score };
  }, { module: BUNDLE, model: MODEL });
  // Field by field: WebKit's driver copies the inherited property into what evaluate() returns.
  assert.deepEqual([r.status, r.score], ['ready', 'number']);
  await page.route(`${env.url}/__polluted-snippet.html`, (route) => route.fulfill({
    status: 200,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CSP },
    body: `<!doctype html><html><head><meta charset="utf-8"><title>snippet</title>
<script type="module" src="/snippet.min.js" data-model="${MODEL}" data-storage="memory"></script>
</head><body><p>A shop page.</p></body></html>`,
  }));
  await page.goto(`${env.url}/__polluted-snippet.html`);
  // Polled here: Firefox's driver's own waitForFunction does not run on such a page.
  const snippet = await page.evaluate(async () => {
    for (let i = 0; i < 3000 && !(window.shopperIntent?.status === 'ready' || window.shopperIntent?.status === 'failed'); i++) await new Promise((r) => setTimeout(r, 10));
    return { status: window.shopperIntent?.status, score: typeof window.shopperIntent?.track({ type: 'view_item', item: 'i' })?.score };
  });
  assert.deepEqual([snippet.status, snippet.score], ['ready', 'number']);
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

// README (Install): a page that runs first leaves its events in an array. The same line,
// `(window.shopperIntent = window.shopperIntent || []).push(event)`, must keep working once the
// snippet has put the widget there. And the snippet loaded twice (here from two URLs: two copies
// of the bundle, two ShopperIntent classes) keeps the first widget.
test('snippet.min.js: the early array\'s push line works before and after the handover; a second copy keeps the first widget', { timeout: 60_000 }, async () => {
  const context = await env.browser.newContext();
  const page = await env.page(context);
  const headers = (type) => ({ 'Content-Type': type, 'Content-Security-Policy': CSP });
  await page.route(`${env.url}/__early.js`, (route) => route.fulfill({
    status: 200,
    headers: headers('text/javascript'),
    body: "(window.shopperIntent = window.shopperIntent || []).push({ type: 'view_item', item: 'early-1' }, { type: 'view_item', item: 'early-2' });\n",
  }));
  await page.route(`${env.url}/__snippet-twice.html`, (route) => route.fulfill({
    status: 200,
    headers: headers('text/html; charset=utf-8'),
    body: `<!doctype html><html><head><meta charset="utf-8"><title>snippet twice</title>
<script src="/__early.js"></script>
<script type="module" src="/snippet.min.js" data-model="${MODEL}" data-storage="memory" data-auto-capture="false"></script>
<script type="module" src="/snippet.min.js?copy=2" data-model="${MODEL}" data-storage="memory" data-auto-capture="false"></script>
</head><body><p>A shop page.</p></body></html>`,
  }));
  await page.goto(`${env.url}/__snippet-twice.html`);
  assert.equal(await widgetReady(page), 'ready');
  const r = await page.evaluate(() => {
    const returned = (window.shopperIntent = window.shopperIntent || []).push({ type: 'add_to_cart', item: 'late-1' }, { type: 'view_item', item: 'late-2' });
    return {
      isArray: Array.isArray(window.shopperIntent),
      returned: returned === undefined ? 'undefined' : returned,
      history: window.shopperIntent.history().map((p) => p.type),
    };
  });
  assert.equal(r.isArray, false, 'the widget replaced the early array');
  assert.equal(r.returned, 'undefined');
  assert.deepEqual(r.history, ['view_item', 'view_item', 'add_to_cart', 'view_item'],
    'the widget on window is the first one (it has the early events), and push() tracked the later ones');
  const twice = ours(page, 'warning').filter((m) => /ran twice/.test(m.text));
  assert.equal(twice.length, 1, 'the second copy said so once and made no widget');
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

// README (Install): a consent tool that answers before the snippet has run cannot call
// window.shopperIntent.grantConsent(); it pushes a function to the early array, which the widget
// calls in order with the events. After the handover push(fn) calls at once; a function that
// throws or rejects is a console error, not the page's.
test('snippet.min.js with data-consent="pending": a function pushed to the early array grants consent; push(fn) after the handover calls it with the widget', { timeout: 60_000 }, async () => {
  const context = await env.browser.newContext();
  const page = await env.page(context);
  const headers = (type) => ({ 'Content-Type': type, 'Content-Security-Policy': CSP });
  await page.route(`${env.url}/__early-consent.js`, (route) => route.fulfill({
    status: 200,
    headers: headers('text/javascript'),
    body: `const q = (window.shopperIntent = window.shopperIntent || []);
q.push({ type: 'view_item', item: 'early-1' });
q.push((intent) => { window.__calledWith = [intent === window.shopperIntent, intent.consent]; intent.grantConsent(); });
q.push({ type: 'add_to_cart', item: 'early-1' });
`,
  }));
  await page.route(`${env.url}/__snippet-consent.html`, (route) => route.fulfill({
    status: 200,
    headers: headers('text/html; charset=utf-8'),
    body: `<!doctype html><html><head><meta charset="utf-8"><title>consent early</title>
<script src="/__early-consent.js"></script>
<script type="module" src="/snippet.min.js" data-model="${MODEL}" data-storage="memory" data-auto-capture="false" data-consent="pending"></script>
</head><body><p>A shop page.</p></body></html>`,
  }));
  await page.goto(`${env.url}/__snippet-consent.html`);
  assert.equal(await widgetReady(page), 'ready');
  const r = await page.evaluate(async () => {
    const intent = window.shopperIntent;
    const seen = [];
    const returned = intent.push((w) => seen.push(w === intent), { type: 'view_item', item: 'late-1' },
      () => { throw new Error('page bug'); }, async () => { throw new Error('async page bug'); }, (w) => seen.push(w.history().length));
    await new Promise((res) => setTimeout(res, 50)); // the async function's rejection settles
    return { calledWith: window.__calledWith, consent: intent.consent, history: intent.history().map((p) => p.type), seen, returned: returned === undefined };
  });
  assert.deepEqual(r.calledWith, [true, 'pending'], 'the early function got the widget, still pending');
  assert.equal(r.consent, 'granted');
  assert.deepEqual(r.history, ['view_item', 'add_to_cart', 'view_item'], 'the held early events were scored once consent was granted, then the later one');
  assert.deepEqual(r.seen, [true, 3], 'push(fn) after the handover calls each function at once, in order with the events');
  assert.equal(r.returned, true);
  const threw = ours(page, 'error').filter((m) => /a function pushed to shopperIntent threw/.test(m.text));
  assert.equal(threw.length, 2, 'the throwing and the rejecting function are each one console error');
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});
