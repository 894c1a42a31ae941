/**
 * NormalizedQuery on IndexedDB (meaning: core/query.ts; reference: the memory
 * adapter). Each record type is read from one newest-first source, chosen to
 * read as few rows as the page needs, and the other conditions are checked
 * on what it yields, a chunk at a time:
 *
 * - a tag filter: the `ck`/`ckv` index of current tags, whose keys hold the
 *   entity's time, so a one-tag page is one bounded getAll whether the tag is
 *   rare or on every execution;
 * - execution ids, task names, an id prefix, a filter on executions for other
 *   record types: the few records they name, sorted;
 * - otherwise the newest-first `ord` index of the type (or `st` by status).
 */
import type {
  AnyRecord,
  EntityType,
  ExecutionRecord,
  TagRecord,
  TaskRecord,
} from "../../core/index.ts";
import {
  canonicalJson,
  compareNewestFirst,
  hasExecutionFilter,
  isAfterCursor,
  pageOf,
  taskFullName,
  type NormalizedQuery,
  type NormalizedTagFilter,
  type QueryPage,
} from "../../core/adapter-kit.ts";
import type { Context } from "./context.ts";
import { defined, findBulk, ordRange, readSegs } from "./segments.ts";
import { inv, type BulkRecord, type ExecRow, type Tx } from "./schema.ts";

interface Hit {
  type: EntityType;
  id: string;
  time: number;
  rec?: AnyRecord;
}

/** Yields hits newest first, strictly after the query cursor, a chunk per call. */
interface Source {
  next(count: number): Promise<{ hits: Hit[]; done: boolean }>;
}

/** Most records a "few records" source materializes before falling back to a scan. */
const LIST_CAP = 4096;
const MAX_CHUNK = 4096;
/** Tag filters are told apart as "at most this many" or "more". */
const PROBE = 256;

function listSource(hits: Hit[], after: NormalizedQuery["after"]): Source {
  const sorted = hits.filter((h) => isAfterCursor(h, after)).sort(compareNewestFirst);
  return { next: async () => ({ hits: sorted, done: true }) };
}

/** A range over keys that continue with [-time, inv(id)] after `prefix`, starting after the cursor. */
function sortRange(prefix: unknown[], after: NormalizedQuery["after"]): IDBKeyRange {
  // A finite -time sorts below Infinity; a PENDING time (a string) above it, so it is left out.
  const upper = [...prefix, Infinity];
  if (!after) return IDBKeyRange.bound(prefix, upper);
  return IDBKeyRange.bound([...prefix, -after.time, inv(after.id)], upper, true);
}

function continueRange(range: IDBKeyRange, last: unknown): IDBKeyRange {
  return IDBKeyRange.bound(last, range.upper, true, range.upperOpen);
}

export async function runQuery(ctx: Context, q: NormalizedQuery): Promise<QueryPage> {
  const tx = await ctx.read(["exec", "tag", "seg"]);
  const run = new QueryRun(tx as unknown as Tx, q);
  const need = q.limit + 1;
  const lists = await Promise.all(q.types.map((t) => run.ofType(t, need)));
  return pageOf(lists.flat().sort(compareNewestFirst).slice(0, need), q.limit);
}

class QueryRun {
  private execSetMemo: Promise<Set<string>> | null = null;
  private taskMemo: Promise<Map<string, TaskRecord>> | null = null;
  private readonly execTags: boolean;
  /** The executions come from the status index, not a tag filter (see `source`). */
  private statusDriven = false;

  constructor(
    private readonly tx: Tx,
    private readonly q: NormalizedQuery,
  ) {
    this.execTags = hasExecutionFilter(q);
  }

  /** Up to `need` matching records of one type, newest first. */
  async ofType(type: EntityType, need: number): Promise<Hit[]> {
    const q = this.q;
    if (q.jobStatus.length && type !== "Job") return [];
    if (q.taskNames.length && type === "Value") return [];
    const source = await this.source(type);
    const out: Hit[] = [];
    let chunk = need;
    for (;;) {
      const { hits, done } = await source.next(chunk);
      out.push(...(await this.filter(type, hits)));
      if (out.length >= need || done) break;
      chunk = Math.min(chunk * 4, MAX_CHUNK);
    }
    return out.slice(0, need);
  }

  private async source(type: EntityType): Promise<Source> {
    const q = this.q;
    const tx = this.tx;
    if (type !== "Execution" && this.execTags) {
      const execs = await this.execSet();
      if (type !== "Job") return listSource(await this.related(type, execs), q.after);
      if (execs.size <= 256) return listSource(await this.jobsOf(execs), q.after);
    }
    if (type === "Execution" && q.execIds.length) {
      const rows = await Promise.all([...new Set(q.execIds)].map((id) => tx.objectStore("exec").get(id)));
      return listSource(rows.filter(defined).map(execHit), q.after);
    }
    if (type === "Task" && q.taskNames.length) {
      return listSource([...(await this.tasksNamed()).values()].map(bulkHit), q.after);
    }
    const filters = type === "Execution" ? [...q.tags, ...q.execTags] : q.tags;
    if (filters.length) {
      const best = await this.mostSelective(type, filters);
      // A broad tag and a rare status (project=main, FAILED): walk the status.
      if (type === "Execution" && q.execStatus.length === 1 && (await this.statusIsRarer(q.execStatus[0]!, best))) {
        this.statusDriven = true;
        return this.execSource("st", [q.execStatus[0]!]);
      }
      return this.tagSource(type, best);
    }
    if (q.idPrefix && q.idPrefix.length >= 4) {
      const hits = await this.byPrefix(type, q.idPrefix);
      if (hits) return listSource(hits, q.after);
    }
    if ((type === "Job" || type === "CallNode") && q.taskNames.length) {
      const hits = await this.byTaskHash(type);
      if (hits) return listSource(hits, q.after);
    }
    if (type === "Execution") {
      if (q.execStatus.length === 1) return this.execSource("st", [q.execStatus[0]!]);
      return this.execSource("ord", []);
    }
    return this.segSource(type);
  }

  /** True when fewer executions have this status than the tag filter's probe finds (both read bounded). */
  private async statusIsRarer(status: string, f: NormalizedTagFilter): Promise<boolean> {
    const [byStatus, byTag] = await Promise.all([
      this.tx.objectStore("exec").index("st").getAllKeys(sortRange([status], null), PROBE),
      this.tagIndex(f).getAllKeys(sortRange(this.tagPrefix("Execution", f), null), PROBE),
    ]);
    return byStatus.length < byTag.length;
  }

  /**
   * Of several tag filters, the one with the fewest current tags. Counting a
   * broad tag's whole range costs tens of ms at 100,000 tags, so each is
   * probed with a bounded key read instead: only "few" or "many" matters.
   */
  private async mostSelective(type: EntityType, filters: NormalizedTagFilter[]): Promise<NormalizedTagFilter> {
    if (filters.length === 1) return filters[0]!;
    const counts = await Promise.all(
      filters.map(async (f) => (await this.tagIndex(f).getAllKeys(sortRange(this.tagPrefix(type, f), null), PROBE)).length),
    );
    let best = 0;
    counts.forEach((c, i) => {
      const valued = filters[i]!.valueJson !== null;
      if (c < counts[best]! || (c === counts[best]! && valued && filters[best]!.valueJson === null)) best = i;
    });
    return filters[best]!;
  }

  private tagIndex(f: NormalizedTagFilter) {
    return this.tx.objectStore("tag").index(f.valueJson === null ? "ck" : "ckv");
  }

  private tagPrefix(type: EntityType, f: NormalizedTagFilter): unknown[] {
    return f.valueJson === null ? [f.key, type] : [f.key, f.valueJson, type];
  }

  private tagSource(type: EntityType, f: NormalizedTagFilter): Source {
    let range = sortRange(this.tagPrefix(type, f), this.q.after);
    const index = this.tagIndex(f);
    let lastEntity: string | null = null;
    let exhausted = false;
    return {
      next: async (count) => {
        if (exhausted) return { hits: [], done: true };
        const rows = await index.getAll(range, count);
        const hits: Hit[] = [];
        for (const row of rows) {
          const key = (f.valueJson === null ? row.ck : row.ckv)!;
          const time = -(key[key.length - 2] as number);
          const id = row.rec.entityId!;
          // Two current tags of one entity with the same key (and value) sit side by side.
          if (id !== lastEntity) hits.push({ type, id, time });
          lastEntity = id;
        }
        const last = rows[rows.length - 1];
        if (last) range = continueRange(range, f.valueJson === null ? last.ck : last.ckv);
        exhausted = rows.length < count;
        return { hits, done: exhausted };
      },
    };
  }

  private execSource(indexName: "ord" | "st", prefix: unknown[]): Source {
    let range = sortRange(prefix, this.q.after);
    const index = this.tx.objectStore("exec").index(indexName);
    let exhausted = false;
    return {
      next: async (count) => {
        if (exhausted) return { hits: [], done: true };
        const rows = await index.getAll(range, count);
        const last = rows[rows.length - 1];
        if (last) range = continueRange(range, last[indexName]);
        exhausted = rows.length < count;
        return { hits: rows.map(execHit), done: exhausted };
      },
    };
  }

  private segSource(type: EntityType): Source {
    let range = sortRange([type], this.q.after);
    let exhausted = false;
    return {
      next: async (count) => {
        if (exhausted) return { hits: [], done: true };
        const { recs, exhausted: end } = await ordRange(this.tx, type, range, count);
        const last = recs[recs.length - 1];
        if (last) range = continueRange(range, [type, -last.time, inv(last.id)]);
        exhausted = end || recs.length < count;
        return { hits: recs.map(bulkHit), done: exhausted };
      },
    };
  }

  /** Records with an id prefix, or null when there are too many to sort (then it is a filter on a scan). */
  private async byPrefix(type: EntityType, prefix: string): Promise<Hit[] | null> {
    const range = IDBKeyRange.bound(prefix, prefix + "\uffff");
    if (type === "Execution") {
      const rows = await this.tx.objectStore("exec").getAll(range, LIST_CAP);
      return rows.length < LIST_CAP ? rows.map(execHit) : null;
    }
    const seqs = await this.tx.objectStore("seg").index("ids").getAllKeys(range, LIST_CAP);
    if (seqs.length >= LIST_CAP) return null;
    const segs = await readSegs(this.tx, seqs);
    const hits: Hit[] = [];
    for (const seg of segs.values()) for (const r of seg.recs) if (r.type === type && r.id.startsWith(prefix)) hits.push(bulkHit(r));
    return hits;
  }

  /** Jobs or CallNodes of the named tasks through the task-hash index, when they are few. */
  private async byTaskHash(type: "Job" | "CallNode"): Promise<Hit[] | null> {
    const hashes = [...(await this.tasksNamed()).keys()];
    const index = this.tx.objectStore("seg").index("th");
    const counts = await Promise.all(hashes.map((h) => index.count(h)));
    if (counts.reduce((a, b) => a + b, 0) > 64) return null;
    const seqs = (await Promise.all(hashes.map((h) => index.getAllKeys(h)))).flat();
    const wanted = new Set(hashes);
    const hits: Hit[] = [];
    for (const seg of (await readSegs(this.tx, seqs)).values()) {
      for (const r of seg.recs) if (r.type === type && wanted.has(r.taskHash)) hits.push(bulkHit(r));
    }
    return hits;
  }

  /** Keep the hits that meet every condition of the query. */
  private async filter(type: EntityType, hits: Hit[]): Promise<Hit[]> {
    const q = this.q;
    let out = hits.filter((h) => isAfterCursor(h, q.after) && (!q.idPrefix || h.id.startsWith(q.idPrefix)));
    if (out.length === 0) return out;
    if (type === "Execution" && q.execIds.length) {
      const ids = new Set(q.execIds);
      out = out.filter((h) => ids.has(h.id));
    }
    const needRecord =
      type === "Execution" ? q.execStatus.length > 0 || q.taskNames.length > 0
      : type === "Job" ? q.jobStatus.length > 0 || q.taskNames.length > 0 || this.execTags
      : type === "CallNode" ? q.taskNames.length > 0
      : false;
    if (needRecord) out = await this.withRecords(type, out);
    if (type === "Execution" && q.execStatus.length) {
      const statuses = new Set<string>(q.execStatus);
      out = out.filter((h) => statuses.has((h.rec as ExecutionRecord).status));
    }
    if (type === "Job") {
      if (q.jobStatus.length) {
        const statuses = new Set<string>(q.jobStatus);
        out = out.filter((h) => h.rec?.type === "Job" && statuses.has(h.rec.status));
      }
      if (this.execTags) {
        const execs = await this.execSet();
        out = out.filter((h) => h.rec?.type === "Job" && execs.has(h.rec.executionId));
      }
    }
    if (q.taskNames.length) out = await this.filterTaskNames(type, out);
    const filters = type === "Execution" ? [...q.tags, ...q.execTags] : q.tags;
    if (filters.length > 1 || (filters.length === 1 && !this.usesTagSource(type))) {
      const tags = await this.currentTagsOf(out.map((h) => h.id));
      out = out.filter((h) => filters.every((f) => matchesTag(tags.get(h.id) ?? [], f)));
    }
    return out;
  }

  /** True when the source of this type is the tag index (so its one filter already holds). */
  private usesTagSource(type: EntityType): boolean {
    const q = this.q;
    if (type === "Execution" && this.statusDriven) return false;
    if (type !== "Execution" && this.execTags) return false;
    if (type === "Execution" && q.execIds.length) return false;
    if (type === "Task" && q.taskNames.length) return false;
    return true;
  }

  private async withRecords(type: EntityType, hits: Hit[]): Promise<Hit[]> {
    const missing = hits.filter((h) => !h.rec).map((h) => h.id);
    if (missing.length === 0) return hits;
    const found = new Map<string, AnyRecord>();
    if (type === "Execution") {
      const rows = await Promise.all(missing.map((id) => this.tx.objectStore("exec").get(id)));
      for (const row of rows) if (row) found.set(row.id, row.rec);
    } else {
      for (const [id, { rec }] of await findBulk(this.tx, missing)) if (rec.type === type) found.set(id, rec);
    }
    return hits.flatMap((h) => {
      const rec = h.rec ?? found.get(h.id);
      return rec ? [{ ...h, rec }] : [];
    });
  }

  private async filterTaskNames(type: EntityType, hits: Hit[]): Promise<Hit[]> {
    const tasks = await this.tasksNamed();
    if (type === "Task") return hits.filter((h) => tasks.has(h.id));
    if (type === "Job" || type === "CallNode") {
      return hits.filter((h) => (h.rec?.type === "Job" || h.rec?.type === "CallNode") && tasks.has(h.rec.taskHash));
    }
    if (type === "Execution") {
      const roots = await findBulk(this.tx, hits.map((h) => (h.rec as ExecutionRecord).rootJobId));
      return hits.filter((h) => {
        const root = roots.get((h.rec as ExecutionRecord).rootJobId)?.rec;
        return root?.type === "Job" && tasks.has(root.taskHash);
      });
    }
    return [];
  }

  /** Current tags of entities, by entity id. */
  private async currentTagsOf(ids: string[]): Promise<Map<string, TagRecord[]>> {
    const index = this.tx.objectStore("tag").index("ent");
    const rows = await Promise.all(ids.map((id) => index.getAll(id)));
    const out = new Map<string, TagRecord[]>();
    ids.forEach((id, i) => out.set(id, (rows[i] ?? []).filter((r) => r.cur).map((r) => r.rec)));
    return out;
  }

  /** Tasks whose `name` or `namespace.name` is one of the query's task names, by hash. */
  private tasksNamed(): Promise<Map<string, TaskRecord>> {
    this.taskMemo ??= (async () => {
      const names = new Set(this.q.taskNames);
      const index = this.tx.objectStore("seg").index("tn");
      const seqs = (await Promise.all([...names].map((n) => index.getAllKeys(n)))).flat();
      const out = new Map<string, TaskRecord>();
      for (const seg of (await readSegs(this.tx, seqs)).values()) {
        for (const r of seg.recs) {
          if (r.type === "Task" && (names.has(r.name) || names.has(taskFullName(r)))) out.set(r.id, r);
        }
      }
      return out;
    })();
    return this.taskMemo;
  }

  /** Ids of the executions selected by execTags, execStatus and execIds. */
  private execSet(): Promise<Set<string>> {
    this.execSetMemo ??= (async () => {
      const q = this.q;
      const tx = this.tx;
      let execs: ExecutionRecord[];
      if (q.execIds.length) {
        const rows = await Promise.all([...new Set(q.execIds)].map((id) => tx.objectStore("exec").get(id)));
        execs = rows.filter(defined).map((r) => r.rec);
      } else if (q.execTags.length) {
        const f = await this.mostSelective("Execution", q.execTags);
        const rows = await this.tagIndex(f).getAll(sortRange(this.tagPrefix("Execution", f), null));
        const ids = [...new Set(rows.map((r) => r.rec.entityId!))];
        const found = await Promise.all(ids.map((id) => tx.objectStore("exec").get(id)));
        execs = found.filter(defined).map((r) => r.rec);
      } else {
        const index = tx.objectStore("exec").index("st");
        const rows = (await Promise.all(q.execStatus.map((s) => index.getAll(sortRange([s], null))))).flat();
        execs = rows.map((r) => r.rec);
      }
      const ids = new Set(q.execIds);
      const statuses = new Set<string>(q.execStatus);
      execs = execs.filter((e) => (!ids.size || ids.has(e.id)) && (!statuses.size || statuses.has(e.status)));
      if (q.execTags.length) {
        const tags = await this.currentTagsOf(execs.map((e) => e.id));
        execs = execs.filter((e) => q.execTags.every((f) => matchesTag(tags.get(e.id) ?? [], f)));
      }
      return new Set(execs.map((e) => e.id));
    })();
    return this.execSetMemo;
  }

  private async jobsOf(execs: Set<string>): Promise<Hit[]> {
    const index = this.tx.objectStore("seg").index("jx");
    const seqs = (await Promise.all([...execs].map((id) => index.getAllKeys(id)))).flat();
    const hits: Hit[] = [];
    for (const seg of (await readSegs(this.tx, seqs)).values()) {
      for (const r of seg.recs) if (r.type === "Job" && execs.has(r.executionId)) hits.push(bulkHit(r));
    }
    return hits;
  }

  /** CallNodes, Tasks or Values of the jobs of these executions. */
  private async related(type: EntityType, execs: Set<string>): Promise<Hit[]> {
    const jobs = (await this.jobsOf(execs)).map((h) => h.rec!).filter((r) => r.type === "Job");
    let ids: string[];
    if (type === "Task") ids = jobs.map((j) => j.taskHash);
    else {
      const calls = [...new Set(jobs.flatMap((j) => (j.callHash ? [j.callHash] : [])))];
      if (type === "CallNode") ids = calls;
      else {
        const nodes = await findBulk(this.tx, calls);
        ids = [...nodes.values()].flatMap(({ rec }) => (rec.type === "CallNode" ? [rec.resultHash, ...rec.args.map((a) => a.valueHash)] : []));
      }
    }
    const found = await findBulk(this.tx, [...new Set(ids)]);
    return [...found.values()].filter(({ rec }) => rec.type === type).map(({ rec }) => bulkHit(rec));
  }
}

function matchesTag(tags: TagRecord[], f: NormalizedTagFilter): boolean {
  return tags.some((t) => t.key === f.key && (f.valueJson === null || canonicalJson(t.value) === f.valueJson));
}

function execHit(row: ExecRow): Hit {
  return { type: "Execution", id: row.id, time: row.rec.time, rec: row.rec };
}

function bulkHit(rec: BulkRecord): Hit {
  return { type: rec.type as EntityType, id: rec.id, time: rec.time, rec };
}

