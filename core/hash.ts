/**
 * Canonical encoding and content hashing. Every pre-image is a JSON array
 * starting with its record type, encoded canonically (object keys sorted, no
 * whitespace), then hashed with SHA-1 (as redun does) to 40 lowercase hex,
 * synchronously (sha1.ts), so hashing runs unchanged in browsers, workerd and Node.
 */
import { sha1Hex, sha1Matches } from "./sha1.ts";
import { ValidationError } from "./errors.ts";
import { MAX_VALUE_DEPTH } from "./limits.ts";
import type { AnyRecord, CallArgument, JsonValue, TagRecord } from "./records.ts";

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
  const fullName = namespace ? `${namespace}.${name}` : name;
  return canonicalJson(["Task", fullName, version ?? source.replace(/\s+/g, " ").trim()]);
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

/** canonicalJson(["Tag", entityId, key, value, sorted parents]), written out: a push verifies every tag's id. */
function tagPreimage(entityId: string | null, key: string, value: JsonValue, parents: readonly string[]): string {
  const sorted = parents.length < 2 ? parents : [...parents].sort();
  return `["Tag",${entityId === null ? "null" : JSON.stringify(entityId)},${JSON.stringify(key)},${canonicalJson(value)},${canonicalJson(sorted)}]`;
}

export function tagHash(entityId: string | null, key: string, value: JsonValue, parents: readonly string[]): string {
  return hashText(tagPreimage(entityId, key, value, parents));
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

/**
 * The pre-image a record's id must be the hash of, or null when the id is not
 * derived from content (Execution and Job: uuids; a Value kept as a preview,
 * whose full encoding is gone).
 */
function idPreimage(record: AnyRecord): string | null {
  switch (record.type) {
    case "Task":
      return taskPreimage(record.namespace, record.name, record.version, record.source);
    case "Value":
      return record.preview ? null : valuePreimage(record.valueType, record.encoded);
    case "CallNode":
      return callNodePreimage(record.taskHash, record.argsHash, record.resultHash, record.children);
    case "Tag":
      return tagPreimage(record.entityId, record.key, record.value, record.parents);
    case "Evaluation":
      return evaluationPreimage(record.taskHash, record.argsHash);
    default:
      return null;
  }
}

/** The id a record must have given its content, or null when its id is not derived from content. */
export function expectedId(record: AnyRecord): string | null {
  const preimage = idPreimage(record);
  return preimage === null ? null : hashText(preimage);
}

/** True when a record's id is well-formed and, where content-addressed, matches its content. */
export function verifyRecordId(record: AnyRecord): boolean {
  if (record.type === "Execution" || record.type === "Job") return UUID.test(record.id);
  if (record.type === "CallNode" && !sha1Matches(argsPreimage(record.args), record.argsHash)) return false;
  // An id equal to a computed hash is well-formed; only an id not derived from content needs the pattern.
  const preimage = idPreimage(record);
  return preimage === null ? /^[0-9a-f]{40}$/.test(record.id) : sha1Matches(preimage, record.id);
}
