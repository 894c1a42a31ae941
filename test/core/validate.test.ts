import { describe, expect, it } from "vitest";
import { RepositoryError, importRecords, type AnyRecord } from "redun-edge";
import { assertWritable, checkedBatch, makeTag } from "redun-edge/adapter-kit";
import { createMemoryRepository } from "redun-edge/memory";

const entity = "6dc981d7-0000-4000-8000-000000000000";
const tag = makeTag("Execution", entity, "k", 1, [], 1);
const parent = "a".repeat(40);

describe("a write refuses malformed tags and writes nothing", () => {
  it.each([
    ["an entity id without an entity type", { ...tag, entityType: null }, /entityType and entityId/],
    ["an entity type without an entity id", { ...tag, entityId: null }, /entityType and entityId/],
    ["an empty key on an entity", { ...tag, key: "" }, /key must not be empty/],
    ["a delete record with a key", { ...tag, entityType: null, entityId: null, value: null, parents: [parent] }, /delete record/],
    ["a delete record with a value", { ...tag, entityType: null, entityId: null, key: "", parents: [parent] }, /delete record/],
    ["a delete record without parents", { ...tag, entityType: null, entityId: null, key: "", value: null }, /delete record/],
    ["an unknown entity type", { ...tag, entityType: "Nope" }, /unknown entity type/],
  ])("%s", async (_, bad, message) => {
    const repository = createMemoryRepository();
    const good = makeTag("Execution", entity, "ok", true, [], 1);
    const error = await repository.write([good, bad as AnyRecord]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RepositoryError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain("records[1]");
    expect(repository.raw.get("Tag")!.size).toBe(0);
  });

  it("accepts a well-formed delete record", async () => {
    const repository = createMemoryRepository();
    await repository.write([tag, makeTag(null, null, "", null, [tag.id], 2)]);
    expect(repository.raw.get("Tag")!.size).toBe(2);
  });
});

describe("checked batches", () => {
  it("are frozen copies that passed the import checks, which a write then trusts", async () => {
    const records: unknown[] = [tag];
    const batch = checkedBatch(records);
    expect(batch).not.toBe(records);
    expect(batch).toEqual(records);
    expect(Object.isFrozen(batch)).toBe(true);
    // The same records as a plain array are checked again; the batch is not.
    const bad = [{ ...tag, key: 7 }];
    expect(() => assertWritable(bad)).toThrow(/key must be string/);
    expect(() => checkedBatch(bad)).toThrow(/key must be string/);
  });

  it("leave a refused import writing nothing, and an accepted one written", async () => {
    const repository = createMemoryRepository();
    await expect(importRecords(repository, [tag, { ...tag, value: 2 }])).rejects.toThrow(/does not match/);
    expect(repository.raw.get("Tag")!.size).toBe(0);
    expect(await importRecords(repository, [tag])).toBe(1);
    expect([...repository.raw.get("Tag")!.keys()]).toEqual([tag.id]);
  });
});
