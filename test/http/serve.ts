/**
 * Serve a fetch handler (the Hono app) on 127.0.0.1 at a random port over
 * real HTTP, for tests of the HTTP adapter: requests cross a socket, with
 * headers, status codes and bodies encoded as they are in production.
 */
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";

export interface Served {
  url: string;
  close(): Promise<void>;
}

export async function serveOnLoopback(fetch: (request: Request) => Response | Promise<Response>): Promise<Served> {
  // overrideGlobalObjects: false keeps the test process's own Request/Response.
  const server = createAdaptorServer({ fetch, overrideGlobalObjects: false });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
