/**
 * Checks of input from outside (sync push, adapters' write batches, tag
 * edits, queries), so bad input is refused, naming its field, before anything
 * is written: record shapes, well-formed Unicode in every string, and the tag
 * rules (key and value sizes, JSON nesting) of core/limits.ts.
 */
import { RepositoryError, TooLargeError, ValidationError, quoted } from "./errors.ts";
import { canonicalJson, verifyRecordId } from "./hash.ts";
import { MAX_JSON_DEPTH, MAX_TAG_KEY_BYTES, MAX_TAG_VALUE_BYTES, MAX_VALUE_DEPTH } from "./limits.ts";
import { ENTITY_TYPES, EXECUTION_STATUSES, JOB_STATUSES, MAX_VALUE_BYTES, PREVIEW_CHARS, RECORD_TYPES, type AnyRecord } from "./records.ts";

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const nativeWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;

/**
 * Text that is well-formed Unicode (no lone surrogate). Stores keep only
 * such text unaltered (D1 replaces a lone surrogate, and the record's id no
 * longer matches its content), so nothing else gets in.
 */
export function isWellFormedText(text: string): boolean {
  return nativeWellFormed ? nativeWellFormed.call(text) : !LONE_SURROGATE.test(text);
}

/** A string of well-formed Unicode, or a ValidationError naming `field`. */
export function checkText(field: string, value: unknown, what = "a string"): asserts value is string {
  if (typeof value !== "string") throw new ValidationError(field, `${field} must be ${what}`);
  if (!isWellFormedText(value)) throw new ValidationError(field, `${field} is not well-formed Unicode (it holds a lone surrogate)`);
}

const utf8 = new TextEncoder();

/** UTF-8 bytes of well-formed text when over `limit`, else null (counted only when a UTF-16 unit's 3 bytes could pass it). */
function overLimit(text: string, limit: number): number | null {
  if (text.length * 3 <= limit) return null;
  const bytes = utf8.encode(text).length;
  return bytes > limit ? bytes : null;
}

/**
 * A JSON value as canonicalJson encodes it: null, booleans, finite numbers,
 * well-formed strings (object keys too), arrays and objects nested at most
 * `maxDepth` deep. Walked without recursion, so no input can overflow the stack.
 */
export function checkJsonValue(field: string, value: unknown, maxDepth = MAX_JSON_DEPTH): void {
  if (value === undefined) throw new ValidationError(field, `${field} must be a JSON value`);
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    switch (typeof v) {
      case "string":
        if (!isWellFormedText(v)) throw new ValidationError(field, `${field} holds text that is not well-formed Unicode (a lone surrogate)`);
        break;
      case "number":
        if (!Number.isFinite(v)) throw new ValidationError(field, `${field} holds a number JSON cannot write (${v})`);
        break;
      case "boolean":
      case "undefined":
        break;
      case "object": {
        if (v === null) break;
        if (depth >= maxDepth) throw new ValidationError(field, `${field} is nested more than ${maxDepth} levels deep`);
        if (Array.isArray(v)) {
          for (const item of v) stack.push([item, depth + 1]);
          break;
        }
        if (typeof (v as { toJSON?: unknown }).toJSON === "function") {
          stack.push([(v as { toJSON: () => unknown }).toJSON(), depth]);
          break;
        }
        for (const key of Object.keys(v)) {
          if (!isWellFormedText(key)) throw new ValidationError(field, `${field} holds a key that is not well-formed Unicode (a lone surrogate)`);
          const item = (v as Record<string, unknown>)[key];
          if (typeof item !== "function") stack.push([item, depth + 1]);
        }
        break;
      }
      default:
        throw new ValidationError(field, `${field} holds a ${typeof v}, which is not JSON`);
    }
  }
}

/** A tag key: non-empty well-formed text of at most MAX_TAG_KEY_BYTES. */
export function checkTagKey(field: string, key: unknown): asserts key is string {
  checkText(field, key);
  if (key === "") throw new ValidationError(field, `${field}: a tag key must not be empty`);
  const bytes = overLimit(key, MAX_TAG_KEY_BYTES);
  if (bytes !== null) throw new TooLargeError(field, `${field}: a tag key is at most ${MAX_TAG_KEY_BYTES} bytes, this one ${bytes}`, MAX_TAG_KEY_BYTES);
}

/** A tag value: a JSON value (checkJsonValue) whose canonical JSON is at most MAX_TAG_VALUE_BYTES. */
export function checkTagValue(field: string, value: unknown): void {
  checkJsonValue(field, value);
  // Scalars are short unless they are long strings; a string's JSON takes at most 6 bytes per unit, plus quotes.
  if (value === null || typeof value === "number" || typeof value === "boolean") return;
  if (typeof value === "string" && value.length * 6 + 2 <= MAX_TAG_VALUE_BYTES) return;
  const bytes = overLimit(canonicalJson(value), MAX_TAG_VALUE_BYTES);
  if (bytes !== null) {
    throw new TooLargeError(field, `${field}: a tag value is at most ${MAX_TAG_VALUE_BYTES} bytes of JSON, this one ${bytes}`, MAX_TAG_VALUE_BYTES);
  }
}

/** A tag as [key, value]: checkTagKey and checkTagValue, both naming `field`. */
export function checkTag(field: string, key: unknown, value: unknown): void {
  checkTagKey(field, key);
  checkTagValue(field, value);
}

type Check = "string" | "number" | "string|null" | "number|null" | "boolean" | "array" | "any" | "number?" | "array?";

const FIELDS: Record<AnyRecord["type"], Record<string, Check>> = {
  Execution: { rootJobId: "string", argv: "array", startTime: "number", endTime: "number|null", status: "string", leaseUntil: "number?" },
  Job: {
    executionId: "string", parentId: "string|null", taskHash: "string", callHash: "string|null",
    startTime: "number", endTime: "number|null", status: "string", error: "string|null",
  },
  Task: { name: "string", namespace: "string", source: "string", version: "string|null" },
  Value: { valueType: "string", encoded: "string", size: "number", preview: "boolean" },
  CallNode: { taskHash: "string", argsHash: "string", args: "array", resultHash: "string", children: "array" },
  Tag: { entityType: "string|null", entityId: "string|null", key: "string", value: "any", parents: "array" },
  Evaluation: { taskHash: "string", argsHash: "string", valueHash: "string", callHash: "string", jobTags: "array", executionTags: "array?" },
};

const FIELD_LIST = Object.fromEntries(Object.entries(FIELDS).map(([t, f]) => [t, Object.entries(f)])) as Record<
  AnyRecord["type"],
  [string, Check][]
>;

/** Every field a record of each type has: the ones above, and type, id, time. */
/** Optional fields checked apart from FIELDS: `redun` (a record imported from redun), a tag's `valueText`. */
const OPTIONAL_FIELDS: Partial<Record<AnyRecord["type"], string[]>> = {
  Task: ["redun"], Value: ["redun"], CallNode: ["redun"], Evaluation: ["redun"], Tag: ["valueText"],
};
const KNOWN_FIELDS = new Map(
  Object.entries(FIELDS).map(([t, f]) => [t, new Set(["type", "id", "time", ...Object.keys(f), ...(OPTIONAL_FIELDS[t as AnyRecord["type"]] ?? [])])]),
);

/** Longest id of any record (ids are 36 or 40 characters; tests and tools use others). */
const MAX_ID_CHARS = 128;

function ok(check: Check, v: unknown): boolean {
  switch (check) {
    case "string": return typeof v === "string" && isWellFormedText(v);
    case "number": return typeof v === "number" && Number.isFinite(v);
    case "string|null": return v === null || (typeof v === "string" && isWellFormedText(v));
    case "number|null": return v === null || (typeof v === "number" && Number.isFinite(v));
    case "boolean": return typeof v === "boolean";
    case "array": return Array.isArray(v);
    case "any": return v !== undefined;
    // Optional fields: absent, or of their type.
    case "number?": return v === undefined || (typeof v === "number" && Number.isFinite(v));
    case "array?": return v === undefined || Array.isArray(v);
  }
}

/** Every item of a list field a well-formed string. */
function stringItems(field: string, list: unknown[]): void {
  list.forEach((item, i) => checkText(`${field}[${i}]`, item));
}

/**
 * Nesting of JSON text, scanned (no parse, no recursion): the deepest run of
 * open brackets outside strings.
 */
function jsonTextDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped unit
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) max = Math.max(max, ++depth);
    else if (c === 93 || c === 125) depth--;
  }
  return max;
}

/**
 * Throw a ValidationError naming the first wrong field of a record: its
 * shape, every string well-formed Unicode, and tags and job tags by the tag
 * rules (checkTag). Records from other stores are checked further by
 * assertImportable.
 */
export function assertRecordShape(record: unknown, where = "record"): asserts record is AnyRecord {
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new ValidationError(where, `${where} must be an object`);
  }
  const r = record as Record<string, unknown>;
  if (!RECORD_TYPES.includes(r.type as AnyRecord["type"])) {
    throw new ValidationError(`${where}.type`, `${where}.type: unknown record type ${quoted(r.type)}`);
  }
  if (typeof r.id !== "string" || r.id === "" || r.id.length > MAX_ID_CHARS || !isWellFormedText(r.id)) {
    throw new ValidationError(`${where}.id`, `${where}.id must be a non-empty string of at most ${MAX_ID_CHARS} characters`);
  }
  if (typeof r.time !== "number" || !Number.isFinite(r.time)) throw new ValidationError(`${where}.time`, `${where}.time must be a number`);
  for (const [field, check] of FIELD_LIST[r.type as AnyRecord["type"]]) {
    if (ok(check, r[field])) continue;
    if (typeof r[field] === "string" && check.includes("string")) checkText(`${where}.${field}`, r[field]);
    const what = check.endsWith("?") ? `absent or a ${check.slice(0, -1)}` : check.replace("|", " or ");
    throw new ValidationError(`${where}.${field}`, `${where}.${field} must be ${what}`);
  }
  switch (r.type) {
    case "Execution":
      if (!EXECUTION_STATUSES.includes(r.status as never)) {
        throw new ValidationError(`${where}.status`, `${where}.status: unknown execution status ${quoted(r.status)}`);
      }
      stringItems(`${where}.argv`, r.argv as unknown[]);
      break;
    case "Job":
      if (!JOB_STATUSES.includes(r.status as never)) {
        throw new ValidationError(`${where}.status`, `${where}.status: unknown job status ${quoted(r.status)}`);
      }
      break;
    case "CallNode":
      (r.args as unknown[]).forEach((arg, i) => {
        const a = arg as { key?: unknown; valueHash?: unknown } | null;
        if (typeof a !== "object" || a === null || Array.isArray(a)) {
          throw new ValidationError(`${where}.args[${i}]`, `${where}.args[${i}] must be {key, valueHash}`);
        }
        checkText(`${where}.args[${i}].key`, a.key);
        checkText(`${where}.args[${i}].valueHash`, a.valueHash);
      });
      stringItems(`${where}.children`, r.children as unknown[]);
      break;
    case "Tag":
      if (r.entityType !== null && !ENTITY_TYPES.includes(r.entityType as never)) {
        throw new ValidationError(`${where}.entityType`, `${where}.entityType: unknown entity type ${quoted(r.entityType)}`);
      }
      if ((r.entityType === null) !== (r.entityId === null)) {
        throw new ValidationError(`${where}.entityId`, `${where}: entityType and entityId must both be set, or both be null (a delete record)`);
      }
      stringItems(`${where}.parents`, r.parents as unknown[]);
      if (r.entityId === null) {
        if (r.key !== "" || r.value !== null || (r.parents as unknown[]).length === 0) {
          throw new ValidationError(`${where}.key`, `${where}: a delete record has key "", value null and at least one parent`);
        }
      } else {
        checkTagKey(`${where}.key`, r.key);
        checkTagValue(`${where}.value`, r.value);
      }
      if (r.valueText !== undefined) checkText(`${where}.valueText`, r.valueText, "a string when present");
      break;
    case "Evaluation":
      (r.jobTags as unknown[]).forEach((pair, i) => {
        if (!Array.isArray(pair) || pair.length !== 2) {
          throw new ValidationError(`${where}.jobTags[${i}]`, `${where}.jobTags[${i}] must be [key, value]`);
        }
        checkTag(`${where}.jobTags[${i}]`, pair[0], pair[1]);
      });
      break;
  }
  if (r.redun !== undefined) assertRedunOrigin(r.redun, r.type as AnyRecord["type"], `${where}.redun`);
}

/** The `redun` field of a record imported from redun (records.ts, RedunOrigin). */
function assertRedunOrigin(origin: unknown, type: AnyRecord["type"], where: string): void {
  if (type !== "Task" && type !== "Value" && type !== "CallNode" && type !== "Evaluation") {
    throw new ValidationError(where, `${where}: only Task, Value, CallNode and Evaluation records come from redun with it`);
  }
  if (typeof origin !== "object" || origin === null || Array.isArray(origin)) throw new ValidationError(where, `${where} must be an object`);
  const o = origin as Record<string, unknown>;
  if (o.opaque !== undefined && o.opaque !== true) throw new ValidationError(`${where}.opaque`, `${where}.opaque must be true when present`);
  if (type === "Task" && o.optionsHash !== undefined) checkText(`${where}.optionsHash`, o.optionsHash, "a string when present");
  if (type === "Value") {
    if (o.pickle !== null && typeof o.pickle !== "string") throw new ValidationError(`${where}.pickle`, `${where}.pickle must be base64 text or null`);
    checkText(`${where}.repr`, o.repr);
  }
}

/**
 * What a record from another store must be besides its shape (a scheduler's
 * own records are so by construction): only its type's fields, so what one
 * store keeps every store keeps; and a Value as this store could have made
 * it: whole, JSON text of at most MAX_VALUE_BYTES nested at most
 * MAX_VALUE_DEPTH deep (what a view decodes and answers), or a preview of a
 * larger one (whose id cannot be checked, so it claims no more than that).
 */
function assertFromElsewhere(record: AnyRecord, where: string): void {
  const known = KNOWN_FIELDS.get(record.type)!;
  for (const field of Object.keys(record)) {
    if (!known.has(field)) throw new ValidationError(`${where}.${field}`, `${where}.${field}: unknown field of a ${record.type}`);
  }
  if (record.type !== "Value") return;
  if (record.preview) {
    if (record.size <= MAX_VALUE_BYTES || record.encoded.length > PREVIEW_CHARS) {
      throw new ValidationError(
        `${where}.preview`,
        `${where}: a preview is kept only for a value over ${MAX_VALUE_BYTES} bytes, and holds at most ${PREVIEW_CHARS} characters`,
      );
    }
    return;
  }
  const bytes = overLimit(record.encoded, MAX_VALUE_BYTES);
  if (bytes !== null) {
    throw new TooLargeError(`${where}.encoded`, `${where}.encoded: a whole value is at most ${MAX_VALUE_BYTES} bytes (larger ones are kept as a preview), this one ${bytes}`, MAX_VALUE_BYTES);
  }
  if (jsonTextDepth(record.encoded) > MAX_VALUE_DEPTH) {
    throw new ValidationError(`${where}.encoded`, `${where}.encoded is nested more than ${MAX_VALUE_DEPTH} levels deep`);
  }
  try {
    JSON.parse(record.encoded);
  } catch {
    throw new ValidationError(`${where}.encoded`, `${where}.encoded must be JSON text`);
  }
}

/**
 * Batches `checkedBatch` made: frozen copies that passed `assertImportable`,
 * which `assertWritable` need not check again (a push would otherwise check
 * every record twice).
 */
const checkedBatches = new WeakSet<readonly unknown[]>();

/**
 * `assertImportable`, then a frozen copy of the records that adapters' writes
 * take as checked. Adapters check synchronously when a write starts, so the
 * records cannot change in between.
 */
export function checkedBatch(records: readonly unknown[]): readonly AnyRecord[] {
  assertImportable(records);
  const batch = Object.freeze(records.slice());
  checkedBatches.add(batch);
  return batch;
}

/** Shape and id checks for records from another store; throws on the first bad one. */
export function assertImportable(records: readonly unknown[]): asserts records is AnyRecord[] {
  records.forEach((record, i) => {
    assertRecordShape(record, `records[${i}]`);
    assertFromElsewhere(record, `records[${i}]`);
    if (!verifyRecordId(record)) {
      throw new ValidationError(`records[${i}].id`, `records[${i}]: id ${record.id} does not match the ${record.type}'s content`);
    }
  });
}

/**
 * What every adapter's `write` checks first, so a bad record refuses the whole
 * batch before anything is stored: each record's shape (ids are not verified;
 * that is `assertImportable`'s job for records from other stores).
 */
export function assertWritable(records: readonly unknown[]): asserts records is AnyRecord[] {
  if (checkedBatches.has(records)) return;
  records.forEach((r, i) => {
    try {
      assertRecordShape(r, `records[${i}]`);
    } catch (cause) {
      throw new RepositoryError(`write refused: ${(cause as Error).message}`, { cause });
    }
  });
}
