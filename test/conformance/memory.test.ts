import { createMemoryRepository } from "redun-edge/memory";
import { runConformanceSuite } from "./suite.ts";

runConformanceSuite("memory", async () => {
  const repository = createMemoryRepository();
  return { repository, raw: { ids: async (type) => [...(repository.raw.get(type)?.keys() ?? [])] } };
});
