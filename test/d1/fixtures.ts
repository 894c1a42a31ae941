/**
 * Synthetic call graphs for the D1 tests and measurements: built directly as
 * records (no scheduler), deterministic from a seed, with broad tags (every
 * execution has `project`, one of a few `user`s), selective ones (`run`),
 * tag edits (updates and deletes), and jobs/calls/values tied together.
 */
import type {
  AnyRecord,
  CallNodeRecord,
  ExecutionRecord,
  JobRecord,
  JsonValue,
  TagRecord,
  TaskRecord,
} from "redun-edge";
import {
  argsHash,
  callNodeHash,
  makeTag,
  makeValueRecord,
  taskHash,
} from "redun-edge/adapter-kit";

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface Dataset {
  records: AnyRecord[];
  executions: ExecutionRecord[];
  jobs: JobRecord[];
  tasks: TaskRecord[];
  /** Tag edits written after `records` (updates, deletes), so children come later. */
  edits: TagRecord[];
}

const USERS = ["alice", "bob", "carol", "dave", "erin"];
const T0 = Date.UTC(2026, 0, 1);

/**
 * `executions` runs of a two-level workflow: a root job and `fanout` children
 * per execution, each with its CallNode and result Value.
 */
export function buildDataset(executions: number, fanout = 3, seed = 1): Dataset {
  const random = rng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const tasks: TaskRecord[] = ["root", "step", "other"].map((name, i) => ({
    type: "Task", id: taskHash(i === 2 ? "" : "wf", name, null, `def ${name}()`), time: T0,
    name, namespace: i === 2 ? "" : "wf", source: `def ${name}()`, version: null,
  }));
  const records: AnyRecord[] = [...tasks];
  const execs: ExecutionRecord[] = [];
  const jobs: JobRecord[] = [];
  const edits: TagRecord[] = [];
  let time = T0;
  for (let e = 0; e < executions; e++) {
    time += 1 + Math.floor(random() * 3); // ties happen: several records share a time
    const execId = uuidFrom(random);
    const rootId = uuidFrom(random);
    const status: ExecutionRecord["status"] = random() < 0.1 ? "FAILED" : random() < 0.05 ? "RUNNING" : "DONE";
    const exec: ExecutionRecord = {
      type: "Execution", id: execId, time, rootJobId: rootId, argv: ["run", "wf.ts", `${e}`],
      startTime: time, endTime: status === "RUNNING" ? null : time + 10, status,
    };
    const childCalls: string[] = [];
    const childJobs: JobRecord[] = [];
    for (let c = 0; c < fanout; c++) {
      const task = pick(tasks.slice(1));
      const arg = makeValueRecord(Math.floor(random() * 50), time);
      const result = makeValueRecord(Math.floor(random() * 200), time);
      const args = [{ key: "0", valueHash: arg.id }];
      const ah = argsHash(args);
      const call: CallNodeRecord = {
        type: "CallNode", id: callNodeHash(task.id, ah, result.id, []), time, taskHash: task.id,
        argsHash: ah, args, resultHash: result.id, children: [],
      };
      const jobStatus: JobRecord["status"] = random() < 0.2 ? "CACHED" : random() < 0.05 ? "FAILED" : "DONE";
      const job: JobRecord = {
        type: "Job", id: uuidFrom(random), time: time + c, executionId: execId, parentId: rootId, taskHash: task.id,
        callHash: jobStatus === "FAILED" ? null : call.id, startTime: time + c, endTime: time + c + 1,
        status: jobStatus, error: jobStatus === "FAILED" ? "boom" : null,
      };
      childCalls.push(call.id);
      childJobs.push(job);
      records.push(arg, result, call, job);
      records.push(makeTag("Job", job.id, "kind", task.name, [], time));
    }
    const rootResult = makeValueRecord(e, time);
    const rootArgs = [{ key: "0", valueHash: rootResult.id }];
    const rootAh = argsHash(rootArgs);
    const rootCall: CallNodeRecord = {
      type: "CallNode", id: callNodeHash(tasks[0]!.id, rootAh, rootResult.id, childCalls), time, taskHash: tasks[0]!.id,
      argsHash: rootAh, args: rootArgs, resultHash: rootResult.id, children: childCalls,
    };
    const root: JobRecord = {
      type: "Job", id: rootId, time, executionId: execId, parentId: null, taskHash: tasks[0]!.id, callHash: rootCall.id,
      startTime: time, endTime: time + 10, status: "DONE", error: null,
    };
    records.push(rootResult, rootCall, root, exec);
    execs.push(exec);
    jobs.push(root, ...childJobs);
    const tags: [string, JsonValue][] = [
      ["project", "redun"],
      ["user", pick(USERS)],
      ["run", e],
      ["cost", Math.round(random() * 100) / 10],
    ];
    if (random() < 0.3) tags.push(["env", pick(["dev", "prod"])]);
    const made = tags.map(([k, v]) => makeTag("Execution", execId, k, v, [], time));
    records.push(...made);
    // Edits: some cost tags updated, some env tags removed.
    const cost = made[3]!;
    if (random() < 0.2) edits.push(makeTag("Execution", execId, "cost", 0, [cost.id], time + 1));
    const env = made[4];
    if (env && random() < 0.3) edits.push(makeTag(null, null, "", null, [env.id], time + 1));
  }
  return { records, executions: execs, jobs, tasks, edits };
}
