/**
 * One row codec per table: its columns, how a record becomes a row (`values`,
 * in `columns` order) and a row a record (`fromRow` by name, `fromValues` by
 * position). The writer (write.ts), the readers (statements.ts) and the
 * context statement (context-sql.ts) all build their column lists and decode
 * their rows from these, so no layout is kept in step by hand.
 */
import {
  ENTITY_TYPES,
  type CallNodeRecord,
  type EvaluationRecord,
  type ExecutionRecord,
  type JobRecord,
  type RecordOf,
  type RecordType,
  type TagRecord,
  type TaskRecord,
  type ValueRecord,
} from "../../core/index.ts";
import { canonicalJson, taskFullName } from "../../core/adapter-kit.ts";

export type Row = Record<string, unknown>;

/**
 * How a second write of the same id is merged (see `shouldReplace`):
 * "whole-over-preview" replaces a stored preview by the whole value (keeping
 * its time); "last-write-wins" replaces unless the write keeps Evaluations.
 */
export type Merge = "insert-only" | "unless-finished" | "last-write-wins" | "whole-over-preview";

export interface TableSpec<T extends RecordType = RecordType> {
  type: T;
  table: string;
  merge: Merge;
  /**
   * Columns in write order. The row array sent for a record is
   * `[seqOffset, ...values]`, so column i is read as `j.value ->> (i + 1)`;
   * columns listed in `jsonColumns` are nested JSON and read with `->`.
   */
  columns: readonly string[];
  jsonColumns: ReadonlySet<string>;
  /**
   * Column values of a record, in `columns` order. `valueJson`: a tag value's
   * canonical JSON when the caller has it already (the writer validates every
   * tag by encoding it); other tables ignore it.
   */
  values(record: RecordOf<T>, valueJson?: string): unknown[];
  /** The record of a row read with `SELECT ${columns}`. */
  fromRow(row: Row): RecordOf<T>;
}

/** The record of a row given as its column values in `columns` order (`json_array(columns)` in SQL). */
export function fromValues<T extends RecordType>(spec: TableSpec<T>, values: readonly unknown[]): RecordOf<T> {
  const row: Row = {};
  spec.columns.forEach((column, i) => (row[column] = values[i]));
  return spec.fromRow(row);
}

const str = (v: unknown): string => v as string;
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : (v as string));
const num = (v: unknown): number => v as number;
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : (v as number));
const json = <T>(v: unknown): T => JSON.parse(v as string) as T;
/** The `redun` column (migration 0007): a record's RedunOrigin as JSON, NULL for records made here. */
const redunOf = (r: { redun?: unknown }): string | null => (r.redun === undefined ? null : JSON.stringify(r.redun));
/** `{ redun }` for spreading into a record read back, nothing when the column is NULL. */
const withRedun = <T>(v: unknown): { redun?: T } => (v === null || v === undefined ? {} : { redun: JSON.parse(v as string) as T });

const execution: TableSpec<"Execution"> = {
  type: "Execution",
  table: "executions",
  merge: "unless-finished",
  columns: ["id", "time", "root_job_id", "argv", "start_time", "end_time", "status", "lease_until"],
  jsonColumns: new Set(["argv"]),
  values: (r: ExecutionRecord) => [r.id, r.time, r.rootJobId, r.argv, r.startTime, r.endTime, r.status, r.leaseUntil ?? null],
  fromRow: (row): ExecutionRecord => {
    const record: ExecutionRecord = {
      type: "Execution",
      id: str(row.id),
      time: num(row.time),
      rootJobId: str(row.root_job_id),
      argv: json(row.argv),
      startTime: num(row.start_time),
      endTime: numOrNull(row.end_time),
      status: str(row.status) as ExecutionRecord["status"],
    };
    // Absent when NULL: a record without a lease reads back as it was written.
    const lease = numOrNull(row.lease_until);
    if (lease !== null) record.leaseUntil = lease;
    return record;
  },
};

const job: TableSpec<"Job"> = {
  type: "Job",
  table: "jobs",
  merge: "unless-finished",
  columns: ["id", "time", "execution_id", "parent_id", "task_hash", "call_hash", "start_time", "end_time", "status", "error"],
  jsonColumns: new Set(),
  values: (r: JobRecord) => [r.id, r.time, r.executionId, r.parentId, r.taskHash, r.callHash, r.startTime, r.endTime, r.status, r.error],
  fromRow: (row): JobRecord => ({
    type: "Job",
    id: str(row.id),
    time: num(row.time),
    executionId: str(row.execution_id),
    parentId: strOrNull(row.parent_id),
    taskHash: str(row.task_hash),
    callHash: strOrNull(row.call_hash),
    startTime: num(row.start_time),
    endTime: numOrNull(row.end_time),
    status: str(row.status) as JobRecord["status"],
    error: strOrNull(row.error),
  }),
};

const task: TableSpec<"Task"> = {
  type: "Task",
  table: "tasks",
  merge: "insert-only",
  columns: ["id", "time", "name", "namespace", "full_name", "source", "version", "redun"],
  jsonColumns: new Set(),
  values: (r: TaskRecord) => [r.id, r.time, r.name, r.namespace, taskFullName(r), r.source, r.version, redunOf(r)],
  fromRow: (row): TaskRecord => ({
    type: "Task",
    id: str(row.id),
    time: num(row.time),
    name: str(row.name),
    namespace: str(row.namespace),
    source: str(row.source),
    version: strOrNull(row.version),
    ...withRedun<TaskRecord["redun"]>(row.redun),
  }),
};

const value: TableSpec<"Value"> = {
  type: "Value",
  table: "value_records",
  merge: "whole-over-preview",
  columns: ["id", "time", "value_type", "encoded", "size", "preview", "redun"],
  jsonColumns: new Set(),
  values: (r: ValueRecord) => [r.id, r.time, r.valueType, r.encoded, r.size, r.preview ? 1 : 0, redunOf(r)],
  fromRow: (row): ValueRecord => ({
    type: "Value",
    id: str(row.id),
    time: num(row.time),
    valueType: str(row.value_type),
    encoded: str(row.encoded),
    size: num(row.size),
    preview: row.preview === 1 || row.preview === true,
    ...withRedun<ValueRecord["redun"]>(row.redun),
  }),
};

const callNode: TableSpec<"CallNode"> = {
  type: "CallNode",
  table: "call_nodes",
  merge: "insert-only",
  columns: ["id", "time", "task_hash", "args_hash", "args", "result_hash", "children", "redun"],
  jsonColumns: new Set(["args", "children"]),
  values: (r: CallNodeRecord) => [r.id, r.time, r.taskHash, r.argsHash, r.args, r.resultHash, r.children, redunOf(r)],
  fromRow: (row): CallNodeRecord => ({
    type: "CallNode",
    id: str(row.id),
    time: num(row.time),
    taskHash: str(row.task_hash),
    argsHash: str(row.args_hash),
    args: json(row.args),
    resultHash: str(row.result_hash),
    children: json(row.children),
    ...withRedun<CallNodeRecord["redun"]>(row.redun),
  }),
};

/**
 * Tags: value_json is the canonical JSON (JSON equality is text equality);
 * value_text is a tag's valueText, '' when it has none (migration 0007);
 * `current` is not a written column, it is derived in the tag statements.
 */
const tag: TableSpec<"Tag"> = {
  type: "Tag",
  table: "tags",
  merge: "insert-only",
  columns: ["id", "time", "entity_type", "entity_id", "key", "value_json", "parents", "value_text"],
  jsonColumns: new Set(["parents"]),
  values: (r: TagRecord, valueJson = canonicalJson(r.value)) => [r.id, r.time, r.entityType, r.entityId, r.key, valueJson, r.parents, r.valueText ?? ""],
  fromRow: (row): TagRecord => ({
    type: "Tag",
    id: str(row.id),
    time: num(row.time),
    entityType: strOrNull(row.entity_type) as TagRecord["entityType"],
    entityId: strOrNull(row.entity_id),
    key: str(row.key),
    value: json(row.value_json),
    parents: json(row.parents),
    ...(typeof row.value_text === "string" && row.value_text !== "" ? { valueText: row.value_text } : {}),
  }),
};

/**
 * job_tags and execution_tags are stored as JSON strings written by JS: they
 * hold arbitrary values. execution_tags is '[]' for a record without them,
 * which reads back without the field.
 */
const evaluation: TableSpec<"Evaluation"> = {
  type: "Evaluation",
  table: "evaluations",
  merge: "last-write-wins",
  columns: ["id", "time", "task_hash", "args_hash", "value_hash", "call_hash", "job_tags", "execution_tags", "redun"],
  jsonColumns: new Set(),
  values: (r: EvaluationRecord) => [
    r.id, r.time, r.taskHash, r.argsHash, r.valueHash, r.callHash, JSON.stringify(r.jobTags), JSON.stringify(r.executionTags ?? []), redunOf(r),
  ],
  fromRow: (row): EvaluationRecord => {
    const record: EvaluationRecord = {
      type: "Evaluation",
      id: str(row.id),
      time: num(row.time),
      taskHash: str(row.task_hash),
      argsHash: str(row.args_hash),
      valueHash: str(row.value_hash),
      callHash: str(row.call_hash),
      jobTags: json(row.job_tags),
    };
    const executionTags = json<EvaluationRecord["jobTags"]>(row.execution_tags ?? "[]");
    if (executionTags.length) record.executionTags = executionTags;
    return { ...record, ...withRedun<EvaluationRecord["redun"]>(row.redun) };
  },
};

export const TABLES: { readonly [T in RecordType]: TableSpec<T> } = {
  Execution: execution,
  Job: job,
  Task: task,
  Value: value,
  CallNode: callNode,
  Tag: tag,
  Evaluation: evaluation,
};

/** Order of types in findByPrefix/exportSince unions (any fixed order works). */
export const ALL_TYPES: readonly RecordType[] = ["Execution", "Job", "CallNode", "Task", "Value", "Tag", "Evaluation"];

export function specOf<T extends RecordType>(type: T): TableSpec<T> {
  return TABLES[type] as TableSpec<T>;
}

const sqlCache = new Map<string, string>();

/** SQL that depends only on `key`, built once (statement texts are reused across calls). */
export function cachedSql(key: string, build: () => string): string {
  let sql = sqlCache.get(key);
  if (sql === undefined) sqlCache.set(key, (sql = build()));
  return sql;
}

/** A table's columns for a SELECT list, each prefixed (`"t."` for an alias). */
export function selectColumns(spec: TableSpec, prefix = ""): string {
  return spec.columns.map((c) => prefix + c).join(", ");
}

/**
 * SQL for the time of the entity of type `typeSql` and id `idSql`, NULL when
 * it is not stored: what tags are indexed by (migration 0003).
 */
export function entityTimeSql(typeSql: string, idSql: string): string {
  const arms = ENTITY_TYPES.map((t) => `WHEN '${t}' THEN (SELECT e.time FROM ${TABLES[t].table} AS e WHERE e.id = ${idSql}) `);
  return `CASE ${typeSql} ${arms.join("")}END`;
}

/** The same for an id of any entity type (ids of different types never coincide). */
export function anyEntityTimeSql(idSql: string): string {
  return `coalesce(${ENTITY_TYPES.map((t) => `(SELECT e.time FROM ${TABLES[t].table} AS e WHERE e.id = ${idSql})`).join(", ")})`;
}

/**
 * Tags by id go through tag_ids (substr(id, 1, 8), seq) (migration 0005),
 * which every write batch fills at its end: a tag of the batch being written
 * is not found there yet (write.ts deals with that).
 */
const tagIdKey = (id: string) => `substr(${id}, 1, 8)`;

/** `JOIN`s that bind `alias` to the tag whose id is `id` (SQL; `ti_alias` is its tag_ids entry). */
export const joinTagById = (alias: string, id: string) =>
  `JOIN tag_ids AS ti_${alias} ON ti_${alias}.prefix = ${tagIdKey(id)} JOIN tags AS ${alias} ON ${alias}.seq = ti_${alias}.seq AND ${alias}.id = ${id}`;

/**
 * `SELECT id FROM tags` whose id is in [lo, hi) (prefixRange, SQL): a range of
 * tag_ids for any prefix length (one key when it is 8 or longer).
 */
export const tagIdsInRange = (lo: string, hi: string) =>
  `SELECT t.id FROM tag_ids AS ti JOIN tags AS t ON t.seq = ti.seq ` +
  `WHERE ti.prefix BETWEEN ${tagIdKey(lo)} AND ${tagIdKey(hi)} AND t.id >= ${lo} AND t.id < ${hi}`;
