/**
 * Sync: stores exchange records; since content-addressed ids make merging a
 * set union, push and pull are idempotent, and an export cursor makes them
 * resumable. Imports verify every record's id against its content first.
 *
 * Trust (README, "Trust"): a store checks what it can of a record from
 * elsewhere: its shape, its id against its content, and that a cache
 * Evaluation agrees with the CallNode it names. It cannot check that a task
 * really gave a result, so a record from elsewhere never replaces a cache
 * entry already stored: only a scheduler's own writes do.
 */
import type { AnyRecord, CallNodeRecord, EvaluationRecord } from "./records.ts";
import type { Repository } from "./repository.ts";
import { ValidationError } from "./errors.ts";
import { assertImportable, checkedBatch } from "./validate.ts";

export interface ImportOptions {
  /**
   * Replace stored Evaluations (default false: sync never does). A server
   * passes true for the writes of a scheduler it trusts as its own
   * (`POST /api/repository/write` with `trustWriters`).
   */
  replaceEvaluations?: boolean;
}

/**
 * Verify and write records from another store, all or nothing: shapes, ids
 * against content, and each Evaluation against its CallNode (in the batch or
 * stored): same task, arguments and result.
 */
export async function importRecords(repository: Repository, records: readonly unknown[], options: ImportOptions = {}): Promise<number> {
  const batch = checkedBatch(records);
  await assertEvaluationsAgree(repository, batch);
  if (batch.length) await repository.write(batch, { replaceEvaluations: options.replaceEvaluations ?? false });
  return batch.length;
}

/** Each Evaluation names a CallNode of the batch or the store with its task, arguments and result (one read). */
async function assertEvaluationsAgree(repository: Repository, batch: readonly AnyRecord[]): Promise<void> {
  const evaluations = batch.flatMap((r, i) => (r.type === "Evaluation" ? [[r, i] as const] : []));
  if (evaluations.length === 0) return;
  const calls = new Map<string, CallNodeRecord>();
  for (const r of batch) if (r.type === "CallNode") calls.set(r.id, r);
  const missing = [...new Set(evaluations.map(([e]) => e.callHash).filter((id) => !calls.has(id)))];
  if (missing.length) for (const call of await repository.get("CallNode", missing)) calls.set(call.id, call);
  for (const [e, i] of evaluations) {
    const call = calls.get(e.callHash);
    if (!call) {
      throw new ValidationError(`records[${i}].callHash`, `records[${i}]: the Evaluation names CallNode ${e.callHash}, which is neither stored nor in this batch`);
    }
    if (!agrees(e, call)) {
      throw new ValidationError(
        `records[${i}].callHash`,
        `records[${i}]: the Evaluation does not agree with its CallNode ${call.id} (task, arguments and result must be the same)`,
      );
    }
  }
}

/**
 * Same task, arguments and result. redun's cache entry holds what the task
 * function returned, which may be an expression its CallNode's result was
 * then evaluated from, so an Evaluation from redun agrees on task and
 * arguments alone.
 */
function agrees(e: EvaluationRecord, call: CallNodeRecord): boolean {
  return call.taskHash === e.taskHash && call.argsHash === e.argsHash && (e.redun !== undefined || call.resultHash === e.valueHash);
}

export interface SyncProgress {
  /** Records copied. */
  records: number;
  cursor: string | null;
  /** Records the target refused (reported through `onSkip`) and the copy went past. */
  skipped: number;
}

/** A record a copy left out: the target refused it (a bad shape, an id that does not match its content...). */
export interface SkippedRecord {
  record: unknown;
  /** The target's error, naming the field within the record (`records[i].key` as `key`). */
  error: ValidationError;
}

export interface SyncOptions {
  /** Start after this source cursor (resume). */
  cursor?: string | null;
  pageSize?: number;
  onProgress?: (progress: SyncProgress) => void;
  /**
   * A record the target refuses is reported here and left out, and the copy
   * goes on, so one bad record (one a store holds altered, say) cannot stop
   * every later sync at its page. Without it, the copy stops with the error.
   */
  onSkip?: (skipped: SkippedRecord) => void;
}

/** The index of the record a ValidationError names (`records[12].key` -> 12), or null. */
function recordIndexOf(error: unknown): number | null {
  if (!(error instanceof ValidationError)) return null;
  const m = /^records\[(\d+)\]/.exec(error.field);
  return m ? Number(m[1]) : null;
}

/**
 * Import one page, leaving out what the target refuses: on a refusal, every
 * record is checked here (shape, Unicode, id) and the bad ones left out; then
 * the target's own further refusals (an Evaluation that disagrees with its
 * stored CallNode) are left out one at a time, by the index its error names.
 */
async function importPage(
  target: { importRecords(records: readonly AnyRecord[]): Promise<unknown> },
  records: readonly AnyRecord[],
  onSkip: (skipped: SkippedRecord) => void,
): Promise<number> {
  try {
    await target.importRecords(records);
    return 0;
  } catch (error) {
    if (recordIndexOf(error) === null) throw error;
  }
  let skipped = 0;
  let batch = records.filter((record) => {
    try {
      assertImportable([record]);
      return true;
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      onSkip({ record, error: fieldWithin(error) });
      skipped += 1;
      return false;
    }
  });
  for (;;) {
    try {
      if (batch.length) await target.importRecords(batch);
      return skipped;
    } catch (error) {
      const i = recordIndexOf(error);
      if (i === null || i >= batch.length) throw error;
      onSkip({ record: batch[i], error: fieldWithin(error as ValidationError) });
      skipped += 1;
      batch = [...batch.slice(0, i), ...batch.slice(i + 1)];
    }
  }
}

/** The error with its field named within the record (`records[3].key` -> `key`). */
function fieldWithin(error: ValidationError): ValidationError {
  const field = error.field.replace(/^records\[\d+\]\.?/, "") || "record";
  return new ValidationError(field, error.message.replace(/records\[\d+\]/g, "record"), { cause: error, code: error.code });
}

/**
 * Copy every record of `source` written since `cursor` into `target`, page by
 * page. Returns the source cursor to resume from next time.
 */
export async function copyRecords(
  source: Pick<Repository, "exportSince">,
  target: { importRecords(records: readonly AnyRecord[]): Promise<unknown> },
  options: SyncOptions = {},
): Promise<SyncProgress> {
  let cursor = options.cursor ?? null;
  let total = 0;
  let skipped = 0;
  for (;;) {
    const page = await source.exportSince(cursor, options.pageSize ?? 1000);
    let left = 0;
    if (page.records.length) {
      if (options.onSkip) left = await importPage(target, page.records, options.onSkip);
      else await target.importRecords(page.records);
    }
    // Records the source itself could not read (a damaged row): reported as the target's refusals are.
    for (const bad of page.skipped ?? []) {
      options.onSkip?.({ record: { type: bad.type, id: bad.id }, error: new ValidationError("record", `the source could not read ${bad.type} ${bad.id}: ${bad.error}`) });
    }
    skipped += left + (page.skipped?.length ?? 0);
    total += page.records.length - left;
    cursor = page.cursor;
    options.onProgress?.({ records: total, cursor, skipped });
    if (page.done || (page.records.length === 0 && !page.skipped?.length)) return { records: total, cursor, skipped };
  }
}
