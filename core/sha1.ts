/**
 * SHA-1 of a string's UTF-8 bytes, as 40 lowercase hex. Written for the hot
 * paths that hash every record (the scheduler, and a sync push verifying each
 * id): it encodes UTF-8 into one reused buffer (TextEncoder.encodeInto for
 * short texts, a loop in 4 KB runs for long ones) and hashes whole blocks
 * from it with the state in local variables and one loop per round
 * function, so a hash allocates little but its hex result (cheaper than
 * TextEncoder.encode + @noble/hashes, as cheap as Node's native createHash,
 * cheaper than node:crypto in workerd). Synchronous and platform-free, so it
 * runs the same in browsers, workerd and Node. Checked against @noble/hashes
 * and WebCrypto in the tests.
 */

/** Encoded bytes are hashed in runs of whole blocks; 4 bytes of slack hold the last character. */
const BUFFER = 4096;
const buf = new Uint8Array(BUFFER + 4);
const w = new Int32Array(80);
const state = new Int32Array(5);
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Hash the blocks of bytes[0, end) into `state` (module state passed in: locals optimize better). */
function compress(bytes: Uint8Array, w: Int32Array, end: number): void {
  let h0 = state[0]!, h1 = state[1]!, h2 = state[2]!, h3 = state[3]!, h4 = state[4]!;
  for (let o = 0; o < end; o += 64) {
    for (let i = 0; i < 16; i++) {
      const j = o + i * 4;
      w[i] = (bytes[j]! << 24) | (bytes[j + 1]! << 16) | (bytes[j + 2]! << 8) | bytes[j + 3]!;
    }
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4;
    let i = 0;
    for (; i < 20; i++) {
      const t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w[i]!) | 0;
      e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
    }
    for (; i < 40; i++) {
      const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w[i]!) | 0;
      e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
    }
    for (; i < 60; i++) {
      const t = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + 0x8f1bbcdc + w[i]!) | 0;
      e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
    }
    for (; i < 80; i++) {
      const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0xca62c1d6 + w[i]!) | 0;
      e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
    }
    h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0; h4 = (h4 + e) | 0;
  }
  state[0] = h0; state[1] = h1; state[2] = h2; state[3] = h3; state[4] = h4;
}

function hex32(x: number): string {
  return HEX[(x >>> 24) & 255]! + HEX[(x >>> 16) & 255]! + HEX[(x >>> 8) & 255]! + HEX[x & 255]!;
}

/** UTF-16 units whose UTF-8 encoding (at most 3 bytes each) always fits the buffer. */
const SHORT = Math.floor(BUFFER / 3);
const encoder = new TextEncoder();

export function sha1Hex(text: string): string {
  digest(text);
  return hex32(state[0]!) + hex32(state[1]!) + hex32(state[2]!) + hex32(state[3]!) + hex32(state[4]!);
}

/**
 * Whether `hex` is the SHA-1 of `text` as 40 lowercase hex: sha1Hex(text) ===
 * hex, without building the hex text. A push verifies every record's id; the
 * ~20 strings of each hex result were most of its garbage, and the young
 * collections they caused copied the push's freshly parsed records.
 */
export function sha1Matches(text: string, hex: string): boolean {
  if (hex.length !== 40) return false;
  digest(text);
  return wordsMatchHex(state, hex);
}

/** Whether the first 5 words of a digest, as 40 lowercase hex, are `hex` (SHA-1 here, redun's cut SHA-512 too). */
export function wordsMatchHex(words: Int32Array, hex: string): boolean {
  for (let i = 0; i < 5; i++) {
    const word = words[i]!;
    for (let j = 0; j < 8; j++) {
      const nibble = (word >>> (28 - 4 * j)) & 15;
      if (hex.charCodeAt(i * 8 + j) !== (nibble < 10 ? 48 + nibble : 87 + nibble)) return false;
    }
  }
  return true;
}

/** The SHA-1 of `text`'s UTF-8 bytes, into `state`. */
function digest(text: string): void {
  state[0] = 0x67452301; state[1] = 0xefcdab89 | 0; state[2] = 0x98badcfe | 0; state[3] = 0x10325476; state[4] = 0xc3d2e1f0 | 0;
  // Short texts (every record's pre-image but long sources and values) are encoded natively in one
  // call, cheaper than the loop below in Node and in workerd.
  if (text.length <= SHORT) return finish(encoder.encodeInto(text, buf).written, 0);
  const bytes = buf;
  const words = w;
  let n = 0; // bytes in buf
  let total = 0; // bytes hashed before buf
  for (let i = 0; i < text.length; i++) {
    if (n >= BUFFER) {
      compress(bytes, words, BUFFER);
      bytes.copyWithin(0, BUFFER, n);
      n -= BUFFER;
      total += BUFFER;
    }
    let c = text.charCodeAt(i);
    if (c < 0x80) { bytes[n++] = c; continue; }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) { c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00); i++; }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // lone surrogate, as TextEncoder does
    if (c < 0x800) { bytes[n++] = 0xc0 | (c >> 6); bytes[n++] = 0x80 | (c & 63); }
    else if (c < 0x10000) { bytes[n++] = 0xe0 | (c >> 12); bytes[n++] = 0x80 | ((c >> 6) & 63); bytes[n++] = 0x80 | (c & 63); }
    else { bytes[n++] = 0xf0 | (c >> 18); bytes[n++] = 0x80 | ((c >> 12) & 63); bytes[n++] = 0x80 | ((c >> 6) & 63); bytes[n++] = 0x80 | (c & 63); }
  }
  finish(n, total);
}

/** Pad the n bytes in buf (after `total` bytes already hashed) and hash them: 0x80, zeros, and the length in bits as 64 bits big-endian, to a whole block. */
function finish(n: number, total: number): void {
  const bytes = buf;
  const words = w;
  if (n > BUFFER - 72) {
    const full = n & ~63;
    compress(bytes, words, full);
    bytes.copyWithin(0, full, n);
    n -= full;
    total += full;
  }
  const bits = (total + n) * 8;
  bytes[n++] = 0x80;
  const end = (n + 8 + 63) & ~63;
  bytes.fill(0, n, end - 8);
  const hi = Math.floor(bits / 2 ** 32);
  const lo = bits >>> 0;
  bytes[end - 8] = hi >>> 24; bytes[end - 7] = hi >>> 16; bytes[end - 6] = hi >>> 8; bytes[end - 5] = hi;
  bytes[end - 4] = lo >>> 24; bytes[end - 3] = lo >>> 16; bytes[end - 2] = lo >>> 8; bytes[end - 1] = lo;
  compress(bytes, words, end);
}
