/**
 * The Cloudflare D1 Repository. Schema: adapters/d1/migrations (apply with
 * `wrangler d1 migrations apply`); writes in sets (write.ts), queries as one
 * statement per page (query-sql.ts). Every D1 failure is wrapped in a
 * RepositoryError whose `cause` is D1's error.
 */
import {
  RedunEdgeError,
  RepositoryError,
  compareNewestFirst,
  encodeCursor,
  type AnyRecord,
  type ExportPage,
  type JobRecord,
  type NormalizedQuery,
  type QueryPage,
  type RecordOf,
  type RecordRef,
  type RecordType,
  type Repository,
  type TagCount,
  type TagCountQuery,
  type TagRecord,
} from "../../core/index.ts";
import type { D1Like, D1Result, D1Statement } from "./d1.ts";
import { DRIVE_THRESHOLD, buildQueryArms, prefixRange, probeSql, type QueryPlan } from "./query-sql.ts";
import { ALL_TYPES, TABLES, specOf, type Row, type TableSpec } from "./tables.ts";
import { CHUNK_BYTES, planWrite, utf8Length, validateRecords } from "./write.ts";

export type { D1Like, D1Result, D1Statement } from "./d1.ts";
export { CHUNK_BYTES, MAX_BATCH_STATEMENTS } from "./write.ts";

/** Table of each record type, for tools (and tests) that read the database directly. */
export const D1_TABLES: { readonly [T in RecordType]: string } = Object.fromEntries(
  ALL_TYPES.map((type) => [type, TABLES[type].table]),
) as { [T in RecordType]: string };

export interface D1Repository extends Repository {
  readonly db: D1Like;
  /** `EXPLAIN QUERY PLAN` of the statements `query(q)` would run, one line per plan step, per statement. */
  explain(q: NormalizedQuery): Promise<string[]>;
}

async function attempt<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (cause) {
    if (cause instanceof RedunEdgeError) throw cause;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new RepositoryError(`d1: ${what} failed: ${reason}`, { cause });
  }
}

/** Split strings into JSON arrays of at most CHUNK_BYTES, for `IN (SELECT value FROM json_each(?))`. */
function jsonChunks(values: readonly string[]): string[] {
  const out: string[] = [];
  let parts: string[] = [];
  let bytes = 2;
  for (const v of values) {
    const text = JSON.stringify(v);
    const size = utf8Length(text) + 1;
    if (parts.length > 0 && bytes + size > CHUNK_BYTES) {
      out.push(`[${parts.join(",")}]`);
      parts = [];
      bytes = 2;
    }
    parts.push(text);
    bytes += size;
  }
  if (parts.length > 0) out.push(`[${parts.join(",")}]`);
  return out;
}

function selectColumns(spec: TableSpec, alias = ""): string {
  return spec.columns.map((c) => alias + c).join(", ");
}

const TAG = TABLES.Tag;

export function createD1Repository(db: D1Like): D1Repository {
  /** Run statements in one round trip (one implicit transaction), results in order. */
  const batch = async <T = Row>(what: string, statements: D1Statement[]): Promise<T[][]> => {
    if (statements.length === 0) return [];
    const results = await attempt(what, () => db.batch<T>(statements));
    return results.map((r: D1Result<T>) => r.results ?? []);
  };

  const all = async <T = Row>(what: string, sql: string, params: unknown[]): Promise<T[]> => {
    const result = await attempt(what, () => db.prepare(sql).bind(...params).all<T>());
    return result.results ?? [];
  };

  async function getRecords<T extends RecordType>(type: T, ids: readonly string[]): Promise<RecordOf<T>[]> {
    const spec = specOf(type);
    const sql = `SELECT ${selectColumns(spec as TableSpec)} FROM ${spec.table} WHERE id IN (SELECT value FROM json_each(?1))`;
    const results = await batch(`get ${type}`, jsonChunks([...new Set(ids)]).map((chunk) => db.prepare(sql).bind(chunk)));
    return results.flat().map((row) => spec.fromRow(row));
  }

  async function tagsWhere(what: string, sql: string, ids: readonly string[]): Promise<TagRecord[]> {
    const results = await batch(what, jsonChunks([...new Set(ids)]).map((chunk) => db.prepare(sql).bind(chunk)));
    return results.flat().map((row) => TAG.fromRow(row));
  }

  async function choosePlan(q: NormalizedQuery): Promise<QueryPlan> {
    const plan: QueryPlan = { drive: null, driveExec: null };
    const probes = [...q.tags.map((f) => probeSql(f)), ...q.execTags.map((f) => probeSql(f))];
    if (probes.length === 0) return plan;
    const counts = (await batch<{ n: number }>("query", probes.map((s) => db.prepare(s.sql).bind(...s.params)))).map(
      (rows) => rows[0]?.n ?? 0,
    );
    const pick = (from: number, to: number): number | null => {
      let best: number | null = null;
      for (let i = from; i < to; i++) if (counts[i]! <= DRIVE_THRESHOLD && (best === null || counts[i]! < counts[best]!)) best = i;
      return best === null ? null : best - from;
    };
    plan.drive = pick(0, q.tags.length);
    plan.driveExec = pick(q.tags.length, counts.length);
    return plan;
  }

  const repository: D1Repository = {
    capabilities: { name: "d1", persistent: true },
    db,

    async write(records: readonly AnyRecord[]) {
      if (records.length === 0) return;
      validateRecords(records);
      for (const statements of planWrite(db, records)) await batch("write", statements);
    },

    async get(type, ids) {
      if (ids.length === 0) return [];
      return getRecords(type, ids);
    },

    async findByPrefix(prefix: string, limit: number): Promise<RecordRef[]> {
      if (limit <= 0) return [];
      const range = prefix === "" ? null : prefixRange(prefix);
      const where = range ? "WHERE id >= ?1 AND id < ?2" : "";
      const params: unknown[] = range ? [...range, limit] : [limit];
      // One primary-key range scan per table, in one round trip; merged here.
      const results = await batch<{ id: string }>(
        "findByPrefix",
        ALL_TYPES.map((type) =>
          db.prepare(`SELECT id FROM ${TABLES[type].table} ${where} ORDER BY id LIMIT ?${params.length}`).bind(...params),
        ),
      );
      const refs = results.flatMap((rows, i) => rows.map((r) => ({ type: ALL_TYPES[i]!, id: r.id })));
      refs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
      return refs.slice(0, limit);
    },

    async query(q: NormalizedQuery): Promise<QueryPage> {
      const plan = await choosePlan(q);
      const arms = buildQueryArms(q, plan);
      const results = await batch<{ id: string; time: number }>(
        "query",
        arms.map((arm) => db.prepare(arm.sql).bind(...arm.params)),
      );
      const rows = results.flatMap((list, i) => list.map((r) => ({ type: arms[i]!.type, id: r.id, time: r.time })));
      rows.sort(compareNewestFirst);
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      return {
        refs: page.map((r) => ({ type: r.type, id: r.id })),
        cursor: rows.length > q.limit && last ? encodeCursor({ time: last.time, id: last.id }) : null,
      };
    },

    async explain(q: NormalizedQuery): Promise<string[]> {
      const plan = await choosePlan(q);
      const lines: string[] = [];
      for (const arm of buildQueryArms(q, plan)) {
        const rows = await all<{ id: number; parent: number; detail: string }>("explain", `EXPLAIN QUERY PLAN ${arm.sql}`, arm.params);
        const depth = new Map<number, number>([[0, 0]]);
        lines.push(`${arm.type}${plan.drive !== null ? ` (driven by tag filter ${plan.drive})` : ""}:`);
        for (const row of rows) {
          const d = (depth.get(row.parent) ?? 0) + 1;
          depth.set(row.id, d);
          lines.push(`${"  ".repeat(d)}${row.detail}`);
        }
      }
      return lines;
    },

    async currentTags(entityIds: readonly string[]): Promise<TagRecord[]> {
      if (entityIds.length === 0) return [];
      return tagsWhere(
        "currentTags",
        `SELECT ${selectColumns(TAG)} FROM tags WHERE entity_id IN (SELECT value FROM json_each(?1)) AND current = 1 ORDER BY entity_id, time, id`,
        entityIds,
      );
    },

    async tagChildren(tagIds: readonly string[]): Promise<TagRecord[]> {
      if (tagIds.length === 0) return [];
      const tags = await tagsWhere(
        "tagChildren",
        `SELECT ${selectColumns(TAG, "t.")} FROM tags AS t WHERE t.id IN ` +
          "(SELECT tp.child_id FROM tag_parents AS tp WHERE tp.parent_id IN (SELECT value FROM json_each(?1)))",
        tagIds,
      );
      const seen = new Set<string>();
      return tags.filter((t) => !seen.has(t.id) && seen.add(t.id));
    },

    async countTags(query: TagCountQuery): Promise<TagCount[]> {
      const keys = query.keys && query.keys.length > 0 ? query.keys : null;
      const keyFilter = keys ? " AND key IN (SELECT value FROM json_each(?1))" : "";
      const params = keys ? [JSON.stringify(keys)] : [];
      const where = `WHERE current = 1 AND entity_id IS NOT NULL AND entity_type IS NOT NULL${keyFilter}`;
      if (query.values) {
        const rows = await all<{ key: string; value_json: string; n: number }>(
          "countTags",
          `SELECT key, value_json, count(*) AS n FROM tags ${where} GROUP BY key, value_json ORDER BY key, value_json`,
          params,
        );
        return rows.map((r) => ({ key: r.key, value: JSON.parse(r.value_json), count: r.n }));
      }
      const rows = await all<{ key: string; entity_type: string; n: number }>(
        "countTags",
        `SELECT key, entity_type, count(*) AS n FROM tags ${where} GROUP BY key, entity_type ORDER BY key, entity_type`,
        params,
      );
      return rows.map((r) => ({ key: r.key, entityType: r.entity_type as TagCount["entityType"], count: r.n }));
    },

    async jobsOfExecution(executionId: string): Promise<JobRecord[]> {
      const spec = TABLES.Job;
      const rows = await all(
        "jobsOfExecution",
        `SELECT ${selectColumns(spec)} FROM jobs WHERE execution_id = ?1 ORDER BY start_time, id`,
        [executionId],
      );
      return rows.map((row) => spec.fromRow(row));
    },

    async exportSince(cursor: string | null, limit: number): Promise<ExportPage> {
      const after = cursor === null ? 0 : Number(cursor);
      if (!Number.isSafeInteger(after) || after < 0 || (cursor !== null && !/^\d+$/.test(cursor))) {
        throw new RepositoryError(`malformed export cursor ${JSON.stringify(cursor)}`);
      }
      if (limit <= 0) return { records: [], cursor: String(after), done: false };
      // The next limit + 1 changes of each table (one round trip), merged by seq.
      const seqs = await batch<{ id: string; seq: number }>(
        "exportSince",
        ALL_TYPES.map((type) =>
          db.prepare(`SELECT id, seq FROM ${TABLES[type].table} WHERE seq > ?1 ORDER BY seq LIMIT ?2`).bind(after, limit + 1),
        ),
      );
      const refs = seqs.flatMap((rows, i) => rows.map((r) => ({ type: ALL_TYPES[i]!, id: r.id, seq: r.seq })));
      refs.sort((a, b) => a.seq - b.seq);
      const page = refs.slice(0, limit);
      const byType = new Map<RecordType, string[]>();
      for (const r of page) {
        let ids = byType.get(r.type);
        if (!ids) byType.set(r.type, (ids = []));
        ids.push(r.id);
      }
      // One round trip for all types; a record changed since the refs were read is sent as it is now.
      const types = [...byType.keys()];
      const statements: D1Statement[] = [];
      const owners: RecordType[] = [];
      for (const type of types) {
        const spec = specOf(type) as TableSpec;
        const sql = `SELECT ${selectColumns(spec)} FROM ${spec.table} WHERE id IN (SELECT value FROM json_each(?1))`;
        for (const chunk of jsonChunks(byType.get(type)!)) {
          statements.push(db.prepare(sql).bind(chunk));
          owners.push(type);
        }
      }
      const results = await batch("exportSince", statements);
      const found = new Map<string, AnyRecord>();
      results.forEach((rows, i) => {
        const spec = specOf(owners[i]!) as TableSpec;
        for (const row of rows) {
          const record = spec.fromRow(row) as AnyRecord;
          found.set(`${record.type}:${record.id}`, record);
        }
      });
      const records = page.flatMap((r) => found.get(`${r.type}:${r.id}`) ?? []);
      const last = page[page.length - 1];
      return { records, cursor: String(last ? last.seq : after), done: refs.length <= limit };
    },
  };
  return repository;
}
