/**
 * Chromium for the inspector's tests and benchmark (playwright-core driving
 * Debian's /usr/bin/chromium or $CHROMIUM_PATH), and a page that fails the
 * test on anything a person should never meet: a script error, a CSP
 * violation, a dialog (an injected `alert`), a request that failed.
 */
import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { REPO } from "./worker.ts";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export interface WatchedPage {
  page: Page;
  /** Script errors, console errors (CSP violations among them) and dialogs, as text. */
  problems: string[];
}

/** A page whose problems are collected; `allow` lists console errors a test provokes on purpose. */
export async function watchedPage(browser: Browser, allow: RegExp[] = []): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !allow.some((re) => re.test(m.text()))) problems.push(`console error: ${m.text()}`);
  });
  page.on("dialog", (d) => {
    problems.push(`dialog: ${d.type()} ${d.message()}`);
    void d.dismiss();
  });
  return { page, problems };
}

/**
 * Where the screenshots go: docs/ when REDUN_SCREENSHOTS=1 (to refresh the
 * README's pictures), else a temporary folder (they are still taken, so a
 * screen that cannot be drawn fails the test).
 */
export function screenshotDir(): string {
  const dir = process.env.REDUN_SCREENSHOTS === "1" ? join(REPO, "docs") : join(tmpdir(), `redun-edge-screens-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The tag editor's current tags as `key=value` text, as the page shows them. */
export async function tagRows(page: Page): Promise<string[]> {
  return page.$$eval('[data-testid="tag-editor"] [data-testid="tag-row"]', (trs) =>
    trs.map((tr) => `${tr.querySelector(".key")!.textContent}=${tr.querySelector(".value")!.textContent}`),
  );
}

/** A job's or call node's call table as `arg 0: repr` lines. */
export async function callRows(page: Page): Promise<string[]> {
  await page.waitForSelector('[data-testid="call"] tr');
  return page.$$eval('[data-testid="call"] tr', (trs) => trs.map((tr) => `${tr.querySelector("th")!.textContent}: ${tr.querySelector(".repr")!.textContent}`));
}

/** Open an execution at `base` and, in its job tree, the job of a task; returns the job's id. */
export async function openJob(page: Page, base: string, executionId: string, taskName: string): Promise<string> {
  await page.goto(`${base}/#/execution/${executionId}`);
  await page.waitForSelector('[data-testid="job-row"]');
  await page.click(`[data-testid="job-row"] a:text-is("${taskName}")`);
  await page.waitForSelector('[data-testid="job"]');
  return (await page.getAttribute('[data-testid="job"]', "data-id"))!;
}
