/**
 * Writing a batch: one readwrite transaction, so it is all or nothing.
 *
 * Cost model (Chromium): every request costs about the same whatever it
 * carries, so the batch is planned in memory and written with as few requests
 * as possible. The id filter rules out ids that were never written (no read
 * for a new record), look-ups for the rest are issued together, bulk records
 * go into packed segments, and only Executions and Tags get a row each.
 *
 * Nothing but IndexedDB requests is awaited inside the transaction.
 */
import {
  RepositoryError,
  type AnyRecord,
  type ExecutionRecord,
  type TagRecord,
} from "../../core/index.ts";
import {
  type WriteOptions,
  assertWritable,
  canonicalJson,
  shouldReplace,
} from "../../core/adapter-kit.ts";
import { unwrap } from "idb";
import type { Bloom } from "./bloom.ts";
import type { Context } from "./context.ts";
import { findBulk, locate, readSegs } from "./segments.ts";
import {
  ALL_STORES,
  PENDING,
  execRow,
  inv,
  segRow,
  type BulkRecord,
  type BulkType,
  type ExecRow,
  type MetaRow,
  type SegRow,
  type StoreName,
  type TagRow,
  type Tx,
} from "./schema.ts";

/** Records per segment: large enough to make puts few, small enough to read one record cheaply. */
export const SEGMENT_SIZE = 32;

/** Filter entries beside plain ids: "some tag names X as parent", "a tag waits for entity X", "X was stored as a preview". */
export const PARENT_MARK = "\u0001p:";
export const PENDING_MARK = "\u0001e:";
export const PREVIEW_MARK = "\u0001v:";

const same = (a: AnyRecord, b: AnyRecord) => canonicalJson(a) === canonicalJson(b);
const isMutable = (r: BulkRecord) => r.type === "Job" || r.type === "Evaluation";

/** What a committed write tells the connection's memory (see Context.stored / placedAt). */
interface Planned {
  seq: number;
  bloom: Bloom;
  stored: string[];
  placed: [string, number][];
}

/** Fold a batch by record: later versions of a record merge by shouldReplace; else the first copy wins. */
function fold(records: readonly AnyRecord[], replaceEvaluations: boolean): AnyRecord[] {
  const byKey = new Map<string, AnyRecord>();
  for (const r of records) {
    const key = `${r.type}\u0000${r.id}`;
    const prev = byKey.get(key);
    if (!prev) byKey.set(key, r);
    else if (shouldReplace(prev, r, replaceEvaluations)) byKey.set(key, r.type === "Value" ? { ...r, time: prev.time } : r);
  }
  return [...byKey.values()];
}

/** Index keys a current tag carries; its entity's time, or PENDING while the entity is not stored. */
export function setCurrentKeys(row: TagRow, entityTime: number | undefined): void {
  const t = row.rec;
  if (t.entityId === null || t.entityType === null) return;
  const time = entityTime === undefined ? PENDING : -entityTime;
  const entity = inv(t.entityId);
  row.ck = [t.key, t.entityType, time, entity];
  row.ckv = [t.key, canonicalJson(t.value), t.entityType, time, entity];
  if (entityTime === undefined) row.pend = t.entityId;
  else delete row.pend;
}

function clearCurrent(row: TagRow): void {
  row.cur = 0;
  delete row.ck;
  delete row.ckv;
  delete row.pend;
}

export async function writeBatch(ctx: Context, input: readonly AnyRecord[], options: WriteOptions = {}): Promise<void> {
  // Validate the whole batch first: a bad record leaves nothing written.
  assertWritable(input);
  const replaceEvaluations = options.replaceEvaluations ?? true;
  const batch = fold(input, replaceEvaluations);
  if (batch.length === 0) return;
  await ctx.exclusive(async () => {
    const db = await ctx.db;
    const tx = db.transaction(ALL_STORES, "readwrite", { durability: ctx.durability }) as Tx<"readwrite">;
    try {
      const planned = await plan(ctx, tx as unknown as Tx, batch, replaceEvaluations);
      await tx.done;
      ctx.committed(planned.seq, planned.bloom, planned.stored, planned.placed);
    } catch (cause) {
      ctx.invalidate();
      try {
        tx.abort();
      } catch {
        // Already finished (a failed request aborts it by itself).
      }
      await tx.done.catch(() => undefined);
      throw new RepositoryError(`write of ${batch.length} records failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    }
  });
}

/** Plan and issue the batch's requests. */
async function plan(ctx: Context, tx: Tx, batch: AnyRecord[], replaceEvaluations: boolean): Promise<Planned> {
  const { seq: startSeq, bloom } = await ctx.state(tx);
  const execStore = tx.objectStore("exec");
  const tagStore = tx.objectStore("tag");

  const execs: ExecutionRecord[] = [];
  const tags: TagRecord[] = [];
  const bulk: BulkRecord[] = [];
  for (const r of batch) {
    if (r.type === "Execution") execs.push(r);
    else if (r.type === "Tag") tags.push(r);
    else bulk.push(r);
  }

  // 1. Stored versions of the ids the filter cannot rule out. Immutable ids
  // this connection saw committed need no look-up; mutable ones it placed
  // are looked for first in the segment it put them in.
  // A whole Value whose id may be stored as a preview is compared with it, as a mutable record is.
  const compared = (r: BulkRecord) => isMutable(r) || (r.type === "Value" && !r.preview && bloom.has(PREVIEW_MARK + r.id));
  const maybeExec = execs.filter((r) => bloom.has(r.id)).map((r) => r.id);
  const maybeTag = tags.filter((r) => bloom.has(r.id)).map((r) => r.id);
  const knownStored = new Set<string>();
  const hinted: BulkRecord[] = [];
  const unhinted: string[] = [];
  for (const r of bulk) {
    if (!bloom.has(r.id)) continue;
    if (!isMutable(r)) {
      if (ctx.stored.has(r.id) && !compared(r)) knownStored.add(r.id);
      else unhinted.push(r.id);
    } else if (ctx.placedAt.has(r.id)) hinted.push(r);
    else unhinted.push(r.id);
  }
  const segs = new Map<number, SegRow>();
  const [execFound, tagFound, bulkWhere] = await Promise.all([
    Promise.all(maybeExec.map((id) => execStore.get(id))),
    Promise.all(maybeTag.map((id) => tagStore.get(id))),
    locate(tx, unhinted),
    readSegs(tx, hinted.map((r) => ctx.placedAt.get(r.id)!), segs),
  ]);
  const misplaced: string[] = [];
  for (const r of hinted) {
    const seq = ctx.placedAt.get(r.id)!;
    if (segs.get(seq)?.recs.some((x) => x.id === r.id && x.type === r.type)) bulkWhere.set(r.id, seq);
    else misplaced.push(r.id);
  }
  if (misplaced.length) for (const [id, seq] of await locate(tx, misplaced)) bulkWhere.set(id, seq);
  const oldExec = new Map<string, ExecRow>();
  for (const row of execFound) if (row) oldExec.set(row.id, row);
  const oldTag = new Map<string, TagRow>();
  for (const row of tagFound) if (row) oldTag.set(row.id, row);
  // Segments of stored mutable records (to compare, and to move the record out on change).
  await readSegs(tx, bulk.filter(compared).flatMap((r) => bulkWhere.get(r.id) ?? []), segs);

  /** Entity id -> its time once this batch is written (for tags' sort keys). */
  const entityTime = new Map<string, number>();
  /** Entities stored for the first time by this batch. */
  const inserted: string[] = [];
  /** Stored Executions/Jobs whose time this batch changes. */
  const retimed = new Map<string, number>();

  const execPuts: ExecutionRecord[] = [];
  for (const r of execs) {
    const old = oldExec.get(r.id);
    if (!old) {
      execPuts.push(r);
      inserted.push(r.id);
      entityTime.set(r.id, r.time);
      continue;
    }
    entityTime.set(r.id, old.rec.time);
    if (shouldReplace(old.rec, r) && !same(old.rec, r)) {
      execPuts.push(r);
      entityTime.set(r.id, r.time);
      if (old.rec.time !== r.time) retimed.set(r.id, r.time);
    }
  }

  const placed: BulkRecord[] = [];
  const dirtySegs = new Set<number>();
  /** Stored immutable records of this batch: their time is read only if a new tag needs it. */
  const storedElsewhere = new Map<string, number>();
  for (const r of bulk) {
    if (knownStored.has(r.id)) continue;
    const seq = bulkWhere.get(r.id);
    const seg = seq === undefined ? undefined : segs.get(seq);
    const old = seg?.recs.find((x) => x.id === r.id && x.type === r.type);
    if (seq === undefined || (seg && !old)) {
      placed.push(r);
      inserted.push(r.id);
      entityTime.set(r.id, r.time);
      continue;
    }
    if (!old || !seg) {
      storedElsewhere.set(r.id, seq);
      continue;
    }
    entityTime.set(r.id, old.time);
    if (shouldReplace(old, r, replaceEvaluations) && !same(old, r)) {
      // Move the new version to a new segment: it gets a new sequence number for export.
      seg.recs = seg.recs.filter((x) => x !== old);
      dirtySegs.add(seg.seq);
      // A whole Value replacing its preview keeps the preview's time.
      const next = r.type === "Value" ? { ...r, time: old.time } : r;
      placed.push(next);
      entityTime.set(r.id, next.time);
      if (old.time !== next.time) retimed.set(r.id, next.time);
    }
  }

  // 2. Tags: currency and the times of their entities.
  const newTags = tags.filter((t) => !oldTag.has(t.id));
  const newTagIds = new Set(newTags.map((t) => t.id));
  const childInBatch = new Set(newTags.flatMap((t) => t.parents));
  const parentLookups = [...childInBatch].filter((p) => !newTagIds.has(p) && !oldTag.has(p) && bloom.has(p));
  const childLookups = newTags.filter((t) => !childInBatch.has(t.id) && bloom.has(PARENT_MARK + t.id)).map((t) => t.id);
  const execTimeLookups = new Set<string>();
  const bulkTimeLookups = new Set<string>();
  for (const t of newTags) {
    if (t.entityId === null || entityTime.has(t.entityId)) continue;
    const known = storedElsewhere.get(t.entityId);
    if (known !== undefined) bulkTimeLookups.add(t.entityId);
    else if (bloom.has(t.entityId)) (t.entityType === "Execution" ? execTimeLookups : bulkTimeLookups).add(t.entityId);
  }
  const pendingLookups = inserted.filter((id) => bloom.has(PENDING_MARK + id));
  const entIndex = tagStore.index("ent");
  const [parentRows, childCounts, execTimes, bulkTimes, pendingRows, retimedRows] = await Promise.all([
    Promise.all(parentLookups.map((id) => tagStore.get(id))),
    Promise.all(childLookups.map((id) => tagStore.index("par").count(id))),
    Promise.all([...execTimeLookups].map((id) => execStore.get(id))),
    findBulk(tx, [...bulkTimeLookups]),
    Promise.all(pendingLookups.map((id) => tagStore.index("pend").getAll(id))),
    Promise.all([...retimed.keys()].map((id) => entIndex.getAll(id))),
  ]);
  for (const row of execTimes) if (row) entityTime.set(row.id, row.rec.time);
  for (const [id, { rec }] of bulkTimes) entityTime.set(id, rec.time);
  const storedTags = new Map(oldTag);
  for (const row of parentRows) if (row) storedTags.set(row.id, row);
  const hasStoredChild = new Set(childLookups.filter((_, i) => (childCounts[i] ?? 0) > 0));

  /** Stored tag rows whose index keys change (their records and sequence numbers do not). */
  const changedTags = new Map<string, TagRow>();
  const edit = (row: TagRow) => {
    let copy = changedTags.get(row.id);
    if (!copy) changedTags.set(row.id, (copy = { ...row }));
    return copy;
  };
  for (const t of newTags) {
    for (const p of t.parents) {
      const parent = storedTags.get(p);
      if (parent?.cur) clearCurrent(edit(parent));
    }
  }
  for (const rows of pendingRows) {
    for (const row of rows) {
      const time = row.rec.entityId === null ? undefined : entityTime.get(row.rec.entityId);
      const copy = changedTags.get(row.id) ?? row;
      if (!copy.cur || time === undefined) continue;
      setCurrentKeys(edit(row), time);
    }
  }
  for (const rows of retimedRows) {
    for (const row of rows) {
      const copy = changedTags.get(row.id) ?? row;
      if (!copy.cur || !copy.ck) continue;
      setCurrentKeys(edit(row), entityTime.get(row.rec.entityId!));
    }
  }

  // 3. Requests: entities first, then tags, so an export page never has a tag before its entity's first version.
  let seq = startSeq;
  // Puts go straight to the raw stores: no promise per request (a failed one aborts the transaction, reported by `done`).
  const raw = (name: StoreName) => unwrap(tx.objectStore(name)) as IDBObjectStore;
  const execRaw = raw("exec");
  const tagRaw = raw("tag");
  const segRaw = raw("seg");
  for (const r of execPuts) execRaw.put(execRow(r, ++seq));
  const byType = new Map<BulkType, BulkRecord[]>();
  for (const r of placed) {
    let list = byType.get(r.type);
    if (!list) byType.set(r.type, (list = []));
    list.push(r);
  }
  const stored: string[] = [];
  const placedAt: [string, number][] = [];
  for (const list of byType.values()) {
    for (let i = 0; i < list.length; i += SEGMENT_SIZE) {
      const recs = list.slice(i, i + SEGMENT_SIZE);
      segRaw.put(segRow(++seq, recs));
      for (const r of recs) {
        if (isMutable(r)) placedAt.push([r.id, seq]);
        else stored.push(r.id);
      }
    }
  }
  // Records found stored by a look-up are remembered too.
  stored.push(...storedElsewhere.keys());
  const moved = new Set(placedAt.map(([id]) => id));
  for (const r of bulk) {
    const at = bulkWhere.get(r.id);
    if (isMutable(r) && at !== undefined && !moved.has(r.id)) placedAt.push([r.id, at]);
  }
  for (const s of dirtySegs) {
    const seg = segs.get(s)!;
    if (seg.recs.length === 0) segRaw.delete(s);
    else segRaw.put(segRow(seg.seq, seg.recs) satisfies SegRow);
  }
  for (const t of newTags) {
    const current = !childInBatch.has(t.id) && !hasStoredChild.has(t.id);
    const row: TagRow = { id: t.id, rec: t, seq: ++seq, cur: current ? 1 : 0 };
    if (current) setCurrentKeys(row, t.entityId === null ? undefined : entityTime.get(t.entityId));
    tagRaw.put(row);
    if (row.pend) bloom.add(PENDING_MARK + row.pend);
  }
  for (const row of changedTags.values()) tagRaw.put(row);

  addToFilter(bloom, inserted, newTags, placed.flatMap((r) => (r.type === "Value" && r.preview ? [r.id] : [])));
  if (seq !== startSeq) raw("meta").put({ key: "state", seq } satisfies MetaRow);
  const bloomRaw = raw("bloom");
  for (const shard of bloom.takeDirty()) bloomRaw.put(shard);
  return { seq, bloom, stored, placed: placedAt };
}

function addToFilter(bloom: Bloom, inserted: string[], newTags: TagRecord[], previews: readonly string[]): void {
  for (const id of inserted) bloom.add(id);
  for (const id of previews) bloom.add(PREVIEW_MARK + id);
  for (const t of newTags) {
    bloom.add(t.id);
    for (const p of t.parents) bloom.add(PARENT_MARK + p);
  }
}
