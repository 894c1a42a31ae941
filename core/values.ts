/**
 * Value encoding: a JS value as a content-addressed Value record (kept as a
 * preview when too large), back again, and the error a failed job raised.
 */
import { InterruptedError } from "./errors.ts";
import { canonicalJson, valueHash, valueTypeOf } from "./hash.ts";
import { MAX_VALUE_BYTES, PREVIEW_CHARS, type JsonValue, type ValueRecord } from "./records.ts";

/** Encode a value as a Value record (previewed when too large). */
export function makeValueRecord(value: unknown, time: number): ValueRecord {
  return encodedValueRecord(valueTypeOf(value), canonicalJson(value), time);
}

function encodedValueRecord(valueType: string, encoded: string, time: number): ValueRecord {
  const id = valueHash(valueType, encoded);
  const size = utf8Length(encoded);
  if (size > MAX_VALUE_BYTES) {
    return { type: "Value", id, time, valueType, encoded: encoded.slice(0, PREVIEW_CHARS), size, preview: true };
  }
  return { type: "Value", id, time, valueType, encoded, size, preview: false };
}

const ASCII = /^[\x00-\x7f]*$/;

/** UTF-8 byte length of a string, without encoding it (a regex answers plain ASCII fast). */
export function utf8Length(text: string): number {
  if (ASCII.test(text)) return text.length;
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 2 units, 4 bytes
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** The JS value a (non-preview) Value record holds. */
export function decodeValue(record: ValueRecord): unknown {
  if (record.valueType === "undefined") return undefined;
  return JSON.parse(record.encoded) as JsonValue;
}

/**
 * `valueType` of the Value a failed job's CallNode has as its result (as
 * redun records an ErrorValue): the error's name, message and stack.
 */
export const ERROR_VALUE_TYPE = "error";

export interface RecordedError {
  name: string;
  message: string;
  /** The stack as the runtime printed it; null when the thrown value had none. */
  stack: string | null;
}

/** What a thrown value is recorded as (an interruption without the scheduler's own stack). */
function recordedError(error: unknown): RecordedError {
  if (error instanceof InterruptedError) return { name: error.name, message: error.message, stack: null };
  if (error instanceof Error) {
    return { name: error.name, message: error.message, stack: typeof error.stack === "string" ? error.stack : null };
  }
  return { name: "Error", message: String(error), stack: null };
}

/** The Value record of a thrown value (see ERROR_VALUE_TYPE). */
export function makeErrorValueRecord(error: unknown, time: number): ValueRecord {
  return encodedValueRecord(ERROR_VALUE_TYPE, canonicalJson(recordedError(error)), time);
}

/** The error a Value of ERROR_VALUE_TYPE holds; null for any other value. */
export function errorOfValue(record: ValueRecord): RecordedError | null {
  if (record.valueType !== ERROR_VALUE_TYPE || record.preview) return null;
  const e = JSON.parse(record.encoded) as Partial<RecordedError>;
  return { name: String(e.name ?? "Error"), message: String(e.message ?? ""), stack: typeof e.stack === "string" ? e.stack : null };
}
