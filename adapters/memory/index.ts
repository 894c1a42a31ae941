/**
 * The Map-backed reference Repository. Its query evaluation is the reference
 * meaning of NormalizedQuery (see core/query.ts) that every adapter is held
 * to by the conformance suite. Indexes keep the hot paths (tag filters,
 * newest-first pages) fast enough to benchmark the scheduler against.
 */
import {
  ValidationError, type AnyRecord, type EntityType, type JobRecord, type RecordOf, type RecordRef, type RecordType,
  type Repository, type TagCount, type TagRecord,
} from "../../core/index.ts";
import {
  quoted, assertWritable, canonicalJson, compareNewestFirst, compareRefsById, hasExecutionFilter, isAfterCursor,
  pageOf, shouldReplace, taskFullName, type ExportPage, type NormalizedQuery, type NormalizedTagFilter, type QueryPage,
  type TagCountQuery,
} from "../../core/adapter-kit.ts";

interface SortKey {
  time: number;
  id: string;
}

/**
 * (time, id) keys of one record type, kept oldest first (records mostly arrive
 * in time order, so appends keep it sorted) and walked from the end.
 */
class TimeOrder {
  private list: SortKey[] = [];
  private sorted = true;
  add(key: SortKey): void {
    const last = this.list[this.list.length - 1];
    // `last` newer than `key`: an out-of-order append.
    if (last && compareNewestFirst(last, key) < 0) this.sorted = false;
    this.list.push(key);
  }
  /** Oldest first. */
  get keys(): SortKey[] {
    if (!this.sorted) {
      this.list.sort((x, y) => compareNewestFirst(y, x));
      this.sorted = true;
    }
    return this.list;
  }
}

/**
 * Ids of one record type in id order, for prefix look-ups: new ids are
 * appended and merged in, sorted, at the next look-up, so writes stay O(1)
 * and a look-up is a binary search.
 */
class SortedIds {
  private sorted: string[] = [];
  private added: string[] = [];
  add(id: string): void {
    this.added.push(id);
  }
  /** Ids starting with `prefix`, at most `limit`, in id order. */
  withPrefix(prefix: string, limit: number): string[] {
    if (this.added.length) {
      const added = this.added.sort();
      this.added = [];
      const old = this.sorted;
      const merged: string[] = new Array(old.length + added.length);
      let i = 0, j = 0, k = 0;
      while (i < old.length && j < added.length) merged[k++] = old[i]! < added[j]! ? old[i++]! : added[j++]!;
      while (i < old.length) merged[k++] = old[i++]!;
      while (j < added.length) merged[k++] = added[j++]!;
      this.sorted = merged;
    }
    const ids = this.sorted;
    let lo = 0, hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ids[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; i < ids.length && out.length < limit && ids[i]!.startsWith(prefix); i++) out.push(ids[i]!);
    return out;
  }
}

/**
 * Stored records are frozen shallow copies, handed out as they are, so reads
 * cost no copying. Their nested arrays are shared with the writer: records are
 * immutable values once written (the scheduler never touches them again).
 */
function freezeRecord(record: AnyRecord): AnyRecord {
  return Object.freeze({ ...record });
}

export interface MemoryRepository extends Repository {
  /** The raw Maps, for tests that check what a write stored. */
  readonly raw: ReadonlyMap<RecordType, ReadonlyMap<string, AnyRecord>>;
}

export function createMemoryRepository(): MemoryRepository {
  const tables = new Map<RecordType, Map<string, AnyRecord>>(
    (["Execution", "Job", "CallNode", "Task", "Value", "Tag", "Evaluation"] as RecordType[]).map((t) => [t, new Map()]),
  );
  const order = new Map<EntityType, TimeOrder>(
    (["Execution", "Job", "CallNode", "Task", "Value"] as EntityType[]).map((t) => [t, new TimeOrder()]),
  );
  /** Write log for export: seq -> record key; a record's latest seq is in seqOf. */
  const log: { seq: number; type: RecordType; id: string }[] = [];
  const seqOf = new Map<RecordType, Map<string, number>>([...tables.keys()].map((t) => [t, new Map()]));
  let seq = 0;
  const children = new Map<string, Set<string>>();
  const tagsByEntity = new Map<string, Set<string>>();
  /** Current, non-delete tags: key\0valueJson -> entity ids (with counts), key -> entity ids. */
  const byKeyValue = new Map<string, Map<string, number>>();
  const byKey = new Map<string, Map<string, number>>();
  const current = new Set<string>();
  const jobsByExecution = new Map<string, Map<string, JobRecord>>();
  const idsInOrder = new Map<RecordType, SortedIds>([...tables.keys()].map((t) => [t, new SortedIds()]));

  const table = <T extends RecordType>(type: T) => tables.get(type) as Map<string, RecordOf<T>>;

  function bump(index: Map<string, Map<string, number>>, key: string, entityId: string, delta: number): void {
    let ids = index.get(key);
    if (!ids) index.set(key, (ids = new Map()));
    const n = (ids.get(entityId) ?? 0) + delta;
    if (n > 0) ids.set(entityId, n);
    else ids.delete(entityId);
  }

  function setCurrent(tag: TagRecord, isCurrent: boolean): void {
    if (current.has(tag.id) === isCurrent) return;
    if (isCurrent) current.add(tag.id);
    else current.delete(tag.id);
    if (tag.entityId === null) return;
    const delta = isCurrent ? 1 : -1;
    bump(byKeyValue, `${tag.key}\u0000${canonicalJson(tag.value)}`, tag.entityId, delta);
    bump(byKey, tag.key, tag.entityId, delta);
  }

  function insertTag(tag: TagRecord): void {
    if (tag.entityId !== null) {
      let set = tagsByEntity.get(tag.entityId);
      if (!set) tagsByEntity.set(tag.entityId, (set = new Set()));
      set.add(tag.id);
    }
    for (const parent of tag.parents) {
      let set = children.get(parent);
      if (!set) children.set(parent, (set = new Set()));
      set.add(tag.id);
      const parentTag = table("Tag").get(parent);
      if (parentTag) setCurrent(parentTag, false);
    }
    setCurrent(tag, !children.has(tag.id));
  }

  function apply(record: AnyRecord, replaceEvaluations: boolean): void {
    const rows = tables.get(record.type)!;
    const existing = rows.get(record.id);
    if (existing && !shouldReplace(existing, record, replaceEvaluations)) return;
    // A whole Value replacing its preview keeps the preview's time (its place in time order).
    const copy = freezeRecord(existing && record.type === "Value" ? { ...record, time: existing.time } : record);
    rows.set(record.id, copy);
    seq += 1;
    log.push({ seq, type: record.type, id: record.id });
    seqOf.get(record.type)!.set(record.id, seq);
    if (copy.type === "Tag") insertTag(copy);
    if (copy.type === "Job") {
      let jobs = jobsByExecution.get(copy.executionId);
      if (!jobs) jobsByExecution.set(copy.executionId, (jobs = new Map()));
      jobs.set(copy.id, copy);
    }
    // Sort keys never change: a record's time is fixed when it is first written.
    if (!existing) {
      order.get(copy.type as EntityType)?.add({ time: copy.time, id: copy.id });
      idsInOrder.get(copy.type)!.add(copy.id);
    }
  }

  function currentTagsOf(entityId: string): TagRecord[] {
    const out: TagRecord[] = [];
    for (const id of tagsByEntity.get(entityId) ?? []) if (current.has(id)) out.push(table("Tag").get(id)!);
    return out;
  }

  /**
   * Entity-id sets of each filter's current tags, smallest first (shared index
   * Maps, not copies: a broad tag is tested by membership, never copied).
   */
  function tagSets(filters: NormalizedTagFilter[]): ReadonlyMap<string, number>[] {
    return filters
      .map((f) => (f.valueJson === null ? byKey.get(f.key) : byKeyValue.get(`${f.key}\u0000${f.valueJson}`)) ?? new Map())
      .sort((a, b) => a.size - b.size);
  }

  /** Entity ids carrying every filter, or null when there are no filters. */
  function tagMatches(filters: NormalizedTagFilter[]): Set<string> | null {
    const sets = tagSets(filters);
    if (sets.length === 0) return null;
    const out = new Set<string>();
    for (const id of sets[0]!.keys()) if (sets.every((s) => s.has(id))) out.add(id);
    return out;
  }

  function fullNameMatches(taskHash: string, names: Set<string>): boolean {
    const task = table("Task").get(taskHash);
    return !!task && (names.has(task.name) || names.has(taskFullName(task)));
  }

  function executionSet(q: NormalizedQuery): Set<string> {
    let ids = tagMatches(q.execTags);
    const candidates = ids ? [...ids] : [...table("Execution").keys()];
    const execIds = new Set(q.execIds);
    const status = new Set(q.execStatus);
    ids = new Set(
      candidates.filter((id) => {
        const exec = table("Execution").get(id);
        if (!exec) return false;
        if (execIds.size && !execIds.has(id)) return false;
        if (status.size && !status.has(exec.status)) return false;
        return true;
      }),
    );
    return ids;
  }

  function related(execs: Set<string>): { calls: Set<string>; tasks: Set<string>; values: Set<string> } {
    const calls = new Set<string>();
    const tasks = new Set<string>();
    const values = new Set<string>();
    for (const execId of execs) {
      for (const job of jobsByExecution.get(execId)?.values() ?? []) {
        tasks.add(job.taskHash);
        if (job.callHash) {
          calls.add(job.callHash);
          const call = table("CallNode").get(job.callHash);
          if (call) {
            values.add(call.resultHash);
            for (const a of call.args) values.add(a.valueHash);
          }
        }
      }
    }
    return { calls, tasks, values };
  }

  function runQuery(q: NormalizedQuery): QueryPage {
    const sets = tagSets(q.tags);
    const hasTags = (id: string) => sets.every((s) => s.has(id));
    const execs = hasExecutionFilter(q) ? executionSet(q) : null;
    const rel = execs && q.types.some((t) => t !== "Execution" && t !== "Job") ? related(execs) : null;
    const names = q.taskNames.length ? new Set(q.taskNames) : null;
    const jobStatus = q.jobStatus.length ? new Set<string>(q.jobStatus) : null;
    const types = new Set(q.types);

    const matches = (r: AnyRecord): boolean => {
      if (!types.has(r.type as EntityType)) return false;
      if (!hasTags(r.id)) return false;
      if (q.idPrefix && !r.id.startsWith(q.idPrefix)) return false;
      if (!isAfterCursor(r, q.after)) return false;
      if (jobStatus && (r.type !== "Job" || !jobStatus.has(r.status))) return false;
      if (execs) {
        const ok =
          r.type === "Execution" ? execs.has(r.id)
          : r.type === "Job" ? execs.has(r.executionId)
          : r.type === "CallNode" ? rel!.calls.has(r.id)
          : r.type === "Task" ? rel!.tasks.has(r.id)
          : r.type === "Value" ? rel!.values.has(r.id)
          : false;
        if (!ok) return false;
      }
      if (names) {
        const ok =
          r.type === "Job" || r.type === "CallNode" ? fullNameMatches(r.taskHash, names)
          : r.type === "Task" ? fullNameMatches(r.id, names)
          : r.type === "Execution" ? fullNameMatches(table("Job").get(r.rootJobId)?.taskHash ?? "", names)
          : false;
        if (!ok) return false;
      }
      return true;
    };

    const want = q.limit + 1;
    let found: AnyRecord[] = [];
    const smallest = sets[0];
    if (smallest && smallest.size <= 4096) {
      // Selective: sort the few candidates.
      for (const id of smallest.keys()) {
        for (const type of q.types) {
          const r = tables.get(type)!.get(id);
          if (r && matches(r)) found.push(r);
        }
      }
      found.sort(compareNewestFirst);
      found = found.slice(0, want);
    } else {
      // Broad: merge the newest-first lists of each type, stopping at the page size.
      const lists = q.types.map((t) => order.get(t)!.keys);
      const pos = lists.map((l) => l.length - 1);
      while (found.length < want) {
        let best = -1;
        for (let i = 0; i < lists.length; i++) {
          const k = lists[i]![pos[i]!];
          if (k && (best < 0 || compareNewestFirst(k, lists[best]![pos[best]!]!) < 0)) best = i;
        }
        if (best < 0) break;
        const key = lists[best]![pos[best]!]!;
        pos[best]! -= 1;
        if (!isAfterCursor(key, q.after)) continue;
        const r = tables.get(q.types[best]!)!.get(key.id)!;
        if (matches(r)) found.push(r);
      }
    }
    return pageOf(found, q.limit);
  }

  const repository: MemoryRepository = {
    capabilities: { name: "memory", persistent: false },
    raw: tables,

    async write(records, options) {
      // Validate the whole batch first: a bad record leaves nothing written.
      assertWritable(records);
      for (const r of records) apply(r, options?.replaceEvaluations ?? true);
    },

    async get(type, ids) {
      const rows = table(type);
      const out: RecordOf<typeof type>[] = [];
      for (const id of ids) {
        const r = rows.get(id);
        if (r) out.push(r);
      }
      return out;
    },

    async findByPrefix(prefixes, types, limit) {
      return prefixes.map((prefix) => {
        const out: RecordRef[] = [];
        for (const type of new Set(types)) for (const id of idsInOrder.get(type)?.withPrefix(prefix, limit) ?? []) out.push({ type, id });
        return out.sort(compareRefsById).slice(0, limit);
      });
    },

    async query(q) {
      return runQuery(q);
    },

    async currentTags(entityIds) {
      return entityIds.flatMap((id) => currentTagsOf(id));
    },

    async tagChildren(tagIds) {
      const out: TagRecord[] = [];
      for (const id of tagIds) for (const child of children.get(id) ?? []) {
        const tag = table("Tag").get(child);
        if (tag) out.push(tag);
      }
      return out;
    },

    async countTags(q: TagCountQuery) {
      const keys = q.keys?.length ? new Set(q.keys) : null;
      const counts = new Map<string, TagCount>();
      for (const id of current) {
        const tag = table("Tag").get(id)!;
        if (tag.entityId === null || tag.entityType === null || (keys && !keys.has(tag.key))) continue;
        const group = q.values ? `${tag.key}\u0000${canonicalJson(tag.value)}\u0000${tag.entityType}` : `${tag.key}\u0000${tag.entityType}`;
        const row = counts.get(group);
        if (row) row.count += 1;
        else counts.set(group, q.values ? { key: tag.key, value: tag.value, entityType: tag.entityType, count: 1 } : { key: tag.key, entityType: tag.entityType, count: 1 });
      }
      return [...counts.values()];
    },

    async jobsOfExecution(executionId) {
      return [...(jobsByExecution.get(executionId)?.values() ?? [])]
        .sort((a, b) => a.startTime - b.startTime || (a.id < b.id ? -1 : 1));
    },

    async jobsOfValues(valueIds, limit) {
      const wanted = new Set(valueIds);
      const calls = new Set<string>();
      for (const call of table("CallNode").values()) {
        if (wanted.has(call.resultHash) || call.args.some((a) => wanted.has(a.valueHash))) calls.add(call.id);
      }
      const jobs: JobRecord[] = [];
      if (calls.size) for (const job of table("Job").values()) if (job.callHash && calls.has(job.callHash)) jobs.push(job);
      return jobs.sort(compareNewestFirst).slice(0, limit);
    },

    async exportSince(cursor, limit) {
      const after = cursor === null ? 0 : Number(cursor);
      if (!Number.isSafeInteger(after) || after < 0 || (cursor !== null && !/^\d+$/.test(cursor))) {
        throw new ValidationError("cursor", `malformed export cursor ${quoted(cursor)}`);
      }
      // Binary search the first log entry after the cursor.
      let lo = 0;
      let hi = log.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (log[mid]!.seq <= after) lo = mid + 1;
        else hi = mid;
      }
      const records: AnyRecord[] = [];
      let last = after;
      for (let i = lo; i < log.length && records.length < limit; i++) {
        const entry = log[i]!;
        last = entry.seq;
        if (seqOf.get(entry.type)!.get(entry.id) !== entry.seq) continue; // superseded by a later write
        records.push(tables.get(entry.type)!.get(entry.id)!);
      }
      const done = last >= seq;
      return { records, cursor: String(last), done } satisfies ExportPage;
    },
  };
  return repository;
}
