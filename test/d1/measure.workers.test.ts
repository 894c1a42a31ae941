/**
 * A quick measurement of the D1 adapter inside workerd (local D1, so no
 * network between Worker and database): ingest rate and hot query timings
 * with their query plans. Opt-in, it takes a while:
 *   D1_MEASURE=1 npx vitest run --project workers test/d1/measure
 * (D1_MEASURE_EXECUTIONS sets the store size for the query timings.)
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ENTITY_TYPES, type Query } from "redun-edge";
import { normalizeQuery } from "redun-edge/adapter-kit";
import { createD1Repository, type D1Like, type D1Repository } from "redun-edge/d1";
import { median, medianMs } from "../../bench/timing.ts";
import { buildDataset } from "./fixtures.ts";
import { db, emptyDatabase } from "./harness.ts";

const enabled = env.D1_MEASURE === "1";
const executions = Number(env.D1_MEASURE_EXECUTIONS || 10_000);

/** The test D1, summing the SQL time D1 reports per statement (no round trips, no scheduling noise). */
const meter = { sql: 0 };
const meteredDb: D1Like = {
  prepare: (sql) => db.prepare(sql),
  batch: async <T>(statements: Parameters<D1Like["batch"]>[0]) => {
    const results = await db.batch<T>(statements);
    for (const r of results) meter.sql += r.meta?.duration ?? 0;
    return results;
  },
};

/** Median SQL time (ms, as D1 reports it) of `fn`'s statements over `runs` runs. */
async function sqlTime(fn: () => Promise<unknown>, runs = 7): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    meter.sql = 0;
    await fn();
    times.push(meter.sql);
  }
  return median(times);
}

/** Median of `runs` timings (ms) of `fn`; the clock only moves across I/O in workerd, which D1 calls are. */
const time = (fn: () => Promise<unknown>, runs = 7): Promise<number> => medianMs(fn, runs, 0);

describe.runIf(enabled)("D1 measurements", () => {
  let repo: D1Repository;

  it("ingests ~10,000 records", async () => {
    await emptyDatabase();
    repo = createD1Repository(db);
    const data = buildDataset(420, 3, 7);
    const records = data.records.slice(0, 10_000);
    const start = performance.now();
    await repo.write(records);
    const oneBatch = performance.now() - start;
    await emptyDatabase();
    const start2 = performance.now();
    for (let i = 0; i < records.length; i += 500) await repo.write(records.slice(i, i + 500));
    const batches500 = performance.now() - start2;
    const start3 = performance.now();
    await repo.write(records);
    const rewrite = performance.now() - start3;
    console.log(
      `ingest ${records.length} records: one write ${oneBatch.toFixed(0)} ms (${((records.length / oneBatch) * 1000).toFixed(0)} rec/s); ` +
        `writes of 500: ${batches500.toFixed(0)} ms (${((records.length / batches500) * 1000).toFixed(0)} rec/s); ` +
        `idempotent re-write: ${rewrite.toFixed(0)} ms`,
    );
  });

  describe("hot queries", () => {
    beforeAll(async () => {
      await emptyDatabase();
      repo = createD1Repository(db);
      const data = buildDataset(executions, 3, 11);
      const start = performance.now();
      for (let i = 0; i < data.records.length; i += 5_000) await repo.write(data.records.slice(i, i + 5_000));
      await repo.write(data.edits);
      const ms = performance.now() - start;
      console.log(`store: ${executions} executions, ${data.records.length + data.edits.length} records, written in ${ms.toFixed(0)} ms`);
    }, 600_000);

    const cases: [string, Query][] = [
      ["newest executions", {}],
      ["selective tag (run=1234)", { tags: [["run", 1234]] }],
      ["broad tag (project=redun)", { tags: [["project", "redun"]] }],
      ["medium tag (user=alice)", { tags: [["user", "alice"]] }],
      ["two tags (user=alice, env=prod)", { tags: [["user", "alice"], ["env", "prod"]] }],
      ["key only (env)", { tags: [["env"]] }],
      ["no match (user=nobody)", { tags: [["user", "nobody"]] }],
      ["jobs of tagged executions", { types: ["Job"], execTags: [["user", "bob"]] }],
      ["jobs of one execution (selective execTag)", { types: ["Job"], execTags: [["run", 77]] }],
      ["values of one execution", { types: ["Value"], execTags: [["run", 77]] }],
      ["failed jobs", { types: ["Job"], jobStatus: ["FAILED"] }],
      ["jobs by task name", { types: ["Job"], taskNames: ["wf.step"] }],
      ["id prefix (executions)", { idPrefix: "abc" }],
      ["mixed types", { types: ["Execution", "Job", "CallNode", "Value"], limit: 50 }],
      ["running jobs (none)", { types: ["Job"], jobStatus: ["RUNNING"] }],
      ["tasks of tagged executions", { types: ["Task"], execTags: [["user", "bob"]] }],
    ];

    it("times the hot queries and shows their plans", async () => {
      const walk = createD1Repository(db, { planner: "walk" });
      const driven = createD1Repository(db, { planner: "drive" });
      const auto = createD1Repository(meteredDb);
      const lines: string[] = [
        "wall ms: median over 7 runs, round trip included; sql ms: D1's own statement timings (1 ms resolution)",
        `${"query (limit 100)".padEnd(44)}    auto     walk   driven  auto-sql  rows`,
      ];
      const ms = (n: number) => n.toFixed(1).padStart(7);
      for (const [name, raw] of cases) {
        const q = normalizeQuery({ limit: 100, ...raw });
        const page = await repo.query(q);
        expect((await walk.query(q)).refs).toEqual(page.refs);
        expect((await driven.query(q)).refs).toEqual(page.refs);
        const [a, w, d] = [await time(() => repo.query(q)), await time(() => walk.query(q)), await time(() => driven.query(q))];
        const s = await sqlTime(() => auto.query(q));
        lines.push(`${name.padEnd(44)} ${ms(a)}  ${ms(w)}  ${ms(d)}  ${ms(s)}   ${String(page.refs.length).padStart(4)}`);
        for (const line of await repo.explain(q)) lines.push(`    ${line}`);
      }
      const prefix = (await repo.query(normalizeQuery({ limit: 1 }))).refs[0]!.id.slice(0, 6);
      const page = await repo.exportSince(null, 1000);
      const others: [string, () => Promise<unknown>][] = [
        ["findByPrefix (6 chars)", () => repo.findByPrefix([prefix], ENTITY_TYPES, 11)],
        ["countTags by key and type", () => repo.countTags({ values: false })],
        ["countTags by value (key=user)", () => repo.countTags({ values: true, keys: ["user"] })],
        ["countTags by value (all keys)", () => repo.countTags({ values: true })],
        ["exportSince (page of 1000)", () => repo.exportSince(page.cursor, 1000)],
        ["jobsOfExecution", () => repo.jobsOfExecution(page.records.find((r) => r.type === "Execution")!.id)],
      ];
      for (const [name, fn] of others) lines.push(`${name.padEnd(44)} ${ms(await time(fn))}`);
      lines.push(`baseline round trip (SELECT 1)               ${ms(await time(() => db.prepare("SELECT 1").all()))}`);
      console.log(lines.join("\n"));
      expect(lines.length).toBeGreaterThan(0);
    }, 600_000);
  });
});
