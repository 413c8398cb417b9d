// Development aid, not a test: screenshots of the demo after a scripted visit.
//   node tests/browser/tools/screenshot.mjs [OUT_DIR]
import { setup, widgetReady } from '../helpers.mjs';

const out = process.argv[2] || 'build/shots';
await import('node:fs').then((fs) => fs.mkdirSync(out, { recursive: true }));
const env = await setup();
try {
  const page = await env.page();
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${env.url}/`);
  await widgetReady(page);
  await page.screenshot({ path: `${out}/1-list.png` });
  await page.click('a.card[data-item="sku-2001"]');
  await page.waitForURL(/product/);
  await widgetReady(page);
  await page.click('#add-to-wishlist');
  await page.click('#add-to-cart');
  await page.waitForTimeout(500);
  await page.screenshot({ path: `${out}/2-product.png` });
  await page.goto(`${env.url}/cart.html`);
  await widgetReady(page);
  await page.click('#checkout');
  await page.waitForURL(/checkout/);
  await widgetReady(page);
  await page.click('#add-payment');
  await page.waitForTimeout(500);
  await page.screenshot({ path: `${out}/3-checkout.png`, fullPage: true });
  console.log(page.consoleMessages.map((m) => `${m.type}: ${m.text}`).join('\n'));
  console.log(page.pageErrors.join('\n'));
} finally {
  await env.close();
}
