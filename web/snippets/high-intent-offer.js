// A snippet a shop copies: show an offer banner to high-intent shoppers in the treatment group
// of an on-device experiment, and log exposure and conversion.
//
//   import { ShopperIntent } from '/shopper-intent.js';
//   import { highIntentOffer } from '/snippets/high-intent-offer.js';
//   const intent = ShopperIntent.create({ model: '/models/intent.bin', storage: 'local', dataLayerPush: true });
//   highIntentOffer(intent, { banner: document.getElementById('offer'), close: document.getElementById('offer-close') });
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
// treatment session. It is marked as a status message (`role="status"`), which screen readers
// may announce when it appears (not all do for content shown at once rather than changed);
// a banner with a role of its own keeps it, and one that is a landmark by its element (an
// `<aside>`, a `<section>`...) keeps that and is marked `aria-live="polite"` instead. Over the
// page, it may cover what the shopper tabs to: give the page `scroll-padding-bottom` (and the
// room to scroll its end out) of the banner's height, which text spacing and zoom change (the
// demo shop follows it with a ResizeObserver: web/demo/app.js).
//
// The shopper can dismiss it: a click on `close` (the banner's close button), or Escape while
// the focus is in the banner. It then stays hidden for the rest of the session, on every page
// of it (`intent.dismiss()` keeps that with the widget's state, as exposures are kept; the next
// session and a forget start without); the session stays in the experiment, its exposure and
// conversion counted as before. A dismissal from the keyboard (Escape, or the close button pressed
// with a key) gives the focus back to the element of the page it came into the banner from, when
// that is still there: a keyboard user is not dropped to the top of the page.
//
// The banner is hidden with its `hidden` attribute. A shop whose CSS gives it a `display` (say
// `.promo { display: flex }`) would show it to every arm; the snippet then hides it with an
// inline `display: none !important` as well, from the moment it is wired, and warns once: add
// `.promo[hidden] { display: none }`.

export const OFFER_EXPERIMENT = 'high-intent-offer';

/** Elements with an implicit role of their own (a landmark, a dialog, an article...), which role=status would replace. */
const LANDMARKS = new Set(['ASIDE', 'SECTION', 'NAV', 'MAIN', 'HEADER', 'FOOTER', 'FORM', 'ARTICLE', 'DIALOG']);

/** A console message that cannot throw into the page (a page's console may be replaced, or gone). */
function say(level, ...args) {
  try {
    globalThis.console?.[level]?.(...args);
  } catch {
    // The page's console refused; nothing else to do.
  }
}

/**
 * Wires the offer experiment to `intent` and `banner` (an element, hidden by default); `close`,
 * an element in it, dismisses it for the session. Returns a function that detaches it.
 */
export function highIntentOffer(intent, { banner, close, key = OFFER_EXPERIMENT, holdout = 0.1, log = () => {} } = {}) {
  // Run before the widget exists (window.shopperIntent still the snippet's early array): nothing
  // to wire, and nothing thrown into the page.
  if (intent === null || typeof intent !== 'object' || typeof intent.on !== 'function' || typeof intent.experiment !== 'function') {
    say('warn', `[shopper-intent] highIntentOffer: the first argument is not a widget (${Array.isArray(intent) ? 'an array: window.shopperIntent before snippet.js has run?' : intent === null ? 'null' : typeof intent}); the ${key} experiment is not run on this page`);
    return () => {};
  }
  // A template without the banner: no experiment at all (its treatment would be counted as shown).
  if (banner === null || typeof banner !== 'object' || !('hidden' in banner)) {
    say('warn', `[shopper-intent] highIntentOffer: the banner is not an element (${banner === null ? 'null' : typeof banner}); the ${key} experiment is not run on this page`);
    return () => {};
  }
  if (typeof banner.hasAttribute === 'function' && !banner.hasAttribute('role')) {
    // A landmark keeps its implicit role (role=status would take it from the page's landmarks).
    if (!LANDMARKS.has(String(banner.tagName).toUpperCase())) banner.setAttribute('role', 'status');
    else if (!banner.hasAttribute('aria-live')) {
      banner.setAttribute('aria-live', 'polite');
      banner.setAttribute('aria-atomic', 'true');
    }
  }
  const definition = {
    key,
    variants: ['control', 'treatment'],
    weights: [0.5, 0.5],
    holdout,
    eligible: ({ segment }) => segment === 'high',
  };
  // An inline display the snippet set over the page's CSS (the shop's own inline value and
  // priority before it, to put back), or null.
  let forced = null;
  let warned = false;
  const unforce = () => {
    if (!forced) return;
    banner.style.removeProperty('display');
    if (forced.value) banner.style.setProperty('display', forced.value, forced.priority);
    forced = null;
  };
  const setHidden = (hide) => {
    banner.hidden = hide;
    if (!hide) {
      unforce();
      return;
    }
    if (forced || typeof getComputedStyle !== 'function' || !banner.isConnected || !banner.style) return;
    if (getComputedStyle(banner).display === 'none') return;
    forced = { value: banner.style.getPropertyValue('display'), priority: banner.style.getPropertyPriority('display') };
    banner.style.setProperty('display', 'none', 'important');
    if (!warned) {
      warned = true;
      say('warn', `[shopper-intent] highIntentOffer: the page's CSS shows the ${key} banner although it is hidden (its display is not none); hidden with an inline style. Give the hidden banner display: none in the page's CSS (say .promo[hidden] { display: none })`);
    }
  };
  // A dismissal on this page, beside the widget's: it holds where the widget could not take it
  // (its stored state being read, a widget without dismiss()) until the session ends here.
  let dismissedHere = false;
  const dismissed = () => dismissedHere || (typeof intent.dismissed === 'function' && intent.dismissed(key) === true);
  const show = (change) => {
    if (change?.cause === 'forget') dismissedHere = false;
    const variant = intent.experiment(definition);
    // Not entered (not high yet in this session, a new session, after forget()), or not known
    // yet (the stored state being read): no banner.
    if (variant === null) {
      setHidden(true);
      return;
    }
    // Entered: every arm is exposed, once per session (control and holdout to "no banner"); a
    // session's first exposure is its first showing, so a dismissal on this page was an earlier
    // session's. The banner stays for the rest of the session, whatever the segment does,
    // unless the shopper dismissed it.
    if (intent.expose(key)) dismissedHere = false;
    setHidden(variant !== 'treatment' || dismissed());
  };
  // The element of the page the focus last came into the banner from (null: from outside the
  // page, or from nowhere in it).
  let cameFrom = null;
  const onFocusIn = (e) => {
    const from = e.relatedTarget;
    if (from && typeof banner.contains === 'function' && banner.contains(from)) return;
    cameFrom = from && typeof from.focus === 'function' ? from : null;
  };
  const focusInBanner = () => {
    if (typeof banner.contains !== 'function') return false;
    // The banner's own root: a banner in a shadow root sees its host as the document's focus.
    const root = typeof banner.getRootNode === 'function' ? banner.getRootNode() : banner.ownerDocument;
    const active = root?.activeElement;
    return active != null && banner.contains(active);
  };
  // `byKeyboard`: Escape, or the close button pressed with a key (a click of detail 0). A mouse
  // or a finger is where it is: moving the focus for it would scroll the page, or open a keyboard.
  const dismiss = (byKeyboard) => {
    dismissedHere = true;
    const giveBack = byKeyboard && focusInBanner();
    if (typeof intent.dismiss === 'function') intent.dismiss(key);
    setHidden(true);
    // Hidden, the banner drops the focus to the document: give it back to where it came from.
    if (giveBack && cameFrom?.isConnected) cameFrom.focus();
  };
  const onClose = (e) => dismiss(e?.detail === 0);
  const onKey = (e) => {
    // Not an Escape the banner's own controls took (a field that clears, a list that closes).
    if (e.key === 'Escape' && !e.defaultPrevented && !e.isComposing && !banner.hidden) dismiss(true);
  };
  const listen = typeof banner.addEventListener === 'function';
  const closer = close !== null && typeof close === 'object' && typeof close.addEventListener === 'function' ? close : null;
  if (close !== undefined && !closer) say('warn', `[shopper-intent] highIntentOffer: close is not an element; the ${key} banner is dismissed with Escape only`);
  if (listen) banner.addEventListener('keydown', onKey);
  if (listen) banner.addEventListener('focusin', onFocusIn);
  if (closer) closer.addEventListener('click', onClose);
  // Hidden from the start, not from when the widget is ready: a page whose CSS shows it would
  // show every arm the offer while the widget loads.
  if (banner.hidden) setHidden(true);
  const offs = [
    intent.on('segment', show),
    intent.on('exposure', (d) => { if (d.experiment === key) log('exposure', d); }),
    intent.on('conversion', (d) => { if (d.experiment === key) log('conversion', d); }),
  ];
  // A session restored as high shows the banner at once. Caught: this runs outside the widget,
  // which contains what its hooks throw.
  let attached = true;
  Promise.resolve(intent.ready)
    .then(() => { if (attached) show(null); })
    .catch((e) => say('error', `[shopper-intent] highIntentOffer: showing the ${key} banner failed`, e));
  // Detached: the banner hidden (nothing decides for it any more), by the inline style too
  // where the page's CSS would show it, whether it was shown or hidden then.
  return () => {
    attached = false;
    offs.forEach((off) => off());
    if (listen) banner.removeEventListener('keydown', onKey);
    if (listen) banner.removeEventListener('focusin', onFocusIn);
    if (closer) closer.removeEventListener('click', onClose);
    setHidden(true);
  };
}
