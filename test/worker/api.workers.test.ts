/**
 * The API inside workerd on a real D1: the shared suite (api-suite.ts) over
 * createD1Repository(env.DB), row counts read with raw SQL; then the Worker
 * entry itself (wrangler.toml's main), through `exports.default.fetch` and
 * with its environment (API_TOKEN, CORS_ORIGINS, MAX_BODY_BYTES).
 */
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { copyRecords, importRecords, type AnyRecord, type SkippedRecord } from "redun-edge";
import { createD1Repository, type D1Like } from "redun-edge/d1";
import { createHttpClient } from "redun-edge/http";
import { createMemoryRepository } from "redun-edge/memory";
import { createApp } from "redun-edge/worker";
import worker from "../../worker/entry.ts";
import { emptyDatabase, rowCounts } from "../d1/harness.ts";
import { answer, appHarness, json, recordsOfRun, runApiSuite } from "./api-suite.ts";

const db = env.DB as D1Like;

const counts = () => rowCounts(db);

runApiSuite("d1 (workerd)", async () => {
  await emptyDatabase(db);
  return appHarness(createD1Repository(db), counts);
});

describe("Worker entry (worker/entry.ts)", () => {
  beforeEach(async () => {
    await emptyDatabase(db);
  });

  const url = (path: string) => `https://redun-edge.test${path}`;

  it("serves the API over the D1 binding as the main Worker", async () => {
    const health = await answer(exports.default.fetch(url("/api/health")));
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ ok: true, repository: { name: "d1", persistent: true } });
    const records = await recordsOfRun("wendy");
    const pushed = await answer(exports.default.fetch(url("/api/sync/push"), json({ records })));
    expect(pushed.body).toEqual({ accepted: records.length });
    expect((await counts()).Execution).toBe(1);
    const found = await answer(exports.default.fetch(url("/api/records?tag=user=wendy")));
    const id = found.body.records[0].id as string;
    const edited = await answer(exports.default.fetch(url(`/api/records/${id.slice(0, 8)}/tags`), json({ op: "add", tags: ["ok=true"] })));
    expect(edited.body.written).toBe(1);
    const shown = await answer(exports.default.fetch(url(`/api/records/${id.slice(0, 8)}`)));
    expect(shown.body.record.tags).toContainEqual(["ok", true]);
    expect(shown.body.jobTree.children).toHaveLength(2);
    const bad = await answer(exports.default.fetch(url(`/api/records/${id}/tags`), json({ op: "add", tags: ["k={"] })));
    expect(bad.status).toBe(400);
  });

  it("needs API_TOKEN for writes when the secret is set, and reads stay open", async () => {
    const secured = { ...env, API_TOKEN: "worker-secret" } as Parameters<typeof worker.fetch>[1];
    const call = (path: string, init?: RequestInit) => answer(Promise.resolve(worker.fetch(new Request(url(path), init), secured)));
    const records = await recordsOfRun("xavier");
    const before = await counts();
    const denied = await call("/api/sync/push", json({ records }));
    expect(denied.status).toBe(401);
    expect(denied.body.error.code).toBe("unauthorized");
    expect(await counts()).toEqual(before);
    const wrong = await call("/api/sync/push", json({ records }, { authorization: "Bearer nope" }));
    expect(wrong.status).toBe(401);
    expect(await counts()).toEqual(before);
    const ok = await call("/api/sync/push", json({ records }, { authorization: "Bearer worker-secret" }));
    expect(ok.body).toEqual({ accepted: records.length });
    expect((await call("/api/records")).body.records).toHaveLength(1);
    expect((await call("/api/health")).body.writesNeedToken).toBe(true);
  });

  it("reads CORS_ORIGINS and MAX_BODY_BYTES from the environment", async () => {
    const configured = { ...env, CORS_ORIGINS: "https://a.example, https://b.example", MAX_BODY_BYTES: "2048" } as Parameters<typeof worker.fetch>[1];
    const call = (path: string, init?: RequestInit) => Promise.resolve(worker.fetch(new Request(url(path), init), configured));
    const res = await call("/api/health", { headers: { origin: "https://b.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBe("https://b.example");
    const records = await recordsOfRun("yara");
    const before = await counts();
    const big = await answer(call("/api/sync/push", json({ records })));
    expect(big.status).toBe(413);
    expect(await counts()).toEqual(before);
  });

  it("needs API_READ_TOKEN (or API_TOKEN) for reads when set, and READS_NEED_TOKEN=1 makes reads need API_TOKEN", async () => {
    const call = (extra: Record<string, string>, path: string, headers: Record<string, string> = {}) =>
      answer(Promise.resolve(worker.fetch(new Request(url(path), { headers }), { ...env, ...extra } as unknown as Parameters<typeof worker.fetch>[1])));
    const closed = { API_TOKEN: "w-secret", API_READ_TOKEN: "r-secret", CORS_ORIGINS: "https://nb.example" };
    const refused = await call(closed, "/api/records", { origin: "https://nb.example" });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe("https://nb.example");
    expect((await call(closed, "/api/records", { authorization: "Bearer r-secret" })).status).toBe(200);
    expect((await call(closed, "/api/sync/pull", { authorization: "Bearer w-secret" })).status).toBe(200);
    expect((await call(closed, "/api/health")).body).toMatchObject({ readsNeedToken: true, writesNeedToken: true });
    const one = { API_TOKEN: "w-secret", READS_NEED_TOKEN: "1" };
    expect((await call(one, "/api/records", { authorization: "Bearer r-secret" })).status).toBe(401);
    expect((await call(one, "/api/records", { authorization: "Bearer w-secret" })).status).toBe(200);
    // Unset: open, as the local default is.
    expect((await call({}, "/api/records")).status).toBe(200);
    // Asked to close reads with no token to close them with: closed, saying why.
    const misconfigured = await call({ READS_NEED_TOKEN: "1" }, "/api/records");
    expect(misconfigured.status).toBe(500);
    expect(misconfigured.body.error.message).toMatch(/misconfigured.*needs a token/);
  });

  it("trusts writers to replace cache entries when API_TOKEN or the CLI's LOCAL_SECRET is set, unless TRUST_WRITERS=0", async () => {
    const trusts = async (extra: Record<string, string>) => {
      const res = await answer(Promise.resolve(worker.fetch(new Request(url("/api/health")), { ...env, ...extra } as unknown as Parameters<typeof worker.fetch>[1])));
      return res.body.trustWriters as boolean;
    };
    expect(await trusts({})).toBe(false);
    expect(await trusts({ API_TOKEN: "t" })).toBe(true);
    expect(await trusts({ LOCAL_SECRET: "s" })).toBe(true);
    expect(await trusts({ API_TOKEN: "t", TRUST_WRITERS: "0" })).toBe(false);
    expect(await trusts({ TRUST_WRITERS: "1" })).toBe(true);
  });

  it("answers a storage failure with a generic 500 naming a request id, never D1's text", async () => {
    // A database without the schema: every read fails inside D1 ("no such table").
    const bare = createApp({ repository: createD1Repository(env.DB_MIGRATE as D1Like) });
    const logged: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void logged.push(args);
    try {
      for (const path of ["/api/records", "/api/records/abc", "/api/tags", "/api/sync/pull"]) {
        const res = await bare.request(path);
        const text = await res.text();
        expect(res.status, path).toBe(500);
        expect(text).not.toMatch(/no such table|SQLITE|D1_ERROR/i);
        const body = JSON.parse(text) as { error: { code: string; message: string; requestId: string } };
        expect(body.error).toEqual({ code: "repository", message: `internal error (request ${body.error.requestId})`, requestId: body.error.requestId });
        expect(res.headers.get("x-request-id")).toBe(body.error.requestId);
      }
      // The log has the cause, under the same id.
      expect(logged).toHaveLength(4);
      expect(String((logged[0]![1] as Error).message)).toMatch(/no such table/);
    } finally {
      console.error = original;
    }
  });

  it("lets a pull go on past a record D1 holds altered, reporting it", async () => {
    const records = await recordsOfRun("vera");
    await createD1Repository(db).write(records);
    // What a lone surrogate did before it was refused at the door: the stored key no longer matches the tag's id.
    const tag = records.find((r) => r.type === "Tag" && r.key === "user")!;
    await db.prepare("UPDATE tags SET key = 'us\uFFFDr' WHERE id = ?1").bind(tag.id).run();
    const target = createMemoryRepository();
    const source = createHttpClient({ url: "https://redun-edge.test", fetch: (input, init) => exports.default.fetch(new Request(input, init)) });
    const from = { exportSince: (cursor: string | null, limit: number) => source.pull(cursor, limit) };
    const into = { importRecords: (rs: readonly AnyRecord[]) => importRecords(target, rs) };
    await expect(copyRecords(from, into, { pageSize: 4 })).rejects.toMatchObject({ field: expect.stringMatching(/^records\[\d\]\.id$/) });
    const skipped: SkippedRecord[] = [];
    const result = await copyRecords(from, into, { pageSize: 4, onSkip: (s) => skipped.push(s) });
    expect(skipped.map((s) => [(s.record as AnyRecord).id, s.error.field])).toEqual([[tag.id, "id"]]);
    expect(result).toMatchObject({ records: records.length - 1, skipped: 1 });
    expect(target.raw.get("Tag")!.has(tag.id)).toBe(false);
    expect(target.raw.get("Execution")!.size).toBe(1);
  });

  it("answers a clear 500 when the D1 binding is missing", async () => {
    const res = await answer(Promise.resolve(worker.fetch(new Request(url("/api/health")), {} as Parameters<typeof worker.fetch>[1])));
    expect(res.status).toBe(500);
    expect(res.body.error.message).toMatch(/DB/);
  });
});
