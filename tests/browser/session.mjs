// A scripted shopping session on the demo storefront, and the in-page recorder of what the
// widget did, shared by the demo and privacy tests.

import { widgetReady } from './helpers.mjs';

/** The demo's products (web/demo/catalog.js): the raw values that must never leave the page. */
export const RAW = {
  ids: ['sku-1001', 'sku-1002', 'sku-2001', 'sku-2002', 'sku-3001', 'sku-3002'],
  names: ['Trail Runner', 'City Sneaker', 'Rain Shell', 'Down Vest', 'Canvas Tote', 'Day Pack'],
  slugs: ['trail-runner', 'city-sneaker', 'rain-shell', 'down-vest', 'canvas-tote', 'day-pack'],
  categories: ['footwear', 'outerwear', 'bags'],
};

/** The demo's offer experiment (web/snippets/high-intent-offer.js). */
export const OFFER = 'high-intent-offer';

/**
 * Init script: records every hook call of `window.shopperIntent` (hooks registered as soon as
 * the page assigns it, so nothing is missed) and every `shopper-intent:segment` window event.
 * Runs in the page before its scripts.
 */
export function installRecorder() {
  const rec = { score: [], segment: [], windowEvents: [], exposure: [], conversion: [] };
  window.__rec = rec;
  let widget;
  Object.defineProperty(window, 'shopperIntent', {
    configurable: true,
    get: () => widget,
    set: (w) => {
      widget = w;
      if (w && typeof w.on === 'function') {
        w.on('score', (d) => rec.score.push({ score: d.score, segment: d.segment, type: d.type, update: { ...d.update } }));
        w.on('segment', (d) => rec.segment.push({ ...d }));
        w.on('exposure', (d) => rec.exposure.push({ ...d }));
        w.on('conversion', (d) => rec.conversion.push({ ...d }));
      }
    },
  });
  addEventListener('shopper-intent:segment', (e) => rec.windowEvents.push({ ...e.detail }));
}

async function settle(page) {
  await widgetReady(page);
  // Replayed events and hooks run right after ready; give them a task to finish.
  await page.evaluate(() => new Promise((r) => setTimeout(r, 50)));
}

/** Reads the recorder and the widget after the current page's events. */
export function snapshot(page) {
  return page.evaluate(() => ({
    rec: window.__rec,
    score: window.shopperIntent.score,
    segment: window.shopperIntent.segment,
    thresholds: window.shopperIntent.thresholds,
    history: window.shopperIntent.history(),
    attribute: document.documentElement.getAttribute('data-shopper-intent-segment'),
    offerVisible: !document.getElementById('offer').hidden,
    offerArm: document.documentElement.dataset.offerArm,
    assignments: { ...window.shopperIntent.assignments() },
    dataLayer: (window.dataLayer || []).filter((e) => e && typeof e.event === 'string' && e.event.startsWith('shopper_intent_')).map((e) => ({ ...e })),
  }));
}

/**
 * Browses like a shopper who is going to buy: list → product → wishlist → cart → another
 * product → cart → checkout → payment. Returns one snapshot per page, taken before leaving it.
 * With `purchase`, also places the order.
 */
export async function shoppingSession(page, url, { purchase = false } = {}) {
  const pages = [];
  await page.goto(`${url}/`);
  await settle(page);
  pages.push(await snapshot(page));

  await page.click('a.card[data-item="sku-2001"]');
  await page.waitForURL(/product\.html#rain-shell/);
  await settle(page);
  await page.click('#add-to-wishlist');
  await page.click('#add-to-cart');
  await page.click('#also a.card[data-item="sku-2002"]'); // same document: a hash change
  await page.waitForFunction(() => document.getElementById('product').dataset.item === 'sku-2002');
  await page.fill('#qty', '2');
  await page.click('#add-to-cart');
  pages.push(await snapshot(page));

  await page.click('a.cart-link');
  await page.waitForURL(/cart\.html/);
  await settle(page);
  await page.click('li.cart-line[data-item="sku-2002"] button.remove');
  pages.push(await snapshot(page));
  await page.click('#checkout');
  await page.waitForURL(/checkout\.html/);
  await settle(page);
  await page.click('#add-payment');
  if (purchase) await page.click('#place-order');
  await page.evaluate(() => new Promise((r) => setTimeout(r, 50)));
  pages.push(await snapshot(page));
  return pages;
}
