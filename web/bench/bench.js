// The benchmark page (web/bench/bench.html): one engine per page, measured as a storefront
// would use it. Figures only; nothing is asserted. tests/bench/run.mjs drives it in headless
// Chromium and turns the raw figures into statistics; opened by hand it prints a short summary.
//
// Query parameters:
//   engine=ours|ort     our package (`intent.track(event)`) or onnxruntime-web (`session.run`)
//   run=quick|load|replay
//       quick  (default) load, then `events` synthetic events: a smoke run for a person or a test
//       load   load and score one event, nothing else: a first or repeat visit
//       replay load, then replay the fixture's users `passes` times, timing every event, then
//              track `million` more events untimed, reading the memory every 100,000
//       floor  no engine at all: the wasm file `wasm=` fetched and compiled alone
//              (WebAssembly.compileStreaming), nothing imported or instantiated: a part of a first
//              visit no JS of ours can shorten (the engine is built after it, in that module)
//   model=/models/intent.json   our manifest;  onnx=/models/intent.onnx   the peer's step graph
//   io=x,h,c,p,h_out,c_out      the graph's input and output names (default: the graph's own order)
//   ort=/models/ort/            onnxruntime-web's files;  fixture=/models/fixture/  events.json + rows.f32
//
// The result is `window.benchResult` (a promise). The page is served cross-origin isolated
// (web/dev/serve.mjs), so performance.now() has 5 us steps instead of 100 us.

const params = new URLSearchParams(location.search);
const ENGINE = params.get('engine') ?? 'ours';
const RUN = params.get('run') ?? 'quick';
const MODEL = params.get('model') ?? '/models/intent.json';
const ONNX = params.get('onnx') ?? '/models/intent.onnx';
const ORT_DIR = params.get('ort') ?? '/models/ort/';
/** The step graph's input and output names (x, h, c, p, h', c'), as the manifest's model.onnx gives them. */
const IO = params.get('io')?.split(',') ?? null;
const FIXTURE = params.get('fixture') ?? '/models/fixture/';
const PASSES = Number(params.get('passes') ?? 5);
const MILLION = Number(params.get('million') ?? 1_000_000);
const QUICK_EVENTS = Number(params.get('events') ?? 2000);
/** The shop's UTC offset, as the fixture was made with (the CLI reads Taobao logs at +480). */
const UTC_OFFSET = params.has('utc') ? Number(params.get('utc')) : undefined;
/** Long tasks this long after the first score still count as the load's. */
const AFTER_FIRST_MS = 500;
/** Events timed one by one between two yields to the page's event loop (the yield is not timed). */
const SLICE = 200;

const out = document.getElementById('out');
const log = (line) => { if (out) out.textContent += `${line}\n`; };

const longTasks = [];
/** Firefox and Safari have no Long Tasks API: there "no long task" cannot be observed. */
const LONG_TASKS_OBSERVABLE = PerformanceObserver.supportedEntryTypes?.includes('longtask') === true;
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
} catch {
  log('longtask entries are not supported here');
}
// Gaps between turns of a 0 ms timer, from the page's start to the end of the load window: the
// longest bounds the longest task from above (a 0 ms timer comes back every 4 ms or so), also
// where there is no Long Tasks API. Stopped before anything is timed per event.
const gaps = [];
let beating = true;
let beatAt = performance.now();
const beat = () => {
  const t = performance.now();
  gaps.push({ start: beatAt, duration: t - beatAt });
  beatAt = t;
  if (beating) setTimeout(beat, 0);
};
setTimeout(beat, 0);

const violations = [];
addEventListener('securitypolicyviolation', (e) => violations.push(`${e.violatedDirective} ${e.blockedURI}`));

/** A macrotask: timers (the package's save) and rendering get their turn. */
const yieldToPage = () => new Promise((resolve) => {
  const ch = new MessageChannel();
  ch.port1.onmessage = () => resolve();
  ch.port2.postMessage(null);
});

/** The smallest positive step of performance.now() seen in a short busy loop, in ms. */
function timerResolution() {
  let best = Infinity;
  const end = performance.now() + 20;
  let last = performance.now();
  while (last < end) {
    const t = performance.now();
    if (t > last) { best = Math.min(best, t - last); last = t; }
  }
  return best;
}

function heapBytes() {
  globalThis.gc?.(); // with --js-flags=--expose-gc
  return performance.memory?.usedJSHeapSize ?? null;
}

function tasksSince(t) {
  return longTasks.filter((e) => e.start + e.duration >= t).map((e) => ({ start: e.start, duration: e.duration }));
}

// ---------------------------------------------------------------------------------------------
// The two engines behind one interface: load(), first(), a user's replay, memory.

async function ours() {
  const t0 = performance.now();
  // The bundled module, as a shop ships it (one request); `?sources` measures the ten modules.
  const engine = await import(new URLSearchParams(location.search).has('sources') ? '/shopper-intent.js' : '/shopper-intent.min.js');
  const { ShopperIntent } = engine;
  const importedAt = performance.now();
  const options = { model: MODEL, storage: 'memory', autoCapture: false };
  if (UTC_OFFSET !== undefined) options.utcOffsetMinutes = UTC_OFFSET;
  const intent = await ShopperIntent.load(options);
  const readyAt = performance.now();
  if (intent.status !== 'ready') throw new Error(`not ready: ${JSON.stringify(intent.error)}`);
  const update = intent.track({ type: 'view_item', item: 'bench-first', category: 'bench', price: 10 });
  const firstAt = performance.now();
  return {
    t0, importedAt, readyAt, firstAt, firstScore: update?.score ?? null, phases: intent._timings, simd: engine.simdSupported(),
    model: intent.model,
    memory: () => engine.wasmMemoryBytes(),
    /** Times every event of one user; `score[row]` gets the score of each scored event. */
    replay(events, times, slot, scores) {
      intent.forget();
      let n = slot;
      for (const ev of events) {
        const t = performance.now();
        const u = intent.track(ev);
        times[n++] = performance.now() - t;
        if (scores && ev.row >= 0 && u) scores[ev.row] = u.scored ? u.score : NaN;
      }
      return n;
    },
    untimed(events) {
      intent.forget();
      for (const ev of events) intent.track(ev);
      return events.length;
    },
    scoredOnly: false,
  };
}

/** Finds the linear memory of the next wasm instance made (onnxruntime-web keeps its own private). */
function watchWasmMemory() {
  const found = [];
  const look = (v) => { if (v instanceof WebAssembly.Memory) found.push(v); };
  const scan = (result, imports) => {
    const instance = result?.instance ?? result;
    for (const v of Object.values(instance?.exports ?? {})) look(v);
    for (const ns of Object.values(imports ?? {})) for (const v of Object.values(ns ?? {})) look(v);
  };
  for (const name of ['instantiate', 'instantiateStreaming']) {
    const original = WebAssembly[name];
    WebAssembly[name] = async function (source, imports) {
      const result = await original.call(this, source, imports);
      scan(result, imports);
      return result;
    };
  }
  return () => found.reduce((a, m) => a + m.buffer.byteLength, 0);
}

async function ort() {
  // A page running its own model knows F and H; here they come from the manifest, read untimed.
  const { inputs: F, hidden: H } = (await (await fetch(MODEL)).json()).model;
  const memory = watchWasmMemory();
  const t0 = performance.now();
  const ortModule = await import(`${ORT_DIR}ort.wasm.min.mjs`);
  const o = ortModule.default ?? ortModule;
  const importedAt = performance.now();
  o.env.wasm.numThreads = 1;
  o.env.wasm.proxy = false;
  o.env.wasm.wasmPaths = ORT_DIR;
  const session = await o.InferenceSession.create(ONNX, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const readyAt = performance.now();
  const [xName, hName, cName] = IO?.slice(0, 3) ?? session.inputNames;
  const [pName, hOut, cOut] = IO?.slice(3, 6) ?? session.outputNames;
  const zero = () => new o.Tensor('float32', new Float32Array(H), [1, H]);
  const first = await session.run({ [xName]: new o.Tensor('float32', new Float32Array(F), [1, F]), [hName]: zero(), [cName]: zero() });
  const firstAt = performance.now();
  return {
    t0, importedAt, readyAt, firstAt, firstScore: first[pName].data[0], phases: null, simd: null,
    inputs: session.inputNames, outputs: session.outputNames,
    memory,
    /** Runs the step for every scored event of one user, carrying (h, c); a new session starts from zeros. */
    async replay(events, times, slot, scores, rows, position) {
      let h = zero();
      let c = zero();
      let n = slot;
      for (const ev of events) {
        if (ev.row < 0) continue;
        if (position(ev.row) === 1) { h = zero(); c = zero(); }
        const x = rows.subarray(ev.row * F, (ev.row + 1) * F);
        const t = performance.now();
        const r = await session.run({ [xName]: new o.Tensor('float32', x, [1, F]), [hName]: h, [cName]: c });
        times[n++] = performance.now() - t;
        h = r[hOut];
        c = r[cOut];
        if (scores) scores[ev.row] = r[pName].data[0];
      }
      return n;
    },
    async untimed(events, rows, position) {
      let h = zero();
      let c = zero();
      let n = 0;
      for (const ev of events) {
        if (ev.row < 0) continue;
        if (position(ev.row) === 1) { h = zero(); c = zero(); }
        const r = await session.run({ [xName]: new o.Tensor('float32', rows.subarray(ev.row * F, (ev.row + 1) * F), [1, F]), [hName]: h, [cName]: c });
        h = r[hOut];
        c = r[cOut];
        n++;
      }
      return n;
    },
    scoredOnly: true,
  };
}

// ---------------------------------------------------------------------------------------------
// The fixture: events per user, and the engine's feature row of each scored event.

async function loadFixture() {
  const [events, rowBytes] = await Promise.all([
    fetch(`${FIXTURE}events.json`).then((r) => r.json()),
    fetch(`${FIXTURE}rows.f32`).then((r) => r.arrayBuffer()),
  ]);
  const manifest = await (await fetch(MODEL)).json();
  const rows = new Float32Array(rowBytes);
  const F = events.width;
  if (F !== manifest.model.inputs) throw new Error(`the fixture's rows have ${F} columns, the model reads ${manifest.model.inputs}`);
  const at = manifest.sequence_features.indexOf('log_position');
  if (at < 0) throw new Error('the manifest has no log_position feature: session positions are unknown');
  // log_position = ln(1 + events before this one in the session): 1 is a session's first event.
  const position = (row) => Math.round(Math.exp(rows[row * F + at]));
  return { users: events.users, rows, width: F, position };
}

async function replay(engine, fixture) {
  const { users, rows, position } = fixture;
  const all = users.flatMap((u) => u.events);
  const perPass = engine.scoredOnly ? all.filter((e) => e.row >= 0).length : all.length;
  const times = new Float64Array(perPass * PASSES);
  // The position in its session of each event of a pass (0: not scored).
  const pos = new Int32Array(perPass);
  let k = 0;
  for (const ev of all) if (!engine.scoredOnly || ev.row >= 0) pos[k++] = ev.row >= 0 ? position(ev.row) : 0;
  const scores = new Float64Array(rows.length / fixture.width).fill(NaN);
  const tasksFrom = performance.now();
  let n = 0;
  let sliceStart = 0;
  for (let pass = 0; pass < PASSES; pass++) {
    for (const user of users) {
      n = await engine.replay(user.events, times, n, pass === 0 ? scores : null, rows, position);
      if (n - sliceStart >= SLICE) { await yieldToPage(); sliceStart = n; }
    }
  }
  const timedTasks = tasksSince(tasksFrom);
  await yieldToPage();

  // Memory: `million` more events, untimed, every user replayed from a clean slate.
  const memory = [{ events: 0, wasmBytes: engine.memory(), heapBytes: heapBytes() }];
  let done = 0;
  let next = 100_000;
  const memoryFrom = performance.now();
  while (done < MILLION) {
    for (const user of users) {
      done += await engine.untimed(user.events, rows, position);
      if (done >= next || done >= MILLION) {
        memory.push({ events: done, wasmBytes: engine.memory(), heapBytes: heapBytes() });
        next += 100_000;
        await yieldToPage();
      }
      if (done >= MILLION) break;
    }
    await yieldToPage();
  }
  return {
    perPass, passes: PASSES, times: Array.from(times.subarray(0, n)), positions: Array.from(pos),
    scores: Array.from(scores, (v) => (Number.isNaN(v) ? null : v)),
    timedLongTasks: timedTasks, memory, memoryMs: performance.now() - memoryFrom,
  };
}

// ---------------------------------------------------------------------------------------------

function percentile(sorted, q) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
}

async function quick(engine) {
  const start = Date.UTC(2025, 0, 6, 9, 0, 0);
  const types = ['view_item', 'view_item', 'add_to_wishlist', 'view_item', 'add_to_cart', 'purchase'];
  const events = Array.from({ length: QUICK_EVENTS }, (_, i) => ({
    type: types[i % types.length], ts: start + i * 40_000, item: `bench-item-${(i * 7919) % 97}`,
    category: `bench-cat-${i % 11}`, price: 10 + ((i * 37) % 190), row: -1,
  }));
  const times = new Float64Array(events.length);
  for (let i = 0; i < events.length; i += SLICE) {
    engine.replay(events.slice(i, i + SLICE), times, i, null);
    await yieldToPage();
  }
  const sorted = Array.from(times).sort((a, b) => a - b);
  return { events: events.length, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), maxMs: sorted[sorted.length - 1] };
}

/** run=floor: the wasm file fetched and compiled alone, without JS of ours or an engine. */
async function floor() {
  const wasm = params.get('wasm');
  if (!wasm) throw new Error('run=floor needs wasm=URL of the wasm file to compile');
  const t0 = performance.now();
  const response = await fetch(wasm);
  if (!response.ok) throw new Error(`${wasm}: HTTP ${response.status}`);
  await WebAssembly.compileStreaming(response);
  return { wasm, compileMs: performance.now() - t0 };
}

async function run() {
  const result = { engine: ENGINE, run: RUN, userAgent: navigator.userAgent, crossOriginIsolated: globalThis.crossOriginIsolated === true };
  if (RUN === 'floor') {
    beating = false;
    return { ...result, floor: await floor(), violations };
  }
  const engine = ENGINE === 'ort' ? await ort() : await ours();
  result.timerResolutionMs = timerResolution();
  await yieldToPage();
  // Long tasks count from navigation until AFTER_FIRST_MS after the first score (late work of
  // the load, such as the browser caching compiled wasm, lands there).
  await new Promise((r) => setTimeout(r, AFTER_FIRST_MS + 50));
  beating = false;
  const loadGaps = gaps.filter((g) => g.start <= engine.firstAt + AFTER_FIRST_MS);
  Object.assign(result, {
    importMs: engine.importedAt - engine.t0,
    loadMs: engine.readyAt - engine.t0,
    firstScoreMs: engine.firstAt - engine.t0,
    firstScoreSinceNavigationMs: engine.firstAt,
    startSinceNavigationMs: engine.t0,
    firstScore: engine.firstScore,
    loadLongTasks: tasksSince(0).filter((t) => t.start <= engine.firstAt + AFTER_FIRST_MS),
    longTasksObservable: LONG_TASKS_OBSERVABLE,
    longestGapMs: Math.max(0, ...loadGaps.map((g) => g.duration)),
    // Where it began, from the import of the package (negative: before it).
    longestGapAtMs: loadGaps.reduce((a, g) => (g.duration > a.duration ? g : a), { start: engine.t0, duration: -1 }).start - engine.t0,
    phases: engine.phases,
    simd: engine.simd,
    modelInfo: engine.model ?? null,
    onnxInputs: engine.inputs ?? null,
    onnxOutputs: engine.outputs ?? null,
    wasmBytesAfterLoad: engine.memory(),
    heapBytesAfterLoad: heapBytes(),
  });
  const resources = performance.getEntriesByType('resource');
  result.resources = resources.map((r) => ({ url: r.name, bytes: r.decodedBodySize, transfer: r.transferSize }));
  result.wasmBytes = resources.filter((r) => /\.wasm$/.test(new URL(r.name).pathname)).reduce((a, r) => a + r.decodedBodySize, 0);
  log(`${ENGINE}: ready in ${result.loadMs.toFixed(1)} ms, first score at ${result.firstScoreMs.toFixed(1)} ms; long tasks while loading: ${result.loadLongTasks.length}; timer step ${(result.timerResolutionMs * 1000).toFixed(1)} us`);

  if (RUN === 'quick' && ENGINE === 'ours') {
    result.quick = await quick(engine);
    log(`track(): ${result.quick.events} synthetic events, p50 ${result.quick.p50Ms.toFixed(4)} ms, p99 ${result.quick.p99Ms.toFixed(4)} ms, max ${result.quick.maxMs.toFixed(3)} ms`);
  } else if (RUN === 'replay') {
    const data = await loadFixture();
    result.replay = await replay(engine, data);
    const sorted = result.replay.times.slice(result.replay.perPass).sort((a, b) => a - b);
    log(`replay: ${result.replay.times.length} events timed; steady p50 ${percentile(sorted, 0.5).toFixed(4)} ms, p99 ${percentile(sorted, 0.99).toFixed(4)} ms`);
    log(`memory: ${result.replay.memory.map((m) => `${m.events}: ${m.wasmBytes}`).join(', ')}`);
  }
  result.longTasks = longTasks.length;
  result.violations = violations;
  return result;
}

/** The error's message and its stack (Firefox's and Safari's stacks leave the message out). */
function describe(e) {
  const stack = String(e?.stack ?? '');
  return stack.includes(String(e)) ? stack : `${e}${stack ? `\n${stack}` : ''}`;
}

window.benchResult = run().catch((e) => ({ error: describe(e), violations }));
window.benchResult.then((r) => {
  document.body.dataset.done = 'true';
  if (r.error) log(`error: ${r.error}`);
});
