// The demo shop's products and cart. The cart is the shop's own data (kept by the shop in
// localStorage under `demo-cart`, so that every tab of the shop shows it), not the package's.

export const PRODUCTS = [
  { id: 'sku-1001', slug: 'trail-runner', name: 'Trail Runner', category: 'footwear', price: 89, color: '#c8553d', blurb: 'Grippy lugs, a rock plate and a drainage mesh for wet descents.' },
  { id: 'sku-1002', slug: 'city-sneaker', name: 'City Sneaker', category: 'footwear', price: 64, color: '#3d6fc8', blurb: 'A low-profile everyday sneaker with a recycled sole.' },
  { id: 'sku-2001', slug: 'rain-shell', name: 'Rain Shell', category: 'outerwear', price: 129, color: '#2f6b4f', blurb: 'Three-layer waterproof shell that packs into its own pocket.' },
  { id: 'sku-2002', slug: 'down-vest', name: 'Down Vest', category: 'outerwear', price: 99, color: '#8a5cc8', blurb: 'Warm core, free arms: 700-fill responsibly sourced down.' },
  { id: 'sku-3001', slug: 'canvas-tote', name: 'Canvas Tote', category: 'bags', price: 39, color: '#d3a12a', blurb: 'Heavy waxed canvas with leather handles and an inner pocket.' },
  { id: 'sku-3002', slug: 'day-pack', name: 'Day Pack', category: 'bags', price: 74, color: '#4a4f55', blurb: '22 litres, a laptop sleeve and a bottle pocket on each side.' },
];

export const bySlug = (slug) => PRODUCTS.find((p) => p.slug === slug);
export const byId = (id) => PRODUCTS.find((p) => p.id === id);

const CART_KEY = 'demo-cart';

/** @returns {{id: string, quantity: number}[]} */
export function readCart() {
  try {
    const lines = JSON.parse(localStorage.getItem(CART_KEY) ?? '[]');
    return Array.isArray(lines) ? lines.filter((l) => byId(l.id) && Number.isInteger(l.quantity) && l.quantity > 0) : [];
  } catch {
    return [];
  }
}

export function writeCart(lines) {
  try {
    localStorage.setItem(CART_KEY, JSON.stringify(lines));
  } catch {
    // A storage that refuses writes leaves the cart empty on the next page; the demo goes on.
  }
}

export function addToCart(id, quantity) {
  const lines = readCart();
  const line = lines.find((l) => l.id === id);
  if (line) line.quantity += quantity;
  else lines.push({ id, quantity });
  writeCart(lines);
}

export function removeFromCart(id) {
  writeCart(readCart().filter((l) => l.id !== id));
}

/** GA4 `items[]` entry of a product. */
export function ga4Item(p, quantity = 1) {
  return { item_id: p.id, item_name: p.name, item_category: p.category, price: p.price, quantity };
}

const SVG = 'http://www.w3.org/2000/svg';

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

/** The product's art: an SVG drawing made from shapes (no image files). */
export function productArt(p) {
  const svg = el('svg', { viewBox: '0 0 200 140', class: 'art', role: 'img', 'aria-label': p.name });
  el('rect', { x: 0, y: 0, width: 200, height: 140, rx: 10, fill: '#f1efe8' }, svg);
  el('ellipse', { cx: 100, cy: 122, rx: 70, ry: 7, fill: '#e0ddd2' }, svg);
  const c = p.color;
  if (p.category === 'footwear') {
    const shoe = el('g', {}, svg);
    el('path', { d: 'M30 100 L36 62 Q44 56 58 60 L72 70 Q96 82 132 84 Q168 88 172 104 L172 110 L30 110 Z', fill: c }, shoe);
    el('path', { d: 'M30 110 L172 110 L172 116 Q100 122 30 116 Z', fill: p.slug === 'trail-runner' ? '#2b2b2b' : '#f4f4f4', stroke: '#2b2b2b', 'stroke-width': 1 }, shoe);
    for (let i = 0; i < 4; i++) el('line', { x1: 62 + i * 9, y1: 66 + i * 3, x2: 70 + i * 9, y2: 60 + i * 3, stroke: '#fff', 'stroke-width': 2.5, 'stroke-linecap': 'round' }, shoe);
    el('path', { d: 'M36 62 Q40 90 30 100', fill: 'none', stroke: 'rgba(0,0,0,.2)', 'stroke-width': 3 }, shoe);
  } else if (p.category === 'outerwear') {
    const coat = el('g', {}, svg);
    const sleeves = p.slug === 'down-vest' ? '' : ' M58 36 L30 96 L44 102 L66 62 Z M142 36 L170 96 L156 102 L134 62 Z';
    el('path', { d: `M80 24 L100 34 L120 24 L146 38 L140 118 L60 118 L54 38 Z${sleeves}`, fill: c }, coat);
    el('line', { x1: 100, y1: 34, x2: 100, y2: 118, stroke: 'rgba(255,255,255,.7)', 'stroke-width': 2 }, coat);
    if (p.slug === 'down-vest') {
      for (let y = 52; y < 118; y += 16) el('line', { x1: 58, y1: y, x2: 142, y2: y, stroke: 'rgba(0,0,0,.18)', 'stroke-width': 2 }, coat);
    } else {
      el('path', { d: 'M80 24 Q100 8 120 24 L100 34 Z', fill: 'rgba(0,0,0,.25)' }, coat);
    }
  } else {
    const bag = el('g', {}, svg);
    if (p.slug === 'canvas-tote') {
      el('path', { d: 'M78 50 Q78 20 100 20 Q122 20 122 50', fill: 'none', stroke: '#6b4a2b', 'stroke-width': 6 }, bag);
      el('path', { d: 'M56 48 L144 48 L152 118 L48 118 Z', fill: c }, bag);
      el('rect', { x: 84, y: 70, width: 32, height: 22, rx: 3, fill: 'rgba(255,255,255,.35)' }, bag);
    } else {
      el('rect', { x: 64, y: 26, width: 72, height: 92, rx: 22, fill: c }, bag);
      el('rect', { x: 76, y: 70, width: 48, height: 36, rx: 8, fill: 'rgba(255,255,255,.18)' }, bag);
      el('path', { d: 'M86 26 Q100 12 114 26', fill: 'none', stroke: '#2b2b2b', 'stroke-width': 5 }, bag);
      el('line', { x1: 76, y1: 58, x2: 124, y2: 58, stroke: 'rgba(255,255,255,.5)', 'stroke-width': 2 }, bag);
    }
  }
  return svg;
}
