/**
 * What the inspector's CallNode screen and tag history read, over a memory
 * store: `CallGraph.callNode` (task, arguments, result, child calls, the
 * jobs that ran it) and `readTagHistory`'s earlier tags (superseded,
 * renamed, removed), with and without a store that lists a record's tags.
 */
import { describe, expect, it } from "vitest";
import { CallGraph, type Repository, type TagRecord } from "redun-edge";
import { ERROR_VALUE_TYPE, readTagHistory, type RecordedError } from "redun-edge/adapter-kit";
import { createMemoryRepository } from "redun-edge/memory";
import { seedDemo, steppingClock } from "./seed.ts";

/** The memory store, plus `entityTags` read from its raw tables (as a store with a tag index by entity offers it). */
function withEntityTags(): Repository & { entityTags(ids: readonly string[]): Promise<TagRecord[]> } {
  const memory = createMemoryRepository();
  return Object.assign(memory, {
    async entityTags(ids: readonly string[]) {
      const tags = [...memory.raw.get("Tag")!.values()] as TagRecord[];
      return tags.filter((t) => t.entityId !== null && ids.includes(t.entityId));
    },
  });
}

describe("CallGraph.callNode", () => {
  it("shows a call's task, arguments, result, child calls in call order, and the jobs that ran it", async () => {
    const repository = createMemoryRepository();
    const seeded = await seedDemo(repository);
    const graph = new CallGraph(repository, { now: steppingClock(Date.UTC(2026, 3, 1)) });
    const stats = (await graph.log({ types: ["Job"], taskNames: ["demo.stats"], limit: 10 })).records;
    // main(4) twice (the second CACHED) and main(3).
    expect(stats).toHaveLength(3);
    const first = stats.find((j) => j.type === "Job" && j.executionId === seeded.first)!;
    if (first.type !== "Job") throw new Error("not a job");
    const detail = await graph.callNode(first.callHash!.slice(0, 10));
    expect(detail.call.callHash).toBe(first.callHash);
    expect(detail.call.taskName).toBe("demo.stats");
    expect(detail.call.args.map((a) => a.value?.value)).toEqual([[1, 4, 9, 16]]);
    expect(detail.call.result?.value).toEqual({ mean: 7.5, total: 30 });
    expect(detail.task?.name).toBe("stats");
    expect(detail.children.map((c) => [c.taskName, c.result?.value])).toEqual([["demo.total", 30], ["demo.mean", 7.5]]);
    // The first run and its cached re-run share the call.
    const ran = detail.call.jobs.map((j) => [j.executionId, j.status]);
    expect(ran.sort()).toEqual([[seeded.cached, "CACHED"], [seeded.first, "DONE"]].sort());
    expect(detail.supported).toBe(true);
    await expect(graph.callNode(first.id)).rejects.toThrow(/no record/i);
  });

  it("a failed job's call has its arguments and the error it raised as its result", async () => {
    const repository = createMemoryRepository();
    const seeded = await seedDemo(repository);
    const graph = new CallGraph(repository);
    const { records } = await graph.log({ types: ["Job"], taskNames: ["demo.boom"], limit: 5 });
    const boom = records.find((r) => r.type === "Job" && r.executionId === seeded.failed)!;
    if (boom.type !== "Job") throw new Error("not a job");
    expect(boom.status).toBe("FAILED");
    const { call } = await graph.callNode(boom.callHash!);
    expect(call.args.map((a) => a.value?.value)).toEqual([3]);
    expect(call.result?.valueType).toBe(ERROR_VALUE_TYPE);
    const error = call.result!.value as RecordedError;
    expect([error.name, error.message]).toEqual(["Error", "n must be at most 2, got 3"]);
    expect(error.stack).toMatch(/seed\.ts/);
  });
});

describe("readTagHistory: earlier tags", () => {
  async function setUp(repository: Repository) {
    const seeded = await seedDemo(repository);
    let t = Date.UTC(2026, 5, 1);
    const graph = new CallGraph(repository, { now: () => (t += 1000) });
    return { graph, id: seeded.other };
  }

  for (const [name, make, complete] of [
    ["a store that lists a record's tags", withEntityTags, true],
    ["a store without entityTags", () => createMemoryRepository(), false],
  ] as const) {
    it(`lists superseded, renamed and removed tags with what ended each (${name})`, async () => {
      const repository = make();
      const { graph, id } = await setUp(repository);
      await graph.updateTags(id, [["user", "dave"]]);
      await graph.renameTag(id, "note", "remark");
      await graph.addTags(id, [["reviewed", true]]);
      await graph.removeTags(id, { keys: ["reviewed"] });
      await graph.addTags(id, [["stage", 1]]);
      await graph.removeTags(id, { tags: [["stage", 1]] });
      await graph.addTags(id, [["stage", 1]]);
      const history = await readTagHistory(repository, id);
      expect(history.complete).toBe(complete);
      const past = history.past.map((p) => [p.tag.key, p.tag.value, p.endedBy.map((e) => (e.entityId === null ? "rm" : `${e.key}=${JSON.stringify(e.value)}`))]);
      const linked = [
        ["stage", 1, ["stage=1", "rm"]],
        ["note", "<img src=x onerror=alert(1)>", ['remark="<img src=x onerror=alert(1)>"']],
        ["user", "carol", ['user="dave"']],
      ];
      // Newest first; the run's own tags (note, user) share one time.
      const times = history.past.map((p) => p.tag.time);
      expect(times).toEqual([...times].sort((a, b) => b - a));
      const byKey = (rows: unknown[][]) => [...rows].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      // A tag removed with nothing after it on its key is found only where the store lists a record's tags.
      expect(byKey(past)).toEqual(byKey(complete ? [...linked, ["reviewed", true, ["rm"]]] : linked));
      expect(past[0]).toEqual(linked[0]);
      expect(history.tags.map((e) => e.tag.key).sort()).toEqual(["project", "remark", "stage", "user"]);
    });
  }
});
