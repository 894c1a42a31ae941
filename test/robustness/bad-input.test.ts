/**
 * The bad-input table (bad-input.ts) sent to the app in Node, over the memory
 * store (rows counted in its raw Maps) and over fake-indexeddb (rows counted
 * by reading its object stores).
 */
import { IDBFactory } from "fake-indexeddb";
import "fake-indexeddb/auto";
import { createMemoryRepository } from "redun-edge/memory";
import { indexedDbHarness } from "../indexeddb/harness.ts";
import { RECORD_TYPES, appHarness, memoryCounts } from "../worker/api-suite.ts";
import { runBadInputSuite } from "./bad-input.ts";

runBadInputSuite("memory (Node)", async () => {
  const repository = createMemoryRepository();
  return appHarness(repository, memoryCounts(repository));
});

runBadInputSuite("indexeddb (fake-indexeddb, Node)", async () => {
  const h = await indexedDbHarness(new IDBFactory());
  return appHarness(h.repository, async () => Object.fromEntries(await Promise.all(RECORD_TYPES.map(async (type) => [type, (await h.raw.ids(type)).length] as const))));
});
