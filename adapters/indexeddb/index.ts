/**
 * The IndexedDB Repository: records a call graph in the browser, offline,
 * persisted across reloads. Layout and cost model: schema.ts; writes:
 * write.ts; queries: query.ts.
 */
import {
  ENTITY_TYPES, RedunEdgeError, RepositoryError, ValidationError, type AnyRecord, type JobRecord, type RecordOf,
  type RecordRef, type RecordType, type Repository, type TagCount, type TagRecord,
} from "../../core/index.ts";
import {
  batchPerTick, quoted, compareRefsById, compareNewestFirst, type ExportPage, type NormalizedQuery, type QueryPage,
  type TagCountQuery,
} from "../../core/adapter-kit.ts";
import { Context } from "./context.ts";
import { runQuery } from "./query.ts";
import { findBulk, readSegs } from "./segments.ts";
import { AFTER_ALL, openDatabase, type BulkRecord, type Tx } from "./schema.ts";
import { writeBatch } from "./write.ts";

export type { RedunEdgeDB, ExecRow, TagRow, SegRow, BulkRecord } from "./schema.ts";
export { DB_VERSION } from "./schema.ts";

export interface IndexedDbRepositoryOptions {
  /** Database name; one name, one store of records. */
  name: string;
  /** The IndexedDB factory (default globalThis.indexedDB); Node tests pass fake-indexeddb's. */
  indexedDB?: IDBFactory;
  /**
   * Transaction durability of writes (default "relaxed": committed data
   * survives reloads and tab crashes; only an OS crash may lose the last writes).
   */
  durability?: IDBTransactionDurability;
}

export interface IndexedDbRepository extends Repository {
  /** The open database (for tests and tools that read the stores directly). */
  database(): Promise<IDBDatabase>;
  close(): Promise<void>;
}

/** Above this many ids, `get` first drops the ids the filter knows are absent. */
const FILTERED_GET = 16;

export function createIndexedDbRepository(options: IndexedDbRepositoryOptions): IndexedDbRepository {
  const factory = options.indexedDB ?? globalThis.indexedDB;
  if (!factory) throw new RepositoryError("IndexedDB is not available here (pass options.indexedDB)");
  const opened = openDatabase(factory, options.name).then((db) => {
    // Another tab upgrading the schema: step aside rather than block it.
    db.addEventListener("versionchange", () => db.close());
    return db;
  });
  opened.catch(() => undefined);
  const ctx = new Context(opened, options.durability ?? "relaxed");
  const get = batchedGet(ctx);

  /** Wrap backend failures (never our typed errors) as RepositoryError. */
  async function guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (cause) {
      if (cause instanceof RedunEdgeError) throw cause;
      throw new RepositoryError(`${what} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    }
  }

  const repository: IndexedDbRepository = {
    capabilities: { name: "indexeddb", persistent: true },

    write: (records, options) => writeBatch(ctx, records, options),

    get<T extends RecordType>(type: T, ids: readonly string[]): Promise<RecordOf<T>[]> {
      if (ids.length === 0) return Promise.resolve([]);
      return guard("get", () => get({ type, ids }) as Promise<RecordOf<T>[]>);
    },

    findByPrefix(prefixes, types, limit) {
      return guard("findByPrefix", async () => {
        if (prefixes.length === 0) return [];
        const wanted = new Set(types);
        const bulk = new Set(types.filter((t) => t !== "Execution" && t !== "Tag"));
        if (limit <= 0 || wanted.size === 0) return prefixes.map(() => []);
        const tx = (await ctx.read(["exec", "tag", "seg"])) as unknown as Tx;
        // Every prefix's reads are issued together, in one transaction.
        return Promise.all(
          prefixes.map(async (prefix) => {
            const range = IDBKeyRange.bound(prefix, prefix + "\uffff");
            const [execIds, tagIds, bulkRefs] = await Promise.all([
              wanted.has("Execution") ? tx.objectStore("exec").getAllKeys(range, limit) : [],
              wanted.has("Tag") ? tx.objectStore("tag").getAllKeys(range, limit) : [],
              bulk.size ? bulkWithPrefix(tx, prefix, bulk, limit) : [],
            ]);
            const out: RecordRef[] = [
              ...execIds.map((id) => ({ type: "Execution" as const, id })),
              ...tagIds.map((id) => ({ type: "Tag" as const, id })),
              ...bulkRefs,
            ];
            return out.sort(compareRefsById).slice(0, limit);
          }),
        );
      });
    },

    query(q: NormalizedQuery): Promise<QueryPage> {
      return guard("query", () => runQuery(ctx, q));
    },

    currentTags(entityIds) {
      return guard("currentTags", async () => {
        const tx = (await ctx.read(["tag"])) as unknown as Tx;
        const index = tx.objectStore("tag").index("ent");
        const rows = await Promise.all(entityIds.map((id) => index.getAll(id)));
        return rows.flat().filter((r) => r.cur).map((r) => r.rec);
      });
    },

    tagChildren(tagIds) {
      return guard("tagChildren", async () => {
        const tx = (await ctx.read(["tag"])) as unknown as Tx;
        const index = tx.objectStore("tag").index("par");
        const rows = await Promise.all(tagIds.map((id) => index.getAll(id)));
        return rows.flat().map((r) => r.rec as TagRecord);
      });
    },

    countTags(q: TagCountQuery) {
      return guard("countTags", () => countTags(ctx, q));
    },

    jobsOfExecution(executionId) {
      return guard("jobsOfExecution", async () => {
        const tx = (await ctx.read(["seg"])) as unknown as Tx;
        const seqs = await tx.objectStore("seg").index("jx").getAllKeys(executionId);
        const jobs: JobRecord[] = [];
        for (const seg of (await readSegs(tx, seqs)).values()) {
          for (const r of seg.recs) if (r.type === "Job" && r.executionId === executionId) jobs.push(r);
        }
        return jobs.sort((a, b) => a.startTime - b.startTime || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      });
    },

    jobsOfValues(valueIds, limit) {
      return guard("jobsOfValues", () => jobsOfValues(ctx, valueIds, limit));
    },

    exportSince(cursor, limit) {
      return guard("exportSince", () => exportSince(ctx, cursor, limit));
    },

    async database() {
      return (await opened) as unknown as IDBDatabase;
    },

    async close() {
      (await opened.catch(() => null))?.close();
    },
  };
  return repository;
}

/**
 * The first `limit` bulk records of `types` whose id starts with `prefix`, in
 * id order. The `ids` index holds the ids of every bulk type, so it is read in
 * rounds: a round's first n index entries name the segments holding the n
 * smallest ids in the range, which are exactly the n smallest of those
 * segments' ids in it; of these the wanted types are kept, and the next round
 * starts after the largest. Records of other types (Evaluations, say) cost a
 * round more, never a candidate left out.
 */
async function bulkWithPrefix(tx: Tx, prefix: string, types: ReadonlySet<string>, limit: number): Promise<RecordRef[]> {
  const index = tx.objectStore("seg").index("ids");
  const upper = prefix + "\uffff";
  const out: RecordRef[] = [];
  const count = Math.max(2 * limit, 32);
  let range = IDBKeyRange.bound(prefix, upper);
  for (;;) {
    const seqs = await index.getAllKeys(range, count);
    const ids: BulkRecord[] = [];
    for (const seg of (await readSegs(tx, seqs)).values()) for (const r of seg.recs) if (range.includes(r.id)) ids.push(r);
    ids.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const first = ids.slice(0, seqs.length);
    for (const r of first) {
      if (!types.has(r.type)) continue;
      out.push({ type: r.type, id: r.id });
      if (out.length >= limit) return out;
    }
    const last = first[first.length - 1];
    if (seqs.length < count || !last) return out;
    range = IDBKeyRange.bound(last.id, upper, true);
  }
}

/**
 * `get` calls made in one tick share one read transaction and one round of
 * requests: the scheduler reads a cached result per job, thousands at once,
 * and a transaction each would cost more than the reads.
 */
function batchedGet(ctx: Context): (request: { type: RecordType; ids: readonly string[] }) => Promise<AnyRecord[]> {
  return batchPerTick(async (batch) => {
    const tx = (await ctx.read()) as unknown as Tx;
    const wanted = { exec: new Set<string>(), tag: new Set<string>(), bulk: new Set<string>() };
    for (const g of batch) {
      const set = g.type === "Execution" ? wanted.exec : g.type === "Tag" ? wanted.tag : wanted.bulk;
      for (const id of g.ids) set.add(id);
    }
    // Many ids: drop those the filter knows were never written.
    if (wanted.exec.size + wanted.tag.size + wanted.bulk.size >= FILTERED_GET) {
      const { bloom } = await ctx.state(tx);
      for (const set of Object.values(wanted)) for (const id of set) if (!bloom.has(id)) set.delete(id);
    }
    const [execRows, tagRows, bulk] = await Promise.all([
      Promise.all([...wanted.exec].map((id) => tx.objectStore("exec").get(id))),
      Promise.all([...wanted.tag].map((id) => tx.objectStore("tag").get(id))),
      findBulk(tx, [...wanted.bulk]),
    ]);
    const found = new Map<string, AnyRecord[]>();
    const add = (rec: AnyRecord) => {
      const list = found.get(rec.id);
      if (list) list.push(rec);
      else found.set(rec.id, [rec]);
    };
    for (const row of execRows) if (row) add(row.rec);
    for (const row of tagRows) if (row) add(row.rec);
    for (const { rec } of bulk.values()) add(rec);
    return batch.map((g) => {
      const out: AnyRecord[] = [];
      for (const id of new Set(g.ids)) for (const rec of found.get(id) ?? []) if (rec.type === g.type) out.push(rec);
      return out;
    });
  });
}

/**
 * Counts of current tags. Distinct keys (and values) are found by skipping
 * through the index, each group is counted natively: no tag is read.
 */
async function countTags(ctx: Context, q: TagCountQuery): Promise<TagCount[]> {
  const tx = (await ctx.read(["tag"])) as unknown as Tx;
  const ck = tx.objectStore("tag").index("ck");
  const ckv = tx.objectStore("tag").index("ckv");
  let keys = q.keys?.length ? [...new Set(q.keys)] : [];
  if (!q.keys?.length) {
    for (let c = await ck.openKeyCursor(); c; c = await c.continue([c.key[0], AFTER_ALL] as never)) keys.push(c.key[0]);
  }
  keys = keys.filter((k) => k !== "");
  if (!q.values) {
    const groups = keys.flatMap((key) => ENTITY_TYPES.map((entityType) => ({ key, entityType })));
    const counts = await Promise.all(groups.map((g) => ck.count(IDBKeyRange.bound([g.key, g.entityType], [g.key, g.entityType, AFTER_ALL]))));
    return groups.flatMap((g, i) => (counts[i] ? [{ ...g, count: counts[i]! }] : []));
  }
  const groups: { key: string; valueJson: string; entityType: string }[] = [];
  for (const key of keys) {
    const range = IDBKeyRange.bound([key], [key, AFTER_ALL]);
    for (let c = await ckv.openKeyCursor(range); c; c = await c.continue([key, c.key[1], c.key[2], AFTER_ALL] as never)) {
      groups.push({ key, valueJson: c.key[1], entityType: c.key[2] });
    }
  }
  const counts = await Promise.all(
    groups.map((g) => ckv.count(IDBKeyRange.bound([g.key, g.valueJson, g.entityType], [g.key, g.valueJson, g.entityType, AFTER_ALL]))),
  );
  return groups.map((g, i) => ({
    key: g.key, value: JSON.parse(g.valueJson), entityType: g.entityType as TagCount["entityType"], count: counts[i] ?? 0,
  }));
}

/**
 * Jobs whose call returned or took one of these values. No index leads from a
 * value to its calls, so the CallNode segments are scanned (found through
 * `ord`, read a few hundred at a time); the jobs of the matching calls are
 * then read through their tasks' segments (`th`).
 */
async function jobsOfValues(ctx: Context, valueIds: readonly string[], limit: number): Promise<JobRecord[]> {
  if (valueIds.length === 0 || limit <= 0) return [];
  const wanted = new Set(valueIds);
  const tx = (await ctx.read(["seg"])) as unknown as Tx;
  const seg = tx.objectStore("seg");
  const callSeqs = [...new Set(await seg.index("ord").getAllKeys(IDBKeyRange.bound(["CallNode"], ["CallNode", AFTER_ALL])))];
  const calls = new Set<string>();
  const tasks = new Set<string>();
  for (let i = 0; i < callSeqs.length; i += 256) {
    for (const row of (await readSegs(tx, callSeqs.slice(i, i + 256))).values()) {
      for (const r of row.recs) {
        if (r.type === "CallNode" && (wanted.has(r.resultHash) || r.args.some((a) => wanted.has(a.valueHash)))) {
          calls.add(r.id);
          tasks.add(r.taskHash);
        }
      }
    }
  }
  if (calls.size === 0) return [];
  const jobSeqs = (await Promise.all([...tasks].map((t) => seg.index("th").getAllKeys(t)))).flat();
  const jobs: JobRecord[] = [];
  for (const row of (await readSegs(tx, jobSeqs)).values()) {
    for (const r of row.recs) if (r.type === "Job" && r.callHash && calls.has(r.callHash)) jobs.push(r);
  }
  return jobs.sort(compareNewestFirst).slice(0, limit);
}

/**
 * Records in write order. Cursor "seq:id": everything with a lower sequence
 * number was exported, and of sequence `seq` the records up to `id` (a
 * segment's records share its number and go out sorted by id).
 */
async function exportSince(ctx: Context, cursor: string | null, limit: number): Promise<ExportPage> {
  let fromSeq = 0;
  let fromId = "";
  if (cursor !== null) {
    const m = /^(\d+):(.*)$/s.exec(cursor);
    if (!m || !Number.isSafeInteger(Number(m[1]))) throw new ValidationError("cursor", `malformed export cursor ${quoted(cursor)}`);
    fromSeq = Number(m[1]);
    fromId = m[2]!;
  }
  const tx = (await ctx.read(["exec", "tag", "seg"])) as unknown as Tx;
  const range = IDBKeyRange.lowerBound(fromSeq);
  // Each row holds at least one record, so limit+1 rows of each store cover the page and a peek past it.
  const [execRows, tagRows, segRows] = await Promise.all([
    tx.objectStore("exec").index("seq").getAll(range, limit + 1),
    tx.objectStore("tag").index("seq").getAll(range, limit + 1),
    tx.objectStore("seg").getAll(range, limit + 1),
  ]);
  const rows: { seq: number; recs: AnyRecord[] }[] = [
    ...execRows.map((r) => ({ seq: r.seq, recs: [r.rec] as AnyRecord[] })),
    ...tagRows.map((r) => ({ seq: r.seq, recs: [r.rec] as AnyRecord[] })),
    ...segRows.map((r) => ({ seq: r.seq, recs: [...r.recs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) as AnyRecord[] })),
  ].sort((a, b) => a.seq - b.seq);
  const records: AnyRecord[] = [];
  let last = { seq: fromSeq, id: fromId };
  let more = false;
  outer: for (const row of rows) {
    for (const rec of row.recs) {
      if (row.seq === fromSeq && rec.id <= fromId) continue;
      if (records.length >= limit) {
        more = true;
        break outer;
      }
      records.push(rec);
      last = { seq: row.seq, id: rec.id };
    }
  }
  // A store that filled its read may hold more rows than were read.
  const full = [execRows, tagRows, segRows].some((r) => r.length > limit);
  return { records, cursor: `${last.seq}:${last.id}`, done: !more && !full };
}
