/**
 * Canonical encoding and content hashing. Every pre-image is a JSON array
 * starting with its record type, encoded canonically (object keys sorted, no
 * whitespace), then hashed with SHA-1 to 40 lowercase hex, synchronously
 * (sha1.ts), so hashing runs unchanged in browsers, workerd and Node. Tags
 * are the exception: their id is redun's own tag hash (core/redun/), so a tag
 * has one id in redun and here. Records imported from redun keep redun's ids
 * and are verified with redun's formulas.
 */
import { sha1Hex, sha1Matches } from "./sha1.ts";
import { ValidationError } from "./errors.ts";
import { MAX_VALUE_DEPTH } from "./limits.ts";
import { taskFullName, type AnyRecord, type CallArgument, type CallNodeRecord, type JsonValue, type TagRecord } from "./records.ts";
import * as redun from "./redun/hash.ts";
import { jsonDumps, parsePyJson } from "./redun/py-json.ts";
import { verifyRedunValue } from "./redun/value.ts";

/**
 * JSON with sorted object keys and no whitespace; one text per JSON value.
 * Nesting deeper than `maxDepth` is bad input (a ValidationError), not a
 * stack overflow.
 */
export function canonicalJson(value: unknown, maxDepth = MAX_VALUE_DEPTH): string {
  return encode(value, maxDepth);
}

function encode(value: unknown, depth: number): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new ValidationError("value", `cannot encode non-finite number ${value}`);
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "undefined":
      return "null";
    case "object": {
      if (value === null) return "null";
      if (depth <= 0) throw new ValidationError("value", "value is nested too deeply");
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i++) out += (i ? "," : "") + encode(value[i] === undefined ? null : value[i], depth - 1);
        return out + "]";
      }
      if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
        return encode((value as { toJSON: () => unknown }).toJSON(), depth);
      }
      const keys = Object.keys(value).sort();
      let out = "{";
      let first = true;
      for (const k of keys) {
        const v = (value as Record<string, unknown>)[k];
        if (v === undefined || typeof v === "function") continue;
        out += (first ? "" : ",") + JSON.stringify(k) + ":" + encode(v, depth - 1);
        first = false;
      }
      return out + "}";
    }
    default:
      throw new ValidationError("value", `cannot encode a value of type ${typeof value}`);
  }
}

export function hashText(text: string): string {
  return sha1Hex(text);
}


/** The kind of a value as recorded in `ValueRecord.valueType`. */
export function valueTypeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/**
 * A task's hash. Source text is hashed with its white space runs folded, so a
 * `.ts` workflow whose types Node strips to blanks hashes as its `.js` twin.
 */
// Each hash is the SHA-1 of a pre-image, kept apart so a push can check an id
// against its pre-image (sha1Matches) without building the hash. Pre-images
// made only of strings are canonical as JSON.stringify writes them; building
// them directly keeps hashing off the scheduler's hot path.

function taskPreimage(namespace: string, name: string, version: string | null, source: string): string {
  return canonicalJson(["Task", taskFullName({ namespace, name }), version ?? source.replace(/\s+/g, " ").trim()]);
}

export function taskHash(namespace: string, name: string, version: string | null, source: string): string {
  return hashText(taskPreimage(namespace, name, version, source));
}

const valuePreimage = (valueType: string, encoded: string) => `["Value",${JSON.stringify(valueType)},${JSON.stringify(encoded)}]`;

export function valueHash(valueType: string, encoded: string): string {
  return hashText(valuePreimage(valueType, encoded));
}

const argsPreimage = (args: readonly CallArgument[]) => JSON.stringify(["Args", args.map((a) => [a.key, a.valueHash])]);

export function argsHash(args: readonly CallArgument[]): string {
  return hashText(argsPreimage(args));
}

const callNodePreimage = (task: string, args: string, result: string, children: readonly string[]) =>
  JSON.stringify(["CallNode", task, args, result, [...children].sort()]);

export function callNodeHash(task: string, args: string, result: string, children: readonly string[]): string {
  return hashText(callNodePreimage(task, args, result, children));
}

/**
 * A tag's id: redun's `hash_tag(entity_id, key, json_dumps(value), sorted(parents))`,
 * H(["Tag", entity id ("" for a delete record), key, value text, sorted
 * parents]) with SHA-512 over bencode. The value text is `valueText` when
 * given (a tag read from redun keeps the text its id was computed from), else
 * jsonDumps(value), the text redun would write for it.
 */
export function tagHash(entityId: string | null, key: string, value: JsonValue, parents: readonly string[], valueText?: string): string {
  return redun.hashStruct(redun.tagPreimage(entityId, key, valueText ?? jsonDumps(value), parents));
}

const evaluationPreimage = (task: string, args: string) => JSON.stringify(["Evaluation", task, args]);

export function evaluationHash(task: string, args: string): string {
  return hashText(evaluationPreimage(task, args));
}

/** Build a tag record with its id computed from its content. */
export function makeTag(
  entityType: TagRecord["entityType"],
  entityId: string | null,
  key: string,
  value: JsonValue,
  parents: readonly string[],
  time: number,
): TagRecord {
  const sorted = [...parents].sort();
  return { type: "Tag", id: tagHash(entityId, key, value, sorted), time, entityType, entityId, key, value, parents: sorted };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX40 = /^[0-9a-f]{40}$/;

/**
 * The pre-image a record's id must be the hash of, or null when the id is not
 * derived from content (Execution and Job: uuids; a Value kept as a preview,
 * whose full encoding is gone). Tags and records from redun are hashed by
 * redun's formulas instead (verifyRecordId).
 */
function idPreimage(record: AnyRecord): string | null {
  switch (record.type) {
    case "Task":
      return taskPreimage(record.namespace, record.name, record.version, record.source);
    case "Value":
      return record.preview ? null : valuePreimage(record.valueType, record.encoded);
    case "CallNode":
      return callNodePreimage(record.taskHash, record.argsHash, record.resultHash, record.children);
    case "Evaluation":
      return evaluationPreimage(record.taskHash, record.argsHash);
    default:
      return null;
  }
}

/** A tag's valueText, when it has one, must read back as its value. */
function valueTextAgrees(tag: TagRecord): boolean {
  if (tag.valueText === undefined) return true;
  if (typeof tag.valueText !== "string") return false;
  try {
    return canonicalJson(parsePyJson(tag.valueText)) === canonicalJson(tag.value);
  } catch {
    return false;
  }
}

/** redun's args hash of a call node: positional arguments by position ("0", "1", ...), the rest by keyword. */
function redunArgsPreimage(args: readonly CallArgument[]) {
  const positional = args.filter((a) => /^\d+$/.test(a.key)).sort((a, b) => Number(a.key) - Number(b.key));
  const keywords: Record<string, string> = {};
  for (const a of args) if (!/^\d+$/.test(a.key)) keywords[a.key] = a.valueHash;
  return redun.argsPreimage(positional.map((a) => a.valueHash), keywords);
}

/** A record imported from redun, checked by redun's formulas; an opaque id only for its form. */
function verifyRedunRecord(record: AnyRecord): boolean {
  switch (record.type) {
    case "Task": {
      if (record.redun!.opaque) return HEX40.test(record.id);
      return redun.hashStructMatches(redun.taskPreimage(taskFullName(record), record.version, record.source, record.redun!.optionsHash ?? null), record.id);
    }
    case "Value": {
      const verified = verifyRedunValue(record);
      return verified === null ? HEX40.test(record.id) : verified;
    }
    case "CallNode": {
      const node = record as CallNodeRecord;
      return (
        redun.hashStructMatches(redunArgsPreimage(node.args), node.argsHash) &&
        redun.hashStructMatches(redun.callNodePreimage(node.taskHash, node.argsHash, node.resultHash, node.children), node.id)
      );
    }
    case "Evaluation":
      return redun.hashStructMatches(redun.evaluationPreimage(record.taskHash, record.argsHash), record.id);
    default:
      return false;
  }
}

/** True when a record's id is well-formed and, where content-addressed, matches its content. */
export function verifyRecordId(record: AnyRecord): boolean {
  if (record.type === "Execution" || record.type === "Job") return UUID.test(record.id);
  if (record.type === "Tag") {
    return (
      valueTextAgrees(record) &&
      redun.hashStructMatches(redun.tagPreimage(record.entityId, record.key, record.valueText ?? jsonDumps(record.value), record.parents), record.id)
    );
  }
  if ("redun" in record && record.redun !== undefined) return typeof record.redun === "object" && record.redun !== null && verifyRedunRecord(record);
  if (record.type === "CallNode" && !sha1Matches(argsPreimage(record.args), record.argsHash)) return false;
  // An id equal to a computed hash is well-formed; only an id not derived from content needs the pattern.
  const preimage = idPreimage(record);
  return preimage === null ? HEX40.test(record.id) : sha1Matches(preimage, record.id);
}
