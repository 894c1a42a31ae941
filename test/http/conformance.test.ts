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
  const server = await serveOnLoopback(createApp({ repository: store }).fetch);
  return {
    repository: createHttpRepository({ url: server.url }),
    raw: { ids: async (type) => [...(store.raw.get(type)?.keys() ?? [])] },
    cleanup: () => server.close(),
  };
});
