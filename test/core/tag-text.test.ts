import { describe, expect, it } from "vitest";
import {
  ANY_VALUE,
  TagParseError,
  formatTagKeyValue,
  formatTagValue,
  parseTagKeyValue,
  parseTagValue,
  splitTagText,
} from "redun-edge";

describe("parseTagValue (agrees with redun)", () => {
  it.each([
    ["10", 10],
    ["1.2e3", 1200],
    ["-3.5", -3.5],
    ["true", true],
    ["false", false],
    ["null", null],
    ["", null],
    [" ", " "],
    ['""', ""],
    ['"10"', "10"],
    ["[1, 2, 3]", [1, 2, 3]],
    ['{"b": 1, "a": [true]}', { a: [true], b: 1 }],
    ["10a", "10a"],
    // Numbers as Python's int() and float() read them.
    ["007", 7],
    ["+5", 5],
    [" 5 ", 5],
    ["1_000", 1000],
    ["-0", 0],
    ["1e3", 1000],
    [".5", 0.5],
    ["5.", 5],
    ["+1.5e-1", 0.15],
    ["1__0", "1__0"],
    ["_1", "_1"],
    ["1_", "1_"],
    ["inf", "inf"],
    ["nan", "nan"],
    ["0x10", "0x10"],
    ["one two", "one two"],
    ["one [two]", "one [two]"],
    ["rasmus", "rasmus"],
  ])("%j reads as %j", (text, value) => {
    expect(parseTagValue(text)).toEqual(value);
  });

  it.each(["[hello]", "[1, 2, 3", '"1, 2" 3', "{bad}"])("%j is an error, never a silent string", (text) => {
    expect(() => parseTagValue(text)).toThrow(TagParseError);
  });
});

describe("parseTagKeyValue", () => {
  it("splits at the first =", () => {
    expect(parseTagKeyValue("equation=x=y")).toEqual(["equation", "x=y"]);
    expect(parseTagKeyValue("key=")).toEqual(["key", null]);
    expect(parseTagKeyValue('flags=["a","b"]')).toEqual(["flags", ["a", "b"]]);
  });

  it("gives ANY_VALUE for a bare key when a value is not required", () => {
    expect(parseTagKeyValue("key", { valueRequired: false })).toEqual(["key", ANY_VALUE]);
    expect(() => parseTagKeyValue("key", { valueRequired: true })).toThrow(/key=value/);
  });

  it("refuses an empty key or empty text", () => {
    expect(() => parseTagKeyValue("=10")).toThrow(TagParseError);
    expect(() => parseTagKeyValue("")).toThrow(TagParseError);
    expect(() => parseTagKeyValue("", { valueRequired: false })).toThrow(TagParseError);
  });
});

describe("formatTagValue", () => {
  it.each([
    [10, "10"],
    [true, "true"],
    [null, "null"],
    ["", '""'],
    ["hello", "hello"],
    ["true", '"true"'],
    ["10", '"10"'],
    [" hello ", '" hello "'],
    ["a,b", '"a,b"'],
    ["[x", '"[x"'],
    [["a", "b", "c"], '["a", "b", "c"]'],
    [{ k: [1, 2] }, '{"k": [1, 2]}'],
    [{ b: 1, a: { d: 2, c: 3 } }, '{"a": {"c": 3, "d": 2}, "b": 1}'],
  ])("%j prints as %s", (value, text) => {
    expect(formatTagValue(value)).toBe(text);
  });

  it("round-trips through parseTagValue", () => {
    for (const value of [10, 1.5, true, null, "", "hello", "true", "10", " x ", ["a", 1], { k: { j: [null] } }, "one two"]) {
      expect(parseTagValue(formatTagValue(value))).toEqual(value);
    }
  });

  it("cuts key and value to maxLength with ...", () => {
    expect(formatTagKeyValue("doc", "a234567890abc", 10)).toBe("doc=a234567...");
    expect(formatTagKeyValue("k".repeat(12), 1, 10)).toBe("kkkkkkk...=1");
    expect(formatTagKeyValue("user", "rasmus")).toBe("user=rasmus");
  });
});

describe("splitTagText", () => {
  it("splits at commas outside JSON brackets and quotes", () => {
    expect(splitTagText('user=alice, note="a, b", xs=[1, 2],, m={"k": [1, 2]}')).toEqual(["user=alice", 'note="a, b"', "xs=[1, 2]", 'm={"k": [1, 2]}']);
    expect(splitTagText("note=one two")).toEqual(["note=one two"]);
    expect(splitTagText('q="say \\"hi, there\\""')).toEqual(['q="say \\"hi, there\\""']);
  });

  it("splits at whitespace too when asked, as a filter bar reads it", () => {
    expect(splitTagText('user=alice  project note="one two" xs=[1, 2]', { whitespace: true })).toEqual(["user=alice", "project", 'note="one two"', "xs=[1, 2]"]);
    expect(splitTagText("  ", { whitespace: true })).toEqual([]);
  });
});
