// The page package keeps copies of a few of the engine's constants (it needs them before, or
// beside, the wasm module). Each copy is held here to the engine's behaviour, in Node, through
// the wasm bindings and the shipped model.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MODELS, PKG, REPO, WEB } from './helpers.mjs';

const { SESSION_GAP_MS, STALE_STATE } = await import(pathToFileURL(join(WEB, 'package', 'engine.js')));

async function engine() {
  const glue = await import(pathToFileURL(join(PKG, 'shopper_intent_wasm.js')));
  glue.initSync({ module: readFileSync(join(PKG, 'shopper_intent_wasm_bg.wasm')) });
  const weights = new Uint8Array(readFileSync(join(MODELS, 'intent.bin')));
  const manifest = readFileSync(join(MODELS, 'intent.json'), 'utf8');
  return new glue.Engine(weights, manifest, { salt: new Uint8Array(16) });
}

test('SESSION_GAP_MS (engine.js) is the gap after which the engine starts a new session', async () => {
  const e = await engine();
  const t0 = Date.UTC(2025, 4, 1, 12);
  const view = (ts) => e.trackPlain('view_item', ts, 'sku-1', 'shoes', undefined, undefined, undefined);
  view(t0);
  view(t0 + SESSION_GAP_MS);
  assert.equal(JSON.parse(e.history()).length, 2, 'an event exactly one gap later is in the same session');
  view(t0 + 2 * SESSION_GAP_MS + 1);
  assert.equal(JSON.parse(e.history()).length, 1, 'one more millisecond starts a new session');
  e.free();
});

test("STALE_STATE (engine.js) matches each of the engine's refusals of a state from another model, format or feature version", () => {
  // The messages as the core writes them, placeholders filled in; a reworded one fails here.
  const source = ['engine.rs', 'state.rs'].map((f) => readFileSync(join(REPO, 'crate', 'core', 'src', f), 'utf8')).join('\n');
  const formats = [...source.matchAll(/"((?:engine )?state format \{[^}]*\}, this engine reads \{[^}]*\})"/g)].map((m) => m[1].replace(/\{[^}]*\}/g, '3'));
  assert.ok(formats.length >= 3, `the engine's and the window's format refusals: ${formats}`);
  const versions = [...source.matchAll(/"(feature version \{[^}]*\}, this engine computes \{[^}]*\})"/g)].map((m) => m[1].replace(/\{[^}]*\}/g, '1'));
  assert.equal(versions.length, 1, "the window's feature-version refusal (a package upgrade that changed the features)");
  const others = ['state was made with another model (', 'state of another hidden size', 'state was made for another window']
    .map((m) => { assert.ok(source.includes(m), `the core still says "${m}"`); return m; });
  for (const m of [...formats, ...versions, ...others]) assert.ok(STALE_STATE.test(m), m);
  for (const m of ['not a shopper-intent state', 'the state checksum does not match', 'damaged']) assert.ok(!STALE_STATE.test(m), m);
});
