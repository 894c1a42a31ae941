/**
 * Writes in sets: each record type goes in as a few `INSERT ... SELECT ...
 * FROM jsonb_each(?)` statements, the rows bound as one JSON array parameter,
 * and the whole write runs as one `db.batch`, which D1 runs as a single
 * transaction (all or nothing). `jsonb_each` hands each row over as parsed
 * JSONB, so reading its columns (`j.value ->> n`) does not parse the row's
 * text again per column as `json_each` does.
 *
 * D1 limits that shape this (checked in workerd, see test/d1):
 * - 100 KB of SQL text and 100 bound parameters per statement: our statements
 *   are short and bind one parameter;
 * - 2 MB per string, blob or row: a bound parameter may be up to that; we
 *   keep each JSON array under CHUNK_BYTES (fewer, larger statements cost
 *   less: each statement re-journals the pages it changes), and a Value too
 *   large for a chunk gets a statement of its own that binds its encoding
 *   directly (no JSON escaping), so a value of MAX_VALUE_BYTES characters
 *   fits when its UTF-8 encoding is under 2 MB;
 * - queries per Worker invocation (1000 on paid plans): a write needs about
 *   one to three statements per CHUNK_BYTES of records, so a single batch
 *   holds hundreds of MB. Past MAX_BATCH_STATEMENTS the write is split into several
 *   batches, each atomic on its own; the whole write is validated first (a
 *   malformed record fails before anything is written) and every statement is
 *   idempotent, so a write cut short can simply be retried.
 */
import { RepositoryError, type AnyRecord, type RecordType, type TagRecord } from "../../core/index.ts";
import { assertWritable, canonicalJson, utf8Length } from "../../core/adapter-kit.ts";
import type { Statement } from "./d1.ts";
import { TABLES, cachedSql, entityTimeSql, joinTagById, specOf, type TableSpec } from "./tables.ts";

/** Target size of one JSON array parameter (UTF-8 bytes): well under D1's 2 MB per string. */
export const CHUNK_BYTES = 400_000;
/** Statements per D1 batch before a write is split (see the header). */
export const MAX_BATCH_STATEMENTS = 500;

/** The write sequence before this batch's final bump; offsets are added to it. */
const SEQ_BASE = "(SELECT value FROM counters WHERE name = 'seq')";

/**
 * Order in which types are written. Any order is correct (tags handle both
 * orders), but entities before their tags lets a tag read its entity's time
 * as it goes in, instead of a trigger moving it afterwards (migration 0003).
 */
const WRITE_ORDER: readonly RecordType[] = ["Value", "Task", "CallNode", "Evaluation", "Job", "Execution", "Tag"];

function conflictClause(spec: TableSpec, replaceEvaluations: boolean): string {
  if (spec.merge === "insert-only" || (spec.merge === "last-write-wins" && !replaceEvaluations)) return "ON CONFLICT (id) DO NOTHING";
  const t = spec.table;
  if (spec.merge === "whole-over-preview") {
    const set = spec.columns.filter((c) => c !== "id" && c !== "time").map((c) => `${c} = excluded.${c}`);
    return `ON CONFLICT (id) DO UPDATE SET ${set.join(", ")}, seq = excluded.seq WHERE ${t}.preview = 1 AND excluded.preview = 0`;
  }
  const set = spec.columns.filter((c) => c !== "id").map((c) => `${c} = excluded.${c}`);
  const changed = `(${spec.columns.map((c) => `${t}.${c}`).join(", ")}) IS NOT (${spec.columns.map((c) => `excluded.${c}`).join(", ")})`;
  const guard = spec.merge === "unless-finished" ? `NOT (excluded.status = 'RUNNING' AND ${t}.status <> 'RUNNING') AND ` : "";
  return `ON CONFLICT (id) DO UPDATE SET ${set.join(", ")}, seq = excluded.seq WHERE ${guard}${changed}`;
}

/** `j.value ->> n` (`->` for a JSON column): column `column` at position `n` of a row array. */
const rowColumn = (spec: TableSpec, column: string, n: number) => `j.value ${spec.jsonColumns.has(column) ? "->" : "->>"} ${n}`;

/** INSERT of a JSON array of rows `[seqOffset, ...columns]` bound as ?1 (all types but tags: TAG_INSERT_SQL). */
function insertSql(spec: TableSpec, replaceEvaluations: boolean): string {
  return cachedSql(`insert:${spec.type}:${replaceEvaluations}`, () => {
    const exprs = spec.columns.map((c, i) => rowColumn(spec, c, i + 1));
    return (
      `INSERT INTO ${spec.table} (${[...spec.columns, "seq"].join(", ")}) ` +
      `SELECT ${[...exprs, `${SEQ_BASE} + (j.value ->> 0)`].join(", ")} ` +
      `FROM jsonb_each(?1) AS j WHERE true ${conflictClause(spec, replaceEvaluations)}`
    );
  });
}

const TAG = TABLES.Tag as TableSpec;

/** The columns a tag group names once: its entity. */
const TAG_GROUP_COLUMNS = ["entity_type", "entity_id"];
/** Positions in the Tag codec's `values` of the columns each tag of a group carries, after its seqOffset. */
const TAG_ROW_INDEXES = TAG.columns.flatMap((c, i) => (TAG_GROUP_COLUMNS.includes(c) ? [] : [i]));
/** Where column `c` is in a tag's row array (after its seqOffset). */
const tagRowPosition = (c: string) => 1 + TAG_ROW_INDEXES.indexOf(TAG.columns.indexOf(c));
/** Column `c` of a tag's row array `j.value` (SQL). */
const tagRowColumn = (c: string) => rowColumn(TAG, c, tagRowPosition(c));

/**
 * Tags go in grouped by entity, `[entity_type, entity_id, [[seqOffset,
 * ...the Tag codec's other columns], ...]]`, so the entity's time is looked up
 * once per entity, not once per tag. The materialized CTE keeps SQLite from evaluating the look-up per
 * tag, and holds each group's tags as JSONB so they are not parsed again.
 */
const TAG_GROUPS =
  "WITH e AS MATERIALIZED (SELECT e.value ->> 0 AS type, e.value ->> 1 AS id, " +
  `${entityTimeSql("e.value ->> 0", "e.value ->> 1")} AS time, jsonb_extract(e.value, '$[2]') AS tags FROM jsonb_each(?1) AS e) `;

/**
 * Each tag takes its entity's time when the entity is stored (NULL until
 * then, see migration 0003) and is current unless a stored edge names it as a
 * parent. A tag already stored hits a unique index and is skipped.
 */
const TAG_INSERT_SQL =
  `${TAG_GROUPS}INSERT INTO tags (${TAG.columns.join(", ")}, entity_time, current, seq) ` +
  `SELECT ${TAG.columns.map((c) => (c === "entity_type" ? "e.type" : c === "entity_id" ? "e.id" : c === "value_text" ? `coalesce(${tagRowColumn(c)}, '')` : tagRowColumn(c))).join(", ")}, e.time, ` +
  `NOT EXISTS (SELECT 1 FROM tag_parents AS tp WHERE tp.parent_id = ${tagRowColumn("id")}), ` +
  `${SEQ_BASE} + (j.value ->> 0) FROM e, jsonb_each(e.tags) AS j WHERE true ON CONFLICT DO NOTHING`;

/** Each tag of the chunk (j) with each of its parents (p). */
const TAG_PARENTS_OF_CHUNK = `jsonb_each(?1) AS e, jsonb_each(e.value, '$[2]') AS j, json_each(j.value, '$[${tagRowPosition("parents")}]') AS p`;

/** Tag edges first, so a tag whose child is in the same chunk is inserted as not current. */
const TAG_EDGES_SQL =
  `INSERT INTO tag_parents (parent_id, child_id) SELECT p.value, ${tagRowColumn("id")} FROM ${TAG_PARENTS_OF_CHUNK} WHERE true ` +
  "ON CONFLICT DO NOTHING";

/**
 * Parents stored by earlier batches stop being current (found through
 * tag_ids; a parent written earlier in this batch is not there yet, see
 * BATCH_UNCURRENT_SQL). Run before the chunk's insert: a stored tag pushed
 * again together with its child then computes the same `current` as its
 * stored row, which the unique index needs to skip it.
 */
const TAG_UNCURRENT_SQL =
  `UPDATE tags SET current = 0 WHERE current = 1 AND rowid IN (SELECT t.rowid FROM ${TAG_PARENTS_OF_CHUNK} ` +
  `${joinTagById("t", "p.value")})`;

/**
 * The batch's own tags that a tag written later in the batch names as a
 * parent stop being current (an earlier child's edge already made them go in
 * as not current). Run at the batch's end when some tag of it has parents:
 * its rows are a rowid range, each probed in tag_parents.
 */
const BATCH_UNCURRENT_SQL =
  `UPDATE tags SET current = 0 WHERE seq > ${SEQ_BASE} AND current = 1 ` +
  "AND EXISTS (SELECT 1 FROM tag_parents AS tp WHERE tp.parent_id = tags.id)";

/**
 * The batch's tags enter the tag indexes that take random inserts (migration
 * 0005) in one sorted pass each, so each of their pages is visited once:
 * tag_kv holds the current tags of stored entities, tag_ids every tag.
 */
const TAG_INDEX_SQL = [
  "INSERT INTO tag_kv (key, value_json, entity_type, entity_time, entity_id, seq) " +
    `SELECT key, value_json, entity_type, entity_time, entity_id, seq FROM tags WHERE seq > ${SEQ_BASE} AND current = 1 ` +
    "AND entity_time IS NOT NULL AND entity_id IS NOT NULL AND entity_type IS NOT NULL ORDER BY 1, 2, 3, 4, 5, 6",
  `INSERT INTO tag_ids (prefix, seq) SELECT substr(id, 1, 8), seq FROM tags WHERE seq > ${SEQ_BASE} ORDER BY 1, 2`,
];

/** A Value too large for a chunk: its columns bound one by one, then its seqOffset. */
const VALUE = TABLES.Value as TableSpec;
const VALUE_ALONE_SQL =
  `INSERT INTO ${VALUE.table} (${VALUE.columns.join(", ")}, seq) ` +
  `VALUES (${VALUE.columns.map((_, i) => `?${i + 1}`).join(", ")}, ${SEQ_BASE} + ?${VALUE.columns.length + 1}) ${conflictClause(VALUE, true)}`;

const BUMP_SQL = "UPDATE counters SET value = value + ?1 WHERE name = 'seq'";

/**
 * The batch's new current tags, for the count tables (migration 0002): every
 * tag row with a seq past the counter was inserted by this batch; seq is the
 * rowid (migration 0003), so this reads a rowid range.
 */
const NEW_TAGS =
  `FROM tags WHERE seq > ${SEQ_BASE} AND current = 1 AND entity_id IS NOT NULL AND entity_type IS NOT NULL`;

/** Count the batch's new current tags by key and value and by key (run before the bump). */
const COUNT_SQL = [
  `INSERT INTO tag_value_counts (key, value_json, entity_type, n) SELECT key, value_json, entity_type, count(*) ${NEW_TAGS} ` +
    "GROUP BY key, value_json, entity_type ON CONFLICT (key, value_json, entity_type) DO UPDATE SET n = n + excluded.n",
  `INSERT INTO tag_key_counts (key, entity_type, n) SELECT key, entity_type, count(*) ${NEW_TAGS} ` +
    "GROUP BY key, entity_type ON CONFLICT (key, entity_type) DO UPDATE SET n = n + excluded.n",
];

/** A tag chunk's statements; `withParents`: whether some tag of it has parents (else it has no edges to record and no tag to replace). */
function tagStatements(json: string, withParents: boolean): Statement[] {
  const sqls = withParents ? [TAG_EDGES_SQL, TAG_UNCURRENT_SQL, TAG_INSERT_SQL] : [TAG_INSERT_SQL];
  return sqls.map((sql) => ({ sql, params: [json] }));
}

type Listed = { offset: number; record: AnyRecord };

/**
 * Gathers JSON texts into JSON arrays of at most `limit` UTF-8 bytes (a text
 * larger than that alone gets an array of its own), each handed to `emit`
 * with whether any of its texts was flagged. The writes' chunks and the reads'
 * id lists (statements.ts) are built with it.
 */
export function jsonArrays(limit: number, emit: (json: string, flagged: boolean) => void) {
  let parts: string[] = [];
  let bytes = 2;
  let flagged = false;
  const flush = () => {
    if (parts.length > 0) emit(`[${parts.join(",")}]`, flagged);
    parts = [];
    bytes = 2;
    flagged = false;
  };
  /** Add a text; `size`, its UTF-8 length plus a comma, when the caller has it already. */
  const add = (text: string, flag = false, size = utf8Length(text) + 1) => {
    if (parts.length > 0 && bytes + size > limit) flush();
    parts.push(text);
    bytes += size;
    if (flag) flagged = true;
  };
  return { add, flush };
}

/**
 * A write's tags as chunks of entity groups (TAG_INSERT_SQL), each chunk
 * under `chunkBytes` unless one tag alone is larger. A group is a run of
 * adjacent tags of one entity (a push lists an entity's tags together; an
 * entity whose tags lie apart gets a group per run, each looking its time
 * up), encoded by one JSON.stringify: a Map and a stringify call per tag
 * would be a large part of a big push's time.
 * A group larger than a chunk goes in tag by tag. Emitted flagged when some
 * tag of the chunk has parents.
 */
function tagChunks(
  list: readonly Listed[],
  tagValues: ReadonlyMap<number, string>,
  chunkBytes: number,
  emit: (json: string, withParents: boolean) => void,
): void {
  const chunks = jsonArrays(chunkBytes, emit);
  const rowOf = ({ offset, record }: Listed) => {
    const values = TAG.values(record, tagValues.get(offset - 1));
    const row = [offset, ...TAG_ROW_INDEXES.map((i) => values[i])];
    // The last column, value_text, is mostly '': left off, read back as '' (TAG_INSERT_SQL), 3 bytes less per tag.
    if (row[row.length - 1] === "") row.pop();
    return row;
  };
  const hasParents = (item: Listed) => (item.record as TagRecord).parents.length > 0;
  for (let start = 0; start < list.length; ) {
    const first = list[start]!.record as TagRecord;
    let end = start + 1;
    while (end < list.length) {
      const tag = list[end]!.record as TagRecord;
      if (tag.entityId !== first.entityId || tag.entityType !== first.entityType) break;
      end++;
    }
    const run = list.slice(start, end);
    const group = JSON.stringify([first.entityType, first.entityId, run.map(rowOf)]);
    const size = utf8Length(group) + 1;
    if (size <= chunkBytes || run.length === 1) chunks.add(group, run.some(hasParents), size);
    else for (const item of run) chunks.add(JSON.stringify([first.entityType, first.entityId, [rowOf(item)]]), hasParents(item));
    start = end;
  }
  chunks.flush();
}

/** A tag's own fields; one with no others is checked by its value and parents alone. */
const TAG_FIELDS = 8;

/**
 * Check every record before anything is written; a bad one fails the whole
 * write. Returns the canonical JSON of each tag's value (by index), which the
 * write stores, so it is computed once.
 */
export function validateRecords(records: readonly AnyRecord[]): Map<number, string> {
  assertWritable(records);
  const tagValues = new Map<number, string>();
  records.forEach((r, i) => {
    try {
      // Tag values and job tags must be encodable: D1 stores their canonical JSON.
      if (r.type === "Tag") {
        // The shape check leaves only value and parents able to fail encoding (the rest are strings,
        // finite numbers or null), unless the record carries fields of its own: then encode it whole.
        // (Parents first: the whole record's encoding, keys sorted, meets them before the value.)
        if (Object.keys(r).length === TAG_FIELDS) canonicalJson(r.parents);
        else canonicalJson(r);
        tagValues.set(i, canonicalJson(r.value));
      } else if (r.type === "Evaluation") canonicalJson(r);
    } catch (cause) {
      throw new RepositoryError(`write refused: records[${i}]: ${(cause as Error).message}`, { cause });
    }
  });
  return tagValues;
}

/**
 * The D1 batches of one write: per type, rows chunked into JSON arrays; a
 * batch that wrote tags ends by settling their currency, putting them into
 * tag_kv and tag_ids in sorted passes and counting them, and every batch by
 * advancing the write sequence past every offset it used.
 */
export function planWrite(
  records: readonly AnyRecord[],
  maxStatements = MAX_BATCH_STATEMENTS,
  tagValues: ReadonlyMap<number, string> = new Map(),
  chunkBytes = CHUNK_BYTES,
  replaceEvaluations = true,
): Statement[][] {
  const byType = new Map<RecordType, Listed[]>();
  // A tag listed twice goes in once: within a batch its second copy could compute another `current`
  // (BATCH_UNCURRENT_SQL settles the batch's own parents only at its end) and escape the unique index.
  const tagIds = new Set<string>();
  records.forEach((record, i) => {
    if (record.type === "Tag") {
      if (tagIds.has(record.id)) return;
      tagIds.add(record.id);
    }
    let list = byType.get(record.type);
    if (!list) byType.set(record.type, (list = []));
    list.push({ offset: i + 1, record });
  });

  // Statements that belong together (a tag chunk's edges, replacements and insert); batches split between them.
  const units: Unit[] = [];
  for (const type of WRITE_ORDER) {
    const list = byType.get(type);
    if (!list) continue;
    const spec = specOf(type) as TableSpec;
    if (type === "Tag") {
      tagChunks(list, tagValues, chunkBytes, (json, withParents) =>
        units.push({ statements: tagStatements(json, withParents), tags: withParents ? "parents" : "plain" }),
      );
      continue;
    }
    const chunks = jsonArrays(chunkBytes, (json) => units.push({ statements: [{ sql: insertSql(spec, replaceEvaluations), params: [json] }] }));
    for (const { offset, record } of list) {
      const values = spec.values(record as never);
      const row = JSON.stringify([offset, ...values]);
      const size = utf8Length(row) + 1;
      if (size > chunkBytes && record.type === "Value") {
        // Too large for a chunk: its columns bound one by one (a row of another type gets a chunk of its own).
        chunks.flush();
        units.push({ statements: [{ sql: VALUE_ALONE_SQL, params: [...values, offset] }] });
      } else chunks.add(row, false, size);
    }
    chunks.flush();
  }

  // A batch that wrote tags settles their currency, indexes and counts them; every batch ends by advancing
  // the sequence.
  const end = (batchUnits: readonly Unit[]) => {
    const tail: Statement[] = [];
    if (batchUnits.some((u) => u.tags === "parents")) tail.push({ sql: BATCH_UNCURRENT_SQL, params: [] });
    if (batchUnits.some((u) => u.tags)) tail.push(...[...TAG_INDEX_SQL, ...COUNT_SQL].map((sql) => ({ sql, params: [] })));
    tail.push({ sql: BUMP_SQL, params: [records.length] });
    return tail;
  };
  const batches: Statement[][] = [];
  let batch: Unit[] = [];
  let size = 0;
  const close = () => {
    batches.push([...batch.flatMap((u) => u.statements), ...end(batch)]);
    batch = [];
    size = 0;
  };
  for (const unit of units) {
    if (batch.length > 0 && size + unit.statements.length > maxStatements) close();
    batch.push(unit);
    size += unit.statements.length;
  }
  if (batch.length > 0) close();
  return batches;
}

/** Statements that go in one batch together; `tags`: a tag chunk's, and whether some tag of it has parents. */
interface Unit {
  statements: Statement[];
  tags?: "plain" | "parents";
}
