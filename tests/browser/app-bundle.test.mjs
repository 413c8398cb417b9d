// The package bundled into a shop's own app (esbuild, as a single-page app's build does), served
// from another path than the package's: the module's own URL no longer has pkg/ beside it.
// - As a module with the 'wasm' option: it runs, and after a trap the engine is re-created from
//   the bindings beside that wasm (pkg/ beside the bundle is missing).
// - As a classic script (IIFE, no import.meta.url): without the 'wasm' option the widget fails
//   with LOAD_FAILED saying to give it (it blamed the options before); with it, it runs.
// - Built by webpack 5 from the published entry (shopper-intent.min.js), as a shop's app imports
//   it: no build warning, both wasm builds and the bindings emitted, and after a trap the engine
//   is re-created from the bindings webpack emitted (the minified bundle had lost the comment
//   that tells webpack to leave that import to the browser).

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative, sep } from 'node:path';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
const { build } = await import(join(WEB, 'node_modules', 'esbuild', 'lib', 'main.js'));
import { CSP, MODEL, WEB, ours, setup, test } from './helpers.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

/** The shop's app: the package and (for the drill) its bindings, bundled into one file. */
async function appBundle(format) {
  const source = `
    import { ShopperIntent } from ${JSON.stringify(join(WEB, 'package', 'shopper-intent.js'))};
    import { drillTrap } from ${JSON.stringify(join(WEB, 'package', 'pkg', 'shopper_intent_wasm.js'))};
    window.App = { ShopperIntent, drillTrap };`;
  const out = await build({ stdin: { contents: source, resolveDir: WEB, loader: 'js' }, bundle: true, format, write: false, logLevel: 'silent' });
  return out.outputFiles[0].text;
}

/** A page of the shop at /shop/, its app at /shop/assets/app.js. */
async function shopPage(format) {
  const context = await env.browser.newContext();
  const page = await env.page(context);
  const app = await appBundle(format);
  await page.route(`${env.url}/shop/assets/app.js`, (route) => route.fulfill({ status: 200, headers: { 'Content-Type': 'text/javascript' }, body: app }));
  await page.route(`${env.url}/shop/`, (route) => route.fulfill({
    status: 200,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CSP },
    body: `<!doctype html><html><head><meta charset="utf-8"><title>shop</title>
<script ${format === 'esm' ? 'type="module" ' : ''}src="/shop/assets/app.js"></script></head><body><p>A shop.</p></body></html>`,
  }));
  const requests = [];
  page.on('request', (r) => requests.push(new URL(r.url()).pathname + new URL(r.url()).search));
  await page.goto(`${env.url}/shop/`);
  await page.waitForFunction(() => window.App !== undefined);
  return { page, context, requests };
}

test('bundled into an app as a module, with the wasm option: it runs, and a trapped engine is re-created from the bindings beside that wasm', { timeout: 60_000 }, async () => {
  const { page, context, requests } = await shopPage('esm');
  const r = await page.evaluate(async (model) => {
    const intent = await window.App.ShopperIntent.load({ model, storage: 'memory', autoCapture: false, wasm: '/pkg/shopper_intent_wasm_bg.wasm' });
    const status = intent.status;
    intent.track({ type: 'view_item', item: 'a' });
    let trap = 'no trap';
    try { window.App.drillTrap(); } catch (e) { trap = e.name; }
    intent.track({ type: 'add_to_cart', item: 'a' });
    for (let i = 0; i < 500 && intent.status !== 'ready' && intent.status !== 'failed'; i++) await new Promise((res) => setTimeout(res, 10));
    await new Promise((res) => setTimeout(res, 100));
    return { status, trap, after: intent.status, history: intent.history().map((p) => p.type) };
  }, MODEL);
  assert.equal(r.status, 'ready');
  assert.equal(r.trap, 'RuntimeError');
  assert.equal(r.after, 'ready', `recovered: ${ours(page, 'error').map((m) => m.text)}`);
  assert.deepEqual(r.history, ['view_item', 'add_to_cart'], 'the session goes on in the re-created engine');
  assert.ok(requests.includes('/shop/assets/pkg/shopper_intent_wasm.js?instance=1'), 'the bindings were looked for beside the bundle first');
  assert.ok(requests.includes('/pkg/shopper_intent_wasm.js?instance=1'), `then beside the wasm: ${requests.filter((u) => u.includes('instance'))}`);
  // Firefox reports the missing module as a page error although the widget caught its import's rejection.
  assert.deepEqual(page.pageErrors.filter((e) => !/Loading module from .*\/shop\/assets\/pkg\/shopper_intent_wasm\.js\?instance=1/.test(e)), []);
  await context.close();
});

test('bundled into an app, with no fresh bindings anywhere: a trapped engine fails with LOAD_FAILED naming what was tried and why the last import failed', { timeout: 60_000 }, async () => {
  const { page, context } = await shopPage('esm');
  await page.route(/shopper_intent_wasm\.js\?instance=/, (route) => route.fulfill({ status: 404, body: 'not found' }));
  const r = await page.evaluate(async (model) => {
    const intent = await window.App.ShopperIntent.load({ model, storage: 'memory', autoCapture: false, wasm: '/pkg/shopper_intent_wasm_bg.wasm' });
    intent.track({ type: 'view_item', item: 'a' });
    try { window.App.drillTrap(); } catch { /* the trap */ }
    intent.track({ type: 'add_to_cart', item: 'a' });
    for (let i = 0; i < 500 && intent.status !== 'failed'; i++) await new Promise((res) => setTimeout(res, 10));
    return { status: intent.status, error: intent.error && { ...intent.error } };
  }, MODEL);
  assert.equal(r.status, 'failed');
  assert.equal(r.error.code, 'LOAD_FAILED');
  assert.match(r.error.message, /no fresh copy of the engine's bindings could be loaded \(tried .*\/shop\/assets\/pkg\/shopper_intent_wasm\.js\?instance=1, .*\/pkg\/shopper_intent_wasm\.js\?instance=1; the last import failed: \w*Error: \S/);
  await context.close();
});

test('bundled as a classic script: without the wasm option a clear LOAD_FAILED naming it; with it, it runs', { timeout: 60_000 }, async () => {
  const { page, context } = await shopPage('iife');
  const r = await page.evaluate(async (model) => {
    const without = await window.App.ShopperIntent.load({ model, storage: 'memory', autoCapture: false });
    const failed = { status: without.status, error: without.error && { ...without.error } };
    without.destroy();
    const intent = await window.App.ShopperIntent.load({ model, storage: 'memory', autoCapture: false, wasm: '/pkg/shopper_intent_wasm_bg.wasm' });
    const update = intent.track({ type: 'view_item', item: 'a' });
    return { failed, status: intent.status, scored: update !== null && typeof update.score === 'number' };
  }, MODEL);
  assert.equal(r.failed.status, 'failed');
  assert.equal(r.failed.error.code, 'LOAD_FAILED');
  assert.match(r.failed.error.message, /cannot tell where its wasm is .*give the 'wasm' option/);
  assert.equal(r.status, 'ready');
  assert.equal(r.scored, true);
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

/** webpack 5's production build of an app importing 'shopper-intent' (resolved as a shop's is). */
async function webpackApp() {
  const webpack = createRequire(join(WEB, 'package.json'))('webpack');
  const dir = mkdtempSync(join(tmpdir(), 'si-webpack-'));
  mkdirSync(join(dir, 'src'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(join(WEB, 'package'), join(dir, 'node_modules', 'shopper-intent'), 'dir');
  writeFileSync(join(dir, 'src', 'main.js'), "import { ShopperIntent } from 'shopper-intent';\nwindow.App = { ShopperIntent };\n");
  const compiler = webpack({
    mode: 'production',
    context: dir,
    entry: './src/main.js',
    output: { path: join(dir, 'dist'), publicPath: '/wp/', filename: 'main.js' },
    devtool: false,
    performance: { hints: false },
  });
  const stats = await new Promise((res, rej) => compiler.run((err, st) => (err ? rej(err) : res(st))));
  await new Promise((res) => compiler.close(res));
  const info = stats.toJson({ all: false, errors: true, warnings: true });
  const files = {};
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else files[relative(join(dir, 'dist'), join(d, e.name)).split(sep).join('/')] = readFileSync(join(d, e.name));
    }
  };
  walk(join(dir, 'dist'));
  rmSync(dir, { recursive: true, force: true });
  return { errors: info.errors.map((e) => e.message), warnings: info.warnings.map((w) => w.message), files };
}

test('built by webpack 5 from the published entry: no warning, both wasm builds emitted, and a trapped engine is re-created from the emitted bindings', { timeout: 120_000 }, async () => {
  const app = await webpackApp();
  assert.deepEqual(app.errors, []);
  assert.deepEqual(app.warnings, [], 'webpack warned (an import() it cannot follow is a "Critical dependency")');
  const wasm = Object.keys(app.files).filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 2, `the plain and the SIMD build: ${Object.keys(app.files)}`);
  const context = await env.browser.newContext();
  const page = await env.page(context);
  // The wasm instances the page makes, to trap the engine's from outside (the bundle exports
  // nothing to trap it with).
  await page.addInitScript(() => {
    window.__instances = [];
    for (const name of ['instantiate', 'instantiateStreaming']) {
      const original = WebAssembly[name];
      WebAssembly[name] = async function (...args) {
        const made = await original.apply(this, args);
        window.__instances.push(made instanceof WebAssembly.Instance ? made : made.instance);
        return made;
      };
    }
  });
  await page.route(/\/wp\//, (route) => {
    const name = new URL(route.request().url()).pathname.slice('/wp/'.length);
    const body = app.files[name];
    if (!body) return route.fulfill({ status: 404, body: 'not found' });
    const type = name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
    return route.fulfill({ status: 200, headers: { 'Content-Type': type }, body });
  });
  await page.route(`${env.url}/shop-wp/`, (route) => route.fulfill({
    status: 200,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CSP },
    body: '<!doctype html><html><head><meta charset="utf-8"><title>shop</title><script src="/wp/main.js"></script></head><body><p>A shop.</p></body></html>',
  }));
  const requests = [];
  page.on('request', (r) => requests.push(new URL(r.url()).pathname + new URL(r.url()).search));
  await page.goto(`${env.url}/shop-wp/`);
  await page.waitForFunction(() => window.App !== undefined);
  const r = await page.evaluate(async (model) => {
    const intent = await window.App.ShopperIntent.load({ model, storage: 'memory', autoCapture: false });
    const status = intent.status;
    intent.track({ type: 'view_item', item: 'a' });
    let trap = 'no trap';
    try { window.__instances.at(-1).exports.drillTrap(); } catch (e) { trap = e.name; }
    intent.track({ type: 'add_to_cart', item: 'a' });
    for (let i = 0; i < 500 && intent.status !== 'ready' && intent.status !== 'failed'; i++) await new Promise((res) => setTimeout(res, 10));
    await new Promise((res) => setTimeout(res, 100));
    return { status, trap, after: intent.status, history: intent.history().map((p) => p.type) };
  }, MODEL);
  assert.equal(r.status, 'ready', `loaded: ${ours(page, 'error').map((m) => m.text)}`);
  assert.equal(r.trap, 'RuntimeError');
  assert.equal(r.after, 'ready', `recovered: ${ours(page, 'error').map((m) => m.text)}`);
  assert.deepEqual(r.history, ['view_item', 'add_to_cart'], 'the session goes on in the re-created engine');
  const bindings = Object.keys(app.files).filter((f) => f.endsWith('.js') && f !== 'main.js');
  assert.ok(requests.some((u) => bindings.some((b) => u === `/wp/${b}?instance=1`)), `the emitted bindings were loaded again: ${requests.filter((u) => u.includes('instance'))}`);
  assert.deepEqual(page.pageErrors, []);
  await context.close();
});

test('outside a page, snippet.js and snippet.min.js import without throwing or a word (a server render)', async () => {
  // Node, in this process: no window, no document.
  assert.equal(typeof globalThis.document, 'undefined');
  const said = [];
  const originals = { error: console.error, warn: console.warn };
  console.error = (...a) => said.push(a.join(' '));
  console.warn = (...a) => said.push(a.join(' '));
  try {
    const { pathToFileURL } = await import('node:url');
    await import(pathToFileURL(join(WEB, 'package', 'snippet.js')));
    await import(pathToFileURL(join(WEB, 'package', 'snippet.min.js')));
  } finally {
    Object.assign(console, originals);
  }
  assert.deepEqual(said, []);
});
