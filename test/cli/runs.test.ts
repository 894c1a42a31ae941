/**
 * End to end: `run` as a redun user meets it, on the TypeScript port of the
 * redun fixture's workflow (fixtures/workflow.ts), each command a subprocess
 * on a temporary folder's local store: redun's output lines, whole cached
 * trees, a changed subtask, --no-cache, a failure and its job detail, task
 * arguments checked, `-` / `~N`, the tag echo, Ctrl-C, a killed run shown
 * abandoned, read-only commands without a store, and the live progress line
 * in a pseudo-terminal.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MAIN, NODE, REPO, cli, cliEnv, expectError, ok, type Result } from "./helpers.ts";

const WORKFLOW = join(REPO, "test", "cli", "fixtures", "workflow.ts");
const PREFIX = "[redun-edge] ";

let C: string;

beforeAll(() => {
  C = mkdtempSync(join(tmpdir(), "redun-edge-runs-"));
});

afterAll(async () => {
  if (!C) return;
  await cli(C, ["server", "stop"]);
  rmSync(C, { recursive: true, force: true });
});

/** stderr lines without the `[redun-edge] ` prefix (the final error line keeps its own). */
const lines = (r: Result) => r.stderr.trimEnd().split("\n").map((l) => (l.startsWith(PREFIX) ? l.slice(PREFIX.length) : l));

/** The rows of the JOB STATUS table, by task: [PENDING, RUNNING, FAILED, CACHED, DONE, TOTAL]. */
function table(r: Result): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const l of lines(r)) {
    const m = /^\| (\S+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+)$/.exec(l);
    if (m) out[m[1]!] = m.slice(2).map(Number);
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface DetailJson {
  record: { id: string; status: string; abandoned?: boolean };
  jobTree: { status: string; error: string | null; taskName: string; children: DetailJson["jobTree"][] };
}

describe("redun-edge run, as redun prints and records it", { timeout: 120_000 }, () => {
  test("prints redun's lines; a fully cached rerun records and prints the whole tree; --no-cache runs every job", async () => {
    const first = await cli(C, ["run", "--tag", "env=dev", WORKFLOW, "main"]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ loud: ["HELLO, ALICE!", "HELLO, BOB!", "HELLO, CAROL!"], summary: { n: 3, total_chars: 37 }, checked: 6 });
    const out = lines(first);
    expect(out.slice(0, 2)).toEqual(["redun-edge :: version 0.1.0", `config dir: ${join(C, ".redun")}`]);
    expect(out[2]).toMatch(new RegExp(`^Start Execution [0-9a-f-]{36}:  redun-edge run --tag env=dev ${WORKFLOW} main$`));
    const runs = out.filter((l) => l.startsWith("Run    Job "));
    expect(runs.map((l) => l.replace(/^Run {4}Job [0-9a-f]{8}:  /, "")).sort()).toEqual([
      "hello.count_chars(text='Hello, alice!')",
      "hello.count_chars(text='Hello, bob!')",
      "hello.count_chars(text='Hello, carol!')",
      "hello.greet(name='alice')",
      "hello.greet(name='bob')",
      "hello.greet(name='carol')",
      "hello.main()",
      "hello.may_fail(x=3, fail=False)",
      "hello.shout(text='Hello, alice!')",
      "hello.shout(text='Hello, bob!')",
      "hello.shout(text='Hello, carol!')",
      "hello.summarize(greetings=['Hello, alice!', 'Hello, bob!', 'Hello, carol!'], lengths=[13, 11, 13])",
    ]);
    // The end of the run, line for line as redun prints it (its widths: the task column fits hello.count_chars).
    const end = out.slice(out.indexOf(""));
    expect(end[0]).toBe("");
    expect(end[1]).toMatch(/^\| JOB STATUS \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d$/);
    expect(end.slice(2, -3)).toEqual([
      "| TASK              PENDING RUNNING  FAILED  CACHED    DONE   TOTAL",
      "| ",
      "| ALL                     0       0       0       0      12      12",
      "| hello.count_chars       0       0       0       0       3       3",
      "| hello.greet             0       0       0       0       3       3",
      "| hello.main              0       0       0       0       1       1",
      "| hello.may_fail          0       0       0       0       1       1",
      "| hello.shout             0       0       0       0       3       3",
      "| hello.summarize         0       0       0       0       1       1",
    ]);
    expect(end.slice(-3, -1)).toEqual(["", ""]);
    expect(end.at(-1)).toMatch(/^Execution duration: \d+\.\d\d seconds$/);

    const second = await cli(C, ["run", WORKFLOW, "main"]);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toEqual(JSON.parse(first.stdout));
    const cached = lines(second).filter((l) => / Job [0-9a-f]{8}:/.test(l));
    expect(cached).toHaveLength(12);
    for (const l of cached) expect(l).toMatch(/^Cached Job [0-9a-f]{8}:  hello\.\w+\(.*\) \(eval_hash=[0-9a-f]{8}, call_hash=[0-9a-f]{8}\)$/);
    expect(table(second).ALL).toEqual([0, 0, 0, 12, 0, 12]);
    // Recorded so: the second execution has the whole tree, CACHED, with the job tags and the execution tag applyTags gave.
    const detail = await ok(C, ["log", "-"]);
    expect(detail).toContain("Jobs: 12 (DONE: 0, CACHED: 12, FAILED: 0)");
    expect(detail).toMatch(/^ {2}Job [0-9a-f]{8} \[CACHED\] .*hello\.shout\('Hello, bob!'\) \(loud=true\)$/m);
    expect(detail.split("\n")[0]).toContain("summary_total=37");

    const uncached = await cli(C, ["run", "--no-cache", WORKFLOW, "main"]);
    expect(uncached.code, uncached.stderr).toBe(0);
    expect(lines(uncached).filter((l) => l.startsWith("Run    Job "))).toHaveLength(12);
    expect(table(uncached).ALL).toEqual([0, 0, 0, 0, 12, 12]);
  });

  test("a changed subtask runs again with the tasks it feeds and its callers; the rest is reused", async () => {
    const changed = await cli(C, ["run", WORKFLOW, "main"], { GREETING: "Hi" });
    expect(changed.code, changed.stderr).toBe(0);
    expect(JSON.parse(changed.stdout).loud).toEqual(["HI, ALICE!", "HI, BOB!", "HI, CAROL!"]);
    expect(table(changed)).toMatchObject({
      ALL: [0, 0, 0, 1, 11, 12],
      "hello.greet": [0, 0, 0, 0, 3, 3],
      "hello.main": [0, 0, 0, 0, 1, 1],
      "hello.may_fail": [0, 0, 0, 1, 0, 1],
    });
    expect(table(await cli(C, ["run", WORKFLOW, "main"], { GREETING: "Hi" })).ALL).toEqual([0, 0, 0, 12, 0, 12]);
    // Back to the first greet: main's newest record called the other one, so main runs again; everything below is reused.
    const back = await cli(C, ["run", WORKFLOW, "main"]);
    expect(JSON.parse(back.stdout).loud).toEqual(["HELLO, ALICE!", "HELLO, BOB!", "HELLO, CAROL!"]);
    expect(table(back)).toMatchObject({ ALL: [0, 0, 0, 11, 1, 12], "hello.main": [0, 0, 0, 0, 1, 1] });
  });

  test("a failure: Reject lines and the traceback; log JOB_PREFIX shows the arguments, the error, the task and the stack", async () => {
    const r = await cli(C, ["run", "--tag", "env=test", WORKFLOW, "main", "--fail", "true"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const out = lines(r);
    const reject = out.find((l) => l.startsWith("*** Reject Job ") && l.includes("may_fail"))!;
    expect(reject).toMatch(/^\*\*\* Reject Job [0-9a-f]{8}:  hello\.may_fail\(x=3, fail=True\):$/);
    expect(out).toContainEqual(expect.stringMatching(/^\*\*\* Reject Job [0-9a-f]{8}:  hello\.main\(names=None, fail=True\):$/));
    expect(table(r)).toMatchObject({ "hello.main": [0, 0, 1, 0, 0, 1], "hello.may_fail": [0, 0, 1, 0, 0, 1], "hello.greet": [0, 0, 0, 3, 0, 3] });
    const tb = out.slice(out.indexOf("*** Execution failed. Traceback (most recent task last):"));
    expect(tb[1]).toMatch(/^ {2}Job [0-9a-f]{8}: hello\.main\(names=None, fail=True\)$/);
    expect(tb.slice(2, 4)).toEqual(["    fail  = True", "    names = None"]);
    expect(tb[4]).toMatch(/^ {2}Job [0-9a-f]{8}: hello\.may_fail\(x=3, fail=True\)$/);
    expect(tb.slice(5, 7)).toEqual(["    fail = True", "    x    = 3"]);
    expect(tb[7]).toMatch(/^ {2}at .*fixtures\/workflow\.ts:\d+:\d+\)?$/);
    expect(tb.at(-2)).toBe("Error: boom: asked to fail on x=3");
    expect(tb.at(-1)).toMatch(/^redun-edge: error: task hello\.may_fail failed \(job [0-9a-f]{8}\): boom: asked to fail on x=3$/);

    const jobId = reject.slice("*** Reject Job ".length, "*** Reject Job ".length + 8);
    const detail = (await ok(C, ["log", jobId])).trimEnd().split("\n");
    expect(detail[0]).toMatch(new RegExp(`^Job ${jobId}[0-9a-f-]{28} \\[FAILED\\] .*:  hello\\.may_fail\\(3, True\\) \\(risky=true\\)$`));
    expect(detail[1]).toMatch(new RegExp(`^Traceback: Exec [0-9a-f]{8} > Job [0-9a-f]{8} main > Job ${jobId} may_fail$`));
    const call = detail.indexOf(detail.find((l) => l.startsWith("  CallNode "))!);
    expect(detail[call]).toMatch(/^ {2}CallNode [0-9a-f]{40} hello\.may_fail $/);
    expect(detail.slice(call + 1, call + 3)).toEqual(["    Args:   3, True", "    Raised: Error('boom: asked to fail on x=3')"]);
    expect(detail).toContainEqual(expect.stringMatching(/^ {2}Task [0-9a-f]{40} hello\.may_fail \(risky=true\)$/));
    expect(detail).toContainEqual(expect.stringContaining("throw new Error(`boom: asked to fail on x=${x}`);"));
    const stack = detail.indexOf("  Traceback:");
    expect(detail[stack + 1]).toMatch(/^ {4}at .*fixtures\/workflow\.ts:\d+:\d+/);
    expect(detail.at(-1)).toBe("  Error: boom: asked to fail on x=3");
    // A failed job keeps its arguments in the one-line form too.
    expect(await ok(C, ["log", "--job", "--job-status", "FAILED", "--exec-tag", "env=test"])).toMatch(/hello\.may_fail\(3, True\) \(risky=true\)$/m);
  });

  test("task arguments are checked against the task's parameters: an unknown one is a usage error that writes nothing", async () => {
    const before = await ok(C, ["log", "--format", "json"]);
    const [tagAfterTask, misspelt, tooMany, twice] = await Promise.all([
      cli(C, ["run", WORKFLOW, "main", "--tag", "x=1"]),
      cli(C, ["run", WORKFLOW, "main", "--nmes", "a"]),
      cli(C, ["run", WORKFLOW, "main", "a", "true", "x"]),
      cli(C, ["run", WORKFLOW, "main", "a", "--names", "b"]),
    ]);
    expectError(tagAfterTask, 2, /task hello\.main: unknown argument --tag \(its arguments: --names, --fail\)/);
    expectError(misspelt, 2, /unknown argument --nmes/);
    expectError(tooMany, 2, /takes at most 2 arguments, got 3/);
    expectError(twice, 2, /names given both by position and as --names/);
    expect(await ok(C, ["log", "--format", "json"])).toBe(before);
    // Positional words and named ones together.
    const mixed = await cli(C, ["run", WORKFLOW, "main", "dave", "--fail", "false"]);
    expect(mixed.code, mixed.stderr).toBe(0);
    expect(lines(mixed)).toContainEqual(expect.stringMatching(/^Run {4}Job [0-9a-f]{8}:  hello\.main\(names='dave', fail=False\)$/));
  });

  test("- and ~N name recent executions in log and tag; edits echo one line per record", async () => {
    const execs = JSON.parse(await ok(C, ["log", "--format", "json"])) as { id: string }[];
    const head = async (word: string) => (await ok(C, ["log", word])).split("\n")[0]!;
    expect(await head("-")).toMatch(new RegExp(`^Exec ${execs[0]!.id} `));
    expect(await head("~1")).toMatch(new RegExp(`^Exec ${execs[0]!.id} `));
    expect(await head("~3")).toMatch(new RegExp(`^Exec ${execs[2]!.id} `));
    expect(await ok(C, ["tag", "add", "-", "~2", "n=007", "note=one two", 'meta={"x":1,"a":"b c"}'])).toBe(
      [execs[0]!, execs[1]!].map((e) => `add tag Execution:${e.id} n=7 note="one two" meta={"x": 1, "a": "b c"}\n`).join(""),
    );
    expect(await ok(C, ["tag", "update", "~2", "n=+8"])).toBe(`update tag Execution:${execs[1]!.id} n=8\n`);
    expect(await ok(C, ["tag", "rm", "-", "n=7", "note"])).toBe(`delete tag Execution:${execs[0]!.id} n=7\n`);
    const tags = (JSON.parse(await ok(C, ["log", "--format", "json", "--limit", "2"])) as { tags: [string, unknown][] }[]).map((e) =>
      e.tags.filter(([k]) => k === "n" || k === "note"),
    );
    expect(tags).toEqual([[], [["n", 8], ["note", "one two"]]]);
    expectError(await cli(C, ["log", `~${execs.length + 1}`]), 1, new RegExp(`the store has only ${execs.length} executions`));
    expectError(await cli(C, ["tag", "add", "~0", "x=1"]), 2, /N-th most recent execution/);
  });

  test("Ctrl-C during run records the running jobs and the execution as FAILED (interrupted), exit 130", async () => {
    const child = spawn(NODE, [MAIN, "run", "--tag", "case=sigint", WORKFLOW, "naps", "--n", "3", "--ms", "60000"], { cwd: C, env: cliEnv(C) });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    for (let i = 0; i < 300 && (stderr.match(/Run {4}Job [0-9a-f]{8}:  hello\.nap\(/g) ?? []).length < 3; i++) await sleep(100);
    expect(stderr).toMatch(/hello\.nap\(ms=60002\)/);
    const sent = Date.now();
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(Date.now() - sent).toBeLessThan(15_000);
    expect(stderr).toMatch(/^\[redun-edge\] \| ALL +0 +0 +4 +0 +0 +4$/m);
    expect(stderr).toMatch(/\*\*\* Execution [0-9a-f-]{36} interrupted/);
    const detail = JSON.parse(await ok(C, ["log", "-", "--format", "json"])) as DetailJson;
    expect(detail.record.status).toBe("FAILED");
    expect(detail.jobTree).toMatchObject({ taskName: "hello.naps", status: "FAILED", error: "interrupted" });
    expect(detail.jobTree.children.map((c) => [c.status, c.error])).toEqual(Array(3).fill(["FAILED", "interrupted"]));
    expect(await ok(C, ["log", "--exec-tag", "case=sigint", "--job", "--job-status", "RUNNING"])).toBe("");
  });

  test("a run killed outright shows as abandoned once its lease passes", async () => {
    const child = spawn(NODE, [MAIN, "run", "--tag", "case=killed", WORKFLOW, "naps", "--n", "2", "--ms", "60000"], {
      cwd: C,
      env: cliEnv(C, { REDUN_EDGE_LEASE_SECONDS: "3" }),
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((r) => child.once("exit", r));
    for (let i = 0; i < 300 && !/hello\.nap\(ms=60001\)/.test(stderr); i++) await sleep(100);
    // Alive past its first lease's half: renewed (every 0.75 s, at half its length) and written.
    await sleep(2000);
    const alive = await ok(C, ["log", "--tag", "case=killed"]);
    expect(alive).toMatch(/^Exec [0-9a-f]{8} \[ RUN  \] /m);
    child.kill("SIGKILL");
    await exited;
    await sleep(3500);
    expect(await ok(C, ["log", "--tag", "case=killed"])).toMatch(/^Exec [0-9a-f]{8} \[ABANDONED\] .*case=killed/m);
  });

  test("read-only commands on a folder with no store say so and create nothing", async () => {
    const empty = mkdtempSync(join(tmpdir(), "redun-edge-empty-"));
    try {
      const results = await Promise.all([cli(empty, ["log"]), cli(empty, ["log", "-"]), cli(empty, ["tag", "list"]), cli(empty, ["tag", "add", "-", "x=1"])]);
      for (const r of results) expectError(r, 1, new RegExp(`no redun-edge store in ${empty} \\(no \\.redun/ there`));
      expect(readdirSync(empty)).toEqual([]);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  const hasScript = (() => {
    try {
      execFileSync("script", ["--version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();

  test.skipIf(!hasScript)("on a terminal, one live progress line instead of the job lines", async () => {
    const command = [NODE, MAIN, "run", WORKFLOW, "naps", "--n", "4", "--ms", "700"].map((w) => `'${w}'`).join(" ");
    const raw = execFileSync("script", ["-qfec", command, "/dev/null"], { cwd: C, env: cliEnv(C), encoding: "utf8", timeout: 60_000 });
    // The line is redrawn in place: carriage return, erase the line, the new counts.
    expect(raw).toMatch(/\r\x1b\[K\[redun-edge\] Jobs: 0 done, 0 cached, 5 running, 0 failed/);
    expect(raw).not.toMatch(/Run {4}Job/);
    const screen = terminalScreen(raw);
    writeFileSync(join(C, "tty-screen.txt"), screen.join("\n"));
    // What stays on the screen: the heading lines, the table and the result; no progress line left behind.
    expect(screen.filter((l) => l.includes("Jobs: "))).toEqual([]);
    expect(screen).toContainEqual(expect.stringMatching(/^\[redun-edge\] \| ALL +0 +0 +0 +0 +5 +5$/));
    expect(screen).toContainEqual(expect.stringMatching(/^\[redun-edge\] Start Execution /));
    expect(screen.at(-1)).toBe("[700,701,702,703]");
  });
});

/** The lines a terminal shows for output using only \r, \n and erase-line (ESC [ K). */
function terminalScreen(raw: string): string[] {
  const out: string[] = [];
  for (const physical of raw.replace(/\r\n/g, "\n").split("\n")) {
    let line = "";
    let col = 0;
    for (let i = 0; i < physical.length; i++) {
      if (physical[i] === "\r") col = 0;
      else if (physical.startsWith("\x1b[K", i)) {
        line = line.slice(0, col);
        i += 2;
      } else {
        line = line.slice(0, col) + physical[i] + line.slice(col + 1);
        col++;
      }
    }
    out.push(line);
  }
  while (out.length && out.at(-1) === "") out.pop();
  return out;
}
