/**
 * The local store: the same Worker a deployment runs (worker/entry.ts over D1),
 * run by Miniflare over a persisted D1 in `.redun/`, reached over HTTP like a
 * remote one, so local and remote share all client code.
 *
 * Start-up cost decides the design. Loading Miniflare takes ~0.5 s and
 * starting workerd another ~0.4 s, far over the 0.3 s a `log` may take. So
 * by default the first command starts Miniflare in a background process
 * (cli/local-server.ts) that later commands reach on a loopback port, and
 * that stops by itself when idle. `--in-process` (or REDUN_EDGE_IN_PROCESS=1)
 * runs Miniflare inside the command instead and stops it at exit.
 *
 * Layout of `.redun/`: `v3/d1/...` the D1 database (wrangler's layout for
 * `--persist-to .redun`), `worker/` the cached Worker bundle, `server.json`
 * the running background server, `server.log` its stderr, `sync.json` the
 * sync cursors per remote.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Miniflare as MiniflareInstance } from "miniflare";
import { CliError } from "./errors.ts";

export const STORE_DIR = ".redun";
/** The database id of wrangler.toml, so wrangler's local state and ours are one file. */
const FALLBACK_D1_ID = "00000000-0000-0000-0000-000000000000";
const FALLBACK_COMPAT_DATE = "2026-11-01";

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

/** The package root (its package.json names redun-edge), for the Worker sources and migrations. */
export function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  let dir = here;
  for (;;) {
    try {
      if ((JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string }).name === "redun-edge") return dir;
    } catch {
      // No package.json here.
    }
    const parent = dirname(dir);
    if (parent === dir) return resolve(here, "..");
    dir = parent;
  }
}

interface WranglerSettings {
  compatibilityDate: string;
  d1Id: string;
}

function wranglerSettings(root: string): WranglerSettings {
  let text = "";
  try {
    text = readFileSync(join(root, "wrangler.toml"), "utf8");
  } catch {
    // Not shipped: the defaults match it.
  }
  return {
    compatibilityDate: /^compatibility_date\s*=\s*"([^"]+)"/m.exec(text)?.[1] ?? FALLBACK_COMPAT_DATE,
    d1Id: /^database_id\s*=\s*"([^"]+)"/m.exec(text)?.[1] ?? FALLBACK_D1_ID,
  };
}

/** esbuild options for one ES module that runs in workerd (the local store and bench/d1.ts). */
export const WORKER_BUILD_OPTIONS: {
  bundle: true;
  format: "esm";
  platform: "neutral";
  conditions: string[];
  mainFields: string[];
  target: string;
  write: false;
  logLevel: "silent";
} = {
  bundle: true,
  format: "esm",
  platform: "neutral",
  conditions: ["workerd", "worker", "browser"],
  mainFields: ["browser", "module", "main"],
  target: "es2022",
  write: false,
  logLevel: "silent",
};

// ---- the Worker bundle ------------------------------------------------------

export interface WorkerBundle {
  path: string;
  /** Hash of the bundle's contents: a background server running another bundle is replaced. */
  key: string;
}

interface BundleManifest {
  key: string;
  /** Input file -> [mtimeMs, size]: the bundle is rebuilt when any changes. */
  inputs: Record<string, [number, number]>;
}

function fileStamp(path: string): [number, number] | null {
  try {
    const s = statSync(path);
    return [s.mtimeMs, s.size];
  } catch {
    return null;
  }
}

function migrationFiles(pkg: string): string[] {
  const dir = [join(pkg, "adapters", "d1", "migrations"), join(pkg, "dist", "adapters", "d1", "migrations")].find((d) => existsSync(d));
  if (!dir) throw new CliError(`cannot find the D1 migrations (adapters/d1/migrations) under ${pkg}`);
  return readdirSync(dir).filter((f) => f.endsWith(".sql")).sort().map((f) => join(dir, f));
}

/**
 * The Worker as one ES module, cached in `.redun/worker/` and rebuilt only
 * when a source file changed (checked by size and mtime: ~60 stats, well
 * under a millisecond). esbuild is loaded only to rebuild.
 */
export async function workerBundle(storeDir: string): Promise<WorkerBundle> {
  const pkg = packageRoot();
  const dir = join(storeDir, "worker");
  const path = join(dir, "worker.mjs");
  const manifestPath = join(dir, "manifest.json");
  const migrations = migrationFiles(pkg);
  try {
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as BundleManifest;
    const fresh =
      existsSync(path) &&
      migrations.every((m) => m in manifest.inputs) &&
      Object.entries(manifest.inputs).every(([file, stamp]) => {
        const now = fileStamp(file);
        return now !== null && now[0] === stamp[0] && now[1] === stamp[1];
      });
    if (fresh) return { path, key: manifest.key };
  } catch {
    // No or unreadable manifest: build.
  }
  // The sources when they are there (a checkout), so the CLI run from cli/ or dist/cli/ builds one bundle.
  const here = dirname(fileURLToPath(import.meta.url));
  const entry = [join(pkg, "cli", "local-worker.ts"), join(here, "local-worker.ts"), join(here, "local-worker.js")].find((f) => existsSync(f));
  if (!entry) throw new CliError("cannot find cli/local-worker.ts to build the local Worker");
  let esbuild: typeof import("esbuild");
  try {
    esbuild = await import("esbuild");
  } catch (cause) {
    throw new CliError("esbuild is needed to build the local Worker once; install it (npm install esbuild)", { cause });
  }
  const list = migrations.map((file) => ({ name: file.split(/[\\/]/).pop()!, sql: readFileSync(file, "utf8") }));
  const result = await esbuild.build({
    ...WORKER_BUILD_OPTIONS,
    entryPoints: [entry],
    metafile: true,
    define: { __REDUN_EDGE_MIGRATIONS__: JSON.stringify(list) },
  });
  const code = result.outputFiles[0]!.contents;
  const inputs: Record<string, [number, number]> = {};
  for (const input of [...Object.keys(result.metafile.inputs).map((f) => resolve(f)), ...migrations]) {
    const stamp = fileStamp(input);
    if (stamp) inputs[input] = stamp;
  }
  const { createHash } = await import("node:crypto");
  const key = createHash("sha1").update(code).digest("hex").slice(0, 16);
  mkdirSync(dir, { recursive: true });
  writeAtomic(path, code);
  writeAtomic(manifestPath, JSON.stringify({ key, inputs } satisfies BundleManifest));
  return { path, key };
}

export function writeAtomic(path: string, data: string | Uint8Array, mode = 0o644): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, path);
}

// ---- Miniflare ----------------------------------------------------------------

export interface RunningWorker {
  mf: MiniflareInstance;
  url: string;
  secret: string;
}

/** Start Miniflare on the bundle. `require` rather than `import`: Node's CJS export scan of its 6 MB file costs ~0.4 s. */
export async function startWorker(storeDir: string, bundle: WorkerBundle, secret: string): Promise<RunningWorker> {
  const { Miniflare, Log, LogLevel } = createRequire(import.meta.url)("miniflare") as typeof import("miniflare");
  const settings = wranglerSettings(packageRoot());
  const mf = new Miniflare({
    workers: [
      {
        config: {
          name: "redun-edge",
          compatibilityDate: settings.compatibilityDate,
          manifest: { mainModule: "worker.mjs", modules: { "worker.mjs": { type: "esm", contents: readFileSync(bundle.path, "utf8") } } },
          env: { DB: { type: "d1", id: settings.d1Id }, LOCAL_SECRET: { type: "text", value: secret } },
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
    if (!res.ok) throw new CliError(`the local store did not start: ${errorMessage(body)}`);
    return { mf, url, secret };
  } catch (error) {
    await mf.dispose().catch(() => {});
    throw error;
  }
}

function errorMessage(body: string): string {
  try {
    return (JSON.parse(body) as { error: { message: string } }).error.message;
  } catch {
    return body.slice(0, 200);
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

/**
 * Run the Worker inside this process; `close` stops it. A background server
 * of the same store is stopped first: two workerd processes must not share
 * one D1 database (the next command starts it again).
 */
export async function openInProcess(root: string): Promise<StoreConnection> {
  const storeDir = ensureStoreDir(root);
  const bundle = await workerBundle(storeDir);
  if (readServerInfo(storeDir)) await stopServer(storeDir);
  const { randomBytes } = await import("node:crypto");
  const secret = randomBytes(16).toString("hex");
  const worker = await startWorker(storeDir, bundle, secret);
  return {
    url: worker.url,
    // workerd's own port, as for the background server (dispatchFetch adds ~20 ms a request).
    fetch: (input, init) => loopbackFetch(input, init),
    headers: { "x-redun-edge-local": secret },
    close: () => worker.mf.dispose(),
  };
}

// ---- the background server --------------------------------------------------

export interface ServerInfo {
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
    return JSON.parse(readFileSync(serverInfoPath(storeDir), "utf8")) as ServerInfo;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Does the server answer? Used only when deciding whether to start one. */
async function answers(info: ServerInfo, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await loopbackFetch(`${info.url}/api/health`, { headers: { "x-redun-edge-local": info.secret } }, timeoutMs);
    await res.text();
    return res.ok;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stop the background server of a store, if one runs. Returns whether one was stopped. */
export async function stopServer(storeDir: string): Promise<boolean> {
  const info = readServerInfo(storeDir);
  if (!info) return false;
  let stopped = false;
  if (alive(info.pid)) {
    try {
      process.kill(info.pid, "SIGTERM");
      stopped = true;
    } catch {
      // Gone meanwhile.
    }
    for (let i = 0; i < 100 && alive(info.pid); i++) await sleep(50);
  }
  if (readServerInfo(storeDir)?.pid === info.pid) rmSync(serverInfoPath(storeDir), { force: true });
  return stopped;
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
      if ((holder && !alive(holder)) || age > 60_000) rmSync(lockPath, { force: true });
    } catch {
      // Removed meanwhile.
    }
    return false;
  }
}

function serverScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, "local-server.js"), join(here, "local-server.ts")].find((f) => existsSync(f))!;
}

/**
 * Spawn cli/local-server.ts detached, its output going to `.redun/server.log`
 * (never to a pipe that goes away with this command); resolves once it has
 * written server.json naming itself.
 */
async function spawnServer(storeDir: string, bundle: WorkerBundle): Promise<ServerInfo> {
  const { spawn } = await import("node:child_process");
  const logPath = join(storeDir, "server.log");
  const log = openSync(logPath, "a");
  const child = spawn(process.execPath, [serverScript(), storeDir, bundle.path, bundle.key], {
    detached: true,
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  let exited = false;
  child.once("exit", () => (exited = true));
  child.once("error", () => (exited = true));
  try {
    const deadline = Date.now() + 60_000;
    while (!exited && Date.now() < deadline) {
      const info = readServerInfo(storeDir);
      if (info && info.pid === child.pid) return info;
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
  const why = exited ? (reason ? `: ${reason.replace(/^redun-edge[^:]*:\s*(error:\s*)?/, "")}` : "") : " within 60 s";
  throw new CliError(`the local store did not start${why} (see ${logPath})`);
}

/**
 * Reach the store's background server, starting it when none runs (or when
 * the one running serves an older Worker bundle). A running server is
 * trusted without a health check (one round trip less per command); if it
 * refuses the connection, the request was never delivered, so the server is
 * started anew and the request sent again.
 */
export async function openBackground(root: string): Promise<StoreConnection> {
  const storeDir = ensureStoreDir(root);
  const bundle = await workerBundle(storeDir);
  const info = readServerInfo(storeDir);
  let current = info && info.bundleKey === bundle.key && alive(info.pid) ? info : await startServer(storeDir, bundle);
  const fetchWithRestart: FetchLike = async (input, init) => {
    try {
      return await loopbackFetch(input, init);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ECONNREFUSED") throw error;
      const stale = current;
      current = await startServer(storeDir, bundle, stale.pid);
      return loopbackFetch(input.replace(stale.url, current.url), withSecret(init, current.secret));
    }
  };
  return { url: current.url, fetch: fetchWithRestart, headers: { "x-redun-edge-local": current.secret }, close: async () => {} };
}

function withSecret(init: RequestInit | undefined, secret: string): RequestInit {
  return { ...init, headers: { ...(init?.headers as Record<string, string> | undefined), "x-redun-edge-local": secret } };
}

/** Start a server under the lock; `replacing` names a server known not to answer. */
async function startServer(storeDir: string, bundle: WorkerBundle, replacing?: number): Promise<ServerInfo> {
  const lockPath = join(storeDir, "server.lock");
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (tryLock(lockPath)) {
      try {
        // Re-check under the lock: another command may have just started one.
        const again = readServerInfo(storeDir);
        if (again && again.pid !== replacing && again.bundleKey === bundle.key && alive(again.pid) && (await answers(again))) return again;
        if (again) await stopServer(storeDir);
        return await spawnServer(storeDir, bundle);
      } finally {
        rmSync(lockPath, { force: true });
      }
    }
    if (Date.now() > deadline) throw new CliError(`timed out waiting for the local store to start (${lockPath})`);
    await sleep(50);
  }
}

// ---- a small fetch over node:http --------------------------------------------

/**
 * fetch() for the loopback server over node:http. Node's global fetch loads
 * undici on first use, ~60 ms of CPU per command, a fifth of the budget of a
 * `log`; node:http is already in the snapshot. Returns the part of Response
 * the HTTP adapter uses.
 */
// `require`, not `import`: the ESM facade of node:http evaluates its lazy exports, which loads undici.
const http = createRequire(import.meta.url)("node:http") as typeof import("node:http");
const agent = new http.Agent({ keepAlive: true });

export function loopbackFetch(input: string, init: RequestInit = {}, timeoutMs = 120_000): Promise<Response> {
  return new Promise((resolvePromise, reject) => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    const body = init.body === undefined || init.body === null ? undefined : String(init.body);
    const req = http.request(
      input,
      {
        method: init.method ?? "GET",
        headers: body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) },
        agent,
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => resolvePromise(liteResponse(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString("utf8"))));
      },
    );
    req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer from ${input} in ${timeoutMs / 1000} s`), { code: "ETIMEDOUT" })));
    req.on("error", reject);
    req.end(body);
  });
}

function liteResponse(status: number, raw: Record<string, string | string[] | undefined>, text: string): Response {
  const lite = {
    ok: status >= 200 && status < 300,
    status,
    statusText: "",
    headers: { get: (name: string) => { const v = raw[name.toLowerCase()]; return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v; } },
    text: async () => text,
    json: async () => JSON.parse(text) as unknown,
    arrayBuffer: async () => new TextEncoder().encode(text).buffer,
  };
  return lite as unknown as Response;
}

/** The local store of `root`: in this process, or the background server. */
export function openLocalStore(root: string, options: { inProcess?: boolean } = {}): Promise<StoreConnection> {
  return options.inProcess ? openInProcess(root) : openBackground(root);
}
