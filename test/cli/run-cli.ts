/**
 * The CLI as a user runs it, for the end-to-end suites: `node cli/main.ts ...`
 * in a subprocess, its store pinned to the folder it runs in.
 */
import { execFile } from "node:child_process";
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

export function cli(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((done) => {
    execFile(
      NODE,
      [MAIN, ...args],
      {
        cwd,
        // REDUN_EDGE_STORE pins each folder's own store, whatever a parent folder of the temporary one holds.
        env: { ...process.env, REDUN_EDGE_URL: "", REDUN_EDGE_TOKEN: "", REDUN_EDGE_IDLE_SECONDS: "120", REDUN_EDGE_STORE: cwd, ...env },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
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

/** A remote store: the API over a memory repository, writes guarded by `token`, on a random local port. */
export async function tokenGuardedRemote(token: string) {
  const { serve } = await import("@hono/node-server");
  const { createApp } = await import("../../worker/app.ts");
  const { createMemoryRepository } = await import("../../adapters/memory/index.ts");
  const repository = createMemoryRepository();
  const server = serve({ fetch: createApp({ repository, token }).fetch, hostname: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => (server.listening ? r() : server.once("listening", () => r())));
  const url = `http://127.0.0.1:${(server.address() as import("node:net").AddressInfo).port}`;
  return { repository, url, close: () => server.close() };
}
