import { describe, expect, it } from "vitest";
import { sha1 } from "@noble/hashes/legacy.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { hashText } from "redun-edge";

const reference = (text: string) => bytesToHex(sha1(utf8ToBytes(text)));

describe("sha1 (core's own, allocation-free)", () => {
  it("matches the known vectors", () => {
    expect(hashText("")).toBe("da39a3ee5e6b4b0d3255bfef95601890afd80709");
    expect(hashText("abc")).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
    expect(hashText("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toBe("84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  });

  it("matches @noble/hashes at every length around block edges and for any Unicode", () => {
    for (let n = 0; n < 200; n++) expect(hashText("x".repeat(n))).toBe(reference("x".repeat(n)));
    const samples = ["é", "日本語", "emoji 😀 mix", "\ud800 lone", "a\u0000b", "€".repeat(30), "😀".repeat(17)];
    for (const s of samples) for (let n = 0; n < 70; n += 7) expect(hashText("y".repeat(n) + s)).toBe(reference("y".repeat(n) + s));
    let seed = 7;
    for (let i = 0; i < 300; i++) {
      let s = "";
      const len = (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 300;
      for (let j = 0; j < len; j++) s += String.fromCharCode((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 0x2fff);
      expect(hashText(s)).toBe(reference(s));
    }
  });

  it("matches @noble/hashes on both sides of the short-text path (1,365 UTF-16 units), for characters of every width", () => {
    for (const unit of ["x", "é", "€", "😀", "\ud800"]) {
      for (let units = 1355; units <= 1375; units++) {
        const text = unit.repeat(Math.ceil(units / unit.length)).slice(0, units);
        expect(hashText(text), `${JSON.stringify(unit)} x ${units}`).toBe(reference(text));
      }
    }
  });

  it("matches @noble/hashes where the encoded bytes cross its 4 KB buffer, for characters of every width", () => {
    for (const unit of ["x", "é", "€", "😀"]) {
      for (let bytes = 3990; bytes <= 4200; bytes += 1) {
        const text = unit.repeat(Math.ceil(bytes / utf8ToBytes(unit).length));
        expect(hashText(text), `${unit} x ${text.length}`).toBe(reference(text));
      }
      const long = unit.repeat(9000);
      expect(hashText(long)).toBe(reference(long));
    }
  });

  it("matches WebCrypto on a large input", async () => {
    const text = "value-".repeat(200_000);
    const digest = new Uint8Array(await globalThis.crypto.subtle.digest("SHA-1", new TextEncoder().encode(text)));
    expect(hashText(text)).toBe(bytesToHex(digest));
  });
});
