/**
 * Behaviours of the IndexedDB adapter the shared suite does not reach: the
 * id filter, failures inside the transaction, reopening a database, tags
 * that arrive before their entity, and export paging through packed rows.
 */
import { describe, expect, it } from "vitest";
import { wrap, type IDBPDatabase } from "idb";
import {
  RepositoryError,
  type AnyRecord,
  type ExecutionRecord,
  type JobRecord,
} from "redun-edge";
import { makeTag, makeValueRecord, normalizeQuery } from "redun-edge/adapter-kit";
import { createIndexedDbRepository, type RedunEdgeDB } from "redun-edge/indexeddb";
import { Bloom } from "../../adapters/indexeddb/bloom.ts";
import { inv } from "../../adapters/indexeddb/schema.ts";

const T0 = Date.UTC(2026, 0, 1);
const execution = (time: number, status: ExecutionRecord["status"] = "DONE"): ExecutionRecord => ({
  type: "Execution", id: crypto.randomUUID(), time, rootJobId: crypto.randomUUID(), argv: ["run"], startTime: time, endTime: null, status,
});
const job = (executionId: string, time: number, status: JobRecord["status"]): JobRecord => ({
  type: "Job", id: crypto.randomUUID(), time, executionId, parentId: null, taskHash: "0".repeat(40), callHash: null,
  startTime: time, endTime: null, status, error: null,
});

export function runAdapterCases(label: string): void {
  const fresh = () => createIndexedDbRepository({ name: `adapter-${Math.random()}` });

  describe(`${label}: id filter`, () => {
    it("never forgets an id, also after growing and a reload from its stored shards", () => {
      const bloom = new Bloom();
      const ids = Array.from({ length: 50_000 }, (_, i) => `id-${i}`);
      for (const id of ids) bloom.add(id);
      expect(ids.every((id) => bloom.has(id))).toBe(true);
      const reloaded = new Bloom(structuredClone(bloom.takeDirty()));
      expect(ids.every((id) => reloaded.has(id))).toBe(true);
      const absent = Array.from({ length: 20_000 }, (_, i) => `other-${i}`).filter((id) => reloaded.has(id)).length;
      expect(absent / 20_000).toBeLessThan(0.05);
      expect(bloom.takeDirty()).toEqual([]);
    });

    it("orders inverted ids descending, prefixes after their extensions", () => {
      const ids = ["", "0", "00", "01", "0f", "1", "a", "ab", "abc", "f", "ff"];
      const byInv = [...ids].sort((a, b) => (inv(a) < inv(b) ? -1 : 1));
      expect(byInv).toEqual([...ids].reverse());
    });
  });

  describe(`${label}: writes`, () => {
    it("aborts the whole transaction when the backend refuses a record", async () => {
      const repo = fresh();
      const exec = execution(T0);
      // Passes the shape check, but IndexedDB cannot store a function.
      const bad = { ...execution(T0 + 1), argv: [() => 1] } as unknown as AnyRecord;
      const error = await repo.write([exec, makeValueRecord(1, T0), bad]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RepositoryError);
      expect((error as RepositoryError).cause).toBeDefined();
      expect(await repo.get("Execution", [exec.id])).toEqual([]);
      expect(await repo.get("Value", [makeValueRecord(1, T0).id])).toEqual([]);
      // The connection and its filter are still usable.
      await repo.write([exec]);
      expect(await repo.get("Execution", [exec.id])).toHaveLength(1);
      await repo.close();
    });

    it("refuses a tag value that has no JSON form, writing nothing", async () => {
      const repo = fresh();
      const exec = execution(T0);
      const tag = { ...makeTag("Execution", exec.id, "k", 1, [], T0), value: Symbol("x") } as unknown as AnyRecord;
      await expect(repo.write([exec, tag])).rejects.toBeInstanceOf(RepositoryError);
      expect(await repo.get("Execution", [exec.id])).toEqual([]);
      await repo.close();
    });

    it("keeps data across close and reopen of the same database", async () => {
      const name = `reopen-${Math.random()}`;
      const first = createIndexedDbRepository({ name });
      const exec = execution(T0);
      await first.write([exec, makeTag("Execution", exec.id, "user", "ann", [], T0)]);
      await first.close();
      const second = createIndexedDbRepository({ name });
      expect(await second.get("Execution", [exec.id])).toEqual([exec]);
      expect((await second.query(normalizeQuery({ tags: [["user", "ann"]] }))).refs).toEqual([{ type: "Execution", id: exec.id }]);
      // Its filter came from the store: writing the same records again adds nothing.
      await second.write([exec]);
      const db = wrap(await second.database()) as unknown as IDBPDatabase<RedunEdgeDB>;
      expect(await db.count("exec")).toBe(1);
      await second.close();
    });

    it("finds a tag by its entity's time once the entity arrives after it", async () => {
      const repo = fresh();
      const late = execution(T0 + 50);
      const early = execution(T0);
      await repo.write([makeTag("Execution", late.id, "k", "v", [], T0), makeTag("Execution", early.id, "k", "v", [], T0)]);
      // Counted as current while the entities are missing, but not listed.
      expect(await repo.countTags({ values: false })).toEqual([{ key: "k", entityType: "Execution", count: 2 }]);
      expect((await repo.query(normalizeQuery({ tags: [["k", "v"]] }))).refs).toEqual([]);
      await repo.write([early]);
      await repo.write([late]);
      const page = await repo.query(normalizeQuery({ tags: [["k", "v"]] }));
      expect(page.refs.map((r) => r.id)).toEqual([late.id, early.id]);
      await repo.close();
    });

    it("moves a re-written job out of its packed row; export gives its latest version once", async () => {
      const repo = fresh();
      const exec = execution(T0);
      const jobs = Array.from({ length: 70 }, (_, i) => job(exec.id, T0 + i, "RUNNING"));
      await repo.write([exec, ...jobs]);
      const mid = await repo.exportSince(null, 1000);
      // Half of them finish; one stale RUNNING version arrives again.
      await repo.write(jobs.slice(0, 35).map((j) => ({ ...j, status: "DONE" as const, endTime: j.time + 1 })));
      await repo.write([jobs[0]!]);
      const changed = await repo.exportSince(mid.cursor, 1000);
      expect(changed.records.map((r) => r.id).sort()).toEqual(jobs.slice(0, 35).map((j) => j.id).sort());
      expect(changed.records.every((r) => r.type === "Job" && r.status === "DONE")).toBe(true);
      const all = await repo.jobsOfExecution(exec.id);
      expect(all).toHaveLength(70);
      expect(all.filter((j) => j.status === "DONE")).toHaveLength(35);
      // Paging an export by 3 crosses packed rows without repeats or gaps.
      const seen: string[] = [];
      let cursor: string | null = null;
      for (;;) {
        const page = await repo.exportSince(cursor, 3);
        seen.push(...page.records.map((r) => r.id));
        cursor = page.cursor;
        if (page.done) break;
      }
      expect(seen.sort()).toEqual([exec.id, ...jobs.map((j) => j.id)].sort());
      await repo.close();
    });

    it("refuses a malformed export cursor", async () => {
      const repo = fresh();
      await expect(repo.exportSince("nope", 5)).rejects.toMatchObject({ code: "invalid", field: "cursor" });
      await repo.close();
    });
  });
}
