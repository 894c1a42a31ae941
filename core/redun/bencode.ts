/**
 * bencode as redun writes it (redun/bcoding.py): integers `i<n>e` (booleans
 * refused), strings and bytes `<length>:<UTF-8 bytes>`, lists `l...e`, dicts
 * `d...e` with keys sorted. Encodes into one reused, growing buffer, since
 * every verified tag id goes through here.
 */

/** What bencode takes: Python's str, bytes, int, list and dict with str keys. */
export type BValue = string | number | bigint | Uint8Array | readonly BValue[] | { readonly [key: string]: BValue };

const encoder = new TextEncoder();
let buf = new Uint8Array(4096);
let pos = 0;

function reserve(n: number): void {
  if (pos + n <= buf.length) return;
  let size = buf.length * 2;
  while (size < pos + n) size *= 2;
  const bigger = new Uint8Array(size);
  bigger.set(buf.subarray(0, pos));
  buf = bigger;
}

function ascii(text: string): void {
  reserve(text.length);
  for (let i = 0; i < text.length; i++) buf[pos++] = text.charCodeAt(i);
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

function str(text: string): void {
  if (isAscii(text)) {
    ascii(`${text.length}:`);
    ascii(text);
    return;
  }
  // Encode past the longest length prefix, then move the bytes behind the real one.
  reserve(text.length * 3 + 24);
  const at = pos + 24;
  const { written } = encoder.encodeInto(text, buf.subarray(at));
  ascii(`${written}:`);
  buf.copyWithin(pos, at, at + written);
  pos += written;
}

function bytes(data: Uint8Array): void {
  ascii(`${data.length}:`);
  reserve(data.length);
  buf.set(data, pos);
  pos += data.length;
}

/** Python's str ordering: by code point (UTF-16 order differs only around surrogates). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff, ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1; // a surrogate (a code point >= 0x10000) sorts after 0xe000-0xffff
    return x - y;
  }
  return a.length - b.length;
}

function value(v: BValue): void {
  if (typeof v === "string") return str(v);
  if (typeof v === "number") {
    if (!Number.isInteger(v)) throw new TypeError(`bencode: not an integer: ${v}`);
    return ascii(`i${BigInt(v)}e`);
  }
  if (typeof v === "bigint") return ascii(`i${v}e`);
  if (v instanceof Uint8Array) return bytes(v);
  if (Array.isArray(v)) {
    ascii("l");
    for (const item of v as readonly BValue[]) value(item);
    return ascii("e");
  }
  if (typeof v === "object" && v !== null) {
    ascii("d");
    const map = v as { readonly [key: string]: BValue };
    for (const key of Object.keys(map).sort(compareCodePoints)) {
      str(key);
      value(map[key]!);
    }
    return ascii("e");
  }
  throw new TypeError(`bencode: cannot encode ${typeof v}`);
}

/**
 * Encode into the shared buffer and hand its bytes to `use` (valid only
 * during the call: the next encoding reuses them).
 */
export function withBencoded<T>(v: BValue, use: (bytes: Uint8Array, length: number) => T): T {
  pos = 0;
  value(v);
  return use(buf, pos);
}

/** bencode(v) as a fresh array. */
export function bencode(v: BValue): Uint8Array {
  return withBencoded(v, (b, n) => b.slice(0, n));
}
