/**
 * Prefix resolution against a brute-force scan (prefix-resolution.ts) on the
 * memory store, on fake-indexeddb, and through the API over a real loopback
 * round trip (GET /api/records/:prefix: 404, 200 or 409 with candidates).
 */
import { IDBFactory } from "fake-indexeddb";
import "fake-indexeddb/auto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpClient, createHttpRepository } from "redun-edge/http";
import { createIndexedDbRepository } from "redun-edge/indexeddb";
import { createMemoryRepository } from "redun-edge/memory";
import { createApp } from "redun-edge/worker";
import { serveOnLoopback, type Served } from "../http/serve.ts";
import { checkPrefixResolution, expectedResolution, outcome, prefixDataset, writeDataset } from "./prefix-resolution.ts";

const data = prefixDataset();

describe("id prefix resolution, 10,000 executions, against a brute-force scan", () => {
  it("memory", async () => {
    const repository = createMemoryRepository();
    await writeDataset(repository, data);
    const tally = await checkPrefixResolution(repository, data);
    // The sample covers every outcome.
    expect(tally.unknown).toBeGreaterThan(10);
    expect(tally.unique).toBeGreaterThan(10);
    expect(tally.ambiguous).toBeGreaterThan(10);
  });

  it("indexeddb (fake-indexeddb)", async () => {
    const repository = createIndexedDbRepository({ name: `prefixes-${Date.now()}`, indexedDB: new IDBFactory() });
    try {
      await writeDataset(repository, data);
      await checkPrefixResolution(repository, data);
    } finally {
      await repository.close();
    }
  });

  describe("through the API (memory behind createApp, over 127.0.0.1)", () => {
    let server: Served;
    beforeAll(async () => {
      const store = createMemoryRepository();
      await writeDataset(store, data);
      server = await serveOnLoopback(createApp({ repository: store }).fetch);
    });
    afterAll(() => server.close());

    it("GET /api/records/:prefix answers 404, the record, or 409 with the candidates", async () => {
      const client = createHttpClient({ url: server.url });
      for (const prefix of data.prefixes) {
        const got = await client.show(prefix).then((d) => ({ type: d.record.type, id: d.record.id }), (e: unknown) => e);
        expect(outcome(got), prefix).toEqual(expectedResolution(data, prefix));
      }
    });

    it("the HTTP Repository's findByPrefix", async () => {
      await checkPrefixResolution(createHttpRepository({ url: server.url }), data);
    });
  });
});
