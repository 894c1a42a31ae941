import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "node",
    environment: "node",
    include: ["test/**/*.test.ts"],
    exclude: ["test/**/*.workers.test.ts", "test/**/*.browser.test.ts"],
    testTimeout: 60_000,
  },
});
