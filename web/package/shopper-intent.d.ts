// The TypeScript surface of shopper-intent, the one place its types are declared.
// Checked by `tsc --noEmit` in tests/browser/typescript.test.mjs against web/types-check/, and
// field by field against real objects in tests/browser/types.test.mjs.

/** A GA4 ecommerce event type. The engine also takes mapped Shopify, Segment and Taobao names and any shop's own type. */
export type EventType =
  | 'page_view' | 'view_item_list' | 'select_item' | 'view_item' | 'search' | 'add_to_wishlist'
  | 'add_to_cart' | 'remove_from_cart' | 'view_cart' | 'begin_checkout' | 'add_payment_info'
  | 'purchase';

/** The GA4 event types, in the engine's column order. */
export const EVENT_TYPES: readonly EventType[];

/** One shopping event, as the page tracks it. */
export interface IntentEvent {
  /**
   * A GA4 event type, a mapped name from Shopify Web Pixels (`product_viewed`...) or Segment v2
   * (`'Product Viewed'`...), or the shop's own type (1 to 64 bytes, no control characters, no
   * white space at either end).
   * Types the model was not trained on are ignored.
   */
  type: EventType | (string & {});
  /**
   * Milliseconds since the epoch, UTC (fractions dropped); `Date.now()` when absent. One far ahead
   * of the device's clock is tracked with a console warning (the next event timed by the widget
   * then starts a new session).
   */
  ts?: number | Date;
  /** The item id (kept only as a salted hash). At most 256 bytes of UTF-8. */
  item?: string | number;
  /** The category id (kept only as a salted hash). At most 256 bytes of UTF-8. */
  category?: string | number;
  /** Unit price, finite, 0 to 1e9. */
  price?: number;
  /** Whole number, 0 to 1e6. */
  quantity?: number;
  /**
   * The shop's own session id (REES46's `user_session`, a shop's own; not GA4's `ga_session_id`,
   * which page views the widget never sees keep alive): when given, it decides where sessions start.
   */
  session?: string | number;
}

export type Segment = 'low' | 'medium' | 'high';

/** What the engine decided after one event. */
export interface Update {
  /** Probability of a purchase in this session, in [0, 1]. */
  readonly score: number;
  readonly segment: Segment;
  readonly previousSegment: Segment;
  readonly segmentChanged: boolean;
  /** The session has a purchase: the score is 1. */
  readonly converted: boolean;
  /** A type the model was not trained on: stored nowhere, score unchanged. */
  readonly ignored: boolean;
  /** The model scored this event (false for ignored types, the purchase and events after it). */
  readonly scored: boolean;
  /** This event started a new session (first event, a new session id, or more than 30 minutes after the last). */
  readonly newSession: boolean;
  /** Events in the current session. */
  readonly events: number;
  /** Events of the session before its purchase: the prefix the score is for. */
  readonly prefix: number;
}

/** One factor behind the score. */
export interface Factor {
  /** Stable identifier of the factor group, e.g. `'carts'`. */
  readonly factor: string;
  /** Human-readable description. */
  readonly label: string;
  /** Score change when the factor is removed; positive means the factor raises the score. */
  readonly effect: number;
}

/** One point of the current session's score history. */
export interface ScorePoint {
  /** The event's position in the session, from 0 (ignored events take none). */
  readonly position: number;
  readonly type: string;
  readonly score: number;
}

/** What the model's manifest says. */
export interface ModelInfo {
  readonly name: string;
  /** The feature version the model was trained on. */
  readonly featureVersion: number;
  /** W: the last events kept for explanations (the model itself reads the whole session). */
  readonly window: number;
  /** The event types the model was trained on; others are ignored. */
  readonly kinds: readonly string[];
  /** The LSTM's hidden size. */
  readonly hidden: number;
  /** The decision threshold chosen on validation. */
  readonly threshold: number;
  /** The segment thresholds of the manifest. */
  readonly segments: { readonly medium: number; readonly high: number };
}

/** Passed to `'score'` hooks after every event that changed the window. */
export interface ScoreDetail {
  readonly score: number;
  readonly segment: Segment;
  /** The type of the event that produced this score. */
  readonly type: string;
  readonly update: Update;
}

/** Passed to `'segment'` hooks and in the `shopper-intent:segment` window event's `detail`. */
export interface SegmentDetail {
  readonly segment: Segment;
  readonly previousSegment: Segment;
  readonly score: number;
  /**
   * What changed it: an event, a stored state restored (at load; or the page's own, when a
   * session over by the clock is ended in a page that goes on), or `forget()` (announced at
   * every forget of a ready widget, even when the segment stays low); or `'session'`:
   * a new session began (its first event) in the segment the last one ended in, other than
   * `'low'`, so `segment` equals `previousSegment` (a page that enters experiments on this hook
   * sees each session that starts high). A restore is
   * announced before `load()` resolves; a `'segment'` hook registered later, while no other
   * change has come since, is called once with that restore's detail, after the code that
   * registered it.
   */
  readonly cause: 'event' | 'session' | 'restore' | 'forget';
}

/** Passed to `'exposure'` and `'conversion'` hooks. */
export interface ExperimentDetail {
  readonly experiment: string;
  /** The variant shown, or `'holdout'`. */
  readonly variant: string;
  /** The segment and score when it happened. */
  readonly segment: Segment;
  readonly score: number;
}

/** Passed to `'exposure'` hooks: an `ExperimentDetail` and `first`. */
export interface ExposureDetail {
  readonly experiment: string;
  /** The variant shown, or `'holdout'`. */
  readonly variant: string;
  /** The segment and score when it happened. */
  readonly segment: Segment;
  readonly score: number;
  /** Whether this is the shopper's first exposure to the experiment on this device (until `forget()`). */
  readonly first: boolean;
}

export interface HookDetails {
  score: ScoreDetail;
  segment: SegmentDetail;
  exposure: ExposureDetail;
  conversion: ExperimentDetail;
}

/** An experiment on the device. */
export interface ExperimentDefinition<V extends string = string> {
  /** 1 to 64 letters, digits or `_ . : -`. */
  key: string;
  /** Variant names (not `'holdout'` or `'none'`), in order. */
  variants: readonly V[];
  /** One weight per variant, summing to 1; equal when absent. */
  weights?: readonly number[];
  /** A share of shoppers, from 0 to below 1, who get `'holdout'`: never personalize for them. */
  holdout?: number;
  /** Whether the session may enter now; it enters the first time this returns true and stays in. */
  eligible?: (intent: { segment: Segment; score: number }) => boolean;
  /** Fire `'exposure'` as soon as a variant is assigned, instead of at `expose(key)`. */
  autoExpose?: boolean;
}

/**
 * A randomized report about this session (k-ary randomized response, ε-locally differentially
 * private), for the page to send where it wants; the package sends nothing.
 */
export interface PrivateReport {
  /**
   * The value to report: the true value with probability p = e^ε / (e^ε + k − 1), each other of
   * the k `values` with probability q = 1 / (e^ε + k − 1). The same for the rest of the session
   * while the subject, ε and the true value stay the same.
   */
  readonly value: string;
  /**
   * The k values, in the order estimates use: `low, medium, high` for the segment; for an
   * experiment its variants, then `'holdout'` if it has a holdout, then `'none'` (not entered).
   */
  readonly values: readonly string[];
  readonly epsilon: number;
  /**
   * Whether this is the session's first report of the subject (no report of it was drawn
   * before in this session, with any ε or true value). A page that sends only such reports
   * gives the collector one ε-LDP report per session and subject (per tab: tabs of one session
   * opened before either saved a report each have one), and nothing about whether the true value
   * changed later.
   */
  readonly first: boolean;
}

export interface PrivateReportOptions {
  /** The privacy parameter ε, in (0, 20]. Default 1. */
  epsilon?: number;
}

/** The estimated true share of one value. */
export interface ShareEstimate {
  /** The value (a report's `values` entry), or its index when no `values` were given. */
  readonly value: string | number;
  /** π̂ = (c/n − q) / (p − q): unbiased; may fall outside [0, 1] for few reports. */
  readonly share: number;
  /** Its standard error, sqrt(λ̂(1 − λ̂) / n) / (p − q) with λ̂ = c/n. */
  readonly se: number;
  /** The 95% interval: Wilson's score interval for c/n, mapped as share is ((λ − q) / (p − q)). */
  readonly lo: number;
  readonly hi: number;
}

/** What `estimateShares` resolves to. */
export interface ShareEstimates {
  /** The number of reports. */
  readonly n: number;
  readonly epsilon: number;
  /** One estimate per value, in the order of the values. */
  readonly shares: readonly ShareEstimate[];
}

export interface EstimateOptions {
  /** The ε the reports were drawn with. Default 1. */
  epsilon?: number;
  /** A report's `values`: the order of the counts; required when the counts are given by value. */
  values?: readonly string[];
  /** The wasm module: its URL (default: beside the package module), or its bytes (in Node). */
  wasm?: string | URL | BufferSource | WebAssembly.Module;
}

/** A place to keep the saved state: the built-in backends, or an object of your own. */
export interface StorageBackend {
  /** The name `intent.storage` reports and warnings use; `'custom'` without one. */
  readonly kind?: string;
  /** The text kept under `key`; `null` or `undefined` (or a promise of it) when there is none. */
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  /** What `set` and `remove` return is not read, except that a promise is waited for. */
  set(key: string, value: string): unknown;
  remove(key: string): unknown;
}

export type StorageKind = 'local' | 'session' | 'memory';

/**
 * The options. An option of the wrong type is one console warning and its default (`consent`:
 * `'pending'`); an option of another name is one warning, and ignored; a value the engine refuses
 * fails the widget with `BAD_OPTIONS`.
 */
export interface ShopperIntentOptions {
  /** URL of the model's weights file (`.bin`), or of its manifest (`.json`). Required. */
  model: string | URL;
  /** URL of the model's manifest; the model URL with `.json` for `.bin` when absent. */
  manifest?: string | URL;
  /**
   * URL of `shopper_intent_wasm_bg.wasm` (a bundler's `new URL('./shopper_intent_wasm_bg.wasm',
   * import.meta.url)`); `./pkg/` next to this module when absent. The SIMD build is looked for
   * beside it.
   */
  wasm?: string | URL;
  /**
   * Where the state is kept between page loads: a built-in kind or your own backend. Default
   * `'session'`. Forced to `'memory'` when `navigator.globalPrivacyControl` is true; falls back to
   * `'memory'` if the storage throws or rejects.
   */
  storage?: StorageKind | StorageBackend;
  /**
   * `'pending'` holds every event in memory, unstored, until `grantConsent()`. Default
   * `'granted'` (when absent). Any other value, or one that cannot be read, is `'pending'` with a
   * warning: consent is never assumed.
   */
  consent?: 'granted' | 'pending';
  /** Read GA4/GTM `window.dataLayer` (earlier and later pushes, gtag calls). Default true. */
  autoCapture?: boolean;
  /**
   * Push `{event: 'shopper_intent_segment', shopper_intent_segment}` on segment changes, and
   * `{event: 'shopper_intent_exposure' | 'shopper_intent_conversion', shopper_intent_experiment,
   * shopper_intent_variant, shopper_intent_segment}` for experiments, and on exposures
   * `shopper_intent_first_exposure`. Default false.
   */
  dataLayerPush?: boolean;
  /** Segment thresholds; the manifest's when absent. */
  thresholds?: { medium: number; high: number };
  /** Score margin a segment must be crossed by before it changes back. Default 0.02. */
  hysteresis?: number;
  /** The shop's local time for the hour-of-day features, minutes east of UTC within ±1080. Default: the one the model was trained in (its manifest's `utc_offset_min`; UTC if it has none). */
  utcOffsetMinutes?: number;
  /** Days the stored state is kept after it was last saved. Default 30. */
  retentionDays?: number;
  /** Keep the model in the Cache API, keyed by the weights' checksum. Default true. */
  modelCache?: boolean;
  /** How long each download (wasm, manifest, weights), its body included, may take before loading fails. Default 15000. */
  timeoutMs?: number;
  /** `'now'` (default) or `'idle'`: after the page's load event, when the main thread is idle. */
  start?: 'now' | 'idle';
}

/** The code of a `ShopperIntentError`; match on it, never on the message. */
export type ErrorCode =
  | 'INVALID_EVENT' | 'OUT_OF_ORDER' | 'BAD_STATE' | 'BAD_MODEL' | 'MANIFEST_MISMATCH' | 'BAD_OPTIONS'
  | 'LOAD_FAILED' | 'ENGINE_FAILED' | 'BAD_EXPERIMENT' | 'DESTROYED';

export class ShopperIntentError extends Error {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown });
  readonly code: ErrorCode;
}

/** What is stored right now. */
export interface StoredState {
  readonly storage: StorageKind | string;
  readonly key: string;
  /** Characters of the stored text. */
  readonly size: number;
  readonly savedAt: number;
  readonly expiresAt: number;
  /** The engine's binary state: hashed ids, feature rows and the per-device salt. */
  readonly state: Uint8Array;
}

export class ShopperIntent {
  /** Creates the widget and resolves once the engine is ready or has failed (never rejects). */
  static load(options: ShopperIntentOptions): Promise<ShopperIntent>;
  /** Creates the widget at once; events tracked before it is ready are queued. */
  static create(options: ShopperIntentOptions): ShopperIntent;
  /** The exported `estimateShares`. */
  static estimateShares(
    counts: readonly number[] | Readonly<Record<string, number>>,
    options?: EstimateOptions,
  ): Promise<ShareEstimates | null>;

  /** Resolves with this widget once it is ready, has failed, or was destroyed. */
  readonly ready: Promise<ShopperIntent>;
  readonly status: 'loading' | 'ready' | 'failed' | 'destroyed';
  readonly error: { readonly code: ErrorCode; readonly message: string } | null;
  readonly storage: StorageKind | string;
  readonly consent: 'granted' | 'pending';
  /** The segment thresholds in use: the `thresholds` option, else the manifest's (as the engine's 32-bit floats: 0.3 reads 0.30000001192092896). */
  readonly thresholds: { readonly medium: number; readonly high: number } | null;
  /** The loaded model, or `null` until ready. */
  readonly model: ModelInfo | null;
  /** Probability of a purchase in this session, in [0, 1]. */
  readonly score: number;
  readonly segment: Segment;
  /**
   * This session has a purchase (its score is 1): false until ready, without consent, after a
   * failure and once a new session begins. `<html data-shopper-intent-converted="true">` while true.
   */
  readonly converted: boolean;

  /**
   * Tracks one event. Returns the `Update`, or `null` if the event was refused (a console
   * warning names the error code, for the first 20 of each code), queued (loading, consent pending, inside a hook), or the
   * widget failed or was destroyed.
   * Never throws.
   */
  track(event: IntentEvent): Update | null;
  /**
   * Tracks each event in order, as `track()` does, and calls each function among them with the
   * widget, so that a page's `(window.shopperIntent = window.shopperIntent || []).push(event)`
   * works before the snippet has run (an array) and after (the widget), and so does
   * `push((intent) => intent.grantConsent())`. The widget may still be loading then (`await
   * intent.ready` to read a score). A function that throws or rejects is a console error. Never
   * throws.
   */
  push(...events: Array<IntentEvent | ((intent: ShopperIntent) => unknown)>): void;
  /**
   * Registers a hook; returns the function that unregisters it. An event tracked from a hook is
   * queued and scored right after the current hooks. A `'segment'` hook registered after the
   * restore at load (and before any other segment change) is called once with its detail, after
   * the code that registered it.
   */
  on<K extends keyof HookDetails>(name: K, callback: (detail: HookDetails[K]) => void): () => void;
  explain(): Factor[];
  /**
   * The current session's score history, oldest first: its events since the state was restored
   * on this page (a restored state brings its last W events, W the model's window), at most 512.
   * Empty before the first event, and after a restore that found the session over.
   */
  history(): ScorePoint[];
  /**
   * This session's variant (or `'holdout'`), or `null`: while not eligible, after the session's
   * purchase if it had not entered before, before the stored state is read (loading, consent
   * pending), when the widget is not running, with the state in memory before the id was
   * stored (one warning; a storage that fails after the id was stored keeps it), or when the
   * definition is invalid (a console error names `BAD_EXPERIMENT`).
   */
  experiment<V extends string>(definition: ExperimentDefinition<V>): V | typeof HOLDOUT | null;
  /** The page shows experiment `key`'s variant now: fires `'exposure'` once per session; false if not entered, already exposed, or after the session's purchase (a key never defined on this page also warns). */
  expose(key: string): boolean;
  /** The shopper dismissed what experiment `key` shows them: `dismissed(key)` is true for the rest of the session (kept with the state), false in the next one or after `forget()`. Returns whether it was marked now. */
  dismiss(key: string): boolean;
  /** Whether this session dismissed experiment `key` (`dismiss()`). */
  dismissed(key: string): boolean;
  /** The experiments this session entered: `{key: variant}`. */
  assignments(): Readonly<Record<string, string>>;
  /**
   * A randomized report of the segment (`'segment'`) or of this session's variant of an
   * experiment defined on this page (its key; `'none'` when the session has not entered it).
   * `null` while the engine is not running (loading, consent pending, recovering, failed) or the
   * stored state is being read, and,
   * with a console error, for an ε or a subject that is refused. Never throws.
   */
  privateReport(about: 'segment' | (string & {}), options?: PrivateReportOptions): PrivateReport | null;
  /** The segment and the score rounded down to a tenth, as attributes for GrowthBook or Optimizely. */
  attributes(): { readonly intentSegment: Segment; readonly intentScoreBucket: number };
  storedState(): StoredState | null;
  grantConsent(): void;
  /** Consent withdrawn: wipes what the widget kept (as `forget()`) and stops it on this page, saving nothing again; on a destroyed widget, wipes the stored state. */
  withdrawConsent(): void;
  /** Wipes the window, the earlier-session summary, the stored state, the queue and the experiment id; on a destroyed widget, the stored state. */
  forget(): void;
  /** Saves the state, detaches from the page, frees the engine; events still queued while loading are dropped (one warning). */
  destroy(): void;
}

export default ShopperIntent;

/** The storage key the state is saved under. */
export const STATE_KEY: string;
/** Most events queued while loading or waiting for consent. */
export const MAX_QUEUE: number;
/** The variant of holdout shoppers. */
export const HOLDOUT: 'holdout';
/** What a session that has not entered an experiment reports in `privateReport`. */
export const NOT_ENTERED: 'none';
/**
 * The true shares behind counts of `privateReport` reports, by the engine's unbiased estimator.
 * `counts`: one per value in the order of a report's `values`, or `{value: count}` with the
 * `values` option. Resolves to `null` (with a console error) when refused; never rejects.
 */
export function estimateShares(
  counts: readonly number[] | Readonly<Record<string, number>>,
  options?: EstimateOptions,
): Promise<ShareEstimates | null>;
/** A storage backend that keeps the state in this page's memory only. */
export function memoryStore(): StorageBackend;
/** Diagnostics: bytes of the current wasm instance's memory (0 before the engine is loaded). */
export function wasmMemoryBytes(): number;
/** Diagnostics: whether this browser runs WebAssembly SIMD (the package then loads its SIMD build). */
export function simdSupported(): boolean;

/** A GA4 `dataLayer` entry (object push or gtag `arguments`) as an event, or `null`. */
export function fromDataLayer(entry: unknown, ts?: number): IntentEvent | null;

/** A Shopify Web Pixels standard event as an event, or `null`. */
export function fromShopifyPixel(event: {
  name: string;
  timestamp?: string;
  data?: object;
}): IntentEvent | null;

/** A Segment Ecommerce v2 call (`analytics.track(name, properties)`) as an event, or `null`. */
export function fromSegment(name: string, properties?: object, ts?: number): IntentEvent | null;


declare global {
  interface WindowEventMap {
    'shopper-intent:segment': CustomEvent<SegmentDetail>;
  }
  interface Window {
    /**
     * The widget the snippet (`snippet.js`) made, once it has run; before, the page's own array
     * of early events, if it left one (`(window.shopperIntent = window.shopperIntent || []).push(event)`).
     */
    shopperIntent?: ShopperIntent | IntentEvent[];
  }
}
