// Firefox for the browser tests: Debian's firefox-esr driven over WebDriver BiDi by puppeteer-core,
// behind the part of Playwright's API the tests use (contexts with init scripts, pages with
// goto/click/fill/evaluate/waitForFunction/waitForURL/route, and their console, pageerror and
// request events). With SHOPPER_INTENT_BROWSER=firefox, helpers.mjs hands this browser to the
// tests instead of Chromium; run.sh does that for every test file that opens a browser.
//
// Differences from Playwright that a test can meet, kept small on purpose:
// - console message types are Playwright's ('warning', not puppeteer's 'warn');
// - `route(pattern, handler)` takes a RegExp, an exact URL or a glob whose only wildcard is a
//   leading `**`; the handler may `fulfill({status, headers, contentType, body})`, `continue()`
//   or leave the request unanswered;
// - init scripts are functions, strings or `{content}`;
// - 'request' listeners hear of a request with a body once its body has been read;
// - a WebSocket shows as the request of its handshake, not as a 'websocket' event.

import { createRequire } from 'node:module';
import { join } from 'node:path';

export const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';

/** Firefox settings for a closed network: no updates, telemetry, captive portal or prefetch. */
const PREFS = {
  'app.update.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.prefetch-next': false,
  'toolkit.telemetry.enabled': false,
};

/**
 * A RegExp, a glob of the tests ('**' + suffix) or an exact URL, as a predicate on URLs (the route
 * patterns of this file and of webkit.mjs).
 */
export function urlMatcher(pattern) {
  if (pattern instanceof RegExp) return (url) => pattern.test(url);
  if (pattern.startsWith('**')) {
    const suffix = pattern.slice(2);
    return (url) => url.endsWith(suffix);
  }
  if (pattern.includes('*')) throw new Error(`unsupported route pattern ${pattern}: a RegExp, '**' + a suffix or an exact URL`);
  return (url) => url === pattern;
}

const CONSOLE_TYPES = { warn: 'warning' };

/** A puppeteer page with the Playwright methods the tests call. */
class Page {
  constructor(page) {
    this.raw = page;
    this.routes = [];
    this.intercepting = false;
  }

  goto(url) { return this.raw.goto(url, { waitUntil: 'load' }); }
  reload() { return this.raw.reload({ waitUntil: 'load' }); }
  click(selector) { return this.raw.click(selector); }
  url() { return this.raw.url(); }
  evaluate(fn, arg) { return this.raw.evaluate(fn, arg); }
  close() { return this.raw.close(); }
  /** A function, a string of code or `{content}`. */
  addInitScript(script) {
    if (typeof script === 'function' || typeof script === 'string') return this.raw.evaluateOnNewDocument(script);
    if (typeof script?.content === 'string') return this.raw.evaluateOnNewDocument(script.content);
    throw new Error('firefox.mjs: an init script is a function, a string or {content}');
  }

  async fill(selector, value) {
    await this.raw.$eval(selector, (el, v) => {
      el.value = v;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
    }, value);
  }

  waitForFunction(fn, arg, { timeout = 30_000 } = {}) {
    return this.raw.waitForFunction(fn, { timeout, polling: 50 }, arg);
  }

  waitForURL(re, { timeout = 30_000 } = {}) {
    return this.raw.waitForFunction((source, flags) => new RegExp(source, flags).test(location.href), { timeout, polling: 50 }, re.source, re.flags);
  }

  on(event, listener) {
    if (event === 'console') {
      this.raw.on('console', (m) => listener({ type: () => CONSOLE_TYPES[m.type()] ?? m.type(), text: () => m.text() }));
    } else if (event === 'pageerror') {
      this.raw.on('pageerror', listener);
    } else if (event === 'request') {
      // Over BiDi a request's body is read asynchronously: the listener hears of a request with
      // a body once the body is in (and of a body that cannot be read, through a postData() that throws).
      this.raw.on('request', (r) => {
        const emit = (postData) => listener({ url: () => r.url(), method: () => r.method(), postData, headers: () => r.headers(), allHeaders: async () => r.headers() });
        if (!r.hasPostData()) { emit(() => null); return; }
        r.fetchPostData().then((body) => emit(() => body ?? null), (e) => emit(() => { throw new Error(`firefox.mjs: the body of ${r.method()} ${r.url()} could not be read: ${e}`); }));
      });
    } else if (event === 'requestfailed') {
      this.raw.on('requestfailed', (r) => listener({ url: () => r.url(), method: () => r.method() }));
    } else if (event === 'websocket') {
      // Firefox reports a WebSocket's handshake as a request (recorder.test.mjs checks it), so
      // the 'request' listeners see it and this event never fires.
    } else {
      throw new Error(`firefox.mjs: no '${event}' event`);
    }
  }

  async route(pattern, handler) {
    this.routes.push({ matches: urlMatcher(pattern), handler });
    if (this.intercepting) return;
    this.intercepting = true;
    await this.raw.setRequestInterception(true);
    this.raw.on('request', (request) => {
      const hit = this.routes.find((r) => r.matches(request.url()));
      if (!hit) { request.continue(); return; }
      hit.handler({
        request: () => request,
        continue: () => request.continue(),
        fulfill: ({ status = 200, headers = {}, contentType, body = '' }) => request.respond({
          status, body, headers, ...(contentType ? { contentType } : {}),
        }),
      });
    });
  }
}

/** A browser context: its own storage, the init scripts run in each page before the page's own. */
class Context {
  constructor(raw) {
    this.raw = raw;
    this.initScripts = [];
    this.exposed = [];
    this.requestListeners = [];
    this.pages = [];
  }

  /** As in Playwright, also for the pages already open (from their next navigation). */
  async addInitScript(script) {
    this.initScripts.push(script);
    for (const page of this.pages) await page.addInitScript(script);
  }

  /** `window[name](...args)` in every later page calls `fn` in Node and resolves to its result. */
  async exposeFunction(name, fn) { this.exposed.push([name, fn]); }

  /** Only 'request', for every later page. */
  on(event, listener) {
    if (event !== 'request') throw new Error(`firefox.mjs: no '${event}' event on a context`);
    this.requestListeners.push(listener);
  }

  async newPage() {
    const raw = await this.raw.newPage();
    const page = new Page(raw);
    for (const listener of this.requestListeners) page.on('request', listener);
    for (const [name, fn] of this.exposed) await raw.exposeFunction(name, fn);
    for (const s of this.initScripts) await page.addInitScript(s);
    this.pages.push(page);
    return page;
  }

  close() { return this.raw.close(); }
}

/** Launches headless Firefox; resolves to an object with `newContext()`, `version()`, `close()`. */
export async function launchFirefox() {
  const require = createRequire(join(import.meta.dirname, '..', '..', 'web', 'package.json'));
  const puppeteer = require('puppeteer-core');
  const start = () => puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    extraPrefsFirefox: PREFS,
  });
  // Once (a make bench run on Dec 1) Firefox did not print its endpoint within puppeteer's 30 s,
  // where the runs before and after started it at once: a launch that times out is tried once
  // more, and said on stderr.
  let browser;
  try {
    browser = await start();
  } catch (e) {
    if (!/WS endpoint/.test(String(e?.message))) throw e;
    console.error(`firefox.mjs: Firefox did not start (${e.message}); launching it once more`);
    browser = await start();
  }
  const version = await browser.version();
  return {
    name: 'firefox',
    version: () => version,
    async newContext() { return new Context(await browser.createBrowserContext()); },
    close: () => browser.close(),
  };
}
