// The benchmark page's script (web/bench.html): time to ready, track() latency, longest task,
// wasm size. Results go into the page and into `window.benchResult` for
// tests/browser/bench.mjs. Nothing here is asserted: the figures are for reading.

import { ShopperIntent } from '/shopper-intent.js';

const params = new URLSearchParams(location.search);
const MODEL = params.get('model') ?? '/models/intent.onnx';
const WASM = params.get('wasm') ?? '/pkg/shopper_intent_wasm_bg.wasm';
const EVENTS = Number(params.get('events') ?? 2000);
const BATCH = 50; // Chromium rounds performance.now() to 0.1 ms: time batches, not single calls.

const out = document.getElementById('out');
const log = (line) => { out.textContent += `${line}\n`; };

const longTasks = [];
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
} catch {
  log('longtask entries are not supported here');
}

async function gzipSize(bytes) {
  if (typeof CompressionStream !== 'function') return null;
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

const TYPES = ['view_item_list', 'select_item', 'view_item', 'view_item', 'add_to_wishlist', 'add_to_cart', 'view_cart', 'remove_from_cart', 'view_item', 'add_to_cart', 'begin_checkout'];

function syntheticEvent(i, t0) {
  return {
    type: TYPES[i % TYPES.length],
    ts: t0 + i * 7_000 + (i % 5) * 300,
    item: `bench-item-${(i * 7919) % 97}`,
    category: `bench-cat-${i % 11}`,
    price: 10 + ((i * 37) % 190),
    quantity: 1 + (i % 3),
  };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

async function run() {
  const result = { userAgent: navigator.userAgent, events: EVENTS, batch: BATCH };
  const wasmBytes = new Uint8Array(await (await fetch(WASM, { cache: 'no-store' })).arrayBuffer());
  result.wasmBytes = wasmBytes.length;
  result.wasmGzipBytes = await gzipSize(wasmBytes);
  const modelBytes = (await (await fetch(MODEL, { cache: 'no-store' })).arrayBuffer()).byteLength;
  result.modelBytes = modelBytes;
  log(`wasm ${result.wasmBytes} B raw, ${result.wasmGzipBytes ?? '?'} B gzip; model ${modelBytes} B`);

  const longBefore = longTasks.length;
  const t0 = performance.now();
  const intent = await ShopperIntent.load({ model: MODEL, wasm: WASM, storage: 'memory', autoCapture: false, modelCache: false });
  result.readyMs = performance.now() - t0;
  result.phases = intent._timings;
  if (intent.status !== 'ready') {
    result.error = intent.error;
    log(`not ready: ${JSON.stringify(intent.error)}`);
    return result;
  }
  await new Promise((r) => setTimeout(r, 100)); // Let the longtask observer report the load.
  result.longestLoadTaskMs = Math.max(0, ...longTasks.slice(longBefore).map((t) => t.duration));
  const p = result.phases ?? {};
  log(`ready in ${result.readyMs.toFixed(1)} ms (wasm fetched+instantiated at ${p.wasmMs?.toFixed(1)} ms, model at ${p.modelMs?.toFixed(1)} ms, engine built in ${p.engineMs?.toFixed(1)} ms); longest task while loading ${result.longestLoadTaskMs.toFixed(1)} ms`);

  // Sessions longer than the window exercise the re-run of the last W rows.
  const start = Date.UTC(2025, 0, 6, 9, 0, 0);
  const perEvent = [];
  const longTrack = longTasks.length;
  for (let b = 0; b < EVENTS / BATCH; b++) {
    const events = Array.from({ length: BATCH }, (_, j) => syntheticEvent(b * BATCH + j, start));
    const s = performance.now();
    for (const e of events) intent.track(e);
    perEvent.push((performance.now() - s) / BATCH);
    await new Promise((r) => setTimeout(r, 0)); // a page would never track this many at once
  }
  perEvent.sort((a, b) => a - b);
  result.trackMeanMs = perEvent.reduce((a, b) => a + b, 0) / perEvent.length;
  result.trackP50Ms = percentile(perEvent, 0.5);
  result.trackP95Ms = percentile(perEvent, 0.95);
  result.trackMaxBatchMeanMs = perEvent[perEvent.length - 1];
  log(`track(): mean ${result.trackMeanMs.toFixed(3)} ms/event, batch-mean p50 ${result.trackP50Ms.toFixed(3)}, p95 ${result.trackP95Ms.toFixed(3)}, max ${result.trackMaxBatchMeanMs.toFixed(3)}`);

  // One call per task, as the demo's panel makes them.
  const reps = 20;
  let total = 0;
  for (let i = 0; i < reps; i++) {
    const s = performance.now();
    intent.explain();
    total += performance.now() - s;
    await new Promise((r) => setTimeout(r, 0));
  }
  result.explainMs = total / reps;
  const s = performance.now();
  let state;
  for (let i = 0; i < reps; i++) state = intent._engine.exportState(Date.now());
  result.exportStateMs = (performance.now() - s) / reps;
  result.stateBytes = state.length;
  log(`explain() ${result.explainMs.toFixed(3)} ms; exportState ${result.exportStateMs.toFixed(3)} ms, ${result.stateBytes} B`);

  await new Promise((r) => setTimeout(r, 100));
  result.longestTrackTaskMs = Math.max(0, ...longTasks.slice(longTrack).map((t) => t.duration));
  result.longTasks = longTasks.length;
  log(`long tasks (> 50 ms) seen: ${longTasks.length}; longest while tracking ${result.longestTrackTaskMs.toFixed(1)} ms (a yield after each batch of ${BATCH})`);
  intent.destroy();
  return result;
}

window.benchResult = run().catch((e) => ({ error: String(e) }));
window.benchResult.then((r) => {
  document.body.dataset.done = 'true';
  if (r.error) log(`error: ${JSON.stringify(r.error)}`);
});
