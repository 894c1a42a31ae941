/**
 * Shape checks for records arriving from outside (sync push, adapters' write
 * batches), so a bad record is refused before anything is written.
 */
import { RepositoryError, ValidationError } from "./errors.ts";
import { verifyRecordId } from "./hash.ts";
import { ENTITY_TYPES, EXECUTION_STATUSES, JOB_STATUSES, RECORD_TYPES, type AnyRecord } from "./records.ts";

type Check = "string" | "number" | "string|null" | "number|null" | "boolean" | "array" | "any";

const FIELDS: Record<AnyRecord["type"], Record<string, Check>> = {
  Execution: { rootJobId: "string", argv: "array", startTime: "number", endTime: "number|null", status: "string" },
  Job: {
    executionId: "string", parentId: "string|null", taskHash: "string", callHash: "string|null",
    startTime: "number", endTime: "number|null", status: "string", error: "string|null",
  },
  Task: { name: "string", namespace: "string", source: "string", version: "string|null" },
  Value: { valueType: "string", encoded: "string", size: "number", preview: "boolean" },
  CallNode: { taskHash: "string", argsHash: "string", args: "array", resultHash: "string", children: "array" },
  Tag: { entityType: "string|null", entityId: "string|null", key: "string", value: "any", parents: "array" },
  Evaluation: { taskHash: "string", argsHash: "string", valueHash: "string", callHash: "string", jobTags: "array" },
};

const FIELD_LIST = Object.fromEntries(Object.entries(FIELDS).map(([t, f]) => [t, Object.entries(f)])) as Record<
  AnyRecord["type"],
  [string, Check][]
>;

function ok(check: Check, v: unknown): boolean {
  switch (check) {
    case "string": return typeof v === "string";
    case "number": return typeof v === "number" && Number.isFinite(v);
    case "string|null": return v === null || typeof v === "string";
    case "number|null": return v === null || (typeof v === "number" && Number.isFinite(v));
    case "boolean": return typeof v === "boolean";
    case "array": return Array.isArray(v);
    case "any": return v !== undefined;
  }
}

/** Throw a ValidationError naming the first wrong field of a record. */
export function assertRecordShape(record: unknown, where = "record"): asserts record is AnyRecord {
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new ValidationError(where, `${where} must be an object`);
  }
  const r = record as Record<string, unknown>;
  if (!RECORD_TYPES.includes(r.type as AnyRecord["type"])) {
    throw new ValidationError(`${where}.type`, `${where}.type: unknown record type ${JSON.stringify(r.type)}`);
  }
  if (typeof r.id !== "string" || r.id === "") throw new ValidationError(`${where}.id`, `${where}.id must be a non-empty string`);
  if (typeof r.time !== "number" || !Number.isFinite(r.time)) throw new ValidationError(`${where}.time`, `${where}.time must be a number`);
  for (const [field, check] of FIELD_LIST[r.type as AnyRecord["type"]]) {
    if (!ok(check, r[field])) throw new ValidationError(`${where}.${field}`, `${where}.${field} must be ${check}`);
  }
  if (r.type === "Execution" && !EXECUTION_STATUSES.includes(r.status as never)) {
    throw new ValidationError(`${where}.status`, `${where}.status: unknown execution status ${JSON.stringify(r.status)}`);
  }
  if (r.type === "Job" && !JOB_STATUSES.includes(r.status as never)) {
    throw new ValidationError(`${where}.status`, `${where}.status: unknown job status ${JSON.stringify(r.status)}`);
  }
  if (r.type === "Tag") {
    if (r.entityType !== null && !ENTITY_TYPES.includes(r.entityType as never)) {
      throw new ValidationError(`${where}.entityType`, `${where}.entityType: unknown entity type ${JSON.stringify(r.entityType)}`);
    }
    if ((r.entityType === null) !== (r.entityId === null)) {
      throw new ValidationError(`${where}.entityId`, `${where}: entityType and entityId must both be set, or both be null (a delete record)`);
    }
    if (r.entityId === null && (r.key !== "" || r.value !== null || (r.parents as unknown[]).length === 0)) {
      throw new ValidationError(`${where}.key`, `${where}: a delete record has key "", value null and at least one parent`);
    }
    if (r.entityId !== null && r.key === "") throw new ValidationError(`${where}.key`, `${where}.key must not be empty`);
    if (r.valueText !== undefined && typeof r.valueText !== "string") {
      throw new ValidationError(`${where}.valueText`, `${where}.valueText must be a string when present`);
    }
  }
  if (r.redun !== undefined) assertRedunOrigin(r.redun, r.type as AnyRecord["type"], `${where}.redun`);
}

/** The `redun` field of a record imported from redun (records.ts, RedunOrigin). */
function assertRedunOrigin(origin: unknown, type: AnyRecord["type"], where: string): void {
  if (type !== "Task" && type !== "Value" && type !== "CallNode" && type !== "Evaluation") {
    throw new ValidationError(where, `${where}: only Task, Value, CallNode and Evaluation records come from redun with it`);
  }
  if (typeof origin !== "object" || origin === null || Array.isArray(origin)) throw new ValidationError(where, `${where} must be an object`);
  const o = origin as Record<string, unknown>;
  if (o.opaque !== undefined && o.opaque !== true) throw new ValidationError(`${where}.opaque`, `${where}.opaque must be true when present`);
  if (type === "Task" && o.optionsHash !== undefined && typeof o.optionsHash !== "string") {
    throw new ValidationError(`${where}.optionsHash`, `${where}.optionsHash must be a string when present`);
  }
  if (type === "Value") {
    if (o.pickle !== null && typeof o.pickle !== "string") throw new ValidationError(`${where}.pickle`, `${where}.pickle must be base64 text or null`);
    if (typeof o.repr !== "string") throw new ValidationError(`${where}.repr`, `${where}.repr must be a string`);
  }
}

/**
 * Batches `checkedBatch` made: frozen copies that passed `assertImportable`,
 * which `assertWritable` need not check again (a push of 22,000 records
 * spent ~5 ms on the second check).
 */
const checkedBatches = new WeakSet<readonly unknown[]>();

/**
 * `assertImportable`, then a frozen copy of the records that adapters' writes
 * take as checked. Adapters check synchronously when a write starts, so the
 * records cannot change in between.
 */
export function checkedBatch(records: readonly unknown[]): readonly AnyRecord[] {
  assertImportable(records);
  const batch = Object.freeze(records.slice());
  checkedBatches.add(batch);
  return batch;
}

/** Shape and id checks for records from another store; throws on the first bad one. */
export function assertImportable(records: readonly unknown[]): asserts records is AnyRecord[] {
  records.forEach((record, i) => {
    assertRecordShape(record, `records[${i}]`);
    if (!verifyRecordId(record)) {
      throw new ValidationError(`records[${i}].id`, `records[${i}]: id ${record.id} does not match the ${record.type}'s content`);
    }
  });
}

/**
 * What every adapter's `write` checks first, so a bad record refuses the whole
 * batch before anything is stored: each record's shape (ids are not verified;
 * that is `assertImportable`'s job for records from other stores).
 */
export function assertWritable(records: readonly unknown[]): asserts records is AnyRecord[] {
  if (checkedBatches.has(records)) return;
  records.forEach((r, i) => {
    try {
      assertRecordShape(r, `records[${i}]`);
    } catch (cause) {
      throw new RepositoryError(`write refused: ${(cause as Error).message}`, { cause });
    }
  });
}
