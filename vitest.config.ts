import { existsSync } from "node:fs";
import { defineConfig } from "vitest/config";

/**
 * Three projects: plain Node (core, memory, fake-indexeddb, the app on memory,
 * CLI), workerd (D1 and the Worker, via @cloudflare/vitest-plugin) and a real
 * Chromium (IndexedDB and the notebook), run only where Chromium is installed.
 */
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const projects = ["./vitest.node.config.ts"];
if (existsSync("./vitest.workers.config.ts")) projects.push("./vitest.workers.config.ts");
if (existsSync("./vitest.browser.config.ts") && existsSync(chromium)) projects.push("./vitest.browser.config.ts");

export default defineConfig({ test: { projects } });
