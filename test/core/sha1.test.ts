import { describe, expect, it } from "vitest";
import { sha1 } from "@noble/hashes/legacy.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { hashText, makeTag, verifyRecordId } from "redun-edge/adapter-kit";
import { sha1Matches } from "../../core/sha1.ts";

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

  it("sha1Matches agrees with the hex digest, and refuses any other text of it", () => {
    for (const text of ["", "abc", "x".repeat(64), "日本語 😀", "\ud800", "v".repeat(5000)]) {
      const hex = hashText(text);
      expect(sha1Matches(text, hex), text.slice(0, 20)).toBe(true);
      for (let i = 0; i < 40; i++) {
        const other = (hex.charCodeAt(i) - 48 + 1) % 16;
        const wrong = hex.slice(0, i) + other.toString(16) + hex.slice(i + 1);
        expect(sha1Matches(text, wrong), `${text.slice(0, 20)} @${i}`).toBe(false);
      }
      expect(sha1Matches(text, hex.toUpperCase()) === (hex === hex.toUpperCase())).toBe(true);
      expect(sha1Matches(text, hex.slice(0, 39))).toBe(false);
      expect(sha1Matches(text, `${hex}0`)).toBe(false);
    }
  });

  it("verifies a record's id against its content with it", () => {
    const tag = makeTag("Execution", "00000000-0000-4000-a000-000000000001", "k", { a: [1, "é"] }, [], 1);
    expect(verifyRecordId(tag)).toBe(true);
    expect(verifyRecordId({ ...tag, value: { a: [1, "e"] } })).toBe(false);
    expect(verifyRecordId({ ...tag, id: tag.id.replace(/^./, (c) => (c === "0" ? "1" : "0")) })).toBe(false);
  });
});
