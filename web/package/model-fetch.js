// Fetching the model: the manifest (small, revalidated on every load) and the weights file it
// names (cached with the Cache API under the weights' checksum from the manifest, so it is
// downloaded once per model version; the HTTP cache serves where the Cache API is missing).
// Whether the two belong together is checked by the engine, not here.

import { ShopperIntentError } from './engine.js';

const MODEL_CACHE = 'shopper-intent-model';
/** How long a fetch may take before loading fails with LOAD_FAILED. */
export const DEFAULT_FETCH_TIMEOUT_MS = 15_000;

async function get(url, what, { cache, timeoutMs }) {
  const controller = typeof AbortController === 'function' ? new AbortController() : null;
  const timer = controller && timeoutMs > 0 ? setTimeout(() => controller.abort(), timeoutMs) : 0;
  let res;
  try {
    res = await fetch(url, { credentials: 'same-origin', cache, signal: controller?.signal });
    if (!res.ok) throw new ShopperIntentError('LOAD_FAILED', `could not fetch the ${what} ${url}: HTTP ${res.status}`);
    return what === 'manifest' ? await res.text() : new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    if (e instanceof ShopperIntentError) throw e;
    const why = controller?.signal.aborted ? `no answer within ${timeoutMs} ms` : String(e);
    throw new ShopperIntentError('LOAD_FAILED', `could not fetch the ${what} ${url}: ${why}`, { cause: e });
  } finally {
    clearTimeout(timer);
  }
}

/** The weights file's URL and checksum as the manifest names them, if it can be read. */
function fromManifest(text, manifestUrl) {
  try {
    const m = JSON.parse(text);
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
 * Fetches the manifest and the weights. `weightsUrl` may be null: the manifest's `model.weights`
 * (relative to the manifest) is used then. The weights are put in the cache only when the
 * caller calls `remember()`, once the engine has accepted them: a bad download is never cached.
 *
 * When the weights URL is given and no version of it is cached (a first visit), the weights are
 * fetched at the same time as the manifest, one round trip less; otherwise the manifest's
 * checksum decides whether the cached copy serves.
 * @returns {Promise<{weights: Uint8Array, manifest: string, remember: () => void}>}
 */
export async function fetchModel({ weightsUrl, manifestUrl, useCache = true, timeoutMs = DEFAULT_FETCH_TIMEOUT_MS }) {
  const manifestHref = new URL(manifestUrl, document.baseURI).href;
  const givenUrl = weightsUrl ? new URL(weightsUrl, document.baseURI).href : null;
  const pendingManifest = get(manifestHref, 'manifest', { cache: 'no-cache', timeoutMs });
  pendingManifest.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
  let cache = null;
  if (useCache && typeof caches !== 'undefined') {
    try {
      cache = await caches.open(MODEL_CACHE);
    } catch {
      cache = null; // Opaque origins and some private modes refuse the Cache API.
    }
  }
  let early = null;
  if (givenUrl) {
    const any = cache ? await cache.match(givenUrl, { ignoreSearch: true }).catch(() => null) : null;
    if (!any) {
      early = get(givenUrl, 'model weights', { cache: 'default', timeoutMs });
      early.catch(() => {}); // awaited below, unless the manifest fails first
    }
  }
  const manifest = await pendingManifest;
  const named = fromManifest(manifest, manifestHref);
  const url = givenUrl ?? named.url;
  if (!url) throw new ShopperIntentError('MANIFEST_MISMATCH', `the manifest ${manifestHref} names no weights file (model.weights)`);
  const key = named.checksum ? `${url}${url.includes('?') ? '&' : '?'}shopper-intent-weights=${named.checksum}` : null;
  if (cache && key && !early) {
    try {
      const hit = await cache.match(key);
      if (hit) return { weights: new Uint8Array(await hit.arrayBuffer()), manifest, remember: () => {} };
    } catch {
      cache = null;
    }
  }
  const weights = await (early ?? get(url, 'model weights', { cache: 'default', timeoutMs }));
  const remember = () => {
    if (!cache || !key) return;
    const stored = new Response(weights, { headers: { 'Content-Type': 'application/octet-stream' } });
    const base = url.split('?')[0];
    cache.put(key, stored)
      .then(() => cache.keys())
      .then((keys) => Promise.all(keys.filter((k) => k.url.split('?')[0] === base && k.url !== key).map((k) => cache.delete(k))))
      .catch(() => {});
  };
  return { weights, manifest, remember };
}
