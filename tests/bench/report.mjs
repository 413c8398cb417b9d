#!/usr/bin/env node
// The figures of a bench run (build/bench/results.json) as the printed table and as
// BENCHMARKS.md + BENCHMARKS.svg. The hand-written block between `<!-- notes -->` and
// `<!-- /notes -->` of an existing BENCHMARKS.md is kept as it is.
//
//   node tests/bench/report.mjs [build/bench/results.json] [--md BENCHMARKS.md]   (rewrites from saved figures)

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chartSvg } from './chart.mjs';
import { LENGTH_BUCKETS } from './stats.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NOTES_OPEN = '<!-- notes -->';
const NOTES_CLOSE = '<!-- /notes -->';
const NOTES_DEFAULT = `_Lead: for each target missed, what was tried and what it gave. This block is kept when
\`make bench\` rewrites the file._`;

// ---------------------------------------------------------------------------------------------
// Formatting

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const ms3 = (v) => (isNum(v) ? v.toFixed(3) : '—');
const ms1 = (v) => (isNum(v) ? v.toFixed(1) : '—');
/** The longest gap between timer turns of some visits, and where it began from the import. */
const gap = (v) => (isNum(v?.longestGapMs) ? `${v.longestGapMs.toFixed(1)}${isNum(v.longestGapAtMs) ? ` (at ${v.longestGapAtMs >= 0 ? '+' : ''}${v.longestGapAtMs.toFixed(0)})` : ''}` : '—');
const kb = (v) => (isNum(v) ? `${(v / 1000).toFixed(1)} kB` : '—');
const mb = (v) => (isNum(v) ? `${(v / 1e6).toFixed(2)} MB` : '—');
const rate = (v) => (isNum(v) ? `${(v / 1e6).toFixed(2)} M/s` : '—');
const us = (v) => (isNum(v) ? `${v.toFixed(2)} us` : '—');
const ratio = (ort, ours) => (isNum(ort) && isNum(ours) && ours > 0 ? `${(ort / ours).toFixed(2)}x` : '');
const tasks = (v) => (!v ? '—' : v.longTasksObservable === false ? 'not observable' : v.longTasks ? `${v.longTasks} (longest ${v.longestTaskMs.toFixed(0)} ms)` : 'none');

function views(r) {
  const o = r.browser.ours;
  const t = r.browser.ort;
  const best = t.best ? t.variants[t.best] : null;
  return { o, t, best };
}

/** The side-by-side rows: [section] or [label, ours, ort, ratio, target]. */
function rows(r) {
  const { o, t, best } = views(r);
  const os = o.replay.steadyScored;
  const ts = best?.replay.steadyScored ?? {};
  const of = o.replay.firstEvents;
  const tf = best?.replay.firstEvents ?? {};
  const mem = (m) => m?.at(-1)?.wasmBytes;
  const heap = (m) => m?.at(-1)?.heapBytes;
  const visit = (which) => [
    [`${which} visit: import -> ready (ms)`, ms1(o.visits[which].loadMs), ms1(t.visits?.[which].loadMs), ratio(t.visits?.[which].loadMs, o.visits[which].loadMs), which === 'first' ? '<= 50 ms' : ''],
    [`${which} visit: import -> first score (ms)`, ms1(o.visits[which].firstScoreMs), ms1(t.visits?.[which].firstScoreMs), ratio(t.visits?.[which].firstScoreMs, o.visits[which].firstScoreMs), ''],
    [`${which} visit: navigation -> first score (ms)`, ms1(o.visits[which].firstScoreSinceNavigationMs), ms1(t.visits?.[which].firstScoreSinceNavigationMs), ratio(t.visits?.[which].firstScoreSinceNavigationMs, o.visits[which].firstScoreSinceNavigationMs), ''],
    [`${which} visit: long tasks (> 50 ms)`, tasks(o.visits[which]), tasks(t.visits?.[which]), '', which === 'first' ? 'none' : ''],
    [`${which} visit: longest gap between timer turns (ms; at ms from import)`, gap(o.visits[which]), gap(t.visits?.[which]), '', ''],
    [`${which} visit: of which JS import (ms)`, ms1(o.visits[which].importMs), ms1(t.visits?.[which].importMs), ratio(t.visits?.[which].importMs, o.visits[which].importMs), ''],
  ];
  // The same visits on a CPU slowed n times (absent from runs before they were measured).
  const sv = (v, which) => v.slowVisits?.[which];
  const slowVisit = (which) => [
    [`${which} visit: import -> ready (ms)`, ms1(sv(o, which)?.loadMs), ms1(sv(t, which)?.loadMs), ratio(sv(t, which)?.loadMs, sv(o, which)?.loadMs), ''],
    [`${which} visit: long tasks (> 50 ms)`, tasks(sv(o, which)), tasks(sv(t, which)), '', ''],
    [`${which} visit: longest gap between timer turns (ms; at ms from import)`, gap(sv(o, which)), gap(sv(t, which)), '', ''],
    [`${which} visit: of which JS import (ms)`, ms1(sv(o, which)?.importMs), ms1(sv(t, which)?.importMs), ratio(sv(t, which)?.importMs, sv(o, which)?.importMs), ''],
  ];
  // The floor: the wasm file alone fetched and compiled (absent from runs before it was measured).
  const floorRows = o.floor
    ? [[`Floor of a first visit: the wasm file alone fetched and compiled, no JS of ours, no engine (${o.floor.visits} fresh contexts)`],
      ['median (ms)', ms1(o.floor.compileMs), ms1(t.floor?.compileMs), ratio(t.floor?.compileMs, o.floor.compileMs), ''],
      ['fastest (ms)', ms1(Math.min(...o.floor.all.map((v) => v.compileMs))), ms1(t.floor ? Math.min(...t.floor.all.map((v) => v.compileMs)) : null), '', '']]
    : [];
  const slow = o.slowVisits
    ? [[`Load on a CPU slowed ${o.slowVisits.rate}x, a phone's (Chromium's CPU throttling; median of ${r.settings.visits} fresh contexts)`], ...slowVisit('first'), ...slowVisit('repeat')]
    : [];
  const bytes = (kind) => [`${kind === 'total' ? 'total' : kind} bytes, gzip -9 / raw`, `${kb(o.bytes[kind].gzip)} / ${kb(o.bytes[kind].raw)}`,
    t.bytes ? `${kb(t.bytes[kind].gzip)} / ${kb(t.bytes[kind].raw)}` : '—', ratio(t.bytes?.[kind].gzip, o.bytes[kind].gzip), kind === 'total' ? '<= 1 MB gzip (toward 500 kB)' : ''];
  const n = r.native;
  return [
    [`Per event in Chromium, steady state (ms; ${os.n} ours / ${ts.n ?? 0} peer events, scored)`],
    ['p50', ms3(os.p50), ms3(ts.p50), ratio(ts.p50, os.p50), '<= 0.025; peer/ours >= 2x'],
    ['p99', ms3(os.p99), ms3(ts.p99), ratio(ts.p99, os.p99), '<= 0.2'],
    ['max', ms3(os.max), ms3(ts.max), ratio(ts.max, os.max), ''],
    ['mean', ms3(os.mean), ms3(ts.mean), ratio(ts.mean, os.mean), ''],
    [`ours, every event incl. not scored (${o.replay.steady.n}): p50 / p99`, `${ms3(o.replay.steady.p50)} / ${ms3(o.replay.steady.p99)}`, 'n/a', '', ''],
    [`First ${of.n} events of a fresh page (ms)`],
    ['p50', ms3(of.p50), ms3(tf.p50), ratio(tf.p50, of.p50), ''],
    ['max', ms3(of.max), ms3(tf.max), ratio(tf.max, of.max), ''],
    [`Load (median of ${r.settings.visits} fresh contexts; repeat = second visit in the same context)`],
    ...visit('first'),
    ...visit('repeat'),
    ...floorRows,
    ...slow,
    ['Bytes shipped (what a first visit fetched)'],
    bytes('wasm'), bytes('js'), bytes('model'), bytes('total'),
    [`Memory (after ${o.replay.memoryEvents.toLocaleString('en-US')} ours / ${(t.memoryEvents ?? 0).toLocaleString('en-US')} peer events more)`],
    ['wasm memory before the untimed events', mb(o.replay.memory[0]?.wasmBytes), mb(t.memory?.[0]?.wasmBytes), ratio(t.memory?.[0]?.wasmBytes, o.replay.memory[0]?.wasmBytes), ''],
    ['wasm memory at the end', mb(mem(o.replay.memory)), mb(mem(t.memory)), ratio(mem(t.memory), mem(o.replay.memory)), 'flat'],
    ['JS heap at the end (after gc)', mb(heap(o.replay.memory)), mb(heap(t.memory)), ratio(heap(t.memory), heap(o.replay.memory)), ''],
    ['Native (CLI, ours only)'],
    ['featurize + score, batches, 1 thread', rate(n.batch_events_per_s?.threads_1), '', '', '>= 1M events/s'],
    ['featurize + score, batches, 2 threads', rate(n.batch_events_per_s?.threads_2), '', '', '>= 1M events/s'],
    ['engine.track one at a time: p50 / p99', `${us(n.track_us?.p50)} / ${us(n.track_us?.p99)}`, '', '', ''],
  ];
}

/** [target, measured, status] for "where each target stands". */
function targets(r) {
  const { o, t, best } = views(r);
  const out = [];
  const status = (ok) => (ok === null ? 'not measured' : ok ? 'met' : 'missed');
  const total = o.bytes.total.gzip;
  out.push(['wasm + JS + model <= 1 MB gzip (toward 500 kB)', `${kb(total)} gzip (wasm ${kb(o.bytes.wasm.gzip)}, JS ${kb(o.bytes.js.gzip)}, model ${kb(o.bytes.model.gzip)})`, status(total <= 1e6) + (total <= 1e6 && total > 5e5 ? ' (not yet 500 kB)' : '')]);
  const buckets = Object.entries(o.replay.byLength).filter(([, s]) => s.n > 0);
  const worst50 = Math.max(o.replay.steady.p50, ...buckets.map(([, s]) => s.p50));
  const worst99 = Math.max(o.replay.steady.p99, ...buckets.map(([, s]) => s.p99));
  out.push(['track() p50 <= 0.025 ms and p99 <= 0.2 ms at every session length',
    `worst bucket p50 ${ms3(worst50)} ms, p99 ${ms3(worst99)} ms (buckets ${buckets.map(([k, s]) => `${k}: ${ms3(s.p50)}/${ms3(s.p99)}`).join(', ')}); first ${o.replay.firstEvents.n} events of a page: p50 ${ms3(o.replay.firstEvents.p50)}, max ${ms3(o.replay.firstEvents.max)}`,
    status(worst50 <= 0.025 && worst99 <= 0.2)]);
  // Ratios of times rounded to 0.1 ns, as the digest rounds them (older results were not).
  const q = (v) => Math.round(v * 1e7) / 1e7;
  const r50 = best ? q(best.replay.steadyScored.p50) / q(o.replay.steadyScored.p50) : null;
  const rMean = best ? q(best.replay.steadyScored.mean) / q(o.replay.steadyScored.mean) : null;
  out.push(['>= 2x faster per event than onnxruntime-web at its best',
    best ? `p50 ${ratio(best.replay.steadyScored.p50, o.replay.steadyScored.p50)}, mean ${ratio(best.replay.steadyScored.mean, o.replay.steadyScored.mean)}, p99 ${ratio(best.replay.steadyScored.p99, o.replay.steadyScored.p99)} (peer: ${best.name}; timer step ${(r.browser.page.timerResolutionMs * 1000).toFixed(0)} us)` : 'peer not run',
    best ? status(r50 >= 2) + (r50 >= 2 !== rMean >= 2 ? ` by p50; ${rMean >= 2 ? 'met' : 'missed'} by mean` : '') : status(null)]);
  const f = o.visits.first;
  const allFirst = f.all ?? [f];
  const ph = (v) => v.phases ?? {};
  out.push(['first visit to ready <= 50 ms, no long task',
    `median ${ms1(f.loadMs)} ms from import to ready (${allFirst.map((v) => ms1(v.loadMs)).join(', ')}): the package's JS modules imported in ${ms1(f.importMs)} ms, then load() had the wasm at ${allFirst.map((v) => ms1(ph(v).wasmMs)).join(' / ')} ms, the model at ${allFirst.map((v) => ms1(ph(v).modelMs)).join(' / ')} ms, built the engine in ${allFirst.map((v) => ms1(ph(v).engineMs)).join(' / ')} ms; ${ms1(f.firstScoreSinceNavigationMs)} ms from navigation to first score; long tasks: ${tasks(f)}${o.slowVisits ? `; on a CPU slowed ${o.slowVisits.rate}x, ${ms1(o.slowVisits.first.loadMs)} ms median${r.browser.ort.slowVisits ? ` (the peer's ${ms1(r.browser.ort.slowVisits.first.loadMs)})` : ''}, long tasks: ${tasks(o.slowVisits.first)}` : ''}${o.floor ? `; the floor, the wasm alone fetched and compiled with no JS of ours and no engine, ${ms1(o.floor.compileMs)} ms median (${o.floor.all.map((v) => ms1(v.compileMs)).join(', ')}; the peer's wasm ${ms1(r.browser.ort.floor?.compileMs)}), and the engine is built after it, ${ms1(Math.min(...allFirst.map((v) => ph(v).engineMs).filter(Number.isFinite)))} ms at the fastest` : ''}`,
    status(f.loadMs <= 50 && f.longTasks === 0)]);
  const m = o.replay.memory;
  const after100k = m.find((p) => p.events >= 100_000) ?? m[0];
  const end = m.at(-1);
  out.push(['memory flat after 1M events',
    m.length > 1 ? `wasm ${mb(m[0].wasmBytes)} before, ${mb(after100k.wasmBytes)} at ${after100k.events.toLocaleString('en-US')}, ${mb(end.wasmBytes)} after ${end.events.toLocaleString('en-US')} events; JS heap ${mb(m[0].heapBytes)} -> ${mb(end.heapBytes)}` : 'not run',
    m.length > 1 && end.events >= 1e6 ? status(end.wasmBytes === after100k.wasmBytes) : end?.events ? `${status(end.wasmBytes === after100k.wasmBytes)} over ${end.events.toLocaleString('en-US')} events only` : status(null)]);
  const nat = Math.max(r.native.batch_events_per_s?.threads_1 ?? 0, r.native.batch_events_per_s?.threads_2 ?? 0);
  out.push(['native >= 1M events/s featurize + score', `${rate(r.native.batch_events_per_s?.threads_1)} (1 thread), ${rate(r.native.batch_events_per_s?.threads_2)} (2 threads)`, status(nat > 0 ? nat >= 1e6 : null)]);
  return out;
}

/** The other browsers of a run: the key of their results and their name. */
const OTHER_BROWSERS = [['firefox', 'Firefox'], ['webkit', 'WebKit']];

/**
 * The same comparison in another browser, when the run has it (`r[key]`, same settings): per
 * event, visits and wasm memory, ours against onnxruntime-web's fastest graph in that browser.
 */
function otherRows(r, key, name) {
  const f = r[key];
  const o = f.ours;
  const t = f.ort;
  const best = t.best ? t.variants[t.best] : null;
  const os = o.replay.steadyScored;
  const ts = best?.replay.steadyScored ?? {};
  const mem = (m) => m?.at(-1)?.wasmBytes;
  const visit = (which) => [
    [`${which} visit: import -> ready (ms)`, ms1(o.visits[which].loadMs), ms1(t.visits?.[which].loadMs), ratio(t.visits?.[which].loadMs, o.visits[which].loadMs)],
    [`${which} visit: long tasks (> 50 ms)`, tasks(o.visits[which]), tasks(t.visits?.[which]), ''],
    [`${which} visit: longest gap between timer turns (ms; at ms from import)`, gap(o.visits[which]), gap(t.visits?.[which]), ''],
  ];
  return [
    [`Per event in ${name}, steady state (ms; ${os.n} ours / ${ts.n ?? 0} peer events, scored; peer: ${best?.name ?? 'not run'})`],
    ['mean', ms3(os.mean), ms3(ts.mean), ratio(ts.mean, os.mean)],
    ['p50', ms3(os.p50), ms3(ts.p50), ratio(ts.p50, os.p50)],
    ['p99', ms3(os.p99), ms3(ts.p99), ratio(ts.p99, os.p99)],
    ['max', ms3(os.max), ms3(ts.max), ratio(ts.max, os.max)],
    [`Load (median of ${r.settings.visits} fresh contexts)`],
    ...visit('first'),
    ...visit('repeat'),
    ...(o.floor ? [[`floor: the wasm alone fetched and compiled (ms; median of ${o.floor.visits})`, ms1(o.floor.compileMs), ms1(t.floor?.compileMs), ratio(t.floor?.compileMs, o.floor.compileMs)]] : []),
    [`wasm memory (after ${o.replay.memoryEvents.toLocaleString('en-US')} ours / ${(t.memoryEvents ?? 0).toLocaleString('en-US')} peer events more)`],
    ['before the untimed events', mb(o.replay.memory[0]?.wasmBytes), mb(t.memory?.[0]?.wasmBytes), ratio(t.memory?.[0]?.wasmBytes, o.replay.memory[0]?.wasmBytes)],
    ['at the end', mb(mem(o.replay.memory)), mb(mem(t.memory)), ratio(mem(t.memory), mem(o.replay.memory))],
  ];
}

function otherText(r) {
  return OTHER_BROWSERS.filter(([key]) => r[key]).flatMap(([key, name]) => ['', textTable([name, 'ours', 'onnxruntime-web', 'peer/ours'], otherRows(r, key, name))]);
}

function firefoxMarkdown(r) {
  if (!r.firefox) return '';
  const f = r.firefox;
  return `
## The same in Firefox

The same page, fixture, settings and peer graphs in headless Firefox ${f.version.replace(/^firefox\//, '')} (Debian's
firefox-esr with its default settings, driven over WebDriver BiDi by tests/browser/firefox.mjs).
Its timer step on this cross-origin isolated page is ${(f.page.timerResolutionMs * 1000).toFixed(0)} us, so per-event percentiles
come in steps of it and the mean is the figure to compare. Our wasm: ${f.ours.simd ? 'the SIMD build' : 'the plain build'}.
Firefox has no Long Tasks API and no \`performance.memory\`: no long-task or JS heap figures. The
targets above are Chromium's; these figures are for a shop whose shoppers use Firefox.

${mdTable(['', 'ours', 'onnxruntime-web', 'peer/ours'], otherRows(r, 'firefox', 'Firefox'))}
`;
}

function webkitMarkdown(r) {
  if (!r.webkit) return '';
  const w = r.webkit;
  return `
## The same in WebKit

The same page, fixture, settings and peer graphs in WebKitGTK ${w.version} (Debian's MiniBrowser under Xvfb:
JavaScriptCore and WebKit, the engines of Safari, on Linux), driven over WebDriver classic by
tests/browser/webkit.mjs. Its pages load through that file's front server, one more local hop
than in the other browsers, which the visit times include. Its timer step on this page is
${(w.page.timerResolutionMs * 1000).toFixed(0)} us. Our wasm: ${w.ours.simd ? 'the SIMD build' : 'the plain build'}. WebKit has no Long Tasks API and no
\`performance.memory\`. Safari itself (macOS, iOS: other builds, other machines) is not measured.

${mdTable(['', 'ours', 'onnxruntime-web', 'peer/ours'], otherRows(r, 'webkit', 'WebKit'))}
`;
}

function lengthRows(r) {
  const { o, best } = views(r);
  return LENGTH_BUCKETS.map(([label]) => {
    const a = o.replay.byLength[label];
    const b = best?.replay.byLength[label];
    return [label, String(a.n), ms3(a.p50), ms3(a.p99), ms3(a.max), ms3(b?.p50), ms3(b?.p99), ms3(b?.max)];
  });
}

function variantRows(r) {
  return Object.values(r.browser.ort.variants).map((v) => [
    v.name + (v.name === r.browser.ort.best ? ' (fastest)' : ''), v.source, ms3(v.replay.steadyScored.p50), ms3(v.replay.steadyScored.p99),
    ms3(v.replay.steadyScored.mean), ms3(v.replay.firstEvents.p50), isNum(v.parity.maxAbsDiff) ? v.parity.maxAbsDiff.toExponential(1) : '—',
  ]);
}

// ---------------------------------------------------------------------------------------------
// Text

function pad(cells, widths) {
  return cells.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
}

function textTable(header, body) {
  const widths = header.map((h, i) => Math.max(h.length, ...body.filter((r) => r.length > 1).map((r) => String(r[i] ?? '').length)));
  const lines = [pad(header, widths), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of body) lines.push(r.length === 1 ? `-- ${r[0]}` : pad(r, widths));
  return lines.join('\n');
}

function heading(r) {
  const m = r.machine;
  const la = (v) => (v ? v.map((x) => x.toFixed(1)).join(' ') : '?');
  return [
    `shopper-intent benchmark, ${r.generatedAt.slice(0, 16).replace('T', ' ')} UTC, commit ${m.commit}${m.dirty ? ` (+${m.dirty} uncommitted files)` : ''}`,
    `model: ${r.model.name} from ${r.model.dir}/ (F ${r.model.inputs}, H ${r.model.hidden}, head ${r.model.head}, window ${r.model.window})${r.model.shipped ? '' : ' -- NOT the shipped model'}`,
    `fixture: ${r.fixture.summary}; ${r.settings.passes} passes, the first gives "first events", the rest "steady state"`,
    `browser: Chromium ${r.browser.version ?? r.browser.chromium}${r.firefox ? `, ${r.firefox.version}` : ''}${r.webkit ? `, WebKitGTK ${r.webkit.version}` : ''}, timer step ${(r.browser.page.timerResolutionMs * 1000).toFixed(1)} us (cross-origin isolated: ${r.browser.page.crossOriginIsolated}); our wasm: ${r.browser.ours.simd ? 'SIMD build' : 'plain build'}`,
    `machine: ${m.cpu}, ${m.cores} cores; load average (1/5/15 min) ${la(m.loadavg.start)} at start, ${la(m.loadavg.end)} at end`,
  ].join('\n');
}

/** The table `make bench` prints. */
export function table(r) {
  const out = [heading(r), ''];
  out.push(textTable(['', 'ours', 'onnxruntime-web', 'peer/ours', 'target'], rows(r)));
  out.push('', 'peer/ours: above 1, ours is faster (or smaller). The peer runs only the model step on rows given to it; ours featurizes too.', '');
  out.push(textTable(['session length', 'n (ours)', 'ours p50', 'ours p99', 'ours max', 'peer p50', 'peer p99', 'peer max'], lengthRows(r)));
  out.push('', textTable(['onnxruntime-web graph', 'from', 'p50', 'p99', 'mean', 'first-50 p50', 'max |p - ours|'], variantRows(r)));
  out.push(...otherText(r));
  out.push('', 'Where each target stands:');
  for (const [target, measured, status] of targets(r)) out.push(`  ${target}: ${status}\n      ${measured}`);
  for (const n of r.notes ?? []) out.push(`note: ${n}`);
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Markdown

const mdCell = (s) => String(s).replace(/\|/g, '\\|');
function mdTable(header, body) {
  const lines = [`| ${header.map(mdCell).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of body) lines.push(r.length === 1 ? `| **${mdCell(r[0])}** |${' |'.repeat(header.length - 1)}` : `| ${r.map(mdCell).join(' | ')} |`);
  return lines.join('\n');
}

function keptNotes(path) {
  if (!existsSync(path)) return NOTES_DEFAULT;
  const text = readFileSync(path, 'utf8');
  const a = text.indexOf(NOTES_OPEN);
  const b = text.indexOf(NOTES_CLOSE);
  return a >= 0 && b > a ? text.slice(a + NOTES_OPEN.length, b).trim() : NOTES_DEFAULT;
}

/** Tract natively on each graph of the step (the CLI's `bench --graph`), when it was run. */
function stepGraphs(r) {
  const g = r.native.step_graphs;
  if (!Array.isArray(g) || g.length === 0) return '';
  const site = r.browser?.ort?.variants ?? {};
  const name = (path) => {
    if (path === 'engine') return "the engine's graph (tract-core, built from the weights; shipped)";
    const file = path.split('/').at(-1);
    const v = Object.entries(site).find(([, x]) => x?.file === file);
    return `${v ? v[0] : file} (tract-onnx, optimized)`;
  };
  return `
One step of the model natively, tract on each graph of it, over the same ${g[0].rows ?? ''} rows (the
ONNX graphs through \`OnnxModel::step\`, which also copies its inputs and outputs into new tensors):

${mdTable(['graph', 'p50', 'mean'], g.map((x) => [name(x.graph), us(x.p50_us), us(x.mean_us)]))}
`;
}

function markdown(r, notes, svgName) {
  const m = r.machine;
  const { o, t, best } = views(r);
  const placeholder = r.model.shipped ? '' : `> **Placeholder figures.** The model measured is \`${r.model.name}\` from \`${r.model.dir}/\`
> (F ${r.model.inputs}, H ${r.model.hidden}), not the shipped model: its weights are random and its size is
> not the shipped one's, so the speed, bytes and memory here only show that the bench works.
> Run \`make bench\` again once \`models/\` holds the shipped model.

`;
  return `# Benchmarks

Written by \`make bench\` (tests/bench/run.mjs, tests/bench/report.mjs) on ${r.generatedAt.slice(0, 16).replace('T', ' ')} UTC,
commit \`${m.commit}\`${m.dirty ? ` with ${m.dirty} uncommitted files` : ''}. Everything but the notes block is regenerated;
the figures of the run are in build/bench/results.json.

${placeholder}## Where each target stands

${mdTable(['target', 'measured', 'status'], targets(r))}

## What was tried for each target missed (lead's notes)

${NOTES_OPEN}
${notes}
${NOTES_CLOSE}

## Side by side: our package and onnxruntime-web in Chromium

Ours is \`intent.track(event)\` of the page package (validation, features, the LSTM step, the JS
wrapper). The peer is onnxruntime-web ${m.onnxruntimeWeb} (wasm backend, one thread, no proxy
worker) fed the same feature rows and carrying (h, c) itself, one \`await session.run(...)\` per
scored event: it does less work per event than ours. peer/ours above 1: ours is faster or smaller.

${mdTable(['', 'ours', 'onnxruntime-web', 'peer/ours', 'target'], rows(r))}

![Per-event times and wasm memory](${svgName})

### By session length (position of the event in its session; steady state, scored events)

${mdTable(['session length', 'n (ours)', 'ours p50', 'ours p99', 'ours max', 'peer p50', 'peer p99', 'peer max'], lengthRows(r))}

### onnxruntime-web graphs of the same model

The peer's figures above are its fastest graph's. \`max |p - ours|\` compares its score of every
scored event of the first pass with our engine's (a check that both ran the same model on the same rows).

${mdTable(['graph', 'from', 'p50 (ms)', 'p99 (ms)', 'mean (ms)', 'first-50 p50', 'max |p - ours|'], variantRows(r))}

### Native (\`${r.native.command}\`)

${mdTable(['figure', 'value'], [
    ['read + parse', rate(r.native.parse_events_per_s)],
    ['window + features per event', rate(r.native.features_events_per_s)],
    ['featurize to training rows', rate(r.native.featurize_events_per_s)],
    ['featurize + score in batches, 1 thread', rate(r.native.batch_events_per_s?.threads_1)],
    ['featurize + score in batches, 2 threads', rate(r.native.batch_events_per_s?.threads_2)],
    ['engine.track one at a time, p50 / p99 / max', `${us(r.native.track_us?.p50)} / ${us(r.native.track_us?.p99)} / ${us(r.native.track_us?.max)}`],
    ['model load', `${ms3(r.native.model_load_ms)} ms`],
  ])}
${stepGraphs(r)}${firefoxMarkdown(r)}${webkitMarkdown(r)}
## How it was measured

- **Events.** \`shopper-intent replay-fixture\` writes the test users of seed 0 of the Taobao sample
  (${r.fixture.summary}) with the feature row our engine computes for every scored event. The
  page replays every user from a clean slate (\`forget()\` for ours, a zero state for the peer),
  ${r.settings.passes} times over; the first pass of a fresh page gives the "first events" figures
  (V8 has not tiered the code up yet), the other passes the steady state. The peer starts a new
  session from a zero state where the row's \`log_position\` says the event is a session's first.
- **Timing.** Each event is timed alone with \`performance.now()\`, around \`intent.track(event)\` or
  around \`await session.run(...)\` (its input tensor made inside the timed span, as a page would).
  The page is cross-origin isolated (COOP + COEP from web/dev/serve.mjs), so the timer step is
  ${(r.browser.page.timerResolutionMs * 1000).toFixed(1)} us (100 us otherwise); figures under a few steps are coarse, the mean less so.
  Between users, once 200 events have been timed since the last time, the loop yields to the event
  loop (untimed), as a page does between events.
  Percentiles are nearest-rank: every figure is a time that was measured.
- **Load.** ${r.settings.visits} fresh browser contexts (empty HTTP cache, no compiled-wasm cache), two
  visits each; medians. "import -> ready" runs from the page's \`import()\` of the package (or of
  \`ort.wasm.min.mjs\`) to \`ShopperIntent.load()\` resolving (or the session made); "first score" adds
  one event. Long tasks are PerformanceObserver \`longtask\` entries from navigation until 500 ms
  after the first score. Over the same span the page runs a 0 ms timer: the longest gap between
  its turns (the worst of the visits) bounds the longest task from above, also in the browsers
  without a Long Tasks API. The server sends \`Cache-Control: no-cache\` with ETags, so a repeat visit
  revalidates every file (304) and V8 may reuse its compiled wasm.${r.browser.ours.slowVisits ? `
  The same visits are measured again with the page's CPU slowed ${r.browser.ours.slowVisits.rate}x (the DevTools protocol's
  \`Emulation.setCPUThrottlingRate\`, set before the navigation), ours and the peer's: a stand-in for a
  phone's slower CPU on the same fast network (the factor is our choice; the protocol says only that
  it emulates a slow CPU, not which of the browser's threads it slows).` : ''}${r.browser.ours.floor ? `
  The floor: in ${r.browser.ours.floor.visits} more fresh contexts, after those visits, the bench page (already loaded, not timed)
  fetches the wasm file the first visits loaded and compiles it alone with \`WebAssembly.compileStreaming\`:
  no JS module of ours imported, nothing instantiated, no engine built. A first visit cannot score before
  its wasm is compiled and its engine built from it, so the floor plus the engine build bounds a first
  visit from below whatever our JS does (a page could overlap only the import with the download, by a preload hint).` : ''}
- **Our package** is loaded with \`storage: 'memory'\` and \`autoCapture: false\` in every pass and visit (a
  shop's default \`'session'\` storage also saves 250 ms after the last change, outside the timed span).
- **Bytes.** Every file a first visit fetched for the engine (not the bench page or the fixture),
  fetched again by the runner; gzip is zlib level 9. Ours: wasm (the SIMD build where the browser
  has SIMD), the package as a shop ships it (\`shopper-intent.min.js\`, one bundled and minified
  module), the manifest and weights. The peer: \`ort.wasm.min.mjs\`, its wasm loader and wasm, the ONNX file.
- **Memory.** Ours: after the timed passes, in the same page; the peer: in a page of its own, with no timed
  passes, after its session is made. Then the page tracks ${r.settings.million.toLocaleString('en-US')} more events untimed (users
  replayed again, \`forget()\` between users; the peer runs only scored events), reading the wasm
  memory every 100,000: ours from engine.js \`wasmMemoryBytes()\`, the peer's by catching its
  \`WebAssembly.Memory\` at instantiation. The JS heap is \`performance.memory\` after \`gc()\`
  (Chromium flags \`--enable-precise-memory-info --js-flags=--expose-gc\`); it includes the fixture
  the page holds (about the same for both engines).
- **The peer.** \`ort.wasm.min.mjs\` (the wasm-only build) with \`numThreads = 1\`, \`proxy = false\` and
  \`graphOptimizationLevel: 'all'\`; its wasm is \`ort-wasm-simd-threaded.wasm\`, the one wasm file
  this build loads. Every ONNX graph of the model listed above is replayed; the fastest by steady
  p50 (then mean) is "the peer" of the table; its first visits and memory are measured.
- **Noise.** The machine has ${m.cores} cores shared with builds: the load average (1/5/15 min) was
  ${(m.loadavg.start ?? []).map((x) => x.toFixed(1)).join(' ')} at the start and ${(m.loadavg.end ?? []).map((x) => x.toFixed(1)).join(' ')} at the end. Maxima and first-visit times move most with it.
${(r.notes ?? []).map((n) => `- **Note.** ${n[0].toUpperCase()}${n.slice(1)}.`).join('\n')}

## Machine and versions

${mdTable(['', ''], [
    ['CPU', `${m.cpu}, ${m.cores} cores`],
    ['Chromium', `${r.browser.version ?? r.browser.chromium} (headless; the flags of tests/browser/helpers.mjs and those above)`],
    ...(r.firefox ? [['Firefox', `${r.firefox.version} (Debian's firefox-esr, headless)`]] : []),
    ...(r.webkit ? [['WebKit', `WebKitGTK ${r.webkit.version} (Debian's MiniBrowser under Xvfb)`]] : []),
    ['Node', m.node],
    ['onnxruntime-web', m.onnxruntimeWeb],
    ['rustc', m.rustc ?? '?'],
    ['commit', `${m.commit}${m.dirty ? ` (+${m.dirty} uncommitted files)` : ''}`],
    ['model', `${r.model.name} from ${r.model.dir}/: F ${r.model.inputs}, H ${r.model.hidden}, head ${r.model.head}, window ${r.model.window}`],
    ['run time', `${Math.round(r.seconds ?? 0)} s`],
  ])}
`;
}

/** Writes BENCHMARKS.md (keeping its notes block) and the chart beside it; returns the paths. */
export function writeReport(r, mdPath) {
  const svgPath = join(dirname(mdPath), `${basename(mdPath, '.md')}.svg`);
  writeFileSync(svgPath, chartSvg(r));
  writeFileSync(mdPath, markdown(r, keptNotes(mdPath), basename(svgPath)));
  return [mdPath, svgPath];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--md');
  const md = resolve(REPO, at >= 0 ? args.splice(at, 2)[1] : 'BENCHMARKS.md');
  const results = JSON.parse(readFileSync(resolve(REPO, args[0] ?? 'build/bench/results.json'), 'utf8'));
  console.log(table(results));
  console.error(`wrote ${writeReport(results, md).join(', ')}`);
}
