/**
 * What `run` prints on stderr, as redun prints it: the `Start Execution`
 * line, one `Run    Job` / `Cached Job` / `*** Reject Job` line per job (or,
 * on a terminal, one live progress line instead), the `JOB STATUS` table,
 * `Execution duration`, and a failed run's traceback. Pure formatting plus a
 * small writer, so tests can check the lines without a store.
 */
import {
  formatRepr,
  type JobEvent,
  type JobStatus,
  type TaskDefinition,
} from "../core/index.ts";
import { functionParameters } from "../core/adapter-kit.ts";
import { stackFrames } from "./format.ts";

export const PREFIX = "[redun-edge] ";

/** A word as a POSIX shell reads it back (Python's shlex.quote). */
export function shellQuote(word: string): string {
  if (word === "") return "''";
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'"'"'`)}'`;
}

/** `2026/12/05 08:09:34`, local time. */
export function statusTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * A call's arguments as redun's job lines show them: `names='a,b', fail=False`
 * with the task's parameter names when its source gives them, positional
 * otherwise; one plain-object argument of a task taking `({ ... })` as keywords.
 */
export function formatCallArgs(task: TaskDefinition | null, args: readonly unknown[] | null): string {
  if (!args) return "";
  const params = task ? functionParameters(task.fn) : null;
  const only = args[0];
  if (params?.kind === "object" && args.length === 1 && only && typeof only === "object" && !Array.isArray(only)) {
    return Object.entries(only as Record<string, unknown>).map(([k, v]) => `${k}=${repr(v)}`).join(", ");
  }
  const names = params?.kind === "names" ? params.names : [];
  return args.map((a, i) => (names[i] ? `${names[i]}=${repr(a)}` : repr(a))).join(", ");
}

const repr = (value: unknown) => formatRepr(value, 100);

/** `Run    Job f71edc0f:  hello.main(names='alice,bob,carol', fail=False)` and its CACHED / FAILED forms; null for DONE. */
export function jobLine(e: JobEvent): string | null {
  const call = `${e.job.id.slice(0, 8)}:  ${e.taskName}(${formatCallArgs(e.task, e.args)})`;
  switch (e.status) {
    case "RUNNING":
      return `Run    Job ${call}`;
    case "CACHED":
      return `Cached Job ${call} (eval_hash=${(e.evaluationHash ?? "").slice(0, 8)}, call_hash=${(e.job.callHash ?? "").slice(0, 8)})`;
    case "FAILED":
      return `*** Reject Job ${call}:`;
    default:
      return null;
  }
}

const STATUSES = ["PENDING", "RUNNING", "FAILED", "CACHED", "DONE"] as const;
type Column = (typeof STATUSES)[number];

/** Job counts of a run by task and status, kept from its events. */
export class JobCounts {
  private readonly status = new Map<string, JobStatus>();
  private readonly task = new Map<string, string>();

  add(e: JobEvent): void {
    this.status.set(e.job.id, e.status);
    this.task.set(e.job.id, e.taskName);
  }

  /** Jobs by current status: done, cached, running, failed. */
  totals(): Record<JobStatus, number> {
    const out: Record<JobStatus, number> = { RUNNING: 0, DONE: 0, CACHED: 0, FAILED: 0 };
    for (const s of this.status.values()) out[s] += 1;
    return out;
  }

  /** Rows of the JOB STATUS table: task name -> counts. */
  rows(): Map<string, Record<Column, number>> {
    const rows = new Map<string, Record<Column, number>>();
    for (const [id, status] of this.status) {
      const name = this.task.get(id)!;
      let row = rows.get(name);
      if (!row) rows.set(name, (row = { PENDING: 0, RUNNING: 0, FAILED: 0, CACHED: 0, DONE: 0 }));
      row[status] += 1;
    }
    return rows;
  }
}

/**
 * redun's JOB STATUS table: a heading with the time, then `TASK PENDING
 * RUNNING FAILED CACHED DONE TOTAL`, an `ALL` row and one row per task
 * (sorted), columns at least 7 wide, the first left-aligned.
 */
export function jobStatusTable(rows: ReadonlyMap<string, Record<Column, number>>, time: number): string[] {
  const names = [...rows.keys()].sort();
  const all = Object.fromEntries(STATUSES.map((s) => [s, names.reduce((n, t) => n + rows.get(t)![s], 0)])) as Record<Column, number>;
  const line = (name: string, r: Record<Column, number>) => [name, ...STATUSES.map((s) => String(r[s])), String(STATUSES.reduce((n, s) => n + r[s], 0))];
  const table = [["TASK", ...STATUSES, "TOTAL"], line("ALL", all), ...names.map((n) => line(n, rows.get(n)!))];
  const widths = table[0]!.map((_, i) => Math.max(7, ...table.map((row) => row[i]!.length)));
  const text = table.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(" "));
  return [`| JOB STATUS ${statusTime(time)}`, `| ${text[0]}`, "| ", ...text.slice(1).map((l) => `| ${l}`)];
}

/**
 * A failed run's traceback, most recent task last (as redun's `*** Execution
 * failed`): each job from the root down to the one that raised, with its
 * arguments, then the stack frames of the workflow's code and the error.
 */
export function tracebackLines(chain: readonly JobEvent[], error: unknown): string[] {
  const lines = ["*** Execution failed. Traceback (most recent task last):"];
  for (const e of chain) {
    lines.push(`  Job ${e.job.id.slice(0, 8)}: ${e.taskName}(${formatCallArgs(e.task, e.args)})`);
    const params = e.task ? functionParameters(e.task.fn) : null;
    const names = params?.kind === "names" ? params.names : [];
    const pairs = (e.args ?? []).map((a, i) => [names[i] ?? `#${i + 1}`, repr(a)] as const).sort(([a], [b]) => (a < b ? -1 : 1));
    const width = Math.max(0, ...pairs.map(([n]) => n.length));
    for (const [name, value] of pairs) lines.push(`    ${name.padEnd(width)} = ${value}`);
  }
  const recorded = errorOf(error);
  for (const frame of recorded.frames) lines.push(`  ${frame}`);
  lines.push(`${recorded.name}: ${recorded.message}`);
  return lines;
}

/** An error's name, message and the frames of its stack that are the workflow's. */
function errorOf(error: unknown): { name: string; message: string; frames: string[] } {
  const e = error instanceof Error ? error : null;
  return { name: e?.name ?? "Error", message: e ? e.message : String(error), frames: stackFrames(e?.stack ?? "") };
}

/**
 * Writes run lines to stderr. On a terminal, job lines give way to one
 * progress line redrawn in place (at most every 100 ms); other lines are
 * printed above it.
 */
export class RunReporter {
  readonly counts = new JobCounts();
  private progressShown = false;
  private lastDraw = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  private readonly out: { write(text: string): unknown; isTTY?: boolean };
  private readonly now: () => number;

  constructor(out: { write(text: string): unknown; isTTY?: boolean }, now: () => number = () => Date.now()) {
    this.out = out;
    this.now = now;
  }

  get live(): boolean {
    return this.out.isTTY === true;
  }

  /** A line above the progress line (which is drawn again when it was showing). */
  line(text: string): void {
    const shown = this.progressShown;
    this.clearProgress();
    this.out.write(`${PREFIX}${text}\n`);
    if (shown) this.drawProgress();
  }

  job(e: JobEvent): void {
    this.counts.add(e);
    if (!this.live) {
      const text = jobLine(e);
      if (text) this.out.write(`${PREFIX}${text}\n`);
      return;
    }
    if (e.status === "FAILED" && !(e.error && (e.error as { code?: unknown }).code === "interrupted")) {
      this.line(jobLine(e)!);
    }
    this.scheduleProgress();
  }

  private scheduleProgress(): void {
    const wait = 100 - (this.now() - this.lastDraw);
    if (wait <= 0) this.drawProgress();
    else if (this.timer === null) this.timer = setTimeout(() => this.drawProgress(), wait);
  }

  /** `[redun-edge] Jobs: 12 done, 3 cached, 4 running, 0 failed` */
  progressText(): string {
    const t = this.counts.totals();
    return `${PREFIX}Jobs: ${t.DONE} done, ${t.CACHED} cached, ${t.RUNNING} running, ${t.FAILED} failed`;
  }

  private drawProgress(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.lastDraw = this.now();
    this.out.write(`\r\x1b[K${this.progressText()}`);
    this.progressShown = true;
  }

  private clearProgress(): void {
    if (!this.progressShown) return;
    this.out.write("\r\x1b[K");
    this.progressShown = false;
  }

  /** Stop redrawing and take the progress line away. */
  finish(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.clearProgress();
  }

  /** The JOB STATUS table and the duration, as redun ends a run. */
  summary(durationMs: number): void {
    this.finish();
    this.line("");
    for (const l of jobStatusTable(this.counts.rows(), this.now())) this.line(l);
    this.line("");
    this.line("");
    this.line(`Execution duration: ${(durationMs / 1000).toFixed(2)} seconds`);
  }
}
