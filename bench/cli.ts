/**
 * The CLI end to end, as a user types it: one subprocess per command, on a
 * local store (Miniflare + D1 in a temporary `.redun/`) holding 10,000
 * executions. Targets and redun's figures for the same commands:
 * BENCHMARKS.md.
 *
 * The executions are seeded through the sync API in large batches (not by
 * 10,000 runs): an Execution, its root Job and four tags each, one user in
 * ten being `x`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { AnyRecord, ExecutionRecord, JobRecord } from "../core/index.ts";
import { makeTag } from "../core/adapter-kit.ts";
import { createHttpClient } from "../adapters/http/index.ts";
import { openBackground, stopServer } from "../local/store.ts";
import { buildDist, medianMs, type BenchRow, type BenchSection } from "./report.ts";

const REPO = resolve(import.meta.dirname, "..");
const NODE = process.execPath;
const EXECUTIONS = 10_000;

/** `count` executions, each with its root Job and four tags (`user=x` on one in ten), oldest first. */
export function seedRecords(count: number): AnyRecord[] {
  const records: AnyRecord[] = [];
  const t0 = Date.UTC(2026, 0, 1);
  const taskHash = "0".repeat(40);
  for (let i = 0; i < count; i++) {
    const time = t0 + i * 1000;
    const id = globalThis.crypto.randomUUID();
    const rootJobId = globalThis.crypto.randomUUID();
    const exec: ExecutionRecord = { type: "Execution", id, time, rootJobId, argv: ["run", "wf.ts", "main"], startTime: time, endTime: time + 500, status: "DONE" };
    const job: JobRecord = {
      type: "Job", id: rootJobId, time, executionId: id, parentId: null, taskHash, callHash: null,
      startTime: time, endTime: time + 500, status: "DONE", error: null,
    };
    records.push(exec, job);
    for (const [k, v] of [["user", i % 10 === 0 ? "x" : `u${i % 10}`], ["project", "bench"], ["run", i], ["cost", (i % 7) + 0.5]] as const) {
      records.push(makeTag("Execution", id, k, v, [], time));
    }
  }
  return records;
}

function command(cwd: string, entry: string, args: string[]): () => void {
  return () => {
    const r = spawnSync(NODE, [entry, ...args], { cwd, encoding: "utf8", env: { ...process.env, REDUN_EDGE_URL: "" } });
    if (r.status !== 0) throw new Error(`redun-edge ${args.join(" ")} failed: ${r.stderr}`);
  };
}

export async function benchCli(): Promise<BenchSection> {
  // The bin runs the built CLI (dist/cli/main.js): build it so the figures are of the current sources.
  buildDist();
  const built = join(REPO, "dist", "cli", "main.js");
  const source = join(REPO, "cli", "main.ts");
  const dir = mkdtempSync(join(tmpdir(), "redun-edge-bench-cli-"));
  const rows: BenchRow[] = [];
  try {
    let start = performance.now();
    const store = await openBackground(dir);
    rows.push({ name: "local store start (build Worker bundle, start Miniflare, migrate)", value: (performance.now() - start) / 1000, unit: "s", note: "once; later commands reuse the background server" });

    const client = createHttpClient({ url: store.url, headers: store.headers });
    const records = seedRecords(EXECUTIONS);
    start = performance.now();
    await client.push(records);
    rows.push({ name: `seed ${EXECUTIONS.toLocaleString("en")} executions (${records.length.toLocaleString("en")} records) via /api/sync/push`, value: (performance.now() - start) / 1000, unit: "s" });
    const newest = (await client.log({ limit: 1 })).records[0]!.id.slice(0, 8);

    const log = command(dir, built, ["log", "--tag", "user=x"]);
    rows.push({ name: `\`log --tag user=x\` over ${EXECUTIONS.toLocaleString("en")} executions (100 shown)`, value: (await medianMs(log, 21, 2)) / 1000, unit: "s", target: "< 0.3 s", note: "redun 0.26: 0.67 s at 2,000 executions" });
    let n = 0;
    const tagAdd = () => command(dir, built, ["tag", "add", newest, `bench=${n++}`])();
    rows.push({ name: "`tag add PREFIX k=v`", value: (await medianMs(tagAdd, 21, 2)) / 1000, unit: "s", target: "< 0.3 s", note: "redun 0.26: 0.6 s" });
    rows.push({ name: "`log --tag user=x`, run from the TypeScript sources (node cli/main.ts)", value: (await medianMs(command(dir, source, ["log", "--tag", "user=x"]), 9, 1)) / 1000, unit: "s", note: "Node strips types on every start" });
    rows.push({ name: "`log ID_PREFIX` (detail view)", value: (await medianMs(command(dir, built, ["log", newest]), 11, 1)) / 1000, unit: "s" });

    const cold: number[] = [];
    for (let i = 0; i < 3; i++) {
      await stopServer(join(dir, ".redun"));
      start = performance.now();
      log();
      cold.push(performance.now() - start);
    }
    cold.sort((a, b) => a - b);
    rows.push({ name: "`log --tag user=x` with no server running (starts it)", value: cold[1]! / 1000, unit: "s", note: "first command after 10 idle minutes; median of 3" });
    await stopServer(join(dir, ".redun"));
    rows.push({ name: "`log --tag user=x --in-process` (Miniflare in the command)", value: (await medianMs(command(dir, built, ["log", "--tag", "user=x", "--in-process"]), 3, 1)) / 1000, unit: "s", note: "loading Miniflare ~0.5 s + starting workerd ~0.4 s" });
  } finally {
    await stopServer(join(dir, ".redun")).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
  return { title: "CLI end to end (subprocess per command, local store)", where: "Node 22 subprocesses against the local store's Worker in Miniflare (workerd) over D1", rows };
}
