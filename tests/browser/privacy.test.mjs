// Every network request and every storage write of a shopping session is recorded: no request
// carries an event field (item ids, names, categories, prices), only the package's own files
// and the model are fetched (the model once), and storage holds no raw item id.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MODEL, isPackageRequest, moduleHarness, ours, recordRequests, setup, test } from './helpers.mjs';
import { RAW, shoppingSession } from './session.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

/**
 * Init script: reports every Storage write (which storage, key, value) to the test through the
 * `__recordWrite` binding, on every page of the session, before the page's own scripts run.
 */
function instrumentStorage() {
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (key, value) {
    window.__recordWrite(this === window.localStorage ? 'local' : 'session', String(key), String(value));
    return setItem.call(this, key, value);
  };
}

/** The shop's own files (web/demo/ and the snippet it copied). */
const PAGE_FILES = new Set([
  '/', '/index.html', '/product.html', '/cart.html', '/checkout.html', '/style.css', '/favicon.svg',
  '/app.js', '/catalog.js', '/panel.js', '/snippets/high-intent-offer.js',
]);

/** UTF-8 and UTF-16LE occurrences of `needle` in `bytes`. */
function bytesContain(bytes, needle) {
  const forms = [Buffer.from(needle, 'utf8'), Buffer.from(needle, 'utf16le')];
  return forms.some((f) => Buffer.from(bytes).indexOf(f) !== -1);
}

test('no request carries event data; storage holds no raw ids', { timeout: 120_000 }, async () => {
  const context = await env.browser.newContext();
  const writes = [];
  await context.exposeFunction('__recordWrite', (storage, key, value) => { writes.push({ storage, key, value }); });
  await context.addInitScript(instrumentStorage);
  const page = await env.page(context);
  const requests = recordRequests(page);

  await shoppingSession(page, env.url, { purchase: true });
  await page.evaluate(() => new Promise((r) => setTimeout(r, 400))); // the debounced save
  await page.goto(`${env.url}/index.html`); // one more page load: the saved state is read back
  await page.waitForFunction(() => window.shopperIntent?.status === 'ready');
  const secrets = [...RAW.ids, ...RAW.names, ...RAW.categories];

  // Requests: only the shop's pages and the package's files, all plain GETs, no query, no body.
  assert.ok(requests.length > 0);
  let modelFetches = 0;
  for (const r of requests) {
    const where = `${r.method} ${r.url}`;
    assert.equal(r.origin, env.url, `${where}: same origin`);
    assert.equal(r.method, 'GET', where);
    assert.equal(r.postData, null, `${where}: no body`);
    assert.equal(r.search, '', `${where}: no query string`);
    assert.ok(PAGE_FILES.has(r.path) || isPackageRequest(r), `${where}: an expected file`);
    const headers = r.request ? await r.request.allHeaders() : {};
    const text = decodeURIComponent(r.url) + '\n' + Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\n');
    for (const s of secrets) assert.ok(!text.includes(s), `${where} carries ${JSON.stringify(s)}`);
    if (r.path === MODEL) modelFetches += 1;
  }
  assert.equal(modelFetches, 1, 'the model is fetched once across page loads (Cache API)');
  assert.ok(requests.some((r) => /^\/pkg\/shopper_intent_wasm_(bg|simd)\.wasm$/.test(r.path)), 'the wasm module was fetched');

  // Storage: the package writes one key; neither it nor its decoded state holds a raw value.
  const ours = writes.filter((w) => w.key !== 'demo-cart'); // the shop's own cart is the shop's
  assert.ok(ours.length > 0, 'the state was saved');
  for (const w of ours) {
    assert.equal(w.key, 'shopper-intent:state', `unexpected storage key ${w.key}`);
    assert.equal(w.storage, 'local', 'the demo keeps the state in localStorage');
    for (const s of secrets) assert.ok(!w.value.includes(s), `stored text holds ${JSON.stringify(s)}`);
    const wrapper = JSON.parse(w.value);
    assert.deepEqual(Object.keys(wrapper).sort(), ['expiresAt', 'extra', 'savedAt', 'state', 'v']);
    assert.equal(wrapper.v, 1);
    // Beside the engine's bytes: the anonymous experiment id and this session's experiments.
    assert.deepEqual(Object.keys(wrapper.extra), ['experiments']);
    assert.deepEqual(Object.keys(wrapper.extra.experiments).sort(), ['id', 'seen', 'session']);
    assert.ok(wrapper.extra.experiments.seen.every((k) => typeof k === 'string'), 'seen: experiment keys only');
    assert.match(wrapper.extra.experiments.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(Object.keys(wrapper.extra.experiments.session).sort(), ['converted', 'dismissed', 'entered', 'exposed', 'lastAt', 'nonce', 'tracked']);
    assert.match(wrapper.extra.experiments.session.nonce, /^[0-9a-f]{16}$/, 'the session\'s nonce: random, naming it for the tabs');
    assert.ok(wrapper.expiresAt > wrapper.savedAt);
    const bytes = Buffer.from(wrapper.state, 'base64');
    assert.ok(bytes.length > 16, 'the state holds at least the salt');
    for (const s of [...secrets, ...RAW.slugs]) assert.ok(!bytesContain(bytes, s), `state bytes hold ${JSON.stringify(s)}`);
  }
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

test('forget() draws a new salt: the same events after it leave other state bytes', { timeout: 60_000 }, async () => {
  const { page, context } = await moduleHarness(env);
  const r = await page.evaluate(async (model) => {
    const intent = await window.SI.ShopperIntent.load({ model, storage: 'memory', autoCapture: false });
    const t0 = Date.now() - 60_000;
    const session = async () => {
      ['view_item', 'add_to_cart', 'view_item'].forEach((type, i) => intent.track({ type, item: `sku-${i}`, category: 'shoes', ts: t0 + i * 1000 }));
      await new Promise((res) => setTimeout(res, 600)); // the debounced save
      return Array.from(intent.storedState().state);
    };
    const before = await session();
    intent.forget();
    const after = await session();
    return { before, after };
  }, MODEL);
  // The state is a function of the salt and the events (crate/core/tests/engine.rs): the same
  // events from a forgotten window give the same bytes only if the salt, which every stored
  // hash is made with, was kept.
  assert.equal(r.before.length, r.after.length, 'the same events leave a state of the same size');
  assert.notDeepEqual(r.after, r.before, 'the same events after forget() left the same bytes: the salt was kept');
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

test("forget() and withdrawConsent() in one tab: the shop's other tab forgets too, instead of writing the old state back", { timeout: 90_000 }, async () => {
  const context = await env.browser.newContext();
  const open = async () => {
    const { page } = await moduleHarness(env, null, { context });
    await page.evaluate(async (model) => {
      window.intent = await window.SI.ShopperIntent.load({ model, storage: 'local', autoCapture: false });
    }, MODEL);
    return page;
  };
  const stored = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('shopper-intent:state')));
  const a = await open();
  await a.evaluate(async () => {
    window.intent.track({ type: 'view_item', item: 'before' });
    window.intent.experiment({ key: 'x', variants: ['a', 'b'] });
    await new Promise((res) => setTimeout(res, 400));
  });
  const before = await stored(a);
  const b = await open(); // restores A's state
  await b.evaluate(() => window.intent.forget());
  assert.ok(Number.isFinite((await stored(b)).forgotten), 'the entry is the mark of the forget');
  await a.evaluate(() => new Promise((res) => setTimeout(res, 200))); // A hears the storage event
  const afterA = await a.evaluate(async () => {
    const history = window.intent.history().length;
    window.intent.track({ type: 'view_item', item: 'after' });
    await new Promise((res) => setTimeout(res, 400));
    return { history, assignments: { ...window.intent.assignments() } };
  });
  assert.equal(afterA.history, 0, 'A forgot its window too');
  assert.deepEqual(afterA.assignments, {});
  const now = await stored(a);
  assert.notEqual(now.extra.experiments.id, before.extra.experiments.id, 'A did not write the old experiment id back');
  assert.equal(ours(a, 'info').filter((m) => /forgotten in another tab/.test(m.text)).length, 1);
  // Consent withdrawn in B: A stops and writes nothing more.
  await b.evaluate(() => window.intent.withdrawConsent());
  await a.evaluate(() => new Promise((res) => setTimeout(res, 200)));
  const stopped = await a.evaluate(async () => {
    window.intent.track({ type: 'view_item', item: 'later' });
    dispatchEvent(new PageTransitionEvent('pagehide'));
    await new Promise((res) => setTimeout(res, 300));
    return { status: window.intent.status, stored: JSON.parse(localStorage.getItem('shopper-intent:state')) };
  });
  assert.equal(stopped.status, 'destroyed');
  assert.equal(stopped.stored.withdrawn, true, 'the mark of the withdrawal is what is stored');
  assert.equal(stopped.stored.state, undefined);
  for (const p of [a, b]) assert.deepEqual(p.pageErrors, []);
  await context.close();
});

test('a tab waiting for consent when another tab forgets or withdraws: the events it held from before are dropped, those after kept, and consent there still works', { timeout: 90_000 }, async () => {
  let context;
  // `shared`: a backend of the shop's (over localStorage under its own key), which raises no
  // storage event: the pending tab learns of the forget when consent comes and it reads.
  const open = async (consent, shared) => {
    const { page } = await moduleHarness(env, null, { context });
    await page.evaluate(async ({ model, consent, shared }) => {
      if (consent === 'pending') localStorage.clear(); // the first tab of each round
      const key = (k) => `shared:${k}`;
      const storage = shared ? { kind: 'shared', get: (k) => localStorage.getItem(key(k)), set: (k, v) => localStorage.setItem(key(k), v), remove: (k) => localStorage.removeItem(key(k)) } : 'local';
      window.intent = await window.SI.ShopperIntent.load({ model, storage, autoCapture: false, consent });
    }, { model: MODEL, consent, shared });
    return page;
  };
  for (const [how, shared] of [['forget', false], ['withdrawConsent', true]]) {
    context = await env.browser.newContext();
    const a = await open('pending', shared);
    await a.evaluate(() => {
      window.intent.track({ type: 'view_item', item: 'before-1' });
      window.intent.track({ type: 'add_to_wishlist', item: 'before-2' });
      // Registered after the widget's own listener, so it hears each storage event after it.
      window.__heard = [];
      addEventListener('storage', (e) => window.__heard.push(e.newValue ?? ''));
    });
    const b = await open('granted', shared);
    await b.evaluate((how) => window.intent[how](), how);
    // B's mark reaches A as a storage event either way (the shop's backend writes under its own
    // key, which the widget does not listen to): once A has heard it, the widget has too. (B's
    // ordinary save of its id may come first: the mark is the write that says "forgotten".)
    await a.waitForFunction(() => window.__heard.some((v) => v.includes('forgotten')), null, { timeout: 30_000 });
    const saidAtOnce = ours(a, 'info').some((m) => /in another tab: the 2 events queued here/.test(m.text));
    assert.equal(saidAtOnce, !shared, `${how}: the storage event drops them at once; a backend without one, when consent comes`);
    const r = await a.evaluate(async () => {
      window.intent.track({ type: 'add_to_cart', item: 'after' });
      const before = window.intent.status;
      window.intent.grantConsent();
      await new Promise((res) => setTimeout(res, 400));
      return { before, status: window.intent.status, consent: window.intent.consent, history: window.intent.history().map((p) => p.type) };
    });
    assert.equal(r.before, 'ready', `${how}: the pending widget was not stopped by the other tab`);
    assert.equal(r.status, 'ready');
    assert.equal(r.consent, 'granted', `${how}: consent given in this tab after the other tab's ${how} holds`);
    assert.deepEqual(r.history, ['add_to_cart'], `${how}: only the event after it is scored and stored`);
    const dropped = ours(a, 'info').filter((m) => /in another tab: the 2 events queued here before that are dropped/.test(m.text));
    assert.equal(dropped.length, 1, `${how}: said once: ${ours(a, 'info').map((m) => m.text).join(' | ')}`);
    for (const p of [a, b]) assert.deepEqual(p.pageErrors, []);
    await context.close();
  }
});

test("forget() in one tab on the shop's own backend, then a save there: the tab that missed the mark forgets instead of writing the old state back", { timeout: 90_000 }, async () => {
  // A backend of the shop's, shared by the tabs (here over localStorage under its own key), raises
  // no storage event: a tab learns of another's forget only from what it reads before it saves.
  // When the forgetting tab saves again first, the mark is gone; the state it saves says when
  // the forget was.
  const context = await env.browser.newContext();
  const open = async () => {
    const { page } = await moduleHarness(env, null, { context });
    await page.evaluate(async (model) => {
      const key = (k) => `shared:${k}`;
      const storage = { kind: 'shared', get: (k) => localStorage.getItem(key(k)), set: (k, v) => localStorage.setItem(key(k), v), remove: (k) => localStorage.removeItem(key(k)) };
      window.intent = await window.SI.ShopperIntent.load({ model, storage, autoCapture: false });
    }, MODEL);
    return page;
  };
  const stored = (page) => page.evaluate(() => localStorage.getItem('shared:shopper-intent:state'));
  const settle = (page) => page.evaluate(() => new Promise((res) => setTimeout(res, 400)));
  const a = await open();
  await a.evaluate(() => {
    window.intent.track({ type: 'view_item', item: 'before' });
    window.intent.experiment({ key: 'x', variants: ['a', 'b'] });
  });
  await settle(a);
  const before = JSON.parse(await stored(a));
  const b = await open(); // restores A's state
  assert.deepEqual(await b.evaluate(() => window.intent.history().length), 1, 'B started from the saved state');
  await b.evaluate(() => window.intent.forget());
  assert.ok(Number.isFinite(JSON.parse(await stored(b)).forgotten), 'the entry is the mark of the forget');
  await b.evaluate(() => window.intent.track({ type: 'view_item', item: 'fresh' }));
  await settle(b);
  const bSaved = await stored(b);
  const w = JSON.parse(bSaved);
  assert.equal(w.forgotten, undefined, "B's save replaced the mark");
  assert.ok(Number.isFinite(w.forgotAt) && typeof w.state === 'string', 'the state B saved says when the forget was');
  assert.notEqual(w.extra.experiments.id, before.extra.experiments.id);
  // A never saw the mark. Its next event makes it save: it forgets instead.
  const afterA = await a.evaluate(async () => {
    window.intent.track({ type: 'view_item', item: 'after' });
    await new Promise((res) => setTimeout(res, 400));
    return { history: window.intent.history().length, assignments: { ...window.intent.assignments() } };
  });
  assert.equal(afterA.history, 0, 'A forgot its window');
  assert.deepEqual(afterA.assignments, {});
  assert.equal(await stored(a), bSaved, "A wrote nothing over B's state: not the old state, not the old experiment id");
  assert.equal(ours(a, 'info').filter((m) => /forgotten in another tab/.test(m.text)).length, 1);
  // A third tab restores B's state and saves its own events on it: it forgets nothing.
  const c = await open();
  const third = await c.evaluate(async () => {
    const restored = window.intent.history().length;
    window.intent.track({ type: 'view_item', item: 'third' });
    await new Promise((res) => setTimeout(res, 400));
    return { restored, history: window.intent.history().length };
  });
  assert.deepEqual(third, { restored: 1, history: 2 }, 'a tab that read the state saved after the forget keeps it');
  const cSaved = JSON.parse(await stored(c));
  assert.equal(cSaved.forgotAt, w.forgotAt, 'and passes the time of the forget on');
  assert.equal(ours(c, 'info').filter((m) => /forgotten in another tab/.test(m.text)).length, 0);
  // A fourth tab that read nothing at load (the entry gone meanwhile: expired, say) and so never
  // learned of the forget, which came before it started: a state telling of that forget is no
  // reason to forget its own events.
  await c.evaluate(() => localStorage.removeItem('shared:shopper-intent:state'));
  const d = await open();
  await d.evaluate(() => window.intent.track({ type: 'view_item', item: 'fourth' }));
  await settle(d);
  await c.evaluate(async () => {
    window.intent.track({ type: 'view_item', item: 'third again' });
    await new Promise((res) => setTimeout(res, 400));
  });
  assert.equal(JSON.parse(await stored(c)).forgotAt, w.forgotAt, 'the entry tells of the forget again');
  const fourth = await d.evaluate(async () => {
    window.intent.track({ type: 'view_item', item: 'fourth again' });
    await new Promise((res) => setTimeout(res, 400));
    return window.intent.history().length;
  });
  assert.equal(fourth, 2, 'the fourth tab kept its events');
  assert.equal(ours(d, 'info').filter((m) => /forgotten in another tab/.test(m.text)).length, 0);
  assert.equal(JSON.parse(await stored(d)).forgotAt, w.forgotAt, 'and passes the time of the forget on');
  for (const p of [a, b, c, d]) assert.deepEqual(p.pageErrors, []);
  await context.close();
});

test('a forget time a saved state cannot carry (more than a minute after its save, past the retention) is ignored; one it can makes an older tab forget', { timeout: 60_000 }, async () => {
  const { page, context } = await moduleHarness(env);
  const r = await page.evaluate(async (model) => {
    const KEY = 'shopper-intent:state';
    const intent = await window.SI.ShopperIntent.load({ model, storage: 'local', autoCapture: false });
    const settle = () => new Promise((res) => setTimeout(res, 400));
    const history = () => intent.history().length;
    const edit = (change) => {
      const w = JSON.parse(localStorage.getItem(KEY));
      localStorage.setItem(KEY, JSON.stringify({ ...w, ...change(w) })); // no storage event in this tab
    };
    intent.track({ type: 'view_item', item: 'a' });
    await settle();
    const out = {};
    for (const [name, change] of [
      ['more than a minute after its save', (w) => ({ forgotAt: w.savedAt + 60_001 })],
      ['in the far future', () => ({ savedAt: 1e300, forgotAt: 1e300 })],
      ['past the retention', (w) => ({ forgotAt: w.savedAt - 31 * 86_400_000 })],
      ['not a number', () => ({ forgotAt: '1e15' })],
      ['at its save, after this tab started', (w) => ({ forgotAt: w.savedAt })],
    ]) {
      edit(change);
      intent.track({ type: 'view_item', item: name });
      await settle();
      const saved = JSON.parse(localStorage.getItem(KEY));
      out[name] = { history: history(), forgotAt: saved.forgotAt ?? null };
    }
    return out;
  }, MODEL);
  let n = 1;
  for (const name of ['more than a minute after its save', 'in the far future', 'past the retention', 'not a number']) {
    n += 1;
    assert.equal(r[name].history, n, `${name}: the tab kept its events`);
    assert.equal(r[name].forgotAt, null, `${name}: not passed on`);
  }
  assert.equal(r['at its save, after this tab started'].history, 0, 'a forget after this tab started: it forgets');
  assert.equal(ours(page, 'info').filter((m) => /forgotten in another tab/.test(m.text)).length, 1);
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

test('consent pending or Global Privacy Control: the model cache is neither read nor written', { timeout: 60_000 }, async () => {
  // Every call to the Cache API is counted; the widget is waited for until it is ready.
  const spy = () => {
    window.__cacheCalls = [];
    for (const m of ['open', 'match', 'has', 'delete', 'keys']) {
      const original = CacheStorage.prototype[m];
      CacheStorage.prototype[m] = function (...args) { window.__cacheCalls.push(m); return original.apply(this, args); };
    }
  };
  const spyUnderGpc = () => {
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { configurable: true, get: () => true });
    window.__cacheCalls = [];
    for (const m of ['open', 'match', 'has', 'delete', 'keys']) {
      const original = CacheStorage.prototype[m];
      CacheStorage.prototype[m] = function (...args) { window.__cacheCalls.push(m); return original.apply(this, args); };
    }
  };
  for (const [name, script, opts, cached] of [
    ['pending', spy, { consent: 'pending' }, false],
    ['GPC', spyUnderGpc, {}, false],
    ['granted (the control)', spy, {}, true],
  ]) {
    const { page, context } = await moduleHarness(env, script);
    const r = await page.evaluate(async ({ model, opts }) => {
      const intent = window.SI.ShopperIntent.create({ model, storage: 'local', autoCapture: false, ...opts });
      await intent.ready;
      const calls = window.__cacheCalls.slice(); // the widget's own, before this test lists the caches
      // A cache write is not awaited by ready: it is done once the cache holds the model.
      const deadline = Date.now() + 5_000;
      while (opts.consent !== 'pending' && !navigator.globalPrivacyControl && (await caches.keys()).length === 0 && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 20));
      }
      return { status: intent.status, calls, caches: await caches.keys() };
    }, { model: MODEL, opts });
    assert.equal(r.status, 'ready', name);
    if (cached) {
      assert.ok(r.calls.includes('open') && r.caches.length > 0, `${name}: the model is cached (${r.calls})`);
    } else {
      assert.deepEqual(r.calls, [], `${name}: the Cache API is not called`);
      assert.deepEqual(r.caches, [], `${name}: no model cache made`);
    }
    await context.close();
  }
});
