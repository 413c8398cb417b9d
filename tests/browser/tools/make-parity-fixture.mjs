// Writes the fixture of tests/browser/parity.test.mjs from the native CLI:
//   node tests/browser/tools/make-parity-fixture.mjs --cli target/release/shopper-intent [--out tests/fixtures]
// It writes OUT/score_session.jsonl (one shopper, several sessions, more events than the window,
// a purchase, events the model ignores, Shopify and Segment names) and OUT/native_scores.json
// ({utcOffsetMinutes, events, scores}) from `shopper-intent score --input OUT/score_session.jsonl`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const cli = opt('--cli', null);
const out = resolve(opt('--out', 'tests/fixtures'));
const model = opt('--model', 'models/intent.onnx');
if (!cli) {
  console.error('usage: make-parity-fixture.mjs --cli PATH_TO_shopper-intent [--out DIR] [--model models/intent.onnx]');
  process.exit(2);
}

// A deterministic session: a small LCG, no Math.random.
let seed = 20250501;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const kinds = ['view_item', 'view_item', 'view_item', 'view_item_list', 'select_item', 'add_to_wishlist', 'add_to_cart', 'remove_from_cart', 'view_cart', 'search'];
const events = [];
let ts = Date.UTC(2025, 4, 1, 7, 13, 0);
const session = (n, { purchase = false } = {}) => {
  for (let i = 0; i < n; i++) {
    ts += 2_000 + Math.floor(rand() * 90_000);
    const item = pick(['sku-1', 'sku-2', 'sku-3', 'sku-4', 'sku-5', 'sku-6', 'sku-7', 42, 1001]);
    const e = { type: pick(kinds), ts, item, category: `cat-${typeof item === 'number' ? 9 : Number(String(item).slice(4)) % 3}` };
    if (rand() < 0.8) e.price = Math.round(rand() * 20000) / 100;
    if (e.type === 'add_to_cart' || e.type === 'remove_from_cart') e.quantity = 1 + Math.floor(rand() * 3);
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
// Shopify and Segment names, as the engine maps them.
ts += 5_000; events.push({ type: 'product_viewed', ts, item: 'sku-4', category: 'cat-1', price: 30 });
ts += 5_000; events.push({ type: 'Product Added', ts, item: 'sku-4', category: 'cat-1', price: 30, quantity: 2 });

mkdirSync(out, { recursive: true });
const input = join(out, 'score_session.jsonl');
writeFileSync(input, events.map((e) => JSON.stringify({ user: 'u1', ...e })).join('\n') + '\n');
const lines = execFileSync(cli, ['score', '--input', input, '--model', model], { encoding: 'utf8', maxBuffer: 1 << 26 })
  .split('\n').filter(Boolean).map((l) => JSON.parse(l));
if (lines.length !== events.length) throw new Error(`the CLI scored ${lines.length} lines for ${events.length} events`);
const scores = lines.map((l) => (l.error ? null : l.score));
writeFileSync(join(out, 'native_scores.json'), JSON.stringify({ utcOffsetMinutes: 0, events, scores }, null, 1) + '\n');
console.log(`${events.length} events, ${scores.filter((s) => s === null).length} rejected; wrote ${join(out, 'native_scores.json')}`);
