// The mappers of web/package/capture.js, in Node (they touch no browser API): GA4 dataLayer
// objects and gtag arguments, Shopify Web Pixels standard events, Segment Ecommerce v2 calls.
// The mappers read each source's payload and keep the source's own event name as `type`; the
// engine's one name table (crate/core mapping.rs, exported by the bindings as `eventTypes()`)
// says which GA4 kind a name means. The last tests check the JS side against that table.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { PKG, REPO, WEB } from './helpers.mjs';

const { fromDataLayer, fromShopifyPixel, fromSegment, attachDataLayer, EVENT_TYPES } = await import(pathToFileURL(join(WEB, 'package', 'capture.js')));

const T = Date.UTC(2025, 4, 1, 12);

/** The engine's name table, through the wasm bindings (instantiated in Node; JSON text). */
async function engineTable() {
  const glue = await import(pathToFileURL(join(PKG, 'shopper_intent_wasm.js')));
  glue.initSync({ module: readFileSync(join(PKG, 'shopper_intent_wasm_bg.wasm')) });
  return JSON.parse(glue.eventTypes());
}

test('GA4 dataLayer objects', () => {
  assert.deepEqual(
    fromDataLayer({ event: 'add_to_cart', ecommerce: { currency: 'EUR', items: [{ item_id: 'SKU_1', item_category: 'Shoes', price: '59.90', quantity: 2 }, { item_id: 'SKU_2', quantity: 1 }] } }, T),
    { type: 'add_to_cart', ts: T, item: 'SKU_1', category: 'Shoes', price: 59.9, quantity: 3 },
  );
  assert.deepEqual(fromDataLayer({ event: 'view_item_list', ecommerce: { item_list_name: 'Summer', items: [{ item_name: 'Hat' }] } }, T),
    { type: 'view_item_list', ts: T, item: 'Hat', category: 'Summer' });
  assert.deepEqual(fromDataLayer({ event: 'view_cart' }, T), { type: 'view_cart', ts: T });
  assert.deepEqual(fromDataLayer({ event: 'view_item', ecommerce: { items: [{ item_id: 7, price: 'free', quantity: -1 }] } }, T),
    { type: 'view_item', ts: T, item: '7' }, 'unusable values are dropped, the event is kept');
  // A name no table knows is the shop's own type: kept, for the engine to judge.
  assert.deepEqual(fromDataLayer({ event: 'add_shipping_info' }, T), { type: 'add_shipping_info', ts: T });
  assert.deepEqual(fromDataLayer({ event: 'size_guide_open' }, T), { type: 'size_guide_open', ts: T });
  // Not events: GTM's own, the widget's own pushes (dataLayerPush), anything without a name.
  for (const x of [null, undefined, 'view_item', 1, {}, { ecommerce: null }, { event: 'gtm.js' }, { event: 'gtm.dom' }, { event: '' }, { event: 42 },
    { event: 'shopper_intent_segment', shopper_intent_segment: 'high' }, { event: 'shopper_intent_exposure' }, { event: 'shopper_intent_conversion' }]) {
    assert.equal(fromDataLayer(x, T), null, JSON.stringify(x));
  }
});

test('GA4 pushes read as the CLI reads the same events in GA4\'s BigQuery export (train = serve)', () => {
  // The same cases crate/cli/tests/ga4.rs holds the CLI's GA4 reader to.
  const { cases } = JSON.parse(readFileSync(join(REPO, 'crate', 'cli', 'tests', 'fixtures', 'ga4-parity.json'), 'utf8'));
  assert.ok(cases.length >= 5);
  for (const { name, push, event } of cases) {
    const want = { ts: T };
    for (const [k, v] of Object.entries(event)) if (v !== null) want[k] = v;
    assert.deepEqual(fromDataLayer(push, T), want, name);
  }
});

test('gtag arguments objects', () => {
  const args = (function () { return arguments; })('event', 'purchase', { transaction_id: 'T1', items: [{ item_id: 'A', price: 5, quantity: 1 }] });
  assert.deepEqual(fromDataLayer(args, T), { type: 'purchase', ts: T, item: 'A', price: 5, quantity: 1 });
  const config = (function () { return arguments; })('config', 'G-1');
  assert.equal(fromDataLayer(config, T), null);
  const consent = (function () { return arguments; })('consent', 'update', { ad_storage: 'granted' });
  assert.equal(fromDataLayer(consent, T), null);
  const set = (function () { return arguments; })('set', { user_id: 'u' });
  assert.equal(fromDataLayer(set, T), null);
  assert.deepEqual(fromDataLayer(['event', 'view_item', { items: [{ item_id: 'B' }] }], T), { type: 'view_item', ts: T, item: 'B' });
  assert.deepEqual(fromDataLayer(['event', 'view_promotion', {}], T), { type: 'view_promotion', ts: T });
});

test('Shopify Web Pixels standard events keep their names', () => {
  const variant = { id: 'gid://shopify/ProductVariant/11', sku: 'MUG-1', price: { amount: 18.5, currencyCode: 'USD' }, product: { id: 'gid://shopify/Product/3', type: 'Mugs', title: 'Mug' } };
  const ts = '2025-05-01T12:00:00.000Z';
  assert.deepEqual(fromShopifyPixel({ name: 'product_viewed', timestamp: ts, data: { productVariant: variant } }),
    { type: 'product_viewed', ts: T, item: 'gid://shopify/Product/3', category: 'Mugs', price: 18.5 });
  assert.deepEqual(fromShopifyPixel({ name: 'product_added_to_cart', timestamp: ts, data: { cartLine: { merchandise: variant, quantity: 3 } } }),
    { type: 'product_added_to_cart', ts: T, item: 'gid://shopify/Product/3', category: 'Mugs', price: 18.5, quantity: 3 });
  assert.deepEqual(fromShopifyPixel({ name: 'checkout_completed', timestamp: ts, data: { checkout: { lineItems: [{ variant, quantity: 1 }, { variant, quantity: 2 }] } } }),
    { type: 'checkout_completed', ts: T, item: 'gid://shopify/Product/3', category: 'Mugs', price: 18.5, quantity: 3 });
  assert.deepEqual(fromShopifyPixel({ name: 'collection_viewed', timestamp: ts, data: { collection: { id: 'c-9', title: 'Kitchen' } } }),
    { type: 'collection_viewed', ts: T, category: 'c-9' });
  assert.deepEqual(fromShopifyPixel({ name: 'cart_viewed', timestamp: ts, data: { cart: { lines: [{ merchandise: variant, quantity: 2 }] } } }),
    { type: 'cart_viewed', ts: T, item: 'gid://shopify/Product/3', category: 'Mugs', price: 18.5, quantity: 2 });
  assert.equal(fromShopifyPixel({ name: 'cart_viewed', timestamp: ts, data: { cart: null } }).type, 'cart_viewed');
  assert.equal(fromShopifyPixel({ name: 'checkout_started', timestamp: ts, data: {} }).type, 'checkout_started');
  assert.equal(fromShopifyPixel({ name: 'payment_info_submitted', timestamp: ts }).type, 'payment_info_submitted');
  assert.equal(fromShopifyPixel({ name: 'page_viewed', timestamp: ts }).type, 'page_viewed');
  assert.equal(fromShopifyPixel({ name: 'search_submitted', timestamp: ts, data: { searchResult: { query: 'mug' } } }).type, 'search_submitted');
  // Events without a table entry are the shop's own types, kept as named.
  assert.deepEqual(fromShopifyPixel({ name: 'checkout_shipping_info_submitted', timestamp: ts }), { type: 'checkout_shipping_info_submitted', ts: T });
  assert.equal(fromShopifyPixel({ name: 'alert_displayed', timestamp: ts }).type, 'alert_displayed');
  for (const x of [null, {}, { name: '' }, { name: 5 }, { name: 'gtm.js' }]) assert.equal(fromShopifyPixel(x), null, JSON.stringify(x));
  const noTime = fromShopifyPixel({ name: 'product_viewed', data: { productVariant: variant } });
  assert.ok(Math.abs(noTime.ts - Date.now()) < 5000, 'ts defaults to now');
  const badTime = fromShopifyPixel({ name: 'product_viewed', timestamp: 'yesterday' });
  assert.ok(Math.abs(badTime.ts - Date.now()) < 5000, 'an unreadable timestamp is now');
  // A time that names its zone is taken in any zone notation; one without a zone (it would be
  // read in the shopper's zone) is now.
  for (const stamp of ['2025-05-01T14:00:00+02:00', '2025-05-01T07:00:00-0500', '2025-05-01T12:00:00z']) {
    assert.equal(fromShopifyPixel({ name: 'page_viewed', timestamp: stamp }).ts, T, stamp);
  }
  for (const stamp of ['2025-05-01T12:00:00', '2025-05-01', '2025-05-01 12:00:00']) {
    assert.ok(Math.abs(fromShopifyPixel({ name: 'page_viewed', timestamp: stamp }).ts - Date.now()) < 5000, `${stamp} is now`);
  }
});

test('Segment Ecommerce v2 calls keep their names', () => {
  assert.deepEqual(fromSegment('Product Viewed', { product_id: 'p1', sku: 'S1', category: 'Games', price: 18.99, quantity: 1 }, T),
    { type: 'Product Viewed', ts: T, item: 'p1', category: 'Games', price: 18.99, quantity: 1 });
  assert.deepEqual(fromSegment('Product Added', { sku: 'S1', price: 5 }, T), { type: 'Product Added', ts: T, item: 'S1', price: 5 });
  assert.deepEqual(fromSegment('Order Completed', { order_id: 'o1', products: [{ product_id: 'p1', price: 3, quantity: 2, category: 'Games' }, { product_id: 'p2', quantity: 1 }] }, T),
    { type: 'Order Completed', ts: T, item: 'p1', category: 'Games', price: 3, quantity: 3 });
  assert.deepEqual(fromSegment('Product List Viewed', { list_id: 'hot', category: 'Deals', products: [] }, T),
    { type: 'Product List Viewed', ts: T, category: 'Deals' });
  assert.deepEqual(fromSegment('Product Clicked', { category: 'Deals' }, T), { type: 'Product Clicked', ts: T },
    'a product event\'s category without a product is not a list name');
  assert.deepEqual(fromSegment('Signed Up', {}, T), { type: 'Signed Up', ts: T }, 'a call no table knows is the shop\'s own type');
  assert.deepEqual(fromSegment('Checkout Step Viewed', { step: 2 }, T), { type: 'Checkout Step Viewed', ts: T });
  for (const name of [null, undefined, '', 7, 'gtm.js']) assert.equal(fromSegment(name, {}, T), null, String(name));
});

test('values beyond the engine\'s limits are dropped, the event kept, in every mapper', () => {
  const long = 'x'.repeat(257);
  const wide = 'é'.repeat(129); // 129 units, 258 bytes of UTF-8
  assert.deepEqual(fromDataLayer({ event: 'view_item', ecommerce: { items: [{ item_id: long, item_name: 'Hat', item_category: wide, price: 2e9, quantity: 1.5e6 }] } }, T),
    { type: 'view_item', ts: T, item: 'Hat' });
  assert.deepEqual(fromDataLayer({ event: 'view_item', ecommerce: { items: [{ item_id: 'x'.repeat(256), price: '1000000000', quantity: '1000000' }] } }, T),
    { type: 'view_item', ts: T, item: 'x'.repeat(256), price: 1e9, quantity: 1e6 }, 'at the limits: kept');
  assert.deepEqual(fromDataLayer({ event: 'view_item', ecommerce: { items: [{ item_id: 'a', quantity: 2.4 }] } }, T), { type: 'view_item', ts: T, item: 'a', quantity: 2 },
    'a quantity is a whole number for the engine');
  const variant = { id: long, sku: 'MUG-1', price: { amount: 1e9 + 0.5 }, product: { id: wide, type: long } };
  assert.deepEqual(fromShopifyPixel({ name: 'product_added_to_cart', timestamp: new Date(T).toISOString(), data: { cartLine: { merchandise: variant, quantity: 2e6 } } }),
    { type: 'product_added_to_cart', ts: T, item: 'MUG-1' });
  assert.deepEqual(fromShopifyPixel({ name: 'product_added_to_cart', timestamp: new Date(T).toISOString(), data: { cartLine: { merchandise: { id: 'v', price: 3 }, quantity: 2.5 } } }),
    { type: 'product_added_to_cart', ts: T, item: 'v', price: 3, quantity: 3 });
  assert.deepEqual(fromSegment('Product Added', { product_id: long, sku: 'S-1', category: wide, price: 1e10, quantity: 1e7 }, T),
    { type: 'Product Added', ts: T, item: 'S-1' });
  assert.deepEqual(fromSegment('Order Completed', { products: [{ product_id: 'p', quantity: 999_999 }, { quantity: 2 }] }, T),
    { type: 'Order Completed', ts: T, item: 'p' }, 'a sum beyond the limit is dropped');
});

// capture.js's bounds on the entries it reads (its MAX_ITEMS and MAX_EARLIER_ENTRIES).
const captureSource = readFileSync(join(WEB, 'package', 'capture.js'), 'utf8');
const bound = (name) => Number(captureSource.match(new RegExp(`const ${name} = (\\d+);`))[1]);
/** `array` behind a Proxy that counts the reads of its elements (`reads.n`). */
function counted(array) {
  const reads = { n: 0 };
  const proxy = new Proxy(array, { get(target, key, receiver) { if (typeof key === 'string' && /^\d+$/.test(key)) reads.n += 1; return Reflect.get(target, key, receiver); } });
  return [proxy, reads];
}

test('hostile payloads: huge item lists and getters are bounded or reported, never a hang', () => {
  const sparse = [];
  sparse.length = 2 ** 31; // a sparse array claiming two billion items
  sparse[0] = { item_id: 'first', quantity: 1 };
  const [items, reads] = counted(sparse);
  assert.deepEqual(fromDataLayer({ event: 'view_item', ecommerce: { items } }, T), { type: 'view_item', ts: T, item: 'first', quantity: 1 });
  assert.ok(reads.n > 0 && reads.n <= 2 * bound('MAX_ITEMS'), `the list was not walked to its claimed end of 2^31: ${reads.n} reads (the first items are read more than once)`);
  const trap = new Proxy({}, { get() { throw new Error('getter trap'); } });
  assert.throws(() => fromDataLayer({ event: 'view_item', ecommerce: trap }, T), /getter trap/, 'a throwing payload throws to the caller (attachDataLayer reports it)');
});

test('attachDataLayer wraps push, keeps its return value, survives throwing consumers, detaches', () => {
  const seen = [];
  const reports = [];
  const win = { dataLayer: [{ event: 'view_item', ecommerce: { items: [{ item_id: 'early' }] } }] };
  const gtm = function (...a) { Array.prototype.push.apply(this, a); return 'from-gtm'; };
  win.dataLayer.push = gtm;
  const detach = attachDataLayer(win, (ev) => { seen.push(ev.item ?? ev.type); if (ev.item === 'boom') throw new Error('consumer'); }, (e) => reports.push(String(e)));
  assert.deepEqual(seen, ['early']);
  assert.equal(win.dataLayer.push({ event: 'add_to_cart', ecommerce: { items: [{ item_id: 'late' }] } }), 'from-gtm');
  assert.equal(win.dataLayer.push({ event: 'view_item', ecommerce: { items: [{ item_id: 'boom' }] } }), 'from-gtm', 'a throwing consumer cannot break push');
  assert.equal(win.dataLayer.push({ event: 'view_item', ecommerce: new Proxy({}, { get() { throw new Error('trap'); } }) }), 'from-gtm', 'nor a throwing entry');
  assert.deepEqual(seen, ['early', 'late', 'boom']);
  assert.equal(reports.length, 2);
  assert.equal(win.dataLayer.length, 4);
  detach();
  assert.equal(win.dataLayer.push, gtm);
  const fresh = {};
  attachDataLayer(fresh, () => {}, () => {});
  assert.ok(Array.isArray(fresh.dataLayer), 'a missing dataLayer is created');
  // Earlier entries: only the newest are read, so a huge layer cannot hold the page.
  const huge = [];
  huge.length = 2 ** 31;
  huge[2 ** 31 - 1] = { event: 'view_item' };
  const [layer, reads] = counted(huge);
  const big = { dataLayer: layer };
  const got = [];
  attachDataLayer(big, (ev) => got.push(ev.type), () => {});
  assert.deepEqual(got, ['view_item']);
  assert.ok(reads.n > 0 && reads.n <= 2 * bound('MAX_EARLIER_ENTRIES'), `the layer of 2^31 was not walked from its start: ${reads.n} reads`);
});

test('attachDataLayer works on a page that froze Array.prototype, and detaching leaves the array as it was', () => {
  // An array of another realm whose Array.prototype is frozen, as on a hardened page.
  const realm = vm.createContext({});
  const layer = vm.runInContext('Object.freeze(Array.prototype); Object.freeze(Object.prototype); [{ event: "view_item" }]', realm);
  assert.throws(() => { 'use strict'; layer.push = () => 0; }, TypeError, 'assigning push over the frozen one throws');
  const win = { dataLayer: layer };
  const seen = [];
  const detach = attachDataLayer(win, (ev) => seen.push(ev.type), (e) => assert.fail(String(e)));
  assert.equal(win.dataLayer.push({ event: 'add_to_cart' }), 2, 'the array\'s own push ran and its return value came back');
  assert.deepEqual(seen, ['view_item', 'add_to_cart']);
  assert.equal(Object.keys(layer).includes('push'), false, 'the wrapper is not enumerable, as the inherited push');
  // GTM loading after the widget assigns its own push, which wraps the current one.
  const current = layer.push;
  layer.push = function (...a) { return current.apply(this, a); };
  layer.push({ event: 'begin_checkout' });
  assert.deepEqual(seen, ['view_item', 'add_to_cart', 'begin_checkout']);
  detach();
  layer.push({ event: 'purchase' });
  assert.deepEqual(seen, ['view_item', 'add_to_cart', 'begin_checkout'], 'nothing is read after detaching');
  // Without GTM's push, detaching removes the wrapper: the array's push is inherited again.
  const plain = vm.runInContext('[]', realm);
  const off = attachDataLayer({ dataLayer: plain }, () => {}, () => {});
  assert.ok(Object.hasOwn(plain, 'push'));
  off();
  assert.equal(Object.hasOwn(plain, 'push'), false);
  assert.equal(plain.push, vm.runInContext('Array.prototype.push', realm));
  // A layer whose own push is writable but not configurable: assigned over, as before.
  const fixed = [];
  Object.defineProperty(fixed, 'push', { value: Array.prototype.push, writable: true, configurable: false });
  const got = [];
  const unfix = attachDataLayer({ dataLayer: fixed }, (ev) => got.push(ev.type), () => {});
  fixed.push({ event: 'view_item' });
  assert.deepEqual(got, ['view_item']);
  unfix();
  assert.equal(fixed.push, Array.prototype.push);
});

test('EVENT_TYPES is the engine\'s GA4 list, in its order', async () => {
  const table = await engineTable();
  const ga4 = table.filter((t) => t.vocabulary === 'ga4' && t.name === t.kind).map((t) => t.name);
  assert.deepEqual([...EVENT_TYPES], ga4);
  assert.ok(Object.isFrozen(EVENT_TYPES));
  // Every kind the table maps to is one of them.
  for (const t of table) assert.ok(EVENT_TYPES.includes(t.kind), `${t.vocabulary} ${t.name} -> ${t.kind}`);
});

test('every name the mappers emit for the standard events is one the engine\'s table maps', async () => {
  const table = await engineTable();
  const kindOf = new Map(table.map((t) => [t.name, t.kind]));
  const shopify = {
    page_viewed: 'page_view', collection_viewed: 'view_item_list', product_viewed: 'view_item', search_submitted: 'search',
    product_added_to_cart: 'add_to_cart', product_removed_from_cart: 'remove_from_cart', cart_viewed: 'view_cart',
    checkout_started: 'begin_checkout', payment_info_submitted: 'add_payment_info', checkout_completed: 'purchase',
  };
  for (const [name, kind] of Object.entries(shopify)) {
    const type = fromShopifyPixel({ name, timestamp: new Date(T).toISOString(), data: {} }).type;
    assert.equal(kindOf.get(type), kind, `Shopify ${name}`);
  }
  const segment = {
    'Products Searched': 'search', 'Product List Viewed': 'view_item_list', 'Product List Filtered': 'view_item_list',
    'Product Clicked': 'select_item', 'Product Viewed': 'view_item', 'Product Added to Wishlist': 'add_to_wishlist',
    'Product Added': 'add_to_cart', 'Product Removed': 'remove_from_cart', 'Cart Viewed': 'view_cart',
    'Checkout Started': 'begin_checkout', 'Payment Info Entered': 'add_payment_info', 'Order Completed': 'purchase',
  };
  // And each in snake case, as Segment's warehouse tables name them (a log exported from one).
  for (const [name, kind] of Object.entries(segment)) segment[name.toLowerCase().replaceAll(' ', '_')] = kind;
  for (const [name, kind] of Object.entries(segment)) assert.equal(kindOf.get(fromSegment(name, {}, T).type), kind, `Segment ${name}`);
  for (const kind of EVENT_TYPES) assert.equal(kindOf.get(fromDataLayer({ event: kind }, T).type), kind, `GA4 ${kind}`);
  // And the table holds nothing else for these vocabularies: a name added there needs a line here.
  assert.deepEqual(table.filter((t) => t.vocabulary === 'shopify').map((t) => t.name).sort(), Object.keys(shopify).sort());
  assert.deepEqual(table.filter((t) => t.vocabulary === 'segment').map((t) => t.name).sort(), Object.keys(segment).sort());
});
