// The demo's side panel: the live score over the session's events (an SVG chart), the segment,
// the offer experiment (assignment, exposure, conversion), the top factors (`explain()`) and
// what the package stored (`storedState()`), with a check that the stored bytes hold none of the
// shop's raw ids. Every page has an empty `<aside id="panel">`; the markup is made here once.

import { PRODUCTS } from '/catalog.js';
import { OFFER_EXPERIMENT } from '/snippets/high-intent-offer.js';

const PANEL = `
  <h2>On-device intent</h2>
  <p class="muted small" id="panel-status">Loading the model…</p>
  <div class="score-row">
    <div><div class="label">score</div><div class="big" id="score">–</div></div>
    <div><div class="label">segment</div><div class="segment-badge" id="segment">–</div></div>
    <div><div class="label">events</div><div class="big" id="event-count">0</div></div>
  </div>
  <svg id="chart" class="chart" viewBox="0 0 320 170" role="img" aria-label="Score over this session's events"></svg>
  <h3>Offer experiment</h3>
  <dl class="stored" id="experiment"><dt>variant</dt><dd class="muted">–</dd><dt>exposure</dt><dd class="muted">–</dd><dt>conversion</dt><dd class="muted">–</dd></dl>
  <h3>Top factors</h3>
  <ol id="factors" class="factors"><li class="muted">No events yet.</li></ol>
  <h3>What is stored</h3>
  <dl class="stored" id="stored"><dt>state</dt><dd class="muted">nothing yet</dd></dl>
  <details class="hexdump-box"><summary>decoded state bytes</summary><pre id="hexdump" class="hexdump"></pre></details>
  <p id="raw-check" class="raw-check"></p>
  <div class="panel-actions">
    <button type="button" id="forget" class="secondary">Forget me</button>
  </div>
  <p class="muted small">Scored in this browser by a WebAssembly model. Events never leave the device; see <a href="/PRIVACY.md">PRIVACY.md</a>.</p>`;

const SVG = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);

function svg(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  parent.appendChild(node);
  return node;
}

/** Short labels for the chart's x axis. */
const SHORT = {
  page_view: 'pv', view_item_list: 'list', select_item: 'sel', view_item: 'view', search: 'srch',
  add_to_wishlist: 'wish', add_to_cart: 'cart+', remove_from_cart: 'cart−', view_cart: 'cart',
  begin_checkout: 'chk', add_payment_info: 'pay', purchase: 'buy',
};
const COLORS = {
  add_to_cart: '#2f6b4f', begin_checkout: '#2f6b4f', add_payment_info: '#2f6b4f', purchase: '#2f6b4f',
  remove_from_cart: '#b23b3b', add_to_wishlist: '#c98a1b',
};

/** Draws the score of each event of the session, with the segment thresholds. */
export function drawChart(node, points, thresholds) {
  node.replaceChildren();
  const W = 320, H = 170, L = 28, R = 46, T = 8, B = 30;
  // Scores of a purchase model are mostly small: scale the y axis to what there is to see.
  const highest = Math.max(0, ...points.map((p) => p.score), thresholds ? thresholds.high * 1.4 : 0);
  const top = Math.min(1, Math.max(0.2, Math.ceil((highest * 1.1) / 0.05) * 0.05));
  const x = (i) => L + (points.length <= 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (points.length - 1));
  const y = (s) => T + (1 - Math.min(s, top) / top) * (H - T - B);
  svg('line', { class: 'axis', x1: L, y1: y(0), x2: W - R, y2: y(0) }, node);
  svg('line', { class: 'axis', x1: L, y1: y(0), x2: L, y2: y(top) }, node);
  for (const s of [0, top / 2, top]) {
    const t = svg('text', { class: 'tick', x: L - 4, y: y(s) + 3, 'text-anchor': 'end' }, node);
    t.textContent = s === 0 ? '0' : s.toFixed(2);
  }
  if (thresholds) {
    for (const name of ['medium', 'high']) {
      svg('line', { class: `threshold ${name}`, x1: L, y1: y(thresholds[name]), x2: W - R + 2, y2: y(thresholds[name]) }, node);
      const t = svg('text', { class: `tick ${name}`, x: W - R + 4, y: y(thresholds[name]) + (name === 'high' ? -1 : 7), 'text-anchor': 'start' }, node);
      t.textContent = name;
    }
  }
  if (points.length === 0) {
    const t = svg('text', { class: 'tick', x: (W + L) / 2, y: H / 2, 'text-anchor': 'middle' }, node);
    t.textContent = 'no events in this session yet';
    return;
  }
  const coords = points.map((p, i) => `${x(i).toFixed(1)},${y(p.score).toFixed(1)}`);
  svg('polygon', { class: 'area', points: `${x(0)},${y(0)} ${coords.join(' ')} ${x(points.length - 1)},${y(0)}` }, node);
  svg('polyline', { class: 'line', points: coords.join(' ') }, node);
  const labelEvery = Math.max(1, Math.ceil(points.length / 12));
  points.forEach((p, i) => {
    const dot = svg('circle', { cx: x(i), cy: y(p.score), r: 3.5, fill: COLORS[p.type] ?? '#65706a' }, node);
    svg('title', {}, dot).textContent = `${p.type}: ${p.score.toFixed(3)}`;
    if (i % labelEvery === 0 || i === points.length - 1) {
      const anchor = points.length > 1 && i === points.length - 1 ? 'end' : 'middle';
      const t = svg('text', { class: 'tlabel', x: x(i) + (anchor === 'end' ? 4 : 0), y: H - B + 12, 'text-anchor': anchor }, node);
      t.textContent = SHORT[p.type] ?? p.type.slice(0, 5);
    }
  });
}

function drawFactors(node, factors) {
  node.replaceChildren();
  if (factors.length === 0) {
    const li = document.createElement('li');
    li.className = 'muted';
    li.textContent = 'No events yet.';
    node.appendChild(li);
    return;
  }
  const scale = Math.max(0.05, ...factors.map((f) => Math.abs(f.effect)));
  for (const f of factors.slice(0, 5)) {
    const li = document.createElement('li');
    li.className = 'factor';
    li.dataset.factor = f.factor;
    const name = document.createElement('span');
    name.textContent = f.label;
    const bar = document.createElement('span');
    bar.className = 'bar';
    const fill = document.createElement('span');
    fill.className = f.effect >= 0 ? 'up' : 'down';
    fill.style.width = `${(Math.abs(f.effect) / scale) * 50}%`; // CSSOM, allowed under the CSP.
    bar.appendChild(fill);
    const effect = document.createElement('span');
    effect.className = 'effect';
    effect.textContent = `${f.effect >= 0 ? '+' : '−'}${Math.abs(f.effect).toFixed(2)}`;
    li.append(name, bar, effect);
    node.appendChild(li);
  }
}

function hexdump(bytes, limit = 512) {
  const lines = [];
  const n = Math.min(bytes.length, limit);
  for (let off = 0; off < n; off += 16) {
    const row = bytes.subarray(off, Math.min(off + 16, n));
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(4, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (bytes.length > limit) lines.push(`… ${bytes.length - limit} more bytes`);
  return lines.join('\n');
}

function contains(haystack, needle) {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** The shop's raw ids (item ids, names, categories) that occur in the stored bytes or text. */
export function rawIdsIn(bytes, text) {
  const enc = new TextEncoder();
  const needles = new Set();
  for (const p of PRODUCTS) needles.add(p.id).add(p.name).add(p.category).add(p.slug);
  return [...needles].filter((s) => contains(bytes, enc.encode(s)) || text.includes(s));
}

/** A function that appends a `<dt>k</dt><dd>v</dd>` pair to the list `dl`. */
function definitionRow(dl) {
  return (k, v) => {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    dl.append(dt, dd);
  };
}

function drawStored(intent) {
  const dl = $('stored');
  const dump = $('hexdump');
  const check = $('raw-check');
  dl.replaceChildren();
  const row = definitionRow(dl);
  const stored = intent.storedState();
  const memory = intent.storage === 'memory';
  row('storage', memory ? 'memory (kept in this page only; nothing written to the browser)' : `${intent.storage}Storage`);
  if (!stored) {
    row('state', 'nothing stored');
    dump.textContent = '';
    check.textContent = '';
    check.className = 'raw-check';
    return;
  }
  if (!memory) row('key', stored.key);
  row('size', `${stored.size} characters (${stored.state.length} bytes of state)`);
  row(memory ? 'kept' : 'saved', new Date(stored.savedAt).toLocaleTimeString());
  if (!memory) row('expires', new Date(stored.expiresAt).toLocaleDateString());
  dump.textContent = hexdump(stored.state);
  const found = rawIdsIn(stored.state, JSON.stringify(stored));
  check.className = found.length ? 'raw-check bad' : 'raw-check ok';
  check.textContent = found.length
    ? `Raw ids found in the stored state: ${found.join(', ')}`
    : `✓ No raw item id, name or category in the stored state (checked ${PRODUCTS.length} products): only salted hashes and feature rows.`;
  check.dataset.found = String(found.length);
}

function drawExperiment(intent, log) {
  const dl = $('experiment');
  dl.replaceChildren();
  const row = definitionRow(dl);
  const variant = intent.assignments()[OFFER_EXPERIMENT];
  row('variant', variant ?? 'not entered (the session has not been high)');
  const exposed = log.filter((e) => e.what === 'exposure').at(-1);
  row('exposure', exposed ? `logged at segment ${exposed.segment} (score ${exposed.score.toFixed(3)})` : 'none on this page');
  const converted = log.filter((e) => e.what === 'conversion').at(-1);
  row('conversion', converted ? `logged for ${converted.variant}` : 'none on this page');
  dl.dataset.variant = variant ?? '';
}

/** Renders the panel into `#panel` and wires it to the widget; returns `refresh()`. */
export function mountPanel(intent, experimentLog = []) {
  $('panel').innerHTML = PANEL;
  let storedTimer = 0;
  const refresh = () => {
    const status = $('panel-status');
    if (intent.status === 'failed') {
      status.textContent = `Not started (${intent.error.code}): ${intent.error.message}`;
      status.className = 'small raw-check bad';
      return;
    }
    if (intent.status !== 'ready') return;
    const m = intent.model;
    status.textContent = `Model ${m ? `${m.name} (window ${m.window}, ${m.kinds.length} event types)` : ''} loaded; scoring in this browser.`;
    const points = intent.history();
    $('score').textContent = intent.score.toFixed(3);
    const seg = $('segment');
    seg.textContent = intent.segment;
    seg.className = `segment-badge ${intent.segment}`;
    $('event-count').textContent = String(points.length);
    drawChart($('chart'), points, intent.thresholds);
    drawExperiment(intent, experimentLog);
    drawFactors($('factors'), intent.explain());
    drawStored(intent);
    clearTimeout(storedTimer);
    storedTimer = setTimeout(() => drawStored(intent), 400); // after the package's debounced save
  };
  intent.on('score', refresh);
  intent.on('segment', refresh);
  intent.on('exposure', () => setTimeout(refresh));
  intent.on('conversion', () => setTimeout(refresh));
  intent.ready.then(refresh);
  $('forget').addEventListener('click', () => {
    intent.forget();
    refresh();
  });
  return refresh;
}
