/**
 * Migrations applied to a store that already holds data: version 2's rows
 * (written here as version 2 stored them) read the same after 0003 to 0006.
 */
import { expect, it } from "vitest";
import { applyD1Migrations, type D1Migration } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { ExecutionRecord, TagRecord } from "redun-edge";
import { makeTag, normalizeQuery } from "redun-edge/adapter-kit";
import { createD1Repository, type D1Like } from "redun-edge/d1";

const db = env.DB_MIGRATE as D1Like;
const migrations = env.TEST_MIGRATIONS as D1Migration[];
const T0 = Date.UTC(2026, 0, 1);

function execution(id: string, time: number): ExecutionRecord {
  return { type: "Execution", id, time, rootJobId: "00000000-0000-4000-b000-000000000001", argv: ["run"], startTime: time, endTime: time + 1, status: "DONE" };
}

/** A tag row as version 2 stored it. */
function v2Tag(t: TagRecord, current: boolean, seq: number) {
  return db
    .prepare("INSERT INTO tags (id, time, entity_type, entity_id, key, value_json, parents, current, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
    .bind(t.id, t.time, t.entityType, t.entityId, t.key, JSON.stringify(t.value), JSON.stringify(t.parents), current ? 1 : 0, seq);
}

it("0003 keeps version 2's tags: currency, tags of absent entities, delete records, counts and export order", async () => {
  const names = (await db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'").all<{ name: string }>()).results;
  expect(names, "DB_MIGRATE starts empty").toEqual([]);
  const v2 = migrations.filter((m) => /^000[12]_/.test(m.name));
  expect(v2.map((m) => m.name)).toEqual(["0001_init.sql", "0002_faster_tag_writes.sql"]);
  await applyD1Migrations(db, v2);

  const a = execution("00000000-0000-4000-a000-0000000000a1", T0 + 20);
  const b = execution("00000000-0000-4000-a000-0000000000b1", T0 + 10);
  const absent = execution("00000000-0000-4000-a000-0000000000c1", T0 + 30);
  const user = makeTag("Execution", a.id, "user", "ann", [], T0);
  const old = makeTag("Execution", b.id, "cost", 1, [], T0);
  const updated = makeTag("Execution", b.id, "cost", 2, [old.id], T0 + 1);
  const env1 = makeTag("Execution", b.id, "env", "dev", [], T0);
  const removal = makeTag(null, null, "", null, [env1.id], T0 + 2);
  const early = makeTag("Execution", absent.id, "user", "cy", [], T0);
  const exec = (e: ExecutionRecord, seq: number) =>
    db
      .prepare("INSERT INTO executions (id, time, root_job_id, argv, start_time, end_time, status, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
      .bind(e.id, e.time, e.rootJobId, JSON.stringify(e.argv), e.startTime, e.endTime, e.status, seq);
  await db.batch([
    exec(a, 1),
    exec(b, 2),
    v2Tag(user, true, 3),
    v2Tag(old, false, 4),
    v2Tag(updated, true, 5),
    v2Tag(env1, false, 6),
    v2Tag(removal, true, 7),
    v2Tag(early, true, 8),
    db.prepare("INSERT INTO tag_parents (parent_id, child_id) VALUES (?1, ?2), (?3, ?4)").bind(old.id, updated.id, env1.id, removal.id),
    db.prepare("INSERT INTO tag_key_counts (key, entity_type, n) VALUES ('user', 'Execution', 2), ('cost', 'Execution', 1)"),
    db.prepare("INSERT INTO tag_value_counts (key, value_json, entity_type, n) VALUES ('user', '\"ann\"', 'Execution', 1), ('user', '\"cy\"', 'Execution', 1), ('cost', '2', 'Execution', 1)"),
    db.prepare("UPDATE counters SET value = 8 WHERE name = 'seq'"),
  ]);

  await applyD1Migrations(db, migrations);
  const repo = createD1Repository(db);
  const ids = async (tags: ([string] | [string, unknown])[]) => (await repo.query(normalizeQuery({ tags } as never))).refs.map((r) => r.id);
  expect(await ids([["user", "ann"]])).toEqual([a.id]);
  expect(await ids([["user"]])).toEqual([a.id]);
  expect(await ids([["cost", 2]])).toEqual([b.id]);
  expect(await ids([["cost", 1]])).toEqual([]);
  expect(await ids([["env"]])).toEqual([]);
  expect((await repo.currentTags([b.id])).map((t) => t.id)).toEqual([updated.id]);
  expect((await repo.currentTags([absent.id])).map((t) => t.id)).toEqual([early.id]);
  const all = [user, old, updated, env1, removal, early];
  // 0005: the (key, value) and id indexes are tables of their own, filled from the stored tags: tag_kv with the
  // current tags of stored entities (not the replaced, removed or absent entity's), tag_ids with every tag.
  const indexes = await db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tags' AND sql IS NOT NULL ORDER BY name").all<{ name: string }>();
  expect(indexes.results.map((r) => r.name)).toEqual(["tags_entity", "tags_pending"]);
  const kv = await db.prepare("SELECT key, value_json, entity_time, entity_id, seq FROM tag_kv ORDER BY seq").all();
  expect(kv.results).toEqual([
    { key: "user", value_json: '"ann"', entity_time: a.time, entity_id: a.id, seq: 3 },
    { key: "cost", value_json: "2", entity_time: b.time, entity_id: b.id, seq: 5 },
  ]);
  const tagIds = await db.prepare("SELECT prefix, seq FROM tag_ids ORDER BY seq").all();
  expect(tagIds.results).toEqual(all.map((t, i) => ({ prefix: t.id.slice(0, 8), seq: 3 + i })));
  for (const n of [3, 8, 12]) expect((await repo.findByPrefix([updated.id.slice(0, n)], ["Tag"], 10))[0]!.map((r) => r.id)).toContain(updated.id);
  expect((await repo.get("Tag", all.map((t) => t.id))).map((t) => t.id).sort()).toEqual(all.map((t) => t.id).sort());
  expect((await repo.exportSince(null, 100)).records.map((r) => r.id)).toEqual([a.id, b.id, ...all.map((t) => t.id)]);
  // 0006: executions stored before it have no lease, and read back as they were written.
  expect(await repo.get("Execution", [a.id, b.id])).toEqual(expect.arrayContaining([a, b]));
  expect(await repo.countTags({ values: false })).toEqual([
    { key: "cost", entityType: "Execution", count: 1 },
    { key: "user", entityType: "Execution", count: 2 },
  ]);

  // After the migration: pushes of stored tags add nothing; the absent entity arriving gives its tags its time.
  await repo.write([...all, absent]);
  expect((await db.prepare("SELECT count(*) AS n FROM tags").first<{ n: number }>())!.n).toBe(6);
  expect(await ids([["user"]])).toEqual([absent.id, a.id]);
  expect(await ids([["user", "cy"]])).toEqual([absent.id]);
  expect((await db.prepare("SELECT count(*) AS n FROM tag_kv").first<{ n: number }>())!.n).toBe(3);
});
