// Shared set-up of the browser tests: the static server (web/serve.mjs on a free port) and
// headless Chromium through playwright-core. No network beyond 127.0.0.1.
//
// Environment:
//   CHROMIUM               browser binary (default /usr/bin/chromium)
//   SHOPPER_INTENT_PKG     directory served as /pkg/ (default web/pkg, the wasm-bindgen output)
//   SHOPPER_INTENT_MODELS  directory served as /models/ (default models/)

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WEB = join(REPO, 'web');
export const PKG = process.env.SHOPPER_INTENT_PKG ? resolve(process.env.SHOPPER_INTENT_PKG) : join(WEB, 'package', 'pkg');
export const MODELS = process.env.SHOPPER_INTENT_MODELS ? resolve(process.env.SHOPPER_INTENT_MODELS) : join(REPO, 'models');
export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'";

const require = createRequire(join(WEB, 'package.json'));
const { chromium } = require('playwright-core');

export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic',
];

/** Fails with a clear message when the wasm package or the model has not been built. */
export function requireBuild() {
  const missing = [];
  if (!existsSync(join(PKG, 'shopper_intent_wasm.js'))) missing.push(`${PKG}/shopper_intent_wasm.js (build the wasm package: make wasm)`);
  if (!existsSync(join(MODELS, 'intent.bin'))) missing.push(`${MODELS}/intent.bin (the shipped model's weights)`);
  if (!existsSync(join(MODELS, 'intent.json'))) missing.push(`${MODELS}/intent.json (its manifest)`);
  if (missing.length) throw new Error(`missing build outputs:\n  ${missing.join('\n  ')}`);
}

/** Starts web/serve.mjs on a free port; resolves to `{url, close()}`. */
export function startServer() {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(WEB, 'dev', 'serve.mjs'), '--port', '0', '--quiet', '--pkg', PKG, '--models', MODELS], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => { child.kill(); reject(new Error(`serve.mjs did not start: ${err}`)); }, 10_000);
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolvePromise({
          url: m[1],
          close: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }),
        });
      }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`serve.mjs exited (${code}): ${err}`)); });
  });
}

/** Launches headless Chromium with a fresh profile. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
}

/**
 * A server, a browser and a fresh context for one test file; `close()` ends all three.
 * `page(opts)` opens a page that records console messages and page errors.
 */
export async function setup() {
  requireBuild();
  const server = await startServer();
  let browser;
  try {
    browser = await launch();
  } catch (e) {
    await server.close();
    throw e;
  }
  return {
    url: server.url,
    browser,
    async page(context) {
      const ctx = context ?? (await browser.newContext());
      const page = await ctx.newPage();
      page.consoleMessages = [];
      page.pageErrors = [];
      page.on('console', (m) => page.consoleMessages.push({ type: m.type(), text: m.text() }));
      page.on('pageerror', (e) => page.pageErrors.push(String(e)));
      return page;
    },
    async close() {
      await browser.close().catch(() => {});
      await server.close();
    },
  };
}

/** Waits until the demo's widget is ready or failed; returns its status. */
export async function widgetReady(page) {
  await page.waitForFunction(() => window.shopperIntent && window.shopperIntent.status !== 'loading', null, { timeout: 30_000 });
  return page.evaluate(() => window.shopperIntent.status);
}

/**
 * An empty same-origin page under the server's CSP, to import the package into from a test.
 * Served through `page.route`, so it needs no file in web/.
 */
export async function blankPage(page, url, path = '/__blank.html') {
  await page.route(`${url}${path}`, (route) => route.fulfill({
    status: 200,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CSP },
    body: '<!doctype html><html><head><meta charset="utf-8"><title>blank</title></head><body></body></html>',
  }));
  await page.goto(`${url}${path}`);
}

export function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** A fresh context of `env` and an empty same-origin page with the package imported as `window.SI`. */
export async function moduleHarness(env, initScript) {
  const context = await env.browser.newContext();
  if (initScript) await context.addInitScript(initScript);
  const page = await env.page(context);
  await blankPage(page, env.url);
  await page.evaluate(async () => { window.SI = await import('/shopper-intent.js'); });
  return { page, context };
}

/** The package's own console messages of one type (they all start with `[shopper-intent]`). */
export const ours = (page, type) => page.consoleMessages.filter((m) => m.type === type && m.text.startsWith('[shopper-intent]'));
