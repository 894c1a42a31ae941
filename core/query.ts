/**
 * The query model: one plain JSON object used by every adapter, the HTTP API
 * and the CLI. `normalizeQuery` validates it and fixes its meaning; adapters
 * run the normalized form (`Repository.query`); the memory adapter's is the
 * reference evaluation, and the conformance suite holds every other adapter
 * to the same answers.
 *
 * Meaning:
 * - `types`: which record types (default ["Execution"]).
 * - `tags`: every filter must match a current tag of the record itself;
 *   `[key]` matches any value, `[key, value]` one value by JSON equality
 *   (3.2 = 3.20, 3 != "3", null matches null).
 * - `execTags`, `execStatus`, `execIds` select a set of executions; a record
 *   matches when it is related to one of them: an Execution is itself, a Job
 *   its execution, a CallNode / Task via any job of those executions with that
 *   call / task, a Value via such a job's call: its result or one of its
 *   arguments (as redun's `filter_execution_tags`).
 * - `jobStatus`: only Jobs with one of these statuses.
 * - `taskNames`: Jobs, CallNodes and Tasks of a task named so (by `name` or
 *   `namespace.name`), and Executions whose root job ran such a task.
 * - `idPrefix`: ids starting with it.
 * - Order: newest first by `time`, then by id, both descending; `limit`
 *   (default 100, at most 1000) and an opaque `cursor` page through them.
 */
import { canonicalJson } from "./hash.ts";
import { ValidationError, fieldName, quoted } from "./errors.ts";
import { checkTagKey, checkTagValue, checkText, isWellFormedText } from "./validate.ts";
import type { QueryPage } from "./repository.ts";
import {
  ENTITY_TYPES,
  EXECUTION_STATUSES,
  JOB_STATUSES,
  isIdPrefix,
  type EntityType,
  type ExecutionStatus,
  type JobStatus,
  type JsonValue,
  type RecordType,
} from "./records.ts";

/** `[key]` (any value) or `[key, value]`. */
export type TagFilter = [key: string] | [key: string, value: JsonValue];

export interface Query {
  types?: EntityType[];
  tags?: TagFilter[];
  execTags?: TagFilter[];
  execStatus?: ExecutionStatus[];
  jobStatus?: JobStatus[];
  taskNames?: string[];
  execIds?: string[];
  idPrefix?: string;
  limit?: number;
  cursor?: string | null;
}

export interface NormalizedTagFilter {
  key: string;
  /** Canonical JSON of the value, or null for "any value". */
  valueJson: string | null;
}

export interface QueryCursor {
  time: number;
  id: string;
}

export interface NormalizedQuery {
  types: EntityType[];
  tags: NormalizedTagFilter[];
  execTags: NormalizedTagFilter[];
  execStatus: ExecutionStatus[];
  jobStatus: JobStatus[];
  taskNames: string[];
  execIds: string[];
  idPrefix: string | null;
  limit: number;
  /** Return only records strictly older than this (time, id). */
  after: QueryCursor | null;
}

const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/** The fields a Query may have; any other is refused, naming it. */
export const QUERY_FIELDS: ReadonlySet<string> = new Set([
  "types", "tags", "execTags", "execStatus", "jobStatus", "taskNames", "execIds", "idPrefix", "limit", "cursor",
]);

export function encodeCursor(cursor: QueryCursor): string {
  return `${cursor.time}~${cursor.id}`;
}

function decodeCursor(text: string): QueryCursor {
  const at = text.indexOf("~");
  const time = Number(text.slice(0, at));
  const id = text.slice(at + 1);
  if (at <= 0 || !Number.isFinite(time) || id === "" || id.length > 128 || !isWellFormedText(id)) {
    throw new ValidationError("cursor", `malformed cursor: ${quoted(text)}`);
  }
  return { time, id };
}

function stringList(field: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new ValidationError(field, `${field} must be a list of strings`);
  }
  for (const v of value) checkText(field, v);
  return value as string[];
}

function enumList<T extends string>(field: string, value: unknown, allowed: readonly T[]): T[] {
  const list = stringList(field, value);
  for (const v of list) {
    if (!allowed.includes(v as T)) {
      throw new ValidationError(field, `${field}: unknown value ${quoted(v)} (expected one of ${allowed.join(", ")})`);
    }
  }
  return list as T[];
}

function normalizeTagFilters(field: string, value: unknown): NormalizedTagFilter[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ValidationError(field, `${field} must be a list of [key] or [key, value]`);
  return value.map((filter: unknown) => {
    if (!Array.isArray(filter) || filter.length < 1 || filter.length > 2 || typeof filter[0] !== "string" || filter[0] === "") {
      throw new ValidationError(field, `${field}: each filter must be [key] or [key, value] with a non-empty key`);
    }
    // By the tag rules: a filter no tag could satisfy is bad input, and its value is hashed below.
    checkTagKey(field, filter[0]);
    if (filter.length === 2) checkTagValue(field, filter[1]);
    return { key: filter[0], valueJson: filter.length === 2 ? canonicalJson(filter[1] as JsonValue) : null };
  });
}

/** Validate a query and fill in its defaults. Throws ValidationError naming the field. */
export function normalizeQuery(query: Query = {}): NormalizedQuery {
  if (query === null || typeof query !== "object" || Array.isArray(query)) {
    throw new ValidationError("query", "query must be an object");
  }
  for (const field of Object.keys(query)) {
    if (!QUERY_FIELDS.has(field)) throw new ValidationError(fieldName(field), `unknown query field ${quoted(field)}`);
  }
  const types = enumList("types", query.types, ENTITY_TYPES);
  let limit = DEFAULT_LIMIT;
  if (query.limit !== undefined) {
    if (!Number.isInteger(query.limit) || query.limit < 1) {
      throw new ValidationError("limit", "limit must be a positive integer");
    }
    limit = Math.min(query.limit, MAX_LIMIT);
  }
  if (query.idPrefix !== undefined && (typeof query.idPrefix !== "string" || !isIdPrefix(query.idPrefix))) {
    throw new ValidationError("idPrefix", "idPrefix must be lowercase hex");
  }
  if (query.cursor !== undefined && query.cursor !== null && typeof query.cursor !== "string") {
    throw new ValidationError("cursor", "cursor must be a string");
  }
  return {
    types: types.length > 0 ? [...new Set(types)] : ["Execution"],
    tags: normalizeTagFilters("tags", query.tags),
    execTags: normalizeTagFilters("execTags", query.execTags),
    execStatus: enumList("execStatus", query.execStatus, EXECUTION_STATUSES),
    jobStatus: enumList("jobStatus", query.jobStatus, JOB_STATUSES),
    taskNames: stringList("taskNames", query.taskNames),
    execIds: stringList("execIds", query.execIds),
    idPrefix: query.idPrefix ? query.idPrefix : null,
    limit,
    after: query.cursor ? decodeCursor(query.cursor) : null,
  };
}

/** True when the query restricts records to those of some executions. */
export function hasExecutionFilter(q: NormalizedQuery): boolean {
  return q.execTags.length > 0 || q.execStatus.length > 0 || q.execIds.length > 0;
}

/** Sort order of every query: time desc, then id desc. */
export function compareNewestFirst(a: { time: number; id: string }, b: { time: number; id: string }): number {
  if (a.time !== b.time) return b.time - a.time;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** Order of `Repository.findByPrefix` answers: by id, then by type. */
export function compareRefsById(a: { type: string; id: string }, b: { type: string; id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : a.type < b.type ? -1 : a.type > b.type ? 1 : 0;
}

/**
 * The page of a query from its matches, newest first: the first `limit`, and
 * a cursor after the last of them when there are more (stores fetch
 * limit + 1 matches to tell).
 */
export function pageOf(found: readonly { type: RecordType; id: string; time: number }[], limit: number): QueryPage {
  const page = found.slice(0, limit);
  const last = page[page.length - 1];
  return {
    refs: page.map((r) => ({ type: r.type, id: r.id })),
    cursor: found.length > limit && last ? encodeCursor({ time: last.time, id: last.id }) : null,
  };
}

/** True when `r` comes after the cursor in newest-first order. */
export function isAfterCursor(r: { time: number; id: string }, after: QueryCursor | null): boolean {
  if (!after) return true;
  return r.time < after.time || (r.time === after.time && r.id < after.id);
}
