/**
 * What the inspector's tests, screenshots and docs look at: a small workflow
 * run a few times into any Repository. Three levels of jobs (main > stats >
 * total / mean), a cached re-run, a failed run, git tags that link to
 * GitHub, and user data made to look like HTML: a tag value
 * `<img src=x onerror=alert(1)>` and a task whose source holds `</script>`.
 */
import { Scheduler, applyTags, task, type Repository } from "redun-edge";

export const XSS_TAG = "<img src=x onerror=alert(1)>";
export const SCRIPT_SOURCE = 'function render(x) {\n  return "</script><script>alert(1)</script>" + x;\n}';
export const COMMIT = "3f2c1a9d8e7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d";

const load = task("load", (n: number) => Array.from({ length: n }, (_, i) => i + 1), { namespace: "demo" });
const square = task("square", (x: number) => x * x, { namespace: "demo", tags: { kind: "math" } });
const total = task("total", (xs: number[]) => xs.reduce((a, b) => a + b, 0), { namespace: "demo" });
const mean = task("mean", (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length, { namespace: "demo" });
const stats = task("stats", (xs: number[]) => applyTags({ total: total(xs), mean: mean(xs) }, { jobTags: { size: xs.length } }), {
  namespace: "demo",
});
const render = task("render", (x: unknown) => `<b>${JSON.stringify(x)}</b>`, { namespace: "demo", source: SCRIPT_SOURCE });
const squares = task("squares", (xs: number[]) => xs.map((x) => square(x)), { namespace: "demo" });
export const main = task("main", (n: number) => render(stats(squares(load(n)))), { namespace: "demo" });
const boom = task("boom", (n: number) => {
  if (n > 2) throw new Error(`n must be at most 2, got ${n}`);
  return n;
}, { namespace: "demo" });
const failing = task("failing", (n: number) => [square(n), boom(n)], { namespace: "demo" });

export interface Seeded {
  /** main(4), user=alice, with git tags. */
  first: string;
  /** main(4) again, all CACHED. */
  cached: string;
  /** failing(3). */
  failed: string;
  /** main(3), with the HTML-looking tag. */
  other: string;
}

/** A clock that moves 40 ms a reading from `start`, so job bars have lengths. */
export function steppingClock(start: number, step = 40): () => number {
  let t = start;
  return () => (t += step);
}

export async function seedDemo(repository: Repository, start = Date.UTC(2026, 2, 2, 9, 30)): Promise<Seeded> {
  const scheduler = new Scheduler({ repository, now: steppingClock(start), flushIntervalMs: 0 });
  const git = { git_commit: COMMIT, git_origin_url: "git@github.com:insitro/redun.git" };
  const first = (await scheduler.runWithId(main(4), { tags: { user: "alice", project: "demo", ...git }, argv: ["run", "workflow.ts", "main", "--n", "4"] })).executionId;
  const cached = (await scheduler.runWithId(main(4), { tags: { user: "bob", project: "demo", ...git }, argv: ["run", "workflow.ts", "main", "--n", "4"] })).executionId;
  let failed = "";
  try {
    await scheduler.runWithId(failing(3), { tags: { user: "alice", project: "ops" }, argv: ["run", "workflow.ts", "failing", "--n", "3"] });
  } catch {
    // Recorded as FAILED; found below.
  }
  const page = await repository.query({ types: ["Execution"], tags: [], execTags: [], execStatus: ["FAILED"], jobStatus: [], taskNames: [], execIds: [], idPrefix: null, limit: 1, after: null });
  failed = page.refs[0]!.id;
  const other = (await scheduler.runWithId(main(3), { tags: { user: "carol", project: "demo", note: XSS_TAG }, argv: ["run", "workflow.ts", "main", "--n", "3"] })).executionId;
  return { first, cached, failed, other };
}
