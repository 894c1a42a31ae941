/**
 * Python's JSON text, as redun writes tag values: `json_dumps(value)` is
 * `json.dumps(value, separators=(",", ":"), sort_keys=True)` (ASCII only,
 * floats as Python prints them: `1.0`, `1e+20`, `NaN`; integers exactly). A
 * tag's id is a hash of this text, so a value read from redun keeps the text
 * it came with whenever the JSON value cannot give it back (`1.0` reads as 1).
 */
import type { JsonValue } from "../records.ts";
import { compareCodePoints } from "./bencode.ts";

const HEX = "0123456789abcdef";

function u4(code: number): string {
  return `\\u${HEX[(code >> 12) & 15]}${HEX[(code >> 8) & 15]}${HEX[(code >> 4) & 15]}${HEX[code & 15]}`;
}

/** A string as Python's json.dumps writes it with ensure_ascii: every character outside space..~ escaped. */
export function pyJsonString(text: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue;
    out += text.slice(start, i);
    start = i + 1;
    switch (c) {
      case 0x22: out += '\\"'; break;
      case 0x5c: out += "\\\\"; break;
      case 0x0a: out += "\\n"; break;
      case 0x0d: out += "\\r"; break;
      case 0x09: out += "\\t"; break;
      case 0x08: out += "\\b"; break;
      case 0x0c: out += "\\f"; break;
      default: out += u4(c);
    }
  }
  return `${out}${text.slice(start)}"`;
}

/** A float as Python's repr prints it: the shortest digits that read back, `1.0`, `1e+16`, `1e-05`, `NaN`. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, exp] = Math.abs(x).toExponential().split("e") as [string, string];
  const digits = mantissa.replace(".", "");
  const e = Number(exp);
  const sign = x < 0 ? "-" : "";
  if (e < -4 || e >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const ee = Math.abs(e) < 10 ? `0${Math.abs(e)}` : String(Math.abs(e));
    return `${sign}${m}e${e < 0 ? "-" : "+"}${ee}`;
  }
  if (e < 0) return `${sign}0.${"0".repeat(-e - 1)}${digits}`;
  const whole = digits.length > e + 1 ? digits.slice(0, e + 1) : digits.padEnd(e + 1, "0");
  const fraction = digits.slice(e + 1);
  return `${sign}${whole}.${fraction || "0"}`;
}

/**
 * A JS number as redun would have written the value: a safe integer as an
 * int (`3`), anything else as a Python float (`3.2`, `1e+20`).
 */
export function pyNumber(x: number): string {
  return Number.isSafeInteger(x) ? String(x === 0 ? 0 : x) : pyFloatRepr(x);
}

/** `json.dumps(value, separators=(",", ":"), sort_keys=True)` of a JSON value. */
export function jsonDumps(value: JsonValue): string {
  switch (typeof value) {
    case "string":
      return pyJsonString(value);
    case "number":
      return pyNumber(value);
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i++) out += (i ? "," : "") + jsonDumps(value[i] ?? null);
        return `${out}]`;
      }
      let out = "{";
      let first = true;
      for (const key of Object.keys(value).sort(compareCodePoints)) {
        const v = value[key];
        if (v === undefined) continue;
        out += `${first ? "" : ","}${pyJsonString(key)}:${jsonDumps(v)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      return "null";
  }
}

/** Python's non-standard JSON numbers, as the strings a JSON value holds them in. */
const NON_FINITE = /^(?:NaN|-?Infinity)$/;

/**
 * Read Python JSON text into a JSON value: standard JSON, plus `NaN`,
 * `Infinity` and `-Infinity`, which become those strings. Integers past 2^53
 * become the nearest number (the text keeps them exact). Throws on text
 * that is not JSON.
 */
export function parsePyJson(text: string): JsonValue {
  if (!/[NI]/.test(text)) return JSON.parse(text) as JsonValue;
  // Quote the bare NaN / Infinity tokens (outside strings), then read it as JSON.
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i] ?? "";
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    const token = /^(?:NaN|-?Infinity)/.exec(text.slice(i, i + 9));
    if (!inString && token) {
      out += `"${token[0]}"`;
      i += token[0].length - 1;
      continue;
    }
    out += c;
  }
  return JSON.parse(out) as JsonValue;
}

/** Whether a string value stands for one of Python's non-finite floats in parsePyJson's output. */
export function isNonFiniteText(value: JsonValue): boolean {
  return typeof value === "string" && NON_FINITE.test(value);
}

/**
 * Compact Python JSON text as json.dumps prints it with its default
 * separators (`", "`, `": "`): how redun shows a non-string tag value
 * (`{"a": [1, 2]}`, `ratio=1000.0`).
 */
export function spacedPyJson(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    out += c;
    if (inString) {
      if (c === "\\") out += text[++i] ?? "";
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "," || c === ":") out += " ";
  }
  return out;
}
