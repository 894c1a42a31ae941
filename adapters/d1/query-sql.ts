/**
 * NormalizedQuery -> SQL. The meaning is core/query.ts's (and the memory
 * adapter's, which the conformance suite holds us to); this file only picks
 * a plan that keeps full scans out:
 *
 * - every type is one statement `... ORDER BY time DESC, id DESC LIMIT n`,
 *   read off its (time, id) index newest first; the statements of several
 *   types run in one batch and are merged by the caller;
 * - a tag filter is a correlated EXISTS on the partial index of current tags
 *   by entity, so the arm walks newest records and stops after n matches —
 *   the fast plan for broad tags; for a selective tag (few current tags with
 *   that key/value, counted first by a capped probe) the arm is instead
 *   driven from the tag index (`id IN (SELECT entity_id ...)`) and sorts the
 *   few candidates;
 * - lists (ids, statuses, names) are bound as one JSON array each.
 *
 * Partial indexes on tags are used only when the query repeats their
 * predicate literally, hence `t.current = 1` everywhere.
 */
import { ValidationError, type EntityType, type NormalizedQuery, type NormalizedTagFilter } from "../../core/index.ts";
import { specOf } from "./tables.ts";

/** A tag filter matching at most this many current tags drives its arm. */
export const DRIVE_THRESHOLD = 2_000;
/** D1 allows 100 bound parameters per statement. */
const MAX_PARAMS = 100;

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
  list(values: readonly string[]): string {
    return `(SELECT value FROM json_each(${this.add(JSON.stringify(values))}))`;
  }
}

/** The id range [prefix, next) for a prefix scan without LIKE. */
export function prefixRange(prefix: string): [string, string] {
  const last = prefix.charCodeAt(prefix.length - 1);
  return [prefix, prefix.slice(0, -1) + String.fromCharCode(last + 1)];
}

function tagMatch(p: Params, f: NormalizedTagFilter): string {
  return `t.key = ${p.add(f.key)}${f.valueJson === null ? "" : ` AND t.value_json = ${p.add(f.valueJson)}`} AND t.current = 1`;
}

/** `alias` carries a current tag matching `f`; `drive` turns it into an index-driven IN. */
function tagCondition(p: Params, alias: string, f: NormalizedTagFilter, drive: boolean): string {
  if (drive) return `${alias}.id IN (SELECT t.entity_id FROM tags AS t WHERE ${tagMatch(p, f)})`;
  return `EXISTS (SELECT 1 FROM tags AS t WHERE t.entity_id = ${alias}.id AND ${tagMatch(p, f)})`;
}

/** Capped count of current tags matching a filter, to choose the driving filter. */
export function probeSql(f: NormalizedTagFilter): { sql: string; params: unknown[] } {
  const p = new Params();
  const match = tagMatch(p, f);
  return { sql: `SELECT count(*) AS n FROM (SELECT 1 FROM tags AS t WHERE ${match} LIMIT ${p.add(DRIVE_THRESHOLD + 1)})`, params: p.values };
}

export interface QueryPlan {
  /** Index into q.tags of the filter that drives each arm, or null (walk newest first). */
  drive: number | null;
  /** Index into q.execTags of the filter that drives the execution set, or null. */
  driveExec: number | null;
}

export function queryTypes(q: NormalizedQuery): EntityType[] {
  return q.types.filter((type) => {
    if (q.jobStatus.length > 0 && type !== "Job") return false;
    if (q.taskNames.length > 0 && type === "Value") return false;
    return true;
  });
}

export interface ArmSql {
  type: EntityType;
  sql: string;
  params: unknown[];
}

/**
 * One statement per record type, each selecting (id, time) of at most
 * limit + 1 matches newest first; the caller runs them in one batch and merges.
 * (D1 caps compound SELECTs at a few terms, so no UNION ALL across types.)
 */
export function buildQueryArms(q: NormalizedQuery, plan: QueryPlan): ArmSql[] {
  return queryTypes(q).map((type) => buildArm(q, plan, type));
}

function buildArm(q: NormalizedQuery, plan: QueryPlan, type: EntityType): ArmSql {
  const p = new Params();
  const limit = p.add(q.limit + 1);
  const hasExec = q.execTags.length > 0 || q.execStatus.length > 0 || q.execIds.length > 0;

  let withClause = "";
  if (hasExec) {
    const conds: string[] = [];
    q.execTags.forEach((f, i) => conds.push(tagCondition(p, "e", f, plan.driveExec === i)));
    if (q.execStatus.length > 0) conds.push(`e.status IN ${p.list(q.execStatus)}`);
    if (q.execIds.length > 0) conds.push(`e.id IN ${p.list(q.execIds)}`);
    withClause = `WITH exec_set(id) AS (SELECT e.id FROM executions AS e WHERE ${conds.join(" AND ")}) `;
  }
  const taskSet = () => {
    const names = p.list(q.taskNames);
    return `(SELECT tk.id FROM tasks AS tk WHERE tk.name IN ${names} OR tk.full_name IN ${names})`;
  };

  const conds: string[] = [];
  q.tags.forEach((f, i) => conds.push(tagCondition(p, "r", f, plan.drive === i)));
  if (q.idPrefix !== null) {
    const [lo, hi] = prefixRange(q.idPrefix);
    conds.push(`r.id >= ${p.add(lo)} AND r.id < ${p.add(hi)}`);
  }
  if (q.after) conds.push(`(r.time, r.id) < (${p.add(q.after.time)}, ${p.add(q.after.id)})`);
  if (type === "Job" && q.jobStatus.length > 0) conds.push(`r.status IN ${p.list(q.jobStatus)}`);
  if (hasExec) {
    switch (type) {
      case "Execution":
        conds.push("r.id IN (SELECT id FROM exec_set)");
        break;
      case "Job":
        conds.push("r.execution_id IN (SELECT id FROM exec_set)");
        break;
      case "CallNode":
        conds.push("r.id IN (SELECT j.call_hash FROM jobs AS j WHERE j.execution_id IN (SELECT id FROM exec_set))");
        break;
      case "Task":
        conds.push("r.id IN (SELECT j.task_hash FROM jobs AS j WHERE j.execution_id IN (SELECT id FROM exec_set))");
        break;
      case "Value":
        conds.push(
          "r.id IN (SELECT c.result_hash FROM jobs AS j JOIN call_nodes AS c ON c.id = j.call_hash " +
            "WHERE j.execution_id IN (SELECT id FROM exec_set))",
        );
        break;
    }
  }
  if (q.taskNames.length > 0) {
    switch (type) {
      case "Job":
      case "CallNode":
        conds.push(`r.task_hash IN ${taskSet()}`);
        break;
      case "Task":
        conds.push(`r.id IN ${taskSet()}`);
        break;
      case "Execution":
        conds.push(`EXISTS (SELECT 1 FROM jobs AS rj WHERE rj.id = r.root_job_id AND rj.task_hash IN ${taskSet()})`);
        break;
    }
  }
  const where = conds.length > 0 ? conds.join(" AND ") : "true";
  const sql =
    `${withClause}SELECT r.id AS id, r.time AS time FROM ${specOf(type).table} AS r ` +
    `WHERE ${where} ORDER BY r.time DESC, r.id DESC LIMIT ${limit}`;
  return { type, sql, params: p.values };
}
