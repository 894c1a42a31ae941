/**
 * The inspector in Chromium over a large store: 10,000 executions of 10
 * jobs each (100,000 jobs, 5 tags an execution) and one execution of 10,000
 * jobs, in the Worker's D1 (Miniflare, pushed through `/api/sync/push`), and
 * the same records pulled into IndexedDB through the page's Sync panel.
 * Targets (issue 16, in BENCHMARKS.md): the executions list paints soon
 * after a cold load; a tag filter answers; the 10,000-job execution opens
 * (its job tree renders only the rows in view).
 *
 * Times are the page's own: `performance.mark`s the app sets when the list
 * (`records-painted`) or the job tree (`job-tree-painted`) is on screen,
 * one animation frame after rendering; a cold load counts from navigation
 * start in a fresh browser context (nothing cached), so it includes loading
 * the page's script.
 */
import { loadavg } from "node:os";
import type { Page } from "playwright-core";
import type { AnyRecord, JobRecord, TaskRecord } from "../core/index.ts";
import { makeTag, taskHash } from "../core/adapter-kit.ts";
import { createHttpClient } from "../adapters/http/index.ts";
import { buildInspector } from "../inspector/build.ts";
import { CHROMIUM, hasChromium, launchChromium } from "../test/inspector/browser.ts";
import { startWorker } from "../test/inspector/worker.ts";
import type { BenchRow, BenchSection } from "./report.ts";
import { median } from "./timing.ts";

const TITLE = "Inspector in Chromium (10,000 executions / 100,000 jobs)";
const EXECUTIONS = Number(process.env.REDUN_BENCH_INSPECTOR_EXECUTIONS ?? 10_000);
const JOBS_PER_EXECUTION = 10;
const BIG_JOBS = 10_000;
const RUNS = 5;
const T0 = Date.UTC(2026, 0, 1);

function task(name: string): TaskRecord {
  return { type: "Task", id: taskHash("bench", name, null, `function ${name}() {}`), time: T0, name, namespace: "bench", source: `function ${name}() {}`, version: null };
}

export const TASKS = ["main", "prepare", "train", "evaluate", "report"].map(task);

function job(id: string, executionId: string, parentId: string | null, taskIndex: number, start: number, end: number): JobRecord {
  return {
    type: "Job", id, time: start, executionId, parentId, taskHash: TASKS[taskIndex]!.id, callHash: null,
    startTime: start, endTime: end, status: taskIndex === 4 && start % 7 === 0 ? "CACHED" : "DONE", error: null,
  };
}

/** Execution i: a root job and 9 children, 5 tags (user of 50, project, run, rare on 1 in 1,000, env). */
function executionRecords(i: number): AnyRecord[] {
  const time = T0 + i * 60_000;
  const id = crypto.randomUUID();
  const rootJobId = crypto.randomUUID();
  const records: AnyRecord[] = [
    { type: "Execution", id, time, rootJobId, argv: ["run", "pipeline.ts", "main", "--run", String(i)], startTime: time, endTime: time + 5_000, status: i % 97 === 0 ? "FAILED" : "DONE" },
    job(rootJobId, id, null, 0, time, time + 5_000),
  ];
  for (let j = 1; j < JOBS_PER_EXECUTION; j++) records.push(job(crypto.randomUUID(), id, rootJobId, 1 + (j % 4), time + j * 400, time + j * 400 + 350));
  const tags: [string, string | number][] = [["user", `u${i % 50}`], ["project", i % 20 === 0 ? "side" : "main"], ["run", i], [i % 1000 === 7 ? "rare" : "common", "yes"], ["env", ["prod", "dev", "staging"][i % 3]!]];
  for (const [k, v] of tags) records.push(makeTag("Execution", id, k, v, [], time));
  return records;
}

/** One execution of BIG_JOBS jobs: a root with 100 stages of 99 jobs each. */
export function bigExecution(): { id: string; records: AnyRecord[] } {
  const time = T0 + (EXECUTIONS + 10) * 60_000;
  const id = crypto.randomUUID();
  const rootJobId = crypto.randomUUID();
  const records: AnyRecord[] = [
    { type: "Execution", id, time, rootJobId, argv: ["run", "pipeline.ts", "main", "--big"], startTime: time, endTime: time + 600_000, status: "DONE" },
    job(rootJobId, id, null, 0, time, time + 600_000),
    makeTag("Execution", id, "user", "big", [], time),
  ];
  let n = 1;
  for (let s = 0; n < BIG_JOBS; s++) {
    const stage = crypto.randomUUID();
    records.push(job(stage, id, rootJobId, 1, time + s * 6_000, time + s * 6_000 + 5_900));
    n++;
    for (let j = 0; j < 98 && n < BIG_JOBS; j++, n++) records.push(job(crypto.randomUUID(), id, stage, 2 + (j % 3), time + s * 6_000 + j * 60, time + s * 6_000 + j * 60 + 55));
  }
  return { id, records };
}

/** Milliseconds from navigation start (or `since`) to the newest mark of that name, waiting for it. */
async function markAfter(page: Page, name: string, since: number): Promise<number> {
  const handle = await page.waitForFunction(
    ([n, s]) => {
      const marks = performance.getEntriesByName(n as string).filter((m) => m.startTime > (s as number));
      return marks.length ? marks[marks.length - 1]!.startTime : 0;
    },
    [name, since] as const,
    { timeout: 60_000, polling: 10 },
  );
  return (await handle.jsonValue()) - since;
}

/** Navigate the loaded app to `hash` and time until `mark`. */
async function timeHash(page: Page, hash: string, mark: string): Promise<number> {
  const since = await page.evaluate((h) => {
    const t = performance.now();
    location.hash = h;
    return t;
  }, hash);
  return markAfter(page, mark, since);
}

const ms = (n: number) => Math.round(n);

export async function benchInspector(): Promise<BenchSection> {
  if (!hasChromium) return { title: TITLE, where: `no run: Chromium not found at ${CHROMIUM}`, rows: [] };
  const built = await buildInspector();
  const worker = await startWorker();
  const browser = await launchChromium();
  const rows: BenchRow[] = [];
  try {
    // ---- load the edge ----
    const client = createHttpClient({ url: worker.url });
    const t0 = performance.now();
    let batch: AnyRecord[] = [...TASKS];
    let pushed = 0;
    for (let i = 0; i < EXECUTIONS; i++) {
      batch.push(...executionRecords(i));
      if (batch.length >= 16_000) {
        pushed += (await client.push(batch)).accepted;
        batch = [];
      }
    }
    const big = bigExecution();
    batch.push(...big.records);
    pushed += (await client.push(batch)).accepted;
    const loadS = (performance.now() - t0) / 1000;
    process.stderr.write(`inspector bench: ${pushed.toLocaleString("en-US")} records pushed in ${loadS.toFixed(1)} s\n`);

    const edgePage = async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      return { page: await context.newPage(), close: () => context.close() };
    };
    await measure(rows, "edge (Worker over D1)", `${worker.url}/`, big.id, edgePage);

    // The same records pulled into IndexedDB through the Sync panel. A browser
    // context keeps its IndexedDB only while it lives, so the cold loads there
    // are new pages (new JS heaps) in one context.
    const db = `bench-${Date.now()}`;
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const sync = await context.newPage();
    // The page over IndexedDB, from the Worker's origin (the same page; `?db=` picks the store).
    await sync.goto(`${worker.url}/?db=${db}#/sync?page=1000`);
    await sync.fill('input[name="url"]', worker.url);
    const p0 = performance.now();
    await sync.click('button[value="pull"]');
    await sync.waitForSelector('[data-testid="sync-result"], main p.error', { timeout: 30 * 60_000 });
    if (await sync.locator("main p.error").count()) throw new Error(`the pull failed: ${await sync.textContent("main p.error")}`);
    const pullS = (performance.now() - p0) / 1000;
    const pulled = Number(/Pulled ([\d,]+)/.exec((await sync.textContent('[data-testid="sync-result"]')) ?? "")?.[1]?.replace(/,/g, "") ?? 0);
    await sync.close();
    rows.push({
      name: "IndexedDB: pull the edge's records through the Sync panel (pages of 1,000)", value: Math.round(pulled / pullS), unit: "records/s",
      note: `${pulled.toLocaleString("en-US")} records in ${pullS.toFixed(1)} s (fetch, verify every id, write)`,
    });
    const idbPage = async () => {
      const page = await context.newPage();
      return { page, close: () => page.close() };
    };
    await measure(rows, "IndexedDB", `${worker.url}/?db=${db}`, big.id, idbPage);
    await context.close();
  } finally {
    await browser.close();
    await worker.close();
  }
  return {
    title: TITLE,
    where: `Chromium (headless, playwright-core), bench/inspector.ts; app.js ${(built.gzipBytes / 1024).toFixed(1)} KB gzipped; load average ${loadavg()[0]!.toFixed(1)} at the end`,
    rows,
  };
}

type NewPage = () => Promise<{ page: Page; close(): Promise<void> }>;

/** Cold list loads, tag filters on a loaded list, and the big execution (from the list, and cold). */
async function measure(rows: BenchRow[], label: string, base: string, bigId: string, newPage: NewPage): Promise<void> {
  const say = (what: string) => process.stderr.write(`inspector bench: ${label}: ${what}\n`);
  say("cold list loads");
  const cold: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const { page, close } = await newPage();
    await page.goto(`${base}#/executions`);
    cold.push(await markAfter(page, "records-painted", 0));
    await close();
  }
  say("filters and the big execution");
  const { page, close } = await newPage();
  await page.goto(`${base}#/executions`);
  await markAfter(page, "records-painted", 0);
  const filters = { selective: [] as number[], broad: [] as number[], key: [] as number[], status: [] as number[], big: [] as number[] };
  for (let r = 0; r < RUNS; r++) {
    filters.selective.push(await timeHash(page, "#/executions?tag=rare%3Dyes", "records-painted"));
    filters.broad.push(await timeHash(page, "#/executions?tag=user%3Du7", "records-painted"));
    filters.key.push(await timeHash(page, "#/executions?tag=rare", "records-painted"));
    filters.status.push(await timeHash(page, "#/executions?tag=project%3Dmain&status=FAILED", "records-painted"));
    filters.big.push(await timeHash(page, `#/execution/${bigId}`, "job-tree-painted"));
    await timeHash(page, "#/executions", "records-painted");
  }
  await page.evaluate(async (id) => {
    location.hash = `#/execution/${id}`;
  }, bigId);
  await page.waitForSelector('[data-testid="job-row"]');
  await page.click("text=Expand all");
  await page.waitForTimeout(300);
  const rowsInDom = await page.$$eval('[data-testid="job-row"]', (r) => r.length);
  const treeRows = Number(await page.getAttribute('[data-testid="job-tree"]', "data-count"));
  await close();
  say("cold loads of the big execution");
  const coldBig: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const fresh = await newPage();
    await fresh.page.goto(`${base}#/execution/${bigId}`);
    coldBig.push(await markAfter(fresh.page, "job-tree-painted", 0));
    await fresh.close();
  }
  const n = EXECUTIONS.toLocaleString("en-US");
  rows.push(
    { name: `${label}: executions list (50 newest, with tags), cold load to painted`, value: ms(median(cold)), unit: "ms", target: "≤ 1,000 ms", note: `median of ${RUNS} (${cold.map(ms).join(", ")})` },
    { name: `${label}: tag filter rare=yes (10 of ${n})`, value: ms(median(filters.selective)), unit: "ms", target: "≤ 200 ms" },
    { name: `${label}: tag filter user=u7 (1 in 50)`, value: ms(median(filters.broad)), unit: "ms", target: "≤ 200 ms" },
    { name: `${label}: tag filter, key only (rare)`, value: ms(median(filters.key)), unit: "ms", target: "≤ 200 ms" },
    { name: `${label}: tag filter + status (project=main, FAILED)`, value: ms(median(filters.status)), unit: "ms", target: "≤ 200 ms" },
    { name: `${label}: open the ${BIG_JOBS.toLocaleString("en-US")}-job execution from the list`, value: ms(median(filters.big)), unit: "ms", target: "≤ 1,000 ms", note: `expanded: ${treeRows.toLocaleString("en-US")} rows, ${rowsInDom} in the DOM` },
    { name: `${label}: open the ${BIG_JOBS.toLocaleString("en-US")}-job execution, cold load`, value: ms(median(coldBig)), unit: "ms", target: "≤ 1,000 ms", note: `median of ${RUNS} (${coldBig.map(ms).join(", ")})` },
  );
}
