// The package's one way to write to the console.
//
// Pages replace console methods with their own: an error reporter forwards each message to its
// service, and throws when that service's script was blocked (an ad blocker) or not loaded yet. A
// message the widget cannot write is dropped: it never stops the work it reports on (a failed
// load still resolves `load()`, `track()` still returns), and never reaches the page as an error.

export const TAG = '[shopper-intent]';

function say(level, args) {
  try {
    globalThis.console?.[level]?.(...args);
  } catch {
    // The page's console threw; the message is lost, the widget goes on.
  }
}

/** `console.warn` that never throws. */
export const logWarn = (...args) => say('warn', args);
/** `console.error` that never throws. */
export const logError = (...args) => say('error', args);
/** `console.info` that never throws. */
export const logInfo = (...args) => say('info', args);

/** How many warnings of one repeated kind (events refused with one code) a widget writes (a widget created again counts afresh). */
export const REPEATED_WARNINGS = 20;

/**
 * Warnings that can repeat without end (one per refused event): of each kind, the first
 * `REPEATED_WARNINGS` are said, and the one after them says that the rest go unreported. A page
 * that pushes the same malformed event on every scroll would otherwise fill its console. Returns
 * `(kind, message) => void`; `kind` names them in the plural ("events refused as INVALID_EVENT").
 */
export function limitedWarn() {
  const said = new Map();
  return (kind, message) => {
    const n = (said.get(kind) ?? 0) + 1;
    said.set(kind, n);
    if (n <= REPEATED_WARNINGS) logWarn(message);
    else if (n === REPEATED_WARNINGS + 1) logWarn(`${TAG} more ${kind}: this widget reported the first ${REPEATED_WARNINGS}, and reports no more`);
  };
}

/**
 * The name of a thrown value for a message (`TypeError`, or its type: `string`), which never
 * throws itself: a page may throw a revoked Proxy, or an object whose `name` is a getter that
 * throws or a Symbol.
 */
export function errorName(e) {
  try {
    const name = e?.name;
    return typeof name === 'string' && name !== '' ? name.slice(0, 60) : typeof e;
  } catch {
    return 'an unreadable value';
  }
}
