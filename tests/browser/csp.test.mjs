// The demo, the snippet and the benchmark page run under
// `Content-Security-Policy: default-src 'self'; script-src 'self' 'wasm-unsafe-eval'`
// with no violation: no eval, no inline script or style, no blob: worker.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CSP, setup, widgetReady, test } from './helpers.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

function recordViolations() {
  window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__violations.push({ directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, sample: e.sample });
  });
}

async function newPage() {
  const context = await env.browser.newContext();
  await context.addInitScript(recordViolations);
  const page = await env.page(context);
  return { page, context };
}

function cspConsole(page) {
  return page.consoleMessages.filter((m) => /Content Security Policy|Refused to/i.test(m.text));
}

test('every demo page runs under the CSP without a violation', { timeout: 120_000 }, async () => {
  const { page, context } = await newPage();
  const paths = ['/', '/product.html#canvas-tote', '/cart.html', '/checkout.html'];
  for (const [i, path] of paths.entries()) {
    const response = await page.goto(`${env.url}${path}`);
    assert.equal(response.headers()['content-security-policy'], CSP, `${path}: the CSP header is sent`);
    assert.equal(await widgetReady(page), 'ready', `${path}: the widget is ready`);
    if (path.startsWith('/product')) {
      await page.click('#add-to-cart');
      await page.click('#add-to-wishlist');
    }
    await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
    assert.ok(cspConsole(page).length <= i, `${path}: the console reports no refusal but the earlier pages' probes: ${cspConsole(page).map((m) => m.text)}`);
    // A probe: an inline script, refused and reported. Reports come in order, so once the probe's
    // is in, any violation of the page before it is in too: exactly one means none before.
    await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true;';
      document.body.appendChild(s);
    });
    await page.waitForFunction(() => window.__violations.length > 0, null, { timeout: 10_000 });
    const violations = await page.evaluate(() => window.__violations);
    assert.equal(violations.length, 1, `${path}: CSP violations before the probe: ${JSON.stringify(violations)}`);
    assert.match(violations[0].directive, /^script-src/, `${path}: the probe's`);
    assert.equal(await page.evaluate(() => window.__inlineRan), undefined, `${path}: the inline script did not run`);
  }
  // Firefox reports each probe's refusal as a page error too; nothing else may be one.
  assert.deepEqual(page.pageErrors.filter((e) => !/Content-Security-Policy: .*blocked an inline script/.test(String(e))), []);
  await context.close();
});

test('the snippet self-configures and starts under the CSP', { timeout: 60_000 }, async () => {
  const { page, context } = await newPage();
  await page.route(`${env.url}/__snippet.html`, (route) => route.fulfill({
    status: 200,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CSP },
    body: `<!doctype html><html><head><meta charset="utf-8"><title>snippet</title>
<script type="module" src="/snippet.js" data-model="/models/intent.bin" data-storage="memory" data-thresholds="0.2,0.5"></script>
</head><body><p>A shop page.</p></body></html>`,
  }));
  await page.goto(`${env.url}/__snippet.html`);
  assert.equal(await widgetReady(page), 'ready');
  const state = await page.evaluate(() => {
    const w = window.shopperIntent;
    const update = w.track({ type: 'view_item', item: 'snippet-item', price: 12 });
    return { storage: w.storage, thresholds: w.thresholds, update, attribute: document.documentElement.getAttribute('data-shopper-intent-segment') };
  });
  assert.equal(state.storage, 'memory');
  // The engine keeps thresholds as f32.
  assert.ok(Math.abs(state.thresholds.medium - 0.2) < 1e-6 && Math.abs(state.thresholds.high - 0.5) < 1e-6, JSON.stringify(state.thresholds));
  assert.ok(state.update && typeof state.update.score === 'number', 'track() returns an update');
  assert.ok(['low', 'medium', 'high'].includes(state.attribute));
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

test('the benchmark page runs under the CSP', { timeout: 120_000 }, async () => {
  const { page, context } = await newPage();
  await page.goto(`${env.url}/bench.html?events=200`);
  const result = await page.evaluate(() => window.benchResult);
  assert.equal(result.error, undefined, `benchmark error: ${JSON.stringify(result.error)}`);
  assert.ok(result.wasmBytes > 0);
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

test("the benchmark page's floor compiles the wasm it is given, and asks for one when it has none", { timeout: 120_000 }, async () => {
  const { page, context } = await newPage();
  await page.goto(`${env.url}/bench.html?run=floor&wasm=/pkg/shopper_intent_wasm_bg.wasm`);
  const result = await page.evaluate(() => window.benchResult);
  assert.equal(result.error, undefined, `benchmark error: ${JSON.stringify(result.error)}`);
  const f = result.floor;
  assert.equal(f.wasm, '/pkg/shopper_intent_wasm_bg.wasm');
  assert.ok(f.compileMs > 0, JSON.stringify(f));
  // Only the wasm was fetched: no package module, no manifest, no weights (the page's own
  // script and, in WebKit, the driver's script aside).
  const fetched = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => new URL(r.name).pathname));
  assert.deepEqual(fetched.filter((p) => !/^\/bench\.js$|favicon|^\/__webkit\//.test(p)).sort(), ['/pkg/shopper_intent_wasm_bg.wasm']);
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  await page.goto(`${env.url}/bench.html?run=floor`);
  const missing = await page.evaluate(() => window.benchResult);
  assert.match(missing.error ?? '', /run=floor needs wasm=/);
  await page.goto(`${env.url}/bench.html?run=floor&wasm=/pkg/no-such.wasm`);
  assert.match((await page.evaluate(() => window.benchResult)).error ?? '', /no-such\.wasm: HTTP 404/);
  await context.close();
});
