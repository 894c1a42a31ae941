/**
 * A redun Value (a pickle and redun's type name) as redun-edge keeps it: the
 * JSON of the decoded data, Python's repr for display, and, for the values
 * redun hashes from their pickle, what to verify the id with. One
 * deterministic function of (type, pickle), so any store can recompute it.
 */
import { MAX_VALUE_BYTES, PREVIEW_CHARS, type JsonValue, type ValueRecord } from "../records.ts";
import { canonicalJson } from "../hash.ts";
import { fromBase64 } from "./base64.ts";
import { hashTagBytes } from "./hash.ts";
import { PyBytes, PyDict, PyFloat, PyGlobal, PyList, PyObject, PySet, PyTuple, pyRepr, pyTypeName, unpickle, type Py } from "./pickle.ts";
import { pyFloatRepr } from "./py-json.ts";

/** Characters of repr kept with a value. */
export const REPR_CHARS = PREVIEW_CHARS;

const utf8 = new TextDecoder("utf-8");

/**
 * Value types whose id redun computes as SHA-512 of bencode(["Value"]) and the
 * pickle: every type without a hash of its own. Those with one, whose id
 * cannot be recomputed from the stored pickle: a File (path, size, mtime), a
 * Task (its hash), expressions (their arguments' hashes), errors, sets
 * (`Value.set` over a re-pickled sorted list) and handles.
 */
const OWN_HASH = /^redun\.(File|Dir|StagingFile|StagingDir|ShardedS3Dataset|Task|PartialTask|SchedulerTask|ErrorValue|Handle)$|^redun\.expression\.|^redun\.file\.|^builtins\.(set|frozenset)$|^redun\.handle\./;

export function hashedFromPickle(type: string): boolean {
  return !OWN_HASH.test(type);
}

/** A dict key as JSON object key: str as is, int/float/bool/None as json.dumps writes them, anything else its repr. */
function keyText(k: Py): string {
  if (typeof k === "string") return k;
  if (k === null) return "null";
  if (typeof k === "boolean") return k ? "true" : "false";
  if (typeof k === "number" || typeof k === "bigint") return String(k);
  if (k instanceof PyFloat) return pyFloatRepr(k.value);
  return pyRepr(k, 200);
}

/**
 * The JSON of decoded pickle data: None, bool, int (past 2^53 as its decimal
 * text), float (NaN and infinities as the strings Python's JSON writes), str,
 * bytes (as UTF-8 text), list, tuple and set (arrays), dict (object); a
 * redun File as { path, hash }; any other object as { type, preview }.
 */
export function toJson(x: Py, depth = 0): JsonValue {
  if (depth > 64) return null;
  if (x === null || typeof x === "boolean" || typeof x === "string") return x;
  if (typeof x === "number") return x;
  if (typeof x === "bigint") return x.toString();
  if (x instanceof PyFloat) return Number.isFinite(x.value) ? x.value : pyFloatRepr(x.value);
  if (x instanceof PyBytes) return utf8.decode(x.bytes);
  if (x instanceof PyList || x instanceof PyTuple || x instanceof PySet) return x.items.map((i) => toJson(i, depth + 1));
  if (x instanceof PyDict) {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of x.entries) out[keyText(k)] = toJson(v, depth + 1);
    return out;
  }
  if (x instanceof PyGlobal) return { type: "builtins.type", preview: x.qualified };
  if (x instanceof PyObject && x.cls instanceof PyGlobal && x.cls.module === "redun.file") {
    const state = x.state instanceof PyDict ? x.state : null;
    const path = state?.get("path");
    const hash = state?.get("hash");
    if (typeof path === "string") return { path, hash: typeof hash === "string" ? hash : null };
  }
  return { type: pyTypeName(x), preview: pyRepr(x, REPR_CHARS) };
}

export interface DecodedValue {
  /** canonicalJson of the JSON value (a preview's first PREVIEW_CHARS characters when larger than MAX_VALUE_BYTES). */
  encoded: string;
  preview: boolean;
  /** UTF-8 bytes of the full encoding. */
  size: number;
  repr: string;
  /** The Python type of the pickle's top object (`builtins.str`); null when the pickle could not be read. */
  pickledType: string | null;
}

function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Decode a redun value. A pickle that cannot be read still gives a value:
 * { type, size } and redun's `Unpicklable('reason')` as its repr.
 */
export function decodeRedunValue(type: string, pickle: Uint8Array): DecodedValue {
  let json: JsonValue;
  let repr: string;
  let pickledType: string | null = null;
  if (pickle.length === 0) {
    // redun keeps the data in a separate value store and an empty blob here.
    json = { type, size: 0 };
    repr = type;
  } else {
    try {
      const data = unpickle(pickle);
      pickledType = pyTypeName(data);
      json = toJson(data);
      repr = pyRepr(data, REPR_CHARS);
    } catch (error) {
      json = { type, size: pickle.length };
      repr = `Unpicklable('${(error as Error).message}')`;
    }
  }
  const full = canonicalJson(json);
  const size = utf8Length(full);
  return size > MAX_VALUE_BYTES
    ? { encoded: full.slice(0, PREVIEW_CHARS), preview: true, size, repr, pickledType }
    : { encoded: full, preview: false, size, repr, pickledType };
}

/**
 * Whether a redun Value record holds what its pickle decodes to, under the
 * id redun gives that pickle: the id is sha512(bencode(["Value"]) + pickle),
 * the JSON and repr are what decodeRedunValue makes of it, and a builtin
 * type's name is the pickled object's. Null when the record carries no
 * pickle or its id is not derived from the pickle (then only its form can be
 * checked).
 */
export function verifyRedunValue(record: ValueRecord): boolean | null {
  const origin = record.redun;
  if (!origin || origin.opaque || origin.pickle === null || !hashedFromPickle(record.valueType)) return null;
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(origin.pickle);
  } catch {
    return false;
  }
  if (hashTagBytes("Value", bytes) !== record.id) return false;
  const decoded = decodeRedunValue(record.valueType, bytes);
  if (decoded.encoded !== record.encoded || decoded.preview !== record.preview || decoded.repr !== origin.repr) return false;
  return decoded.pickledType === null || !decoded.pickledType.startsWith("builtins.") || decoded.pickledType === record.valueType;
}
