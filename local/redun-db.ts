/**
 * A redun SQLite database through node:sqlite (built into Node 22; no native
 * build): the rows `import` maps (core/redun/import.ts), read in one read
 * transaction, and the tag rows `export --redun` writes back, in one write
 * transaction. Every way a file can be wrong (missing, not SQLite, not
 * redun's, a schema version we do not know, locked, corrupt) becomes one
 * LocalError line before anything is read or written.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import type { DatabaseSync } from "node:sqlite";
import type { RedunTagRow } from "../core/redun/export.ts";
import { KNOWN_REDUN_SCHEMAS, type RedunRows } from "../core/redun/import.ts";
import { LocalError } from "./errors.ts";

/** How long to wait for redun's write lock before calling the file locked (ms). */
const BUSY_TIMEOUT_MS = 2_000;

function sqlite(): typeof import("node:sqlite") {
  // Node 22 warns on stderr that node:sqlite is experimental; a command's stderr is for its own errors.
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (!String((warning as Error)?.message ?? warning).includes("SQLite")) (emitWarning as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    // `require`: a static import would fail to load this module at all on Node 20.
    return createRequire(import.meta.url)("node:sqlite") as typeof import("node:sqlite");
  } catch (cause) {
    throw new LocalError(`reading a redun database needs Node 22 or newer (node:sqlite); this is Node ${process.versions.node}`, { cause });
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** Turn SQLite's failure into what the user should know, naming the file. */
function describe(path: string, error: unknown): LocalError {
  const message = (error as Error)?.message ?? String(error);
  const code = (error as { errcode?: number }).errcode;
  if (/locked|busy/i.test(message) || code === 5 || code === 6) {
    return new LocalError(`${path} is locked by another process (is redun writing to it?); try again when it is done`, { cause: error });
  }
  if (/malformed|corrupt|not a database|file is not a database/i.test(message) || code === 11 || code === 26) {
    return new LocalError(`${path} is corrupt: ${message}`, { cause: error });
  }
  return new LocalError(`${path}: ${message}`, { cause: error });
}

/** Open PATH as a redun database of a known schema version, read-only unless `write`. */
export function openRedunDb(path: string, options: { write?: boolean } = {}): { db: DatabaseSync; version: string } {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new LocalError(`${path} is not a file`);
    size = stat.size;
  } catch (error) {
    if (error instanceof LocalError) throw error;
    throw new LocalError(`no redun database at ${path}`, { cause: error });
  }
  // The SQLite header first: opening some other file read-only would "succeed".
  const header = Buffer.alloc(16);
  const fd = openSync(path, "r");
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (size < 100 || header.toString("latin1") !== "SQLite format 3\u0000") {
    throw new LocalError(`${path} is not a redun database (not an SQLite file)`);
  }
  const { DatabaseSync } = sqlite();
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: !options.write, timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw describe(path, error);
  }
  try {
    const hasVersion = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'").get();
    if (!hasVersion) throw new LocalError(`${path} is not a redun database (it has no alembic_version table)`);
    const row = db.prepare("SELECT version_num FROM alembic_version").get() as { version_num?: string } | undefined;
    const revision = row?.version_num ?? "(none)";
    const version = KNOWN_REDUN_SCHEMAS[revision];
    if (!version) {
      const known = Object.entries(KNOWN_REDUN_SCHEMAS).map(([rev, v]) => `${v} (${rev})`).join(", ");
      throw new LocalError(`${path} has redun schema revision ${revision}, which redun-edge does not know (it knows ${known})`);
    }
    return { db, version };
  } catch (error) {
    db.close();
    throw error instanceof LocalError ? error : describe(path, error);
  }
}

/** Every row import maps, read in one transaction so a redun writer cannot tear the view. */
export function readRedunRows(path: string): RedunRows {
  const { db } = openRedunDb(path);
  try {
    db.exec("BEGIN");
    const all = <T>(sql: string) => db.prepare(sql).all() as unknown as T[];
    const rows: RedunRows = {
      executions: all("SELECT id, args, job_id, updated_time FROM execution"),
      jobs: all("SELECT id, start_time, end_time, task_hash, cached, call_hash, parent_id, execution_id FROM job"),
      tasks: all("SELECT rowid, hash, name, namespace, source FROM task ORDER BY rowid"),
      values: all("SELECT rowid, value_hash, type, format, value FROM value ORDER BY rowid"),
      callNodes: all("SELECT call_hash, task_hash, args_hash, value_hash, timestamp FROM call_node"),
      arguments: all("SELECT call_hash, value_hash, arg_position, arg_key FROM argument"),
      callEdges: all("SELECT parent_id, child_id, call_order FROM call_edge"),
      evaluations: all("SELECT eval_hash, task_hash, args_hash, value_hash FROM evaluation"),
      tags: all("SELECT tag_hash, entity_type, entity_id, key, value, is_current FROM tag"),
      tagEdits: all("SELECT parent_id, child_id FROM tag_edit"),
    };
    db.exec("COMMIT");
    return rows;
  } catch (error) {
    throw error instanceof LocalError ? error : describe(path, error);
  } finally {
    db.close();
  }
}

/**
 * Write tags into redun's `tag` and `tag_edit` tables in one transaction, as
 * redun records an edit: the new tags, their edges, `is_current = 0` on every
 * parent, and `is_current = 1` on a new tag unless something names it as a
 * parent. Tags already there are left as they are. Returns the rows written.
 */
export function writeRedunTags(path: string, tags: readonly RedunTagRow[]): { tags: number; edges: number } {
  const { db } = openRedunDb(path, { write: true });
  try {
    db.exec("BEGIN IMMEDIATE");
    const insertTag = db.prepare(
      'INSERT INTO tag (tag_hash, entity_type, entity_id, "key", value, is_current) VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT (tag_hash) DO NOTHING',
    );
    const insertEdge = db.prepare("INSERT INTO tag_edit (parent_id, child_id) VALUES (?, ?) ON CONFLICT DO NOTHING");
    const retire = db.prepare("UPDATE tag SET is_current = 0 WHERE tag_hash = ? AND is_current");
    let written = 0;
    let edges = 0;
    for (const t of tags) written += Number(insertTag.run(t.tag_hash, t.entity_type, t.entity_id, t.key, t.value).changes);
    for (const t of tags) {
      for (const parent of t.parents) {
        edges += Number(insertEdge.run(parent, t.tag_hash).changes);
        retire.run(parent);
      }
    }
    // A new tag that an edge already there names as a parent is not current either.
    const retireIfReplaced = db.prepare(
      "UPDATE tag SET is_current = 0 WHERE tag_hash = ?1 AND is_current AND EXISTS (SELECT 1 FROM tag_edit WHERE parent_id = ?1)",
    );
    for (const t of tags) retireIfReplaced.run(t.tag_hash);
    db.exec("COMMIT");
    return { tags: written, edges };
  } catch (error) {
    try {
      db.exec("ROLLBACK");
    } catch {
      // Never began, or already rolled back.
    }
    throw error instanceof LocalError ? error : describe(path, error);
  } finally {
    db.close();
  }
}

/** Entity ids and tag hashes of a redun database: what `export --redun` writes back against. */
export function readRedunIds(path: string): { entities: Map<string, string>; tags: Set<string> } {
  const { db } = openRedunDb(path);
  try {
    db.exec("BEGIN");
    const entities = new Map<string, string>();
    const add = (sql: string, type: string) => {
      for (const row of db.prepare(sql).all() as { id: string }[]) if (!entities.has(row.id)) entities.set(row.id, type);
    };
    add("SELECT id FROM execution", "Execution");
    add("SELECT id FROM job", "Job");
    add("SELECT call_hash AS id FROM call_node", "CallNode");
    add("SELECT hash AS id FROM task", "Task");
    add("SELECT value_hash AS id FROM value", "Value");
    const tags = new Set((db.prepare("SELECT tag_hash FROM tag").all() as { tag_hash: string }[]).map((r) => r.tag_hash));
    db.exec("COMMIT");
    return { entities, tags };
  } catch (error) {
    throw error instanceof LocalError ? error : describe(path, error);
  } finally {
    db.close();
  }
}
