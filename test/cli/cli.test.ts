/**
 * End to end: the CLI as a user runs it (`node cli/main.ts ...`, a
 * subprocess per command) on fresh temporary folders, each with its own
 * local store (Miniflare + D1 in `.redun/`). Covers run (twice, CACHED),
 * log, every tag edit, tag list, the error paths (exit codes, one line on
 * stderr, nothing written), a token-guarded remote, and push/pull between
 * two local stores.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { REPO, cli, closedPort, expectError, ok, tokenGuardedRemote } from "./helpers.ts";

const EXAMPLE = join(REPO, "examples", "hello-world.ts");
const GREETINGS = ["HELLO, WORLD!", "HELLO, ADA!", "HELLO, GRACE!"];

interface JsonRecord {
  id: string;
  type: string;
  status: string;
  tags: [string, unknown][];
  taskName?: string | null;
}

let A: string;
let B: string;
let execAlice: string;
let execBob: string;

beforeAll(() => {
  A = mkdtempSync(join(tmpdir(), "redun-edge-cli-a-"));
  B = mkdtempSync(join(tmpdir(), "redun-edge-cli-b-"));
});

afterAll(async () => {
  for (const dir of [A, B]) {
    if (!dir) continue;
    await cli(dir, ["server", "stop"]);
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("redun-edge CLI", { timeout: 120_000 }, () => {
  test("run records the example twice; the second run is CACHED", async () => {
    const first = await cli(A, [
      "run", "--tag", "user=alice", "--tag", 'flags=["a","b","c"]', "--tag", "cost=3.20", "--tag", "final=true",
      "--tag", "source=a", "--tag", "source=b", EXAMPLE, "main", "--name", "World",
    ]);
    expect(first.code, first.stderr).toBe(0);
    // stderr has what redun prints; the result alone is on stdout.
    expect(first.stderr).toMatch(/^\[redun-edge\] Start Execution [0-9a-f-]{36}:  redun-edge run --tag user=alice /m);
    expect(first.stderr).toMatch(/^\[redun-edge\] Run {4}Job [0-9a-f]{8}:  hello\.main\(name='World'\)$/m);
    expect(first.stderr).toMatch(/^\[redun-edge\] Execution duration: \d+\.\d\d seconds$/m);
    expect(JSON.parse(first.stdout)).toEqual(GREETINGS);
    expect(existsSync(join(A, ".redun"))).toBe(true);

    const second = await cli(A, ["run", "--tag", "user=bob", EXAMPLE, "main", "--name", "World"]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr.match(/^\[redun-edge\] Cached Job /gm)).toHaveLength(7);
    expect(JSON.parse(second.stdout)).toEqual(GREETINGS);

    const execs = JSON.parse(await ok(A, ["log", "--format", "json"])) as JsonRecord[];
    expect(execs).toHaveLength(2);
    execBob = execs[0]!.id;
    execAlice = execs[1]!.id;
    const tags = execs[1]!.tags;
    expect(tags).toContainEqual(["user", "alice"]);
    expect(tags).toContainEqual(["source", "a"]);
    expect(tags).toContainEqual(["source", "b"]);
    expect(tags).toContainEqual(["flags", ["a", "b", "c"]]);
    expect(tags).toContainEqual(["cost", 3.2]);
    expect(tags).toContainEqual(["final", true]);
    expect(tags).toContainEqual(["project", "hello"]);
    expect(tags).toContainEqual(["redun_edge.version", "0.1.0"]);
    // A --tag key replaces its default: one user tag each.
    expect(tags.filter(([k]) => k === "user")).toHaveLength(1);
    expect(execs[0]!.tags).toContainEqual(["user", "bob"]);
    expect((execs[1] as unknown as { argv: string[] }).argv).toEqual(["run", EXAMPLE, "main", "--name", "World"]);
  });

  test("log --tag and log --exec-tag --job", async () => {
    const out = await ok(A, ["log", "--tag", "user=alice"]);
    const lines = out.trimEnd().split("\n");
    expect(lines[0]).toBe("Recent executions:");
    expect(lines[1]).toBe("");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(
      new RegExp(`^Exec ${execAlice.slice(0, 8)} \\[ DONE \\] \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d:  run ${EXAMPLE} main --name World \\(`),
    );
    expect(lines[2]).toContain('cost=3.2, final=true, flags=["a", "b", "c"]');
    expect(lines[2]).toContain("source=a, source=b, user=alice)");
    // JSON equality: 3.2 matches 3.20; the string "3.2" does not.
    expect(await ok(A, ["log", "--tag", "cost=3.2"])).toContain(execAlice.slice(0, 8));
    expect(await ok(A, ["log", "--tag", 'cost="3.2"'])).not.toContain(execAlice.slice(0, 8));

    // bob's run reused alice's: its whole job tree is recorded, every job CACHED with its tags.
    // As redun: no heading when a record type is asked for, and a line without tags ends in a space.
    const jobs = (await ok(A, ["log", "--exec-tag", "user=bob", "--job"])).split("\n").slice(0, -1);
    expect(jobs).toHaveLength(7);
    expect(jobs.every((l) => l.includes("[CACHED]"))).toBe(true);
    expect(jobs).toContainEqual(expect.stringMatching(/^Job [0-9a-f]{8} \[CACHED\] .*:  hello\.main\(name='World'\) \(greeted=3\)$/));
    expect(jobs).toContainEqual(expect.stringMatching(/^Job [0-9a-f]{8} \[CACHED\] .*:  hello\.shout\('Hello, Ada!'\) \(team=t1\)$/));
    const aliceJobs = (await ok(A, ["log", "--exec-tag", "user=alice", "--job"])).split("\n").slice(0, -1);
    expect(aliceJobs).toHaveLength(7);
    expect(aliceJobs.filter((l) => l.includes("[ DONE ]"))).toHaveLength(7);
    expect(aliceJobs.some((l) => /hello\.greet\('Ada'\) $/.test(l))).toBe(true);
    expect(aliceJobs.some((l) => /hello\.shout\('Hello, Ada!'\) \(team=t1\)$/.test(l))).toBe(true);
  });

  test("log ID_PREFIX shows the execution in detail", async () => {
    const out = await ok(A, ["log", execAlice.slice(0, 8)]);
    expect(out).toContain(`Exec ${execAlice} [ DONE ]`);
    expect(out).toMatch(/Duration: \d+:\d\d:\d\d\.\d\d/);
    expect(out).toContain("Jobs: 7 (DONE: 7, CACHED: 0, FAILED: 0)");
    // redun's job status table: PENDING RUNNING FAILED CACHED DONE TOTAL.
    expect(out).toMatch(/\n\| TASK +PENDING RUNNING  FAILED  CACHED    DONE   TOTAL\n\| \n\| ALL +0 +0 +0 +0 +7 +7\n/);
    expect(out).toMatch(/\| hello\.greet +0 +0 +0 +0 +3 +3\n/);
    expect(out).toMatch(/\nJob [0-9a-f]{8} \[ DONE \] .*hello\.main\(name='World'\)/);
    expect(out).toMatch(/\n {2}Job [0-9a-f]{8} \[ DONE \] .*hello\.greet\('World'\)/);
    // Without REDUN_EDGE_STORE the store is looked up from the working folder upwards.
    const deeper = join(A, "sub", "deeper");
    mkdirSync(deeper, { recursive: true });
    const found = await cli(deeper, ["log", "--tag", "user=alice"], { REDUN_EDGE_STORE: "" });
    expect(found.stdout).toContain(execAlice.slice(0, 8));
    expect(existsSync(join(deeper, ".redun"))).toBe(false);
    const bob = await ok(A, ["log", execBob.slice(0, 10)]);
    expect(bob).toContain("Jobs: 7 (DONE: 0, CACHED: 7, FAILED: 0)");
  });

  test("tag add, update, rm (pair and key), re-add, and their effect on log", async () => {
    const id = execAlice.slice(0, 8);
    const envOf = async () => {
      const [rec] = JSON.parse(await ok(A, ["log", "--tag", "user=alice", "--format", "json"])) as JsonRecord[];
      return rec!.tags.filter(([k]) => k === "env").map(([, v]) => v).sort();
    };
    // Echoed as redun does: one line per record, the values as JSON.
    expect(await ok(A, ["tag", "add", id, "env=prod"])).toBe(`add tag Execution:${execAlice} env="prod"\n`);
    expect(await ok(A, ["log", "--tag", "env=prod"])).toContain(id);

    expect(await ok(A, ["tag", "update", id, "env=staging"])).toBe(`update tag Execution:${execAlice} env="staging"\n`);
    expect(await ok(A, ["log", "--tag", "env=prod"])).toBe("Recent executions:\n\n");
    expect(await envOf()).toEqual(["staging"]);

    expect(await ok(A, ["tag", "rm", id, "env=staging"])).toBe(`delete tag Execution:${execAlice} env="staging"\n`);
    expect(await ok(A, ["log", "--tag", "env"])).toBe("Recent executions:\n\n");

    expect(await ok(A, ["tag", "add", id, "env=a", "env=b"])).toBe(`add tag Execution:${execAlice} env="a" env="b"\n`);
    expect(await envOf()).toEqual(["a", "b"]);
    // A bare key after the prefix (no `--` needed): every value of it.
    // (redun names only the key=value pairs given, so a key alone leaves the line bare.)
    expect(await ok(A, ["tag", "rm", id, "env"])).toBe(`delete tag Execution:${execAlice} \n`);
    expect(await ok(A, ["log", "--tag", "env"])).toBe("Recent executions:\n\n");

    // Re-adding a removed tag brings it back.
    expect(await ok(A, ["tag", "add", id, "env=prod"])).toBe(`add tag Execution:${execAlice} env="prod"\n`);
    expect(await ok(A, ["log", "--tag", "env=prod"])).toContain(id);
    // Adding it again changes nothing: echoed all the same (as redun does), and said on stderr.
    const again = await cli(A, ["tag", "add", id, "env=prod"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`add tag Execution:${execAlice} env="prod"\n`);
    expect(again.stderr).toMatch(/nothing changed/);
    // Several records at once, and a key after `--`.
    const both = await ok(A, ["tag", "add", execAlice.slice(0, 8), execBob.slice(0, 8), "cafe=1"]);
    expect(both.trimEnd().split("\n")).toHaveLength(2);
    expect(await ok(A, ["tag", "rm", execAlice.slice(0, 8), execBob.slice(0, 8), "--", "cafe"])).toContain("delete tag");
    expect(await ok(A, ["log", "--tag", "cafe"])).toBe("Recent executions:\n\n");
  });

  test("tag list: by key, by value (list and object values), with filters", async () => {
    await ok(A, ["tag", "add", execBob.slice(0, 8), 'meta={"k":[1,2],"a":"x"}']);
    // redun's layouts: a "Tags:" heading, keys padded to 10, key=value to 30, counts by record type.
    const keys = await ok(A, ["tag", "list"]);
    expect(keys.split("\n")[0]).toBe("Tags:");
    expect(keys).toMatch(/^ {2}cost {7}\(1 Execution\)$/m);
    expect(keys).toMatch(/^ {2}user {7}\(2 Execution\)$/m);
    expect(keys).toMatch(/^ {2}team {7}\(6 Job, 1 Task\)$/m);
    const values = await ok(A, ["tag", "list", "--values"]);
    expect(values).toMatch(/^ {2}flags=\["a", "b", "c"\] {10}\(1 Execution\)$/m);
    expect(values).toMatch(/^ {2}meta=\{"a": "x", "k": \[1, 2\]\} +\(1 Execution\)$/m);
    expect(values).toMatch(/^ {2}cost=3\.2 +\(1 Execution\)$/m);
    expect(values).toMatch(/^ {2}team=t1 +\(6 Job, 1 Task\)$/m);
    expect(values).toMatch(/^ {2}env=prod +\(1 Execution\)$/m);
    const users = await ok(A, ["tag", "list", "--values", "user"]);
    expect(users.trimEnd().split("\n")).toEqual(["Tags:", `  ${"user=alice".padEnd(30)} (1 Execution)`, `  ${"user=bob".padEnd(30)} (1 Execution)`]);
    const filtered = await ok(A, ["tag", "list", "team=t1"]);
    expect(filtered).toMatch(/^Task [0-9a-f]{8} hello\.shout \(team=t1\)$/m);
    expect(filtered).toMatch(/^Job [0-9a-f]{8} \[ DONE \] .*hello\.shout/m);
  });

  test("errors: one line on stderr, exit code, nothing written", async () => {
    const before = await ok(A, ["tag", "list", "--values"]);
    expectError(await cli(A, ["log", "ffffffff"]), 1, /no record with id prefix "ffffffff"/);
    expectError(await cli(A, ["tag", "add", "ffffffff", "x=1"]), 1, /no record with id prefix "ffffffff"/);

    // A prefix shared by two or more records: pick a first character that two of them share.
    const all = JSON.parse(await ok(A, ["log", "--all", "--limit", "1000", "--format", "json"])) as JsonRecord[];
    const counts = new Map<string, number>();
    for (const r of all) counts.set(r.id[0]!, (counts.get(r.id[0]!) ?? 0) + 1);
    const shared = [...counts].find(([, n]) => n >= 2)![0];
    const ambiguous = await cli(A, ["tag", "add", shared, "x=1"]);
    expectError(ambiguous, 1, new RegExp(`id prefix "${shared}" is ambiguous; it names: \\w+ ${shared}[0-9a-f-]+, \\w+ ${shared}`));

    // Usage errors are found before the store is opened; run them side by side.
    const closed = await closedPort();
    const [malformed, malformedRun, bogus, frob, hexKey, unreachable, unreachablePush, noFolder] = await Promise.all([
      cli(A, ["tag", "add", execAlice.slice(0, 8), "x=[1,"]),
      cli(A, ["run", "--tag", "x={oops", EXAMPLE, "main"]),
      cli(A, ["log", "--bogus"]),
      cli(A, ["tag", "add", execAlice.slice(0, 8), "--frob", "x=1"]),
      cli(A, ["tag", "rm", execAlice.slice(0, 8), "beef"]),
      cli(A, ["log", "--remote", `http://127.0.0.1:${closed}`]),
      cli(A, ["push", "--remote", `http://127.0.0.1:${closed}`]),
      cli(A, ["push", "--remote", join(A, "no-such-folder")]),
    ]);
    expectError(malformed!, 2, /malformed tag "x=\[1,": malformed JSON value/);
    expectError(malformedRun!, 2, /malformed tag "x=\{oops"/);
    expectError(bogus!, 2, /unknown option --bogus/);
    expectError(frob!, 2, /unknown option --frob/);
    // redun 0.26 crashes on `tag rm PREFIX key` with a hex-looking key; here it is a usage error naming the fix.
    expectError(hexKey!, 2, /put a key that looks like an id after --/);
    expectError(unreachable!, 1, /cannot reach http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    expectError(unreachablePush!, 1, /cannot reach/);
    expectError(noFolder!, 1, /no folder/);

    expect(await ok(A, ["tag", "list", "--values"])).toBe(before);
    expect((JSON.parse(await ok(A, ["log", "--format", "json"])) as JsonRecord[]).length).toBe(2);
  });

  test("a remote with a token: a wrong token is refused and writes nothing; the right one works", async () => {
    const { url, close } = await tokenGuardedRemote("s3cret");
    try {
      expectError(await cli(A, ["push", "--remote", url, "--token", "wrong"]), 1, /401|unauthorized|token/i);
      expectError(await cli(A, ["push", "--remote", url]), 1, /401|unauthorized|token/i);
      expect(await ok(A, ["log", "--remote", url])).toBe("Recent executions:\n\n");
      expect(existsSync(join(A, ".redun", "sync.json")) ? readFileSync(join(A, ".redun", "sync.json"), "utf8") : "").not.toContain(url);

      expect(await ok(A, ["push", "--remote", url, "--token", "s3cret"])).toMatch(/^pushed \d+ records to http/);
      const remote = await cli(A, ["log", "--tag", "user=alice"], { REDUN_EDGE_URL: url, REDUN_EDGE_TOKEN: "wrong" });
      expect(remote.stdout).toContain(execAlice.slice(0, 8));
      expectError(
        await cli(A, ["tag", "add", execAlice.slice(0, 8), "reviewed=true"], { REDUN_EDGE_URL: url, REDUN_EDGE_TOKEN: "wrong" }),
        1,
        /401|unauthorized|token/i,
      );
      expect(await ok(A, ["log", "--remote", url, "--tag", "reviewed"])).toBe("Recent executions:\n\n");
      expect(await ok(A, ["tag", "add", execAlice.slice(0, 8), "reviewed=true", "--remote", url, "--token", "s3cret"])).toContain("add tag");
    } finally {
      close();
    }
  });

  test("run records the git commit and origin of the workflow's folder; the detail view links the commit", async () => {
    const W = mkdtempSync(join(tmpdir(), "redun-edge-cli-wf-"));
    try {
      const core = pathToFileURL(join(REPO, "core", "index.ts")).href;
      writeFileSync(
        join(W, "wf.ts"),
        `import { task } from ${JSON.stringify(core)};\nexport const hi = task("hi", ({ who = "x" }: { who?: string } = {}) => "hi " + who, { namespace: "gitwf" });\n`,
      );
      const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: W, encoding: "utf8" }).trim();
      git("init", "-q");
      git("add", "wf.ts");
      git("commit", "-q", "-m", "wf");
      git("remote", "add", "origin", "git@github.com:o/r.git");
      const sha = git("rev-parse", "HEAD");

      expect(JSON.parse(await ok(B, ["run", "--tag", "user=carol", join(W, "wf.ts"), "hi", "--who", "you"]))).toBe("hi you");
      const [exec] = JSON.parse(await ok(B, ["log", "--tag", "user=carol", "--format", "json"])) as JsonRecord[];
      expect(exec!.tags).toContainEqual(["git_commit", sha]);
      expect(exec!.tags).toContainEqual(["git_origin_url", "git@github.com:o/r.git"]);
      expect(exec!.tags).toContainEqual(["project", "gitwf"]);
      const detail = await ok(B, ["log", exec!.id.slice(0, 8)]);
      expect(detail).toContain(`Code: https://github.com/o/r/commit/${sha}`);
      expect(detail).toMatch(/\nJob [0-9a-f]{8} \[ DONE \] .*gitwf\.hi\(who='you'\)/);
    } finally {
      rmSync(W, { recursive: true, force: true });
    }
  });

  test("push and pull between two local stores", async () => {
    const pushed = await ok(A, ["push", "--remote", B]);
    expect(pushed).toMatch(/^pushed [1-9]\d* records to /);
    expect(await ok(A, ["push", "--remote", B])).toMatch(/^pushed 0 records/);
    const inB = await ok(B, ["log", "--tag", "user=alice"]);
    expect(inB).toContain(execAlice.slice(0, 8));
    expect(inB).toContain("env=prod");
    expect(await ok(B, ["log", "--exec-tag", "user=bob", "--job"])).toContain("[CACHED]");

    expect(await ok(B, ["tag", "add", execAlice.slice(0, 8), "seen_in=b"])).toContain("add tag");
    expect(await ok(A, ["pull", "--remote", `file://${B}`])).toMatch(/^pulled [1-9]\d* records from /);
    expect(await ok(A, ["pull", "--remote", `file://${B}`])).toMatch(/^pulled 0 records/);
    expect(await ok(A, ["log", "--tag", "seen_in=b"])).toContain(execAlice.slice(0, 8));
    const state = JSON.parse(readFileSync(join(A, ".redun", "sync.json"), "utf8")) as { remotes: Record<string, unknown> };
    expect(Object.keys(state.remotes).some((k) => k.startsWith("file://"))).toBe(true);
  });

  test("--in-process runs the Worker inside the command, on the same store", async () => {
    expect(await ok(A, ["server", "stop"])).toMatch(/^stopped|not running/);
    expect(await ok(A, ["server", "status"])).toMatch(/^not running/);
    const out = await ok(A, ["log", "--in-process", "--tag", "seen_in=b"]);
    expect(out).toContain(execAlice.slice(0, 8));
    expect(await ok(A, ["server", "status"])).toMatch(/^not running/);
  });

  test("--help on every command", async () => {
    const commands = [["--help"], ["help"], ["run", "--help"], ["log", "--help"], ["tag", "--help"], ["tag", "add", "--help"], ["push", "--help"], ["pull", "--help"], ["help", "log"], ["server", "--help"]];
    const results = await Promise.all(commands.map((args) => cli(A, args)));
    results.forEach((r, i) => {
      expect(r.code, commands[i]!.join(" ")).toBe(0);
      expect(r.stdout).toMatch(/^Usage: redun-edge/);
    });
    expectError(await cli(A, ["frobnicate"]), 2, /unknown command "frobnicate"/);
  });
});

