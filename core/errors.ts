/** Typed errors. Each carries a stable `code` so the API and CLI can map it. */

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
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super("invalid", message, options);
    this.field = field;
  }
}

/** Tag text that cannot be read (`key=value`). */
export class TagParseError extends ValidationError {
  constructor(text: string, message: string, options?: { cause?: unknown }) {
    super("tag", `invalid tag ${JSON.stringify(text)}: ${message}`, options);
  }
}

export class UnknownIdError extends RedunEdgeError {
  readonly prefix: string;
  constructor(prefix: string) {
    super("not_found", `no record with id prefix ${JSON.stringify(prefix)}`);
    this.prefix = prefix;
  }
}

export interface Candidate {
  type: string;
  id: string;
}

export class AmbiguousIdError extends RedunEdgeError {
  readonly prefix: string;
  readonly candidates: Candidate[];
  constructor(prefix: string, candidates: Candidate[]) {
    super(
      "ambiguous",
      `id prefix ${JSON.stringify(prefix)} is ambiguous; it names: ${candidates.map((c) => `${c.type} ${c.id}`).join(", ")}`,
    );
    this.prefix = prefix;
    this.candidates = candidates;
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
