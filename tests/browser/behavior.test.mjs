// The widget's contracts in the page: hooks (after the engine, isolated, re-entrant calls
// queued, unsubscribe, exactly on changes), the queue before ready, consent, Global Privacy
// Control, dataLayer auto-capture, destroy(), the Shopify and Segment mappers through the engine.
// Stored state that is corrupt, foreign or expired is in drills-storage.test.mjs.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, moduleHarness, importPackage, ours, test } from './helpers.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

const harness = (initScript) => moduleHarness(env, initScript);

/** Init script: `window.__hookErrors()` counts the package's "a 'segment' hook threw" errors so far. */
function countHookErrors() {
  let n = 0;
  const error = console.error;
  console.error = function (...args) {
    if (typeof args[0] === 'string' && args[0].includes("a 'segment' hook threw")) n += 1;
    return error.apply(this, args);
  };
  window.__hookErrors = () => n;
}

test('hooks run after the engine, in order; a throwing hook is isolated; unsubscribe works', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async () => {
    const intent = await window.SI.ShopperIntent.load({ model: '/models/intent.bin', storage: 'memory', autoCapture: false });
    const log = [];
    const now = Date.now();
    intent.on('score', () => { throw new Error('a broken hook'); });
    const off = intent.on('score', (d) => log.push(`score ${d.type}`));
    intent.on('score', (d) => {
      log.push(`start ${d.type}`);
      if (d.type === 'view_item' && !log.includes('nested tracked')) {
        const nested = intent.track({ type: 'add_to_wishlist', item: 'n-1', ts: now + 500 });
        log.push(nested === null ? 'nested tracked' : 'nested ran inside the hook');
        log.push(`events seen inside the hook: ${intent.history().length}`);
      }
      log.push(`end ${d.type}`);
    });
    const first = intent.track({ type: 'view_item', item: 'a', ts: now });
    const afterFirst = intent.history().map((p) => p.type);
    off();
    const second = intent.track({ type: 'add_to_cart', item: 'a', ts: now + 1000 });
    return { first, second, log, afterFirst, status: intent.status };
  });
  assert.equal(r.status, 'ready');
  assert.ok(r.first && r.second, 'both tracks returned updates despite the throwing hook');
  assert.deepEqual(r.log, [
    'score view_item',
    'start view_item', 'nested tracked', 'events seen inside the hook: 1', 'end view_item',
    'score add_to_wishlist', 'start add_to_wishlist', 'end add_to_wishlist',
    // `off()` removed the first logging hook:
    'start add_to_cart', 'end add_to_cart',
  ]);
  assert.deepEqual(r.afterFirst, ['view_item', 'add_to_wishlist'], 'the nested event ran right after the hooks');
  const hookErrors = ours(page, 'error').filter((m) => m.text.includes("a 'score' hook threw"));
  assert.equal(hookErrors.length, 3, 'the throwing hook is reported each time it throws');
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

test('the segment hook fires exactly on segment changes', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async () => {
    const intent = await window.SI.ShopperIntent.load({ model: '/models/intent.bin', storage: 'memory', autoCapture: false });
    const segments = [];
    const windowEvents = [];
    intent.on('segment', (d) => segments.push({ ...d }));
    addEventListener('shopper-intent:segment', (e) => windowEvents.push({ ...e.detail }));
    const now = Date.now();
    const updates = [];
    const kinds = ['view_item', 'view_item', 'add_to_wishlist', 'add_to_cart', 'view_item', 'add_to_cart', 'add_to_cart', 'view_item', 'remove_from_cart', 'view_item'];
    kinds.forEach((type, i) => updates.push(intent.track({ type, item: `s-${i % 3}`, category: 'c', price: 30 + i, ts: now + i * 20_000 })));
    const attr = document.documentElement.getAttribute('data-shopper-intent-segment');
    return { updates, segments, windowEvents, attr, segment: intent.segment };
  });
  const expected = r.updates.filter((u) => u.segmentChanged).map((u) => ({ segment: u.segment, previousSegment: u.previousSegment, score: u.score, cause: 'event' }));
  assert.ok(r.updates.every((u) => u !== null), 'every event was tracked');
  assert.deepEqual(r.segments, expected);
  assert.deepEqual(r.windowEvents, expected);
  assert.equal(r.attr, r.segment);
  assert.equal(r.updates.at(-1).segment, r.segment);
  await context.close();
});

test('a purchase: converted and <html data-shopper-intent-converted> until the session ends, on a reload too; a new session, a forget and destroy() clear them', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const attr = () => page.evaluate(() => document.documentElement.getAttribute('data-shopper-intent-converted'));
  const first = await page.evaluate(async () => {
    sessionStorage.clear();
    const intent = window.intent = await window.SI.ShopperIntent.load({ model: '/models/intent.bin', storage: 'session', autoCapture: false });
    const T = Date.now() - 60_000;
    const seen = [];
    intent.on('score', () => seen.push(`${intent.converted} ${document.documentElement.getAttribute('data-shopper-intent-converted')}`));
    const before = intent.converted;
    intent.track({ type: 'view_item', item: 'a', ts: T });
    const purchase = intent.track({ type: 'purchase', item: 'a', ts: T + 10_000 });
    intent.track({ type: 'view_item', item: 'b', ts: T + 20_000 });
    await new Promise((r) => setTimeout(r, 400)); // saved
    return { before, converted: purchase.converted, after: intent.converted, seen, segment: intent.segment, score: intent.score };
  });
  assert.deepEqual([first.before, first.converted, first.after], [false, true, true]);
  assert.equal(first.score, 1, 'the session has a purchase: its score is 1');
  assert.deepEqual(first.seen, ['false null', 'true true', 'true true'], 'score hooks see it as the page\'s CSS does: from the purchase on');
  assert.equal(await attr(), 'true');
  // A reload in the same session: restored converted.
  await page.reload();
  await importPackage(page);
  const reloaded = await page.evaluate(async () => {
    const intent = window.intent = await window.SI.ShopperIntent.load({ model: '/models/intent.bin', storage: 'session', autoCapture: false });
    return { converted: intent.converted, attr: document.documentElement.getAttribute('data-shopper-intent-converted') };
  });
  assert.deepEqual(reloaded, { converted: true, attr: 'true' });
  // A new session (more than 30 minutes later) clears it; a purchase again sets it; forget() and destroy() clear it.
  const later = await page.evaluate(() => {
    const intent = window.intent;
    const out = [];
    const say = () => out.push(`${intent.converted} ${document.documentElement.getAttribute('data-shopper-intent-converted')}`);
    const T = Date.now() + 40 * 60_000;
    intent.track({ type: 'view_item', item: 'c', ts: T });
    say();
    intent.track({ type: 'purchase', item: 'c', ts: T + 1000 });
    say();
    intent.forget();
    say();
    intent.track({ type: 'purchase', item: 'd' });
    say();
    intent.destroy();
    say();
    return out;
  });
  assert.deepEqual(later, ['false null', 'true true', 'false null', 'true true', 'false null']);
  await context.close();
});

// A segment restored at load is announced before load() resolves: a page that registers its
// 'segment' hook after `await load()` (as the README's examples do) is told of it once, after
// its own code, the way every hook is called.
test('a segment restored at load reaches segment hooks registered after load(): once each, after the caller, as any hook call', { timeout: 60_000 }, async () => {
  const { page, context } = await harness(countHookErrors);
  const r = await page.evaluate(async () => {
    const { ShopperIntent } = window.SI;
    // Thresholds so low that any score is high: the first event makes the segment high.
    const opts = { model: '/models/intent.bin', storage: 'local', autoCapture: false, thresholds: { medium: 1e-6, high: 2e-6 } };
    let t = Date.now() - 600_000;
    const next = (item) => ({ type: 'view_item', item, ts: (t += 1000) });
    const first = await ShopperIntent.load(opts);
    first.track(next('r-1'));
    const saved = first.segment;
    first.destroy(); // saves

    const intent = await ShopperIntent.load(opts);
    const calls = [];
    const inside = [];
    intent.on('segment', () => { throw new Error('a broken hook'); });
    intent.on('segment', (d) => {
      calls.push({ ...d });
      if (d.cause === 'restore') inside.push({ update: intent.track(next('r-2')), events: intent.history().length });
    });
    const off = intent.on('segment', (d) => calls.push({ unsubscribed: d.cause }));
    off();
    const synchronously = calls.length;
    await new Promise((res) => setTimeout(res, 0));
    const afterHooks = intent.history().length;
    const errorsAfterRestore = window.__hookErrors();
    // Registered later still: told as well. After another change (forget()), no one is told of
    // the restore any more.
    intent.on('segment', (d) => calls.push({ later: d.cause }));
    await new Promise((res) => setTimeout(res, 0));
    intent.forget();
    intent.on('segment', (d) => calls.push({ afterForget: d.cause }));
    await new Promise((res) => setTimeout(res, 0));
    return { saved, synchronously, calls, inside, afterHooks, errorsAfterRestore, errors: window.__hookErrors() };
  });
  assert.equal(r.saved, 'high');
  assert.equal(r.synchronously, 0, 'not called inside on(): after the code that registered it');
  assert.equal(r.calls[0].cause, 'restore');
  assert.deepEqual(r.calls[0], { segment: 'high', previousSegment: 'low', score: r.calls[0].score, cause: 'restore' });
  assert.deepEqual(r.inside, [{ update: null, events: 1 }], 'a track() from the hook is queued, not scored inside it');
  assert.equal(r.afterHooks, 2, 'and scored right after the hooks');
  assert.equal(r.errorsAfterRestore, 1, 'the throwing hook is one console error');
  assert.deepEqual(r.calls.slice(1), [
    { later: 'restore' },
    { segment: 'low', previousSegment: 'high', score: 0, cause: 'forget' },
    { later: 'forget' },
  ], 'once per hook; an unregistered hook is not called; none after another change');
  assert.equal(r.errors, 2, 'the throwing hook heard the restore once and forget() once');
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

// README (Hooks): an event tracked from a hook is scored right after the current hooks. That
// holds for the hooks that public calls fire too: expose(), experiment() with autoExpose, and
// forget()'s segment change.
test('a track() from exposure hooks (expose(), autoExpose) and from forget()\'s segment hook is queued and scored right after the hooks', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async () => {
    const intent = await window.SI.ShopperIntent.load({ model: '/models/intent.bin', storage: 'session', autoCapture: false, thresholds: { medium: 1e-6, high: 2e-6 } });
    let t = Date.now() - 600_000;
    const next = (item) => ({ type: 'view_item', item, ts: (t += 1000) });
    intent.track(next('a'));
    const seen = [];
    const trackInside = (label) => {
      const before = intent.history().length;
      const update = intent.track(next(label));
      seen.push({ label, queued: update === null, scoredInside: intent.history().length - before });
    };
    intent.on('exposure', (d) => trackInside(`exposure ${d.experiment}`));
    intent.on('segment', (d) => { if (d.cause === 'forget') trackInside('forget'); });
    const after = [];
    intent.experiment({ key: 'manual', variants: ['a', 'b'] });
    let n = intent.history().length;
    intent.expose('manual');
    after.push(intent.history().length - n);
    n = intent.history().length;
    intent.experiment({ key: 'auto', variants: ['a', 'b'], autoExpose: true });
    after.push(intent.history().length - n);
    intent.forget();
    after.push(intent.history().length);
    return { seen, after };
  });
  assert.deepEqual(r.seen, [
    { label: 'exposure manual', queued: true, scoredInside: 0 },
    { label: 'exposure auto', queued: true, scoredInside: 0 },
    { label: 'forget', queued: true, scoredInside: 0 },
  ], 'track() inside the hook returned null and scored nothing yet');
  assert.deepEqual(r.after, [1, 1, 1], 'each event was scored once the hooks had returned, before the call that fired them returned');
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

test('the score hook fires once for each event the model reads, never for ignored ones', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async () => {
    const { ShopperIntent, EVENT_TYPES } = window.SI;
    const intent = await ShopperIntent.load({ model: '/models/intent.bin', storage: 'memory', autoCapture: false });
    const hooks = [];
    intent.on('score', (d) => hooks.push({ type: d.type, score: d.score, updateScore: d.update.score }));
    const now = Date.now();
    const types = [...EVENT_TYPES.filter((t) => t !== 'purchase'), 'size_guide_open', 'Product Viewed', 'product_added_to_cart', 'purchase', 'view_item'];
    const updates = types.map((type, i) => intent.track({ type, item: `h-${i % 4}`, category: 'c', price: 20, ts: now + i * 10_000 }));
    return { kinds: intent.model.kinds, types, updates, hooks };
  });
  assert.ok(r.updates.every((u) => u !== null), 'every event was accepted');
  const read = r.updates.map((u, i) => ({ u, type: r.types[i] })).filter(({ u }) => !u.ignored);
  assert.equal(r.hooks.length, read.length, 'one score hook per event the model reads');
  r.hooks.forEach((h, i) => {
    assert.equal(h.type, read[i].type, 'the hook names the event as tracked');
    assert.equal(h.score, read[i].u.score);
    assert.equal(h.updateScore, read[i].u.score);
  });
  // Ignored means: a type the model was not trained on (Shopify and Segment names count as their GA4 kind).
  const kinds = new Set(r.kinds);
  const kindOf = { 'Product Viewed': 'view_item', product_added_to_cart: 'add_to_cart' };
  r.updates.forEach((u, i) => {
    const kind = kindOf[r.types[i]] ?? r.types[i];
    assert.equal(u.ignored, !kinds.has(kind), `${r.types[i]}: ignored iff not one of the model's kinds`);
  });
  await context.close();
});

test('events tracked before ready are queued and replayed in order', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async () => {
    const intent = window.SI.ShopperIntent.create({ model: '/models/intent.bin', storage: 'memory', autoCapture: false });
    const now = Date.now();
    const early = [
      intent.track({ type: 'view_item', item: 'q-1', ts: now }),
      intent.track({ type: 'add_to_cart', item: 'q-1', ts: now + 1000 }),
      intent.track({ type: 'view_item', item: 'q-2' }),
    ];
    const statusBefore = intent.status;
    const scores = [];
    intent.on('score', (d) => scores.push(d.type));
    await intent.ready;
    return { early, statusBefore, status: intent.status, history: intent.history().map((p) => p.type), scores };
  });
  assert.equal(r.statusBefore, 'loading');
  assert.deepEqual(r.early, [null, null, null]);
  assert.equal(r.status, 'ready');
  assert.deepEqual(r.history, ['view_item', 'add_to_cart', 'view_item']);
  assert.deepEqual(r.scores, ['view_item', 'add_to_cart', 'view_item'], 'hooks ran for the replayed events');
  await context.close();
});

test('the queue is bounded: the oldest events are dropped with one warning', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async () => {
    const { ShopperIntent, MAX_QUEUE } = window.SI;
    const intent = ShopperIntent.create({ model: '/models/intent.bin', storage: 'memory', autoCapture: false, consent: 'pending' });
    const now = Date.now();
    for (let i = 0; i < MAX_QUEUE + 40; i++) intent.track({ type: 'view_item', item: `b-${i}`, ts: now + i });
    await intent.ready;
    intent.grantConsent();
    // The replay runs in slices that yield to the page: wait for its end, not for a time.
    const deadline = Date.now() + 30_000;
    while (intent._queue.state !== 'ready' && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    return { max: MAX_QUEUE, queue: intent._queue.state, events: intent.history().length, first: intent.history()[0]?.position };
  });
  assert.equal(r.queue, 'ready', 'the replay ended');
  assert.equal(r.events, r.max, `the newest ${r.max} events replayed, the 40 oldest dropped`);
  assert.equal(r.first, 0);
  assert.equal(ours(page, 'warning').filter((m) => m.text.includes('oldest are dropped')).length, 1);
  // Once ready, the count: the developer learns how many were lost, not only that some were.
  assert.deepEqual(ours(page, 'warning').filter((m) => m.text.includes('dropped while waiting')).map((m) => m.text.match(/(\d+) events were dropped/)?.[1]), ['40']);
  await context.close();
});

test('consent pending holds events in memory, unstored, until grantConsent()', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async () => {
    localStorage.clear();
    const intent = await window.SI.ShopperIntent.load({ model: '/models/intent.bin', storage: 'local', consent: 'pending', autoCapture: false });
    const now = Date.now();
    const held = [intent.track({ type: 'view_item', item: 'p-1', ts: now }), intent.track({ type: 'add_to_cart', item: 'p-1', ts: now + 1000 })];
    await new Promise((res) => setTimeout(res, 400));
    const before = { consent: intent.consent, history: intent.history().length, stored: localStorage.length, score: intent.score };
    intent.grantConsent();
    await new Promise((res) => setTimeout(res, 400));
    return { held, before, consent: intent.consent, history: intent.history().map((p) => p.type), stored: localStorage.getItem('shopper-intent:state') !== null };
  });
  assert.deepEqual(r.held, [null, null]);
  assert.deepEqual(r.before, { consent: 'pending', history: 0, stored: 0, score: 0 });
  assert.equal(r.consent, 'granted');
  assert.deepEqual(r.history, ['view_item', 'add_to_cart']);
  assert.equal(r.stored, true, 'stored after consent');
  await context.close();
});

test('withdrawConsent() wipes the stored state and stops the widget: nothing is written again', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async () => {
    localStorage.clear();
    const intent = await window.SI.ShopperIntent.load({ model: '/models/intent.bin', storage: 'local', autoCapture: false });
    intent.track({ type: 'view_item', item: 'w-1' });
    intent.experiment({ key: 'w', variants: ['a', 'b'] });
    await new Promise((res) => setTimeout(res, 400));
    const storedBefore = localStorage.getItem('shopper-intent:state') !== null;
    const writes = [];
    const setItem = Storage.prototype.setItem;
    Storage.prototype.setItem = function (k, v) { writes.push(k); return setItem.call(this, k, v); };
    intent.withdrawConsent();
    const after = intent.track({ type: 'view_item', item: 'w-2' });
    dispatchEvent(new PageTransitionEvent('pagehide'));
    await new Promise((res) => setTimeout(res, 400));
    Storage.prototype.setItem = setItem;
    return { storedBefore, stored: JSON.parse(localStorage.getItem('shopper-intent:state')), writes, after, status: intent.status, consent: intent.consent, variant: intent.experiment({ key: 'w', variants: ['a', 'b'] }) };
  });
  assert.equal(r.storedBefore, true);
  // One write: the mark of the withdrawal (the shop's other tabs follow it), then nothing.
  assert.deepEqual(r.writes, ['shopper-intent:state']);
  assert.deepEqual(Object.keys(r.stored).sort(), ['forgotten', 'v', 'withdrawn']);
  assert.deepEqual({ after: r.after, variant: r.variant, status: r.status }, { after: null, variant: null, status: 'destroyed' });
  assert.equal(r.consent, 'pending');
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

test('Global Privacy Control forces memory storage', { timeout: 60_000 }, async () => {
  const { page, context } = await harness(() => {
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { configurable: true, get: () => true });
  });
  const r = await page.evaluate(async () => {
    localStorage.clear();
    const intent = await window.SI.ShopperIntent.load({ model: '/models/intent.bin', storage: 'local', autoCapture: false });
    intent.track({ type: 'view_item', item: 'g-1' });
    await new Promise((res) => setTimeout(res, 400));
    return { storage: intent.storage, local: localStorage.length, session: sessionStorage.length, events: intent.history().length };
  });
  assert.deepEqual(r, { storage: 'memory', local: 0, session: 0, events: 1 });
  assert.equal(ours(page, 'info').filter((m) => m.text.includes('Global Privacy Control')).length, 1);
  await context.close();
});

test('dataLayer: earlier and later pushes, objects and gtag arguments; GTM push kept', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async () => {
    // A stand-in for GTM: its own push, with a return value, installed before the widget.
    window.dataLayer = [{ event: 'gtm.js' }, { event: 'view_item', ecommerce: { items: [{ item_id: 'd-1', item_category: 'c', price: '10.50' }] } }];
    const gtmSeen = [];
    const gtmPush = function (...args) { gtmSeen.push(...args); return Array.prototype.push.apply(this, args) && 'gtm-result'; };
    window.dataLayer.push = gtmPush;
    const gtag = function () { window.dataLayer.push(arguments); };
    const intent = await window.SI.ShopperIntent.load({ model: '/models/intent.bin', storage: 'memory', dataLayerPush: true });
    // Every event auto-capture hands to the widget goes through its public track().
    const tracked = [];
    const track = intent.track.bind(intent);
    intent.track = (e) => { tracked.push(e.type); return track(e); };
    const returned = window.dataLayer.push({ ecommerce: null });
    window.dataLayer.push({ event: 'add_to_cart', ecommerce: { items: [{ item_id: 'd-1', quantity: 2, price: 10.5 }] } });
    gtag('event', 'add_to_wishlist', { items: [{ item_id: 'd-2', item_category: 'c' }] });
    gtag('config', 'G-XXXX');
    window.dataLayer.push({ event: 'not_a_shop_event' });
    // Enough purchase intent to change the segment at least once, so that the widget pushes.
    window.dataLayer.push({ event: 'purchase', ecommerce: { items: [{ item_id: 'd-1', quantity: 1, price: 10.5 }] } });
    const historyTypes = intent.history().map((p) => p.type);
    intent.destroy();
    const restored = window.dataLayer.push === gtmPush;
    window.dataLayer.push({ event: 'view_item', ecommerce: { items: [{ item_id: 'after-destroy' }] } });
    return {
      returned, historyTypes, restored, tracked,
      gtmSawAll: gtmSeen.length,
      segmentPushes: window.dataLayer.filter((e) => e && e.event === 'shopper_intent_segment').map((e) => Object.keys(e).sort()),
    };
  });
  assert.equal(r.returned, 'gtm-result', 'the original push and its return value are kept');
  assert.deepEqual(r.historyTypes, ['view_item', 'add_to_cart', 'add_to_wishlist', 'purchase']);
  // The earlier entry was read before track() was wrapped; 'not_a_shop_event' is the shop's own
  // type (the model ignores it); the widget's own segment pushes never come back as events.
  assert.deepEqual(r.tracked, ['add_to_cart', 'add_to_wishlist', 'not_a_shop_event', 'purchase']);
  assert.equal(r.restored, true, 'destroy() puts the original push back');
  assert.ok(r.gtmSawAll >= 6, 'GTM still receives every push');
  assert.ok(r.segmentPushes.length >= 1, 'a purchase changed the segment: it was pushed');
  for (const keys of r.segmentPushes) assert.deepEqual(keys, ['event', 'shopper_intent_segment'], 'only the segment is pushed');
  await context.close();
});

// A single-page app that mounts the widget twice in a row (React's StrictMode: create, destroy,
// create) must not lose the dataLayer entries the first widget only queued; the entries a widget
// scored are not read again by the next one.
test('dataLayer entries a widget destroyed before ready had only queued are read by the next widget; scored ones are not', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async () => {
    const { ShopperIntent } = window.SI;
    window.dataLayer = [{ event: 'view_item', ecommerce: { items: [{ item_id: 'e-1' }] } }, { event: 'add_to_cart', ecommerce: { items: [{ item_id: 'e-1' }] } }];
    const options = { model: '/models/intent.bin', storage: 'memory' };
    const first = ShopperIntent.create(options);
    window.dataLayer.push({ event: 'add_to_wishlist', ecommerce: { items: [{ item_id: 'e-2' }] } });
    const firstStatus = first.status;
    first.destroy();
    const second = await ShopperIntent.load(options);
    const secondTypes = second.history().map((p) => p.type);
    second.destroy();
    const third = await ShopperIntent.load(options);
    const thirdTypes = third.history().map((p) => p.type);
    third.destroy();
    return { firstStatus, secondTypes, thirdTypes };
  });
  assert.equal(r.firstStatus, 'loading', 'the first widget was destroyed before it was ready');
  assert.deepEqual(r.secondTypes, ['view_item', 'add_to_cart', 'add_to_wishlist'], 'the entries the first widget dropped, earlier and later ones, are read by the second');
  assert.deepEqual(r.thirdTypes, [], 'entries a widget scored are not read again');
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

// A widget that failed to load (the model's URL wrong, a network down) scores nothing: a widget the
// page creates after it, to retry, reads the dataLayer entries the failed one had queued, and
// those pushed after the failure.
test('a widget that failed gives its queued dataLayer entries back and reads no later push: the retry reads them all', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async () => {
    const { ShopperIntent } = window.SI;
    window.dataLayer = [{ event: 'view_item', ecommerce: { items: [{ item_id: 'f-1' }] } }];
    const failed = await ShopperIntent.load({ model: '/models/missing.bin', storage: 'memory', modelCache: false });
    window.dataLayer.push({ event: 'add_to_cart', ecommerce: { items: [{ item_id: 'f-1' }] } });
    const retry = await ShopperIntent.load({ model: '/models/intent.bin', storage: 'memory' });
    const types = retry.history().map((p) => p.type);
    window.dataLayer.push({ event: 'view_item', ecommerce: { items: [{ item_id: 'f-2' }] } });
    const later = retry.history().map((p) => p.type);
    retry.destroy();
    failed.destroy();
    return { failedCode: failed.error && failed.error.code, types, later };
  });
  assert.equal(r.failedCode, 'LOAD_FAILED', 'the first widget failed');
  assert.deepEqual(r.types, ['view_item', 'add_to_cart'], 'the retry reads the entry the failed widget had queued, and the one pushed after it failed');
  assert.deepEqual(r.later, ['view_item', 'add_to_cart', 'view_item'], 'and later pushes');
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

// README (Capture): a value that cannot be read is dropped, the event kept. The engine refuses
// an event with one value beyond its limits (crate/core/src/event.rs) whole, so auto-capture
// drops such values itself; at each limit the value is kept and the engine scores the event.
test('auto-capture keeps values at the engine\'s limits and drops those beyond: the engine scores every captured event', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async () => {
    const { ShopperIntent, fromDataLayer } = window.SI;
    window.dataLayer = [];
    const intent = await ShopperIntent.load({ model: '/models/intent.bin', storage: 'memory' });
    const scored = [];
    intent.on('score', (d) => scored.push(d.type));
    const at = { id: 'é'.repeat(128), emoji: '😀'.repeat(64), price: 1e9, quantity: 1e6 }; // 256 bytes of UTF-8 each
    const beyond = { id: 'é'.repeat(128) + 'x', emoji: '😀'.repeat(64) + 'x', price: 1e9 + 1, quantity: 1e6 + 1 };
    const entries = {
      at: { event: 'add_to_cart', ecommerce: { items: [{ item_id: at.id, item_category: at.emoji, price: at.price, quantity: at.quantity }] } },
      beyond: { event: 'add_to_cart', ecommerce: { items: [{ item_id: beyond.id, item_name: 'the-name', item_category: beyond.emoji, price: beyond.price, quantity: beyond.quantity }] } },
      summed: { event: 'add_to_cart', ecommerce: { items: [{ item_id: 's', quantity: 600_000 }, { item_id: 't', quantity: 400_001 }] } },
    };
    // What the mapper made of each entry (ids by their length), then auto-capture reads it.
    const mapped = {};
    for (const [name, entry] of Object.entries(entries)) {
      const fields = Object.entries(fromDataLayer(entry)).filter(([k]) => k !== 'ts');
      mapped[name] = Object.fromEntries(fields.map(([k, v]) => [k, k === 'item' || k === 'category' ? v.length : v]));
      window.dataLayer.push(entry);
    }
    // The engine's own limits: each value beyond them, tracked directly, refuses the event.
    const direct = {};
    for (const [field, value] of Object.entries({ item: beyond.id, category: beyond.emoji, price: beyond.price, quantity: beyond.quantity })) {
      direct[field] = intent.track({ type: 'add_to_cart', [field]: value }) === null ? 'refused' : 'scored';
    }
    return { mapped, scored, direct };
  });
  assert.deepEqual(r.mapped.at, { type: 'add_to_cart', item: 128, category: 128, price: 1e9, quantity: 1e6 }, 'at the limits: every value kept');
  assert.deepEqual(r.mapped.beyond, { type: 'add_to_cart', item: 8 }, 'beyond them: dropped (the id gives way to the item name)');
  assert.deepEqual(r.mapped.summed, { type: 'add_to_cart', item: 1 }, 'a sum beyond the limit is dropped');
  assert.deepEqual(r.scored, ['add_to_cart', 'add_to_cart', 'add_to_cart'], 'the engine scored every captured event');
  assert.deepEqual(r.direct, { item: 'refused', category: 'refused', price: 'refused', quantity: 'refused' }, 'the engine refuses exactly what capture drops');
  const refusals = ours(page, 'warning').filter((m) => /event refused/.test(m.text));
  assert.equal(refusals.length, 4, `only the direct tracks were refused: ${refusals.map((m) => m.text)}`);
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

test('destroy() detaches: track returns null, the attribute goes, the state is saved', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async () => {
    sessionStorage.clear();
    const intent = await window.SI.ShopperIntent.load({ model: '/models/intent.bin', storage: 'session', autoCapture: false });
    intent.track({ type: 'view_item', item: 'z-1' });
    const attrBefore = document.documentElement.getAttribute('data-shopper-intent-segment');
    intent.destroy();
    intent.destroy();
    return {
      attrBefore,
      attrAfter: document.documentElement.getAttribute('data-shopper-intent-segment'),
      track: intent.track({ type: 'view_item', item: 'z-2' }),
      status: intent.status,
      saved: sessionStorage.getItem('shopper-intent:state') !== null,
    };
  });
  assert.ok(['low', 'medium', 'high'].includes(r.attrBefore));
  assert.equal(r.attrAfter, null);
  assert.equal(r.track, null);
  assert.equal(r.status, 'destroyed');
  assert.equal(r.saved, true, 'destroy() saves before detaching');
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

test('Shopify and Segment helpers feed the engine', { timeout: 60_000 }, async () => {
  const { page, context } = await harness();
  const r = await page.evaluate(async () => {
    const { ShopperIntent, fromShopifyPixel, fromSegment } = window.SI;
    const intent = await ShopperIntent.load({ model: '/models/intent.bin', storage: 'memory', autoCapture: false });
    const t = new Date().toISOString();
    const variant = { id: 'gid://shopify/ProductVariant/1', price: { amount: 25, currencyCode: 'EUR' }, product: { id: 'gid://shopify/Product/9', type: 'Mugs' } };
    const events = [
      fromShopifyPixel({ name: 'product_viewed', timestamp: t, data: { productVariant: variant } }),
      fromShopifyPixel({ name: 'product_added_to_cart', timestamp: t, data: { cartLine: { merchandise: variant, quantity: 2 } } }),
      fromSegment('Product Added to Wishlist', { product_id: 'seg-1', category: 'Mugs', price: 12 }),
      fromSegment('Product Viewed', { product_id: 'seg-1', price: 12 }),
    ];
    const updates = events.map((e) => intent.track(e));
    return { events, updates: updates.map((u) => u && !u.ignored), history: intent.history().map((p) => p.type) };
  });
  assert.deepEqual(r.updates, [true, true, true, true]);
  assert.deepEqual(r.history, ['view_item', 'add_to_cart', 'add_to_wishlist', 'view_item']);
  await context.close();
});
