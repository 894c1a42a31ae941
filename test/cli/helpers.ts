/** Running the CLI as a user does (`node cli/main.ts ...`, a subprocess per command), for the end-to-end suites. */
import { execFile, type ChildProcess } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { expect } from "vitest";

export const REPO = resolve(import.meta.dirname, "../..");
export const NODE = join(REPO, "node_modules", ".bin", "node");
export const MAIN = join(REPO, "cli", "main.ts");

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of a command run in `cwd`: its own store, no remote. */
export function cliEnv(cwd: string, env: Record<string, string> = {}): NodeJS.ProcessEnv {
  // REDUN_EDGE_STORE pins each folder's own store, whatever a parent folder of the temporary one holds.
  return { ...process.env, REDUN_EDGE_URL: "", REDUN_EDGE_TOKEN: "", REDUN_EDGE_IDLE_SECONDS: "120", REDUN_EDGE_STORE: cwd, ...env };
}

/** A running command: its process, and its result once it ends. */
export interface Running {
  child: ChildProcess;
  done: Promise<Result>;
}

export function start(cwd: string, args: string[], env: Record<string, string> = {}): Running {
  let child!: ChildProcess;
  const done = new Promise<Result>((resolveDone) => {
    child = execFile(NODE, [MAIN, ...args], { cwd, env: cliEnv(cwd, env), timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolveDone({ code, stdout, stderr });
    });
  });
  return { child, done };
}

export function cli(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  return start(cwd, args, env).done;
}

/** Run and expect success; returns stdout. */
export async function ok(cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await cli(cwd, args, env);
  if (r.code !== 0) throw new Error(`redun-edge ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** A failure is one `redun-edge: error:` line on stderr, no stack, nothing on stdout. */
export function expectError(r: Result, code: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stdout).toBe("");
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^redun-edge: error: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/** A loopback port nothing listens on. */
export function closedPort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => done(port));
    });
  });
}

/** A remote store: the API over a memory repository, writes guarded by `token`, on a random local port. */
export async function tokenGuardedRemote(token: string) {
  const { serve } = await import("@hono/node-server");
  const { createApp } = await import("../../worker/app.ts");
  const { createMemoryRepository } = await import("../../adapters/memory/index.ts");
  const repository = createMemoryRepository();
  const server = serve({ fetch: createApp({ repository, token }).fetch, hostname: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => (server.listening ? r() : server.once("listening", () => r())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { repository, url, close: () => server.close() };
}
