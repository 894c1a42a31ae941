/**
 * Bounded loopback load: a fixed number of requests per workload over 10
 * keep-alive connections, against the two servers a team runs: `npm run dev`
 * (scripts/dev.ts: wrangler dev, the Worker over a local D1) and the memory
 * server (bench/memory-server.ts: the same Hono app over the memory
 * Repository in Node). Each holds 10,000 executions (an Execution, its root
 * Job and four tags each, `user=x` on one in ten), seeded through
 * `POST /api/sync/push`. Workloads:
 *
 * - tag query: `GET /api/records?tag=user=x` (1,000 match; newest 100 with their tags), as `log --tag user=x`;
 * - prefix read: `GET /api/records/<8-char prefix>` of a random execution, as `log PREFIX`;
 * - tag edit: `POST /api/records/<prefix>/tags` adding a new `load=N` tag to a random execution, as `tag add`;
 * - mix: 9 reads (the two above, alternately) to 1 tag edit.
 *
 * Figures: requests per second (count / wall time), latency p50 and p99,
 * and errors (a status of 400 or more, or no answer); earlier figures are in
 * BENCHMARKS.md.
 * REDUN_BENCH_LOAD_REQUESTS sets the count (default 1,000 a workload).
 *
 * The servers run in processes of their own (detached, stopped by their
 * group at the end); the client runs here, on the same cores.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createHttpClient } from "../adapters/http/index.ts";
import { seedRecords } from "./cli.ts";
import { buildDist, type BenchRow, type BenchSection } from "./report.ts";

const REPO = resolve(import.meta.dirname, "..");
const EXECUTIONS = 10_000;
const CONNECTIONS = 10;
const REQUESTS = Number(process.env.REDUN_BENCH_LOAD_REQUESTS ?? 1_000);
const WARMUP = 50;
/** Ports this machine's engineers agreed to use for servers of their own. */
const PORTS: [number, number] = [18800, 18899];

const http = createRequire(import.meta.url)("node:http") as typeof import("node:http");

// ---- servers --------------------------------------------------------------

interface Target {
  name: string;
  url: string;
  stop(): Promise<void>;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createServer();
    s.once("error", () => done(false));
    s.listen(port, "127.0.0.1", () => s.close(() => done(true)));
  });
}

async function freePort(exclude: number[] = []): Promise<number> {
  const start = PORTS[0] + Math.floor(Math.random() * (PORTS[1] - PORTS[0] + 1));
  for (let i = 0; i <= PORTS[1] - PORTS[0]; i++) {
    const port = PORTS[0] + ((start - PORTS[0] + i) % (PORTS[1] - PORTS[0] + 1));
    if (!exclude.includes(port) && (await portFree(port))) return port;
  }
  throw new Error(`no free port in ${PORTS.join("-")}`);
}

/** Start a server process in a group of its own, its output in `logPath`; resolves when `ready` is in the log. */
async function startProcess(args: string[], env: Record<string, string>, logPath: string, ready: RegExp, timeoutMs = 120_000): Promise<ChildProcess> {
  const log = openSync(logPath, "a");
  const child = spawn(process.execPath, args, { cwd: REPO, env: { ...process.env, ...env }, stdio: ["ignore", log, log], detached: true });
  closeSync(log);
  const deadline = Date.now() + timeoutMs;
  while (!ready.test(readFileSync(logPath, "utf8"))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stopGroup(child);
      throw new Error(`${args.join(" ")} did not start: ${readFileSync(logPath, "utf8").trim().split("\n").slice(-5).join(" | ")}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return child;
}

/** Stop a server started here: SIGTERM to its process group, SIGKILL after 10 s. */
async function stopGroup(child: ChildProcess): Promise<void> {
  const group = -child.pid!;
  const signal = (name: NodeJS.Signals | 0) => {
    try {
      process.kill(group, name);
      return true;
    } catch {
      return false;
    }
  };
  if (!signal("SIGTERM")) return;
  for (let i = 0; i < 100 && signal(0); i++) await new Promise((r) => setTimeout(r, 100));
  signal("SIGKILL");
}

async function startDev(dir: string): Promise<Target> {
  const port = await freePort();
  const inspector = await freePort([port]);
  const child = await startProcess(
    [join(REPO, "scripts", "dev.ts")],
    { PORT: String(port), INSPECTOR_PORT: String(inspector), PERSIST_TO: join(dir, "d1") },
    join(dir, "dev.log"),
    /redun-edge API: /,
  );
  return { name: "D1 (`npm run dev`)", url: `http://127.0.0.1:${port}`, stop: () => stopGroup(child) };
}

async function startMemory(dir: string): Promise<Target> {
  const port = await freePort();
  const child = await startProcess([join(REPO, "bench", "memory-server.ts")], { PORT: String(port) }, join(dir, "memory.log"), /listening on /);
  return { name: "memory (Node server)", url: `http://127.0.0.1:${port}`, stop: () => stopGroup(child) };
}

// ---- the load -------------------------------------------------------------

interface Request {
  method: "GET" | "POST";
  path: string;
  body?: string;
}

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
  firstError: string | null;
}

function send(agent: import("node:http").Agent, base: string, req: Request): Promise<number> {
  return new Promise((done, fail) => {
    const r = http.request(
      `${base}${req.path}`,
      {
        method: req.method,
        agent,
        headers: req.body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json", "content-length": String(Buffer.byteLength(req.body)) },
        timeout: 60_000,
      },
      (res) => {
        res.on("data", () => {});
        res.on("end", () => done(res.statusCode ?? 0));
        res.on("error", fail);
      },
    );
    r.on("timeout", () => r.destroy(new Error("no answer in 60 s")));
    r.on("error", fail);
    r.end(req.body);
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** Send `count` requests (`make(i)`), at most CONNECTIONS at a time, each connection sending its next as soon as one is answered. */
async function load(base: string, count: number, make: (i: number) => Request): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | null = null;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < count) {
        const req = make(next++);
        const sent = performance.now();
        try {
          const status = await send(agent, base, req);
          if (status >= 400) {
            errors++;
            firstError ??= `${req.method} ${req.path}: HTTP ${status}`;
          }
        } catch (error) {
          errors++;
          firstError ??= `${req.method} ${req.path}: ${(error as Error).message}`;
        }
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const wall = performance.now() - start;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { rps: (count / wall) * 1000, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), errors, requests: count, firstError };
}

/** A small deterministic generator, so both servers get the same sequence. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Workload {
  name: string;
  make: (i: number) => Request;
}

function workloads(prefixes: readonly string[]): Workload[] {
  const pick = random(42);
  let edits = 0;
  const tagQuery = (): Request => ({ method: "GET", path: `/api/records?${new URLSearchParams({ tag: "user=x" })}` });
  const prefixRead = (): Request => ({ method: "GET", path: `/api/records/${prefixes[Math.floor(pick() * prefixes.length)]}` });
  const tagEdit = (): Request => ({
    method: "POST",
    path: `/api/records/${prefixes[Math.floor(pick() * prefixes.length)]}/tags`,
    body: JSON.stringify({ op: "add", tags: [`load=${edits++}`] }),
  });
  return [
    { name: "tag query `GET /api/records?tag=user=x` (1,000 of 10,000 match, newest 100 with tags)", make: tagQuery },
    { name: "prefix read `GET /api/records/<8-char prefix>`", make: prefixRead },
    { name: "tag edit `POST /api/records/<prefix>/tags` (add a new tag)", make: tagEdit },
    { name: "mix: 90% reads (tag query, prefix read) / 10% tag edits", make: (i) => (i % 10 === 9 ? tagEdit() : i % 2 === 0 ? tagQuery() : prefixRead()) },
  ];
}

/** Seed the store; returns the 8-character prefixes that name exactly one seeded execution. */
async function seed(url: string): Promise<string[]> {
  const records = seedRecords(EXECUTIONS);
  await createHttpClient({ url }).push(records);
  const counts = new Map<string, number>();
  for (const r of records) if (r.type === "Execution") counts.set(r.id.slice(0, 8), (counts.get(r.id.slice(0, 8)) ?? 0) + 1);
  return [...counts].filter(([, n]) => n === 1).map(([p]) => p);
}

const ms = (x: number) => (x >= 10 ? x.toFixed(0) : x.toFixed(1));

export async function benchLoad(): Promise<BenchSection> {
  // scripts/dev.ts imports the built package (redun-edge, redun-edge/http).
  buildDist();
  const dir = mkdtempSync(join(tmpdir(), "redun-edge-bench-load-"));
  const rows: BenchRow[] = [];
  try {
    for (const startTarget of [startDev, startMemory]) {
      const target = await startTarget(dir);
      try {
        const prefixes = await seed(target.url);
        for (const workload of workloads(prefixes)) {
          await load(target.url, WARMUP, workload.make);
          const r = await load(target.url, REQUESTS, workload.make);
          const errors = `${r.errors} error${r.errors === 1 ? "" : "s"} (${((100 * r.errors) / r.requests).toFixed(1)}%)${r.firstError ? `, first: ${r.firstError}` : ""}`;
          const isReference = startTarget === startDev && workload.name.startsWith("tag query");
          rows.push({
            name: `${target.name}: ${workload.name}`,
            value: r.rps,
            unit: "req/s",
            note: `p50 ${ms(r.p50)} ms, p99 ${ms(r.p99)} ms, ${errors}${isReference ? "; issue 13 (2 vCPUs): 98 req/s, p99 131 ms, 0 errors" : ""}`,
          });
          console.log(`load: ${rows.at(-1)!.name}: ${r.rps.toFixed(0)} req/s, ${rows.at(-1)!.note}`);
        }
      } finally {
        await target.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const load1 = loadavg()[0]!.toFixed(1);
  return {
    title: "Loopback load (fixed request count, 10 connections)",
    where: `Node's http client (keep-alive, ${CONNECTIONS} connections, in the bench process) on the same machine as the server: \`npm run dev\` (scripts/dev.ts, wrangler dev: the Worker over local D1, logging each request as it does for users) and bench/memory-server.ts (the Hono app over the memory Repository in Node), each seeded with ${EXECUTIONS.toLocaleString("en")} executions (${(EXECUTIONS * 6).toLocaleString("en")} records); ${REQUESTS.toLocaleString("en")} requests per workload after ${WARMUP} warm-up; requests per second over wall time; client, server and anything else running share the cores (load average ${load1} at the end)`,
    rows,
  };
}
