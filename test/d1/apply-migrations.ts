/**
 * Setup file of the workers project: applies adapters/d1/migrations (read in
 * Node by vitest.workers.config.ts, passed in as TEST_MIGRATIONS) to the test
 * databases. Runs before each test file; applyD1Migrations skips migrations
 * already applied, so repeating it is harmless.
 */
import { applyD1Migrations, type D1Migration } from "cloudflare:test";
import { env } from "cloudflare:workers";

for (const binding of ["DB", "DB_OTHER"]) {
  await applyD1Migrations(env[binding], env.TEST_MIGRATIONS as D1Migration[]);
}
