#!/usr/bin/env node
// A static server for the demo, the benchmark page and the browser tests. No dependencies.
//
//   node web/dev/serve.mjs [--port 8080] [--pkg DIR] [--models DIR] [--name NAME] [--quiet]
//
//   /                  web/demo/ (index.html for /)
//   /pkg/...           web/package/pkg/ (the wasm-bindgen output), or --pkg DIR
//   /models/...        models/, or --models DIR (e.g. a model made by `make train`); with --name,
//                      /models/intent.json and .bin (what the demo loads) are DIR/NAME.json and
//                      .bin, and the server refuses to start when DIR/NAME.json is missing
//   /shopper-intent.js and the package's other modules: web/package/
//   /snippets/...      web/snippets/ (snippets a shop copies)
//   /bench.html, /bench.js      the benchmark page, web/bench/ (cross-origin isolated: COOP + COEP)
//
// Every response carries `Content-Security-Policy: default-src 'self'; script-src 'self'
// 'wasm-unsafe-eval'` (the policy the package is built to run under; `--csp` is accepted and
// changes nothing). It binds 127.0.0.1 only, answers GET and HEAD, refuses paths that leave
// their root, and prints `listening on http://127.0.0.1:PORT/` once ready (`--port 0` picks a
// free port). Files are sent with an ETag and `Cache-Control: no-cache`, so browsers revalidate
// with a cheap 304. Text, wasm and model files go gzip-compressed to a browser that accepts it, as
// any CDN or web server in front of a shop sends them (compressed once per file version, kept in
// memory).

import { createServer } from 'node:http';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { stat, realpath } from 'node:fs/promises';
import { dirname, join, resolve, sep, extname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'";

const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO = resolve(WEB, '..');
const PACKAGE = join(WEB, 'package');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};

/** The package's files, served at the root; nothing else in web/package/ is reachable there. */
const PACKAGE_FILES = new Set([
  'shopper-intent.js', 'shopper-intent.d.ts', 'engine.js', 'capture.js', 'snippet.js', 'queue.js', 'hooks.js',
  'storage.js', 'model-fetch.js', 'experiments.js', 'reports.js', 'schedule.js', 'log.js', 'fields.js', 'PRIVACY.md', 'README.md',
  'shopper-intent.min.js', 'snippet.min.js',
]);
/** The benchmark page's files. */
const BENCH_FILES = new Set(['bench.html', 'bench.js']);
/**
 * Sent with the benchmark page only: a cross-origin isolated page gets performance.now() at 5 us
 * instead of 100 us, so single track() calls can be timed. Its resources are all same-origin.
 */
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

function parseArgs(argv) {
  const args = { port: 8080, pkg: join(PACKAGE, 'pkg'), models: join(REPO, 'models'), name: null, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') args.port = Number(value());
    else if (a === '--pkg') args.pkg = resolve(value());
    else if (a === '--models') args.models = resolve(value());
    else if (a === '--name') args.name = value();
    else if (a === '--quiet') args.quiet = true;
    else if (a === '--csp') { /* The policy is always sent. */ }
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) throw new Error('--port must be 0..65535');
  if (args.name !== null && !/^[A-Za-z0-9._-]+$/.test(args.name)) throw new Error(`--name ${JSON.stringify(args.name)}: a model name is a file name without a folder`);
  return args;
}

/** Refuses a models folder without the model the demo is to load, and names the ones it has. */
function checkModel(args) {
  const name = args.name ?? 'intent';
  if (existsSync(join(args.models, `${name}.json`))) return;
  const found = existsSync(args.models) ? readdirSync(args.models).filter((f) => f.endsWith('.json') && existsSync(join(args.models, f.replace(/\.json$/, '.bin')))) : [];
  throw new Error(`no model ${name}.json in ${args.models}` + (found.length
    ? `; it has ${found.join(', ')}: give its name (make demo MODEL=${args.models} NAME=${found[0].replace(/\.json$/, '')})`
    : ' (make train writes OUT/NAME.json and .bin)'));
}

/**
 * What /models/ serves: manifests, weights and ONNX files, and for the benchmark's site its
 * feature rows and onnxruntime-web's module and wasm.
 */
const MODEL_FILE = /\.(json|bin|onnx|f32|mjs|wasm)$/;
/** The Host headers answered. */
const LOCAL_HOST = /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/i;

/** Maps a URL path to [root, relative path] or null. */
function route(path, roots) {
  if (path === '/') return [roots.demo, 'index.html'];
  if (path.startsWith('/pkg/')) return [roots.pkg, path.slice(5)];
  if (path.startsWith('/models/')) {
    const rel = path.slice(8);
    // Model files only: not the folder's virtual environment, reports or anything else in it.
    if (!MODEL_FILE.test(rel) || rel.split('/').some((s) => s.startsWith('.'))) return [roots.models, null];
    if (roots.name && (rel === 'intent.json' || rel === 'intent.bin')) return [roots.models, `${roots.name}${rel.slice(6)}`];
    return [roots.models, rel];
  }
  if (path.startsWith('/snippets/')) return [join(WEB, 'snippets'), path.slice(10)];
  const name = path.slice(1);
  if (PACKAGE_FILES.has(name)) return [PACKAGE, name];
  if (BENCH_FILES.has(name)) return [join(WEB, 'bench'), name];
  return [roots.demo, name];
}

/** Resolves `rel` inside `root`, or returns null when it would leave it (also via symlinks). */
async function inside(root, rel) {
  if (rel === null || rel.includes('\0') || rel.split('/').some((s) => s === '..' || s.includes('\\'))) return null;
  const full = resolve(root, rel);
  const rootReal = await realpath(root).catch(() => null);
  if (!rootReal) return null;
  const real = await realpath(full).catch(() => null);
  if (!real || (real !== rootReal && !real.startsWith(rootReal + sep))) return null;
  return real;
}

/** Types worth compressing (images are compressed already). */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.wasm', '.onnx', '.bin', '.svg', '.txt', '.md', '.ts']);
const gzipAsync = promisify(gzip);
/** file -> { etag, body: Promise<Buffer> }: the gzip form of the file's current version. */
const gzipped = new Map();

function gzipOf(file, etag, version) {
  const hit = gzipped.get(file);
  if (hit && hit.etag === etag) return hit.body;
  let body = null;
  const forget = () => { if (gzipped.get(file)?.body === body) gzipped.delete(file); };
  body = readFile(file).then(async (bytes) => {
    // A file rewritten while it was read (a build in progress) is sent but not kept.
    const after = await stat(file).catch(() => null);
    if (!after || versionOf(after) !== version) forget();
    return gzipAsync(bytes, { level: 9 });
  });
  gzipped.set(file, { etag, body });
  body.catch(forget);
  return body;
}

function versionOf(info) {
  return `${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}`;
}

function acceptsGzip(req) {
  return /(^|[\s,])gzip(\s*;\s*q=(?!0(\.0*)?\s*($|,))[\d.]+)?\s*($|,)/i.test(req.headers['accept-encoding'] ?? '');
}

function send(res, status, text, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  res.end(text);
}

export function createStaticServer(options = {}) {
  const roots = { demo: join(WEB, 'demo'), pkg: options.pkg ?? join(PACKAGE, 'pkg'), models: options.models ?? join(REPO, 'models'), name: options.name ?? null };
  return createServer(async (req, res) => {
    const common = {
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
    };
    for (const [k, v] of Object.entries(common)) res.setHeader(k, v);
    // Only this machine's own names: a page on another site that rebinds its name to 127.0.0.1
    // (DNS rebinding) gets nothing.
    if (!LOCAL_HOST.test(req.headers.host ?? '')) {
      send(res, 403, 'forbidden: this dev server answers localhost and 127.0.0.1 only\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      send(res, 400, 'bad request\n');
      return;
    }
    const [root, rel] = route(path, roots);
    if (BENCH_FILES.has(path.slice(1))) for (const [k, v] of Object.entries(ISOLATION)) res.setHeader(k, v);
    const file = await inside(root, rel);
    const info = file && (await stat(file).catch(() => null));
    if (!info || !info.isFile()) {
      send(res, 404, 'not found\n');
      return;
    }
    const version = versionOf(info);
    const compress = COMPRESSIBLE.has(extname(file)) && acceptsGzip(req);
    const etag = compress ? `"${version}-gz"` : `"${version}"`;
    const headers = {
      'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
      'Cache-Control': 'no-cache',
      ETag: etag,
    };
    if (COMPRESSIBLE.has(extname(file))) headers.Vary = 'Accept-Encoding';
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    if (compress) {
      let body;
      try {
        body = await gzipOf(file, etag, version);
      } catch {
        send(res, 500, 'could not read the file\n');
        return;
      }
      res.writeHead(200, { ...headers, 'Content-Encoding': 'gzip', 'Content-Length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Length': info.size });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
    checkModel(args);
  } catch (e) {
    console.error(`serve.mjs: ${e.message}`);
    process.exit(2);
  }
  const server = createStaticServer(args);
  if (!args.quiet) {
    server.on('request', (req, res) => res.on('finish', () => console.error(`${res.statusCode} ${req.method} ${req.url}`)));
  }
  server.listen(args.port, '127.0.0.1', () => {
    console.log(`listening on http://127.0.0.1:${server.address().port}/`);
  });
  const stop = () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
