/**
 * The IndexedDB repository in a real Chromium: recording a 10,000-job
 * workflow, and a one-tag query for the newest 100 over 100,000 executions,
 * selective and broad (targets and redun's figures: BENCHMARKS.md).
 *
 * The measurements are test/indexeddb/bench.browser.test.ts, run by vitest's
 * browser project (Playwright driving /usr/bin/chromium or $CHROMIUM_PATH);
 * it writes its figures to the JSON file named by VITE_REDUN_BENCH_OUT, read
 * here. The test imports `redun-edge` (dist/), so the sources are built first.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import type { BenchRow, BenchSection } from "./report.ts";

const REPO = resolve(import.meta.dirname, "..");
const NODE = process.execPath;
const TITLE = "IndexedDB in Chromium (recording a workflow, tag queries)";

interface Timing {
  ms: number;
  jobsPerSecond?: number;
  rows?: number;
}

interface Figures {
  userAgent: string;
  workflow?: { jobs: number; memory: Timing; first: Timing; firsts?: Timing[]; fullyCached?: Timing; cached: Timing; uncached: Timing; uncachedRuns?: Timing[] };
  query?: {
    executions: number;
    loadMs: number;
    selective: Timing;
    broad: Timing;
    keyOnly: Timing;
    page2: Timing;
    untagged: Timing;
    twoTags: Timing;
    status: Timing;
    selectiveLog: Timing;
    broadLog: Timing;
  };
}

/** "3 (4,900, 5,600, 6,100 jobs/s)" */
function runsOf(runs: Timing[] | undefined): string {
  if (!runs) return "1";
  return `${runs.length} (${runs.map((r) => (r.jobsPerSecond ?? 0).toLocaleString("en-US")).join(", ")} jobs/s)`;
}

export async function benchIndexedDb(): Promise<BenchSection> {
  const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(chromium)) {
    return {
      title: TITLE,
      where: `no run: Chromium not found at ${chromium} (set CHROMIUM_PATH)`,
      rows: [],
    };
  }
  const build = spawnSync(NODE, [join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", join(REPO, "tsconfig.build.json")], { cwd: REPO, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);

  // Vite lets the browser write only inside the project: a file under node_modules/.cache.
  const relative = join("node_modules", ".cache", "redun-edge-bench", `indexeddb-${process.pid}.json`);
  const out = join(REPO, relative);
  mkdirSync(join(REPO, "node_modules", ".cache", "redun-edge-bench"), { recursive: true });
  rmSync(out, { force: true });
  const vitest = join(REPO, "node_modules", "vitest", "vitest.mjs");
  const run = spawnSync(NODE, [vitest, "run", "--project", "browser", "test/indexeddb/bench.browser.test.ts"], {
    cwd: REPO,
    encoding: "utf8",
    env: { ...process.env, REDUN_BENCH: "1", VITE_REDUN_BENCH_OUT: relative, CHROMIUM_PATH: chromium },
    timeout: 15 * 60_000,
  });
  if (!existsSync(out)) {
    throw new Error(`the Chromium measurements wrote no figures (exit ${run.status}):\n${run.stdout.slice(-3000)}${run.stderr.slice(-3000)}`);
  }
  const figures = JSON.parse(readFileSync(out, "utf8")) as Figures;
  rmSync(out, { force: true });
  if (run.status !== 0) process.stderr.write(`indexeddb: the measurements test failed (exit ${run.status}); figures so far are reported\n${run.stdout.slice(-3000)}`);

  const rows: BenchRow[] = [];
  const w = figures.workflow;
  if (w) {
    rows.push(
      {
        name: `record a ${w.jobs.toLocaleString("en-US")}-job workflow (fan-out), first run, cache on`, value: w.first.jobsPerSecond!, unit: "jobs/s",
        target: "≥ 5,000 jobs/s", note: `${w.first.ms} ms, median of ${runsOf(w.firsts)}; redun 0.26: ~55 jobs/s`,
      },
      { name: "the same workflow, cache off", value: w.uncached.jobsPerSecond!, unit: "jobs/s", note: `${w.uncached.ms} ms, median of ${runsOf(w.uncachedRuns)}` },
      ...(w.fullyCached
        ? [{
          name: "re-run of the same workflow, fully cached (its whole tree read and recorded again, 10,000 jobs CACHED)",
          value: w.fullyCached.jobsPerSecond!, unit: "jobs/s", target: "≥ 5,000 jobs/s", note: `${w.fullyCached.ms} ms, one run`,
        }]
        : []),
      { name: "re-run with one more element (10,001 jobs, 9,998 CACHED)", value: w.cached.jobsPerSecond!, unit: "jobs/s", note: `${w.cached.ms} ms, one run` },
      { name: "the same workflow on the memory repository (scheduler alone, in the page)", value: w.memory.jobsPerSecond!, unit: "jobs/s", note: `${w.memory.ms} ms, one run` },
    );
  }
  const q = figures.query;
  if (q) {
    const n = q.executions.toLocaleString("en-US");
    rows.push(
      { name: `tag query, selective tag (100 of ${n} executions), newest 100`, value: q.selective.ms, unit: "ms", target: "< 5 ms" },
      { name: `tag query, broad tag (all ${n}), newest 100`, value: q.broad.ms, unit: "ms", target: "< 5 ms" },
      { name: `tag query, key only (all ${n}), newest 100`, value: q.keyOnly.ms, unit: "ms" },
      { name: "broad tag, second page (cursor)", value: q.page2.ms, unit: "ms" },
      { name: "broad + selective tag together", value: q.twoTags.ms, unit: "ms" },
      { name: "no filter, newest 100", value: q.untagged.ms, unit: "ms" },
      { name: `execution status FAILED (2,000 of ${n}), newest 100`, value: q.status.ms, unit: "ms" },
      { name: "log (records with their current tags), selective tag, newest 100", value: q.selectiveLog.ms, unit: "ms" },
      { name: "log (records with their current tags), broad tag, newest 100", value: q.broadLog.ms, unit: "ms" },
      { name: `load ${n} executions + their tags (10 writes of 10,000 executions)`, value: q.loadMs / 1000, unit: "s" },
    );
  }
  const chrome = /(?:HeadlessChrome|Chrome)\/([\d.]+)/.exec(figures.userAgent)?.[1] ?? "unknown version";
  return {
    title: TITLE,
    where: `Chromium ${chrome} (headless, Playwright via vitest browser mode), test/indexeddb/bench.browser.test.ts; queries are repository.query medians of 25 runs; load average ${loadavg()[0]!.toFixed(1)} at the end`,
    rows,
  };
}
