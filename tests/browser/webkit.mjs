// WebKit for the browser tests: Debian's WebKitGTK (its MiniBrowser; JavaScriptCore and WebKit,
// the engines of Safari) driven over WebDriver classic by WebKitWebDriver, behind the part of
// Playwright's API the tests use. With SHOPPER_INTENT_BROWSER=webkit, helpers.mjs hands this
// browser to the tests; run.sh runs every file that opens a browser there, under Xvfb.
//
// WebDriver classic can run scripts and navigate, and nothing else the tests need: it cannot
// intercept requests, run init scripts or hear console messages. So a front server does. It
// stands between the browser and the dev server (the tests' `env.url` is its address) and is
// also the browser's proxy, so it sees every request, to any origin. It answers the page's
// routes, tells the request listeners of each request, refuses what goes beyond the dev server,
// and puts one script of its own at the top of every HTML document it serves. That script reports
// console messages and page errors with synchronous requests (so they are recorded before the
// call that logged them returns), defines the exposed functions, then runs the init scripts.
//
// What a test can meet, kept small on purpose:
// - requests, routes and HTML documents belong to the page of the latest command;
// - console messages are those of the page's `console` calls, plus a console error for each CSP
//   violation (the browser's own messages are not heard); types are Playwright's ('warning');
// - `route(pattern, handler)` takes what firefox.mjs takes; `abort()` closes the connection;
// - a WebSocket shows as the request of its handshake, and is refused; an HTTPS request to
//   another origin as a CONNECT to it, refused;
// - `evaluate` returns what JSON carries plus undefined, NaN, ±Infinity, -0 and Dates, and
//   rethrows a page's exception as an Error with its message.

import { spawn, execFile } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest, Agent } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { gunzipSync, brotliDecompressSync, inflateSync } from 'node:zlib';
import { urlMatcher } from './firefox.mjs';

export const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER || '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = process.env.WEBKIT_BROWSER || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
/**
 * With a path here, the driver's stderr (the browser's and its web processes' with it) is appended
 * to that file, with JavaScriptCore's log of wasm memories on (`JSC_logWasmMemory`: each memory,
 * fast or bounds-checked, and each grow), so that a run where the intermittent wasm trap shows
 * (helpers.mjs, `consoleProblems`) leaves what the engine did with the memories before it.
 * run.sh sets it to build/webkit-stderr.log.
 */
export const WEBKIT_LOG = process.env.SHOPPER_INTENT_WEBKIT_LOG || '';

const freePort = () => new Promise((resolve, reject) => {
  const s = createNetServer();
  s.once('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

// Values through WebDriver's JSON, and back: `encode` runs in Node and (as its source) in the
// page, `decode` in Node; the page's decoder handles what Node's encoder makes of arguments.
function encode(v) {
  if (v === undefined) return { $w: 'undefined' };
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return { $w: 'NaN' };
    if (v === Infinity) return { $w: 'Infinity' };
    if (v === -Infinity) return { $w: '-Infinity' };
    if (Object.is(v, -0)) return { $w: '-0' };
    return v;
  }
  if (typeof v === 'bigint') return { $w: 'bigint', v: String(v) };
  if (typeof v === 'function' || typeof v === 'symbol') return { $w: 'undefined' };
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Date) return { $w: 'date', v: v.toISOString() };
  if (v instanceof Error) return { $w: 'error', name: v.name, message: v.message };
  if (Array.isArray(v)) return v.map(encode);
  if (ArrayBuffer.isView(v)) return Array.from(v, encode);
  const out = {};
  for (const k of Object.keys(v)) {
    const e = encode(v[k]);
    if (!(e && e.$w === 'undefined')) out[k] = e;
  }
  return out;
}

function decode(v) {
  if (Array.isArray(v)) return v.map(decode);
  if (v === null || typeof v !== 'object') return v;
  if (typeof v.$w === 'string') {
    switch (v.$w) {
      case 'undefined': return undefined;
      case 'NaN': return NaN;
      case 'Infinity': return Infinity;
      case '-Infinity': return -Infinity;
      case '-0': return -0;
      case 'bigint': return BigInt(v.v);
      case 'date': return new Date(v.v);
      case 'error': return Object.assign(new Error(v.message), { name: v.name });
      default: break;
    }
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
}

/** An init script (a function with its argument, a string of code or `{content}`) as code. */
function scriptSource(script, arg) {
  if (typeof script === 'function') return `(${script.toString()})(${arg === undefined ? '' : JSON.stringify(arg)});`;
  if (typeof script === 'string') return script;
  if (typeof script?.content === 'string') return script.content;
  throw new Error('webkit.mjs: an init script is a function, a string or {content}');
}

/** The script the front server puts first in each HTML document of page `id`. */
function pageScript(id, exposed, initScripts) {
  return `(() => {
  const post = (what, body) => {
    try {
      const x = new XMLHttpRequest();
      x.open('POST', '/__webkit/' + what + '?page=${id}', false);
      x.setRequestHeader('content-type', 'text/plain');
      x.send(JSON.stringify(body));
      return x.responseText;
    } catch (e) { return null; }
  };
  const text = (a) => { try { return typeof a === 'string' ? a : a instanceof Error ? String(a) : typeof a === 'object' && a !== null ? JSON.stringify(a) ?? String(a) : String(a); } catch { return String(a); } };
  for (const [method, type] of [['log', 'log'], ['info', 'info'], ['warn', 'warning'], ['error', 'error'], ['debug', 'debug']]) {
    const real = console[method];
    console[method] = function (...args) { post('log', { kind: 'console', type, text: args.map(text).join(' ') }); return real.apply(this, args); };
  }
  addEventListener('error', (e) => { if (e.target === window || e.target == null) post('log', { kind: 'pageerror', text: String(e.error ?? e.message) }); });
  addEventListener('unhandledrejection', (e) => post('log', { kind: 'pageerror', text: String(e.reason) }));
  document.addEventListener('securitypolicyviolation', (e) => post('log', { kind: 'console', type: 'error',
    text: 'Refused to load or run ' + (e.blockedURI || 'a resource') + ': it violates the Content Security Policy directive ' + e.violatedDirective }));
  for (const name of ${JSON.stringify(exposed)}) {
    window[name] = (...args) => new Promise((resolve, reject) => {
      const r = post('call', { name, args });
      if (r === null) { reject(new Error('webkit.mjs: ' + name + ' could not be called')); return; }
      const { value, error } = JSON.parse(r);
      if (error) reject(new Error(error)); else resolve(value);
    });
  }
})();
${initScripts.map((s) => `try { ${s} } catch (e) { console.error(e); }`).join('\n')}
`;
}

/** Puts `<script src>` of page `id` first in an HTML document. */
function inject(html, id) {
  const tag = `<script src="/__webkit/page.js?page=${id}"></script>`;
  const m = html.match(/<head[^>]*>/i) ?? html.match(/<html[^>]*>/i);
  if (m) return html.slice(0, m.index + m[0].length) + tag + html.slice(m.index + m[0].length);
  const doctype = html.match(/^\s*<!doctype[^>]*>/i);
  return doctype ? doctype[0] + tag + html.slice(doctype[0].length) : tag + html;
}

function decompress(body, encoding) {
  if (!encoding || encoding === 'identity') return body;
  if (encoding === 'gzip') return gunzipSync(body);
  if (encoding === 'br') return brotliDecompressSync(body);
  if (encoding === 'deflate') return inflateSync(body);
  throw new Error(`webkit.mjs: content-encoding ${encoding}`);
}

/** A request as the tests' listeners and route handlers read it (Playwright's methods). */
function requestInfo(req, href, postData) {
  return {
    url: () => href,
    method: () => req.method,
    postData: () => postData,
    headers: () => ({ ...req.headers }),
    allHeaders: async () => ({ ...req.headers }),
  };
}

/**
 * The front server: forwards its own origin's requests to `target` (the dev server) and refuses
 * other origins', except where a route of the active page answers; tells the active page of each
 * request.
 */
async function startFront(target) {
  const agent = new Agent({ keepAlive: true });
  const pages = new Map();
  const front = { active: null, pages, url: '' };
  const readBody = (req) => new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, front.url);
    const elsewhere = url.origin !== front.url;
    const body = await readBody(req).catch(() => Buffer.alloc(0));
    if (!elsewhere && url.pathname.startsWith('/__webkit/')) {
      const page = pages.get(Number(url.searchParams.get('page')));
      if (!page) { res.writeHead(404).end(); return; }
      if (url.pathname === '/__webkit/page.js') {
        res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
        res.end(page.script());
      } else if (url.pathname === '/__webkit/log') {
        page.record(JSON.parse(body.toString()));
        res.writeHead(204).end();
      } else if (url.pathname === '/__webkit/call') {
        const { name, args } = JSON.parse(body.toString());
        let out;
        try { out = { value: await page.context.exposedFn(name)(...args) }; } catch (e) { out = { error: String(e?.message ?? e) }; }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(out ?? null));
      } else {
        res.writeHead(404).end();
      }
      return;
    }
    const page = front.active;
    const href = url.href;
    const info = requestInfo(req, href, body.length ? body.toString() : null);
    let answered = false;
    res.on('close', () => { if (!res.writableFinished) page?.emit('requestfailed', info); });
    page?.emit('request', info);
    const send = (status, headers, content) => {
      answered = true;
      let out = content;
      const type = Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
      if (page && /text\/html/i.test(type)) {
        const enc = Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-encoding')?.[1];
        out = Buffer.from(inject(decompress(Buffer.from(content), enc).toString(), page.id));
        for (const k of Object.keys(headers)) if (/^(content-encoding|content-length|etag)$/i.test(k)) delete headers[k];
      }
      if (page && /text\/html/i.test(req.headers.accept ?? '')) {
        const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
        page.lastDocument = { url: () => href, status: () => status, ok: () => status >= 200 && status < 300, headers: () => lower };
      }
      res.writeHead(status, headers);
      res.end(out);
    };
    const forward = () => {
      const up = httpRequest(new URL(url.pathname + url.search, target), { method: req.method, headers: { ...req.headers, host: new URL(target).host }, agent }, (r) => {
        const headers = { ...r.headers };
        if (/text\/html/i.test(headers['content-type'] ?? '')) {
          readBody(r).then((b) => send(r.statusCode, headers, b), () => res.destroy());
        } else {
          answered = true;
          res.writeHead(r.statusCode, headers);
          r.pipe(res);
        }
      });
      up.on('error', () => res.destroy());
      up.end(body);
    };
    const hit = page?.routes.find((r) => r.matches(href));
    if (!hit && elsewhere) { send(502, { 'content-type': 'text/plain' }, Buffer.from('webkit.mjs: no network beyond the test server')); return; }
    if (!hit) { forward(); return; }
    try {
      await hit.handler({
        request: () => info,
        continue: async () => forward(),
        fallback: async () => forward(),
        abort: async () => { answered = true; res.destroy(); },
        fulfill: async ({ status = 200, headers = {}, contentType, body: content = '' }) => {
          const h = { ...headers };
          if (contentType) h['content-type'] = contentType;
          send(status, h, typeof content === 'string' ? Buffer.from(content) : content);
        },
      });
    } catch (e) {
      if (!answered) { res.writeHead(500).end(String(e)); }
    }
  });
  // As the browser's proxy, it also hears of requests to other origins: a WebSocket's handshake
  // and an HTTPS tunnel are told to the request listeners as requests, then refused.
  const refuse = (req, socket, href) => {
    front.active?.emit('request', requestInfo(req, href, null));
    socket.destroy();
  };
  server.on('upgrade', (req, socket) => refuse(req, socket, new URL(req.url, front.url).href));
  server.on('connect', (req, socket) => refuse(req, socket, `https://${req.url}/`));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  front.url = `http://127.0.0.1:${server.address().port}`;
  front.close = () => new Promise((resolve) => { agent.destroy(); server.closeAllConnections(); server.close(resolve); });
  return front;
}

/**
 * How long a WebDriver command may go unanswered. The session's own limits are shorter (SCRIPT_MS
 * for a script, PAGE_LOAD_MS for a navigation) and answer with an error; this one is for a
 * command the driver cannot answer at all, which is what a web process whose main thread never
 * returns makes of every command (measured: a script busy for 40 s is answered after 40 s,
 * past the 30 s script timeout). A test's own timeout is 60 s or more, so the hang fails the
 * test with a reason before node:test cancels it without one.
 */
const COMMAND_MS = 35_000;
const SCRIPT_MS = 30_000;
const PAGE_LOAD_MS = 30_000;

/**
 * Every WebDriver command of this process that went unanswered (COMMAND_MS), as what was seen
 * of WebKit's processes then, in order; helpers.mjs's `test` runs a test again after one.
 */
export const webKitHangs = [];
/** The pids of the WebKitWebDrivers running now. */
const drivers = new Set();

/**
 * What the processes of every running driver are doing (`diagnoseHang`), for a test that timed
 * out or was cancelled while a command was still waiting.
 */
export async function describeWebKit() {
  const out = [];
  for (const pid of drivers) out.push(`WebKitWebDriver ${pid}: ${await diagnoseHang(pid, false)}`);
  return out.join('\n') || 'no WebKitWebDriver is running';
}

/** The pids below `root` in the process tree (WebKitWebDriver's MiniBrowser and its processes). */
function descendants(root) {
  const parent = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // A process that ended meanwhile.
    }
  }
  const out = [];
  const walk = (pid) => { for (const [child, p] of parent) if (p === pid) { out.push(child); walk(child); } };
  walk(root);
  return out;
}

/** A process's name, its main thread's state and the CPU time it used (clock ticks), or null. */
function processInfo(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let wchan = '';
    try { wchan = readFileSync(`/proc/${pid}/task/${pid}/wchan`, 'utf8'); } catch { /* not readable */ }
    return { pid, name, state: f[0], ticks: Number(f[11]) + Number(f[12]), wchan };
  } catch {
    return null;
  }
}

/**
 * What the processes of a driver (pid `root`) are doing, for a command it did not answer: each
 * web process's main thread, its state and its share of a core over half a second. With a log
 * (WEBKIT_LOG) and gdb, the main thread's native stack of each web process goes there too: busy
 * (in JavaScriptCore) or waiting (on what).
 */
async function diagnoseHang(root, stacks = true) {
  const pids = descendants(root);
  const before = new Map(pids.map((p) => [p, processInfo(p)]));
  await new Promise((r) => setTimeout(r, 500));
  const lines = [];
  const web = [];
  for (const pid of pids) {
    const a = before.get(pid);
    const b = processInfo(pid);
    if (!a || !b || !/WebKit|MiniBrowser/.test(b.name)) continue;
    const share = Math.round((b.ticks - a.ticks) * 2); // ticks are 1/100 s, over 1/2 s
    lines.push(`${b.name} ${pid}: main thread ${b.state}${b.wchan && b.wchan !== '0' ? ` in ${b.wchan}` : ''}, ${share}% of a core`);
    if (/WebProces/.test(b.name)) web.push(pid);
  }
  let where = '';
  if (stacks && WEBKIT_LOG && web.length && existsSync('/usr/bin/gdb')) {
    for (const pid of web) {
      const bt = await new Promise((resolve) => execFile('/usr/bin/gdb', ['-p', String(pid), '-batch', '-ex', 'bt 40'],
        { timeout: 30_000, maxBuffer: 1 << 20 }, (e, out, err) => resolve(`${out}${e ? `\n(gdb: ${e.message})\n${err}` : ''}`)));
      try { appendFileSync(WEBKIT_LOG, `\n== ${new Date().toISOString()} the main thread of WebKitWebProcess ${pid}, through an unanswered command:\n${bt}\n`); } catch { /* no log */ }
    }
    where = ` (the web processes' native stacks are in ${WEBKIT_LOG})`;
  }
  return `${lines.join('; ') || 'no WebKit process is left'}${where}`;
}

/** WebKitWebDriver on a free port, and its commands. */
async function startDriver() {
  if (!process.env.DISPLAY) throw new Error('webkit.mjs: WebKitGTK needs a display; run under xvfb-run (run.sh does)');
  const port = await freePort();
  const env = WEBKIT_LOG ? { ...process.env, JSC_logWasmMemory: '1' } : process.env;
  const child = spawn(WEBKIT_DRIVER, [`--port=${port}`], { stdio: ['ignore', 'ignore', 'pipe'], env });
  drivers.add(child.pid);
  child.once('exit', () => drivers.delete(child.pid));
  let err = '';
  const log = (text) => {
    try {
      appendFileSync(WEBKIT_LOG, text);
    } catch {
      // A log that cannot be written takes nothing from the run.
    }
  };
  if (WEBKIT_LOG) log(`\n== ${new Date().toISOString()} ${process.argv[1] ?? ''}: WebKitWebDriver started\n`);
  child.stderr.on('data', (d) => {
    if (err.length < 65_536) err += d;
    if (WEBKIT_LOG) log(d);
  });
  const base = `http://127.0.0.1:${port}`;
  let hung = null;
  const command = async (method, path, body) => {
    if (hung) throw new Error(`WebDriver ${method} ${path}: not sent, the driver is stuck (${hung})`);
    let r;
    try {
      r = await fetch(base + path, {
        method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(COMMAND_MS),
      });
    } catch (e) {
      if (e?.name !== 'TimeoutError') throw e;
      hung = `${method} ${path} unanswered for ${COMMAND_MS / 1000} s`;
      const why = await diagnoseHang(child.pid);
      webKitHangs.push(`${method} ${path.replace(/^\/session\/[^/]+/, '')}: ${why}`);
      // The browser goes with its driver: nothing of it keeps a core busy for the tests after.
      for (const pid of [...descendants(child.pid), child.pid]) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      throw new Error(`WebDriver ${method} ${path}: no answer in ${COMMAND_MS / 1000} s; WebKit's processes then: ${why}`);
    }
    const j = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(`WebDriver ${method} ${path}: ${j?.value?.error ?? r.status}: ${j?.value?.message ?? ''}`);
    return j.value;
  };
  for (let i = 0; ; i++) {
    let why;
    try {
      if ((await command('GET', '/status'))?.ready !== undefined) break;
      why = 'no status';
    } catch (e) {
      why = e;
    }
    if (i > 100 || child.exitCode !== null) throw new Error(`webkit.mjs: WebKitWebDriver did not start: ${err || why}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const close = () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => { clearTimeout(kill); resolve(); });
    child.kill('SIGTERM');
  });
  return { command, close };
}

let nextPage = 1;

class Page {
  constructor(context, handle) {
    this.context = context;
    this.handle = handle;
    this.id = nextPage++;
    this.routes = [];
    this.initScripts = [];
    this.listeners = { console: [], pageerror: [], request: [], requestfailed: [] };
    context.front.pages.set(this.id, this);
  }

  script() {
    return pageScript(this.id, this.context.exposed.map(([n]) => n), [...this.context.initScripts, ...this.initScripts]);
  }

  record(m) {
    if (m.kind === 'console') this.emit('console', { type: () => m.type, text: () => m.text });
    else this.emit('pageerror', new Error(m.text));
  }

  emit(event, value) {
    for (const l of this.listeners[event] ?? []) l(value);
    if (event === 'request') for (const l of this.context.requestListeners) l(value);
  }

  /** Makes this page the one commands, requests and documents belong to. */
  async use(path, method = 'POST', body = undefined) {
    this.context.front.active = this;
    if (this.context.current !== this.handle) {
      await this.context.cmd('POST', '/window', { handle: this.handle });
      this.context.current = this.handle;
    }
    return this.context.cmd(method, path, body);
  }

  on(event, listener) {
    if (event === 'websocket') return; // not seen: WebSockets go to the dev server directly
    if (!this.listeners[event]) throw new Error(`webkit.mjs: no '${event}' event`);
    this.listeners[event].push(listener);
  }

  /** Resolves to the document's response (its url, status and headers), as Playwright does. */
  async goto(url) {
    this.lastDocument = null;
    await this.use('/url', 'POST', { url });
    return this.lastDocument;
  }

  async reload() {
    this.lastDocument = null;
    await this.use('/refresh', 'POST', {});
    return this.lastDocument;
  }
  url() { return this.use('/url', 'GET'); }

  async evaluate(fn, arg) {
    const call = typeof fn === 'function' ? `(${fn.toString()})(arg)` : `(${fn})`;
    const script = `const done = arguments[arguments.length - 1];
${encode.toString()}
const decode = (v) => {
  if (Array.isArray(v)) return v.map(decode);
  if (v === null || typeof v !== 'object') return v;
  const special = { undefined: undefined, NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };
  if (typeof v.$w === 'string' && v.$w in special) return special[v.$w];
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
};
const arg = decode(arguments[0]);
Promise.resolve().then(() => ${call}).then((v) => done({ value: encode(v) }), (e) => done({ error: String(e && e.message || e) }));`;
    const r = await this.use('/execute/async', 'POST', { script, args: [encode(arg)] });
    if (r?.error !== undefined) throw new Error(`page.evaluate: ${r.error}`);
    return decode(r?.value);
  }

  async waitForFunction(fn, arg, { timeout = 30_000 } = {}) {
    const until = Date.now() + timeout;
    for (;;) {
      const v = await this.evaluate(fn, arg);
      if (v) return v;
      if (Date.now() > until) throw new Error(`page.waitForFunction: timeout ${timeout} ms exceeded`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async waitForURL(re, { timeout = 30_000 } = {}) {
    const until = Date.now() + timeout;
    while (!re.test(await this.url())) {
      if (Date.now() > until) throw new Error(`page.waitForURL: timeout ${timeout} ms exceeded waiting for ${re}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async click(selector) {
    const el = await this.use('/element', 'POST', { using: 'css selector', value: selector });
    const id = Object.values(el)[0];
    await this.use(`/element/${id}/click`, 'POST', {});
  }

  fill(selector, value) {
    return this.evaluate(([s, v]) => {
      const el = document.querySelector(s);
      if (!el) throw new Error(`no element ${s}`);
      el.value = v;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
    }, [selector, value]);
  }

  async addInitScript(script, arg) { this.initScripts.push(scriptSource(script, arg)); }
  async route(pattern, handler) { this.routes.push({ matches: urlMatcher(pattern), handler }); }

  /**
   * A session's last window cannot be closed, so the last page unloads to about:blank and its
   * window serves the context's next page. A tab opened beside it would be hidden, with its timers
   * throttled (measured: 11 turns of a 0 ms timer in a second, against 60 in 200 ms), where
   * Chromium and Firefox show a new page.
   */
  async close() {
    if (this.context.pages.length > 1) {
      await this.use('/window', 'DELETE');
      this.context.current = null;
    } else {
      await this.use('/url', 'POST', { url: 'about:blank' });
      this.context.spare = this.handle;
    }
    this.context.pages = this.context.pages.filter((p) => p !== this);
  }
}

/**
 * A browser context: one WebDriver session, so one MiniBrowser with its own storage, and its own
 * WebKitWebDriver (a driver holds one session at a time).
 */
class Context {
  constructor(front) {
    this.driver = null;
    this.front = front;
    this.session = null;
    this.current = null;
    this.pages = [];
    this.initScripts = [];
    this.exposed = [];
    this.requestListeners = [];
  }

  cmd(method, path, body) { return this.driver.command(method, `/session/${this.session}${path}`, body); }

  async addInitScript(script, arg) { this.initScripts.push(scriptSource(script, arg)); }
  async exposeFunction(name, fn) { this.exposed.push([name, fn]); }
  exposedFn(name) {
    const hit = this.exposed.find(([n]) => n === name);
    if (!hit) throw new Error(`webkit.mjs: ${name} is not exposed`);
    return hit[1];
  }

  on(event, listener) {
    if (event !== 'request') throw new Error(`webkit.mjs: no '${event}' event on a context`);
    this.requestListeners.push(listener);
  }

  async newPage() {
    let handle;
    if (!this.session) {
      this.driver = await startDriver();
      const s = await this.driver.command('POST', '/session', {
        capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation', `--proxy=${this.front.url}`, '--ignore-host='] } } },
      });
      this.session = s.sessionId;
      this.version = s.capabilities.browserVersion;
      // A navigation that never loads fails in PAGE_LOAD_MS instead of WebDriver's 300 s.
      await this.cmd('POST', '/timeouts', { script: SCRIPT_MS, pageLoad: PAGE_LOAD_MS });
      handle = await this.cmd('GET', '/window');
    } else if (this.spare && this.pages.length === 0) {
      handle = this.spare;
    } else {
      handle = (await this.cmd('POST', '/window/new', { type: 'tab' })).handle;
    }
    this.spare = null;
    this.current = null;
    const page = new Page(this, handle);
    this.pages.push(page);
    return page;
  }

  async close() {
    for (const p of this.pages) this.front.pages.delete(p.id);
    if (this.front.active?.context === this) this.front.active = null;
    if (this.session) await this.driver.command('DELETE', `/session/${this.session}`).catch(() => {});
    this.session = null;
    await this.driver?.close();
    this.driver = null;
  }
}

/**
 * Starts the front server before `target` (the dev server's URL) and WebKitWebDriver; resolves
 * to an object with `url` (the front server's: the tests' env.url), `newContext()`, `version()`
 * and `close()`.
 */
export async function launchWebKit(target) {
  const front = await startFront(target);
  const contexts = new Set();
  // One session first, for the version (and to fail here if MiniBrowser cannot start).
  const probe = new Context(front);
  try {
    await probe.newPage();
  } catch (e) {
    await probe.close();
    await front.close();
    throw new Error(`webkit.mjs: MiniBrowser (${MINIBROWSER}) did not start: ${e.message}`);
  }
  const version = probe.version;
  await probe.close();
  return {
    name: 'webkit',
    url: front.url,
    version: () => version,
    async newContext() { const c = new Context(front); contexts.add(c); return c; },
    async close() {
      for (const c of contexts) await c.close();
      await front.close();
    },
  };
}
