// A snippet a shop copies: show an offer banner to high-intent shoppers in the treatment group
// of an on-device experiment, and log exposure and conversion.
//
//   import { ShopperIntent } from '/shopper-intent.js';
//   import { highIntentOffer } from '/snippets/high-intent-offer.js';
//   const intent = ShopperIntent.create({ model: '/models/intent.bin', storage: 'local', dataLayerPush: true });
//   highIntentOffer(intent, { banner: document.getElementById('offer') });
//
// Sessions enter the experiment the first time they reach the `high` segment before their
// purchase (and stay in for the rest of the session; a session that begins high enters at its
// first event). Keep the state with `storage: 'local'`, so a shopper keeps one arm across tabs
// and visits. At that moment every arm is exposed: treatment sees the banner,
// control and the holdout see the page as it is. A purchase later in the session is a
// conversion of every experiment the session was exposed to. With `dataLayerPush: true` both
// are pushed to `dataLayer` (experiment, variant, segment: never the events); the `log` option
// receives them too.
//
// The banner appears after the page has loaded (when the widget is ready, or later when the
// segment changes): place it over the page (`position: fixed`, as the demo shop does) or reserve
// its space, or an in-flow banner pushes the page down, a layout shift on every page of a
// treatment session. It is marked as a status message (`role="status"`, unless the banner has a
// role of its own), which screen readers may announce when it appears (not all do for content
// shown at once rather than changed).

export const OFFER_EXPERIMENT = 'high-intent-offer';

/** A console message that cannot throw into the page (a page's console may be replaced, or gone). */
function say(level, ...args) {
  try {
    globalThis.console?.[level]?.(...args);
  } catch {
    // The page's console refused; nothing else to do.
  }
}

/**
 * Wires the offer experiment to `intent` and `banner` (an element, hidden by default).
 * Returns a function that detaches it.
 */
export function highIntentOffer(intent, { banner, key = OFFER_EXPERIMENT, holdout = 0.1, log = () => {} } = {}) {
  // A template without the banner: no experiment at all (its treatment would be counted as shown).
  if (banner === null || typeof banner !== 'object' || !('hidden' in banner)) {
    say('warn', `[shopper-intent] highIntentOffer: the banner is not an element (${banner === null ? 'null' : typeof banner}); the ${key} experiment is not run on this page`);
    return () => {};
  }
  if (typeof banner.hasAttribute === 'function' && !banner.hasAttribute('role')) banner.setAttribute('role', 'status');
  const definition = {
    key,
    variants: ['control', 'treatment'],
    weights: [0.5, 0.5],
    holdout,
    eligible: ({ segment }) => segment === 'high',
  };
  const show = () => {
    const variant = intent.experiment(definition);
    // Not entered (not high yet in this session, a new session, or after forget()): no banner.
    // Entered: the banner stays for the rest of the session, whatever the segment does.
    banner.hidden = variant !== 'treatment';
    if (variant === null) return;
    intent.expose(key); // once per session; control and holdout are exposed to "no banner"
  };
  const offs = [
    intent.on('segment', show),
    intent.on('exposure', (d) => { if (d.experiment === key) log('exposure', d); }),
    intent.on('conversion', (d) => { if (d.experiment === key) log('conversion', d); }),
  ];
  // A session restored as high shows the banner at once. Caught: this runs outside the widget,
  // which contains what its hooks throw.
  intent.ready.then(show).catch((e) => say('error', `[shopper-intent] highIntentOffer: showing the ${key} banner failed`, e));
  return () => offs.forEach((off) => off());
}
