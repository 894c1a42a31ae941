/**
 * createHttpClient and createHttpRepository against createApp over real HTTP
 * (127.0.0.1): results match the server-side CallGraph, server errors come
 * back as core's typed errors, tokens are sent, large pushes are split.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AmbiguousIdError,
  CallGraph,
  RepositoryError,
  Scheduler,
  UnknownIdError,
  ValidationError,
  type AnyRecord,
  type ExecutionRecord,
} from "redun-edge";
import { HttpError, UnauthorizedError, createHttpClient, createHttpRepository, type HttpClient } from "redun-edge/http";
import { createMemoryRepository, type MemoryRepository } from "redun-edge/memory";
import { createApp, type AppOptions } from "redun-edge/worker";
import { main } from "../../examples/hello-world.ts";
import { recordsOfRun } from "../worker/api-suite.ts";
import { serveOnLoopback, type Served } from "./serve.ts";

const T0 = Date.UTC(2026, 0, 1);
const TWIN_A = "abc00000-0000-4000-8000-000000000001";
const TWIN_B = "abd00000-0000-4000-8000-000000000002";

const execution = (id: string, time: number): ExecutionRecord => ({
  type: "Execution", id, time, rootJobId: "00000000-0000-4000-8000-00000000000f", argv: ["run"], startTime: time, endTime: time, status: "DONE",
});

const rows = (store: MemoryRepository) => Object.fromEntries([...store.raw].map(([type, m]) => [type, m.size]));

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

describe("HTTP client over 127.0.0.1", () => {
  let store: MemoryRepository;
  let server: Served;
  let client: HttpClient;
  let graph: CallGraph;
  let alice: string;

  async function start(options: Omit<AppOptions, "repository"> = {}) {
    await server?.close();
    server = await serveOnLoopback(createApp({ repository: store, ...options }).fetch);
  }

  beforeEach(async () => {
    store = createMemoryRepository();
    let t = T0;
    const now = () => (t += 1);
    graph = new CallGraph(store, { now });
    const scheduler = new Scheduler({ repository: store, now });
    alice = (await scheduler.runWithId(main({ name: "Alice" }), { tags: [["user", "alice"], ["cost", 3.2], ["note", "two words, one comma"]] })).executionId;
    await scheduler.run(main({ name: "Bob" }), { tags: [["user", "bob"], ["cost", "3.2"], ["empty", ""]] });
    await store.write([execution(TWIN_A, T0 - 2), execution(TWIN_B, T0 - 1)]);
    await start();
    client = createHttpClient({ url: server.url });
  });

  afterEach(async () => {
    await server.close();
  });

  it("queries as the server's CallGraph does, sending tag filters as text that reads back the same", async () => {
    const queries = [
      {},
      { tags: [["user", "alice"]] as [string, string][] },
      { tags: [["cost", 3.2]] as [string, number][] },
      { tags: [["cost", "3.2"]] as [string, string][] },
      { tags: [["note", "two words, one comma"]] as [string, string][] },
      { tags: [["empty", ""]] as [string, string][] },
      { tags: [["cost"]] as [string][] },
      { types: ["Job" as const], execTags: [["user", "bob"]] as [string, string][], limit: 100 },
      { types: ["Task" as const], taskNames: ["hello.greet"] },
      { execStatus: ["DONE" as const], limit: 2 },
    ];
    for (const q of queries) {
      expect(await client.log(q), JSON.stringify(q)).toEqual(JSON.parse(JSON.stringify(await graph.log(q))));
    }
    expect((await client.log({ tags: [["cost", 3.2]] })).records.map((r) => r.id)).toEqual([alice]);
    const first = await client.log({ limit: 1 });
    const second = await client.log({ limit: 1, cursor: first.cursor });
    expect(second.records[0]!.id).toBe(alice);
  });

  it("shows, lists tags, edits tags on one or several records, and reports health", async () => {
    expect(await client.show(alice.slice(0, 8))).toEqual(JSON.parse(JSON.stringify(await graph.show(alice))));
    expect(await client.listTags({ values: true, keys: ["cost"] })).toEqual(await graph.listTags({ values: true, keys: ["cost"] }));
    expect(await client.listTags()).toEqual(await graph.listTags());
    const added = await client.editTags(alice, { op: "add", tags: [["env", "dev"], "score=1.5"] });
    expect(added.written).toBe(2);
    const both = await client.editTags([TWIN_A, TWIN_B.slice(0, 5)], { op: "add", tags: ["twin=true"] });
    expect(both.written).toBe(2);
    expect((await client.show(TWIN_B)).record.tags).toEqual([["twin", true]]);
    await client.editTags(alice, { op: "update", tags: ["env=prod"] });
    await client.editTags(alice, { op: "rm", keys: ["score"] });
    await client.editTags(alice, { op: "rename", from: "env", to: "stage" });
    const tags = (await client.show(alice)).record.tags;
    expect(tags).toContainEqual(["stage", "prod"]);
    expect(tags.map(([k]) => k)).not.toContain("score");
    expect(await client.health()).toMatchObject({ ok: true, repository: { name: "memory" }, writesNeedToken: false });
  });

  it("pushes (verified) and pulls everything back, page by page", async () => {
    const records = await recordsOfRun("dora");
    expect(await client.push(records)).toEqual({ accepted: records.length });
    expect(await client.push([])).toEqual({ accepted: 0 });
    const pulled: AnyRecord[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page = await client.pull(cursor, 9);
      pulled.push(...page.records);
      cursor = page.cursor;
      if (page.done) break;
    }
    const total = Object.values(rows(store)).reduce((a, b) => a + b, 0);
    expect(new Set(pulled.map((r) => `${r.type}:${r.id}`)).size).toBe(total);
    const tampered = records.map((r) => (r.type === "Value" ? { ...r, encoded: '"other"' } : r));
    const error = await rejection(client.push(tampered));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toMatch(/^records\[\d+\]\.id$/);
  });

  it("maps server errors back to core's typed errors", async () => {
    const missing = await rejection(client.show("ffffffffffff"));
    expect(missing).toBeInstanceOf(UnknownIdError);
    expect((missing as UnknownIdError).prefix).toBe("ffffffffffff");
    const ambiguous = await rejection(client.show("ab"));
    expect(ambiguous).toBeInstanceOf(AmbiguousIdError);
    expect((ambiguous as AmbiguousIdError).candidates.map((c) => c.id)).toEqual(expect.arrayContaining([TWIN_A, TWIN_B]));
    expect(ambiguous.message).toContain(TWIN_A);
    const before = rows(store);
    const badTag = await rejection(client.editTags(alice, { op: "add", tags: ["k={oops"] }));
    expect(badTag).toBeInstanceOf(ValidationError);
    expect((badTag as ValidationError).field).toBe("tag");
    expect(badTag.message).toContain("malformed JSON");
    expect(rows(store)).toEqual(before);
    const badCursor = await rejection(client.log({ cursor: "nonsense" }));
    expect((badCursor as ValidationError).field).toBe("cursor");
    const badType = await rejection(client.log({ types: ["Nope" as never] }));
    expect((badType as ValidationError).field).toBe("type");
    expect(await rejection(client.editTags([], { op: "add", tags: ["k=v"] }))).toBeInstanceOf(ValidationError);
  });

  it("queries by a tag key containing `=` over the real HTTP round trip (issue 15: one codec, no text detour)", async () => {
    await client.editTags(alice, { op: "add", tags: [["a=b", 1], ["x=y=z", { deep: ["v=w"] }], ["plain", "c=d"]] });
    const ids = async (query: Parameters<HttpClient["log"]>[0]) => (await client.log(query)).records.map((r) => r.id);
    expect(await ids({ tags: [["a=b", 1]] })).toEqual([alice]);
    expect(await ids({ tags: [["a=b"]] })).toEqual([alice]);
    expect(await ids({ tags: [["a=b", 2]] })).toEqual([]);
    expect(await ids({ tags: [["x=y=z", { deep: ["v=w"] }], ["plain", "c=d"]] })).toEqual([alice]);
    // exec_tag: the jobs of alice's execution, found by its `=` key.
    const jobs = await client.log({ types: ["Job"], execTags: [["a=b", 1]] });
    expect(jobs.records.length).toBeGreaterThan(0);
    expect(jobs.records.every((j) => (j as { executionId?: string }).executionId === alice)).toBe(true);
    // The server reads the JSON form strictly, naming the parameter.
    const bad = await fetch(`${server.url}/api/records?tag_json=${encodeURIComponent('["a=b", 1, 2]')}`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe("tag_json");
    // And the repository's query (a normalized query on the wire) agrees with the server's CallGraph.
    const remote = createHttpRepository({ url: server.url });
    expect(JSON.parse(JSON.stringify(await new CallGraph(remote).log({ tags: [["a=b", 1]] })))).toEqual(JSON.parse(JSON.stringify(await graph.log({ tags: [["a=b", 1]] }))));
  });

  it("sends the token, and says so clearly when it is missing or wrong", async () => {
    await start({ token: "t0ken" });
    const before = rows(store);
    for (const c of [createHttpClient({ url: server.url }), createHttpClient({ url: server.url, token: "wrong" })]) {
      const error = await rejection(c.editTags(alice, { op: "add", tags: ["k=v"] }));
      expect(error).toBeInstanceOf(UnauthorizedError);
      expect((error as UnauthorizedError).status).toBe(401);
      expect(error.message).toMatch(/401.*token/);
      expect(await rejection(c.push(await recordsOfRun("eve")))).toBeInstanceOf(UnauthorizedError);
      expect(await rejection(createHttpRepository({ url: server.url }).write(await recordsOfRun("eve")))).toBeInstanceOf(UnauthorizedError);
    }
    expect(rows(store)).toEqual(before);
    // Reads need no token.
    expect((await createHttpClient({ url: `${server.url}/api/` }).log()).records.length).toBeGreaterThan(0);
    const authed = createHttpClient({ url: server.url, token: "t0ken" });
    expect((await authed.editTags(alice, { op: "add", tags: ["k=v"] })).written).toBe(1);
    expect((await authed.health()).writesNeedToken).toBe(true);
  });

  it("splits pushes into chunks, and halves a chunk the server finds too large", async () => {
    const records = [...(await recordsOfRun("f1")), ...(await recordsOfRun("f2", ["A", "B", "C"]))];
    const sizes: number[] = [];
    const spy = (input: string, init?: RequestInit) => {
      if (init?.body) sizes.push(String(init.body).length);
      return fetch(input, init);
    };
    const chunked = createHttpClient({ url: server.url, fetch: spy, chunkBytes: 2_000 });
    expect(await chunked.push(records)).toEqual({ accepted: records.length });
    expect(sizes.length).toBeGreaterThan(2);
    expect(Math.max(...sizes)).toBeLessThan(2_000 + 1_000);

    await start({ maxBodyBytes: 3_000 });
    sizes.length = 0;
    const big = createHttpClient({ url: server.url, fetch: spy });
    expect(await big.push(records)).toEqual({ accepted: records.length });
    expect(sizes[0]).toBeGreaterThan(3_000); // the first try, refused with 413, then halved
    const huge = await rejection(big.push([{ ...records[0]!, argv: ["x".repeat(5_000)] }]));
    expect(huge).toBeInstanceOf(HttpError);
    expect((huge as HttpError).status).toBe(413);
  });

  it("reports network failures as RepositoryError with the cause, and non-JSON answers by status", async () => {
    const url = server.url;
    await server.close();
    const down = await rejection(createHttpRepository({ url }).get("Execution", [alice]));
    expect(down).toBeInstanceOf(RepositoryError);
    expect(down.message).toContain(url);
    expect((down as RepositoryError).cause).toBeDefined();
    const proxy = createHttpClient({ url, fetch: async () => new Response("<html>Bad gateway</html>", { status: 502 }) });
    const bad = await rejection(proxy.health());
    expect(bad).toBeInstanceOf(HttpError);
    expect((bad as HttpError).status).toBe(502);
    const weird = createHttpClient({ url, fetch: async () => new Response("ok", { status: 200 }) });
    expect(await rejection(weird.health())).toBeInstanceOf(HttpError);
    server = await serveOnLoopback(createApp({ repository: store }).fetch);
  });
});

describe("HTTP repository", () => {
  let store: MemoryRepository;
  let server: Served;

  beforeEach(async () => {
    store = createMemoryRepository();
    server = await serveOnLoopback(createApp({ repository: store }).fetch);
  });
  afterEach(async () => {
    await server.close();
  });

  it("records a scheduler run on the server and reads it back through CallGraph", async () => {
    const remote = createHttpRepository({ url: server.url });
    const { executionId, result } = await new Scheduler({ repository: remote }).runWithId(main({ name: "World" }), { tags: { user: "me" } });
    expect(result).toEqual(["HELLO, WORLD!", "HELLO, ADA!", "HELLO, GRACE!"]);
    expect(store.raw.get("Execution")!.has(executionId)).toBe(true);
    const here = new CallGraph(remote);
    const detail = await here.show(executionId.slice(0, 8));
    expect(detail.record.tags).toContainEqual(["user", "me"]);
    expect(detail.jobCounts!.total).toBe(7);
    expect(await here.log({ tags: [["user", "me"]] })).toEqual(await new CallGraph(store).log({ tags: [["user", "me"]] }));
  });

  it("refuses a malformed batch before sending anything", async () => {
    let calls = 0;
    const remote = createHttpRepository({ url: server.url, fetch: (i, init) => (calls++, fetch(i, init)) });
    const bad = { type: "Value", id: null } as unknown as AnyRecord;
    expect(await rejection(remote.write([execution(TWIN_A, T0), bad]))).toBeInstanceOf(RepositoryError);
    expect(calls).toBe(0);
  });

  it("splits id lists over the server's per-call cap", async () => {
    const ids = Array.from({ length: 2500 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`);
    await store.write(ids.map((id, i) => execution(id, T0 + i)));
    const bodies: string[] = [];
    const remote = createHttpRepository({ url: server.url, fetch: (i, init) => (bodies.push(String(init?.body)), fetch(i, init)) });
    expect(await remote.get("Execution", ids)).toHaveLength(2500);
    expect(bodies).toHaveLength(3);
    expect(await remote.currentTags(ids)).toEqual([]);
  });

  it("needs a url", () => {
    expect(() => createHttpRepository({ url: "" })).toThrow(/url/);
  });
});

describe("adapters/http and worker/ are platform-free", () => {
  const files = [
    join(import.meta.dirname, "../../adapters/http/index.ts"),
    ...readdirSync(join(import.meta.dirname, "../../worker")).filter((f) => f.endsWith(".ts")).map((f) => join(import.meta.dirname, "../../worker", f)),
  ];
  it.each(files)("%s imports no Node built-ins and uses no Node globals", (file) => {
    const code = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
    const imports = [...code.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1]!);
    for (const spec of imports) expect(spec.startsWith("node:") || ["fs", "path", "http", "net"].includes(spec), `${file} imports ${spec}`).toBe(false);
    expect(code).not.toMatch(/\bprocess\.|\bBuffer\b|\brequire\(/);
  });
});
