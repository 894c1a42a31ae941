/**
 * The Worker entry: the app over the D1 binding `DB`. Configuration comes
 * from the environment so one build serves every deployment:
 * - API_TOKEN (a secret: `wrangler secret put API_TOKEN`): writes need it;
 * - API_READ_TOKEN (a secret): reads need it (or API_TOKEN); READS_NEED_TOKEN=1
 *   makes reads need API_TOKEN instead. Unset: reads are open;
 * - CORS_ORIGINS: `*` or a comma-separated list of origins allowed to call
 *   the API from a browser (unset: no CORS headers);
 * - MAX_BODY_BYTES: request body limit (default 10 MB);
 * - SERVER_TIMING: `1` adds a Server-Timing header (time spent in the Worker) to every response;
 * - TRUST_WRITERS: `1` or `0`, whether a scheduler writing through POST
 *   /api/repository/write may replace cache Evaluations (default: when
 *   API_TOKEN is set, or in the CLI's own local store, LOCAL_SECRET; README, "Trust").
 */
import type { ExecutionContext } from "hono";
import { createD1Repository, type D1Like } from "../adapters/d1/index.ts";
import { createApp, type AppOptions } from "./app.ts";

export interface Env {
  DB: D1Like;
  API_TOKEN?: string;
  API_READ_TOKEN?: string;
  READS_NEED_TOKEN?: string;
  CORS_ORIGINS?: string;
  MAX_BODY_BYTES?: string;
  SERVER_TIMING?: string;
  TRUST_WRITERS?: string;
  /** Set by the CLI's local store (local/worker.ts): it answers only its own CLI, whose runs it records. */
  LOCAL_SECRET?: string;
}

type App = ReturnType<typeof createApp>;

/** One app per binding and configuration; a Worker isolate serves many requests. */
const apps = new WeakMap<object, { key: string; app: App }>();

export function appOptions(env: Env): Omit<AppOptions, "repository"> {
  const origins = (env.CORS_ORIGINS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const maxBody = Number(env.MAX_BODY_BYTES);
  return {
    token: env.API_TOKEN || undefined,
    readToken: env.API_READ_TOKEN || (env.READS_NEED_TOKEN === "1" ? true : undefined),
    cors: origins.length === 0 ? undefined : origins.includes("*") ? true : origins,
    maxBodyBytes: Number.isInteger(maxBody) && maxBody > 0 ? maxBody : undefined,
    ...(env.SERVER_TIMING === "1" ? { serverTiming: true } : {}),
    trustWriters: env.TRUST_WRITERS === "1" || (env.TRUST_WRITERS !== "0" && Boolean(env.API_TOKEN || env.LOCAL_SECRET)),
  };
}

function appFor(env: Env): App {
  const key = JSON.stringify(Object.values(appOptions(env)));
  const hit = apps.get(env.DB);
  if (hit && hit.key === key) return hit.app;
  const app = createApp({ repository: createD1Repository(env.DB), ...appOptions(env) });
  apps.set(env.DB, { key, app });
  return app;
}

export default {
  fetch(request: Request, env: Env, ctx?: ExecutionContext): Response | Promise<Response> {
    if (!env?.DB) {
      const error = { code: "internal", message: "the Worker has no D1 binding named DB (see wrangler.toml)" };
      return Response.json({ error }, { status: 500 });
    }
    let app: App;
    try {
      app = appFor(env);
    } catch (error) {
      // A configuration that cannot be served (READS_NEED_TOKEN=1 without API_TOKEN): closed, and saying why.
      return Response.json({ error: { code: "internal", message: `the Worker is misconfigured: ${(error as Error).message}` } }, { status: 500 });
    }
    return app.fetch(request, env, ctx);
  },
};
