/**
 * The background server of a local store (started by cli/local-store.ts,
 * never by hand): keeps Miniflare running so each command pays a request,
 * not the start of workerd. Commands talk to workerd's loopback port
 * directly; this process only owns Miniflare, records where it listens in
 * `.redun/server.json` (mode 0600: it holds the request secret), and stops
 * after REDUN_EDGE_IDLE_SECONDS (default 600) without API requests, when
 * server.json names another server, or on SIGTERM (`redun-edge server stop`).
 *
 * argv: STORE_DIR BUNDLE_PATH BUNDLE_KEY SERVER_ID. The server id (also in
 * the environment, where workerd inherits it) is how a command proves this
 * process is its server before it signals it (cli/local-process.ts).
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { readServerInfo, serverInfoPath, startWorker, writeAtomic, type ServerInfo } from "./local-store.ts";

const [storeDir, bundlePath, bundleKey, serverId] = process.argv.slice(2);
const idleMs = Math.max(5, Number(process.env.REDUN_EDGE_IDLE_SECONDS) || 600) * 1000;

function fail(error: unknown): never {
  process.stderr.write(`redun-edge local server: error: ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
}

if (!storeDir || !bundlePath || !bundleKey || !serverId) fail(new Error("usage: local-server STORE_DIR BUNDLE_PATH BUNDLE_KEY SERVER_ID"));

const secret = randomBytes(24).toString("hex");
let worker: Awaited<ReturnType<typeof startWorker>>;
try {
  worker = await startWorker(storeDir!, { path: bundlePath!, key: bundleKey! }, secret, serverId!);
} catch (error) {
  fail(error);
}
const info: ServerInfo = { kind: "background", id: serverId!, pid: process.pid, url: worker.url, secret, bundleKey: bundleKey!, startedAt: Date.now() };
writeAtomic(serverInfoPath(storeDir!), JSON.stringify(info), 0o600);
// The starting command waits for server.json to name this server.
process.stderr.write(`${new Date().toISOString()} redun-edge local server ${process.pid} listening on ${worker.url}\n`);

const mine = () => readServerInfo(storeDir!)?.id === serverId;

let stopping = false;
async function stop(why: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(timer);
  if (mine()) rmSync(serverInfoPath(storeDir!), { force: true });
  process.stderr.write(`${new Date().toISOString()} redun-edge local server ${process.pid} stopping: ${why}\n`);
  await worker.mf.dispose().catch(() => {});
  process.exit(0);
}

/** Idle check: ask the Worker how long since its last API request; stop when replaced or gone. */
const timer = setInterval(
  async () => {
    if (!mine()) return void stop("replaced");
    try {
      const res = await worker.mf.dispatchFetch(`${worker.url}/__local/status`, { headers: { "x-redun-edge-local": secret } });
      const status = (await res.json()) as { idleMs: number };
      if (status.idleMs >= idleMs) await stop(`idle for ${Math.round(status.idleMs / 1000)} s`);
    } catch (error) {
      await stop(`worker not answering: ${(error as Error).message}`);
    }
  },
  Math.min(15_000, idleMs / 2),
);

for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, () => void stop(signal));
