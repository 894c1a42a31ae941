/**
 * The Worker as the CLI runs it locally (bundled by local/store.ts, run by
 * Miniflare): worker/entry.ts unchanged, plus three things a local store needs
 * and a deployed one does not:
 * - D1 migrations applied on the first request of each isolate, inside
 *   workerd, where a statement costs well under a millisecond (from Node,
 *   through Miniflare's proxy, each costs several). They are recorded in
 *   `d1_migrations` as wrangler records them, so `wrangler d1 migrations`
 *   and the CLI agree about which ones ran.
 * - A shared secret on every request: workerd listens on a loopback port
 *   that any local user could reach.
 * - `/__local/status`: how long since the last API request, so the
 *   background server (local/server.ts) can stop when idle, and the
 *   server's id, so a command knows it reached its own server.
 * - Before migrating, the database is checked to be a store or a new one
 *   (local/schema.ts): a damaged one answers `damaged_store` and is
 *   not written to.
 */
import entry from "../worker/entry.ts";
import type { D1Like } from "../adapters/d1/index.ts";
import { appliedMigrations, applyMigrations, type Migration } from "./migrations.ts";
import { schemaProblem } from "./schema.ts";

/** Filled in at bundle time (esbuild `define`) from adapters/d1/migrations/*.sql, in name order (local/package.ts). */
declare const __REDUN_EDGE_MIGRATIONS__: Migration[];

interface LocalEnv {
  DB: D1Like;
  LOCAL_SECRET?: string;
  LOCAL_SERVER_ID?: string;
}

/** The database is not a store, and must not be migrated into one. */
class DamagedStore extends Error {}

let migrated: Promise<void> | null = null;
let lastRequest = Date.now();
let requests = 0;

/** What the tables say before anything is written (the CLI checked the file already where it could). */
async function checkSchema(db: D1Like): Promise<void> {
  let tables: string[];
  let applied: string[] | null;
  try {
    tables = (await db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all<{ name: string }>()).results.map((r) => r.name);
    applied = await appliedMigrations(db);
  } catch (error) {
    throw new DamagedStore(`cannot be read (${(error as Error)?.message ?? error})`);
  }
  const problem = schemaProblem(tables, applied, __REDUN_EDGE_MIGRATIONS__);
  if (problem) throw new DamagedStore(problem);
}

async function migrate(db: D1Like): Promise<void> {
  await checkSchema(db);
  await applyMigrations(db, __REDUN_EDGE_MIGRATIONS__);
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

export default {
  async fetch(request: Request, env: LocalEnv, ctx?: unknown): Promise<Response> {
    if (env.LOCAL_SECRET && request.headers.get("x-redun-edge-local") !== env.LOCAL_SECRET) {
      return json(403, { error: { code: "forbidden", message: "this local redun-edge store only answers its own CLI" } });
    }
    try {
      migrated ??= migrate(env.DB).catch((error: unknown) => {
        migrated = null;
        throw error;
      });
      await migrated;
    } catch (error) {
      if (error instanceof DamagedStore) return json(500, { error: { code: "damaged_store", message: error.message } });
      return json(500, { error: { code: "migration", message: `applying D1 migrations failed: ${(error as Error)?.message ?? error}` } });
    }
    const path = new URL(request.url).pathname;
    if (path === "/__local/status") {
      return json(200, {
        serverId: env.LOCAL_SERVER_ID ?? null,
        idleMs: Date.now() - lastRequest,
        requests,
        migrations: __REDUN_EDGE_MIGRATIONS__.map((m) => m.name),
      });
    }
    lastRequest = Date.now();
    requests++;
    return (entry.fetch as (r: Request, e: unknown, c?: unknown) => Response | Promise<Response>)(request, env, ctx);
  },
};
