#!/usr/bin/env node
// `make bench`: the project's benchmark. Figures, never assertions.
//
//   node tests/bench/run.mjs [--models DIR] [--out build/bench] [--md BENCHMARKS.md]
//                            [--passes 5] [--million 1000000] [--visits 3] [--slow-cpu 4] [--quick] [--no-firefox] [--no-webkit]
//                            [--cli target/native/shopper-intent] [--input UserBehavior_first100k.csv]
//
// In one run: the replay fixture (the test users' events and the engine's feature rows, from
// the CLI), ONNX step graphs of the model for onnxruntime-web (tests/bench/tools/onnx_step.py,
// beside the model's own ONNX file when it has one), the native CLI benchmark, then headless
// Chromium (tests/bench/browser.mjs): our package and onnxruntime-web, first and repeat visits
// (also on a CPU slowed --slow-cpu times, a phone's; 0 skips them),
// per-event times, memory after 1M events; then the same in headless Firefox (--no-firefox skips
// it) and in WebKitGTK under Xvfb (--no-webkit skips it; without a DISPLAY, run this under
// xvfb-run as `make bench` does). It prints one side-by-side table, writes OUT/results.json, and regenerates BENCHMARKS.md
// and BENCHMARKS.svg (tests/bench/report.mjs), keeping BENCHMARKS.md's hand-written notes.
//
// --models (or $MODELS) is the model directory, default models/. --quick is for working on the
// bench itself: 2 passes, 50,000 memory events, 1 visit each, no slowed CPU (a --slow-cpu after it
// adds them). Needs `make wasm` and `make cli`.

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { PKG, REPO, WEB } from '../browser/helpers.mjs';
import { runBrowser } from './browser.mjs';
import { FIREFOX } from '../browser/firefox.mjs';
import { WEBKIT_DRIVER } from '../browser/webkit.mjs';
import { table, writeReport } from './report.mjs';

function parseArgs(argv) {
  const a = {
    models: process.env.MODELS || 'models', out: 'build/bench', md: 'BENCHMARKS.md',
    passes: 5, million: 1_000_000, visits: 3, slowCpu: 4, firefox: true, webkit: true,
    cli: process.env.CLI || join(process.env.CARGO_TARGET_DIR || join(REPO, 'target'), 'native', 'shopper-intent'),
    input: process.env.TAOBAO || join(REPO, '..', 'shared', 'data', 'taobao', 'UserBehavior_first100k.csv'),
    python: process.env.PYTHON || join(REPO, 'models', '.venv', 'bin', 'python'),
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => { if (i + 1 >= argv.length) throw new UsageError(`${k} needs a value`); return argv[++i]; };
    if (k === '--models') a.models = v();
    else if (k === '--out') a.out = v();
    else if (k === '--md') a.md = v();
    else if (k === '--passes') a.passes = Number(v());
    else if (k === '--million') a.million = Number(v());
    else if (k === '--visits') a.visits = Number(v());
    else if (k === '--slow-cpu') a.slowCpu = Number(v());
    else if (k === '--cli') a.cli = v();
    else if (k === '--input') a.input = v();
    else if (k === '--quick') Object.assign(a, { passes: 2, million: 50_000, visits: 1, slowCpu: 0 });
    else if (k === '--no-firefox') a.firefox = false;
    else if (k === '--no-webkit') a.webkit = false;
    else throw new UsageError(`unknown argument ${k}`);
  }
  if (!(a.slowCpu === 0 || (a.slowCpu > 1 && Number.isFinite(a.slowCpu)))) throw new UsageError(`--slow-cpu is how many times slower (more than 1), or 0 to skip those visits (got ${a.slowCpu})`);
  for (const p of ['models', 'out', 'md', 'cli', 'input', 'python']) a[p] = resolve(REPO, a[p]);
  return a;
}

/** `shopper-intent` reads Taobao logs at UTC+8 unless told otherwise (crate/cli/src/main.rs). */
const TAOBAO_UTC_OFFSET_MIN = 480;

const say = (line) => console.error(`bench: ${line}`);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const tryRun = (cmd, args) => { try { return run(cmd, args).trim(); } catch { return null; } };

/** A missing input or a wrong option: reported without a stack. */
class UsageError extends Error {}

/** Everything the run needs, or one error naming what is missing and how to make it. */
function check(a) {
  const missing = [];
  if (!existsSync(a.cli)) missing.push(`${a.cli} (make cli)`);
  if (!existsSync(join(PKG, 'shopper_intent_wasm.js'))) missing.push(`${PKG}/shopper_intent_wasm.js (make wasm)`);
  if (!existsSync(a.input)) missing.push(`${a.input} (the Taobao sample, ../shared/data or $TAOBAO)`);
  if (!existsSync(join(a.models, 'intent.json'))) missing.push(`${a.models}/intent.json (MODELS=DIR names another model directory)`);
  if (!existsSync(join(WEB, 'node_modules', 'onnxruntime-web'))) missing.push('web/node_modules/onnxruntime-web (make tools-browser)');
  if (a.firefox && !existsSync(FIREFOX)) missing.push(`${FIREFOX} (make tools-browser installs Debian's firefox-esr; or --no-firefox)`);
  if (a.webkit && !existsSync(WEBKIT_DRIVER)) missing.push(`${WEBKIT_DRIVER} (make tools-browser installs Debian's webkit2gtk-driver; or --no-webkit)`);
  if (a.webkit && !process.env.DISPLAY) missing.push('a DISPLAY for WebKitGTK (run under xvfb-run -a, as make bench does; or --no-webkit)');
  if (missing.length) throw new UsageError(`missing:\n  ${missing.join('\n  ')}`);
  const manifest = JSON.parse(readFileSync(join(a.models, 'intent.json'), 'utf8'));
  if (manifest.format !== 2 || !manifest.model?.weights) {
    throw new UsageError(`${a.models}/intent.json is manifest format ${manifest.format}; the engine reads format 2 (point MODELS at a format-2 model, e.g. MODELS=build/random-model)`);
  }
  if (!existsSync(join(a.models, manifest.model.weights))) throw new UsageError(`${a.models}/${manifest.model.weights}: the weights file the manifest names is missing`);
  return manifest;
}

/** The newest file under `dir` (recursively), as mtime ms. */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** A warning when the wasm package is older than the engine's sources (then `make wasm`). */
function staleWasm() {
  const built = statSync(join(PKG, 'shopper_intent_wasm.js')).mtimeMs;
  const sources = Math.max(...['core', 'wasm'].map((c) => newest(join(REPO, 'crate', c, 'src'))));
  return sources > built ? `the wasm package (${relative(REPO, PKG)}) is older than crate/core or crate/wasm sources: these figures may not be of the current code (make wasm)` : null;
}

/** build/bench/site, served as /models/: the model, its ONNX step graphs, onnxruntime-web, the fixture. */
function prepareSite(a, manifest) {
  const site = join(a.out, 'site');
  rmSync(site, { recursive: true, force: true });
  mkdirSync(join(site, 'ort'), { recursive: true });
  copyFileSync(join(a.models, 'intent.json'), join(site, 'intent.json'));
  copyFileSync(join(a.models, manifest.model.weights), join(site, basename(manifest.model.weights)));
  const dist = join(WEB, 'node_modules', 'onnxruntime-web', 'dist');
  for (const f of ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']) copyFileSync(join(dist, f), join(site, 'ort', f));

  say('fixture: the test users of seed 0 and the engine\'s feature rows (replay-fixture)');
  run(a.cli, ['replay-fixture', '--input', a.input, '--model', join(a.models, 'intent.json'), '--seed', '0', '--split', 'test', '--out', join(site, 'fixture')]);
  const fixture = describeFixture(join(site, 'fixture'), manifest);
  say(`fixture: ${fixture.summary}`);

  const onnx = [];
  const notes = [];
  const own = manifest.model.onnx?.file;
  if (own && existsSync(join(a.models, own))) {
    copyFileSync(join(a.models, own), join(site, 'shipped.onnx'));
    const { inputs = [], outputs = [] } = manifest.model.onnx;
    onnx.push({ name: 'model ONNX', file: 'shipped.onnx', source: `${relative(REPO, join(a.models, own))}`, io: [...inputs, ...outputs] });
  } else {
    notes.push(own ? `the manifest names ${own}, which is missing` : 'the model has no ONNX file (manifest model.onnx)');
  }
  if (existsSync(a.python)) {
    try {
      const gen = run(a.python, [join(REPO, 'tests', 'bench', 'tools', 'onnx_step.py'), '--models', a.models, '--out', site]);
      say(gen.trim().split('\n').join('\nbench: '));
      const io = ['x', 'h', 'c', 'p', 'h_out', 'c_out'];
      onnx.push({ name: 'ONNX LSTM op', file: 'step-lstm.onnx', source: 'tests/bench/tools/onnx_step.py (LSTM operator)', io, check: gen });
      onnx.push({ name: 'cell as MatMul + activations', file: 'step-cell.onnx', source: 'tests/bench/tools/onnx_step.py (cell written out)', io, check: gen });
    } catch (e) {
      notes.push(`generating ONNX step graphs failed: ${String(e.stderr || e.message).trim().split('\n').at(-1)}`);
    }
  } else {
    notes.push(`no Python with onnx at ${a.python} (PYTHON=...): ONNX step graphs not generated`);
  }
  for (const n of notes) say(n);
  return { site, fixture, onnx, notes };
}

/** Users, events, scored events, and scored events past the window, of a replay fixture. */
function describeFixture(dir, manifest) {
  const { width, users } = JSON.parse(readFileSync(join(dir, 'events.json'), 'utf8'));
  const buf = readFileSync(join(dir, 'rows.f32'));
  const rows = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const at = manifest.sequence_features.indexOf('log_position');
  const events = users.flatMap((u) => u.events);
  const scored = events.filter((e) => e.row >= 0);
  const past = at < 0 ? null : scored.filter((e) => Math.round(Math.exp(rows[e.row * width + at])) > manifest.window).length;
  return {
    command: 'replay-fixture --seed 0 --split test',
    users: users.length, events: events.length, scored: scored.length, pastWindow: past,
    summary: `${events.length} events of ${users.length} test users, ${scored.length} scored, ${past ?? '?'} of them past position ${manifest.window} of their session`,
  };
}

/** The CLI's benchmark; tract also times every ONNX graph of the step the page site holds. */
function native(a, site) {
  say('native: shopper-intent bench');
  const json = join(a.out, 'native.json');
  const graphs = site.onnx.flatMap((g) => ['--graph', join(site.site, g.file)]);
  const stdout = run(a.cli, ['bench', '--input', a.input, '--model', join(a.models, 'intent.json'), '--json', json, ...graphs]);
  for (const line of stdout.trim().split('\n')) say(`  ${line}`);
  return { command: `shopper-intent bench --input ${relative(REPO, a.input)} --model ${relative(REPO, join(a.models, 'intent.json'))}`, ...JSON.parse(readFileSync(json, 'utf8')) };
}

function machine() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const dirty = tryRun('git', ['status', '--porcelain', '--untracked-files=no']);
  return {
    cpu: cpuinfo.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    rustc: tryRun('rustc', ['--version']),
    onnxruntimeWeb: JSON.parse(readFileSync(join(WEB, 'node_modules', 'onnxruntime-web', 'package.json'), 'utf8')).version,
    commit: tryRun('git', ['rev-parse', '--short=12', 'HEAD']),
    dirty: dirty ? dirty.split('\n').length : 0,
    loadavg: { start: loadavg() },
  };
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const manifest = check(a);
  mkdirSync(a.out, { recursive: true });
  const started = Date.now();
  const results = { generatedAt: new Date().toISOString(), machine: machine(), settings: { passes: a.passes, million: a.million, visits: a.visits, slowCpu: a.slowCpu } };
  const shippedDir = resolve(REPO, 'models');
  results.model = {
    dir: relative(REPO, a.models) || '.',
    shipped: a.models === shippedDir,
    name: manifest.name, window: manifest.window, inputs: manifest.model.inputs, hidden: manifest.model.hidden, head: manifest.model.head ?? 0,
  };
  const site = prepareSite(a, manifest);
  results.fixture = site.fixture;
  results.notes = site.notes;
  const stale = staleWasm();
  if (stale) { say(`warning: ${stale}`); results.notes.unshift(stale); }
  results.native = native(a, site);
  results.machine.loadavg.beforeBrowser = loadavg();
  // The fixture's features use the CLI's offset for Taobao logs (+08:00); the page's engine must too.
  const settings = { site: site.site, onnx: site.onnx, utc: TAOBAO_UTC_OFFSET_MIN, passes: a.passes, million: a.million, visitsPerEngine: a.visits, slowCpu: a.slowCpu, log: say };
  results.browser = await runBrowser({ browserName: 'chromium', ...settings });
  if (a.firefox) {
    results.machine.loadavg.beforeFirefox = loadavg();
    results.firefox = await runBrowser({ browserName: 'firefox', ...settings });
  }
  if (a.webkit) {
    results.machine.loadavg.beforeWebKit = loadavg();
    results.webkit = await runBrowser({ browserName: 'webkit', ...settings });
  }
  results.machine.loadavg.end = loadavg();
  results.seconds = (Date.now() - started) / 1000;
  writeFileSync(join(a.out, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
  console.log(table(results));
  const written = writeReport(results, a.md);
  say(`wrote ${relative(REPO, join(a.out, 'results.json'))}, ${written.map((p) => relative(REPO, p)).join(', ')} in ${results.seconds.toFixed(0)} s`);
}

main().catch((e) => {
  console.error(`bench: ${e instanceof UsageError ? e.message : e.stack ?? e}`);
  process.exit(1);
});
