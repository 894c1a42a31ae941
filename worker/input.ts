/**
 * Input checks for the API. Every request is read and checked completely
 * before anything is written, and every problem is a ValidationError naming
 * the field or query parameter, so a bad request is a 400 that writes nothing.
 */
import {
  ANY_VALUE,
  ENTITY_TYPES,
  EXECUTION_STATUSES,
  JOB_STATUSES,
  RECORD_TYPES,
  TagParseError,
  ValidationError,
  parseTagKeyValue,
  toTagFilter,
  type EntityType,
  type ExecutionStatus,
  type JobStatus,
  type JsonValue,
  type Query,
  type RecordType,
  type TagFilter,
  type TagPair,
} from "../core/index.ts";
import {
  MAX_EDIT_PREFIXES,
  MAX_LIMIT,
  MAX_PREFIX_CHARS,
  quoted,
  fieldName,
  isIdPrefix,
  normalizeQuery,
} from "../core/adapter-kit.ts";
import type { AnyValue } from "../core/index.ts";

/** Ids (or prefixes, keys, tags) accepted in one call; clients split larger sets. */
export const MAX_IDS = 1000;
/** Records in one pull / export page. */
export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 500;

type Params = Record<string, string | string[]>;
type Body = Record<string, unknown>;

const isObject = (v: unknown): v is Body => typeof v === "object" && v !== null && !Array.isArray(v);

function rejectUnknown(where: "query parameter" | "field", given: Iterable<string>, allowed: readonly string[]): void {
  const unknown = [...given].filter((k) => !allowed.includes(k));
  if (unknown.length) {
    throw new ValidationError(
      fieldName(unknown[0]!),
      `unknown ${where}${unknown.length > 1 ? "s" : ""} ${unknown.slice(0, 5).map((k) => quoted(k)).join(", ")}${unknown.length > 5 ? ", ..." : ""} (expected ${allowed.join(", ")})`,
    );
  }
}

// ---- query parameters -------------------------------------------------------

const list = (v: string | string[] | undefined): string[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

function single(params: Params, name: string): string | undefined {
  const v = params[name];
  if (Array.isArray(v)) throw new ValidationError(name, `query parameter ${name} given more than once`);
  return v;
}

export const RECORDS_PARAMS = [
  "tag", "exec_tag", "type", "exec_status", "job_status", "task", "exec_id", "id_prefix", "limit", "cursor",
] as const;

/** GET /api/records query parameters, as checked by the route's validator. */
export interface RecordsParams {
  tag?: string[];
  exec_tag?: string[];
  type?: string[];
  exec_status?: string[];
  job_status?: string[];
  task?: string[];
  exec_id?: string[];
  id_prefix?: string;
  limit?: string;
  cursor?: string;
}

export function recordsParams(params: Params): RecordsParams {
  rejectUnknown("query parameter", Object.keys(params), RECORDS_PARAMS);
  const out: RecordsParams = {};
  for (const name of ["tag", "exec_tag", "type", "exec_status", "job_status", "task", "exec_id"] as const) {
    const v = list(params[name]);
    if (v) out[name] = v;
  }
  for (const name of ["id_prefix", "limit", "cursor"] as const) {
    const v = single(params, name);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** `k=v` / `k` as a query filter; a bare key matches any value. */
export function tagFilter(param: string, text: string): TagFilter {
  try {
    return toTagFilter(parseTagKeyValue(text, { valueRequired: false }));
  } catch (e) {
    if (e instanceof TagParseError) throw new ValidationError(param, `${param}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** Enum values, case-insensitively, also comma-separated (`type=Job,Task`). */
function enumValues<T extends string>(param: string, values: string[], allowed: readonly T[]): T[] {
  return values.flatMap((v) => v.split(",")).filter((v) => v !== "").map((v) => {
    const hit = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
    if (!hit) throw new ValidationError(param, `${param}: unknown value ${quoted(v)} (expected one of ${allowed.join(", ")})`);
    return hit;
  });
}

export function positiveInt(field: string, text: string, max: number): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < 1) throw new ValidationError(field, `${field} must be a positive integer, got ${quoted(text)}`);
  return Math.min(Number(text), max);
}

/** Query field -> the query parameter it comes from (to name parameters in errors). */
const PARAM_OF_FIELD = new Map<string, string>([
  ["types", "type"], ["tags", "tag"], ["execTags", "exec_tag"], ["execStatus", "exec_status"], ["jobStatus", "job_status"],
  ["taskNames", "task"], ["execIds", "exec_id"], ["idPrefix", "id_prefix"], ["limit", "limit"], ["cursor", "cursor"],
]);

/** Build the core Query of GET /api/records; checked by normalizeQuery too, errors naming parameters. */
export function recordsQuery(p: RecordsParams): Query {
  const q: Query = {};
  if (p.tag) q.tags = p.tag.map((t) => tagFilter("tag", t));
  if (p.exec_tag) q.execTags = p.exec_tag.map((t) => tagFilter("exec_tag", t));
  if (p.type) q.types = enumValues<EntityType>("type", p.type, ENTITY_TYPES);
  if (p.exec_status) q.execStatus = enumValues<ExecutionStatus>("exec_status", p.exec_status, EXECUTION_STATUSES);
  if (p.job_status) q.jobStatus = enumValues<JobStatus>("job_status", p.job_status, JOB_STATUSES);
  if (p.task) q.taskNames = p.task;
  if (p.exec_id) q.execIds = p.exec_id;
  if (p.id_prefix) q.idPrefix = p.id_prefix;
  if (p.limit !== undefined) q.limit = positiveInt("limit", p.limit, MAX_LIMIT);
  if (p.cursor) q.cursor = p.cursor;
  try {
    normalizeQuery(q);
  } catch (e) {
    const param = e instanceof ValidationError ? PARAM_OF_FIELD.get(e.field) : undefined;
    if (param) throw new ValidationError(param, (e as Error).message, { cause: e });
    throw e;
  }
  return q;
}

export interface TagsParams {
  values?: string;
  key?: string[];
}

export function tagsParams(params: Params): TagsParams {
  rejectUnknown("query parameter", Object.keys(params), ["values", "key"]);
  const out: TagsParams = {};
  const values = single(params, "values");
  if (values !== undefined) {
    if (!["", "0", "1", "true", "false"].includes(values)) throw new ValidationError("values", "values must be 1 or 0");
    out.values = values;
  }
  const key = list(params.key);
  if (key) out.key = key;
  return out;
}

export interface PullParams {
  cursor?: string;
  limit?: string;
}

export function pullParams(params: Params): PullParams {
  rejectUnknown("query parameter", Object.keys(params), ["cursor", "limit"]);
  const out: PullParams = {};
  const cursor = single(params, "cursor");
  if (cursor !== undefined) out.cursor = cursor;
  const limit = single(params, "limit");
  if (limit !== undefined) {
    positiveInt("limit", limit, MAX_PAGE);
    out.limit = limit;
  }
  return out;
}

// ---- JSON bodies ------------------------------------------------------------

function body(value: unknown, allowed: readonly string[]): Body {
  if (!isObject(value)) throw new ValidationError("body", "request body must be a JSON object");
  rejectUnknown("field", Object.keys(value), allowed);
  return value;
}

function stringArray(field: string, v: unknown, options: { max?: number; nonEmpty?: boolean } = {}): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) throw new ValidationError(field, `${field} must be a list of strings`);
  const max = options.max ?? MAX_IDS;
  if (v.length > max) throw new ValidationError(field, `${field}: at most ${max} per call, got ${v.length}`);
  if (options.nonEmpty && v.some((s) => s === "")) throw new ValidationError(field, `${field}: empty string`);
  return v as string[];
}

function string(field: string, v: unknown, nonEmpty = false): string {
  if (typeof v !== "string") throw new ValidationError(field, `${field} must be a string`);
  if (nonEmpty && v === "") throw new ValidationError(field, `${field} must not be empty`);
  return v;
}

function integer(field: string, v: unknown, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new ValidationError(field, `${field} must be a positive integer`);
  return Math.min(v, max);
}

const required = (b: Body, field: string): unknown => {
  if (b[field] === undefined) throw new ValidationError(field, `missing field ${quoted(field)}`);
  return b[field];
};

/** One tag of an edit body: `"k=v"` text, or `[k, v]`; `"k"` / `[k]` (every value of k) only for rm. */
export type TagItem = string | [string] | [string, JsonValue];

export type TagEditBody =
  | { op: "add" | "update"; tags: TagItem[]; prefixes?: string[] }
  | { op: "rm"; tags?: TagItem[]; keys?: string[]; prefixes?: string[] }
  | { op: "rename"; from: string; to: string; prefixes?: string[] };

const OPS = ["add", "update", "rm", "rename"] as const;

function tagItems(v: unknown): TagItem[] {
  if (!Array.isArray(v)) throw new ValidationError("tags", 'tags must be a list of "k=v" strings or [k, v] pairs');
  if (v.length > MAX_IDS) throw new ValidationError("tags", `tags: at most ${MAX_IDS} per call`);
  v.forEach((item: unknown, i) => {
    const ok =
      typeof item === "string" ||
      (Array.isArray(item) && (item.length === 1 || item.length === 2) && typeof item[0] === "string" && item[0] !== "");
    if (!ok) throw new ValidationError(`tags[${i}]`, `tags[${i}] must be "k=v" or [k, v] with a non-empty key`);
  });
  return v as TagItem[];
}

/** POST /api/records/:prefix/tags body (shape only; tag text is read by `tagPairs`). */
export function tagEditBody(value: unknown): TagEditBody {
  if (!isObject(value)) throw new ValidationError("body", "request body must be a JSON object");
  const op = value.op;
  if (!OPS.includes(op as (typeof OPS)[number])) {
    throw new ValidationError("op", `op must be one of ${OPS.join(", ")}, got ${quoted(op)}`);
  }
  // The path names one record; `prefixes` the others.
  const prefixes = value.prefixes === undefined ? undefined : stringArray("prefixes", value.prefixes, { max: MAX_EDIT_PREFIXES - 1 });
  const withPrefixes = <T extends object>(b: T) => (prefixes ? { ...b, prefixes } : b);
  switch (op) {
    case "add":
    case "update": {
      const b = body(value, ["op", "tags", "prefixes"]);
      const tags = tagItems(required(b, "tags"));
      if (tags.length === 0) throw new ValidationError("tags", `nothing to ${op}: tags is empty`);
      return withPrefixes({ op, tags });
    }
    case "rm": {
      const b = body(value, ["op", "tags", "keys", "prefixes"]);
      const tags = b.tags === undefined ? undefined : tagItems(b.tags);
      const keys = b.keys === undefined ? undefined : stringArray("keys", b.keys, { nonEmpty: true });
      if (!tags?.length && !keys?.length) throw new ValidationError("tags", "nothing to remove: give tags or keys");
      return withPrefixes({ op, ...(tags ? { tags } : {}), ...(keys ? { keys } : {}) });
    }
    default: {
      const b = body(value, ["op", "from", "to", "prefixes"]);
      return withPrefixes({ op: "rename" as const, from: string("from", required(b, "from"), true), to: string("to", required(b, "to"), true) });
    }
  }
}

/** Read the tags of an edit: text through core's tag parser; key-only items only where allowed. */
export function tagPairs(items: readonly TagItem[], keyOnly: false): TagPair[];
export function tagPairs(items: readonly TagItem[], keyOnly: true): [string, JsonValue | AnyValue][];
export function tagPairs(items: readonly TagItem[], keyOnly: boolean): [string, JsonValue | AnyValue][] {
  return items.map((item, i) => {
    if (typeof item === "string") return parseTagKeyValue(item, { valueRequired: !keyOnly });
    if (item.length === 1) {
      if (!keyOnly) throw new ValidationError(`tags[${i}]`, `tags[${i}]: [key] without a value is only allowed for rm`);
      return [item[0], ANY_VALUE];
    }
    return [item[0], item[1]];
  });
}

// ---- repository primitives --------------------------------------------------

export function getBody(value: unknown): { type: RecordType; ids: string[] } {
  const b = body(value, ["type", "ids"]);
  const type = required(b, "type");
  if (!RECORD_TYPES.includes(type as RecordType)) {
    throw new ValidationError("type", `type: unknown record type ${quoted(type)} (expected one of ${RECORD_TYPES.join(", ")})`);
  }
  return { type: type as RecordType, ids: stringArray("ids", required(b, "ids")) };
}

export function findByPrefixBody(value: unknown): { prefixes: string[]; types: RecordType[]; limit: number } {
  const b = body(value, ["prefixes", "types", "limit"]);
  const prefixes = stringArray("prefixes", required(b, "prefixes"), { max: MAX_EDIT_PREFIXES });
  prefixes.forEach((prefix, i) => {
    if (!isIdPrefix(prefix) || prefix.length > MAX_PREFIX_CHARS) {
      throw new ValidationError(`prefixes[${i}]`, `prefixes[${i}] must be lowercase hex of at most ${MAX_PREFIX_CHARS} characters`);
    }
  });
  const types = stringArray("types", required(b, "types"), { max: RECORD_TYPES.length * 2 });
  for (const type of types) {
    if (!RECORD_TYPES.includes(type as RecordType)) {
      throw new ValidationError("types", `types: unknown record type ${quoted(type)} (expected ${RECORD_TYPES.join(", ")})`);
    }
  }
  return { prefixes, types: types as RecordType[], limit: integer("limit", required(b, "limit"), MAX_IDS) };
}

export function queryBody(value: unknown): { query: Query } {
  const b = body(value, ["query"]);
  const query = required(b, "query");
  if (!isObject(query)) throw new ValidationError("query", "query must be an object");
  normalizeQuery(query as Query);
  return { query: query as Query };
}

export function entityIdsBody(value: unknown): { entityIds: string[] } {
  const b = body(value, ["entityIds"]);
  return { entityIds: stringArray("entityIds", required(b, "entityIds")) };
}

export function tagIdsBody(value: unknown): { tagIds: string[] } {
  const b = body(value, ["tagIds"]);
  return { tagIds: stringArray("tagIds", required(b, "tagIds")) };
}

export function countTagsBody(value: unknown): { values: boolean; keys?: string[] } {
  const b = body(value, ["values", "keys"]);
  if (b.values !== undefined && typeof b.values !== "boolean") throw new ValidationError("values", "values must be a boolean");
  const keys = b.keys === undefined ? undefined : stringArray("keys", b.keys);
  return { values: (b.values as boolean | undefined) ?? false, ...(keys ? { keys } : {}) };
}

export function jobsOfExecutionBody(value: unknown): { executionId: string } {
  const b = body(value, ["executionId"]);
  return { executionId: string("executionId", required(b, "executionId"), true) };
}

export function jobsOfValuesBody(value: unknown): { valueIds: string[]; limit: number } {
  const b = body(value, ["valueIds", "limit"]);
  return { valueIds: stringArray("valueIds", required(b, "valueIds")), limit: b.limit === undefined ? DEFAULT_PAGE : integer("limit", b.limit, MAX_PAGE) };
}

export function exportSinceBody(value: unknown): { cursor: string | null; limit: number } {
  const b = body(value, ["cursor", "limit"]);
  if (b.cursor !== undefined && b.cursor !== null && typeof b.cursor !== "string") throw new ValidationError("cursor", "cursor must be a string or null");
  return { cursor: (b.cursor as string | null | undefined) ?? null, limit: b.limit === undefined ? DEFAULT_PAGE : integer("limit", b.limit, MAX_PAGE) };
}

/** A push body: `{ records }`. */
export interface PushBody {
  records: unknown[];
}

export function pushBody(value: unknown): PushBody {
  const b = body(value, ["records"]);
  const records = required(b, "records");
  if (!Array.isArray(records)) throw new ValidationError("records", "records must be a list of records");
  return { records };
}

/** JSON lines: one record per non-blank line. */
export function ndjsonRecords(text: string): unknown[] {
  const records: unknown[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      records.push(JSON.parse(line));
    } catch (e) {
      throw new ValidationError("body", `line ${i + 1}: malformed JSON (${(e as Error).message})`);
    }
  });
  return records;
}
