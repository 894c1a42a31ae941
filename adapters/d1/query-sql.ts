/**
 * NormalizedQuery -> SQL. The meaning is core/query.ts's (and the memory
 * adapter's, which the conformance suite holds us to); this file picks plans
 * that keep full scans out.
 *
 * Every record type is queried by its own statements (D1 caps compound
 * SELECTs at a few terms), each `... ORDER BY time DESC, id DESC LIMIT n+1`;
 * all of them run in one batch and the caller merges the rows. A statement
 * has one of two shapes:
 *
 * - walk: read the (time, id) index newest first, test every filter per row,
 *   stop after n+1 matches. Best when matches are common. Its filters are
 *   written so SQLite cannot drive from them: tags as a correlated EXISTS,
 *   other terms behind a unary `+`. (A single status is the exception: the
 *   (status, time, id) index walks that status newest first.)
 * - ordered: read a tag filter's index newest first (tag_kv: current tags
 *   by key, value, entity type and entity time, migrations 0003 and 0005),
 *   test the other filters per entry, stop after n+1 matches. Reads about
 *   n+1 / (selectivity of the other filters) entries, never more than the
 *   tag's count; whenever a query has a tag filter with a value, this beats
 *   walking. A key-only filter has no such index (migration 0004 dropped it
 *   to make writes cheaper): it walks, probing each entity's tags, or drives
 *   from its entries of the (key, value, ...) index, sorted.
 * - driven: start from an index-selected candidate set (the jobs of some
 *   executions, jobs of a task or status, an id range) and sort it. Best when
 *   matches are rare, where a walk would read the whole table.
 *
 * Which is cheaper depends on sizes, which only the data knows. So a type
 * gets one driven statement per candidate set and one walk statement (none
 * when every candidate is an ordered tag scan, which never reads more than
 * the walk; and a lone ordered scan runs unguarded), each
 * guarded by a `plan` CTE that picks one of them inside SQLite: the cheapest
 * of the candidates (a driven set costs its size times its kind's
 * DRIVEN_ROW_COST, an ordered tag scan the entries it reads) if it is cheaper
 * than the rows the walk would read (about want / selectivity, the
 * selectivity estimated from every set as if independent), otherwise walk. The guard is the LIMIT: `LIMIT CASE WHEN
 * (SELECT choice FROM plan) = k THEN n ELSE 0 END`. SQLite computes a LIMIT
 * once, before anything else, and skips a statement whose LIMIT is 0, so the
 * statements not chosen cost next to nothing. (A guard in the WHERE clause
 * does not work: a term holding a subquery is tested per row, never hoisted.)
 * Candidate sizes come from the tag count tables every write keeps (exact, a
 * primary-key read), from index counts capped at MAX_DRIVEN + 1, and from
 * max(rowid) as table sizes; so a query is always one round trip.
 *
 * Key-only probes of an entity's own tags go through tags' (entity_time,
 * entity_id, key, ...) index, which holds every tag: hence `t.current = 1` there.
 */
import { ValidationError, type EntityType } from "../../core/index.ts";
import { type NormalizedQuery, type NormalizedTagFilter } from "../../core/adapter-kit.ts";
import { MAX_PARAMS, type Statement } from "./d1.ts";
import { specOf } from "./tables.ts";

/** Never drive from (and sort) a candidate set larger than this; capped counts stop at this + 1 rows. */
export const MAX_DRIVEN = 5_000;
/**
 * Cost of a driven row (index lookups, row fetch, sort) in walked rows, by
 * candidate kind; measured in workerd over a local D1 of 50,000 executions. A
 * candidate from an execution set is an execution, an index seek into its
 * jobs and a row fetch, while a walk tests execution membership against an
 * in-memory set (8x). A tag entry read by an ordered scan (an index entry,
 * the other tags probed on it) costs no more than a walked row.
 */
export const DRIVEN_ROW_COST: { readonly [K in Driver["kind"]]: number } = {
  tag: 1,
  execTag: 1,
  tagKey: 2,
  execTagKey: 2,
  execIds: 2,
  execStatus: 2,
  exec: 8,
  task: 2,
  jobStatus: 2,
};

/**
 * "cost" (default) lets each statement's plan guard choose; "walk" and
 * "drive" (from the cheapest set) force a shape, for measurements and tests.
 */
export type Planner = "cost" | "walk" | "drive";

export class Params {
  readonly values: unknown[] = [];
  private readonly seen = new Map<string, string>();
  /** A numbered placeholder for `value`, reused when the same value was bound before. */
  add(value: unknown): string {
    const key = typeof value === "string" ? `s${value}` : typeof value === "number" ? `n${value}` : null;
    const known = key === null ? undefined : this.seen.get(key);
    if (known) return known;
    this.values.push(value);
    const name = `?${this.values.length}`;
    if (key !== null) this.seen.set(key, name);
    if (this.values.length > MAX_PARAMS) {
      throw new ValidationError("query", `query too complex: more than ${MAX_PARAMS} distinct parameters`);
    }
    return name;
  }
  /** A JSON array bound as one parameter, as a subquery for `IN`. */
  list(values: readonly string[]): string {
    return `(SELECT value FROM json_each(${this.add(JSON.stringify(values))}))`;
  }
}

/** The id range [prefix, next) for a prefix scan without LIKE. */
export function prefixRange(prefix: string): [string, string] {
  const last = prefix.charCodeAt(prefix.length - 1);
  return [prefix, prefix.slice(0, -1) + String.fromCharCode(last + 1)];
}

function hasExec(q: NormalizedQuery): boolean {
  return q.execTags.length > 0 || q.execStatus.length > 0 || q.execIds.length > 0;
}

/** Types that can match at all (jobStatus keeps only Jobs; taskNames excludes Values). */
export function queryTypes(q: NormalizedQuery): EntityType[] {
  return q.types.filter((type) => {
    if (q.jobStatus.length > 0 && type !== "Job") return false;
    if (q.taskNames.length > 0 && type === "Value") return false;
    return true;
  });
}

// ---- building blocks -------------------------------------------------------

/** A tag_kv entry (a current tag of a stored entity) of `type` matching `f`: a range of its key. */
function tagMatch(p: Params, f: NormalizedTagFilter, type: EntityType, t = "t"): string {
  const value = f.valueJson === null ? "" : ` AND ${t}.value_json = ${p.add(f.valueJson)}`;
  return `${t}.key = ${p.add(f.key)}${value} AND ${t}.entity_type = ${p.add(type)}`;
}

/** Exact count of current tags of `type` matching `f`, from the count tables every write keeps. */
function tagCount(p: Params, f: NormalizedTagFilter, type: EntityType): string {
  const entityType = p.add(type);
  return f.valueJson === null
    ? `(SELECT coalesce(sum(n), 0) FROM tag_key_counts WHERE key = ${p.add(f.key)} AND entity_type = ${entityType})`
    : `(SELECT coalesce(sum(n), 0) FROM tag_value_counts WHERE key = ${p.add(f.key)} AND value_json = ${p.add(f.valueJson)} AND entity_type = ${entityType})`;
}

/**
 * The entity whose time and id are `time` and `id` carries a current tag of
 * `type` matching `f`: one probe of a tag index whose entries hold
 * (entity_time, entity_id). A key-only probe goes to the entity's own tags
 * (entity_time, entity_id, key, ...), which name no type: the entity's time
 * and id already do.
 */
function hasTag(p: Params, f: NormalizedTagFilter, type: EntityType, time: string, id: string, t = "t"): string {
  const [table, match] = f.valueJson === null ? ["tags", `${t}.key = ${p.add(f.key)} AND ${t}.current = 1`] : ["tag_kv", tagMatch(p, f, type, t)];
  return `EXISTS (SELECT 1 FROM ${table} AS ${t} WHERE ${match} AND ${t}.entity_time = ${time} AND ${t}.entity_id = ${id})`;
}

/** `alias` is an entity carrying a current tag of `type` matching `f`: the set of them drives. */
function inTagSet(p: Params, f: NormalizedTagFilter, type: EntityType, alias = "r"): string {
  return `${alias}.id IN (SELECT t.entity_id FROM tag_kv AS t WHERE ${tagMatch(p, f, type)})`;
}

/** `e` (an execution of the execution set) carries a current tag matching `f`: a driving IN or a probe. */
function execTagCondition(p: Params, f: NormalizedTagFilter, drive: boolean): string {
  return drive ? inTagSet(p, f, "Execution", "e") : hasTag(p, f, "Execution", "e.time", "e.id");
}

/** `col`, or `+col` so that SQLite does not use an index for the term. */
const col = (name: string, drive: boolean) => (drive ? name : `+${name}`);

function taskSet(p: Params, q: NormalizedQuery): string {
  const names = p.list(q.taskNames);
  return `(SELECT tk.id FROM tasks AS tk WHERE tk.name IN ${names} OR tk.full_name IN ${names})`;
}

/** A status filter: `= ?` for one status (the (status, time, id) index walks it in order), else an IN list. */
function statusCondition(p: Params, column: string, statuses: readonly string[], drive: boolean): string {
  if (statuses.length === 1) return `${column} = ${p.add(statuses[0])}`;
  return `${col(column, drive)} IN ${p.list(statuses)}`;
}

/** What the execution set starts from: an execTags filter, its status index, or its id list. */
type ExecDriver = number | "status" | "ids";

function execDriverOf(q: NormalizedQuery): ExecDriver {
  if (q.execIds.length > 0) return "ids";
  if (q.execTags.length > 0) return 0;
  return "status";
}

/**
 * `exec_set(id) AS (...)`: the executions selected by execTags, execStatus and
 * execIds. A set, not a page: read whole, from its smallest likely index.
 */
function execSetCte(p: Params, q: NormalizedQuery): string {
  const driver = execDriverOf(q);
  const conds: string[] = [];
  q.execTags.forEach((f, i) => conds.push(execTagCondition(p, f, driver === i)));
  if (q.execStatus.length > 0) conds.push(`${col("e.status", driver === "status")} IN ${p.list(q.execStatus)}`);
  if (q.execIds.length > 0) conds.push(`${col("e.id", driver === "ids")} IN ${p.list(q.execIds)}`);
  return `exec_set(id) AS (SELECT e.id FROM executions AS e WHERE ${conds.join(" AND ")})`;
}

/**
 * r is related to exec_set. Driven: r's ids collected from the jobs of the
 * executions. Walking: a correlated EXISTS from r through the jobs (and calls)
 * that name it, which stops at the first job found in the set.
 */
function execRelation(type: EntityType, drive: boolean): string {
  const inSet = "j.execution_id IN (SELECT id FROM exec_set)";
  switch (type) {
    case "Execution":
      return `${col("r.id", drive)} IN (SELECT id FROM exec_set)`;
    case "Job":
      return `${col("r.execution_id", drive)} IN (SELECT id FROM exec_set)`;
    case "CallNode":
      return drive
        ? `r.id IN (SELECT j.call_hash FROM jobs AS j WHERE ${inSet})`
        : `EXISTS (SELECT 1 FROM jobs AS j WHERE j.call_hash = r.id AND ${inSet})`;
    case "Task":
      return drive
        ? `r.id IN (SELECT j.task_hash FROM jobs AS j WHERE ${inSet})`
        : `EXISTS (SELECT 1 FROM jobs AS j WHERE j.task_hash = r.id AND ${inSet})`;
    case "Value": {
      // A call's arguments as well as its result, as redun's filter_execution_tags. No index leads from a
      // Value to the calls it is an argument of, so the walk reads the set's arguments once (an uncorrelated IN).
      const args = `SELECT a.value ->> '$.valueHash' FROM jobs AS j JOIN call_nodes AS c ON c.id = j.call_hash, json_each(c.args) AS a WHERE ${inSet}`;
      return drive
        ? `r.id IN (SELECT c.result_hash FROM jobs AS j JOIN call_nodes AS c ON c.id = j.call_hash WHERE ${inSet} UNION ${args})`
        : `(EXISTS (SELECT 1 FROM call_nodes AS c JOIN jobs AS j ON j.call_hash = c.id WHERE c.result_hash = r.id AND ${inSet}) OR r.id IN (${args}))`;
    }
  }
}

// ---- candidates ------------------------------------------------------------

/**
 * A candidate driving set of one type's statements. A tag filter with a value
 * is read in order ("tag", and "execTag" for an Execution's execution tags);
 * a key-only one is a set to sort ("tagKey", "execTagKey").
 */
export type Driver =
  | { kind: "tag"; index: number }
  | { kind: "execTag"; index: number }
  | { kind: "tagKey"; index: number }
  | { kind: "execTagKey"; index: number }
  | { kind: "execIds" }
  | { kind: "execStatus" }
  | { kind: "exec" }
  | { kind: "task" }
  | { kind: "jobStatus" };

/** Candidate sets a type's statements may drive from (none: a single walking statement). */
function candidates(q: NormalizedQuery, type: EntityType): Driver[] {
  if (q.idPrefix !== null) return []; // the id range drives
  const out: Driver[] = q.tags.map((f, index) => ({ kind: f.valueJson === null ? "tagKey" : "tag", index }));
  if (type === "Execution") {
    q.execTags.forEach((f, index) => out.push({ kind: f.valueJson === null ? "execTagKey" : "execTag", index }));
    if (q.execIds.length > 0) out.push({ kind: "execIds" });
    if (q.execStatus.length > 1) out.push({ kind: "execStatus" });
  } else if (hasExec(q)) {
    out.push({ kind: "exec" });
  }
  if (q.taskNames.length > 0 && type !== "Execution") out.push({ kind: "task" });
  if (type === "Job" && q.jobStatus.length > 1) out.push({ kind: "jobStatus" });
  return out;
}

/** `count(*)` of a subquery, stopping after MAX_DRIVEN + 1 rows. */
function capped(p: Params, inner: string): string {
  return `(SELECT count(*) FROM (${inner} LIMIT ${p.add(MAX_DRIVEN + 1)}))`;
}

const maxRowid = (table: string) => `(SELECT coalesce(max(rowid), 0) FROM ${table})`;

/**
 * SQL for the size of a candidate set: exact from the tag count tables, a
 * capped count over an index, or — for the records of an execution set — the
 * set's smallest bound times records per execution.
 */
function candidateSize(p: Params, q: NormalizedQuery, type: EntityType, d: Driver): string {
  switch (d.kind) {
    case "tag":
    case "tagKey":
      return tagCount(p, q.tags[d.index]!, type);
    case "execTag":
    case "execTagKey":
      return tagCount(p, q.execTags[d.index]!, "Execution");
    case "execIds":
      return p.add(q.execIds.length);
    case "execStatus":
      return capped(p, `SELECT 1 FROM executions AS e WHERE e.status IN ${p.list(q.execStatus)}`);
    case "jobStatus":
      return capped(p, `SELECT 1 FROM jobs AS j WHERE j.status IN ${p.list(q.jobStatus)}`);
    case "task":
      if (type === "Task") return p.add(0); // a handful of tasks
      return type === "Job"
        ? capped(p, `SELECT 1 FROM jobs AS j WHERE j.task_hash IN ${taskSet(p, q)}`)
        : capped(p, `SELECT 1 FROM call_nodes AS c WHERE c.task_hash IN ${taskSet(p, q)}`);
    case "exec": {
      const bounds = q.execTags.map((f) => tagCount(p, f, "Execution"));
      if (q.execIds.length > 0) bounds.push(p.add(q.execIds.length));
      if (q.execStatus.length > 0) bounds.push(capped(p, `SELECT 1 FROM executions AS e WHERE e.status IN ${p.list(q.execStatus)}`));
      const executions = bounds.length === 1 ? bounds[0]! : `min(${bounds.join(", ")})`;
      // Driving reads the jobs of the executions, whatever the type (calls, tasks and values are shared).
      const perExecution = `(${maxRowid("jobs")} * 1.0 / max(${maxRowid("executions")}, 1))`;
      return `(${executions} * ${perExecution})`;
    }
  }
}

// ---- statements ------------------------------------------------------------

export interface ArmSql extends Statement {
  type: EntityType;
  /** Which plan choice runs this statement: a candidate index, -1 for the walk, null when unguarded. */
  choice: number | null;
  /** The candidate this statement drives from (null: walks newest first). */
  driver: Driver | null;
  /**
   * With shared parameters (one statement holding every arm, context-sql.ts),
   * arms read the execution set from `exec_set` and their type's plan from
   * `plan_<type>`, defined once: the first arm needing one carries it here,
   * for the caller to put in the statement's WITH.
   */
  ctes?: string[];
}

/**
 * The statements of every type; each selects (id, time) of at most limit + 1
 * matches, newest first. Under "cost", at most one statement per type does
 * any work.
 */
export function buildQueryArms(q: NormalizedQuery, planner: Planner = "cost", shared?: Params): ArmSql[] {
  const arms: ArmSql[] = [];
  for (const type of queryTypes(q)) {
    const cands = planner === "walk" ? [] : candidates(q, type);
    if (cands.length === 0) {
      arms.push(buildArm(q, type, null, null, planner, shared));
      continue;
    }
    // An ordered tag scan never reads more than the walk would (want / selectivity of the other filters,
    // at most its count, against want / selectivity of all of them): when every candidate is one, the walk
    // is no choice, and a lone candidate needs no plan. (A statement is prepared anew on every call in
    // workerd, so the SQL not sent is time saved.)
    const ordered = allOrdered(q, type, cands);
    if (ordered && cands.length === 1) {
      arms.push(buildArm(q, type, cands[0]!, null, planner, shared));
      continue;
    }
    const first = arms.length;
    cands.forEach((driver, i) => arms.push(buildArm(q, type, driver, i, planner, shared)));
    if (planner === "cost" && !ordered) arms.push(buildArm(q, type, null, -1, planner, shared));
    if (shared) (arms[first]!.ctes ??= []).push(planCte(shared, q, type, planner, planName(type, shared)));
  }
  // Shared, the execution set is defined once for every arm and type.
  if (shared && arms.some((arm) => arm.type !== "Execution") && hasExec(q)) (arms[0]!.ctes ??= []).unshift(execSetCte(shared, q));
  return arms;
}

/** The plan CTE's name: `plan` inside a statement of its own, `plan_<type>` when arms share one statement. */
const planName = (type: EntityType, shared?: Params) => (shared ? `plan_${type}` : "plan");

/** Whether every candidate of the type is an ordered tag scan. */
function allOrdered(q: NormalizedQuery, type: EntityType, cands: readonly Driver[]): boolean {
  return cands.every((d) => orderedIndex(q, type, d) >= 0);
}

/**
 * `plan(choice) AS (...)`: which of the type's statements runs — the index of
 * a candidate set to drive from, or -1 to walk.
 */
function planCte(p: Params, q: NormalizedQuery, type: EntityType, planner: Planner, name = "plan"): string {
  const drivers = candidates(q, type);
  const sizes = drivers.map((d) => candidateSize(p, q, type, d));
  const n = sizes.map((_, i) => `n${i}`);
  // What each candidate costs, in walked rows. An ordered tag scan reads want / (selectivity of the other
  // filters) entries, at most its count; a driven set its size (never a set over MAX_DRIVEN, by "cost").
  const c = drivers.map((_, i) => `c${i}`);
  const sel = (i: number) => `(min(n${i}, total) * 1.0 / max(total, 1))`;
  const want = p.add(q.limit + 1);
  const costs = drivers.map((d, i) => {
    const rowCost = p.add(DRIVEN_ROW_COST[d.kind]);
    if (orderedIndex(q, type, d) < 0) return `CASE WHEN n${i} <= ${p.add(MAX_DRIVEN)} THEN n${i} * ${rowCost} ELSE 1e18 END AS c${i}`;
    const others = n.flatMap((_, j) => (j === i ? [] : [sel(j)]));
    const read = others.length === 0 ? `min(n${i}, ${want})` : `CASE WHEN ${others.join(" * ")} = 0 THEN n${i} ELSE min(n${i}, ${want} / (${others.join(" * ")})) END`;
    return `${read} * ${rowCost} AS c${i}`;
  });
  // Cheapest set, the first on ties.
  const best =
    c.length === 1
      ? "0"
      : `CASE ${c
          .slice(0, -1)
          .map((ci, i) => {
            const tests = c.flatMap((cj, j) => (j === i ? [] : [`${ci} ${j < i ? "<" : "<="} ${cj}`]));
            return `WHEN ${tests.join(" AND ")} THEN ${i}`;
          })
          .join(" ")} ELSE ${c.length - 1} END`;
  const cheapest = c.length === 1 ? c[0]! : `min(${c.join(", ")})`;
  const selectivity = n.map((_, i) => sel(i)).join(" * ");
  const walked = `CASE WHEN ${selectivity} = 0 THEN total ELSE min(total, ${want} / (${selectivity})) END`;
  // On a tie an ordered tag scan wins: it reads index entries where the walk probes the tag index per row.
  const drive = planner === "drive" || allOrdered(q, type, drivers) ? "1" : `${cheapest} <= ${walked}`;
  return (
    `${name}(choice) AS (SELECT CASE WHEN ${drive} THEN ${best} ELSE -1 END FROM ` +
    `(SELECT *, ${costs.join(", ")} FROM (SELECT ${sizes.map((s, i) => `${s} AS n${i}`).join(", ")}, ${maxRowid(specOf(type).table)} AS total)))`
  );
}

/** `SELECT choice FROM plan` for one type (null when it has a single statement): which statement runs. */
export function planChoiceSql(q: NormalizedQuery, type: EntityType, planner: Planner = "cost"): Statement | null {
  const cands = planner === "walk" ? [] : candidates(q, type);
  if (cands.length === 0 || (cands.length === 1 && allOrdered(q, type, cands))) return null;
  const p = new Params();
  return { sql: `WITH ${planCte(p, q, type, planner)} SELECT choice FROM plan`, params: p.values };
}

/** The tag filters on a type's records themselves: its tags, and for Executions their execution tags too. */
function ownTags(q: NormalizedQuery, type: EntityType): NormalizedTagFilter[] {
  return type === "Execution" ? [...q.tags, ...q.execTags] : q.tags;
}

/** Which of ownTags an ordered statement reads the index of (-1: the statement is not ordered). */
function orderedIndex(q: NormalizedQuery, type: EntityType, driver: Driver | null): number {
  if (driver?.kind === "tag") return driver.index;
  if (driver?.kind === "execTag" && type === "Execution") return q.tags.length + driver.index;
  return -1;
}

/** Which of ownTags a key-only set drives (-1: none). */
function keySetIndex(q: NormalizedQuery, type: EntityType, driver: Driver | null): number {
  if (driver?.kind === "tagKey") return driver.index;
  if (driver?.kind === "execTagKey" && type === "Execution") return q.tags.length + driver.index;
  return -1;
}

function buildArm(
  q: NormalizedQuery,
  type: EntityType,
  driver: Driver | null,
  choice: number | null,
  planner: Planner,
  shared?: Params,
): ArmSql {
  // With `shared`, arms become parts of one statement (context-sql.ts) and number their parameters together.
  const p = shared ?? new Params();
  const limit = p.add(q.limit + 1);

  const is = (kind: Driver["kind"], index?: number) =>
    driver !== null && driver.kind === kind && (index === undefined || ("index" in driver && driver.index === index));
  const ctes: string[] = [];
  const conds: string[] = [];

  // An Execution's execution-tag filters are tags of its own. The ordered shape reads the driving
  // filter's index entries (t) newest first and tests the other tags on each entry before joining r.
  const tagFilters = ownTags(q, type);
  const driving = orderedIndex(q, type, driver);
  const keySet = keySetIndex(q, type, driver);
  const [time, id] = driving >= 0 ? ["t.entity_time", "t.entity_id"] : ["r.time", "r.id"];
  if (driving >= 0) conds.push(tagMatch(p, tagFilters[driving]!, type));
  tagFilters.forEach((f, i) => {
    if (i === keySet) conds.push(inTagSet(p, f, type));
    else if (i !== driving) conds.push(hasTag(p, f, type, time, id, `t${i}`));
  });
  if (q.idPrefix !== null) {
    const [lo, hi] = prefixRange(q.idPrefix);
    conds.push(`r.id >= ${p.add(lo)} AND r.id < ${p.add(hi)}`);
  }
  if (q.after) conds.push(`(${time}, ${id}) < (${p.add(q.after.time)}, ${p.add(q.after.id)})`);

  if (type === "Execution") {
    // The other execution filters apply to the execution itself.
    if (q.execStatus.length > 0) conds.push(statusCondition(p, "r.status", q.execStatus, is("execStatus")));
    if (q.execIds.length > 0) conds.push(`${col("r.id", is("execIds"))} IN ${p.list(q.execIds)}`);
  } else if (hasExec(q)) {
    if (!shared) ctes.push(execSetCte(p, q));
    conds.push(execRelation(type, is("exec")));
  }

  if (type === "Job" && q.jobStatus.length > 0) conds.push(statusCondition(p, "r.status", q.jobStatus, is("jobStatus")));
  if (q.taskNames.length > 0) {
    switch (type) {
      case "Job":
      case "CallNode":
        conds.push(`${col("r.task_hash", is("task"))} IN ${taskSet(p, q)}`);
        break;
      case "Task":
        conds.push(`${col("r.id", is("task"))} IN ${taskSet(p, q)}`);
        break;
      case "Execution":
        conds.push(`EXISTS (SELECT 1 FROM jobs AS rj WHERE rj.id = r.root_job_id AND rj.task_hash IN ${taskSet(p, q)})`);
        break;
    }
  }
  // The guard: the LIMIT is computed once before the loop, and LIMIT 0 skips the statement.
  let limitClause = limit;
  if (choice !== null) {
    if (!shared) ctes.push(planCte(p, q, type, planner));
    limitClause = `CASE WHEN (SELECT choice FROM ${planName(type, shared)}) = ${p.add(choice)} THEN ${limit} ELSE 0 END`;
  }
  const withClause = ctes.length > 0 ? `WITH ${ctes.join(", ")} ` : "";
  const where = conds.length > 0 ? conds.join(" AND ") : "true";
  const table = specOf(type).table;
  // Ordered: an entity holding several matching tags (two values of a key) has several entries; the GROUP BY
  // keeps one, in index order (no sort).
  const sql =
    driving >= 0
      ? `${withClause}SELECT r.id AS id, r.time AS time, r.rowid AS rid FROM tag_kv AS t JOIN ${table} AS r ON r.time = t.entity_time AND r.id = t.entity_id ` +
        `WHERE ${where} GROUP BY t.entity_time, t.entity_id ORDER BY t.entity_time DESC, t.entity_id DESC LIMIT ${limitClause}`
      : `${withClause}SELECT r.id AS id, r.time AS time, r.rowid AS rid FROM ${table} AS r ` +
        `WHERE ${where} ORDER BY r.time DESC, r.id DESC LIMIT ${limitClause}`;
  return { type, choice, driver, sql, params: shared ? [] : p.values };
}
