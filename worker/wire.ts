/**
 * The part of the API contract that runs on both sides and needs no zod, so
 * the HTTP client (and the inspector's page, which bundles it) carries none:
 * the per-call limits, and the one codec between a core Query and the query
 * parameters of GET /api/records. The schemas themselves are in contract.ts.
 */
import { ENTITY_TYPES, EXECUTION_STATUSES, JOB_STATUSES, TagParseError, ValidationError, formatTagValue, parseTagKeyValue, toTagFilter, type EntityType, type ExecutionStatus, type JobStatus, type JsonValue, type Query, type TagFilter } from "../core/index.ts";
import { MAX_LIMIT, QUERY_FIELDS, encodeCursor, quoted, type NormalizedQuery, type NormalizedTagFilter } from "../core/adapter-kit.ts";

/** Ids (or prefixes, keys, tags) accepted in one call; clients split larger sets. */
export const MAX_IDS = 1000;
/** Records in one pull / export page. */
export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 500;

/** Repeatable parameters of GET /api/records (each also comma-separable where it is an enum). */
export const RECORDS_LIST_PARAMS = ["tag", "tag_json", "exec_tag", "exec_tag_json", "type", "exec_status", "job_status", "task", "exec_id"] as const;
/** Parameters of GET /api/records given at most once. */
export const RECORDS_ONE_PARAMS = ["id_prefix", "limit", "cursor"] as const;

/** GET /api/records query parameters as the server reads them (a repeated parameter is a list). */
export type RecordsParams = { [K in (typeof RECORDS_LIST_PARAMS)[number]]?: string[] } & {
  [K in (typeof RECORDS_ONE_PARAMS)[number]]?: string;
};

// ---- encoding (the client) ----------------------------------------------------

/**
 * A tag filter as a parameter: `k=v` / `k` text where that reads back the
 * same (readable URLs), else (a key containing `=`) its JSON `[k, v]` / `[k]`
 * under the `_json` twin of the parameter.
 */
function putFilter(out: RecordsParams, param: "tag" | "exec_tag", filter: TagFilter): void {
  const [key] = filter;
  if (key.includes("=")) (out[`${param}_json`] ??= []).push(JSON.stringify(filter));
  else (out[param] ??= []).push(filter.length === 1 ? key : `${key}=${formatTagValue(filter[1] as JsonValue)}`);
}

/** A core Query as GET /api/records parameters (checked by the server, which normalizes it once). */
export function encodeRecordsQuery(query: Query): RecordsParams {
  const unknown = Object.keys(query).filter((k) => !QUERY_FIELDS.has(k));
  if (unknown.length) throw new ValidationError(unknown[0]!, `unknown query field ${quoted(unknown[0])}`);
  const out: RecordsParams = {};
  query.tags?.forEach((f) => putFilter(out, "tag", f));
  query.execTags?.forEach((f) => putFilter(out, "exec_tag", f));
  const lists = { type: query.types, exec_status: query.execStatus, job_status: query.jobStatus, task: query.taskNames, exec_id: query.execIds };
  for (const [param, values] of Object.entries(lists)) if (values?.length) out[param as keyof typeof lists] = [...values];
  if (query.idPrefix) out.id_prefix = query.idPrefix;
  if (query.limit !== undefined) out.limit = String(query.limit);
  if (query.cursor) out.cursor = query.cursor;
  return out;
}

function filters(list: readonly NormalizedTagFilter[]): TagFilter[] {
  return list.map((f) => (f.valueJson === null ? [f.key] : [f.key, JSON.parse(f.valueJson) as JsonValue]));
}

/** A normalized query as the plain Query of POST /api/repository/query (lossless; the server normalizes it once). */
export function wireQuery(q: NormalizedQuery): Query {
  return {
    types: q.types,
    tags: filters(q.tags),
    execTags: filters(q.execTags),
    execStatus: q.execStatus,
    jobStatus: q.jobStatus,
    taskNames: q.taskNames,
    execIds: q.execIds,
    ...(q.idPrefix ? { idPrefix: q.idPrefix } : {}),
    limit: q.limit,
    ...(q.after ? { cursor: encodeCursor(q.after) } : {}),
  };
}

// ---- decoding (the server) ----------------------------------------------------

function tagFilter(param: string, text: string): TagFilter {
  try {
    return toTagFilter(parseTagKeyValue(text, { valueRequired: false }));
  } catch (e) {
    if (e instanceof TagParseError) throw new ValidationError(param, `${param}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** `["k"]` / `["k", v]` JSON: a filter on any key, `=` included. */
function jsonFilter(param: string, text: string): TagFilter {
  let filter: unknown;
  try {
    filter = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(param, `${param}: malformed JSON (${(e as Error).message})`, { cause: e });
  }
  const ok = Array.isArray(filter) && (filter.length === 1 || filter.length === 2) && typeof filter[0] === "string" && filter[0] !== "";
  if (!ok) throw new ValidationError(param, `${param} must be JSON ["key"] or ["key", value] with a non-empty key`);
  return filter as TagFilter;
}

/** Enum values, case-insensitively, also comma-separated (`type=Job,Task`). */
function enumValues<T extends string>(param: string, values: readonly string[], allowed: readonly T[]): T[] {
  return values.flatMap((v) => v.split(",")).filter((v) => v !== "").map((v) => {
    const hit = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
    if (!hit) throw new ValidationError(param, `${param}: unknown value ${quoted(v)} (expected one of ${allowed.join(", ")})`);
    return hit;
  });
}

/** A positive integer parameter, capped at `max`. */
export function positiveInt(field: string, text: string, max: number): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < 1) throw new ValidationError(field, `${field} must be a positive integer, got ${quoted(text)}`);
  return Math.min(Number(text), max);
}

/** Query field -> the parameter it comes from (to name parameters in errors). */
const PARAM_OF_FIELD = new Map<string, string>([
  ["types", "type"], ["tags", "tag"], ["execTags", "exec_tag"], ["execStatus", "exec_status"], ["jobStatus", "job_status"],
  ["taskNames", "task"], ["execIds", "exec_id"], ["idPrefix", "id_prefix"], ["limit", "limit"], ["cursor", "cursor"],
]);

/** GET /api/records parameters as a core Query (normalized once, by CallGraph.log: see `paramError`). */
export function decodeRecordsParams(p: RecordsParams): Query {
  const q: Query = {};
  const tags = [...(p.tag ?? []).map((t) => tagFilter("tag", t)), ...(p.tag_json ?? []).map((t) => jsonFilter("tag_json", t))];
  const execTags = [...(p.exec_tag ?? []).map((t) => tagFilter("exec_tag", t)), ...(p.exec_tag_json ?? []).map((t) => jsonFilter("exec_tag_json", t))];
  if (tags.length) q.tags = tags;
  if (execTags.length) q.execTags = execTags;
  if (p.type) q.types = enumValues<EntityType>("type", p.type, ENTITY_TYPES);
  if (p.exec_status) q.execStatus = enumValues<ExecutionStatus>("exec_status", p.exec_status, EXECUTION_STATUSES);
  if (p.job_status) q.jobStatus = enumValues<JobStatus>("job_status", p.job_status, JOB_STATUSES);
  if (p.task) q.taskNames = p.task;
  if (p.exec_id) q.execIds = p.exec_id;
  if (p.id_prefix) q.idPrefix = p.id_prefix;
  if (p.limit !== undefined) q.limit = positiveInt("limit", p.limit, MAX_LIMIT);
  if (p.cursor) q.cursor = p.cursor;
  return q;
}

/** A refusal of a decoded query's field (`tags`) renamed to the parameter it came from (`tag`). */
export function paramError(e: unknown): unknown {
  const param = e instanceof ValidationError ? PARAM_OF_FIELD.get(e.field) : undefined;
  return param ? new ValidationError(param, (e as Error).message, { cause: e }) : e;
}
