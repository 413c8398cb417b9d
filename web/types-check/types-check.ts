// Uses the public surface the way a storefront would, so that `tsc --noEmit` checks
// shopper-intent.d.ts for real. Never run; lines marked @ts-expect-error must stay errors.
import ShopperIntentDefault, {
  ShopperIntent,
  ShopperIntentError,
  fromSegment,
  fromShopifyPixel,
  fromDataLayer,
  EVENT_TYPES,
  STATE_KEY,
  type IntentEvent,
  type Update,
  type Segment,
  type Factor,
  type ScorePoint,
  type SegmentDetail,
  type ErrorCode,
  type ExperimentDetail,
  type ModelInfo,
  type StoredState,
  HOLDOUT,
  NOT_ENTERED,
  estimateShares,
  type PrivateReport,
  type ShareEstimates,
  type StorageBackend,
} from '../package/shopper-intent.js';

// Storage backends as the usual libraries make them: answers of `undefined` for a key never
// written (idb-keyval, a Map), writes that resolve to the value or return the map (localforage).
declare function idbGet<T>(key: string): Promise<T | undefined>;
declare function idbSet(key: string, value: string): Promise<void>;
declare const localforage: { setItem(key: string, value: string): Promise<string>; removeItem(key: string): Promise<void> };
const kept = new Map<string, string>();
const idb: StorageBackend = { kind: 'indexeddb', get: (k) => idbGet<string>(k), set: (k, v) => idbSet(k, v), remove: (k) => localforage.removeItem(k) };
const forage: StorageBackend = { get: (k) => idbGet<string>(k), set: (k, v) => localforage.setItem(k, v), remove: (k) => localforage.removeItem(k) };
const map: StorageBackend = { get: (k) => kept.get(k), set: (k, v) => kept.set(k, v), remove: (k) => kept.delete(k) };
void idb; void forage; void map;

async function storefront(): Promise<void> {
  const intent: ShopperIntent = await ShopperIntent.load({
    model: '/models/intent.bin',
    manifest: '/models/intent.json',
    wasm: '/pkg/shopper_intent_wasm_bg.wasm',
    storage: 'local',
    consent: 'pending',
    autoCapture: true,
    dataLayerPush: false,
    thresholds: { medium: 0.3, high: 0.6 },
    hysteresis: 0.02,
    utcOffsetMinutes: 60,
  });
  const same: typeof ShopperIntent = ShopperIntentDefault;
  void same;

  const update: Update | null = intent.track({ type: 'view_item', item: 'sku-1', category: 'shoes', price: 59 });
  if (update) {
    const s: number = update.score;
    const seg: Segment = update.segment;
    const changed: boolean = update.segmentChanged;
    void s; void seg; void changed;
  }
  intent.track({ type: 'Product Added', ts: new Date(), item: 42, quantity: 2 });

  const offScore: () => void = intent.on('score', (d) => {
    const n: number = d.score;
    const t: string = d.type;
    const u: Update = d.update;
    void n; void t; void u;
  });
  const offSegment = intent.on('segment', (d: SegmentDetail) => {
    const cause: 'event' | 'session' | 'restore' | 'forget' = d.cause;
    if (d.segment === 'high') document.body.classList.add('offer');
    void cause;
  });
  offScore();
  offSegment();

  addEventListener('shopper-intent:segment', (e) => {
    const seg: Segment = e.detail.segment;
    void seg;
  });

  const factors: Factor[] = intent.explain();
  const points: ScorePoint[] = intent.history();
  const top: string | undefined = factors[0]?.label;
  const last: number | undefined = points.at(-1)?.score;
  const position: number | undefined = points[0]?.position;
  const modelWindow: number | undefined = intent.model?.window;
  void position; void modelWindow;
  void top; void last;

  const variant: string | null = intent.experiment({
    key: 'offer', variants: ['control', 'treatment'], weights: [0.5, 0.5], holdout: 0.1,
    eligible: ({ segment }) => segment === 'high',
  });
  if (variant !== null && variant !== HOLDOUT) intent.expose('offer');
  // The variant's type is the union of the names given (and the holdout).
  const arm = intent.experiment({ key: 'banner', variants: ['control', 'treatment'], holdout: 0.1 });
  const named: 'control' | 'treatment' | 'holdout' | null = arm;
  // @ts-expect-error: 'tratment' is not one of its variants.
  if (arm === 'tratment') intent.expose('banner');
  void named;
  const entered: Readonly<Record<string, string>> = intent.assignments();
  const offExposure = intent.on('exposure', (d: ExperimentDetail) => {
    const v: string = d.variant;
    const seg: Segment = d.segment;
    void v; void seg;
  });
  offExposure();
  const attrs = intent.attributes();
  const bucket: number = attrs.intentScoreBucket;
  const info: ModelInfo | null = intent.model;
  void entered; void bucket; void info;

  const report: PrivateReport | null = intent.privateReport('segment', { epsilon: 1 });
  const offerReport = intent.privateReport('offer');
  if (report && offerReport) {
    const value: string = report.value;
    const values: readonly string[] = offerReport.values;
    const none: boolean = offerReport.value === NOT_ENTERED;
    void value; void values; void none;
  }
  const estimate: ShareEstimates | null = await estimateShares({ low: 610, medium: 250, high: 140 }, { epsilon: 1, values: ['low', 'medium', 'high'] });
  const high: number | undefined = estimate?.shares[2]?.share;
  const fromArray = await ShopperIntent.estimateShares([610, 250, 140], { wasm: new Uint8Array(8) });
  void high; void fromArray;
  // @ts-expect-error: epsilon is a number.
  intent.privateReport('segment', { epsilon: '1' });
  // @ts-expect-error: variants are names, not numbers.
  intent.experiment({ key: 'k', variants: [1, 2] });

  const stored: StoredState | null = intent.storedState();
  if (stored) {
    const bytes: Uint8Array = stored.state;
    void bytes;
  }
  const key: string = STATE_KEY;
  void key;

  if (intent.status === 'failed' && intent.error) {
    const code: ErrorCode = intent.error.code;
    void code;
  }
  intent.grantConsent();
  intent.forget();
  intent.destroy();

  const a: IntentEvent | null = fromShopifyPixel({ name: 'product_viewed', data: {} });
  const b: IntentEvent | null = fromSegment('Order Completed', { products: [] });
  // Events and properties typed by the platforms' own interfaces (no index signature).
  interface ProductViewed { name: 'product_viewed'; id: string; timestamp: string; data: { productVariant: { id: string; price: { amount: number } } } }
  interface ProductAdded { product_id: string; price: number; quantity: number }
  const viewed: ProductViewed = { name: 'product_viewed', id: 'e1', timestamp: '2026-12-03T10:00:00Z', data: { productVariant: { id: 'v1', price: { amount: 9 } } } };
  const added: ProductAdded = { product_id: 'p1', price: 9, quantity: 1 };
  void fromShopifyPixel(viewed);
  void fromSegment('Product Added', added);
  const c: IntentEvent | null = fromDataLayer({ event: 'add_to_cart' });
  const types: readonly string[] = EVENT_TYPES;
  void a; void b; void c; void types;

  const early = ShopperIntent.create({ model: '/models/intent.bin', start: 'idle' });
  await early.ready;
  // Before the snippet has run, the page may keep its early events there, and push either way.
  (window.shopperIntent = window.shopperIntent || []).push({ type: 'view_item', item: 'sku-1' });
  const installed = window.shopperIntent;
  if (installed && !Array.isArray(installed)) installed.track({ type: 'view_cart' });
  early.push({ type: 'view_item' }, { type: 'add_to_cart', quantity: 1 });
  const bundled = await ShopperIntent.load({ model: new URL('/models/intent.bin', location.href), wasm: new URL('./pkg/shopper_intent_wasm_bg.wasm', import.meta.url) });
  void bundled;

  try {
    await import('../package/shopper-intent.js');
  } catch (e: unknown) {
    if (e instanceof ShopperIntentError && e.code === 'INVALID_EVENT') console.warn(e.message);
  }

  // @ts-expect-error: the model URL is required.
  await ShopperIntent.load({});
  // @ts-expect-error: there is no 'cookie' storage.
  await ShopperIntent.load({ model: '/m.bin', storage: 'cookie' });
  // @ts-expect-error: a price is a number.
  intent.track({ type: 'view_item', price: '59' });
  // @ts-expect-error: hooks are 'score', 'segment', 'exposure' and 'conversion'.
  intent.on('purchase', () => {});
  // @ts-expect-error: score is read-only.
  intent.score = 1;
}

void storefront;
