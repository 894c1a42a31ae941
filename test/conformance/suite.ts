/**
 * The conformance suite: one set of behaviours every Repository adapter must
 * show, run unchanged in Node, workerd and Chromium. Writes are checked
 * through the harness's raw reader, not only through the adapter's reads.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AmbiguousIdError,
  CallGraph,
  MAX_VALUE_BYTES,
  PREVIEW_CHARS,
  Scheduler,
  UnknownIdError,
  applyTags,
  canonicalJson,
  copyRecords,
  importRecords,
  makeTag,
  makeValueRecord,
  normalizeQuery,
  readRecordContext,
  task,
  taskHash,
  type AnyRecord,
  type ExecutionRecord,
  type JobRecord,
  type Query,
  type RecordContext,
  type RecordType,
  type Repository,
  type TagPair,
  type TagView,
  type TaskRecord,
} from "redun-edge";
import type { ConformanceHarness, CreateHarness } from "./harness.ts";

const T0 = Date.UTC(2026, 0, 1);

/** A deterministic clock: every reading is 1 ms later. */
function clock(start = T0): () => number {
  let t = start;
  return () => (t += 1);
}

let uuidCounter = 0;
function uuid(): string {
  uuidCounter += 1;
  const hex = uuidCounter.toString(16).padStart(12, "0");
  return `${globalThis.crypto.randomUUID().slice(0, 24)}${hex}`;
}

const sortedIds = (ids: string[]) => [...ids].sort();

function execution(id: string, time: number, status: ExecutionRecord["status"] = "DONE"): ExecutionRecord {
  return { type: "Execution", id, time, rootJobId: uuid(), argv: ["run", "x"], startTime: time, endTime: time + 5, status };
}

function job(id: string, executionId: string, time: number, status: JobRecord["status"] = "DONE"): JobRecord {
  return {
    type: "Job", id, time, executionId, parentId: null, taskHash: "0".repeat(40), callHash: null,
    startTime: time, endTime: status === "RUNNING" ? null : time + 1, status, error: null,
  };
}

// Tasks of the workflow used by the query tests.
const add = task("add", (a: number, b: number) => a + b, { namespace: "math" });
const label = task("label", (x: number) => applyTags(x, { tags: { parity: x % 2 ? "odd" : "even" } }), {
  namespace: "math",
  tags: { kind: "labeler" },
});
const sum = task(
  "sum",
  (xs: number[]) => applyTags(xs.map((x) => label(add(x, 1))), { jobTags: { size: xs.length } }),
  { namespace: "math" },
);

export function runConformanceSuite(name: string, create: CreateHarness): void {
  describe(`Repository conformance: ${name}`, () => {
    let h: ConformanceHarness;
    let repo: Repository;
    let graph: CallGraph;
    let now: () => number;

    beforeEach(async () => {
      h = await create();
      repo = h.repository;
      now = clock();
      graph = new CallGraph(repo, { now });
    });
    afterEach(async () => {
      await h.cleanup?.();
    });

    async function run(tags: TagPair[], xs = [1, 2, 3], cache = true) {
      const scheduler = new Scheduler({ repository: repo, now, cache });
      return scheduler.runWithId(sum(xs), { tags, argv: ["run", "wf.ts", "sum"] });
    }

    async function rawIds(type: RecordType): Promise<string[]> {
      return sortedIds(await h.raw.ids(type));
    }

    describe("records", () => {
      it("round-trips every record type and stores it in the backend", async () => {
        const exec = execution(uuid(), T0);
        const j = job(uuid(), exec.id, T0 + 1);
        const t: TaskRecord = { type: "Task", id: taskHash("ns", "n", null, "src"), time: T0, name: "n", namespace: "ns", source: "src", version: null };
        const v = makeValueRecord({ b: [1, 2, { c: null }], a: "x" }, T0);
        const tag = makeTag("Execution", exec.id, "k", { nested: [1, "two"] }, [], T0);
        const records: AnyRecord[] = [exec, j, t, v, tag];
        await repo.write(records);
        for (const r of records) {
          const [got] = await repo.get(r.type, [r.id]);
          expect(got).toEqual(r);
          expect(await rawIds(r.type)).toContain(r.id);
        }
        expect(await repo.get("Job", ["missing"])).toEqual([]);
      });

      it("writes idempotently: the same batch twice stores each record once", async () => {
        const { executionId } = await run([["user", "alice"]]);
        const before = await Promise.all((["Execution", "Job", "CallNode", "Task", "Value", "Tag", "Evaluation"] as RecordType[]).map(rawIds));
        const all: AnyRecord[] = [];
        let cursor: string | null = null;
        for (;;) {
          const page = await repo.exportSince(cursor, 1000);
          all.push(...page.records);
          cursor = page.cursor;
          if (page.done) break;
        }
        await repo.write(all);
        await repo.write(all);
        const after = await Promise.all((["Execution", "Job", "CallNode", "Task", "Value", "Tag", "Evaluation"] as RecordType[]).map(rawIds));
        expect(after).toEqual(before);
        expect((await graph.show(executionId)).record.tags).toContainEqual(["user", "alice"]);
      });

      it("upserts mutable records, never replacing a finished one by a RUNNING one", async () => {
        const exec = execution(uuid(), T0, "RUNNING");
        await repo.write([exec]);
        await repo.write([{ ...exec, status: "DONE", endTime: T0 + 9 }]);
        expect((await repo.get("Execution", [exec.id]))[0]).toMatchObject({ status: "DONE", endTime: T0 + 9 });
        await repo.write([exec]);
        expect((await repo.get("Execution", [exec.id]))[0]).toMatchObject({ status: "DONE" });
        const j = job(uuid(), exec.id, T0, "RUNNING");
        await repo.write([j, { ...j, status: "FAILED", error: "boom" }]);
        expect((await repo.get("Job", [j.id]))[0]).toMatchObject({ status: "FAILED", error: "boom" });
        expect(await rawIds("Job")).toEqual([j.id]);
      });

      it("fails a batch atomically: a bad record leaves nothing written", async () => {
        const exec = execution(uuid(), T0);
        const good: AnyRecord[] = [
          exec,
          job(uuid(), exec.id, T0),
          makeValueRecord("v", T0),
          makeTag("Execution", exec.id, "k", 1, [], T0),
        ];
        const bad = { ...makeValueRecord("w", T0), id: null } as unknown as AnyRecord;
        await expect(repo.write([...good, bad])).rejects.toThrow();
        for (const type of ["Execution", "Job", "Value", "Tag"] as RecordType[]) expect(await rawIds(type)).toEqual([]);
      });

      it("refuses a tag of an unknown entity type, writing nothing (the store's own checks may be looser)", async () => {
        const exec = execution(uuid(), T0);
        const bad = { ...makeTag("Execution", exec.id, "k", 1, [], T0), entityType: "Nope" } as unknown as AnyRecord;
        await expect(repo.write([exec, bad])).rejects.toThrow(/unknown entity type/);
        for (const type of ["Execution", "Tag"] as RecordType[]) expect(await rawIds(type)).toEqual([]);
      });

      it("stores large values whole up to the limit and as a preview beyond it", async () => {
        const big = "x".repeat(5 * 1024 * 1024);
        const medium = { rows: Array.from({ length: 20_000 }, (_, i) => `row-${i}`) };
        const keep = task("keep", (v: unknown) => v);
        const scheduler = new Scheduler({ repository: repo, now });
        expect(await scheduler.run(keep(big))).toBe(big);
        expect(await scheduler.run(keep(medium))).toEqual(medium);
        const [stored] = await repo.get("Value", [makeValueRecord(big, 0).id]);
        expect(stored).toMatchObject({ preview: true, size: big.length + 2, valueType: "string" });
        expect(stored!.encoded.length).toBe(PREVIEW_CHARS);
        expect(canonicalJson(medium).length).toBeLessThan(MAX_VALUE_BYTES);
        const [whole] = await repo.get("Value", [makeValueRecord(medium, 0).id]);
        expect(JSON.parse(whole!.encoded)).toEqual(medium);
        // A previewed result cannot be reused: the job runs again rather than return a preview.
        await scheduler.run(keep(big));
        const jobs = (await graph.log({ types: ["Job"], limit: 10 })).records as JobRecord[];
        expect(jobs.map((j) => j.status)).toEqual(["DONE", "DONE", "DONE"]);
      });
    });

    describe("id prefixes", () => {
      it("finds records of every type by prefix, sorted by id, limited", async () => {
        await run([]);
        const all = await repo.findByPrefix("", 1000);
        expect(all.length).toBeGreaterThan(10);
        const ids = all.map((r) => r.id);
        expect(ids).toEqual([...ids].sort());
        const target = all.find((r) => r.type === "CallNode")!;
        const found = await repo.findByPrefix(target.id.slice(0, 10), 5);
        expect(found).toContainEqual({ type: "CallNode", id: target.id });
        expect(found.every((r) => r.id.startsWith(target.id.slice(0, 10)))).toBe(true);
        expect(await repo.findByPrefix("", 3)).toHaveLength(3);
      });

      it("resolves a unique prefix and names the candidates of an ambiguous one", async () => {
        const a = "abc" + uuid().slice(3);
        const b = "abd" + uuid().slice(3);
        await repo.write([execution(a, T0), execution(b, T0 + 1)]);
        expect(await graph.resolve("abc")).toEqual({ type: "Execution", id: a });
        const error = await graph.resolve("ab").catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AmbiguousIdError);
        expect((error as AmbiguousIdError).candidates.map((c) => c.id).sort()).toEqual([a, b].sort());
        expect((error as Error).message).toContain(a);
        await expect(graph.resolve("ffff")).rejects.toBeInstanceOf(UnknownIdError);
      });
    });

    describe("tags", () => {
      let target: string;
      const tagsOf = async (id = target) => sortedPairs((await graph.show(id)).record.tags);
      const sortedPairs = (pairs: readonly TagView[]) => [...pairs].sort((x, y) => (canonicalJson(x) < canonicalJson(y) ? -1 : 1));

      beforeEach(async () => {
        target = uuid();
        await repo.write([execution(target, T0)]);
      });

      it("lists a record's tags by key, then by value's canonical JSON, whatever the order they were written in", async () => {
        const pairs: TagPair[] = [["k", { b: 1 }], ["k", 9], ["j", 2], ["k", 10], ["k", "a"], ["a", true]];
        await repo.write(pairs.map(([k, v]) => makeTag("Execution", target, k, v, [], T0)));
        const expected: TagPair[] = [["a", true], ["j", 2], ["k", "a"], ["k", 10], ["k", 9], ["k", { b: 1 }]];
        expect((await graph.show(target)).record.tags).toEqual(expected);
        const [logged] = (await graph.log({ tags: [["j", 2]] })).records;
        expect(logged!.tags).toEqual(expected);
      });

      it("adds tags of any JSON value, de-duplicating a repeated pair and ignoring a current one", async () => {
        const pairs: TagPair[] = [["a", 1], ["a", 1], ["b", [1, "x"]], ["c", { z: 1, y: [null] }], ["d", null]];
        const first = await graph.addTags(target.slice(0, 8), pairs);
        expect(first.written).toBe(4);
        expect(await tagsOf()).toEqual(sortedPairs([["a", 1], ["b", [1, "x"]], ["c", { y: [null], z: 1 }], ["d", null]]));
        expect((await graph.addTags(target, [["a", 1]])).written).toBe(0);
        expect(await rawIds("Tag")).toHaveLength(4);
      });

      it("keeps several values of one key; update replaces them all", async () => {
        await graph.addTags(target, [["env", "dev"], ["env", "test"]]);
        expect(await tagsOf()).toEqual([["env", "dev"], ["env", "test"]]);
        const result = await graph.updateTags(target, [["env", "prod"]]);
        expect(result.changes).toEqual([{ op: "update", entityType: "Execution", entityId: target, key: "env", value: "prod" }]);
        expect(await tagsOf()).toEqual([["env", "prod"]]);
        // History is kept: the replaced tags still exist, as parents of the new one.
        const [current] = await repo.currentTags([target]);
        expect(current!.parents).toHaveLength(2);
        expect(await repo.get("Tag", current!.parents)).toHaveLength(2);
        expect((await graph.updateTags(target, [["env", "prod"]])).written).toBe(0);
      });

      it("removes by pair and by key with delete records", async () => {
        await graph.addTags(target, [["x", 1], ["x", 2], ["y", true]]);
        await graph.removeTags(target, { tags: [["x", 1]] });
        expect(await tagsOf()).toEqual([["x", 2], ["y", true]]);
        await graph.removeTags(target, { keys: ["x"] });
        expect(await tagsOf()).toEqual([["y", true]]);
        const deletes = (await repo.get("Tag", await rawIds("Tag"))).filter((t) => t.entityId === null);
        expect(deletes).toHaveLength(2);
        expect(deletes.every((d) => d.key === "" && d.value === null && d.entityType === null)).toBe(true);
        expect((await graph.removeTags(target, { tags: [["nope", 1]] })).written).toBe(0);
      });

      it("re-creates an explicitly re-added tag as a child of the removed one", async () => {
        await graph.addTags(target, [["k", "v"]]);
        const [root] = await repo.currentTags([target]);
        await graph.removeTags(target, { tags: [["k", "v"]] });
        await graph.addTags(target, [["k", "v"]]);
        const [again] = await repo.currentTags([target]);
        expect(again!.parents).toEqual([root!.id]);
        expect(await tagsOf()).toEqual([["k", "v"]]);
        // And once more after a second removal: walks down the chain.
        await graph.removeTags(target, { keys: ["k"] });
        await graph.addTags(target, [["k", "v"]]);
        const [third] = await repo.currentTags([target]);
        expect(third!.parents).toEqual([again!.id]);
      });

      it("keeps a removed tag removed when a re-run records it again", async () => {
        const { executionId } = await run([["user", "alice"]]);
        await graph.removeTags(executionId, { tags: [["user", "alice"]] });
        const removedTag = makeTag("Execution", executionId, "user", "alice", [], 0);
        await repo.write([removedTag]);
        expect((await graph.show(executionId)).record.tags).not.toContainEqual(["user", "alice"]);
      });

      it("renames a key, keeping its values", async () => {
        await graph.addTags(target, [["owner", "ann"], ["owner", "bo"]]);
        await graph.renameTag(target, "owner", "team");
        expect(await tagsOf()).toEqual([["team", "ann"], ["team", "bo"]]);
      });

      it("merges concurrent edits by union, in any order, and a later update resolves them", async () => {
        const root = makeTag("Execution", target, "k", 1, [], T0);
        const mine = makeTag("Execution", target, "k", 2, [root.id], T0 + 1);
        const theirs = makeTag("Execution", target, "k", 3, [root.id], T0 + 2);
        // Children first, parent last: currency must not depend on arrival order.
        await repo.write([theirs]);
        await repo.write([mine]);
        await repo.write([root]);
        expect(await tagsOf()).toEqual([["k", 2], ["k", 3]]);
        expect((await repo.tagChildren([root.id])).map((t) => t.id).sort()).toEqual([mine.id, theirs.id].sort());
        await graph.updateTags(target, [["k", 4]]);
        const [merged] = await repo.currentTags([target]);
        expect(merged!.parents).toEqual([mine.id, theirs.id].sort());
        expect(await tagsOf()).toEqual([["k", 4]]);
      });

      it("edits several records at once, or none when one prefix is unknown", async () => {
        const other = uuid();
        await repo.write([execution(other, T0 + 1)]);
        await graph.addTags([target, other], [["batch", 1]]);
        expect(await tagsOf(other)).toEqual([["batch", 1]]);
        const before = await rawIds("Tag");
        await expect(graph.addTags([target, "ffffffff"], [["z", 1]])).rejects.toBeInstanceOf(UnknownIdError);
        expect(await rawIds("Tag")).toEqual(before);
      });
    });

    describe("queries", () => {
      let alice: string;
      let bob: string;
      let failed: string;

      beforeEach(async () => {
        alice = (await run([["user", "alice"], ["cost", 3.2], ["flags", ["a", "b"]], ["final", true], ["note", null]])).executionId;
        bob = (await run([["user", "bob"], ["cost", "3.2"], ["final", "true"], ["meta", { team: "x" }]], [2, 5])).executionId;
        const boom = task("boom", () => {
          throw new Error("kaboom");
        }, { namespace: "math" });
        const scheduler = new Scheduler({ repository: repo, now });
        await expect(scheduler.run(boom(), { tags: { user: "carol" } })).rejects.toThrow("kaboom");
        failed = (await graph.log({ tags: [["user", "carol"]] })).records[0]!.id;
      });

      const ids = async (q: Query) => (await graph.log(q)).records.map((r) => r.id);

      it("reads a page's record context as the primitives do (recordContext and queryContext, when offered)", async () => {
        const byId = (list: readonly { type: string; id: string }[]) => [...new Set(list.map((r) => `${r.type}:${r.id}`))].sort();
        const sorted = (list: readonly AnyRecord[]) =>
          [...new Map(list.map((r) => [`${r.type}:${r.id}`, r])).entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, r]) => r);
        const tagRows = (list: RecordContext["tags"]) => list.map((t) => JSON.stringify([t.entityId, t.key, t.value])).sort();
        const same = (got: RecordContext, expected: RecordContext, what: string) => {
          expect(byId(got.records), what).toEqual(byId(expected.records));
          expect(sorted(got.records), what).toEqual(sorted(expected.records));
          expect(tagRows(got.tags), what).toEqual(tagRows(expected.tags));
        };
        // Pages of one type each (so the records they name are not on the page themselves), of every type,
        // by tag, and a second page through the cursor.
        const all: RecordType[] = ["Execution", "Job", "CallNode", "Task", "Value"];
        const queries: Query[] = [
          ...all.map((type) => ({ types: [type] as Query["types"], limit: 1000 })),
          { types: all as Query["types"], limit: 1000 },
          { types: ["Job"], tags: [["kind", "labeler"]], limit: 2 },
          { types: ["Execution"], tags: [["user"]], limit: 1 },
          { types: ["Job"], execTags: [["user", "alice"]], limit: 100 },
        ];
        for (const query of queries) {
          const what = JSON.stringify(query);
          const page = await repo.query(normalizeQuery(query));
          expect(page.refs.length, what).toBeGreaterThan(0);
          const expected = await readRecordContext(repo, page.refs);
          if (query.types?.length === 1 && query.types[0] !== "Task" && query.types[0] !== "Value") {
            // Root jobs, call nodes, tasks and argument values are read besides the page itself.
            expect(byId(expected.records).length, what).toBeGreaterThan(page.refs.length);
          }
          if (repo.recordContext) same(await repo.recordContext(page.refs), expected, what);
          if (repo.queryContext) {
            const got = await repo.queryContext(normalizeQuery(query));
            expect({ refs: got.refs, cursor: got.cursor }, what).toEqual(page);
            same({ records: got.context.records.filter((r) => expected.records.some((e) => e.type === r.type && e.id === r.id)), tags: got.context.tags.filter((t) => page.refs.some((r) => r.id === t.entityId)) }, expected, what);
            if (page.cursor) {
              const next = normalizeQuery({ ...query, cursor: page.cursor });
              expect((await repo.queryContext(next)).refs, what).toEqual((await repo.query(next)).refs);
            }
          }
        }
        if (repo.recordContext) expect(await repo.recordContext([])).toEqual({ records: [], tags: [] });
      });

      it("lists executions newest first by default", async () => {
        expect(await ids({})).toEqual([failed, bob, alice]);
      });

      it("filters by tag value with JSON equality", async () => {
        expect(await ids({ tags: [["user", "alice"]] })).toEqual([alice]);
        expect(await ids({ tags: [["cost", 3.2]] })).toEqual([alice]);
        expect(await ids({ tags: [["cost", 3.20]] })).toEqual([alice]);
        expect(await ids({ tags: [["cost", "3.2"]] })).toEqual([bob]);
        expect(await ids({ tags: [["final", true]] })).toEqual([alice]);
        expect(await ids({ tags: [["final", "true"]] })).toEqual([bob]);
        expect(await ids({ tags: [["flags", ["a", "b"]]] })).toEqual([alice]);
        expect(await ids({ tags: [["meta", { team: "x" }]] })).toEqual([bob]);
        expect(await ids({ tags: [["note", null]] })).toEqual([alice]);
        expect(await ids({ tags: [["user", "nobody"]] })).toEqual([]);
      });

      it("filters by key only, and by several tags that must all hold", async () => {
        expect(await ids({ tags: [["cost"]] })).toEqual([bob, alice]);
        expect(await ids({ tags: [["cost"], ["user", "bob"]] })).toEqual([bob]);
        expect(await ids({ tags: [["user", "alice"], ["final", "true"]] })).toEqual([]);
      });

      it("filters jobs, call nodes, tasks and values by record type and tags", async () => {
        const jobs = (await graph.log({ types: ["Job"], tags: [["kind", "labeler"]], limit: 100 })).records;
        expect(jobs.length).toBe(5); // label jobs: 3 of alice + 2 of bob
        expect(jobs.every((j) => j.type === "Job" && j.taskName === "math.label")).toBe(true);
        const odd = (await graph.log({ types: ["Value"], tags: [["parity", "odd"]] })).records;
        // Values are content-addressed: label(3) in both runs tagged one Value.
        expect(odd.map((v) => (v.type === "Value" ? v.value : null))).toEqual([3]);
        const even = (await graph.log({ types: ["Value"], tags: [["parity", "even"]] })).records;
        expect(even.map((v) => (v.type === "Value" ? v.value : null)).sort()).toEqual([2, 4, 6]);
        const tasks = (await graph.log({ types: ["Task"], tags: [["kind"]] })).records;
        expect(tasks.map((t) => t.type === "Task" && t.fullName)).toEqual(["math.label"]);
        const mixed = (await graph.log({ types: ["Execution", "Job"], tags: [["user", "alice"]] })).records;
        expect(mixed.map((r) => r.id)).toEqual([alice]);
      });

      it("filters records by the tags, status and ids of their executions", async () => {
        const aliceJobs = (await graph.log({ types: ["Job"], execTags: [["user", "alice"]], limit: 100 })).records as JobRecord[];
        expect(aliceJobs).toHaveLength(7); // sum + 3 add + 3 label
        expect(aliceJobs.every((j) => j.executionId === alice)).toBe(true);
        const bobCalls = (await graph.log({ types: ["CallNode"], execTags: [["user", "bob"]], limit: 100 })).records;
        expect(bobCalls).toHaveLength(5);
        const bobTasks = (await graph.log({ types: ["Task"], execIds: [bob] })).records;
        expect(bobTasks.map((t) => (t.type === "Task" ? t.name : "")).sort()).toEqual(["add", "label", "sum"]);
        const bobValues = (await graph.log({ types: ["Value"], execIds: [bob], limit: 100 })).records;
        expect(bobValues.map((v) => (v.type === "Value" ? canonicalJson(v.value) : "")).sort()).toEqual(["3", "6", "[3,6]"].sort());
        expect(await ids({ execStatus: ["FAILED"] })).toEqual([failed]);
        expect(await ids({ execStatus: ["DONE"], tags: [["cost"]] })).toEqual([bob, alice]);
        const failedJobs = (await graph.log({ types: ["Job"], execStatus: ["FAILED"] })).records as JobRecord[];
        expect(failedJobs.map((j) => j.status)).toEqual(["FAILED"]);
        expect(failedJobs[0]!.error).toContain("kaboom");
      });

      it("filters jobs by status and records by task name", async () => {
        await run([["user", "dave"]]); // fully cached re-run of alice's workflow
        // bob's add(2, 1) and label(3) reused alice's evaluations.
        expect((await graph.log({ types: ["Job"], jobStatus: ["CACHED"], execIds: [bob] })).records).toHaveLength(2);
        const cached = (await graph.log({ types: ["Job"], jobStatus: ["CACHED"], execTags: [["user", "dave"]] })).records;
        expect(cached).toHaveLength(1);
        expect(cached[0]).toMatchObject({ type: "Job", taskName: "math.sum", status: "CACHED" });
        expect(cached[0]!.tags).toContainEqual(["size", 3]);
        expect((await graph.log({ types: ["Job"], taskNames: ["add"], limit: 100 })).records).toHaveLength(5);
        expect((await graph.log({ types: ["Job"], taskNames: ["math.add"], limit: 100 })).records).toHaveLength(5);
        expect((await graph.log({ types: ["CallNode"], taskNames: ["math.sum"] })).records).toHaveLength(2);
        expect((await graph.log({ types: ["Task"], taskNames: ["sum"] })).records).toHaveLength(1);
        expect((await ids({ taskNames: ["math.sum"] })).length).toBe(3);
        expect(await ids({ taskNames: ["math.boom"] })).toEqual([failed]);
      });

      it("filters by id prefix", async () => {
        expect(await ids({ idPrefix: alice.slice(0, 6) })).toEqual([alice]);
        const task0 = (await graph.log({ types: ["Task"], taskNames: ["add"] })).records[0]!;
        expect((await graph.log({ types: ["Task"], idPrefix: task0.id.slice(0, 12) })).records.map((r) => r.id)).toEqual([task0.id]);
      });

      it("pages through results with limit and cursor, newest first, without repeats", async () => {
        const all = (await graph.log({ types: ["Job", "CallNode", "Value"], limit: 1000 })).records;
        expect(all.length).toBeGreaterThan(20);
        const times = all.map((r) => r.time);
        expect(times).toEqual([...times].sort((a, b) => b - a));
        const paged: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page = await graph.log({ types: ["Job", "CallNode", "Value"], limit: 4, cursor });
          expect(page.records.length).toBeLessThanOrEqual(4);
          paged.push(...page.records.map((r) => r.id));
          cursor = page.cursor;
          pages += 1;
        } while (cursor);
        expect(paged).toEqual(all.map((r) => r.id));
        expect(pages).toBe(Math.ceil(all.length / 4));
        const page = await graph.log({ tags: [["cost"]], limit: 1 });
        expect(page.records.map((r) => r.id)).toEqual([bob]);
        expect((await graph.log({ tags: [["cost"]], limit: 1, cursor: page.cursor })).records.map((r) => r.id)).toEqual([alice]);
      });

      it("counts current tags by key and type, and by value and type (lists and objects too)", async () => {
        await graph.removeTags(failed, { keys: ["user"] });
        const byType = await graph.listTags();
        expect(byType).toContainEqual({ key: "user", entityType: "Execution", count: 2 });
        expect(byType).toContainEqual({ key: "kind", entityType: "Job", count: 5 });
        expect(byType).toContainEqual({ key: "kind", entityType: "Task", count: 1 });
        expect(byType.some((r) => r.key === "")).toBe(false);
        const byValue = await graph.listTags({ values: true });
        expect(byValue).toContainEqual({ key: "flags", value: ["a", "b"], entityType: "Execution", count: 1 });
        expect(byValue).toContainEqual({ key: "meta", value: { team: "x" }, entityType: "Execution", count: 1 });
        expect(byValue).toContainEqual({ key: "cost", value: 3.2, entityType: "Execution", count: 1 });
        expect(byValue).toContainEqual({ key: "cost", value: "3.2", entityType: "Execution", count: 1 });
        expect(byValue).toContainEqual({ key: "note", value: null, entityType: "Execution", count: 1 });
        expect(byValue.find((r) => r.key === "user" && r.value === "carol")).toBeUndefined();
        // One row per entity type: a task tag and its jobs' copies are counted apart, as redun counts them.
        const kinds = byValue.filter((r) => r.key === "kind");
        expect(kinds.map((r) => r.entityType)).toEqual(["Job", "Task"]);
        expect(kinds.map((r) => r.count)).toEqual([5, 1]);
        expect(await graph.listTags({ keys: ["cost"] })).toEqual([{ key: "cost", entityType: "Execution", count: 2 }]);
      });

      it("shows an execution with its job tree and counts", async () => {
        const detail = await graph.show(alice.slice(0, 8));
        expect(detail.record.id).toBe(alice);
        expect(detail.jobCounts).toMatchObject({ total: 7, byStatus: { DONE: 7 } });
        expect(detail.jobTree!.taskName).toBe("math.sum");
        expect(detail.jobTree!.children).toHaveLength(6);
        const jobs = await repo.jobsOfExecution(alice);
        expect(jobs).toHaveLength(7);
        const jobDetail = await graph.show(detail.jobTree!.id);
        expect(jobDetail.call!.args.map((a) => a.value!.value)).toEqual([[1, 2, 3]]);
        expect(jobDetail.call!.result!.value).toEqual([2, 3, 4]);
        expect(jobDetail.call!.children).toHaveLength(6);
      });

      it("rejects malformed queries naming the field", () => {
        expect(() => normalizeQuery({ types: ["Nope" as never] })).toThrow(/types/);
        expect(() => normalizeQuery({ limit: 0 })).toThrow(/limit/);
        expect(() => normalizeQuery({ bogus: 1 } as never)).toThrow(/bogus/);
      });
    });

    describe("sync", () => {
      it("refuses a malformed export cursor as invalid input naming the field", async () => {
        for (const cursor of ["nope", "-1", "1.5"]) {
          await expect(repo.exportSince(cursor, 5), cursor).rejects.toMatchObject({ code: "invalid", field: "cursor" });
        }
      });

      it("exports changes since a cursor, resumably, and imports into another store by union", async () => {
        await run([["user", "alice"]]);
        const first = await repo.exportSince(null, 5);
        expect(first.records).toHaveLength(5);
        expect(first.done).toBe(false);
        const rest: AnyRecord[] = [];
        let cursor = first.cursor;
        for (;;) {
          const page = await repo.exportSince(cursor, 7);
          rest.push(...page.records);
          cursor = page.cursor;
          if (page.done) break;
        }
        const exported = [...first.records, ...rest];
        expect(new Set(exported.map((r) => `${r.type}:${r.id}`)).size).toBe(exported.length);
        expect((await repo.exportSince(cursor, 10)).records).toEqual([]);
        // A change after the cursor shows up in the next export.
        const [exec] = (await graph.log({})).records;
        await graph.addTags(exec!.id, [["late", 1]]);
        const later = await repo.exportSince(cursor, 10);
        expect(later.records.map((r) => r.type)).toEqual(["Tag"]);
        // Copy into a second store of the same adapter: same history there.
        const other = await create();
        try {
          await copyRecords(repo, { importRecords: (rs) => importRecords(other.repository, rs) }, { pageSize: 3 });
          const there = new CallGraph(other.repository);
          expect((await there.log({ tags: [["late", 1]] })).records.map((r) => r.id)).toEqual([exec!.id]);
          for (const type of ["Job", "CallNode", "Value", "Task", "Tag"] as RecordType[]) {
            expect(sortedIds(await other.raw.ids(type))).toEqual(await rawIds(type));
          }
        } finally {
          await other.cleanup?.();
        }
      });

      it("refuses records whose id does not match their content, writing nothing", async () => {
        const tag = makeTag("Execution", uuid(), "k", 1, [], T0);
        await expect(importRecords(repo, [makeValueRecord(1, T0), { ...tag, value: 2 }])).rejects.toThrow(/does not match/);
        expect(await rawIds("Tag")).toEqual([]);
        expect(await rawIds("Value")).toEqual([]);
      });
    });

    describe("scheduler", () => {
      it("records a run, then reuses it from cache with the same tags", async () => {
        const first = await run([["user", "alice"]]);
        expect(first.result).toEqual([2, 3, 4]);
        const second = await run([["user", "alice"]]);
        expect(second.result).toEqual([2, 3, 4]);
        const rootOf = async (execId: string) => {
          const [exec] = await repo.get("Execution", [execId]);
          return (await repo.get("Job", [exec!.rootJobId]))[0]!;
        };
        expect((await rootOf(first.executionId)).status).toBe("DONE");
        expect((await rootOf(second.executionId)).status).toBe("CACHED");
        expect((await rootOf(second.executionId)).callHash).toBe((await rootOf(first.executionId)).callHash);
        const uncached = await run([], [1, 2, 3], false);
        expect((await rootOf(uncached.executionId)).status).toBe("DONE");
      });
    });
  });
}
