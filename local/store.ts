/**
 * The local store: the same Worker a deployment runs (worker/entry.ts over D1),
 * run by Miniflare over a persisted D1 in `.redun/`, reached over HTTP like a
 * remote one, so local and remote share all client code.
 *
 * Start-up cost decides the design. Loading Miniflare and starting workerd
 * take several times what a `log` may take (BENCHMARKS.md). So
 * by default the first command starts Miniflare in a background process
 * (local/server.ts) that later commands reach on a loopback port, and
 * that stops by itself when idle. `--in-process` (or REDUN_EDGE_IN_PROCESS=1)
 * runs Miniflare inside the command instead and stops it at exit.
 *
 * One workerd serves a store at a time, named in `server.json`. A command
 * signals a server only once its process is proven ours (local/process.ts);
 * a server that dies during a command is replaced at most once, and every
 * later request of the command goes to the new one (`connect`). A damaged
 * database is reported before any Worker opens it (local/check.ts).
 *
 * Layout of `.redun/`: `v3/d1/...` the D1 database (wrangler's layout for
 * `--persist-to .redun`), `worker/` the cached Worker bundle, `server.json`
 * the running server, `server.lock` held while one starts, `server.log` the
 * background server's stderr, `sync.json` the sync cursors per remote.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Miniflare as MiniflareInstance } from "miniflare";
import { LocalError } from "./errors.ts";
import { DamagedStoreError, checkStoreBeforeStart, checkStoreFiles, databaseFiles } from "./check.ts";
import { SERVER_ID_ENV, carriesServerId, isAlive, remnants, stopProven } from "./process.ts";
import { workerBundle, writeAtomic, type WorkerBundle } from "./bundle.ts";
import { loopbackFetch } from "./loopback-fetch.ts";
import { packageRoot, readMigrations, wranglerSettings } from "./package.ts";

export { packageRoot };

export const STORE_DIR = ".redun";

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** How to talk to a store: its URL, a fetch, and headers to send. */
export interface StoreConnection {
  url: string;
  fetch?: FetchLike;
  headers?: Record<string, string>;
  close(): Promise<void>;
}

/** The folder holding `.redun/`, looked up from `start` upwards; null when there is none. */
export function findStoreRoot(start: string): string | null {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, STORE_DIR))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

// ---- Miniflare ----------------------------------------------------------------

export interface RunningWorker {
  mf: MiniflareInstance;
  url: string;
  secret: string;
}

/**
 * Start Miniflare on the bundle. `require` rather than `import`: Node's CJS
 * export scan of its large file costs more than a command may take. `serverId` is what the Worker
 * answers on `/__local/status`, so a command can tell its server from
 * anything else on that port.
 */
export async function startWorker(storeDir: string, bundle: WorkerBundle, secret: string, serverId: string): Promise<RunningWorker> {
  const { Miniflare, Log, LogLevel } = createRequire(import.meta.url)("miniflare") as typeof import("miniflare");
  const settings = wranglerSettings(packageRoot());
  const mf = new Miniflare({
    workers: [
      {
        config: {
          name: "redun-edge",
          compatibilityDate: settings.compatibilityDate,
          manifest: { mainModule: "worker.mjs", modules: { "worker.mjs": { type: "esm", contents: readFileSync(bundle.path, "utf8") } } },
          env: {
            DB: { type: "d1", id: settings.d1Id },
            LOCAL_SECRET: { type: "text", value: secret },
            LOCAL_SERVER_ID: { type: "text", value: serverId },
          },
        },
      },
    ],
    host: "127.0.0.1",
    port: 0,
    resourcePersistencePath: join(storeDir, "v3"),
    enableDevRegistry: false,
    logRequests: false,
    telemetry: { enabled: false },
    log: new Log(LogLevel.ERROR),
    // The Worker's console output goes to stderr (the background server's log), never into a command's stdout.
    handleStructuredLogs: ({ level, message }) => void process.stderr.write(`worker ${level}: ${message}\n`),
  });
  try {
    const url = (await mf.ready).toString().replace(/\/$/, "");
    // First request: applies pending migrations now, so their failure is a start failure.
    const res = await mf.dispatchFetch(`${url}/__local/status`, { headers: { "x-redun-edge-local": secret } });
    const body = await res.text();
    if (!res.ok) {
      const error = errorOf(body);
      if (error.code === "damaged_store") throw new DamagedStoreError(storeDir, databaseFiles(storeDir)[0] ?? null, error.message);
      throw new LocalError(`the local store did not start: ${error.message}`);
    }
    return { mf, url, secret };
  } catch (error) {
    await mf.dispose().catch(() => {});
    throw error;
  }
}

function errorOf(body: string): { code?: string; message: string } {
  try {
    return (JSON.parse(body) as { error: { code?: string; message: string } }).error;
  } catch {
    return { message: body.slice(0, 200) };
  }
}

/** Create `.redun/` in `root` (first use) and return its path. */
export function ensureStoreDir(root: string): string {
  const dir = join(root, STORE_DIR);
  mkdirSync(dir, { recursive: true });
  const ignore = join(dir, ".gitignore");
  if (!existsSync(ignore)) writeFileSync(ignore, "# redun-edge local store\n*\n");
  return dir;
}

// ---- servers: which one serves a store, starting one, stopping one ----------

/**
 * `.redun/server.json`: the server of the store, the one workerd every
 * command of that store talks to (two must not share one D1 database).
 * "background": local/server.ts, spawned detached, stopped when idle.
 * "in-process": a command running Miniflare itself (`--in-process`); other
 * commands may use it while it lasts, and it is never signalled.
 */
export interface ServerInfo {
  kind?: "background" | "in-process";
  /** Random nonce of this server: in its command line and environment (local/process.ts), answered on its port. */
  id?: string;
  pid: number;
  url: string;
  secret: string;
  bundleKey: string;
  startedAt: number;
}

export function serverInfoPath(storeDir: string): string {
  return join(storeDir, "server.json");
}

export function readServerInfo(storeDir: string): ServerInfo | null {
  try {
    const info = JSON.parse(readFileSync(serverInfoPath(storeDir), "utf8")) as ServerInfo;
    return info && typeof info.pid === "number" && typeof info.url === "string" && typeof info.secret === "string" ? info : null;
  } catch {
    return null;
  }
}

/** Random hex, for server ids and secrets; node:crypto is loaded only when a server starts. */
const randomHex = (bytes: number) => (createRequire(import.meta.url)("node:crypto") as typeof import("node:crypto")).randomBytes(bytes).toString("hex");
const newServerId = () => randomHex(16);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How long a server may take to answer `/__local/status` before it is judged gone (a busy Worker answers well within). */
const PROBE_MS = 5000;

/** Is `info` a background server of ours, by its process (no round trip)? */
function provenBackground(info: ServerInfo): boolean {
  return info.kind !== "in-process" && !!info.id && isAlive(info.pid) && carriesServerId(info.pid, info.id);
}

/** Is the process server.json names still that server (no round trip)? For `server status`. */
export function serverIsLive(info: ServerInfo): boolean {
  return info.kind === "in-process" ? isAlive(info.pid) : provenBackground(info);
}

/** Does the server answer on its port with its secret and its id? */
async function answers(info: ServerInfo, timeoutMs = PROBE_MS): Promise<boolean> {
  try {
    const res = await loopbackFetch(`${info.url}/__local/status`, { headers: { "x-redun-edge-local": info.secret } }, timeoutMs);
    if (!res.ok) return false;
    return ((await res.json()) as { serverId?: unknown }).serverId === info.id;
  } catch {
    return false;
  }
}

/**
 * Stop the server `info` names, if it is provably ours: its Node process and
 * any workerd of it left running; then forget it (server.json, if it still
 * names it). An in-process server and an unproven pid are never signalled.
 * Returns whether a process was signalled.
 */
async function retire(storeDir: string, info: ServerInfo): Promise<boolean> {
  let signalled = 0;
  if (info.kind !== "in-process" && info.id) {
    signalled = await stopProven([info.pid, ...remnants(info.pid, info.id)], info.id);
  }
  const now = readServerInfo(storeDir);
  if (now && now.pid === info.pid && now.id === info.id) rmSync(serverInfoPath(storeDir), { force: true });
  return signalled > 0;
}

/**
 * Stop the store's background server, if one runs and is provably ours
 * (`server stop`). A command's in-process server is left to its command.
 * Returns whether one was stopped.
 */
export async function stopServer(storeDir: string): Promise<boolean> {
  const info = readServerInfo(storeDir);
  if (!info || (info.kind === "in-process" && isAlive(info.pid))) return false;
  return retire(storeDir, info);
}

/** One starter at a time: concurrent commands wait for the first one's server. */
function tryLock(lockPath: string): boolean {
  try {
    const fd = openSync(lockPath, "wx");
    writeFileSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    // A lock left by a starter that died is broken after it is older than a start can take.
    try {
      const holder = Number(readFileSync(lockPath, "utf8"));
      const age = Date.now() - statSync(lockPath).mtimeMs;
      if ((holder && !isAlive(holder)) || age > 60_000) rmSync(lockPath, { force: true });
    } catch {
      // Removed meanwhile.
    }
    return false;
  }
}

async function underLock<T>(storeDir: string, fn: () => Promise<T>): Promise<T> {
  const lockPath = join(storeDir, "server.lock");
  const deadline = Date.now() + 90_000;
  while (!tryLock(lockPath)) {
    if (Date.now() > deadline) throw new LocalError(`timed out waiting for the local store to start (${lockPath})`);
    await sleep(50);
  }
  try {
    return await fn();
  } finally {
    rmSync(lockPath, { force: true });
  }
}

function serverScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, "server.js"), join(here, "server.ts")].find((f) => existsSync(f))!;
}

/**
 * Spawn local/server.ts detached (its own process group), its output
 * going to `.redun/server.log` (never to a pipe that goes away with this
 * command); resolves once it has written server.json naming itself. Its id
 * goes in its arguments and its environment, where workerd inherits it.
 */
async function spawnServer(storeDir: string, bundle: WorkerBundle): Promise<ServerInfo> {
  const { spawn } = await import("node:child_process");
  const id = newServerId();
  const logPath = join(storeDir, "server.log");
  const log = openSync(logPath, "a");
  const child = spawn(process.execPath, [serverScript(), storeDir, bundle.path, bundle.key, id], {
    detached: true,
    stdio: ["ignore", log, log],
    env: { ...process.env, [SERVER_ID_ENV]: id },
  });
  closeSync(log);
  let exited = false;
  child.once("exit", () => (exited = true));
  child.once("error", () => (exited = true));
  try {
    const deadline = Date.now() + 60_000;
    while (!exited && Date.now() < deadline) {
      const info = readServerInfo(storeDir);
      if (info && info.id === id) return info;
      await sleep(25);
    }
  } finally {
    child.unref();
  }
  if (!exited) {
    try {
      child.kill();
    } catch {
      // Gone meanwhile.
    }
  }
  let reason = "";
  try {
    reason = readFileSync(logPath, "utf8").trim().split("\n").filter((l) => l.startsWith("redun-edge")).pop() ?? "";
  } catch {
    // No log.
  }
  reason = reason.replace(/^redun-edge[^:]*:\s*(error:\s*)?/, "");
  // The server checked the store again before migrating: its one line is the whole story.
  if (/^the local store .* is damaged: /.test(reason)) throw new LocalError(reason);
  const why = exited ? (reason ? `: ${reason}` : "") : " within 60 s";
  throw new LocalError(`the local store did not start${why} (see ${logPath})`);
}

/** A server a command holds: its record, and how to let go of it at the end. */
interface Held {
  info: ServerInfo;
  close(): Promise<void>;
}

const borrowed = (info: ServerInfo): Held => ({ info, close: async () => {} });

/**
 * The server to use, under the lock: the one server.json names when it is
 * usable (and is not `failed`, the one this command saw stop), else a new one
 * made by `start`. Whatever server.json named instead is retired first
 * (signalled only when proven ours).
 */
async function acquire(storeDir: string, usable: (info: ServerInfo) => Promise<boolean>, start: () => Promise<Held>, failed?: ServerInfo): Promise<Held> {
  return underLock(storeDir, async () => {
    const named = readServerInfo(storeDir);
    if (named && !(failed && named.id === failed.id && named.pid === failed.pid) && (await usable(named))) return borrowed(named);
    if (named) await retire(storeDir, named);
    await checkStoreBeforeStart(storeDir, readMigrations());
    return start();
  });
}

/** A background server of this bundle, or a live in-process one: either answers for the store. */
async function usableBackground(info: ServerInfo, bundle: WorkerBundle): Promise<boolean> {
  if (info.kind === "in-process") return isAlive(info.pid) && (await answers(info));
  return info.bundleKey === bundle.key && provenBackground(info) && (await answers(info));
}

/** Any server that answers for the store: an in-process command never stops one another command may be using. */
async function usableAny(info: ServerInfo): Promise<boolean> {
  if (info.kind === "in-process") return isAlive(info.pid) && (await answers(info));
  return provenBackground(info) && (await answers(info));
}

/** Run the Worker in this process and name it in server.json, so commands started meanwhile use it. */
async function startInProcess(storeDir: string, bundle: WorkerBundle): Promise<Held> {
  const id = newServerId();
  const secret = randomHex(16);
  const worker = await startWorker(storeDir, bundle, secret, id);
  const info: ServerInfo = { kind: "in-process", id, pid: process.pid, url: worker.url, secret, bundleKey: bundle.key, startedAt: Date.now() };
  writeAtomic(serverInfoPath(storeDir), JSON.stringify(info), 0o600);
  return {
    info,
    close: async () => {
      const now = readServerInfo(storeDir);
      if (now?.id === id) rmSync(serverInfoPath(storeDir), { force: true });
      await worker.mf.dispose();
    },
  };
}

// ---- the connection: every request to the current server, one restart -----

/** Connection failures after which the server is asked whether it is still there. */
const CONNECTION_ERRORS = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNABORTED"]);
/** The one request that is not safe to send twice: a tag edit (an update or rm applied twice differs from once). */
const TAG_EDIT = /^\/api\/records\/[^/?]+\/tags$/;
/** Restarts a command may make: more would hide a server that keeps dying. */
const MAX_RESTARTS = 1;

function isIdempotent(input: string, init: RequestInit | undefined): boolean {
  return (init?.method ?? "GET").toUpperCase() !== "POST" || !TAG_EDIT.test(new URL(input).pathname);
}

/**
 * The fetch of a local store's connection. Every request goes to the
 * current server (its URL and secret). When a request fails to connect and
 * the server no longer answers, it is replaced once per command (`restart`),
 * and every later request goes to the new one; the failed request is sent
 * again when that is safe: it never arrived (refused), or it is idempotent
 * (reads, and writes by sync push, which are set unions). A tag edit cut
 * off mid-way is reported, not repeated. A second failure ends the command.
 */
function connect(storeDir: string, first: Held, restart: (failed: ServerInfo) => Promise<Held>): StoreConnection {
  const base = first.info.url;
  let current = first;
  let generation = 0;
  let restarts = 0;
  let restarting: Promise<void> | null = null;

  /** Set once this command cannot go on with the store: every later request fails with it. */
  let gaveUp: LocalError | null = null;

  const replace = (failed: Held): Promise<void> =>
    (restarting ??= (async () => {
      if (gaveUp) throw gaveUp;
      const log = join(storeDir, "server.log");
      if (restarts >= MAX_RESTARTS) {
        throw (gaveUp = new LocalError(`the local store's server (pid ${failed.info.pid}) stopped again after one restart in this command; giving up (see ${log})`));
      }
      restarts++;
      let next: Held;
      try {
        next = await restart(failed.info);
      } catch (cause) {
        const why = (cause as Error)?.message ?? String(cause);
        throw (gaveUp = new LocalError(`the local store's server (pid ${failed.info.pid}) stopped, and restarting it failed: ${why}`, { cause }));
      }
      await failed.close().catch(() => {});
      current = next;
      generation++;
      process.stderr.write(`redun-edge: the local store's server (pid ${failed.info.pid}) stopped; continuing on a new one (pid ${next.info.pid})\n`);
    })().finally(() => (restarting = null)));

  const fetchVia: FetchLike = async (input, init) => {
    let retriedSameServer = false;
    for (;;) {
      const held = current;
      const seen = generation;
      const url = input.startsWith(base) ? held.info.url + input.slice(base.length) : input;
      try {
        return await loopbackFetch(url, withSecret(init, held.info.secret));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? "";
        if (!CONNECTION_ERRORS.has(code)) throw error;
        const safe = code === "ECONNREFUSED" || isIdempotent(url, init);
        if (seen === generation) {
          if (await answers(held.info)) {
            // Still there: a keep-alive socket it had closed, say. Once more on the same server.
            if (safe && !retriedSameServer) {
              retriedSameServer = true;
              continue;
            }
            throw error;
          }
          await replace(held);
        }
        if (!safe) {
          throw new LocalError(
            `the local store's server (pid ${held.info.pid}) stopped while it handled a tag edit; the edit may or may not have been made: check before repeating it`,
            { cause: error },
          );
        }
      }
    }
  };

  return {
    url: base,
    fetch: fetchVia,
    // For clients that bring no fetch of their own (the benchmarks): the first server's secret.
    headers: { "x-redun-edge-local": first.info.secret },
    close: () => current.close(),
  };
}

function withSecret(init: RequestInit | undefined, secret: string): RequestInit {
  return { ...init, headers: { ...(init?.headers as Record<string, string> | undefined), "x-redun-edge-local": secret } };
}

/**
 * Reach the store's background server, starting it when none runs (or when
 * the one running serves an older Worker bundle). A running server is
 * trusted on the proof of its process alone (one round trip less per
 * command); a server that has died is found by the first request, and
 * replaced once (see `connect`).
 */
export async function openBackground(root: string): Promise<StoreConnection> {
  const storeDir = ensureStoreDir(root);
  checkStoreFiles(storeDir);
  const bundle = await workerBundle(storeDir);
  const start = async () => borrowed(await spawnServer(storeDir, bundle));
  const named = readServerInfo(storeDir);
  const trusted = named && named.kind !== "in-process" && named.bundleKey === bundle.key && provenBackground(named);
  const first = trusted ? borrowed(named) : await acquire(storeDir, (info) => usableBackground(info, bundle), start);
  return connect(storeDir, first, (failed) => acquire(storeDir, (info) => usableBackground(info, bundle), start, failed));
}

/**
 * Run the Worker inside this process; `close` stops it. When a server
 * already answers for the store (a background one, or another command's),
 * the command uses it instead: it never stops a server another command may
 * be using, and two workerd processes must not share one D1 database.
 */
export async function openInProcess(root: string): Promise<StoreConnection> {
  const storeDir = ensureStoreDir(root);
  checkStoreFiles(storeDir);
  const bundle = await workerBundle(storeDir);
  const get = (failed?: ServerInfo) => acquire(storeDir, usableAny, () => startInProcess(storeDir, bundle), failed);
  return connect(storeDir, await get(), get);
}

/** The local store of `root`: in this process, or the background server. */
export function openLocalStore(root: string, options: { inProcess?: boolean } = {}): Promise<StoreConnection> {
  return options.inProcess ? openInProcess(root) : openBackground(root);
}
