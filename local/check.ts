/**
 * A damaged local store is reported, never opened as an empty one.
 *
 * The D1 database of `.redun/` is one SQLite file (in WAL mode) under
 * `v3/d1/miniflare-D1DatabaseObject/`. Opened as it is, a zero-length file
 * is a new empty database, and the Worker would apply its migrations to it
 * and show an empty store. So before a Worker starts on a store, and cheaply
 * on every command, the file is looked at: zero length, not SQLite, shorter
 * than its pages (header and WAL read by hand), and, where this Node has
 * node:sqlite, tables read-only against the migrations (local/schema.ts;
 * the local Worker checks the same again before it migrates). Nothing is
 * written on the way.
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { LocalError } from "./errors.ts";
import { MIGRATIONS_TABLE, type Migration } from "./migrations.ts";
import { schemaProblem } from "./schema.ts";

const D1_DIR = join("v3", "d1", "miniflare-D1DatabaseObject");
const SQLITE_MAGIC = "SQLite format 3\0";
const WAL_HEADER = 32;
const FRAME_HEADER = 24;

/** One line: what is wrong, that nothing was written, and what to do. */
export class DamagedStoreError extends LocalError {
  readonly code = "damaged_store";
  constructor(storeDir: string, file: string | null, problem: string) {
    const what = file ? `its database ${relative(storeDir, file)} ${problem}` : problem;
    const v3 = join(storeDir, "v3");
    super(`the local store ${storeDir} is damaged: ${what}; nothing was written. Restore ${storeDir} from a backup, or move ${v3} aside to start an empty store`);
    this.name = "DamagedStoreError";
  }
}

/** The D1 database files of a store (normally one; none before its first start). */
export function databaseFiles(storeDir: string): string[] {
  const dir = join(storeDir, D1_DIR);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith(".sqlite") && n !== "metadata.sqlite").map((n) => join(dir, n));
}

function readAt(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, position);
  return buf.subarray(0, n);
}

interface WalState {
  /** Pages held by committed frames. */
  pages: Set<number>;
  /** Size of the database in pages after the last commit; 0 when the WAL holds no commit. */
  dbPages: number;
}

/** The committed frames of a WAL file (salts checked, checksums not); null when there is none. */
function readWal(path: string, pageSize: number): WalState | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    if (size < WAL_HEADER) return null;
    const header = readAt(fd, WAL_HEADER, 0);
    const magic = header.readUInt32BE(0);
    if ((magic !== 0x377f0682 && magic !== 0x377f0683) || header.readUInt32BE(8) !== pageSize) return null;
    const salt1 = header.readUInt32BE(16);
    const salt2 = header.readUInt32BE(20);
    const state: WalState = { pages: new Set(), dbPages: 0 };
    let pending: number[] = [];
    for (let at = WAL_HEADER; at + FRAME_HEADER + pageSize <= size; at += FRAME_HEADER + pageSize) {
      const frame = readAt(fd, FRAME_HEADER, at);
      if (frame.readUInt32BE(8) !== salt1 || frame.readUInt32BE(12) !== salt2) break;
      pending.push(frame.readUInt32BE(0));
      const commit = frame.readUInt32BE(4);
      if (commit > 0) {
        for (const p of pending) state.pages.add(p);
        pending = [];
        state.dbPages = commit;
      }
    }
    return state;
  } finally {
    closeSync(fd);
  }
}

/**
 * What is wrong with the file itself, or null. `deep` also reads the WAL, so
 * a main file shorter than its pages is judged exactly; without it (every
 * command), only when there is no WAL to hold the missing pages.
 */
function fileProblem(path: string, deep: boolean): string | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? null : `cannot be read (${(e as NodeJS.ErrnoException).code})`;
  }
  let size: number;
  let header: Buffer;
  try {
    size = fstatSync(fd).size;
    header = readAt(fd, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (size === 0) return "is empty (0 bytes)";
  if (header.length < 100 || header.subarray(0, 16).toString("latin1") !== SQLITE_MAGIC) return "is not a SQLite database";
  const rawPageSize = header.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65_536 : rawPageSize;
  // The header's page count is valid only when written by the same change as the counter at 24.
  const headerPages = header.readUInt32BE(92) === header.readUInt32BE(24) ? header.readUInt32BE(28) : 0;
  const walPath = `${path}-wal`;
  const walSize = existsSync(walPath) ? statSync(walPath).size : 0;
  let needed = headerPages;
  if (walSize > WAL_HEADER) {
    if (!deep) return null;
    const wal = readWal(walPath, pageSize);
    if (wal && wal.dbPages > 0) {
      // Pages the WAL holds need not be in the main file: the highest page that is not there must be.
      needed = wal.dbPages;
      while (needed > 0 && wal.pages.has(needed)) needed--;
    }
  }
  if (needed > 0 && size < needed * pageSize) return `is truncated (${size.toLocaleString("en")} of ${(needed * pageSize).toLocaleString("en")} bytes)`;
  return null;
}

/** The cheap check of every command (a stat and 100 bytes per file). */
export function checkStoreFiles(storeDir: string): void {
  for (const file of databaseFiles(storeDir)) {
    const problem = fileProblem(file, false);
    if (problem) throw new DamagedStoreError(storeDir, file, problem);
  }
}

type SqliteModule = typeof import("node:sqlite");

/** node:sqlite, where this Node has it (22.5 and later), without its experimental warning. */
async function loadSqlite(): Promise<SqliteModule | null> {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning).includes("SQLite")) return;
    return (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return (await import("node:sqlite")) as SqliteModule;
  } catch {
    return null;
  } finally {
    process.emitWarning = emit;
  }
}

/** SQLITE_CORRUPT and SQLITE_NOTADB: the file is damaged (other failures, e.g. no -shm to open with, are not judged). */
function isCorrupt(error: unknown): boolean {
  const code = (error as { errcode?: unknown }).errcode;
  if (typeof code === "number") return (code & 0xff) === 11 || (code & 0xff) === 26;
  return /malformed|not a database/i.test(String((error as Error)?.message));
}

/** Tables and applied migrations, read-only; null when node:sqlite is not there or cannot open the file. */
async function readSchema(path: string): Promise<{ tables: string[]; applied: string[] | null } | { corrupt: string } | null> {
  const sqlite = await loadSqlite();
  if (!sqlite) return null;
  let db: InstanceType<SqliteModule["DatabaseSync"]> | null = null;
  try {
    db = new sqlite.DatabaseSync(path, { readOnly: true });
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
    const applied = tables.includes(MIGRATIONS_TABLE)
      ? (db.prepare(`SELECT name FROM ${MIGRATIONS_TABLE}`).all() as { name: string }[]).map((r) => r.name)
      : null;
    return { tables, applied };
  } catch (error) {
    return isCorrupt(error) ? { corrupt: (error as Error).message } : null;
  } finally {
    db?.close();
  }
}

/** The check before a Worker starts on the store: the files exactly, then the tables. */
export async function checkStoreBeforeStart(storeDir: string, migrations: readonly Migration[]): Promise<void> {
  for (const file of databaseFiles(storeDir)) {
    const problem = fileProblem(file, true);
    if (problem) throw new DamagedStoreError(storeDir, file, problem);
    const schema = await readSchema(file);
    if (!schema) continue;
    if ("corrupt" in schema) throw new DamagedStoreError(storeDir, file, `cannot be read (${schema.corrupt})`);
    const wrong = schemaProblem(schema.tables, schema.applied, migrations);
    if (wrong) throw new DamagedStoreError(storeDir, file, wrong);
  }
}
