/**
 * `npm start`: the example workflow through the CLI, as a user would type it:
 * two runs (the second CACHED), then `log --tag user=alice`. The store is a
 * temporary folder (REDUN_EDGE_STORE), so the demo leaves nothing behind;
 * its background server is stopped at the end.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, existsSync(join(here, "..", "package.json")) ? ".." : "../..");
const built = join(repo, "dist", "cli", "main.js");
const entry = existsSync(built) ? built : join(repo, "cli", "main.ts");
const store = mkdtempSync(join(tmpdir(), "redun-edge-demo-"));
const env = { ...process.env, REDUN_EDGE_STORE: store, REDUN_EDGE_URL: "" };

function redunEdge(args: string[]): void {
  process.stdout.write(`\n$ redun-edge ${args.map((a) => (/^[\w./=:,-]+$/.test(a) ? a : `'${a}'`)).join(" ")}\n`);
  const r = spawnSync(process.execPath, [entry, ...args], { cwd: repo, env, stdio: "inherit" });
  if (r.status !== 0) {
    cleanUp();
    process.exit(r.status ?? 1);
  }
}

function cleanUp(): void {
  spawnSync(process.execPath, [entry, "server", "stop"], { cwd: repo, env, stdio: "ignore" });
  rmSync(store, { recursive: true, force: true });
}

process.stdout.write(`A local store in ${store} (the Worker in Miniflare over D1).\n`);
redunEdge(["run", "--tag", "user=alice", "--tag", 'flags=["a","b"]', "examples/hello-world.ts", "main", "--name", "World"]);
redunEdge(["run", "--tag", "user=bob", "examples/hello-world.ts", "main", "--name", "World"]);
redunEdge(["log", "--tag", "user=alice"]);
redunEdge(["log", "--exec-tag", "user=bob", "--job"]);
redunEdge(["tag", "list", "--values", "user", "flags"]);
cleanUp();
process.stdout.write(`\nTry it on your own store (.redun/ in this folder): npx redun-edge --help\n`);
