/**
 * Upstream dataflow: how a Value was derived, as redun's `log` prints it
 * under "Upstream dataflow:" (redun/backends/db/dataflow.py: walk_dataflow,
 * make_dataflow_dom, display_dataflow), ported step for step so the same
 * call graph gives the same sections, variable names and order.
 *
 * What redun reads from tables this project does not keep is derived:
 * - an argument's upstream calls (redun's ArgumentResult rows) are the other
 *   calls of a parent of its call (made before it, for a run recorded here)
 *   whose result is the argument's value, or is contained in it (an array or
 *   object holding that result, not null or a boolean);
 * - a call's parents (redun's CallEdge rows, read backwards) are the calls of
 *   the parent jobs of its jobs, found through `Repository.jobsOfValues`;
 *   a store without it is read within the starting job's execution only;
 * - redun's Subvalue rows (Files and expressions nested in a container) are
 *   not imported, so sub-value routing is not followed.
 *
 * The walk is bounded (`DATAFLOW_LIMITS`): it stops after so many dataflow
 * nodes and reads at most so many jobs per value; a cut walk says so
 * (`truncated`) and prints the sections found.
 */
import { canonicalJson } from "./hash.ts";
import type { CallNodeRecord, JobRecord, RecordOf, TaskRecord, ValueRecord } from "./records.ts";
import type { Repository } from "./repository.ts";
import { sourceParameters } from "./parameters.ts";
import { formatRepr } from "./format.ts";
import { shorten } from "./tag-text.ts";
import { ERROR_VALUE_TYPE, decodeValue, type RecordedError } from "./values.ts";

/** Bounds of one walk. */
export interface DataflowLimits {
  nodes: number;
  jobsPerValue: number;
  depth: number;
  elements: number;
}

/** Bounds of one walk (`readDataflow`'s default). */
export const DATAFLOW_LIMITS: Readonly<DataflowLimits> = {
  /** Dataflow nodes (values, calls, arguments) visited. */
  nodes: 300,
  /** Jobs read per value to find the calls that returned it and their parents. */
  jobsPerValue: 1000,
  /** Levels of parent calls climbed to tell routing calls from the originating one. */
  depth: 100,
  /** Elements of an argument searched for a sibling call's result. */
  elements: 10_000,
};

/** redun's tasks that only route values; left out of a dataflow. */
const INTERNAL_TASKS = new Set(["redun.postprocess_script", "redun.script"]);

/** redun's trim_string. */
const TRIM = 200;

/** One line head of a section: `name <-- argument of <5a6fd22a> shout(text)`. */
export interface DataflowClause {
  /** "argument of" or "". */
  prefix: string;
  /** The call (`shout(text)`), the value's repr, `origin`, `derives from`, or a variable name. */
  display: string;
  /** The call's or value's id (hash), or null (origin, a variable). */
  hash: string | null;
}

export interface DataflowSection {
  varName: string;
  assign: DataflowClause;
  routing: DataflowClause[];
  args: { varName: string; valueId: string; display: string }[];
}

/** The upstream dataflow of a value (`CallGraph.dataflow`). */
export interface Dataflow {
  /** The variable naming the value: `result` for a job's result, `value` for a Value. */
  name: string;
  valueId: string;
  /** The value's repr, as redun's heading shows it (`result = 'HELLO'`). */
  display: string;
  sections: DataflowSection[];
  /** True when the walk stopped at a DATAFLOW_LIMITS bound (the sections are those found). */
  truncated: boolean;
}

// ---- the graph, read lazily -------------------------------------------------

/** Reads a store's records once each, and the calls around a value through its jobs. */
class GraphReader {
  private readonly calls = new Map<string, Promise<CallNodeRecord | undefined>>();
  private readonly values = new Map<string, Promise<ValueRecord | undefined>>();
  private readonly jobs = new Map<string, Promise<JobRecord | undefined>>();
  private readonly tasks = new Map<string, Promise<TaskRecord | undefined>>();
  private readonly jobsByValue = new Map<string, Promise<JobRecord[]>>();
  private readonly parents = new Map<string, Promise<CallNodeRecord[]>>();
  private executionJobs: Promise<{ jobs: JobRecord[]; calls: Map<string, CallNodeRecord> }> | null = null;
  truncated = false;

  private readonly repository: Repository;
  private readonly context: JobRecord | null;
  readonly limits: DataflowLimits;

  constructor(repository: Repository, context: JobRecord | null, limits: DataflowLimits) {
    this.repository = repository;
    this.context = context;
    this.limits = limits;
  }

  private once<T>(cache: Map<string, Promise<T>>, id: string, read: () => Promise<T>): Promise<T> {
    let hit = cache.get(id);
    if (!hit) cache.set(id, (hit = read()));
    return hit;
  }

  /** Records by id, each read once, those not read yet in one `get`. */
  private async batch<K extends "CallNode" | "Value" | "Job">(
    type: K,
    cache: Map<string, Promise<RecordOf<K> | undefined>>,
    ids: readonly string[],
  ): Promise<RecordOf<K>[]> {
    const missing = [...new Set(ids)].filter((id) => !cache.has(id));
    if (missing.length) {
      const read = this.repository.get(type, missing).then((rs) => new Map(rs.map((r) => [r.id, r])));
      for (const id of missing) cache.set(id, read.then((rs) => rs.get(id)));
    }
    const found: (RecordOf<K> | undefined)[] = await Promise.all(ids.map((id) => cache.get(id)!));
    return found.filter((r): r is RecordOf<K> => r !== undefined);
  }

  call(id: string): Promise<CallNodeRecord | undefined> {
    return this.callsOf([id]).then((r) => r[0]);
  }

  callsOf(ids: readonly string[]): Promise<CallNodeRecord[]> {
    return this.batch("CallNode", this.calls, ids);
  }

  value(id: string): Promise<ValueRecord | undefined> {
    return this.valuesOf([id]).then((r) => r[0]);
  }

  valuesOf(ids: readonly string[]): Promise<ValueRecord[]> {
    return this.batch("Value", this.values, ids);
  }

  private jobsOf(ids: readonly string[]): Promise<JobRecord[]> {
    return this.batch("Job", this.jobs, ids);
  }

  task(id: string): Promise<TaskRecord | undefined> {
    return this.once(this.tasks, id, async () => (await this.repository.get("Task", [id]))[0]);
  }

  async isInternal(call: CallNodeRecord): Promise<boolean> {
    const task = await this.task(call.taskHash);
    return !!task && INTERNAL_TASKS.has(task.namespace ? `${task.namespace}.${task.name}` : task.name);
  }

  /**
   * Read the jobs of several values in one `jobsOfValues` call. When the
   * answer holds fewer jobs than the per-value limit it is complete for every
   * value and is kept for each; otherwise each value is read on its own later.
   */
  async prefetchJobs(valueIds: readonly string[]): Promise<void> {
    const todo = [...new Set(valueIds)].filter((id) => !this.jobsByValue.has(id));
    if (todo.length < 2 || !this.repository.jobsOfValues) return;
    const limit = this.limits.jobsPerValue;
    const jobs = await this.repository.jobsOfValues(todo, limit + 1);
    if (jobs.length > limit) return;
    const calls = new Map((await this.callsOf(unique(jobs.flatMap((j) => (j.callHash ? [j.callHash] : []))))).map((c) => [c.id, c]));
    for (const id of todo) {
      if (this.jobsByValue.has(id)) continue;
      this.jobsByValue.set(id, Promise.resolve(jobs.filter((j) => {
        const call = j.callHash ? calls.get(j.callHash) : undefined;
        return !!call && (call.resultHash === id || call.args.some((a) => a.valueHash === id));
      })));
    }
  }

  /** Jobs whose call returned or took the value, newest first (at most DATAFLOW_LIMITS.jobsPerValue). */
  jobsOfValue(valueId: string): Promise<JobRecord[]> {
    return this.once(this.jobsByValue, valueId, async () => {
      const limit = this.limits.jobsPerValue;
      if (this.repository.jobsOfValues) {
        const jobs = await this.repository.jobsOfValues([valueId], limit + 1);
        if (jobs.length > limit) this.truncated = true;
        return jobs.slice(0, limit);
      }
      // No index from values to jobs: the starting job's execution is the graph.
      const { jobs, calls } = await this.ownExecution();
      return jobs.filter((j) => {
        const call = j.callHash ? calls.get(j.callHash) : undefined;
        return !!call && (call.resultHash === valueId || call.args.some((a) => a.valueHash === valueId));
      });
    });
  }

  private ownExecution(): Promise<{ jobs: JobRecord[]; calls: Map<string, CallNodeRecord> }> {
    this.executionJobs ??= (async () => {
      if (!this.context) return { jobs: [], calls: new Map() };
      const jobs = (await this.repository.jobsOfExecution(this.context.executionId)).slice(0, this.limits.jobsPerValue);
      const calls = await this.callsOf(jobs.flatMap((j) => (j.callHash ? [j.callHash] : [])));
      return { jobs, calls: new Map(calls.map((c) => [c.id, c])) };
    })();
    return this.executionJobs;
  }

  /** The jobs of a call (found through its result). */
  async jobsOfCall(call: CallNodeRecord): Promise<JobRecord[]> {
    const jobs = (await this.jobsOfValue(call.resultHash)).filter((j) => j.callHash === call.id);
    if (this.context?.callHash === call.id && !jobs.some((j) => j.id === this.context!.id)) jobs.push(this.context);
    return jobs;
  }

  /** Calls that returned the value (redun's `value.results`), each with its jobs. */
  async resultsOf(valueId: string): Promise<{ call: CallNodeRecord; jobs: JobRecord[] }[]> {
    const jobs = await this.jobsOfValue(valueId);
    const calls = await this.callsOf([...new Set(jobs.flatMap((j) => (j.callHash ? [j.callHash] : [])))]);
    const out = calls.filter((c) => c.resultHash === valueId).map((call) => ({ call, jobs: jobs.filter((j) => j.callHash === call.id) }));
    if (this.context?.callHash && !out.some((o) => o.call.id === this.context!.callHash)) {
      const own = await this.call(this.context.callHash);
      if (own && own.resultHash === valueId) out.push({ call: own, jobs: [this.context] });
    }
    return out;
  }

  /** Calls that called this one (redun's `call_node.parents`): the calls of its jobs' parent jobs. */
  async parentsOf(call: CallNodeRecord): Promise<CallNodeRecord[]> {
    return (await this.parentsOfAll([call]))[0]!;
  }

  /** The parents of several calls, read in a few rounds whatever their number. */
  parentsOfAll(calls: readonly CallNodeRecord[]): Promise<CallNodeRecord[][]> {
    const todo = unique(calls.filter((c) => !this.parents.has(c.id)), (c) => c.id);
    if (todo.length) {
      const read = (async () => {
        await this.prefetchJobs(todo.map((c) => c.resultHash));
        const jobsPer = await Promise.all(todo.map((c) => this.jobsOfCall(c)));
        const parentJobs = await this.jobsOf(unique(jobsPer.flat().flatMap((j) => (j.parentId ? [j.parentId] : []))));
        const byId = new Map(parentJobs.map((j) => [j.id, j]));
        const parentCalls = new Map((await this.callsOf(unique(parentJobs.flatMap((j) => (j.callHash ? [j.callHash] : []))))).map((c) => [c.id, c]));
        return todo.map((_call, i) => {
          const ids = unique(jobsPer[i]!.flatMap((j) => {
            const hash = j.parentId ? byId.get(j.parentId)?.callHash : null;
            return hash ? [hash] : [];
          }));
          // The parent job's call, even when it does not list this call (a failed parent lists only the children that finished).
          return ids.flatMap((id) => {
            const p = parentCalls.get(id);
            return p ? [p] : [];
          });
        });
      })();
      todo.forEach((call, i) => this.parents.set(call.id, read.then((all) => all[i]!)));
    }
    return Promise.all(calls.map((c) => this.parents.get(c.id)!));
  }
}

// ---- dataflow nodes and edges (redun's DataflowNode kinds) --------------------

type DataflowNode =
  | { kind: "value"; key: string; value: ValueRecord }
  | { kind: "call"; key: string; call: CallNodeRecord }
  /** One argument of a call, and the value traced through it. */
  | { kind: "arg"; key: string; call: CallNodeRecord; argKey: string; valueId: string }
  /** A call's result, traced (redun's CallNodeValue). */
  | { kind: "callValue"; key: string; call: CallNodeRecord; valueId: string };

interface Edge {
  src: DataflowNode;
  dest: DataflowNode | null;
}

const valueNode = (value: ValueRecord): DataflowNode => ({ kind: "value", key: `v:${value.id}`, value });
const callNode = (call: CallNodeRecord): DataflowNode => ({ kind: "call", key: `c:${call.id}`, call });
const argNode = (call: CallNodeRecord, argKey: string, valueId: string): DataflowNode => ({
  kind: "arg", key: `a:${call.id}:${argKey}:${valueId}`, call, argKey, valueId,
});
const callValueNode = (call: CallNodeRecord, valueId: string): DataflowNode => ({ kind: "callValue", key: `n:${call.id}:${valueId}`, call, valueId });
const edgeKey = (e: Edge) => `${e.src.key}>${e.dest?.key ?? ""}`;
const nodeValueId = (n: DataflowNode): string | null =>
  n.kind === "value" ? n.value.id : n.kind === "arg" || n.kind === "callValue" ? n.valueId : null;

const isPosition = (key: string) => /^\d+$/.test(key);

/** redun's get_callnode_arguments: positional ones by position, then keyword ones by name. */
function sortedArguments(call: CallNodeRecord) {
  const positional = call.args.filter((a) => isPosition(a.key)).sort((a, b) => Number(a.key) - Number(b.key));
  const keyword = call.args.filter((a) => !isPosition(a.key)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return [...positional, ...keyword];
}

function unique<T>(items: Iterable<T>, key: (item: T) => unknown = (x) => x): T[] {
  const seen = new Set<unknown>();
  const out: T[] = [];
  for (const item of items) {
    const k = key(item);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(item);
    }
  }
  return out;
}

/** The decoded value as canonical JSON texts of its elements (not itself), for finding a result inside it. */
function elementTexts(value: ValueRecord | undefined, limit: number): Set<string> {
  const out = new Set<string>();
  if (!value || value.preview) return out;
  let decoded: unknown;
  try {
    decoded = JSON.parse(value.encoded);
  } catch {
    return out;
  }
  let budget = limit;
  const visit = (v: unknown) => {
    if (budget-- <= 0 || v === null || typeof v !== "object") return;
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) {
      out.add(canonicalJson(child));
      visit(child);
    }
  };
  visit(decoded);
  return out;
}

class Walker {
  private readonly elements = new Map<string, Promise<Set<string>>>();

  private readonly graph: GraphReader;

  constructor(graph: GraphReader) {
    this.graph = graph;
  }

  /** Edges upstream of one node (redun's walk_dataflow_node). */
  edges(node: DataflowNode): Promise<Edge[]> {
    switch (node.kind) {
      case "value":
        return this.valueEdges(node);
      case "call":
        return Promise.resolve(this.callEdges(node));
      case "arg":
        return this.argEdges(node);
      case "callValue":
        return this.callValueEdges(node);
    }
  }

  /** redun's walk_dataflow_value: the newest call that originated the value (not one that only passed it on). */
  private async valueEdges(node: Extract<DataflowNode, { kind: "value" }>): Promise<Edge[]> {
    const results: { call: CallNodeRecord; jobs: JobRecord[] }[] = [];
    for (const r of await this.graph.resultsOf(node.value.id)) if (!(await this.graph.isInternal(r.call))) results.push(r);
    results.sort((a, b) => a.call.time - b.call.time);
    const candidates = new Set(results.map((r) => r.call.id));
    // A routing call is an ancestor of another call that returned the value.
    const seen = new Set<string>();
    const routing = new Set<string>();
    for (const { call } of results) {
      const ancestor = await this.firstAncestorIn(call, candidates, seen);
      if (ancestor) routing.add(ancestor);
    }
    let best: { start: number; call: CallNodeRecord } | null = null;
    for (const { call, jobs } of results) {
      if (routing.has(call.id)) continue;
      for (const job of jobs) if (!best || job.startTime > best.start) best = { start: job.startTime, call };
    }
    return [{ src: node, dest: best ? callNode(best.call) : null }];
  }

  /** redun's walk_parents, depth first with a shared `seen`, stopping at the first ancestor in `wanted`. */
  private async firstAncestorIn(call: CallNodeRecord, wanted: ReadonlySet<string>, seen: Set<string>, depth = 0): Promise<string | null> {
    if (depth >= this.graph.limits.depth) {
      this.graph.truncated = true;
      return null;
    }
    for (const parent of await this.graph.parentsOf(call)) {
      if (seen.has(parent.id)) continue;
      seen.add(parent.id);
      if (wanted.has(parent.id)) return parent.id;
      const found = await this.firstAncestorIn(parent, wanted, seen, depth + 1);
      if (found) return found;
    }
    return null;
  }

  /** redun's walk_dataflow_callnode: each argument, or origin for a call without any. */
  private callEdges(node: Extract<DataflowNode, { kind: "call" }>): Edge[] {
    const args = sortedArguments(node.call);
    if (args.length === 0) return [{ src: node, dest: null }];
    return args.map((a) => ({ src: node, dest: argNode(node.call, a.key, a.valueHash) }));
  }

  /** Canonical JSON of the value's elements (cached). */
  private elementsOf(valueId: string): Promise<Set<string>> {
    let hit = this.elements.get(valueId);
    if (!hit) this.elements.set(valueId, (hit = this.graph.value(valueId).then((v) => elementTexts(v, this.graph.limits.elements))));
    return hit;
  }

  /**
   * The calls an argument's value came from (redun's ArgumentResult rows,
   * which are not recorded here): other calls of its call.s parents (made before it, for a run recorded here)
   * whose result is the value or an element of it.
   */
  private async upstreamOf(call: CallNodeRecord, valueId: string, parents: readonly CallNodeRecord[]): Promise<CallNodeRecord[]> {
    const out: CallNodeRecord[] = [];
    for (const parent of parents) {
      // redun-edge's scheduler records the calls making a call's arguments before it; redun's call
      // order does not (`main` returning `combine(i, square(i))` lists combine first).
      const at = parent.children.lastIndexOf(call.id);
      const before = parent.redun || at === -1 ? parent.children : parent.children.slice(0, at);
      const siblings = await this.graph.callsOf(unique(before));
      await this.graph.valuesOf([valueId, ...siblings.map((c) => c.resultHash)]);
      for (const sibling of siblings) {
        if (sibling.id === call.id || (await this.graph.isInternal(sibling))) continue;
        if (sibling.resultHash === valueId) out.push(sibling);
        else if (await this.contains(valueId, sibling.resultHash)) out.push(sibling);
      }
    }
    const found = unique(out, (c) => c.id);
    // Each upstream call is a node of the walk: more than the walk visits would only be read to be cut.
    if (found.length > this.graph.limits.nodes) this.graph.truncated = true;
    return found.slice(0, this.graph.limits.nodes);
  }

  private async contains(valueId: string, elementId: string): Promise<boolean> {
    const element = await this.graph.value(elementId);
    if (!element || element.preview) return false;
    let text: string;
    try {
      const decoded: unknown = JSON.parse(element.encoded);
      // A null or boolean result says nothing about where an equal element came from.
      if (decoded === null || typeof decoded === "boolean") return false;
      text = canonicalJson(decoded);
    } catch {
      return false;
    }
    return (await this.elementsOf(valueId)).has(text);
  }

  /** redun's walk_dataflow_argument_value: from sibling calls, from the parent's argument, or origin. */
  private async argEdges(node: Extract<DataflowNode, { kind: "arg" }>): Promise<Edge[]> {
    const { call, valueId } = node;
    const parents = await this.graph.parentsOf(call);
    const upstream = await this.upstreamOf(call, valueId, parents);
    // The newest call that is a parent of this call and of every upstream call.
    let common = new Set(parents.map((p) => p.id));
    for (const theirParents of await this.graph.parentsOfAll(upstream)) {
      const theirs = new Set(theirParents.map((p) => p.id));
      common = new Set([...common].filter((id) => theirs.has(id)));
    }
    const context = parents.filter((p) => common.has(p.id)).sort((a, b) => b.time - a.time)[0];
    let ordered = upstream;
    if (context) {
      const pairs: [CallNodeRecord, number][] = [];
      for (const u of upstream) context.children.forEach((child, order) => child === u.id && pairs.push([u, order]));
      ordered = pairs.sort((a, b) => b[1] - a[1]).map(([u]) => u);
    }
    const edges: Edge[] = [];
    for (const u of unique(ordered, (c) => c.id)) edges.push({ src: node, dest: callValueNode(u, u.resultHash) });
    const parent = [...parents].sort((a, b) => b.time - a.time)[0];
    if (parent) {
      for (const a of parent.args) if (a.valueHash === valueId) edges.push({ src: node, dest: argNode(parent, a.key, valueId) });
    }
    if (edges.length === 0) edges.push({ src: node, dest: null });
    return edges;
  }

  /** redun's walk_dataflow_callnode_value: into the one child call that returned the value, else the call itself. */
  private async callValueEdges(node: Extract<DataflowNode, { kind: "callValue" }>): Promise<Edge[]> {
    const matches: CallNodeRecord[] = [];
    for (const child of await this.graph.callsOf(unique(node.call.children))) {
      if (child.resultHash === node.valueId && !(await this.graph.isInternal(child))) matches.push(child);
    }
    return [{ src: node, dest: matches.length === 1 ? callValueNode(matches[0]!, node.valueId) : callNode(node.call) }];
  }
}

/** redun's walk_dataflow: depth first from the value, each node once. */
async function walkDataflow(walker: Walker, graph: GraphReader, start: DataflowNode): Promise<Edge[]> {
  const out: Edge[] = [];
  const queue: DataflowNode[] = [start];
  const seen = new Set<string>();
  let visited = 0;
  while (queue.length) {
    if (++visited > graph.limits.nodes) {
      graph.truncated = true;
      break;
    }
    const node = queue.pop()!;
    const edges = await walker.edges(node);
    out.push(...edges);
    for (const edge of [...edges].reverse()) {
      if (edge.dest && !seen.has(edge.dest.key)) {
        queue.push(edge.dest);
        seen.add(edge.dest.key);
      }
    }
  }
  return out;
}

// ---- sections (redun's iter_dataflow_sections) --------------------------------

type EdgeType = "data" | "call_arg" | "other";

function edgeType(e: Edge): EdgeType {
  if (e.src.kind === "arg" && e.dest?.kind === "callValue" && e.src.valueId !== e.dest.valueId) return "data";
  if (e.src.kind === "call" && e.dest?.kind === "arg") return "call_arg";
  return "other";
}

/** redun's toposort_edges: depth first, a node after every edge into it. */
function toposortEdges(edges: readonly Edge[]): Edge[] {
  const indegrees = new Map<string, number>();
  const nodes = new Map<string, DataflowNode>();
  const bySrc = new Map<string, Edge[]>();
  for (const e of edges) {
    const list = bySrc.get(e.src.key);
    if (list) list.push(e);
    else bySrc.set(e.src.key, [e]);
    nodes.set(e.src.key, e.src);
    if (!indegrees.has(e.src.key)) indegrees.set(e.src.key, 0);
    if (e.dest) {
      nodes.set(e.dest.key, e.dest);
      indegrees.set(e.dest.key, (indegrees.get(e.dest.key) ?? 0) + 1);
    }
  }
  const queue = [...indegrees].filter(([, d]) => d === 0).map(([k]) => k);
  const out: Edge[] = [];
  while (queue.length) {
    const key = queue.pop()!;
    const list = bySrc.get(key) ?? [];
    out.push(...list);
    for (const e of [...list].reverse()) {
      if (!e.dest) continue;
      const d = indegrees.get(e.dest.key)! - 1;
      indegrees.set(e.dest.key, d);
      if (d === 0) queue.push(e.dest.key);
    }
  }
  return out;
}

/** redun's rewrite_call_node_merges: one CallNodeValue per call that several reach. */
function rewriteCallNodeMerges(input: readonly Edge[]): Edge[] {
  let edges = [...input];
  const byDest = new Map<string, Edge[]>();
  for (const e of edges) if (e.dest) byDest.set(e.dest.key, [...(byDest.get(e.dest.key) ?? []), e]);
  const merges = [...byDest].filter(([, list]) => list[0]!.dest!.kind === "call" && list.length > 1);
  for (const [key, into] of merges) {
    const merge = into[0]!.dest as Extract<DataflowNode, { kind: "call" }>;
    const upstreamEdges = into.flatMap((e) => byDest.get(e.src.key) ?? []);
    const upstreamNodes = unique(upstreamEdges.map((e) => e.src), (n) => n.key);
    const old = new Set([...into, ...upstreamEdges].map(edgeKey));
    const unified = callValueNode(merge.call, merge.call.resultHash);
    const added: Edge[] = [...upstreamNodes.map((src) => ({ src, dest: unified })), { src: unified, dest: merge }];
    const kept = edges.filter((e) => !old.has(edgeKey(e)));
    const at = kept.findIndex((e) => e.src.key === key);
    edges = at === -1 ? [...kept, ...added] : [...kept.slice(0, at), ...added, ...kept.slice(at)];
  }
  return edges;
}

/** redun's iter_subsections: a section whose paths merge, split at the merge nodes. */
function subsections(section: readonly Edge[]): Edge[][] {
  const bySrc = new Map<string, Edge[]>();
  const byDest = new Map<string, Edge[]>();
  const nodes: DataflowNode[] = [];
  for (const e of section) {
    nodes.push(e.src);
    bySrc.set(e.src.key, [...(bySrc.get(e.src.key) ?? []), e]);
    if (e.dest) byDest.set(e.dest.key, [...(byDest.get(e.dest.key) ?? []), e]);
  }
  const roots = unique(nodes, (n) => n.key).filter((n) => !(byDest.get(n.key)?.length));
  const merges = [...byDest].filter(([, list]) => list.length > 1).map(([, list]) => list[0]!.dest!);
  if (merges.length === 0) return [[...section]];
  const mergeKeys = new Set(merges.map((n) => n.key));
  const out: Edge[][] = [];
  let current: Edge[] = [];
  for (let node of [...roots, ...merges]) {
    for (;;) {
      const next = bySrc.get(node.key) ?? [];
      if (next.length !== 1) {
        current.push(...next);
        out.push(current);
        current = [];
        break;
      }
      const edge = next[0]!;
      current.push(edge);
      if (edge.dest && !mergeKeys.has(edge.dest.key)) node = edge.dest;
      else {
        out.push(current);
        current = [];
        break;
      }
    }
  }
  return out;
}

/** redun's iter_dataflow_sections: edges grouped into paragraphs, in order of appearance. */
function dataflowSections(edges: readonly Edge[]): { kind: "call" | "data"; edges: Edge[] }[] {
  type Numbered = [number, Edge][];
  const callSections = new Map<string, Numbered>();
  const dataSections = new Map<string, Numbered>();
  const newVars = new Set<string>();
  const list = rewriteCallNodeMerges(toposortEdges(edges));
  list.forEach((edge, i) => {
    const type = edgeType(edge);
    if (type === "data") {
      dataSections.set(edge.src.key, [...(dataSections.get(edge.src.key) ?? []), [i, edge]]);
      return;
    }
    if (type === "call_arg") newVars.add(edge.dest!.key);
    let section: Numbered;
    if (newVars.has(edge.src.key)) section = [[i, edge]];
    else {
      section = callSections.get(edge.src.key) ?? [];
      if (!callSections.has(edge.src.key)) callSections.set(edge.src.key, section);
      section.push([i, edge]);
    }
    if (edge.dest) {
      const destSection = callSections.get(edge.dest.key);
      if (!destSection) callSections.set(edge.dest.key, section);
      else {
        destSection.push(...section);
        callSections.set(edge.src.key, destSection);
      }
    }
  });
  const ordered = (numbered: Numbered) => ({
    order: Math.max(...numbered.map(([i]) => i)),
    edges: unique(numbered.map(([, e]) => e), edgeKey),
  });
  const sections = [
    ...unique(callSections.values()).map((n) => ({ kind: "call" as const, ...ordered(n) })),
    ...[...dataSections.values()].map((n) => ({ kind: "data" as const, ...ordered(n) })),
  ].sort((a, b) => a.order - b.order);
  return sections.flatMap((s): { kind: "call" | "data"; edges: Edge[] }[] =>
    s.kind === "call" ? subsections(s.edges).map((e) => ({ kind: "call", edges: e })) : [{ kind: "data", edges: s.edges }],
  );
}

// ---- variable names and display (redun's DataflowVars, make_*_dom, display_*) --

/** Display text of the call, value and task records the DOM names. */
interface Names {
  taskOf(call: CallNodeRecord): TaskRecord | undefined;
  valueDisplay(valueId: string): string;
}

/** Parameter names of a task as redun's get_task_args reads them; null where it raises SyntaxError. */
export function taskParameterNames(task: TaskRecord | undefined): string[] | null {
  if (!task) return null;
  if (task.redun) return pythonParameters(task.source);
  const params = sourceParameters(task.source);
  if (!params) return null;
  // One destructured object parameter has no names to show: as a SyntaxError in redun, `arg0`.
  return params.kind === "names" ? params.names.map((n, i) => n ?? `arg${i}`) : null;
}

/**
 * The names of a Python `def`'s plain parameters (ast's `args.args`: not
 * positional-only ones, `*args`, keyword-only ones or `**kwargs`); null when
 * the source does not start with a `def` (after decorators).
 */
export function pythonParameters(source: string): string[] | null {
  const lines = source.split("\n");
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^\s*/.exec(l)![0].length));
  const text = lines.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join("\n");
  let i = 0;
  // Skip blank lines, comments and decorators (a decorator's brackets may span lines).
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (text[i] === "#") i = text.indexOf("\n", i) === -1 ? text.length : text.indexOf("\n", i);
    else if (text[i] === "@") {
      const end = pythonScan(text, i, "\n");
      if (end === -1) return null;
      i = end;
    } else break;
  }
  const head = /^def\s+[A-Za-z_]\w*\s*\(/.exec(text.slice(i));
  if (!head) return null;
  const open = i + head[0].length - 1;
  const close = pythonScan(text, open + 1, ")");
  if (close === -1) return null;
  const parts: string[] = [];
  let start = open + 1;
  for (let j = start; j <= close; ) {
    const comma = pythonScan(text, j, ",", close);
    const end = comma === -1 ? close : comma;
    parts.push(text.slice(start, end).replace(/#[^\n]*/g, "").trim());
    start = j = end + 1;
    if (comma === -1) break;
  }
  let names: string[] = [];
  for (const part of parts.filter(Boolean)) {
    if (part === "/") names = [];
    else if (part.startsWith("*")) break;
    else {
      const name = /^[A-Za-z_]\w*/.exec(part);
      if (!name) return null;
      names.push(name[0]);
    }
  }
  return names;
}

/** Index of `stop` at bracket depth 0 from `from` (skipping strings and comments), before `limit`; -1 if none. */
function pythonScan(text: string, from: number, stop: string, limit = text.length): number {
  let depth = 0;
  for (let i = from; i < limit; i++) {
    const c = text[i]!;
    if (depth === 0 && c === stop) return i;
    if (c === "#") {
      const nl = text.indexOf("\n", i);
      if (nl === -1) return -1;
      i = nl - 1;
    } else if (c === '"' || c === "'") {
      const quote = text.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
      let j = i + quote.length;
      while (j < text.length && !text.startsWith(quote, j)) j += text[j] === "\\" ? 2 : 1;
      i = j + quote.length - 1;
    } else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      if (depth === 0) return -1;
      depth--;
    }
  }
  return -1;
}

class DataflowVars {
  readonly varToName = new Map<string, string>();
  readonly nameToVar = new Map<string, string>();

  private readonly names: Names;

  constructor(names: Names) {
    this.names = names;
  }

  get(node: DataflowNode): string | undefined {
    return this.varToName.get(node.key);
  }

  set(node: DataflowNode, name: string): string {
    this.varToName.set(node.key, name);
    this.nameToVar.set(name, node.key);
    return name;
  }

  /** redun's new_var_name: the node's name, or a new unique one (from an argument's name when no base is given). */
  newVarName(node: DataflowNode, base?: string): [string, string | null] {
    const known = this.varToName.get(node.key);
    if (known) return [known, null];
    if (!base) {
      if (node.kind !== "arg") throw new TypeError("a variable without a base name must be an argument");
      if (!isPosition(node.argKey)) base = node.argKey;
      else {
        const position = Number(node.argKey);
        const names = taskParameterNames(this.names.taskOf(node.call)) ?? [];
        base = names[position] ?? `arg${position}`;
      }
    }
    const name = uniqueName(base, this.nameToVar);
    this.set(node, name);
    return [name, base];
  }
}

/** redun's make_var_name: `name`, else `name_2`, `name_3`, ... */
function uniqueName(base: string, taken: ReadonlyMap<string, string>): string {
  const stem = base.replace(/_\d+$/, "");
  if (!taken.has(stem)) return stem;
  for (let suffix = 2; ; suffix++) if (!taken.has(`${stem}_${suffix}`)) return `${stem}_${suffix}`;
}

function hashOf(node: DataflowNode | null): string | null {
  if (!node) return null;
  return node.kind === "value" ? node.value.id : node.call.id;
}

function callDisplay(call: CallNodeRecord, renames: ReadonlyMap<string, string>, names: Names): string {
  const task = names.taskOf(call);
  const params = taskParameterNames(task) ?? call.args.map((_, i) => `arg${i}`);
  return `${task?.name ?? call.taskHash.slice(0, 8)}(${params.map((p) => renames.get(p) ?? p).join(", ")})`;
}

function nodeClause(node: DataflowNode | null, renames: ReadonlyMap<string, string>, names: Names): DataflowClause {
  const hash = hashOf(node);
  if (!node) return { prefix: "", display: "origin", hash };
  if (node.kind === "value") return { prefix: "", display: names.valueDisplay(node.value.id), hash };
  return { prefix: node.kind === "arg" ? "argument of" : "", display: callDisplay(node.call, renames, names), hash };
}

/** redun's make_section_dom. */
function callSectionDom(section: readonly Edge[], vars: DataflowVars, names: Names, newName: string): DataflowSection {
  const [{ src: first, dest: assignNode }] = section as [Edge];
  const assignName = first.kind === "value" ? vars.set(first, newName) : (vars.get(first) ?? vars.newVarName(first, first.kind === "arg" ? undefined : newName)[0]);
  const routing: (DataflowNode | null)[] = [];
  const args: [string, string][] = [];
  const renames = new Map<string, string>();
  let varToVar = assignNode?.kind === "arg" || assignNode?.kind === "callValue";
  let lastRouting: DataflowNode | null = null;
  for (const { src, dest } of section.slice(1)) {
    if (src.kind === "call" && dest?.kind === "arg") {
      const [name, base] = vars.newVarName(dest);
      if (base) renames.set(base, name);
      args.push([name, dest.valueId]);
    } else {
      lastRouting = dest;
      if (dest?.kind === "call") varToVar = false;
      if (!(src.kind === "callValue" && dest?.kind === "call")) routing.push(dest);
    }
  }
  const lastLine = routing.length;
  const none = new Map<string, string>();
  const baseName = vars.get(first) ?? assignName;
  let assign: DataflowClause;
  if (varToVar && routing.length === 0) {
    const [name] = vars.newVarName(assignNode!, baseName);
    assign = { prefix: "", display: name, hash: hashOf(assignNode) };
  } else assign = nodeClause(assignNode, lastLine === 0 ? renames : none, names);
  const clauses = routing.map((dest, i) => nodeClause(dest, i + 1 === lastLine ? renames : none, names));
  if (varToVar && (lastRouting?.kind === "arg" || lastRouting?.kind === "callValue")) {
    const [name] = vars.newVarName(lastRouting, baseName);
    clauses.push({ prefix: "", display: name, hash: hashOf(lastRouting) });
  }
  return { varName: assignName, assign, routing: clauses, args: args.map(([varName, valueId]) => ({ varName, valueId, display: names.valueDisplay(valueId) })) };
}

/** redun's make_data_section_dom: a value built from several results (`x <-- derives from`). */
function dataSectionDom(section: readonly Edge[], vars: DataflowVars, names: Names, newName: string): DataflowSection {
  const first = section[0]!.src;
  const varName = vars.get(first) ?? vars.newVarName(first, newName)[0];
  const upstream = unique(section.map((e) => e.dest!), (n) => n.key);
  const args = upstream.map((node) => {
    const call = (node as Extract<DataflowNode, { kind: "callValue" }>).call;
    const [name] = vars.newVarName(node, `${names.taskOf(call)?.name ?? call.taskHash.slice(0, 8)}_result`);
    const valueId = nodeValueId(node)!;
    return { varName: name, valueId, display: names.valueDisplay(valueId) };
  });
  // A template literal: test/core/platform-free.test.ts would read `from "..."` in a string as an import.
  return { varName, assign: { prefix: "", display: `derives from`, hash: null }, routing: [], args };
}

/** redun's display_dataflow: each section's lines, then a blank line. */
export function formatDataflow(dataflow: Dataflow): string[] {
  const lines: string[] = [];
  const hash = (h: string | null) => (h ? `<${h.slice(0, 8)}> ` : "");
  const prefix = (p: string) => (p ? `${p} ` : "");
  for (const s of dataflow.sections) {
    lines.push(`${s.varName} <-- ${prefix(s.assign.prefix)}${hash(s.assign.hash)}${s.assign.display}`);
    const indent = " ".repeat(s.varName.length + 1);
    for (const r of s.routing) lines.push(`${indent}<-- ${prefix(r.prefix)}${hash(r.hash)}${r.display}`);
    const width = Math.max(0, ...s.args.map((a) => a.varName.length));
    for (const a of s.args) lines.push(`  ${a.varName.padEnd(width)} = <${a.valueId.slice(0, 8)}> ${a.display}`);
    lines.push("");
  }
  if (dataflow.truncated) lines.push("(dataflow cut short: the walk reached its bound)", "");
  return lines;
}

/** A value's repr as redun's dataflow shows it (untrimmed): Python's repr for a value from redun. */
export function valueRepr(value: ValueRecord | undefined): string {
  if (!value) return "?";
  if (value.redun) return value.redun.repr;
  if (value.valueType === ERROR_VALUE_TYPE && !value.preview) {
    // As redun shows its ErrorValue: `ErrorValue(ValueError('boom'))`.
    const error = decodeValue(value) as Partial<RecordedError> | null;
    return `ErrorValue(${error?.name ?? "Error"}(${formatRepr(error?.message ?? "", Number.MAX_SAFE_INTEGER)}))`;
  }
  if (value.preview) return `${value.encoded}...`;
  return formatRepr(decodeValue(value), Number.MAX_SAFE_INTEGER);
}

/**
 * The upstream dataflow of a value, named `name` (`result` for a job's
 * result). `context`: the job whose result it is; it stands in for the
 * value-to-job index on a store without `jobsOfValues`.
 */
export async function readDataflow(
  repository: Repository,
  valueId: string,
  options: { name?: string; context?: JobRecord | null; limits?: Partial<DataflowLimits> } = {},
): Promise<Dataflow> {
  const name = options.name ?? "value";
  const graph = new GraphReader(repository, options.context ?? null, { ...DATAFLOW_LIMITS, ...options.limits });
  const value = await graph.value(valueId);
  if (!value) return { name, valueId, display: "?", sections: [], truncated: false };
  const edges = await walkDataflow(new Walker(graph), graph, valueNode(value));
  // Everything the display names, read in two rounds.
  const calls = new Map<string, CallNodeRecord>();
  const valueIds = new Set<string>();
  for (const e of edges) {
    for (const n of [e.src, e.dest]) {
      if (!n) continue;
      if (n.kind !== "value") calls.set(n.call.id, n.call);
      const id = nodeValueId(n);
      if (id) valueIds.add(id);
    }
  }
  const [tasks, values] = await Promise.all([
    Promise.all([...new Set([...calls.values()].map((c) => c.taskHash))].map((id) => graph.task(id))),
    Promise.all([...valueIds].map((id) => graph.value(id))),
  ]);
  const taskById = new Map(tasks.flatMap((t) => (t ? [[t.id, t] as const] : [])));
  const valueById = new Map(values.flatMap((v) => (v ? [[v.id, v] as const] : [])));
  const names: Names = {
    taskOf: (call) => taskById.get(call.taskHash),
    valueDisplay: (id) => shorten(valueRepr(valueById.get(id)), TRIM),
  };
  const vars = new DataflowVars(names);
  const sections = dataflowSections(edges).map((s) =>
    s.kind === "call" ? callSectionDom(s.edges, vars, names, name) : dataSectionDom(s.edges, vars, names, name),
  );
  return { name, valueId, display: valueRepr(value), sections, truncated: graph.truncated };
}
