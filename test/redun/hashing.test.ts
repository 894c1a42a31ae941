import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeTag, tagHash, verifyRecordId } from "redun-edge/adapter-kit";
import { bencode } from "../../core/redun/bencode.ts";
import { hashStruct, hashStructMatches, hashTagBytes } from "../../core/redun/hash.ts";
import { jsonDumps, parsePyJson, pyFloatRepr, spacedPyJson } from "../../core/redun/py-json.ts";
import { sha512Hex, sha512Hex40, sha512Matches40 } from "../../core/redun/sha512.ts";
import { fromBase64, toBase64 } from "../../core/redun/base64.ts";

/** Made by CPython with make-vectors.py (redun's own test vectors among them). */
const vectors = JSON.parse(readFileSync(join(import.meta.dirname, "fixtures/vectors.json"), "utf8")) as {
  hashStruct: { value: never; hash: string }[];
  hashTagBytes: { tag: string; hex: string; hash: string }[];
  dumps: { python: string; text: string }[];
  floatReprs: { hex: string; repr: string }[];
};
/** Texts whose JSON value gives other text back: floats with integral values, ints past 2^53, NaN, infinities. */
const LOSSY = new Set([
  "9007199254740992", "9007199254740993", "-9223372036854775808", "12345678901234567890", "1.0", "-0.0",
  "1000000000000000.0", "NaN", "Infinity", "-Infinity", '{"e":2,"z":{"y":1.0},"\\u00e9":1}',
]);
const bytesOf = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));

describe("SHA-512 (core/redun/sha512.ts)", () => {
  it("matches node:crypto at every length around the block edges", () => {
    for (let n = 0; n < 600; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n) & 255);
      const reference = createHash("sha512").update(bytes).digest("hex");
      expect(sha512Hex(bytes), `length ${n}`).toBe(reference);
      expect(sha512Hex40(bytes)).toBe(reference.slice(0, 40));
      expect(sha512Matches40(bytes, n, reference.slice(0, 40))).toBe(true);
    }
  });

  it("matches node:crypto on a large input and on part of a buffer", () => {
    const big = Uint8Array.from({ length: 1_000_003 }, (_, i) => (i * 7) & 255);
    expect(sha512Hex(big)).toBe(createHash("sha512").update(big).digest("hex"));
    expect(sha512Hex40(big, 1000)).toBe(createHash("sha512").update(big.subarray(0, 1000)).digest("hex").slice(0, 40));
  });

  it("sha512Matches40 refuses any other text of the digest", () => {
    const bytes = new TextEncoder().encode("abc");
    const hex = sha512Hex40(bytes);
    for (let i = 0; i < 40; i++) {
      const wrong = hex.slice(0, i) + ((parseInt(hex[i]!, 16) + 1) % 16).toString(16) + hex.slice(i + 1);
      expect(sha512Matches40(bytes, 3, wrong)).toBe(false);
    }
    expect(sha512Matches40(bytes, 3, hex.toUpperCase())).toBe(false);
    expect(sha512Matches40(bytes, 3, hex.slice(0, 39))).toBe(false);
  });
});

describe("redun's hash formulas (core/redun/hash.ts)", () => {
  it("agree with redun's own test vectors and CPython", () => {
    // redun/tests/test_hashing.py
    expect(hashStruct(["Task", "123"])).toBe("f02cbd309f1866b7d015617265c233160abdbd10");
    expect(hashStruct({ key1: 10, key2: "123" })).toBe("15c28723885dd16585e5555596f5e0ba67ef9ce1");
    expect(hashTagBytes("Value", new TextEncoder().encode("123"))).toBe("25aa6da917ca4e568e859df039fb1ca184e65d57");
    for (const v of vectors.hashStruct) {
      expect(hashStruct(v.value)).toBe(v.hash);
      expect(hashStructMatches(v.value, v.hash)).toBe(true);
    }
    for (const v of vectors.hashTagBytes) expect(hashTagBytes(v.tag, bytesOf(v.hex))).toBe(v.hash);
  });

  it("bencodes like redun/bcoding.py: sorted dict keys, UTF-8 lengths, big ints, bytes", () => {
    const text = (v: Parameters<typeof bencode>[0]) => new TextDecoder().decode(bencode(v));
    expect(text({ b: 1, a: [2, "é"] })).toBe("d1:ali2e2:\u00e9e1:bi1ee");
    expect(text(12345678901234567890n)).toBe("i12345678901234567890e");
    expect(text(new Uint8Array([104, 105]))).toBe("2:hi");
    expect(() => bencode(1.5)).toThrow(/integer/);
    expect(() => bencode(true as never)).toThrow();
  });

  it("tag ids are redun's hash_tag over the value's Python JSON text", () => {
    const entity = "484b6c40-028c-4d79-b68e-70c94d8a0eb3";
    // These four are rows of the fixture's tag table (fixtures/redun/redun.db).
    expect(tagHash(entity, "redun.version", "0.46.0", [])).toBe(hashStruct(["Tag", entity, "redun.version", '"0.46.0"', []]));
    const tag = makeTag("Execution", entity, "notes", { x: 1, a: "b c" }, [], 0);
    expect(tag.id).toBe(hashStruct(["Tag", entity, "notes", '{"a":"b c","x":1}', []]));
    expect(verifyRecordId(tag)).toBe(true);
    const removal = makeTag(null, null, "", null, [tag.id], 0);
    expect(removal.id).toBe(hashStruct(["Tag", "", "", "null", [tag.id]]));
    // A value whose text the JSON value cannot give back keeps it.
    const ratio = { ...makeTag("Execution", entity, "ratio", 1000, [], 0), valueText: "1000.0" };
    ratio.id = tagHash(entity, "ratio", 1000, [], "1000.0");
    expect(verifyRecordId(ratio)).toBe(true);
    expect(ratio.id).not.toBe(makeTag("Execution", entity, "ratio", 1000, [], 0).id);
    expect(verifyRecordId({ ...ratio, valueText: "1001.0" })).toBe(false);
    expect(verifyRecordId({ ...ratio, value: 1001 })).toBe(false);
  });
});

describe("Python's JSON text (core/redun/py-json.ts)", () => {
  it("reads every text CPython wrote and gives it back exactly, or keeps the text", () => {
    for (const { python, text } of vectors.dumps) {
      const value = parsePyJson(text);
      const back = jsonDumps(value);
      // Exact unless the JSON value cannot hold what Python wrote: a float with an integral value, an int past 2^53, NaN.
      if (LOSSY.has(text)) expect(back, python).not.toBe(text);
      else expect(back, python).toBe(text);
    }
  });

  it("prints floats as Python's repr does", () => {
    for (const { hex, repr } of vectors.floatReprs) {
      const value = parseFloatHex(hex);
      expect(pyFloatRepr(value), repr).toBe(repr);
    }
  });

  it("shows compact text with json.dumps's default separators, strings untouched", () => {
    expect(spacedPyJson('{"a":[1,2],"b":"x, y: z"}')).toBe('{"a": [1, 2], "b": "x, y: z"}');
    expect(spacedPyJson('["a\\",b"]')).toBe('["a\\",b"]');
  });

  it("reads NaN and the infinities as strings, and only outside strings", () => {
    expect(parsePyJson("NaN")).toBe("NaN");
    expect(parsePyJson('[Infinity,-Infinity,"NaN"]')).toEqual(["Infinity", "-Infinity", "NaN"]);
    expect(() => parsePyJson("[bad")).toThrow();
  });
});

describe("base64", () => {
  it("round-trips bytes of every length and refuses bad text", () => {
    for (let n = 0; n < 20; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + 3) & 255);
      const text = toBase64(bytes);
      expect(text).toBe(btoa(String.fromCharCode(...bytes)));
      expect(fromBase64(text)).toEqual(bytes);
    }
    expect(() => fromBase64("ab$=")).toThrow();
  });
});

/** Python's float.hex() text as a number. */
function parseFloatHex(text: string): number {
  const m = /^(-?)0x([01])\.([0-9a-f]+)p([+-]\d+)$/.exec(text);
  if (!m) return Number(text);
  const mantissa = parseInt(m[2]! + m[3]!, 16) / 16 ** m[3]!.length;
  return (m[1] ? -1 : 1) * mantissa * 2 ** Number(m[4]);
}
