// The browser half of `make bench`: serves a prepared site folder as /models/, opens
// web/bench/bench.html in headless Chromium (or Firefox, or WebKitGTK) once per measurement, and digests what the
// page reports (raw per-event times) into statistics. Figures only, nothing is asserted.

import { spawn } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { CHROMIUM_ARGS, PKG, REPO, WEB } from '../browser/helpers.mjs';
import { launchFirefox } from '../browser/firefox.mjs';
import { launchWebKit } from '../browser/webkit.mjs';
import { summary, LENGTH_BUCKETS, tail } from './stats.mjs';

const require = createRequire(join(WEB, 'package.json'));
const { chromium } = require('playwright-core');

/**
 * Flags on top of the tests' (tests/browser/helpers.mjs): exact JS heap figures, `gc()` before
 * reading them, and no throttling of a page that the headless browser thinks is in the background.
 */
const BENCH_ARGS = ['--enable-precise-memory-info', '--js-flags=--expose-gc', '--disable-background-timer-throttling', '--disable-renderer-backgrounding'];

/**
 * Headless Chromium with the bench flags, or headless Firefox (tests/browser/firefox.mjs), or
 * WebKitGTK before the server at `target` (tests/browser/webkit.mjs: pages open its `url`).
 */
function launch(name, target) {
  if (name === 'firefox') return launchFirefox();
  if (name === 'webkit') return launchWebKit(target);
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...BENCH_ARGS] });
}

/** web/dev/serve.mjs on a free port with `site` as /models/; resolves to {url, close()}. */
function serve(site) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(WEB, 'dev', 'serve.mjs'), '--port', '0', '--quiet', '--pkg', PKG, '--models', site], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) resolve({ url: m[1], close: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }) });
    });
    child.once('exit', (code) => reject(new Error(`serve.mjs exited (${code}): ${err}`)));
  });
}

/**
 * Opens bench.html with `query` in `context`; resolves to the page's result. With `cpu` > 1
 * (Chromium only), the page's CPU is slowed that many times (DevTools' CPU throttling) from
 * before its navigation.
 */
async function visit(context, url, query, timeoutMs, cpu = 1) {
  const page = await context.newPage();
  if (cpu > 1) await (await context.newCDPSession(page)).send('Emulation.setCPUThrottlingRate', { rate: cpu });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${url}/bench.html?${new URLSearchParams(query)}`);
  const result = await page.waitForFunction(() => document.body.dataset.done === 'true', null, { timeout: timeoutMs, polling: 500 })
    .then(() => page.evaluate(() => window.benchResult));
  await page.close();
  if (result.error) throw new Error(`bench page (${JSON.stringify(query)}): ${result.error}`);
  result.consoleErrors = errors;
  return result;
}

/** Bytes a first visit fetched for the engine itself: raw and gzip -9, by kind. */
async function shippedBytes(url, resources, engine) {
  // The peer's page reads our manifest only for F and H, which a page of its own would know.
  const skip = engine === 'ort' ? /\/(bench\.html|bench\.js|favicon\.svg)$|\/models\/fixture\/|\/models\/intent\.json$/ : /\/(bench\.html|bench\.js|favicon\.svg)$|\/models\/fixture\//;
  const seen = new Set();
  const files = [];
  for (const r of resources) {
    const u = new URL(r.url);
    if (u.origin !== url || seen.has(u.pathname) || skip.test(u.pathname)) continue;
    seen.add(u.pathname);
    const body = Buffer.from(await (await fetch(`${url}${u.pathname}`)).arrayBuffer());
    const kind = /\.wasm$/.test(u.pathname) ? 'wasm' : /\.m?js$/.test(u.pathname) ? 'js' : 'model';
    files.push({ path: u.pathname, kind, raw: body.length, gzip: gzipSync(body, { level: 9 }).length });
  }
  const total = (kind) => files.filter((f) => !kind || f.kind === kind).reduce((a, f) => ({ raw: a.raw + f.raw, gzip: a.gzip + f.gzip }), { raw: 0, gzip: 0 });
  return { files, wasm: total('wasm'), js: total('js'), model: total('model'), total: total() };
}

function loadFigures(r) {
  return {
    importMs: r.importMs,
    startSinceNavigationMs: r.startSinceNavigationMs,
    loadMs: r.loadMs,
    firstScoreMs: r.firstScoreMs,
    firstScoreSinceNavigationMs: r.firstScoreSinceNavigationMs,
    longTasks: r.loadLongTasks.length,
    longTasksObservable: r.longTasksObservable !== false,
    longestTaskMs: Math.max(0, ...r.loadLongTasks.map((t) => t.duration)),
    longestGapMs: r.longestGapMs,
    longestGapAtMs: r.longestGapAtMs,
    phases: r.phases,
  };
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
}

/**
 * First and repeat visits: `reps` fresh browser contexts, two visits each; medians and every
 * figure. One visit in its own context goes before them and is not counted: the local server
 * compresses each file on its first request (a CDN has done that long before a shopper comes).
 */
async function visits(browser, url, query, reps, cpu = 1) {
  const first = [];
  const repeat = [];
  let firstRaw = null;
  const warm = await browser.newContext();
  try {
    await visit(warm, url, { ...query, run: 'load' }, 120_000);
  } finally {
    await warm.close();
  }
  for (let i = 0; i < reps; i++) {
    const context = await browser.newContext();
    try {
      const a = await visit(context, url, { ...query, run: 'load' }, 120_000, cpu);
      const b = await visit(context, url, { ...query, run: 'load' }, 120_000, cpu);
      firstRaw ??= a;
      first.push(loadFigures(a));
      repeat.push(loadFigures(b));
    } finally {
      await context.close();
    }
  }
  const med = (list) => ({
    importMs: median(list.map((v) => v.importMs)),
    startSinceNavigationMs: median(list.map((v) => v.startSinceNavigationMs)),
    loadMs: median(list.map((v) => v.loadMs)),
    firstScoreMs: median(list.map((v) => v.firstScoreMs)),
    firstScoreSinceNavigationMs: median(list.map((v) => v.firstScoreSinceNavigationMs)),
    longTasks: Math.max(...list.map((v) => v.longTasks)),
    longTasksObservable: list.every((v) => v.longTasksObservable),
    longestTaskMs: Math.max(...list.map((v) => v.longestTaskMs)),
    longestGapMs: Math.max(...list.map((v) => v.longestGapMs)),
    longestGapAtMs: list.reduce((a, v) => (v.longestGapMs > a.longestGapMs ? v : a)).longestGapAtMs,
    all: list,
  });
  return { first: med(first), repeat: med(repeat), firstRaw };
}

/** The path of the one wasm file a visit fetched. */
function wasmPath(resources) {
  const paths = [...new Set(resources.map((r) => new URL(r.url).pathname).filter((p) => /\.wasm$/.test(p)))];
  if (paths.length !== 1) throw new Error(`a first visit fetched ${paths.length} wasm files (${paths.join(', ')}), expected one`);
  return paths[0];
}

/** Fresh contexts for the floor of a first visit: at least this many, more when --visits asks. */
const FLOOR_VISITS = 5;

/**
 * The floor of a first visit with the wasm file at `wasm`: fresh contexts, each fetching and
 * compiling that file alone (no JS module of ours, nothing instantiated, no engine built).
 * Median and every figure. Runs after the engine's own visits, so the server has compressed
 * the file already.
 */
async function floorVisits(browser, url, wasm, reps) {
  const all = [];
  for (let i = 0; i < reps; i++) {
    const context = await browser.newContext();
    try {
      all.push((await visit(context, url, { run: 'floor', wasm }, 120_000)).floor);
    } finally {
      await context.close();
    }
  }
  return { wasm, visits: reps, compileMs: median(all.map((f) => f.compileMs)), all };
}

/** Statistics of one replay page: first events, steady state, session lengths, memory. */
function digestReplay(r, firstN) {
  const { perPass, positions } = r.replay;
  // To 0.1 ns: differences of large timestamps carry float noise (0.0199999995 for 0.02).
  const times = r.replay.times.map((t) => Math.round(t * 1e7) / 1e7);
  const steady = [];
  const steadyScored = [];
  const byLength = LENGTH_BUCKETS.map(() => []);
  for (let i = perPass; i < times.length; i++) {
    const pos = positions[i % perPass];
    steady.push(times[i]);
    if (pos > 0) {
      steadyScored.push(times[i]);
      byLength[LENGTH_BUCKETS.findIndex(([, lo, hi]) => pos >= lo && pos <= hi)].push(times[i]);
    }
  }
  const mem = r.replay.memory;
  return {
    eventsTimed: times.length,
    perPass,
    passes: r.replay.passes,
    firstEvents: summary(times.slice(0, firstN)),
    firstPass: summary(times.slice(0, perPass)),
    steady: summary(steady),
    steadyScored: summary(steadyScored),
    byLength: Object.fromEntries(LENGTH_BUCKETS.map(([label], k) => [label, summary(byLength[k])])),
    tail: tail(steadyScored),
    timedLongTasks: r.replay.timedLongTasks.length,
    timedLongestTaskMs: Math.max(0, ...r.replay.timedLongTasks.map((t) => t.duration)),
    memory: mem,
    memoryEvents: mem.length ? mem[mem.length - 1].events : 0,
    memorySeconds: r.replay.memoryMs / 1000,
  };
}

/** The bench page's query for onnxruntime-web on one step graph. */
function ortQuery(v) {
  return { engine: 'ort', onnx: `/models/${v.file}`, ...(v.io?.length === 6 ? { io: v.io.join(',') } : {}) };
}

/** Largest |difference| between two engines' scores of the same rows (pass 1 of each). */
function parity(a, b) {
  let worst = 0;
  let n = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] === null || b[i] === null) continue;
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    n++;
  }
  return { rows: n, maxAbsDiff: n ? worst : null };
}

/**
 * Runs every browser measurement in `browserName` ('chromium', 'firefox' or 'webkit'). `site` is served as
 * /models/ and holds intent.json, the weights, the ONNX step graphs named in `onnx` ([{name,
 * file}]), ort/ and fixture/.
 */
export async function runBrowser({ browserName = 'chromium', site, onnx, utc, passes = 5, million = 1_000_000, visitsPerEngine = 3, firstN = 50, slowCpu = 0, log: print = console.error }) {
  const server = await serve(site);
  const browser = await launch(browserName, server.url);
  // WebKit's pages open the front server of webkit.mjs, which forwards to the server.
  const pageUrl = browser.url ?? server.url;
  const log = (line) => print(line.replace(/^browser:/, `${browserName}:`));
  const fresh = async (query, timeoutMs) => {
    const context = await browser.newContext();
    try { return await visit(context, pageUrl, query, timeoutMs); } finally { await context.close(); }
  };
  try {
    const out = { name: browserName, version: browser.version(), ours: {}, ort: { variants: {} } };

    log('browser: our package, first and repeat visits');
    const ours = { engine: 'ours', ...(utc === undefined ? {} : { utc }) };
    const oursVisits = await visits(browser, pageUrl, ours, visitsPerEngine);
    // A phone's slower CPU, in Chromium only (its DevTools protocol can slow a page).
    const slow = slowCpu > 1 && browserName === 'chromium';
    if (slow) {
      log(`browser: our package, first and repeat visits on a CPU slowed ${slowCpu}x`);
      out.ours.slowVisits = { rate: slowCpu, ...(await visits(browser, pageUrl, ours, visitsPerEngine, slowCpu)) };
      delete out.ours.slowVisits.firstRaw;
    }
    const floorReps = Math.max(FLOOR_VISITS, visitsPerEngine);
    log(`browser: the floor: our wasm fetched and compiled alone (${floorReps} fresh contexts)`);
    out.ours.floor = await floorVisits(browser, pageUrl, wasmPath(oursVisits.firstRaw.resources), floorReps);
    log(`browser: our package, replay (${passes} passes) and ${million} events for memory`);
    const oursRun = await fresh({ ...ours, run: 'replay', passes, million }, 600_000);
    out.page = { timerResolutionMs: oursRun.timerResolutionMs, crossOriginIsolated: oursRun.crossOriginIsolated, userAgent: oursRun.userAgent };
    Object.assign(out.ours, {
      visits: { first: oursVisits.first, repeat: oursVisits.repeat },
      bytes: await shippedBytes(pageUrl, oursVisits.firstRaw.resources, 'ours'),
      simd: oursRun.simd,
      model: oursRun.modelInfo,
      replay: digestReplay(oursRun, firstN),
      wasmBytesAfterLoad: oursRun.wasmBytesAfterLoad,
      consoleErrors: oursRun.consoleErrors,
      violations: oursRun.violations,
    });

    for (const v of onnx) {
      log(`browser: onnxruntime-web with ${v.file}, replay (${passes} passes)`);
      const r = await fresh({ ...ortQuery(v), run: 'replay', passes, million: 0 }, 600_000);
      out.ort.variants[v.name] = { ...v, replay: digestReplay(r, firstN), parity: parity(oursRun.replay.scores, r.replay.scores), inputs: r.onnxInputs, outputs: r.onnxOutputs, violations: r.violations };
    }
    const ranked = Object.values(out.ort.variants).sort((a, b) => a.replay.steadyScored.p50 - b.replay.steadyScored.p50 || a.replay.steadyScored.mean - b.replay.steadyScored.mean);
    if (ranked.length) {
      const best = ranked[0];
      out.ort.best = best.name;
      const query = ortQuery(best);
      log(`browser: onnxruntime-web (${best.name}, its fastest), first and repeat visits`);
      const ortVisits = await visits(browser, pageUrl, query, visitsPerEngine);
      if (slow) {
        log(`browser: onnxruntime-web (${best.name}), first and repeat visits on a CPU slowed ${slowCpu}x`);
        out.ort.slowVisits = { rate: slowCpu, ...(await visits(browser, pageUrl, query, visitsPerEngine, slowCpu)) };
        delete out.ort.slowVisits.firstRaw;
      }
      log(`browser: the floor with the peer's wasm (${floorReps} fresh contexts)`);
      out.ort.floor = await floorVisits(browser, pageUrl, wasmPath(ortVisits.firstRaw.resources), floorReps);
      log(`browser: onnxruntime-web (${best.name}), ${million} events for memory`);
      const mem = await fresh({ ...query, run: 'replay', passes: 0, million }, 900_000);
      Object.assign(out.ort, {
        visits: { first: ortVisits.first, repeat: ortVisits.repeat },
        bytes: await shippedBytes(pageUrl, ortVisits.firstRaw.resources, 'ort'),
        memory: mem.replay.memory,
        memoryEvents: mem.replay.memory.at(-1)?.events ?? 0,
        memorySeconds: mem.replay.memoryMs / 1000,
        wasmBytesAfterLoad: mem.wasmBytesAfterLoad,
      });
    }
    return out;
  } finally {
    await browser.close().catch(() => {});
    await server.close();
  }
}

export { REPO };
