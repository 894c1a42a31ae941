/**
 * `redun-edge import` and `export --redun` as a user runs them (a subprocess
 * per command, a local store in a temporary folder), TZ=UTC: the fixture
 * imported, then every command of redun's transcript printing what redun
 * printed; a second import writing nothing; bad, locked, corrupt and
 * tampered files; tags edited here written back; the progress bar on a
 * terminal.
 */
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MAIN, NODE, cli as runCli, expectError as expectErrorLine, tokenGuardedRemote, type Result } from "../cli/helpers.ts";
import { expectedOutput, parseTranscript, shellWords } from "./transcript.ts";

const FIXTURE = join(import.meta.dirname, "fixtures", "redun.db");
const transcript = parseTranscript(readFileSync(join(import.meta.dirname, "fixtures", "final.txt"), "utf8"));

/** One `redun-edge: error:` line, exit 1, nothing on stdout. */
const expectError = (r: Result, pattern: RegExp) => expectErrorLine(r, 1, pattern);
/** In UTC, as redun's transcript. */
const cli = (cwd: string, args: string[], env: Record<string, string> = {}) => runCli(cwd, args, { TZ: "UTC", ...env });

let A: string; // the store the fixture goes into
let E: string; // a store nothing may ever be written to
let files: string;
beforeAll(() => {
  A = mkdtempSync(join(tmpdir(), "redun-edge-import-a-"));
  E = mkdtempSync(join(tmpdir(), "redun-edge-import-e-"));
  files = mkdtempSync(join(tmpdir(), "redun-edge-import-files-"));
});
afterAll(async () => {
  for (const dir of [A, E]) {
    await cli(dir, ["server", "stop"]);
    rmSync(dir, { recursive: true, force: true });
  }
  rmSync(files, { recursive: true, force: true });
});

function copy(name: string): string {
  const path = join(files, name);
  copyFileSync(FIXTURE, path);
  return path;
}

describe("redun-edge import / export --redun", { timeout: 180_000 }, () => {
  test("imports the fixture, verified, and a second import writes nothing", async () => {
    const first = await cli(A, ["import", FIXTURE]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(
      [
        `imported ${FIXTURE} into ${A}: 331 records written, 0 already there`,
        "  from redun: 5 executions, 54 jobs, 29 call nodes, 7 tasks, 76 values, 132 tags, 28 evaluations",
        "  30 ids redun derives from data it does not store (files, expressions, errors) were checked for their form only",
        "  7 task values kept once, as their tasks",
        "",
      ].join("\n"),
    );
    const again = await cli(A, ["import", FIXTURE]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.split("\n")[0]).toBe(`imported ${FIXTURE} into ${A}: 0 records written, 331 already there`);
  });

  test.each(transcript.filter((b) => expectedOutput(b) !== null).map((b) => [b.command, b] as const))(
    "%s prints what redun printed",
    async (_, block) => {
      const r = await cli(A, shellWords(block.command).slice(1));
      expect(r.stderr).toBe("");
      expect(r.code).toBe(block.exit);
      expect(r.stdout).toBe(expectedOutput(block));
    },
  );

  test("a file that is not a readable redun database: one line, exit 1, nothing written (not even a store)", async () => {
    const text = join(files, "notes.txt");
    writeFileSync(text, "not a database\n".repeat(20));
    const other = join(files, "other.db");
    const o = new DatabaseSync(other);
    o.exec("CREATE TABLE t (x)");
    o.close();
    const newer = copy("newer.db");
    const n = new DatabaseSync(newer);
    n.exec("UPDATE alembic_version SET version_num = 'ffffffffffff'");
    n.close();
    const corrupt = copy("corrupt.db");
    const fd = openSync(corrupt, "r+");
    writeSync(fd, Buffer.alloc(4096 * 20, 0x5a), 0, 4096 * 20, 4096 * 10);
    closeSync(fd);
    const [missing, notSqlite, notRedun, unknown, broken] = await Promise.all([
      cli(E, ["import", join(files, "nothing-here.db")]),
      cli(E, ["import", text]),
      cli(E, ["import", other]),
      cli(E, ["import", newer]),
      cli(E, ["import", corrupt]),
    ]);
    expectError(missing, /no redun database at .*nothing-here\.db$/m);
    expectError(notSqlite, /notes\.txt is not a redun database \(not an SQLite file\)/);
    expectError(notRedun, /other\.db is not a redun database \(it has no alembic_version table\)/);
    expectError(unknown, /newer\.db has redun schema revision ffffffffffff, which redun-edge does not know \(it knows 3\.5 \(0bee3d6dba76\)\)/);
    expectError(broken, /corrupt\.db is corrupt: database disk image is malformed/);
    expectError(await cli(E, ["export", "--redun", newer]), /newer\.db has redun schema revision ffffffffffff/);
    expect((await cli(E, ["import"])).code).toBe(2);
    expect(existsSync(join(E, ".redun"))).toBe(false);
  });

  test("a database redun is writing to (locked): one line, exit 1, nothing written", async () => {
    const path = copy("locked.db");
    const holder = new DatabaseSync(path);
    holder.exec("BEGIN EXCLUSIVE");
    holder.exec("UPDATE tag SET is_current = is_current");
    try {
      expectError(await cli(E, ["import", path]), /locked\.db is locked by another process \(is redun writing to it\?\); try again when it is done/);
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    expect(existsSync(join(E, ".redun"))).toBe(false);
  });

  test("a tampered copy: each bad row named and refused, the rest imported, exit 1", async () => {
    const path = copy("tampered.db");
    const db = new DatabaseSync(path, { enableForeignKeyConstraints: false });
    db.exec("UPDATE tag SET value = '\"mallory\"' WHERE key = 'owner'");
    db.exec("UPDATE task SET source = source || ' ' WHERE name = 'shout'");
    db.close();
    const store = mkdtempSync(join(tmpdir(), "redun-edge-import-t-"));
    try {
      const r = await cli(store, ["import", path]);
      expect(r.code).toBe(1);
      const refused = r.stderr.trimEnd().split("\n");
      // The owner tag was added, removed and added again in redun: two rows, each refused.
      expect(refused.filter((l) => /^redun-edge: refused tag [0-9a-f]{40}: hash does not match redun's tag hash/.test(l))).toHaveLength(2);
      expect(refused).toContain("redun-edge: refused task 75cd0eac4e9edc16e198c1d3cfe80ef2c23f6ebf: hash does not match redun's task hash of hello.shout (its source)");
      expect(refused).toHaveLength(3);
      expect(r.stdout).toContain(": 328 records written, 0 already there");
      expect(r.stdout).toContain("  3 records refused: their ids do not match redun's formulas (listed above)");
      expect((await cli(store, ["log", "--tag", "owner"])).stdout).toBe("Recent executions:\n\n");
    } finally {
      await cli(store, ["server", "stop"]);
      rmSync(store, { recursive: true, force: true });
    }
  });

  test("export --redun writes tags edited here into redun's tables; again nothing; re-import writes nothing", async () => {
    const path = copy("export.db");
    expect((await cli(A, ["tag", "add", "484b6c40", "exported=yes"])).code).toBe(0);
    expect((await cli(A, ["tag", "update", "035fa44d", "env=final2"])).code).toBe(0);
    expect((await cli(A, ["tag", "rm", "1f5b5827", "latest"])).code).toBe(0);
    const first = await cli(A, ["export", "--redun", path]);
    expect(first.stderr).toBe("");
    expect(first.stdout).toBe(`exported 3 tags and 2 tag edits from ${A} into ${path}\n`);
    const db = new DatabaseSync(path, { readOnly: true });
    const rows = (entity: string, key: string) =>
      db.prepare("SELECT entity_type, value, is_current FROM tag WHERE entity_id = ? AND key = ? ORDER BY value").all(entity, key).map((r) => Object.values(r));
    expect(rows("484b6c40-028c-4d79-b68e-70c94d8a0eb3", "exported")).toEqual([["Execution", '"yes"', 1]]);
    expect(rows("035fa44d-43c8-47eb-9122-d27a6d19136b", "env")).toEqual([
      ["Execution", '"dev"', 0], ["Execution", '"final"', 0], ["Execution", '"final2"', 1], ["Execution", '"prod"', 0],
    ]);
    const removal = db.prepare("SELECT t.entity_type, t.entity_id, t.key, t.value, t.is_current FROM tag AS t JOIN tag_edit AS e ON e.child_id = t.tag_hash JOIN tag AS p ON p.tag_hash = e.parent_id WHERE p.key = 'latest'").all();
    expect(removal.map((r) => Object.values(r))).toEqual([["Null", "", "", "null", 1]]);
    db.close();
    const second = await cli(A, ["export", "--redun", path]);
    expect(second.stdout).toBe(`nothing to export: ${path} has every tag of its records that ${A} has\n`);
    const reimport = await cli(A, ["import", path]);
    expect(reimport.code, reimport.stderr).toBe(0);
    expect(reimport.stdout.split("\n")[0]).toBe(`imported ${path} into ${A}: 0 records written, 334 already there`);
  });

  test("into a remote: refused writes stop the import with a line that says so, nothing written; with its token it goes in", async () => {
    const { repository, url, close } = await tokenGuardedRemote("s3cret");
    try {
      // Reads are open, so the import gets as far as its first write.
      expectError(await cli(E, ["import", FIXTURE, "--remote", url]), /^redun-edge: error: import stopped after 0 records were written \(each batch of up to 5000 is atomic; run it again to finish\): .*token/);
      expect(await repository.exportSince(null, 10)).toMatchObject({ records: [] });
      const r = await cli(E, ["import", FIXTURE, "--remote", url, "--token", "s3cret"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.split("\n")[0]).toBe(`imported ${FIXTURE} into ${url}: 331 records written, 0 already there`);
      expect((await cli(E, ["log", "--tag", "project=demo2", "--remote", url])).stdout).toBe(expectedOutput(transcript.find((b) => b.command === "redun log --tag project=demo2")!));
      expect(existsSync(join(E, ".redun"))).toBe(false);
    } finally {
      close();
    }
  });

  test("a progress bar on a terminal", async () => {
    const store = mkdtempSync(join(tmpdir(), "redun-edge-import-p-"));
    try {
      // `script` runs the command on a pseudo-terminal, as a person would.
      const r = await new Promise<Result>((done) =>
        execFile(
          "script",
          ["-q", "-e", "-c", `${NODE} ${MAIN} import ${FIXTURE}`, "/dev/null"],
          { cwd: store, env: { ...process.env, REDUN_EDGE_STORE: store, REDUN_EDGE_URL: "" }, timeout: 60_000 },
          (error, stdout, stderr) => done({ code: error ? 1 : 0, stdout, stderr }),
        ),
      );
      expect(r.code, r.stdout).toBe(0);
      expect(r.stdout).toMatch(/\rimporting \[#{30}\] 331\/331/);
      // The bar is cleared before the summary.
      expect(r.stdout).toMatch(/\r\x1b\[Kimported /);
    } finally {
      await cli(store, ["server", "stop"]);
      rmSync(store, { recursive: true, force: true });
    }
  });
});
