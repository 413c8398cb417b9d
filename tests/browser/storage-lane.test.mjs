// The order of the calls to a storage backend that answers with promises (web/package/storage.js,
// Lane). Node only: StateStore needs no page for a backend of the page's own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WEB } from './helpers.mjs';

/** A record the store returns (it has no prototype, see fields.js's `record`) as a plain object. */
const plain = (x) => (x ? { ...x } : x);

const { StateStore, ANSWER_WAIT_MS } = await import(pathToFileURL(join(WEB, 'package', 'storage.js')));

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 2, 12);

/**
 * A backend whose every call answers when the test says so (`answer(i)` settles the i-th call),
 * in any order, and applies a write only when it answers, as a server does: out of order, the
 * older write can land last. `data` is shared by the backends made over it (one server, two
 * backend objects).
 */
function slowBackend(data = new Map()) {
  const calls = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const call = (method, key, value) => {
    inFlight += 1;
    mostInFlight = Math.max(mostInFlight, inFlight);
    let settle;
    const p = new Promise((resolve, reject) => { settle = { resolve, reject }; });
    const entry = { method, key, value, answered: false };
    calls.push(Object.assign(entry, { answer: (fail = false) => {
      entry.answered = true;
      inFlight -= 1;
      if (fail) return settle.reject(new Error('the server said no'));
      if (method === 'set') data.set(key, value);
      if (method === 'remove') data.delete(key);
      settle.resolve(method === 'get' ? data.get(key) ?? null : undefined);
    } }));
    return p;
  };
  return {
    backend: {
      kind: 'server',
      get: (key) => call('get', key),
      set: (key, value) => call('set', key, value),
      remove: (key) => call('remove', key),
    },
    calls,
    data,
    stored: () => data.get(KEY) ?? null,
    mostInFlight: () => mostInFlight,
    /** Answers every call not answered yet, in order, until none is left. */
    async answerAll() {
      for (let i = 0; i < 50; i++) {
        await tick(); // the calls that answers let start
        const open = calls.filter((c) => !c.answered);
        if (open.length === 0) return;
        for (const c of open) c.answer();
      }
    },
  };
}

const KEY = 'shopper-intent:state';
const tick = () => new Promise((r) => setTimeout(r, 0));
const bytes = (n) => new Uint8Array([n, n, n]);
const savedState = (text) => (text === null ? null : JSON.parse(text));

async function ownBackendStore(backend) {
  // The public route: a page's own backend object goes through resolveBackend, as the widget's does.
  const { resolveBackend } = await import(pathToFileURL(join(WEB, 'package', 'storage.js')));
  return new StateStore(resolveBackend(backend, { globalPrivacyControl: false }), { retentionMs: 30 * DAY });
}

test('a forget() while a save is in flight: the mark goes at once, with a forget record; the save landing after it is not restored', async () => {
  const s = slowBackend();
  const store = await ownBackendStore(s.backend);
  const loaded = store.read(NOW - 10); // the load's read: the backend is known to answer later
  s.calls[0].answer();
  await tick();
  s.calls[1].answer(); // the read of the forget record
  assert.equal(await loaded, null);
  store.write(bytes(1), NOW, null);
  store.write(bytes(2), NOW + 1, null); // waits, and is dropped by the forget
  store.markForgotten(NOW + 2);
  await tick();
  const sent = s.calls.slice(2).map((c) => [c.method, c.key]);
  assert.deepEqual(sent, [['set', KEY], ['set', KEY], ['set', `${KEY}:forgotten`]], 'the save in flight, then the mark and the record at once');
  s.calls[3].answer();
  s.calls[4].answer();
  s.calls[2].answer(); // the save sent before the mark lands after it
  await tick();
  assert.equal(savedState(s.stored()).savedAt, NOW, 'the server holds the old state');
  assert.equal(s.calls.length, 5, 'the dropped save was never sent');
  // The next load: the record says the state was saved before a forget.
  const next = await ownBackendStore(s.backend);
  const read = next.read(NOW + 10);
  await s.answerAll();
  assert.deepEqual(plain(await read), { forgotten: NOW + 2, withdrawn: false });
  await s.answerAll();
  assert.equal(savedState(s.stored()).forgotten, NOW + 2, 'and the mark is put back');
});

test('a state saved after the forget, by a page that knew of it, is restored', async () => {
  const s = slowBackend();
  s.data.set(`${KEY}:forgotten`, JSON.stringify({ v: 1, forgotten: NOW }));
  const store = await ownBackendStore(s.backend);
  const first = store.read(NOW + 1);
  await s.answerAll();
  assert.deepEqual(plain(await first), { forgotten: NOW, withdrawn: false }, 'no state: the record is the mark');
  store.write(bytes(3), NOW + 5, null, NOW);
  await s.answerAll();
  const read = (await ownBackendStore(s.backend)).read(NOW + 6);
  await s.answerAll();
  const state = await read;
  assert.deepEqual([...state.bytes], [3, 3, 3]);
  assert.equal(state.forgotAt, NOW);
});

test('a backend that refuses the mark: the page goes on in memory and the saved state is removed instead', async (t) => {
  const warn = t.mock.method(console, 'warn', () => {});
  const data = new Map([[KEY, 'a state']]);
  let removed = 0;
  const backend = { get: (k) => data.get(k) ?? null, set: (k) => { throw new Error(`no room for ${k}`); }, remove: (k) => { removed += 1; data.delete(k); } };
  const store = await ownBackendStore(backend);
  store.markForgotten(NOW);
  assert.equal(store.kind, 'memory');
  assert.equal(removed, 1);
  assert.equal(data.has(KEY), false);
  assert.equal(savedState(store.peekText()).forgotten, NOW);
  assert.equal(warn.mock.callCount(), 1, 'the fallback to memory');
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

test('two widgets on one storage key (one destroyed, the next created with a new backend object) share its order', async () => {
  const s = slowBackend();
  const old = await ownBackendStore(s.backend);
  const next = await ownBackendStore({ ...s.backend }); // the same server, another object
  old.write(bytes(1), NOW, null);
  const read = next.read(NOW + 5);
  await tick();
  assert.deepEqual(s.calls.filter((c) => c.key === KEY).map((c) => c.method), ['set'], 'the new widget reads the state after the old one has saved');
  await s.answerAll();
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
  store.write(bytes(2), NOW + 1, null);
  await new Promise((r) => setTimeout(r, ANSWER_WAIT_MS - 500));
  assert.equal(s.calls.length, 1);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(s.calls.length, 2, 'the next save goes ahead after the wait');
  s.calls[1].answer();
  assert.equal(savedState(s.stored()).savedAt, NOW + 1);
});

test('hurry() (the page is left): the waiting write goes at once, and is written again when the older call lands after it', async () => {
  const s = slowBackend();
  const store = await ownBackendStore(s.backend);
  store.write(bytes(1), NOW, null);
  store.write(bytes(2), NOW + 1, null);
  store.hurry();
  await tick();
  assert.equal(s.calls.length, 2, 'the newer save did not wait');
  s.calls[1].answer();
  s.calls[0].answer(); // the older save lands last
  await tick();
  assert.equal(savedState(s.stored()).savedAt, NOW, 'the old state is back for now');
  assert.equal(s.calls.length, 3, 'so the newer one is written again');
  s.calls[2].answer();
  assert.equal(savedState(s.stored()).savedAt, NOW + 1);
});

test('a read made while a write is waiting does not make the page forget what it wrote', async () => {
  const s = slowBackend();
  const store = await ownBackendStore(s.backend);
  const read = store.read(NOW);
  store.write(bytes(2), NOW + 1, null);
  await tick();
  s.calls[0].answer(); // the read brings back nothing
  await s.answerAll();
  assert.equal(await read, null);
  assert.equal(savedState(store.peekText()).savedAt, NOW + 1, 'the text this page knows is its write');
});

test('an entry of another key that answers at once is written at once, whatever the busy entry does', async () => {
  const s = slowBackend();
  const slow = await ownBackendStore(s.backend);
  const map = new Map();
  const { resolveBackend } = await import(pathToFileURL(join(WEB, 'package', 'storage.js')));
  const quick = new StateStore(resolveBackend({ get: (k) => map.get(k) ?? null, set: (k, v) => { map.set(k, v); }, remove: (k) => { map.delete(k); } }, { globalPrivacyControl: false }), { key: 'shop-fr:state', retentionMs: 30 * DAY });
  slow.write(bytes(1), NOW, null);
  assert.equal(quick.write(bytes(2), NOW, null), true);
  assert.equal(savedState(quick.peekText()).savedAt, NOW);
  await s.answerAll();
});

test('the package\'s own storage on the same key never waits behind a busy backend of the shop\'s', async (t) => {
  const items = new Map();
  const fake = { getItem: (k) => items.get(k) ?? null, setItem: (k, v) => { items.set(k, String(v)); }, removeItem: (k) => { items.delete(k); } };
  const hadWindow = 'window' in globalThis;
  globalThis.window = { localStorage: fake, sessionStorage: fake };
  t.after(() => { if (!hadWindow) delete globalThis.window; });
  const s = slowBackend();
  const slow = await ownBackendStore(s.backend);
  slow.write(bytes(1), NOW, null); // in flight, not answered
  const { resolveBackend } = await import(pathToFileURL(join(WEB, 'package', 'storage.js')));
  const local = new StateStore(resolveBackend('local', { globalPrivacyControl: false }), { retentionMs: 30 * DAY });
  assert.equal(local.write(bytes(2), NOW, null), true, 'a boolean at once, not a promise');
  assert.equal(savedState(items.get(KEY)).savedAt, NOW);
  await s.answerAll();
});

test('a state saved after a forget by a page that never learnt of it is not restored either', async () => {
  const s = slowBackend();
  const mark = JSON.stringify({ v: 1, forgotten: NOW });
  s.data.set(`${KEY}:forgotten`, mark);
  // A long-lived tab that started before the forget saves its old state over the mark.
  const oldTab = await ownBackendStore(s.backend);
  oldTab.write(bytes(1), NOW + 1000, null);
  // And a save in the very millisecond of the forget, landing after the mark.
  const sameMs = await ownBackendStore(s.backend);
  sameMs.write(bytes(2), NOW, null);
  await s.answerAll();
  const read = (await ownBackendStore(s.backend)).read(NOW + 2000);
  await s.answerAll();
  assert.deepEqual(plain(await read), { forgotten: NOW, withdrawn: false });
});

test('a backend that refuses the forget record keeps serving the state: no fallback, and the mark stays', async (t) => {
  const warn = t.mock.method(console, 'warn', () => {});
  const data = new Map();
  // An allow-list server: keys it does not know are errors.
  const strict = {
    get: (k) => (k === KEY ? Promise.resolve(data.get(k) ?? null) : Promise.reject(new Error(`404 ${k}`))),
    set: (k, v) => (k === KEY ? Promise.resolve().then(() => { data.set(k, v); }) : Promise.reject(new Error(`403 ${k}`))),
    remove: (k) => (k === KEY ? Promise.resolve().then(() => { data.delete(k); }) : Promise.reject(new Error(`403 ${k}`))),
  };
  const store = await ownBackendStore(strict);
  assert.equal(await store.read(NOW), null);
  assert.equal(await store.write(bytes(1), NOW, null), true);
  store.markForgotten(NOW + 1);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(store.kind, 'custom', 'still on the shop\'s backend');
  assert.equal(savedState(data.get(KEY)).forgotten, NOW + 1, 'the mark was not removed');
  assert.equal(warn.mock.callCount(), 0);
});

test('a backend whose get answers at once and whose set answers later still reads the forget record', async () => {
  const data = new Map([[KEY, JSON.stringify({ v: 1, savedAt: NOW - 5, expiresAt: NOW + DAY, state: 'AQEB' })], [`${KEY}:forgotten`, JSON.stringify({ v: 1, forgotten: NOW - 1 })]]);
  const cache = { get: (k) => data.get(k) ?? null, set: (k, v) => Promise.resolve().then(() => { data.set(k, v); }), remove: (k) => Promise.resolve().then(() => { data.delete(k); }) };
  const store = await ownBackendStore(cache);
  assert.deepEqual(plain(await store.read(NOW)), { forgotten: NOW - 1, withdrawn: false });
});

test('a backend of the shop\'s that calls itself memory is still a backend: its failure falls back, nothing throws', async (t) => {
  t.mock.method(console, 'warn', () => {});
  const store = await ownBackendStore({ kind: 'memory', get: () => { throw new Error('down'); }, set: () => { throw new Error('down'); }, remove: () => { throw new Error('down'); } });
  assert.equal(store.write(bytes(1), NOW, null), false);
  store.markForgotten(NOW + 1);
  store.remove();
  assert.equal(await store.read(NOW + 2), null);
});

test('a save dropped by a forget() tells its caller it was not kept', async () => {
  const s = slowBackend();
  const store = await ownBackendStore(s.backend);
  store.write(bytes(1), NOW, null);
  const dropped = store.write(bytes(2), NOW + 1, null);
  store.markForgotten(NOW + 2);
  await s.answerAll();
  assert.equal(await dropped, false);
});

test('a clock set back (or devices sharing a backend): a state whose forget time is a little after its save is kept', async () => {
  const s = slowBackend();
  s.data.set(`${KEY}:forgotten`, JSON.stringify({ v: 1, forgotten: NOW }));
  const store = await ownBackendStore(s.backend);
  store.write(bytes(4), NOW - 4000, null, NOW); // this device's clock is 4 s behind the forget's
  await s.answerAll();
  const read = (await ownBackendStore(s.backend)).read(NOW);
  await s.answerAll();
  const state = await read;
  assert.deepEqual([...state.bytes], [4, 4, 4]);
  assert.equal(state.forgotAt, NOW);
});

test('the state and the forget record are read side by side, and an expired record is left in place', async () => {
  const s = slowBackend();
  s.data.set(`${KEY}:forgotten`, JSON.stringify({ v: 1, forgotten: NOW - 40 * DAY }));
  const read = (await ownBackendStore(s.backend)).read(NOW);
  await tick();
  assert.deepEqual(s.calls.map((c) => [c.method, c.key]), [['get', KEY], ['get', `${KEY}:forgotten`]], 'both asked before either answers');
  await s.answerAll();
  assert.equal(await read, null);
  assert.ok(s.data.has(`${KEY}:forgotten`), 'not removed: another page may have just written a new one');
  assert.equal(s.calls.length, 2);
});

test('a page that polluted Object.prototype (key, withdrawn, forgotten, forgotAt, discarded): the store keeps its key, a forget() stays a forget, and a state reads as a state', async () => {
  const polluted = { key: 'polluted', withdrawn: true, forgotten: NOW - 1000, forgotAt: NOW - 1000, discarded: 'polluted', recordToo: false };
  const s = slowBackend();
  try {
    for (const [k, v] of Object.entries(polluted)) Object.defineProperty(Object.prototype, k, { value: v, writable: true, configurable: true });
    const store = await ownBackendStore(s.backend);
    store.write(bytes(7), NOW, null);
    await s.answerAll();
    assert.deepEqual([...s.data.keys()], [KEY], 'the state is saved under the default key');
    const read = store.read(NOW + 1000);
    await s.answerAll();
    const saved = await read;
    assert.deepEqual([saved.forgotten, saved.discarded, saved.forgotAt, [...saved.bytes]], [undefined, undefined, null, [7, 7, 7]], 'a state, not a mark');
    // forget() without options: a forget, not a withdrawal of consent, with its record.
    store.markForgotten(NOW + 2000);
    await s.answerAll();
    const mark = JSON.parse(s.data.get(KEY));
    assert.equal(Object.hasOwn(mark, 'withdrawn'), false, `the mark: ${s.data.get(KEY)}`);
    assert.equal(mark.forgotten, NOW + 2000);
    assert.ok(s.data.has(`${KEY}:forgotten`), 'the forget record is written (recordToo defaults to true)');
  } finally {
    for (const k of Object.keys(polluted)) delete Object.prototype[k];
  }
});
