/** The CLI's small pieces: argument rules, task arguments, SQL splitting, text views, the local store's checks. */
import { spawn } from "node:child_process";
import { describe, expect, test } from "vitest";
import { SERVER_ID_ENV, carriesServerId, isAlive, stopProven } from "../../local/process.ts";
import { schemaProblem, tablesAfter } from "../../local/schema.ts";
import { readMigrations } from "../../local/package.ts";
import { parseArgs } from "../../cli/args.ts";
import { commitLink, formatDetail, formatDuration, formatKeyCounts, formatValueCounts } from "../../cli/format.ts";
import { parseTaskArgs } from "../../cli/commands/run.ts";
import { splitSql } from "../../local/sql-split.ts";
import { splitEditArgs } from "../../cli/commands/tag.ts";
import { describeError } from "../../cli/errors.ts";
import { AmbiguousIdError, TagParseError, UnknownIdError } from "../../core/index.ts";

describe("tag edit arguments", () => {
  test("prefixes first (hex), then tags; a bare key for rm", () => {
    expect(splitEditArgs("add", ["6dc981d7", "ABC-12", "k=v", "n=3"], [])).toEqual({
      prefixes: ["6dc981d7", "abc-12"],
      tags: [["k", "v"], ["n", 3]],
    });
    expect(splitEditArgs("rm", ["6dc981d7", "env", "k=v"], [])).toEqual({ prefixes: ["6dc981d7"], tags: [["env"], ["k", "v"]] });
    // After the first tag every word is a tag, even a hex-looking key.
    expect(splitEditArgs("rm", ["6dc981d7", "k=v", "beef"], [])).toEqual({ prefixes: ["6dc981d7"], tags: [["k", "v"], ["beef"]] });
    expect(splitEditArgs("rm", ["6dc981d7"], ["beef"])).toEqual({ prefixes: ["6dc981d7"], tags: [["beef"]] });
  });

  test("usage errors: no prefix, no tag, a bare word for add, malformed JSON", () => {
    expect(() => splitEditArgs("add", ["k=v"], [])).toThrow(/at least one id prefix/);
    expect(() => splitEditArgs("add", ["6dc981d7"], [])).toThrow(/needs tags/);
    expect(() => splitEditArgs("add", ["6dc981d7", "word"], [])).toThrow(/neither an id prefix/);
    expect(() => splitEditArgs("rm", ["6dc981d7", "beef"], [])).toThrow(/after --/);
    expect(() => splitEditArgs("add", ["6dc981d7", "x=[1,"], [])).toThrow(/malformed tag "x=\[1,"/);
  });
});

describe("options", () => {
  test("--opt value, --opt=value, repeated options, -- and unknown options", () => {
    const spec = { tag: { type: "string" as const, multiple: true }, job: { type: "boolean" as const } };
    const p = parseArgs("log", ["--tag", "a=1", "--tag=b=2", "--job", "abc", "--", "--tag"], spec);
    expect(p.options.tag).toEqual(["a=1", "b=2"]);
    expect(p.options.job).toBe(true);
    expect(p.positionals).toEqual(["abc"]);
    expect(p.afterDashDash).toEqual(["--tag"]);
    expect(() => parseArgs("log", ["--nope"], spec)).toThrow(/unknown option --nope/);
    expect(() => parseArgs("log", ["--tag"], spec)).toThrow(/needs a value/);
    const run = parseArgs("run", ["--tag", "x=1", "f.ts", "main", "--name", "World", "--tag", "y"], { tag: spec.tag }, { stopAfter: 2 });
    expect(run.positionals).toEqual(["f.ts", "main"]);
    expect(run.rest).toEqual(["--name", "World", "--tag", "y"]);
  });

  test("task arguments: --name value pairs are one object, read like tag values", () => {
    expect(parseTaskArgs(["--name", "World", "--n", "3", "--flags", '["a"]', "--dry"])).toEqual([{ name: "World", n: 3, flags: ["a"], dry: true }]);
    expect(parseTaskArgs(["--x=1.5"])).toEqual([{ x: 1.5 }]);
    expect(parseTaskArgs(["a", "2"])).toEqual(["a", 2]);
    expect(parseTaskArgs([])).toEqual([]);
    expect(() => parseTaskArgs(["--x", "{bad"])).toThrow(/malformed value for task argument --x/);
  });

  test("__proto__, constructor and prototype are ordinary names: task arguments, never options", () => {
    const [named] = parseTaskArgs(["--__proto__", "1", "--constructor=2", "--prototype"]) as Record<string, unknown>[];
    expect(Object.keys(named!)).toEqual(["__proto__", "constructor", "prototype"]);
    expect(Object.getPrototypeOf(named)).toBe(Object.prototype);
    expect(JSON.stringify(named)).toBe('{"__proto__":1,"constructor":2,"prototype":true}');
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      expect(() => parseArgs("log", [`--${name}`, "x"], {}), name).toThrow(`unknown option --${name}`);
    }
  });
});

describe("detail view", () => {
  test("lists tasks named __proto__, constructor and prototype in the job table", () => {
    const detail = JSON.parse(`{
      "record": { "type": "Execution", "id": "6f892051-0000-4000-8000-000000000001", "time": 0, "rootJobId": "j", "argv": ["run"],
                  "startTime": 0, "endTime": 1000, "status": "DONE", "tags": [["__proto__", {"__proto__": 1}]], "taskName": "__proto__" },
      "jobTree": null,
      "jobCounts": { "total": 4, "byStatus": { "DONE": 3, "CACHED": 1 },
                     "byTask": { "__proto__": { "DONE": 1 }, "constructor": { "DONE": 1 }, "prototype": { "CACHED": 1 }, "root": { "DONE": 1 } } }
    }`);
    const text = formatDetail(detail);
    expect(text).toContain('__proto__={"__proto__": 1}');
    expect(text).toMatch(/^\| __proto__ +0 +0 +0 +0 +1 +1$/m);
    expect(text).toMatch(/^\| constructor +0 +0 +0 +0 +1 +1$/m);
    expect(text).toMatch(/^\| prototype +0 +0 +0 +1 +0 +1$/m);
  });
});

describe("errors", () => {
  test("core's typed errors map to exit codes", () => {
    expect(describeError(new UnknownIdError("ff")).exitCode).toBe(1);
    expect(describeError(new AmbiguousIdError("a", [{ type: "Job", id: "a1" }, { type: "Task", id: "a2" }]))).toMatchObject({
      exitCode: 1,
      message: expect.stringContaining("Job a1, Task a2"),
    });
    expect(describeError(new TagParseError("x", "bad")).exitCode).toBe(2);
    const refused = new Error("cannot reach http://127.0.0.1:1: fetch failed", { cause: new TypeError("fetch failed", { cause: Object.assign(new Error("connect"), { code: "ECONNREFUSED" }) }) });
    expect(describeError(refused).message).toBe("cannot reach http://127.0.0.1:1: fetch failed (ECONNREFUSED)");
  });
});

describe("SQL splitting for D1 batches", () => {
  test("comments, strings and trigger bodies", () => {
    const sql = `-- header; with a semicolon
CREATE TABLE a (x TEXT DEFAULT 'a;b'); /* block; comment */
CREATE TRIGGER t AFTER INSERT ON a
BEGIN
  UPDATE a SET x = CASE WHEN 1 THEN 'y' END;
  INSERT INTO a VALUES ('it''s; fine');
END;
INSERT INTO a VALUES (";")`;
    expect(splitSql(sql)).toEqual([
      "CREATE TABLE a (x TEXT DEFAULT 'a;b')",
      "CREATE TRIGGER t AFTER INSERT ON a\nBEGIN\n  UPDATE a SET x = CASE WHEN 1 THEN 'y' END;\n  INSERT INTO a VALUES ('it''s; fine');\nEND",
      'INSERT INTO a VALUES (";")',
    ]);
    expect(splitSql("-- only a comment;\n/* and another */")).toEqual([]);
  });
});

describe("text views", () => {
  test("durations and GitHub commit links", () => {
    expect(formatDuration(1470)).toBe("0:00:01.47");
    // Hundredths are cut, as redun's format_timedelta cuts them (int(microseconds / 10000)).
    expect(formatDuration(453.999)).toBe("0:00:00.45");
    expect(formatDuration(3_723_000)).toBe("1:02:03.00");
    const sha = "b3faf93a0c1d2e3f4a5b6c7d8e9f001122334455";
    for (const origin of ["git@github.com:o/r.git", "https://github.com/o/r.git", "https://github.com/o/r", "ssh://git@github.com/o/r.git", "https://user@github.com/o/r/"]) {
      expect(commitLink(origin, sha)).toBe(`https://github.com/o/r/commit/${sha}`);
    }
    expect(commitLink("git@gitlab.com:o/r.git", sha)).toBeNull();
    expect(commitLink("git@github.com:o/r.git", "not a sha")).toBeNull();
  });

  test("tag counts", () => {
    expect(formatKeyCounts([
      { key: "cost", entityType: "Execution", count: 5 },
      { key: "cost", entityType: "Job", count: 6 },
      { key: "user", entityType: "Execution", count: 2 },
    ])).toEqual(["Tags:", "  cost       (5 Execution, 6 Job)", "  user       (2 Execution)"]);
    expect(formatValueCounts([
      { key: "cost", value: 3.2, entityType: "Execution", count: 1 },
      { key: "flags", value: ["a", "b"], entityType: "Execution", count: 2 },
      { key: "flags", value: ["a", "b"], entityType: "Job", count: 3 },
      { key: "redun.version", value: "0.46.0", entityType: "Execution", count: 5 },
    ])).toEqual([
      "Tags:",
      "  cost=3.2                       (1 Execution)",
      '  flags=["a", "b"]               (2 Execution, 3 Job)',
      "  redun.version=0.46.0           (5 Execution)",
    ]);
  });
});

describe("local store schema check", () => {
  const migrations = readMigrations();
  const all = migrations.map((m) => m.name);

  test("the tables the migrations leave, renames and drops replayed", () => {
    const tables = tablesAfter(migrations, new Set(all));
    expect(tables.has("tags")).toBe(true);
    expect(tables.has("executions")).toBe(true);
    expect(tables.has("tags_v3")).toBe(false);
    expect(tables.has("tags_v4")).toBe(false);
    expect(tablesAfter(migrations, new Set([all[0]!])).has("tag_kv")).toBe(false);
  });

  test("a new store, a whole one, and damaged ones", () => {
    const whole = ["d1_migrations", "sqlite_sequence", "_cf_METADATA", ...tablesAfter(migrations, new Set(all))];
    expect(schemaProblem([], null, migrations)).toBeNull();
    expect(schemaProblem(["_cf_METADATA"], null, migrations)).toBeNull();
    // A first start stopped before its first migration.
    expect(schemaProblem(["_cf_METADATA", "d1_migrations"], [], migrations)).toBeNull();
    expect(schemaProblem(whole, all, migrations)).toBeNull();
    expect(schemaProblem(whole.filter((t) => t !== "d1_migrations"), null, migrations)).toMatch(/^holds tables \(.*\) but no d1_migrations table$/);
    expect(schemaProblem(["notes"], null, migrations)).toBe("holds tables (notes) but no d1_migrations table");
    expect(schemaProblem(["d1_migrations", "notes"], [], migrations)).toBe("holds tables (notes) but an empty d1_migrations table");
    expect(schemaProblem(whole.filter((t) => t !== "jobs"), all, migrations)).toBe("lacks table jobs that its migrations made");
  });
});

describe.runIf(process.platform === "linux")("local server processes", () => {
  test("a process is proven a server only by the id it carries, in its arguments or environment", async () => {
    const id = "00112233445566778899aabbccddeeff";
    const byEnv = spawn("sleep", ["30"], { env: { ...process.env, [SERVER_ID_ENV]: id }, stdio: "ignore" });
    const byArg = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)", id], { stdio: "ignore" });
    const other = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      await new Promise((r) => setTimeout(r, 200));
      expect(carriesServerId(byEnv.pid!, id)).toBe(true);
      expect(carriesServerId(byArg.pid!, id)).toBe(true);
      expect(carriesServerId(other.pid!, id)).toBe(false);
      expect(carriesServerId(byEnv.pid!, "ffeeddccbbaa99887766554433221100")).toBe(false);
      // Not an id at all: nothing is proven by it.
      expect(carriesServerId(byArg.pid!, "-e")).toBe(false);
      expect(isAlive(other.pid!)).toBe(true);
      // stopProven signals the proven ones only.
      expect(await stopProven([byEnv.pid!, other.pid!], id, 2000)).toBe(1);
      expect(isAlive(byEnv.pid!)).toBe(false);
      expect(isAlive(other.pid!)).toBe(true);
    } finally {
      for (const p of [byEnv, byArg, other]) p.kill();
    }
  });
});
