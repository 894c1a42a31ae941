/**
 * One JSON error shape for every failure, so clients (adapters/http, the CLI,
 * a notebook) can map it back to core's typed errors without reading prose.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "@hono/zod-openapi";
import { AmbiguousIdError, RepositoryError, TooLargeError, UnknownIdError, ValidationError, type Candidate } from "../core/index.ts";
import { fieldName, quoted } from "../core/adapter-kit.ts";

/** Stable error codes of the API (`error.code`). */
export type ApiErrorCode =
  | "invalid"
  | "not_found"
  | "ambiguous"
  | "unauthorized"
  | "too_large"
  | "unsupported_media_type"
  | "route_not_found"
  | "repository"
  | "internal"
  | (string & {});

export interface ApiErrorBody {
  error: {
    code: ApiErrorCode;
    message: string;
    /** The input field (or query parameter) that was wrong. */
    field?: string;
    /** 404 / 409: the id prefix asked for. */
    prefix?: string;
    /** 409: the records an ambiguous prefix names (the first ones, by id). */
    candidates?: Candidate[];
    /** 409: true when the prefix names more records than `candidates` lists. */
    more?: true;
    /** 413 for a field over a size rule: the limit, in bytes. */
    limit?: number;
    /** 500: the id the server logged the failure under. */
    requestId?: string;
  };
}

/** An HTTP failure raised by the app itself (auth, media type, size), carrying its API code. */
export class ApiError extends HTTPException {
  readonly code: ApiErrorCode;
  readonly field?: string;
  constructor(status: ContentfulStatusCode, code: ApiErrorCode, message: string, field?: string) {
    super(status, { message });
    this.code = code;
    if (field !== undefined) this.field = field;
  }
}

const CODE_OF_STATUS: Partial<Record<number, ApiErrorCode>> = {
  400: "invalid",
  401: "unauthorized",
  404: "route_not_found",
  413: "too_large",
  415: "unsupported_media_type",
};

/**
 * Map any thrown value to [status, body]. A failure that is not the request's
 * fault (storage, a bug) becomes a bare 500 naming only `requestId`: its text
 * (a SQLite message, say) goes to the log, never to the client.
 */
export function errorBody(err: unknown, requestId = "-"): [ContentfulStatusCode, ApiErrorBody] {
  if (err instanceof ApiError) {
    return [err.status, { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } }];
  }
  if (err instanceof HTTPException) {
    // Hono's own (e.g. the json validator's "Malformed JSON in request body"): the body is at fault.
    const code = CODE_OF_STATUS[err.status] ?? `http_${err.status}`;
    return [err.status, { error: { code, message: err.message || `HTTP ${err.status}`, ...(err.status === 400 ? { field: "body" } : {}) } }];
  }
  if (err instanceof TooLargeError) {
    return [413, { error: { code: "too_large", message: err.message, field: err.field, limit: err.limit } }];
  }
  if (err instanceof ValidationError) {
    return [400, { error: { code: "invalid", message: err.message, field: err.field } }];
  }
  if (err instanceof UnknownIdError) {
    return [404, { error: { code: "not_found", message: err.message, prefix: err.prefix } }];
  }
  if (err instanceof AmbiguousIdError) {
    return [409, { error: { code: "ambiguous", message: err.message, prefix: err.prefix, candidates: err.candidates, ...(err.more ? { more: true } : {}) } }];
  }
  const code = err instanceof RepositoryError ? "repository" : "internal";
  return [500, { error: { code, message: `internal error (request ${requestId})`, requestId } }];
}

/** app.onError handler: a 500 is logged with the request id its answer names. */
export function onError(err: Error, c: Context): Response {
  const requestId = globalThis.crypto.randomUUID();
  const [status, body] = errorBody(err, requestId);
  if (status >= 500) console.error(`redun-edge api: request ${requestId}: ${c.req.method} ${c.req.path}:`, err);
  const res = c.json(body, status);
  if (status >= 500) res.headers.set("X-Request-Id", requestId);
  if (status === 401) res.headers.set("WWW-Authenticate", 'Bearer realm="redun-edge"');
  return res;
}

/** `["records", 0, "id"]` as `records[0].id`. */
function pathText(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i ? "." : ""}${String(p)}`)).join("");
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const p of path) v = v !== null && typeof v === "object" && Object.hasOwn(v, p) ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

/**
 * A schema's refusal as the API's 400: the first issue, naming the field
 * (`tags[0]`, an unknown field by its name, `body` for the body as a whole)
 * and saying what was wrong in words a person can act on.
 */
export function issueError(issue: z.core.$ZodIssue, target: string, input: unknown, under?: string): ValidationError {
  const where = target === "query" ? "query parameter" : "field";
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys;
    const names = `${keys.slice(0, 5).map((k) => quoted(k)).join(", ")}${keys.length > 5 ? ", ..." : ""}`;
    return new ValidationError(fieldName(keys[0]!), `unknown ${where}${keys.length > 1 ? "s" : ""} ${names} (${issue.message})`);
  }
  const path = under && issue.path[0] === under && issue.path.length > 1 ? issue.path.slice(1) : issue.path;
  if (path.length === 0) return new ValidationError(target === "json" ? "body" : target, issue.message);
  const value = valueAt(input, issue.path);
  if (issue.code === "invalid_type" && value === undefined) {
    return new ValidationError(pathText(path), `missing ${where} ${quoted(pathText(path))}`);
  }
  if ((issue.code === "invalid_type" || issue.code === "invalid_value") && typeof path[path.length - 1] === "number") {
    // An element of a list of names (ids, keys, types): the list is what is malformed.
    const list = pathText(path.slice(0, -1));
    return new ValidationError(list, issue.code === "invalid_type" ? `${list} must be a list of ${issue.expected}s` : `${list}: ${issue.message}`);
  }
  const field = pathText(path);
  const options = (issue as { options?: unknown }).options;
  if (issue.code === "invalid_union" && Array.isArray(options)) {
    // A discriminated union's tag (`op`) that names no variant.
    return new ValidationError(field, `${field} must be one of ${options.join(", ")}, got ${quoted(value)}`);
  }
  if (issue.code === "too_big" && issue.origin === "array") {
    return new ValidationError(field, `${field}: at most ${issue.maximum} per call${Array.isArray(value) ? `, got ${value.length}` : ""}`);
  }
  return new ValidationError(field, `${field}: ${issue.message}`);
}

type HookResult = { success: boolean; error?: z.core.$ZodError; target: string; data?: unknown };

/**
 * A route's validation hook: a request its schema refuses is a ValidationError
 * (a 400 naming the field). An unknown field is named first, as it explains
 * the rest. `under`: fields inside this one (the query of
 * /api/repository/query) are named as core names them (`types`, not `query.types`).
 */
export function validationHook(under?: string) {
  return (result: HookResult): undefined => {
    if (result.success || !result.error) return undefined;
    const issues = result.error.issues;
    const issue = issues.find((i) => i.code === "unrecognized_keys") ?? issues[0]!;
    throw issueError(issue, result.target, result.data, under);
  };
}
