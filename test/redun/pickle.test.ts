import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hashTagBytes } from "../../core/redun/hash.ts";
import { PickleError, pyRepr, pyTypeName, unpickle } from "../../core/redun/pickle.ts";
import { decodeRedunValue, toJson } from "../../core/redun/value.ts";

/** Pickles made by CPython's pickle.dumps(value, protocol=3), with their repr and redun's hash (make-vectors.py). */
const { pickles } = JSON.parse(readFileSync(join(import.meta.dirname, "fixtures/vectors.json"), "utf8")) as {
  pickles: { python: string; hex: string; repr: string; hash: string }[];
};
const bytesOf = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));

describe("pickle reader (core/redun/pickle.ts)", () => {
  it("reads every pickle CPython wrote and prints Python's repr of it", () => {
    for (const p of pickles) {
      const data = unpickle(bytesOf(p.hex));
      const repr = pyRepr(data);
      if (p.repr.length <= 4096) expect(repr, p.python).toBe(p.repr);
      else expect(p.repr.startsWith(repr), p.python).toBe(true);
      expect(hashTagBytes("Value", bytesOf(p.hex))).toBe(p.hash);
    }
  });

  it("gives JSON values: big ints as text, floats, bytes as text, tuples and sets as arrays, any dict key as text", () => {
    const json = (python: string) => toJson(unpickle(bytesOf(pickles.find((p) => p.python === python)!.hex)));
    expect(json("18446744073709551621")).toBe("18446744073709551621");
    expect(json("-1180591620717411303424")).toBe("-1180591620717411303424");
    expect(json("4611686018427387904")).toBe("4611686018427387904");
    expect(json("-1")).toBe(-1);
    expect(json("2.5")).toBe(2.5);
    expect(json("nan")).toBe("NaN");
    expect(json("(1, 2, 3, 4)")).toEqual([1, 2, 3, 4]);
    expect(json("{3}")).toEqual([3]);
    expect(json("{1: 'd', 2.5: 'b', None: 'c'}")).toEqual({ 1: "d", "2.5": "b", null: "c" });
    expect(json("{'n': 3, 'total_chars': 37}")).toEqual({ n: 3, total_chars: 37 });
    expect(json("ValueError('boom: asked to fail on x=3')")).toEqual({ type: "builtins.ValueError", preview: "ValueError('boom: asked to fail on x=3')" });
    expect(pyTypeName(unpickle(bytesOf(pickles.find((p) => p.python === "'hello'")!.hex)))).toBe("builtins.str");
  });

  it("never executes anything, and refuses what it cannot read with a PickleError", () => {
    // A classic exploit pickle: os.system('echo pwned') via REDUCE, read as data.
    const evil = new TextEncoder().encode("cos\nsystem\n(S'echo pwned'\ntR.");
    expect(pyRepr(unpickle(evil))).toBe("system('echo pwned')");
    expect(() => unpickle(new Uint8Array([0x80, 0x03, 0x58, 0xff]))).toThrow(PickleError);
    expect(() => unpickle(new Uint8Array([0x80, 0x03, 0xff, 0x2e]))).toThrow(/unsupported pickle opcode 0xff/);
    expect(() => unpickle(new Uint8Array([]))).toThrow(PickleError);
  });

  it("a value that cannot be decoded is still a value: its type, size, and redun's Unpicklable repr", () => {
    const bad = decodeRedunValue("mylib.Thing", new Uint8Array([0x80, 0x03, 0xff]));
    expect(JSON.parse(bad.encoded)).toEqual({ size: 3, type: "mylib.Thing" });
    expect(bad.repr).toMatch(/^Unpicklable\('unsupported pickle opcode 0xff/);
    expect(bad.pickledType).toBeNull();
  });
});
