/**
 * The Cloudflare D1 Repository. Schema: adapters/d1/migrations (apply with
 * `wrangler d1 migrations apply`), snapshot in schema.sql, tag bookkeeping
 * invariants in INVARIANTS.md. Every statement is compiled apart from running
 * it (statements.ts, from the row codecs of tables.ts) and run by one
 * executor (executor.ts), which wraps every D1 failure in a RepositoryError
 * whose `cause` is D1's error. Writes go in sets, one D1 batch per write
 * (write.ts); every read is one round trip, a query's plan chosen inside
 * SQLite (query-sql.ts).
 *
 * Reads return whole rows: `get` of many large Values (up to 1 MB each) is the
 * caller's to keep small; `exportSince` bounds its pages (EXPORT_PAGE_BYTES).
 */
import { ENTITY_TYPES, ValidationError, type AnyRecord, type EntityType, type JobRecord, type JsonValue, type RecordOf, type RecordRef, type RecordType, type Repository, type TagCount, type TagRecord } from "../../core/index.ts";
import { quoted, compareNewestFirst, compareRefsById, pageOf, readRecordContext, type ExportPage, type NormalizedQuery, type QueryContextPage, type QueryPage, type RecordContext, type TagCountQuery, type WriteOptions } from "../../core/adapter-kit.ts";
import type { D1Like } from "./d1.ts";
import { createExecutor } from "./executor.ts";
import type { Driver, Planner } from "./query-sql.ts";
import * as sql from "./statements.ts";
import { ALL_TYPES, TABLES, fromValues, specOf, type Row, type TableSpec } from "./tables.ts";

export type { D1Like, D1Result, D1Statement, Statement } from "./d1.ts";
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

const TAG = TABLES.Tag;

/** Tags in (entity_id, time, id) order. */
const byEntityTimeId = (a: TagRecord, b: TagRecord) =>
  a.entityId! < b.entityId! ? -1 : a.entityId! > b.entityId! ? 1 : a.time !== b.time ? a.time - b.time : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/** Tag records of the aggregated rows of sql.currentTags: each a JSON array of its tags' codec columns. */
function unpackTags(groups: readonly { tags: string }[]): TagRecord[] {
  return groups.flatMap((g) => (JSON.parse(g.tags) as unknown[][]).map((values) => fromValues(TAG, values)));
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
      else records.push(fromValues(spec, row) as AnyRecord);
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
  const run = createExecutor(db);

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
  async function queryPlan(statement: sql.Statement): Promise<string[]> {
    const rows = await run.all<{ id: number; parent: number; detail: string }>("explain", sql.explain(statement));
    const depth = new Map<number, number>([[0, 0]]);
    return rows.map((row) => {
      const d = (depth.get(row.parent) ?? 0) + 1;
      depth.set(row.id, d);
      return `${"  ".repeat(d)}${row.detail}`;
    });
  }

  async function getRecords<T extends RecordType>(type: T, ids: readonly string[]): Promise<RecordOf<T>[]> {
    const spec = specOf(type);
    return (await run.batch(`get ${type}`, sql.getRecords(type, ids))).flat().map((row) => spec.fromRow(row));
  }

  const tagRows = async (what: string, statements: sql.Statement[]): Promise<TagRecord[]> =>
    (await run.batch(what, statements)).flat().map((row) => TAG.fromRow(row));

  const repository: D1Repository = {
    capabilities: { name: "d1", persistent: true },
    db,

    async write(records: readonly AnyRecord[], writeOptions?: WriteOptions) {
      if (records.length === 0) return;
      const tagValues = sql.validateRecords(records);
      const replace = writeOptions?.replaceEvaluations ?? true;
      for (const statements of sql.planWrite(records, options.maxBatchStatements, tagValues, options.chunkBytes, replace)) await run.batch("write", statements);
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
      const results = await run.batch<{ i: number; ids: string }>("findByPrefix", sql.findByPrefix(prefixes, wanted, limit));
      const out = prefixes.map((): RecordRef[] => []);
      results.forEach((rows, k) => {
        for (const row of rows) for (const id of JSON.parse(row.ids) as string[]) out[row.i]!.push({ type: wanted[k]!, id });
      });
      return out.map((refs) => refs.sort(compareRefsById).slice(0, limit));
    },

    async query(q: NormalizedQuery): Promise<QueryPage> {
      const arms = sql.buildQueryArms(q, planner);
      const results = await run.batch<{ id: string; time: number }>("query", arms);
      const rows = results.flatMap((list, i) => list.map((r) => ({ type: arms[i]!.type, id: r.id, time: r.time })));
      return pageOf(rows.sort(compareNewestFirst), q.limit);
    },

    async explain(q: NormalizedQuery): Promise<string[]> {
      const lines: string[] = [];
      const arms = sql.buildQueryArms(q, planner);
      for (const type of new Set(arms.map((arm) => arm.type))) {
        const choiceSql = sql.planChoiceSql(q, type, planner);
        const choice = choiceSql ? (await run.all<{ choice: number }>("explain", choiceSql))[0]?.choice ?? null : null;
        const arm = arms.find((a) => a.type === type && a.choice === choice)!;
        lines.push(`${type}: ${q.idPrefix !== null ? "driven by id prefix" : describeDriver(arm.driver)}`, ...(await queryPlan(arm)));
      }
      return lines;
    },

    async explainQueryContext(q: NormalizedQuery): Promise<string[]> {
      return queryPlan(sql.queryContextSql(q, planner));
    },

    async currentTags(entityIds: readonly string[]): Promise<TagRecord[]> {
      if (entityIds.length === 0) return [];
      // One row per entity, its tags aggregated into one JSON string: a row
      // crossing from D1 costs far more than parsing its share of a string.
      let results: Row[][];
      try {
        results = await run.batch("currentTags", sql.currentTags(entityIds));
      } catch {
        // An entity whose tags still exceed D1's 2 MB per string: read row by row (which reports any other failure).
        return (await tagRows("currentTags", sql.currentTagRows(entityIds))).sort(byEntityTimeId);
      }
      const packed = results.filter((_, i) => i % 2 === 0).flat() as unknown as { tags: string }[];
      const long = results.filter((_, i) => i % 2 === 1).flatMap((rows) => rows.map((row) => TAG.fromRow(row)));
      return [...unpackTags(packed), ...long].sort(byEntityTimeId);
    },

    async recordContext(refs: readonly RecordRef[]): Promise<RecordContext> {
      if (refs.length === 0) return { records: [], tags: [] };
      try {
        // One statement, one string (context-sql.ts).
        const rows = await run.all<{ context: string }>("recordContext", sql.recordContext(refs));
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
        json = JSON.parse((await run.all<{ context: string }>("query", sql.queryContextSql(q, planner)))[0]!.context) as ContextJson;
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
      const tags = await tagRows("tagChildren", sql.tagChildren(tagIds));
      const seen = new Set<string>();
      return tags.filter((t) => !seen.has(t.id) && seen.add(t.id));
    },

    async countTags(query: TagCountQuery): Promise<TagCount[]> {
      // Read from the tag count tables each write keeps (write.ts, migration 0002).
      const keys = query.keys && query.keys.length > 0 ? query.keys : null;
      const statement = sql.countTags(query.values, keys);
      if (query.values) {
        const rows = await run.all<{ key: string; value_json: string; entity_type: string; n: number }>("countTags", statement);
        return rows.map((r) => ({ key: r.key, value: JSON.parse(r.value_json), entityType: r.entity_type as TagCount["entityType"], count: r.n }));
      }
      const rows = await run.all<{ key: string; entity_type: string; n: number }>("countTags", statement);
      return rows.map((r) => ({ key: r.key, entityType: r.entity_type as TagCount["entityType"], count: r.n }));
    },

    async jobsOfExecution(executionId: string): Promise<JobRecord[]> {
      return (await run.all("jobsOfExecution", sql.jobsOfExecution(executionId))).map((row) => TABLES.Job.fromRow(row));
    },

    async jobsOfValues(valueIds: readonly string[], limit: number): Promise<JobRecord[]> {
      if (valueIds.length === 0 || limit <= 0) return [];
      return (await run.all("jobsOfValues", sql.jobsOfValues(valueIds, limit))).map((row) => TABLES.Job.fromRow(row));
    },

    async exportSince(cursor: string | null, limit: number): Promise<ExportPage> {
      const after = cursor === null ? 0 : Number(cursor);
      if (!Number.isSafeInteger(after) || after < 0 || (cursor !== null && !/^\d+$/.test(cursor))) {
        throw new ValidationError("cursor", `malformed export cursor ${quoted(cursor)}`);
      }
      if (limit <= 0) return { records: [], cursor: String(after), done: false };
      // The next limit + 1 changes of each table (one round trip), merged by seq.
      // Values also report their stored size, so a page of large values stays under EXPORT_PAGE_BYTES.
      const seqs = await run.batch<{ id: string; seq: number; bytes?: number }>("exportSince", sql.exportSeqs(after, limit + 1));
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
      const results = await run.batch("exportSince", types.map((type) => sql.exportRows(type, after, last.seq)));
      // A row that cannot be read back (corrupt JSON in a column) is left out and reported, so it cannot stop
      // every later export at this page.
      const rows: { seq: number; record: AnyRecord }[] = [];
      const skipped: NonNullable<ExportPage["skipped"]> = [];
      results.forEach((list, i) => {
        const type = types[i]!;
        for (const row of list) {
          try {
            rows.push({ seq: row.seq as number, record: specOf(type).fromRow(row) as AnyRecord });
          } catch (error) {
            skipped.push({ type, id: String(row.id), error: `unreadable ${type} row: ${error instanceof Error ? error.message : String(error)}` });
          }
        }
      });
      rows.sort((a, b) => a.seq - b.seq);
      const records = rows.map((r) => r.record);
      return { records, cursor: String(last.seq), done: refs.length === take && refs.length <= limit, ...(skipped.length ? { skipped } : {}) };
    },
  };
  return repository;
}
