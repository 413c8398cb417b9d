// Turning a shop's existing analytics calls into events: GA4/GTM `dataLayer` (object pushes and
// gtag() `arguments`), Shopify Web Pixels standard events, Segment Ecommerce v2 calls.
//
// The mappers read the shape of each source's payload (items, product variants, properties) and
// keep the source's own event name as `type`: the engine's one name table (crate/core's
// mapping.rs) says which GA4 kind it means, and a name no table knows is the shop's own event
// type, which a model trained on it reads and any other model ignores. Mappers return `null` only
// for calls that are not events (GTM's own `gtm.*` events, `config`/`consent`/`set` calls).
// They are lenient about values: a value that cannot be read (a price that is not a number), or
// that the engine would refuse (a price above its limit), is dropped and the event kept, since
// the engine refuses an event with one bad value whole. `track()` and the engine are the strict
// ones.

import { errorName } from './log.js';
import { field } from './fields.js';

/**
 * The GA4 ecommerce event types, in the engine's column order (checked against the engine's
 * table by a test). A shop may send any other well-formed type as well.
 */
export const EVENT_TYPES = Object.freeze([
  'page_view', 'view_item_list', 'select_item', 'view_item', 'search', 'add_to_wishlist',
  'add_to_cart', 'remove_from_cart', 'view_cart', 'begin_checkout', 'add_payment_info', 'purchase',
]);

/**
 * An event name worth handing to the engine: a string that is not one of GTM's own, nor one of
 * the widget's own pushes (`dataLayerPush`), which must never come back to it as events.
 */
const isEventName = (name) => typeof name === 'string' && name !== '' && !name.startsWith('gtm.') && !name.startsWith('shopper_intent_');

/** Most `items[]` entries read from one event, and most earlier `dataLayer` entries read at start. */
const MAX_ITEMS = 200;
const MAX_EARLIER_ENTRIES = 1000;
/** The entries whose events a loading widget queued that are remembered (its queue's bound, 256). */
const MAX_QUEUED_ENTRIES = 256;

/**
 * The engine's limits on values (crate/core/src/event.rs: `MAX_ID_BYTES`, `MAX_PRICE`,
 * `MAX_QUANTITY`; a browser test checks that a value at each limit is scored and one beyond it
 * refused). Beyond them, the engine refuses the whole event.
 */
const MAX_ID_BYTES = 256;
const MAX_PRICE = 1e9;
const MAX_QUANTITY = 1_000_000;

let utf8 = null;
/** Whether the id `s` (non-empty) is at most `MAX_ID_BYTES` bytes in UTF-8, as the engine counts. */
function fitsId(s) {
  if (s.length > MAX_ID_BYTES) return false; // a UTF-16 unit is at least one byte
  if (s.length * 3 <= MAX_ID_BYTES) return true; // and at most three
  utf8 ??= new TextEncoder();
  return utf8.encode(s).length <= MAX_ID_BYTES;
}

const id = (v) => {
  const s = typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : '';
  return s !== '' && fitsId(s) ? s : undefined;
};
const number = (v) => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
};
const price = (v) => {
  const n = number(v);
  return n !== undefined && n <= MAX_PRICE ? n : undefined;
};
/** A quantity, rounded to a whole number as the engine takes it, within `MAX_QUANTITY`. */
const whole = (n) => {
  const q = Math.round(n);
  return q <= MAX_QUANTITY ? q : undefined;
};
const quantity = (v) => {
  const n = number(v);
  return n === undefined ? undefined : whole(n);
};
const first = (list) => (Array.isArray(list) && list.length > 0 && list[0] && typeof list[0] === 'object' ? list[0] : undefined);
const sumQuantity = (list, get) => {
  if (!Array.isArray(list)) return undefined;
  let total = 0;
  let seen = false;
  for (let i = 0; i < Math.min(list.length, MAX_ITEMS); i++) {
    const x = list[i];
    const q = x && typeof x === 'object' ? number(get(x)) : undefined;
    if (q !== undefined) { total += q; seen = true; }
  }
  return seen ? whole(total) : undefined;
};

/**
 * Drops undefined fields so the event is exactly what the mapper found. Defined, not assigned: a
 * read-only field a page put on Object.prototype would refuse an assignment.
 */
function event(type, ts, fields) {
  return Object.fromEntries([['type', type], ['ts', ts], ...Object.entries(fields).filter(([, v]) => v !== undefined)]);
}

/**
 * A GA4 `items[]` list → item, category, price, quantity.
 * The first item names the event (item, category, price); quantities of all items are summed.
 * The category is the item's, else the name, then the id, of the list it was shown in (the
 * item's, else the event's `list`). The CLI reads GA4's BigQuery export the same way
 * (crate/cli/src/logs.rs; the cases both are held to: crate/cli/tests/fixtures/ga4-parity.json).
 */
function fromGa4Items(items, list) {
  const it = first(items);
  return {
    item: id(field(it, 'item_id')) ?? id(field(it, 'item_name')),
    category: id(field(it, 'item_category')) ?? id(field(it, 'item_list_name')) ?? id(field(list, 'item_list_name'))
      ?? id(field(it, 'item_list_id')) ?? id(field(list, 'item_list_id')),
    price: price(field(it, 'price')),
    quantity: sumQuantity(items, (x) => field(x, 'quantity')),
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
    const name = entry[1]; // read once: a getter may answer differently the second time
    if (entry[0] !== 'event' || !isEventName(name)) return null;
    const given = field(entry, 2);
    const params = given && typeof given === 'object' ? given : {};
    return event(name, ts, fromGa4Items(field(params, 'items'), params));
  }
  const name = field(entry, 'event');
  if (!isEventName(name)) return null;
  const given = field(entry, 'ecommerce');
  const ecommerce = given && typeof given === 'object' ? given : {};
  return event(name, ts, fromGa4Items(field(ecommerce, 'items'), ecommerce));
}

/** A Shopify `ProductVariant` → item, category, price. */
function fromVariant(v) {
  if (!v || typeof v !== 'object') return {};
  const product = field(v, 'product');
  const cost = field(v, 'price');
  return {
    item: id(field(product, 'id')) ?? id(field(v, 'id')) ?? id(field(v, 'sku')),
    category: id(field(product, 'type')) || undefined,
    price: price(cost && typeof cost === 'object' ? field(cost, 'amount') : cost),
  };
}

/**
 * A Shopify Web Pixels event (`analytics.subscribe(name, (event) => ...)`) → an `IntentEvent`
 * with the pixel's name as `type` (`product_viewed` means `view_item` to the engine), or `null`
 * when it has no name.
 * @param {{name: string, timestamp?: string, data?: object}} pixelEvent
 */
export function fromShopifyPixel(pixelEvent) {
  if (!pixelEvent || typeof pixelEvent !== 'object') return null;
  const type = field(pixelEvent, 'name');
  if (!isEventName(type)) return null;
  // Only a time that names its zone (Shopify sends UTC, `Z`): one without would be read in the
  // shopper's zone, hours off in most of the world.
  const timestamp = field(pixelEvent, 'timestamp');
  const stamp = typeof timestamp === 'string' ? timestamp.trim() : '';
  const parsed = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i.test(stamp) && /^\d{4}-\d{2}-\d{2}T/.test(stamp) ? Date.parse(stamp) : NaN;
  const ts = Number.isFinite(parsed) ? parsed : Date.now();
  const data = field(pixelEvent, 'data');
  switch (type) {
    case 'product_viewed':
      return event(type, ts, fromVariant(field(data, 'productVariant')));
    case 'product_added_to_cart':
    case 'product_removed_from_cart': {
      const line = field(data, 'cartLine');
      return event(type, ts, { ...fromVariant(field(line, 'merchandise')), quantity: quantity(field(line, 'quantity')) });
    }
    case 'collection_viewed': {
      const c = field(data, 'collection');
      return event(type, ts, { category: id(field(c, 'id')) ?? id(field(c, 'title')) });
    }
    case 'cart_viewed': {
      const lines = field(field(data, 'cart'), 'lines');
      return event(type, ts, { ...fromVariant(field(first(lines), 'merchandise')), quantity: sumQuantity(lines, (l) => field(l, 'quantity')) });
    }
    case 'checkout_started':
    case 'payment_info_submitted':
    case 'checkout_completed': {
      const items = field(field(data, 'checkout'), 'lineItems');
      return event(type, ts, { ...fromVariant(field(first(items), 'variant')), quantity: sumQuantity(items, (l) => field(l, 'quantity')) });
    }
    default:
      return event(type, ts, {});
  }
}

/** Segment calls whose `category`/`list_id` names a list rather than a product's category. */
const SEGMENT_LISTS = new Set(['Product List Viewed', 'Product List Filtered']);

/**
 * A Segment call (`analytics.track(name, properties)`) → an `IntentEvent` with the call's name as
 * `type` (`'Product Added'` means `add_to_cart` to the engine), or `null` without a name.
 * @param {string} name e.g. `'Product Added'`
 * @param {object} [properties] the call's properties (`product_id`, `category`, `price`,
 *   `quantity`, or `products[]` for list, cart and order events)
 * @param {number} [ts] ms since epoch; `Date.now()` if absent
 */
export function fromSegment(name, properties, ts = Date.now()) {
  if (!isEventName(name)) return null;
  const type = name;
  const p = properties && typeof properties === 'object' ? properties : {};
  const one = field(p, 'product_id') !== undefined || field(p, 'sku') !== undefined;
  const products = field(p, 'products');
  const product = one ? p : first(products);
  return event(type, ts, {
    item: id(field(product, 'product_id')) ?? id(field(product, 'sku')),
    category: id(field(product, 'category')) ?? (SEGMENT_LISTS.has(name) ? id(field(p, 'category')) ?? id(field(p, 'list_id')) : undefined),
    price: price(field(product, 'price')),
    quantity: one ? quantity(field(p, 'quantity')) : sumQuantity(products, (x) => field(x, 'quantity')),
  });
}

/**
 * A `Type` (Set, WeakSet...) shared by every copy of the package on the page, kept on `win`
 * under `Symbol.for(name)`; a fresh one, for this caller alone, where `win` refuses it.
 */
export function pageShared(win, name, Type) {
  const key = Symbol.for(name);
  try {
    if (!(win[key] instanceof Type)) Object.defineProperty(win, key, { value: new Type(), configurable: true });
    return win[key];
  } catch {
    return new Type();
  }
}

/**
 * Thrown by `attachDataLayer` when `push` cannot be wrapped (a frozen layer), after the entries
 * already pushed were read: `read` of them were events, tracked.
 */
export class DataLayerLocked extends Error {
  read;

  constructor(cause, read) {
    super(`its push cannot be wrapped (${errorName(cause)})`);
    this.name = 'DataLayerLocked';
    this.read = read;
  }
}

/**
 * Reads `window.dataLayer`: the entries already pushed, except those a widget of this page read
 * before (created again, it would track them twice), then every later push.
 *
 * `push` is wrapped, not replaced: the wrapper calls the push it found (GTM's, or the array's
 * own) with the same arguments and returns its return value, then hands the entries to
 * `onEvent`. A mapper or `onEvent` that throws cannot break the push.
 *
 * `onEvent` returns a token for an event it only queued (the widget still loading); when the
 * widget is destroyed before it scored that event, `detach(dropped)` with `dropped(token)` true
 * gives the entry back, so the next widget of the page reads it (a single-page app that mounts
 * the widget twice in a row, as React's StrictMode does, loses nothing).
 * A layer that does not give back the wrapper just set (a Proxy or a setter that drops or swaps
 * the assignment) calls `unkept()`: its later pushes may not reach the widget.
 * @returns {(dropped?: (token: unknown) => boolean) => void} detaches; restores the original
 *   push if no one wrapped it since
 */
export function attachDataLayer(win, onEvent, report, unkept = () => {}) {
  const layer = (win.dataLayer = win.dataLayer || []);
  if (!Array.isArray(layer) && typeof layer.push !== 'function') return () => {};
  // The entries some widget of this page has already read, whichever copy of the package made
  // it: a widget created again on the page (a single-page app remounting it) skips them.
  const read = pageShared(win, 'shopper-intent.dataLayer-read', WeakSet);
  // The entries whose events onEvent only queued, with its tokens (the newest: the widget's
  // queue keeps no more).
  const queued = [];
  // Whether the entry was an event handed to onEvent.
  const seen = (entry, earlier) => {
    try {
      const object = entry !== null && typeof entry === 'object';
      if (object) {
        if (earlier && read.has(entry)) return false;
        read.add(entry);
      }
      const ev = fromDataLayer(entry);
      if (!ev) return false;
      const token = onEvent(ev);
      if (object && token !== null && token !== undefined) {
        if (queued.length >= MAX_QUEUED_ENTRIES) queued.shift();
        queued.push([entry, token]);
      }
      return true;
    } catch (e) {
      report(e);
      return false;
    }
  };
  // The entries pushed before the widget started (the newest ones only: the queue keeps no more).
  const length = Array.isArray(layer) ? layer.length : 0;
  let tracked = 0;
  for (let i = Math.max(0, length - MAX_EARLIER_ENTRIES); i < length; i++) tracked += seen(layer[i], true) ? 1 : 0;
  const original = layer.push;
  // The layer's own `push` (GTM's), or none (the array's, inherited).
  const own = Object.getOwnPropertyDescriptor(layer, 'push');
  let attached = true;
  const wrapped = function push(...entries) {
    const result = original.apply(this, entries);
    // An index loop: a page may have broken the array iterator, and this runs inside its push.
    if (attached) for (let i = 0; i < entries.length; i++) seen(entries[i], false);
    return result;
  };
  try {
    layer.push = wrapped;
  } catch {
    // A page that froze Array.prototype (a hardened page, SES's lockdown): assigning an own
    // `push` over the frozen inherited one throws, defining it does not, and the page's later
    // `dataLayer.push = ...` (GTM loading after the widget) then works too.
    try {
      Object.defineProperty(layer, 'push', { value: wrapped, writable: true, configurable: true, enumerable: false });
    } catch (e) {
      // A frozen dataLayer: the entries it held were read above; later pushes cannot be watched.
      throw new DataLayerLocked(e, tracked);
    }
  }
  let kept = false;
  try {
    kept = layer.push === wrapped;
  } catch {
    // A getter that throws: as unkept.
  }
  if (!kept) unkept();
  return (dropped) => {
    attached = false;
    if (typeof dropped === 'function') {
      for (const [entry, token] of queued) {
        try {
          if (dropped(token)) read.delete(entry);
        } catch (e) {
          report(e);
        }
      }
    }
    queued.length = 0;
    try {
      if (layer.push !== wrapped) return;
      if (own) layer.push = original;
      else delete layer.push;
    } catch {
      // A layer whose push cannot be read or set back (a Proxy that throws): the wrapper stays,
      // detached, and passes pushes through.
    }
  };
}
