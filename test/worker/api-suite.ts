/**
 * The HTTP API's behaviour, route by route and error by error, run unchanged
 * on the memory repository in Node (app.test.ts) and on a real D1 in workerd
 * (api.workers.test.ts). Every failed write is checked against the store's
 * own rows (raw Maps, SQL counts): a rejected request writes nothing.
 */
import { beforeEach, describe, expect, it } from "vitest";
import {
  CallGraph,
  Scheduler,
  applyTags,
  task,
  type AnyRecord,
  type ExecutionRecord,
  type Query,
  type RecordType,
  type Repository,
} from "redun-edge";
import {
  MAX_EDIT_PREFIXES,
  callNodeHash,
  makeValueRecord,
  makeTag,
  taskHash,
} from "redun-edge/adapter-kit";
import { createHttpRepository } from "redun-edge/http";
import { createMemoryRepository, type MemoryRepository } from "redun-edge/memory";
import { createApp, type AppOptions } from "redun-edge/worker";

export type Requester = (path: string, init?: RequestInit) => Promise<Response>;

export interface ApiHarness {
  repository: Repository;
  /** createApp(options) over this harness's repository, as a fetch-like function. */
  serve(options?: Omit<AppOptions, "repository">): Requester;
  /** Rows per record type (and any side tables), read from the store directly. */
  counts(): Promise<Record<string, number>>;
}

/** An ApiHarness of the app over `repository`, requests through `app.request`, rows counted by `counts`. */
export function appHarness(repository: Repository, counts: () => Promise<Record<string, number>>): ApiHarness {
  return {
    repository,
    serve: (options = {}) => {
      const app = createApp({ repository, ...options });
      return async (path, init) => app.request(path, init);
    },
    counts,
  };
}

/** Rows per record type of a memory store, read from its raw Maps (below the adapter's reads). */
export const memoryCounts = (repository: MemoryRepository) => async () =>
  Object.fromEntries([...repository.raw].map(([type, rows]) => [type, rows.size]));

export const RECORD_TYPES: RecordType[] = ["Execution", "Job", "CallNode", "Task", "Value", "Tag", "Evaluation"];
const T0 = Date.UTC(2026, 0, 1);

const greet = task("greet", (name: string) => `Hello, ${name}!`, { namespace: "demo" });
const shout = task("shout", (s: string) => applyTags(s.toUpperCase(), { tags: { loud: true } }), {
  namespace: "demo",
  tags: { team: "t1" },
});
const hello = task("hello", (names: string[]) => names.map((n) => shout(greet(n))), { namespace: "demo" });
const boom = task("boom", (): string => {
  throw new Error("kaboom");
}, { namespace: "demo" });

/** Two executions whose ids share the prefix "ab" (and differ at the third character). */
export const TWIN_A = "abc00000-0000-4000-8000-000000000001";
export const TWIN_B = "abd00000-0000-4000-8000-000000000002";

function execution(id: string, time: number): ExecutionRecord {
  return {
    type: "Execution", id, time, rootJobId: "00000000-0000-4000-8000-00000000000f", argv: ["run", "x"],
    startTime: time, endTime: time + 1, status: "DONE",
  };
}

export const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

export interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

export async function answer(response: Promise<Response>): Promise<Answer> {
  const res = await response;
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

/** Every record of a run recorded in a throwaway memory store: material for push. */
export async function recordsOfRun(user: string, names = ["Zoe"]): Promise<AnyRecord[]> {
  const repo = createMemoryRepository();
  let t = T0 + 10_000;
  await new Scheduler({ repository: repo, now: () => (t += 1) }).run(hello(names), { tags: { user } });
  const page = await repo.exportSince(null, 10_000);
  return JSON.parse(JSON.stringify(page.records)) as AnyRecord[];
}

export function runApiSuite(name: string, create: () => Promise<ApiHarness>): void {
  describe(`HTTP API: ${name}`, () => {
    let h: ApiHarness;
    let request: Requester;
    let graph: CallGraph;
    let alice: string;
    let bob: string;
    let failed: string;

    const get = (path: string) => answer(request(path));
    const post = (path: string, body: unknown, headers?: Record<string, string>) => answer(request(path, json(body, headers)));

    /** Run `fn`, then check the store holds exactly what it held before. */
    async function nothingWritten<T>(fn: () => Promise<T>): Promise<T> {
      const before = await h.counts();
      const result = await fn();
      expect(await h.counts()).toEqual(before);
      return result;
    }

    function expectError(a: Answer, status: number, code: string, field?: string) {
      expect(a.status, JSON.stringify(a.body)).toBe(status);
      expect(a.body.error.code).toBe(code);
      expect(typeof a.body.error.message).toBe("string");
      if (field !== undefined) expect(a.body.error.field).toBe(field);
    }

    beforeEach(async () => {
      h = await create();
      let t = T0;
      const now = () => (t += 1);
      request = h.serve({ now });
      graph = new CallGraph(h.repository, { now });
      const scheduler = new Scheduler({ repository: h.repository, now });
      alice = (await scheduler.runWithId(hello(["World", "Ada"]), { tags: [["user", "alice"], ["cost", 3.2], ["note", "two words"]] })).executionId;
      bob = (await scheduler.runWithId(hello(["Bob"]), { tags: [["user", "bob"], ["cost", "3.2"]] })).executionId;
      await expect(scheduler.run(boom(), { tags: { user: "carol" } })).rejects.toThrow("kaboom");
      failed = (await graph.log({ tags: [["user", "carol"]] })).records[0]!.id;
      await h.repository.write([execution(TWIN_A, T0 - 2), execution(TWIN_B, T0 - 1)]);
    });

    describe("meta", () => {
      it("GET /api/health answers with the version and the store", async () => {
        const a = await get("/api/health");
        expect(a.status).toBe(200);
        expect(a.body).toMatchObject({ ok: true, repository: h.repository.capabilities, writesNeedToken: false });
        expect(typeof a.body.version).toBe("string");
      });

      it("GET /api/openapi.json is an OpenAPI 3.1 document", async () => {
        const a = await get("/api/openapi.json");
        expect(a.status).toBe(200);
        expect(a.body.openapi).toBe("3.1.0");
        expect(Object.keys(a.body.paths)).toContain("/api/records/{prefix}/tags");
      });

      it("answers an unknown route with a JSON 404", async () => {
        expectError(await get("/api/nope"), 404, "route_not_found");
        expectError(await get("/api/sync/push"), 404, "route_not_found");
      });
    });

    describe("GET /api/records", () => {
      const ids = async (qs: string) => {
        const a = await get(`/api/records${qs}`);
        expect(a.status, JSON.stringify(a.body)).toBe(200);
        return (a.body.records as { id: string }[]).map((r) => r.id);
      };

      it("lists executions newest first, shaped as CallGraph.log returns them", async () => {
        const a = await get("/api/records");
        expect(a.status).toBe(200);
        expect(a.body).toEqual(JSON.parse(JSON.stringify(await graph.log({}))));
        expect(a.body.records.map((r: { id: string }) => r.id)).toEqual([failed, bob, alice, TWIN_B, TWIN_A]);
        expect(a.body.records[2].tags).toContainEqual(["note", "two words"]);
      });

      it("filters by tag text, with values read as on a command line", async () => {
        expect(await ids("?tag=user=alice")).toEqual([alice]);
        expect(await ids("?tag=cost=3.20")).toEqual([alice]);
        expect(await ids(`?tag=${encodeURIComponent('cost="3.2"')}`)).toEqual([bob]);
        expect(await ids(`?tag=${encodeURIComponent("note=two words")}`)).toEqual([alice]);
        expect(await ids("?tag=cost")).toEqual([bob, alice]);
        expect(await ids("?tag=cost&tag=user=bob")).toEqual([bob]);
        expect(await ids("?tag=user=nobody")).toEqual([]);
      });

      it("filters by type, execution tag, statuses, task, execution id and id prefix", async () => {
        const jobs = await get("/api/records?type=Job&exec_tag=user=alice&limit=100");
        expect(jobs.body.records).toHaveLength(5); // hello + 2 shout + 2 greet
        expect(jobs.body.records.every((j: { executionId: string }) => j.executionId === alice)).toBe(true);
        expect(await ids("?exec_status=FAILED")).toEqual([failed]);
        expect(await ids("?exec_status=done&tag=cost")).toEqual([bob, alice]);
        const failedJobs = await get("/api/records?type=Job&job_status=FAILED");
        expect(failedJobs.body.records.map((j: { status: string }) => j.status)).toEqual(["FAILED"]);
        expect((await get("/api/records?type=Job&task=demo.greet&limit=100")).body.records).toHaveLength(3);
        expect((await get("/api/records?type=Task&task=greet")).body.records[0]).toMatchObject({ fullName: "demo.greet" });
        expect(await ids(`?exec_id=${bob}&type=Execution,Task`)).toHaveLength(4);
        expect(await ids(`?id_prefix=${alice.slice(0, 6)}`)).toEqual([alice]);
        const loud = await get("/api/records?type=Value&tag=loud=true");
        expect(loud.body.records.map((v: { value: string }) => v.value).sort()).toEqual(["HELLO, ADA!", "HELLO, BOB!", "HELLO, WORLD!"]);
      });

      it("pages with limit and cursor", async () => {
        const first = await get("/api/records?limit=2");
        expect(first.body.records.map((r: { id: string }) => r.id)).toEqual([failed, bob]);
        expect(typeof first.body.cursor).toBe("string");
        const second = await get(`/api/records?limit=2&cursor=${encodeURIComponent(first.body.cursor)}`);
        expect(second.body.records.map((r: { id: string }) => r.id)).toEqual([alice, TWIN_B]);
        const third = await get(`/api/records?limit=2&cursor=${encodeURIComponent(second.body.cursor)}`);
        expect(third.body).toMatchObject({ records: [{ id: TWIN_A }], cursor: null });
      });

      it("rejects bad parameters with a 400 naming them", async () => {
        expectError(await get("/api/records?bogus=1&user=x"), 400, "invalid", "bogus");
        expect((await get("/api/records?bogus=1&user=x")).body.error.message).toMatch(/"bogus", "user"/);
        expectError(await get(`/api/records?tag=${encodeURIComponent("k={bad")}`), 400, "invalid", "tag");
        expectError(await get(`/api/records?exec_tag=${encodeURIComponent("k=[1,")}`), 400, "invalid", "exec_tag");
        expectError(await get("/api/records?tag="), 400, "invalid", "tag");
        expectError(await get("/api/records?tag==v"), 400, "invalid", "tag");
        expectError(await get("/api/records?type=Nope"), 400, "invalid", "type");
        expectError(await get("/api/records?exec_status=LOST"), 400, "invalid", "exec_status");
        expectError(await get("/api/records?job_status=LOST"), 400, "invalid", "job_status");
        expectError(await get("/api/records?limit=0"), 400, "invalid", "limit");
        expectError(await get("/api/records?limit=ten"), 400, "invalid", "limit");
        expectError(await get("/api/records?limit=1&limit=2"), 400, "invalid", "limit");
        expectError(await get("/api/records?cursor=garbage"), 400, "invalid", "cursor");
        expectError(await get("/api/records?id_prefix=XYZ"), 400, "invalid", "id_prefix");
      });
    });

    describe("GET /api/records/:prefix", () => {
      it("shows an execution with its tags and job tree", async () => {
        const a = await get(`/api/records/${alice.slice(0, 8)}`);
        expect(a.status).toBe(200);
        expect(a.body.record).toMatchObject({ type: "Execution", id: alice, taskName: "demo.hello" });
        expect(a.body.record.tags).toContainEqual(["user", "alice"]);
        expect(a.body.jobTree.taskName).toBe("demo.hello");
        expect(a.body.jobTree.children).toHaveLength(4);
        expect(a.body.jobCounts).toMatchObject({ total: 5, byStatus: { DONE: 5 } });
        expect(a.body).toEqual(JSON.parse(JSON.stringify(await graph.show(alice))));
      });

      it("shows a job with its call and task", async () => {
        const root = (await get(`/api/records/${alice}`)).body.jobTree.id as string;
        const a = await get(`/api/records/${root}`);
        expect(a.body.record).toMatchObject({ type: "Job", id: root });
        expect(a.body.call.args[0].value.value).toEqual(["World", "Ada"]);
        expect(a.body.call.result.value).toEqual(["HELLO, WORLD!", "HELLO, ADA!"]);
        expect(a.body.task).toMatchObject({ name: "hello", namespace: "demo" });
      });

      it("answers 404 for an unknown prefix, 409 with candidates for an ambiguous one, 400 for a malformed one", async () => {
        const missing = await get("/api/records/ffffffffffff");
        expectError(missing, 404, "not_found");
        expect(missing.body.error.prefix).toBe("ffffffffffff");
        const ambiguous = await get("/api/records/ab");
        expectError(ambiguous, 409, "ambiguous");
        expect(ambiguous.body.error.prefix).toBe("ab");
        const ids = ambiguous.body.error.candidates.map((c: { id: string }) => c.id);
        expect(ids).toEqual(expect.arrayContaining([TWIN_A, TWIN_B]));
        expect(ambiguous.body.error.candidates[0]).toHaveProperty("type");
        expect((await get("/api/records/abc00")).body.record.id).toBe(TWIN_A);
        expectError(await get("/api/records/XYZ"), 400, "invalid", "prefix");
      });
    });

    describe("GET /api/tags", () => {
      it("counts current tags by key and type, by value and type, and for some keys", async () => {
        const byType = await get("/api/tags");
        expect(byType.status).toBe(200);
        expect(byType.body.tags).toContainEqual({ key: "user", entityType: "Execution", count: 3 });
        expect(byType.body.tags).toContainEqual({ key: "team", entityType: "Task", count: 1 });
        const byValue = await get("/api/tags?values=1");
        expect(byValue.body.tags).toContainEqual({ key: "cost", value: 3.2, entityType: "Execution", count: 1 });
        expect(byValue.body.tags).toContainEqual({ key: "cost", value: "3.2", entityType: "Execution", count: 1 });
        const some = await get("/api/tags?values=1&key=user&key=cost");
        expect(new Set(some.body.tags.map((r: { key: string }) => r.key))).toEqual(new Set(["user", "cost"]));
        expect(some.body.tags).toHaveLength(5);
      });

      it("rejects bad parameters", async () => {
        expectError(await get("/api/tags?values=2"), 400, "invalid", "values");
        expectError(await get("/api/tags?keys=user"), 400, "invalid", "keys");
      });
    });

    describe("POST /api/records/:prefix/tags", () => {
      const tagsOf = async (id: string) => (await get(`/api/records/${id}`)).body.record.tags as [string, unknown][];
      const edit = (prefix: string, body: unknown, headers?: Record<string, string>) =>
        post(`/api/records/${prefix}/tags`, body, headers);

      it("adds tags given as pairs or as text, and ignores a current one", async () => {
        const a = await edit(alice.slice(0, 8), {
          op: "add",
          tags: [["env", "dev"], ["score", 3.5], "note2=two words", 'meta={"a":[1,2]}', "empty="],
        });
        expect(a.status, JSON.stringify(a.body)).toBe(200);
        expect(a.body.written).toBe(5);
        expect(a.body.changes).toContainEqual({ op: "add", entityType: "Execution", entityId: alice, key: "meta", value: { a: [1, 2] } });
        const tags = await tagsOf(alice);
        for (const pair of [["env", "dev"], ["score", 3.5], ["note2", "two words"], ["meta", { a: [1, 2] }], ["empty", null]]) {
          expect(tags).toContainEqual(pair);
        }
        // The records edited are named even when nothing changed (the CLI echoes one line per record).
        expect((await edit(alice, { op: "add", tags: ["env=dev"] })).body).toEqual({ entities: [{ type: "Execution", id: alice }], changes: [], written: 0 });
      });

      it("updates, removes (by pair, by key, key-only text) and renames", async () => {
        await edit(alice, { op: "add", tags: ["env=dev", "env=test", "x=1", "y=2", "z=3"] });
        expect((await edit(alice, { op: "update", tags: ["env=prod"] })).body.written).toBe(1);
        expect((await tagsOf(alice)).filter(([k]) => k === "env")).toEqual([["env", "prod"]]);
        expect((await edit(alice, { op: "rm", tags: ["x=1"] })).body.changes).toEqual([
          { op: "rm", entityType: "Execution", entityId: alice, key: "x", value: 1 },
        ]);
        await edit(alice, { op: "rm", keys: ["y"] });
        await edit(alice, { op: "rm", tags: ["z", ["note"]] });
        const after = (await tagsOf(alice)).map(([k]) => k);
        expect(after).not.toContain("x");
        expect(after).not.toContain("y");
        expect(after).not.toContain("z");
        expect(after).not.toContain("note");
        await edit(alice, { op: "rename", from: "env", to: "stage" });
        expect(await tagsOf(alice)).toContainEqual(["stage", "prod"]);
        expect((await tagsOf(alice)).map(([k]) => k)).not.toContain("env");
      });

      it("edits several records at once with `prefixes`", async () => {
        const a = await edit(alice, { op: "add", tags: [["batch", 1]], prefixes: [bob.slice(0, 8), failed] });
        expect(a.body.written).toBe(3);
        for (const id of [alice, bob, failed]) expect(await tagsOf(id)).toContainEqual(["batch", 1]);
      });

      it("rejects bad input with a 400 naming the problem, writing nothing", async () => {
        const cases: [unknown, string][] = [
          [{ op: "add", tags: ["k={bad"] }, "tag"],
          [{ op: "add", tags: ["novalue"] }, "tag"],
          [{ op: "add", tags: ["=v"] }, "tag"],
          [{ op: "add", tags: [["k"]] }, "tags[0]"],
          [{ op: "add", tags: [["", 1]] }, "tags[0]"],
          [{ op: "add", tags: [42] }, "tags[0]"],
          [{ op: "add", tags: "k=v" }, "tags"],
          [{ op: "add", tags: [] }, "tags"],
          [{ op: "add" }, "tags"],
          [{ op: "add", tags: ["k=v"], extra: 1 }, "extra"],
          [{ op: "add", tags: ["k=v"], keys: ["k"] }, "keys"],
          [{ op: "rm" }, "tags"],
          [{ op: "rm", keys: [1] }, "keys"],
          [{ op: "rename", from: "env" }, "to"],
          [{ op: "rename", from: "", to: "x" }, "from"],
          [{ op: "tweak", tags: ["k=v"] }, "op"],
          [{ tags: ["k=v"] }, "op"],
          [{ op: "add", tags: ["k=v"], prefixes: "abc" }, "prefixes"],
          [[1, 2], "body"],
          ["{not json", "body"],
          ["", "body"],
        ];
        for (const [body, field] of cases) {
          const a = await nothingWritten(() => edit(alice, body));
          expectError(a, 400, "invalid", field);
        }
      });

      it("refuses an edit naming more than MAX_EDIT_PREFIXES records, writing nothing", async () => {
        const prefixes = Array.from({ length: MAX_EDIT_PREFIXES }, () => bob);
        const a = await nothingWritten(() => edit(alice, { op: "add", tags: ["k=v"], prefixes }));
        expectError(a, 400, "invalid", "prefixes");
        const ok = await edit(alice, { op: "add", tags: ["k=v"], prefixes: prefixes.slice(1) });
        expect(ok.status, JSON.stringify(ok.body)).toBe(200);
        expect(ok.body.written).toBe(2);
      });

      it("answers 404 / 409 / 400 for bad prefixes, writing nothing even when other prefixes resolve", async () => {
        const missing = await nothingWritten(() => edit("ffffffffffff", { op: "add", tags: ["k=v"] }));
        expectError(missing, 404, "not_found");
        expect(missing.body.error.prefix).toBe("ffffffffffff");
        const missingInBody = await nothingWritten(() => edit(alice, { op: "add", tags: ["k=v"], prefixes: [bob, "eeeeeeeeeeee"] }));
        expectError(missingInBody, 404, "not_found");
        const ambiguous = await nothingWritten(() => edit("ab", { op: "add", tags: ["k=v"] }));
        expectError(ambiguous, 409, "ambiguous");
        expect(ambiguous.body.error.candidates.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining([TWIN_A, TWIN_B]));
        expectError(await nothingWritten(() => edit("NOT-HEX", { op: "add", tags: ["k=v"] })), 400, "invalid", "prefix");
      });

      it("answers 415 for a body that is not JSON and 413 for one over the limit, writing nothing", async () => {
        const a = await nothingWritten(() =>
          answer(request(`/api/records/${alice}/tags`, { method: "POST", headers: { "content-type": "text/plain" }, body: '{"op":"add","tags":["k=v"]}' })),
        );
        expectError(a, 415, "unsupported_media_type");
        const small = h.serve({ maxBodyBytes: 256 });
        const big = { op: "add", tags: [["blob", "x".repeat(300)]] };
        const b = await nothingWritten(() => answer(small(`/api/records/${alice}/tags`, json(big))));
        expectError(b, 413, "too_large");
        expect(b.body.error.message).toContain("256");
        expect((await answer(small(`/api/records/${alice}/tags`, json({ op: "add", tags: ["k=v"] })))).status).toBe(200);
      });
    });

    describe("POST /api/sync/push and GET /api/sync/pull", () => {
      it("imports records idempotently, as JSON and as JSON lines", async () => {
        const records = await recordsOfRun("dora");
        const before = await h.counts();
        const a = await post("/api/sync/push", { records });
        expect(a).toMatchObject({ status: 200, body: { accepted: records.length } });
        const after = await h.counts();
        expect(after.Execution).toBe(before.Execution! + 1);
        expect(after.Tag).toBeGreaterThan(before.Tag!);
        expect((await post("/api/sync/push", { records })).body).toEqual({ accepted: records.length });
        expect(await h.counts()).toEqual(after);
        const dora = await get("/api/records?tag=user=dora");
        expect(dora.body.records).toHaveLength(1);

        const more = await recordsOfRun("erin", ["Eve", "Ed"]);
        const lines = more.map((r) => JSON.stringify(r)).join("\n") + "\n";
        const b = await answer(request("/api/sync/push", { method: "POST", headers: { "content-type": "application/x-ndjson" }, body: lines }));
        expect(b).toMatchObject({ status: 200, body: { accepted: more.length } });
        expect((await get("/api/records?tag=user=erin")).body.records).toHaveLength(1);
        expect((await post("/api/sync/push", { records: [] })).body).toEqual({ accepted: 0 });
      });

      it("refuses a record whose id does not match its content, or of a bad shape, writing nothing of the batch", async () => {
        const records = await recordsOfRun("mallory");
        const i = records.findIndex((r) => r.type === "Tag");
        const tampered = records.map((r, j) => (j === i ? { ...r, value: "evil" } : r));
        expectError(await nothingWritten(() => post("/api/sync/push", { records: tampered })), 400, "invalid", `records[${i}].id`);
        const badType = records.map((r, j) => (j === 1 ? { ...r, type: "Nope" } : r));
        expectError(await nothingWritten(() => post("/api/sync/push", { records: badType })), 400, "invalid", "records[1].type");
        const badField = records.map((r, j) => (j === 0 ? { ...r, time: "soon" } : r));
        expectError(await nothingWritten(() => post("/api/sync/push", { records: badField })), 400, "invalid", "records[0].time");
        const fakeExec = { ...records.find((r) => r.type === "Execution")!, id: "not-a-uuid" };
        expectError(await nothingWritten(() => post("/api/sync/push", { records: [fakeExec] })), 400, "invalid", "records[0].id");
      });

      it("rejects malformed bodies with a 400 / 415 / 413, writing nothing", async () => {
        const records = await recordsOfRun("oscar");
        expectError(await nothingWritten(() => post("/api/sync/push", "{oops")), 400, "invalid", "body");
        expectError(await nothingWritten(() => post("/api/sync/push", { records, more: 1 })), 400, "invalid", "more");
        expectError(await nothingWritten(() => post("/api/sync/push", { records: "all" })), 400, "invalid", "records");
        expectError(await nothingWritten(() => post("/api/sync/push", {})), 400, "invalid", "records");
        expectError(await nothingWritten(() => post("/api/sync/push", { records, verify: "no" })), 400, "invalid", "verify");
        const lines = `${JSON.stringify(records[0])}\n{broken\n`;
        const nd = await nothingWritten(() =>
          answer(request("/api/sync/push", { method: "POST", headers: { "content-type": "application/x-ndjson" }, body: lines })),
        );
        expectError(nd, 400, "invalid", "body");
        expect(nd.body.error.message).toContain("line 2");
        const text = await nothingWritten(() =>
          answer(request("/api/sync/push", { method: "POST", headers: { "content-type": "text/plain" }, body: JSON.stringify({ records }) })),
        );
        expectError(text, 415, "unsupported_media_type");
        const small = h.serve({ maxBodyBytes: 1024 });
        expectError(await nothingWritten(() => answer(small("/api/sync/push", json({ records })))), 413, "too_large");
      });

      it("verifies every pushed record's id against its content", async () => {
        const task = { type: "Task", id: "a".repeat(40), time: T0, name: "n", namespace: "ns", source: "src", version: null };
        expectError(await nothingWritten(() => post("/api/sync/push", { records: [task] })), 400, "invalid", "records[0].id");
        expectError(await nothingWritten(() => post("/api/sync/push", { records: [task], verify: false })), 400, "invalid", "verify");
        const before = await h.counts();
        const real = { ...task, id: taskHash("ns", "n", null, "src") };
        expect((await post("/api/sync/push", { records: [real] })).body).toEqual({ accepted: 1 });
        expect((await h.counts()).Task).toBe(before.Task! + 1);
      });

      it("pulls every record once, in pages, resumably", async () => {
        const counts = await h.counts();
        const expected = RECORD_TYPES.reduce((n, t) => n + (counts[t] ?? 0), 0);
        const seen = new Set<string>();
        let cursor: string | null = null;
        let pages = 0;
        for (;;) {
          const a: Answer = await get(`/api/sync/pull?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
          expect(a.status, JSON.stringify(a.body)).toBe(200);
          expect(a.body.records.length).toBeLessThanOrEqual(7);
          for (const r of a.body.records) seen.add(`${r.type}:${r.id}`);
          cursor = a.body.cursor;
          pages += 1;
          if (a.body.done) break;
        }
        expect(seen.size).toBe(expected);
        expect(pages).toBeGreaterThan(1);
        // Resuming from the last cursor: only what changed since.
        expect((await get(`/api/sync/pull?cursor=${encodeURIComponent(cursor!)}`)).body.records).toEqual([]);
        await post(`/api/records/${alice}/tags`, { op: "add", tags: ["late=1"] });
        const later = await get(`/api/sync/pull?cursor=${encodeURIComponent(cursor!)}`);
        expect(later.body.records.map((r: AnyRecord) => r.type)).toEqual(["Tag"]);
        expect(later.body.done).toBe(true);
        // Default page, from the start.
        expect((await get("/api/sync/pull")).body.records.length).toBe(Math.min(expected + 1, 500));
      });

      it("rejects bad pull parameters", async () => {
        expectError(await get("/api/sync/pull?limit=0"), 400, "invalid", "limit");
        expectError(await get("/api/sync/pull?since=1"), 400, "invalid", "since");
        expectError(await get("/api/sync/pull?cursor=garbage"), 400, "invalid", "cursor");
      });
    });

    describe("POST /api/repository/*", () => {
      const repo = (route: string, body: unknown) => post(`/api/repository/${route}`, body);

      it("get: records of one type by id", async () => {
        const a = await repo("get", { type: "Execution", ids: [alice, "missing"] });
        expect(a.status).toBe(200);
        expect(a.body.records).toEqual([JSON.parse(JSON.stringify((await h.repository.get("Execution", [alice]))[0]))]);
        expectError(await repo("get", { type: "Nope", ids: [] }), 400, "invalid", "type");
        expectError(await repo("get", { type: "Job", ids: "x" }), 400, "invalid", "ids");
        expectError(await repo("get", { type: "Job", ids: [1] }), 400, "invalid", "ids");
        expectError(await repo("get", { type: "Job" }), 400, "invalid", "ids");
        expectError(await repo("get", { type: "Job", ids: Array.from({ length: 1001 }, (_, i) => `id${i}`) }), 400, "invalid", "ids");
        expectError(await repo("get", { type: "Job", ids: [], extra: true }), 400, "invalid", "extra");
      });

      it("find-by-prefix: for each prefix, the records of the asked types", async () => {
        const a = await repo("find-by-prefix", { prefixes: [alice.slice(0, 8), "ab", "ffffffff"], types: ["Execution", "Job"], limit: 5 });
        expect(a.status, JSON.stringify(a.body)).toBe(200);
        expect(a.body.refs[0]).toContainEqual({ type: "Execution", id: alice });
        // Jobs have random ids: one may start with "ab" too.
        expect(a.body.refs[1].filter((r: { type: string }) => r.type === "Execution")).toEqual([{ type: "Execution", id: TWIN_A }, { type: "Execution", id: TWIN_B }]);
        expect(a.body.refs[1].every((r: { id: string }) => r.id.startsWith("ab"))).toBe(true);
        expect(a.body.refs[2]).toEqual([]);
        expect((await repo("find-by-prefix", { prefixes: ["ab"], types: ["Execution"], limit: 1 })).body.refs).toEqual([[{ type: "Execution", id: TWIN_A }]]);
        expect((await repo("find-by-prefix", { prefixes: ["ab"], types: ["Tag"], limit: 5 })).body.refs[0].every((r: { type: string }) => r.type === "Tag")).toBe(true);
        expectError(await repo("find-by-prefix", { prefixes: ["XYZ"], types: ["Job"], limit: 5 }), 400, "invalid", "prefixes[0]");
        expectError(await repo("find-by-prefix", { prefixes: ["a".repeat(65)], types: ["Job"], limit: 5 }), 400, "invalid", "prefixes[0]");
        expectError(await repo("find-by-prefix", { prefixes: Array(101).fill("ab"), types: ["Job"], limit: 5 }), 400, "invalid", "prefixes");
        expectError(await repo("find-by-prefix", { prefixes: ["ab"], types: ["Nope"], limit: 5 }), 400, "invalid", "types");
        expectError(await repo("find-by-prefix", { prefixes: ["ab"], limit: 5 }), 400, "invalid", "types");
        expectError(await repo("find-by-prefix", { prefixes: ["ab"], types: ["Job"], limit: 0 }), 400, "invalid", "limit");
        expectError(await repo("find-by-prefix", { prefixes: ["ab"], types: ["Job"] }), 400, "invalid", "limit");
        expectError(await repo("find-by-prefix", { prefix: "ab", types: ["Job"], limit: 5 }), 400, "invalid", "prefix");
      });

      it("query: a plain Query, normalized server-side", async () => {
        const q: Query = { tags: [["user", "alice"]] };
        expect((await repo("query", { query: q })).body).toEqual({ refs: [{ type: "Execution", id: alice }], cursor: null });
        const page = await repo("query", { query: { types: ["Job"], execIds: [alice], limit: 2 } });
        expect(page.body.refs).toHaveLength(2);
        expect(typeof page.body.cursor).toBe("string");
        expectError(await repo("query", { query: { types: ["Nope"] } }), 400, "invalid", "types");
        expectError(await repo("query", { query: { bogus: 1 } }), 400, "invalid", "bogus");
        expectError(await repo("query", { query: [] }), 400, "invalid", "query");
        expectError(await repo("query", {}), 400, "invalid", "query");
      });

      it("current-tags and tag-children", async () => {
        const current = await repo("current-tags", { entityIds: [alice] });
        const user = current.body.tags.find((t: { key: string }) => t.key === "user");
        expect(user).toMatchObject({ type: "Tag", entityId: alice, value: "alice" });
        expect((await repo("tag-children", { tagIds: [user.id] })).body.tags).toEqual([]);
        await post(`/api/records/${alice}/tags`, { op: "update", tags: ["user=alicia"] });
        const children = await repo("tag-children", { tagIds: [user.id] });
        expect(children.body.tags).toMatchObject([{ key: "user", value: "alicia", parents: [user.id] }]);
        expectError(await repo("current-tags", { entityIds: alice }), 400, "invalid", "entityIds");
        expectError(await repo("tag-children", { ids: [] }), 400, "invalid", "ids");
      });

      it("count-tags, jobs-of-execution, export-since", async () => {
        const counts = await repo("count-tags", { values: true, keys: ["user"] });
        expect(counts.body.counts).toContainEqual({ key: "user", value: "alice", entityType: "Execution", count: 1 });
        expect((await repo("count-tags", {})).body.counts).toContainEqual({ key: "user", entityType: "Execution", count: 3 });
        expectError(await repo("count-tags", { values: "yes" }), 400, "invalid", "values");
        const jobs = await repo("jobs-of-execution", { executionId: alice });
        expect(jobs.body.jobs).toHaveLength(5);
        expect(jobs.body.jobs[0].parentId).toBeNull();
        expectError(await repo("jobs-of-execution", { executionId: 5 }), 400, "invalid", "executionId");
        const page = await repo("export-since", { cursor: null, limit: 5 });
        expect(page.body.records).toHaveLength(5);
        expect(page.body.done).toBe(false);
        const next = await repo("export-since", { cursor: page.body.cursor, limit: 5 });
        expect(next.body.records[0]).not.toEqual(page.body.records[0]);
        expectError(await repo("export-since", { cursor: 5 }), 400, "invalid", "cursor");
        expectError(await repo("export-since", { cursor: null, limit: -1 }), 400, "invalid", "limit");
        expectError(await repo("export-since", { cursor: "garbage" }), 400, "invalid", "cursor");
      });

      it("needs a JSON body", async () => {
        expectError(await repo("get", "{nope"), 400, "invalid", "body");
        const a = await answer(request("/api/repository/get", { method: "POST", body: '{"type":"Job","ids":[]}' }));
        expectError(a, 415, "unsupported_media_type");
      });
    });

    describe("trust: cache entries and previews", () => {
      const double = task("double", (x: number) => x * 2, { namespace: "demo" });

      /** A scheduler's store over the API (the HTTP Repository, through this app). */
      const overApi = (serve: Requester, token?: string) =>
        createHttpRepository({ url: "http://api.test", token, fetch: (url, init) => serve(url, init) });

      /** double(21) recorded through the API, and a forgery claiming it gave 666, consistent with a CallNode of its own. */
      async function forgery(serve: Requester, token?: string) {
        const scheduler = new Scheduler({ repository: overApi(serve, token), now: () => T0 });
        expect(await scheduler.run(double(21))).toBe(42);
        const [stored] = (await h.repository.get("Evaluation", (await h.repository.exportSince(null, 10_000)).records.filter((r) => r.type === "Evaluation").map((r) => r.id)))
          .filter((e) => e.taskHash === double.hash);
        const [call] = await h.repository.get("CallNode", [stored!.callHash]);
        const evil = makeValueRecord(666, T0);
        const forgedCall = { ...call!, id: callNodeHash(call!.taskHash, call!.argsHash, evil.id, []), resultHash: evil.id, children: [] };
        const forged = { ...stored!, valueHash: evil.id, callHash: forgedCall.id };
        return { scheduler, stored: stored!, evil, forgedCall, forged };
      }

      it("a push never changes a cached result, and an Evaluation must agree with its CallNode", async () => {
        const { scheduler, stored, evil, forgedCall, forged } = await forgery(request);
        expectError(await nothingWritten(() => post("/api/sync/push", { records: [evil, forged] })), 400, "invalid", "records[1].callHash");
        expectError(await nothingWritten(() => post("/api/sync/push", { records: [evil, { ...stored, valueHash: evil.id }] })), 400, "invalid", "records[1].callHash");
        const a = await post("/api/sync/push", { records: [evil, forgedCall, forged] });
        expect(a.status, JSON.stringify(a.body)).toBe(200);
        expect(await h.repository.get("Evaluation", [stored.id])).toEqual([stored]);
        expect(await scheduler.run(double(21))).toBe(42);
        // The repository write of an untrusted server merges the same way.
        expect((await post("/api/repository/write", { records: [evil, forgedCall, forged] })).status).toBe(200);
        expect(await h.repository.get("Evaluation", [stored.id])).toEqual([stored]);
        expect((await get("/api/health")).body.trustWriters).toBe(false);
      });

      it("a server that trusts its writers lets a scheduler's re-run replace its cache entry, through the token", async () => {
        const TOKEN = "recorder-token";
        const trusted = h.serve({ token: TOKEN });
        const { scheduler, stored, evil, forgedCall, forged } = await forgery(trusted, TOKEN);
        expect((await answer(trusted("/api/health"))).body.trustWriters).toBe(true);
        const records = [evil, forgedCall, forged];
        expectError(await nothingWritten(() => answer(trusted("/api/repository/write", json({ records })))), 401, "unauthorized");
        expect((await answer(trusted("/api/sync/push", json({ records }, { authorization: `Bearer ${TOKEN}` })))).status).toBe(200);
        expect(await h.repository.get("Evaluation", [stored.id])).toEqual([stored]);
        const written = await answer(trusted("/api/repository/write", json({ records }, { authorization: `Bearer ${TOKEN}` })));
        expect(written.status, JSON.stringify(written.body)).toBe(200);
        expect((await h.repository.get("Evaluation", [stored.id]))[0]).toMatchObject({ valueHash: evil.id });
        expect(await scheduler.run(double(21))).toBe(666);
        // Still only a consistent one.
        expectError(await nothingWritten(() => answer(trusted("/api/repository/write", json({ records: [{ ...stored, valueHash: evil.id }] }, { authorization: `Bearer ${TOKEN}` })))), 400, "invalid", "records[0].callHash");
      });

      it("a whole value replaces a preview claiming its id, and a preview never replaces a whole value", async () => {
        const whole = makeValueRecord("the real one", T0);
        const claim = { ...whole, encoded: '"a fake', size: 2_000_000, preview: true };
        expectError(await nothingWritten(() => post("/api/sync/push", { records: [{ ...claim, size: 10 }] })), 400, "invalid", "records[0].preview");
        expect((await post("/api/sync/push", { records: [claim] })).status).toBe(200);
        expect((await get(`/api/records/${whole.id}`)).body.record).toMatchObject({ preview: true });
        expect((await post("/api/sync/push", { records: [whole] })).status).toBe(200);
        expect((await get(`/api/records/${whole.id}`)).body.record).toMatchObject({ preview: false, value: "the real one" });
        expect((await post("/api/sync/push", { records: [claim] })).status).toBe(200);
        expect((await get(`/api/records/${whole.id}`)).body.record).toMatchObject({ preview: false, value: "the real one" });
      });
    });

    describe("with a token", () => {
      const TOKEN = "s3cret-token";
      let secured: Requester;
      beforeEach(() => {
        secured = h.serve({ token: TOKEN });
      });
      const auth = (value: string) => ({ authorization: value });

      it("needs the bearer token for every write, writing nothing without it", async () => {
        const records = await recordsOfRun("tina");
        const writes: [string, unknown][] = [
          [`/api/records/${alice}/tags`, { op: "add", tags: ["k=v"] }],
          ["/api/sync/push", { records }],
          ["/api/repository/write", { records }],
        ];
        for (const [path, body] of writes) {
          for (const headers of [{}, auth("Bearer wrong"), auth(`Basic ${TOKEN}`), auth(`Bearer ${TOKEN}x`), auth("Bearer")]) {
            const a = await nothingWritten(() => answer(secured(path, json(body, headers))));
            expectError(a, 401, "unauthorized");
            expect(a.headers.get("www-authenticate")).toMatch(/^Bearer/);
          }
          const ok = await answer(secured(path, json(body, auth(`Bearer ${TOKEN}`))));
          expect(ok.status, JSON.stringify(ok.body)).toBe(200);
        }
        expect((await answer(secured(`/api/records/${alice}`))).body.record.tags).toContainEqual(["k", "v"]);
        const lowercase = await answer(secured(`/api/records/${alice}/tags`, json({ op: "add", tags: ["k2=v"] }, auth(`bearer ${TOKEN}`))));
        expect(lowercase.status).toBe(200);
      });

      it("keeps reads open", async () => {
        expect((await answer(secured("/api/records"))).status).toBe(200);
        expect((await answer(secured(`/api/records/${alice}`))).status).toBe(200);
        expect((await answer(secured("/api/tags"))).status).toBe(200);
        expect((await answer(secured("/api/sync/pull"))).status).toBe(200);
        expect((await answer(secured("/api/repository/get", json({ type: "Execution", ids: [alice] })))).status).toBe(200);
        expect((await answer(secured("/api/health"))).body.writesNeedToken).toBe(true);
        expect((await answer(secured("/api/health"))).body.readsNeedToken).toBe(false);
      });
    });

    describe("with a read token", () => {
      const WRITE = "write-token";
      const READ = "read-token";
      const ORIGIN = "https://notebook.example";
      const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
      /** Every read route, as [path, init]. */
      const reads = (): [string, RequestInit?][] => [
        ["/api/records"],
        ["/api/records?tag=user=alice"],
        [`/api/records/${alice.slice(0, 8)}`],
        ["/api/tags?values=1"],
        ["/api/sync/pull"],
        ["/api/repository/get", json({ type: "Execution", ids: [alice] })],
        ["/api/repository/find-by-prefix", json({ prefixes: [""], types: ["Execution"], limit: 5 })],
        ["/api/repository/query", json({ query: {} })],
        ["/api/repository/current-tags", json({ entityIds: [alice] })],
        ["/api/repository/tag-children", json({ tagIds: [] })],
        ["/api/repository/count-tags", json({})],
        ["/api/repository/jobs-of-execution", json({ executionId: alice })],
        ["/api/repository/export-since", json({ cursor: null })],
      ];
      const withHeaders = (init: RequestInit | undefined, headers: Record<string, string>): RequestInit => ({
        ...init,
        headers: { ...(init?.headers as Record<string, string> | undefined), ...headers },
      });

      it("needs the read token (or the write token) for every read; health and the API description stay open", async () => {
        const closed = h.serve({ token: WRITE, readToken: READ });
        for (const [path, init] of reads()) {
          for (const headers of [{}, bearer("nope"), bearer(`${READ}x`), { authorization: `Basic ${READ}` }]) {
            const a = await answer(closed(path, withHeaders(init, headers)));
            expectError(a, 401, "unauthorized");
            expect(a.headers.get("www-authenticate"), path).toMatch(/^Bearer/);
            expect(JSON.stringify(a.body)).not.toContain(alice);
          }
          expect((await answer(closed(path, withHeaders(init, bearer(READ))))).status, path).toBe(200);
          expect((await answer(closed(path, withHeaders(init, bearer(WRITE))))).status, path).toBe(200);
        }
        const health = await answer(closed("/api/health"));
        expect(health.status).toBe(200);
        expect(health.body).toMatchObject({ readsNeedToken: true, writesNeedToken: true });
        expect((await answer(closed("/api/openapi.json"))).status).toBe(200);
        // The read token grants no writes.
        const edit = `/api/records/${alice}/tags`;
        expectError(await nothingWritten(() => answer(closed(edit, json({ op: "add", tags: ["k=v"] }, bearer(READ))))), 401, "unauthorized");
        expect((await answer(closed(edit, json({ op: "add", tags: ["k=v"] }, bearer(WRITE))))).status).toBe(200);
      });

      it("can be the write token itself, and without a write token guards writes too", async () => {
        const one = h.serve({ token: WRITE, readToken: true });
        expectError(await answer(one("/api/records")), 401, "unauthorized");
        expectError(await answer(one("/api/records", { headers: bearer(READ) })), 401, "unauthorized");
        expect((await answer(one("/api/records", { headers: bearer(WRITE) }))).status).toBe(200);
        const readOnly = h.serve({ readToken: READ });
        expectError(await nothingWritten(() => answer(readOnly(`/api/records/${alice}/tags`, json({ op: "add", tags: ["k=v"] })))), 401, "unauthorized");
        expect((await answer(readOnly(`/api/records/${alice}/tags`, json({ op: "add", tags: ["k=v"] }, bearer(READ))))).status).toBe(200);
        expect(() => h.serve({ readToken: true })).toThrow(/needs a token/);
      });

      it("still honours the CORS origins: preflights need no token, and refusals carry the CORS headers", async () => {
        const closed = h.serve({ token: WRITE, readToken: READ, cors: [ORIGIN] });
        const pre = await closed("/api/records", {
          method: "OPTIONS",
          headers: { origin: ORIGIN, "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
        });
        expect(pre.status).toBe(204);
        expect(pre.headers.get("access-control-allow-origin")).toBe(ORIGIN);
        const refused = await closed("/api/records", { headers: { origin: ORIGIN } });
        expect(refused.status).toBe(401);
        expect(refused.headers.get("access-control-allow-origin")).toBe(ORIGIN);
        const ok = await closed("/api/records", { headers: { origin: ORIGIN, ...bearer(READ) } });
        expect(ok.status).toBe(200);
        expect(ok.headers.get("access-control-allow-origin")).toBe(ORIGIN);
        const other = await closed("/api/records", { headers: { origin: "https://evil.example", ...bearer(READ) } });
        expect(other.headers.get("access-control-allow-origin")).toBeNull();
      });
    });

    describe("CORS", () => {
      it("is off by default", async () => {
        const res = await request("/api/records", { headers: { origin: "https://notebook.example" } });
        expect(res.headers.get("access-control-allow-origin")).toBeNull();
      });

      it("answers preflights and marks answers (errors too) when configured", async () => {
        const open = h.serve({ cors: true });
        const pre = await open(`/api/records/${alice}/tags`, {
          method: "OPTIONS",
          headers: { origin: "https://notebook.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
        });
        expect(pre.status).toBe(204);
        expect(pre.headers.get("access-control-allow-origin")).toBe("*");
        expect(pre.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
        expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
        const bad = await open("/api/records?bogus=1", { headers: { origin: "https://notebook.example" } });
        expect(bad.status).toBe(400);
        expect(bad.headers.get("access-control-allow-origin")).toBe("*");
        const one = h.serve({ cors: ["https://notebook.example"] });
        const allowed = await one("/api/health", { headers: { origin: "https://notebook.example" } });
        expect(allowed.headers.get("access-control-allow-origin")).toBe("https://notebook.example");
        const other = await one("/api/health", { headers: { origin: "https://evil.example" } });
        expect(other.headers.get("access-control-allow-origin")).toBeNull();
      });
    });

    it("serves runs whose task names, tag keys and JSON keys are __proto__, constructor and prototype, and stays up", async () => {
      const before = Object.getOwnPropertyNames(Object.prototype);
      try {
        const names = ["__proto__", "constructor", "prototype"];
        const repo = createMemoryRepository();
        const tasks = names.map((n) => task(n, (v: unknown) => v));
        const root = task("root", (v: unknown) => tasks.map((t) => t(v)));
        const value = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}}');
        const { executionId } = await new Scheduler({ repository: repo, now: () => T0 }).runWithId(root(value), {
          tags: names.map((n) => [n, value]),
        });
        const records = (await repo.exportSince(null, 1000)).records;
        expect((await post("/api/sync/push", { records })).status).toBe(200);
        for (let i = 0; i < 2; i++) {
          const shown = await get(`/api/records/${executionId}`);
          expect(shown.status, JSON.stringify(shown.body)).toBe(200);
          expect(Object.keys(shown.body.jobCounts.byTask).sort()).toEqual([...names, "root"].sort());
          for (const n of names) expect(shown.body.jobCounts.byTask[n]).toEqual({ DONE: 1 });
          expect(shown.body.record.tags.map(([k]: [string]) => k)).toEqual([...names].sort());
          expect((await get("/api/health")).status).toBe(200);
          expect((await get("/api/records")).status).toBe(200);
        }
        expect((await get(`/api/records?tag=${encodeURIComponent('__proto__={"__proto__":{"polluted":true},"constructor":{"prototype":1}}')}`)).body.records.map((r: { id: string }) => r.id)).toEqual([executionId]);
        expect((await get("/api/records?type=Job&task=constructor")).body.records).toHaveLength(1);
        expect((await get("/api/tags?key=__proto__&key=constructor")).body.tags).toEqual([
          { key: "__proto__", entityType: "Execution", count: 1 },
          { key: "constructor", entityType: "Execution", count: 1 },
        ]);
        // As query parameters and body fields they are unknown names, refused, and nothing is written.
        expectError(await get("/api/records?__proto__=1"), 400, "invalid", "__proto__");
        expectError(await get("/api/records?constructor=1"), 400, "invalid", "constructor");
        expectError(await get("/api/tags?prototype=1"), 400, "invalid", "prototype");
        const edit = `/api/records/${executionId}/tags`;
        expectError(await nothingWritten(() => post(edit, JSON.parse('{"op": "add", "tags": ["k=v"], "__proto__": {"op": "rm"}}'))), 400, "invalid", "__proto__");
        expectError(await nothingWritten(() => post(edit, { op: "constructor", tags: ["k=v"] })), 400, "invalid", "op");
        expectError(await nothingWritten(() => post("/api/repository/get", { type: "__proto__", ids: [] })), 400, "invalid", "type");
        expectError(await nothingWritten(() => post("/api/repository/query", { query: { constructor: 1 } })), 400, "invalid", "constructor");
        expectError(await nothingWritten(() => post("/api/sync/push", { records: [{ type: "constructor", id: "x", time: 1 }] })), 400, "invalid", "records[0].type");
        // Edits by those keys.
        const added = await post(edit, { op: "add", tags: [["constructor", value], "prototype=1"] });
        expect(added.body.written).toBe(1);
        expect(added.status, JSON.stringify(added.body)).toBe(200);
        expect((await post(edit, { op: "rm", keys: ["__proto__"] })).body.written).toBe(1);
        expect((await get(`/api/records/${executionId}`)).body.record.tags.map(([k]: [string]) => k)).toEqual(["constructor", "prototype", "prototype"]);
        expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(before);
      } finally {
        for (const name of Object.getOwnPropertyNames(Object.prototype)) {
          if (!before.includes(name)) delete (Object.prototype as Record<string, unknown>)[name];
        }
      }
    });

    it("records tags written by the API as ordinary tag records", async () => {
      await post(`/api/records/${bob}/tags`, { op: "add", tags: [["reviewed", true]] });
      const [tag] = (await h.repository.currentTags([bob])).filter((t) => t.key === "reviewed");
      expect(tag).toMatchObject({ entityType: "Execution", entityId: bob, value: true, parents: [] });
      expect(tag!.id).toBe(makeTag("Execution", bob, "reviewed", true, [], 0).id);
    });
  });
}
