// The package imported outside a browser page (Node, as a server-side render or a build script
// might): the widget fails at once with LOAD_FAILED, as documented, instead of a ReferenceError
// out of create(); every method still answers without throwing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WEB } from './helpers.mjs';

test('outside a page, load() resolves to a failed widget and every method answers without throwing', async () => {
  assert.equal(typeof globalThis.window, 'undefined', 'this runs in Node, without a DOM');
  const { ShopperIntent } = await import(pathToFileURL(join(WEB, 'package', 'shopper-intent.js')));
  const errors = [];
  const original = console.error;
  console.error = (...args) => errors.push(args.join(' '));
  try {
    const intent = await ShopperIntent.load({ model: '/models/intent.bin', storage: 'local' });
    assert.equal(intent.status, 'failed');
    assert.equal(intent.error.code, 'LOAD_FAILED');
    assert.match(intent.error.message, /runs in a browser page/);
    assert.equal(intent.track({ type: 'view_item' }), null);
    assert.equal(intent.score, 0);
    assert.equal(intent.experiment({ key: 'e', variants: ['a', 'b'] }), null);
    assert.equal(intent.expose('e'), false);
    intent.forget();
    intent.withdrawConsent();
    intent.destroy();
    assert.equal(intent.status, 'destroyed');
  } finally {
    console.error = original;
  }
  assert.equal(errors.filter((e) => e.includes('not running (LOAD_FAILED)')).length, 1, errors.join('\n'));
});

test('the name of a thrown value for a message never throws, whatever the page threw', async () => {
  const { errorName } = await import(pathToFileURL(join(WEB, 'package', 'log.js')));
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  assert.equal(errorName(new TypeError('x')), 'TypeError');
  assert.equal(errorName('a string'), 'string');
  assert.equal(errorName(undefined), 'undefined');
  assert.equal(errorName(revoked.proxy), 'an unreadable value');
  assert.equal(errorName({ get name() { throw new Error('getter'); } }), 'an unreadable value');
  assert.equal(errorName({ name: Symbol('s') }), 'object');
});
