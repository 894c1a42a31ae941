/**
 * redun's own history in the inspector: the fixture database (made by real
 * redun 0.46.0) imported into the Worker over D1, then looked at in
 * Chromium as a person would: tags made in Python show their Python text
 * (`ratio=1000.0`, `meta={"a": [1, 2], "b": 2}`), values show Python's repr
 * (`'HELLO, ALICE!'`, `File(path=report-3.txt, …)`), jobs and call nodes as
 * redun's `log JOB` shows them.
 */
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importRecords, mapRedunRows } from "redun-edge";
import { createHttpRepository } from "redun-edge/http";
import { readRedunRows } from "../../local/redun-db.ts";
import { importInto } from "../redun/transcript.ts";
import { callRows, hasChromium, launchChromium, openJob, screenshotDir, tagRows as currentTags, watchedPage, type WatchedPage } from "./browser.ts";
import { REPO, startWorker, type RunningWorker } from "./worker.ts";

const DB = join(REPO, "test", "redun", "fixtures", "redun.db");
const E1 = "484b6c40-028c-4d79-b68e-70c94d8a0eb3";
const E3 = "07cbc2cf-30bf-4041-aba5-39208a7a6e86";
const E4 = "6d13b89a";
const SHOUT_JOB = "3cd8a558-8d28-44a9-a5fc-10ff279a87c6";
const SHOUT_CALL = "5a6fd22ab3e4f6104d36f1c43388baeed2194fef";

async function tagRows(page: Page): Promise<string[]> {
  await page.waitForSelector('[data-testid="tag-editor"] [data-testid="tag-row"]');
  return currentTags(page);
}

describe.skipIf(!hasChromium)("redun's history in the inspector", () => {
  let worker: RunningWorker;
  let browser: Browser;
  let watched: WatchedPage;
  const shots = screenshotDir();
  const shot = (page: Page, name: string) => page.screenshot({ path: join(shots, `inspector-${name}.png`), fullPage: true });

  beforeAll(async () => {
    worker = await startWorker();
    const repository = createHttpRepository({ url: worker.url });
    const mapping = mapRedunRows(readRedunRows(DB));
    expect(mapping.refused).toEqual([]);
    expect(await importInto(repository, mapping, (batch) => importRecords(repository, batch), 5_000)).toBe(331);
    browser = await launchChromium();
    watched = await watchedPage(browser);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await worker?.close();
  });

  it("lists redun's executions with their tags in Python's text", async () => {
    const page = watched.page;
    await page.goto(`${worker.url}/#/executions`);
    await page.waitForSelector('section.records[aria-busy="false"] [data-testid="records"]');
    const row = page.locator(`[data-testid="records"] tr[data-id^="${E4}"]`);
    const chips = await row.locator(".chip").evaluateAll((cs) => cs.map((c) => (c as HTMLElement).title));
    expect(chips).toEqual(expect.arrayContaining(["ratio=1000.0", 'meta={"a": [1, 2], "b": 2}', 'quoted="123"', "batch=3", "batch=4"]));
    expect(await page.textContent(`tr[data-id="${E3}"] .status`)).toBe("FAILED");
    await page.goto(`${worker.url}/#/execution/${E4}`);
    const rows = await tagRows(page);
    expect(rows).toEqual(expect.arrayContaining(["ratio=1000.0", 'meta={"a": [1, 2], "b": 2}', 'label="hello world"']));
    await shot(page, "redun-execution");
  });

  it("opens a redun job and its call node: arguments and results as Python's repr, the call's tags", async () => {
    const page = watched.page;
    await page.goto(`${worker.url}/#/execution/${E1}`);
    await page.waitForSelector('[data-testid="job-row"]');
    await page.click(`[data-testid="job-row"][data-id="${SHOUT_JOB}"] a`);
    await page.waitForSelector('[data-testid="job"]');
    expect(await page.textContent('[data-testid="traceback"]')).toBe(`Traceback: Exec 484b6c40 > Job f71edc0f hello.main > Job 3cd8a558 hello.shout`);
    expect(await callRows(page)).toEqual(["arg 0: 'Hello, alice!'", "result: 'HELLO, ALICE!'"]);
    await page.click(`[data-testid="job"] dl.facts a[href="#/callnode/${SHOUT_CALL}"]`);
    await page.waitForSelector('[data-testid="callnode"]');
    expect(await page.textContent('[data-testid="call-line"]')).toBe("hello.shout('Hello, alice!')");
    expect(await tagRows(page)).toEqual(["checked=yes"]);
    // The call ran in the first execution and was reused from cache by later ones.
    const jobs = await page.$$eval('[data-testid="callnode"] [data-testid="job-list"] tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.id));
    expect(jobs).toContain(SHOUT_JOB);
    await page.click('[data-testid="call"] tr.result a[href^="#/value/"]');
    await page.waitForSelector('[data-testid="value-repr"]');
    expect(await page.textContent('[data-testid="value-repr"]')).toBe("'HELLO, ALICE!'");
    expect(await tagRows(page)).toEqual(["curated=true", "kind=shout", "lang=en"]);
  });

  it("shows a File result by its repr, and redun's failed job", async () => {
    const page = watched.page;
    await openJob(page, worker.url, E1, "hello.write_report");
    const [arg, path, result] = await callRows(page);
    expect(arg).toBe("arg 0: {'n': 3, 'total_chars': 37}");
    expect(path).toBe("path: 'report-3.txt'");
    expect(result).toMatch(/^result: File\(path=report-3\.txt, hash=[0-9a-f]{8}\)$/);
    await shot(page, "redun-job");
    await openJob(page, worker.url, E3, "hello.may_fail");
    await page.waitForSelector('[data-testid="job-failure"]');
    expect(await page.getAttribute('[data-testid="job"] h1 .status', "data-status")).toBe("FAILED");
    expect(await page.textContent('[data-testid="job-error"]')).toBe("ValueError: boom: asked to fail on x=3");
    const [x, fail, raised] = await callRows(page);
    expect([x, fail]).toEqual(["arg 0: 3", "arg 1: True"]);
    expect(raised).toBe("result: ErrorValue(ValueError('boom: asked to fail on x=3'))");
    await shot(page, "redun-failed-job");
  });

  it("met no script error, CSP violation, failed request or dialog", () => {
    expect(watched.problems).toEqual([]);
  });
});
