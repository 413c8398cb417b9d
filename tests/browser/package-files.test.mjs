// What `npm pack` puts in the published package (web/package/package.json's `files`): every file
// the package's entry points, exports and modules reach, the wasm builds and bindings in pkg/
// among them (wasm-pack's pkg/.gitignore hid them from npm before). A copy without its built
// files refuses to pack, naming the file (the bundles and pkg/ are built, not kept in git). The
// bundles make URLs only of packed files.
// Node only.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { WEB } from './helpers.mjs';

const PACKAGE = join(WEB, 'package');

function packedFiles(dir) {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return new Set(JSON.parse(out)[0].files.map((f) => f.path));
}

test('npm pack holds every file the entry points, exports and relative imports reach, pkg/ included', () => {
  const files = packedFiles(PACKAGE);
  const manifest = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8'));
  const needed = new Set(['README.md', 'PRIVACY.md', 'pkg/shopper_intent_wasm_bg.wasm', 'pkg/shopper_intent_wasm_simd.wasm', 'pkg/shopper_intent_wasm.js']);
  const strip = (p) => p.replace(/^\.\//, '');
  for (const p of [manifest.main, manifest.module, manifest.types]) needed.add(strip(p));
  const targets = (v) => (typeof v === 'string' ? [v] : Object.values(v).flatMap(targets));
  for (const [key, value] of Object.entries(manifest.exports)) if (!key.includes('*')) for (const t of targets(value)) needed.add(strip(t));
  // Every module the sources import by a relative path (the bundles import nothing), and the
  // wasm the sources name with new URL(..., import.meta.url).
  for (const file of [...files].filter((f) => f.endsWith('.js') && !f.endsWith('.min.js') && !f.startsWith('pkg/'))) {
    const text = readFileSync(join(PACKAGE, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(/from\s+'(\.\/[^'?]+)'|new URL\(\s*'(\.\/[^'?]+)',\s*import\.meta\.url\)/g)) needed.add(posix.normalize(m[1] ?? m[2]));
  }
  // The bundles: every URL they make from import.meta.url names a packed file (an app's bundler
  // copies what these name, and warns of a name with no file).
  for (const file of ['shopper-intent.min.js', 'snippet.min.js']) {
    const named = [...readFileSync(join(PACKAGE, file), 'utf8').matchAll(/new URL\("([^"]+)",\s*import\.meta\.url\)/g)].map((m) => posix.normalize(m[1]));
    assert.ok(named.includes('pkg/shopper_intent_wasm_simd.wasm'), `${file} names the SIMD build: ${named}`);
    for (const f of named) needed.add(f);
  }
  const missing = [...needed].filter((f) => !files.has(f));
  assert.deepEqual(missing, [], `not packed: ${missing}`);
  assert.ok(needed.size > 15, `the check read the package (${needed.size} files)`);
  assert.ok(![...files].some((f) => f.startsWith('node_modules/') || f.endsWith('.gitignore')), 'nothing else comes along');
});

test('a copy of the package without its built files refuses to pack, naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shopper-intent-pack-'));
  try {
    cpSync(PACKAGE, dir, { recursive: true });
    rmSync(join(dir, 'pkg', 'shopper_intent_wasm_simd.wasm'));
    const r = spawnSync('npm', ['pack', '--dry-run'], { cwd: dir, encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /pkg\/shopper_intent_wasm_simd\.wasm is missing: build it first/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
