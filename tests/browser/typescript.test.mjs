// One TypeScript surface: `tsc --noEmit` over web/shopper-intent.d.ts and web/types-check.ts
// (which uses the API as a storefront would, with @ts-expect-error lines that must stay errors).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WEB } from './helpers.mjs';

test('tsc --noEmit accepts the declarations and their use', () => {
  const tsc = join(WEB, 'node_modules', 'typescript', 'bin', 'tsc');
  assert.ok(existsSync(tsc), 'typescript is installed in web/node_modules (npm ci in web/)');
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', join(WEB, 'tsconfig.json')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
});

test('every export of the module is declared', async () => {
  // The runtime exports (in Node: the module only touches the DOM when used).
  const mod = await import(join(WEB, 'shopper-intent.js'));
  const { readFileSync } = await import('node:fs');
  const dts = readFileSync(join(WEB, 'shopper-intent.d.ts'), 'utf8');
  for (const name of Object.keys(mod)) {
    if (name === 'default') continue;
    assert.match(dts, new RegExp(`export (declare )?(class|function|const|type|interface) ${name}\\b`), `${name} is declared in shopper-intent.d.ts`);
  }
});
