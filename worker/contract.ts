/**
 * The API contract, written once: each route's input and output as zod
 * schemas (`createRoute` from @hono/zod-openapi). The app validates requests
 * with them, /api/openapi.json is generated from them, and the typed client
 * (`hc<AppType>` in adapters/http) takes its types from the app they build.
 * Record shapes are core's (DESIGN.md, Records; verified by core on every
 * write), so responses carrying records are typed from core and described
 * here, not re-declared.
 */
import { createRoute, z, type RouteConfig } from "@hono/zod-openapi";
import { ENTITY_TYPES, EXECUTION_STATUSES, JOB_STATUSES, RECORD_TYPES, VERSION, type AnyRecord, type JobRecord, type JsonValue, type LogResult, type RecordDetail, type RecordRef, type TagCount, type TagEditResult, type TagRecord } from "../core/index.ts";
import { MAX_EDIT_PREFIXES, MAX_LIMIT, MAX_PREFIX_CHARS, normalizeQuery, type ExportPage, type QueryPage } from "../core/adapter-kit.ts";
import { MAX_IDS, MAX_PAGE, RECORDS_LIST_PARAMS, RECORDS_ONE_PARAMS } from "./wire.ts";

// ---- building blocks ------------------------------------------------------------

/** A type owned by core, described for the document (no runtime check here: core checks it). */
const described = <T>(name: string | undefined, schema: Record<string, unknown>) => {
  const s = z.custom<T>(() => true);
  return name ? s.openapi(name, schema) : s.openapi(schema);
};

/** A JSON object of exactly these fields; `what` names it in errors ("request body", "query"). */
const closed = <S extends z.core.$ZodLooseShape>(shape: S, what = "request body") =>
  z.strictObject(shape, {
    error: (iss) => {
      if (iss.code === "invalid_type") return `${what} must be a JSON object`;
      if (iss.code === "unrecognized_keys") return `expected ${Object.keys(shape).join(", ")}`;
      return undefined;
    },
  });

/** A query object of exactly these parameters. */
const params = <S extends z.core.$ZodLooseShape>(shape: S) =>
  z.strictObject(shape, { error: (iss) => (iss.code === "unrecognized_keys" ? `expected ${Object.keys(shape).join(", ")}` : undefined) });

/** A query parameter given once. */
const oneParam = (description: string) =>
  z
    .string({ error: (iss) => (Array.isArray(iss.input) ? "given more than once" : undefined) })
    .optional()
    .openapi({ description });
/** A repeatable query parameter (`?k=a&k=b`), read as a list. */
const listParam = (description: string) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (typeof v === "string" ? [v] : v))
    .optional()
    .openapi({ description });

const ids = (max = MAX_IDS) => z.array(z.string()).max(max);
const positive = (max: number) => z.number().int().min(1).transform((n) => Math.min(n, max)).openapi({ maximum: max });

export const RecordTypeSchema = z.enum(RECORD_TYPES as unknown as [AnyRecord["type"], ...AnyRecord["type"][]]).openapi("RecordType");
export const EntityTypeSchema = z.enum(ENTITY_TYPES as unknown as [(typeof ENTITY_TYPES)[number], ...(typeof ENTITY_TYPES)[number][]]).openapi("EntityType");

const RecordSchema = described<AnyRecord>("Record", {
  type: "object",
  description: "A record as stored (see DESIGN.md, Records): `type`, `id`, `time` and the fields of its type.",
  properties: { type: { $ref: "#/components/schemas/RecordType" }, id: { type: "string" }, time: { type: "number" } },
  required: ["type", "id", "time"],
});
const recordOf = { type: "object", allOf: [{ $ref: "#/components/schemas/Record" }] };
const TagRecordSchema = described<TagRecord>(undefined, recordOf);
const JobRecordSchema = described<JobRecord>(undefined, recordOf);
const RecordRefSchema = described<RecordRef>("RecordRef", {
  type: "object",
  properties: { type: { $ref: "#/components/schemas/RecordType" }, id: { type: "string" } },
  required: ["type", "id"],
});
const cursorSchema = { type: ["string", "null"] };
const ExportPageSchema = described<ExportPage>("ExportPage", {
  type: "object",
  properties: { records: { type: "array", items: { $ref: "#/components/schemas/Record" } }, cursor: cursorSchema, done: { type: "boolean" } },
  required: ["records", "cursor", "done"],
});
const TagPairDoc = {
  type: "array",
  description: "[key, value], and a third item, Python's JSON text of the value, for a tag from redun that keeps it (`1000.0`).",
  prefixItems: [{ type: "string" }, {}, { type: "string" }],
  minItems: 2,
  maxItems: 3,
};
const LogResultSchema = described<LogResult>("LogResult", {
  type: "object",
  properties: {
    records: {
      type: "array",
      description: "Records with their current tags (and, by type, taskName / args / fullName / decoded value; an Execution's `abandoned`: RUNNING past its lease).",
      items: { allOf: [{ $ref: "#/components/schemas/Record" }, { type: "object", properties: { tags: { type: "array", items: TagPairDoc } }, required: ["tags"] }] },
    },
    cursor: cursorSchema,
  },
  required: ["records", "cursor"],
});
const RecordDetailSchema = described<RecordDetail>("RecordDetail", {
  type: "object",
  properties: {
    record: { description: "The record with its current tags." },
    jobTree: { description: "Execution: the job tree from the root job." },
    jobCounts: { type: "object" },
    call: { description: "Job / CallNode: arguments, result and child calls." },
    task: { description: "Job / CallNode: the task, with its current tags." },
    ancestors: { description: "Job: its execution id and the jobs from the root down to its parent (id, task name)." },
  },
  required: ["record"],
});
const TagCountSchema = described<TagCount>("TagCount", {
  type: "object",
  properties: { key: { type: "string" }, value: {}, entityType: { $ref: "#/components/schemas/EntityType" }, count: { type: "integer" } },
  required: ["key", "count"],
});
const TagEditResultSchema = described<TagEditResult>("TagEditResult", {
  type: "object",
  properties: {
    entities: { type: "array", description: "The records edited (as their prefixes resolved), in the order given.", items: { $ref: "#/components/schemas/RecordRef" } },
    changes: { type: "array", items: { type: "object", properties: { op: { type: "string" }, entityType: { type: "string" }, entityId: { type: "string" }, key: { type: "string" }, value: {} } } },
    written: { type: "integer", description: "Tag records written." },
  },
  required: ["entities", "changes", "written"],
});

/** Any JSON value (checked by core: depth, size, well-formed text). */
const JsonValueSchema = described<JsonValue>(undefined, { type: ["string", "number", "boolean", "object", "array", "null"], description: "Any JSON value." });

// ---- errors ---------------------------------------------------------------------

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({
        description: "invalid, not_found, ambiguous, unauthorized, too_large, unsupported_media_type, route_not_found, repository, internal",
      }),
      message: z.string(),
      field: z.string().optional().openapi({ description: "The field or query parameter at fault." }),
      prefix: z.string().optional(),
      candidates: z.array(RecordRefSchema).optional().openapi({ description: "409: the first records the prefix names, by id." }),
      more: z.literal(true).optional().openapi({ description: "409: present when the prefix names more records than `candidates` lists." }),
      limit: z.number().int().optional().openapi({ description: "413 for a field over a size rule: the limit in bytes." }),
      requestId: z.string().optional().openapi({ description: "500: the id the server logged the failure under (also the X-Request-Id header)." }),
    }),
  })
  .openapi("Error");

const err = (description: string) => ({ description, content: { "application/json": { schema: ErrorSchema } } });
const bad = err("Bad input (malformed tag text, bad JSON, unknown field or parameter, wrong type): `field` names it; nothing is written.");
const unauthorized = err("A token is configured and the request has no valid `Authorization: Bearer <token>`.");
const tooLarge = err(
  "The body is larger than the server's limit, or a field is over a size rule (a tag key over 1,024 bytes, a tag value over 65,536 bytes of JSON): `field` and `limit` name it.",
);
const unsupported = err("The body's Content-Type is not JSON (or JSON lines for push).");
const ok = <S extends z.ZodType>(description: string, schema: S) => ({ description, content: { "application/json": { schema } } });
const jsonBody = <S extends z.ZodType>(schema: S) => ({ required: true, content: { "application/json": { schema } } });
const writeSecurity = [{ bearer: [] }];

/**
 * A route whose handler answers 200 only: its failures are thrown and
 * answered by the app's onError in the one error shape, so they are
 * documented here but left out of the typed answer (hc's `.json()` is the
 * success body; a failure is a thrown error on the client too).
 */
function route<P extends string, R extends Omit<RouteConfig, "path"> & { path: P }>(config: R, failures: Record<number, ReturnType<typeof err>>) {
  const r = createRoute<P, R>(config);
  Object.assign(r.responses, failures);
  return r;
}

// ---- history --------------------------------------------------------------------

export const health = route({
  method: "get",
  path: "/api/health",
  tags: ["meta"],
  summary: "Liveness, version and the store behind the API.",
  responses: {
    200: ok(
      "Healthy",
      z.object({
        ok: z.literal(true),
        version: z.string(),
        repository: z.object({ name: z.string(), persistent: z.boolean() }),
        writesNeedToken: z.boolean(),
        readsNeedToken: z.boolean(),
        trustWriters: z.boolean(),
      }),
    ),
  },
}, {});

export const openapi = route({
  method: "get",
  path: "/api/openapi.json",
  tags: ["meta"],
  summary: "This document (generated from the same schemas that check every request).",
  responses: { 200: ok("OpenAPI 3.1", described<Record<string, unknown>>(undefined, { type: "object" })) },
}, {});

/** GET /api/records parameters: one list for both the schema and the codec (wire.ts). */
const RECORDS_PARAM_DOCS: Record<(typeof RECORDS_LIST_PARAMS)[number] | (typeof RECORDS_ONE_PARAMS)[number], string> = {
  tag: "`k=v` (value read as on a command line) or `k` (any value); all must hold.",
  tag_json: 'A tag filter as JSON, `["k", v]` or `["k"]`: any key, `=` included.',
  exec_tag: "Records whose execution has this tag (`k=v` or `k`).",
  exec_tag_json: "As exec_tag, as JSON `[\"k\", v]` or `[\"k\"]`.",
  type: "Execution (default), Job, CallNode, Task, Value; repeat or comma-separate.",
  exec_status: `${EXECUTION_STATUSES.join(", ")}.`,
  job_status: `${JOB_STATUSES.join(", ")}.`,
  task: "Task name or namespace.name.",
  exec_id: "Execution ids.",
  id_prefix: "Ids starting with this (lowercase hex).",
  limit: `Page size, 1..${MAX_LIMIT} (default 100).`,
  cursor: "The `cursor` of the previous page.",
};

export const RecordsParamsSchema = params({
  ...(Object.fromEntries(RECORDS_LIST_PARAMS.map((p) => [p, listParam(RECORDS_PARAM_DOCS[p])])) as {
    [K in (typeof RECORDS_LIST_PARAMS)[number]]: ReturnType<typeof listParam>;
  }),
  ...(Object.fromEntries(RECORDS_ONE_PARAMS.map((p) => [p, oneParam(RECORDS_PARAM_DOCS[p])])) as {
    [K in (typeof RECORDS_ONE_PARAMS)[number]]: ReturnType<typeof oneParam>;
  }),
});

export const records = route({
  method: "get",
  path: "/api/records",
  tags: ["history"],
  summary: "Query records, newest first, each with its current tags.",
  request: { query: RecordsParamsSchema },
  responses: { 200: ok("A page of records", LogResultSchema) },
}, { 400: bad, 401: unauthorized, 413: tooLarge });

const PrefixParam = z.object({
  prefix: z
    .string()
    .openapi({ param: { name: "prefix", in: "path" }, description: "Any unique prefix of a record id (lowercase hex).", pattern: "^[0-9a-f-]+$" }),
});

export const show = route({
  method: "get",
  path: "/api/records/{prefix}",
  tags: ["history"],
  summary: "One record by id prefix, with its tags; an Execution with its job tree.",
  request: { params: PrefixParam },
  responses: { 200: ok("The record", RecordDetailSchema) },
}, {
  400: bad,
  401: unauthorized,
  404: err("No record has this prefix."),
  409: err("The prefix names several records; `candidates` lists them."),
});

export const tags = route({
  method: "get",
  path: "/api/tags",
  tags: ["history"],
  summary: "Counts of current tags by key and entity type, or by key and value.",
  request: {
    query: params({
      values: z
        .enum(["", "0", "1", "true", "false"], { error: () => "must be 1 or 0" })
        .optional()
        .openapi({ description: "1: count by key, value and record type." }),
      key: listParam("Only these keys."),
    }),
  },
  responses: { 200: ok("Counts", z.object({ tags: z.array(TagCountSchema) })) },
}, { 400: bad, 401: unauthorized });

/** One tag of an edit: `"k=v"` text or `[k, v]`; for rm also `"k"` / `[k]` (every value of k). */
const TAG_ITEM = 'must be "k=v" or [k, v] with a non-empty key';
const TagItemSchema = z
  .union([z.string(), z.tuple([z.string()]), z.tuple([z.string(), JsonValueSchema])], { error: () => TAG_ITEM })
  .refine((item) => typeof item === "string" || item[0] !== "", TAG_ITEM)
  .openapi("TagItem", { description: '`"k=v"` tag text, or `[k, v]`; for rm also `"k"` / `[k]` (every value of k).' });
const tagList = z.array(TagItemSchema).max(MAX_IDS);
const editPrefixes = z
  .array(z.string())
  .max(MAX_EDIT_PREFIXES - 1)
  .optional()
  .openapi({ description: `More records to edit in the same (atomic) edit; with the path's, at most ${MAX_EDIT_PREFIXES}.` });

export const TagEditSchema = z
  .discriminatedUnion("op", [
    closed({ op: z.enum(["add", "update"]), tags: tagList.min(1, "must not be empty"), prefixes: editPrefixes }),
    closed({
      op: z.literal("rm"),
      tags: tagList.optional(),
      keys: z.array(z.string().min(1, "must not be empty")).max(MAX_IDS).optional().openapi({ description: "rm: remove every value of these keys." }),
      prefixes: editPrefixes,
    }).refine((b) => Boolean(b.tags?.length || b.keys?.length), { path: ["tags"], message: "nothing to remove: give tags or keys" }),
    closed({
      op: z.literal("rename"),
      from: z.string().min(1, "must not be empty").openapi({ description: "rename: the old key." }),
      to: z.string().min(1, "must not be empty").openapi({ description: "rename: the new key." }),
      prefixes: editPrefixes,
    }),
  ])
  .openapi("TagEdit");

/** One tag of an edit body. */
export type TagItem = z.infer<typeof TagItemSchema>;
/** POST /api/records/:prefix/tags body. */
export type TagEditBody = z.infer<typeof TagEditSchema>;

export const editTags = route({
  method: "post",
  path: "/api/records/{prefix}/tags",
  tags: ["history"],
  summary: "Add, update, remove or rename tags of a record (and of `prefixes`), atomically.",
  security: writeSecurity,
  request: { params: PrefixParam, body: jsonBody(TagEditSchema) },
  responses: { 200: ok("What changed", TagEditResultSchema) },
}, {
  400: bad,
  401: unauthorized,
  404: err("A prefix names no record; nothing is written."),
  409: err("A prefix is ambiguous; nothing is written."),
  413: tooLarge,
  415: unsupported,
});

// ---- sync -----------------------------------------------------------------------

export const PushBodySchema = closed({ records: z.array(RecordSchema) });
const accepted = ok("Accepted", z.object({ accepted: z.number().int() }));

/** A POST route taking records (`{ records }` as JSON, or JSON lines), a write. */
const recordsRoute = <P extends string>(path: P, tag: string, summary: string) => {
  const r = route({
    method: "post",
    path,
    tags: [tag],
    summary,
    security: writeSecurity,
    request: { body: jsonBody(PushBodySchema) },
    responses: { 200: accepted },
  }, { 400: bad, 401: unauthorized, 413: tooLarge, 415: unsupported });
  // JSON lines too: read by the route's own middleware (app.ts), so described here but left out of the typed input.
  Object.assign(r.request.body.content, { "application/x-ndjson": { schema: { type: "string", description: "One record per line." } } });
  return r;
};

export const push = recordsRoute(
  "/api/sync/push",
  "sync",
  "Import records (idempotent; all or nothing). Each record's shape and id-vs-content are verified, and each " +
    "Evaluation against its CallNode (stored or in the batch: same task, arguments and result); a stored " +
    "Evaluation is never replaced.",
);

export const pull = route({
  method: "get",
  path: "/api/sync/pull",
  tags: ["sync"],
  summary: "Records written or changed since a cursor, in write order.",
  request: {
    query: params({
      cursor: oneParam("The `cursor` of the previous page; absent or empty: from the start."),
      limit: oneParam(`Page size, 1..${MAX_PAGE} (default 500).`),
    }),
  },
  responses: { 200: ok("A page", ExportPageSchema) },
}, { 400: bad, 401: unauthorized });

// ---- repository primitives (adapters/http) --------------------------------------

export const repositoryWrite = recordsRoute(
  "/api/repository/write",
  "repository",
  "A scheduler's write through the HTTP Repository: verified as a push is; it replaces stored Evaluations " +
    "(a re-run's result) only when the server trusts its writers (`trustWriters`, default: when writes need a token).",
);

/** A POST route of the repository primitives: body in, JSON out, reads only. */
const primitive = <P extends string, B extends z.ZodType, R extends z.ZodType>(path: P, summary: string, body: B, response: R) =>
  route({
    method: "post",
    path,
    tags: ["repository"],
    summary,
    request: { body: jsonBody(body) },
    responses: { 200: ok("Result", response) },
  }, { 400: bad, 401: unauthorized, 413: tooLarge, 415: unsupported });

export const get = primitive(
  "/api/repository/get",
  "Records of one type by full id.",
  closed({ type: RecordTypeSchema, ids: ids() }),
  z.object({ records: z.array(RecordSchema) }),
);

export const findByPrefix = primitive(
  "/api/repository/find-by-prefix",
  "For each prefix (in order), the records of the given types whose id starts with it, sorted by id, at most `limit` each.",
  closed({
    prefixes: z
      .array(z.string().regex(/^[0-9a-f-]*$/, "must be lowercase hex").max(MAX_PREFIX_CHARS))
      .max(MAX_EDIT_PREFIXES),
    types: z.array(RecordTypeSchema).max(RECORD_TYPES.length * 2),
    limit: positive(MAX_IDS),
  }),
  z.object({ refs: z.array(z.array(RecordRefSchema)) }),
);

const filterList = z.array(z.union([z.tuple([z.string()]), z.tuple([z.string(), JsonValueSchema])]));
/** The core query model (core/query.ts); normalized (and so checked) once, on the way in. */
export const QuerySchema = closed(
  {
    types: z.array(EntityTypeSchema).optional(),
    tags: filterList.optional(),
    execTags: filterList.optional(),
    execStatus: z.array(z.enum(EXECUTION_STATUSES)).optional(),
    jobStatus: z.array(z.enum(JOB_STATUSES)).optional(),
    taskNames: z.array(z.string()).optional(),
    execIds: z.array(z.string()).optional(),
    idPrefix: z.string().optional(),
    limit: z.number().int().min(1).max(MAX_LIMIT).optional(),
    cursor: z.string().nullable().optional(),
  },
  "query",
).openapi("Query");

export const query = primitive(
  "/api/repository/query",
  "Run a query (normalized server-side); record refs only.",
  closed({ query: QuerySchema.transform((q) => normalizeQuery(q)) }),
  described<QueryPage>(undefined, {
    type: "object",
    properties: { refs: { type: "array", items: { $ref: "#/components/schemas/RecordRef" } }, cursor: cursorSchema },
  }),
);

export const currentTags = primitive(
  "/api/repository/current-tags",
  "Current tags of entities.",
  closed({ entityIds: ids() }),
  z.object({ tags: z.array(TagRecordSchema) }),
);

export const tagChildren = primitive(
  "/api/repository/tag-children",
  "Tags naming any of these tags as a parent.",
  closed({ tagIds: ids() }),
  z.object({ tags: z.array(TagRecordSchema) }),
);

export const countTags = primitive(
  "/api/repository/count-tags",
  "Counts of current tags.",
  closed({ values: z.boolean().default(false), keys: ids().optional() }),
  z.object({ counts: z.array(TagCountSchema) }),
);

export const jobsOfExecution = primitive(
  "/api/repository/jobs-of-execution",
  "The jobs of one execution, in start order.",
  closed({ executionId: z.string().min(1, "must not be empty") }),
  z.object({ jobs: z.array(JobRecordSchema) }),
);

export const jobsOfValues = primitive(
  "/api/repository/jobs-of-values",
  "Jobs whose call returned or took one of these values, newest first (a value's lineage).",
  closed({ valueIds: ids(), limit: positive(MAX_PAGE).optional() }),
  z.object({ jobs: z.array(JobRecordSchema) }),
);

export const exportSince = primitive(
  "/api/repository/export-since",
  "Records written or changed since a cursor.",
  closed({ cursor: z.string().nullable().default(null), limit: positive(MAX_PAGE).optional() }),
  ExportPageSchema,
);

// ---- the document ---------------------------------------------------------------

/** The document's head; the paths and schemas come from the routes. */
export const OPENAPI_CONFIG = {
  openapi: "3.1.0" as const,
  info: {
    title: "redun-edge",
    version: VERSION,
    description:
      "Query and tag the recorded call graphs of workflow runs, and sync records between stores. " +
      "Errors are JSON `{ error: { code, message, field?, prefix?, candidates? } }`; a 500 names only the `requestId` its cause is logged under. When the server has a token, " +
      "writes (tag edits, push, repository write) need `Authorization: Bearer <token>`; reads are open unless the server " +
      "has a read token (API_READ_TOKEN), when every route but /api/health and /api/openapi.json needs it or the write token.",
  },
  servers: [{ url: "/" }],
  tags: [
    { name: "history", description: "Records, their tags, and tag edits." },
    { name: "sync", description: "Push and pull records (JSON or JSON lines)." },
    { name: "repository", description: "Repository primitives for remote clients (adapters/http); writes go through push." },
    { name: "meta" },
  ],
};
