// Benchmark, not a test: the shipped model in tract (our wasm package) and in onnxruntime-web's
// wasm backend, in the same Node process (V8, one thread), on the same inputs.
//   node tests/bench/peer.mjs        (after `make wasm`; `make bench` runs it)
// Prints load time, one step with the state fed back (how the engine scores each event), a
// 32-row window from a zero state (how it re-scores a session longer than W), and module sizes.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(REPO, 'web', 'package.json'));
const ort = require('onnxruntime-web');
const { initSync, Engine } = await import(join(REPO, 'web', 'pkg', 'shopper_intent_wasm.js'));

const modelBytes = readFileSync(join(REPO, 'models', 'intent.onnx'));
const manifestText = readFileSync(join(REPO, 'models', 'intent.json'), 'utf8');
const manifest = JSON.parse(manifestText);
const F = manifest.sequence_features.length;
const H = manifest.state[0].shape;
const W = manifest.window;
const fixture = readFileSync(join(REPO, 'models', 'fixtures', 'intent', 'x.npy'));
const rows = new Float32Array(fixture.buffer, fixture.byteOffset + fixture.length - 20 * W * F * 4, W * F);

const time = async (fn, n) => { const t = performance.now(); for (let i = 0; i < n; i++) await fn(); return (performance.now() - t) / n; };
const fmt = (ms) => `${ms.toFixed(3)} ms`;

// tract, through the engine's own model path.
const ourWasm = readFileSync(join(REPO, 'web', 'pkg', 'shopper_intent_wasm_bg.wasm'));
let t = performance.now();
initSync({ module: ourWasm });
const engine = new Engine(modelBytes, manifestText, { salt: new Uint8Array(16) });
const tractLoad = performance.now() - t;
const ts = 1_700_000_000_000;
let k = 0;
// A fresh session per call: one step from a zero state.
const tractStep = await time(() => { k += 1; engine.track({ type: 'view_item', ts: ts + k * 3_600_000, item: 'i', category: 'c' }); }, 500);
// Sessions past W re-run the last W rows: time the 33rd+ event of one session.
engine.forget();
for (let i = 0; i < W + 1; i++) engine.track({ type: 'view_item', ts: ts + 1e9 + i * 1000, item: `i${i % 5}`, category: 'c' });
let j = 0;
const tractWindow = await time(() => { j += 1; engine.track({ type: 'view_item', ts: ts + 1e9 + (W + 1 + j) * 1000, item: `i${j % 5}`, category: 'c' }); }, 100);

// onnxruntime-web, wasm backend, one thread, no proxy worker.
ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;
t = performance.now();
const session = await ort.InferenceSession.create(modelBytes, { executionProviders: ['wasm'] });
const ortLoad = performance.now() - t;
const zeros = () => new ort.Tensor('float32', new Float32Array(H.reduce((a, b) => a * b, 1)), H);
const feeds = (x, T) => ({ [manifest.input]: new ort.Tensor('float32', x, [1, T, F]), [manifest.state[0].input]: zeros(), [manifest.state[1].input]: zeros() });
const one = rows.slice(0, F);
const ortStep = await time(() => session.run(feeds(one, 1)), 500);
const ortWindow = await time(() => session.run(feeds(rows, W)), 100);

const ortWasm = readFileSync(join(dirname(require.resolve('onnxruntime-web')), 'ort-wasm-simd-threaded.wasm'));
console.log(`model ${manifest.name}: ${modelBytes.length} B, window ${W}, state ${JSON.stringify(H)}`);
console.log('engine               load        one step     32-row window   wasm (gzip)');
console.log(`tract (ours)         ${fmt(tractLoad).padEnd(12)}${fmt(tractStep).padEnd(13)}${fmt(tractWindow).padEnd(16)}${(gzipSync(ourWasm).length / 1e6).toFixed(2)} MB`);
console.log(`onnxruntime-web      ${fmt(ortLoad).padEnd(12)}${fmt(ortStep).padEnd(13)}${fmt(ortWindow).padEnd(16)}${(gzipSync(ortWasm).length / 1e6).toFixed(2)} MB`);
console.log('(tract: one step = a whole engine.track() with validation and features; window = a track() that re-runs W rows)');
