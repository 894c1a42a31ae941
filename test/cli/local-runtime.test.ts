/**
 * End to end: the CLI's local runtime under faults, a subprocess per
 * command on fresh temporary stores. A background server killed mid-run
 * (the run completes on one new server, nothing left RUNNING), killed again
 * (the command gives up after its one restart), killed with its workerd
 * left running (the next command stops that workerd, proven ours); a
 * server.json naming a stranger's live process (never signalled); an
 * `--in-process` command next to a background server and the other way
 * round (neither stops the other's server); damaged database files (one
 * line, nothing written, no server started).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { REPO, cli, closedPort, expectError, ok, start, type Result } from "./helpers.ts";

const LINUX = process.platform === "linux";
const EXAMPLE = join(REPO, "examples", "hello-world.ts");
const STEPS = 24;
const SUM = (STEPS * (STEPS + 1)) / 2;
const RESTARTED = /^redun-edge: the local store's server \(pid \d+\) stopped; continuing on a new one \(pid \d+\)$/;

interface ServerJson {
  kind?: string;
  id?: string;
  pid: number;
  url: string;
}

interface JsonRecord {
  id: string;
  type: string;
  status: string;
}

const dirs: string[] = [];
const strangers: ChildProcess[] = [];

function folder(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `redun-edge-rt-${name}-`));
  dirs.push(dir);
  return dir;
}

// Side by side, with time to spare: on a loaded machine seven stops one after another took over 10 s.
afterAll(async () => {
  await Promise.all(
    dirs.map(async (dir) => {
      await cli(dir, ["server", "stop"]);
      rmSync(dir, { recursive: true, force: true });
    }),
  );
  for (const s of strangers) s.kill();
}, 60_000);

/** A workflow of STEPS steps one after another (~120 ms each); each writes its number to `marker` as it starts. */
function writeWorkflow(dir: string): string {
  const path = join(dir, "slow.ts");
  const core = pathToFileURL(join(REPO, "core", "index.ts")).href;
  writeFileSync(
    path,
    `import { writeFileSync } from "node:fs";
import { task } from ${JSON.stringify(core)};
export const step = task("step", async (i: number, total: number, marker: string) => {
  writeFileSync(marker, String(i));
  await new Promise((r) => setTimeout(r, 120));
  return total + i;
}, { namespace: "slow" });
export const main = task("main", ({ n = ${STEPS}, marker = "" }: { n?: number; marker?: string } = {}) => {
  let total: unknown = 0;
  for (let i = 1; i <= n; i++) total = step(i, total, marker);
  return total;
}, { namespace: "slow" });
`,
  );
  return path;
}

/** A fresh store running the slow workflow (`run` with `options` before FILE, `args` after TASK). */
function slowRun(name: string, options: string[] = [], args: string[] = []): { dir: string; marker: string; run: ReturnType<typeof start> } {
  const dir = folder(name);
  const marker = join(dir, "marker");
  return { dir, marker, run: start(dir, ["run", ...options, writeWorkflow(dir), "main", "--marker", marker, ...args]) };
}

function serverJson(dir: string): ServerJson | null {
  try {
    return JSON.parse(readFileSync(join(dir, ".redun", "server.json"), "utf8")) as ServerJson;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped) is not alive.
  return !LINUX || !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, "latin1"));
}

async function until<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const stepReached = (marker: string, n: number) => until(`step ${n}`, () => existsSync(marker) && Number(readFileSync(marker, "utf8")) >= n);

/** Kill a server we started (its id is in its command line) and its workerd with it: the whole process group. */
function killServer(info: ServerJson): void {
  if (LINUX) expect(readFileSync(`/proc/${info.pid}/cmdline`, "latin1")).toContain(info.id!);
  process.kill(-info.pid, "SIGKILL");
}

/** Processes carrying server id `id` in their environment (the Node server and its workerd). */
function processesOf(id: string): number[] {
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(`REDUN_EDGE_SERVER_ID=${id}`);
      } catch {
        return false;
      }
    })
    .map(Number)
    .filter(alive);
}

const listening = (dir: string) => (readFileSync(join(dir, ".redun", "server.log"), "utf8").match(/ listening on /g) ?? []).length;
const lines = (r: Result) => r.stderr.trimEnd().split("\n").filter((l) => l !== "");

async function nothingRunning(dir: string): Promise<void> {
  const records = JSON.parse(await ok(dir, ["log", "--all", "--limit", "1000", "--format", "json"])) as JsonRecord[];
  const statuses = records.filter((r) => r.type === "Execution" || r.type === "Job").map((r) => `${r.type} ${r.status}`);
  expect(statuses.length).toBeGreaterThan(STEPS);
  expect(statuses.filter((s) => s.endsWith("RUNNING"))).toEqual([]);
}

describe("the local runtime under faults", { timeout: 120_000 }, () => {
  test("a background server killed mid-run: the run completes on one new server, nothing is left RUNNING", async () => {
    const { dir, marker, run } = slowRun("kill");
    await stepReached(marker, 4);
    const first = serverJson(dir)!;
    killServer(first);

    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toBe(SUM);
    expect(lines(r).filter((l) => RESTARTED.test(l))).toHaveLength(1);
    expect(r.stderr).not.toMatch(/error/);
    // One restart: two servers started in all, and the new one is the one named now.
    expect(listening(dir)).toBe(2);
    const second = serverJson(dir)!;
    expect(second.id).not.toBe(first.id);
    expect(alive(second.pid)).toBe(true);
    await nothingRunning(dir);
    const [exec] = JSON.parse(await ok(dir, ["log", "--format", "json"])) as JsonRecord[];
    expect(exec!.status).toBe("DONE");
  });

  test("a server that dies again after its restart ends the command: one restart, one error line", async () => {
    // Long enough (~7 s) that the run is still going when its restarted server is killed.
    const { dir, marker, run } = slowRun("twice", [], ["--n", "60"]);
    await stepReached(marker, 3);
    const first = serverJson(dir)!;
    killServer(first);
    const second = await until("the restarted server", () => {
      const now = serverJson(dir);
      return now && now.id !== first.id ? now : null;
    });
    // Usually killed once the command has moved to it; if it dies before the command even sees it, the restart fails instead.
    await until("the restarted server to listen", () => listening(dir) === 2, 10_000).catch(() => {});
    await new Promise((r) => setTimeout(r, 200));
    killServer(second);
    expect(Number(readFileSync(marker, "utf8"))).toBeLessThan(60);

    const r = await run.done;
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(lines(r).filter((l) => RESTARTED.test(l)).length).toBeLessThanOrEqual(1);
    const errors = lines(r).filter((l) => l.startsWith("redun-edge: error: "));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /the local store's server \(pid \d+\) (stopped again after one restart in this command; giving up|stopped, and restarting it failed: )/,
    );
    // No third server: at most one restart per command.
    expect(listening(dir)).toBeLessThanOrEqual(2);
    const after = serverJson(dir);
    if (after) expect(after.id).toBe(second.id);
    // The next command starts a server as usual.
    expect(await ok(dir, ["log"])).toMatch(/^Recent executions:/);
  });

  test.runIf(LINUX)("a Node server killed outright leaves its workerd serving; the next command stops it (proven ours) and starts one server", async () => {
    const dir = folder("orphan");
    await ok(dir, ["run", EXAMPLE, "main"]);
    const first = serverJson(dir)!;
    const processes = processesOf(first.id!);
    expect(processes).toHaveLength(2);
    const workerd = processes.find((pid) => pid !== first.pid)!;
    process.kill(first.pid, "SIGKILL");
    await until("the Node server to go", () => !alive(first.pid));
    expect(alive(workerd)).toBe(true);

    expect(await ok(dir, ["log"])).toContain("[ DONE ]");
    await until("the orphaned workerd to stop", () => !alive(workerd), 10_000);
    const second = serverJson(dir)!;
    expect(second.id).not.toBe(first.id);
    expect(processesOf(second.id!)).toHaveLength(2);
  });

  test("a server.json naming a stranger's live process: it is never signalled, and the command succeeds on a new server", async () => {
    const dir = folder("stale");
    await ok(dir, ["run", EXAMPLE, "main"]);
    await ok(dir, ["server", "stop"]);
    const { key } = JSON.parse(readFileSync(join(dir, ".redun", "worker", "manifest.json"), "utf8")) as { key: string };
    // Something else answering on the port server.json names: it must see no request.
    let requests = 0;
    const foreign: Server = createServer((_req, res) => {
      requests++;
      res.end("{}");
    });
    await new Promise<void>((r) => foreign.listen(0, "127.0.0.1", () => r()));
    const foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
    try {
      const stale = [
        // As written by this version, for a server whose pid now belongs to `sleep`.
        { kind: "background", id: "0123456789abcdef0123456789abcdef", url: foreignUrl },
        // As written before server ids, its port refusing.
        { url: `http://127.0.0.1:${await closedPort()}` },
      ];
      for (const fields of stale) {
        const stranger = spawn("sleep", ["300"], { stdio: "ignore" });
        strangers.push(stranger);
        const info = { pid: stranger.pid, secret: "x", bundleKey: key, startedAt: Date.now(), ...fields };
        /** Stop the store's real server, if any, and name the stranger instead. */
        const plant = async () => {
          await ok(dir, ["server", "stop"]);
          writeFileSync(join(dir, ".redun", "server.json"), JSON.stringify(info));
        };
        await plant();
        if (!fields.kind) {
          // Written before server ids: never proven, so never signalled.
          expect(await ok(dir, ["log"])).toMatch(/^Recent executions:/);
          await plant();
          expect(await ok(dir, ["server", "stop"])).toBe("not running\n");
          continue;
        }
        expect(await ok(dir, ["server", "status"])).toMatch(new RegExp(`^not running \\(store .*server\\.json names pid ${stranger.pid}, which is not its server\\)`));
        expect(await ok(dir, ["log"])).toMatch(/^Recent executions:/);
        expect(serverJson(dir)!.pid).not.toBe(stranger.pid);
        await plant();
        expect(await ok(dir, ["server", "stop"])).toBe("not running\n");
        expect(serverJson(dir)).toBeNull();
        await plant();
        expect(await ok(dir, ["log", "--in-process"])).toMatch(/^Recent executions:/);
        await plant();
        expect(await ok(dir, ["tag", "list"])).toMatch(/^ {2}user +\(1 Execution\)$/m);

      }
      await new Promise((r) => setTimeout(r, 200));
      for (const stranger of strangers) {
        expect(stranger.exitCode).toBeNull();
        expect(stranger.signalCode).toBeNull();
        expect(alive(stranger.pid!)).toBe(true);
      }
      expect(requests).toBe(0);
    } finally {
      foreign.close();
    }
  });

  test("--in-process uses the background server another command is using, and never stops it", async () => {
    const { dir, marker, run } = slowRun("inproc");
    await stepReached(marker, 3);
    const server = serverJson(dir)!;
    expect(server.kind).toBe("background");

    expect(await ok(dir, ["log", "--in-process"])).toMatch(/^Recent executions:/);
    // The run's execution is written within a second (the scheduler flushes every second).
    await stepReached(marker, 12);
    expect(await ok(dir, ["log", "--in-process", "--exec-status", "RUNNING"])).toMatch(/\[ RUN  \]/);
    expect(alive(server.pid)).toBe(true);
    expect(serverJson(dir)!.id).toBe(server.id);

    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toBe(SUM);
    expect(lines(r).filter((l) => RESTARTED.test(l))).toHaveLength(0);
    expect(listening(dir)).toBe(1);
  });

  test("an --in-process run serves the commands started meanwhile; none starts a second server", async () => {
    const { dir, marker, run } = slowRun("inproc-first", ["--in-process"]);
    await stepReached(marker, 3);
    const held = serverJson(dir)!;
    expect(held.kind).toBe("in-process");
    expect(await ok(dir, ["server", "status"])).toMatch(/^running: in-process in the command with pid \d+/);
    expect(await ok(dir, ["server", "stop"])).toMatch(/^not stopped: the store is served in-process/);
    await stepReached(marker, 12);
    expect(await ok(dir, ["log", "--exec-status", "RUNNING"])).toMatch(/\[ RUN  \]/);
    expect(existsSync(join(dir, ".redun", "server.log"))).toBe(false);

    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toBe(SUM);
    expect(serverJson(dir)).toBeNull();
    await nothingRunning(dir);
  });
});

describe("a damaged store", { timeout: 120_000 }, () => {
  let pristine: string;

  beforeAll(async () => {
    pristine = folder("pristine");
    await ok(pristine, ["run", EXAMPLE, "main"]);
    await ok(pristine, ["server", "stop"]);
  });

  function databaseOf(dir: string): string {
    const d1 = join(dir, ".redun", "v3", "d1", "miniflare-D1DatabaseObject");
    return join(d1, readdirSync(d1).find((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite")!);
  }

  function withSql(file: string, sql: string): void {
    const db = new DatabaseSync(file);
    db.exec(sql);
    db.close();
  }

  /** Write through the WAL and keep it (SQLite folds it into the file when the last connection closes). */
  function walWrite(file: string, sql: string): void {
    const db = new DatabaseSync(file);
    db.exec(sql);
    const wal = readFileSync(`${file}-wal`);
    db.close();
    writeFileSync(`${file}-wal`, wal);
  }

  const cases: [string, (file: string) => void, RegExp][] = [
    ["a zero-length database", (f) => truncateSync(f, 0), /is empty \(0 bytes\)/],
    ["a zero-length database without its WAL", (f) => { truncateSync(f, 0); rmSync(`${f}-wal`, { force: true }); }, /is empty \(0 bytes\)/],
    ["a truncated database, its WAL holding a later write", (f) => { withSql(f, "PRAGMA wal_checkpoint(TRUNCATE)"); walWrite(f, "PRAGMA user_version = 7"); truncateSync(f, Math.floor(statSync(f).size / 2)); }, /is truncated \([\d,]+ of [\d,]+ bytes\)/],
    ["a truncated database without its WAL", (f) => { withSql(f, "PRAGMA wal_checkpoint(TRUNCATE)"); truncateSync(f, 4096); rmSync(`${f}-wal`, { force: true }); }, /is truncated \(4,096 of [\d,]+ bytes\)/],
    ["a file that is not SQLite", (f) => writeFileSync(f, "x".repeat(8192)), /is not a SQLite database/],
    ["no migration table", (f) => withSql(f, "DROP TABLE d1_migrations"), /holds tables \(.*\) but no d1_migrations table/],
    ["a table missing", (f) => withSql(f, "DROP TABLE jobs"), /lacks table jobs that its migrations made/],
  ];

  test.each(cases)("%s: one line saying what to do, nothing written, no server started", async (_name, damage, problem) => {
    const dir = folder("damaged");
    cpSync(join(pristine, ".redun"), join(dir, ".redun"), { recursive: true });
    rmSync(join(dir, ".redun", "server.log"), { force: true });
    const file = databaseOf(dir);
    damage(file);
    const before = readFileSync(file);

    for (const args of [["log"], ["tag", "list"], ["run", EXAMPLE, "main"], ["log", "--in-process"]]) {
      const r = await cli(dir, args);
      expectError(r, 1, problem);
      expect(r.stderr).toMatch(new RegExp(`the local store ${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/\\.redun is damaged: its database v3/d1/\\S+\\.sqlite `));
      expect(r.stderr).toMatch(/nothing was written\. Restore .* from a backup, or move .*\/\.redun\/v3 aside to start an empty store$/m);
    }
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(serverJson(dir)).toBeNull();
    expect(existsSync(join(dir, ".redun", "server.log"))).toBe(false);
  });

  test("moving the damaged database aside, as the message says, starts an empty store", async () => {
    const dir = folder("moved");
    cpSync(join(pristine, ".redun"), join(dir, ".redun"), { recursive: true });
    truncateSync(databaseOf(dir), 0);
    expectError(await cli(dir, ["log"]), 1, /is damaged/);
    cpSync(join(dir, ".redun", "v3"), join(dir, "v3.damaged"), { recursive: true });
    rmSync(join(dir, ".redun", "v3"), { recursive: true });
    expect(await ok(dir, ["log"])).toBe("Recent executions:\n\n");
  });
});
