/**
 * Measurements in Chromium (printed, with loose floors so a regression of an
 * order of magnitude fails): recording a 10,000-job workflow, and a one-tag
 * query for the newest 100 over 100,000 executions, selective and broad.
 * About 80 s, so only on request:
 *   REDUN_BENCH=1 npx vitest run --project browser test/indexeddb/bench
 * With VITE_REDUN_BENCH_OUT=<path relative to the project root>, the figures
 * are also written there as JSON (bench/indexeddb.ts reads them).
 */
import { afterAll, describe, expect, it } from "vitest";
import { commands } from "vitest/browser";
import {
  CallGraph,
  Scheduler,
  task,
  type AnyRecord,
  type ExecutionRecord,
  type Query,
  type Repository,
} from "redun-edge";
import { makeTag, normalizeQuery } from "redun-edge/adapter-kit";
import { createMemoryRepository } from "redun-edge/memory";
import { createIndexedDbRepository } from "redun-edge/indexeddb";
import { median } from "../../bench/timing.ts";

const inc = task("inc", (x: number) => x + 1, { namespace: "bench" });
const total = task("total", (xs: number[]) => xs.reduce((a, b) => a + b, 0), { namespace: "bench" });
const fanOut = task("fan_out", (n: number) => total(Array.from({ length: n }, (_, i) => inc(i))), { namespace: "bench" });

const fresh = () => createIndexedDbRepository({ name: `bench-${Date.now()}-${Math.random()}` });

async function recordWorkflow(repository: Repository, jobs: number): Promise<{ ms: number; jobsPerSecond: number }> {
  const scheduler = new Scheduler({ repository });
  const t0 = performance.now();
  const result = await scheduler.run(fanOut(jobs - 2), { tags: { user: "bench" } });
  const ms = performance.now() - t0;
  expect(result).toBe(((jobs - 2) * (jobs - 1)) / 2);
  return { ms: Math.round(ms), jobsPerSecond: Math.round((jobs / ms) * 1000) };
}

async function timeQuery(repository: Repository, query: Query, runs = 25): Promise<{ ms: number; rows: number }> {
  const q = normalizeQuery(query);
  let rows = 0;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const page = await repository.query(q);
    times.push(performance.now() - t0);
    rows = page.refs.length;
  }
  return { ms: Number(median(times).toFixed(2)), rows };
}

async function timeLog(repository: Repository, query: Query, runs = 25): Promise<{ ms: number; rows: number }> {
  const graph = new CallGraph(repository);
  let rows = 0;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    rows = (await graph.log(query)).records.length;
    times.push(performance.now() - t0);
  }
  return { ms: Number(median(times).toFixed(2)), rows };
}

const env = (import.meta as unknown as { env: Record<string, string | undefined> }).env;
const enabled = Boolean(env.REDUN_BENCH);
/** Figures by name, written to VITE_REDUN_BENCH_OUT when set. */
const figures: Record<string, unknown> = {};

describe.skipIf(!enabled)("IndexedDB in Chromium: measurements", () => {
  afterAll(async () => {
    if (env.VITE_REDUN_BENCH_OUT) await commands.writeFile(env.VITE_REDUN_BENCH_OUT, JSON.stringify({ userAgent: navigator.userAgent, ...figures }, null, 2));
  });

  it("records a 10,000-job workflow", async () => {
    const memory = await recordWorkflow(createMemoryRepository(), 10_000);
    // First runs and cache-off runs: the median of 3, each into a fresh database.
    const byTime = (runs: { ms: number; jobsPerSecond: number }[]) => [...runs].sort((a, b) => a.ms - b.ms)[Math.floor(runs.length / 2)]!;
    const firsts: { ms: number; jobsPerSecond: number }[] = [];
    let repo = fresh();
    for (let i = 0; i < 3; i++) {
      if (i > 0) {
        await repo.close();
        repo = fresh();
      }
      firsts.push(await recordWorkflow(repo, 10_000));
    }
    const first = byTime(firsts);
    // The same workflow again: the root is reused, and its whole tree (10,000 jobs) read and recorded again, CACHED.
    const fullyCached = await recordWorkflow(repo, 10_000);
    const reused = await repo.query(normalizeQuery({ types: ["Job"], jobStatus: ["CACHED"], limit: 1000 }));
    expect(reused.refs).toHaveLength(1000);
    // One more element: a new root and total, and 9,998 inc jobs reused from the cache.
    const cached = await recordWorkflow(repo, 10_001);
    const uncachedRuns: { ms: number; jobsPerSecond: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const r = fresh();
      const scheduler = new Scheduler({ repository: r, cache: false });
      const t0 = performance.now();
      await scheduler.run(fanOut(9_998));
      const ms = performance.now() - t0;
      await r.close();
      uncachedRuns.push({ ms: Math.round(ms), jobsPerSecond: Math.round((10_000 / ms) * 1000) });
    }
    const uncached = byTime(uncachedRuns);
    Object.assign(figures, { workflow: { jobs: 10_000, memory, first, firsts, fullyCached, cached, uncached, uncachedRuns } });
    const jobs = await repo.query(normalizeQuery({ types: ["Job"], limit: 5 }));
    expect(jobs.refs).toHaveLength(5);
    console.log(
      [
        `10,000-job workflow, memory repository (scheduler alone): ${memory.ms} ms, ${memory.jobsPerSecond} jobs/s`,
        `10,000-job workflow, IndexedDB, first run (cache on), median of 3: ${first.ms} ms, ${first.jobsPerSecond} jobs/s (${firsts.map((r) => r.jobsPerSecond).join(", ")})`,
        `10,000-job re-run, fully cached (whole tree recorded), IndexedDB: ${fullyCached.ms} ms, ${fullyCached.jobsPerSecond} jobs/s`,
        `10,001-job re-run, 9,998 jobs CACHED, IndexedDB: ${cached.ms} ms, ${cached.jobsPerSecond} jobs/s`,
        `10,000-job workflow, IndexedDB, cache off, median of 3: ${uncached.ms} ms, ${uncached.jobsPerSecond} jobs/s`,
      ].join("\n"),
    );
    expect(first.jobsPerSecond).toBeGreaterThan(1_000);
    await repo.close();
  });

  it("queries one tag, newest 100, over 100,000 executions", async () => {
    const repo = fresh();
    const N = 100_000;
    const T0 = Date.UTC(2026, 0, 1);
    const t0 = performance.now();
    for (let start = 0; start < N; start += 10_000) {
      const batch: AnyRecord[] = [];
      for (let i = start; i < start + 10_000; i++) {
        const exec: ExecutionRecord = {
          type: "Execution", id: crypto.randomUUID(), time: T0 + i * 1000, rootJobId: crypto.randomUUID(),
          argv: ["run", "wf.ts"], startTime: T0 + i * 1000, endTime: T0 + i * 1000 + 500, status: i % 50 === 0 ? "FAILED" : "DONE",
        };
        batch.push(exec, makeTag("Execution", exec.id, "user", "alice", [], exec.time));
        // Selective: 1 execution in 1,000, spread over the whole history.
        if (i % 1000 === 7) batch.push(makeTag("Execution", exec.id, "project", "rare", [], exec.time));
      }
      await repo.write(batch);
    }
    const loadMs = Math.round(performance.now() - t0);
    const selective = await timeQuery(repo, { tags: [["project", "rare"]] });
    const broad = await timeQuery(repo, { tags: [["user", "alice"]] });
    const keyOnly = await timeQuery(repo, { tags: [["user"]] });
    const untagged = await timeQuery(repo, {});
    const twoTags = await timeQuery(repo, { tags: [["user", "alice"], ["project", "rare"]] });
    const status = await timeQuery(repo, { execStatus: ["FAILED"] });
    const page2 = await (async () => {
      const first = await repo.query(normalizeQuery({ tags: [["user", "alice"]] }));
      return timeQuery(repo, { tags: [["user", "alice"]], cursor: first.cursor });
    })();
    // As `log --tag` shows them: the records and their current tags too.
    const selectiveLog = await timeLog(repo, { tags: [["project", "rare"]], limit: 100 });
    const broadLog = await timeLog(repo, { tags: [["user", "alice"]], limit: 100 });
    Object.assign(figures, {
      query: { executions: N, loadMs, selective, broad, keyOnly, page2, untagged, twoTags, status, selectiveLog, broadLog },
    });
    console.log(
      [
        `100,000 executions + 100,100 tags written in ${loadMs} ms`,
        `one selective tag (100 of 100,000), newest 100: ${selective.ms} ms (${selective.rows} rows)`,
        `one broad tag (all 100,000), newest 100: ${broad.ms} ms (${broad.rows} rows)`,
        `key only (all 100,000), newest 100: ${keyOnly.ms} ms (${keyOnly.rows} rows)`,
        `broad tag, second page: ${page2.ms} ms (${page2.rows} rows)`,
        `no filter, newest 100: ${untagged.ms} ms (${untagged.rows} rows)`,
        `broad + selective tag: ${twoTags.ms} ms (${twoTags.rows} rows)`,
        `execStatus FAILED (2,000): ${status.ms} ms (${status.rows} rows)`,
        `log (records with their tags), selective tag: ${selectiveLog.ms} ms; broad tag: ${broadLog.ms} ms`,
      ].join("\n"),
    );
    expect(selective.rows).toBe(100);
    expect(broad.rows).toBe(100);
    expect(twoTags.rows).toBe(100);
    expect(Math.max(selective.ms, broad.ms)).toBeLessThan(50);
    await repo.close();
  });
});
