import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineProject } from "vitest/config";

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
          TEST_MIGRATIONS: await readD1Migrations("./adapters/d1/migrations"),
          // Opt-in measurements (test/d1/measure.workers.test.ts).
          D1_MEASURE: process.env.D1_MEASURE ?? "",
          D1_MEASURE_EXECUTIONS: process.env.D1_MEASURE_EXECUTIONS ?? "",
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
