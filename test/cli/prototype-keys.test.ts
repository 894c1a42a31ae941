/**
 * Issue 13, item 1, as a user meets it: a workflow whose tasks are named
 * `__proto__`, `constructor` and `prototype`, run and shown by the CLI (a
 * subprocess per command) against its background server over a local D1.
 * The detail view lists the tasks, and every later command still works.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";
import { REPO, cli } from "./helpers.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "redun-edge-cli-proto-"));
  const core = pathToFileURL(join(REPO, "core", "index.ts")).href;
  writeFileSync(
    join(dir, "wf.ts"),
    [
      `import { applyTags, task } from ${JSON.stringify(core)};`,
      `const named = ["__proto__", "constructor", "prototype"].map((n) => task(n, (x: number) => applyTags(x + 1, { tags: [[n, JSON.parse('{"__proto__": 1}')]] })));`,
      `export const main = task("main", (x: number) => named.map((t) => t(x)));`,
      "",
    ].join("\n"),
  );
});
afterAll(async () => {
  await cli(dir, ["server", "stop"]);
  rmSync(dir, { recursive: true, force: true });
});

test("runs and shows tasks named __proto__, constructor and prototype; later commands still work", { timeout: 120_000 }, async () => {
  const run = await cli(dir, ["run", "--tag", "__proto__=1", "--tag", "constructor=x", join(dir, "wf.ts"), "main", "1"]);
  expect(run.code, run.stderr).toBe(0);
  expect(run.stderr).not.toMatch(/error/i);
  expect(JSON.parse(run.stdout)).toEqual([2, 2, 2]);
  const [exec] = JSON.parse((await cli(dir, ["log", "--format", "json"])).stdout) as { id: string }[];
  for (let i = 0; i < 2; i++) {
    const shown = await cli(dir, ["log", exec!.id.slice(0, 8)]);
    expect(shown.stderr).toBe("");
    expect(shown.code).toBe(0);
    for (const name of ["__proto__", "constructor", "prototype"]) expect(shown.stdout).toMatch(new RegExp(`^\\| ${name} +0 +0 +0 +0 +1 +1$`, "m"));
    expect(shown.stdout).toContain("__proto__=1");
  }
  const byTag = await cli(dir, ["log", "--tag", "__proto__=1"]);
  expect(byTag.stdout).toContain(exec!.id.slice(0, 8));
  const values = await cli(dir, ["tag", "list", "--values", "__proto__", "constructor"]);
  const lines = values.stdout.trimEnd().split("\n");
  expect(lines).toHaveLength(5);
  expect(lines[0]).toBe("Tags:");
  for (const pattern of [/^ {2}__proto__=1 +\(1 Execution\)$/, /^ {2}__proto__=\{"__proto__": 1\} +\(1 Value\)$/, /^ {2}constructor=\{"__proto__": 1\} +\(1 Value\)$/, /^ {2}constructor=x +\(1 Execution\)$/]) {
    expect(lines.some((line) => pattern.test(line)), String(pattern)).toBe(true);
  }
  expect((await cli(dir, ["tag", "add", exec!.id.slice(0, 8), "prototype=[1]"])).code).toBe(0);
  expect((await cli(dir, ["log"])).code).toBe(0);
});
