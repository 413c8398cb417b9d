// BENCHMARKS.svg, written by hand (no plotting dependency): left, the tail of per-event times
// in the browser for both engines (share of events at least this slow, log-log), with the
// targets; right, the wasm memory of each engine while it tracks 1M events.

const W = 960;
const H = 380;
const COLORS = { ours: '#1f5fbf', ort: '#c4432b' };
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function text(x, y, s, { anchor = 'start', size = 12, color = '#222', weight = 'normal' } = {}) {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="${size}" fill="${color}" text-anchor="${anchor}" font-weight="${weight}">${esc(s)}</text>`;
}

const line = (x1, y1, x2, y2, style) => `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" ${style}/>`;

function polyline(points, color, dash = '') {
  if (points.length === 0) return '';
  const d = points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  return `<polyline points="${d}" fill="none" stroke="${color}" stroke-width="2" ${dash ? `stroke-dasharray="${dash}"` : ''}/>`;
}

/** Left panel: per-event times, share of events at least that slow, both axes log. */
function tailPanel(series, targets, resolutionMs, box) {
  const { x0, y0, w, h } = box;
  const all = series.flatMap((s) => s.points);
  const floor = Math.max(resolutionMs / 2, 1e-4);
  const maxT = Math.max(1, ...all.map(([t]) => t));
  const minShare = Math.min(1e-3, ...all.map(([, s]) => s));
  const lx = [Math.floor(Math.log10(floor)), Math.ceil(Math.log10(maxT))];
  const ly = [Math.floor(Math.log10(minShare)), 0];
  const X = (t) => x0 + ((Math.log10(Math.max(t, floor)) - lx[0]) / (lx[1] - lx[0])) * w;
  const Y = (s) => y0 + ((0 - Math.log10(s)) / (0 - ly[0])) * h;
  const out = [];
  out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="#fafafa" stroke="#999"/>`);
  for (let e = lx[0]; e <= lx[1]; e++) {
    out.push(line(X(10 ** e), y0, X(10 ** e), y0 + h, 'stroke="#ddd"'));
    out.push(text(X(10 ** e), y0 + h + 16, `${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)}`, { anchor: 'middle', size: 11 }));
  }
  for (let e = ly[0]; e <= 0; e++) {
    out.push(line(x0, Y(10 ** e), x0 + w, Y(10 ** e), 'stroke="#ddd"'));
    out.push(text(x0 - 6, Y(10 ** e) + 4, e === 0 ? 'all' : e === -1 ? '10%' : e === -2 ? '1%' : `${10 ** (e + 2)}%`, { anchor: 'end', size: 11 }));
  }
  out.push(line(x0, Y(0.5), x0 + w, Y(0.5), 'stroke="#bbb" stroke-dasharray="2,3"'));
  out.push(text(x0 + w - 4, Y(0.5) - 4, 'p50', { anchor: 'end', size: 10, color: '#777' }));
  for (const t of targets) {
    out.push(line(X(t.ms), y0, X(t.ms), y0 + h, 'stroke="#2a8a2a" stroke-dasharray="5,4"'));
    out.push(text(X(t.ms) + 4, y0 + 14 + t.row * 14, t.label, { size: 10, color: '#2a8a2a' }));
  }
  for (const s of series) out.push(polyline(s.points.map(([t, sh]) => [X(t), Y(sh)]), s.color, s.dash));
  out.push(text(x0 + w / 2, y0 + h + 34, 'ms per event (log); times below the timer step sit at the left edge', { anchor: 'middle', size: 11 }));
  out.push(text(x0, y0 - 10, 'Per event in Chromium, steady state: share of events at least this slow', { size: 13, weight: 'bold' }));
  return out.join('\n');
}

/** Right panel: wasm memory (MB) against events tracked. */
function memoryPanel(series, box) {
  const { x0, y0, w, h } = box;
  const all = series.flatMap((s) => s.points);
  const maxE = Math.max(1, ...all.map(([e]) => e));
  const maxM = Math.max(1, ...all.map(([, m]) => m)) * 1.15;
  const X = (e) => x0 + (e / maxE) * w;
  const Y = (m) => y0 + h - (m / maxM) * h;
  const out = [`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="#fafafa" stroke="#999"/>`];
  const step = 10 ** Math.floor(Math.log10(maxM / 2));
  for (let m = 0; m <= maxM; m += step * (maxM / step > 8 ? 5 : maxM / step > 4 ? 2 : 1)) {
    out.push(line(x0, Y(m), x0 + w, Y(m), 'stroke="#ddd"'));
    out.push(text(x0 - 6, Y(m) + 4, `${m}`, { anchor: 'end', size: 11 }));
  }
  for (let k = 0; k <= 4; k++) {
    const e = (maxE * k) / 4;
    out.push(text(X(e), y0 + h + 16, e >= 1e6 ? `${(e / 1e6).toFixed(2).replace(/\.?0+$/, '')}M` : `${Math.round(e / 1e3)}k`, { anchor: 'middle', size: 11 }));
  }
  for (const s of series) {
    out.push(polyline(s.points.map(([e, m]) => [X(e), Y(m)]), s.color, s.dash));
    for (const [e, m] of s.points) out.push(`<circle cx="${X(e).toFixed(1)}" cy="${Y(m).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
  }
  out.push(text(x0 + w / 2, y0 + h + 34, 'events tracked after the timed passes', { anchor: 'middle', size: 11 }));
  out.push(text(x0, y0 - 10, 'wasm memory, MB', { size: 13, weight: 'bold' }));
  return out.join('\n');
}

/** The chart of a results object (tests/bench/run.mjs), as SVG text. */
export function chartSvg(r) {
  const b = r.browser;
  const best = b.ort.best ? b.ort.variants[b.ort.best] : null;
  const tails = [{ name: 'ours: intent.track(event)', color: COLORS.ours, points: b.ours.replay.tail }];
  if (best) tails.push({ name: `onnxruntime-web ${r.machine.onnxruntimeWeb}: session.run (${best.name})`, color: COLORS.ort, points: best.replay.tail });
  const mem = [{ color: COLORS.ours, points: b.ours.replay.memory.map((m) => [m.events, m.wasmBytes / 1e6]) }];
  if (b.ort.memory) mem.push({ color: COLORS.ort, points: b.ort.memory.map((m) => [m.events, m.wasmBytes / 1e6]) });
  const targets = [{ ms: 0.025, label: 'p50 target 0.025 ms', row: 0 }, { ms: 0.2, label: 'p99 target 0.2 ms', row: 1 }];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    tailPanel(tails, targets, b.page.timerResolutionMs, { x0: 60, y0: 40, w: 520, h: 250 }),
    memoryPanel(mem, { x0: 680, y0: 40, w: 250, h: 250 }),
  ];
  tails.forEach((s, k) => {
    const y = H - 26 + k * 15;
    parts.push(line(60, y - 4, 84, y - 4, `stroke="${s.color}" stroke-width="2"`));
    parts.push(text(90, y, s.name, { size: 12 }));
  });
  const label = r.model.shipped ? `model ${r.model.name}` : `model ${r.model.name} from ${r.model.dir} (not the shipped model)`;
  parts.push(text(W - 10, H - 11, `${label}; ${r.generatedAt.slice(0, 16).replace('T', ' ')} UTC`, { anchor: 'end', size: 10, color: '#666' }));
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
