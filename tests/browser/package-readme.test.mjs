// The code blocks of web/package/README.md run as tests. Each block is marked in the Markdown
// source, on the line before it, `<!-- test: NAME -->` (run below by the runner of that name) or
// `<!-- fragment -->`; a block without a mark, a mark without a runner, or a runner without a
// block fails.
//
// Page blocks are bundled as a shop's bundler would (esbuild, with the real SDKs from
// web/node_modules, `process.env.NODE_ENV` defined) except `shopper-intent`, which stays an import
// of the package module the server serves; the bundle runs as a module on a page under the CSP,
// and a line appended to it hands the block's variables to the test. The Node block runs in a
// temporary project where `node_modules/shopper-intent` is this package. Where a block needs a
// segment change, the test serves the model's manifest with segment thresholds that make the
// change certain (no particular score of the model is assumed): `high` only at a purchase (the
// score is then 1), or `high` at the first event.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, mkdirSync, writeFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CSP, MODELS, PACKAGE_MODULE, WEB, consoleProblems, isPackageRequest, recordRequests, setup, test } from './helpers.mjs';

const README = join(WEB, 'package', 'README.md');
const requireWeb = createRequire(join(WEB, 'package.json'));
const esbuild = requireWeb('esbuild');
const { bucket, assign, checkExperiment } = await import(pathToFileURL(join(WEB, 'package', 'experiments.js')));

/**
 * The fenced blocks of a Markdown text: `{lang, code, mark, line}`, where `mark` is
 * `{test: name}`, `{fragment: true}` or `null` (from the last non-blank line before the fence).
 */
export function readmeBlocks(markdown) {
  const lines = markdown.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(/^```(\w*)\s*$/);
    if (!open) continue;
    let j = i + 1;
    while (j < lines.length && !/^```\s*$/.test(lines[j])) j++;
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === '') k--;
    const before = k >= 0 ? lines[k].trim() : '';
    const test = before.match(/^<!-- test: ([\w-]+) -->$/);
    const mark = test ? { test: test[1] } : before === '<!-- fragment -->' ? { fragment: true } : null;
    blocks.push({ lang: open[1], code: lines.slice(i + 1, j).join('\n') + '\n', mark, line: i + 1 });
    i = j;
  }
  return blocks;
}

const BLOCKS = readmeBlocks(readFileSync(README, 'utf8'));
const block = (name) => {
  const found = BLOCKS.filter((b) => b.mark?.test === name);
  assert.equal(found.length, 1, `README.md has one block marked test: ${name}`);
  return found[0].code;
};

/** Bundles a page block (and `epilogue`, appended to it) as a shop's bundler would. */
async function bundle(code, epilogue = '') {
  const out = await esbuild.build({
    stdin: { contents: `${code}\n${epilogue}\n`, resolveDir: WEB, sourcefile: 'readme-block.js', loader: 'js' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
    plugins: [{
      name: 'the-served-package',
      setup(b) { b.onResolve({ filter: /^shopper-intent$/ }, () => ({ path: PACKAGE_MODULE, external: true })); },
    }],
  });
  return out.outputFiles[0].text;
}

/** The served manifest with other segment thresholds. */
function manifestWith(segments) {
  const m = JSON.parse(readFileSync(join(MODELS, 'intent.json'), 'utf8'));
  return JSON.stringify({ ...m, segments });
}
const HIGH_AT_PURCHASE = { medium: 0.999998, high: 0.999999 };
const HIGH_AT_ONCE = { medium: 0.000001, high: 0.000002 };

/**
 * Runs `script` (a module's text) on a fresh page with `body`, under the CSP. `routes`: extra
 * `{path: {type, body}}` served by the test. Resolves once the module has run to its end (it
 * sets `window.__readmeDone`) or threw.
 */
async function runInPage(script, { body = '', routes = {}, context: given } = {}) {
  const context = given ?? (await env.browser.newContext());
  const page = await env.page(context);
  const requests = recordRequests(page);
  const headers = (type) => ({ 'Content-Type': type, 'Content-Security-Policy': CSP });
  const served = {
    '/__readme.html': { type: 'text/html; charset=utf-8', body: `<!doctype html><html><head><meta charset="utf-8"><title>readme</title><script type="module" src="/__readme.js"></script></head><body>${body}</body></html>` },
    '/__readme.js': { type: 'text/javascript', body: `${script}\nwindow.__readmeDone = true;\n` },
    ...routes,
  };
  for (const [path, r] of Object.entries(served)) {
    await page.route(`${env.url}${path}`, (route) => route.fulfill({ status: 200, headers: headers(r.type), body: r.body }));
  }
  await page.goto(`${env.url}/__readme.html`);
  await page.waitForFunction(() => window.__readmeDone === true, null, { timeout: 30_000 }).catch(() => {});
  assert.deepEqual(page.pageErrors, [], 'the block threw');
  assert.equal(await page.evaluate(() => window.__readmeDone), true, 'the block ran to its end');
  return { page, context, requests, served: new Set(Object.keys(served)) };
}

/** Nothing but the page, the package's files and what the test serves was requested. */
function onlyOwnRequests(requests, served) {
  for (const r of requests) {
    assert.ok(served.has(r.path) || r.path === '/favicon.ico' || isPackageRequest(r), `unexpected request ${r.method} ${r.url}`);
  }
}

/** No console error or warning at all on the page (the package's, the SDKs', the block's). */
function quiet(page) {
  assert.deepEqual(consoleProblems(page), [], 'no console errors or warnings');
}

const waitFor = (page, fn, arg) => page.waitForFunction(fn, arg, { timeout: 10_000 });

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

// ---------------------------------------------------------------------------------------------

const RUNNERS = {
  async snippet(code) {
    assert.match(code, /src="\/shopper-intent\/snippet\.min\.js"/);
    const html = code.replace('/shopper-intent/', '/');
    const context = await env.browser.newContext();
    const page = await env.page(context);
    await page.route(`${env.url}/__snippet.html`, (r) => r.fulfill({
      status: 200,
      headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CSP },
      body: `<!doctype html><html><head><meta charset="utf-8"><title>snippet</title></head><body>${html}</body></html>`,
    }));
    await page.goto(`${env.url}/__snippet.html`);
    await waitFor(page, () => window.shopperIntent && window.shopperIntent.status !== 'loading');
    const r = await page.evaluate(async () => {
      (window.dataLayer = window.dataLayer || []).push({ event: 'view_item', ecommerce: { items: [{ item_id: 'sku-1', price: 59 }] } });
      return { status: window.shopperIntent.status, storage: window.shopperIntent.storage, history: window.shopperIntent.history().map((p) => p.type) };
    });
    assert.deepEqual(r, { status: 'ready', storage: 'local', history: ['view_item'] }, 'the snippet runs with local storage and reads dataLayer');
    quiet(page);
    await context.close();
  },

  async use(code) {
    const { page, context, requests, served } = await runInPage(await bundle(code, 'window.__readme = { intent };'));
    const r = await page.evaluate(() => {
      const { intent } = window.__readme;
      const before = intent.history().map((p) => p.type);
      intent.track({ type: 'purchase', item: 'sku-1', price: 59 });
      return { status: intent.status, storage: intent.storage, before, vip: document.body.classList.contains('vip'), high: intent.segment === 'high' };
    });
    assert.deepEqual(r, { status: 'ready', storage: 'local', before: ['view_item'], vip: true, high: true }, 'tracked, and the class follows the segment');
    onlyOwnRequests(requests, served);
    quiet(page);
    // The next page load restores the high segment before load() resolves; the block registers
    // its hook after `await load()` and still sets the class.
    await page.evaluate(() => new Promise((res) => setTimeout(res, 400))); // the debounced save
    await page.reload();
    await page.waitForFunction(() => window.__readmeDone === true, null, { timeout: 30_000 });
    const again = await page.evaluate(async () => {
      await new Promise((res) => setTimeout(res, 0));
      return { segment: window.__readme.intent.segment, vip: document.body.classList.contains('vip') };
    });
    assert.deepEqual(again, { segment: 'high', vip: true }, 'the restored segment reached the hook registered after load()');
    assert.deepEqual(page.pageErrors, []);
    quiet(page);
    await context.close();
  },

  async storage(code) {
    const script = await bundle(code, 'window.__readme = { intent };');
    const context = await env.browser.newContext();
    const first = await runInPage(script, { context });
    const r1 = await first.page.evaluate(async () => {
      await new Promise((res) => setTimeout(res, 400)); // the debounced save
      const entry = localStorage.getItem('fr/shopper-intent:state');
      return { storage: window.__readme.intent.storage, saved: entry && JSON.parse(entry).v, plain: localStorage.getItem('shopper-intent:state') };
    });
    assert.deepEqual(r1, { storage: 'local:fr', saved: 1, plain: null }, 'the state is saved under the market\'s key only');
    // The next page load reads it back through get().
    const second = await runInPage(script, { context });
    const history = await second.page.evaluate(() => window.__readme.intent.history().map((p) => p.type));
    assert.deepEqual(history, ['add_to_cart', 'add_to_cart'], 'the stored session was restored, then one more event');
    quiet(first.page);
    quiet(second.page);
    await context.close();
  },

  async experiments(code) {
    const { page, context, requests, served } = await runInPage(await bundle(code, 'window.__readme = { intent, offer };'), {
      body: '<div id="free-shipping" hidden>Free shipping today</div>',
      routes: { '/models/intent.json': { type: 'application/json', body: manifestWith(HIGH_AT_ONCE) } },
    });
    const r = await page.evaluate(() => {
      const { intent } = window.__readme;
      const banner = document.querySelector('#free-shipping');
      const shoppers = [];
      let t = Date.now() - 3_600_000;
      for (let i = 0; i < 100; i++) {
        intent.forget();
        const fresh = { hidden: banner.hidden, assignments: Object.keys(intent.assignments()).length };
        const pushed = window.dataLayer.length;
        intent.track({ type: 'view_item', item: `sku-${i}`, ts: (t += 1000) }); // high at once (the served thresholds)
        const variant = intent.assignments()['free-shipping'];
        const shown = !banner.hidden;
        intent.track({ type: 'purchase', item: `sku-${i}`, ts: (t += 1000) });
        shoppers.push({ fresh, segment: intent.segment, variant, shown, pushes: window.dataLayer.slice(pushed).filter((e) => e.event !== 'shopper_intent_segment').map((e) => ({ ...e })) });
      }
      return shoppers;
    });
    const logs = page.consoleMessages.filter((m) => m.type === 'log').map((m) => m.text);
    const arms = {};
    r.forEach((s, i) => {
      assert.deepEqual(s.fresh, { hidden: true, assignments: 0 }, `shopper ${i}: a new shopper starts without the banner`);
      assert.equal(s.segment, 'high');
      arms[s.variant] = (arms[s.variant] ?? 0) + 1;
      assert.equal(s.shown, s.variant === 'banner', `shopper ${i} (${s.variant}): the banner iff the variant is banner`);
      const fields = { shopper_intent_experiment: 'free-shipping', shopper_intent_variant: s.variant, shopper_intent_segment: 'high' };
      // forget() before each shopper: every exposure is that shopper's first.
      assert.deepEqual(s.pushes, [{ event: 'shopper_intent_exposure', ...fields, shopper_intent_first_exposure: true }, { event: 'shopper_intent_conversion', ...fields }], `shopper ${i}: exposed once, converted once`);
      assert.equal(logs[i], `free-shipping: a purchase in ${s.variant} (segment high)`);
    });
    assert.equal(logs.length, 100);
    assert.deepEqual(Object.keys(arms).sort(), ['banner', 'control', 'holdout'], `every arm over 100 shoppers: ${JSON.stringify(arms)}`);
    onlyOwnRequests(requests, served);
    quiet(page);
    await context.close();
  },

  async report(code) {
    const { page, context, requests, served } = await runInPage(await bundle(code, 'window.__readme = { intent };'));
    const r = await page.evaluate(() => {
      const { intent } = window.__readme;
      intent.track({ type: 'view_item', item: 'sku-1' });
      const own = () => window.dataLayer.filter((e) => e.event === 'shopper_intent_report').map((e) => ({ ...e }));
      dispatchEvent(new Event('pagehide'));
      dispatchEvent(new Event('pagehide'));
      return { reports: own(), history: intent.history().map((p) => p.type) };
    });
    assert.equal(r.reports.length, 2, 'one push per pagehide');
    assert.ok(['low', 'medium', 'high'].includes(r.reports[0].shopper_intent_report), JSON.stringify(r.reports[0]));
    assert.deepEqual(r.reports[1], r.reports[0], 'the same session: the same report');
    assert.deepEqual(Object.keys(r.reports[0]).sort(), ['event', 'shopper_intent_report']);
    assert.deepEqual(r.history, ['view_item'], 'the push is not read back as an event');
    onlyOwnRequests(requests, served);
    quiet(page);
    await context.close();
  },

  async 'gtm-variable'(code) {
    assert.match(code.trim(), /^function \(\) \{[\s\S]*\}$/, 'a GTM custom JavaScript variable is one anonymous function');
    const script = `import { ShopperIntent } from '${PACKAGE_MODULE}';
window.__variable = (${code.trim()});
window.__before = window.__variable();
window.shopperIntent = [{ type: 'view_item', item: 'early' }]; // the page's early array, before the snippet runs
window.__early = window.__variable();
window.shopperIntent = await ShopperIntent.load({ model: '/models/intent.bin', storage: 'memory' });
window.__after = [window.__variable(), window.__variable()];
window.__direct = window.shopperIntent.privateReport('segment').value;`;
    const { page, context } = await runInPage(script);
    const r = await page.evaluate(() => ({ before: window.__before ?? 'undefined', early: window.__early ?? 'undefined', after: window.__after, direct: window.__direct }));
    assert.equal(r.before, 'undefined', 'no widget yet: undefined');
    assert.equal(r.early, 'undefined', 'the early array: undefined, not a throw');
    assert.ok(['low', 'medium', 'high'].includes(r.after[0]));
    assert.deepEqual(r.after, [r.direct, r.direct], 'the variable gives the session\'s report');
    quiet(page);
    await context.close();
  },

  async estimate(code) {
    const { page, context } = await runInPage(await bundle(code));
    const logs = page.consoleMessages.filter((m) => m.type === 'log').map((m) => m.text);
    const counts = { low: 4670, medium: 2850, high: 2480 };
    assert.match(code, /low: 4670, medium: 2850, high: 2480/, 'the counts the test recomputes');
    const n = 10_000;
    const e = Math.E;
    const p = e / (e + 2);
    const q = 1 / (e + 2);
    const pct = (x) => (100 * x).toFixed(1);
    const expected = Object.entries(counts).map(([value, c]) => {
      const lambda = c / n;
      const share = (lambda - q) / (p - q);
      // Counts randomized reports can give: every value is reported at least q of the time.
      assert.ok(share > 0 && share < 1, `${value}: the example's counts give a share of ${share}`);
      // Wilson's interval for c/n, mapped as the share is.
      const z = 1.959963984540054;
      const centre = (lambda + (z * z) / (2 * n)) / (1 + (z * z) / n);
      const half = (z * Math.sqrt((lambda * (1 - lambda)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
      const [lo, hi] = [(centre - half - q) / (p - q), (centre + half - q) / (p - q)];
      return `${value}: ${pct(share)}% of ${n} sessions (95%: ${pct(lo)} to ${pct(hi)}%)`;
    });
    assert.deepEqual(logs, expected, 'the printed estimates are the documented estimator\'s');
    quiet(page);
    await context.close();
  },

  async 'estimate-node'(code) {
    // The bundle is what `import 'shopper-intent'` loads; it must be built from the sources now.
    const dir = join(WEB, 'package');
    const bundled = statSync(join(dir, 'shopper-intent.min.js')).mtimeMs;
    const newer = readdirSync(dir).filter((f) => f.endsWith('.js') && !f.endsWith('.min.js') && statSync(join(dir, f)).mtimeMs > bundled);
    assert.deepEqual(newer, [], 'shopper-intent.min.js is older than these sources: node web/dev/bundle.mjs (run.sh does it)');
    // The block uses import.meta.resolve, which Node has from 20.6: the package's engines say so.
    assert.match(code, /import\.meta\.resolve/);
    const { engines } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const least = engines.node.match(/^>=(\d+)(?:\.(\d+))?/);
    assert.ok(least && (Number(least[1]) > 20 || (Number(least[1]) === 20 && Number(least[2] ?? 0) >= 6)),
      `engines.node ${engines.node} admits a Node without import.meta.resolve`);
    const project = mkdtempSync(join(tmpdir(), 'shopper-intent-readme-'));
    try {
      mkdirSync(join(project, 'node_modules'));
      symlinkSync(dir, join(project, 'node_modules', 'shopper-intent'), 'dir');
      writeFileSync(join(project, 'package.json'), '{"type": "module"}\n');
      writeFileSync(join(project, 'dashboard.mjs'), code);
      const r = spawnSync(process.execPath, ['dashboard.mjs'], { cwd: project, encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, `node dashboard.mjs failed:\n${r.stdout}${r.stderr}`);
      assert.equal(r.stderr, '');
      const e = Math.E;
      const p = e / (e + 2);
      const q = 1 / (e + 2);
      const expected = [['low', 4670], ['medium', 2850], ['high', 2480]].map(([v, c]) => `${v} ${((c / 10_000 - q) / (p - q)).toFixed(3)}`).join(', ');
      assert.equal(r.stdout.trim(), expected);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  },

  async growthbook(code) {
    const { page, context, requests, served } = await runInPage(await bundle(code, 'window.__readme = { intent, gb };'), {
      body: '<div id="free-shipping" hidden>Free shipping today</div>',
      routes: { '/models/intent.json': { type: 'application/json', body: manifestWith(HIGH_AT_PURCHASE) } },
    });
    const state = () => page.evaluate(() => {
      const { intent, gb } = window.__readme;
      return {
        gb: { ...gb.getAttributes() },
        intent: { ...intent.attributes() },
        hidden: document.querySelector('#free-shipping').hidden,
        on: gb.isOn('free-shipping-banner'),
        source: gb.evalFeature('free-shipping-banner').source,
        viewed: window.dataLayer.filter((e) => e.event === 'experiment_viewed').map((e) => ({ ...e })),
      };
    });
    const atStart = await state();
    assert.deepEqual(atStart.gb, { id: 'visitor-42', intentSegment: 'low', intentScoreBucket: 0 }, 'the intent attributes are GrowthBook attributes');
    assert.deepEqual({ hidden: atStart.hidden, on: atStart.on, viewed: atStart.viewed }, { hidden: true, on: false, viewed: [] }, 'low: no rule, no exposure');

    await page.evaluate(() => { window.__readme.intent.track({ type: 'view_item', item: 'sku-1', price: 59 }); });
    await waitFor(page, () => window.__readme.gb.getAttributes().intentScoreBucket === window.__readme.intent.attributes().intentScoreBucket);
    const browsing = await state();
    assert.equal(browsing.gb.intentSegment, 'low', 'a view does not reach high under the served thresholds');
    assert.deepEqual(browsing.viewed, [], 'still no exposure');

    await page.evaluate(() => { window.__readme.intent.track({ type: 'purchase', item: 'sku-1', price: 59 }); });
    await waitFor(page, () => window.__readme.gb.getAttributes().intentSegment === 'high');
    await waitFor(page, () => window.dataLayer.some((e) => e.event === 'experiment_viewed'));
    const high = await state();
    assert.deepEqual(high.gb, { id: 'visitor-42', intentSegment: 'high', intentScoreBucket: 1 }, 'kept current on the segment change');
    // GrowthBook's variation for this visitor is the one our own hash (version 2) gives.
    const variation = bucket('free-shipping-high-intent', 'visitor-42') < 0.5 ? 0 : 1;
    assert.deepEqual(high.viewed, [{ event: 'experiment_viewed', experiment_id: 'free-shipping-high-intent', variation_id: String(variation), shopper_intent_segment: 'high' }],
      'the trackingCallback logged the exposure once, with the segment');
    assert.equal(high.on, variation === 1);
    assert.equal(high.hidden, !high.on, 'the banner follows the feature');
    assert.equal(high.source, 'experiment');
    await page.evaluate(() => { window.__readme.intent.track({ type: 'view_item', item: 'sku-2' }); });
    await page.evaluate(() => new Promise((r) => setTimeout(r, 100)));
    assert.equal((await state()).viewed.length, 1, 'GrowthBook logs an exposure once');
    // The segment drops (forget() here): the sticky bucket keeps the visitor in the experiment,
    // so the banner stays as it was.
    await page.evaluate(() => { window.__readme.intent.forget(); });
    await waitFor(page, () => window.__readme.gb.getAttributes().intentSegment === 'low');
    await page.evaluate(() => new Promise((r) => setTimeout(r, 100)));
    const dropped = await state();
    assert.equal(dropped.source, 'experiment', 'still in the experiment at low: the condition is skipped for a bucketed visitor');
    assert.deepEqual({ on: dropped.on, hidden: dropped.hidden, viewed: dropped.viewed.length }, { on: high.on, hidden: high.hidden, viewed: 1 }, 'the banner did not change with the segment');
    const kept = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('gbStickyBuckets__')));
    assert.equal(kept.length, 1, 'GrowthBook kept the bucket in localStorage');
    onlyOwnRequests(requests, served);
    quiet(page);
    await context.close();
  },

  async optimizely(code) {
    const { page, context, requests, served } = await runInPage(await bundle(code, 'window.__readme = { intent, user };'), {
      body: '<div id="free-shipping" hidden>Free shipping today</div>',
      routes: {
        '/models/intent.json': { type: 'application/json', body: manifestWith(HIGH_AT_PURCHASE) },
        '/optimizely/datafile.json': { type: 'application/json', body: JSON.stringify(OPTIMIZELY_DATAFILE) },
      },
    });
    const state = () => page.evaluate(() => {
      const { intent, user } = window.__readme;
      return { attributes: { ...user.getAttributes() }, intent: { ...intent.attributes() }, hidden: document.querySelector('#free-shipping').hidden };
    });
    const atStart = await state();
    assert.deepEqual(atStart.attributes, { intentSegment: 'low', intentScoreBucket: 0 }, 'the user context has the intent attributes');
    assert.equal(atStart.hidden, true, 'low: the flag is off');
    await page.evaluate(() => { window.__readme.intent.track({ type: 'view_item', item: 'sku-1', price: 59 }); });
    const browsing = await state();
    assert.deepEqual(browsing.attributes, browsing.intent, 'the attributes follow the score');
    assert.equal(browsing.hidden, true);
    await page.evaluate(() => { window.__readme.intent.track({ type: 'purchase', item: 'sku-1', price: 59 }); });
    const high = await state();
    assert.deepEqual(high.attributes, { intentSegment: 'high', intentScoreBucket: 1 });
    assert.equal(high.hidden, false, 'high: the decision was taken again and the flag is on');
    onlyOwnRequests(requests, served);
    quiet(page);
    await context.close();
  },
};

/** A minimal Optimizely datafile: flag `free_shipping_banner`, on for the audience `intentSegment = high`. */
const OPTIMIZELY_DATAFILE = {
  version: '4', projectId: '1001', accountId: '1001', revision: '1', anonymizeIP: true, botFiltering: false,
  sdkKey: 'readme-test', environmentKey: 'production',
  attributes: [{ id: '2001', key: 'intentSegment' }, { id: '2002', key: 'intentScoreBucket' }],
  audiences: [],
  typedAudiences: [{ id: '3001', name: 'High intent', conditions: ['and', ['or', ['or', { match: 'exact', name: 'intentSegment', type: 'custom_attribute', value: 'high' }]]] }],
  events: [], groups: [], experiments: [], integrations: [],
  featureFlags: [{ id: '4001', key: 'free_shipping_banner', rolloutId: '5001', experimentIds: [], variables: [] }],
  rollouts: [{
    id: '5001',
    experiments: [
      { id: '6001', key: 'high_intent', status: 'Running', layerId: '5001', audienceIds: ['3001'], audienceConditions: ['or', '3001'],
        variations: [{ id: '7001', key: 'on', featureEnabled: true, variables: [] }], trafficAllocation: [{ entityId: '7001', endOfRange: 10000 }], forcedVariations: {} },
      { id: '6002', key: 'everyone_else', status: 'Running', layerId: '5001', audienceIds: [], audienceConditions: [],
        variations: [{ id: '7002', key: 'off', featureEnabled: false, variables: [] }], trafficAllocation: [{ entityId: '7002', endOfRange: 10000 }], forcedVariations: {} },
    ],
  }],
};

test('every block of web/package/README.md is run by a test here or marked a fragment', () => {
  const unmarked = BLOCKS.filter((b) => !b.mark).map((b) => `line ${b.line} (${b.lang || 'no language'})`);
  assert.deepEqual(unmarked, [], 'blocks with neither <!-- test: NAME --> nor <!-- fragment --> before them');
  const named = BLOCKS.filter((b) => b.mark?.test).map((b) => b.mark.test);
  assert.deepEqual([...named].sort(), Object.keys(RUNNERS).sort(), 'one block per runner, one runner per block');
});

for (const name of Object.keys(RUNNERS)) {
  test(`README block '${name}' runs and does what the text says`, { timeout: 90_000 }, () => RUNNERS[name](block(name)));
}

test('the README\'s claim: assignment agrees with the GrowthBook SDK\'s own (hash version 2), 2,000 ids', async () => {
  const { GrowthBook } = await import(pathToFileURL(requireWeb.resolve('@growthbook/growthbook')));
  const exp = checkExperiment({ key: 'agreement', variants: ['a', 'b', 'c'], weights: [0.2, 0.3, 0.5] });
  for (let i = 0; i < 2000; i++) {
    const id = `shopper-${i}`;
    const gb = new GrowthBook({ attributes: { id } });
    const theirs = gb.run({ key: 'agreement', variations: ['a', 'b', 'c'], weights: [0.2, 0.3, 0.5], hashVersion: 2 });
    assert.equal(theirs.inExperiment, true);
    assert.equal(theirs.value, assign(exp, id), `id ${id}: bucket ${bucket('agreement', id)}`);
    gb.destroy();
  }
});

test('readmeBlocks reads fences and their marks', () => {
  const md = '# t\n<!-- test: one -->\n```js\na();\n```\n\n<!-- fragment -->\n\n```text\nx\n```\n```sh\nmake\n```\n';
  assert.deepEqual(readmeBlocks(md), [
    { lang: 'js', code: 'a();\n', mark: { test: 'one' }, line: 3 },
    { lang: 'text', code: 'x\n', mark: { fragment: true }, line: 9 },
    { lang: 'sh', code: 'make\n', mark: null, line: 12 },
  ]);
});

