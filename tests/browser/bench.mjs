// Prints the benchmark figures of web/bench.html in headless Chromium. Not a test: nothing is
// asserted, the numbers are for reading.
//   node tests/browser/bench.mjs [--events 2000] [--json]
import { setup } from './helpers.mjs';

const args = process.argv.slice(2);
const events = args.includes('--events') ? Number(args[args.indexOf('--events') + 1]) : 2000;
const env = await setup();
try {
  // Two visits in one profile: the first compiles the wasm cold; the second gets V8's code
  // cache for the module (the browser's HTTP cache revalidates it with a 304).
  const page = await env.page();
  for (const visit of ['first visit', 'repeat visit']) {
  await page.goto(`${env.url}/bench.html?events=${events}`);
  const result = await page.evaluate(() => window.benchResult);
  console.log(`--- ${visit}`);
  if (args.includes('--json')) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    const f = (v, d = 2) => (typeof v === 'number' ? v.toFixed(d) : String(v));
    console.log(`browser            ${result.userAgent}`);
    console.log(`wasm               ${result.wasmBytes} B raw, ${result.wasmGzipBytes} B gzip`);
    console.log(`model              ${result.modelBytes} B`);
    if (result.error) {
      console.log(`error              ${JSON.stringify(result.error)}`);
    } else {
      const p = result.phases ?? {};
      console.log(`time to ready      ${f(result.readyMs, 1)} ms (wasm streaming compile + model + engine)`);
      console.log(`  phases           wasm instantiated at ${f(p.wasmMs, 1)} ms, model loaded at ${f(p.modelMs, 1)} ms, engine built in ${f(p.engineMs, 1)} ms`);
      console.log(`longest load task  ${f(result.longestLoadTaskMs, 1)} ms (0 = no task over 50 ms)`);
      console.log(`track()            mean ${f(result.trackMeanMs, 4)} ms/event over ${result.events} events; batch means p50 ${f(result.trackP50Ms, 4)}, p95 ${f(result.trackP95Ms, 4)}, max ${f(result.trackMaxBatchMeanMs, 4)}`);
      console.log(`explain()          ${f(result.explainMs, 3)} ms`);
      console.log(`exportState()      ${f(result.exportStateMs, 3)} ms, ${result.stateBytes} B`);
      console.log(`long tasks         ${result.longTasks} in all; longest while tracking ${f(result.longestTrackTaskMs, 1)} ms`);
    }
  }
  }
  for (const m of page.consoleMessages) if (m.type === 'error' || m.type === 'warning') console.error(`console ${m.type}: ${m.text}`);
} finally {
  await env.close();
}
