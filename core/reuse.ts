/**
 * Cache reuse, as redun does it: the recorded evaluation of a task on the
 * same arguments, with its whole call subtree, read from the store so the
 * scheduler can record it again for a new execution. Reads of concurrent
 * jobs are coalesced into one `get` per record type per tick, and a subtree
 * is read level by level, so a wide cached fan-out costs a few reads.
 */
import { evaluationHash } from "./hash.ts";
import type { AnyRecord, CallNodeRecord, EvaluationRecord, RecordOf, ValueRecord } from "./records.ts";
import type { Repository } from "./repository.ts";
import type { TagPair } from "./tags.ts";
import { currentTaskOfHash, type TaskDefinition } from "./task.ts";
import { batchPerTick } from "./tick-batch.ts";
import { decodeValue } from "./values.ts";

type LookupType = "Evaluation" | "Value" | "CallNode";

/** One record a cache check needs, by type and id; undefined when absent or unreadable. */
export type CacheLookup = <T extends LookupType>(type: T, id: string) => Promise<RecordOf<T> | undefined>;

/** A recorded call subtree found reusable, as read from the store. */
export interface ReusedTree {
  evaluation: EvaluationRecord;
  value: unknown;
  calls: Map<string, CallNodeRecord>;
  /** The evaluation of each call's task and arguments, by call hash (its job tags and execution tags). */
  evaluations: Map<string, EvaluationRecord>;
  /** Tags of tasks of the subtree that are not defined now (a "shallow" reuse), from the store. */
  storedTaskTags: Map<string, TagPair[]>;
  /** Argument values, read only for a run with `onJob`. */
  values: Map<string, ValueRecord>;
}

/**
 * Look-ups answered from `buffered` (records not yet written) or read with
 * the other look-ups of this tick, one repository read per record type. A
 * failed read is a cache miss: the job runs.
 */
export function createCacheLookup(repository: Repository, buffered: (id: string) => AnyRecord | undefined): CacheLookup {
  const read = batchPerTick(async (requests: readonly { type: LookupType; id: string }[]) => {
    const byType = new Map<LookupType, Set<string>>();
    for (const { type, id } of requests) {
      let ids = byType.get(type);
      if (!ids) byType.set(type, (ids = new Set()));
      ids.add(id);
    }
    const found = new Map<LookupType, Map<string, AnyRecord>>();
    await Promise.all(
      [...byType].map(async ([type, ids]) => {
        try {
          found.set(type, new Map((await repository.get(type, [...ids])).map((r) => [r.id, r])));
        } catch {
          // Unreadable: a miss, and the job runs.
        }
      }),
    );
    return requests.map(({ type, id }) => found.get(type)?.get(id));
  });
  return <T extends LookupType>(type: T, id: string) => {
    const record = buffered(id);
    if (record?.type === type) return Promise.resolve(record as RecordOf<T>);
    return read({ type, id }) as Promise<RecordOf<T> | undefined>;
  };
}

/**
 * A recorded evaluation of this task on these arguments that may be reused,
 * with its call subtree; null when there is none, when its result is kept
 * only as a preview, when part of its subtree is missing, or when (check
 * "full") a task of the subtree is not the task of that name defined now.
 */
export async function findReusable(
  lookup: CacheLookup,
  repository: Repository,
  definition: TaskDefinition,
  evalId: string,
  withValues: boolean,
): Promise<ReusedTree | null> {
  const evaluation = await lookup("Evaluation", evalId);
  if (!evaluation) return null;
  const [tree, result] = await Promise.all([readCallTree(lookup, evaluation, withValues), lookup("Value", evaluation.valueHash)]);
  if (!tree || !result || result.preview) return null;
  const stale = new Set<string>();
  for (const call of tree.calls.values()) if (!currentTaskOfHash(call.taskHash)) stale.add(call.taskHash);
  if (stale.size && definition.checkValid === "full") return null;
  if (stale.size) {
    try {
      for (const tag of await repository.currentTags([...stale])) {
        const list = tree.storedTaskTags.get(tag.entityId!) ?? [];
        list.push([tag.key, tag.value]);
        tree.storedTaskTags.set(tag.entityId!, list);
      }
    } catch {
      return null;
    }
  }
  return { ...tree, value: decodeValue(result) };
}

/**
 * The call subtree of an evaluation, read level by level (one coalesced
 * read per record type and level): its CallNodes, the Evaluation of each
 * (for the tags its jobs got) and, for a listener, the argument Values.
 */
async function readCallTree(
  lookup: CacheLookup,
  evaluation: EvaluationRecord,
  withValues: boolean,
): Promise<Omit<ReusedTree, "value"> | null> {
  const calls = new Map<string, CallNodeRecord>();
  const evaluations = new Map<string, EvaluationRecord>([[evaluation.callHash, evaluation]]);
  const values = new Map<string, ValueRecord>();
  let level = [evaluation.callHash];
  let previous: CallNodeRecord[] = [];
  while (level.length || previous.length) {
    const valueIds = withValues ? [...new Set(previous.flatMap((c) => c.args.map((a) => a.valueHash)))] : [];
    const [nodes, evals, vals] = await Promise.all([
      Promise.all(level.map((id) => lookup("CallNode", id))),
      Promise.all(previous.map((c) => (evaluations.has(c.id) ? undefined : lookup("Evaluation", evaluationHash(c.taskHash, c.argsHash))))),
      Promise.all(valueIds.map((id) => lookup("Value", id))),
    ]);
    previous.forEach((c, i) => {
      const e = evals[i];
      if (e) evaluations.set(c.id, e);
    });
    for (const v of vals) if (v) values.set(v.id, v);
    const next = new Set<string>();
    for (const node of nodes) {
      if (!node) return null;
      calls.set(node.id, node);
    }
    for (const node of nodes) for (const child of node!.children) if (!calls.has(child)) next.add(child);
    previous = nodes as CallNodeRecord[];
    level = [...next];
  }
  return { evaluation, calls, evaluations, storedTaskTags: new Map(), values };
}

/** The arguments of a recorded call, from its Values; null when one is missing or only a preview. */
export function argumentsOf(call: CallNodeRecord, values: ReadonlyMap<string, ValueRecord>): unknown[] | null {
  const out: unknown[] = [];
  for (const a of call.args) {
    const v = values.get(a.valueHash);
    if (!v || v.preview) return null;
    out.push(decodeValue(v));
  }
  return out;
}
