/**
 * `redun-edge import` as a user types it (a subprocess, the built CLI, the
 * local store's background server already running), into a fresh local
 * store: the test fixture (331 records) and redun-bench, a 2,000-execution
 * database made by redun 0.46 (fixtures/redun-bench: 77,000 rows, 54,952
 * records; gunzipped into a temporary folder; $REDUN_BENCH_DB names another
 * copy); afterwards `log --tag user=u7` (40 executions) as typed, printing
 * what redun printed (log-user-u7.txt). Targets (issue 17) and redun's own
 * figures: BENCHMARKS.md.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { openBackground, stopServer } from "../local/store.ts";
import { readRedunRows } from "../local/redun-db.ts";
import { mapRedunRows } from "../core/redun/import.ts";
import { median, medianMs, type BenchRow, type BenchSection } from "./report.ts";

const REPO = resolve(import.meta.dirname, "..");
const NODE = process.execPath;
const BUILT = join(REPO, "dist", "cli", "main.js");
const FIXTURE = join(REPO, "test", "redun", "fixtures", "redun.db");
/** Fresh stores each database is imported into; the median rate is reported. */
const TRIALS = 3;

function benchFolder(): string | null {
  const candidates = [join(REPO, "..", "shared", "fixtures", "redun-bench"), join(REPO, "..", "..", "shared", "fixtures", "redun-bench")];
  return candidates.find((d) => existsSync(join(d, "redun.db.gz"))) ?? null;
}

function run(cwd: string, args: string[]): { ms: number; stdout: string } {
  const start = performance.now();
  const r = spawnSync(NODE, [BUILT, ...args], { cwd, encoding: "utf8", env: { ...process.env, TZ: "UTC", REDUN_EDGE_URL: "", REDUN_EDGE_STORE: cwd } });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`redun-edge ${args.join(" ")} failed: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

/** Import `db` into TRIALS fresh stores (server started first): the rate of each; the last store is kept for queries. */
async function imports(db: string, records: number): Promise<{ rates: number[]; store: string; again: number }> {
  const rates: number[] = [];
  let store = "";
  for (let i = 0; i < TRIALS; i++) {
    if (store) {
      await stopServer(join(store, ".redun"));
      rmSync(store, { recursive: true, force: true });
    }
    store = mkdtempSync(join(tmpdir(), "redun-edge-bench-import-"));
    await openBackground(store);
    const { ms, stdout } = run(store, ["import", db]);
    if (!stdout.includes(`${records} records written`)) throw new Error(`unexpected import: ${stdout}`);
    rates.push(records / (ms / 1000));
  }
  const again = run(store, ["import", db]).ms;
  return { rates, store, again };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en");

export async function benchRedun(): Promise<BenchSection> {
  const build = spawnSync(NODE, [join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", join(REPO, "tsconfig.build.json")], { encoding: "utf8" });
  if (build.status !== 0 || !existsSync(BUILT)) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
  const rows: BenchRow[] = [];
  const stores: string[] = [];
  const scratch = mkdtempSync(join(tmpdir(), "redun-edge-bench-redun-"));
  try {
    const small = await imports(FIXTURE, 331);
    stores.push(small.store);
    rows.push({ name: "`import` the test fixture (331 records) into a fresh local store", value: median(small.rates), unit: "records/s", note: `${TRIALS} fresh stores: ${small.rates.map(fmt).join(", ")} records/s; mostly Node's start` });

    const folder = benchFolder();
    const given = process.env.REDUN_BENCH_DB;
    if (!given && !folder) {
      rows.push({ name: "`import` redun-bench", value: 0, unit: "records/s", note: "skipped: fixtures/redun-bench not found (set REDUN_BENCH_DB)" });
      return section(rows);
    }
    const db = given ?? join(scratch, "redun.db");
    if (!given) writeFileSync(db, gunzipSync(readFileSync(join(folder!, "redun.db.gz"))));
    let start = performance.now();
    const rowsRead = readRedunRows(db);
    const read = performance.now() - start;
    start = performance.now();
    const mapping = mapRedunRows(rowsRead);
    const mapped = performance.now() - start;
    const total = mapping.records.length;
    const big = await imports(db, total);
    stores.push(big.store);
    rows.push({
      name: `\`import\` redun-bench (2,000 executions, ${fmt(total)} records from ~77,000 rows) into a fresh local store`,
      value: median(big.rates), unit: "records/s", target: "≥ 20,000 records/s",
      note: `${TRIALS} fresh stores: ${big.rates.map(fmt).join(", ")} records/s; in this process, reading the rows took ${fmt(read)} ms and mapping and verifying them ${fmt(mapped)} ms`,
    });
    rows.push({ name: "`import` redun-bench again (writes nothing)", value: big.again / 1000, unit: "s" });

    const log = run(big.store, ["log", "--tag", "user=u7"]);
    const reference = folder ? readFileSync(join(folder, "log-user-u7.txt"), "utf8") : null;
    const same = reference === null ? "no reference output" : log.stdout === reference ? "prints exactly what redun printed" : "DIFFERS from redun's output";
    rows.push({
      name: "`log --tag user=u7` after importing redun-bench (40 executions shown)",
      value: (await medianMs(() => run(big.store, ["log", "--tag", "user=u7"]), 11, 2)) / 1000, unit: "s", target: "≤ 0.15 s",
      note: `${same}; redun on its own database: 1.09 s as typed, 119 ms in-process`,
    });
    return section(rows);
  } finally {
    for (const store of stores) {
      await stopServer(join(store, ".redun")).catch(() => {});
      rmSync(store, { recursive: true, force: true });
    }
    rmSync(scratch, { recursive: true, force: true });
  }
}

function section(rows: BenchRow[]): BenchSection {
  return {
    title: "redun import (CLI, local store)",
    where: `Node 22 subprocesses (the built CLI) against the local store's Worker in Miniflare (workerd) over D1, its background server started before each import; load average ${loadavg()[0]!.toFixed(1)} at the end (a shared machine)`,
    rows,
  };
}
