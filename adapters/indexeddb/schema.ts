/**
 * The IndexedDB layout. Every IndexedDB request has a fixed cost in
 * Chromium, whatever it reads, so the layout is shaped to need few of them:
 *
 * - `exec`: one row per Execution (queried most, written once or twice a run),
 *   with newest-first and status indexes.
 * - `tag`: one row per Tag. A current tag (named as parent by no tag) carries
 *   index keys `ck`/`ckv` that include its entity's time, so "newest entities
 *   with tag k=v" is one bounded index read, selective or broad.
 * - `seg`: packed segments of the bulk records (Job, CallNode, Task, Value,
 *   Evaluation) written together, ~32 per row, one record type per row; a
 *   10,000-job workflow is a few hundred puts instead of 40,000. Multi-entry
 *   indexes find a record's row by id, type and time, execution and task.
 * - `bloom`: the id filter (see bloom.ts); `meta`: the write sequence.
 *
 * Newest-first order without cursors: getAll only walks keys ascending, so
 * sort keys hold the negated time and an order-inverted id.
 */
import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from "idb";
import { wrap } from "idb";
import type { AnyRecord, ExecutionRecord, TagRecord } from "../../core/index.ts";
import { taskFullName } from "../../core/adapter-kit.ts";
import type { BloomShardData } from "./bloom.ts";

/** Records packed into segments. */
export type BulkRecord = Exclude<AnyRecord, ExecutionRecord | TagRecord>;
export type BulkType = BulkRecord["type"];

/** Time part of a sort key: -time, or PENDING for a tag whose entity is not stored yet. */
export type TimeKey = number | string;
export const PENDING = "?";

export interface ExecRow {
  id: string;
  rec: ExecutionRecord;
  /** Write sequence of the last change (export order). */
  seq: number;
  /** [-time, inv(id)]: ascending = newest first. */
  ord: [number, string];
  /** [status, -time, inv(id)]. */
  st: [string, number, string];
}

export interface TagRow {
  id: string;
  rec: TagRecord;
  seq: number;
  /** 1 while no tag names this one as a parent. */
  cur: 0 | 1;
  /** Current, non-delete tags only: [key, entityType, -entityTime | PENDING, inv(entityId)]. */
  ck?: [string, string, TimeKey, string];
  /** Same with the canonical JSON of the value after the key. */
  ckv?: [string, string, string, TimeKey, string];
  /** Entity id of a current tag whose entity is not stored yet (its time is unknown). */
  pend?: string;
}

export interface SegRow {
  seq: number;
  recs: BulkRecord[];
  /** Ids of `recs` (multi-entry). */
  ids: string[];
  /** [type, -time, inv(id)] of each record but Evaluations, which are never listed (multi-entry). */
  ord: [string, number, string][];
  /** Execution ids of the jobs in it. */
  jx: string[];
  /** Task hashes of its jobs and call nodes. */
  th: string[];
  /** Names (`name` and `namespace.name`) of its tasks. */
  tn: string[];
}

export interface MetaRow {
  key: "state";
  /** Last write sequence number handed out. */
  seq: number;
}

export interface RedunEdgeDB extends DBSchema {
  exec: { key: string; value: ExecRow; indexes: { ord: [number, string]; st: [string, number, string]; seq: number } };
  tag: {
    key: string;
    value: TagRow;
    indexes: {
      ent: string;
      par: string;
      ck: [string, string, TimeKey, string];
      ckv: [string, string, string, TimeKey, string];
      pend: string;
      seq: number;
    };
  };
  seg: { key: number; value: SegRow; indexes: { ids: string; ord: [string, number, string]; jx: string; th: string; tn: string } };
  bloom: { key: number; value: BloomShardData };
  meta: { key: string; value: MetaRow };
}

export type Db = IDBPDatabase<RedunEdgeDB>;
export type StoreName = StoreNames<RedunEdgeDB>;
export type Tx<M extends IDBTransactionMode = IDBTransactionMode> = IDBPTransaction<RedunEdgeDB, StoreName[], M>;
export const ALL_STORES: StoreName[] = ["exec", "tag", "seg", "bloom", "meta"];

export const DB_VERSION = 1;

/**
 * The upgrade ladder: each step migrates from the version before it, so a
 * database of any older version is brought up to date in one open.
 */
function upgrade(db: IDBPDatabase<RedunEdgeDB>, oldVersion: number): void {
  if (oldVersion < 1) {
    const exec = db.createObjectStore("exec", { keyPath: "id" });
    exec.createIndex("ord", "ord");
    exec.createIndex("st", "st");
    exec.createIndex("seq", "seq");
    const tag = db.createObjectStore("tag", { keyPath: "id" });
    // Delete records have a null entity id, which is no key: they stay out of `ent`.
    tag.createIndex("ent", "rec.entityId");
    tag.createIndex("par", "rec.parents", { multiEntry: true });
    tag.createIndex("ck", "ck");
    tag.createIndex("ckv", "ckv");
    tag.createIndex("pend", "pend");
    tag.createIndex("seq", "seq");
    const seg = db.createObjectStore("seg", { keyPath: "seq" });
    seg.createIndex("ids", "ids", { multiEntry: true });
    seg.createIndex("ord", "ord", { multiEntry: true });
    seg.createIndex("jx", "jx", { multiEntry: true });
    seg.createIndex("th", "th", { multiEntry: true });
    seg.createIndex("tn", "tn", { multiEntry: true });
    db.createObjectStore("bloom", { keyPath: "shard" });
    db.createObjectStore("meta", { keyPath: "key" });
  }
}

/**
 * Open (creating or migrating) the database with a given factory; idb's
 * openDB always uses the global one, which Node tests do not have to set.
 */
export function openDatabase(factory: IDBFactory, name: string): Promise<Db> {
  const request = factory.open(name, DB_VERSION);
  request.addEventListener("upgradeneeded", (event) => {
    upgrade(wrap(request.result) as unknown as IDBPDatabase<RedunEdgeDB>, event.oldVersion);
  });
  return wrap(request) as unknown as Promise<Db>;
}

/**
 * An id whose ascending order is the descending order of the original: each
 * code unit c becomes 0xfffe - c, and a final 0xffff makes a shorter id sort
 * after the longer ids it is a prefix of.
 */
export function inv(id: string): string {
  let out = "";
  for (let i = 0; i < id.length; i++) out += String.fromCharCode(0xfffe - id.charCodeAt(i));
  return out + "\uffff";
}

/** Sort key of a record: ascending = newest first (time desc, id desc). */
export function ordKey(time: number, id: string): [number, string] {
  return [-time, inv(id)];
}

/** Upper end of every key range that continues with a (time, id) sort key. */
export const AFTER_ALL: never[] = [];

export function execRow(rec: ExecutionRecord, seq: number): ExecRow {
  const [t, i] = ordKey(rec.time, rec.id);
  return { id: rec.id, rec, seq, ord: [t, i], st: [rec.status, t, i] };
}

/** Build a segment row from records of one type. */
export function segRow(seq: number, recs: BulkRecord[]): SegRow {
  const jx = new Set<string>();
  const th = new Set<string>();
  const tn = new Set<string>();
  for (const r of recs) {
    if (r.type === "Job") {
      jx.add(r.executionId);
      th.add(r.taskHash);
    } else if (r.type === "CallNode") th.add(r.taskHash);
    else if (r.type === "Task") {
      tn.add(r.name);
      tn.add(taskFullName(r));
    }
  }
  return {
    seq,
    recs,
    ids: recs.map((r) => r.id),
    // Evaluations are cache slots, never listed: no sort key.
    ord: recs.flatMap((r): [string, number, string][] => (r.type === "Evaluation" ? [] : [[r.type, -r.time, inv(r.id)]])),
    jx: [...jx],
    th: [...th],
    tn: [...tn],
  };
}

/** Promise of one raw request, without idb's proxies (hot paths). */
export function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}
