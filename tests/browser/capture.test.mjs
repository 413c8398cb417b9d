// The mappers of web/capture.js, in Node (they touch no browser API): GA4 dataLayer objects and
// gtag arguments, Shopify Web Pixels standard events, Segment Ecommerce v2 calls.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromDataLayer, fromShopifyPixel, fromSegment, attachDataLayer, EVENT_TYPES } from '../../web/capture.js';

const T = Date.UTC(2025, 4, 1, 12);

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
  for (const x of [null, undefined, 'view_item', 1, {}, { ecommerce: null }, { event: 'gtm.js' }, { event: 'add_shipping_info' }, { event: 'shopper_intent_segment' }]) {
    assert.equal(fromDataLayer(x, T), null, JSON.stringify(x));
  }
});

test('gtag arguments objects', () => {
  const args = (function () { return arguments; })('event', 'purchase', { transaction_id: 'T1', items: [{ item_id: 'A', price: 5, quantity: 1 }] });
  assert.deepEqual(fromDataLayer(args, T), { type: 'purchase', ts: T, item: 'A', price: 5, quantity: 1 });
  const config = (function () { return arguments; })('config', 'G-1');
  assert.equal(fromDataLayer(config, T), null);
  const consent = (function () { return arguments; })('consent', 'update', { ad_storage: 'granted' });
  assert.equal(fromDataLayer(consent, T), null);
  assert.deepEqual(fromDataLayer(['event', 'view_item', { items: [{ item_id: 'B' }] }], T), { type: 'view_item', ts: T, item: 'B' });
});

test('Shopify Web Pixels standard events', () => {
  const variant = { id: 'gid://shopify/ProductVariant/11', sku: 'MUG-1', price: { amount: 18.5, currencyCode: 'USD' }, product: { id: 'gid://shopify/Product/3', type: 'Mugs', title: 'Mug' } };
  const ts = '2025-05-01T12:00:00.000Z';
  assert.deepEqual(fromShopifyPixel({ name: 'product_viewed', timestamp: ts, data: { productVariant: variant } }),
    { type: 'view_item', ts: T, item: 'gid://shopify/Product/3', category: 'Mugs', price: 18.5 });
  assert.deepEqual(fromShopifyPixel({ name: 'product_added_to_cart', timestamp: ts, data: { cartLine: { merchandise: variant, quantity: 3 } } }),
    { type: 'add_to_cart', ts: T, item: 'gid://shopify/Product/3', category: 'Mugs', price: 18.5, quantity: 3 });
  assert.deepEqual(fromShopifyPixel({ name: 'checkout_completed', timestamp: ts, data: { checkout: { lineItems: [{ variant, quantity: 1 }, { variant, quantity: 2 }] } } }),
    { type: 'purchase', ts: T, item: 'gid://shopify/Product/3', category: 'Mugs', price: 18.5, quantity: 3 });
  assert.deepEqual(fromShopifyPixel({ name: 'collection_viewed', timestamp: ts, data: { collection: { id: 'c-9', title: 'Kitchen' } } }),
    { type: 'view_item_list', ts: T, category: 'c-9' });
  assert.equal(fromShopifyPixel({ name: 'cart_viewed', timestamp: ts, data: { cart: null } }).type, 'view_cart');
  assert.equal(fromShopifyPixel({ name: 'checkout_started', timestamp: ts, data: {} }).type, 'begin_checkout');
  assert.equal(fromShopifyPixel({ name: 'payment_info_submitted', timestamp: ts }).type, 'add_payment_info');
  assert.equal(fromShopifyPixel({ name: 'page_viewed', timestamp: ts }).type, 'page_view');
  assert.equal(fromShopifyPixel({ name: 'search_submitted', timestamp: ts, data: { searchResult: { query: 'mug' } } }).type, 'search');
  assert.equal(fromShopifyPixel({ name: 'checkout_shipping_info_submitted', timestamp: ts }), null);
  assert.equal(fromShopifyPixel({ name: 'alert_displayed' }), null);
  assert.equal(fromShopifyPixel(null), null);
  const noTime = fromShopifyPixel({ name: 'product_viewed', data: { productVariant: variant } });
  assert.ok(Math.abs(noTime.ts - Date.now()) < 5000, 'ts defaults to now');
});

test('Segment Ecommerce v2 calls', () => {
  assert.deepEqual(fromSegment('Product Viewed', { product_id: 'p1', sku: 'S1', category: 'Games', price: 18.99, quantity: 1 }, T),
    { type: 'view_item', ts: T, item: 'p1', category: 'Games', price: 18.99, quantity: 1 });
  assert.deepEqual(fromSegment('Product Added', { sku: 'S1', price: 5 }, T), { type: 'add_to_cart', ts: T, item: 'S1', price: 5 });
  assert.deepEqual(fromSegment('Order Completed', { order_id: 'o1', products: [{ product_id: 'p1', price: 3, quantity: 2, category: 'Games' }, { product_id: 'p2', quantity: 1 }] }, T),
    { type: 'purchase', ts: T, item: 'p1', category: 'Games', price: 3, quantity: 3 });
  assert.deepEqual(fromSegment('Product List Viewed', { list_id: 'hot', category: 'Deals', products: [] }, T),
    { type: 'view_item_list', ts: T, category: 'Deals' });
  const names = {
    'Products Searched': 'search', 'Product Clicked': 'select_item', 'Product Added to Wishlist': 'add_to_wishlist',
    'Product Removed': 'remove_from_cart', 'Cart Viewed': 'view_cart', 'Checkout Started': 'begin_checkout',
    'Payment Info Entered': 'add_payment_info', 'Product List Filtered': 'view_item_list',
  };
  for (const [name, type] of Object.entries(names)) assert.equal(fromSegment(name, {}, T).type, type, name);
  assert.equal(fromSegment('Signed Up', {}), null);
  assert.equal(fromSegment('Checkout Step Viewed', { step: 2 }), null);
});

test('every mapped type is in the GA4 vocabulary', () => {
  const set = new Set(EVENT_TYPES);
  const samples = [
    fromSegment('Product Clicked', {}), fromShopifyPixel({ name: 'cart_viewed' }), fromDataLayer({ event: 'search' }),
  ];
  for (const s of samples) assert.ok(set.has(s.type), s.type);
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
  assert.deepEqual(seen, ['early', 'late', 'boom']);
  assert.equal(reports.length, 1);
  assert.equal(win.dataLayer.length, 3);
  detach();
  assert.equal(win.dataLayer.push, gtm);
  const fresh = {};
  attachDataLayer(fresh, () => {}, () => {});
  assert.ok(Array.isArray(fresh.dataLayer), 'a missing dataLayer is created');
});
