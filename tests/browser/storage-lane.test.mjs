// The order of the calls to a storage backend that answers with promises (web/package/storage.js,
// Lane). Node only: StateStore needs no page for a backend of the page's own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WEB } from './helpers.mjs';

const { StateStore, ANSWER_WAIT_MS } = await import(pathToFileURL(join(WEB, 'package', 'storage.js')));

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 2, 12);

/**
 * A backend whose every call answers when the test says so (`answer(i)` settles the i-th call),
 * in any order, and applies a write only when it answers, as a server does: out of order, the
 * older write can land last.
 */
function slowBackend() {
  let stored = null;
  const calls = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const call = (method, value) => {
    inFlight += 1;
    mostInFlight = Math.max(mostInFlight, inFlight);
    let settle;
    const p = new Promise((resolve, reject) => { settle = { resolve, reject }; });
    calls.push({ method, value, answer: (fail = false) => {
      inFlight -= 1;
      if (fail) return settle.reject(new Error('the server said no'));
      if (method === 'set') stored = value;
      if (method === 'remove') stored = null;
      settle.resolve(method === 'get' ? stored : undefined);
    } });
    return p;
  };
  return {
    backend: {
      kind: 'server',
      get: () => call('get'),
      set: (_key, value) => call('set', value),
      remove: () => call('remove'),
    },
    calls,
    stored: () => stored,
    mostInFlight: () => mostInFlight,
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const bytes = (n) => new Uint8Array([n, n, n]);
const savedState = (text) => (text === null ? null : JSON.parse(text));

async function ownBackendStore(backend) {
  // The public route: a page's own backend object goes through resolveBackend, as the widget's does.
  const { resolveBackend } = await import(pathToFileURL(join(WEB, 'package', 'storage.js')));
  return new StateStore(resolveBackend(backend, { globalPrivacyControl: false }), { retentionMs: 30 * DAY });
}

test('a forget() after a save: the mark is sent only once the save is answered, so it lands last', async () => {
  const s = slowBackend();
  const store = await ownBackendStore(s.backend);
  const saved = store.write(bytes(1), NOW, null);
  store.markForgotten(NOW + 1);
  await tick();
  assert.equal(s.calls.length, 1, 'the mark waits for the save in flight');
  s.calls[0].answer();
  await tick();
  assert.equal(s.calls.length, 2);
  s.calls[1].answer();
  assert.equal(await saved, true);
  assert.equal(savedState(s.stored()).forgotten, NOW + 1);
  assert.equal(s.mostInFlight(), 1);
});

test('writes that wait are coalesced: only the newest is sent, and every caller learns it was kept', async () => {
  const s = slowBackend();
  const store = await ownBackendStore(s.backend);
  const first = store.write(bytes(1), NOW, null);
  const second = store.write(bytes(2), NOW + 1, null);
  const third = store.write(bytes(3), NOW + 2, null);
  await tick();
  s.calls[0].answer();
  await tick();
  assert.equal(s.calls.length, 2, 'the second write was replaced by the third');
  assert.equal(savedState(s.calls[1].value).savedAt, NOW + 2);
  s.calls[1].answer();
  assert.deepEqual(await Promise.all([first, second, third]), [true, true, true]);
  assert.equal(savedState(s.stored()).savedAt, NOW + 2);
});

test('two widgets on one backend object (one destroyed, the next created) share its order', async () => {
  const s = slowBackend();
  const old = await ownBackendStore(s.backend);
  const next = await ownBackendStore(s.backend);
  old.write(bytes(1), NOW, null);
  const read = next.read(NOW + 5);
  await tick();
  assert.equal(s.calls.length, 1, 'the new widget reads after the old one has saved');
  s.calls[0].answer();
  await tick();
  assert.equal(s.calls[1].method, 'get');
  s.calls[1].answer();
  const state = await read;
  assert.deepEqual([...state.bytes], [1, 1, 1]);
});

test('a rejected call puts the page on memory; the calls that waited behind it go there', async (t) => {
  const warn = t.mock.method(console, 'warn', () => {});
  const s = slowBackend();
  const store = await ownBackendStore(s.backend);
  const saved = store.write(bytes(1), NOW, null);
  const later = store.write(bytes(2), NOW + 1, null);
  await tick();
  s.calls[0].answer(true);
  assert.equal(await saved, false);
  assert.equal(await later, false);
  assert.equal(store.kind, 'memory');
  assert.equal(s.calls.length, 1, 'nothing more is sent to the failed backend');
  assert.equal(savedState(store.peekText()).savedAt, NOW + 1, 'memory holds the newest state');
  assert.equal(warn.mock.callCount(), 1);
});

test('a backend that never answers holds the next call back for ANSWER_WAIT_MS, not for ever', { timeout: ANSWER_WAIT_MS + 5000 }, async () => {
  const s = slowBackend();
  const store = await ownBackendStore(s.backend);
  store.write(bytes(1), NOW, null);
  store.markForgotten(NOW + 1);
  await new Promise((r) => setTimeout(r, ANSWER_WAIT_MS - 500));
  assert.equal(s.calls.length, 1);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(s.calls.length, 2, 'the mark goes ahead after the wait');
  s.calls[1].answer();
  assert.equal(savedState(s.stored()).forgotten, NOW + 1);
});

test('hurry() (the page is left): the waiting write goes at once, and is written again when the older call lands after it', async () => {
  const s = slowBackend();
  const store = await ownBackendStore(s.backend);
  store.write(bytes(1), NOW, null);
  store.markForgotten(NOW + 1);
  store.hurry();
  await tick();
  assert.equal(s.calls.length, 2, 'the mark did not wait');
  s.calls[1].answer();
  s.calls[0].answer(); // the older save lands last
  await tick();
  assert.equal(savedState(s.stored()).savedAt, NOW, 'the old state is back for now');
  assert.equal(s.calls.length, 3, 'so the mark is written again');
  s.calls[2].answer();
  assert.equal(savedState(s.stored()).forgotten, NOW + 1);
});

test('a read made while a write is waiting does not make the page forget what it wrote', async () => {
  const s = slowBackend();
  const store = await ownBackendStore(s.backend);
  const read = store.read(NOW);
  store.write(bytes(2), NOW + 1, null);
  await tick();
  s.calls[0].answer(); // the read brings back nothing
  assert.equal(await read, null);
  assert.equal(savedState(store.peekText()).savedAt, NOW + 1, 'the text this page knows is its write');
});

test('a backend that answers at once is called at once, whatever another backend does', async () => {
  const s = slowBackend();
  const slow = await ownBackendStore(s.backend);
  const map = new Map();
  const quick = await ownBackendStore({ get: (k) => map.get(k) ?? null, set: (k, v) => { map.set(k, v); }, remove: (k) => { map.delete(k); } });
  slow.write(bytes(1), NOW, null);
  assert.equal(quick.write(bytes(2), NOW, null), true);
  assert.equal(savedState(quick.peekText()).savedAt, NOW);
});
