/** Typed errors. Each carries a stable `code` so the API and CLI can map it. */

/**
 * Input quoted in an error message (JSON), cut to `max` characters: an
 * answer never echoes a 10 MB field back.
 */
export function quoted(value: unknown, max = 100): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}\u2026` : text;
}

/** A name from the input (an unknown field or parameter) as an error's `field`, cut to `max` characters. */
export function fieldName(name: string, max = 100): string {
  return name.length > max ? `${name.slice(0, max - 1)}\u2026` : name;
}

export class RedunEdgeError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad input: names the field (or tag text) that was wrong. */
export class ValidationError extends RedunEdgeError {
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? "invalid", message, options);
    this.field = field;
  }
}

/** Input over one of the size rules of core/limits.ts (the API answers 413). */
export class TooLargeError extends ValidationError {
  readonly limit: number;
  constructor(field: string, message: string, limit: number) {
    super(field, message, { code: "too_large" });
    this.limit = limit;
  }
}

/** Tag text that cannot be read (`key=value`). */
export class TagParseError extends ValidationError {
  constructor(text: string, message: string, options?: { cause?: unknown }) {
    super("tag", `invalid tag ${quoted(text)}: ${message}`, options);
  }
}

export class UnknownIdError extends RedunEdgeError {
  readonly prefix: string;
  constructor(prefix: string) {
    super("not_found", `no record with id prefix ${quoted(prefix)}`);
    this.prefix = prefix;
  }
}

export interface Candidate {
  type: string;
  id: string;
}

export class AmbiguousIdError extends RedunEdgeError {
  readonly prefix: string;
  /** The first records it names, by id. */
  readonly candidates: Candidate[];
  /** True when it names more records than `candidates` lists. */
  readonly more: boolean;
  constructor(prefix: string, candidates: Candidate[], more = false) {
    super(
      "ambiguous",
      `id prefix ${quoted(prefix)} is ambiguous; it names: ${candidates.map((c) => `${c.type} ${c.id}`).join(", ")}${more ? ", and more" : ""}`,
    );
    this.prefix = prefix;
    this.candidates = candidates;
    this.more = more;
  }
}

/** A storage failure; `cause` holds the backend's error. */
export class RepositoryError extends RedunEdgeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("repository", message, options);
  }
}

/** A task body threw; the job and execution were recorded as FAILED. */
export class TaskError extends RedunEdgeError {
  readonly taskName: string;
  readonly jobId: string;
  constructor(taskName: string, jobId: string, options: { cause: unknown }) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super("task_failed", `task ${taskName} failed (job ${jobId.slice(0, 8)}): ${reason}`, options);
    this.taskName = taskName;
    this.jobId = jobId;
  }
}

/**
 * A run was interrupted (its AbortSignal fired): the jobs running then and
 * the execution were recorded as FAILED with the error "interrupted".
 */
export class InterruptedError extends RedunEdgeError {
  readonly executionId: string | null;
  constructor(executionId: string | null = null) {
    super("interrupted", "interrupted");
    this.executionId = executionId;
  }
}
