import { readFileSync } from "node:fs";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineProject } from "vitest/config";
import { readRedunRows } from "./local/redun-db.ts";
import { readMigrations } from "./local/package.ts";
import { rowsToJson } from "./test/redun/rows-json.ts";

/**
 * Tests that run inside workerd (D1 adapter, the Worker) against a real local
 * D1. Migrations are read here, in Node, and handed to the setup file as a
 * binding, which applies them inside the runtime.
 */
export default defineProject({
  plugins: [
    cloudflareTest(async () => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        // A second database, for tests that copy one store into another; a third left empty, for migrating.
        d1Databases: { DB_OTHER: "redun-edge-other", DB_MIGRATE: "redun-edge-migrate" },
        bindings: {
          TEST_MIGRATIONS: readMigrations(),
          // Opt-in measurements (test/d1/measure.workers.test.ts).
          D1_MEASURE: process.env.D1_MEASURE ?? "",
          D1_MEASURE_EXECUTIONS: process.env.D1_MEASURE_EXECUTIONS ?? "",
          // The redun fixture, read here with node:sqlite, and redun's transcript (test/redun/import.workers.test.ts).
          REDUN_ROWS: rowsToJson(readRedunRows("./test/redun/fixtures/redun.db")),
          REDUN_FINAL: readFileSync("./test/redun/fixtures/final.txt", "utf8"),
        },
      },
    })),
  ],
  test: {
    name: "workers",
    include: ["test/**/*.workers.test.ts"],
    setupFiles: ["./test/d1/apply-migrations.ts"],
    testTimeout: 60_000,
  },
});
