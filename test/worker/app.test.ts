/**
 * The API in Node on the memory repository, through `app.request`: the shared
 * suite (api-suite.ts), the OpenAPI document against the route table, and
 * the `hc` client types flowing from the chained routes.
 */
import { hc } from "hono/client";
import { describe, expect, it } from "vitest";
import { RepositoryError, TaskError } from "redun-edge";
import { createMemoryRepository } from "redun-edge/memory";
import { createApp, openApiDocument, type AppType } from "redun-edge/worker";
import { appHarness, memoryCounts, runApiSuite } from "./api-suite.ts";

runApiSuite("memory (Node)", async () => {
  const repository = createMemoryRepository();
  return appHarness(repository, memoryCounts(repository));
});

describe("createApp", () => {
  const app = createApp({ repository: createMemoryRepository() });

  it("documents every route in the OpenAPI document, and nothing else", () => {
    const routes = app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    const documented = Object.entries(openApiDocument().paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m} ${path}`));
    expect(new Set(routes)).toEqual(new Set(documented));
    expect(new Set(routes).size).toBe(18);
  });

  it("refuses to start without a repository", () => {
    expect(() => createApp({} as never)).toThrow(/repository/);
  });

  it("hides internal and storage errors behind a generic 500 naming the request id it logs them under", async () => {
    const repository = createMemoryRepository();
    const failures: [string, Error][] = [
      ["internal", new Error("secret detail")],
      ["repository", new RepositoryError("d1: query failed: D1_ERROR: no such table: executions: SQLITE_ERROR", { cause: new Error("SQLITE_ERROR") })],
      ["internal", new TaskError("t", "j", { cause: new Error("secret detail") })],
    ];
    for (const [code, failure] of failures) {
      const broken = createApp({ repository: { ...repository, query: async () => { throw failure; } } });
      const errors: unknown[][] = [];
      const original = console.error;
      console.error = (...args: unknown[]) => void errors.push(args);
      try {
        const res = await broken.request("/api/records");
        expect(res.status).toBe(500);
        const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
        const id = body.error.requestId;
        expect(id).toMatch(/^[0-9a-f-]{36}$/);
        expect(body).toEqual({ error: { code, message: `internal error (request ${id})`, requestId: id } });
        expect(res.headers.get("x-request-id")).toBe(id);
        expect(errors).toHaveLength(1);
        expect(String(errors[0]![0])).toContain(id);
        expect(errors[0]).toContain(failure);
      } finally {
        console.error = original;
      }
    }
  });

  it("types requests and answers for hono's hc client", async () => {
    const repository = createMemoryRepository();
    const typed = createApp({ repository });
    const client = hc<AppType>("http://api.test", { fetch: (input: RequestInfo | URL, init?: RequestInit) => typed.request(input instanceof URL ? input.href : input, init) });
    const health = await client.api.health.$get();
    const body = await health.json();
    expect(body.repository.name).toBe("memory");
    const page = await client.api.records.$get({ query: { type: ["Execution"], limit: "5" } });
    const json = await page.json();
    expect(json.records).toEqual([]);
    expect(json.cursor).toBeNull();
    const pushed = await client.api.sync.push.$post({ json: { records: [] } });
    expect(pushed.status).toBe(200);
    const edit = await client.api.records[":prefix"].tags.$post({ param: { prefix: "ffff" }, json: { op: "add", tags: ["k=v"] } });
    expect(edit.status).toBe(404);
  });

  it("reports its own time in Server-Timing only when asked (for benchmarks)", async () => {
    const repository = createMemoryRepository();
    const plain = await createApp({ repository }).request("/api/health");
    expect(plain.headers.get("server-timing")).toBeNull();
    const timed = await createApp({ repository, serverTiming: true }).request("/api/health");
    expect(timed.headers.get("server-timing")).toMatch(/total;dur=[\d.]+/);
  });
});
