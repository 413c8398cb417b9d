// Turning a shop's existing analytics calls into events: GA4/GTM `dataLayer` (object pushes and
// gtag() `arguments`), Shopify Web Pixels standard events, Segment Ecommerce v2 calls.
//
// Every mapper returns an `IntentEvent` with a GA4 `type`, or `null` for a call that is not a
// shopping event (GTM's own `gtm.*` events, consent updates, `config` calls...). Mappers are
// lenient about values (a price that is not a number is dropped, the event is kept); `track()`
// is the strict one.

/** The event types the engine knows, in the GA4 vocabulary. */
export const EVENT_TYPES = Object.freeze([
  'page_view', 'view_item_list', 'select_item', 'view_item', 'search', 'add_to_wishlist',
  'add_to_cart', 'remove_from_cart', 'view_cart', 'begin_checkout', 'add_payment_info', 'purchase',
]);
const GA4 = new Set(EVENT_TYPES);

const id = (v) => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);
const number = (v) => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
};
const first = (list) => (Array.isArray(list) && list.length > 0 && list[0] && typeof list[0] === 'object' ? list[0] : undefined);
const sumQuantity = (list, get) => {
  if (!Array.isArray(list)) return undefined;
  let total = 0;
  let seen = false;
  for (const x of list) {
    const q = x && typeof x === 'object' ? number(get(x)) : undefined;
    if (q !== undefined) { total += q; seen = true; }
  }
  return seen ? Math.round(total) : undefined;
};

/** Drops undefined fields so the event is exactly what the mapper found. */
function event(type, ts, fields) {
  const out = { type, ts };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * A GA4 `items[]` list → item, category, price, quantity.
 * The first item names the event (item, category, price); quantities of all items are summed.
 */
function fromGa4Items(items, listName) {
  const it = first(items);
  return {
    item: it ? id(it.item_id) ?? id(it.item_name) : undefined,
    category: (it ? id(it.item_category) : undefined) ?? id(listName),
    price: it ? number(it.price) : undefined,
    quantity: sumQuantity(items, (x) => x.quantity),
  };
}

function isArguments(x) {
  return Object.prototype.toString.call(x) === '[object Arguments]';
}

/**
 * One `dataLayer` entry → an `IntentEvent`, or `null`.
 *
 * Understands `dataLayer.push({event: 'add_to_cart', ecommerce: {items: [...]}})` and the
 * `arguments` object that `gtag('event', 'add_to_cart', {items: [...]})` pushes.
 * @param {unknown} entry
 * @param {number} [ts] when it was pushed (ms since epoch); `Date.now()` if absent
 */
export function fromDataLayer(entry, ts = Date.now()) {
  if (!entry || typeof entry !== 'object') return null;
  if (isArguments(entry) || Array.isArray(entry)) {
    if (entry[0] !== 'event' || typeof entry[1] !== 'string' || !GA4.has(entry[1])) return null;
    const params = entry[2] && typeof entry[2] === 'object' ? entry[2] : {};
    return event(entry[1], ts, fromGa4Items(params.items, params.item_list_name ?? params.item_list_id));
  }
  const name = entry.event;
  if (typeof name !== 'string' || !GA4.has(name)) return null;
  const ecommerce = entry.ecommerce && typeof entry.ecommerce === 'object' ? entry.ecommerce : {};
  return event(name, ts, fromGa4Items(ecommerce.items, ecommerce.item_list_name ?? ecommerce.item_list_id));
}

/** Shopify Web Pixels standard event names → GA4 types. */
const SHOPIFY = {
  page_viewed: 'page_view',
  collection_viewed: 'view_item_list',
  search_submitted: 'search',
  product_viewed: 'view_item',
  product_added_to_cart: 'add_to_cart',
  product_removed_from_cart: 'remove_from_cart',
  cart_viewed: 'view_cart',
  checkout_started: 'begin_checkout',
  payment_info_submitted: 'add_payment_info',
  checkout_completed: 'purchase',
};

/** A Shopify `ProductVariant` → item, category, price. */
function fromVariant(v) {
  if (!v || typeof v !== 'object') return {};
  const product = v.product && typeof v.product === 'object' ? v.product : {};
  return {
    item: id(product.id) ?? id(v.id) ?? id(v.sku),
    category: id(product.type) || undefined,
    price: number(v.price && typeof v.price === 'object' ? v.price.amount : v.price),
  };
}

/**
 * A Shopify Web Pixels standard event (`analytics.subscribe(name, (event) => ...)`) → an
 * `IntentEvent`, or `null` for an event that is not a shopping event.
 * @param {{name: string, timestamp?: string, data?: object}} pixelEvent
 */
export function fromShopifyPixel(pixelEvent) {
  if (!pixelEvent || typeof pixelEvent !== 'object') return null;
  const type = SHOPIFY[pixelEvent.name];
  if (!type) return null;
  const parsed = typeof pixelEvent.timestamp === 'string' ? Date.parse(pixelEvent.timestamp) : NaN;
  const ts = Number.isFinite(parsed) ? parsed : Date.now();
  const data = pixelEvent.data && typeof pixelEvent.data === 'object' ? pixelEvent.data : {};
  switch (pixelEvent.name) {
    case 'product_viewed':
      return event(type, ts, fromVariant(data.productVariant));
    case 'product_added_to_cart':
    case 'product_removed_from_cart': {
      const line = data.cartLine && typeof data.cartLine === 'object' ? data.cartLine : {};
      return event(type, ts, { ...fromVariant(line.merchandise), quantity: number(line.quantity) });
    }
    case 'collection_viewed': {
      const c = data.collection && typeof data.collection === 'object' ? data.collection : {};
      return event(type, ts, { category: id(c.id) ?? id(c.title) });
    }
    case 'cart_viewed': {
      const lines = data.cart && typeof data.cart === 'object' ? data.cart.lines : undefined;
      const line = first(lines);
      return event(type, ts, { ...fromVariant(line?.merchandise), quantity: sumQuantity(lines, (l) => l.quantity) });
    }
    case 'checkout_started':
    case 'payment_info_submitted':
    case 'checkout_completed': {
      const items = data.checkout && typeof data.checkout === 'object' ? data.checkout.lineItems : undefined;
      const line = first(items);
      return event(type, ts, { ...fromVariant(line?.variant), quantity: sumQuantity(items, (l) => l.quantity) });
    }
    default:
      return event(type, ts, {});
  }
}

/** Segment Ecommerce v2 event names → GA4 types. */
const SEGMENT = {
  'Products Searched': 'search',
  'Product List Viewed': 'view_item_list',
  'Product List Filtered': 'view_item_list',
  'Product Clicked': 'select_item',
  'Product Viewed': 'view_item',
  'Product Added to Wishlist': 'add_to_wishlist',
  'Product Added': 'add_to_cart',
  'Product Removed': 'remove_from_cart',
  'Cart Viewed': 'view_cart',
  'Checkout Started': 'begin_checkout',
  'Payment Info Entered': 'add_payment_info',
  'Order Completed': 'purchase',
};

/**
 * A Segment Ecommerce v2 call (`analytics.track(name, properties)`) → an `IntentEvent`, or
 * `null` for a name outside the ecommerce spec.
 * @param {string} name e.g. `'Product Added'`
 * @param {object} [properties] the call's properties (`product_id`, `category`, `price`,
 *   `quantity`, or `products[]` for list, cart and order events)
 * @param {number} [ts] ms since epoch; `Date.now()` if absent
 */
export function fromSegment(name, properties, ts = Date.now()) {
  const type = SEGMENT[name];
  if (!type) return null;
  const p = properties && typeof properties === 'object' ? properties : {};
  const product = p.product_id !== undefined || p.sku !== undefined ? p : first(p.products) ?? {};
  const quantity = p.product_id !== undefined || p.sku !== undefined
    ? number(p.quantity)
    : sumQuantity(p.products, (x) => x.quantity);
  return event(type, ts, {
    item: id(product.product_id) ?? id(product.sku),
    category: id(product.category) ?? (type === 'view_item_list' ? id(p.category) ?? id(p.list_id) : undefined),
    price: number(product.price),
    quantity,
  });
}

/**
 * Reads `window.dataLayer`: the entries already pushed, then every later push.
 *
 * `push` is wrapped, not replaced: the wrapper calls the push it found (GTM's, or the array's
 * own) with the same arguments and returns its return value, then hands the entries to
 * `onEvent`. A mapper or `onEvent` that throws cannot break the push.
 * @returns {() => void} detaches; restores the original push if no one wrapped it since
 */
export function attachDataLayer(win, onEvent, report) {
  const layer = (win.dataLayer = win.dataLayer || []);
  if (!Array.isArray(layer) && typeof layer.push !== 'function') return () => {};
  const seen = (entry) => {
    try {
      const ev = fromDataLayer(entry);
      if (ev) onEvent(ev);
    } catch (e) {
      report(e);
    }
  };
  for (let i = 0; i < layer.length; i++) seen(layer[i]);
  const original = layer.push;
  let attached = true;
  const wrapped = function push(...entries) {
    const result = original.apply(this, entries);
    if (attached) for (const entry of entries) seen(entry);
    return result;
  };
  layer.push = wrapped;
  return () => {
    attached = false;
    if (layer.push === wrapped) layer.push = original;
  };
}
