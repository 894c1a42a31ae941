/**
 * Setup file of the workers project: applies adapters/d1/migrations (read in
 * Node by vitest.workers.config.ts with local/package.ts, passed in as
 * TEST_MIGRATIONS) to the test databases, with the function the local store,
 * `npm run dev` and the benchmarks use. Runs before each test file; migrations
 * already applied are skipped, so repeating it is harmless.
 */
import { env } from "cloudflare:workers";
import type { D1Like } from "../../adapters/d1/index.ts";
import { applyMigrations, type Migration } from "../../local/migrations.ts";

for (const binding of ["DB", "DB_OTHER"]) {
  await applyMigrations(env[binding] as D1Like, env.TEST_MIGRATIONS as Migration[]);
}
