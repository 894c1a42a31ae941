/**
 * The conformance suite: one set of behaviours every Repository adapter must
 * show, run unchanged in Node, workerd and Chromium. Writes are checked
 * through the harness's raw reader, not only through the adapter's reads.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AmbiguousIdError, CallGraph, Scheduler, UnknownIdError, applyTags, copyRecords, formatRecordLine, importRecords,
  task, type AnyRecord, type CallNodeRecord, type EvaluationRecord, type ExecutionRecord, type JobEvent,
  type JobRecord, type JsonValue, type Query, type RecordType, type Repository, type TagPair, type TagView,
  type TaskRecord,
} from "redun-edge";
import {
  MAX_EDIT_PREFIXES, MAX_JSON_DEPTH, MAX_TAG_KEY_BYTES, MAX_TAG_VALUE_BYTES, MAX_VALUE_BYTES, MAX_VALUE_DEPTH,
  PREVIEW_CHARS, argsHash as argsHashOf, callNodeHash, canonicalJson, errorOfValue, evaluationHash, registerTask,
  makeTag, makeValueRecord, normalizeQuery, readRecordContext, taskHash, valueHash, verifyRecordId, type RecordContext,
} from "redun-edge/adapter-kit";
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
const ALL_TYPES: RecordType[] = ["Execution", "Job", "CallNode", "Task", "Value", "Tag", "Evaluation"];

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

// Tasks of the reuse tests. `main` names `greet` by this binding, so when a test defines `greet` anew (as when
// a subtask's body is edited) main's own source, and so its hash, stays the same while the task it calls changes.
let greet = task("greet", (name: string) => `Hello, ${name}!`, { namespace: "tree", tags: { stage: "greet" } });
const originalGreet = greet;
const shout = task(
  "shout",
  (text: string) => applyTags(text.toUpperCase(), { tags: { kind: "shout" }, jobTags: { loud: true } }),
  { namespace: "tree" },
);
const count = task("count", (name: string) => name.length, { namespace: "tree", tags: { stage: "count" } });
const summarize = task(
  "summarize",
  (lengths: number[]) => {
    const total = lengths.reduce((a, b) => a + b, 0);
    return applyTags(total, { executionTags: { total } });
  },
  { namespace: "tree" },
);
const main = task(
  "main",
  (names: string[]) => ({ loud: names.map((n) => shout(greet(n))), total: summarize(names.map((n) => count(n))) }),
  { namespace: "tree" },
);
const NAMES = ["ann", "bo", "cy"];

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
        // The optional fields: a running execution's lease, an evaluation's execution tags (absent and given).
        const leased: ExecutionRecord = { ...execution(uuid(), T0 + 2, "RUNNING"), endTime: null, leaseUntil: T0 + 60_000 };
        // Evaluations agree with a CallNode of the batch (the trust rule), so every store takes them.
        const call = (key: string): CallNodeRecord => {
          const args = [{ key, valueHash: v.id }];
          const hash = argsHashOf(args);
          return { type: "CallNode", id: callNodeHash(t.id, hash, v.id, []), time: T0, taskHash: t.id, argsHash: hash, args, resultHash: v.id, children: [] };
        };
        const evaluation = (args: string, extra: Partial<EvaluationRecord>): EvaluationRecord => ({
          type: "Evaluation", id: evaluationHash(t.id, call(args).argsHash), time: T0, taskHash: t.id, argsHash: call(args).argsHash, valueHash: v.id,
          callHash: call(args).id, jobTags: [["j", 1]], ...extra,
        });
        const plain = evaluation("a", {});
        const withExecTags = evaluation("b", { executionTags: [["total", 7], ["flags", ["x"]]] });
        const records: AnyRecord[] = [exec, j, t, v, tag, leased, call("a"), call("b"), plain, withExecTags];
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
      it("finds records of the asked types by prefix, sorted by id, limited, for many prefixes at once", async () => {
        await run([]);
        const [all] = await repo.findByPrefix([""], ALL_TYPES, 1000);
        expect(all!.length).toBeGreaterThan(10);
        expect(new Set(all!.map((r) => r.type))).toEqual(new Set(ALL_TYPES));
        const ids = all!.map((r) => r.id);
        expect(ids).toEqual([...ids].sort());
        const target = all!.find((r) => r.type === "CallNode")!;
        const prefix = target.id.slice(0, 10);
        const [found, none, entities, tags] = await repo.findByPrefix([prefix, "ffffffffff", "", ""], ["CallNode", "Job"], 5);
        expect(found).toContainEqual({ type: "CallNode", id: target.id });
        expect(found!.every((r) => r.id.startsWith(prefix))).toBe(true);
        expect(none).toEqual([]);
        expect(entities).toEqual(all!.filter((r) => r.type === "CallNode" || r.type === "Job").slice(0, 5));
        expect(tags).toEqual(entities);
        const [onlyTags] = await repo.findByPrefix([""], ["Tag"], 1000);
        expect(onlyTags).toEqual(all!.filter((r) => r.type === "Tag"));
        expect((await repo.findByPrefix([""], ALL_TYPES, 3))[0]).toHaveLength(3);
        expect(await repo.findByPrefix([], ALL_TYPES, 3)).toEqual([]);
      });

      it("lists every candidate of the asked types, however many records of other types share the prefix", async () => {
        // 30 tags whose ids start with "03", and two executions and a job after them in id order.
        const tags: AnyRecord[] = [];
        const entity = uuid();
        for (let i = 0; tags.length < 30; i++) {
          const tag = makeTag("Execution", entity, "n", i, [], T0);
          if (tag.id.startsWith("03") && tag.id < "03f") tags.push(tag);
        }
        const a = `03f0${uuid().slice(4)}`;
        const b = `03f1${uuid().slice(4)}`;
        const j = `03f2${uuid().slice(4)}`;
        await repo.write([...tags, execution(a, T0), execution(b, T0 + 1), job(j, a, T0 + 2)]);
        const [execs] = await repo.findByPrefix(["03"], ["Execution"], 11);
        expect(execs).toEqual([{ type: "Execution", id: a }, { type: "Execution", id: b }]);
        const error = await graph.resolve("03").catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AmbiguousIdError);
        expect((error as AmbiguousIdError).candidates).toEqual([
          { type: "Execution", id: a },
          { type: "Execution", id: b },
          { type: "Job", id: j },
        ]);
        expect((error as AmbiguousIdError).more).toBe(false);
        // A tag id is no record a person names: a prefix of tags only is unknown.
        await expect(graph.resolve(tags[0]!.id.slice(0, 12))).rejects.toBeInstanceOf(UnknownIdError);
        expect(await graph.resolve("03f2")).toEqual({ type: "Job", id: j });
        await expect(graph.addTags("03", [["k", 1]])).rejects.toBeInstanceOf(AmbiguousIdError);
        expect((await repo.currentTags([a, b, j])).length).toBe(0);
        // More candidates than are shown.
        const many = Array.from({ length: 12 }, (_, i) => execution(`05${i.toString(16).padStart(2, "0")}${uuid().slice(4)}`, T0 + i));
        await repo.write(many);
        const more = (await graph.resolve("05").catch((e: unknown) => e)) as AmbiguousIdError;
        expect(more.candidates.map((c) => c.id)).toEqual(many.map((e) => e.id).sort().slice(0, 10));
        expect(more.more).toBe(true);
        expect(more.message).toMatch(/and more$/);
      });

      it("resolves the prefixes of an edit in one read, and refuses more than an edit may name", async () => {
        const execs = Array.from({ length: MAX_EDIT_PREFIXES }, (_, i) => execution(uuid(), T0 + i));
        await repo.write(execs);
        let reads = 0;
        let tagReads = 0;
        const counting: Repository = Object.create(repo, {
          findByPrefix: { value: (...args: Parameters<Repository["findByPrefix"]>) => ((reads += 1), repo.findByPrefix(...args)) },
          get: { value: (...args: Parameters<Repository["get"]>) => ((tagReads += args[0] === "Tag" ? 1 : 0), repo.get(...args)) },
        });
        const counted = new CallGraph(counting, { now });
        const prefixes = execs.map((e) => e.id.slice(0, 13));
        const result = await counted.addTags(prefixes, [["batch", 1]]);
        expect(result.written).toBe(MAX_EDIT_PREFIXES);
        expect(reads).toBe(1);
        // Re-adding removed tags walks each one's chain: one read per step of the chain, for all records together.
        await counted.removeTags(prefixes, { keys: ["batch"] });
        tagReads = 0;
        expect((await counted.addTags(prefixes, [["batch", 1], ["other", 2]])).written).toBe(2 * MAX_EDIT_PREFIXES);
        expect(tagReads).toBe(2);
        expect(reads).toBe(3);
        const tooMany = [...execs.map((e) => e.id), execs[0]!.id];
        await expect(counted.addTags(tooMany, [["batch", 2]])).rejects.toMatchObject({ code: "invalid", field: "prefixes" });
        expect((await repo.currentTags(execs.map((e) => e.id))).filter((t) => t.key === "batch").every((t) => t.value === 1 && t.parents.length === 1)).toBe(true);
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

      it("gives each current tag its history and finds the keys two merged edits left with two values", async () => {
        await graph.addTags(target, [["k", 1], ["owner", "ann"], ["owner", "bo"]]);
        await graph.updateTags(target, [["k", 2]]);
        await graph.updateTags(target, [["k", 3]]);
        let history = await graph.tagHistory(target.slice(0, 8));
        expect(history.tags.map((e) => [e.tag.key, e.tag.value, e.superseded.map((t) => t.value)])).toEqual([
          ["k", 3, [2, 1]], ["owner", "ann", []], ["owner", "bo", []],
        ]);
        // Two values added side by side are not a conflict; two updates of one tag are.
        expect(history.conflicts).toEqual([]);
        const [k3] = history.tags.map((e) => e.tag);
        await repo.write([makeTag("Execution", target, "k", 4, [k3!.id], T0 + 10), makeTag("Execution", target, "k", 5, [k3!.id], T0 + 11)]);
        history = await graph.tagHistory(target);
        expect(history.conflicts.map((c) => [c.key, c.tags.map((t) => t.value)])).toEqual([["k", [4, 5]]]);
        await graph.updateTags(target, [["k", 5]]);
        history = await graph.tagHistory(target);
        expect(history.conflicts).toEqual([]);
        const k = history.tags.find((e) => e.tag.key === "k")!;
        expect(k.tag.value).toBe(5);
        expect(k.superseded.map((t) => t.value).sort()).toEqual([1, 2, 3, 4, 5]);
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
        // A Value belongs to an execution as an argument or a result of one of its calls (redun's filter_execution_tags).
        const bobValues = (await graph.log({ types: ["Value"], execIds: [bob], limit: 100 })).records;
        expect(bobValues.map((v) => (v.type === "Value" ? canonicalJson(v.value) : "")).sort()).toEqual(["1", "2", "3", "5", "6", "[2,5]", "[3,6]"].sort());
        const argsOnly = (await graph.log({ types: ["Value"], execTags: [["user", "bob"]], idPrefix: makeValueRecord([2, 5], 0).id.slice(0, 12) })).records;
        expect(argsOnly.map((v) => v.id)).toEqual([makeValueRecord([2, 5], 0).id]);
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
        // The whole reused tree is recorded for dave's execution, each job CACHED with its tags.
        const cached = (await graph.log({ types: ["Job"], jobStatus: ["CACHED"], execTags: [["user", "dave"]] })).records;
        expect(cached).toHaveLength(7);
        const root = cached.find((j) => j.type === "Job" && j.parentId === null)!;
        expect(root).toMatchObject({ type: "Job", taskName: "math.sum", status: "CACHED" });
        expect(root.tags).toContainEqual(["size", 3]);
        expect(cached.filter((j) => j.tags.some(([k, v]) => k === "kind" && v === "labeler"))).toHaveLength(3);
        // add jobs: alice's 3, bob's 2, and dave's 3 reused.
        expect((await graph.log({ types: ["Job"], taskNames: ["add"], limit: 100 })).records).toHaveLength(8);
        expect((await graph.log({ types: ["Job"], taskNames: ["math.add"], limit: 100 })).records).toHaveLength(8);
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
        const tagless = await graph.show(alice, { jobTags: false });
        expect(detail.jobTree!.tags).toEqual([["size", 3]]);
        expect(tagless.jobTree).toEqual({ ...detail.jobTree, tags: [], children: detail.jobTree!.children.map((c) => ({ ...c, tags: [] })) });
        const jobDetail = await graph.show(detail.jobTree!.id);
        expect(jobDetail.call!.args.map((a) => a.value!.value)).toEqual([[1, 2, 3]]);
        expect(jobDetail.call!.result!.value).toEqual([2, 3, 4]);
        expect(jobDetail.call!.children).toHaveLength(6);
      });

      it("finds the jobs whose calls returned or took a value, newest first (jobsOfValues)", async () => {
        expect(repo.jobsOfValues).toBeTypeOf("function");
        const three = makeValueRecord(3, T0).id;
        const jobs = (await Promise.all([alice, bob, failed].map((e) => repo.jobsOfExecution(e)))).flat();
        const calls = new Map((await repo.get("CallNode", jobs.flatMap((j) => (j.callHash ? [j.callHash] : [])))).map((c) => [c.id, c]));
        const expected = jobs
          .filter((j) => {
            const c = j.callHash ? calls.get(j.callHash) : undefined;
            return c && (c.resultHash === three || c.args.some((a) => a.valueHash === three));
          })
          .sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : -1))
          .map((j) => j.id);
        expect(expected.length).toBeGreaterThan(3);
        expect((await repo.jobsOfValues!([three], 100)).map((j) => j.id)).toEqual(expected);
        expect((await repo.jobsOfValues!([three], 2)).map((j) => j.id)).toEqual(expected.slice(0, 2));
        expect(await repo.jobsOfValues!(["f".repeat(40)], 10)).toEqual([]);
      });

      it("gives a value's lineage: the calls that returned it and the calls that took it", async () => {
        const three = makeValueRecord(3, T0).id;
        const lineage = await graph.valueLineage(three.slice(0, 10));
        expect(lineage).toMatchObject({ supported: true, truncated: false, value: { id: three, value: 3, valueType: "number" } });
        // add(2, 1) returned 3 (alice; bob's is CACHED, the same call), and label(3) returned its argument.
        expect(lineage.producedBy.map((c) => c.taskName).sort()).toEqual(["math.add", "math.label"]);
        const add = lineage.producedBy.find((c) => c.taskName === "math.add")!;
        expect(add.args.map((a) => a.value!.value)).toEqual([2, 1]);
        expect(add.jobs.map((j) => j.status).sort()).toEqual(["CACHED", "DONE"]);
        // add(3, 1) took it (alice), and so did label(3).
        expect(lineage.usedBy.map((c) => [c.taskName, c.args.map((a) => a.value!.value)]).sort()).toEqual([["math.add", [3, 1]], ["math.label", [3]]]);
        expect((await graph.valueLineage(three, { limit: 1 })).truncated).toBe(true);
      });

      it("gives a job its path from the execution's root and its children", async () => {
        const detail = await graph.show(alice);
        const root = detail.jobTree!;
        const leaf = root.children[0]!;
        const context = await graph.jobContext(leaf.id.slice(0, 8));
        expect(context.job).toMatchObject({ id: leaf.id, executionId: alice, parentId: root.id });
        expect(context.path.map((j) => [j.id, j.taskName])).toEqual([[root.id, "math.sum"]]);
        expect(context.children).toEqual([]);
        const top = await graph.jobContext(root.id);
        expect(top.path).toEqual([]);
        expect(top.children.map((j) => j.id)).toEqual(root.children.map((j) => j.id));
        expect(new Set(top.children.map((j) => j.taskName))).toEqual(new Set(["math.add", "math.label"]));
      });

      it("rejects malformed queries naming the field", () => {
        expect(() => normalizeQuery({ types: ["Nope" as never] })).toThrow(/types/);
        expect(() => normalizeQuery({ limit: 0 })).toThrow(/limit/);
        expect(() => normalizeQuery({ bogus: 1 } as never)).toThrow(/bogus/);
      });
    });

    describe("sync", () => {
      it("refuses a malformed export cursor as invalid input naming the field", async () => {
        for (const cursor of ["nope", "-1", "1.5", " 1", "99999999999999999999", "99999999999999999999:x", "1e3"]) {
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

    describe("prototype keys (__proto__, constructor, prototype) are plain data", () => {
      const NAMES = ["__proto__", "constructor", "prototype"];
      /** A JSON object whose own keys are the names (an object literal would set its prototype instead). */
      const protoValue = () => JSON.parse('{"__proto__": {"polluted": 1}, "constructor": {"prototype": [1]}, "prototype": null}') as JsonValue;

      it("as task names, tag keys and JSON keys in values: recorded, shown, queried, counted and edited as any other", async () => {
        const before = Object.getOwnPropertyNames(Object.prototype);
        try {
          const tasks = NAMES.map((n) => task(n, (v: unknown) => applyTags(v, { tags: [[n, protoValue()]] })));
          const root = task("root", (v: unknown) => tasks.map((t) => t(v)));
          const scheduler = new Scheduler({ repository: repo, now });
          const tags: TagPair[] = NAMES.map((n) => [n, protoValue()]);
          const { executionId, result } = await scheduler.runWithId(root(protoValue()), { tags });
          expect((result as unknown[]).map((v) => canonicalJson(v))).toEqual(NAMES.map(() => canonicalJson(protoValue())));
          const detail = await graph.show(executionId);
          expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(before);
          expect(({} as Record<string, unknown>).DONE).toBeUndefined();
          expect(detail.jobCounts!.total).toBe(4);
          for (const n of NAMES) {
            expect(Object.hasOwn(detail.jobCounts!.byTask, n), n).toBe(true);
            expect(detail.jobCounts!.byTask[n]).toEqual({ DONE: 1 });
          }
          expect(detail.record.tags.map(([k, v]) => [k, canonicalJson(v)])).toEqual(NAMES.map((n) => [n, canonicalJson(protoValue())]).sort());
          // The job of task "__proto__": its argument keeps its own "__proto__" key.
          const jobId = detail.jobTree!.children.find((c) => c.taskName === "__proto__")!.id;
          const job = await graph.show(jobId);
          const arg = job.call!.args[0]!.value!.value as Record<string, unknown>;
          expect(Object.hasOwn(arg, "__proto__")).toBe(true);
          expect(Object.getPrototypeOf(arg)).toBe(Object.prototype);
          // Queries by those keys and task names.
          for (const n of NAMES) {
            expect((await graph.log({ tags: [[n, protoValue()]] })).records.map((r) => r.id), n).toEqual([executionId]);
            expect((await graph.log({ tags: [[n]] })).records.map((r) => r.id), n).toEqual([executionId]);
            expect((await graph.log({ types: ["Job"], taskNames: [n] })).records, n).toHaveLength(1);
            expect((await graph.log({ types: ["Value"], tags: [[n]] })).records, n).toHaveLength(1);
          }
          const counts = await graph.listTags({ keys: NAMES });
          expect(counts.map((c) => [c.key, c.entityType, c.count]).sort()).toEqual(
            NAMES.flatMap((n) => [[n, "Execution", 1], [n, "Value", 1]]).sort(),
          );
          // Edits by those keys.
          await graph.updateTags(executionId, [["constructor", 2]]);
          await graph.removeTags(executionId, { keys: ["prototype"] });
          await graph.renameTag(executionId, "__proto__", "proto");
          const after = (await graph.show(executionId)).record.tags.map(([k, v]) => [k, canonicalJson(v)]);
          expect(after).toEqual([["constructor", "2"], ["proto", canonicalJson(protoValue())]]);
          // A cached re-run returns the value with its own "__proto__" key.
          const again = (await scheduler.run(root(protoValue()))) as Record<string, unknown>[];
          expect(again.every((v) => Object.hasOwn(v, "__proto__"))).toBe(true);
          expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(before);
        } finally {
          // Undo any pollution, so one failure does not cascade through the rest of the run.
          for (const name of Object.getOwnPropertyNames(Object.prototype)) {
            if (!before.includes(name)) delete (Object.prototype as Record<string, unknown>)[name];
          }
        }
      });
    });

    describe("text, sizes and nesting: one rule for every store", () => {
      const deep = (n: number): JsonValue => JSON.parse("[".repeat(n) + "]".repeat(n));
      /** Run `fn`, expecting a refusal (code, field), and that no record of any type was written. */
      async function refused(fn: () => Promise<unknown>, code: string, field: string | RegExp) {
        const before = await Promise.all(ALL_TYPES.map(rawIds));
        const error = (await fn().then(() => null, (e: unknown) => e)) as { code?: string; field?: string; name?: string } | null;
        expect(error, "expected a refusal").not.toBeNull();
        expect(error!.code, String(error)).toBe(code);
        if (typeof field === "string") expect(error!.field).toBe(field);
        else expect(error!.field).toMatch(field);
        expect(await Promise.all(ALL_TYPES.map(rawIds))).toEqual(before);
      }

      it("refuses text that is not well-formed Unicode (a lone surrogate), naming the field, writing nothing", async () => {
        const exec = execution(uuid(), T0);
        await repo.write([exec]);
        const tag = (key: string, value: JsonValue) => makeTag("Execution", exec.id, key, value, [], T0);
        await refused(() => importRecords(repo, [tag("sur\ud800", 1)]), "invalid", "records[0].key");
        await refused(() => importRecords(repo, [tag("k", "x\udc00y")]), "invalid", "records[0].value");
        await refused(() => importRecords(repo, [tag("k", JSON.parse('{"\\ud800": 1}'))]), "invalid", "records[0].value");
        const t: TaskRecord = { type: "Task", id: taskHash("", "t\ud800", null, "s"), time: T0, name: "t\ud800", namespace: "", source: "s", version: null };
        await refused(() => importRecords(repo, [makeValueRecord(1, T0), t]), "invalid", "records[1].name");
        await expect(repo.write([tag("sur\ud800", 1)])).rejects.toThrow(/records\[0\]\.key is not well-formed Unicode/);
        await refused(() => graph.addTags(exec.id, [["sur\ud800", 1]]), "invalid", "tags[0]");
        await refused(() => graph.updateTags(exec.id, [["k", 1], ["k", ["\udfff"]]]), "invalid", "tags[1]");
        await refused(() => graph.removeTags(exec.id, { keys: ["\ud800"] }), "invalid", "keys[0]");
        await refused(() => graph.renameTag(exec.id, "k", "\ud800"), "invalid", "to");
        await refused(() => graph.log({ tags: [["k", "\ud800"]] }), "invalid", "tags");
        await refused(() => graph.log({ taskNames: ["\udc00"] }), "invalid", "taskNames");
        const scheduler = new Scheduler({ repository: repo, now });
        await refused(() => scheduler.run(add(1, 2), { tags: [["user\ud800", 1]] }), "invalid", "tags[0]");
        const tagged = task("tagged", () => applyTags(1, { tags: [["v", "\ud800"]] }));
        const failedRun = await scheduler.run(tagged()).catch((e: unknown) => e);
        expect((failedRun as Error).message).toMatch(/tags\[0\] holds text that is not well-formed Unicode/);
        expect(await repo.currentTags([exec.id])).toEqual([]);
      });

      it("keeps well-formed text of every kind exactly, so ids still match content after a round trip", async () => {
        const odd = ["emoji \ud83d\ude00", "nul\u0000byte", "tab\tnew\nline\u2028", "na\u00efve \u65e5\u672c", "\uffff\ufeff"];
        const keep = task("keep\u00e9", (...xs: string[]) => applyTags(xs, { tags: odd.map((k) => [k, k]) }), { namespace: "na\u00efve" });
        const { executionId } = await new Scheduler({ repository: repo, now }).runWithId(keep(...odd), { tags: odd.map((k, i) => [k, { [k]: i }]) });
        const tags = (await graph.show(executionId)).record.tags.filter(([k]) => k !== "project");
        expect(tags).toEqual(odd.map((k, i): TagPair => [k, { [k]: i }]).sort(([a], [b]) => (a < b ? -1 : 1)));
        const exported: AnyRecord[] = [];
        for (let cursor: string | null = null; ; ) {
          const page = await repo.exportSince(cursor, 1000);
          exported.push(...page.records);
          cursor = page.cursor;
          if (page.done) break;
        }
        for (const r of exported) expect(verifyRecordId(r), `${r.type} ${r.id}`).toBe(true);
        const other = await create();
        try {
          const problems: unknown[] = [];
          await copyRecords(repo, { importRecords: (rs) => importRecords(other.repository, rs) }, { onSkip: (s) => problems.push(s) });
          expect(problems).toEqual([]);
          const there = new CallGraph(other.repository);
          expect((await there.log({ tags: [[odd[1]!, { [odd[1]!]: 1 }]] })).records.map((r) => r.id)).toEqual([executionId]);
          expect((await there.log({ types: ["Job"], taskNames: ["na\u00efve.keep\u00e9"] })).records).toHaveLength(1);
        } finally {
          await other.cleanup?.();
        }
      });

      it(`holds tag keys to ${MAX_TAG_KEY_BYTES} bytes and values to ${MAX_TAG_VALUE_BYTES} bytes of JSON, counted in UTF-8`, async () => {
        const exec = execution(uuid(), T0);
        await repo.write([exec]);
        const longKey = "\u00e9".repeat(MAX_TAG_KEY_BYTES / 2); // 2 bytes each: exactly the limit
        const longValue = "\u00e9".repeat((MAX_TAG_VALUE_BYTES - 2) / 2); // with its quotes: exactly the limit
        expect((await graph.addTags(exec.id, [[longKey, longValue]])).written).toBe(1);
        expect((await graph.show(exec.id)).record.tags).toEqual([[longKey, longValue]]);
        await refused(() => graph.addTags(exec.id, [[`${longKey}x`, 1]]), "too_large", "tags[0]");
        await refused(() => graph.addTags(exec.id, [["k", `${longValue}x`]]), "too_large", "tags[0]");
        await refused(() => graph.addTags(exec.id, [["k", 1], ["k", { v: longValue }]]), "too_large", "tags[1]");
        await refused(() => graph.addTags(exec.id, [["k", "x".repeat(9_500_000)]]), "too_large", "tags[0]");
        const big = makeTag("Execution", exec.id, "k", [longValue], [], T0);
        await refused(() => importRecords(repo, [big]), "too_large", "records[0].value");
        await expect(repo.write([big])).rejects.toThrow(/records\[0\]\.value: a tag value is at most 65536 bytes/);
        const evaluation = { type: "Evaluation", id: "e".repeat(40), time: T0, taskHash: "t", argsHash: "a", valueHash: "v", callHash: "c", jobTags: [["k", longValue + "x"]] };
        await expect(repo.write([evaluation as AnyRecord])).rejects.toThrow(/jobTags\[0\]: a tag value is at most/);
        await refused(() => graph.log({ tags: [["k", `${longValue}x`]] }), "too_large", "tags");
      });

      it(`refuses JSON nested more than ${MAX_JSON_DEPTH} levels in tags and queries, and more than ${MAX_VALUE_DEPTH} in values, as bad input`, async () => {
        const exec = execution(uuid(), T0);
        await repo.write([exec]);
        expect((await graph.addTags(exec.id, [["ok", deep(MAX_JSON_DEPTH)]])).written).toBe(1);
        for (const n of [MAX_JSON_DEPTH + 1, 10_000, 200_000]) {
          await refused(() => graph.addTags(exec.id, [["deep", deep(n)]]), "invalid", "tags[0]");
          await refused(() => graph.log({ tags: [["deep", deep(n)]] }), "invalid", "tags");
          await refused(() => importRecords(repo, [{ ...makeTag("Execution", exec.id, "d", null, [], T0), value: deep(n) }]), "invalid", "records[0].value");
        }
        const encoded = "[".repeat(MAX_VALUE_DEPTH + 1) + "]".repeat(MAX_VALUE_DEPTH + 1);
        const deepValue = { type: "Value", id: valueHash("array", encoded), time: T0, valueType: "array", encoded, size: encoded.length, preview: false };
        await refused(() => importRecords(repo, [deepValue]), "invalid", "records[0].encoded");
        const notJson = "{nope";
        await refused(() => importRecords(repo, [{ ...deepValue, id: valueHash("object", notJson), valueType: "object", encoded: notJson, size: 5 }]), "invalid", "records[0].encoded");
        const keep = task("keep", (v: unknown) => v);
        await expect(new Scheduler({ repository: repo, now }).run(keep(deep(MAX_VALUE_DEPTH - 2)))).resolves.toEqual(deep(MAX_VALUE_DEPTH - 2));
      });

      it("a copy reports a record the target refuses and goes on past it", async () => {
        await run([["user", "alice"]]);
        const first = await repo.exportSince(null, 1000);
        const forged = { ...first.records.find((r) => r.type === "Tag")!, value: "forged" };
        const lone = { ...first.records.find((r) => r.type === "Tag")!, key: "sur\ud800" };
        // A source that holds two bad records among its good ones (as a store holding an altered record would).
        const source = {
          exportSince: async (cursor: string | null, limit: number) => {
            const page = await repo.exportSince(cursor, limit);
            return cursor === null ? { ...page, records: [forged, ...page.records.slice(0, 3), lone, ...page.records.slice(3)] } : page;
          },
        };
        const other = await create();
        try {
          const target = { importRecords: (rs: readonly AnyRecord[]) => importRecords(other.repository, rs) };
          await expect(copyRecords(source, target)).rejects.toMatchObject({ field: "records[0].id" });
          const skipped: { record: unknown; error: { field: string; message: string } }[] = [];
          const result = await copyRecords(source, target, { pageSize: 5, onSkip: (s) => skipped.push(s) });
          expect(skipped.map((s) => [s.record, s.error.field])).toEqual([[forged, "id"], [lone, "key"]]);
          expect(skipped[1]!.error.message).toMatch(/^record\.key is not well-formed Unicode/);
          expect(result.skipped).toBe(2);
          expect(result.records).toBe(first.records.length);
          for (const type of ALL_TYPES) expect(sortedIds(await other.raw.ids(type)), type).toEqual(await rawIds(type));
        } finally {
          await other.cleanup?.();
        }
      });
    });

    describe("trust: what a record from another store may change", () => {
      const double = task("double", (x: number) => x * 2);

      it("takes a cache Evaluation only when it agrees with its CallNode, and never lets one from elsewhere replace a stored one", async () => {
        const scheduler = new Scheduler({ repository: repo, now });
        expect(await scheduler.run(double(21))).toBe(42);
        const [stored] = await repo.get("Evaluation", await rawIds("Evaluation"));
        const [call] = await repo.get("CallNode", [stored!.callHash]);
        // A forged result: 666, with a CallNode claiming double(21) gave it.
        const evil = makeValueRecord(666, T0);
        const forgedCall = { ...call!, id: callNodeHash(call!.taskHash, call!.argsHash, evil.id, []), resultHash: evil.id, children: [] };
        const forged = { ...stored!, valueHash: evil.id, callHash: forgedCall.id, time: T0 + 99 };
        const before = await Promise.all(ALL_TYPES.map(rawIds));
        // Without its CallNode, or naming the real one with another result: refused, nothing written.
        await expect(importRecords(repo, [evil, forged])).rejects.toMatchObject({ code: "invalid", field: "records[1].callHash" });
        await expect(importRecords(repo, [evil, { ...stored!, valueHash: evil.id }])).rejects.toMatchObject({ field: "records[1].callHash" });
        await expect(importRecords(repo, [{ ...forged, argsHash: "a".repeat(40) }])).rejects.toMatchObject({ field: "records[0].id" });
        expect(await Promise.all(ALL_TYPES.map(rawIds))).toEqual(before);
        // Consistent with its own CallNode: the records are taken, the stored cache entry is kept.
        await importRecords(repo, [evil, forgedCall, forged]);
        expect(await rawIds("CallNode")).toContain(forgedCall.id);
        expect(await repo.get("Evaluation", [stored!.id])).toEqual([stored]);
        expect(await scheduler.run(double(21))).toBe(42);
        expect((await graph.log({ types: ["Job"], limit: 1 })).records[0]).toMatchObject({ status: "CACHED" });
        // A store without one takes it (the union), and a scheduler's own re-run may replace its entry.
        const other = await create();
        try {
          await importRecords(other.repository, [evil, forgedCall, forged]);
          expect(await other.repository.get("Evaluation", [stored!.id])).toEqual([forged]);
          await other.repository.write([call!, { ...stored!, time: T0 + 100 }]);
          expect((await other.repository.get("Evaluation", [stored!.id]))[0]).toMatchObject({ valueHash: stored!.valueHash, time: T0 + 100 });
          await other.repository.write([forged], { replaceEvaluations: false });
          expect((await other.repository.get("Evaluation", [stored!.id]))[0]).toMatchObject({ valueHash: stored!.valueHash });
        } finally {
          await other.cleanup?.();
        }
      });

      it("replaces a preview by its whole value, never a whole value by a preview, and takes no preview of a small value", async () => {
        // A preview claiming a small value's id: its id cannot be checked, only that it claims to stand for a large value.
        const whole = makeValueRecord({ answer: 42 }, T0 + 5);
        const claim = { ...whole, time: T0, encoded: '{"answer":6', size: MAX_VALUE_BYTES + 1, preview: true };
        await expect(importRecords(repo, [{ ...claim, size: 10 }])).rejects.toMatchObject({ field: "records[0].preview" });
        await expect(importRecords(repo, [{ ...claim, encoded: "x".repeat(PREVIEW_CHARS + 1) }])).rejects.toMatchObject({ field: "records[0].preview" });
        await importRecords(repo, [claim]);
        expect((await repo.get("Value", [whole.id]))[0]).toMatchObject({ preview: true });
        const { cursor } = await repo.exportSince(null, 1000);
        await importRecords(repo, [whole]);
        expect(await repo.get("Value", [whole.id])).toEqual([{ ...whole, time: T0 }]);
        expect(await rawIds("Value")).toEqual([whole.id]);
        // Exported again, whole.
        expect((await repo.exportSince(cursor, 1000)).records).toEqual([{ ...whole, time: T0 }]);
        await repo.write([claim]);
        expect(await repo.get("Value", [whole.id])).toEqual([{ ...whole, time: T0 }]);
        // A whole value of a cached call is reused once it replaces the preview.
        const keep = task("keep", (v: unknown) => v);
        const scheduler = new Scheduler({ repository: repo, now });
        expect(await scheduler.run(keep({ answer: 42 }))).toEqual({ answer: 42 });
        // Both in one batch, either order: the whole value.
        const other = await create();
        try {
          const second = makeValueRecord([1, 2, 3], T0);
          const secondClaim = { ...second, encoded: "[1,", size: MAX_VALUE_BYTES + 9, preview: true };
          await other.repository.write([secondClaim, second]);
          await other.repository.write([whole, claim]);
          expect((await other.repository.get("Value", [second.id, whole.id])).map((v) => v.preview)).toEqual([false, false]);
        } finally {
          await other.cleanup?.();
        }
      });

      it("takes whole values from elsewhere only up to the preview limit, as JSON", async () => {
        const encoded = JSON.stringify("x".repeat(MAX_VALUE_BYTES));
        const big = { type: "Value", id: valueHash("string", encoded), time: T0, valueType: "string", encoded, size: encoded.length, preview: false };
        await expect(importRecords(repo, [big])).rejects.toMatchObject({ code: "too_large", field: "records[0].encoded" });
        await expect(importRecords(repo, [{ ...makeValueRecord(1, T0), extra: 1 }])).rejects.toMatchObject({ field: "records[0].extra" });
        expect(await rawIds("Value")).toEqual([]);
      });
    });

    describe("trustworthy runs", () => {
      const statusesByTask = async (executionId: string) => {
        const jobs = (await graph.log({ types: ["Job"], execIds: [executionId], limit: 1000 })).records as (JobRecord & { taskName: string | null })[];
        const out: Record<string, string[]> = {};
        for (const j of jobs) (out[j.taskName ?? "?"] ??= []).push(j.status);
        for (const list of Object.values(out)) list.sort();
        return out;
      };

      afterEach(() => {
        greet = originalGreet;
        registerTask(originalGreet);
      });

      it("records the whole reused tree for a fully cached run: shape, call order, statuses and tags", async () => {
        const scheduler = new Scheduler({ repository: repo, now });
        const first = await scheduler.runWithId(main(NAMES), { tags: { user: "alice" } });
        const stored = Object.fromEntries(
          await Promise.all((["CallNode", "Value", "Task", "Evaluation"] as RecordType[]).map(async (t) => [t, await rawIds(t)] as const)),
        );
        const second = await scheduler.runWithId(main(NAMES), { tags: { user: "bob" } });
        expect(second.result).toEqual(first.result);
        expect(second.result).toEqual({ loud: ["HELLO, ANN!", "HELLO, BO!", "HELLO, CY!"], total: 7 });

        const jobsA = await repo.jobsOfExecution(first.executionId);
        const jobsB = await repo.jobsOfExecution(second.executionId);
        expect(jobsA).toHaveLength(11);
        expect(jobsB).toHaveLength(11);
        expect(jobsA.every((j) => j.status === "DONE")).toBe(true);
        expect(jobsB.every((j) => j.status === "CACHED" && j.endTime !== null)).toBe(true);
        const [execB] = await repo.get("Execution", [second.executionId]);
        expect(execB).toMatchObject({ status: "DONE" });
        expect(jobsB.find((j) => j.parentId === null)!.id).toBe(execB!.rootJobId);
        // Same shape: every job's call under the same parent call.
        const shape = (jobs: JobRecord[]) => {
          const byId = new Map(jobs.map((j) => [j.id, j]));
          return jobs.map((j) => JSON.stringify([j.callHash, j.parentId ? byId.get(j.parentId)!.callHash : null])).sort();
        };
        expect(shape(jobsB)).toEqual(shape(jobsA));
        // Call order: each reused job's children, in start order, are its call's children in order.
        const calls = new Map((await repo.get("CallNode", jobsB.map((j) => j.callHash!))).map((c) => [c.id, c]));
        for (const j of jobsB) {
          expect(jobsB.filter((k) => k.parentId === j.id).map((k) => k.callHash)).toEqual(calls.get(j.callHash!)!.children);
        }
        // Both executions' job trees list a job's children in call order.
        for (const run of [first, second]) {
          const jobs = new Map((await repo.jobsOfExecution(run.executionId)).map((j) => [j.id, j]));
          const tree = (await graph.show(run.executionId)).jobTree!;
          const rootCall = calls.get(jobs.get(tree.id)!.callHash!)!;
          expect(tree.children.map((c) => jobs.get(c.id)!.callHash)).toEqual(rootCall.children);
        }
        // Each reused job has the tags its task and its applyTags gave.
        const tagsByCall = async (executionId: string) =>
          (await graph.log({ types: ["Job"], execIds: [executionId], limit: 100 })).records
            .map((j) => JSON.stringify([j.type === "Job" ? j.callHash : null, j.tags]))
            .sort();
        expect(await tagsByCall(second.executionId)).toEqual(await tagsByCall(first.executionId));
        const loud = (await graph.log({ types: ["Job"], execTags: [["user", "bob"]], tags: [["loud", true]], limit: 100 })).records;
        expect(loud).toHaveLength(3);
        expect((await graph.log({ types: ["Job"], execTags: [["user", "bob"]], tags: [["stage", "count"]], limit: 100 })).records).toHaveLength(3);
        // applyTags' execution tags reach the new execution.
        expect((await graph.show(second.executionId)).record.tags).toEqual([["project", "tree"], ["total", 7], ["user", "bob"]]);
        // Nothing content-addressed is written twice; the new tags are the new jobs' and execution's only.
        for (const [type, ids] of Object.entries(stored)) expect(await rawIds(type as RecordType), type).toEqual(ids);
        const jobTags = (await graph.log({ types: ["Job"], execIds: [second.executionId], limit: 100 })).records.flatMap((j) => j.tags);
        const tagsOfB = (await repo.currentTags([second.executionId, ...jobsB.map((j) => j.id)])).length;
        expect(tagsOfB).toBe(jobTags.length + 3);
        // A third run is reused from the second's records just as well.
        const third = await scheduler.runWithId(main(NAMES), { tags: { user: "cy" } });
        expect((await repo.jobsOfExecution(third.executionId)).map((j) => j.status)).toEqual(Array(11).fill("CACHED"));
      });

      it("re-runs a changed subtask and the callers above it, reusing the unchanged siblings", async () => {
        const scheduler = new Scheduler({ repository: repo, now });
        await scheduler.runWithId(main(NAMES));
        greet = task("greet", (name: string) => `Hi, ${name}!`, { namespace: "tree", tags: { stage: "greet" } });
        const changed = await scheduler.runWithId(main(NAMES));
        expect(changed.result).toEqual({ loud: ["HI, ANN!", "HI, BO!", "HI, CY!"], total: 7 });
        expect(await statusesByTask(changed.executionId)).toEqual({
          "tree.main": ["DONE"],
          "tree.greet": ["DONE", "DONE", "DONE"],
          "tree.shout": ["DONE", "DONE", "DONE"],
          "tree.count": ["CACHED", "CACHED", "CACHED"],
          "tree.summarize": ["CACHED"],
        });
        // The reused summarize still gives its execution tag.
        expect((await graph.show(changed.executionId)).record.tags).toContainEqual(["total", 7]);
        const again = await scheduler.runWithId(main(NAMES));
        expect(again.result).toEqual(changed.result);
        expect((await repo.jobsOfExecution(again.executionId)).map((j) => j.status)).toEqual(Array(11).fill("CACHED"));
        // Back to the first greet: main's newest record names the other greet, so main runs again; the rest is reused.
        greet = originalGreet;
        registerTask(originalGreet);
        const back = await scheduler.runWithId(main(NAMES));
        expect(back.result).toEqual({ loud: ["HELLO, ANN!", "HELLO, BO!", "HELLO, CY!"], total: 7 });
        expect(await statusesByTask(back.executionId)).toEqual({
          "tree.main": ["DONE"],
          "tree.greet": ["CACHED", "CACHED", "CACHED"],
          "tree.shout": ["CACHED", "CACHED", "CACHED"],
          "tree.count": ["CACHED", "CACHED", "CACHED"],
          "tree.summarize": ["CACHED"],
        });
      });

      it("reuses on the task's own hash alone with checkValid shallow", async () => {
        let inner = task("inner", (n: number) => n + 1, { namespace: "shallow", tags: { layer: "inner" } });
        const outer = task("outer", (n: number) => inner(n), { namespace: "shallow", checkValid: "shallow" });
        const full = task("full", (n: number) => inner(n), { namespace: "shallow" });
        const scheduler = new Scheduler({ repository: repo, now });
        expect(await scheduler.run(outer(1))).toBe(2);
        expect(await scheduler.run(full(1))).toBe(2);
        inner = task("inner", (n: number) => n + 100, { namespace: "shallow", tags: { layer: "inner" } });
        const shallow = await scheduler.runWithId(outer(1));
        expect(shallow.result).toBe(2);
        const jobs = (await graph.log({ types: ["Job"], execIds: [shallow.executionId] })).records;
        expect(jobs.map((j) => [j.type === "Job" && j.status, j.type === "Job" && j.taskName]).sort()).toEqual([
          ["CACHED", "shallow.inner"],
          ["CACHED", "shallow.outer"],
        ]);
        // The reused inner job is of a task no longer defined: its tags come from the stored Task.
        expect(jobs.find((j) => j.type === "Job" && j.taskName === "shallow.inner")!.tags).toEqual([["layer", "inner"]]);
        expect(await scheduler.run(full(1))).toBe(101);
        expect(await scheduler.run(inner(1))).toBe(101);
      });

      it("keeps a failed job's arguments and its error with the stack", async () => {
        const ok = task("ok", (x: number) => x, { namespace: "fail" });
        const bad = task("bad", (x: number, why: string) => {
          throw new RangeError(`bad ${x}: ${why}`);
        }, { namespace: "fail", tags: { risky: true } });
        const caller = task("caller", (x: number) => [ok(x), bad(x, "because")], { namespace: "fail" });
        const scheduler = new Scheduler({ repository: repo, now });
        await expect(scheduler.run(caller(7), { tags: { user: "f" } })).rejects.toThrow("bad 7: because");
        const jobs = (await graph.log({ types: ["Job"], execTags: [["user", "f"]], limit: 100 })).records;
        const badJob = jobs.find((j) => j.type === "Job" && j.taskName === "fail.bad")!;
        const callerJob = jobs.find((j) => j.type === "Job" && j.taskName === "fail.caller")!;
        expect(badJob).toMatchObject({ status: "FAILED", error: "RangeError: bad 7: because" });
        expect(badJob.type === "Job" && badJob.args!.map((a) => a.value!.value)).toEqual([7, "because"]);
        expect(callerJob.type === "Job" && callerJob.args!.map((a) => a.value!.value)).toEqual([7]);
        const detail = await graph.show(badJob.id);
        expect(detail.call!.args.map((a) => a.value!.value)).toEqual([7, "because"]);
        expect(detail.call!.result!.valueType).toBe("error");
        const [errorValue] = await repo.get("Value", [detail.call!.result!.id]);
        const error = errorOfValue(errorValue!)!;
        expect(error).toMatchObject({ name: "RangeError", message: "bad 7: because" });
        expect(error.stack).toContain("bad 7: because");
        expect(error.stack).toMatch(/\n\s+at /);
        expect(detail.task).toMatchObject({ name: "bad", tags: [["risky", true]] });
        expect(detail.ancestors).toEqual({ executionId: badJob.type === "Job" ? badJob.executionId : "", jobs: [{ id: callerJob.id, taskName: "caller" }] });
        // The caller failed with the same error, after its completed child call.
        const callerDetail = await graph.show(callerJob.id);
        expect(callerDetail.call!.result!.id).toBe(errorValue!.id);
        expect(callerDetail.call!.children).toHaveLength(1);
        expect(callerJob).toMatchObject({ status: "FAILED", error: `child job ${badJob.id} failed` });
        // The failed execution's values include the arguments; an error is never reused as a result.
        const values = (await graph.log({ types: ["Value"], execTags: [["user", "f"]], limit: 100 })).records;
        expect(values.map((v) => (v.type === "Value" ? v.value : null))).toEqual(expect.arrayContaining([7, "because"]));
        await expect(scheduler.run(bad(7, "because"))).rejects.toThrow("bad 7: because");
      });

      it("records an interrupted run: its running jobs and the execution FAILED with the error interrupted", async () => {
        let release = () => {};
        const gate = new Promise<void>((resolve) => (release = resolve));
        const quick = task("quick", (x: number) => x * 2, { namespace: "intr" });
        const slow = task("slow", async (x: number) => {
          await gate;
          return x;
        }, { namespace: "intr" });
        const fan = task("fan", (xs: number[]) => [...xs.map((x) => quick(x)), ...xs.map((x) => slow(x))], { namespace: "intr" });
        const controller = new AbortController();
        const events: JobEvent[] = [];
        let started = () => {};
        const ready = new Promise<void>((resolve) => (started = resolve));
        const onJob = (e: JobEvent) => {
          events.push(e);
          const count = (task: string, status: string) => events.filter((x) => x.taskName === task && x.status === status).length;
          if (count("intr.slow", "RUNNING") === 2 && count("intr.quick", "DONE") === 2) started();
        };
        const scheduler = new Scheduler({ repository: repo, now, flushIntervalMs: 0 });
        const run = scheduler.runWithId(fan([1, 2]), { tags: { user: "int" }, signal: controller.signal, onJob });
        await ready;
        controller.abort();
        await expect(run).rejects.toMatchObject({ code: "interrupted" });
        const check = async () => {
          const [exec] = (await graph.log({ tags: [["user", "int"]] })).records;
          expect(exec).toMatchObject({ status: "FAILED", abandoned: false });
          expect(exec!.type === "Execution" && exec!.endTime).not.toBeNull();
          const jobs = (await graph.log({ types: ["Job"], execIds: [exec!.id], limit: 100 })).records as (JobRecord & { taskName: string; args: { value: { value: unknown } }[] })[];
          const byTask = (t: string) => jobs.filter((j) => j.taskName === t).map((j) => [j.status, j.error, j.args?.map((a) => a.value.value)]);
          expect(byTask("intr.quick").sort()).toEqual([["DONE", null, [1]], ["DONE", null, [2]]]);
          expect(byTask("intr.slow").sort()).toEqual([["FAILED", "interrupted", [1]], ["FAILED", "interrupted", [2]]]);
          expect(byTask("intr.fan")).toEqual([["FAILED", "interrupted", [[1, 2]]]]);
        };
        await check();
        const counts = async () => Promise.all((["Execution", "Job", "CallNode", "Value", "Tag", "Evaluation"] as RecordType[]).map(rawIds));
        const before = await counts();
        // The bodies left running finish later: nothing more is recorded for the interrupted run.
        release();
        await new Promise((resolve) => setTimeout(resolve, 20));
        await scheduler.flush();
        expect(await counts()).toEqual(before);
        await check();
        // An interrupted run is no cache entry: the next run runs the slow jobs.
        const next = await scheduler.runWithId(fan([1, 2]));
        expect(next.result).toEqual([2, 4, 1, 2]);
        expect(await statusesByTask(next.executionId)).toEqual({ "intr.fan": ["DONE"], "intr.quick": ["CACHED", "CACHED"], "intr.slow": ["DONE", "DONE"] });
      });

      it("shows a RUNNING execution whose lease has passed as abandoned", async () => {
        const at = now();
        const live: ExecutionRecord = { ...execution(uuid(), T0, "RUNNING"), endTime: null, leaseUntil: at + 60_000 };
        const dead: ExecutionRecord = { ...execution(uuid(), T0 + 1, "RUNNING"), endTime: null, leaseUntil: at - 1 };
        const done: ExecutionRecord = { ...execution(uuid(), T0 + 2, "DONE"), leaseUntil: at - 1 };
        const old: ExecutionRecord = { ...execution(uuid(), T0 + 3, "RUNNING"), endTime: null };
        await repo.write([live, dead, done, old]);
        const views = (await graph.log({ limit: 10 })).records;
        const abandoned = Object.fromEntries(views.map((v) => [v.id, v.type === "Execution" && v.abandoned]));
        expect(abandoned).toEqual({ [live.id]: false, [dead.id]: true, [done.id]: false, [old.id]: false });
        expect(formatRecordLine(views.find((v) => v.id === dead.id)!)).toMatch(/^Exec \w{8} \[ABANDONED\] /);
        expect((await graph.show(dead.id)).record).toMatchObject({ status: "RUNNING", abandoned: true });
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
