// Writes the fixture of tests/browser/parity.test.mjs from the native CLI:
//   node tests/browser/tools/make-parity-fixture.mjs --cli target/native/shopper-intent \
//        [--model models/intent.json] [--out build/fixtures]
// It writes OUT/score_session.jsonl (one shopper, several sessions, more events than the window,
// a purchase and events after it, the shop's own event types, Shopify, Segment and Taobao names,
// the shop's session ids, events the engine refuses) and OUT/native_scores.json from
// `shopper-intent score --input OUT/score_session.jsonl --model MODEL`:
//   {model: {name, weights_fnv1a64}, utcOffsetMinutes, events, scores, updates}
// `scores[i]` is the CLI's score after event i, or null where it refused or ignored the event;
// `updates[i]` the rest of its line (segment and flags), `{ignored: true}` for an event of a kind
// the model does not read, or null where the CLI refused it.
// It also writes OUT/own-kinds/: a model of random weights that reads the shop's own event types
// (intent.json + intent.bin, made here: the kind columns named by `shopper-intent features`, the
// weights file in its documented layout) and the same two files for it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const cli = opt('--cli', null);
const out = resolve(opt('--out', 'build/fixtures'));
const model = resolve(opt('--model', 'models/intent.json'));
if (!cli) {
  console.error('usage: make-parity-fixture.mjs --cli PATH_TO_shopper-intent [--model models/intent.json] [--out build/fixtures]');
  process.exit(2);
}

/** The events of the fixture: deterministic (a small LCG, no Math.random). */
export function parityEvents() {
  let seed = 20250501;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const kinds = ['view_item', 'view_item', 'view_item', 'view_item_list', 'select_item', 'add_to_wishlist', 'add_to_cart',
    'remove_from_cart', 'view_cart', 'search', 'size_guide_open', 'add_to_cart', 'view_item', 'coupon_applied', 'page_type_3'];
  const events = [];
  let ts = Date.UTC(2025, 4, 1, 7, 13, 0);
  const session = (n, { purchase = false, sessionId } = {}) => {
    for (let i = 0; i < n; i++) {
      ts += 2_000 + Math.floor(rand() * 90_000);
      const item = pick(['sku-1', 'sku-2', 'sku-3', 'sku-4', 'sku-5', 'sku-6', 'sku-7', 42, 1001]);
      const e = { type: pick(kinds), ts, item, category: `cat-${typeof item === 'number' ? 9 : Number(String(item).slice(4)) % 3}` };
      if (rand() < 0.8) e.price = Math.round(rand() * 20000) / 100;
      if (e.type === 'add_to_cart' || e.type === 'remove_from_cart') e.quantity = 1 + Math.floor(rand() * 3);
      if (sessionId !== undefined) e.session = sessionId;
      events.push(e);
    }
    if (purchase) {
      ts += 40_000;
      events.push({ type: 'purchase', ts, item: 'sku-2', category: 'cat-2', price: 59.9, quantity: 1 });
      ts += 10_000;
      events.push({ type: 'view_item', ts, item: 'sku-3', category: 'cat-0', price: 12 });
    }
  };
  session(12);
  ts += 3 * 3_600_000; // a new session
  session(45); // outgrows the window
  ts += 26 * 3_600_000;
  session(8, { purchase: true });
  ts += 45 * 60_000;
  session(5);
  // Events the engine refuses: the browser must refuse them too (and change nothing).
  ts += 1_000; events.push({ type: 'view_item', ts, item: 'sku-1', price: -3 });
  ts += 1_000; events.push({ type: ' padded', ts, item: 'sku-1' });
  ts += 1_000; events.push({ type: 'add_to_cart', ts, item: 'sku-1', quantity: 1.5 });
  ts += 1_000; events.push({ type: 'view_item', ts, item: 'x'.repeat(300) });
  // Shopify, Segment and Taobao names, as the engine maps them.
  ts += 5_000; events.push({ type: 'product_viewed', ts, item: 'sku-4', category: 'cat-1', price: 30 });
  ts += 5_000; events.push({ type: 'Product Added', ts, item: 'sku-4', category: 'cat-1', price: 30, quantity: 2 });
  ts += 5_000; events.push({ type: 'pv', ts, item: 'sku-5', category: 'cat-2' });
  ts += 5_000; events.push({ type: 'fav', ts, item: 'sku-5', category: 'cat-2' });
  ts += 5_000; events.push({ type: 'Product Added to Wishlist', ts, item: 'sku-6', category: 'cat-0' });
  // The shop's own session ids decide where sessions start (a new id 10 s later: a new session).
  session(6, { sessionId: 'shop-s1' });
  ts += 10_000;
  session(6, { sessionId: 'shop-s2' });
  session(4, { sessionId: 7 });
  return events;
}

/** The kinds of the model made here: GA4 kinds and the shop's own types. */
export const OWN_KINDS = ['view_item', 'add_to_cart', 'begin_checkout', 'size_guide_open', 'coupon_applied', 'page_type_3', 'purchase'];

/** FNV-1a 64 of `bytes` (the weights file's checksum and the manifest's `weights_fnv1a64`). */
function fnv1a64(bytes) {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h;
}

/**
 * A model of random weights for `kinds` (crate/core/src/model/mod.rs, `Weights::to_bytes`:
 * "SIW1", F, H, G as u32, then w_ih, w_hh, b, head_w1, head_b1 as f32, then the FNV-1a 64 of
 * all before, all little-endian); the manifest names the CLI's feature columns for the kinds.
 */
function ownKindsModel(dir, kinds, hidden = 6) {
  const spec = JSON.parse(execFileSync(cli, ['features', '--json', '--kinds', kinds.join(',')], { encoding: 'utf8' }));
  const f = spec.sequence_features.length;
  let seed = 77;
  const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const floats = [...Array((f + hidden + 1) * 4 * hidden + hidden + 1)].map(() => rand() / Math.sqrt(hidden));
  const body = Buffer.alloc(16 + floats.length * 4);
  body.write('SIW1', 0, 'latin1');
  [f, hidden, 0].forEach((d, i) => body.writeUInt32LE(d, 4 + 4 * i));
  floats.forEach((v, i) => body.writeFloatLE(v, 16 + 4 * i));
  const sum = Buffer.alloc(8);
  sum.writeBigUInt64LE(fnv1a64(body));
  const bytes = Buffer.concat([body, sum]);
  const manifest = {
    format: 2, name: 'own-kinds-random', feature_version: spec.feature_version, window: 8, kinds: spec.kinds,
    sequence_features: spec.sequence_features,
    model: { type: 'lstm', inputs: f, hidden, head: 0, weights: 'intent.bin', weights_bytes: bytes.length,
      weights_fnv1a64: fnv1a64(bytes).toString(16).padStart(16, '0') },
    threshold: 0.5, segments: { medium: 0.45, high: 0.55 },
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'intent.bin'), bytes);
  writeFileSync(join(dir, 'intent.json'), JSON.stringify(manifest, null, 1) + '\n');
  return join(dir, 'intent.json');
}

/** Scores `events` with the CLI and the model `modelPath`; writes DIR/native_scores.json. */
function writeFixture(dir, modelPath, events) {
  const manifest = JSON.parse(readFileSync(modelPath, 'utf8'));
  mkdirSync(dir, { recursive: true });
  const input = join(dir, 'score_session.jsonl');
  writeFileSync(input, events.map((e) => JSON.stringify({ user: 'u1', ...e })).join('\n') + '\n');
  const lines = execFileSync(cli, ['score', '--input', input, '--model', modelPath], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] })
    .split('\n').filter(Boolean).map((l) => JSON.parse(l));
  if (lines.length !== events.length) throw new Error(`the CLI scored ${lines.length} lines for ${events.length} events`);
  // The CLI writes no score for an event of a kind the model does not read.
  const scores = lines.map((l) => (l.error || l.ignored ? null : l.score));
  const updates = lines.map((l) => (l.error ? null : l.ignored ? { ignored: true } : {
    segment: l.segment, segmentChanged: l.segmentChanged, converted: l.converted, ignored: l.ignored, scored: l.scored,
    newSession: l.newSession, prefix: l.prefix,
  }));
  const fixture = {
    model: { name: manifest.name, weights_fnv1a64: manifest.model?.weights_fnv1a64, kinds: manifest.kinds },
    // No offset given to the CLI: it takes the model's, as the page does when given none.
    utcOffsetMinutes: null, events, scores, updates,
  };
  writeFileSync(join(dir, 'native_scores.json'), JSON.stringify(fixture, null, 1) + '\n');
  console.log(`${events.length} events, ${updates.filter((u) => u === null).length} refused, ${updates.filter((u) => u?.ignored).length} ignored; wrote ${join(dir, 'native_scores.json')}`);
}

const events = parityEvents();
writeFixture(out, model, events);
writeFixture(join(out, 'own-kinds'), ownKindsModel(join(out, 'own-kinds'), OWN_KINDS), events);
