import { readFileSync } from "node:fs";
import { playwright } from "@vitest/browser-playwright";
import { defineProject } from "vitest/config";
import { readRedunRows } from "./local/redun-db.ts";
import { rowsToJson } from "./test/redun/rows-json.ts";

/**
 * Real Chromium (Debian's, at /usr/bin/chromium or $CHROMIUM_PATH) for the
 * IndexedDB adapter and the notebook example. The flags keep Chromium quiet on
 * a closed network and let it run as root.
 */
export default defineProject({
  test: {
    name: "browser",
    include: ["test/**/*.browser.test.ts"],
    testTimeout: 300_000,
    // REDUN_BENCH=1 runs the Chromium measurements (test/indexeddb/bench.browser.test.ts).
    env: { REDUN_BENCH: process.env.REDUN_BENCH ?? "" },
    browser: {
      enabled: true,
      // The redun fixture, read in Node (a browser cannot read SQLite), and redun's transcript (test/redun/import.browser.test.ts).
      commands: {
        redunFixture: () => ({
          rows: rowsToJson(readRedunRows("./test/redun/fixtures/redun.db")),
          final: readFileSync("./test/redun/fixtures/final.txt", "utf8"),
        }),
      },
      headless: true,
      provider: playwright({
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
          ],
        },
      }),
      instances: [{ browser: "chromium" }],
    },
  },
});
