/**
 * SHA-512 over bytes, cut to the 40 hex characters redun keeps
 * (redun/hashing.py: `Hash` is `sha512(...).hexdigest()[:40]`). Written for
 * the hot path of a sync push, which verifies every tag's id: the state lives
 * in local variables as 32-bit halves, the message schedule in one reused
 * Int32Array, and `sha512Matches40` compares a digest with an id without
 * building a hex string. Synchronous and platform-free (browsers, workerd,
 * Node), checked against node:crypto in the tests.
 */
import { wordsMatchHex } from "../sha1.ts";

/** The 80 round constants, 64 bits each as 16 hex digits (FIPS 180-4). */
const K_HEX =
  "428a2f98d728ae227137449123ef65cdb5c0fbcfec4d3b2fe9b5dba58189dbbc" +
  "3956c25bf348b53859f111f1b605d019923f82a4af194f9bab1c5ed5da6d8118" +
  "d807aa98a303024212835b0145706fbe243185be4ee4b28c550c7dc3d5ffb4e2" +
  "72be5d74f27b896f80deb1fe3b1696b19bdc06a725c71235c19bf174cf692694" +
  "e49b69c19ef14ad2efbe4786384f25e30fc19dc68b8cd5b5240ca1cc77ac9c65" +
  "2de92c6f592b02754a7484aa6ea6e4835cb0a9dcbd41fbd476f988da831153b5" +
  "983e5152ee66dfaba831c66d2db43210b00327c898fb213fbf597fc7beef0ee4" +
  "c6e00bf33da88fc2d5a79147930aa72506ca6351e003826f142929670a0e6e70" +
  "27b70a8546d22ffc2e1b21385c26c9264d2c6dfc5ac42aed53380d139d95b3df" +
  "650a73548baf63de766a0abb3c77b2a881c2c92e47edaee692722c851482353b" +
  "a2bfe8a14cf10364a81a664bbc423001c24b8b70d0f89791c76c51a30654be30" +
  "d192e819d6ef5218d69906245565a910f40e35855771202a106aa07032bbd1b8" +
  "19a4c116b8d2d0c81e376c085141ab532748774cdf8eeb9934b0bcb5e19b48a8" +
  "391c0cb3c5c95a634ed8aa4ae3418acb5b9cca4f7763e373682e6ff3d6b2b8a3" +
  "748f82ee5defb2fc78a5636f43172f6084c87814a1f0ab728cc702081a6439ec" +
  "90befffa23631e28a4506cebde82bde9bef9a3f7b2c67915c67178f2e372532b" +
  "ca273eceea26619cd186b8c721c0c207eada7dd6cde0eb1ef57d4f7fee6ed178" +
  "06f067aa72176fba0a637dc5a2c898a6113f9804bef90dae1b710b35131c471b" +
  "28db77f523047d8432caab7b40c724933c9ebe0a15c9bebc431d67c49c100d4c" +
  "4cc5d4becb3e42b6597f299cfc657e2a5fcb6fab3ad6faec6c44198c4a475817";

const K = new Int32Array(160);
for (let i = 0; i < 160; i++) K[i] = parseInt(K_HEX.slice(i * 8, i * 8 + 8), 16) | 0;

/** Initial hash value, as (high, low) halves. */
const IV = [
  0x6a09e667, 0xf3bcc908, 0xbb67ae85, 0x84caa73b, 0x3c6ef372, 0xfe94f82b, 0xa54ff53a, 0x5f1d36f1,
  0x510e527f, 0xade682d1, 0x9b05688c, 0x2b3e6c1f, 0x1f83d9ab, 0xfb41bd6b, 0x5be0cd19, 0x137e2179,
].map((x) => x | 0);

const W = new Int32Array(160);
const H = new Int32Array(16);
/** The padded last block(s). */
const tail = new Uint8Array(256);
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const TWO32 = 4294967296;

/** Hash the 128-byte blocks of bytes[start, end) into H. */
function compress(b: Uint8Array, start: number, end: number): void {
  const w = W;
  const k = K;
  let ah = H[0]!, al = H[1]!, bh = H[2]!, bl = H[3]!, ch = H[4]!, cl = H[5]!, dh = H[6]!, dl = H[7]!;
  let eh = H[8]!, el = H[9]!, fh = H[10]!, fl = H[11]!, gh = H[12]!, gl = H[13]!, hh = H[14]!, hl = H[15]!;
  for (let o = start; o < end; o += 128) {
    for (let i = 0; i < 32; i++) {
      const j = o + i * 4;
      w[i] = (b[j]! << 24) | (b[j + 1]! << 16) | (b[j + 2]! << 8) | b[j + 3]!;
    }
    for (let i = 32; i < 160; i += 2) {
      const xh = w[i - 30]!, xl = w[i - 29]!;
      const s0h = ((xh >>> 1) | (xl << 31)) ^ ((xh >>> 8) | (xl << 24)) ^ (xh >>> 7);
      const s0l = ((xl >>> 1) | (xh << 31)) ^ ((xl >>> 8) | (xh << 24)) ^ ((xl >>> 7) | (xh << 25));
      const yh = w[i - 4]!, yl = w[i - 3]!;
      const s1h = ((yh >>> 19) | (yl << 13)) ^ ((yl >>> 29) | (yh << 3)) ^ (yh >>> 6);
      const s1l = ((yl >>> 19) | (yh << 13)) ^ ((yh >>> 29) | (yl << 3)) ^ ((yl >>> 6) | (yh << 26));
      const l = (s0l >>> 0) + (s1l >>> 0) + (w[i - 31]! >>> 0) + (w[i - 13]! >>> 0);
      w[i] = s0h + s1h + w[i - 32]! + w[i - 14]! + ((l / TWO32) | 0);
      w[i + 1] = l | 0;
    }
    let Ah = ah, Al = al, Bh = bh, Bl = bl, Ch = ch, Cl = cl, Dh = dh, Dl = dl;
    let Eh = eh, El = el, Fh = fh, Fl = fl, Gh = gh, Gl = gl, Hh = hh, Hl = hl;
    for (let i = 0; i < 160; i += 2) {
      const S1h = ((Eh >>> 14) | (El << 18)) ^ ((Eh >>> 18) | (El << 14)) ^ ((El >>> 9) | (Eh << 23));
      const S1l = ((El >>> 14) | (Eh << 18)) ^ ((El >>> 18) | (Eh << 14)) ^ ((Eh >>> 9) | (El << 23));
      const chh = (Eh & Fh) ^ (~Eh & Gh);
      const chl = (El & Fl) ^ (~El & Gl);
      const t1l = (Hl >>> 0) + (S1l >>> 0) + (chl >>> 0) + (k[i + 1]! >>> 0) + (w[i + 1]! >>> 0);
      const t1h = Hh + S1h + chh + k[i]! + w[i]! + ((t1l / TWO32) | 0);
      const S0h = ((Ah >>> 28) | (Al << 4)) ^ ((Al >>> 2) | (Ah << 30)) ^ ((Al >>> 7) | (Ah << 25));
      const S0l = ((Al >>> 28) | (Ah << 4)) ^ ((Ah >>> 2) | (Al << 30)) ^ ((Ah >>> 7) | (Al << 25));
      const majh = (Ah & Bh) ^ (Ah & Ch) ^ (Bh & Ch);
      const majl = (Al & Bl) ^ (Al & Cl) ^ (Bl & Cl);
      const t2l = (S0l >>> 0) + (majl >>> 0);
      const t2h = S0h + majh + ((t2l / TWO32) | 0);
      Hh = Gh; Hl = Gl; Gh = Fh; Gl = Fl; Fh = Eh; Fl = El;
      const nel = (Dl >>> 0) + ((t1l | 0) >>> 0);
      Eh = (Dh + t1h + ((nel / TWO32) | 0)) | 0;
      El = nel | 0;
      Dh = Ch; Dl = Cl; Ch = Bh; Cl = Bl; Bh = Ah; Bl = Al;
      const nal = ((t1l | 0) >>> 0) + ((t2l | 0) >>> 0);
      Ah = (t1h + t2h + ((nal / TWO32) | 0)) | 0;
      Al = nal | 0;
    }
    let s: number;
    s = (al >>> 0) + (Al >>> 0); ah = (ah + Ah + ((s / TWO32) | 0)) | 0; al = s | 0;
    s = (bl >>> 0) + (Bl >>> 0); bh = (bh + Bh + ((s / TWO32) | 0)) | 0; bl = s | 0;
    s = (cl >>> 0) + (Cl >>> 0); ch = (ch + Ch + ((s / TWO32) | 0)) | 0; cl = s | 0;
    s = (dl >>> 0) + (Dl >>> 0); dh = (dh + Dh + ((s / TWO32) | 0)) | 0; dl = s | 0;
    s = (el >>> 0) + (El >>> 0); eh = (eh + Eh + ((s / TWO32) | 0)) | 0; el = s | 0;
    s = (fl >>> 0) + (Fl >>> 0); fh = (fh + Fh + ((s / TWO32) | 0)) | 0; fl = s | 0;
    s = (gl >>> 0) + (Gl >>> 0); gh = (gh + Gh + ((s / TWO32) | 0)) | 0; gl = s | 0;
    s = (hl >>> 0) + (Hl >>> 0); hh = (hh + Hh + ((s / TWO32) | 0)) | 0; hl = s | 0;
  }
  H[0] = ah; H[1] = al; H[2] = bh; H[3] = bl; H[4] = ch; H[5] = cl; H[6] = dh; H[7] = dl;
  H[8] = eh; H[9] = el; H[10] = fh; H[11] = fl; H[12] = gh; H[13] = gl; H[14] = hh; H[15] = hl;
}

/** SHA-512 of bytes[0, length) into H. */
function digest(bytes: Uint8Array, length: number): void {
  H.set(IV);
  const full = length - (length % 128);
  if (full > 0) compress(bytes, 0, full);
  const rest = length - full;
  tail.set(bytes.subarray(full, length));
  tail[rest] = 0x80;
  const end = rest + 17 > 128 ? 256 : 128;
  tail.fill(0, rest + 1, end);
  // The length in bits, as 128 bits big-endian (the high 64 are zero below 2^53 bytes).
  const bits = length * 8;
  const hi = Math.floor(bits / TWO32);
  const lo = bits >>> 0;
  tail[end - 8] = hi >>> 24; tail[end - 7] = hi >>> 16; tail[end - 6] = hi >>> 8; tail[end - 5] = hi;
  tail[end - 4] = lo >>> 24; tail[end - 3] = lo >>> 16; tail[end - 2] = lo >>> 8; tail[end - 1] = lo;
  compress(tail, 0, end);
}

function hex32(x: number): string {
  return HEX[(x >>> 24) & 255]! + HEX[(x >>> 16) & 255]! + HEX[(x >>> 8) & 255]! + HEX[x & 255]!;
}

/** The first 40 hex characters of SHA-512(bytes[0, length)): redun's `Hash`. */
export function sha512Hex40(bytes: Uint8Array, length = bytes.length): string {
  digest(bytes, length);
  return hex32(H[0]!) + hex32(H[1]!) + hex32(H[2]!) + hex32(H[3]!) + hex32(H[4]!);
}

/** The full 128 hex characters of SHA-512 (tests). */
export function sha512Hex(bytes: Uint8Array, length = bytes.length): string {
  digest(bytes, length);
  let out = "";
  for (let i = 0; i < 16; i++) out += hex32(H[i]!);
  return out;
}

/** Whether `hex` is sha512Hex40(bytes[0, length)), without building the hex text. */
export function sha512Matches40(bytes: Uint8Array, length: number, hex: string): boolean {
  if (hex.length !== 40) return false;
  digest(bytes, length);
  return wordsMatchHex(H, hex);
}
