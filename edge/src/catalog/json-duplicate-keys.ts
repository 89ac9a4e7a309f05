/**
 * Find a key that occurs twice in one JSON object. JSON.parse keeps the last occurrence silently,
 * while other parsers keep the first or refuse: the same signed bytes would mean two things.
 *
 * It follows structure and never validates: on text that is not JSON its answer means nothing, so
 * callers JSON.parse the same text too. String contents are skipped with indexOf; only keys are sliced out.
 */

/** Where the duplicate is: the path of the repeated key, e.g. `["offers", 3, "path"]`. */
export interface DuplicateKey {
  readonly path: readonly (string | number)[];
}

interface Frame {
  /** Keys seen in this object; undefined for an array. */
  readonly keys: string[] | undefined;
  /** The same keys as a set, once the object has more than SMALL_OBJECT_KEYS. */
  large: Set<string> | undefined;
  /** The current key (object) or index (array). */
  at: string | number;
}

/** A linear search beats a Set for the few keys of most snapshot objects (≈2x over 10,000 offers). */
const SMALL_OBJECT_KEYS = 16;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Index of the quote that closes the string whose opening quote is at `start`. */
function stringEnd(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  for (;;) {
    if (end < 0) return text.length; // unterminated: not JSON, which the caller already ruled out
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
}

/** Record `key` in an object's frame; false if it was already there. */
function addKey(frame: Frame, keys: string[], key: string): boolean {
  if (frame.large) {
    if (frame.large.has(key)) return false;
    frame.large.add(key);
    return true;
  }
  if (keys.includes(key)) return false;
  keys.push(key);
  if (keys.length > SMALL_OBJECT_KEYS) frame.large = new Set(keys);
  return true;
}

/** What one pass over a JSON text found. */
export interface KeyScan {
  readonly duplicate: DuplicateKey | undefined;
  /**
   * `[start, end)` of each element of the array under the top-level object's `elementsOf` key, as
   * text offsets (undefined when there is no such array), so each element's exact bytes are known.
   */
  readonly elementSpans: readonly number[] | undefined;
  /** A key's escapes did not parse: the text is not JSON (JSON.parse says where). */
  readonly notJson?: true;
}

/** A key's text between its quotes, unescaped; undefined when its escapes are not JSON's. */
function unescapeKey(token: string): string | undefined {
  try {
    return JSON.parse(token) as string;
  } catch {
    return undefined;
  }
}

/** One pass over `text` (JSON): its first repeated key (compared after unescaping), and the element spans of one top-level array. */
export function scanKeys(text: string, elementsOf?: string): KeyScan {
  const stack: Frame[] = [];
  let top: Frame | undefined;
  let expectKey = false;
  let spanned: Frame | undefined;
  let spans: number[] | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (expectKey && top?.keys) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? unescapeKey(text.slice(i, end + 1)) : raw;
        if (key === undefined) return { duplicate: undefined, elementSpans: undefined, notJson: true };
        if (!addKey(top, top.keys, key)) return { duplicate: { path: [...stack.slice(0, -1).map((f) => f.at), key] }, elementSpans: undefined };
        top.at = key;
        expectKey = false;
      } else if (spanned !== undefined && top === spanned) {
        spans?.push(i, end + 1);
      }
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (spanned !== undefined && top === spanned) spans?.push(i);
      const opened: Frame = { keys: c === OPEN_OBJECT ? [] : undefined, large: undefined, at: 0 };
      if (c === OPEN_ARRAY && stack.length === 1 && top?.at === elementsOf && spans === undefined) {
        spanned = opened;
        spans = [];
      }
      top = opened;
      stack.push(top);
      expectKey = c === OPEN_OBJECT;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      stack.pop();
      top = stack[stack.length - 1];
      if (spanned !== undefined && top === spanned) spans?.push(i + 1);
      expectKey = false;
    } else if (c === COMMA && top) {
      if (top.keys) expectKey = true;
      else top.at = (top.at as number) + 1;
    } else if (c === COLON) {
      expectKey = false;
    }
  }
  return { duplicate: undefined, elementSpans: spans };
}

/** `offers.3.path`, the same spelling as the schema's issue paths. */
export function formatKeyPath(path: readonly (string | number)[]): string {
  return path.map(String).join('.');
}
