/**
 * The one way redun-edge applies its D1 migrations (adapters/d1/migrations),
 * for every database it makes: the CLI's local store (inside its Worker),
 * `npm run dev`, the benchmarks and the tests. Recorded in `d1_migrations`
 * as wrangler records them, so `wrangler d1 migrations list` agrees, and the
 * list has the shape of wrangler's and `@cloudflare/vitest-plugin`'s
 * `D1Migration`. No platform imports: it runs in workerd and in Node (over
 * Miniflare's D1 proxy, where each call costs several milliseconds, hence
 * one batch per migration). The files are read by local/migration-files.ts.
 */
import type { D1Like } from "../adapters/d1/index.ts";

export const MIGRATIONS_TABLE = "d1_migrations";

/** One migration file: its name (`0001_init.sql`) and its statements. */
export interface Migration {
  name: string;
  queries: string[];
}

/** The names recorded in `d1_migrations`, or null when the table is not there. */
export async function appliedMigrations(db: D1Like): Promise<string[] | null> {
  const { results } = await db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?").bind(MIGRATIONS_TABLE).all<{ name: string }>();
  if (!results.length) return null;
  return (await db.prepare(`SELECT name FROM ${MIGRATIONS_TABLE}`).all<{ name: string }>()).results.map((r) => r.name);
}

/**
 * Apply the migrations not yet recorded, in the order given (name order).
 * Each is one batch with its record, so D1 runs it as one transaction and a
 * failed migration leaves nothing behind. Returns the names applied.
 */
export async function applyMigrations(db: D1Like, migrations: readonly Migration[]): Promise<string[]> {
  await db
    .prepare(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)`)
    .run();
  const done = new Set(await appliedMigrations(db));
  const applied: string[] = [];
  for (const m of migrations) {
    if (done.has(m.name)) continue;
    await db.batch([...m.queries.map((q) => db.prepare(q)), db.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (name) VALUES (?)`).bind(m.name)]);
    applied.push(m.name);
  }
  return applied;
}
