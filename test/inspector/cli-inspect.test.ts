/**
 * `redun-edge inspect` as a user runs it: over a folder's local store (a
 * workflow run first), the printed URL opens the inspector in Chromium and
 * shows the run; `/api` answers only the browser that came through that URL
 * (its key becomes a cookie), other hosts are refused (DNS rebinding), the
 * page has its CSP, Ctrl-C stops it. A folder without a store is one error
 * line and creates nothing.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasChromium, launchChromium } from "./browser.ts";
import { REPO } from "./worker.ts";

const NODE = join(REPO, "node_modules", ".bin", "node");
const MAIN = join(REPO, "cli", "main.ts");

function env(dir: string): NodeJS.ProcessEnv {
  return { ...process.env, REDUN_EDGE_URL: "", REDUN_EDGE_TOKEN: "", REDUN_EDGE_IDLE_SECONDS: "60", REDUN_EDGE_STORE: dir };
}

function cli(dir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(NODE, [MAIN, ...args], { cwd: dir, env: env(dir), timeout: 60_000 }, (error, stdout, stderr) =>
      done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** A GET with any Host header and cookie (fetch would not let us set Host). */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("redun-edge inspect", () => {
  const dir = mkdtempSync(join(tmpdir(), "redun-edge-inspect-"));
  const empty = mkdtempSync(join(tmpdir(), "redun-edge-inspect-empty-"));
  let child: ChildProcess;
  let url = "";
  let executionId = "";

  beforeAll(async () => {
    const run = await cli(dir, ["run", "--tag", "user=ann", join(REPO, "examples", "hello-world.ts"), "main"]);
    expect(run.code, run.stderr).toBe(0);
    const log = await cli(dir, ["log", "--format", "json"]);
    executionId = (JSON.parse(log.stdout) as { id: string }[])[0]!.id;
    child = spawn(NODE, [MAIN, "inspect", "--no-open"], { cwd: dir, env: env(dir), stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 60_000);
      child.stdout!.on("data", (c: Buffer) => {
        out += c.toString();
        const m = /(http:\/\/127\.0\.0\.1:\d+\/\?key=[0-9a-f]+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once("exit", (code) => reject(new Error(`inspect exited (${code}): ${out}`)));
    });
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await cli(dir, ["server", "stop"]);
    rmSync(dir, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  });

  it("prints a URL whose key becomes the cookie /api needs; other hosts are refused", async () => {
    const origin = new URL(url).origin;
    const page = await get(`${origin}/`);
    expect(page.status).toBe(200);
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    expect((await get(`${origin}/api/records`)).status).toBe(403);
    const visit = await get(url);
    expect(visit.status).toBe(302);
    expect(visit.headers.location).toBe("/");
    const cookie = String(visit.headers["set-cookie"]).split(";")[0]!;
    expect(cookie).toMatch(/^redun_edge_inspect=[0-9a-f]+$/);
    const records = await get(`${origin}/api/records`, { cookie });
    expect(records.status).toBe(200);
    expect((JSON.parse(records.body) as { records: { id: string }[] }).records.map((r) => r.id)).toEqual([executionId]);
    expect((await get(`${origin}/api/records`, { cookie: "redun_edge_inspect=0000" })).status).toBe(403);
    expect((await get(`${origin}/api/records`, { cookie, host: "evil.example:80" })).status).toBe(403);
    expect((await get(`${origin}/../package.json`)).status).toBe(404);
  });

  it.skipIf(!hasChromium)("opens in Chromium on the run, and edits a tag of the local store", async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(url);
      await page.waitForSelector(`tr[data-id="${executionId}"]`);
      expect(new URL(page.url()).search).toBe(""); // the key left the address bar
      await page.click(`tr[data-id="${executionId}"] a.id`);
      await page.waitForSelector('[data-testid="tag-row"][data-key="user"]');
      await page.fill('[data-testid="tag-editor"] input[name="tag"]', "checked=yes");
      await page.click('[data-testid="tag-editor"] button[value="add"]');
      await page.waitForSelector('[data-testid="tag-row"][data-key="checked"]');
    } finally {
      await browser.close();
    }
    const log = await cli(dir, ["log", "--tag", "checked=yes", "--format", "json"]);
    expect((JSON.parse(log.stdout) as { id: string }[]).map((r) => r.id)).toEqual([executionId]);
  });

  it("stops on Ctrl-C", async () => {
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
  });

  it("says so in one line, creating nothing, where there is no store", async () => {
    const r = await cli(empty, ["inspect", "--no-open"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^redun-edge: error: no store in .* \(no \.redun\/\)/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(existsSync(join(empty, ".redun"))).toBe(false);
    const bad = await cli(dir, ["inspect", "--port", "http"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--port must be a port number/);
  });
});
