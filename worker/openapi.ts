/**
 * The OpenAPI 3.1 description of the API, written by hand: the app reads its
 * input with small checkers rather than schemas, so this is kept next to it
 * and a test holds it to the app's route table.
 */
import { VERSION } from "../core/index.ts";

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ "application/json": { schema } });
const ok = (description: string, schema: object) => ({ description, content: json(schema) });
const err = (description: string) => ({ description, content: json(ref("Error")) });

const bad = err("Bad input (malformed tag text, bad JSON, unknown field or parameter, wrong type); nothing is written.");
const unsupported = err("The body's Content-Type is not JSON (or JSON lines for push).");
const tooLarge = err(
  "The body is larger than the server's limit, or a field is over a size rule (a tag key over 1,024 bytes, a tag value over 65,536 bytes of JSON): `field` and `limit` name it.",
);
const unauthorized = err("A token is configured and the request has no valid `Authorization: Bearer <token>`.");
const writeSecurity = [{ bearer: [] }];

const stringList = { type: "array", items: { type: "string" } };
const queryList = (name: string, description: string) => ({
  name, in: "query", required: false, description, schema: stringList, style: "form", explode: true,
});
const queryOne = (name: string, description: string, schema: object = { type: "string" }) => ({
  name, in: "query", required: false, description, schema,
});
const prefixParam = {
  name: "prefix", in: "path", required: true, description: "Any unique prefix of a record id (lowercase hex).",
  schema: { type: "string", pattern: "^[0-9a-f-]+$" },
};

/** A POST route taking records (`{ records }` or JSON lines), a write. */
function recordsRoute(tag: string, summary: string) {
  return {
    post: {
      tags: [tag],
      summary,
      security: writeSecurity,
      requestBody: {
        required: true,
        content: {
          ...json(obj({ records: { type: "array", items: ref("Record") } }, ["records"])),
          "application/x-ndjson": { schema: { type: "string", description: "One record per line." } },
        },
      },
      responses: {
        200: ok("Accepted", { type: "object", properties: { accepted: { type: "integer" } }, required: ["accepted"] }),
        400: bad, 401: unauthorized, 413: tooLarge, 415: unsupported,
      },
    },
  };
}

/** A POST route of the repository primitives: body in, JSON out, reads only. */
function primitive(summary: string, body: object, response: object) {
  return {
    post: {
      tags: ["repository"],
      summary,
      requestBody: { required: true, content: json(body) },
      responses: { 200: ok("Result", response), 400: bad, 401: unauthorized, 413: tooLarge, 415: unsupported },
    },
  };
}

const idList = { type: "array", items: { type: "string" }, maxItems: 1000 };
const obj = (properties: Record<string, object>, required: string[] = []) => ({
  type: "object", additionalProperties: false, properties, required,
});

export const openApiDocument = {
  openapi: "3.1.0",
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
  components: {
    securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    schemas: {
      Error: obj(
        {
          error: obj(
            {
              code: {
                type: "string",
                description: "invalid, not_found, ambiguous, unauthorized, too_large, unsupported_media_type, route_not_found, repository, internal",
              },
              message: { type: "string" },
              field: { type: "string", description: "The field or query parameter at fault." },
              prefix: { type: "string" },
              candidates: { type: "array", items: ref("RecordRef"), description: "409: the first records the prefix names, by id." },
              more: { type: "boolean", description: "409: present (true) when the prefix names more records than `candidates` lists." },
              limit: { type: "integer", description: "413 for a field over a size rule: the limit in bytes." },
              requestId: { type: "string", description: "500: the id the server logged the failure under (also the X-Request-Id header)." },
            },
            ["code", "message"],
          ),
        },
        ["error"],
      ),
      RecordType: { type: "string", enum: ["Execution", "Job", "CallNode", "Task", "Value", "Tag", "Evaluation"] },
      EntityType: { type: "string", enum: ["Execution", "Job", "CallNode", "Task", "Value"] },
      RecordRef: obj({ type: ref("RecordType"), id: { type: "string" } }, ["type", "id"]),
      Record: {
        type: "object",
        description: "A record as stored (see DESIGN.md, Records): `type`, `id`, `time` and the fields of its type.",
        properties: { type: ref("RecordType"), id: { type: "string" }, time: { type: "number" } },
        required: ["type", "id", "time"],
      },
      TagPair: {
        type: "array",
        description: "[key, value], and a third item, Python's JSON text of the value, for a tag from redun that keeps it (`1000.0`).",
        prefixItems: [{ type: "string" }, {}, { type: "string" }],
        minItems: 2,
        maxItems: 3,
      },
      RecordView: {
        description: "A record with its current tags (and, by type, taskName / args / fullName / decoded value; an Execution's `abandoned`: RUNNING past its lease).",
        allOf: [ref("Record"), { type: "object", properties: { tags: { type: "array", items: ref("TagPair") } }, required: ["tags"] }],
      },
      RecordDetail: {
        type: "object",
        properties: {
          record: ref("RecordView"),
          jobTree: { description: "Execution: the job tree from the root job." },
          jobCounts: { type: "object" },
          call: { description: "Job / CallNode: arguments, result and child calls." },
          task: { description: "Job / CallNode: the task, with its current tags." },
          ancestors: { description: "Job: its execution id and the jobs from the root down to its parent (id, task name)." },
        },
        required: ["record"],
      },
      TagCount: {
        type: "object",
        properties: { key: { type: "string" }, value: {}, entityType: ref("EntityType"), count: { type: "integer" } },
        required: ["key", "count"],
      },
      TagItem: {
        description: '`"k=v"` tag text, or `[k, v]`; for rm also `"k"` / `[k]` (every value of k).',
        oneOf: [{ type: "string" }, { type: "array", prefixItems: [{ type: "string" }, {}], minItems: 1, maxItems: 2 }],
      },
      TagEdit: {
        type: "object",
        additionalProperties: false,
        properties: {
          op: { type: "string", enum: ["add", "update", "rm", "rename"] },
          tags: { type: "array", items: ref("TagItem"), maxItems: 1000 },
          keys: { type: "array", items: { type: "string" }, description: "rm: remove every value of these keys." },
          from: { type: "string", description: "rename: the old key." },
          to: { type: "string", description: "rename: the new key." },
          prefixes: {
            type: "array",
            items: { type: "string" },
            maxItems: 99,
            description: "More records to edit in the same (atomic) edit; with the path's, at most 100.",
          },
        },
        required: ["op"],
      },
      TagEditResult: {
        type: "object",
        properties: {
          entities: {
            type: "array",
            description: "The records edited (as their prefixes resolved), in the order given.",
            items: { type: "object", properties: { type: ref("EntityType"), id: { type: "string" } }, required: ["type", "id"] },
          },
          changes: {
            type: "array",
            items: {
              type: "object",
              properties: {
                op: { type: "string" }, entityType: ref("EntityType"), entityId: { type: "string" }, key: { type: "string" }, value: {},
              },
            },
          },
          written: { type: "integer", description: "Tag records written." },
        },
        required: ["entities", "changes", "written"],
      },
      Query: {
        type: "object",
        additionalProperties: false,
        description: "The core query model (core/query.ts).",
        properties: {
          types: { type: "array", items: ref("EntityType") },
          tags: { type: "array", items: { type: "array", minItems: 1, maxItems: 2 } },
          execTags: { type: "array", items: { type: "array", minItems: 1, maxItems: 2 } },
          execStatus: { type: "array", items: { type: "string", enum: ["RUNNING", "DONE", "FAILED"] } },
          jobStatus: { type: "array", items: { type: "string", enum: ["RUNNING", "DONE", "CACHED", "FAILED"] } },
          taskNames: stringList,
          execIds: stringList,
          idPrefix: { type: "string" },
          limit: { type: "integer", minimum: 1, maximum: 1000 },
          cursor: { type: ["string", "null"] },
        },
      },
      ExportPage: {
        type: "object",
        properties: { records: { type: "array", items: ref("Record") }, cursor: { type: ["string", "null"] }, done: { type: "boolean" } },
        required: ["records", "cursor", "done"],
      },
    },
  },
  paths: {
    "/api/health": {
      get: {
        tags: ["meta"],
        summary: "Liveness, version and the store behind the API.",
        responses: {
          200: ok("Healthy", {
            type: "object",
            properties: {
              ok: { const: true }, version: { type: "string" },
              repository: { type: "object", properties: { name: { type: "string" }, persistent: { type: "boolean" } } },
              writesNeedToken: { type: "boolean" },
            },
          }),
        },
      },
    },
    "/api/openapi.json": {
      get: { tags: ["meta"], summary: "This document.", responses: { 200: ok("OpenAPI 3.1", { type: "object" }) } },
    },
    "/api/records": {
      get: {
        tags: ["history"],
        summary: "Query records, newest first, each with its current tags.",
        parameters: [
          queryList("tag", "`k=v` (value read as on a command line) or `k` (any value); all must hold."),
          queryList("exec_tag", "Records whose execution has this tag (`k=v` or `k`)."),
          queryList("type", "Execution (default), Job, CallNode, Task, Value; repeat or comma-separate."),
          queryList("exec_status", "RUNNING, DONE, FAILED."),
          queryList("job_status", "RUNNING, DONE, CACHED, FAILED."),
          queryList("task", "Task name or namespace.name."),
          queryList("exec_id", "Execution ids."),
          queryOne("id_prefix", "Ids starting with this (lowercase hex)."),
          queryOne("limit", "Page size, 1..1000 (default 100).", { type: "integer", minimum: 1, maximum: 1000 }),
          queryOne("cursor", "The `cursor` of the previous page."),
        ],
        responses: {
          200: ok("A page of records", {
            type: "object",
            properties: { records: { type: "array", items: ref("RecordView") }, cursor: { type: ["string", "null"] } },
            required: ["records", "cursor"],
          }),
          400: bad, 401: unauthorized,
          413: tooLarge,
        },
      },
    },
    "/api/records/{prefix}": {
      get: {
        tags: ["history"],
        summary: "One record by id prefix, with its tags; an Execution with its job tree.",
        parameters: [prefixParam],
        responses: {
          200: ok("The record", ref("RecordDetail")),
          400: bad, 401: unauthorized,
          404: err("No record has this prefix."),
          409: err("The prefix names several records; `candidates` lists them."),
        },
      },
    },
    "/api/records/{prefix}/tags": {
      post: {
        tags: ["history"],
        summary: "Add, update, remove or rename tags of a record (and of `prefixes`), atomically.",
        security: writeSecurity,
        parameters: [prefixParam],
        requestBody: { required: true, content: json(ref("TagEdit")) },
        responses: {
          200: ok("What changed", ref("TagEditResult")),
          400: bad, 401: unauthorized,
          404: err("A prefix names no record; nothing is written."),
          409: err("A prefix is ambiguous; nothing is written."),
          413: tooLarge, 415: unsupported,
        },
      },
    },
    "/api/tags": {
      get: {
        tags: ["history"],
        summary: "Counts of current tags by key and entity type, or by key and value.",
        parameters: [
          queryOne("values", "1: count by key, value and record type.", { type: "string", enum: ["0", "1", "true", "false"] }),
          queryList("key", "Only these keys."),
        ],
        responses: {
          200: ok("Counts", { type: "object", properties: { tags: { type: "array", items: ref("TagCount") } }, required: ["tags"] }),
          400: bad, 401: unauthorized,
        },
      },
    },
    "/api/sync/push": recordsRoute(
      "sync",
      "Import records (idempotent; all or nothing). Each record's shape and id-vs-content are verified, and each " +
        "Evaluation against its CallNode (stored or in the batch: same task, arguments and result); a stored " +
        "Evaluation is never replaced.",
    ),
    "/api/sync/pull": {
      get: {
        tags: ["sync"],
        summary: "Records written or changed since a cursor, in write order.",
        parameters: [
          queryOne("cursor", "The `cursor` of the previous page; absent or empty: from the start."),
          queryOne("limit", "Page size, 1..1000 (default 500).", { type: "integer", minimum: 1, maximum: 1000 }),
        ],
        responses: { 200: ok("A page", ref("ExportPage")), 400: bad, 401: unauthorized },
      },
    },
    "/api/repository/write": recordsRoute(
      "repository",
      "A scheduler's write through the HTTP Repository: verified as a push is; it replaces stored Evaluations " +
        "(a re-run's result) only when the server trusts its writers (`trustWriters`, default: when writes need a token).",
    ),
    "/api/repository/get": primitive(
      "Records of one type by full id.",
      obj({ type: ref("RecordType"), ids: idList }, ["type", "ids"]),
      { type: "object", properties: { records: { type: "array", items: ref("Record") } } },
    ),
    "/api/repository/find-by-prefix": primitive(
      "For each prefix (in order), the records of the given types whose id starts with it, sorted by id, at most `limit` each.",
      obj(
        {
          prefixes: { type: "array", items: { type: "string", pattern: "^[0-9a-f-]*$", maxLength: 64 }, maxItems: 100 },
          types: { type: "array", items: ref("RecordType") },
          limit: { type: "integer", minimum: 1, maximum: 1000 },
        },
        ["prefixes", "types", "limit"],
      ),
      { type: "object", properties: { refs: { type: "array", items: { type: "array", items: ref("RecordRef") } } } },
    ),
    "/api/repository/query": primitive(
      "Run a query (normalized server-side); record refs only.",
      obj({ query: ref("Query") }, ["query"]),
      { type: "object", properties: { refs: { type: "array", items: ref("RecordRef") }, cursor: { type: ["string", "null"] } } },
    ),
    "/api/repository/current-tags": primitive(
      "Current tags of entities.",
      obj({ entityIds: idList }, ["entityIds"]),
      { type: "object", properties: { tags: { type: "array", items: ref("Record") } } },
    ),
    "/api/repository/tag-children": primitive(
      "Tags naming any of these tags as a parent.",
      obj({ tagIds: idList }, ["tagIds"]),
      { type: "object", properties: { tags: { type: "array", items: ref("Record") } } },
    ),
    "/api/repository/count-tags": primitive(
      "Counts of current tags.",
      obj({ values: { type: "boolean" }, keys: idList }),
      { type: "object", properties: { counts: { type: "array", items: ref("TagCount") } } },
    ),
    "/api/repository/jobs-of-execution": primitive(
      "The jobs of one execution, in start order.",
      obj({ executionId: { type: "string" } }, ["executionId"]),
      { type: "object", properties: { jobs: { type: "array", items: ref("Record") } } },
    ),
    "/api/repository/jobs-of-values": primitive(
      "Jobs whose call returned or took one of these values, newest first (a value's lineage).",
      obj({ valueIds: { type: "array", items: { type: "string" }, maxItems: 1000 }, limit: { type: "integer", minimum: 1, maximum: 1000 } }, ["valueIds"]),
      { type: "object", properties: { jobs: { type: "array", items: ref("Record") } } },
    ),
    "/api/repository/export-since": primitive(
      "Records written or changed since a cursor.",
      obj({ cursor: { type: ["string", "null"] }, limit: { type: "integer", minimum: 1, maximum: 1000 } }),
      ref("ExportPage"),
    ),
  },
};
