/**
 * One JSON error shape for every failure, so clients (adapters/http, the CLI,
 * a notebook) can map it back to core's typed errors without reading prose.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  AmbiguousIdError,
  RepositoryError,
  TooLargeError,
  UnknownIdError,
  ValidationError,
  type Candidate,
} from "../core/index.ts";

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
