/**
 * The CLI as a user runs it, for the tests of issue 13 (cli.test.ts keeps its
 * own): `node cli/main.ts ...` in a folder whose own local store it uses.
 */
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dirname, "../..");
const NODE = join(REPO, "node_modules", ".bin", "node");
const MAIN = join(REPO, "cli", "main.ts");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(cwd: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      NODE,
      [MAIN, ...args],
      {
        cwd,
        env: { ...process.env, REDUN_EDGE_URL: "", REDUN_EDGE_TOKEN: "", REDUN_EDGE_IDLE_SECONDS: "60", REDUN_EDGE_STORE: cwd, ...env },
        timeout: 60_000,
      },
      (error, stdout, stderr) => done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}
