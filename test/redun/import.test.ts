/**
 * A real redun database (fixtures/redun.db, made by redun 0.46.0) imported
 * into the memory and IndexedDB (fake-indexeddb) stores: every id verified
 * with redun's formulas, what `log` and `tag list` print held to redun's
 * transcript, tampered rows refused one by one, re-imports that write
 * nothing, and tags edited here written back into the database.
 */
process.env.TZ = "UTC";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { IDBFactory } from "fake-indexeddb";
import "fake-indexeddb/auto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CallGraph,
  copyRecords,
  importRecords,
  mapRedunRows,
  newRedunRecords,
  tagsToExport,
  type Repository,
} from "redun-edge";
import { verifyRecordId } from "redun-edge/adapter-kit";
import { createMemoryRepository } from "redun-edge/memory";
import { createIndexedDbRepository } from "redun-edge/indexeddb";
import { hashStruct } from "../../core/redun/hash.ts";
import { readRedunIds, readRedunRows, writeRedunTags } from "../../local/redun-db.ts";
import { answer, expectedOutput, importInto, parseTranscript, shellWords } from "./transcript.ts";

const FIXTURES = join(import.meta.dirname, "fixtures");
const DB = join(FIXTURES, "redun.db");
const transcript = parseTranscript(readFileSync(join(FIXTURES, "final.txt"), "utf8"));
const ids = { E1: "484b6c40-028c-4d79-b68e-70c94d8a0eb3", E2: "035fa44d-43c8-47eb-9122-d27a6d19136b", E5: "1f5b5827-89e2-4caa-b37b-14b149fa8388" };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "redun-edge-import-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the fixture to change. */
function copy(name: string): string {
  const path = join(dir, name);
  copyFileSync(DB, path);
  return path;
}

const stores: [string, () => Repository][] = [
  ["memory", () => createMemoryRepository()],
  ["indexeddb (fake-indexeddb)", () => createIndexedDbRepository({ name: `redun-${Math.random()}`, indexedDB: new IDBFactory() })],
];

describe("mapping redun's rows", () => {
  it("keeps every record with redun's id, each verified by redun's formulas", () => {
    const mapping = mapRedunRows(readRedunRows(DB));
    expect(mapping.refused).toEqual([]);
    const counts: Record<string, number> = {};
    for (const r of mapping.records) counts[r.type] = (counts[r.type] ?? 0) + 1;
    // 83 value rows: 7 of them are the tasks themselves (type redun.Task, the task's hash), kept once as Tasks.
    expect(counts).toEqual({ Execution: 5, Job: 54, CallNode: 29, Task: 7, Value: 76, Evaluation: 28, Tag: 132 });
    expect(mapping.taskValues).toBe(7);
    expect(mapping.records.filter((r) => !verifyRecordId(r))).toEqual([]);
    // Files, expressions and the error value have ids redun derives from data it does not store with them.
    expect(mapping.opaque).toBe(30);
  });

  it("derives job and execution status as redun does, and keeps redun's times to the microsecond", () => {
    const records = mapRedunRows(readRedunRows(DB)).records;
    const job = (prefix: string) => records.find((r) => r.type === "Job" && r.id.startsWith(prefix))!;
    expect(job("85cd3c12")).toMatchObject({ status: "FAILED", error: "ValueError: boom: asked to fail on x=3" });
    expect(job("27f75315")).toMatchObject({ status: "RUNNING", endTime: null, callHash: null });
    expect(job("dfda848c")).toMatchObject({ status: "CACHED" });
    expect(job("f71edc0f")).toMatchObject({ status: "DONE", startTime: Date.UTC(2026, 11, 5, 8, 9, 34) + 356.866 });
    const exec = records.find((r) => r.id === "07cbc2cf-30bf-4041-aba5-39208a7a6e86")!;
    expect(exec).toMatchObject({ type: "Execution", status: "FAILED", argv: ["run", "--tag", "env=test", "--tag", "note=", "--tag", "reviewer=null", "workflow.py", "main", "--fail", "true"] });
    const ratio = records.find((r) => r.type === "Tag" && r.key === "ratio")!;
    expect(ratio).toMatchObject({ value: 1000, valueText: "1000.0" });
    const count = records.find((r) => r.type === "Task" && r.name === "count_chars")!;
    expect(count).toMatchObject({ version: "1" });
  });
});

describe.each(stores)("redun's database imported into %s", (_, create) => {
  let repository: Repository;
  let graph: CallGraph;
  beforeAll(async () => {
    repository = create();
    graph = new CallGraph(repository);
    const written = await importInto(repository, mapRedunRows(readRedunRows(DB)), (batch) => importRecords(repository, batch));
    expect(written).toBe(331);
  });

  it.each(transcript.filter((b) => expectedOutput(b) !== null).map((b) => [b.command, b] as const))("%s prints what redun printed", async (_, block) => {
    expect(await answer(graph, shellWords(block.command))).toBe(expectedOutput(block));
  });

  it("a failed job's detail follows redun's log_job: no duration, the error raised, the dataflow of the error", async () => {
    // Not in the transcript; the lines redun's log_job prints for a FAILED job with a call node.
    const text = await answer(graph, ["redun", "log", "85cd3c12"]);
    const lines = text.split("\n");
    expect(lines.slice(0, 7)).toEqual([
      "Job 85cd3c12-17fb-447e-93ca-01c1cc359121 [FAILED] 2026-12-05 08:09:39:  hello.may_fail(3, True) (risky=true)",
      "Traceback: Exec 07cbc2cf > Job 4df3ffee main > Job 85cd3c12 may_fail",
      "",
      "  CallNode 550b2e1a66754c06e14e7abd75a5f049db1c5f7b hello.may_fail ",
      "    Args:   3, True",
      "    Raised: ValueError('boom: asked to fail on x=3')",
      "",
    ]);
    const flow = lines.indexOf("  Upstream dataflow:");
    expect(lines.slice(flow, flow + 12)).toEqual([
      "  Upstream dataflow:",
      "",
      "    result = ErrorValue(ValueError('boom: asked to fail on x=3'))",
      "",
      "    result <-- <550b2e1a> may_fail(x, fail)",
      "      x    = <b0f83101> 3",
      "      fail = <4ea83061> True",
      "",
      "    fail <-- argument of <c1a3771a> main(names, fail)",
      "         <-- origin",
      "",
      "",
    ]);
    // A job killed before its call was recorded: redun's `CallNode UNKNOWN`, then its task.
    const killed = (await answer(graph, ["redun", "log", "c5789253"])).split("\n");
    expect(killed.slice(1, 5)).toEqual(["Traceback: Exec 07cbc2cf > Job 4df3ffee main > Job c5789253 shout", "", "  CallNode UNKNOWN: Job has not finished or has been killed.", ""]);
    expect(killed[5]).toBe("  Task 75cd0eac4e9edc16e198c1d3cfe80ef2c23f6ebf hello.shout ");
  });

  it("importing again writes nothing, and keeps tags edited here", async () => {
    await graph.addTags(ids.E1.slice(0, 8), [["reviewed_here", true]]);
    const again = await newRedunRecords(repository, mapRedunRows(readRedunRows(DB)).records);
    expect(again).toEqual({ records: [], already: 331 });
    const tags = (await graph.show(ids.E1.slice(0, 8))).record.tags;
    expect(tags).toContainEqual(["reviewed_here", true]);
    expect(tags).toContainEqual(["owner", "alice"]);
  });

  it("a store that pulls the imported records verifies each and agrees", async () => {
    const other = createMemoryRepository();
    const copied = await copyRecords(repository, { importRecords: (records) => importRecords(other, records) });
    expect(copied.records).toBeGreaterThanOrEqual(331);
    const block = transcript.find((b) => b.command === "redun tag list")!;
    const theirs = await answer(new CallGraph(other), shellWords(block.command));
    expect(theirs).toBe(await answer(graph, shellWords(block.command)));
  });
});

describe("verification", () => {
  it("refuses tampered rows one by one and imports the rest", async () => {
    const path = copy("tampered.db");
    const db = new DatabaseSync(path, { enableForeignKeyConstraints: false });
    const tagId = (db.prepare("SELECT tag_hash FROM tag WHERE key = 'owner' AND is_current").get() as { tag_hash: string }).tag_hash;
    db.prepare("UPDATE tag SET value = '\"mallory\"' WHERE tag_hash = ?").run(tagId);
    const alice = "1072053051f431af99cf10c884034c002a1b6ae4"; // 'HELLO, ALICE!'
    db.prepare("UPDATE value SET value = replace(value, CAST('ALICE' AS BLOB), CAST('EVE!!' AS BLOB)) WHERE value_hash = ?").run(alice);
    const node = "5a6fd22ab3e4f6104d36f1c43388baeed2194fef";
    db.prepare("UPDATE call_node SET value_hash = ? WHERE call_hash = ?").run(alice.replace("1", "2"), node);
    db.prepare("UPDATE task SET source = source || ' ' WHERE name = 'greet'").run();
    const evaluation = (db.prepare("SELECT eval_hash FROM evaluation LIMIT 1").get() as { eval_hash: string }).eval_hash;
    db.prepare("UPDATE evaluation SET args_hash = task_hash WHERE eval_hash = ?").run(evaluation);
    const argued = (db.prepare("SELECT call_hash FROM argument WHERE call_hash <> ? LIMIT 1").get(node) as { call_hash: string }).call_hash;
    db.prepare("UPDATE argument SET value_hash = ? WHERE call_hash = ?").run(alice, argued);
    db.close();

    const mapping = mapRedunRows(readRedunRows(path));
    expect(mapping.refused.map((r) => `${r.table} ${r.id}`).sort()).toEqual(
      [
        `tag ${tagId}`, `value ${alice}`, `call_node ${node}`, "task 291af02232be332367cf1bcec0e21fce9d6bb81f", `evaluation ${evaluation}`, `call_node ${argued}`,
        "evaluation 3e6de07454eaf7e9c775918491ae9cd13c503baa", "evaluation e74e4b97a0e5ebbc7bdc4183678ba29aad3f899c",
      ].sort(),
    );
    // And the cache entries of the two refused call nodes: an Evaluation is taken only beside its call (the trust rule).
    const ofRefusedCalls = mapping.refused.filter((r) => r.reason.startsWith("its call node"));
    const hashes = mapping.refused.filter((r) => !ofRefusedCalls.includes(r));
    expect(hashes).toHaveLength(6);
    for (const r of hashes) expect(r.reason).toMatch(/does not match redun's/);
    expect(ofRefusedCalls.map((r) => [r.table, r.reason])).toEqual([
      ["evaluation", expect.stringMatching(/^its call node (5a6fd22a|027e440a)[0-9a-f]{32} was refused$/)],
      ["evaluation", expect.stringMatching(/^its call node (5a6fd22a|027e440a)[0-9a-f]{32} was refused$/)],
    ]);
    expect(mapping.records).toHaveLength(331 - 8);
    const repository = createMemoryRepository();
    expect(await importInto(repository, mapping, (batch) => importRecords(repository, batch))).toBe(323);
  });

  it("a store refuses a pushed record whose content does not match its redun id", async () => {
    const mapping = mapRedunRows(readRedunRows(DB));
    const repository = createMemoryRepository();
    const value = mapping.records.find((r) => r.type === "Value" && r.redun?.pickle && !r.redun.opaque)!;
    const forged = { ...value, encoded: '"forged"' };
    await expect(importRecords(repository, [forged])).rejects.toThrow(/does not match the Value's content/);
    const tag = mapping.records.find((r) => r.type === "Tag" && r.valueText)!;
    await expect(importRecords(repository, [{ ...tag, valueText: "1001.0" }])).rejects.toThrow(/does not match the Tag's content/);
    const node = mapping.records.find((r) => r.type === "CallNode" && r.children.length > 0)!;
    await expect(importRecords(repository, [{ ...node, children: [] }])).rejects.toThrow(/does not match the CallNode's content/);
  });
});

describe("incremental import", () => {
  it("after redun ran more, writes only the new rows, and a job that finished since", async () => {
    const rows = readRedunRows(DB);
    // The database as it was before its last execution, with one job of the first still running.
    const later = new Set([ids.E5]);
    const laterJobs = new Set(rows.jobs.filter((j) => later.has(j.execution_id)).map((j) => j.id));
    const before = {
      ...rows,
      executions: rows.executions.filter((x) => !later.has(x.id)),
      jobs: rows.jobs.filter((j) => !laterJobs.has(j.id)).map((j) => (j.id.startsWith("877b5fc4") ? { ...j, end_time: null } : j)),
      tags: rows.tags.filter((t) => !later.has(t.entity_id) && !laterJobs.has(t.entity_id)),
    };
    const repository = createMemoryRepository();
    const write = (batch: readonly unknown[]) => importRecords(repository, batch);
    const first = await importInto(repository, mapRedunRows(before), write);
    const second = await newRedunRecords(repository, mapRedunRows(rows).records);
    expect(first + second.records.length - 1).toBe(331);
    expect(second.records.map((r) => r.id)).toContain(ids.E5);
    expect(second.records.filter((r) => r.type === "Job").map((r) => r.id)).toContain("877b5fc4-0969-47dc-ae6d-724cd770eac8");
    for (const batch of [second.records]) await write(batch);
    const [job] = await repository.get("Job", ["877b5fc4-0969-47dc-ae6d-724cd770eac8"]);
    expect(job!.status).toBe("DONE");
  });
});

describe("export --redun: tags edited here, written back", () => {
  it("writes new tags and edits with is_current as redun keeps it; again writes nothing; re-import finds nothing new", async () => {
    const path = copy("export.db");
    const repository = createMemoryRepository();
    const graph = new CallGraph(repository);
    await importInto(repository, mapRedunRows(readRedunRows(path)), (batch) => importRecords(repository, batch));
    await graph.addTags(ids.E1.slice(0, 8), [["exported", "yes"], ["ratio", 2.5], ["big", 12345678901234567890]]);
    await graph.updateTags(ids.E2.slice(0, 8), [["env", "final2"]]);
    await graph.removeTags(ids.E5.slice(0, 8), { keys: ["latest"] });
    await graph.addTags("1072053051f431af99cf10c884034c002a1b6ae4", [["curated", false]]);
    await graph.addTags("291af022", [["owner", "core-team"]]);

    const before = readRedunIds(path);
    const rows = await tagsToExport(repository, new Set(before.entities.keys()), before.tags);
    // 3 added on E1, the update of env on E2, the removal of latest on E5, one on a Value and one on a Task.
    expect(rows).toHaveLength(7);
    const written = writeRedunTags(path, rows);
    expect(written).toEqual({ tags: 7, edges: 2 });

    const db = new DatabaseSync(path, { readOnly: true });
    const row = (key: string, entity: string) => db.prepare("SELECT * FROM tag WHERE key = ? AND entity_id = ?").all(key, entity) as Record<string, unknown>[];
    expect(row("exported", ids.E1)).toEqual([expect.objectContaining({ entity_type: "Execution", value: '"yes"', is_current: 1 })]);
    expect(row("big", ids.E1)).toEqual([expect.objectContaining({ value: "1.2345678901234567e+19", is_current: 1 })]);
    expect(row("owner", "291af02232be332367cf1bcec0e21fce9d6bb81f")).toEqual([expect.objectContaining({ entity_type: "Task" })]);
    const env = row("env", ids.E2);
    expect(env.map((r) => [r.value, r.is_current]).sort()).toEqual([['"dev"', 0], ['"final"', 0], ['"final2"', 1], ['"prod"', 0]]);
    expect(row("latest", ids.E5)).toEqual([expect.objectContaining({ is_current: 0 })]);
    // Every id is redun's formula over the row as written, and is_current holds exactly for tags nothing replaces.
    const edits = db.prepare("SELECT parent_id, child_id FROM tag_edit").all() as { parent_id: string; child_id: string }[];
    const parentsOf = (id: string) => edits.filter((e) => e.child_id === id).map((e) => e.parent_id).sort();
    for (const t of db.prepare("SELECT * FROM tag").all() as { tag_hash: string; entity_id: string; key: string; value: string; is_current: number }[]) {
      expect(hashStruct(["Tag", t.entity_id, t.key, t.value, parentsOf(t.tag_hash)])).toBe(t.tag_hash);
      expect(t.is_current, t.tag_hash).toBe(edits.some((e) => e.parent_id === t.tag_hash) ? 0 : 1);
    }
    db.close();

    const after = readRedunIds(path);
    expect(await tagsToExport(repository, new Set(after.entities.keys()), after.tags)).toEqual([]);
    expect(writeRedunTags(path, rows)).toEqual({ tags: 0, edges: 0 });
    const reimport = mapRedunRows(readRedunRows(path));
    expect(reimport.refused).toEqual([]);
    expect((await newRedunRecords(repository, reimport.records)).records).toEqual([]);
    // A fresh store importing the written-back database sees the edits as redun's log would.
    const fresh = createMemoryRepository();
    await importInto(fresh, reimport, (batch) => importRecords(fresh, batch));
    const line = await answer(new CallGraph(fresh), ["redun", "log", "--tag", "env=final2"]);
    expect(line).toContain("Exec 035fa44d");
    expect(line).toContain("env=final2");
  });
});
