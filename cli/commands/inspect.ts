/**
 * `inspect [--port N] [--no-open]`: the web inspector over the store, served
 * on 127.0.0.1 by cli/inspect.ts with a one-time key in its URL.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { STORE_DIR, openLocalStore, packageRoot, type StoreConnection } from "../../local/store.ts";
import { flag, str } from "../args.ts";
import { parseCommand, type Command, type CommandSpec } from "../command.ts";
import { CliError, UsageError } from "../errors.ts";
import { serveInspector, type InspectServer } from "../inspect.ts";
import { defaultStoreSpec, inProcess, tokenOf } from "../store.ts";

export const spec: CommandSpec = {
  name: "inspect",
  synopsis: "inspect [--port N]",
  summary: "look at the store in the web inspector",
  usage: ["inspect [--port N] [--no-open]"],
  text: `Serve the web inspector over the store on 127.0.0.1 and print its URL
(opened in a browser when there is one): executions, job trees, jobs,
values and their lineage, tasks, tags, and tag editing in place. The URL
carries a one-time key; Ctrl-C stops the server.`,
  options: {
    port: { type: "string", value: "N", help: "listen on port N (default: any free port)" },
    "no-open": { type: "boolean", help: "print the URL only" },
  },
};

export const command: Command = { spec, run: inspectCommand };

/** Open a URL in the desktop's browser, when there is one; never fails. */
function openBrowser(url: string): void {
  const command = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  try {
    const child = spawn(command, [url], { stdio: "ignore", detached: true });
    child.on("error", () => {});
    child.unref();
  } catch {
    // No browser here: the printed URL is enough.
  }
}

export async function inspectCommand(argv: readonly string[]): Promise<number> {
  const p = parseCommand(spec, argv);
  if (p.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(p.positionals[0])}`, "inspect");
  const portText = str(p, "port") ?? "0";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new UsageError(`--port must be a port number, got ${JSON.stringify(portText)}`, "inspect");
  const storeSpec = defaultStoreSpec(p, "inspect");
  let connection: StoreConnection;
  if (storeSpec.kind === "url") {
    const token = tokenOf(p);
    connection = { url: storeSpec.url, headers: token ? { authorization: `Bearer ${token}` } : {}, close: async () => {} };
  } else {
    if (!existsSync(join(storeSpec.root, STORE_DIR))) {
      throw new CliError(`no store in ${storeSpec.root} (no ${STORE_DIR}/): run a workflow first, or give --remote`);
    }
    connection = await openLocalStore(storeSpec.root, { inProcess: inProcess(p) });
  }
  const key = randomBytes(16).toString("hex");
  let server: InspectServer;
  try {
    server = await serveInspector({ dir: join(packageRoot(), "dist", "inspector"), api: connection, port, key });
  } catch (error) {
    await connection.close();
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") throw new CliError(`port ${port} is in use; pick another with --port`);
    throw error;
  }
  process.stdout.write(`redun-edge inspector for ${storeSpec.kind === "url" ? storeSpec.url : storeSpec.root}:\n  ${server.url}\n(Ctrl-C stops it)\n`);
  if (process.stdout.isTTY && !flag(p, "no-open")) openBrowser(server.url);
  await new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve());
  });
  await server.close();
  await connection.close();
  return 0;
}
