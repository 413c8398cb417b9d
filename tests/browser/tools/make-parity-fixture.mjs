// Writes the fixture of tests/browser/parity.test.mjs from the native CLI:
//   node tests/browser/tools/make-parity-fixture.mjs --cli target/native/shopper-intent \
//        [--model models/intent.json] [--out build/fixtures]
// It writes OUT/score_session.jsonl (one shopper, several sessions, more events than the window,
// a purchase and events after it, the shop's own event types, Shopify, Segment and Taobao names,
// the shop's session ids, events the engine refuses) and OUT/native_scores.json from
// `shopper-intent score --input OUT/score_session.jsonl --model MODEL`:
//   {model: {name, weights_fnv1a64}, utcOffsetMinutes, events, scores, updates}
// `scores[i]` is the CLI's score after event i, or null where it refused the event; `updates[i]`
// the rest of its line (segment and flags), or null.
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
    'remove_from_cart', 'view_cart', 'search', 'size_guide_open', 'add_to_cart', 'view_item'];
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

const events = parityEvents();
const manifest = JSON.parse(readFileSync(model, 'utf8'));
mkdirSync(out, { recursive: true });
const input = join(out, 'score_session.jsonl');
writeFileSync(input, events.map((e) => JSON.stringify({ user: 'u1', ...e })).join('\n') + '\n');
const lines = execFileSync(cli, ['score', '--input', input, '--model', model, '--utc-offset-min', '0'], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] })
  .split('\n').filter(Boolean).map((l) => JSON.parse(l));
if (lines.length !== events.length) throw new Error(`the CLI scored ${lines.length} lines for ${events.length} events`);
const scores = lines.map((l) => (l.error ? null : l.score));
const updates = lines.map((l) => (l.error ? null : {
  segment: l.segment, segmentChanged: l.segmentChanged, converted: l.converted, ignored: l.ignored, scored: l.scored,
  newSession: l.newSession, prefix: l.prefix,
}));
const fixture = {
  model: { name: manifest.name, weights_fnv1a64: manifest.model?.weights_fnv1a64 },
  utcOffsetMinutes: 0, events, scores, updates,
};
writeFileSync(join(out, 'native_scores.json'), JSON.stringify(fixture, null, 1) + '\n');
console.log(`${events.length} events, ${scores.filter((s) => s === null).length} refused; wrote ${join(out, 'native_scores.json')}`);
