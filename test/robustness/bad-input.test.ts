/**
 * The bad-input table (bad-input.ts) sent to the app in Node, over the memory
 * store (rows counted in its raw Maps) and over fake-indexeddb (rows counted
 * by reading its object stores).
 */
import { IDBFactory } from "fake-indexeddb";
import "fake-indexeddb/auto";
import type { RecordType } from "redun-edge";
import { createMemoryRepository } from "redun-edge/memory";
import { createApp } from "redun-edge/worker";
import { indexedDbHarness } from "../indexeddb/harness.ts";
import { RECORD_TYPES } from "../worker/api-suite.ts";
import { runBadInputSuite } from "./bad-input.ts";

runBadInputSuite("memory (Node)", async () => {
  const repository = createMemoryRepository();
  return {
    repository,
    serve: (options = {}) => {
      const app = createApp({ repository, ...options });
      return async (path, init) => app.request(path, init);
    },
    counts: async () => Object.fromEntries([...repository.raw].map(([type, rows]) => [type, rows.size])),
  };
});

runBadInputSuite("indexeddb (fake-indexeddb, Node)", async () => {
  const h = await indexedDbHarness(new IDBFactory());
  return {
    repository: h.repository,
    serve: (options = {}) => {
      const app = createApp({ repository: h.repository, ...options });
      return async (path, init) => app.request(path, init);
    },
    counts: async () => Object.fromEntries(await Promise.all(RECORD_TYPES.map(async (type: RecordType) => [type, (await h.raw.ids(type)).length] as const))),
  };
});
