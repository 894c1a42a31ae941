/**
 * Conformance harness for the IndexedDB adapter, shared by the Node
 * (fake-indexeddb) and Chromium runs: a fresh database per harness, and a raw
 * reader that opens the object stores itself, not through the adapter.
 */
import { createIndexedDbRepository, type RedunEdgeDB } from "redun-edge/indexeddb";
import type { RecordType } from "redun-edge";
import { wrap, type IDBPDatabase } from "idb";
import type { ConformanceHarness } from "../conformance/harness.ts";

let counter = 0;

export async function indexedDbHarness(factory: IDBFactory = globalThis.indexedDB): Promise<ConformanceHarness> {
  const name = `redun-edge-test-${Date.now()}-${++counter}-${Math.random().toString(36).slice(2)}`;
  const repository = createIndexedDbRepository({ name, indexedDB: factory });
  const db = wrap(await repository.database()) as unknown as IDBPDatabase<RedunEdgeDB>;
  return {
    repository,
    raw: {
      async ids(type: RecordType): Promise<string[]> {
        if (type === "Execution") return db.getAllKeys("exec");
        if (type === "Tag") return db.getAllKeys("tag");
        const segs = await db.getAll("seg");
        return segs.flatMap((s) => s.recs.filter((r) => r.type === type).map((r) => r.id));
      },
    },
    async cleanup() {
      await repository.close();
      await new Promise<void>((resolve) => {
        const req = factory.deleteDatabase(name);
        req.onsuccess = req.onerror = req.onblocked = () => resolve();
      });
    },
  };
}
