/**
 * CallGraph: the history facade every front end uses (the HTTP app, the CLI,
 * a notebook): query records with their current tags, show one by id prefix,
 * edit tags with the core's semantics, count tags.
 */
import { AmbiguousIdError, UnknownIdError, ValidationError } from "./errors.ts";
import { canonicalJson } from "./hash.ts";
import { normalizeQuery, type Query } from "./query.ts";
import {
  ENTITY_TYPES,
  type AnyRecord,
  type CallNodeRecord,
  type EntityType,
  type ExecutionRecord,
  type JobRecord,
  type JobStatus,
  type JsonValue,
  type RecordOf,
  type RecordType,
  type TaskRecord,
  type ValueRecord,
} from "./records.ts";
import type { ContextTag, RecordContext, RecordRef, Repository, TagCount } from "./repository.ts";
import { decodeValue } from "./scheduler.ts";
import { ANY_VALUE, type AnyValue } from "./tag-text.ts";
import {
  planAdd,
  planRemove,
  planRename,
  planUpdate,
  type EntityRef,
  type TagChange,
  type TagPair,
  type TagPlan,
  type TagView,
} from "./tags.ts";

/** A value as shown: decoded, or the start of its encoding when only a preview is kept. */
export interface ValueView {
  id: string;
  valueType: string;
  value: unknown;
  preview: boolean;
  /** Python's repr, for a value from redun: how redun shows it. */
  repr?: string;
}

export interface ArgumentView {
  key: string;
  value: ValueView | null;
}

/** A record as returned by `log` and `show`: its fields, plus its current tags. */
export type RecordView =
  | (ExecutionRecord & { tags: TagView[]; taskName: string | null })
  | (JobRecord & { tags: TagView[]; taskName: string | null; args: ArgumentView[] | null })
  | (CallNodeRecord & { tags: TagView[]; taskName: string | null })
  | (TaskRecord & { tags: TagView[]; fullName: string })
  | (ValueRecord & { tags: TagView[]; value: unknown });

export interface JobTreeNode {
  id: string;
  taskName: string | null;
  status: JobStatus;
  startTime: number;
  endTime: number | null;
  error: string | null;
  tags: TagView[];
  children: JobTreeNode[];
}

export interface RecordDetail {
  record: RecordView;
  /** Execution: its job tree, from the root job. */
  jobTree?: JobTreeNode | null;
  /** Execution: job counts by status and by task. */
  jobCounts?: { total: number; byStatus: Partial<Record<JobStatus, number>>; byTask: Record<string, Partial<Record<JobStatus, number>>> };
  /** Job / CallNode: the call's arguments and result. */
  call?: { args: ArgumentView[]; result: ValueView | null; children: string[] } | null;
  /** Job: the task's source. */
  task?: TaskRecord | null;
}

export interface LogResult {
  records: RecordView[];
  cursor: string | null;
}

export interface TagEditResult {
  changes: TagChange[];
  /** Number of tag records written. */
  written: number;
}

export interface CallGraphOptions {
  now?: () => number;
}

function fullName(task: TaskRecord): string {
  return task.namespace ? `${task.namespace}.${task.name}` : task.name;
}

function valueView(record: ValueRecord | undefined): ValueView | null {
  if (!record) return null;
  const view: ValueView = {
    id: record.id,
    valueType: record.valueType,
    value: record.preview ? `${record.encoded}...` : decodeValue(record),
    preview: record.preview,
  };
  if (record.redun) view.repr = record.redun.repr;
  return view;
}

export class CallGraph {
  readonly repository: Repository;
  private readonly now: () => number;

  constructor(repository: Repository, options: CallGraphOptions = {}) {
    this.repository = repository;
    this.now = options.now ?? (() => Date.now());
  }

  /** Records matching a query, newest first, each with its current tags. */
  async log(query: Query = {}): Promise<LogResult> {
    const normalized = normalizeQuery(query);
    if (this.repository.queryContext) {
      const { refs, cursor, context } = await this.repository.queryContext(normalized);
      return { records: viewsOf(refs, context), cursor };
    }
    const page = await this.repository.query(normalized);
    return { records: await this.views(page.refs), cursor: page.cursor };
  }

  /** Resolve an id prefix to one record. Unknown and ambiguous prefixes are typed errors. */
  async resolve(prefix: string, types: readonly string[] = ENTITY_TYPES): Promise<RecordRef> {
    if (typeof prefix !== "string" || !/^[0-9a-f-]+$/.test(prefix)) {
      throw new ValidationError("prefix", `id prefix must be lowercase hex, got ${JSON.stringify(prefix)}`);
    }
    const found = (await this.repository.findByPrefix(prefix, 11)).filter((r) => types.includes(r.type));
    if (found.length === 0) throw new UnknownIdError(prefix);
    const exact = found.find((r) => r.id === prefix);
    if (exact) return exact;
    if (found.length > 1) throw new AmbiguousIdError(prefix, found.slice(0, 10));
    return found[0]!;
  }

  /** Resolve many prefixes to entities (all or nothing). */
  async resolveEntities(prefixes: readonly string[]): Promise<EntityRef[]> {
    if (prefixes.length === 0) throw new ValidationError("prefix", "no record id prefix given");
    const refs = await Promise.all(prefixes.map((p) => this.resolve(p)));
    const seen = new Set<string>();
    return refs.filter((r) => !seen.has(r.id) && seen.add(r.id)) as EntityRef[];
  }

  /** One record by id prefix, with its tags and details (reads in three rounds at most). */
  async show(prefix: string): Promise<RecordDetail> {
    const ref = await this.resolve(prefix);
    const [[record], jobs] = await Promise.all([
      this.views([ref]),
      ref.type === "Execution" ? this.repository.jobsOfExecution(ref.id) : Promise.resolve([]),
    ]);
    const detail: RecordDetail = { record: record! };
    if (record!.type === "Execution") {
      const [tasks, tags] = await Promise.all([this.tasksById(jobs.map((j) => j.taskHash)), this.tagsById(jobs.map((j) => j.id))]);
      const nodes = new Map<string, JobTreeNode>();
      const byStatus: Partial<Record<JobStatus, number>> = {};
      const byTask: Record<string, Partial<Record<JobStatus, number>>> = {};
      for (const job of jobs) {
        const task = tasks.get(job.taskHash);
        const name = task ? fullName(task) : job.taskHash.slice(0, 8);
        byStatus[job.status] = (byStatus[job.status] ?? 0) + 1;
        const row = (byTask[name] ??= {});
        row[job.status] = (row[job.status] ?? 0) + 1;
        nodes.set(job.id, {
          id: job.id, taskName: task ? name : null, status: job.status, startTime: job.startTime,
          endTime: job.endTime, error: job.error, tags: tags.get(job.id) ?? [], children: [],
        });
      }
      for (const job of jobs) if (job.parentId) nodes.get(job.parentId)?.children.push(nodes.get(job.id)!);
      detail.jobTree = nodes.get((record as ExecutionRecord).rootJobId) ?? null;
      detail.jobCounts = { total: jobs.length, byStatus, byTask };
    }
    if (record!.type === "Job" || record!.type === "CallNode") {
      const callHash = record!.type === "Job" ? record!.callHash : record!.id;
      const taskHash = record!.type === "Job" ? record!.taskHash : (record as CallNodeRecord).taskHash;
      const [[call], [task]] = await Promise.all([
        callHash ? this.repository.get("CallNode", [callHash]) : Promise.resolve([]),
        this.repository.get("Task", [taskHash]),
      ]);
      if (call) {
        const values = await this.valuesById([...call.args.map((a) => a.valueHash), call.resultHash]);
        detail.call = {
          args: call.args.map((a) => ({ key: a.key, value: valueView(values.get(a.valueHash)) })),
          result: valueView(values.get(call.resultHash)),
          children: call.children,
        };
      } else detail.call = null;
      detail.task = task ?? null;
    }
    return detail;
  }

  /** Add k=v to each record (explicit add: re-creates a removed tag). */
  async addTags(prefixes: string | readonly string[], pairs: readonly TagPair[]): Promise<TagEditResult> {
    const entities = await this.resolveEntities(typeof prefixes === "string" ? [prefixes] : prefixes);
    return this.commit(await planAdd(this.repository, entities, pairs, this.now()));
  }

  /** Replace every current value of each given key with the given value(s). */
  async updateTags(prefixes: string | readonly string[], pairs: readonly TagPair[]): Promise<TagEditResult> {
    const entities = await this.resolveEntities(typeof prefixes === "string" ? [prefixes] : prefixes);
    return this.commit(await planUpdate(this.repository, entities, pairs, this.now()));
  }

  /** Remove tags by pair (`tags`) or every value of a key (`keys`). */
  async removeTags(
    prefixes: string | readonly string[],
    what: { tags?: readonly (readonly [string, JsonValue | AnyValue])[]; keys?: readonly string[] },
  ): Promise<TagEditResult> {
    const entities = await this.resolveEntities(typeof prefixes === "string" ? [prefixes] : prefixes);
    const filters = [...(what.tags ?? []), ...(what.keys ?? []).map((k) => [k, ANY_VALUE] as const)];
    if (filters.length === 0) throw new ValidationError("tags", "nothing to remove: give tags or keys");
    return this.commit(await planRemove(this.repository, entities, filters, this.now()));
  }

  /** Rename a tag key on each record, keeping values and history. */
  async renameTag(prefixes: string | readonly string[], from: string, to: string): Promise<TagEditResult> {
    if (!from || !to) throw new ValidationError("key", "rename needs two non-empty keys");
    const entities = await this.resolveEntities(typeof prefixes === "string" ? [prefixes] : prefixes);
    return this.commit(await planRename(this.repository, entities, from, to, this.now()));
  }

  /** Counts of current tags: by key and entity type, or by key, value and entity type. */
  async listTags(options: { values?: boolean; keys?: string[] } = {}): Promise<TagCount[]> {
    const rows = await this.repository.countTags({ values: options.values ?? false, keys: options.keys });
    const order = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
    // By key, then value (as JSON text), then entity type: redun's order.
    const valueOf = new Map(options.values ? rows.map((r) => [r, canonicalJson(r.value ?? null)]) : []);
    return rows.sort((a, b) =>
      order(a.key, b.key) || (options.values ? order(valueOf.get(a)!, valueOf.get(b)!) : 0) || order(a.entityType ?? "", b.entityType ?? ""),
    );
  }

  private async commit(plan: TagPlan): Promise<TagEditResult> {
    if (plan.records.length) await this.repository.write(plan.records);
    return { changes: plan.changes, written: plan.records.length };
  }

  private async tagsById(ids: readonly string[]): Promise<Map<string, TagView[]>> {
    return ids.length === 0 ? new Map() : groupTags(await this.repository.currentTags(ids));
  }

  private async tasksById(ids: readonly string[]): Promise<Map<string, TaskRecord>> {
    return new Map((await getOnce(this.repository, "Task", ids)).map((t) => [t.id, t]));
  }

  private async valuesById(ids: readonly string[]): Promise<Map<string, ValueRecord>> {
    return new Map((await getOnce(this.repository, "Value", ids)).map((v) => [v.id, v]));
  }

  /**
   * Records and their current tags for refs, in the refs' order, with what
   * each shows (task names, a job's arguments). Read as one RecordContext:
   * one round trip where the store offers `recordContext`, else three rounds
   * of primitives (`readRecordContext`).
   */
  async views(refs: readonly RecordRef[]): Promise<RecordView[]> {
    if (refs.length === 0) return [];
    const context = this.repository.recordContext
      ? await this.repository.recordContext(refs)
      : await readRecordContext(this.repository, refs);
    return viewsOf(refs, context);
  }
}

/** The views of refs, in their order, from their RecordContext. */
function viewsOf(refs: readonly RecordRef[], context: RecordContext): RecordView[] {
  const byKey = new Map<string, AnyRecord>();
  for (const r of context.records) byKey.set(`${r.type}:${r.id}`, r);
  const find = <T extends RecordType>(type: T, id: string | null | undefined) =>
    (id ? byKey.get(`${type}:${id}`) : undefined) as RecordOf<T> | undefined;
  const tags = groupTags(context.tags);
  const nameOf = (hash: string | undefined) => {
    const task = find("Task", hash);
    return task ? fullName(task) : null;
  };
  const views: RecordView[] = [];
  for (const ref of refs) {
    const r = byKey.get(`${ref.type}:${ref.id}`);
    const t = tags.get(ref.id) ?? [];
    switch (r?.type) {
      case "Execution":
        views.push({ ...r, tags: t, taskName: nameOf(find("Job", r.rootJobId)?.taskHash) });
        break;
      case "Job": {
        const call = find("CallNode", r.callHash);
        const args = call ? call.args.map((a) => ({ key: a.key, value: valueView(find("Value", a.valueHash)) })) : null;
        views.push({ ...r, tags: t, taskName: nameOf(r.taskHash), args });
        break;
      }
      case "CallNode":
        views.push({ ...r, tags: t, taskName: nameOf(r.taskHash) });
        break;
      case "Task":
        views.push({ ...r, tags: t, fullName: fullName(r) });
        break;
      case "Value":
        views.push({ ...r, tags: t, value: valueView(r)!.value });
        break;
    }
  }
  return views;
}

/**
 * Tags as [key, value] pairs per entity, by key then value (canonical JSON):
 * an order every store can give from its tag index alone, without reading
 * when each tag was written. A value is encoded only when its key ties with
 * another's, and then once, not per comparison (a page of 100 executions has
 * ~2,000 tags, mostly under distinct keys).
 */
function groupTags(tags: readonly ContextTag[]): Map<string, TagView[]> {
  const byEntity = new Map<string, { key: string; value: JsonValue; text: string | undefined; json: string | null }[]>();
  for (const t of tags) {
    const entry = { key: t.key, value: t.value, text: t.valueText, json: null };
    const list = byEntity.get(t.entityId!);
    if (list) list.push(entry);
    else byEntity.set(t.entityId!, [entry]);
  }
  const jsonOf = (e: { value: JsonValue; json: string | null }) => (e.json ??= canonicalJson(e.value));
  const out = new Map<string, TagView[]>();
  for (const [entityId, list] of byEntity) {
    list.sort((a, b) => {
      if (a.key !== b.key) return a.key < b.key ? -1 : 1;
      const x = jsonOf(a), y = jsonOf(b);
      return x < y ? -1 : x > y ? 1 : 0;
    });
    out.set(entityId, list.map((e): TagView => (e.text === undefined ? [e.key, e.value] : [e.key, e.value, e.text])));
  }
  return out;
}

/** Records of one type by id, each id asked for once, and no call for none. */
function getOnce<T extends RecordType>(repository: Repository, type: T, ids: readonly string[]): Promise<RecordOf<T>[]> {
  return ids.length ? repository.get(type, [...new Set(ids)]) : Promise.resolve([]);
}

/**
 * A RecordContext read through the primitives, in three rounds of parallel
 * calls (records and tags; root jobs and call nodes; tasks and argument
 * values): the reference meaning of `Repository.recordContext`.
 */
export async function readRecordContext(repository: Repository, refs: readonly RecordRef[]): Promise<RecordContext> {
  const byType = new Map<RecordType, string[]>();
  for (const r of refs) byType.set(r.type, [...(byType.get(r.type) ?? []), r.id]);
  const get = <T extends RecordType>(type: T, ids: readonly string[]) => getOnce(repository, type, ids);
  const [tags, ...lists] = await Promise.all([
    refs.length ? repository.currentTags([...new Set(refs.map((r) => r.id))]) : [],
    ...[...byType].map(([type, ids]) => get(type, ids)),
  ]);
  const own = lists.flat();
  const [rootJobs, calls] = await Promise.all([
    get("Job", own.flatMap((r) => (r.type === "Execution" ? [r.rootJobId] : []))),
    get("CallNode", own.flatMap((r) => (r.type === "Job" && r.callHash ? [r.callHash] : []))),
  ]);
  const [tasks, values] = await Promise.all([
    get("Task", [...own, ...rootJobs].flatMap((r) => (r.type === "Job" || r.type === "CallNode" ? [r.taskHash] : []))),
    get("Value", calls.flatMap((c) => c.args.map((a) => a.valueHash))),
  ]);
  return { records: [...own, ...rootJobs, ...calls, ...tasks, ...values], tags };
}
