// web/dev/serve.mjs: routes, MIME types (application/wasm), the CSP header, ETag revalidation,
// gzip when the client accepts it, refusal of path traversal and of other methods, loopback-only
// binding.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { CSP, MODELS, startServer } from './helpers.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.close(); });

/** A raw HTTP request, so that `..` segments reach the server as written. */
function get(path, { method = 'GET', headers = {}, host = '127.0.0.1' } = {}) {
  const port = Number(new URL(server.url).port);
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

test('routes and MIME types', async () => {
  const cases = [
    ['/', 200, 'text/html; charset=utf-8'],
    ['/index.html', 200, 'text/html; charset=utf-8'],
    ['/style.css', 200, 'text/css; charset=utf-8'],
    ['/app.js', 200, 'text/javascript; charset=utf-8'],
    ['/shopper-intent.js', 200, 'text/javascript; charset=utf-8'],
    ['/snippet.js', 200, 'text/javascript; charset=utf-8'],
    ['/bench.html', 200, 'text/html; charset=utf-8'],
    ['/pkg/shopper_intent_wasm.js', 200, 'text/javascript; charset=utf-8'],
    ['/pkg/shopper_intent_wasm_bg.wasm', 200, 'application/wasm'],
    ['/experiments.js', 200, 'text/javascript; charset=utf-8'],
    ['/snippets/high-intent-offer.js', 200, 'text/javascript; charset=utf-8'],
    ['/panel.js', 200, 'text/javascript; charset=utf-8'],
    ['/models/intent.bin', 200, 'application/octet-stream'],
    ['/models/intent.json', 200, 'application/json; charset=utf-8'],
    ['/favicon.svg', 200, 'image/svg+xml'],
    ['/nope.html', 404, 'text/plain; charset=utf-8'],
  ];
  for (const [path, status, type] of cases) {
    const r = await get(path);
    assert.equal(r.status, status, path);
    assert.equal(r.headers['content-type'], type, path);
    assert.equal(r.headers['content-security-policy'], CSP, `${path}: CSP`);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
  }
});

test('ETag revalidation answers 304', async () => {
  const first = await get('/models/intent.bin');
  assert.ok(first.headers.etag);
  assert.equal(first.headers['cache-control'], 'no-cache');
  const again = await get('/models/intent.bin', { headers: { 'If-None-Match': first.headers.etag } });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
});

test('wasm, scripts and the model go gzip-compressed to a client that accepts gzip, unchanged to others', async () => {
  const wasm = '/pkg/shopper_intent_wasm_bg.wasm';
  const plain = await get(wasm);
  assert.equal(plain.headers['content-encoding'], undefined, 'no Accept-Encoding: sent as is');
  assert.equal(Number(plain.headers['content-length']), plain.body.length);
  assert.equal(plain.headers.vary, 'Accept-Encoding');
  for (const accept of ['gzip', 'deflate, gzip, br', 'gzip;q=0.5']) {
    const zipped = await get(wasm, { headers: { 'accept-encoding': accept } });
    assert.equal(zipped.status, 200, accept);
    assert.equal(zipped.headers['content-encoding'], 'gzip', accept);
    assert.equal(zipped.headers['content-type'], 'application/wasm', accept);
    assert.equal(Number(zipped.headers['content-length']), zipped.body.length, accept);
    assert.ok(zipped.body.length < plain.body.length / 2, `${accept}: ${zipped.body.length} bytes compressed of ${plain.body.length}`);
    assert.ok(gunzipSync(zipped.body).equals(plain.body), `${accept}: the same bytes once decompressed`);
    assert.notEqual(zipped.headers.etag, plain.headers.etag, 'each encoding has its own ETag');
    const again = await get(wasm, { headers: { 'accept-encoding': accept, 'if-none-match': zipped.headers.etag } });
    assert.equal(again.status, 304, `${accept}: revalidated`);
  }
  for (const accept of ['gzip;q=0', 'br', 'identity']) {
    const r = await get(wasm, { headers: { 'accept-encoding': accept } });
    assert.equal(r.headers['content-encoding'], undefined, accept);
    assert.ok(r.body.equals(plain.body), accept);
  }
  const manifest = await get('/models/intent.json', { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(manifest.headers['content-encoding'], 'gzip');
  assert.equal(gunzipSync(manifest.body).toString(), readFileSync(join(MODELS, 'intent.json'), 'utf8'));
  const image = await get('/favicon.svg', { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(image.status, 200);
  const head = await get(wasm, { method: 'HEAD', headers: { 'accept-encoding': 'gzip' } });
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0, 'HEAD sends no body');
});

test('/models/ serves model files only; another site\'s name for 127.0.0.1 (DNS rebinding) gets nothing', async () => {
  assert.equal((await get('/models/intent.json')).status, 200);
  for (const path of ['/models/REPORT.md', '/models/requirements.txt', '/models/.venv/pyvenv.cfg', '/models/.venv/x.json', '/models/trainer/cli.py']) {
    assert.equal((await get(path)).status, 404, path);
  }
  for (const host of ['localhost', '[::1]']) assert.equal((await get('/models/intent.json', { headers: { host } })).status, 200, host);
  const rebound = await get('/models/intent.json', { headers: { host: 'evil.example:8080' } });
  assert.equal(rebound.status, 403);
  assert.ok(!rebound.body.toString().includes('"weights_fnv1a64"'));
});

test('path traversal and files outside the served roots are refused', async () => {
  for (const path of [
    '/../Cargo.toml', '/%2e%2e/Cargo.toml', '/pkg/../../Cargo.toml', '/pkg/..%2f..%2fCargo.toml',
    '/models/..%2F..%2FCargo.toml', '/..%5c..%5cCargo.toml', '/serve.mjs', '/package.json',
    '/node_modules/typescript/package.json', '/demo/index.html', '/package/engine.js', '/dev/serve.mjs',
    '/types-check/tsconfig.json', '/snippets/../dev/serve.mjs', '/%00', '/%E0%A4%A',
  ]) {
    const r = await get(path);
    assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
    assert.ok(!r.body.toString().includes('[workspace]'), `${path} leaked Cargo.toml`);
  }
});

test('only GET and HEAD', async () => {
  const head = await get('/index.html', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
  for (const method of ['POST', 'PUT', 'DELETE']) {
    assert.equal((await get('/index.html', { method })).status, 405, method);
  }
});

test('binds 127.0.0.1 only', async () => {
  const external = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal);
  if (!external) return; // no non-loopback address on this machine: nothing to try
  await assert.rejects(get('/', { host: external.address }), /ECONNREFUSED|timeout|EHOSTUNREACH/);
});

test('--name serves another model of a models folder as the one the demo loads, and a missing one is refused at start', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { spawnSync } = await import('node:child_process');
  const { createStaticServer } = await import('../../web/dev/serve.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'serve-name-'));
  writeFileSync(join(dir, 'shop.json'), '{"name":"shop"}');
  writeFileSync(join(dir, 'shop.bin'), 'weights');
  const named = createStaticServer({ models: dir, name: 'shop' });
  await new Promise((r) => named.listen(0, '127.0.0.1', r));
  try {
    const base = `http://127.0.0.1:${named.address().port}`;
    assert.equal(await (await fetch(`${base}/models/intent.json`)).text(), '{"name":"shop"}');
    assert.equal(await (await fetch(`${base}/models/intent.bin`)).text(), 'weights');
    assert.equal(await (await fetch(`${base}/models/shop.bin`)).text(), 'weights', 'the manifest may name its weights as written');
  } finally {
    named.close();
  }
  const serve = join(import.meta.dirname, '..', '..', 'web', 'dev', 'serve.mjs');
  const missing = spawnSync(process.execPath, [serve, '--port', '0', '--models', dir], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(missing.status, 2, missing.stderr);
  assert.match(missing.stderr, /no model intent\.json in .*it has shop\.json: give its name \(make demo MODEL=.* NAME=shop\)/);
});
