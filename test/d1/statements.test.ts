/**
 * The D1 adapter's statements, compiled without a database (in Node): what a
 * few of them look like, that their rows follow the row codecs, and that no
 * statement the adapter can send binds more than D1's 100 parameters or names
 * a placeholder it does not bind. (What they do is tested in workerd:
 * d1.workers.test.ts and the conformance suite.)
 */
import { describe, expect, it } from "vitest";
import { ValidationError, type AnyRecord, type Query, type TagRecord } from "../../core/index.ts";
import { makeTag, makeValueRecord, normalizeQuery } from "../../core/adapter-kit.ts";
import { MAX_PARAMS, type Statement } from "../../adapters/d1/d1.ts";
import * as sql from "../../adapters/d1/statements.ts";
import { TABLES, fromValues } from "../../adapters/d1/tables.ts";
import { buildDataset } from "./fixtures.ts";

const T0 = Date.UTC(2026, 0, 1);
const EXEC = "00000000-0000-4000-a000-000000000001";

/** At most MAX_PARAMS values bound, as many as the highest `?n` of the SQL names (SQLite's count; D1 refuses any other). */
function expectWellBound(statement: Statement, label = statement.sql.slice(0, 80)): void {
  expect(statement.params.length, label).toBeLessThanOrEqual(MAX_PARAMS);
  const named = [...statement.sql.matchAll(/\?(\d+)/g)].map((m) => Number(m[1]));
  expect(Math.max(0, ...named), label).toBe(statement.params.length);
}

describe("compiled statements", () => {
  it("read records by id as one JSON array per chunk, with the codec's columns", () => {
    const [get] = sql.getRecords("Execution", ["b", "a", "b"]);
    expect(get).toEqual({
      sql: `SELECT ${TABLES.Execution.columns.join(", ")} FROM executions WHERE id IN (SELECT value FROM json_each(?1))`,
      params: ['["b","a"]'],
    });
    // Tags by id go through tag_ids.
    expect(sql.getRecords("Tag", ["t"])[0]!.sql).toMatch(/^SELECT t\.id, t\.time, .* FROM json_each\(\?1\) AS i JOIN tag_ids AS ti_t ON ti_t\.prefix = substr\(i\.value, 1, 8\) JOIN tags AS t ON t\.seq = ti_t\.seq AND t\.id = i\.value$/);
    // Many ids: several statements, each under the chunk size.
    const ids = Array.from({ length: 30_000 }, (_, i) => `${i}`.padStart(40, "0"));
    const chunks = sql.getRecords("Value", ids);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flatMap((s) => JSON.parse(s.params[0] as string) as string[])).toEqual(ids);
  });

  it("page an export by seq, and find ids by prefix as ranges", () => {
    expect(sql.exportRows("Tag", 10, 20)).toEqual({
      sql: `SELECT ${TABLES.Tag.columns.join(", ")}, seq FROM tags WHERE seq > ?1 AND seq <= ?2`,
      params: [10, 20],
    });
    const seqs = sql.exportSeqs(0, 101);
    expect(seqs).toHaveLength(7);
    expect(seqs.find((s) => s.sql.includes("value_records"))!.sql).toContain("AS bytes");
    const [prefix] = sql.findByPrefix(["ab", ""], ["Job"], 5);
    expect(prefix!.params).toEqual([JSON.stringify([["ab", "ac"], ["", "\u{10FFFF}"]]), 5]);
  });

  it("write tag rows in the Tag codec's layout, grouped by entity", () => {
    const parent = makeTag("Execution", EXEC, "k", 1, [], T0);
    const child = makeTag("Execution", EXEC, "k", { b: 1, a: [2] }, [parent.id], T0 + 1);
    const [batch] = sql.planWrite([parent, child]);
    const statements = batch!;
    expect(statements.map((s) => s.sql.split(" ").slice(0, 3).join(" "))).toEqual([
      "INSERT INTO tag_parents", // the chunk's edges, then its stored parents uncurrent, then its tags
      "UPDATE tags SET",
      "WITH e AS",
      "UPDATE tags SET", // the batch's own parents
      "INSERT INTO tag_kv",
      "INSERT INTO tag_ids",
      "INSERT INTO tag_value_counts",
      "INSERT INTO tag_key_counts",
      "UPDATE counters SET",
    ]);
    expect(statements.at(-1)!.params).toEqual([2]);
    // The bound rows decode, through the codec, back to the records.
    const [entityType, entityId, rows] = (JSON.parse(statements[2]!.params[0] as string) as [string, string, unknown[][]][])[0]!;
    const tagColumns = TABLES.Tag.columns.filter((c) => c !== "entity_type" && c !== "entity_id");
    const decoded = rows.map(([offset, ...values]: unknown[]) => {
      const named = Object.fromEntries(tagColumns.map((c, i) => [c, values[i]]));
      const all = TABLES.Tag.columns.map((c) => (c === "entity_type" ? entityType : c === "entity_id" ? entityId : named[c]));
      return [offset, fromValues(TABLES.Tag, all.map((v, i) => (TABLES.Tag.jsonColumns.has(TABLES.Tag.columns[i]!) ? JSON.stringify(v) : v)))];
    });
    expect(decoded).toEqual([[1, parent], [2, child]]);
  });

  it("bind a Value too large for a chunk column by column, in the Value codec's order", () => {
    const value = makeValueRecord("x".repeat(5_000), T0);
    const [batch] = sql.planWrite([value], undefined, new Map(), 1_000);
    const [insert, bump] = batch!;
    expect(insert!.params).toEqual([...TABLES.Value.values(value), 1]);
    expect(insert!.sql).toMatch(new RegExp(`^INSERT INTO value_records \\(${TABLES.Value.columns.join(", ")}, seq\\) VALUES \\(\\?1, .*\\?8\\)`));
    expect(bump!.sql).toMatch(/^UPDATE counters/);
  });
});

describe("no statement binds more than D1's 100 parameters", () => {
  const queries: Query[] = [
    {},
    { tags: [["user", "alice"], ["env"], ["cost", 3]], execTags: [["project", "redun"], ["run"]], limit: 50 },
    { types: ["Job", "CallNode", "Task", "Value", "Execution"], execStatus: ["DONE", "FAILED"], jobStatus: ["RUNNING", "CACHED"], taskNames: ["a", "b.c"], execIds: [EXEC] },
    { idPrefix: "ab", tags: [["k", "v"]], cursor: `${T0}~${EXEC}` },
    { tags: Array.from({ length: 8 }, (_, i) => [`k${i}`, i] as [string, number]), execTags: Array.from({ length: 4 }, (_, i) => [`e${i}`] as [string]), types: ["Job", "Execution"] },
  ];

  it("across queries, plans and contexts, under every planner", () => {
    for (const raw of queries) {
      const q = normalizeQuery(raw);
      for (const planner of ["cost", "walk", "drive"] as const) {
        const label = `${JSON.stringify(raw)} (${planner})`;
        for (const arm of sql.buildQueryArms(q, planner)) expectWellBound(arm, label);
        expectWellBound(sql.queryContextSql(q, planner), `${label} context`);
        for (const type of q.types) {
          const choice = sql.planChoiceSql(q, type, planner);
          if (choice) expectWellBound(choice, `${label} plan of ${type}`);
        }
      }
    }
  });

  it("refuses a query that would need more, naming it", () => {
    const q = normalizeQuery({ tags: Array.from({ length: 60 }, (_, i) => [`k${i}`, i] as [string, number]) });
    expect(() => sql.queryContextSql(q, "cost")).toThrow(ValidationError);
  });

  it("across writes and reads", () => {
    const data = buildDataset(40, 3, 3);
    const records = [...data.records, ...data.edits] as AnyRecord[];
    records.push(makeValueRecord("y".repeat(50_000), T0));
    const tagValues = sql.validateRecords(records);
    for (const chunkBytes of [2_000, 400_000]) {
      for (const batch of sql.planWrite(records, 7, tagValues, chunkBytes)) for (const s of batch) expectWellBound(s);
    }
    const ids = records.map((r) => r.id);
    const reads: Statement[] = [
      ...Object.keys(TABLES).flatMap((type) => sql.getRecords(type as keyof typeof TABLES, ids)),
      ...sql.findByPrefix(["a", "b", ""], Object.keys(TABLES) as (keyof typeof TABLES)[], 10),
      ...sql.currentTags(ids),
      ...sql.currentTagRows(ids),
      ...sql.tagChildren(ids),
      sql.countTags(true, ["a"]),
      sql.countTags(false, null),
      sql.jobsOfExecution(EXEC),
      sql.jobsOfValues(ids, 10),
      ...sql.exportSeqs(0, 10),
      sql.exportRows("Job", 0, 10),
      sql.recordContext(records.filter((r) => r.type !== "Tag" && r.type !== "Evaluation").map((r) => ({ type: r.type, id: r.id }))),
    ];
    for (const s of reads) expectWellBound(s);
    expect(records.filter((r): r is TagRecord => r.type === "Tag").length).toBeGreaterThan(100);
  });
});
