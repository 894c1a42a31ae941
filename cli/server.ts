/** `server status|stop`: the local store's background server (see cli/local-server.ts). */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "./args.ts";
import { UsageError } from "./errors.ts";
import { STORE_DIR, readServerInfo, stopServer } from "./local-store.ts";
import { localStoreRoot } from "./store.ts";
import { formatDuration } from "./format.ts";

export async function serverCommand(argv: readonly string[]): Promise<number> {
  const p = parseArgs("server", argv, {});
  const [sub, ...extra] = p.positionals;
  if (extra.length || (sub !== "status" && sub !== "stop")) throw new UsageError("expected: server status | server stop", "server");
  const candidate = localStoreRoot();
  const root = existsSync(join(candidate, STORE_DIR)) ? candidate : null;
  const storeDir = root ? join(root, STORE_DIR) : null;
  const info = storeDir ? readServerInfo(storeDir) : null;
  if (sub === "status") {
    if (!info) process.stdout.write(`not running${root ? ` (store ${root})` : " (no store here)"}\n`);
    else process.stdout.write(`running: pid ${info.pid}, ${info.url}, up ${formatDuration(Date.now() - info.startedAt)}, store ${root}\n`);
    return 0;
  }
  const stopped = storeDir ? await stopServer(storeDir) : false;
  process.stdout.write(stopped ? `stopped (pid ${info!.pid})\n` : "not running\n");
  return 0;
}
