/**
 * The IndexedDB adapter against the memory reference on random histories:
 * records arrive in random batches and orders (tags before their entities and
 * parents, mutable records re-written, stale RUNNING versions), then random
 * queries, paged to the end, and every read must give the same answer.
 */
import { describe, expect, it } from "vitest";
import {
  ENTITY_TYPES,
  type AnyRecord,
  type CallNodeRecord,
  type EntityType,
  type ExecutionRecord,
  type JobRecord,
  type JsonValue,
  type Query,
  type RecordType,
  type Repository,
  type TagRecord,
  type TaskRecord,
} from "redun-edge";
import { makeTag, makeValueRecord, normalizeQuery } from "redun-edge/adapter-kit";
import { createMemoryRepository } from "redun-edge/memory";
import { createIndexedDbRepository } from "redun-edge/indexeddb";

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}

type Rng = ReturnType<typeof rng>;

const hex = (r: Rng, n: number) => Array.from({ length: n }, () => "0123456789abcdef"[r.int(16)]).join("");
const uuidOf = (r: Rng) => `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-8${hex(r, 3)}-${hex(r, 12)}`;

const KEYS = ["user", "env", "cost", "flag"];
const VALUES: JsonValue[] = [1, "1", 3.2, true, "true", null, ["a"], { x: 1 }, "alice", "bob"];

interface History {
  batches: AnyRecord[][];
  execIds: string[];
  entities: { type: EntityType; id: string }[];
  tagIds: string[];
}

/** A random history, cut into batches written in order. */
function history(r: Rng): History {
  const T0 = 1_700_000_000_000;
  const time = () => T0 + r.int(40); // few distinct times: many ties broken by id
  const tasks: TaskRecord[] = ["add", "mul", "sum"].map((name, i) => ({
    type: "Task", id: hex(r, 40), time: time(), name, namespace: i === 2 ? "" : "math", source: `src ${name}`, version: null,
  }));
  const records: AnyRecord[] = [...tasks];
  const late: AnyRecord[] = [];
  const execIds: string[] = [];
  const entities: { type: EntityType; id: string }[] = tasks.map((t) => ({ type: "Task", id: t.id }));
  for (let e = 0; e < 25; e++) {
    const t = time();
    const exec: ExecutionRecord = {
      type: "Execution", id: uuidOf(r), time: t, rootJobId: "", argv: ["run"], startTime: t, endTime: null, status: "RUNNING",
    };
    execIds.push(exec.id);
    entities.push({ type: "Execution", id: exec.id });
    const jobs: JobRecord[] = [];
    for (let j = 0; j < 1 + r.int(6); j++) {
      const task = r.pick(tasks);
      const value = makeValueRecord(r.int(8), time());
      const call: CallNodeRecord = {
        type: "CallNode", id: hex(r, 40), time: time(), taskHash: task.id, argsHash: hex(r, 40), args: [], resultHash: value.id, children: [],
      };
      const jt = time();
      const job: JobRecord = {
        type: "Job", id: uuidOf(r), time: jt, executionId: exec.id, parentId: jobs[0]?.id ?? null, taskHash: task.id,
        callHash: null, startTime: jt, endTime: null, status: "RUNNING", error: null,
      };
      jobs.push(job);
      entities.push({ type: "Job", id: job.id }, { type: "CallNode", id: call.id }, { type: "Value", id: value.id });
      const status = r.pick(["DONE", "CACHED", "FAILED"] as const);
      const done: JobRecord = { ...job, status, callHash: status === "FAILED" ? null : call.id, endTime: jt + 1 };
      records.push(value, call, job);
      (r.chance(0.5) ? late : records).push(done);
      if (r.chance(0.2)) late.push(job); // a stale RUNNING version arriving after the finished one
      if (r.chance(0.3)) records.push({ type: "Evaluation", id: hex(r, 40), time: time(), taskHash: task.id, argsHash: call.argsHash, valueHash: value.id, callHash: call.id, jobTags: [] });
    }
    exec.rootJobId = jobs[0]!.id;
    records.push(exec);
    const finished: ExecutionRecord = { ...exec, status: r.chance(0.8) ? "DONE" : "FAILED", endTime: exec.time + 9 };
    (r.chance(0.6) ? late : records).push(finished);
    if (r.chance(0.2)) late.push(exec);
  }
  // Tags, with edits: updates naming current tags as parents, deletes, re-adds.
  const tags: TagRecord[] = [];
  const current = new Map<string, TagRecord[]>();
  for (let i = 0; i < 160; i++) {
    // Some tags name entities that never arrive.
    const ent = r.chance(0.05) ? { type: "Execution" as const, id: uuidOf(r) } : r.pick(entities);
    const cur = current.get(ent.id) ?? [];
    const key = r.pick(KEYS);
    const op = r.int(10);
    let tag: TagRecord;
    if (op < 6 || cur.length === 0) tag = makeTag(ent.type, ent.id, key, r.pick(VALUES), [], time());
    else if (op < 9) {
      const parents = cur.filter((t) => t.key === cur[0]!.key).map((t) => t.id);
      tag = makeTag(ent.type, ent.id, cur[0]!.key, r.pick(VALUES), parents, time());
    } else tag = makeTag(null, null, "", null, [cur[0]!.id], time());
    if (tags.some((t) => t.id === tag.id)) continue;
    tags.push(tag);
    const parents = new Set(tag.parents);
    const left = cur.filter((t) => !parents.has(t.id));
    current.set(ent.id, tag.entityId ? [...left, tag] : left);
  }
  // Shuffle everything but keep a finished mutable version after its first version in most cases.
  const all = [...records, ...tags];
  for (let i = all.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  all.push(...late);
  const batches: AnyRecord[][] = [];
  for (let i = 0; i < all.length; ) {
    const n = 1 + r.int(r.chance(0.3) ? 80 : 8);
    batches.push(all.slice(i, i + n));
    i += n;
  }
  return { batches, execIds, entities, tagIds: tags.map((t) => t.id) };
}

function randomQuery(r: Rng, h: History, taskNames: string[]): Query {
  const q: Query = {};
  const filter = (): [string] | [string, JsonValue] => (r.chance(0.3) ? [r.pick(KEYS)] : [r.pick(KEYS), r.pick(VALUES)]);
  if (r.chance(0.6)) q.types = [...new Set(Array.from({ length: 1 + r.int(2) }, () => r.pick(["Execution", "Job", "CallNode", "Task", "Value"] as EntityType[])))];
  if (r.chance(0.5)) q.tags = Array.from({ length: 1 + r.int(2) }, filter);
  if (r.chance(0.2)) q.execTags = [filter()];
  if (r.chance(0.15)) q.execStatus = [r.pick(["RUNNING", "DONE", "FAILED"] as const)];
  if (r.chance(0.15)) q.jobStatus = [r.pick(["RUNNING", "DONE", "CACHED", "FAILED"] as const)];
  if (r.chance(0.15)) q.taskNames = [r.pick(taskNames)];
  if (r.chance(0.1)) q.execIds = [r.pick(h.execIds), r.pick(h.execIds)];
  if (r.chance(0.1)) q.idPrefix = hex(r, 1 + r.int(4));
  q.limit = r.pick([1, 3, 7, 50]);
  return q;
}

async function allPages(repo: Repository, query: Query): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const page = await repo.query(normalizeQuery({ ...query, cursor }));
    pages.push(page.refs.map((x) => `${x.type}:${x.id}`));
    cursor = page.cursor;
  } while (cursor && pages.length < 500);
  return pages;
}

const byJson = (a: unknown, b: unknown) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
const TYPES: RecordType[] = ["Execution", "Job", "CallNode", "Task", "Value", "Tag", "Evaluation"];

export function runDifferential(name: string, factory?: IDBFactory, seeds = [1, 2, 3, 4, 5, 6]): void {
  describe(`${name} = memory reference on random histories`, () => {
    for (const seed of seeds) {
      it(`seed ${seed}`, async () => {
        const r = rng(seed);
        const h = history(r);
        const memory = createMemoryRepository();
        const dbName = `diff-${seed}-${Math.random()}`;
        // Two connections to one database, as two tabs: writes alternate between them.
        const idb = createIndexedDbRepository({ name: dbName, ...(factory ? { indexedDB: factory } : {}) });
        const other = createIndexedDbRepository({ name: dbName, ...(factory ? { indexedDB: factory } : {}) });
        try {
          for (const [i, batch] of h.batches.entries()) {
            await memory.write(batch);
            await (i % 3 === 2 ? other : idb).write(batch);
          }
          // Writing everything again changes nothing.
          for (const batch of h.batches.slice(0, 5)) await idb.write(batch);

          for (const type of TYPES) {
            const ids = [...memory.raw.get(type)!.keys()];
            const got = await idb.get(type, [...ids, "f".repeat(40)]);
            expect(got.sort(byJson), type).toEqual((await memory.get(type, ids)).sort(byJson));
          }
          const taskNames = ["add", "math.add", "sum", "mul", "math.sum", "nope"];
          for (let i = 0; i < 150; i++) {
            const query = randomQuery(r, h, taskNames);
            expect(await allPages(idb, query), JSON.stringify(query)).toEqual(await allPages(memory, query));
          }
          for (const prefix of ["", "a", "0", "4", "ab", hex(r, 2), hex(r, 3)]) {
            for (const types of [TYPES, ENTITY_TYPES, ["Job", "Tag"] as RecordType[], ["Evaluation"] as RecordType[]]) {
              expect(await idb.findByPrefix([prefix, "e"], types, 17), prefix).toEqual(await memory.findByPrefix([prefix, "e"], types, 17));
            }
          }
          const entityIds = h.entities.map((e) => e.id);
          expect((await idb.currentTags(entityIds)).sort(byJson)).toEqual((await memory.currentTags(entityIds)).sort(byJson));
          expect((await idb.tagChildren(h.tagIds)).sort(byJson)).toEqual((await memory.tagChildren(h.tagIds)).sort(byJson));
          for (const values of [false, true]) {
            for (const keys of [undefined, ["user"], ["flag", "cost"]]) {
              const q = { values, ...(keys ? { keys } : {}) };
              expect((await idb.countTags(q)).sort(byJson), JSON.stringify(q)).toEqual((await memory.countTags(q)).sort(byJson));
            }
          }
          for (const id of h.execIds) expect(await idb.jobsOfExecution(id)).toEqual(await memory.jobsOfExecution(id));

          // Export in small pages gives every stored record once, in its latest version.
          const exported: AnyRecord[] = [];
          let cursor: string | null = null;
          for (let guard = 0; guard < 10_000; guard++) {
            const page = await idb.exportSince(cursor, 1 + r.int(9));
            exported.push(...page.records);
            cursor = page.cursor;
            if (page.done) break;
          }
          const stored = TYPES.flatMap((t) => [...memory.raw.get(t)!.values()]);
          expect(exported.sort(byJson)).toEqual(stored.sort(byJson));
          expect((await idb.exportSince(cursor, 5)).records).toEqual([]);
        } finally {
          await idb.close();
          await other.close();
        }
      });
    }
  });
}
