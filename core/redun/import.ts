/**
 * redun's database rows -> redun-edge records, each id verified with redun's
 * formulas first. Platform-free: the rows come from whoever reads the SQLite
 * file (local/redun-db.ts with node:sqlite), so a browser could feed it too.
 *
 * Records keep redun's ids, so the id prefixes a redun user knows name the
 * same records here. What redun keeps that has no place in a redun-edge
 * record (argument rows' own hashes, subvalues, handles, files' paths beyond
 * the File value) is left out; what redun derives (job and execution status)
 * is derived as redun does.
 */
import type {
  AnyRecord,
  CallArgument,
  CallNodeRecord,
  EntityType,
  EvaluationRecord,
  ExecutionRecord,
  JobRecord,
  JobStatus,
  TagRecord,
  TaskRecord,
  ValueRecord,
} from "../records.ts";
import { assertRecordShape } from "../validate.ts";
import { toBase64 } from "./base64.ts";
import { hashStruct, hashTagBytes, argsPreimage, callNodePreimage, evaluationPreimage, tagPreimage, taskPreimage } from "./hash.ts";
import { PyDict, PyList, PyObject, pyRepr, unpickle, type Py } from "./pickle.ts";
import { jsonDumps, parsePyJson } from "./py-json.ts";
import { decodeRedunValue, hashedFromPickle } from "./value.ts";

/** The redun schema versions this reader knows (alembic revision -> redun db version). */
export const KNOWN_REDUN_SCHEMAS: Readonly<Record<string, string>> = { "0bee3d6dba76": "3.5" };

export interface RedunExecutionRow { id: string; args: string; job_id: string; updated_time: string | null }
export interface RedunJobRow {
  id: string; start_time: string; end_time: string | null; task_hash: string; cached: number | boolean;
  call_hash: string | null; parent_id: string | null; execution_id: string;
}
export interface RedunTaskRow { rowid: number; hash: string; name: string; namespace: string; source: string }
export interface RedunValueRow { rowid: number; value_hash: string; type: string; format: string; value: Uint8Array }
export interface RedunCallNodeRow { call_hash: string; task_hash: string; args_hash: string; value_hash: string; timestamp: string }
export interface RedunArgumentRow { call_hash: string; value_hash: string; arg_position: number | null; arg_key: string | null }
export interface RedunCallEdgeRow { parent_id: string; child_id: string; call_order: number }
export interface RedunEvaluationRow { eval_hash: string; task_hash: string; args_hash: string; value_hash: string }
export interface RedunTagRow { tag_hash: string; entity_type: string; entity_id: string; key: string; value: string; is_current: number | boolean }
export interface RedunTagEditRow { parent_id: string; child_id: string }

/** The rows of a redun database that redun-edge reads (rowids give redun's listing order of tasks and values). */
export interface RedunRows {
  executions: RedunExecutionRow[];
  jobs: RedunJobRow[];
  tasks: RedunTaskRow[];
  values: RedunValueRow[];
  callNodes: RedunCallNodeRow[];
  arguments: RedunArgumentRow[];
  callEdges: RedunCallEdgeRow[];
  evaluations: RedunEvaluationRow[];
  tags: RedunTagRow[];
  tagEdits: RedunTagEditRow[];
}

/** A row that was not imported, and why. */
export interface RedunRefusal {
  table: string;
  id: string;
  reason: string;
}

export interface RedunMapping {
  /** Verified records, ready to write. */
  records: AnyRecord[];
  refused: RedunRefusal[];
  /** Records whose ids redun derives from data it does not store with them (checked for form only). */
  opaque: number;
  /** Values whose pickle could not be read (imported with their type and size). */
  undecodable: number;
  /** Values of type redun.Task, kept once as their Task (redun stores a task twice under one id). */
  taskValues: number;
}

/**
 * redun's naive UTC timestamps (`2026-12-05 08:09:34.356866`) as ms since the
 * epoch, microseconds kept as the fraction, so durations come out as redun's.
 */
export function parseRedunTime(text: string): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:Z|([+-])(\d\d):?(\d\d))?$/.exec(text.trim());
  if (!m) throw new TypeError(`not a timestamp: ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s, frac, sign, oh, om] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) + Number((frac ?? "0").padEnd(6, "0")) / 1000;
  if (sign) ms -= (sign === "-" ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  return ms;
}

/**
 * redun lists tasks and values (which have no time) after every timed record,
 * in row order: their `time` counts down from 0 by rowid, values below tasks.
 */
const TASK_TIME = 0;
const VALUE_TIME = -(2 ** 40);

/** Pickles carried with a Value at most this large in base64 plus encoding (D1 keeps a row under 2 MB). */
const MAX_CARRIED = 1_500_000;

const ENTITY_TYPES: Readonly<Record<string, EntityType>> = { Execution: "Execution", Job: "Job", CallNode: "CallNode", Task: "Task", Value: "Value" };

function field(obj: Py, name: string): Py | undefined {
  return obj instanceof PyObject && obj.state instanceof PyDict ? obj.state.get(name) : undefined;
}

/** `ValueError: boom` from an ErrorValue pickle; null when it cannot be read. */
function errorText(pickle: Uint8Array | undefined): string | null {
  if (!pickle) return null;
  try {
    const error = field(unpickle(pickle), "error");
    if (!(error instanceof PyObject)) return null;
    const name = error.className.split(".").pop()!;
    const [first] = error.args;
    const message = error.args.length === 1 && typeof first === "string" ? first : error.args.map((a) => pyRepr(a, 500)).join(", ");
    return message ? `${name}: ${message}` : name;
  } catch {
    return null;
  }
}

function groupBy<T, K>(rows: readonly T[], key: (row: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = out.get(k);
    if (list) list.push(row);
    else out.set(k, [row]);
  }
  return out;
}

/** Map and verify every row; what fails is refused with a reason, the rest is returned. */
export function mapRedunRows(rows: RedunRows): RedunMapping {
  const out = emptyRedunMapping();
  for (const _ of mapRedunRowsByType(rows, out));
  return out;
}

export function emptyRedunMapping(): RedunMapping {
  return { records: [], refused: [], opaque: 0, undecodable: 0, taskValues: 0 };
}

/**
 * mapRedunRows one record type at a time, in write order (tasks, values, call
 * nodes, evaluations, jobs, executions, tags), yielding each type's records
 * as they are done and adding them, the refusals and counts to `out`: an
 * import can send one type while it maps the next.
 */
export function* mapRedunRowsByType(rows: RedunRows, out: RedunMapping): Generator<AnyRecord[]> {
  let from = out.records.length;
  const done = () => {
    const part = out.records.slice(from);
    from = out.records.length;
    return part;
  };
  const refuse = (table: string, id: string, reason: string) => out.refused.push({ table, id, reason });
  const accept = (table: string, record: AnyRecord) => {
    try {
      assertRecordShape(record, table);
      out.records.push(record);
    } catch (error) {
      refuse(table, record.id, (error as Error).message);
    }
  };

  const valueRows = new Map(rows.values.map((v) => [v.value_hash, v]));
  const taskIds = new Set(rows.tasks.map((t) => t.hash));

  // ---- tasks: the version and options live in the task's own Value (type redun.Task)
  for (const t of rows.tasks) {
    const fullName = t.namespace ? `${t.namespace}.${t.name}` : t.name;
    let version: string | null = null;
    let opaque = false;
    const value = valueRows.get(t.hash);
    if (value && value.type === "redun.Task" && value.value.length) {
      try {
        const state = unpickle(value.value);
        const v = field(state, "version");
        if (typeof v === "string") version = v;
        const compat = field(state, "compat");
        const options = field(state, "task_options");
        // A compat hash, or option overrides (hashed from their re-pickled dict): not derivable here.
        if ((compat instanceof PyList && compat.items.length) || (options instanceof PyDict && options.entries.length)) opaque = true;
      } catch {
        // An unreadable task value: verify by the source.
      }
    }
    if (!opaque && hashStruct(taskPreimage(fullName, version, t.source, null)) !== t.hash) {
      refuse("task", t.hash, `hash does not match redun's task hash of ${fullName} (${version === null ? "its source" : `version ${version}`})`);
      continue;
    }
    if (opaque) out.opaque++;
    const record: TaskRecord = {
      type: "Task", id: t.hash, time: TASK_TIME - t.rowid, name: t.name, namespace: t.namespace, source: t.source, version,
      redun: opaque ? { opaque: true } : {},
    };
    accept("task", record);
  }

  yield done();

  // ---- values
  for (const v of rows.values) {
    if (v.type === "redun.Task" && taskIds.has(v.value_hash)) {
      out.taskValues++;
      continue;
    }
    const pickled = v.format === "application/python-pickle" && v.value.length > 0;
    const decoded = decodeRedunValue(v.type, pickled ? v.value : new Uint8Array(0));
    if (pickled && decoded.pickledType === null) out.undecodable++;
    const fromPickle = pickled && hashedFromPickle(v.type);
    if (fromPickle) {
      if (hashTagBytes("Value", v.value) !== v.value_hash) {
        refuse("value", v.value_hash, `hash does not match redun's hash of its pickle (${v.type})`);
        continue;
      }
      if (decoded.pickledType?.startsWith("builtins.") && decoded.pickledType !== v.type) {
        refuse("value", v.value_hash, `type ${v.type} does not match its pickle (${decoded.pickledType})`);
        continue;
      }
    }
    const carried = pickled ? toBase64(v.value) : null;
    const keep = carried !== null && carried.length + decoded.encoded.length <= MAX_CARRIED;
    const opaque = !fromPickle || !keep;
    if (opaque) out.opaque++;
    const record: ValueRecord = {
      type: "Value", id: v.value_hash, time: VALUE_TIME - v.rowid, valueType: v.type, encoded: decoded.encoded,
      size: decoded.size, preview: decoded.preview,
      redun: { pickle: keep ? carried : null, repr: decoded.repr, ...(opaque ? { opaque: true as const } : {}) },
    };
    accept("value", record);
  }

  yield done();

  // ---- call nodes
  const argsByCall = groupBy(rows.arguments, (a) => a.call_hash);
  const edgesByParent = groupBy(rows.callEdges, (e) => e.parent_id);
  const callNodes = new Map<string, RedunCallNodeRow>();
  for (const c of rows.callNodes) {
    callNodes.set(c.call_hash, c);
    const args = argsByCall.get(c.call_hash) ?? [];
    const positional = args.filter((a) => a.arg_position !== null).sort((a, b) => a.arg_position! - b.arg_position!);
    const keywords = args.filter((a) => a.arg_position === null).sort((a, b) => (a.arg_key! < b.arg_key! ? -1 : 1));
    const keywordMap: Record<string, string> = {};
    for (const a of keywords) keywordMap[a.arg_key ?? ""] = a.value_hash;
    const children = (edgesByParent.get(c.call_hash) ?? []).sort((a, b) => a.call_order - b.call_order).map((e) => e.child_id);
    if (hashStruct(argsPreimage(positional.map((a) => a.value_hash), keywordMap)) !== c.args_hash) {
      refuse("call_node", c.call_hash, "args_hash does not match redun's hash of its arguments");
      continue;
    }
    if (hashStruct(callNodePreimage(c.task_hash, c.args_hash, c.value_hash, children)) !== c.call_hash) {
      refuse("call_node", c.call_hash, "hash does not match redun's call node hash of its task, arguments, result and child calls");
      continue;
    }
    const callArgs: CallArgument[] = [
      ...positional.map((a) => ({ key: String(a.arg_position), valueHash: a.value_hash })),
      ...keywords.map((a) => ({ key: a.arg_key ?? "", valueHash: a.value_hash })),
    ];
    const record: CallNodeRecord = {
      type: "CallNode", id: c.call_hash, time: parseRedunTime(c.timestamp), taskHash: c.task_hash, argsHash: c.args_hash,
      args: callArgs, resultHash: c.value_hash, children, redun: {},
    };
    accept("call_node", record);
  }

  const acceptedCalls = new Set(out.records.flatMap((r) => (r.type === "CallNode" ? [r.id] : [])));
  yield done();

  // ---- evaluations: the call node of the same task and arguments (redun keeps one per pair)
  const callByEval = new Map<string, RedunCallNodeRow>();
  for (const c of rows.callNodes) {
    const key = `${c.task_hash}:${c.args_hash}`;
    const seen = callByEval.get(key);
    if (!seen || seen.timestamp < c.timestamp) callByEval.set(key, c);
  }
  for (const e of rows.evaluations) {
    if (hashStruct(evaluationPreimage(e.task_hash, e.args_hash)) !== e.eval_hash) {
      refuse("evaluation", e.eval_hash, "hash does not match redun's evaluation hash of its task and arguments");
      continue;
    }
    const call = callByEval.get(`${e.task_hash}:${e.args_hash}`);
    // A cache entry is taken only beside the call it stands for (the trust rule of core/sync.ts).
    if (!call || !acceptedCalls.has(call.call_hash)) {
      refuse("evaluation", e.eval_hash, call ? `its call node ${call.call_hash} was refused` : "redun holds no call node of its task and arguments");
      continue;
    }
    const record: EvaluationRecord = {
      type: "Evaluation", id: e.eval_hash, time: call ? parseRedunTime(call.timestamp) : 0, taskHash: e.task_hash,
      argsHash: e.args_hash, valueHash: e.value_hash, callHash: call?.call_hash ?? "", jobTags: [], redun: {},
    };
    accept("evaluation", record);
  }

  // ---- jobs and executions: status as redun derives it
  const jobs = new Map<string, JobRecord>();
  for (const j of rows.jobs) {
    const call = j.call_hash ? callNodes.get(j.call_hash) : undefined;
    const result = call ? valueRows.get(call.value_hash) : undefined;
    const failed = result?.type === "redun.ErrorValue";
    const status: JobStatus = failed ? "FAILED" : j.end_time === null ? "RUNNING" : j.cached ? "CACHED" : "DONE";
    try {
      const start = parseRedunTime(j.start_time);
      const record: JobRecord = {
        type: "Job", id: j.id, time: start, executionId: j.execution_id, parentId: j.parent_id, taskHash: j.task_hash,
        callHash: j.call_hash, startTime: start, endTime: j.end_time === null ? null : parseRedunTime(j.end_time), status,
        error: failed ? (errorText(result?.value) ?? "failed") : null,
      };
      jobs.set(j.id, record);
      accept("job", record);
    } catch (error) {
      refuse("job", j.id, (error as Error).message);
    }
  }
  yield done();
  for (const x of rows.executions) {
    const root = jobs.get(x.job_id);
    if (!root) {
      refuse("execution", x.id, `its root job ${x.job_id} is missing`);
      continue;
    }
    let argv: string[];
    try {
      const parsed = JSON.parse(x.args) as unknown;
      argv = Array.isArray(parsed) ? parsed.map(String).slice(1) : [String(x.args)];
    } catch {
      argv = [x.args];
    }
    const record: ExecutionRecord = {
      type: "Execution", id: x.id, time: root.startTime, rootJobId: root.id, argv, startTime: root.startTime,
      endTime: root.endTime, status: root.status === "FAILED" ? "FAILED" : root.status === "RUNNING" ? "RUNNING" : "DONE",
    };
    accept("execution", record);
  }

  yield done();

  // ---- tags, with their edit history
  const parentsOf = groupBy(rows.tagEdits, (e) => e.child_id);
  for (const t of rows.tags) {
    const parents = (parentsOf.get(t.tag_hash) ?? []).map((e) => e.parent_id).sort();
    if (hashStruct(tagPreimage(t.entity_id, t.key, t.value, parents)) !== t.tag_hash) {
      refuse("tag", t.tag_hash, "hash does not match redun's tag hash of its entity, key, value and parents");
      continue;
    }
    let value;
    try {
      value = parsePyJson(t.value);
    } catch {
      refuse("tag", t.tag_hash, `value is not JSON: ${t.value.slice(0, 80)}`);
      continue;
    }
    const isDelete = t.entity_type === "Null";
    let entityType: EntityType | null = isDelete ? null : (ENTITY_TYPES[t.entity_type] ?? null);
    // A tag on a task's Value is the task's: that value is kept once, as its Task.
    if (entityType === "Value" && taskIds.has(t.entity_id) && valueRows.get(t.entity_id)?.type === "redun.Task") entityType = "Task";
    if (!isDelete && entityType === null) {
      refuse("tag", t.tag_hash, `unknown entity type ${JSON.stringify(t.entity_type)}`);
      continue;
    }
    const record: TagRecord = {
      type: "Tag", id: t.tag_hash, time: 0, entityType, entityId: isDelete && t.entity_id === "" ? null : t.entity_id,
      key: t.key, value, parents,
    };
    if (jsonDumps(value) !== t.value) record.valueText = t.value;
    accept("tag", record);
  }
  yield done();
}

/** Write order: what tags name comes first, so an interrupted import leaves no tag without its record. */
const WRITE_ORDER: readonly AnyRecord["type"][] = ["Task", "Value", "CallNode", "Evaluation", "Job", "Execution", "Tag"];

/** Executions and jobs change as redun goes on (a RUNNING job finishes); everything else is content-addressed. */
function changed(stored: AnyRecord, incoming: AnyRecord): boolean {
  if (incoming.type !== "Execution" && incoming.type !== "Job") return false;
  const a = stored as JobRecord | ExecutionRecord;
  const b = incoming as JobRecord | ExecutionRecord;
  return a.status !== b.status || a.endTime !== b.endTime || (a.type === "Job" && b.type === "Job" && (a.callHash !== b.callHash || a.error !== b.error));
}

/**
 * The records a store does not have yet, or has in an older state, in write
 * order: an import writes only these, so importing again writes nothing.
 */
export async function newRedunRecords(
  store: { get<T extends AnyRecord["type"]>(type: T, ids: readonly string[]): Promise<AnyRecord[]> },
  records: readonly AnyRecord[],
): Promise<{ records: AnyRecord[]; already: number }> {
  const byType = groupBy(records, (r) => r.type);
  const out: AnyRecord[] = [];
  let already = 0;
  for (const type of WRITE_ORDER) {
    const list = byType.get(type) ?? [];
    if (!list.length) continue;
    const stored = new Map((await store.get(type, list.map((r) => r.id))).map((r) => [r.id, r]));
    for (const r of list) {
      const old = stored.get(r.id);
      if (!old || changed(old, r)) out.push(r);
      else already++;
    }
  }
  return { records: out, already };
}
