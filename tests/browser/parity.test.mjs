// Same events, same scores: the browser (wasm) against the native CLI (`shopper-intent score`),
// with the served model and with a model that reads the shop's own event types (own-kinds/).
//
// The fixture (tools/make-parity-fixture.mjs writes it from the CLI's output):
//   {
//     "model": {"name", "weights_fnv1a64"},   the model the CLI scored with: it must be the one
//                                             served as /models/ (checked below)
//     "utcOffsetMinutes": null | number,      the offset the CLI was given (null: none, so both
//                                             sides take the model's own)
//     "events": [IntentEvent, ...],           one shopper: sessions, a purchase, the shop's own
//                                             types, mapped names, session ids, refused events
//     "scores": [number | null, ...],         the score after each event, or null where the CLI
//                                             refused or ignored it
//     "updates": [{segment, segmentChanged, converted, ignored, scored, newSession, prefix}
//                 | {ignored: true}             a kind the model does not read: the browser must
//                                             say so and keep its score
//                 | null]                       refused by the CLI: the browser must refuse it too
//   }
// `make test-browser` writes it from the freshly built CLI and points SHOPPER_INTENT_NATIVE_SCORES
// at it. Without that variable, this test writes it itself from target/native/shopper-intent (or
// $SHOPPER_INTENT_CLI) and the model served as /models/.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MANIFEST, MODEL, MODELS, PACKAGE_MODULE, REPO, blankPage, readJson, setup, test } from './helpers.mjs';

const TOLERANCE = 1e-5;
const CLI = process.env.SHOPPER_INTENT_CLI || join(REPO, 'target', 'native', 'shopper-intent');

/** The fixture's path, written here from the CLI when no fixture was given. */
function fixturePath() {
  if (process.env.SHOPPER_INTENT_NATIVE_SCORES) return process.env.SHOPPER_INTENT_NATIVE_SCORES;
  assert.ok(existsSync(CLI), `no fixture (SHOPPER_INTENT_NATIVE_SCORES) and no CLI at ${CLI} to write one: make cli`);
  const out = join(REPO, 'build', 'fixtures-browser-parity');
  execFileSync(process.execPath, [join(REPO, 'tests', 'browser', 'tools', 'make-parity-fixture.mjs'), '--cli', CLI, '--model', join(MODELS, 'intent.json'), '--out', out],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  return join(out, 'native_scores.json');
}

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

/**
 * Scores the fixture's events in the page with the model at `model`/`manifest` and compares every
 * score and update with the CLI's; returns how many events and how many both refused.
 */
async function compare(fixture, { model, manifest, routes = [] }) {
  assert.ok(Array.isArray(fixture.events) && Array.isArray(fixture.scores) && Array.isArray(fixture.updates), 'fixture has events[], scores[] and updates[]');
  assert.equal(fixture.events.length, fixture.scores.length, 'one score per event');
  assert.equal(fixture.events.length, fixture.updates.length, 'one update per event');
  // The fixture is worth something only if it has each case.
  const refused = fixture.updates.filter((u) => u === null).length;
  assert.ok(refused >= 1 && fixture.updates.some((u) => u?.ignored) && fixture.updates.some((u) => u?.converted)
    && fixture.updates.filter((u) => u?.newSession).length >= 3, 'the fixture has refused, ignored, converted events and several sessions');

  const context = await env.browser.newContext();
  const page = await env.page(context);
  for (const [url, handler] of routes) await page.route(url, handler);
  await blankPage(page, env.url);
  const r = await page.evaluate(async ({ f, model, manifest, module }) => {
    const { ShopperIntent } = await import(module);
    const intent = await ShopperIntent.load({ model, manifest, storage: 'memory', autoCapture: false, modelCache: false, ...(typeof f.utcOffsetMinutes === 'number' ? { utcOffsetMinutes: f.utcOffsetMinutes } : {}) });
    if (intent.status !== 'ready') return { error: intent.error };
    return { updates: f.events.map((e) => intent.track(e)), kinds: intent.model.kinds };
  }, { f: fixture, model, manifest, module: PACKAGE_MODULE });
  await context.close();
  assert.equal(r.error, undefined, `the engine did not load: ${JSON.stringify(r.error)}`);
  const bad = [];
  let score = 0;
  r.updates.forEach((u, i) => {
    const want = fixture.scores[i];
    const where = `event ${i} (${fixture.events[i].type})`;
    if (fixture.updates[i] === null) {
      if (u !== null) bad.push(`${where}: the CLI refused it, the browser scored ${u.score}`);
      return;
    }
    if (u === null) { bad.push(`${where}: the browser refused it, the CLI took it`); return; }
    if (fixture.updates[i].ignored) {
      if (u.ignored !== true) bad.push(`${where}: the CLI ignored it, the browser did not`);
      if (u.score !== score) bad.push(`${where}: an ignored event moved the browser's score from ${score} to ${u.score}`);
      return;
    }
    score = u.score;
    if (Math.abs(u.score - want) > TOLERANCE) bad.push(`${where}: browser ${u.score}, native ${want}`);
    for (const [k, v] of Object.entries(fixture.updates[i])) if (u[k] !== v) bad.push(`${where}: ${k} browser ${u[k]}, native ${v}`);
  });
  assert.deepEqual(bad, [], `the browser differs from the CLI (scores within ${TOLERANCE})`);
  return { events: r.updates.length, refused, kinds: r.kinds };
}

test('the browser scores a session as the native CLI does', { timeout: 120_000 }, async (t) => {
  const file = fixturePath();
  assert.ok(existsSync(file), `${file} is missing: run make-parity-fixture.mjs with the native CLI (make test-browser does)`);
  const fixture = readJson(file);
  const served = readJson(join(MODELS, 'intent.json'));
  assert.equal(fixture.model?.weights_fnv1a64, served.model.weights_fnv1a64,
    `the fixture was made with another model (${fixture.model?.name}) than the one served (${served.name}): write it again`);
  const { events, refused } = await compare(fixture, { model: MODEL, manifest: MANIFEST });
  t.diagnostic(`${events} events (${refused} refused by both) match within ${TOLERANCE}`);
});

test("a model of the shop's own event types: the browser scores as the native CLI does", { timeout: 120_000 }, async (t) => {
  const dir = join(dirname(fixturePath()), 'own-kinds');
  const file = join(dir, 'native_scores.json');
  assert.ok(existsSync(file), `${file} is missing: make-parity-fixture.mjs writes it beside the first fixture`);
  const fixture = readJson(file);
  const own = fixture.model.kinds.filter((k) => !/^(view_item|add_to_cart|begin_checkout|purchase)$/.test(k));
  assert.ok(own.length >= 2, 'the model reads types that are no GA4 names');
  for (const k of own) {
    assert.ok(fixture.events.some((e, i) => e.type === k && fixture.updates[i]?.scored), `an event of the shop's own type ${k} is scored`);
  }
  const serve = (name, type) => [`**/own-kinds/${name}`, (route) => route.fulfill({ body: readFileSync(join(dir, name)), contentType: type })];
  const r = await compare(fixture, {
    model: '/own-kinds/intent.bin', manifest: '/own-kinds/intent.json',
    routes: [serve('intent.bin', 'application/octet-stream'), serve('intent.json', 'application/json')],
  });
  assert.deepEqual(r.kinds, fixture.model.kinds, 'the page runs the model of the manifest, with its kinds');
  t.diagnostic(`${r.events} events with kinds ${own.join(', ')} (${r.refused} refused by both) match within ${TOLERANCE}`);
});
