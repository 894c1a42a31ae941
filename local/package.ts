/**
 * Where the package's own files are, found from this module (a checkout runs
 * local/*.ts, an install dist/local/*.js): the package root, wrangler.toml's
 * settings, and the D1 migrations, read once here for every user (local
 * store, `npm run dev`, bench, tests) and applied by local/migrations.ts.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LocalError } from "./errors.ts";
import type { Migration } from "./migrations.ts";
import { splitSql } from "./sql-split.ts";

/** The database id of wrangler.toml, so wrangler's local state and ours are one file. */
const FALLBACK_D1_ID = "00000000-0000-0000-0000-000000000000";
const FALLBACK_COMPAT_DATE = "2026-11-01";

/** The package root (its package.json names redun-edge), for the Worker sources and migrations. */
export function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  let dir = here;
  for (;;) {
    try {
      if ((JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string }).name === "redun-edge") return dir;
    } catch {
      // No package.json here.
    }
    const parent = dirname(dir);
    if (parent === dir) return resolve(here, "..");
    dir = parent;
  }
}

export interface WranglerSettings {
  compatibilityDate: string;
  d1Id: string;
}

export function wranglerSettings(root: string): WranglerSettings {
  let text = "";
  try {
    text = readFileSync(join(root, "wrangler.toml"), "utf8");
  } catch {
    // Not shipped: the defaults match it.
  }
  return {
    compatibilityDate: /^compatibility_date\s*=\s*"([^"]+)"/m.exec(text)?.[1] ?? FALLBACK_COMPAT_DATE,
    d1Id: /^database_id\s*=\s*"([^"]+)"/m.exec(text)?.[1] ?? FALLBACK_D1_ID,
  };
}

/** The D1 migration files (adapters/d1/migrations/*.sql), in name order. */
export function migrationFiles(pkg = packageRoot()): string[] {
  const dir = [join(pkg, "adapters", "d1", "migrations"), join(pkg, "dist", "adapters", "d1", "migrations")].find((d) => existsSync(d));
  if (!dir) throw new LocalError(`cannot find the D1 migrations (adapters/d1/migrations) under ${pkg}`);
  return readdirSync(dir).filter((f) => f.endsWith(".sql")).sort().map((f) => join(dir, f));
}

/** The migrations, split into statements (triggers hold semicolons: local/sql-split.ts), for applyMigrations. */
export function readMigrations(pkg = packageRoot()): Migration[] {
  return migrationFiles(pkg).map((file) => ({ name: file.split(/[\\/]/).pop()!, queries: splitSql(readFileSync(file, "utf8")) }));
}
