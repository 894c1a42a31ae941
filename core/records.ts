/**
 * The records of a call graph. Plain JSON objects, so every adapter, the HTTP
 * API and sync can carry them unchanged.
 */

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** Records that can carry tags. */
export type EntityType = "Execution" | "Job" | "CallNode" | "Task" | "Value";
export const ENTITY_TYPES: readonly EntityType[] = ["Execution", "Job", "CallNode", "Task", "Value"];

export type RecordType = EntityType | "Tag" | "Evaluation";
export const RECORD_TYPES: readonly RecordType[] = [...ENTITY_TYPES, "Tag", "Evaluation"];

export type ExecutionStatus = "RUNNING" | "DONE" | "FAILED";
export const EXECUTION_STATUSES: readonly ExecutionStatus[] = ["RUNNING", "DONE", "FAILED"];
export type JobStatus = "RUNNING" | "DONE" | "CACHED" | "FAILED";
export const JOB_STATUSES: readonly JobStatus[] = ["RUNNING", "DONE", "CACHED", "FAILED"];

/**
 * Every record has `time` (ms since epoch): the start time of an Execution or
 * Job, and the time a content-addressed record was first written. It is the
 * sort key of queries (newest first) and is never part of a hash.
 */
interface Base {
  id: string;
  time: number;
}

/** A run. Mutable: its status moves RUNNING -> DONE | FAILED. */
export interface ExecutionRecord extends Base {
  type: "Execution";
  rootJobId: string;
  /** What was run, e.g. ["run", "hello-world.ts", "main"]. */
  argv: string[];
  startTime: number;
  endTime: number | null;
  status: ExecutionStatus;
  /**
   * The lease of a RUNNING execution (ms since epoch): the scheduler renews it
   * while the run lives, so a RUNNING execution whose lease has passed was
   * abandoned (its process was killed). Absent: no lease (never abandoned).
   */
  leaseUntil?: number;
}

/** Past its lease: a RUNNING execution whose process stopped renewing it (see `leaseUntil`). */
export function isAbandoned(execution: ExecutionRecord, now: number): boolean {
  return execution.status === "RUNNING" && typeof execution.leaseUntil === "number" && execution.leaseUntil < now;
}

/** One evaluation of a task. Mutable: status and callHash are filled in at the end. */
export interface JobRecord extends Base {
  type: "Job";
  executionId: string;
  parentId: string | null;
  taskHash: string;
  /**
   * The CallNode of this job; null until it finishes. A FAILED job's CallNode
   * has its arguments and, as result, the error (a Value of type "error");
   * null when it failed before its arguments were known.
   */
  callHash: string | null;
  startTime: number;
  endTime: number | null;
  status: JobStatus;
  /** The error message of a FAILED job. */
  error: string | null;
}

export interface TaskRecord extends Base {
  type: "Task";
  name: string;
  namespace: string;
  source: string;
  version: string | null;
  /** Set when the task came from redun: its id is redun's task hash (see RedunTaskOrigin). */
  redun?: RedunTaskOrigin;
}

/** `namespace.name`, or the name alone in the default namespace: how a task is named everywhere. */
export function taskFullName(task: { readonly name: string; readonly namespace: string }): string {
  return task.namespace ? `${task.namespace}.${task.name}` : task.name;
}

/**
 * Whether text may start an id: lowercase hex, and `-` of a uuid. The empty
 * text starts every id; callers that need a prefix to name one record refuse it.
 */
export function isIdPrefix(text: string): boolean {
  return /^[0-9a-f-]*$/.test(text);
}

export interface ValueRecord extends Base {
  type: "Value";
  /** The value's kind: null, boolean, number, string, array, object or undefined. */
  valueType: string;
  /**
   * The canonical JSON encoding of the value; when `preview` is true, only its
   * first PREVIEW_CHARS characters (the encoding was over MAX_VALUE_BYTES).
   */
  encoded: string;
  /** Size of the full canonical encoding in UTF-8 bytes. */
  size: number;
  preview: boolean;
  /**
   * Set when the value came from redun: `valueType` is then redun's type name
   * (`builtins.str`, `redun.File`), `encoded` the JSON of the decoded pickle,
   * and the id redun's value hash (see RedunValueOrigin).
   */
  redun?: RedunValueOrigin;
}

export interface CallArgument {
  /** Position ("0", "1", ...) of the argument. */
  key: string;
  valueHash: string;
}

export interface CallNodeRecord extends Base {
  type: "CallNode";
  taskHash: string;
  argsHash: string;
  args: CallArgument[];
  resultHash: string;
  /** Child call hashes in call order. */
  children: string[];
  /**
   * Set when the call node came from redun: its id and argsHash are redun's
   * (args keyed by position "0", "1", ... or by keyword name).
   */
  redun?: RedunOrigin;
}

/**
 * A tag. Immutable; edits add tags whose `parents` are the tags they replace.
 * A delete record has entityType and entityId null, key "" and value null.
 */
export interface TagRecord extends Base {
  type: "Tag";
  entityType: EntityType | null;
  entityId: string | null;
  key: string;
  value: JsonValue;
  /** Sorted ids of the tags this one replaces. */
  parents: string[];
  /**
   * Python's JSON text of the value, as the id was computed from it (see
   * tagHash), when it is not jsonDumps(value): a tag made in Python keeps
   * `1.0`, `1e+20`, `NaN` or an integer past 2^53 exactly.
   */
  valueText?: string;
}

/**
 * Cache entry: the result of a task on some arguments. Its id is
 * hash(task hash, args hash); it is a mutable cache slot: a scheduler that
 * runs the task again records it again, but a record from another store
 * (sync) never replaces one (see `shouldReplace` and `importRecords`).
 */
export interface EvaluationRecord extends Base {
  type: "Evaluation";
  taskHash: string;
  argsHash: string;
  valueHash: string;
  callHash: string;
  /** Job tags the evaluated job got, given again to the jobs that reuse it. */
  jobTags: [string, JsonValue][];
  /**
   * Execution tags the evaluated job's `applyTags` gave, given again to the
   * execution that reuses it. Absent: none.
   */
  executionTags?: [string, JsonValue][];
  /** Set when the evaluation came from redun: its id is redun's H(["Eval", task, args]). */
  redun?: RedunOrigin;
}

/**
 * Records imported from a redun database keep redun's ids, which redun
 * computes with its own formulas (core/redun/hash.ts); this marks them, so
 * every store verifies them by those formulas. `opaque`: redun derived the id
 * from data it does not store with the record (a File's size and mtime, an
 * expression's arguments, a task's `compat` hash); such an id is checked for
 * its form only, as a preview Value's is.
 */
export interface RedunOrigin {
  opaque?: true;
}

export interface RedunTaskOrigin extends RedunOrigin {
  /** Hash of the task's option overrides, the last part of its hash when it has some. */
  optionsHash?: string;
}

export interface RedunValueOrigin extends RedunOrigin {
  /**
   * The pickle (protocol 3) redun stored, base64; the id is SHA-512 of
   * bencode(["Value"]) followed by it. Null when not kept (redun kept the data
   * in a separate value store, or it is too large to carry).
   */
  pickle: string | null;
  /** Python's repr of the value, as redun shows it (`'HELLO'`, `File(path=a.txt, hash=1037ea85)`). */
  repr: string;
}

export type AnyRecord =
  | ExecutionRecord
  | JobRecord
  | TaskRecord
  | ValueRecord
  | CallNodeRecord
  | TagRecord
  | EvaluationRecord;

export interface RecordOfType {
  Execution: ExecutionRecord;
  Job: JobRecord;
  Task: TaskRecord;
  Value: ValueRecord;
  CallNode: CallNodeRecord;
  Tag: TagRecord;
  Evaluation: EvaluationRecord;
}

export type RecordOf<T extends RecordType> = RecordOfType[T];

/**
 * Values whose canonical encoding takes more UTF-8 bytes than this are stored
 * as a preview. Bytes, not characters: D1 limits a string or row to 2 MB.
 */
export const MAX_VALUE_BYTES = 1_000_000;
/** Characters of the encoding kept in a preview. */
export const PREVIEW_CHARS = 4_096;

/**
 * Merge rule for a record written twice (by a re-write or by sync), which
 * every adapter applies in its upsert:
 * - a finished Execution/Job is never replaced by a RUNNING one; otherwise
 *   the incoming one wins;
 * - an Evaluation is replaced only when `replaceEvaluations` (a scheduler's
 *   own writes), never by sync (`importRecords`);
 * - a Value kept as a preview is replaced by the whole value (whose id was
 *   checked against its content), keeping its time; a preview never replaces
 *   anything;
 * - other content-addressed records are never replaced.
 */
export function shouldReplace(existing: AnyRecord, incoming: AnyRecord, replaceEvaluations = true): boolean {
  if (incoming.type === "Execution" || incoming.type === "Job") {
    const old = existing as ExecutionRecord | JobRecord;
    return !(incoming.status === "RUNNING" && old.status !== "RUNNING");
  }
  if (incoming.type === "Evaluation") return replaceEvaluations;
  if (incoming.type === "Value") return (existing as ValueRecord).preview && !incoming.preview;
  return false;
}
