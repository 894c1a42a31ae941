/**
 * One contract (issue 15): the OpenAPI document, the worker's validation and
 * the typed client all come from the routes' schemas, so they agree. Every
 * documented operation is served; every documented body and query refuses
 * an unknown name and a missing required field with a 400 naming it, the
 * error in the documented shape; the served document is the generated one;
 * the client's types are the app's.
 */
import { hc, type InferResponseType } from "hono/client";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { Health, TagItem } from "redun-edge/http";
import { createMemoryRepository } from "redun-edge/memory";
import { createApp, openApiDocument, type AppType } from "redun-edge/worker";

type Schema = {
  $ref?: string; type?: string; required?: string[]; properties?: Record<string, Schema>; oneOf?: Schema[]; anyOf?: Schema[]; enum?: string[]; const?: string;
};
interface Operation {
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}

const doc = openApiDocument() as unknown as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};
const resolve = (s: Schema): Schema => (s.$ref ? resolve(doc.components.schemas[s.$ref.split("/").pop()!]!) : s);
const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase(), path: path.replace("{prefix}", "abc"), op })),
);

describe("the API contract", () => {
  const app = createApp({ repository: createMemoryRepository() });
  const send = async (method: string, path: string, body?: unknown) => {
    const res = await app.request(path, body === undefined ? { method } : { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string; field?: string } } };
  };

  it("documents 18 operations and serves each of them", async () => {
    expect(operations).toHaveLength(18);
    for (const { method, path, op } of operations) {
      const a = await send(method, path, op.requestBody ? {} : undefined);
      expect(a.body.error?.code, `${method} ${path}`).not.toBe("route_not_found");
    }
  });

  it("serves at /api/openapi.json the document generated from the schemas", async () => {
    expect((await send("GET", "/api/openapi.json")).body).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it("refuses, as documented, a body field the schema does not name, and a missing required one, naming the field", async () => {
    const bodies = operations.filter((o) => o.op.requestBody);
    expect(bodies.length).toBe(12);
    for (const { method, path, op } of bodies) {
      const schema = resolve(op.requestBody!.content["application/json"]!.schema);
      expect(Object.keys(op.responses)).toContain("400");
      // Of a variant schema (the tag edit), the first variant, named by its tag (`op`).
      const variant = (schema.oneOf ?? schema.anyOf)?.map(resolve)[0];
      const tag = Object.entries(variant?.properties ?? {}).flatMap(([k, p]) => (p.const ?? p.enum?.[0] ? [[k, p.const ?? p.enum![0]]] : []));
      const unknown = await send(method, path, { ...Object.fromEntries(tag), zz_not_in_contract: 1 });
      expect(unknown.status, `${path}`).toBe(400);
      expect(unknown.body.error).toMatchObject({ code: "invalid", field: "zz_not_in_contract" });
      // A variant schema (the tag edit) requires its tag, `op`; an object its required fields.
      const required = schema.required ?? (schema.oneOf ?? schema.anyOf)?.flatMap((v) => resolve(v).required ?? []) ?? [];
      if (required.length === 0) continue;
      const missing = await send(method, path, {});
      expect(missing.status, `${path} {}`).toBe(400);
      expect(required, `${path}: ${missing.body.error?.message}`).toContain(missing.body.error?.field);
    }
  });

  it("reads every documented query parameter, and refuses any other by name", async () => {
    for (const { method, path, op } of operations.filter((o) => o.op.parameters?.some((p) => p.in === "query"))) {
      const bogus = await send(method, `${path}?zz_not_in_contract=1`);
      expect(bogus.status).toBe(400);
      expect(bogus.body.error).toMatchObject({ code: "invalid", field: "zz_not_in_contract" });
      for (const p of op.parameters!.filter((p) => p.in === "query")) {
        const a = await send(method, `${path}?${p.name}=1`);
        expect(a.body.error?.message ?? "", `${path}?${p.name}`).not.toMatch(/unknown query parameter/);
      }
    }
  });

  it("types the client from the app: hc<AppType>'s answers are the HTTP adapter's", () => {
    type Api = ReturnType<typeof hc<AppType>>["api"];
    expectTypeOf<Health>().toEqualTypeOf<InferResponseType<Api["health"]["$get"]>>();
    expectTypeOf<TagItem>().toEqualTypeOf<Extract<Parameters<Api["records"][":prefix"]["tags"]["$post"]>[0]["json"], { op: "add" | "update" }>["tags"][number]>();
  });
});
