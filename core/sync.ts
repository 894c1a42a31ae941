/**
 * Sync: stores exchange records; since content-addressed ids make merging a
 * set union, push and pull are idempotent, and an export cursor makes them
 * resumable. Imports verify every record's id against its content first.
 */
import type { AnyRecord } from "./records.ts";
import type { Repository } from "./repository.ts";
import { checkedBatch } from "./validate.ts";

/** Verify and write records from another store (all or nothing). */
export async function importRecords(repository: Repository, records: readonly unknown[]): Promise<number> {
  const batch = checkedBatch(records);
  if (batch.length) await repository.write(batch);
  return batch.length;
}

export interface SyncProgress {
  records: number;
  cursor: string | null;
}

export interface SyncOptions {
  /** Start after this source cursor (resume). */
  cursor?: string | null;
  pageSize?: number;
  onProgress?: (progress: SyncProgress) => void;
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
  for (;;) {
    const page = await source.exportSince(cursor, options.pageSize ?? 1000);
    if (page.records.length) await target.importRecords(page.records);
    total += page.records.length;
    cursor = page.cursor;
    options.onProgress?.({ records: total, cursor });
    if (page.done || page.records.length === 0) return { records: total, cursor };
  }
}
