/**
 * Reading packed records: a record is found by its id in the `ids` index of
 * `seg`, then read out of its segment. Requests are issued together, so a
 * batch of look-ups costs about one round trip, not one per id.
 */
import { inv, type BulkRecord, type SegRow, type Tx } from "./schema.ts";

export interface Located {
  rec: BulkRecord;
  seq: number;
}

export const defined = <T>(v: T | undefined): v is T => v !== undefined;

/** Segments by sequence number (missing ones left out). */
export async function readSegs(tx: Tx, seqs: Iterable<number>, into = new Map<number, SegRow>()): Promise<Map<number, SegRow>> {
  const store = tx.objectStore("seg");
  const missing = [...new Set(seqs)].filter((s) => !into.has(s));
  const rows = await Promise.all(missing.map((s) => store.get(s)));
  for (const row of rows) if (row) into.set(row.seq, row);
  return into;
}

/** Sequence numbers of the segments holding these ids (absent ids left out). */
export async function locate(tx: Tx, ids: readonly string[]): Promise<Map<string, number>> {
  const index = tx.objectStore("seg").index("ids");
  const seqs = await Promise.all(ids.map((id) => index.getKey(id)));
  const out = new Map<string, number>();
  ids.forEach((id, i) => {
    const seq = seqs[i];
    if (seq !== undefined) out.set(id, seq);
  });
  return out;
}

/** Bulk records by id, with the segment each lives in. */
export async function findBulk(tx: Tx, ids: readonly string[]): Promise<Map<string, Located>> {
  const where = await locate(tx, [...new Set(ids)]);
  const segs = await readSegs(tx, where.values());
  const out = new Map<string, Located>();
  for (const [id, seq] of where) {
    const seg = segs.get(seq);
    const rec = seg?.recs.find((r) => r.id === id);
    if (rec) out.set(id, { rec, seq });
  }
  return out;
}

/**
 * The first `count` records of one type in a range of the `ord` index, in
 * index order (newest first). getAllKeys gives only segment numbers, so the
 * segments are read and their records of the type in the range sorted; the
 * first `count` of those are exactly the first `count` index entries.
 */
export async function ordRange(
  tx: Tx,
  type: string,
  range: IDBKeyRange,
  count: number,
): Promise<{ recs: BulkRecord[]; exhausted: boolean }> {
  const seqs = await tx.objectStore("seg").index("ord").getAllKeys(range, count);
  const segs = await readSegs(tx, seqs);
  const hits: { key: [string, number, string]; rec: BulkRecord }[] = [];
  for (const seg of segs.values()) {
    for (const rec of seg.recs) {
      const key: [string, number, string] = [rec.type, -rec.time, inv(rec.id)];
      if (rec.type === type && range.includes(key)) hits.push({ key, rec });
    }
  }
  hits.sort((a, b) => compareOrd(a.key, b.key));
  return { recs: hits.slice(0, count).map((h) => h.rec), exhausted: seqs.length < count };
}

/** Ascending order of [type, -time, inv(id)] keys (the index order). */
function compareOrd(a: [string, number, string], b: [string, number, string]): number {
  if (a[1] !== b[1]) return a[1] - b[1];
  return a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0;
}
