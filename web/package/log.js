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

/** A name lowercased, with only its letters and digits (`Add-To-Cart` and `add_to_cart` alike). */
const squeezed = (name) => name.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Whether `a` becomes `b` by one letter changed, added, dropped, or two neighbours swapped. */
function oneEditApart(a, b) {
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const rest = (x, y) => a.slice(x) === b.slice(y);
  return rest(i + 1, i + 1) || rest(i + 1, i) || rest(i, i + 1) || (a[i] === b[i + 1] && a[i + 1] === b[i] && rest(i + 2, i + 2));
}

/**
 * The one of `names` that `name` is most likely a misspelling of (the same letters but for case
 * and punctuation, or, from five letters on, one letter away), or `undefined`. For "did you mean"
 * in warnings; a name that is one of `names` has no look-alike.
 */
export function lookalike(name, names) {
  if (names.includes(name)) return undefined;
  const key = squeezed(name);
  return names.find((n) => squeezed(n) === key) ?? (key.length >= 5 ? names.find((n) => oneEditApart(squeezed(n), key)) : undefined);
}
