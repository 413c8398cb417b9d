// Reading the objects a page hands the widget: events, dataLayer entries, a pixel's or Segment's
// payloads, options.
//
// A page may have written to the built-in prototypes: a library that merges untrusted JSON into
// a plain object (`{"__proto__": {"event": "purchase"}}`) sets a field on Object.prototype that
// every object then seems to have; an old library (Prototype.js) replaces Array methods with its
// own. A field read here never comes from a realm's Object.prototype, and a sum calls no method of
// the array.

const { hasOwn, getPrototypeOf } = Object;

/** The longest prototype chain `field` walks; classes of real pages are a few levels deep. */
const MAX_CHAIN = 256;

/**
 * `o[name]`, but `undefined` where the field is found on Object.prototype (of this page or of
 * another frame's: the end of the chain) and not before it; `undefined` when `o` is not an object.
 * A getter runs, and a Proxy's traps are asked (a `get` trap alone answers), as a plain read
 * would: either may throw, and callers catch; so does a chain longer than MAX_CHAIN. An object whose chain ends in a prototype of its
 * own without one (`Object.create(Object.create(null))`) is read as if that were Object.prototype.
 */
export function field(o, name) {
  if (o === null || (typeof o !== 'object' && typeof o !== 'function')) return undefined;
  let depth = 0;
  for (let p = o; p !== null; p = getPrototypeOf(p)) {
    // A Proxy's getPrototypeOf may answer itself, or a new Proxy each time: a chain without end.
    if (++depth > MAX_CHAIN) throw new TypeError(`an object whose prototype chain is longer than ${MAX_CHAIN} (a Proxy that answers itself?)`);
    const end = p !== o && getPrototypeOf(p) === null;
    if (hasOwn(p, name)) return end ? undefined : o[name];
    if (end) break;
  }
  return o[name];
}

/** The sum of a list of numbers, without `Array.prototype.reduce` (a page may have replaced it). */
export function sum(list) {
  let total = 0;
  for (let i = 0; i < list.length; i++) total += list[i];
  return total;
}

/**
 * `JSON.parse(text)`, its objects without a prototype: a field the text does not hold reads as
 * `undefined`, whatever the page wrote to Object.prototype (a saved state's `forgotten`, say,
 * which would make every state a forget() mark). Arrays stay arrays.
 */
export function parseOwn(text) {
  return JSON.parse(text, (key, value) => (value !== null && typeof value === 'object' && !Array.isArray(value)
    ? record(value) : value));
}

/**
 * `fields` (an object, or undefined for none) as an object without a prototype: for the package's
 * own records that callers tell apart by the fields they lack (a saved state has no `forgotten`,
 * the mark of a forget has), and for options destructured with defaults (`{ withdrawn = false }`
 * from a plain `{}` would take the page's `Object.prototype.withdrawn`), so that a field the page
 * put on Object.prototype cannot stand in for one left out.
 */
export const record = (fields) => Object.assign(Object.create(null), fields);

/** A prototype-less map of `entries` (`[key, value]` pairs), for keys the page or a saved state names. */
export const keyMap = (entries = []) => record(Object.fromEntries(entries));

/** Whether `v` is a promise or another thenable (reading `then` may throw: the caller catches). */
export const isThenable = (v) => v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function';
