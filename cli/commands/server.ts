/** `server status|stop`: the local store's background server (see local/server.ts). */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { closest } from "../args.ts";
import { parseCommand, type Command, type CommandSpec } from "../command.ts";
import { UsageError } from "../errors.ts";
import { STORE_DIR, readServerInfo, serverIsLive, stopServer } from "../../local/store.ts";
import { localStoreRoot } from "../store.ts";
import { formatDuration } from "../format.ts";

export const spec: CommandSpec = {
  name: "server",
  synopsis: "server status|stop",
  summary: "the local store's background server",
  usage: ["server status|stop"],
  text: `The local store's Worker runs in a background process, started by the first
command that needs it and stopped after REDUN_EDGE_IDLE_SECONDS (default
600) without requests.

status   whether it runs, where, and since when
stop     stop it now`,
  options: {},
};

export const command: Command = { spec, run: serverCommand };

export async function serverCommand(argv: readonly string[]): Promise<number> {
  const p = parseCommand(spec, argv);
  const [sub, ...extra] = p.positionals;
  if (extra.length || (sub !== "status" && sub !== "stop")) {
    const near = sub === undefined || extra.length ? null : closest(sub, ["status", "stop"]);
    throw new UsageError(`expected: server status | server stop${near ? `; did you mean ${JSON.stringify(near)}?` : ""}`, "server");
  }
  const candidate = localStoreRoot();
  const root = existsSync(join(candidate, STORE_DIR)) ? candidate : null;
  const storeDir = root ? join(root, STORE_DIR) : null;
  const info = storeDir ? readServerInfo(storeDir) : null;
  const inProcess = info?.kind === "in-process" && serverIsLive(info);
  if (sub === "status") {
    if (!info) process.stdout.write(`not running${root ? ` (store ${root})` : " (no store here)"}\n`);
    else if (!serverIsLive(info)) process.stdout.write(`not running (store ${root}; ${STORE_DIR}/server.json names pid ${info.pid}, which is not its server)\n`);
    else {
      const where = inProcess ? `in-process in the command with pid ${info.pid}` : `pid ${info.pid}`;
      process.stdout.write(`running: ${where}, ${info.url}, up ${formatDuration(Date.now() - info.startedAt)}, store ${root}\n`);
    }
    return 0;
  }
  if (inProcess) {
    // A command's own Worker ends with that command; it is not ours to stop.
    process.stdout.write(`not stopped: the store is served in-process by the command with pid ${info.pid}; it stops when that command ends\n`);
    return 0;
  }
  const stopped = storeDir ? await stopServer(storeDir) : false;
  process.stdout.write(stopped ? `stopped (pid ${info!.pid})\n` : "not running\n");
  return 0;
}
