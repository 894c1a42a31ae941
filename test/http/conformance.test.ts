/**
 * The shared conformance suite against createHttpRepository, over a real
 * HTTP round trip to createApp on a fresh memory repository (one server per
 * harness). The raw reader looks at the server-side memory store's Maps.
 */
import { createHttpRepository } from "redun-edge/http";
import { createMemoryRepository } from "redun-edge/memory";
import { createApp } from "redun-edge/worker";
import { runConformanceSuite } from "../conformance/suite.ts";
import { serveOnLoopback } from "./serve.ts";

runConformanceSuite("http (memory behind createApp, over 127.0.0.1)", async () => {
  const store = createMemoryRepository();
  // The store of a scheduler (trustWriters): its writes replace cache Evaluations as a local store's do.
  const server = await serveOnLoopback(createApp({ repository: store, trustWriters: true }).fetch);
  return {
    repository: createHttpRepository({ url: server.url }),
    raw: { ids: async (type) => [...(store.raw.get(type)?.keys() ?? [])] },
    cleanup: () => server.close(),
  };
});
