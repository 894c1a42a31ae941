/**
 * `redun-edge inspect`: the web inspector (dist/inspector) over a store, on
 * a loopback port. The page is the one the Worker serves at `/`; its `/api`
 * requests are passed on to the store: the local store's Worker (whose
 * loopback port only answers requests carrying its secret, which this
 * server adds) or a remote's URL.
 *
 * The printed URL carries a one-time key: the first visit trades it for a
 * cookie, and `/api` answers only requests with that cookie, so other users
 * of the machine and other web pages cannot reach the store through this
 * port. Requests naming another host are refused (DNS rebinding).
 */
import { timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { SECURITY_HEADERS } from "../worker/inspector-headers.ts";
import { CliError } from "./errors.ts";
import type { FetchLike } from "../local/store.ts";

export interface InspectServerOptions {
  /** Folder of the built page (dist/inspector). */
  dir: string;
  /** Where `/api/*` goes; without it `/api` answers 404 (a page over IndexedDB only). */
  api?: { url: string; fetch?: FetchLike | undefined; headers?: Record<string, string> | undefined } | undefined;
  host?: string;
  /** 0 (default): any free port. */
  port?: number;
  /** When set, `/api` needs the cookie a visit to `/?key=KEY` sets. */
  key?: string | undefined;
}

export interface InspectServer {
  /** The page's URL (with `?key=` when a key is set). */
  url: string;
  origin: string;
  close(): Promise<void>;
}

const FILES: Record<string, string> = {
  "/": "index.html",
  "/index.html": "index.html",
  "/app.js": "app.js",
  "/app.css": "app.css",
};
const TYPES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
};
const COOKIE = "redun_edge_inspect";
/** Request headers passed on to the store. */
const FORWARDED = ["accept", "content-type", "authorization"];

function send(res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "cache-control": "no-cache", ...headers });
  res.end(body);
}

function apiError(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, JSON.stringify({ error: { code, message } }), { "content-type": "application/json" });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function cookieOf(req: IncomingMessage): string | null {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === COOKIE) return value.join("=");
  }
  return null;
}

function sameSecret(a: string | null, b: string): boolean {
  if (a === null || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** Serve the page and pass `/api` on to the store. */
export async function serveInspector(options: InspectServerOptions): Promise<InspectServer> {
  const host = options.host ?? "127.0.0.1";
  const files = new Map<string, Buffer>();
  for (const name of new Set(Object.values(FILES))) {
    const path = join(options.dir, name);
    if (!existsSync(path)) throw new CliError(`the inspector is not built (no ${path}); run: npm run build`);
    files.set(name, readFileSync(path));
  }
  let hosts = new Set<string>();
  const server = createServer((req, res) => {
    void (async () => {
      if (!hosts.has(req.headers.host ?? "")) return send(res, 403, "this server answers only at its own address\n", { "content-type": "text/plain" });
      const url = new URL(req.url ?? "/", "http://localhost");
      if (url.pathname.startsWith("/api/")) {
        if (!options.api) return apiError(res, 404, "route_not_found", "this page has no store of its own (open it with ?db=NAME)");
        if (options.key && !sameSecret(cookieOf(req), options.key)) {
          return apiError(res, 403, "forbidden", "open the URL that redun-edge inspect printed (it carries the key)");
        }
        const headers: Record<string, string> = { ...options.api.headers };
        for (const name of FORWARDED) {
          const value = req.headers[name];
          if (typeof value === "string") headers[name] = value;
        }
        const body = req.method === "GET" || req.method === "HEAD" ? undefined : (await readBody(req)).toString("utf8");
        try {
          const upstream = await (options.api.fetch ?? fetch)(`${options.api.url}${url.pathname}${url.search}`, {
            method: req.method ?? "GET",
            headers,
            ...(body !== undefined ? { body } : {}),
          });
          return send(res, upstream.status, await upstream.text(), { "content-type": upstream.headers.get("content-type") ?? "application/json" });
        } catch (error) {
          return apiError(res, 502, "store_unreachable", `the store did not answer: ${(error as Error).message}`);
        }
      }
      if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "method not allowed\n", { "content-type": "text/plain" });
      const name = FILES[url.pathname];
      if (!name) return send(res, 404, "not found\n", { "content-type": "text/plain" });
      if (options.key && url.searchParams.get("key") === options.key) {
        // Trade the URL's key for a cookie, and drop it from the address bar.
        return send(res, 302, "", { location: "/", "set-cookie": `${COOKIE}=${options.key}; HttpOnly; SameSite=Strict; Path=/` });
      }
      return send(res, 200, files.get(name)!, { "content-type": TYPES[name]! });
    })().catch((error: unknown) => {
      if (!res.headersSent) apiError(res, 500, "internal", (error as Error).message);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  hosts = new Set([`${host}:${port}`, `127.0.0.1:${port}`, `localhost:${port}`]);
  const origin = `http://${host}:${port}`;
  return {
    origin,
    url: options.key ? `${origin}/?key=${options.key}` : `${origin}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
