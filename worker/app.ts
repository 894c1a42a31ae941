/**
 * The redun-edge HTTP API: a Hono app over any Repository. It holds no
 * storage or runtime of its own, so the same app serves D1 in a Worker
 * (worker/entry.ts) and the memory repository in Node (tests, tools).
 * Meaning lives in core (CallGraph, normalizeQuery, importRecords); the app
 * only reads input strictly, maps errors, and guards writes.
 */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { timing } from "hono/timing";
import { timingSafeEqual } from "hono/utils/buffer";
import { validator } from "hono/validator";
import {
  CallGraph,
  VERSION,
  importRecords,
  type Repository,
  type TagEditResult,
} from "../core/index.ts";
import { normalizeQuery } from "../core/adapter-kit.ts";
import { ApiError, onError } from "./errors.ts";
import {
  DEFAULT_PAGE,
  MAX_PAGE,
  countTagsBody,
  entityIdsBody,
  exportSinceBody,
  findByPrefixBody,
  getBody,
  jobsOfExecutionBody,
  jobsOfValuesBody,
  ndjsonRecords,
  positiveInt,
  pullParams,
  pushBody,
  queryBody,
  recordsParams,
  recordsQuery,
  tagEditBody,
  tagIdsBody,
  tagPairs,
  tagsParams,
  type PushBody,
} from "./input.ts";
import { openApiDocument } from "./openapi.ts";

export type CorsOptions = NonNullable<Parameters<typeof cors>[0]>;

export interface AppOptions {
  repository: Repository;
  /** When set, writes (tag edits, push, repository write) need `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /**
   * When set, reads need a bearer token too (every route but /api/health and
   * /api/openapi.json): this one (read-only) or `token` (which grants reads as
   * well); `true`: `token` alone. Unset (the default): reads are open.
   */
  readToken?: string | true | undefined;
  /**
   * Whether a scheduler writing through POST /api/repository/write may
   * replace cache Evaluations, as it does in a local store when it re-runs a
   * task (default: when writes need a token, whose holders record runs).
   * Otherwise that route merges as a sync push does: a stored Evaluation is
   * kept. Sync (POST /api/sync/push) never replaces one either way.
   */
  trustWriters?: boolean | undefined;
  /** CORS for browser clients: true (any origin), an origin or list of origins, or hono/cors options. Off by default. */
  cors?: boolean | string | string[] | CorsOptions | undefined;
  /** Largest request body accepted, in bytes (default 10 MB); larger gets 413. */
  maxBodyBytes?: number | undefined;
  /** Clock for tag edits (tests). */
  now?: (() => number) | undefined;
  /** Add a `Server-Timing: total;dur=<ms>` header to every response (benchmarks; off by default). */
  serverTiming?: boolean | undefined;
}

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

const JSON_MEDIA = /^application\/([\w.-]+\+)?json$/;
const NDJSON_MEDIA = ["application/x-ndjson", "application/jsonl", "application/json-lines"];

function mediaType(c: Context): string {
  return (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
}

/**
 * JSON body validator. Requiring a JSON media type also means a browser
 * cannot send a write cross-origin without a CORS preflight.
 */
function jsonBody<T>(parse: (value: unknown) => T) {
  return validator("json", (value, c) => {
    if (!JSON_MEDIA.test(mediaType(c))) {
      throw new ApiError(415, "unsupported_media_type", `expected Content-Type: application/json, got ${JSON.stringify(mediaType(c) || "none")}`);
    }
    return parse(value);
  });
}

/**
 * Requests need a bearer token equal to one of `tokens` when any is
 * configured (`what`: "writes" or "reads", for the message); compared in
 * constant time.
 */
function requireToken(what: string, ...tokens: (string | undefined)[]): MiddlewareHandler {
  const accepted = tokens.filter((t): t is string => Boolean(t));
  return async (c, next) => {
    if (accepted.length) {
      const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(c.req.header("authorization") ?? "");
      if (!match) throw new ApiError(401, "unauthorized", `${what} need a token: send Authorization: Bearer <token>`);
      let ok = false;
      for (const token of accepted) if (await timingSafeEqual(match[1]!, token)) ok = true;
      if (!ok) throw new ApiError(401, "unauthorized", "invalid token");
    }
    await next();
  };
}

/** Routes open to all even when reads need a token: a liveness probe and the API's description. */
const OPEN_ROUTES = new Set(["/api/health", "/api/openapi.json"]);

/** A body of records: `{ records }` as JSON, or JSON lines. */
const recordsBody = validator("json", async (value, c): Promise<PushBody> => {
  const media = mediaType(c);
  // Decoded by hand: workerd warns when .text() reads a body whose type is not text/*.
  if (NDJSON_MEDIA.includes(media)) return { records: ndjsonRecords(new TextDecoder().decode(await c.req.arrayBuffer())) };
  if (!JSON_MEDIA.test(media)) {
    throw new ApiError(415, "unsupported_media_type", `expected Content-Type: application/json or application/x-ndjson, got ${JSON.stringify(media || "none")}`);
  }
  return pushBody(value);
});

function corsOptions(option: true | string | string[] | CorsOptions): CorsOptions {
  const base: CorsOptions = { allowMethods: ["GET", "POST", "OPTIONS"], allowHeaders: ["Authorization", "Content-Type"], maxAge: 86400 };
  if (option === true) return { ...base, origin: "*" };
  if (typeof option === "string" || Array.isArray(option)) return { ...base, origin: option };
  return { ...base, ...option };
}

export function createApp(options: AppOptions) {
  const { repository } = options;
  if (!repository) throw new TypeError("createApp needs a repository");
  const graph = new CallGraph(repository, options.now ? { now: options.now } : {});
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const writeAuth = requireToken("writes", options.token || undefined);
  const readToken = options.readToken === true ? options.token || undefined : options.readToken || undefined;
  if (options.readToken === true && !options.token) throw new TypeError("createApp: readToken: true needs a token");
  const readAuth = requireToken("reads", readToken, readToken ? options.token || undefined : undefined);
  const trustWriters = options.trustWriters ?? Boolean(options.token);

  const app = new Hono();
  app.onError(onError);
  if (options.serverTiming) app.use("*", timing());
  app.notFound((c) => c.json({ error: { code: "route_not_found", message: `no route ${c.req.method} ${c.req.path}` } }, 404));
  if (options.cors) app.use("*", cors(corsOptions(options.cors)));
  // After CORS, so a browser's preflight is answered (and an error marked) without a token.
  app.use("/api/*", async (c, next) => (OPEN_ROUTES.has(c.req.path) ? next() : readAuth(c, next)));
  app.use(
    "*",
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: () => {
        throw new ApiError(413, "too_large", `request body is larger than the limit of ${maxBodyBytes} bytes`);
      },
    }),
  );

  return app
    .get("/api/health", (c) =>
      c.json({
        ok: true as const,
        version: VERSION,
        repository: repository.capabilities,
        writesNeedToken: Boolean(options.token),
        readsNeedToken: Boolean(readToken),
        trustWriters,
      }),
    )
    .get("/api/openapi.json", (c) => c.json(openApiDocument))

    // ---- history: query, show, tags ----
    .get("/api/records", validator("query", (value) => recordsParams(value)), async (c) => {
      return c.json(await graph.log(recordsQuery(c.req.valid("query"))));
    })
    .get("/api/records/:prefix", async (c) => c.json(await graph.show(c.req.param("prefix"))))
    .get("/api/tags", validator("query", (value) => tagsParams(value)), async (c) => {
      const { values, key } = c.req.valid("query");
      const tags = await graph.listTags({ values: values === "1" || values === "true", ...(key ? { keys: key } : {}) });
      return c.json({ tags });
    })
    .post("/api/records/:prefix/tags", writeAuth, jsonBody(tagEditBody), async (c) => {
      const body = c.req.valid("json");
      const prefixes = [c.req.param("prefix"), ...(body.prefixes ?? [])];
      let result: TagEditResult;
      switch (body.op) {
        case "add":
          result = await graph.addTags(prefixes, tagPairs(body.tags, false));
          break;
        case "update":
          result = await graph.updateTags(prefixes, tagPairs(body.tags, false));
          break;
        case "rm":
          result = await graph.removeTags(prefixes, {
            ...(body.tags ? { tags: tagPairs(body.tags, true) } : {}),
            ...(body.keys ? { keys: body.keys } : {}),
          });
          break;
        case "rename":
          result = await graph.renameTag(prefixes, body.from, body.to);
          break;
      }
      return c.json(result);
    })

    // ---- sync ----
    .post("/api/sync/push", writeAuth, recordsBody, async (c) => {
      // Every pushed record is verified (shape, id against content, Evaluations against their CallNodes),
      // and never replaces a stored Evaluation.
      const { records } = c.req.valid("json");
      await importRecords(repository, records);
      return c.json({ accepted: records.length });
    })
    .get("/api/sync/pull", validator("query", (value) => pullParams(value)), async (c) => {
      const { cursor, limit } = c.req.valid("query");
      const page = await repository.exportSince(cursor || null, limit ? positiveInt("limit", limit, MAX_PAGE) : DEFAULT_PAGE);
      return c.json(page);
    })

    // ---- repository primitives, for remote Repository clients (adapters/http) ----
    .post("/api/repository/write", writeAuth, recordsBody, async (c) => {
      // A scheduler's writes (the HTTP Repository): verified as a push is; they replace Evaluations only
      // when the server trusts its writers.
      const { records } = c.req.valid("json");
      await importRecords(repository, records, { replaceEvaluations: trustWriters });
      return c.json({ accepted: records.length });
    })
    .post("/api/repository/get", jsonBody(getBody), async (c) => {
      const { type, ids } = c.req.valid("json");
      return c.json({ records: await repository.get(type, ids) });
    })
    .post("/api/repository/find-by-prefix", jsonBody(findByPrefixBody), async (c) => {
      const { prefixes, types, limit } = c.req.valid("json");
      return c.json({ refs: await repository.findByPrefix(prefixes, types, limit) });
    })
    .post("/api/repository/query", jsonBody(queryBody), async (c) => {
      return c.json(await repository.query(normalizeQuery(c.req.valid("json").query)));
    })
    .post("/api/repository/current-tags", jsonBody(entityIdsBody), async (c) => {
      return c.json({ tags: await repository.currentTags(c.req.valid("json").entityIds) });
    })
    .post("/api/repository/tag-children", jsonBody(tagIdsBody), async (c) => {
      return c.json({ tags: await repository.tagChildren(c.req.valid("json").tagIds) });
    })
    .post("/api/repository/count-tags", jsonBody(countTagsBody), async (c) => {
      return c.json({ counts: await repository.countTags(c.req.valid("json")) });
    })
    .post("/api/repository/jobs-of-execution", jsonBody(jobsOfExecutionBody), async (c) => {
      return c.json({ jobs: await repository.jobsOfExecution(c.req.valid("json").executionId) });
    })
    .post("/api/repository/jobs-of-values", jsonBody(jobsOfValuesBody), async (c) => {
      const { valueIds, limit } = c.req.valid("json");
      return c.json({ jobs: repository.jobsOfValues ? await repository.jobsOfValues(valueIds, limit) : [] });
    })
    .post("/api/repository/export-since", jsonBody(exportSinceBody), async (c) => {
      const { cursor, limit } = c.req.valid("json");
      return c.json(await repository.exportSince(cursor, limit));
    });
}

/** The app's type, for `hc<AppType>(url)` from hono/client. */
export type AppType = ReturnType<typeof createApp>;
