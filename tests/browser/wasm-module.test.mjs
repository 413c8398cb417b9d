// The wasm modules as built: no export re-runs the module's static constructors, tract's
// model-transform registrations are not linked in, and no path of the building machine is in them.
//
// wasm-ld links a module that never calls `__wasm_call_ctors` itself "command style": every export
// becomes a wrapper that first calls the constructors (tract registers its kernels in them), then
// the export's own body. crate/wasm calls them once from the bindings' start function instead.
// A wrapper has one shape: no locals, `call C`, `local.get 0..n-1` (its own parameters, in order),
// `call F`, `end`, with the same C for every export. This reads each module's sections and looks
// for exports of that shape.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { PKG, REPO } from './helpers.mjs';

/** An unsigned LEB128 at `pos`: [value, next position]. */
function leb(bytes, pos) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[pos++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, pos];
    shift += 7;
  }
}

/** The exported functions of a module whose body is a constructors wrapper: `[{name, ctors}]`. */
function constructorWrappers(bytes) {
  assert.deepEqual([...bytes.subarray(0, 8)], [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0], 'a wasm module, version 1');
  const sections = new Map();
  for (let pos = 8; pos < bytes.length;) {
    const id = bytes[pos];
    const [size, start] = leb(bytes, pos + 1);
    if (id !== 0) sections.set(id, bytes.subarray(start, start + size));
    pos = start + size;
  }
  // Types: the parameter count of each function type.
  const params = [];
  {
    const s = sections.get(1);
    let [n, p] = leb(s, 0);
    for (; n > 0; n--) {
      assert.equal(s[p], 0x60, 'a function type');
      let count;
      [count, p] = leb(s, p + 1);
      params.push(count);
      p += count;
      [count, p] = leb(s, p);
      p += count;
    }
  }
  // Imports: imported functions come first in the function index space.
  const funcType = [];
  {
    const s = sections.get(2);
    let [n, p] = s ? leb(s, 0) : [0, 0];
    for (; n > 0; n--) {
      for (let k = 0; k < 2; k++) { let len; [len, p] = leb(s, p); p += len; } // module, name
      const kind = s[p++];
      if (kind === 0) { let t; [t, p] = leb(s, p); funcType.push(t); }
      else if (kind === 1) { p += 1; const flags = s[p++]; [, p] = leb(s, p); if (flags & 1) [, p] = leb(s, p); } // table
      else if (kind === 2) { const flags = s[p++]; [, p] = leb(s, p); if (flags & 1) [, p] = leb(s, p); } // memory
      else if (kind === 3) { p += 2; } // global: type, mutability
      else assert.fail(`import kind ${kind}`);
    }
  }
  const imported = funcType.length;
  {
    const s = sections.get(3);
    let [n, p] = leb(s, 0);
    for (; n > 0; n--) { let t; [t, p] = leb(s, p); funcType.push(t); }
  }
  const bodies = [];
  {
    const s = sections.get(10);
    let [n, p] = leb(s, 0);
    for (; n > 0; n--) { let size; [size, p] = leb(s, p); bodies.push(s.subarray(p, p + size)); p += size; }
  }
  const wrappers = [];
  {
    const s = sections.get(7);
    let [n, p] = leb(s, 0);
    for (; n > 0; n--) {
      let len;
      [len, p] = leb(s, p);
      const name = new TextDecoder().decode(s.subarray(p, p + len));
      p += len;
      const kind = s[p++];
      let index;
      [index, p] = leb(s, p);
      if (kind !== 0 || index < imported) continue;
      const body = bodies[index - imported];
      const nparams = params[funcType[index]];
      if (body[0] !== 0 || body[1] !== 0x10) continue; // no locals, then a call
      let [ctors, q] = leb(body, 2);
      let forwards = true;
      for (let i = 0; i < nparams && forwards; i++) {
        let local;
        if (body[q] !== 0x20) { forwards = false; break; }
        [local, q] = leb(body, q + 1);
        forwards = local === i;
      }
      if (!forwards || body[q] !== 0x10) continue;
      [, q] = leb(body, q + 1);
      if (q === body.length - 1 && body[q] === 0x0b && params[funcType[ctors]] === 0) wrappers.push({ name, ctors });
    }
  }
  return wrappers;
}

test('no export of the built wasm modules re-runs the static constructors', () => {
  const files = readdirSync(PKG).filter((f) => f.endsWith('.wasm'));
  assert.ok(files.length >= 2, `the plain and the SIMD module in ${PKG}: ${files}`);
  for (const f of files) {
    const bytes = new Uint8Array(readFileSync(join(PKG, f)));
    const wrappers = constructorWrappers(bytes);
    // The same constructors function called first by several exports is the linker's wrapping.
    const count = (c) => wrappers.filter((w) => w.ctors === c).length;
    const wrapped = wrappers.filter((w) => count(w.ctors) >= 3);
    assert.deepEqual(wrapped.map((w) => w.name), [], `${f}: exports wrapped in a call to the constructors`);
  }
});

/**
 * Names of tract-core's model transforms, each a string in the module only when the transform's
 * registration is linked in (crate/inventory-lean leaves them out, with all the code they reach).
 */
const TRANSFORM_NAMES = ['conv_nhwc', 'batchify', 'f32_to_f16', 'f16_to_f32', 'float_precision', 'export_scan_state', 'force_scan_external_state', 'set_property'];

test("the built wasm modules carry none of tract's model-transform registrations", () => {
  const files = readdirSync(PKG).filter((f) => f.endsWith('.wasm'));
  assert.ok(files.length >= 2, `the plain and the SIMD module in ${PKG}: ${files}`);
  for (const f of files) {
    const bytes = readFileSync(join(PKG, f));
    const found = TRANSFORM_NAMES.filter((name) => bytes.includes(Buffer.from(name)));
    assert.deepEqual(found, [], `${f}: tract's transform registrations are linked in (is the [patch] of inventory in Cargo.toml still applied?)`);
  }
});

test("the built wasm modules name no path of the machine that built them", () => {
  const machine = [REPO, homedir()].filter((p) => p && p !== '/').map((p) => `${p}/`);
  const files = readdirSync(PKG).filter((f) => f.endsWith('.wasm'));
  assert.ok(files.length >= 2, `the plain and the SIMD module in ${PKG}: ${files}`);
  for (const f of files) {
    const bytes = readFileSync(join(PKG, f));
    const found = machine.filter((p) => bytes.includes(Buffer.from(p)));
    assert.deepEqual(found, [], `${f}: panic messages carry this machine's paths (make wasm remaps them)`);
  }
});
