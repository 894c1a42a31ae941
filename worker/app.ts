/**
 * The redun-edge HTTP API: a Hono app over any Repository. It holds no
 * storage or runtime of its own, so the same app serves D1 in a Worker
 * (worker/entry.ts) and the memory repository in Node (tests, tools).
 * Meaning lives in core (CallGraph, normalizeQuery, importRecords); the app
 * only reads input strictly, maps errors, and guards writes.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { timing } from "hono/timing";
import { timingSafeEqual } from "hono/utils/buffer";
import {
  ANY_VALUE,
  CallGraph,
  VERSION,
  ValidationError,
  importRecords,
  parseTagKeyValue,
  type AnyValue,
  type JsonValue,
  type Repository,
  type TagEditResult,
  type TagPair,
} from "../core/index.ts";
import * as routes from "./contract.ts";
import { OPENAPI_CONFIG, PushBodySchema, type TagItem } from "./contract.ts";
import { ApiError, onError, validationHook } from "./errors.ts";
import { DEFAULT_PAGE, MAX_PAGE, decodeRecordsParams, paramError, positiveInt } from "./wire.ts";

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
 * Route middleware: the body must be JSON (or, where `ndjson` is given, JSON
 * lines, read and answered by it). Requiring a JSON media type also means a
 * browser cannot send a write cross-origin without a CORS preflight.
 */
function jsonOnly(ndjson?: (records: unknown[], c: Context) => Promise<Response>): MiddlewareHandler {
  return async (c, next) => {
    const media = mediaType(c);
    // Decoded by hand: workerd warns when .text() reads a body whose type is not text/*.
    if (ndjson && NDJSON_MEDIA.includes(media)) return ndjson(ndjsonRecords(new TextDecoder().decode(await c.req.arrayBuffer())), c);
    if (!JSON_MEDIA.test(media)) {
      const expected = ndjson ? "application/json or application/x-ndjson" : "application/json";
      throw new ApiError(415, "unsupported_media_type", `expected Content-Type: ${expected}, got ${JSON.stringify(media || "none")}`);
    }
    await next();
  };
}

/** JSON lines: one record per non-blank line, as the `{ records }` body it stands for. */
function ndjsonRecords(text: string): unknown[] {
  const records: unknown[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      records.push(JSON.parse(line));
    } catch (e) {
      throw new ValidationError("body", `line ${i + 1}: malformed JSON (${(e as Error).message})`);
    }
  });
  const checked = PushBodySchema.safeParse({ records });
  if (!checked.success) validationHook()({ ...checked, target: "json", data: { records } });
  return records;
}

/** Read the tags of an edit: text through core's tag parser; key-only items only where allowed. */
function tagPairs(items: readonly TagItem[], keyOnly: false): TagPair[];
function tagPairs(items: readonly TagItem[], keyOnly: true): [string, JsonValue | AnyValue][];
function tagPairs(items: readonly TagItem[], keyOnly: boolean): [string, JsonValue | AnyValue][] {
  return items.map((item, i) => {
    if (typeof item === "string") return parseTagKeyValue(item, { valueRequired: !keyOnly });
    if (item.length === 1) {
      if (!keyOnly) throw new ValidationError(`tags[${i}]`, `tags[${i}]: [key] without a value is only allowed for rm`);
      return [item[0], ANY_VALUE];
    }
    return [item[0], item[1]];
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

  const app = new OpenAPIHono({ defaultHook: validationHook() });
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

  const json = jsonOnly();
  /** Records pushed (verified, all or nothing; a stored Evaluation is replaced only by trusted writers' writes). */
  const accept = (replaceEvaluations: boolean) => async (records: unknown[], c: Context) => {
    await importRecords(repository, records, { replaceEvaluations });
    return c.json({ accepted: records.length }, 200);
  };
  const pushRecords = accept(false);
  const writeRecords = accept(trustWriters);

  let document: Record<string, unknown> | undefined;
  const api = app
    .openapi(routes.openapi, (c) => {
      // Generated once per app from the routes below (their schemas are the only description).
      document ??= api.getOpenAPI31Document(OPENAPI_CONFIG) as unknown as Record<string, unknown>;
      return c.json(document, 200);
    })
    .openapi(routes.health, (c) =>
      c.json(
        {
          ok: true as const,
          version: VERSION,
          repository: repository.capabilities,
          writesNeedToken: Boolean(options.token),
          readsNeedToken: Boolean(readToken),
          trustWriters,
        },
        200,
      ),
    )

    // ---- history: query, show, tags ----
    .openapi(routes.records, async (c) => {
      const query = decodeRecordsParams(c.req.valid("query"));
      try {
        return c.json(await graph.log(query), 200);
      } catch (e) {
        throw paramError(e);
      }
    })
    .openapi(routes.show, async (c) => c.json(await graph.show(c.req.valid("param").prefix), 200))
    .openapi(routes.tags, async (c) => {
      const { values, key } = c.req.valid("query");
      const tags = await graph.listTags({ values: values === "1" || values === "true", ...(key ? { keys: key } : {}) });
      return c.json({ tags }, 200);
    })
    .openapi({ ...routes.editTags, middleware: [writeAuth, json] as const }, async (c) => {
      const body = c.req.valid("json");
      const prefixes = [c.req.valid("param").prefix, ...(body.prefixes ?? [])];
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
      return c.json(result, 200);
    })

    // ---- sync ----
    .openapi({ ...routes.push, middleware: [writeAuth, jsonOnly(pushRecords)] as const }, (c) => pushRecords(c.req.valid("json").records, c))
    .openapi(routes.pull, async (c) => {
      const { cursor, limit } = c.req.valid("query");
      const page = await repository.exportSince(cursor || null, limit ? positiveInt("limit", limit, MAX_PAGE) : DEFAULT_PAGE);
      return c.json(page, 200);
    })

    // ---- repository primitives, for remote Repository clients (adapters/http) ----
    .openapi({ ...routes.repositoryWrite, middleware: [writeAuth, jsonOnly(writeRecords)] as const }, (c) =>
      writeRecords(c.req.valid("json").records, c),
    )
    .openapi({ ...routes.get, middleware: json }, async (c) => {
      const { type, ids } = c.req.valid("json");
      return c.json({ records: await repository.get(type, ids) }, 200);
    })
    .openapi({ ...routes.findByPrefix, middleware: json }, async (c) => {
      const { prefixes, types, limit } = c.req.valid("json");
      return c.json({ refs: await repository.findByPrefix(prefixes, types, limit) }, 200);
    })
    .openapi({ ...routes.query, middleware: json }, async (c) => c.json(await repository.query(c.req.valid("json").query), 200), validationHook("query"))
    .openapi({ ...routes.currentTags, middleware: json }, async (c) => c.json({ tags: await repository.currentTags(c.req.valid("json").entityIds) }, 200))
    .openapi({ ...routes.tagChildren, middleware: json }, async (c) => c.json({ tags: await repository.tagChildren(c.req.valid("json").tagIds) }, 200))
    .openapi({ ...routes.countTags, middleware: json }, async (c) => c.json({ counts: await repository.countTags(c.req.valid("json")) }, 200))
    .openapi({ ...routes.jobsOfExecution, middleware: json }, async (c) =>
      c.json({ jobs: await repository.jobsOfExecution(c.req.valid("json").executionId) }, 200),
    )
    .openapi({ ...routes.jobsOfValues, middleware: json }, async (c) => {
      const { valueIds, limit = DEFAULT_PAGE } = c.req.valid("json");
      return c.json({ jobs: repository.jobsOfValues ? await repository.jobsOfValues(valueIds, limit) : [] }, 200);
    })
    .openapi({ ...routes.exportSince, middleware: json }, async (c) => {
      const { cursor, limit = DEFAULT_PAGE } = c.req.valid("json");
      return c.json(await repository.exportSince(cursor, limit), 200);
    });
  api.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  return api;
}

/** The OpenAPI document every app serves at /api/openapi.json (generated from the route schemas). */
export function openApiDocument(): Record<string, unknown> & { paths: Record<string, Record<string, unknown>> } {
  const app = createApp({ repository: { capabilities: { name: "none", persistent: false } } as Repository });
  return app.getOpenAPI31Document(OPENAPI_CONFIG) as never;
}

/** The app's type, for `hc<AppType>(url)` from hono/client. */
export type AppType = ReturnType<typeof createApp>;
