/**
 * Is a local store's database the store it should be? Shared by the CLI
 * (local/check.ts reads the file with node:sqlite before any Worker
 * starts) and the local Worker (local/worker.ts asks D1 just before it
 * would apply migrations), so both judge alike. No platform imports: it is
 * bundled into the Worker.
 */
import { MIGRATIONS_TABLE, type Migration } from "./migrations.ts";

const IDENT = String.raw`["\x60\[]?(\w+)["\x60\]]?`;
const CREATE = new RegExp(String.raw`^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?${IDENT}`, "i");
const DROP = new RegExp(String.raw`^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?${IDENT}`, "i");
const RENAME = new RegExp(String.raw`^ALTER\s+TABLE\s+${IDENT}\s+RENAME\s+TO\s+${IDENT}`, "i");

/** The tables the migrations named `applied` leave behind, replayed in name order. */
export function tablesAfter(migrations: readonly Migration[], applied: ReadonlySet<string>): Set<string> {
  const tables = new Set<string>();
  for (const m of [...migrations].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!applied.has(m.name)) continue;
    for (const statement of m.queries) {
      let match: RegExpExecArray | null;
      if ((match = CREATE.exec(statement))) tables.add(match[1]!);
      else if ((match = DROP.exec(statement))) tables.delete(match[1]!);
      else if ((match = RENAME.exec(statement))) {
        tables.delete(match[1]!);
        tables.add(match[2]!);
      }
    }
  }
  return tables;
}

/** Tables of SQLite and of workerd's storage, present in any database. */
function isInternal(table: string): boolean {
  return table.startsWith("sqlite_") || table.startsWith("_cf_");
}

/**
 * What is wrong with a database holding `tables`, whose migrations table
 * (when there is one) lists `applied`, as words that follow "the database";
 * null when nothing is. A database with
 * no tables of its own is a new store. One with tables but no migrations
 * table, or missing a table its applied migrations made, is damaged (or not
 * a redun-edge store): opening it as a store would show it empty, or write
 * into someone else's data.
 */
export function schemaProblem(tables: readonly string[], applied: readonly string[] | null, migrations: readonly Migration[]): string | null {
  const present = new Set(tables);
  const unmigrated = applied === null || applied.length === 0 || !present.has(MIGRATIONS_TABLE);
  if (unmigrated) {
    // A first start stopped before its first migration leaves at most an empty migrations table.
    const own = tables.filter((t) => !isInternal(t) && t !== MIGRATIONS_TABLE);
    if (own.length === 0) return null;
    const which = present.has(MIGRATIONS_TABLE) ? `an empty ${MIGRATIONS_TABLE} table` : `no ${MIGRATIONS_TABLE} table`;
    return `holds tables (${own.slice(0, 3).join(", ")}${own.length > 3 ? ", ..." : ""}) but ${which}`;
  }
  const missing = [...tablesAfter(migrations, new Set(applied))].filter((t) => !present.has(t));
  if (missing.length) return `lacks table${missing.length > 1 ? "s" : ""} ${missing.slice(0, 3).join(", ")}${missing.length > 3 ? ", ..." : ""} that its migrations made`;
  return null;
}
