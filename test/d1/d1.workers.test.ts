/**
 * D1-specific tests, beyond the shared conformance suite: the adapter agrees
 * with the memory reference on generated data under every planner, tag
 * currency holds across chunks and arrival orders, writes stay atomic when
 * D1 itself refuses a statement, D1's size limits, export paging, and the
 * query plans of the hot queries stay free of full scans.
 */
import { beforeEach, describe, expect, it } from "vitest";
import {
  ENTITY_TYPES,
  RepositoryError,
  type AnyRecord,
  type CallNodeRecord,
  type ExecutionRecord,
  type JobRecord,
  type Query,
  type RecordType,
  type Repository,
  type TagRecord,
  copyRecords,
  importRecords,
} from "redun-edge";
import {
  argsHash,
  callNodeHash,
  canonicalJson,
  makeTag,
  makeValueRecord,
  normalizeQuery,
  type RecordContext,
} from "redun-edge/adapter-kit";
import { createMemoryRepository } from "redun-edge/memory";
import { createD1Repository, type D1Like, type D1Repository, type D1Statement, type Planner } from "redun-edge/d1";
import { buildDataset, rng, uuidFrom } from "./fixtures.ts";
import { db, emptyDatabase, rawIds } from "./harness.ts";

const T0 = Date.UTC(2026, 0, 1);
const TYPES: RecordType[] = ["Execution", "Job", "CallNode", "Task", "Value", "Tag", "Evaluation"];
const raw = rawIds(db);

function execution(id: string, time: number, status: ExecutionRecord["status"] = "DONE"): ExecutionRecord {
  return { type: "Execution", id, time, rootJobId: uuidFrom(rng(time)), argv: ["run"], startTime: time, endTime: time + 1, status };
}

async function allIds(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const type of TYPES) out[type] = (await raw(type)).sort();
  return out;
}

async function exportAll(repo: Repository, pageSize: number): Promise<{ records: AnyRecord[]; pages: number }> {
  const records: AnyRecord[] = [];
  let cursor: string | null = null;
  let pages = 0;
  for (;;) {
    const page = await repo.exportSince(cursor, pageSize);
    records.push(...page.records);
    cursor = page.cursor;
    pages += 1;
    if (page.done) break;
  }
  return { records, pages };
}

/**
 * The tag indexes each write batch fills in sorted sets (migration 0005) agree
 * with the tags table: tag_kv holds exactly the current tags of stored
 * entities (entity_time set), tag_ids every tag.
 */
async function expectTagIndexesMatchTags(): Promise<void> {
  const rows = async (sql: string) => (await db.prepare(sql).all()).results;
  const kv = "key, value_json, entity_type, entity_time, entity_id, seq";
  expect(await rows(`SELECT ${kv} FROM tag_kv ORDER BY seq`), "tag_kv").toEqual(
    await rows(`SELECT ${kv} FROM tags WHERE current = 1 AND entity_time IS NOT NULL ORDER BY seq`),
  );
  expect(await rows("SELECT prefix, seq FROM tag_ids ORDER BY seq"), "tag_ids").toEqual(await rows("SELECT substr(id, 1, 8) AS prefix, seq FROM tags ORDER BY seq"));
}

let repo: D1Repository;
beforeEach(async () => {
  await emptyDatabase();
  repo = createD1Repository(db);
});

describe("D1 adapter against the memory reference", () => {
  const data = buildDataset(150, 3, 42);
  // Writes in uneven batches, tag edits (children) before some of their parents.
  const batches: AnyRecord[][] = [];
  {
    const random = rng(5);
    const all = [...data.records];
    const late = new Set(data.edits.flatMap((e) => e.parents));
    const parents = all.filter((r) => r.type === "Tag" && late.has(r.id));
    const rest = all.filter((r) => !(r.type === "Tag" && late.has(r.id)));
    for (let i = 0; i < rest.length; ) {
      const n = 1 + Math.floor(random() * 400);
      batches.push(rest.slice(i, i + n));
      i += n;
    }
    batches.push(data.edits.slice(0, data.edits.length / 2));
    batches.push(parents);
    batches.push(data.edits.slice(data.edits.length / 2));
  }

  const queries: Query[] = [
    {},
    { limit: 7 },
    { tags: [["user", "alice"]] },
    { tags: [["project", "redun"]], limit: 13 },
    { tags: [["env"]] },
    { tags: [["env", "prod"]] },
    { tags: [["cost", 0]] },
    { tags: [["run", 17]] },
    { tags: [["user", "bob"], ["env", "dev"]] },
    { tags: [["user", "nobody"]] },
    { types: ["Job"], tags: [["kind", "step"]], limit: 20 },
    { types: ["Job", "Execution"], limit: 30 },
    { types: ["Job", "CallNode", "Value", "Task", "Execution"], limit: 50 },
    { types: ["Job"], execTags: [["user", "carol"]], limit: 25 },
    { types: ["Job"], execTags: [["run", 3]] },
    { types: ["CallNode"], execTags: [["user", "dave"]], limit: 40 },
    { types: ["Value"], execTags: [["run", 9]] },
    { types: ["Value"], execTags: [["user", "erin"]], limit: 1000 },
    { types: ["Task"], execStatus: ["FAILED"] },
    { types: ["Execution"], execStatus: ["FAILED", "RUNNING"] },
    { execStatus: ["DONE"], tags: [["env", "dev"]] },
    { types: ["Job"], jobStatus: ["CACHED"], limit: 15 },
    { types: ["Job"], jobStatus: ["FAILED", "RUNNING"] },
    { types: ["Job", "Execution"], jobStatus: ["FAILED"] },
    { types: ["Job"], taskNames: ["step"], limit: 30 },
    { types: ["CallNode", "Task", "Value"], taskNames: ["wf.root"], limit: 30 },
    { types: ["Task", "Job"], taskNames: ["other"], limit: 30 },
    { taskNames: ["wf.root"] },
    { idPrefix: "a" },
    { types: ["Job", "CallNode", "Value"], idPrefix: "3", limit: 1000 },
  ];

  for (const planner of ["cost", "walk", "drive"] as Planner[]) {
    it(`answers queries as the reference does (planner: ${planner})`, async () => {
      const d1 = createD1Repository(db, { planner });
      const memory = createMemoryRepository();
      for (const batch of batches) {
        await d1.write(batch);
        await memory.write(batch);
      }
      await expectTagIndexesMatchTags();
      const execIds = data.executions.slice(0, 5).map((e) => e.id);
      const all = [...queries, { types: ["Job", "Value"], execIds, limit: 1000 } as Query, { execIds }];
      for (const raw of all) {
        const q = normalizeQuery(raw);
        const [got, want] = [await d1.query(q), await memory.query(q)];
        expect(got, JSON.stringify(raw)).toEqual(want);
        // And page through the same results.
        if (want.cursor) {
          const next = normalizeQuery({ ...raw, cursor: want.cursor });
          expect(await d1.query(next), `${JSON.stringify(raw)} page 2`).toEqual(await memory.query(next));
        }
      }
      const sortCounts = (rows: { key: string; count: number }[]) => [...rows].sort((a, b) => (canonicalJson(a) < canonicalJson(b) ? -1 : 1));
      for (const cq of [{ values: false }, { values: true }, { values: true, keys: ["user", "cost"] }, { values: false, keys: ["kind"] }]) {
        expect(sortCounts(await d1.countTags(cq)), JSON.stringify(cq)).toEqual(sortCounts(await memory.countTags(cq)));
      }
      const entityIds = [...data.executions.slice(0, 20).map((e) => e.id), ...data.jobs.slice(0, 20).map((j) => j.id)];
      const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1);
      expect((await d1.currentTags(entityIds)).sort(byId)).toEqual((await memory.currentTags(entityIds)).sort(byId));
      const parents = data.edits.flatMap((e) => e.parents);
      expect((await d1.tagChildren(parents)).sort(byId)).toEqual((await memory.tagChildren(parents)).sort(byId));
      for (const prefix of ["", "0", "ab", data.executions[3]!.id.slice(0, 9)]) {
        for (const types of [TYPES, ENTITY_TYPES, ["Execution", "Tag"] as RecordType[]]) {
          expect(await d1.findByPrefix([prefix, "f"], types, 25)).toEqual(await memory.findByPrefix([prefix, "f"], types, 25));
        }
      }
      const exec = data.executions[7]!.id;
      expect(await d1.jobsOfExecution(exec)).toEqual(await memory.jobsOfExecution(exec));
      for (const type of TYPES) {
        const ids = (await raw(type)).slice(0, 50);
        expect((await d1.get(type, ids)).sort(byId)).toEqual((await memory.get(type, ids)).sort(byId));
      }
      const key = (r: AnyRecord) => `${r.type}:${r.id}`;
      const exported = (await exportAll(d1, 333)).records.sort((a, b) => (key(a) < key(b) ? -1 : 1));
      const reference = (await exportAll(memory, 1000)).records.sort((a, b) => (key(a) < key(b) ? -1 : 1));
      expect(exported).toEqual(reference);
    }, 120_000);
  }
});

describe("tag currency", () => {
  const target = "00000000-0000-4000-a000-000000000001";
  const root = makeTag("Execution", target, "k", 1, [], T0);
  const child = makeTag("Execution", target, "k", 2, [root.id], T0 + 1);
  const grandchild = makeTag(null, null, "", null, [child.id], T0 + 2);

  it("is the same whatever the order within one batch", async () => {
    for (const order of [[root, child, grandchild], [grandchild, child, root], [child, root, grandchild]]) {
      await emptyDatabase();
      await repo.write([execution(target, T0), ...order]);
      expect(await repo.currentTags([target])).toEqual([]);
      expect((await repo.tagChildren([root.id])).map((t) => t.id)).toEqual([child.id]);
      expect(await repo.countTags({ values: false })).toEqual([]);
      await expectTagIndexesMatchTags();
    }
  });

  it("holds when a parent goes in chunks before its child, and for a tag listed twice", async () => {
    // Parents first: a child's chunk cannot find its parent through tag_ids (filled at the batch's end),
    // so the batch's end takes the parent's currency away. A tag listed again after its child goes in once.
    const roots = Array.from({ length: 300 }, (_, i) => makeTag("Execution", target, `key-${i}`, { text: "x".repeat(100), i }, [], T0));
    const children = roots.map((r, i) => makeTag("Execution", target, `key-${i}`, i, [r.id], T0 + 1));
    const small = createD1Repository(db, { chunkBytes: 5_000 });
    await small.write([execution(target, T0), ...roots, ...children, roots[0]!, ...roots.slice(-3)]);
    expect((await db.prepare("SELECT count(*) AS n FROM tags").first<{ n: number }>())!.n).toBe(600);
    expect((await repo.currentTags([target])).map((t) => t.id).sort()).toEqual(children.map((t) => t.id).sort());
    const ids = async (q: Query) => (await repo.query(normalizeQuery(q))).refs.map((r) => r.id);
    expect(await ids({ tags: [["key-0", roots[0]!.value]] })).toEqual([]);
    expect(await ids({ tags: [["key-299", 299]] })).toEqual([target]);
    expect(await repo.countTags({ values: true, keys: ["key-0"] })).toEqual([{ key: "key-0", value: 0, entityType: "Execution", count: 1 }]);
    await expectTagIndexesMatchTags();
    // Pushed again, whole: nothing changes.
    await small.write([execution(target, T0), ...roots, ...children]);
    expect((await db.prepare("SELECT count(*) AS n FROM tags").first<{ n: number }>())!.n).toBe(600);
    await expectTagIndexesMatchTags();
  });

  it("holds when a parent and its child land in different chunks of one write", async () => {
    // Enough tags for several JSON chunks, children first, their parents last.
    const roots: TagRecord[] = [];
    const children: TagRecord[] = [];
    for (let i = 0; i < 1500; i++) {
      const r = makeTag("Execution", target, `key-${i}`, { text: "x".repeat(100), i }, [], T0);
      roots.push(r);
      children.push(makeTag("Execution", target, `key-${i}`, i, [r.id], T0 + 1));
    }
    const bytes = JSON.stringify([...children, ...roots]).length;
    const chunkBytes = 90_000;
    expect(bytes).toBeGreaterThan(3 * chunkBytes);
    await createD1Repository(db, { chunkBytes }).write([execution(target, T0), ...children, ...roots]);
    const current = await repo.currentTags([target]);
    expect(current.map((t) => t.id).sort()).toEqual(children.map((t) => t.id).sort());
    const byKey = await repo.countTags({ values: false });
    expect(byKey).toHaveLength(1500);
    expect(byKey.every((row) => row.count === 1 && row.entityType === "Execution")).toBe(true);
    const counts = await repo.countTags({ values: true, keys: ["key-7"] });
    expect(counts).toEqual([{ key: "key-7", value: 7, entityType: "Execution", count: 1 }]);
    await expectTagIndexesMatchTags();
  });

  it("holds when an entity's tags lie apart in a write, and across chunks", async () => {
    // Tags go in as runs of one entity's adjacent tags: A's tags in two runs around B's, in chunks of a few runs.
    const a = execution("00000000-0000-4000-a000-0000000000a1", T0 + 3);
    const b = execution("00000000-0000-4000-a000-0000000000b1", T0 + 4);
    const tagsOf = (e: string, from: number) => Array.from({ length: 20 }, (_, i) => makeTag("Execution", e, `k${from + i}`, "v".repeat(50), [], T0));
    const [a1, bTags, a2] = [tagsOf(a.id, 0), tagsOf(b.id, 0), tagsOf(a.id, 20)];
    const edit = makeTag("Execution", a.id, "k0", "edited", [a1[0]!.id], T0 + 5);
    await createD1Repository(db, { chunkBytes: 3_000 }).write([a, b, ...a1, ...bTags, edit, ...a2]);
    const rows = await db.prepare("SELECT entity_id, count(*) AS n, min(entity_time) AS lo, max(entity_time) AS hi, sum(current) AS cur FROM tags GROUP BY entity_id ORDER BY entity_id").all();
    expect(rows.results).toEqual([
      { entity_id: a.id, n: 41, lo: T0 + 3, hi: T0 + 3, cur: 40 },
      { entity_id: b.id, n: 20, lo: T0 + 4, hi: T0 + 4, cur: 20 },
    ]);
    expect((await repo.currentTags([a.id])).find((t) => t.key === "k0")!.value).toBe("edited");
    await expectTagIndexesMatchTags();
  });

  it("holds when the write is split into several D1 batches", async () => {
    const small = createD1Repository(db, { maxBatchStatements: 2 });
    const tags = Array.from({ length: 400 }, (_, i) => makeTag("Execution", target, "n", { i, pad: "y".repeat(400) }, [], T0));
    const updates = tags.map((t, i) => makeTag("Execution", target, "n", i, [t.id], T0 + 1));
    await small.write([...updates, ...tags]);
    expect((await small.currentTags([target])).length).toBe(400);
    expect(await small.countTags({ values: false })).toEqual([{ key: "n", entityType: "Execution", count: 400 }]);
    const { records } = await exportAll(small, 1000);
    expect(records).toHaveLength(800);
    await expectTagIndexesMatchTags();
  });

  it("matches tag values by JSON equality, key order and number form included", async () => {
    const e = execution("00000000-0000-4000-a000-000000000002", T0);
    await repo.write([e, makeTag("Execution", e.id, "cfg", { b: [1, 2], a: 2.5 }, [], T0), makeTag("Execution", e.id, "n", 10, [], T0)]);
    const ids = async (q: Query) => (await repo.query(normalizeQuery(q))).refs.map((r) => r.id);
    expect(await ids({ tags: [["cfg", { a: 2.5, b: [1, 2] }]] })).toEqual([e.id]);
    expect(await ids({ tags: [["n", 10.0]] })).toEqual([e.id]);
    expect(await ids({ tags: [["n", 1e1]] })).toEqual([e.id]);
    expect(await ids({ tags: [["n", "10"]] })).toEqual([]);
  });
});

describe("tags by their entity's time (migration 0003)", () => {
  it("finds a tag stored before its entity once the entity arrives, follows a rewritten time, and stores a second push of it once", async () => {
    const e = execution("00000000-0000-4000-a000-0000000000e1", T0 + 50, "RUNNING");
    const older = execution("00000000-0000-4000-a000-0000000000e2", T0 + 10);
    const tags = [makeTag("Execution", e.id, "user", "ann", [], T0), makeTag("Execution", e.id, "user", "bo", [], T0)];
    const ids = async (q: Query) => (await repo.query(normalizeQuery(q))).refs.map((r) => r.id);
    const tagRows = async () => (await db.prepare("SELECT entity_time FROM tags ORDER BY seq").all<{ entity_time: number | null }>()).results;

    // Tags alone: stored without a time, read by entity id all the same; no query matches an absent entity.
    await repo.write(tags);
    expect(await tagRows()).toEqual([{ entity_time: null }, { entity_time: null }]);
    expect((await repo.currentTags([e.id])).map((t) => t.value)).toEqual(["ann", "bo"]);
    expect(await ids({ tags: [["user", "ann"]] })).toEqual([]);
    await repo.write(tags);
    expect(await tagRows()).toHaveLength(2);
    await expectTagIndexesMatchTags();

    // The entity arrives: its tags take its time, and queries find it, once (two values of the key).
    await repo.write([e, older, makeTag("Execution", older.id, "user", "ann", [], T0)]);
    expect(await tagRows()).toEqual([{ entity_time: T0 + 50 }, { entity_time: T0 + 50 }, { entity_time: T0 + 10 }]);
    expect(await ids({ tags: [["user", "ann"]] })).toEqual([e.id, older.id]);
    expect(await ids({ tags: [["user"]] })).toEqual([e.id, older.id]);
    await repo.write(tags);
    expect(await tagRows()).toHaveLength(3);
    await expectTagIndexesMatchTags();

    // Its time rewritten (an upsert of a finished run): the tags move with it, and the order follows.
    await repo.write([{ ...e, time: T0 + 5, status: "DONE" }]);
    expect(await tagRows()).toEqual([{ entity_time: T0 + 5 }, { entity_time: T0 + 5 }, { entity_time: T0 + 10 }]);
    expect(await ids({ tags: [["user"]] })).toEqual([older.id, e.id]);
    expect(await ids({ tags: [["user", "bo"]] })).toEqual([e.id]);
    const log = await repo.queryContext(normalizeQuery({ tags: [["user", "ann"]] }));
    expect(log.context.tags.filter((t) => t.entityId === e.id).map((t) => t.value)).toEqual(["ann", "bo"]);
    await repo.write(tags);
    expect(await tagRows()).toHaveLength(3);
    await expectTagIndexesMatchTags();
    // A tag of the stored entity replaced in a later write leaves tag_kv.
    await repo.write([makeTag("Execution", e.id, "user", "cy", [tags[0]!.id], T0 + 1)]);
    expect(await ids({ tags: [["user", "ann"]] })).toEqual([older.id]);
    expect(await ids({ tags: [["user", "cy"]] })).toEqual([e.id]);
    await expectTagIndexesMatchTags();
  });

  it("reads tags by id through tag_ids: get, children, prefixes shorter and longer than its key", async () => {
    const e = execution("00000000-0000-4000-a000-0000000000e3", T0);
    const tags = Array.from({ length: 300 }, (_, i) => makeTag("Execution", e.id, "n", i, [], T0));
    const child = makeTag("Execution", e.id, "n", -1, [tags[7]!.id], T0 + 1);
    await repo.write([e, ...tags, child]);
    const some = [tags[0]!, tags[150]!, tags[299]!];
    expect((await repo.get("Tag", some.map((t) => t.id))).sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual([...some].sort((a, b) => (a.id < b.id ? -1 : 1)));
    expect(await repo.tagChildren([tags[7]!.id])).toEqual([child]);
    for (const prefix of [1, 2, 6, 8, 9, 40].map((n) => tags[3]!.id.slice(0, n))) {
      const want = [...tags, child].map((t) => t.id).filter((id) => id.startsWith(prefix)).sort();
      expect((await repo.findByPrefix([prefix], ["Tag"], 1000))[0]!.map((r) => r.id), prefix).toEqual(want);
    }
  });
});

describe("current tags", () => {
  it("come back whole and in (entity, time, id) order, also when an entity's tags pass D1's per-string limit", async () => {
    // Read as one JSON aggregate per entity of its short tags, and its long ones as rows (an aggregate past
    // 2 MB is refused by D1; past ~15 MB the local D1 runs out of memory); when D1 still refuses an
    // aggregate, the read falls back to rows.
    const a = execution("00000000-0000-4000-a000-00000000000a", T0);
    const b = execution("00000000-0000-4000-a000-00000000000b", T0);
    const small = [makeTag("Execution", b.id, "k", { n: 1.5, s: "\u00e9\"\n" }, [], T0 + 2), makeTag("Execution", b.id, "j", [null, true], [], T0 + 1)];
    const replaced = makeTag("Execution", b.id, "old", 1, [], T0);
    // Each value is 64 KB of JSON (at the tag value limit, MAX_TAG_VALUE_BYTES), 128 KB once quoted in the
    // aggregate: 5 MB for the entity.
    const big = Array.from({ length: 40 }, (_, i) => makeTag("Execution", a.id, `big-${i}`, "\"".repeat(32_000), [], T0 + 3 - i));
    await repo.write([a, b, ...small, replaced, makeTag("Execution", b.id, "old", 2, [replaced.id], T0 + 3)]);
    for (let i = 0; i < big.length; i += 10) await repo.write(big.slice(i, i + 10));
    const onlyB = await repo.currentTags([b.id]);
    expect(onlyB.map((t) => [t.key, t.value, t.time])).toEqual([["j", [null, true], T0 + 1], ["k", { n: 1.5, s: "\u00e9\"\n" }, T0 + 2], ["old", 2, T0 + 3]]);
    expect(onlyB[2]!.parents).toEqual([replaced.id]);
    expect(onlyB[0]).toEqual(small[1]);
    // a's long tags come as rows: nothing is refused. Then D1 refuses the aggregates, as production D1 does
    // one past 2 MB: the read falls back to rows.
    for (const refuse of [false, true]) {
      let refused = 0;
      const counting = createD1Repository({
        prepare: (sql) => db.prepare(sql),
        batch: (statements) => {
          if (!refuse || refused > 0) return db.batch(statements as never);
          refused += 1;
          return Promise.reject(new Error("D1_ERROR: string or blob too big: SQLITE_TOOBIG"));
        },
      } as typeof db);
      const both = await counting.currentTags([b.id, a.id, b.id]);
      expect(refused).toBe(refuse ? 1 : 0);
      expect(both.map((t) => t.id)).toEqual([...[...big].sort((x, y) => x.time - y.time).map((t) => t.id), ...onlyB.map((t) => t.id)]);
      expect(both[0]).toEqual(big[big.length - 1]);
    }
  }, 60_000);
});

describe("record context", () => {
  /**
   * A D1 that records the statements it refuses; with `tooBig`, it refuses a context statement as
   * production D1 does one whose answer passes 2 MB (the local limit is far higher).
   */
  function refusing(tooBig = false): { repo: D1Repository; refused: string[] } {
    const refused: string[] = [];
    const wrap = (statement: D1Statement, sql: string): D1Statement & { inner: D1Statement } => ({
      inner: statement,
      bind: (...values: unknown[]) => wrap(statement.bind(...values), sql),
      first: () => statement.first(),
      run: () => statement.run(),
      all: () => {
        const result = tooBig && sql.includes("AS context")
          ? Promise.reject(new Error("D1_ERROR: string or blob too big: SQLITE_TOOBIG"))
          : statement.all();
        return result.catch((error: unknown) => { refused.push(String(error)); throw error; }) as never;
      },
    });
    const repo = createD1Repository({
      prepare: (sql: string) => wrap(db.prepare(sql) as unknown as D1Statement, sql),
      batch: (statements: D1Statement[]) => db.batch(statements.map((s) => (s as unknown as { inner: D1Statement }).inner) as never),
    } as D1Like);
    return { repo, refused };
  }

  it("reads long values by id after the one statement, which stays small", async () => {
    // 24 jobs, each calling with its own 0.95 MB value: inlined, 23 MB in one string would exhaust the local
    // D1's memory (production refuses strings past 2 MB). They come back as ids and are read by id.
    const e = execution("00000000-0000-4000-a000-0000000000c0", T0);
    const task = "1".repeat(40);
    const records: AnyRecord[] = [e];
    for (let i = 0; i < 24; i++) {
      const value = makeValueRecord(`${i}:`.padEnd(950_000, "v"), T0);
      const args = [{ key: "0", valueHash: value.id }];
      const call: CallNodeRecord = {
        type: "CallNode", id: callNodeHash(task, argsHash(args), value.id, []), time: T0, taskHash: task, argsHash: argsHash(args),
        args, resultHash: value.id, children: [],
      };
      const job: JobRecord = {
        type: "Job", id: uuidFrom(rng(100 + i)), time: T0 + i, executionId: e.id, parentId: null, taskHash: task, callHash: call.id,
        startTime: T0 + i, endTime: T0 + i, status: "DONE", error: null,
      };
      records.push(value, call, job, makeTag("Job", job.id, "i", i, [], T0));
    }
    records.push(makeValueRecord("short", T0));
    for (let i = 0; i < records.length; i += 8) await repo.write(records.slice(i, i + 8));
    const { repo: counting, refused } = refusing();
    const q = normalizeQuery({ types: ["Job"], limit: 30 });
    const page = await counting.queryContext(q);
    expect(refused).toEqual([]);
    expect(page.refs).toEqual((await repo.query(q)).refs);
    expect(page.refs).toHaveLength(24);
    const values = page.context.records.filter((r) => r.type === "Value");
    expect(values).toHaveLength(24);
    expect(values.every((v) => v.type === "Value" && v.encoded.length === 950_002)).toBe(true);
    expect(page.context.tags.map((t) => t.value).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 24 }, (_, i) => i));
    const context = await counting.recordContext((await repo.query(normalizeQuery({ types: ["Value"], limit: 100 }))).refs);
    expect(context.records.filter((r) => r.type === "Value").map((v) => (v.type === "Value" ? v.encoded.length : 0)).sort((a, b) => a - b))
      .toEqual([7, ...Array.from({ length: 24 }, () => 950_002)]);
  }, 120_000);

  it("reads long tag values apart, and falls back to several reads when D1 refuses the one statement", async () => {
    // Forty 64 KB tag values on one execution (5 MB inlined), and a short one.
    const e = execution("00000000-0000-4000-a000-0000000000c1", T0);
    const f = execution("00000000-0000-4000-a000-0000000000c2", T0 + 1);
    await repo.write([e, f, makeTag("Execution", f.id, "small", 2, [], T0)]);
    for (let i = 0; i < 40; i += 10) {
      await repo.write(Array.from({ length: 10 }, (_, j) => makeTag("Execution", e.id, `big-${i + j}`, "\"".repeat(32_000), [], T0)));
    }
    await repo.write([makeTag("Execution", e.id, "small", 1, [], T0)]);
    const q = normalizeQuery({ types: ["Execution"] });
    const tagsOf = (tags: RecordContext["tags"], id: string) => tags.filter((t) => t.entityId === id).map((t) => t.key).sort();
    const keys = [...Array.from({ length: 40 }, (_, i) => `big-${i}`), "small"].sort();
    for (const tooBig of [false, true]) {
      const { repo: counting, refused } = refusing(tooBig);
      const page = await counting.queryContext(q);
      expect(refused).toHaveLength(tooBig ? 1 : 0);
      expect(page.refs).toEqual([{ type: "Execution", id: f.id }, { type: "Execution", id: e.id }]);
      expect(tagsOf(page.context.tags, e.id)).toEqual(keys);
      expect(page.context.tags.find((t) => t.entityId === e.id && t.key === "big-3")!.value).toBe("\"".repeat(32_000));
      expect(page.context.tags.filter((t) => t.entityId === f.id)).toEqual([expect.objectContaining({ key: "small", value: 2 })]);
      expect(page.context.records).toContainEqual(e);
      const context = await counting.recordContext(page.refs);
      expect(refused).toHaveLength(tooBig ? 2 : 0);
      expect(tagsOf(context.tags, e.id)).toEqual(keys);
    }
  }, 120_000);
});

describe("writes", () => {
  it("are atomic when D1 refuses a statement: nothing of the batch stays", async () => {
    const e = execution("00000000-0000-4000-a000-000000000003", T0);
    // A string past the local D1's length limit (between 5 and 20 MB here; production D1 documents
    // 2 MB per string or row): D1 refuses this statement after the batch's other statements ran.
    const encoded = JSON.stringify("z".repeat(12_000_000));
    const tooBig = { ...makeValueRecord(0, T0), id: "f".repeat(40), encoded, size: encoded.length };
    const good = [e, makeTag("Execution", e.id, "k", 1, [], T0), makeValueRecord(1, T0)];
    const error = await repo.write([...good, tooBig]).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RepositoryError);
    expect((error as Error).message).toMatch(/too big|TOOBIG/);
    expect((error as RepositoryError).cause).toBeInstanceOf(Error);
    expect(await allIds()).toEqual(Object.fromEntries(TYPES.map((t) => [t, []])));
    expect(await repo.countTags({ values: false })).toEqual([]);
    expect((await repo.exportSince(null, 10)).records).toEqual([]);
  }, 60_000);

  it("store a value of up to MAX_VALUE_BYTES whole, multi-byte ones too, and a larger one as a preview", async () => {
    const ascii = makeValueRecord("a".repeat(999_990), T0);
    const accents = makeValueRecord("é".repeat(499_990), T0); // ~1 MB of UTF-8 in 0.5 M characters
    expect(accents.preview).toBe(false);
    const over = makeValueRecord("é".repeat(600_000), T0); // 1.2 MB of UTF-8: previewed by bytes
    expect(over).toMatchObject({ preview: true, size: 1_200_002 });
    await repo.write([ascii, accents, over]);
    expect((await repo.get("Value", [over.id]))[0]).toEqual(over);
    const got = await repo.get("Value", [ascii.id, accents.id]);
    expect(got.find((v) => v.id === ascii.id)).toEqual(ascii);
    expect(got.find((v) => v.id === accents.id)).toEqual(accents);
  });

  it("refuse a malformed record before writing anything, naming it", async () => {
    const bad = { ...execution("00000000-0000-4000-a000-000000000004", T0), status: "NOPE" } as unknown as AnyRecord;
    await expect(repo.write([makeValueRecord(2, T0), bad])).rejects.toThrow(/records\[1\]\.status/);
    expect(await raw("Value")).toEqual([]);
  });

  it("bump the export sequence only when an upsert changes a record", async () => {
    const e = execution("00000000-0000-4000-a000-000000000005", T0, "RUNNING");
    await repo.write([e, makeValueRecord(3, T0)]);
    const first = await repo.exportSince(null, 100);
    expect(first.records.map((r) => r.type)).toEqual(["Execution", "Value"]);
    await repo.write([e, makeValueRecord(3, T0)]); // identical: nothing changes
    expect((await repo.exportSince(first.cursor, 100)).records).toEqual([]);
    await repo.write([{ ...e, status: "DONE" }]);
    await repo.write([e]); // RUNNING never replaces DONE
    const later = await repo.exportSince(first.cursor, 100);
    expect(later.records).toEqual([{ ...e, status: "DONE" }]);
    expect((await repo.get("Execution", [e.id]))[0]!.status).toBe("DONE");
  });

  it("export large values in pages bounded by size", async () => {
    const values = Array.from({ length: 10 }, (_, i) => makeValueRecord(`${i}`.repeat(999_000), T0 + i));
    expect(values.every((v) => !v.preview)).toBe(true);
    await repo.write(values);
    const { records, pages } = await exportAll(repo, 100);
    expect(records.map((r) => r.id)).toEqual(values.map((v) => v.id));
    expect(pages).toBeGreaterThan(1);
  }, 60_000);
});

describe("export", () => {
  it("leaves out a row it cannot read back and reports it, so it never stops a pull", async () => {
    const e = execution("00000000-0000-4000-a000-000000000006", T0);
    const tags = Array.from({ length: 6 }, (_, i) => makeTag("Execution", e.id, `k${i}`, i, [], T0));
    const values = [makeValueRecord("a", T0), makeValueRecord("b", T0)];
    await repo.write([e, ...values, ...tags]);
    // Corrupt JSON in columns no CHECK guards (as an altered or damaged store may hold).
    await db.batch([
      db.prepare("UPDATE tags SET parents = '[broken' WHERE id = ?1").bind(tags[2]!.id),
      db.prepare("UPDATE value_records SET redun = '{' WHERE id = ?1").bind(values[1]!.id),
    ]);
    const good = [e, values[0]!, ...tags.filter((_, i) => i !== 2)];
    const skipped: { type: string; id: string; error: string }[] = [];
    const records: AnyRecord[] = [];
    let cursor: string | null = null;
    for (let pages = 0; ; pages++) {
      expect(pages, "pages").toBeLessThan(10);
      const page = await repo.exportSince(cursor, 3);
      records.push(...page.records);
      skipped.push(...(page.skipped ?? []));
      if (page.done) break;
      expect(page.cursor).not.toBe(cursor);
      cursor = page.cursor;
    }
    expect(records.map((r) => r.id).sort()).toEqual(good.map((r) => r.id).sort());
    expect(skipped.map((s) => [s.type, s.id]).sort()).toEqual([["Tag", tags[2]!.id], ["Value", values[1]!.id]].sort());
    expect(skipped.every((s) => /unreadable (Tag|Value) row: .*JSON/i.test(s.error))).toBe(true);
    // A whole page of clean records carries no report.
    expect((await repo.exportSince(null, 1)).skipped).toBeUndefined();
    // A pull of the damaged store into another one copies the rest.
    const memory = createMemoryRepository();
    const reported: string[] = [];
    const copied = await copyRecords(repo, { importRecords: (rs) => importRecords(memory, rs) }, { pageSize: 2, onSkip: (s) => reported.push(s.error.message) });
    expect(copied.records).toBe(good.length);
    // The pull reports what the source could not read, as it reports what the target refused.
    expect(copied.skipped).toBe(2);
    expect(reported).toHaveLength(2);
    for (const what of [`Tag ${tags[2]!.id}`, `Value ${values[1]!.id}`]) {
      expect(reported.some((m) => m.startsWith(`the source could not read ${what}: `)), what).toBe(true);
    }
    expect((await memory.exportSince(null, 100)).records.map((r) => r.id).sort()).toEqual(good.map((r) => r.id).sort());
  });
});

describe("query plans", () => {
  // json_each over a bound array or a row's JSON (a call's arguments) is a VIRTUAL TABLE scan: not a table's.
  const forbiddenScans = (lines: string[]) =>
    lines.filter((l) => /^\s*SCAN /.test(l) && !/USING (COVERING )?INDEX|json_each|VIRTUAL TABLE|CONSTANT ROW|\(subquery|SCAN plan/.test(l));

  it("keep full scans out of the hot queries and pick the shape by size", async () => {
    const data = buildDataset(400, 3, 9);
    await repo.write(data.records);
    await repo.write(data.edits);
    const cases: [Query, RegExp][] = [
      [{}, /walk/],
      [{ tags: [["run", 5]] }, /driven by tag/],
      [{ tags: [["project", "redun"]] }, /driven by tag/],
      // Key only (no index in time order since migration 0004): a key most executions carry walks and
      // probes each one's tags; a rarer one drives from its entries and sorts them.
      [{ tags: [["user"]] }, /walk/],
      [{ tags: [["env"]] }, /driven by tagKey 0/],
      [{ types: ["Execution"], execTags: [["env"]] }, /driven by execTagKey 0/],
      [{ tags: [["user", "alice"], ["project", "redun"]] }, /driven by tag 0/],
      [{ types: ["Execution"], execTags: [["run", 5]] }, /driven by execTag/],
      [{ tags: [["user", "nobody"]] }, /driven by tag/],
      [{ idPrefix: data.executions[0]!.id.slice(0, 5) }, /id prefix/],
      [{ types: ["Job"], execTags: [["run", 5]] }, /driven by exec/],
      [{ types: ["Job"], execTags: [["project", "redun"]] }, /walk/],
      [{ types: ["Value"], execTags: [["run", 5]] }, /driven by exec/],
      [{ types: ["Job"], jobStatus: ["FAILED"] }, /walk/],
      [{ types: ["Job"], taskNames: ["step"] }, /walk|driven by task/],
    ];
    for (const [raw, shape] of cases) {
      const lines = await repo.explain(normalizeQuery(raw));
      expect(lines[0], JSON.stringify(raw)).toMatch(shape);
      expect(forbiddenScans(lines), `${JSON.stringify(raw)}\n${lines.join("\n")}`).toEqual([]);
      // A tag-driven statement reads its tag index newest first: no sort, no temporary b-tree.
      if (/driven by (tag|execTag) \d/.test(lines[0]!)) expect(lines.join("\n"), JSON.stringify(raw)).not.toMatch(/TEMP B-TREE/);
      // The same query with its page's context, as the one statement CallGraph.log runs: the page, the CTEs
      // over it and the JSON arrays of its arms and rows may be scanned, never a table.
      const context = await repo.explainQueryContext(normalizeQuery(raw));
      // (Tags, and the tables the context joins, are only ever searched: a scan of them, even of an index, is a fault.)
      const tableScans = context.filter(
        (l) => (/^\s*SCAN /.test(l) && !/SCAN (page|p|pj|rj|pjc|n|x|out|h|a|r)\b|CONSTANT ROW|\(subquery|VIRTUAL TABLE/.test(l)) || /AUTOMATIC/.test(l) || /^\s*SCAN r\b(?! USING (COVERING )?INDEX \w+_time)/.test(l),
      );
      expect(tableScans, `${JSON.stringify(raw)}\n${context.join("\n")}`).toEqual([]);
    }
    const prefixPlan = await repo.explain(normalizeQuery({ idPrefix: "ab" }));
    expect(prefixPlan.join("\n")).toMatch(/SEARCH r USING INDEX sqlite_autoindex_executions_1 \(id>\? AND id<\?\)/);
  });
});
