// Fernhill Supply: a storefront wired like a GA4 shop. Its pages push the usual GA4 ecommerce
// events to `window.dataLayer`; shopper-intent reads them (autoCapture) and scores the session
// on the device. The offer banner is an on-device experiment (web/snippets/high-intent-offer.js):
// high-intent shoppers in its treatment group see it.

import { ShopperIntent } from '/shopper-intent.js';
import { highIntentOffer, OFFER_EXPERIMENT } from '/snippets/high-intent-offer.js';
import { PRODUCTS, bySlug, byId, readCart, addToCart, removeFromCart, writeCart, ga4Item, productArt } from '/catalog.js';
import { mountPanel } from '/panel.js';

const dataLayer = (window.dataLayer = window.dataLayer || []);
const $ = (id) => document.getElementById(id);

/** Pushes one GA4 ecommerce event, clearing the previous ecommerce object first as GA4 asks. */
function push(event, ecommerce) {
  dataLayer.push({ ecommerce: null });
  dataLayer.push({ event, ecommerce });
}

const intent = ShopperIntent.create({
  model: '/models/intent.bin',
  manifest: '/models/intent.json',
  wasm: '/pkg/shopper_intent_wasm_bg.wasm',
  storage: 'local',
  autoCapture: true,
  dataLayerPush: true,
});
window.shopperIntent = intent; // For the console and the browser tests.

// The offer experiment; its exposures and conversions also show in the panel.
const offer = $('offer');
const experimentLog = [];
highIntentOffer(intent, { banner: offer, close: $('offer-close'), log: (what, d) => experimentLog.push({ what, ...d }) });
// The banner's height, which text spacing and zoom change, is the page's scroll padding and room
// at the end (style.css): what the shopper tabs to never stays under it.
if (typeof ResizeObserver === 'function') {
  new ResizeObserver(() => {
    if (offer.offsetHeight > 0) document.documentElement.style.setProperty('--offer-height', `${offer.offsetHeight}px`);
  }).observe(offer);
}
// The holdout sees no personalisation, not even the CSS badge (style.css): its arm on <html>.
const markArm = () => {
  document.documentElement.dataset.offerArm = intent.assignments()[OFFER_EXPERIMENT] ?? 'none';
};
intent.on('segment', markArm);
intent.ready.then(markArm);

mountPanel(intent, experimentLog);

function updateCartCount() {
  $('cart-count').textContent = String(readCart().reduce((n, l) => n + l.quantity, 0));
}

function card(p) {
  const li = document.createElement('li');
  const a = document.createElement('a');
  a.className = 'card';
  a.href = `/product.html#${p.slug}`;
  a.dataset.item = p.id;
  a.append(productArt(p));
  const name = document.createElement('div');
  name.className = 'name';
  name.textContent = p.name;
  const meta = document.createElement('div');
  meta.className = 'meta';
  const cat = document.createElement('span');
  cat.textContent = p.category;
  const price = document.createElement('span');
  price.textContent = `$${p.price}`;
  meta.append(cat, price);
  a.append(name, meta);
  a.addEventListener('click', () => {
    push('select_item', { item_list_name: 'new this season', items: [ga4Item(p)] });
  });
  li.append(a);
  return li;
}

function listPage() {
  $('grid').replaceChildren(...PRODUCTS.map(card));
  push('view_item_list', { item_list_name: 'new this season', items: PRODUCTS.map((p) => ga4Item(p)) });
}

function productPage() {
  const render = () => {
    const p = bySlug(location.hash.slice(1)) ?? PRODUCTS[0];
    document.title = `${p.name} · Fernhill Supply`;
    const art = document.createElement('div');
    art.append(productArt(p));
    const info = document.createElement('div');
    info.innerHTML = `
      <p class="muted"></p>
      <h1></h1>
      <p></p>
      <div class="price"></div>
      <div class="actions">
        <label>Qty <input class="qty" id="qty" type="number" min="1" max="9" value="1"></label>
        <button type="button" id="add-to-cart">Add to cart</button>
        <button type="button" id="add-to-wishlist" class="secondary">♡ Wishlist</button>
        <span class="badge high-only">Ships free today</span>
        <span class="flash" id="flash" role="status"></span>
      </div>`;
    info.querySelector('.muted').textContent = p.category;
    info.querySelector('h1').textContent = p.name;
    info.querySelector('p:not(.muted)').textContent = p.blurb;
    info.querySelector('.price').textContent = `$${p.price}`;
    $('product').replaceChildren(art, info);
    $('product').dataset.item = p.id;
    $('also').replaceChildren(...PRODUCTS.filter((q) => q !== p && q.category === p.category).concat(PRODUCTS.filter((q) => q.category !== p.category).slice(0, 2)).map(card));
    $('add-to-cart').addEventListener('click', () => {
      const quantity = Math.max(1, Math.min(9, Number($('qty').value) || 1));
      addToCart(p.id, quantity);
      updateCartCount();
      push('add_to_cart', { currency: 'USD', value: p.price * quantity, items: [ga4Item(p, quantity)] });
      $('flash').textContent = 'Added to cart';
    });
    $('add-to-wishlist').addEventListener('click', () => {
      push('add_to_wishlist', { currency: 'USD', value: p.price, items: [ga4Item(p)] });
      $('flash').textContent = 'Saved to your wishlist';
    });
    push('view_item', { currency: 'USD', value: p.price, items: [ga4Item(p)] });
    scrollTo(0, 0);
  };
  addEventListener('hashchange', render);
  render();
}

function cartPage() {
  const render = (announce) => {
    const lines = readCart();
    const box = $('cart');
    if (lines.length === 0) {
      box.innerHTML = '<p class="muted">Your cart is empty. <a href="/index.html">Keep shopping</a>.</p>';
    } else {
      const ul = document.createElement('ul');
      ul.className = 'cart-lines';
      let total = 0;
      for (const l of lines) {
        const p = byId(l.id);
        total += p.price * l.quantity;
        const li = document.createElement('li');
        li.className = 'cart-line';
        li.dataset.item = p.id;
        const name = document.createElement('div');
        name.textContent = `${p.name} × ${l.quantity}`;
        const price = document.createElement('div');
        price.textContent = `$${p.price * l.quantity}`;
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.className = 'secondary remove';
        remove.textContent = 'Remove';
        remove.setAttribute('aria-label', `Remove ${p.name}`);
        remove.addEventListener('click', () => {
          removeFromCart(p.id);
          updateCartCount();
          push('remove_from_cart', { currency: 'USD', value: p.price * l.quantity, items: [ga4Item(p, l.quantity)] });
          render(false);
        });
        li.append(productArt(p), name, price, remove);
        ul.append(li);
      }
      const sum = document.createElement('div');
      sum.className = 'cart-total';
      sum.textContent = `Total $${total}`;
      const checkout = document.createElement('button');
      checkout.type = 'button';
      checkout.id = 'checkout';
      checkout.textContent = 'Checkout';
      checkout.addEventListener('click', () => {
        push('begin_checkout', { currency: 'USD', value: total, items: lines.map((x) => ga4Item(byId(x.id), x.quantity)) });
        location.href = '/checkout.html';
      });
      box.replaceChildren(ul, sum, checkout);
    }
    if (announce) push('view_cart', { currency: 'USD', items: lines.map((x) => ga4Item(byId(x.id), x.quantity)) });
  };
  render(true);
  return () => render(false);
}

function checkoutPage() {
  const lines = readCart();
  const box = $('checkout');
  if (lines.length === 0) {
    box.innerHTML = '<p class="muted">Your cart is empty. <a href="/index.html">Keep shopping</a>.</p>';
    return;
  }
  const items = lines.map((x) => ga4Item(byId(x.id), x.quantity));
  const total = lines.reduce((n, x) => n + byId(x.id).price * x.quantity, 0);
  box.innerHTML = `
    <form class="form step" id="payment-step">
      <label>Name on card <input id="card-name" autocomplete="off" value="Sam Shopper"></label>
      <label>Card number <input id="card-number" autocomplete="off" value="4242 4242 4242 4242"></label>
      <button type="submit" id="add-payment">Continue</button>
    </form>
    <form class="form step" id="review-step" hidden>
      <p class="order-total"></p>
      <button type="submit" id="place-order">Place order</button>
    </form>
    <div class="confirmation step" id="confirmation" hidden>
      <h2 tabindex="-1">Thank you!</h2>
      <p>Your order is placed. This is a demo: nothing was charged or sent anywhere.</p>
      <a class="button secondary" href="/index.html">Back to the shop</a>
    </div>`;
  box.querySelector('.order-total').textContent = `${lines.length} item(s), total $${total}`;
  $('payment-step').addEventListener('submit', (e) => {
    e.preventDefault();
    push('add_payment_info', { currency: 'USD', value: total, payment_type: 'card', items });
    $('payment-step').hidden = true;
    $('review-step').hidden = false;
    $('place-order').focus(); // the focused button was hidden: the next step's takes its place
  });
  $('review-step').addEventListener('submit', (e) => {
    e.preventDefault();
    push('purchase', { transaction_id: `demo-${Date.now()}`, currency: 'USD', value: total, items });
    writeCart([]);
    updateCartCount();
    $('review-step').hidden = true;
    $('confirmation').hidden = false;
    $('confirmation').querySelector('h2').focus();
  });
}

updateCartCount();
const pages = { list: listPage, product: productPage, cart: cartPage, checkout: checkoutPage };
const refresh = pages[document.body.dataset.page]?.();
// Back or forward to a page kept in the back/forward cache: the cart may have changed since
// (another page, another tab); the count and the cart's list are drawn again, nothing is pushed.
addEventListener('pageshow', (e) => {
  if (!e.persisted) return;
  updateCartCount();
  if (typeof refresh === 'function') refresh();
});
