/**
 * The HTTP adapter: a Repository, and a high-level client, over the API of
 * worker/app.ts. Only `fetch`, so it bundles for browsers, workerd and Node.
 *
 * Server errors come back as core's typed errors (UnknownIdError,
 * AmbiguousIdError with its candidates, ValidationError with its field), so
 * code above a remote store behaves as it does above a local one.
 */
import {
  AmbiguousIdError,
  RepositoryError,
  TooLargeError,
  UnknownIdError,
  ValidationError,
  formatTagValue,
  type Candidate,
  type JsonValue,
  type LogResult,
  type Query,
  type RecordDetail,
  type RecordOf,
  type RecordRef,
  type RecordType,
  type Repository,
  type TagCount,
  type TagEditResult,
  type TagFilter,
  type TagRecord,
  type JobRecord,
} from "../../core/index.ts";
import {
  MAX_EDIT_PREFIXES,
  QUERY_FIELDS,
  quoted,
  assertWritable,
  compareNewestFirst,
  encodeCursor,
  type ExportPage,
  type NormalizedQuery,
  type NormalizedTagFilter,
  type QueryPage,
  type RepositoryCapabilities,
  type TagCountQuery,
} from "../../core/adapter-kit.ts";

export interface HttpOptions {
  /** The server, e.g. `http://127.0.0.1:8787` (a trailing `/api` is accepted too). */
  url: string;
  /** Bearer token for writes, when the server has one. */
  token?: string | undefined;
  /** A fetch to use instead of the global one (tests: `app.request`; custom agents). */
  fetch?: ((input: string, init?: RequestInit) => Promise<Response>) | undefined;
  /** Extra headers for every request. */
  headers?: Record<string, string> | undefined;
  /** Largest push request body in bytes (default 4 MB; the server's default limit is 10 MB). */
  chunkBytes?: number | undefined;
}

/** Ids per request: the server's cap (worker/input.ts MAX_IDS). */
const IDS_PER_CALL = 1000;
const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;
/** Prefixes per find-by-prefix request: the server's cap (core MAX_EDIT_PREFIXES). */
const PREFIXES_PER_CALL = MAX_EDIT_PREFIXES;

/** The server answered with an error that has no closer core type (5xx, 413, 415, unknown route). */
export class HttpError extends RepositoryError {
  readonly status: number;
  /** The API's `error.code`. */
  readonly serverCode: string;
  constructor(status: number, serverCode: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
    this.serverCode = serverCode;
  }
}

/** 401: the server has a token and the request had none, or a wrong one. */
export class UnauthorizedError extends HttpError {}

interface WireError {
  code?: unknown;
  message?: unknown;
  field?: unknown;
  prefix?: unknown;
  candidates?: unknown;
  more?: unknown;
  limit?: unknown;
}

/** Rebuild core's typed error from the API's JSON error. */
export function errorFromResponse(status: number, body: unknown, url: string): Error {
  const e: WireError = (typeof body === "object" && body !== null && (body as { error?: WireError }).error) || {};
  const code = typeof e.code === "string" ? e.code : `http_${status}`;
  const message = typeof e.message === "string" ? e.message : `HTTP ${status}`;
  if (code === "not_found" && typeof e.prefix === "string") return new UnknownIdError(e.prefix);
  if (code === "ambiguous" && typeof e.prefix === "string" && Array.isArray(e.candidates)) {
    return new AmbiguousIdError(e.prefix, e.candidates as Candidate[], e.more === true);
  }
  if (status === 400) return new ValidationError(typeof e.field === "string" ? e.field : "request", message);
  // A field over a size rule (a body over the server's limit has no field, and is split and sent again).
  if (status === 413 && typeof e.field === "string") return new TooLargeError(e.field, message, typeof e.limit === "number" ? e.limit : 0);
  if (status === 401) {
    return new UnauthorizedError(status, code, `${url} refused the request (401 unauthorized): ${message}; give the server's token`);
  }
  return new HttpError(status, code, `${url}: ${message} (HTTP ${status})`);
}

interface Call {
  method: "GET" | "POST";
  path: string;
  params?: URLSearchParams;
  json?: unknown;
  /** A body already encoded as JSON. */
  raw?: string;
}

function baseUrl(url: string): string {
  return url.replace(/\/+$/, "").replace(/\/api$/, "");
}

function transport(options: HttpOptions) {
  if (!options || typeof options.url !== "string" || options.url === "") throw new TypeError("the HTTP adapter needs a url");
  const base = baseUrl(options.url);
  const doFetch = options.fetch ?? ((input: string, init?: RequestInit) => globalThis.fetch(input, init));
  return async function call<T>({ method, path, params, json, raw }: Call): Promise<T> {
    const url = `${base}${path}${params && [...params].length ? `?${params}` : ""}`;
    const headers: Record<string, string> = { accept: "application/json", ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const body = raw ?? (json === undefined ? undefined : JSON.stringify(json));
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await doFetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    } catch (cause) {
      throw new RepositoryError(`cannot reach ${base}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    }
    const text = await res.text().catch(() => "");
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: an error page from a proxy, say; reported below by status.
    }
    if (!res.ok) {
      throw parsed === undefined
        ? new HttpError(res.status, `http_${res.status}`, `${base}: HTTP ${res.status} ${text.slice(0, 200)}`.trim())
        : errorFromResponse(res.status, parsed, base);
    }
    if (parsed === undefined) throw new HttpError(res.status, "bad_response", `${base}${path}: expected a JSON response`);
    return parsed as T;
  };
}

type Caller = ReturnType<typeof transport>;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Split ids into calls of at most IDS_PER_CALL and concatenate the answers. */
async function batched<T>(ids: readonly string[], run: (part: string[]) => Promise<T[]>): Promise<T[]> {
  if (ids.length === 0) return [];
  return (await Promise.all(chunks(ids, IDS_PER_CALL).map(run))).flat();
}

/**
 * Push records (to `path`: sync push, or the repository write) in requests of
 * at most `chunkBytes`, each atomic on the server. A 413 (a server with a
 * smaller limit) splits the request and retries.
 */
async function pushChunked(call: Caller, records: readonly unknown[], chunkBytes: number, path = "/api/sync/push"): Promise<number> {
  const encoded = records.map((r) => JSON.stringify(r));
  const send = async (parts: string[], offset: number): Promise<number> => {
    const raw = `{"records":[${parts.join(",")}]}`;
    try {
      return (await call<{ accepted: number }>({ method: "POST", path, raw })).accepted;
    } catch (e) {
      if (e instanceof HttpError && e.status === 413 && parts.length > 1) {
        const half = Math.ceil(parts.length / 2);
        return (await send(parts.slice(0, half), offset)) + (await send(parts.slice(half), offset + half));
      }
      throw offset ? withRecordOffset(e, offset) : e;
    }
  };
  // Requests of at most chunkBytes, each with the index of its first record.
  const requests: [string[], number][] = [];
  let part: string[] = [];
  let size = 0;
  encoded.forEach((text, i) => {
    if (part.length && size + text.length + 1 > chunkBytes) {
      requests.push([part, i - part.length]);
      part = [];
      size = 0;
    }
    part.push(text);
    size += text.length + 1;
  });
  if (part.length) requests.push([part, encoded.length - part.length]);
  let accepted = 0;
  for (const [parts, offset] of requests) accepted += await send(parts, offset);
  return accepted;
}

/**
 * A refusal of a request's `records[i]` renamed to the index within the whole
 * push (`records[i + offset]`), so a caller can tell which record it was.
 */
function withRecordOffset(error: unknown, offset: number): unknown {
  if (!(error instanceof ValidationError)) return error;
  const m = /^records\[(\d+)\]/.exec(error.field);
  if (!m) return error;
  const field = error.field.replace(/^records\[(\d+)\]/, `records[${Number(m[1]) + offset}]`);
  const message = error.message.replace(/records\[(\d+)\]/g, (_, i: string) => `records[${Number(i) + offset}]`);
  return error instanceof TooLargeError ? new TooLargeError(field, message, error.limit) : new ValidationError(field, message, { cause: error });
}

function filters(list: readonly NormalizedTagFilter[]): TagFilter[] {
  return list.map((f) => (f.valueJson === null ? [f.key] : [f.key, JSON.parse(f.valueJson) as JsonValue]));
}

/** A normalized query back to the plain Query the server normalizes again (lossless). */
export function denormalizeQuery(q: NormalizedQuery): Query {
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

export interface HttpRepository extends Repository {
  readonly url: string;
}

/**
 * A Repository over the API. Reads use /api/repository/*; `write` goes to
 * POST /api/repository/write, which the server verifies as it does a push
 * and lets replace cache Evaluations only when it trusts its writers (README,
 * "Trust"); with `replaceEvaluations: false` it is a sync push. The shape is
 * checked here first, so a malformed batch sends nothing. A write larger than
 * `chunkBytes` goes as several requests, each atomic.
 */
export function createHttpRepository(options: HttpOptions): HttpRepository {
  const call = transport(options);
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const post = <T>(path: string, json: unknown) => call<T>({ method: "POST", path: `/api/repository/${path}`, json });
  const capabilities: RepositoryCapabilities = { name: "http", persistent: true };
  return {
    url: baseUrl(options.url),
    capabilities,

    async write(records, writeOptions) {
      assertWritable(records);
      const path = writeOptions?.replaceEvaluations === false ? "/api/sync/push" : "/api/repository/write";
      if (records.length) await pushChunked(call, records, chunkBytes, path);
    },

    async get<T extends RecordType>(type: T, ids: readonly string[]): Promise<RecordOf<T>[]> {
      return batched(ids, async (part) => (await post<{ records: RecordOf<T>[] }>("get", { type, ids: part })).records);
    },

    async findByPrefix(prefixes, types, limit) {
      if (prefixes.length === 0) return [];
      const parts = chunks(prefixes, PREFIXES_PER_CALL);
      const answers = await Promise.all(parts.map(async (part) => (await post<{ refs: RecordRef[][] }>("find-by-prefix", { prefixes: part, types, limit })).refs));
      return answers.flat();
    },

    async query(query) {
      return post<QueryPage>("query", { query: denormalizeQuery(query) });
    },

    async currentTags(entityIds) {
      return batched(entityIds, async (part) => (await post<{ tags: TagRecord[] }>("current-tags", { entityIds: part })).tags);
    },

    async tagChildren(tagIds) {
      return batched(tagIds, async (part) => (await post<{ tags: TagRecord[] }>("tag-children", { tagIds: part })).tags);
    },

    async countTags(query: TagCountQuery) {
      const count = async (keys?: string[]) =>
        (await post<{ counts: TagCount[] }>("count-tags", { values: query.values, ...(keys ? { keys } : {}) })).counts;
      // Rows are per key, so counting disjoint sets of keys and concatenating is exact.
      return query.keys?.length ? batched(query.keys, count) : count();
    },

    async jobsOfExecution(executionId) {
      return (await post<{ jobs: JobRecord[] }>("jobs-of-execution", { executionId })).jobs;
    },

    async jobsOfValues(valueIds, limit) {
      const found = await batched(valueIds, async (part) => (await post<{ jobs: JobRecord[] }>("jobs-of-values", { valueIds: part, limit })).jobs);
      return found.sort(compareNewestFirst).slice(0, limit);
    },

    async exportSince(cursor, limit) {
      return post<ExportPage>("export-since", { cursor, limit });
    },
  };
}

/** One tag of an edit: `"k=v"` text or `[k, v]`; for rm also `"k"` / `[k]` (every value of k). */
export type TagItem = string | [string] | [string, JsonValue];

export type TagEdit =
  | { op: "add" | "update"; tags: TagItem[] }
  | { op: "rm"; tags?: TagItem[]; keys?: string[] }
  | { op: "rename"; from: string; to: string };

export interface Health {
  ok: true;
  version: string;
  repository: RepositoryCapabilities;
  writesNeedToken: boolean;
}

export interface HttpClient {
  readonly url: string;
  /** GET /api/records: a query, newest first, records with their tags. */
  log(query?: Query): Promise<LogResult>;
  /** GET /api/records/:prefix. */
  show(prefix: string): Promise<RecordDetail>;
  /** GET /api/tags. */
  listTags(options?: { values?: boolean; keys?: string[] }): Promise<TagCount[]>;
  /** POST /api/records/:prefix/tags, on one record or several (atomically). */
  editTags(prefixes: string | readonly string[], edit: TagEdit): Promise<TagEditResult>;
  /** POST /api/sync/push (verified by the server), in chunks. */
  push(records: readonly unknown[]): Promise<{ accepted: number }>;
  /** GET /api/sync/pull. */
  pull(cursor?: string | null, limit?: number): Promise<ExportPage>;
  /** GET /api/health. */
  health(): Promise<Health>;
}

/** A tag filter as query-string text; keys with `=` cannot be written so. */
function filterText(param: string, filter: TagFilter): string {
  const [key] = filter;
  if (key.includes("=")) throw new ValidationError(param, `${param}: a key containing "=" cannot be sent as tag text: ${quoted(key)}`);
  return filter.length === 1 ? key : `${key}=${formatTagValue(filter[1])}`;
}

function recordsParams(query: Query): URLSearchParams {
  const p = new URLSearchParams();
  const add = (name: string, values: readonly string[] | undefined) => values?.forEach((v) => p.append(name, v));
  add("tag", query.tags?.map((f) => filterText("tag", f)));
  add("exec_tag", query.execTags?.map((f) => filterText("exec_tag", f)));
  add("type", query.types);
  add("exec_status", query.execStatus);
  add("job_status", query.jobStatus);
  add("task", query.taskNames);
  add("exec_id", query.execIds);
  if (query.idPrefix) p.set("id_prefix", query.idPrefix);
  if (query.limit !== undefined) p.set("limit", String(query.limit));
  if (query.cursor) p.set("cursor", query.cursor);
  const unknown = Object.keys(query).filter((k) => !QUERY_FIELDS.has(k));
  if (unknown.length) throw new ValidationError(unknown[0]!, `unknown query field ${quoted(unknown[0])}`);
  return p;
}

/** The high-level client of the API (what the CLI and notebooks use). */
export function createHttpClient(options: HttpOptions): HttpClient {
  const call = transport(options);
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  return {
    url: baseUrl(options.url),
    async log(query = {}) {
      return call<LogResult>({ method: "GET", path: "/api/records", params: recordsParams(query) });
    },
    show: (prefix) => call<RecordDetail>({ method: "GET", path: `/api/records/${encodeURIComponent(prefix)}` }),
    async listTags(opts = {}) {
      const params = new URLSearchParams();
      if (opts.values) params.set("values", "1");
      opts.keys?.forEach((k) => params.append("key", k));
      return (await call<{ tags: TagCount[] }>({ method: "GET", path: "/api/tags", params })).tags;
    },
    async editTags(prefixes, edit) {
      const list = typeof prefixes === "string" ? [prefixes] : [...prefixes];
      if (list.length === 0) throw new ValidationError("prefix", "no record id prefix given");
      const [first, ...rest] = list;
      return call<TagEditResult>({
        method: "POST",
        path: `/api/records/${encodeURIComponent(first!)}/tags`,
        json: rest.length ? { ...edit, prefixes: rest } : edit,
      });
    },
    async push(records) {
      return { accepted: records.length ? await pushChunked(call, records, chunkBytes) : 0 };
    },
    pull(cursor = null, limit) {
      const params = new URLSearchParams();
      if (cursor) params.set("cursor", cursor);
      if (limit !== undefined) params.set("limit", String(limit));
      return call<ExportPage>({ method: "GET", path: "/api/sync/pull", params });
    },
    health: () => call<Health>({ method: "GET", path: "/api/health" }),
  };
}
