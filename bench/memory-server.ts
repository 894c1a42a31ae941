/**
 * The memory server of the load benchmark (bench/load.ts): the Hono app over
 * the memory Repository, served by @hono/node-server on 127.0.0.1:PORT, in a
 * process of its own so the load's client does not share its event loop.
 * Prints `listening on URL` once it accepts requests; stops on SIGTERM.
 */
import { serve } from "@hono/node-server";
import { createMemoryRepository } from "../adapters/memory/index.ts";
import { createApp } from "../worker/app.ts";

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) {
  console.error("memory-server: set PORT");
  process.exit(2);
}
const server = serve({ fetch: createApp({ repository: createMemoryRepository() }).fetch, hostname: "127.0.0.1", port });
server.once("listening", () => console.log(`listening on http://127.0.0.1:${port}`));
server.once("error", (error) => {
  console.error(`memory-server: ${error.message}`);
  process.exit(1);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
