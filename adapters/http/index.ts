/**
 * The HTTP adapter: a Repository, and a high-level client, over the API of
 * worker/app.ts. Only `fetch`, so it bundles for browsers, workerd and Node.
 *
 * Server errors come back as core's typed errors (UnknownIdError,
 * AmbiguousIdError with its candidates, ValidationError with its field), so
 * code above a remote store behaves as it does above a local one.
 */
import { hc } from "hono/client";
import type { JSONParsed } from "hono/utils/types";
import { AmbiguousIdError, RepositoryError, TooLargeError, UnknownIdError, ValidationError, type Candidate, type JobRecord, type LogResult, type Query, type RecordDetail, type RecordRef, type TagCount, type TagEditResult, type TagRecord, type RecordOf, type RecordType, type Repository } from "../../core/index.ts";
import { MAX_EDIT_PREFIXES, assertWritable, compareNewestFirst, type ExportPage, type RepositoryCapabilities, type TagCountQuery, type QueryPage } from "../../core/adapter-kit.ts";
// Types only from the app (its routes' schemas): zod stays out of a page that bundles this client.
import type { AppType } from "../../worker/app.ts";
import type { TagEditBody } from "../../worker/contract.ts";
import { MAX_IDS, encodeRecordsQuery, wireQuery } from "../../worker/wire.ts";

export interface HttpOptions {
  /** The server, e.g. `http://127.0.0.1:8787` (a trailing `/api` is accepted too). */
  url: string;
  /** Bearer token for writes, when the server has one. */
  token?: string | undefined;
  /** A fetch to use instead of the global one (tests: `app.request`; custom agents); `init.headers` comes as a plain object. */
  fetch?: ((input: string, init?: RequestInit) => Promise<Response>) | undefined;
  /** Extra headers for every request. */
  headers?: Record<string, string> | undefined;
  /** Largest push request body in bytes (default 4 MB; the server's default limit is 10 MB). */
  chunkBytes?: number | undefined;
}

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

function baseUrl(url: string): string {
  return url.replace(/\/+$/, "").replace(/\/api$/, "");
}

/** The typed client of the app (`hc<AppType>`), over the given fetch, with the token and headers. */
function connect(options: HttpOptions) {
  if (!options || typeof options.url !== "string" || options.url === "") throw new TypeError("the HTTP adapter needs a url");
  const base = baseUrl(options.url);
  const doFetch = options.fetch ?? ((input: string, init?: RequestInit) => globalThis.fetch(input, init));
  const headers: Record<string, string> = { accept: "application/json", ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    try {
      // Headers as a plain object: a caller's fetch (the CLI's loopback one, say) may read them so.
      const plain = init && { ...init, headers: Object.fromEntries(new Headers(init.headers).entries()) };
      return await doFetch(input instanceof URL ? input.href : String(input), plain);
    } catch (cause) {
      throw new RepositoryError(`cannot reach ${base}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    }
  };
  const api = hc<AppType>(base, { fetch, headers }).api;

  /** The success body of a call, or the server's error as core's typed error. */
  async function answer<R extends { ok: boolean; status: number; text(): Promise<string>; json(): Promise<unknown> }>(
    request: Promise<R>,
  ): Promise<Awaited<ReturnType<R["json"]>>> {
    const res = await request;
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
    if (parsed === undefined) throw new HttpError(res.status, "bad_response", `${base}: expected a JSON response`);
    return parsed as Awaited<ReturnType<R["json"]>>;
  }
  return { base, api, answer };
}

type Connection = ReturnType<typeof connect>;

/**
 * The core type an answer carries. hc types an answer as JSON's view of the
 * route's output (hono's JSONParsed); naming the core type here checks the
 * two against each other, so they cannot drift apart.
 */
const asCore = <T>(wire: JSONParsed<T>): T => wire as T;

/** A record id prefix as a path segment (never empty: that would be another route). */
function prefixParam(prefix: string): { prefix: string } {
  if (prefix === "") throw new ValidationError("prefix", "no record id prefix given");
  return { prefix: encodeURIComponent(prefix) };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Split ids into calls of at most MAX_IDS (the server's cap) and concatenate the answers. */
async function batched<T>(ids: readonly string[], run: (part: string[]) => Promise<T[]>): Promise<T[]> {
  if (ids.length === 0) return [];
  return (await Promise.all(chunks(ids, MAX_IDS).map(run))).flat();
}

/**
 * Push records (to `path`: sync push, or the repository write) in requests of
 * at most `chunkBytes`, each atomic on the server. A 413 (a server with a
 * smaller limit) splits the request and retries.
 */
async function pushChunked(
  { api, answer }: Connection,
  records: readonly unknown[],
  chunkBytes: number,
  route: "push" | "write" = "push",
): Promise<number> {
  const target = route === "push" ? api.sync.push : api.repository.write;
  const encoded = records.map((r) => JSON.stringify(r));
  const send = async (parts: string[], offset: number): Promise<number> => {
    // The body is the records as already encoded (to measure the chunks): `init.body` is what hc sends.
    const body = `{"records":[${parts.join(",")}]}`;
    try {
      return (await answer(target.$post({ json: { records: [] } }, { init: { body } }))).accepted;
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
  const connection = connect(options);
  const { api, answer } = connection;
  const repo = api.repository;
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const capabilities: RepositoryCapabilities = { name: "http", persistent: true };
  return {
    url: connection.base,
    capabilities,

    async write(records, writeOptions) {
      assertWritable(records);
      if (records.length) await pushChunked(connection, records, chunkBytes, writeOptions?.replaceEvaluations === false ? "push" : "write");
    },

    async get<T extends RecordType>(type: T, ids: readonly string[]): Promise<RecordOf<T>[]> {
      return batched(ids, async (part) => asCore<RecordOf<T>[]>((await answer(repo.get.$post({ json: { type, ids: part } }))).records as JSONParsed<RecordOf<T>[]>));
    },

    async findByPrefix(prefixes, types, limit) {
      if (prefixes.length === 0) return [];
      const parts = chunks(prefixes, PREFIXES_PER_CALL);
      const answers = await Promise.all(parts.map(async (part) => asCore<RecordRef[][]>((await answer(repo["find-by-prefix"].$post({ json: { prefixes: part, types: [...types], limit } }))).refs)));
      return answers.flat();
    },

    async query(query) {
      return asCore<QueryPage>(await answer(repo.query.$post({ json: { query: wireQuery(query) } })));
    },

    async currentTags(entityIds) {
      return batched(entityIds, async (part) => asCore<TagRecord[]>((await answer(repo["current-tags"].$post({ json: { entityIds: part } }))).tags));
    },

    async tagChildren(tagIds) {
      return batched(tagIds, async (part) => asCore<TagRecord[]>((await answer(repo["tag-children"].$post({ json: { tagIds: part } }))).tags));
    },

    async countTags(query: TagCountQuery) {
      const count = async (keys?: string[]) => asCore<TagCount[]>((await answer(repo["count-tags"].$post({ json: { values: query.values, ...(keys ? { keys } : {}) } }))).counts);
      // Rows are per key, so counting disjoint sets of keys and concatenating is exact.
      return query.keys?.length ? batched(query.keys, count) : count();
    },

    async jobsOfExecution(executionId) {
      return asCore<JobRecord[]>((await answer(repo["jobs-of-execution"].$post({ json: { executionId } }))).jobs);
    },

    async jobsOfValues(valueIds, limit) {
      const found = await batched(valueIds, async (part) => asCore<JobRecord[]>((await answer(repo["jobs-of-values"].$post({ json: { valueIds: part, limit } }))).jobs));
      return found.sort(compareNewestFirst).slice(0, limit);
    },

    async exportSince(cursor, limit) {
      return asCore<ExportPage>(await answer(repo["export-since"].$post({ json: { cursor, limit } })));
    },
  };
}

/** One tag edit: the body of POST /api/records/:prefix/tags without `prefixes` (the contract's type). */
export type TagEdit = DistributiveOmit<TagEditBody, "prefixes">;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type { TagItem } from "../../worker/contract.ts";

type Api = Connection["api"];
type Answer<F extends (...args: never[]) => Promise<{ json(): Promise<unknown> }>> = Awaited<ReturnType<Awaited<ReturnType<F>>["json"]>>;
/** GET /api/health's answer. */
export type Health = Answer<Api["health"]["$get"]>;

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

/** The high-level client of the API (what the CLI and notebooks use). */
export function createHttpClient(options: HttpOptions): HttpClient {
  const connection = connect(options);
  const { api, answer } = connection;
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  return {
    url: connection.base,
    log: async (query = {}) => asCore<LogResult>(await answer(api.records.$get({ query: encodeRecordsQuery(query) }))),
    show: async (prefix) => asCore<RecordDetail>(await answer(api.records[":prefix"].$get({ param: prefixParam(prefix) }))),
    async listTags(opts = {}) {
      return asCore<TagCount[]>((await answer(api.tags.$get({ query: { ...(opts.values ? { values: "1" as const } : {}), ...(opts.keys ? { key: opts.keys } : {}) } }))).tags);
    },
    async editTags(prefixes, edit) {
      const list = typeof prefixes === "string" ? [prefixes] : [...prefixes];
      if (list.length === 0) throw new ValidationError("prefix", "no record id prefix given");
      const [first, ...rest] = list;
      const json = rest.length ? { ...edit, prefixes: rest } : edit;
      return asCore<TagEditResult>(await answer(api.records[":prefix"].tags.$post({ param: prefixParam(first!), json })));
    },
    async push(records) {
      return { accepted: records.length ? await pushChunked(connection, records, chunkBytes) : 0 };
    },
    pull: async (cursor = null, limit) =>
      asCore<ExportPage>(await answer(api.sync.pull.$get({ query: { ...(cursor ? { cursor } : {}), ...(limit !== undefined ? { limit: String(limit) } : {}) } }))),
    health: async () => answer(api.health.$get()),
  };
}
