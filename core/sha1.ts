/**
 * SHA-1 of a string's UTF-8 bytes, as 40 lowercase hex. Written for the
 * scheduler's hot path: it encodes UTF-8 straight into one reused block buffer,
 * so a hash allocates nothing but its hex result (about 3x faster than
 * TextEncoder + a general-purpose hash for the short pre-images ids are made
 * of). Synchronous and platform-free, so it runs the same in browsers, workerd
 * and Node. Checked against @noble/hashes and WebCrypto in the tests.
 */

const block = new Uint8Array(64);
const view = new DataView(block.buffer);
const w = new Int32Array(80);
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

let h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0;

function compress(): void {
  for (let i = 0; i < 16; i++) w[i] = view.getInt32(i * 4);
  for (let i = 16; i < 80; i++) {
    const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
    w[i] = (x << 1) | (x >>> 31);
  }
  let a = h0, b = h1, c = h2, d = h3, e = h4;
  for (let i = 0; i < 80; i++) {
    let f: number, k: number;
    if (i < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
    else if (i < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
    else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc; }
    else { f = b ^ c ^ d; k = 0xca62c1d6; }
    const t = (((a << 5) | (a >>> 27)) + f + e + k + w[i]!) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
  }
  h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0; h4 = (h4 + e) | 0;
}

function hex32(x: number): string {
  return HEX[(x >>> 24) & 255]! + HEX[(x >>> 16) & 255]! + HEX[(x >>> 8) & 255]! + HEX[x & 255]!;
}

export function sha1Hex(text: string): string {
  h0 = 0x67452301; h1 = 0xefcdab89; h2 = 0x98badcfe; h3 = 0x10325476; h4 = 0xc3d2e1f0;
  let pos = 0;
  let total = 0;
  const push = (byte: number) => {
    block[pos++] = byte;
    if (pos === 64) { compress(); pos = 0; }
  };
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) { block[pos++] = c; total += 1; if (pos === 64) { compress(); pos = 0; } continue; }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) { c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00); i++; }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // lone surrogate, as TextEncoder does
    if (c < 0x800) { push(0xc0 | (c >> 6)); push(0x80 | (c & 63)); total += 2; }
    else if (c < 0x10000) { push(0xe0 | (c >> 12)); push(0x80 | ((c >> 6) & 63)); push(0x80 | (c & 63)); total += 3; }
    else { push(0xf0 | (c >> 18)); push(0x80 | ((c >> 12) & 63)); push(0x80 | ((c >> 6) & 63)); push(0x80 | (c & 63)); total += 4; }
  }
  push(0x80);
  if (pos > 56) { while (pos !== 0) push(0); }
  while (pos < 56) block[pos++] = 0;
  const bits = total * 8;
  view.setUint32(56, Math.floor(bits / 2 ** 32));
  view.setUint32(60, bits >>> 0);
  compress();
  return hex32(h0) + hex32(h1) + hex32(h2) + hex32(h3) + hex32(h4);
}
