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

export const OFFER_EXPERIMENT = 'high-intent-offer';

/**
 * Wires the offer experiment to `intent` and `banner` (an element, hidden by default).
 * Returns a function that detaches it.
 */
export function highIntentOffer(intent, { banner, key = OFFER_EXPERIMENT, holdout = 0.1, log = () => {} }) {
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
  intent.ready.then(show); // a session restored as high shows the banner at once
  return () => offs.forEach((off) => off());
}
