/**
 * The D1 side of the conformance harness: a repository over a test D1,
 * emptied first, and a raw reader that selects ids straight from its tables.
 * Two databases take turns, so a test that creates a second store (sync)
 * gets one distinct from its first.
 */
import { env } from "cloudflare:workers";
import type { RecordType } from "redun-edge";
import { D1_ALL_TABLES, D1_TABLES, createD1Repository, type D1Like, type D1Repository } from "redun-edge/d1";
import type { ConformanceHarness } from "../conformance/harness.ts";

export const db = env.DB as D1Like;
const pool = [env.DB as D1Like, env.DB_OTHER as D1Like];
let turn = 0;

/** Delete every row (the schema stays) and restart the write sequence. */
export async function emptyDatabase(target: D1Like = db): Promise<void> {
  await target.batch([
    ...D1_ALL_TABLES.filter((table) => table !== "counters").map((table) => target.prepare(`DELETE FROM ${table}`)),
    target.prepare("UPDATE counters SET value = 0 WHERE name = 'seq'"),
  ]);
}

/** Rows of every record table and of tag_parents, counted with SQL: what a write really stored. */
export async function rowCounts(target: D1Like = db): Promise<Record<string, number>> {
  const tables = [...Object.entries(D1_TABLES), ["tag_parents", "tag_parents"]] as [string, string][];
  const rows = await target.batch<{ n: number }>(tables.map(([, table]) => target.prepare(`SELECT count(*) AS n FROM ${table}`)));
  return Object.fromEntries(tables.map(([name], i) => [name, rows[i]!.results[0]!.n]));
}

export function rawIds(target: D1Like = db) {
  return async (type: RecordType): Promise<string[]> => {
    const { results } = await target.prepare(`SELECT id FROM ${D1_TABLES[type]}`).all<{ id: string }>();
    return results.map((r) => r.id);
  };
}

export async function createD1Harness(): Promise<ConformanceHarness & { repository: D1Repository }> {
  const target = pool[turn++ % pool.length]!;
  await emptyDatabase(target);
  return { repository: createD1Repository(target), raw: { ids: rawIds(target) } };
}
