/**
 * CallGraph: the history facade every front end uses (the HTTP app, the CLI,
 * a notebook): query records with their current tags, show one by id prefix,
 * edit tags with the core's semantics, count tags.
 */
import { AmbiguousIdError, UnknownIdError, ValidationError, quoted } from "./errors.ts";
import { canonicalJson } from "./hash.ts";
import { MAX_CANDIDATES, MAX_EDIT_PREFIXES, MAX_PREFIX_CHARS } from "./limits.ts";
import { normalizeQuery, type Query } from "./query.ts";
import {
  ENTITY_TYPES,
  isAbandoned,
  isIdPrefix,
  taskFullName,
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
import { readTagHistory, type TagHistory } from "./tag-history.ts";
import { readDataflow, type Dataflow, type DataflowLimits } from "./dataflow.ts";
import { decodeValue } from "./values.ts";
import { ANY_VALUE, type AnyValue } from "./tag-text.ts";
import { checkTagKey } from "./validate.ts";
import {
  checkEditTags,
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
  /** `abandoned`: RUNNING, and its lease has passed (`isAbandoned`): its process stopped without finishing it. */
  | (ExecutionRecord & { tags: TagView[]; taskName: string | null; abandoned: boolean })
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
  call?: { args: ArgumentView[]; result: ValueView | null; children: string[]; tags?: TagView[] } | null;
  /** Job: the task's source, with the task's current tags. */
  task?: (TaskRecord & { tags: TagView[] }) | null;
  /**
   * Job: the jobs from the execution's root job down to this one's parent
   * (redun's `Traceback: Exec … > Job … main > Job …` line), with the execution.
   */
  ancestors?: { executionId: string; jobs: { id: string; taskName: string | null }[] };
  /** Job: the upstream dataflow of its result (redun's "Upstream dataflow:"), when it has a call. */
  dataflow?: Dataflow | null;
}

export interface LogResult {
  records: RecordView[];
  cursor: string | null;
}

export interface TagEditResult {
  /** The records edited, as their prefixes resolved, in the order given (each once). */
  entities: EntityRef[];
  changes: TagChange[];
  /** Number of tag records written. */
  written: number;
}

/** A job as lineage and job screens list it. */
export interface JobSummary {
  id: string;
  executionId: string;
  parentId: string | null;
  taskHash: string;
  taskName: string | null;
  callHash: string | null;
  status: JobStatus;
  startTime: number;
  endTime: number | null;
  error: string | null;
}

/** Where a job sits in its execution (`CallGraph.jobContext`). */
export interface JobContext {
  job: JobSummary;
  /** From the execution's root job down to the job's parent (redun's Traceback). */
  path: JobSummary[];
  /** Its child jobs, in start order. */
  children: JobSummary[];
}

/** One call in a Value's lineage: the CallNode and the newest of its jobs. */
export interface LineageCall {
  callHash: string;
  taskHash: string;
  taskName: string | null;
  args: ArgumentView[];
  result: ValueView | null;
  /** Jobs of this call found (newest first). */
  jobs: JobSummary[];
}

/** Where a Value came from and where it went (`CallGraph.valueLineage`). */
export interface ValueLineage {
  value: ValueView;
  /** Calls whose result is the value. */
  producedBy: LineageCall[];
  /** Calls that took it as an argument. */
  usedBy: LineageCall[];
  /** False when the store cannot find calls by value (no `jobsOfValues`). */
  supported: boolean;
  /** True when more jobs than the limit name the value (the lists are then partial). */
  truncated: boolean;
}

/** One CallNode as its screen shows it (`CallGraph.callNode`). */
export interface CallNodeDetail {
  /** The call: task, arguments, result, and the jobs found that ran it (newest first). */
  call: LineageCall;
  /** The task, with its current tags. */
  task: (TaskRecord & { tags: TagView[] }) | null;
  /** Its child calls, in call order (their `jobs` are not read: each call's own screen lists them). */
  children: LineageCall[];
  /** False when the store cannot find jobs by value (no `jobsOfValues`): `call.jobs` is then empty. */
  supported: boolean;
  /** True when more jobs than the limit name the call's result (`call.jobs` may then be partial). */
  truncated: boolean;
}

export interface CallGraphOptions {
  now?: () => number;
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
      return { records: viewsOf(refs, context, this.now()), cursor };
    }
    const page = await this.repository.query(normalized);
    return { records: await this.views(page.refs), cursor: page.cursor };
  }

  /** Resolve an id prefix to one record. Unknown and ambiguous prefixes are typed errors. */
  async resolve(prefix: string, types: readonly EntityType[] = ENTITY_TYPES): Promise<RecordRef> {
    return (await this.resolveAll([prefix], types))[0]!;
  }

  /** Resolve the prefixes of one edit to entities, all or nothing, in one read of the store. */
  async resolveEntities(prefixes: readonly string[]): Promise<EntityRef[]> {
    if (prefixes.length === 0) throw new ValidationError("prefix", "no record id prefix given");
    if (prefixes.length > MAX_EDIT_PREFIXES) {
      throw new ValidationError("prefixes", `an edit names at most ${MAX_EDIT_PREFIXES} records, got ${prefixes.length}`);
    }
    const refs = await this.resolveAll(prefixes, ENTITY_TYPES);
    const seen = new Set<string>();
    return refs.filter((r) => !seen.has(r.id) && seen.add(r.id)) as EntityRef[];
  }

  /**
   * Each prefix's one record among `types`; the first prefix (in order) that
   * names none or several is the error. The store lists every candidate of
   * those types up to one more than an ambiguous prefix shows, so a prefix is
   * unique exactly when it lists one.
   */
  private async resolveAll(prefixes: readonly string[], types: readonly EntityType[]): Promise<RecordRef[]> {
    for (const prefix of prefixes) {
      if (typeof prefix !== "string" || !prefix || !isIdPrefix(prefix) || prefix.length > MAX_PREFIX_CHARS) {
        throw new ValidationError("prefix", `id prefix must be lowercase hex of at most ${MAX_PREFIX_CHARS} characters, got ${quoted(prefix)}`);
      }
    }
    const unique = [...new Set(prefixes)];
    const found = await this.repository.findByPrefix(unique, types, MAX_CANDIDATES + 1);
    const answers = new Map(unique.map((prefix, i) => [prefix, (found[i] ?? []).filter((r) => types.includes(r.type as EntityType) && r.id.startsWith(prefix))]));
    return prefixes.map((prefix) => {
      const refs = answers.get(prefix)!;
      if (refs.length === 0) throw new UnknownIdError(prefix);
      const exact = refs.find((r) => r.id === prefix);
      if (exact) return exact;
      if (refs.length > 1) throw new AmbiguousIdError(prefix, refs.slice(0, MAX_CANDIDATES), refs.length > MAX_CANDIDATES);
      return refs[0]!;
    });
  }

  /**
   * One record by id prefix, with its tags and details (reads in three rounds
   * at most). `jobTags: false` leaves an execution's job tree without the
   * jobs' tags, one read per job fewer (a tree view that does not show them).
   */
  async show(prefix: string, options: { jobTags?: boolean; dataflow?: boolean } = {}): Promise<RecordDetail> {
    const ref = await this.resolve(prefix);
    const [[record], jobs] = await Promise.all([
      this.views([ref]),
      ref.type === "Execution" ? this.repository.jobsOfExecution(ref.id) : Promise.resolve([]),
    ]);
    const detail: RecordDetail = { record: record! };
    if (record!.type === "Execution") {
      const parents = new Set(jobs.map((j) => j.parentId));
      const [tasks, tags, calls] = await Promise.all([
        this.tasksById(jobs.map((j) => j.taskHash)),
        options.jobTags === false ? new Map<string, TagView[]>() : this.tagsById(jobs.map((j) => j.id)),
        getOnce(this.repository, "CallNode", jobs.flatMap((j) => (parents.has(j.id) && j.callHash ? [j.callHash] : []))),
      ]);
      const nodes = new Map<string, JobTreeNode>();
      // Task names are user data (`__proto__` is a name too): counted in Maps, handed out as own properties.
      const byStatus = new Map<JobStatus, number>();
      const byTask = new Map<string, Map<JobStatus, number>>();
      for (const job of jobs) {
        const task = tasks.get(job.taskHash);
        const name = task ? taskFullName(task) : job.taskHash.slice(0, 8);
        byStatus.set(job.status, (byStatus.get(job.status) ?? 0) + 1);
        let row = byTask.get(name);
        if (!row) byTask.set(name, (row = new Map()));
        row.set(job.status, (row.get(job.status) ?? 0) + 1);
        nodes.set(job.id, {
          id: job.id, taskName: task ? name : null, status: job.status, startTime: job.startTime,
          endTime: job.endTime, error: job.error, tags: tags.get(job.id) ?? [], children: [],
        });
      }
      for (const job of jobs) if (job.parentId) nodes.get(job.parentId)?.children.push(nodes.get(job.id)!);
      orderByCalls(jobs, nodes, new Map(calls.map((c) => [c.id, c])));
      detail.jobTree = nodes.get((record as ExecutionRecord).rootJobId) ?? null;
      detail.jobCounts = {
        total: jobs.length,
        byStatus: Object.fromEntries(byStatus),
        byTask: Object.fromEntries([...byTask].map(([name, row]) => [name, Object.fromEntries(row)])),
      };
    }
    if (record!.type === "Job" || record!.type === "CallNode") {
      const callHash = record!.type === "Job" ? record!.callHash : record!.id;
      const taskHash = record!.type === "Job" ? record!.taskHash : (record as CallNodeRecord).taskHash;
      const [[call], [task], taskTags, ancestors] = await Promise.all([
        callHash ? this.repository.get("CallNode", [callHash]) : Promise.resolve([]),
        this.repository.get("Task", [taskHash]),
        this.tagsById(callHash ? [taskHash, callHash] : [taskHash]),
        record!.type === "Job" ? this.ancestorsOf(record as JobRecord) : Promise.resolve(undefined),
      ]);
      if (ancestors) detail.ancestors = ancestors;
      if (call) {
        const values = await this.valuesById([...call.args.map((a) => a.valueHash), call.resultHash]);
        detail.call = {
          args: call.args.map((a) => ({ key: a.key, value: valueView(values.get(a.valueHash)) })),
          result: valueView(values.get(call.resultHash)),
          children: call.children,
          tags: taskTags.get(call.id) ?? [],
        };
      } else detail.call = null;
      detail.task = task ? { ...task, tags: taskTags.get(taskHash) ?? [] } : null;
      if (record!.type === "Job" && options.dataflow !== false) {
        detail.dataflow = call ? await readDataflow(this.repository, call.resultHash, { name: "result", context: record as JobRecord }) : null;
      }
    }
    return detail;
  }

  /** A job's ancestors, root first, read parent by parent (one round trip per level, two for task names). */
  private async ancestorsOf(job: JobRecord): Promise<NonNullable<RecordDetail["ancestors"]>> {
    const chain: JobRecord[] = [];
    const seen = new Set<string>([job.id]);
    for (let parentId = job.parentId; parentId && !seen.has(parentId) && chain.length < 1000; ) {
      seen.add(parentId);
      const [parent] = await this.repository.get("Job", [parentId]);
      if (!parent) break;
      chain.unshift(parent);
      parentId = parent.parentId;
    }
    const tasks = await this.tasksById(chain.map((j) => j.taskHash));
    return {
      executionId: job.executionId,
      jobs: chain.map((j) => ({ id: j.id, taskName: tasks.get(j.taskHash)?.name ?? null })),
    };
  }

  /** A job's path from its execution's root and its children (one read of the execution's jobs). */
  async jobContext(prefix: string): Promise<JobContext> {
    const ref = await this.resolve(prefix, ["Job"]);
    const [job] = await this.repository.get("Job", [ref.id]);
    if (!job) throw new UnknownIdError(prefix);
    const jobs = await this.repository.jobsOfExecution(job.executionId);
    const byId = new Map(jobs.map((j) => [j.id, j]));
    byId.set(job.id, job);
    const path: JobRecord[] = [];
    for (let p = job.parentId ? byId.get(job.parentId) : undefined; p && path.length < byId.size; p = p.parentId ? byId.get(p.parentId) : undefined) {
      path.unshift(p);
    }
    const children = jobs.filter((j) => j.parentId === job.id);
    const [call] = job.callHash && children.length > 1 ? await this.repository.get("CallNode", [job.callHash]) : [];
    if (call && !call.redun) sortInCallOrder(children, call, (child) => child.callHash);
    const summaries = await this.jobSummaries([job, ...path, ...children]);
    return { job: summaries[0]!, path: summaries.slice(1, 1 + path.length), children: summaries.slice(1 + path.length) };
  }

  /**
   * A Value's lineage: the calls that returned it (with their inputs) and the
   * calls that took it as an argument, read through `jobsOfValues` (at most
   * `limit` jobs, newest first, grouped by call).
   */
  async valueLineage(prefix: string, options: { limit?: number } = {}): Promise<ValueLineage> {
    const ref = await this.resolve(prefix, ["Value"]);
    const [record] = await this.repository.get("Value", [ref.id]);
    if (!record) throw new UnknownIdError(prefix);
    const value = valueView(record)!;
    if (!this.repository.jobsOfValues) return { value, producedBy: [], usedBy: [], supported: false, truncated: false };
    const limit = options.limit ?? 100;
    const jobs = await this.repository.jobsOfValues([record.id], limit + 1);
    const truncated = jobs.length > limit;
    const kept = jobs.slice(0, limit);
    const calls = await getOnce(this.repository, "CallNode", kept.flatMap((j) => (j.callHash ? [j.callHash] : [])));
    const [values, summaries] = await Promise.all([
      this.valuesById(calls.flatMap((c) => [c.resultHash, ...c.args.map((a) => a.valueHash)])),
      this.jobSummaries(kept),
    ]);
    const names = new Map(summaries.map((s) => [s.taskHash, s.taskName]));
    const lineage = (call: CallNodeRecord) => lineageCall(call, names, values, summaries);
    // Calls in the order of their newest job.
    const order = new Map<string, number>();
    kept.forEach((j, i) => j.callHash && !order.has(j.callHash) && order.set(j.callHash, i));
    const sorted = [...calls].sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    return {
      value,
      producedBy: sorted.filter((c) => c.resultHash === record.id).map(lineage),
      usedBy: sorted.filter((c) => c.args.some((a) => a.valueHash === record.id)).map(lineage),
      supported: true,
      truncated,
    };
  }

  /**
   * One CallNode: its task, arguments and result, its child calls, and the
   * jobs that ran it, found through its result Value (`jobsOfValues`, at
   * most `limit` jobs naming that value, newest first).
   */
  async callNode(prefix: string, options: { limit?: number } = {}): Promise<CallNodeDetail> {
    const ref = await this.resolve(prefix, ["CallNode"]);
    const [call] = await this.repository.get("CallNode", [ref.id]);
    if (!call) throw new UnknownIdError(prefix);
    const limit = options.limit ?? 200;
    const [children, found, [task], taskTags] = await Promise.all([
      getOnce(this.repository, "CallNode", call.children),
      this.repository.jobsOfValues ? this.repository.jobsOfValues([call.resultHash], limit + 1) : Promise.resolve([]),
      this.repository.get("Task", [call.taskHash]),
      this.tagsById([call.taskHash]),
    ]);
    const truncated = found.length > limit;
    const ran = found.slice(0, limit).filter((j) => j.callHash === call.id);
    const [values, summaries, tasks] = await Promise.all([
      this.valuesById([call, ...children].flatMap((c) => [c.resultHash, ...c.args.map((a) => a.valueHash)])),
      this.jobSummaries(ran),
      this.tasksById(children.map((c) => c.taskHash)),
    ]);
    const names = new Map<string, string | null>([...tasks].map(([hash, t]) => [hash, taskFullName(t)]));
    if (task) names.set(task.id, taskFullName(task));
    const byId = new Map(children.map((c) => [c.id, c]));
    return {
      call: lineageCall(call, names, values, summaries),
      task: task ? { ...task, tags: taskTags.get(task.id) ?? [] } : null,
      children: call.children.flatMap((hash) => (byId.has(hash) ? [lineageCall(byId.get(hash)!, names, values, [])] : [])),
      supported: this.repository.jobsOfValues !== undefined,
      truncated,
    };
  }

  /**
   * The upstream dataflow of a Value (named `value`), or of the result of a
   * Job or CallNode (named `result`), as redun's `log` prints it; see
   * core/dataflow.ts for what is derived and how the walk is bounded.
   */
  async dataflow(prefix: string, options: { limits?: Partial<DataflowLimits> } = {}): Promise<Dataflow> {
    const ref = await this.resolve(prefix, ["Job", "CallNode", "Value"]);
    if (ref.type === "Value") return readDataflow(this.repository, ref.id, options);
    const [job] = ref.type === "Job" ? await this.repository.get("Job", [ref.id]) : [];
    const callHash = ref.type === "Job" ? job?.callHash : ref.id;
    const [call] = callHash ? await this.repository.get("CallNode", [callHash]) : [];
    if (!call) throw new ValidationError("prefix", `${quoted(prefix)} has no recorded call yet, so no result to trace`);
    return readDataflow(this.repository, call.resultHash, { ...options, name: "result", context: job ?? null });
  }

  /** The history of a record's current tags, and its merge conflicts (see tag-history.ts). */
  async tagHistory(prefix: string): Promise<TagHistory> {
    const ref = await this.resolve(prefix);
    return readTagHistory(this.repository, ref.id);
  }

  private async jobSummaries(jobs: readonly JobRecord[]): Promise<JobSummary[]> {
    const tasks = await this.tasksById(jobs.map((j) => j.taskHash));
    return jobs.map((j) => {
      const task = tasks.get(j.taskHash);
      return {
        id: j.id, executionId: j.executionId, parentId: j.parentId, taskHash: j.taskHash, taskName: task ? taskFullName(task) : null,
        callHash: j.callHash, status: j.status, startTime: j.startTime, endTime: j.endTime, error: j.error,
      };
    });
  }

  /** Add k=v to each record (explicit add: re-creates a removed tag). */
  async addTags(prefixes: string | readonly string[], pairs: readonly TagPair[]): Promise<TagEditResult> {
    checkEditTags(pairs);
    const entities = await this.resolveEntities(typeof prefixes === "string" ? [prefixes] : prefixes);
    return this.commit(entities, await planAdd(this.repository, entities, pairs, this.now()));
  }

  /** Replace every current value of each given key with the given value(s). */
  async updateTags(prefixes: string | readonly string[], pairs: readonly TagPair[]): Promise<TagEditResult> {
    checkEditTags(pairs);
    const entities = await this.resolveEntities(typeof prefixes === "string" ? [prefixes] : prefixes);
    return this.commit(entities, await planUpdate(this.repository, entities, pairs, this.now()));
  }

  /** Remove tags by pair (`tags`) or every value of a key (`keys`). */
  async removeTags(
    prefixes: string | readonly string[],
    what: { tags?: readonly (readonly [string, JsonValue | AnyValue])[]; keys?: readonly string[] },
  ): Promise<TagEditResult> {
    checkEditTags(what.tags, what.keys);
    const entities = await this.resolveEntities(typeof prefixes === "string" ? [prefixes] : prefixes);
    const filters = [...(what.tags ?? []), ...(what.keys ?? []).map((k) => [k, ANY_VALUE] as const)];
    if (filters.length === 0) throw new ValidationError("tags", "nothing to remove: give tags or keys");
    return this.commit(entities, await planRemove(this.repository, entities, filters, this.now()));
  }

  /** Rename a tag key on each record, keeping values and history. */
  async renameTag(prefixes: string | readonly string[], from: string, to: string): Promise<TagEditResult> {
    if (!from || !to) throw new ValidationError("key", "rename needs two non-empty keys");
    checkTagKey("from", from);
    checkTagKey("to", to);
    const entities = await this.resolveEntities(typeof prefixes === "string" ? [prefixes] : prefixes);
    return this.commit(entities, await planRename(this.repository, entities, from, to, this.now()));
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

  private async commit(entities: EntityRef[], plan: TagPlan): Promise<TagEditResult> {
    if (plan.records.length) await this.repository.write(plan.records);
    return { entities, changes: plan.changes, written: plan.records.length };
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
    return viewsOf(refs, context, this.now());
  }
}

/** A call as lineage lists show it: task name, argument and result views, and its jobs among `jobs`. */
function lineageCall(
  call: CallNodeRecord,
  names: ReadonlyMap<string, string | null>,
  values: ReadonlyMap<string, ValueRecord>,
  jobs: readonly JobSummary[],
): LineageCall {
  return {
    callHash: call.id,
    taskHash: call.taskHash,
    taskName: names.get(call.taskHash) ?? null,
    args: call.args.map((a) => ({ key: a.key, value: valueView(values.get(a.valueHash)) })),
    result: valueView(values.get(call.resultHash)),
    jobs: jobs.filter((s) => s.callHash === call.id),
  };
}

/**
 * Each job's children in call order (its CallNode's children), which start
 * times cannot tell apart within a millisecond; children without a call (not
 * finished) follow in start order.
 */
function orderByCalls(jobs: readonly JobRecord[], nodes: Map<string, JobTreeNode>, calls: ReadonlyMap<string, CallNodeRecord>): void {
  const callOf = new Map(jobs.map((j) => [j.id, j.callHash]));
  for (const job of jobs) {
    const call = job.callHash ? calls.get(job.callHash) : undefined;
    const node = nodes.get(job.id)!;
    // redun shows a job's children in start order (its times tell them apart), and so do we for its calls.
    if (call && !call.redun && node.children.length > 1) sortInCallOrder(node.children, call, (child) => callOf.get(child.id) ?? null);
  }
}

/** Sort a job's children (in start order) into its call's order, in place; a stable sort keeps calls it does not name last. */
function sortInCallOrder<T>(children: T[], call: CallNodeRecord, callHashOf: (child: T) => string | null): void {
  const slots = new Map<string, number[]>();
  call.children.forEach((hash, i) => slots.set(hash, [...(slots.get(hash) ?? []), i]));
  const rank = new Map(children.map((child) => {
    const free = slots.get(callHashOf(child) ?? "");
    return [child, free?.length ? free.shift()! : Number.MAX_SAFE_INTEGER] as const;
  }));
  children.sort((a, b) => rank.get(a)! - rank.get(b)!);
}

/** The views of refs, in their order, from their RecordContext; `now` tells abandoned executions. */
function viewsOf(refs: readonly RecordRef[], context: RecordContext, now: number): RecordView[] {
  const byKey = new Map<string, AnyRecord>();
  for (const r of context.records) byKey.set(`${r.type}:${r.id}`, r);
  const find = <T extends RecordType>(type: T, id: string | null | undefined) =>
    (id ? byKey.get(`${type}:${id}`) : undefined) as RecordOf<T> | undefined;
  const tags = groupTags(context.tags);
  const nameOf = (hash: string | undefined) => {
    const task = find("Task", hash);
    return task ? taskFullName(task) : null;
  };
  const views: RecordView[] = [];
  for (const ref of refs) {
    const r = byKey.get(`${ref.type}:${ref.id}`);
    const t = tags.get(ref.id) ?? [];
    switch (r?.type) {
      case "Execution":
        views.push({ ...r, tags: t, taskName: nameOf(find("Job", r.rootJobId)?.taskHash), abandoned: isAbandoned(r, now) });
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
        views.push({ ...r, tags: t, fullName: taskFullName(r) });
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
