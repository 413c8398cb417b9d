// One TypeScript surface: `tsc --noEmit` over web/package/shopper-intent.d.ts and
// web/types-check/types-check.ts (which uses the API as a storefront would, with
// @ts-expect-error lines that must stay errors), and every runtime export declared.
// types.test.mjs checks the declared fields against real objects in the browser.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WEB } from './helpers.mjs';

const PACKAGE = join(WEB, 'package');

test('tsc --noEmit accepts the declarations and their use', () => {
  const tsc = join(WEB, 'node_modules', 'typescript', 'bin', 'tsc');
  assert.ok(existsSync(tsc), 'typescript is installed in web/node_modules (npm ci in web/)');
  const config = JSON.parse(readFileSync(join(WEB, 'types-check', 'tsconfig.json'), 'utf8'));
  assert.ok(config.files.includes('../package/shopper-intent.d.ts'), 'the check reads the package\'s own .d.ts');
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', join(WEB, 'types-check', 'tsconfig.json')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
  // An app whose lib is older than ES2022 (no ErrorOptions) checks its libraries' declarations too.
  const older = spawnSync(process.execPath, [tsc, '--noEmit', '-p', join(WEB, 'types-check', 'tsconfig.json'), '--lib', 'ES2020,DOM,DOM.Iterable', '--target', 'ES2020'], { encoding: 'utf8' });
  const inOurs = `${older.stdout}${older.stderr}`.split('\n').filter((l) => l.includes('shopper-intent.d.ts'));
  assert.deepEqual(inOurs, [], 'the declarations need nothing beyond ES2020');
});

test('every export of the module is declared, and every declared value is exported', async () => {
  // The runtime exports (in Node: the module only touches the DOM when used).
  const mod = await import(join(PACKAGE, 'shopper-intent.js'));
  const dts = readFileSync(join(PACKAGE, 'shopper-intent.d.ts'), 'utf8');
  for (const name of Object.keys(mod)) {
    if (name === 'default') continue;
    assert.match(dts, new RegExp(`export (declare )?(class|function|const|type|interface) ${name}\\b`), `${name} is declared in shopper-intent.d.ts`);
  }
  for (const [, name] of dts.matchAll(/^export (?:declare )?(?:class|function|const) (\w+)/gm)) {
    assert.ok(name in mod, `${name} is declared but not exported by shopper-intent.js`);
  }
  assert.equal(mod.default, mod.ShopperIntent, 'the default export is ShopperIntent');
});
