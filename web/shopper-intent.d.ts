// The TypeScript surface of shopper-intent, the one place its types are declared.
// Checked by `tsc --noEmit` in tests/browser/typescript.test.mjs against web/types-check.ts.

/** An event type in the GA4 ecommerce vocabulary (the engine also accepts mapped names). */
export type EventType =
  | 'page_view' | 'view_item_list' | 'select_item' | 'view_item' | 'search' | 'add_to_wishlist'
  | 'add_to_cart' | 'remove_from_cart' | 'view_cart' | 'begin_checkout' | 'add_payment_info'
  | 'purchase';

/** The GA4 event types the engine knows, in a stable order. */
export const EVENT_TYPES: readonly EventType[];

/** One shopping event, as the page tracks it. */
export interface IntentEvent {
  /**
   * A GA4 event type, or a mapped name from Shopify Web Pixels (`product_viewed`...) or
   * Segment v2 (`'Product Viewed'`...). Types the model was not trained on are ignored.
   */
  type: EventType | (string & {});
  /** Milliseconds since the epoch; `Date.now()` when absent. */
  ts?: number | Date;
  /** The item id (kept only as a salted hash). At most 256 characters. */
  item?: string | number;
  /** The category id (kept only as a salted hash). At most 256 characters. */
  category?: string | number;
  /** Unit price, finite and >= 0. */
  price?: number;
  /** Whole number >= 0. */
  quantity?: number;
}

export type Segment = 'low' | 'medium' | 'high';

/** What the engine decided after one event. */
export interface Update {
  /** The segment thresholds in use: the `thresholds` option, else the manifest's. */
  readonly thresholds: { readonly medium: number; readonly high: number } | null;
  /** The loaded model, or `null` until ready. */
  readonly model: ModelInfo | null;
  /** Probability of a purchase in this session, in [0, 1]. */
  readonly score: number;
  readonly segment: Segment;
  readonly previousSegment: Segment;
  readonly segmentChanged: boolean;
  /** The session has a purchase: the score is 1. */
  readonly converted: boolean;
  /** A type the model was not trained on: stored nowhere, score unchanged. */
  readonly ignored: boolean;
  /** This event started a new session (first event, or more than 30 minutes after the last). */
  readonly newSession: boolean;
  /** Events in the current session. */
  readonly events: number;
}

/** One factor behind the score. */
export interface Factor {
  /** Stable identifier of the factor group, e.g. `'cart'`. */
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
  /** W: the events the model reads. */
  readonly window: number;
  /** The event types the model was trained on; others are ignored. */
  readonly kinds: readonly string[];
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
  /** What changed it: an event, the stored state restored at load, or `forget()`. */
  readonly cause: 'event' | 'restore' | 'forget';
}

export interface HookDetails {
  score: ScoreDetail;
  segment: SegmentDetail;
}

export type StorageKind = 'local' | 'session' | 'memory';

export interface ShopperIntentOptions {
  /** URL of the ONNX model. Required. */
  model: string;
  /** URL of the model's manifest; the model URL with `.json` for `.onnx` when absent. */
  manifest?: string;
  /** URL of `shopper_intent_wasm_bg.wasm`; `./pkg/` next to this module when absent. */
  wasm?: string;
  /**
   * Where the state is kept between page loads. Default `'session'`. Forced to `'memory'` when
   * `navigator.globalPrivacyControl` is true; falls back to `'memory'` if the storage throws.
   */
  storage?: StorageKind;
  /** `'pending'` holds every event in memory, unstored, until `grantConsent()`. Default `'granted'`. */
  consent?: 'granted' | 'pending';
  /** Read GA4/GTM `window.dataLayer` (earlier and later pushes, gtag calls). Default true. */
  autoCapture?: boolean;
  /** Push `{event: 'shopper_intent_segment', shopper_intent_segment}` on segment changes. Default false. */
  dataLayerPush?: boolean;
  /** Segment thresholds; the manifest's when absent. */
  thresholds?: { medium: number; high: number };
  /** Score margin a segment must be crossed by before it changes back. Default 0.02. */
  hysteresis?: number;
  /** Shop-local time offset for the hour-of-day features. */
  utcOffsetMinutes?: number;
  /** Days the stored state is kept after the last event. Default 30. */
  retentionDays?: number;
  /** Keep the model in the Cache API, keyed by the manifest's digest. Default true. */
  modelCache?: boolean;
  /** `'now'` (default) or `'idle'`: after the page's load event, when the main thread is idle. */
  start?: 'now' | 'idle';
}

/** The code of a `ShopperIntentError`; match on it, never on the message. */
export type ErrorCode =
  | 'INVALID_EVENT' | 'OUT_OF_ORDER' | 'BAD_STATE' | 'BAD_MODEL' | 'MANIFEST_MISMATCH' | 'BAD_OPTIONS'
  | 'LOAD_FAILED' | 'ENGINE_FAILED' | 'DESTROYED';

export class ShopperIntentError extends Error {
  readonly code: ErrorCode;
}

/** What is stored right now. */
export interface StoredState {
  readonly storage: StorageKind;
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

  /** Resolves with this widget once it is ready, has failed, or was destroyed. */
  readonly ready: Promise<ShopperIntent>;
  readonly status: 'loading' | 'ready' | 'failed' | 'destroyed';
  readonly error: { readonly code: ErrorCode; readonly message: string } | null;
  readonly storage: StorageKind;
  readonly consent: 'granted' | 'pending';
  /** The segment thresholds in use: the `thresholds` option, else the manifest's. */
  readonly thresholds: { readonly medium: number; readonly high: number } | null;
  /** The loaded model, or `null` until ready. */
  readonly model: ModelInfo | null;
  /** Probability of a purchase in this session, in [0, 1]. */
  readonly score: number;
  readonly segment: Segment;

  /**
   * Tracks one event. Returns the `Update`, or `null` if the event was refused (a console
   * warning names the error code) or queued (loading, consent pending, inside a hook).
   * Never throws.
   */
  track(event: IntentEvent): Update | null;
  /** Registers a hook; returns the function that unregisters it. */
  on<K extends keyof HookDetails>(name: K, callback: (detail: HookDetails[K]) => void): () => void;
  explain(): Factor[];
  history(): ScorePoint[];
  storedState(): StoredState | null;
  grantConsent(): void;
  /** Wipes the window, the history summary, the stored state and the queue. */
  forget(): void;
  /** Saves the state, detaches from the page, frees the engine. */
  destroy(): void;
}

export default ShopperIntent;

/** The storage key the state is saved under. */
export const STATE_KEY: string;
/** Most events queued while loading or waiting for consent. */
export const MAX_QUEUE: number;

/** A GA4 `dataLayer` entry (object push or gtag `arguments`) as an event, or `null`. */
export function fromDataLayer(entry: unknown, ts?: number): IntentEvent | null;

/** A Shopify Web Pixels standard event as an event, or `null`. */
export function fromShopifyPixel(event: {
  name: string;
  timestamp?: string;
  data?: Record<string, unknown>;
}): IntentEvent | null;

/** A Segment Ecommerce v2 call (`analytics.track(name, properties)`) as an event, or `null`. */
export function fromSegment(name: string, properties?: Record<string, unknown>, ts?: number): IntentEvent | null;

/** Checks an event's shape and fills `ts`; throws `ShopperIntentError` `INVALID_EVENT`. */
export function normalizeEvent(event: unknown): IntentEvent & { ts: number };

export function toBase64(bytes: Uint8Array): string;
export function fromBase64(text: string): Uint8Array;
/** Runs `fn` after the page's load event, when the main thread is idle. */
export function whenIdle(fn: () => void): void;

declare global {
  interface WindowEventMap {
    'shopper-intent:segment': CustomEvent<SegmentDetail>;
  }
  interface Window {
    /** The widget the snippet (`snippet.js`) made, once it has run. */
    shopperIntent?: ShopperIntent;
  }
}
