/**
 * Migrating wrangler's local D1 state (`.wrangler/state`, or a `--persist-to`
 * folder) before `wrangler dev` serves it: `npm run dev` uses this rather than
 * `wrangler d1 migrations apply`, so every database redun-edge makes is
 * migrated by local/migrations.ts. Miniflare opens the file wrangler does (its
 * `v3/` layout, the database id of wrangler.toml), as the CLI's local store does.
 */
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { applyMigrations } from "./migrations.ts";
import { packageRoot, readMigrations, wranglerSettings } from "./package.ts";

/** Apply the pending migrations to the D1 database kept under `stateDir`; returns the names applied. */
export async function migrateWranglerState(stateDir: string, pkg = packageRoot()): Promise<string[]> {
  const { Miniflare, Log, LogLevel } = createRequire(import.meta.url)("miniflare") as typeof import("miniflare");
  const settings = wranglerSettings(pkg);
  const mf = new Miniflare({
    workers: [
      {
        config: {
          name: "redun-edge-migrate",
          compatibilityDate: settings.compatibilityDate,
          manifest: { mainModule: "worker.mjs", modules: { "worker.mjs": { type: "esm", contents: "export default { fetch() { return new Response(null, { status: 404 }); } }" } } },
          env: { DB: { type: "d1", id: settings.d1Id } },
        },
      },
    ],
    resourcePersistencePath: join(resolve(pkg, stateDir), "v3"),
    enableDevRegistry: false,
    telemetry: { enabled: false },
    log: new Log(LogLevel.ERROR),
  });
  try {
    return await applyMigrations(await mf.getD1Database("DB"), readMigrations(pkg));
  } finally {
    await mf.dispose();
  }
}
