/**
 * Every statement the D1 Repository sends, compiled to `{ sql, params }`
 * without a database: the reads here, the writes from write.ts, a query's
 * statements from query-sql.ts and the one-statement contexts from
 * context-sql.ts. index.ts holds no SQL: it calls these and hands the result
 * to the executor (executor.ts). Column lists and row decoding come from the
 * row codecs (tables.ts).
 *
 * Ids and other lists are bound as one JSON array parameter each
 * (`json_each(?1)`), split by size (CHUNK_BYTES) into several statements of
 * one batch, so no statement comes near D1's 100 bound parameters.
 */
import type { EntityType, RecordType } from "../../core/index.ts";
import { INLINE_VALUE_CHARS, refsContextSql } from "./context-sql.ts";
import { prefixRange } from "./query-sql.ts";
import { ALL_TYPES, TABLES, anyEntityTimeSql, cachedSql, joinTagById, selectColumns, specOf, tagIdsInRange, type TableSpec } from "./tables.ts";
import { CHUNK_BYTES, jsonArrays } from "./write.ts";

import type { Statement } from "./d1.ts";

export type { Statement } from "./d1.ts";
export type { Row } from "./tables.ts";
export { queryContextSql } from "./context-sql.ts";
export { buildQueryArms, planChoiceSql } from "./query-sql.ts";
export { planWrite, validateRecords } from "./write.ts";


/** Distinct strings as JSON arrays of at most CHUNK_BYTES each, one per statement, for `json_each(?1)`. */
function jsonChunks(values: readonly string[]): string[] {
  const out: string[] = [];
  const chunks = jsonArrays(CHUNK_BYTES, (json) => out.push(json));
  for (const v of new Set(values)) chunks.add(JSON.stringify(v));
  chunks.flush();
  return out;
}

/** One statement per chunk of `ids`, each binding its chunk as ?1. */
const perChunk = (sql: string, ids: readonly string[]): Statement[] => jsonChunks(ids).map((chunk) => ({ sql, params: [chunk] }));

const TAG = TABLES.Tag;

// ---- records by id -----------------------------------------------------------

/** Tags by id (?1, a JSON array), through tag_ids (migration 0005). */
const TAGS_BY_ID_SQL = `SELECT ${selectColumns(TAG, "t.")} FROM json_each(?1) AS i ${joinTagById("t", "i.value")}`;

/** Records of one type by id, whole rows (codec columns). */
export function getRecords(type: RecordType, ids: readonly string[]): Statement[] {
  const spec = specOf(type) as TableSpec;
  const sql = type === "Tag" ? TAGS_BY_ID_SQL : cachedSql(`get:${type}`, () => `SELECT ${selectColumns(spec)} FROM ${spec.table} WHERE id IN (SELECT value FROM json_each(?1))`);
  return perChunk(sql, ids);
}

/** Tags naming one of the tag ids as a parent (a tag naming two of them comes twice). */
export const tagChildren = (tagIds: readonly string[]): Statement[] =>
  perChunk(`SELECT ${selectColumns(TAG, "t.")} FROM json_each(?1) AS i JOIN tag_parents AS tp ON tp.parent_id = i.value ${joinTagById("t", "tp.child_id")}`, tagIds);

// ---- id prefixes -------------------------------------------------------------

/** Upper end of the id range of the empty prefix: above every id (ids are ASCII). */
const AFTER_EVERY_ID = "\u{10FFFF}";

/**
 * Per id range `[lo, hi]` of the JSON array ?1 (its index `i`): the first ?2
 * ids of one type's table in the range, as a JSON array, each range one index
 * range scan (tags through tag_ids, migration 0005). One statement per type.
 */
export function findByPrefix(prefixes: readonly string[], types: readonly RecordType[], limit: number): Statement[] {
  const ranges = JSON.stringify(prefixes.map((prefix) => (prefix === "" ? ["", AFTER_EVERY_ID] : prefixRange(prefix))));
  return types.map((type) => ({ sql: prefixSql(type), params: [ranges, limit] }));
}

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

// ---- current tags ------------------------------------------------------------

/**
 * Tags are indexed by (entity_time, entity_id, ...) (migration 0003): `k`
 * gives each entity id bound as a JSON array (?1) its time, NULL when the
 * entity is not stored (its tags are then stored with a NULL time too).
 */
const ENTITY_KEYS = `WITH k(time, id) AS (SELECT ${anyEntityTimeSql("i.value")}, i.value FROM json_each(?1) AS i) `;
const CURRENT_OF_KEYS = "FROM k JOIN tags AS t ON t.entity_time IS k.time AND t.entity_id = k.id WHERE t.current = 1";

/** Current tags of some entities, row by row. */
const CURRENT_TAG_ROWS_SQL = `${ENTITY_KEYS}SELECT ${selectColumns(TAG, "t.")} ${CURRENT_OF_KEYS}`;

/**
 * Current tags of some entities with values of at most INLINE_VALUE_CHARS,
 * one row per entity: `tags`, a JSON array of its tags' codec columns. An
 * aggregate is one string, which D1 refuses past 2 MB (and the local D1 may
 * run out of memory building, past ~15 MB): longer values come as rows
 * (LONG_TAG_ROWS_SQL), and should an aggregate still be refused, the read
 * falls back to currentTagRows.
 */
const CURRENT_TAGS_SQL =
  `${ENTITY_KEYS}SELECT json_group_array(json_array(${selectColumns(TAG, "t.")})) AS tags ` +
  `${CURRENT_OF_KEYS} AND length(t.value_json) <= ${INLINE_VALUE_CHARS} GROUP BY t.entity_id`;
const LONG_TAG_ROWS_SQL = `${CURRENT_TAG_ROWS_SQL} AND length(t.value_json) > ${INLINE_VALUE_CHARS}`;

/** Per chunk of entity ids, two statements: the aggregated short tags (rows of `tags`), then the long ones as rows. */
export const currentTags = (entityIds: readonly string[]): Statement[] =>
  jsonChunks(entityIds).flatMap((chunk) => [
    { sql: CURRENT_TAGS_SQL, params: [chunk] },
    { sql: LONG_TAG_ROWS_SQL, params: [chunk] },
  ]);

/** Current tags of some entities, every one as a row: when D1 refuses an aggregate. */
export const currentTagRows = (entityIds: readonly string[]): Statement[] => perChunk(CURRENT_TAG_ROWS_SQL, entityIds);

// ---- counts and jobs ---------------------------------------------------------

/** Tag counts by key and entity type, or by key, value and entity type, from the count tables each write keeps. */
export function countTags(values: boolean, keys: readonly string[] | null): Statement {
  const where = `WHERE n > 0${keys ? " AND key IN (SELECT value FROM json_each(?1))" : ""}`;
  const sql = values
    ? `SELECT key, value_json, entity_type, n FROM tag_value_counts ${where} ORDER BY key, value_json, entity_type`
    : `SELECT key, entity_type, n FROM tag_key_counts ${where} ORDER BY key, entity_type`;
  return { sql, params: keys ? [JSON.stringify(keys)] : [] };
}

const JOB_COLUMNS = selectColumns(TABLES.Job);

export const jobsOfExecution = (executionId: string): Statement => ({
  sql: `SELECT ${JOB_COLUMNS} FROM jobs WHERE execution_id = ?1 ORDER BY start_time, id`,
  params: [executionId],
});

/** Jobs whose call has one of the values as its result (through its index) or an argument (a scan of call_nodes, instr() sifting rows before their JSON is read). */
export const jobsOfValues = (valueIds: readonly string[], limit: number): Statement => ({
  sql: `SELECT ${JOB_COLUMNS} FROM jobs WHERE call_hash IN (
           SELECT id FROM call_nodes WHERE result_hash IN (SELECT value FROM json_each(?1))
           UNION
           SELECT c.id FROM call_nodes c, json_each(?1) v
           WHERE instr(c.args, v.value) > 0
             AND EXISTS (SELECT 1 FROM json_each(c.args) a WHERE json_extract(a.value, '$.valueHash') = v.value)
         ) ORDER BY time DESC, id DESC LIMIT ?2`,
  params: [JSON.stringify([...new Set(valueIds)]), limit],
});

// ---- export ------------------------------------------------------------------

/**
 * Per table, the next ?2 changes after seq ?1 (id, seq; Values also their
 * stored size as `bytes`, so a page of large values can stop early).
 */
export const exportSeqs = (after: number, limit: number): Statement[] =>
  ALL_TYPES.map((type) => ({
    sql: cachedSql(`seqs:${type}`, () => {
      const bytes = type === "Value" ? ", CASE WHEN preview THEN 0 ELSE size END AS bytes" : "";
      return `SELECT id, seq${bytes} FROM ${TABLES[type].table} WHERE seq > ?1 ORDER BY seq LIMIT ?2`;
    }),
    params: [after, limit],
  }));

/** Whole rows (codec columns and seq) of one type's records with a seq in (?1, ?2]. */
export const exportRows = (type: RecordType, after: number, last: number): Statement => ({
  sql: cachedSql(`export:${type}`, () => {
    const spec = specOf(type) as TableSpec;
    return `SELECT ${selectColumns(spec)}, seq FROM ${spec.table} WHERE seq > ?1 AND seq <= ?2`;
  }),
  params: [after, last],
});

// ---- contexts and plans --------------------------------------------------------

/** The context of refs (context-sql.ts) in one statement, the refs bound as one JSON array (D1 takes up to 2 MB). */
export function recordContext(refs: readonly { type: RecordType; id: string }[]): Statement {
  const types = new Set(refs.map((r) => r.type as EntityType));
  return { sql: refsContextSql(types), params: [JSON.stringify(refs.map((r) => [r.type, r.id]))] };
}

/** SQLite's plan of a statement: rows of (id, parent, detail). */
export const explain = (statement: Statement): Statement => ({ sql: `EXPLAIN QUERY PLAN ${statement.sql}`, params: statement.params });
