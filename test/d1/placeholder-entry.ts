/**
 * Stand-in Worker entry for the workers test project while worker/entry.ts
 * does not exist yet (the plugin needs a `main` to start). Serves nothing.
 */
export default {
  async fetch(): Promise<Response> {
    return new Response("redun-edge: no worker entry yet", { status: 404 });
  },
};
