/**
 * A page and its RecordContext (see core/repository.ts) as ONE statement
 * answering ONE JSON string. A D1 call has a fixed cost in workerd before SQLite
 * reads anything, and a row returned costs more than its share of a string;
 * so the query's arms (query-sql.ts) become scalar subqueries merged into a
 * `page` CTE, and every record the page names is selected by a join from
 * `page`, inside SQLite. (Measured by interleaved A/B runs in workerd; the
 * figures are in BENCHMARKS.md.)
 *
 * The answer is one string, which D1 refuses past 2 MB: long values, tag
 * values and task sources are left out and read apart (see INLINE_*), and
 * should the rest still pass the limit, the caller falls back to several
 * reads.
 */
import { ENTITY_TYPES, type EntityType } from "../../core/index.ts";
import { type NormalizedQuery } from "../../core/adapter-kit.ts";
import { Params, buildQueryArms, queryTypes, type Planner } from "./query-sql.ts";
import type { Statement } from "./d1.ts";
import { cachedSql, entityTimeSql, selectColumns, specOf, type TableSpec } from "./tables.ts";

/** Columns of a type's table, as `alias.column`. */
const columns = (type: EntityType, alias: string) => selectColumns(specOf(type) as TableSpec, `${alias}.`);

/**
 * Values, tag values and task sources longer than these many characters are
 * not inlined (the answer is one string; production D1 refuses one past 2 MB
 * and the local D1 runs out of memory building one of tens of MB): the ids of
 * those records, or of the entities with such tags, come back instead, for
 * the caller to read separately.
 */
export const INLINE_VALUE_CHARS = 4_096;
export const INLINE_SOURCE_CHARS = 16_384;

/** Columns that may be too long to inline, by type. */
const LONG: Partial<Record<EntityType, { column: string; max: number }>> = {
  Task: { column: "source", max: INLINE_SOURCE_CHARS },
  Value: { column: "encoded", max: INLINE_VALUE_CHARS },
};

/**
 * The rows of some sources as a JSON array of positional arrays of the type's
 * columns, or an empty array when there are none. A source is a FROM clause
 * naming the type's rows `out`; several are joined with UNION ALL. A row
 * whose long column is too long comes as [id, null] (read later by id).
 */
function rowsOf(type: EntityType, sources: (string | false)[]): string {
  const list = sources.filter((x): x is string => x !== false);
  if (list.length === 0) return "'[]'";
  const long = LONG[type];
  const row = long
    ? `CASE WHEN length(out.${long.column}) <= ${long.max} THEN json_array(${columns(type, "out")}) ELSE json_array(out.id, NULL) END`
    : `json_array(${columns(type, "out")})`;
  const from = list.length === 1 ? list[0] : `(${list.map((source) => `SELECT ${columns(type, "out")} FROM ${source}`).join(" UNION ALL ")}) AS out`;
  return `(SELECT json_group_array(${row}) FROM ${from})`;
}

/**
 * The context over `page`. Every temporary b-tree (a materialized CTE, a
 * UNION's or DISTINCT's dedupe) cost a few tenths of a ms in workerd even when
 * empty, so only what several parts read is materialized — the jobs on the
 * page (pj), the root jobs of its executions (rj) and the call nodes of its
 * jobs (pjc) — lists are joined with UNION ALL, and duplicates are dropped
 * when decoding (but tasks, which a page's jobs mostly share and whose
 * sources may be long, are sent once each). A query's page carries each
 * record's rowid, so its own rows are read straight from their tables, not
 * through the id index. The SQL is kept short: workerd prepares a statement
 * anew on every call.
 */
function contextSelect(queryPage: boolean, types: ReadonlySet<EntityType>): string {
  // A query's page carries rowids and is returned; refs come with ids alone.
  const on = (alias: string) => (queryPage ? `${alias}.rowid = p.rid` : `${alias}.id = p.id`);
  const onPage = (type: EntityType, table: string) => `page AS p JOIN ${table} AS out ON ${on("out")} WHERE p.type = '${type}'`;
  // Only what the page's types can name: a page of executions reads their root jobs and tasks, no more.
  const has = (type: EntityType) => types.has(type);
  const ctes = [
    ...(has("Job") ? [`pj AS MATERIALIZED (SELECT ${columns("Job", "r")} FROM page AS p JOIN jobs AS r ON ${on("r")} WHERE p.type = 'Job')`] : []),
    ...(has("Execution")
      ? [`rj AS MATERIALIZED (SELECT ${columns("Job", "r")} FROM page AS p JOIN executions AS e ON ${on("e")} JOIN jobs AS r ON r.id = e.root_job_id WHERE p.type = 'Execution')`]
      : []),
    ...(has("Job") ? [`pjc AS MATERIALIZED (SELECT ${columns("CallNode", "r")} FROM pj JOIN call_nodes AS r ON r.id = pj.call_hash)`] : []),
  ];
  const taskIds = [
    has("Job") && "SELECT task_hash AS id FROM pj",
    has("Execution") && "SELECT task_hash AS id FROM rj",
    has("Job") && "SELECT task_hash AS id FROM pjc",
    has("CallNode") && `SELECT c.task_hash AS id FROM page AS p JOIN call_nodes AS c ON ${on("c")} WHERE p.type = 'CallNode'`,
  ].filter((x): x is string => x !== false);
  const parts: Record<EntityType, string> = {
    Execution: rowsOf("Execution", [has("Execution") && onPage("Execution", "executions")]),
    Job: rowsOf("Job", [has("Job") && "pj AS out", has("Execution") && "rj AS out"]),
    CallNode: rowsOf("CallNode", [has("Job") && "pjc AS out", has("CallNode") && onPage("CallNode", "call_nodes")]),
    // A page's jobs mostly share a few tasks, whose sources may be long: each task once (UNION dedupes).
    Task: rowsOf("Task", [
      taskIds.length > 0 &&
        `(${taskIds.length === 1 ? `SELECT DISTINCT id FROM (${taskIds[0]})` : taskIds.join(" UNION ")}) AS n JOIN tasks AS out ON out.id = n.id`,
      has("Task") && onPage("Task", "tasks"),
    ]),
    Value: rowsOf("Value", [
      has("Job") && "pjc, json_each(pjc.args) AS a JOIN value_records AS out ON out.id = a.value ->> '$.valueHash'",
      has("Value") && onPage("Value", "value_records"),
    ]),
  };
  // Per entity on the page, [entity_id, key, value, key, value, ...], concatenated from the (entity_time,
  // entity_id, key, value_json, current) index alone: no tag row is visited, value_json is already JSON, and an
  // entity's id is sent once. An entity with a tag value too long to inline comes as [entity_id, null]: its tags
  // are read apart (one pass over its tags decides both). (`IS`: a ref to a record not stored has a NULL time,
  // as have its tags.)
  const ofEntity = "t.entity_time IS p.time AND t.entity_id = p.id AND t.current = 1";
  const short = `length(t.value_json) <= ${INLINE_VALUE_CHARS}`;
  // A tag with a value text (Python's, migration 0007; in the index too) comes as [key, text] in its key's place.
  const keyOrKeyText = "CASE WHEN t.value_text = '' THEN json_quote(t.key) ELSE json_array(t.key, t.value_text) END";
  const tags =
    "coalesce((SELECT '[' || group_concat('[' || json_quote(p.id) || " +
    `(SELECT CASE WHEN max(length(t.value_json)) > ${INLINE_VALUE_CHARS} THEN ',null' ` +
    `ELSE ',' || group_concat(CASE WHEN ${short} THEN ${keyOrKeyText} || ',' || t.value_json END, ',') END ` +
    `FROM tags AS t WHERE ${ofEntity})` +
    " || ']', ',') || ']' FROM page AS p), '[]')";
  // The answer is concatenated text: every part already is JSON, and json_object would parse each one again.
  const members: [string, string][] = [
    ...(queryPage ? [["page", "(SELECT json_group_array(json_array(type, id, time)) FROM page)"] as [string, string]] : []),
    ...ENTITY_TYPES.map((type): [string, string] => [type, parts[type]]),
    ["tags", tags],
  ];
  const object = members.map(([name, json], i) => `'${i === 0 ? "{" : ","}"${name}":' || ${json}`).join(" || ");
  return `${ctes.map((cte) => `, ${cte}`).join("")} SELECT ${object} || '}' AS context`;
}

/** The context of refs of these types, given as a JSON array of [type, id] bound as ?1. */
export function refsContextSql(types: ReadonlySet<EntityType>): string {
  return cachedSql(
    `refs:${ENTITY_TYPES.filter((t) => types.has(t)).join()}`,
    // Each ref's time, which its tags are indexed by (migration 0003).
    () =>
      `WITH page(type, id, time) AS MATERIALIZED (SELECT DISTINCT j.value ->> 0, j.value ->> 1, ${entityTimeSql("j.value ->> 0", "j.value ->> 1")} FROM json_each(?1) AS j) ` +
      contextSelect(false, types),
  );
}

/**
 * A query's page (limit + 1 rows, newest first, to tell whether there is a
 * next page) and its context. Each arm's rows come back as a JSON array from
 * a scalar subquery; the arms are merged through json_each, not a compound
 * SELECT (D1 caps those at a few terms).
 */
export function queryContextSql(q: NormalizedQuery, planner: Planner): Statement {
  const p = new Params();
  const arms = buildQueryArms(q, planner, p);
  const hits = arms.map((arm) => `(SELECT json_group_array(json_array('${arm.type}', x.id, x.time, x.rid)) FROM (${arm.sql}) AS x)`);
  const page =
    "page(type, id, time, rid) AS MATERIALIZED (SELECT h.value ->> 0 AS type, h.value ->> 1 AS id, h.value ->> 2 AS time, h.value ->> 3 AS rid " +
    `FROM json_each('[' || ${hits.join(" || ',' || ")} || ']') AS a, json_each(a.value) AS h ORDER BY time DESC, id DESC LIMIT ${p.add(q.limit + 1)})`;
  const ctes = arms.flatMap((arm) => (arm.ctes ?? []).map((cte) => `${cte}, `));
  return { sql: `WITH ${ctes.join("")}${page} ${contextSelect(true, new Set(queryTypes(q)))}`, params: p.values };
}
