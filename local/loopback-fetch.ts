import { createRequire } from "node:module";

/**
 * fetch() for the loopback server over node:http. Node's global fetch loads
 * undici on first use, ~60 ms of CPU per command, a fifth of the budget of a
 * `log`; node:http is already in the snapshot. Returns the part of Response
 * the HTTP adapter uses.
 */
// `require`, not `import`: the ESM facade of node:http evaluates its lazy exports, which loads undici.
const http = createRequire(import.meta.url)("node:http") as typeof import("node:http");
const agent = new http.Agent({ keepAlive: true });

export function loopbackFetch(input: string, init: RequestInit = {}, timeoutMs = 120_000): Promise<Response> {
  return new Promise((resolvePromise, reject) => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    const body = init.body === undefined || init.body === null ? undefined : String(init.body);
    const req = http.request(
      input,
      {
        method: init.method ?? "GET",
        headers: body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) },
        agent,
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => resolvePromise(liteResponse(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString("utf8"))));
      },
    );
    req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer from ${input} in ${timeoutMs / 1000} s`), { code: "ETIMEDOUT" })));
    req.on("error", reject);
    req.end(body);
  });
}

function liteResponse(status: number, raw: Record<string, string | string[] | undefined>, text: string): Response {
  const lite = {
    ok: status >= 200 && status < 300,
    status,
    statusText: "",
    headers: { get: (name: string) => { const v = raw[name.toLowerCase()]; return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v; } },
    text: async () => text,
    json: async () => JSON.parse(text) as unknown,
    arrayBuffer: async () => new TextEncoder().encode(text).buffer,
  };
  return lite as unknown as Response;
}
