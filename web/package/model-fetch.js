// Fetching the model: the manifest (small, revalidated on every load) and the weights file it
// names (cached with the Cache API under the weights' checksum from the manifest, so it is
// downloaded once per model version). Where the Cache API has not got them, the weights are
// revalidated with the server too: a model deployed at the same URL reaches a returning visitor
// at once (an HTTP cache that served the old weights for their max-age failed every page with
// MANIFEST_MISMATCH until it expired), and an unchanged file is a 304 where the server gives an
// ETag or Last-Modified. Whether the two belong together is checked by the engine, not here.
// The manifest a visit used is kept beside its weights: when the manifest cannot be fetched (the
// server or the CDN is down), a returning visitor loads the pair it had, with a warning.

import { ShopperIntentError, isShopperIntentError } from './engine.js';
import { errorName } from './log.js';
import { parseOwn, record } from './fields.js';
import { all, race } from './schedule.js';

const MODEL_CACHE = 'shopper-intent-model';
/** How long a fetch may take before loading fails with LOAD_FAILED. */
export const DEFAULT_FETCH_TIMEOUT_MS = 15_000;
/**
 * How long the weights download waits for the Cache API once the manifest is in. Opening the
 * cache took up to 120 ms on a busy first visit here; past this the download starts anyway.
 */
export const CACHE_GRACE_MS = 500;
/**
 * The most weights files the model cache keeps: the one in use, and the last one used under
 * another URL (a rollback to it costs no download). Only one version of a URL is kept. A shop
 * that versions its weights URLs would leave one more file each deploy otherwise. Manifests are
 * kept by the same rule.
 */
export const MAX_CACHED_MODELS = 2;
/** How long a load whose manifest failed waits for the Cache API to offer the pair kept. */
const KEPT_WAIT_MS = 3000;

/** What the race between the cache lookup and the manifest gives when the manifest failed first. */
const MANIFEST_FAILED = Symbol('manifest failed');

/** The cache key of weights `url` whose manifest checksum is `checksum` (null without one). */
const weightsKey = (url, checksum) => (checksum ? `${url}${url.includes('?') ? '&' : '?'}shopper-intent-weights=${checksum}` : null);
/** The cache key of the last manifest used from `url`. */
const manifestKey = (url) => `${url}${url.includes('?') ? '&' : '?'}shopper-intent-manifest=1`;
const isManifestKey = (key) => /[?&]shopper-intent-manifest=1$/.test(key);
/** A cache key without its query string: one file, whichever version. */
const fileOf = (key) => key.split('?')[0];

async function get(url, what, { cache, timeoutMs, signal }) {
  const controller = typeof AbortController === 'function' ? new AbortController() : null;
  const timer = controller && timeoutMs > 0 ? setTimeout(() => controller.abort(), timeoutMs) : 0;
  const cancel = () => controller?.abort();
  signal?.addEventListener('abort', cancel);
  let res;
  try {
    res = await fetch(url, { credentials: 'same-origin', cache, signal: controller?.signal });
    if (!res.ok) throw new ShopperIntentError('LOAD_FAILED', `could not fetch the ${what} ${url}: HTTP ${res.status}`);
    return what === 'manifest' ? await res.text() : new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    if (isShopperIntentError(e)) throw e;
    const why = signal?.aborted ? `cancelled: ${signal.reason?.message ?? 'not needed'}`
      : controller?.signal.aborted ? `no answer within ${timeoutMs} ms` : String(e);
    throw new ShopperIntentError('LOAD_FAILED', `could not fetch the ${what} ${url}: ${why}`, { cause: e });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', cancel);
  }
}

/** Starts downloading the weights at `url`; `cancel(why)` stops it. */
function download(url, timeoutMs) {
  const controller = typeof AbortController === 'function' ? new AbortController() : null;
  const bytes = get(url, 'model weights', { cache: 'no-cache', timeoutMs, signal: controller?.signal });
  bytes.catch(() => {}); // awaited by the caller, unless the manifest fails first or the cache serves
  return { bytes, cancel: (why) => controller?.abort(new Error(why)) };
}

/**
 * The model cache's contents, looked up once: a promise of `{cache, urls}`, or of null without a
 * usable Cache API (opaque origins and some private modes refuse it). It never rejects.
 */
function lookUpCache(useCache) {
  if (!useCache) return Promise.resolve(null);
  try {
    // Inside the try: in a sandboxed frame without allow-same-origin, even reading `caches` throws.
    if (typeof caches === 'undefined') return Promise.resolve(null);
    return caches.open(MODEL_CACHE)
      .then(async (cache) => ({ cache, urls: new Set((await cache.keys()).map((r) => r.url)) }))
      .catch(() => null);
  } catch {
    return Promise.resolve(null);
  }
}

/**
 * What `promise` (which never rejects) resolves to, or undefined when it has not settled
 * `CACHE_GRACE_MS` after `after` (which never rejects either) did.
 */
function within(promise, after) {
  return new Promise((resolve) => {
    let done = false;
    let timer = 0;
    promise.then((v) => { done = true; clearTimeout(timer); resolve(v); });
    after.then(() => {
      if (done) return;
      try {
        timer = setTimeout(() => resolve(undefined), CACHE_GRACE_MS);
      } catch {
        resolve(undefined); // a page whose setTimeout throws: no grace, the download goes on
      }
    });
  });
}

/** The cached body at `key`, or null. Never rejects. */
async function cached(found, key) {
  if (!found || !key || !found.urls.has(key)) return null;
  try {
    const hit = await found.cache.match(key);
    return hit ? new Uint8Array(await hit.arrayBuffer()) : null;
  } catch {
    return null;
  }
}

/**
 * `url` resolved against the page. A URL the browser refuses (Firefox refuses any over 1 MB, for
 * instance) is a `BAD_OPTIONS` error that says which one, without echoing the URL.
 */
function resolve(url, what) {
  try {
    return new URL(url, document.baseURI).href;
  } catch (e) {
    throw new ShopperIntentError('BAD_OPTIONS', `the ${what} URL cannot be used: this browser refuses it (${url.length} characters; ${errorName(e)})`, { cause: e });
  }
}

/** The weights file's URL and checksum as the manifest names them, if it can be read. */
function fromManifest(text, manifestUrl) {
  try {
    const m = parseOwn(text);
    if (Array.isArray(m)) return { url: null, checksum: null };
    const file = m?.model?.weights;
    const sum = m?.model?.weights_fnv1a64;
    return {
      url: typeof file === 'string' ? new URL(file, manifestUrl).href : null,
      checksum: typeof sum === 'string' && /^[0-9a-f]{16}$/.test(sum) ? sum : null,
    };
  } catch {
    return { url: null, checksum: null };
  }
}

/**
 * The manifest last used from `manifestHref` and its weights, both from the cache, or null when
 * either is not there. Never rejects.
 */
async function lastUsed(found, manifestHref, givenUrl) {
  const mKey = manifestKey(manifestHref);
  if (!found || !found.urls.has(mKey)) return null;
  let manifest;
  try {
    manifest = await (await found.cache.match(mKey))?.text();
  } catch {
    return null;
  }
  if (!manifest) return null;
  const named = fromManifest(manifest, manifestHref);
  const key = weightsKey(givenUrl ?? named.url ?? '', named.checksum);
  const weights = await cached(found, key);
  return weights ? { weights, manifest, key, mKey } : null;
}

/**
 * Puts the weights and the manifest just used in the cache (the weights only when `stored` is
 * false, or when another file was used after them: the last used come last), then deletes what is
 * over the bound: other versions of the same file, and all but the last used other file.
 */
async function keep(found, { key, weights, stored, mKey, manifest }) {
  const { cache, urls } = found;
  const weightKeys = [...urls].filter((u) => !isManifestKey(u));
  if (!stored || weightKeys[weightKeys.length - 1] !== key) {
    // Deleted first: WebKit keeps a replaced entry where it was in the cache's order.
    if (stored) await cache.delete(key);
    await cache.put(key, new Response(weights, { headers: { 'Content-Type': 'application/octet-stream' } }));
  }
  let old = null;
  if (urls.has(mKey)) old = await (await cache.match(mKey))?.text();
  if (old !== manifest) await cache.put(mKey, new Response(manifest, { headers: { 'Content-Type': 'application/json' } }));
  const keys = (await cache.keys()).map((k) => k.url);
  const over = [];
  for (const [group, current] of [[keys.filter((k) => !isManifestKey(k)), key], [keys.filter(isManifestKey), mKey]]) {
    const others = group.filter((k) => k !== current);
    over.push(...others.filter((k) => fileOf(k) === fileOf(current)));
    const rest = others.filter((k) => fileOf(k) !== fileOf(current));
    over.push(...rest.slice(0, Math.max(0, rest.length - (MAX_CACHED_MODELS - 1))));
  }
  await all(over.map((k) => cache.delete(k)));
}

/**
 * Fetches the manifest and the weights. `weightsUrl` may be null: the manifest's `model.weights`
 * (relative to the manifest) is used then. The weights are put in the cache only when the
 * caller calls `remember()`, once the engine has accepted them: a bad download is never cached.
 *
 * The cache is looked up while the manifest is on its way, and it decides: a visit whose cache
 * holds the weights under the manifest's checksum downloads nothing more; when the weights URL is
 * given and no version of it is cached (a first visit), the weights are fetched at the same time
 * as the manifest. A Cache API that has not answered `CACHE_GRACE_MS` after the manifest came
 * does not hold loading back: the download starts, and is cancelled if the cache answers with the
 * weights first.
 * Weights the cache served and the engine then refused can be removed with `evict()`; the
 * download after that (`readCache: false`) does not read the cache, and `remember()` puts it in.
 * When the manifest cannot be fetched (`LOAD_FAILED`) and the cache holds the manifest last used
 * from the same URL with its weights, those are returned, with the fetch's error as `stale`.
 * @returns {Promise<{weights: Uint8Array, manifest: string, remember: () => void, fromCache: boolean, evict: () => void, stale: Error | null}>}
 */
export async function fetchModel(options) {
  const { weightsUrl, manifestUrl, useCache = true, readCache = true, timeoutMs = DEFAULT_FETCH_TIMEOUT_MS } = record(options);
  const manifestHref = resolve(manifestUrl, 'manifest');
  const givenUrl = weightsUrl ? resolve(weightsUrl, 'weights') : null;
  const pendingManifest = get(manifestHref, 'manifest', { cache: 'no-cache', timeoutMs });
  pendingManifest.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
  const manifestIn = pendingManifest.then(() => undefined, () => undefined);
  // Rejects as soon as the manifest fails; never settles otherwise (nothing waits on a failed load).
  const manifestFailed = pendingManifest.then(() => new Promise(() => {}));
  manifestFailed.catch(() => {});
  const lookup = lookUpCache(useCache);
  let net = null;
  if (givenUrl) {
    // No version of this URL in the cache (a first visit), or no answer from the cache: then the
    // download starts now. Otherwise the manifest's checksum decides below.
    const base = givenUrl.split('?')[0];
    // A manifest that fails first starts no download: the load then waits for the cache below
    // (a shop's server may refuse the manifest before this browser's cache has answered).
    const found = await race([within(lookup, manifestIn), manifestFailed.catch(() => MANIFEST_FAILED)]);
    if (found !== MANIFEST_FAILED && (!readCache || found === undefined || ![...(found?.urls ?? [])].some((u) => u.split('?')[0] === base))) net = download(givenUrl, timeoutMs);
  }
  let manifest;
  try {
    manifest = await pendingManifest;
  } catch (e) {
    net?.cancel('the manifest could not be fetched');
    // The load fails otherwise: the cache is given longer to answer than on the way to a download.
    const late = (ms) => new Promise((res) => { setTimeout(() => res(undefined), ms); });
    const kept = readCache && e?.code === 'LOAD_FAILED' ? await lastUsed(await race([lookup, late(KEPT_WAIT_MS)]), manifestHref, givenUrl) : null;
    if (!kept) throw e;
    const evictKept = () => { lookup.then((found) => all([found.cache.delete(kept.key), found.cache.delete(kept.mKey)])).catch(() => {}); };
    return { weights: kept.weights, manifest: kept.manifest, remember: () => {}, fromCache: true, evict: evictKept, stale: e };
  }
  const named = fromManifest(manifest, manifestHref);
  const url = givenUrl ?? named.url;
  if (!url) {
    net?.cancel('the manifest names no weights');
    throw new ShopperIntentError('MANIFEST_MISMATCH', `the manifest ${manifestHref} names no weights file (model.weights)`);
  }
  const key = weightsKey(url, named.checksum);
  let settled = false;
  // The cached weights of this version, read unless the download has already won; null when
  // the cache does not have them. Never rejects.
  const fromCache = lookup.then((found) => (settled || !readCache ? null : cached(found, key)));
  const evict = () => { lookup.then((found) => found && key && found.cache.delete(key)).catch(() => {}); };
  if (!net) {
    const hit = await within(fromCache, Promise.resolve());
    if (hit) {
      const touch = () => { lookup.then((found) => found && keep(found, { key, weights: hit, stored: true, mKey: manifestKey(manifestHref), manifest })).catch(() => {}); };
      return { weights: hit, manifest, remember: touch, fromCache: true, evict, stale: null };
    }
    net = download(url, timeoutMs);
  }
  let cacheWon = false;
  // Whichever has the weights first: the download, or a cache that answers late with them (the
  // download is cancelled then). A failed download waits for the cache within the grace only.
  const weights = await new Promise((resolve, reject) => {
    const finish = (ok, value) => {
      if (settled) return;
      settled = true;
      (ok ? resolve : reject)(value);
    };
    net.bytes.then((w) => finish(true, w), (e) => within(fromCache, Promise.resolve()).then((hit) => {
      if (hit && !settled) cacheWon = true;
      finish(!!hit, hit || e);
    }));
    fromCache.then((hit) => {
      if (!hit || settled) return;
      cacheWon = true;
      finish(true, hit);
      net.cancel('the cache had the weights');
    });
  });
  const remember = () => {
    // In the cache already (the download may have beaten a cache that held it): put again, if
    // at all, only after a delete, or WebKit leaves it where it was in the order.
    lookup.then((found) => found && key && keep(found, { key, weights, stored: readCache && found.urls.has(key), mKey: manifestKey(manifestHref), manifest })).catch(() => {});
  };
  return { weights, manifest, remember, fromCache: cacheWon, evict, stale: null };
}
