/**
 * The inspector in a real Chromium, as a person meets it: the Worker over a
 * Miniflare D1 serving the page at `/` (with a token for writes and CORS for
 * one other origin), and the same page over IndexedDB served from that other
 * origin. Every screen is driven: filter, open a run, expand its tree, open
 * a job, a value, a task; edit tags (the page asks for the token); sync the
 * browser store with the edge (interrupted and resumed) and see the same
 * list in both; resolve a conflict two stores made. Screenshots of each
 * screen are taken on the way (docs/ with REDUN_SCREENSHOTS=1).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpClient, createHttpRepository } from "redun-edge/http";
import { serveInspector, type InspectServer } from "../../cli/inspect.ts";
import { buildInspector } from "../../inspector/build.ts";
import { callRows, hasChromium, launchChromium, openJob, screenshotDir, tagRows, watchedPage, type WatchedPage } from "./browser.ts";
import { COMMIT, SCRIPT_SOURCE, XSS_TAG, seedDemo, type Seeded } from "./seed.ts";
import { INSPECTOR_DIR, startWorker, type RunningWorker } from "./worker.ts";

const TOKEN = "s3cret-token";
const LIST = 'section.records[aria-busy="false"]';

interface Row {
  id: string;
  tags: string[];
}

async function listRows(page: Page): Promise<Row[]> {
  await page.waitForSelector(LIST);
  return page.$$eval('[data-testid="records"] tbody tr', (trs) =>
    trs.map((tr) => ({
      id: (tr as HTMLElement).dataset.id!,
      tags: [...tr.querySelectorAll(".chip")].map((c) => (c as HTMLElement).title || c.textContent!),
    })),
  );
}

/** Wait until the list shows exactly these ids (newest first). */
async function expectList(page: Page, ids: string[]): Promise<Row[]> {
  await page.waitForFunction(
    (want) => {
      const section = document.querySelector('section.records[aria-busy="false"]');
      if (!section) return false;
      const got = [...section.querySelectorAll<HTMLElement>('[data-testid="records"] tbody tr')].map((tr) => tr.dataset.id);
      return JSON.stringify(got) === JSON.stringify(want);
    },
    ids,
    { timeout: 15_000 },
  ).catch(async () => {
    throw new Error(`the list shows ${JSON.stringify((await listRows(page)).map((r) => r.id))}, expected ${JSON.stringify(ids)}`);
  });
  return listRows(page);
}

async function filter(page: Page, text: string): Promise<void> {
  await page.fill("input.tag-filter", text);
  await page.press("input.tag-filter", "Enter");
}

async function waitForTag(page: Page, text: string, present = true): Promise<void> {
  await page.waitForFunction(
    ([t, want]) => {
      const rows = [...document.querySelectorAll('[data-testid="tag-editor"] [data-testid="tag-row"]')].map(
        (tr) => `${tr.querySelector(".key")!.textContent}=${tr.querySelector(".value")!.textContent}`,
      );
      return rows.includes(t as string) === want;
    },
    [text, present] as const,
    { timeout: 15_000 },
  );
}

async function editTags(page: Page, text: string, op: "add" | "update" | "rm"): Promise<void> {
  await page.fill('[data-testid="tag-editor"] input[name="tag"]', text);
  await page.click(`[data-testid="tag-editor"] button[value="${op}"]`);
}

async function message(page: Page, pattern: RegExp): Promise<string> {
  const locator = page.locator('[data-testid="edit-message"]');
  await expect.poll(async () => (await locator.count()) ? await locator.textContent() : "", { timeout: 15_000 }).toMatch(pattern);
  return (await locator.textContent())!;
}

describe.skipIf(!hasChromium)("the inspector in Chromium", () => {
  let pages: InspectServer;
  let worker: RunningWorker;
  let browser: Browser;
  let edge: WatchedPage;
  let local: WatchedPage;
  let seeded: Seeded;
  const shots = screenshotDir();
  const shot = (page: Page, name: string) => page.screenshot({ path: join(shots, `inspector-${name}.png`), fullPage: true });
  const edgeRepository = () => createHttpRepository({ url: worker.url, token: TOKEN });

  beforeAll(async () => {
    if (!existsSync(join(INSPECTOR_DIR, "app.js"))) await buildInspector();
    // The page over IndexedDB comes from another origin, which the Worker's CORS allows.
    pages = await serveInspector({ dir: INSPECTOR_DIR });
    worker = await startWorker({ env: { API_TOKEN: TOKEN, CORS_ORIGINS: pages.origin } });
    seeded = await seedDemo(edgeRepository());
    browser = await launchChromium();
    // The 401 of a wrong token, given on purpose.
    edge = await watchedPage(browser, [/status of 401/]);
    // Requests the sync test aborts on purpose.
    local = await watchedPage(browser, [/Failed to load resource/]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await worker?.close();
    await pages?.close();
  });

  it("serves the page at / with a Content-Security-Policy, next to the API", async () => {
    const res = (await edge.page.goto(`${worker.url}/`))!;
    expect(res.status()).toBe(200);
    const csp = res.headers()["content-security-policy"]!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    const script = await fetch(`${worker.url}/app.js`);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    expect((await fetch(`${worker.url}/api/health`)).status).toBe(200);
    await edge.page.waitForSelector(LIST);
  });

  it("lists executions newest first, with their tags as text (HTML in a tag stays text)", async () => {
    const rows = await expectList(edge.page, [seeded.other, seeded.failed, seeded.cached, seeded.first]);
    expect(rows[0]!.tags).toContain(`note=${JSON.stringify(XSS_TAG)}`);
    expect(await edge.page.locator("main img").count()).toBe(0);
    const statuses = await edge.page.$$eval('[data-testid="records"] .status', (s) => s.map((e) => e.textContent));
    expect(statuses).toEqual(["DONE", "FAILED", "DONE", "DONE"]);
    expect(await edge.page.textContent(`tr[data-id="${seeded.first}"] .argv`)).toBe("run workflow.ts main --n 4");
    await shot(edge.page, "executions");
  });

  it("filters by redun's tag text, key only, status and task; a chip adds its tag; the URL holds the filter", async () => {
    const page = edge.page;
    await filter(page, "user=alice");
    await expectList(page, [seeded.failed, seeded.first]);
    expect(decodeURIComponent(new URL(page.url()).hash)).toContain("tag=user=alice");
    await page.selectOption('select[name="status"]', "FAILED");
    await expectList(page, [seeded.failed]);
    await page.click("text=clear");
    await expectList(page, [seeded.other, seeded.failed, seeded.cached, seeded.first]);
    await filter(page, "note");
    await expectList(page, [seeded.other]);
    await filter(page, "project=demo --tag user=bob");
    await expectList(page, [seeded.cached]);
    await filter(page, "");
    await page.fill('input[name="task"]', "demo.failing");
    await page.press('input[name="task"]', "Enter");
    await expectList(page, [seeded.failed]);
    await page.click("text=clear");
    await expectList(page, [seeded.other, seeded.failed, seeded.cached, seeded.first]);
    // A click on a chip adds it to the filter.
    await page.click(`tr[data-id="${seeded.cached}"] button.chip:has-text("user=bob")`);
    await expectList(page, [seeded.cached]);
    // The filtered list has its own URL: loaded fresh, it shows the same.
    const url = page.url();
    await page.goto("about:blank");
    await page.goto(url);
    await expectList(page, [seeded.cached]);
    await filter(page, "bad={");
    await expect.poll(() => page.locator('section.records p.error').textContent()).toMatch(/malformed JSON/);
  });

  it("opens a run: its tags with the commit link, the job status table, the job tree expanding, the timeline", async () => {
    const page = edge.page;
    await page.goto(`${worker.url}/#/executions`);
    await page.click(`tr[data-id="${seeded.first}"] a.id`);
    await page.waitForSelector('[data-testid="execution"]');
    expect(page.url()).toContain(`#/execution/${seeded.first}`);
    expect(await page.getAttribute('a.commit', "href")).toBe(`https://github.com/insitro/redun/commit/${COMMIT}`);
    const all = await page.$$eval('[data-testid="status-table"] tbody tr:first-child td', (tds) => tds.map((t) => t.textContent));
    expect(all).toEqual(["ALL", "0", "0", "0", "11", "11"]);
    const tree = () => page.$$eval('[data-testid="job-row"]', (rows) => rows.map((r) => r.querySelector(".tree-cell a")!.textContent));
    expect(await tree()).toEqual(["demo.main", "demo.load", "demo.squares", "demo.stats", "demo.render"]);
    await page.click('button[aria-label="expand demo.squares"]');
    await expect.poll(tree).toEqual(["demo.main", "demo.load", "demo.squares", "demo.square", "demo.square", "demo.square", "demo.square", "demo.stats", "demo.render"]);
    await page.click('button[aria-label="expand demo.stats"]');
    await expect.poll(async () => (await tree()).length).toBe(11);
    await page.click('button[aria-label="collapse demo.squares"]');
    await expect.poll(async () => (await tree()).length).toBe(7);
    await page.click("text=Expand all");
    await expect.poll(async () => (await tree()).length).toBe(11);
    // Every row has its bar on the timeline; the root's spans the whole run.
    const bars = await page.$$eval('[data-testid="job-row"] .bar', (b) => b.map((e) => (e as HTMLElement).style.width));
    expect(bars).toHaveLength(11);
    expect(bars[0]).toBe("100%");
    await shot(page, "execution");
  });

  it("shows CACHED jobs at a glance", async () => {
    const page = edge.page;
    await page.goto(`${worker.url}/#/execution/${seeded.cached.slice(0, 8)}`);
    await page.waitForSelector('[data-testid="job-row"]');
    expect(await page.getAttribute('[data-testid="job-row"] .status', "data-status")).toBe("CACHED");
    expect(await page.$eval('[data-testid="job-row"]', (r) => getComputedStyle(r.querySelector(".status")!).color)).not.toBe(
      await page.$eval('[data-testid="status-table"] th', (t) => getComputedStyle(t).color),
    );
    const cachedCount = await page.$eval('[data-testid="status-table"] tbody tr:first-child td:nth-child(4)', (t) => Number(t.textContent));
    expect(cachedCount).toBeGreaterThanOrEqual(1);
  });

  it("opens a job: its traceback, task, arguments and result, tags and child jobs", async () => {
    const page = edge.page;
    await openJob(page, worker.url, seeded.first, "demo.stats");
    const traceback = (await page.textContent('[data-testid="traceback"]'))!;
    expect(traceback).toMatch(new RegExp(`^Traceback: Exec ${seeded.first.slice(0, 8)} > Job [0-9a-f]{8} demo.main > Job [0-9a-f]{8} demo.stats$`));
    const call = await callRows(page);
    expect(call).toEqual(["arg 0: [1, 4, 9, 16]", "result: {'mean': 7.5, 'total': 30}"]);
    expect(await tagRows(page)).toEqual(["size=4"]);
    const children = await page.$$eval('[data-testid="job-list"] tr', (trs) => trs.map((tr) => tr.children[2]!.textContent));
    expect(children.sort()).toEqual(["demo.mean", "demo.total"]);
    await shot(page, "job");
  });

  it("opens a value: its preview and lineage, the call that made it from its inputs, and the calls that used it", async () => {
    const page = edge.page;
    await page.click('[data-testid="call"] tr:first-child a.id');
    await page.waitForSelector('[data-testid="value"]');
    expect(await page.textContent('[data-testid="value-text"]')).toBe("[\n  1,\n  4,\n  9,\n  16\n]");
    const calls = () => page.$$eval('[data-testid="lineage-call"] > code', (c) => c.map((e) => e.textContent));
    // Made by squares([1, 2, 3, 4]); used by stats, and by the total and mean that stats called.
    const used = ["demo.mean([1, 4, 9, 16])", "demo.stats([1, 4, 9, 16])", "demo.total([1, 4, 9, 16])"];
    const [made, ...uses] = await calls();
    expect(made).toBe("demo.squares([1, 2, 3, 4])");
    expect(uses.sort()).toEqual(used);
    const labels = await page.$$eval('[data-testid="lineage-graph"] text', (t) => t.map((e) => e.textContent));
    expect(labels.slice(0, 3)).toEqual(["[1, 2, 3, 4]", "demo.squares([1, 2, 3, 4])", "[1, 4, 9, 16]"]);
    expect(labels.slice(3).sort()).toEqual(used);
    await shot(page, "value");
    // The input box leads on to the value that went in.
    await page.click('[data-testid="lineage-graph"] a:has(text:text-is("[1, 2, 3, 4]"))');
    await page.waitForFunction(() => document.querySelector('[data-testid="value-text"]')?.textContent === "[\n  1,\n  2,\n  3,\n  4\n]");
    expect(await calls()).toEqual(["demo.load(4)", "demo.squares([1, 2, 3, 4])"]);
  });

  it("opens a CallNode from a job and from a value's lineage: task, arguments, result, child calls, the jobs that ran it", async () => {
    const page = edge.page;
    const jobId = await openJob(page, worker.url, seeded.first, "demo.stats");
    await page.click('[data-testid="job"] dl.facts a[href^="#/callnode/"]');
    await page.waitForSelector('[data-testid="callnode"]');
    expect(page.url()).toMatch(/#\/callnode\/[0-9a-f]{40}$/);
    expect(await page.textContent('[data-testid="call-line"]')).toBe("demo.stats([1, 4, 9, 16])");
    const call = await callRows(page);
    expect(call).toEqual(["arg 0: [1, 4, 9, 16]", "result: {'mean': 7.5, 'total': 30}"]);
    // Child calls in call order, each linking to its own screen.
    const children = await page.$$eval('[data-testid="child-calls"] tr', (trs) => trs.map((tr) => tr.children[1]!.textContent));
    expect(children).toEqual(["demo.total([1, 4, 9, 16])", "demo.mean([1, 4, 9, 16])"]);
    // The jobs that ran it: the first run's, and the cached re-run's.
    const jobs = await page.$$eval('[data-testid="callnode"] [data-testid="job-list"] tr', (trs) =>
      trs.map((tr) => [(tr as HTMLElement).dataset.id, tr.querySelector(".status")!.textContent]),
    );
    expect(jobs).toContainEqual([jobId, "DONE"]);
    expect(jobs.map(([, status]) => status).sort()).toEqual(["CACHED", "DONE"]);
    expect(await page.locator('[data-testid="callnode"] [data-testid="tag-editor"]').count()).toBe(1);
    await shot(page, "callnode");
    await page.click('[data-testid="child-calls"] tr:first-child a.id');
    await page.waitForFunction(() => document.querySelector('[data-testid="call-line"]')?.textContent === "demo.total([1, 4, 9, 16])");
    expect(await page.textContent('[data-testid="call"] tr.result .repr')).toBe("30");
    // From a value's lineage: the call that made it.
    await page.click('[data-testid="call"] tr:first-child a[href^="#/value/"]');
    await page.waitForSelector('[data-testid="lineage-call"]');
    await page.click('[data-testid="lineage-call"]:first-child a[href^="#/callnode/"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="call-line"]')?.textContent === "demo.squares([1, 2, 3, 4])");
    // A call node in the records list links to its screen.
    await page.goto(`${worker.url}/#/records?type=CallNode`);
    await page.waitForSelector(LIST);
    await page.click('[data-testid="records"] tr:first-child a[href^="#/callnode/"]');
    await page.waitForSelector('[data-testid="callnode"]');
  });

  it("shows a task's source as text (a `</script>` in it stays text) and its jobs", async () => {
    const page = edge.page;
    await page.goto(`${worker.url}/#/records?type=Task`);
    await page.waitForSelector(LIST);
    await page.click('[data-testid="records"] a:text-is("demo.render")');
    await page.waitForSelector('[data-testid="task"]');
    expect(await page.textContent('[data-testid="task-source"]')).toBe(SCRIPT_SOURCE);
    expect(await page.locator("main script").count()).toBe(0);
    const jobs = await page.$$eval('[data-testid="job-list"] tr', (trs) => trs.length);
    expect(jobs).toBeGreaterThanOrEqual(2);
    await shot(page, "task");
  });

  it("shows a failed job as redun does: its arguments, the error raised, its stack; the parent names the child that raised it", async () => {
    const page = edge.page;
    const boomId = await openJob(page, worker.url, seeded.failed, "demo.boom");
    expect(await page.getAttribute('[data-testid="job"] h1 .status', "data-status")).toBe("FAILED");
    expect(await page.textContent('[data-testid="job-error"]')).toBe("Error: n must be at most 2, got 3");
    const call = await callRows(page);
    expect(call).toEqual(["arg 0: 3", "result: raised Error('n must be at most 2, got 3')"]);
    const stack = (await page.textContent('[data-testid="job-stack"]'))!;
    expect(stack.split("\n")[0]).toBe("Error: n must be at most 2, got 3");
    expect(stack).toMatch(/\n\s+at .*seed\.ts:\d+/);
    await shot(page, "failed-job");
    // The parent failed with it: the same error, raised in the child.
    await page.click('[data-testid="traceback"] a:has-text("demo.failing")');
    await page.waitForSelector('[data-testid="job-error-note"]');
    expect(await page.textContent('[data-testid="job-error"]')).toBe("Error: n must be at most 2, got 3");
    expect(await page.textContent('[data-testid="job-error-note"]')).toBe(`raised in child job ${boomId.slice(0, 8)}`);
    await page.click('[data-testid="job-error-note"] a');
    await page.waitForFunction((id) => document.querySelector('[data-testid="job"]')?.getAttribute("data-id") === id, boomId);
  });

  it("edits tags in place: asks for the token, adds, updates with history, removes, shows errors inline; the list sees it", async () => {
    const page = edge.page;
    await page.goto(`${worker.url}/#/execution/${seeded.first}`);
    await page.waitForSelector('[data-testid="tag-row"]');
    await editTags(page, "reviewed=true", "add");
    await message(page, /needs a token/);
    await page.fill('[data-testid="token-form"] input', "wrong-token");
    await page.click('[data-testid="token-form"] button');
    await editTags(page, "reviewed=true", "add");
    await message(page, /401 unauthorized/);
    await page.fill('[data-testid="token-form"] input', TOKEN);
    await page.click('[data-testid="token-form"] button');
    await editTags(page, "reviewed=true", "add");
    expect(await message(page, /^add reviewed=true$/)).toBeTruthy();
    await waitForTag(page, "reviewed=true");
    await editTags(page, "user=dave", "update");
    await message(page, /^update user=dave$/);
    await waitForTag(page, "user=dave");
    await waitForTag(page, "user=alice", false);
    await page.click('[data-testid="tag-row"][data-key="user"] [data-testid="tag-history"]');
    expect(await page.textContent('[data-testid="history-row"] s')).toBe("user=alice");
    await shot(page, "tags-edit");
    await page.click('[data-testid="tag-row"][data-key="reviewed"] button.danger');
    await waitForTag(page, "reviewed=true", false);
    await editTags(page, "bad={", "add");
    await message(page, /malformed JSON value/);
    await editTags(page, "user", "rm");
    await waitForTag(page, "user=dave", false);
    await editTags(page, "user=dave", "add");
    await waitForTag(page, "user=dave");
    // The edit as every reader sees it: the list, and a fresh read of the edge.
    await page.goto(`${worker.url}/#/executions?tag=user%3Ddave`);
    await expectList(page, [seeded.first]);
    const { records } = await createHttpClient({ url: worker.url }).log({ tags: [["user", "dave"]] });
    expect(records.map((r) => r.id)).toEqual([seeded.first]);
  });

  it("renames a tag key in place (errors inline) and shows earlier tags: renamed, removed and re-added", async () => {
    const page = edge.page;
    await page.goto(`${worker.url}/#/execution/${seeded.first}`);
    await page.waitForSelector('[data-testid="tag-row"][data-key="project"]');
    await page.click('[data-testid="tag-row"][data-key="project"] [data-testid="rename"]');
    await page.click('[data-testid="rename-form"] button[type="submit"]');
    await message(page, /^rename needs two non-empty keys$/);
    await page.fill('[data-testid="rename-form"] input', "k".repeat(1100));
    await page.click('[data-testid="rename-form"] button[type="submit"]');
    await message(page, /a tag key is at most \d+ bytes/);
    await page.fill('[data-testid="rename-form"] input', "team");
    await page.click('[data-testid="rename-form"] button[type="submit"]');
    await message(page, /^rename project to team$/);
    await waitForTag(page, "team=demo");
    await waitForTag(page, "project=demo", false);
    expect(await page.locator('[data-testid="rename-form"]').count()).toBe(0);
    // reviewed=true was added and removed in the test before; added again, its removal is in the history.
    await editTags(page, "reviewed=true", "add");
    await waitForTag(page, "reviewed=true");
    await page.click('[data-testid="past-toggle"]');
    const past = () =>
      page.$$eval('[data-testid="past-row"]', (trs) => trs.map((tr) => `${tr.querySelector("s")!.textContent} | ${tr.querySelector('[data-testid="past-how"]')!.textContent}`));
    await expect.poll(past).toEqual(["reviewed=true | removed, re-added", "project=demo | renamed to team"]);
    await shot(page, "tags-history");
    // Every reader sees the rename.
    const { records } = await createHttpClient({ url: worker.url }).log({ tags: [["team", "demo"]] });
    expect(records.map((r) => r.id)).toEqual([seeded.first]);
  });

  it("shows an execution whose process stopped without finishing it (RUNNING, lease passed) as ABANDONED", async () => {
    const repository = edgeRepository();
    const [first] = await repository.get("Execution", [seeded.first]);
    const [root] = await repository.get("Job", [first!.rootJobId]);
    const start = Date.UTC(2026, 2, 3, 8, 0);
    const id = "0badc0de-0000-4000-8000-000000000001";
    const jobId = "0badc0de-0000-4000-8000-000000000002";
    await repository.write([
      { type: "Execution", id, time: start, rootJobId: jobId, argv: ["run", "workflow.ts", "main", "--n", "9"], startTime: start, endTime: null, status: "RUNNING", leaseUntil: start + 30_000 },
      { ...root!, id: jobId, executionId: id, time: start, startTime: start, endTime: null, status: "RUNNING", callHash: null, error: null },
    ]);
    const page = edge.page;
    await page.goto(`${worker.url}/#/executions`);
    await page.waitForSelector(`tr[data-id="${id}"]`);
    expect(await page.textContent(`tr[data-id="${id}"] .status`)).toBe("ABANDONED");
    expect(await page.textContent(`tr[data-id="${seeded.first}"] .status`)).toBe("DONE");
    await shot(page, "abandoned");
    await page.click(`tr[data-id="${id}"] a.id`);
    await page.waitForSelector('[data-testid="execution"]');
    expect(await page.getAttribute('[data-testid="execution"] h1 .status', "data-status")).toBe("ABANDONED");
    expect(await page.textContent('[data-testid="abandoned"]')).toMatch(/^Abandoned: recorded as RUNNING, but its lease ran out 2026-03-0\d \d\d:\d0:30 without/);
  });

  it("lists the tag vocabulary: keys with counts by record type, a key's values with counts", async () => {
    const page = edge.page;
    await page.goto(`${worker.url}/#/tags`);
    await page.waitForSelector('[data-testid="tag-keys"]');
    const user = await page.$$eval('[data-testid="tag-keys"] tr[data-key="user"] td', (tds) => tds.map((t) => t.textContent));
    expect(user).toEqual(["user", "4", "0", "0", "0", "0", "4"]);
    const kind = await page.$$eval('[data-testid="tag-keys"] tr[data-key="kind"] td', (tds) => tds.map((t) => t.textContent));
    expect(kind[0]).toBe("kind");
    expect(Number(kind[2])).toBeGreaterThan(0); // square jobs inherit the task's tag
    await page.click('[data-testid="tag-keys"] a:text-is("user")');
    await page.waitForSelector('[data-testid="tag-values"]');
    const values = await page.$$eval('[data-testid="tag-values"] tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent).join(" ")));
    expect(values).toEqual(["alice 1", "bob 1", "carol 1", "dave 1"]);
    await shot(page, "tags");
  });

  it("syncs a browser store with the edge: a pull interrupted and resumed, the same list in both, an offline edit pushed once", async () => {
    const page = local.page;
    const db = `inspector-e2e-${Date.now()}`;
    await page.goto(`${pages.origin}/?db=${db}#/executions`);
    await expectList(page, []);
    expect(await page.textContent('[data-testid="store"]')).toBe(`IndexedDB ${db}`);

    // How many records the edge holds.
    let total = 0;
    for (let cursor: string | null = null; ; ) {
      const p = await createHttpClient({ url: worker.url }).pull(cursor, 1000);
      total += p.records.length;
      cursor = p.cursor;
      if (p.done) break;
    }
    expect(total).toBeGreaterThan(100);

    await page.goto(`${pages.origin}/?db=${db}#/sync?page=20`);
    await page.fill('input[name="url"]', worker.url);
    await page.fill('input[name="token"]', TOKEN);
    // The third page of the pull fails (the connection drops).
    let pulls = 0;
    await page.route("**/api/sync/pull*", (route) => (++pulls === 3 ? route.abort("connectionreset") : route.continue()));
    await page.click('button[value="pull"]');
    await expect.poll(() => page.locator("main p.error").count(), { timeout: 15_000 }).toBe(1);
    expect(await page.textContent("main p.error")).toMatch(/^cannot reach .* \(40 records copied; the next pull resumes from there\)$/);
    await page.unroute("**/api/sync/pull*");
    // Pulled again, slowly: a progress bar, and Stop.
    await page.route("**/api/sync/pull*", async (route) => {
      await new Promise((r) => setTimeout(r, 150));
      await route.continue();
    });
    await page.click('button[value="pull"]');
    await page.waitForFunction(() => /pulling: [1-9]/.test(document.querySelector('[data-testid="progress"]')?.textContent ?? ""));
    expect(await page.locator('[data-testid="progress"] progress').count()).toBe(1);
    await shot(page, "sync-progress");
    await page.click("text=Stop");
    await expect.poll(() => page.locator("main p.error").textContent()).toMatch(/^pull stopped \(\d+ records copied; the next pull resumes from there\)$/);
    const stoppedAfter = Number(/\((\d+) records/.exec((await page.textContent("main p.error"))!)![1]);
    expect(stoppedAfter).toBeGreaterThan(0);
    await page.unroute("**/api/sync/pull*");
    // And again: it resumes after the pages already copied, and copies each record once.
    await page.click('button[value="pull"]');
    await expect.poll(() => page.locator('[data-testid="sync-result"]').textContent(), { timeout: 30_000 }).toBe(`Pulled ${(total - 40 - stoppedAfter).toLocaleString("en-US")} records.`);
    await expect.poll(() => page.textContent('[data-testid="pending"]')).toBe("0 local records not pushed to this edge yet.");

    // The same list in both stores.
    await edge.page.goto(`${worker.url}/#/executions`);
    const edgeRows = await listRows(edge.page);
    await page.goto(`${pages.origin}/?db=${db}#/executions`);
    const localRows = await expectList(page, edgeRows.map((r) => r.id));
    expect(localRows).toEqual(edgeRows);

    // An edit made offline, in the browser store, then pushed.
    await page.goto(`${pages.origin}/?db=${db}#/execution/${seeded.other}`);
    await page.waitForSelector('[data-testid="tag-row"]');
    await editTags(page, "offline=yes", "add");
    await waitForTag(page, "offline=yes");
    await page.goto(`${pages.origin}/?db=${db}#/sync`);
    await expect.poll(() => page.textContent('[data-testid="pending"]')).toBe("1 local record not pushed to this edge yet.");
    expect(await page.inputValue('input[name="url"]')).toBe(worker.url); // kept in this browser
    await page.click('button[value="push"]');
    await expect.poll(() => page.locator('[data-testid="sync-result"]').textContent()).toBe("Pushed 1 record; the edge accepted 1.");
    await expect.poll(() => page.textContent('[data-testid="pending"]')).toBe("0 local records not pushed to this edge yet.");
    await shot(page, "sync");
    await page.click('button[value="push"]');
    await expect.poll(() => page.locator('[data-testid="sync-result"]').textContent()).toBe("Pushed 0 records; the edge accepted 0.");

    await edge.page.goto(`${worker.url}/#/executions?tag=offline%3Dyes`);
    await expectList(edge.page, [seeded.other]);

    // Conflict: both stores change the same tag apart, then sync both ways.
    await edge.page.goto(`${worker.url}/#/execution/${seeded.cached}`);
    await edge.page.waitForSelector('[data-testid="tag-row"]');
    await editTags(edge.page, "user=frank", "update");
    await waitForTag(edge.page, "user=frank");
    await page.goto(`${pages.origin}/?db=${db}#/execution/${seeded.cached}`);
    await page.waitForSelector('[data-testid="tag-row"]');
    await editTags(page, "user=erin", "update");
    await waitForTag(page, "user=erin");
    await page.goto(`${pages.origin}/?db=${db}#/sync`);
    await page.click('button[value="pull"]');
    // frank's tag, and the pushed records coming back (copying them again changes nothing).
    await expect.poll(() => page.locator('[data-testid="sync-result"]').textContent()).toMatch(/^Pulled \d+ records?\.$/);
    await page.click('button[value="push"]');
    await expect.poll(() => page.locator('[data-testid="sync-result"]').textContent()).toMatch(/^Pushed \d+ records?; the edge accepted \d+\.$/);

    for (const [p, base] of [[page, `${pages.origin}/?db=${db}`], [edge.page, worker.url]] as const) {
      // A fresh load: the edge's page still shows frank's edit from before the sync.
      await p.goto("about:blank");
      await p.goto(`${base}#/execution/${seeded.cached}`);
      await p.waitForSelector('[data-testid="conflict"]');
      expect(await p.$$eval('[data-testid="conflict"] button', (b) => b.map((e) => e.textContent))).toEqual(["erin", "frank"]);
      expect((await tagRows(p)).filter((t) => t.startsWith("user="))).toEqual(["user=erin", "user=frank"]);
    }
    await shot(edge.page, "conflict");
    // One action resolves it (an update naming both), on the edge; a pull brings the resolution here.
    await edge.page.click('[data-testid="conflict"] button:text-is("frank")');
    await expect.poll(() => edge.page.locator('[data-testid="conflict"]').count()).toBe(0);
    await waitForTag(edge.page, "user=erin", false);
    expect((await tagRows(edge.page)).filter((t) => t.startsWith("user="))).toEqual(["user=frank"]);
    await page.goto(`${pages.origin}/?db=${db}#/sync`);
    await page.click('button[value="pull"]');
    await expect.poll(() => page.locator('[data-testid="sync-result"]').textContent()).toMatch(/^Pulled \d+ records?\.$/);
    await page.goto(`${pages.origin}/?db=${db}#/execution/${seeded.cached}`);
    await waitForTag(page, "user=frank");
    expect(await page.locator('[data-testid="conflict"]').count()).toBe(0);
    expect((await tagRows(page)).filter((t) => t.startsWith("user="))).toEqual(["user=frank"]);
  });

  it("cannot push from an origin the Worker's CORS does not allow", async () => {
    const other = await watchedPage(browser, [/CORS|Failed to load resource/]);
    const origin = pages.origin.replace("127.0.0.1", "localhost");
    await other.page.goto(`${origin}/?db=cors-${Date.now()}#/sync`);
    await other.page.fill('input[name="url"]', worker.url);
    await other.page.click('button[value="pull"]');
    await expect.poll(() => other.page.locator("main p.error").count(), { timeout: 15_000 }).toBe(1);
    expect(await other.page.textContent("main p.error")).toMatch(/cannot reach/);
    await other.page.context().close();
    expect(other.problems).toEqual([]);
  });

  it("met no script error, CSP violation, failed request or dialog on the way", () => {
    expect(edge.problems).toEqual([]);
    expect(local.problems).toEqual([]);
  });
});
