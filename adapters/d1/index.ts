/**
 * The Cloudflare D1 Repository. Schema: adapters/d1/migrations (apply with
 * `wrangler d1 migrations apply`); writes in sets, one D1 batch per write
 * (write.ts); every read in one round trip, a query's plan chosen inside
 * SQLite (query-sql.ts). Every D1 failure is wrapped in a RepositoryError
 * whose `cause` is D1's error.
 *
 * Reads return whole rows: `get` of many large Values (up to 1 MB each) is the
 * caller's to keep small; `exportSince` bounds its pages (EXPORT_PAGE_BYTES).
 */
import {
  ENTITY_TYPES, RedunEdgeError, RepositoryError, ValidationError, type AnyRecord, type EntityType, type JobRecord,
  type JsonValue, type RecordOf, type RecordRef, type RecordType, type Repository, type TagCount, type TagRecord,
} from "../../core/index.ts";
import {
  quoted, compareNewestFirst, compareRefsById, pageOf, readRecordContext, type ExportPage, type NormalizedQuery,
  type QueryContextPage, type QueryPage, type RecordContext, type TagCountQuery, type WriteOptions,
} from "../../core/adapter-kit.ts";
import { INLINE_VALUE_CHARS, queryContextSql, refsContextSql } from "./context-sql.ts";
import type { D1Like, D1Result, D1Statement } from "./d1.ts";
import { buildQueryArms, planChoiceSql, prefixRange, type Driver, type Planner } from "./query-sql.ts";
import { ALL_TYPES, TABLES, anyEntityTimeSql, cachedSql, joinTagById, selectColumns, specOf, tagIdsInRange, type Row, type TableSpec } from "./tables.ts";
import { CHUNK_BYTES, jsonArrays, planWrite, validateRecords } from "./write.ts";

export type { D1Like, D1Result, D1Statement } from "./d1.ts";
export { CHUNK_BYTES, MAX_BATCH_STATEMENTS } from "./write.ts";
export type { Planner } from "./query-sql.ts";

/** Table of each record type, for tools (and tests) that read the database directly. */
export const D1_TABLES: { readonly [T in RecordType]: string } = Object.fromEntries(
  ALL_TYPES.map((type) => [type, TABLES[type].table]),
) as { [T in RecordType]: string };

/** Every table of the schema (record tables, tag indexes and edges, tag counts, the sequence counter). */
export const D1_ALL_TABLES: readonly string[] = [
  ...ALL_TYPES.map((type) => TABLES[type].table),
  "tag_kv",
  "tag_ids",
  "tag_parents",
  "tag_key_counts",
  "tag_value_counts",
  "counters",
];

export interface D1Repository extends Repository {
  readonly db: D1Like;
  /** For each type, which plan `query(q)` picks and SQLite's `EXPLAIN QUERY PLAN` of it, as indented lines. */
  explain(q: NormalizedQuery): Promise<string[]>;
  recordContext(refs: readonly RecordRef[]): Promise<RecordContext>;
  queryContext(q: NormalizedQuery): Promise<QueryContextPage>;
  /** SQLite's `EXPLAIN QUERY PLAN` of `queryContext(q)`'s one statement, as indented lines. */
  explainQueryContext(q: NormalizedQuery): Promise<string[]>;
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
  const chunks = jsonArrays(CHUNK_BYTES, (json) => out.push(json));
  for (const v of values) chunks.add(JSON.stringify(v));
  chunks.flush();
  return out;
}

const TAG = TABLES.Tag;

/**
 * Tags are indexed by (entity_time, entity_id, ...) (migration 0003): `k`
 * gives each entity id bound as a JSON array (?1) its time, NULL when the
 * entity is not stored (its tags are then stored with a NULL time too).
 */
const ENTITY_KEYS =
  `WITH k(time, id) AS (SELECT ${anyEntityTimeSql("i.value")}, i.value FROM json_each(?1) AS i) `;
const CURRENT_OF_KEYS = "FROM k JOIN tags AS t ON t.entity_time IS k.time AND t.entity_id = k.id WHERE t.current = 1";

/** Current tags of some entities, row by row. */
const CURRENT_TAG_ROWS_SQL = `${ENTITY_KEYS}SELECT ${selectColumns(TAG, "t.")} ${CURRENT_OF_KEYS}`;

/**
 * Current tags of some entities with values of at most INLINE_VALUE_CHARS,
 * one row per entity: its tags as a JSON array of [id, time, entity_type,
 * key, value_json, parents]. An aggregate is one string, which D1 refuses past
 * 2 MB (and the local D1 may run out of memory building, past ~15 MB): longer
 * values come as rows (LONG_TAG_ROWS_SQL), and should an aggregate still be
 * refused, the read falls back to CURRENT_TAG_ROWS_SQL.
 */
const CURRENT_TAGS_SQL =
  `${ENTITY_KEYS}SELECT t.entity_id, json_group_array(json_array(t.id, t.time, t.entity_type, t.key, t.value_json, t.parents, t.value_text)) AS tags ` +
  `${CURRENT_OF_KEYS} AND length(t.value_json) <= ${INLINE_VALUE_CHARS} GROUP BY t.entity_id`;
const LONG_TAG_ROWS_SQL = `${CURRENT_TAG_ROWS_SQL} AND length(t.value_json) > ${INLINE_VALUE_CHARS}`;

/** Upper end of the id range of the empty prefix: above every id (ids are ASCII). */
const AFTER_EVERY_ID = "\u{10FFFF}";

/**
 * Per id range `[lo, hi]` of the JSON array ?1 (its index `i`): the first ?2
 * ids of one type's table in the range, as a JSON array, each range one index
 * range scan (tags through tag_ids, migration 0005).
 */
function prefixSql(type: RecordType): string {
  return cachedSql(`prefix:${type}`, () => {
    const [lo, hi] = ["p.value ->> 0", "p.value ->> 1"];
    const ids =
      type === "Tag"
        ? `${tagIdsInRange(lo, hi)} ORDER BY t.id LIMIT ?2`
        : `SELECT id FROM ${TABLES[type].table} WHERE id >= ${lo} AND id < ${hi} ORDER BY id LIMIT ?2`;
    return `SELECT p.key AS i, (SELECT json_group_array(id) FROM (${ids})) AS ids FROM json_each(?1) AS p`;
  });
}

/** Tags by id (?1, a JSON array), through tag_ids (migration 0005). */
const TAGS_BY_ID_SQL = `SELECT ${selectColumns(TAG, "t.")} FROM json_each(?1) AS i ${joinTagById("t", "i.value")}`;

/** Tags in (entity_id, time, id) order. */
const byEntityTimeId = (a: TagRecord, b: TagRecord) =>
  a.entityId! < b.entityId! ? -1 : a.entityId! > b.entityId! ? 1 : a.time !== b.time ? a.time - b.time : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

type AggregatedTag = [string, number, TagRecord["entityType"], string, string, string, string];

interface TagGroup {
  entity_id: string;
  tags: string;
}

/** Tag records of CURRENT_TAGS_SQL's rows. */
function unpackTags(groups: readonly TagGroup[]): TagRecord[] {
  const out: TagRecord[] = [];
  for (const g of groups) {
    for (const [id, time, entityType, key, valueJson, parents, valueText] of JSON.parse(g.tags) as AggregatedTag[]) {
      const tag: TagRecord = { type: "Tag", id, time, entityType, entityId: g.entity_id, key, value: JSON.parse(valueJson), parents: JSON.parse(parents) };
      if (valueText) tag.valueText = valueText;
      out.push(tag);
    }
  }
  return out;
}

type ContextJson = { [T in EntityType]: unknown[][] } & {
  page?: [EntityType, string, number][];
  /**
   * Per entity: [entity_id, key, value, key, value, ...], or [entity_id, null] when its tags are to be read
   * apart. A tag with a value text (migration 0007) has [key, text] in its key's place.
   */
  tags: (string | JsonValue)[][];
};

/** A context statement's answer (context-sql.ts), and the ids of the records (and tagged entities) it left out as too long. */
function decodeContext(json: ContextJson): { context: RecordContext; long: { Task: string[]; Value: string[]; tagsOf: string[] } } {
  const records: AnyRecord[] = [];
  const long = { Task: [] as string[], Value: [] as string[], tagsOf: [] as string[] };
  const seen = new Set<string>();
  for (const type of ENTITY_TYPES) {
    const spec = specOf(type) as TableSpec;
    for (const row of json[type]) {
      const key = `${type}:${row[0] as string}`;
      if (seen.has(key)) continue; // UNION ALL: a job on the page may be a root job too
      seen.add(key);
      if (row.length === 2 && (type === "Task" || type === "Value")) long[type].push(row[0] as string);
      else {
        const named: Row = {};
        spec.columns.forEach((c, i) => (named[c] = row[i]));
        records.push(spec.fromRow(named) as AnyRecord);
      }
    }
  }
  const tags: RecordContext["tags"] = [];
  for (const entity of json.tags) {
    const entityId = entity[0] as string;
    if (entity.length === 2 && entity[1] === null) long.tagsOf.push(entityId);
    else {
      for (let i = 1; i < entity.length; i += 2) {
        const key = entity[i];
        if (Array.isArray(key)) tags.push({ entityId, key: key[0] as string, value: entity[i + 1] as JsonValue, valueText: key[1] as string });
        else tags.push({ entityId, key: key as string, value: entity[i + 1] as JsonValue });
      }
    }
  }
  return { context: { records, tags }, long };
}

/**
 * D1's refusal of a string or row past its size limit (2 MB in production),
 * or the local D1 running out of memory building one.
 */
const isTooBig = (error: unknown) =>
  /too big|TOOBIG|NOMEM/i.test(error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : String(error));

/** An export page stops early once its Values hold this many characters (values are up to 1 MB each). */
export const EXPORT_PAGE_BYTES = 8_000_000;

function describeDriver(driver: Driver | null): string {
  if (driver === null) return "walk newest first";
  return `driven by ${driver.kind}${"index" in driver ? ` ${driver.index}` : ""}`;
}

export interface D1RepositoryOptions {
  /**
   * How queries are planned (see query-sql.ts): "cost" (default) lets SQLite
   * pick by candidate set sizes; "walk" and "drive" force one shape, for
   * measurements and tests.
   */
  planner?: Planner;
  /** Statements per D1 batch before a write is split (default MAX_BATCH_STATEMENTS); for tests. */
  maxBatchStatements?: number;
  /** Bytes of rows per write statement (default CHUNK_BYTES); for tests. */
  chunkBytes?: number;
}

export function createD1Repository(db: D1Like, options: D1RepositoryOptions = {}): D1Repository {
  const planner = options.planner ?? "cost";
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

  /** A context statement's answer, with the records too long to inline read by id. */
  async function withLarge(json: ContextJson): Promise<RecordContext> {
    const { context, long } = decodeContext(json);
    const [tasks, values, tags] = await Promise.all([
      getRecords("Task", long.Task),
      getRecords("Value", long.Value),
      repository.currentTags(long.tagsOf),
    ]);
    context.records.push(...tasks, ...values);
    // The tags of entities with long values, read whole.
    context.tags.push(...tags);
    return context;
  }

  /** `EXPLAIN QUERY PLAN` of a statement as lines indented by depth. */
  async function queryPlan(statement: { sql: string; params: unknown[] }): Promise<string[]> {
    const rows = await all<{ id: number; parent: number; detail: string }>("explain", `EXPLAIN QUERY PLAN ${statement.sql}`, statement.params);
    const depth = new Map<number, number>([[0, 0]]);
    return rows.map((row) => {
      const d = (depth.get(row.parent) ?? 0) + 1;
      depth.set(row.id, d);
      return `${"  ".repeat(d)}${row.detail}`;
    });
  }

  async function getRecords<T extends RecordType>(type: T, ids: readonly string[]): Promise<RecordOf<T>[]> {
    const spec = specOf(type);
    const sql =
      type === "Tag" ? TAGS_BY_ID_SQL : `SELECT ${selectColumns(spec as TableSpec)} FROM ${spec.table} WHERE id IN (SELECT value FROM json_each(?1))`;
    const results = await batch(`get ${type}`, jsonChunks([...new Set(ids)]).map((chunk) => db.prepare(sql).bind(chunk)));
    return results.flat().map((row) => spec.fromRow(row));
  }

  async function tagsWhere(what: string, sql: string, ids: readonly string[]): Promise<TagRecord[]> {
    const results = await batch(what, jsonChunks([...new Set(ids)]).map((chunk) => db.prepare(sql).bind(chunk)));
    return results.flat().map((row) => TAG.fromRow(row));
  }

  const repository: D1Repository = {
    capabilities: { name: "d1", persistent: true },
    db,

    async write(records: readonly AnyRecord[], writeOptions?: WriteOptions) {
      if (records.length === 0) return;
      const tagValues = validateRecords(records);
      const replace = writeOptions?.replaceEvaluations ?? true;
      for (const statements of planWrite(db, records, options.maxBatchStatements, tagValues, options.chunkBytes, replace)) await batch("write", statements);
    },

    async get(type, ids) {
      if (ids.length === 0) return [];
      return getRecords(type, ids);
    },

    async findByPrefix(prefixes: readonly string[], types: readonly RecordType[], limit: number): Promise<RecordRef[][]> {
      const wanted = ALL_TYPES.filter((type) => types.includes(type));
      if (prefixes.length === 0) return [];
      if (limit <= 0 || wanted.length === 0) return prefixes.map(() => []);
      // Every prefix as an id range, bound as one JSON array; one statement per type, in one round trip.
      const ranges = JSON.stringify(prefixes.map((prefix) => (prefix === "" ? ["", AFTER_EVERY_ID] : prefixRange(prefix))));
      const results = await batch<{ i: number; ids: string }>(
        "findByPrefix",
        wanted.map((type) => db.prepare(prefixSql(type)).bind(ranges, limit)),
      );
      const out = prefixes.map((): RecordRef[] => []);
      results.forEach((rows, k) => {
        for (const row of rows) for (const id of JSON.parse(row.ids) as string[]) out[row.i]!.push({ type: wanted[k]!, id });
      });
      return out.map((refs) => refs.sort(compareRefsById).slice(0, limit));
    },

    async query(q: NormalizedQuery): Promise<QueryPage> {
      const arms = buildQueryArms(q, planner);
      const results = await batch<{ id: string; time: number }>(
        "query",
        arms.map((arm) => db.prepare(arm.sql).bind(...arm.params)),
      );
      const rows = results.flatMap((list, i) => list.map((r) => ({ type: arms[i]!.type, id: r.id, time: r.time })));
      return pageOf(rows.sort(compareNewestFirst), q.limit);
    },

    async explain(q: NormalizedQuery): Promise<string[]> {
      const lines: string[] = [];
      const arms = buildQueryArms(q, planner);
      for (const type of new Set(arms.map((arm) => arm.type))) {
        const choiceSql = planChoiceSql(q, type, planner);
        const choice = choiceSql ? (await all<{ choice: number }>("explain", choiceSql.sql, choiceSql.params))[0]?.choice ?? null : null;
        const arm = arms.find((a) => a.type === type && a.choice === choice)!;
        lines.push(`${type}: ${q.idPrefix !== null ? "driven by id prefix" : describeDriver(arm.driver)}`, ...(await queryPlan(arm)));
      }
      return lines;
    },

    async explainQueryContext(q: NormalizedQuery): Promise<string[]> {
      return queryPlan(queryContextSql(q, planner));
    },

    async currentTags(entityIds: readonly string[]): Promise<TagRecord[]> {
      if (entityIds.length === 0) return [];
      // One row per entity, its tags aggregated into one JSON string: a row
      // crossing from D1 costs far more than parsing its share of a string.
      const chunks = jsonChunks([...new Set(entityIds)]);
      let results: D1Result<Row>[];
      try {
        results = await db.batch<Row>(chunks.flatMap((chunk) => [db.prepare(CURRENT_TAGS_SQL).bind(chunk), db.prepare(LONG_TAG_ROWS_SQL).bind(chunk)]));
      } catch {
        // An entity whose tags still exceed D1's 2 MB per string: read row by row (which reports any other failure).
        return (await tagsWhere("currentTags", CURRENT_TAG_ROWS_SQL, entityIds)).sort(byEntityTimeId);
      }
      const packed = results.filter((_, i) => i % 2 === 0).flatMap((r) => (r.results ?? []) as unknown as TagGroup[]);
      const long = results.filter((_, i) => i % 2 === 1).flatMap((r) => (r.results ?? []).map((row) => TAG.fromRow(row)));
      return [...unpackTags(packed), ...long].sort(byEntityTimeId);
    },

    async recordContext(refs: readonly RecordRef[]): Promise<RecordContext> {
      if (refs.length === 0) return { records: [], tags: [] };
      try {
        // One statement, one string (context-sql.ts); refs bound as a JSON array, which D1 takes up to 2 MB.
        const json = JSON.stringify(refs.map((r) => [r.type, r.id]));
        const types = new Set(refs.map((r) => r.type as EntityType));
        const rows = await all<{ context: string }>("recordContext", refsContextSql(types), [json]);
        return await withLarge(JSON.parse(rows[0]!.context) as ContextJson);
      } catch (error) {
        // A context past D1's string limit (large Values): read it in parts.
        if (!isTooBig(error)) throw error;
        return readRecordContext(repository, refs);
      }
    },

    async queryContext(q: NormalizedQuery): Promise<QueryContextPage> {
      let json: ContextJson;
      try {
        const { sql, params } = queryContextSql(q, planner);
        json = JSON.parse((await all<{ context: string }>("query", sql, params))[0]!.context) as ContextJson;
      } catch (error) {
        if (!isTooBig(error)) throw error;
        const page = await repository.query(q);
        return { ...page, context: await readRecordContext(repository, page.refs) };
      }
      const hits = (json.page ?? []).map(([type, id, time]) => ({ type, id, time }));
      return { ...pageOf(hits, q.limit), context: await withLarge(json) };
    },

    async tagChildren(tagIds: readonly string[]): Promise<TagRecord[]> {
      if (tagIds.length === 0) return [];
      const tags = await tagsWhere(
        "tagChildren",
        `SELECT ${selectColumns(TAG, "t.")} FROM json_each(?1) AS i JOIN tag_parents AS tp ON tp.parent_id = i.value ` +
          joinTagById("t", "tp.child_id"),
        tagIds,
      );
      const seen = new Set<string>();
      return tags.filter((t) => !seen.has(t.id) && seen.add(t.id));
    },

    async countTags(query: TagCountQuery): Promise<TagCount[]> {
      // Read from the tag count tables each write keeps (write.ts, migration 0002).
      const keys = query.keys && query.keys.length > 0 ? query.keys : null;
      const where = `WHERE n > 0${keys ? " AND key IN (SELECT value FROM json_each(?1))" : ""}`;
      const params = keys ? [JSON.stringify(keys)] : [];
      if (query.values) {
        const rows = await all<{ key: string; value_json: string; entity_type: string; n: number }>(
          "countTags",
          `SELECT key, value_json, entity_type, n FROM tag_value_counts ${where} ORDER BY key, value_json, entity_type`,
          params,
        );
        return rows.map((r) => ({ key: r.key, value: JSON.parse(r.value_json), entityType: r.entity_type as TagCount["entityType"], count: r.n }));
      }
      const rows = await all<{ key: string; entity_type: string; n: number }>(
        "countTags",
        `SELECT key, entity_type, n FROM tag_key_counts ${where} ORDER BY key, entity_type`,
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

    async jobsOfValues(valueIds: readonly string[], limit: number): Promise<JobRecord[]> {
      if (valueIds.length === 0 || limit <= 0) return [];
      const spec = TABLES.Job;
      // Results through their index; arguments by a scan of call_nodes, instr() sifting rows before their JSON is read.
      const rows = await all(
        "jobsOfValues",
        `SELECT ${selectColumns(spec)} FROM jobs WHERE call_hash IN (
           SELECT id FROM call_nodes WHERE result_hash IN (SELECT value FROM json_each(?1))
           UNION
           SELECT c.id FROM call_nodes c, json_each(?1) v
           WHERE instr(c.args, v.value) > 0
             AND EXISTS (SELECT 1 FROM json_each(c.args) a WHERE json_extract(a.value, '$.valueHash') = v.value)
         ) ORDER BY time DESC, id DESC LIMIT ?2`,
        [JSON.stringify([...new Set(valueIds)]), limit],
      );
      return rows.map((row) => spec.fromRow(row));
    },

    async exportSince(cursor: string | null, limit: number): Promise<ExportPage> {
      const after = cursor === null ? 0 : Number(cursor);
      if (!Number.isSafeInteger(after) || after < 0 || (cursor !== null && !/^\d+$/.test(cursor))) {
        throw new ValidationError("cursor", `malformed export cursor ${quoted(cursor)}`);
      }
      if (limit <= 0) return { records: [], cursor: String(after), done: false };
      // The next limit + 1 changes of each table (one round trip), merged by seq.
      // Values also report their stored size, so a page of large values stays under EXPORT_PAGE_BYTES.
      const seqs = await batch<{ id: string; seq: number; bytes?: number }>(
        "exportSince",
        ALL_TYPES.map((type) => {
          const bytes = type === "Value" ? ", CASE WHEN preview THEN 0 ELSE size END AS bytes" : "";
          return db.prepare(`SELECT id, seq${bytes} FROM ${TABLES[type].table} WHERE seq > ?1 ORDER BY seq LIMIT ?2`).bind(after, limit + 1);
        }),
      );
      const refs = seqs.flatMap((rows, i) => rows.map((r) => ({ type: ALL_TYPES[i]!, seq: r.seq, bytes: r.bytes ?? 0 })));
      refs.sort((a, b) => a.seq - b.seq);
      let take = Math.min(limit, refs.length);
      let bytes = 0;
      for (let i = 0; i < take; i++) {
        bytes += refs[i]!.bytes;
        if (bytes > EXPORT_PAGE_BYTES && i > 0) take = i;
      }
      const page = refs.slice(0, take);
      const last = page[page.length - 1];
      if (!last) return { records: [], cursor: String(after), done: true };
      // Every record with a seq in (after, last.seq] is on this page: read them by seq range, in one round trip.
      // (A record rewritten meanwhile has moved past last.seq and comes in a later page.)
      const types = [...new Set(page.map((r) => r.type))];
      const results = await batch(
        "exportSince",
        types.map((type) => {
          const spec = specOf(type) as TableSpec;
          return db.prepare(`SELECT ${selectColumns(spec)}, seq FROM ${spec.table} WHERE seq > ?1 AND seq <= ?2`).bind(after, last.seq);
        }),
      );
      const rows = results.flatMap((list, i) => list.map((row) => ({ seq: row.seq as number, record: specOf(types[i]!).fromRow(row) as AnyRecord })));
      rows.sort((a, b) => a.seq - b.seq);
      const records = rows.map((r) => r.record);
      return { records, cursor: String(last.seq), done: refs.length === take && refs.length <= limit };
    },
  };
  return repository;
}
