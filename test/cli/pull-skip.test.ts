/**
 * Issue 13, item 3, as a user meets it: `redun-edge pull` from a remote that
 * holds a record whose id no longer matches its content (as D1 held one
 * altered by a lone surrogate). The pull reports it on stderr, copies the
 * rest, saves its cursor past it, and the next pull does not stop there again.
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { serve } from "@hono/node-server";
import { Scheduler, task, type AnyRecord, type TagRecord } from "../../core/index.ts";
import { createMemoryRepository } from "../../adapters/memory/index.ts";
import { createApp } from "../../worker/app.ts";
import { cli } from "./helpers.ts";

let dir: string;
let url: string;
let close: () => void;
let forged: TagRecord;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "redun-edge-cli-pull-"));
  const repository = createMemoryRepository();
  await new Scheduler({ repository }).run(task("hi", (x: number) => x + 1, { namespace: "remote" })(1), { tags: { user: "rita" } });
  const first = (await repository.exportSince(null, 1000)).records;
  forged = { ...(first.find((r) => r.type === "Tag") as TagRecord), key: "us\ufffdr" };
  // The remote's store holds the altered record among its first records.
  const exportSince = async (cursor: string | null, limit: number) => {
    const page = await repository.exportSince(cursor, limit);
    return cursor === null ? { ...page, records: [page.records[0]!, forged as AnyRecord, ...page.records.slice(1)] } : page;
  };
  const server = serve({ fetch: createApp({ repository: { ...repository, exportSince } }).fetch, hostname: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => (server.listening ? r() : server.once("listening", () => r())));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => server.close();
});

afterAll(async () => {
  close?.();
  await cli(dir, ["server", "stop"]);
  rmSync(dir, { recursive: true, force: true });
});

test("pull reports a record the local store refuses and copies the rest", { timeout: 120_000 }, async () => {
  const pulled = await cli(dir, ["pull", "--remote", url]);
  expect(pulled.code, pulled.stderr).toBe(0);
  expect(pulled.stderr).toBe(`redun-edge: skipped Tag ${forged.id}: record: id ${forged.id} does not match the Tag's content\n`);
  expect(pulled.stdout).toMatch(/^pulled \d+ records from http:\/\/127\.0\.0\.1:\d+ \(1 refused, left out: see above\)\n$/);
  const log = await cli(dir, ["log", "--tag", "user=rita"]);
  expect(log.stdout).toMatch(/remote\.hi/);
  const again = await cli(dir, ["pull", "--remote", url]);
  expect(again.stdout).toMatch(/^pulled 0 records/);
  expect(again.stderr).toBe("");
});
