/**
 * Tag text form, as typed on a command line: `key=value`. Parsing and printing
 * agree with redun so people's habits carry over.
 */
import { TagParseError } from "./errors.ts";
import type { TagFilter } from "./query.ts";
import type { JsonValue } from "./records.ts";

/** Marks "any value" for a key given without `=` where a value is not required. */
export const ANY_VALUE: unique symbol = Symbol.for("redun-edge.any-value");
export type AnyValue = typeof ANY_VALUE;

/** Python's int() and float() literals (PEP 515 underscores, surrounding white space). */
const DIGITS = "\\d+(?:_\\d+)*";
const PY_INT = new RegExp(`^\\s*[+-]?${DIGITS}\\s*$`);
const PY_FLOAT = new RegExp(`^\\s*[+-]?(?:${DIGITS}\\.(?:${DIGITS})?|\\.${DIGITS}|${DIGITS})(?:[eE][+-]?${DIGITS})?\\s*$`);

/**
 * Read a tag value as redun does: JSON when it starts with `[`, `{` or `"`
 * (malformed JSON is an error, never a silent string); otherwise a number as
 * Python's int() or float() reads one, true/false/null, null when empty, and
 * the text itself in every other case.
 */
export function parseTagValue(text: string): JsonValue {
  if (text === "") return null;
  const first = text[0];
  if (first === "[" || first === "{" || first === '"') {
    try {
      return JSON.parse(text) as JsonValue;
    } catch (cause) {
      throw new TagParseError(text, "malformed JSON value", { cause });
    }
  }
  // Numbers as Python's int(), then float(), read them (redun tries both first): surrounding white
  // space, a sign, leading zeros and _ between digits (`007` is 7, `+5` is 5, `1_000` is 1000). Not
  // inf or nan, which JSON cannot hold: they stay text.
  if (PY_INT.test(text)) {
    const n = Number(text.trim().replace(/_/g, ""));
    return n === 0 ? 0 : n;
  }
  if (PY_FLOAT.test(text)) return Number(text.trim().replace(/_/g, ""));
  if (text === "true") return true;
  if (text === "false") return false;
  if (text === "null") return null;
  return text;
}

/**
 * Split a list of tags typed in one line, `k=v, k2=v2`, at commas outside
 * JSON brackets and quotes (so `note="a, b"` and `xs=[1, 2]` stay whole);
 * with `whitespace`, at spaces too (`user=alice project`), as a filter bar
 * reads it. Empty items are dropped.
 */
export function splitTagText(text: string, options: { whitespace?: boolean } = {}): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' && text[i - 1] !== "\\") quoted = !quoted;
    else if (!quoted && (c === "[" || c === "{")) depth++;
    else if (!quoted && (c === "]" || c === "}")) depth--;
    else if (!quoted && depth <= 0 && (c === "," || (options.whitespace && /\s/.test(c)))) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim()).filter(Boolean);
}

/** Split `key=value` at the first `=`. A bare `key` gives ANY_VALUE unless a value is required. */
export function parseTagKeyValue(
  text: string,
  options: { valueRequired?: boolean } = {},
): [string, JsonValue | AnyValue] {
  const valueRequired = options.valueRequired ?? true;
  const at = text.indexOf("=");
  if (at === -1) {
    if (text === "") throw new TagParseError(text, "empty tag");
    if (valueRequired) throw new TagParseError(text, "expected key=value");
    return [text, ANY_VALUE];
  }
  const key = text.slice(0, at);
  if (key === "") throw new TagParseError(text, "empty key");
  return [key, parseTagValue(text.slice(at + 1))];
}

/** A parsed `k=v` / bare `k` as a query or rm filter: `[key, value]`, or `[key]` for any value. */
export function toTagFilter([key, value]: readonly [string, JsonValue | AnyValue]): TagFilter {
  return value === ANY_VALUE ? [key] : [key, value];
}

export interface FormatJsonOptions {
  /** Keys in sorted order, as json.dumps(sort_keys=True) (default); false keeps their order. */
  sortKeys?: boolean;
  /** Escape every character past ASCII, as json.dumps does by default (ensure_ascii); default false. */
  ascii?: boolean;
}

/** JSON as Python's json.dumps prints it with its default separators: `["a", "b"]`, `{"k": [1, 2]}`. */
export function formatJson(value: JsonValue, options: FormatJsonOptions = {}): string {
  const { sortKeys = true, ascii = false } = options;
  const format = (v: JsonValue): string => {
    if (v === null || typeof v !== "object") {
      const text = JSON.stringify(v);
      return ascii ? text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`) : text;
    }
    if (Array.isArray(v)) return `[${v.map(format).join(", ")}]`;
    const keys = sortKeys ? Object.keys(v).sort() : Object.keys(v);
    return `{${keys.map((k) => `${format(k)}: ${format(v[k] as JsonValue)}`).join(", ")}}`;
  };
  return format(value);
}

/** Print a value so it reads back the same: bare when safe, else JSON. */
export function formatTagValue(value: JsonValue): string {
  if (typeof value === "string" && !/[ ,]/.test(value)) {
    let roundTrips = false;
    try {
      roundTrips = parseTagValue(value) === value;
    } catch {
      roundTrips = false;
    }
    if (roundTrips) return value;
  }
  return formatJson(value);
}

/** Cut text to maxLength characters, the last three `...` (redun's trim_string). */
export function shorten(text: string, maxLength: number): string {
  return text.length > maxLength ? `${text.slice(0, Math.max(0, maxLength - 3))}...` : text;
}

/** `key=value`, each side cut to maxLength with `...`. */
export function formatTagKeyValue(key: string, value: JsonValue, maxLength = 50): string {
  return `${shorten(key, maxLength)}=${shorten(formatTagValue(value), maxLength)}`;
}
