// Same events, same scores: the browser (wasm) against the native CLI (`shopper-intent score`).
//
// tests/fixtures/native_scores.json, written from the native CLI's output:
//   {
//     "model": "/models/intent.onnx",          optional, URL path under /models/
//     "manifest": "/models/intent.json",       optional
//     "utcOffsetMinutes": 0,                   optional (default 0), the offset the CLI used
//     "events": [IntentEvent, ...],            {type, ts, item?, category?, price?, quantity?}
//     "scores": [number | null, ...]           the score after each event (Update.score), or
//                                              null where the CLI rejected the event (its
//                                              "error"/"code" line): the browser must refuse it too
//   }
// One user's session(s): the test scores all events in one engine, as `score` does per user.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, blankPage, readJson, setup } from './helpers.mjs';

// `make test-browser` writes the fixture from the freshly built CLI and the shipped model with
// tools/make-parity-fixture.mjs, and points SHOPPER_INTENT_NATIVE_SCORES at it.
const FIXTURE = process.env.SHOPPER_INTENT_NATIVE_SCORES || join(REPO, 'build', 'fixtures', 'native_scores.json');
const TOLERANCE = 1e-5;

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

test('the browser scores a session as the native CLI does', { timeout: 120_000 }, async (t) => {
  assert.ok(existsSync(FIXTURE), `${FIXTURE} is missing: run make-parity-fixture.mjs with the native CLI (make test-browser does)`);
  const fixture = readJson(FIXTURE);
  assert.ok(Array.isArray(fixture.events) && Array.isArray(fixture.scores), 'fixture has events[] and scores[]');
  assert.equal(fixture.events.length, fixture.scores.length, 'one score per event');
  assert.ok(fixture.events.length > 0);
  const context = await env.browser.newContext();
  const page = await env.page(context);
  await blankPage(page, env.url);
  const r = await page.evaluate(async (f) => {
    const { ShopperIntent } = await import('/shopper-intent.js');
    const options = { model: f.model ?? '/models/intent.onnx', storage: 'memory', autoCapture: false, modelCache: false };
    if (f.manifest) options.manifest = f.manifest;
    options.utcOffsetMinutes = f.utcOffsetMinutes ?? 0; // the CLI's default: UTC
    const intent = await ShopperIntent.load(options);
    if (intent.status !== 'ready') return { error: intent.error };
    return { scores: f.events.map((e) => { const u = intent.track(e); return u ? u.score : null; }) };
  }, fixture);
  assert.equal(r.error, undefined, `the engine did not load: ${JSON.stringify(r.error)}`);
  const bad = [];
  r.scores.forEach((s, i) => {
    const want = fixture.scores[i];
    if (want === null ? s !== null : s === null || Math.abs(s - want) > TOLERANCE) bad.push(`event ${i} (${fixture.events[i].type}): browser ${s}, native ${fixture.scores[i]}`);
  });
  assert.deepEqual(bad, [], `scores differ beyond ${TOLERANCE}`);
  t.diagnostic(`${r.scores.length} scores match within ${TOLERANCE}`);
  await context.close();
});
