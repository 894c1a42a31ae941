/**
 * Text views of the CLI on top of core/format.ts (which gives the one-line
 * record forms): the detail view of one record, tag counts, durations and
 * commit links. Pure functions, so tests can check them without a store.
 */
import {
  formatJson,
  formatRecordLine,
  formatStatus,
  formatTagKeyValue,
  formatTagList,
  formatTagView,
  formatTime,
  formatRepr,
  formatArgs,
  type ExecutionRecord,
  type JobTreeNode,
  type JsonValue,
  type RecordDetail,
  type RecordView,
  type TagCount,
  type TagView,
  type ValueView,
} from "../core/index.ts";

/** `0:00:01.47`, as redun prints durations (format_timedelta: hundredths cut, not rounded). */
export function formatDuration(ms: number): string {
  const micros = Math.round(Math.max(0, ms) * 1000);
  const seconds = Math.floor(micros / 1_000_000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const hundredths = Math.floor((micros % 1_000_000) / 10_000);
  return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}.${String(hundredths).padStart(2, "0")}`;
}

/**
 * The web page of a commit, for origins on GitHub (ssh `git@github.com:o/r.git`,
 * `ssh://git@github.com/o/r`, or https); null for other hosts.
 */
export function commitLink(originUrl: string, commit: string): string | null {
  const m =
    /^(?:git@|ssh:\/\/(?:git@)?)github\.com[:/]([^/\s]+)\/([^/\s]+?)(?:\.git)?\/?$/i.exec(originUrl) ??
    /^(?:https?|git):\/\/(?:[^@/\s]+@)?(?:www\.)?github\.com\/([^/\s]+)\/([^/\s]+?)(?:\.git)?\/?$/i.exec(originUrl);
  if (!m || !/^[0-9a-f]{7,64}$/i.test(commit)) return null;
  return `https://github.com/${m[1]}/${m[2]}/commit/${commit}`;
}

function tagValue(tags: readonly TagView[], key: string): JsonValue | undefined {
  return tags.find(([k]) => k === key)?.[1];
}

/** Lines listing tags, one per line, sorted as text. */
function tagLines(tags: readonly TagView[], indent = "  "): string[] {
  return tags.map((tag) => formatTagView(tag, 200)).sort().map((t) => indent + t);
}

function showValue(value: ValueView | null): string {
  if (!value) return "?";
  if (value.preview) return `${String(value.value)} (preview of a large value)`;
  return formatRepr(value.value, 200);
}

/** redun's job status columns (PENDING: jobs not started, which a stored history never holds). */
const STATUS_COLUMNS = ["PENDING", "RUNNING", "FAILED", "CACHED", "DONE", "TOTAL"];

/** `%Y/%m/%d %H:%M:%S`, local time, as redun's JOB STATUS heading. */
function statusTime(ms: number): string {
  return formatTime(ms).replace(/-/g, "/");
}

/**
 * redun's job status table (scheduler.format_job_statuses): a heading, a
 * header, a blank row, then ALL and each task; the task column left-aligned,
 * the counts right-aligned, every column at least 7 wide.
 */
function jobStatusTable(byTask: Record<string, Partial<Record<string, number>>>, time: number): string[] {
  const names = Object.keys(byTask).sort();
  const count = (row: Partial<Record<string, number>>, status: string) =>
    status === "TOTAL" ? Object.values(row).reduce<number>((a, b) => a + (b ?? 0), 0) : (row[status] ?? 0);
  const table = [
    ["TASK", ...STATUS_COLUMNS],
    ["ALL", ...STATUS_COLUMNS.map((status) => String(names.reduce((sum, name) => sum + count(byTask[name]!, status), 0)))],
    ...names.map((name) => [name, ...STATUS_COLUMNS.map((status) => String(count(byTask[name]!, status)))]),
  ];
  const widths = table[0]!.map((_, j) => Math.max(7, ...table.map((row) => row[j]!.length)));
  const line = (row: string[]) => row.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]!) : cell.padStart(widths[j]!))).join(" ");
  return [`| JOB STATUS ${statusTime(time)}`, `| ${line(table[0]!)}`, "| ", ...table.slice(1).map((row) => `| ${line(row)}`), ""];
}

/** Every job of a tree, depth first. */
function treeJobs(node: JobTreeNode, out: JobTreeNode[] = []): JobTreeNode[] {
  out.push(node);
  for (const child of node.children) treeJobs(child, out);
  return out;
}

/**
 * An execution as redun's `log EXEC_ID` shows it: its line with the full id,
 * its duration (the root job's when DONE, else from the first job's start to
 * the last job's end), its doc, the job status table, the job counts and the
 * job tree.
 */
function executionLines(r: ExecutionRecord & { tags: TagView[] }, detail: RecordDetail, views: ReadonlyMap<string, RecordView>): string[] {
  const lines: string[] = [headLine(r as RecordView)];
  const root = detail.jobTree ?? null;
  const all = root ? treeJobs(root) : [];
  let start = r.startTime;
  let end = r.endTime ?? r.startTime;
  if (!(r.status === "DONE" && root && root.endTime !== null) && all.length) {
    start = Math.min(...all.map((j) => j.startTime));
    end = Math.max(start, ...all.flatMap((j) => (j.endTime === null ? [] : [j.endTime])));
  } else if (root && root.endTime !== null) {
    start = root.startTime;
    end = root.endTime;
  }
  lines.push(`Duration: ${formatDuration(end - start)}`);
  const commit = tagValue(r.tags, "git_commit");
  const origin = tagValue(r.tags, "git_origin_url");
  if (typeof commit === "string" && typeof origin === "string") {
    const link = commitLink(origin, commit);
    if (link) lines.push(`Code: ${link}`);
  }
  for (const [key, value] of r.tags) if (key === "doc") lines.push("", ...String(typeof value === "string" ? value : formatJson(value)).split("\n").map((l) => `  ${l}`));
  lines.push("");
  const counts = detail.jobCounts;
  if (counts) {
    lines.push(...jobStatusTable(counts.byTask, end));
    const s = counts.byStatus;
    lines.push(`Jobs: ${counts.total} (DONE: ${s.DONE ?? 0}, CACHED: ${s.CACHED ?? 0}, FAILED: ${s.FAILED ?? 0})`);
  }
  lines.push("-".repeat(80));
  if (root) lines.push(...treeLines(root, views));
  return lines;
}

/** The job tree, indented two spaces per level; lines use the job views (with arguments) when given. */
function treeLines(node: JobTreeNode, views: ReadonlyMap<string, RecordView>, depth = 0, out: string[] = []): string[] {
  const view = views.get(node.id);
  const line = view
    ? formatRecordLine(view)
    : `Job ${node.id.slice(0, 8)} ${formatStatus(node.status)} ${formatTime(node.startTime)}:  ${node.taskName ?? "?"}()${formatTagList(node.tags)}`;
  out.push("  ".repeat(depth) + line);
  for (const child of node.children) treeLines(child, views, depth + 1, out);
  return out;
}

/** A job's recorded error, labelled once (`TypeError: x`, or `Error: child job ... failed`). */
function errorLine(error: string): string {
  return /^\w*(Error|Exception)\b/.test(error) ? error : `Error: ${error}`;
}

function headLine(r: RecordView): string {
  // The one-line form, with the full id.
  const line = formatRecordLine(r);
  const short = r.id.slice(0, 8);
  const at = line.indexOf(short);
  return at === -1 ? line : line.slice(0, at) + r.id + line.slice(at + short.length);
}

/**
 * The detail view of `log ID_PREFIX`. `jobs` are the execution's jobs as
 * `log` returns them (with arguments), to print the tree like log lines.
 */
export function formatDetail(detail: RecordDetail, jobs: readonly RecordView[] = []): string {
  const r = detail.record;
  if (r.type === "Execution") return executionLines(r, detail, new Map(jobs.map((j) => [j.id, j]))).join("\n");
  const lines: string[] = [headLine(r)];
  if (r.type === "Job") {
    if (r.endTime !== null) lines.push(`Duration: ${formatDuration(r.endTime - r.startTime)}`);
    lines.push(`Execution: ${r.executionId}`);
    if (r.parentId) lines.push(`Parent job: ${r.parentId}`);
    if (r.error) lines.push(errorLine(r.error));
  }
  if (r.tags.length) lines.push("Tags:", ...tagLines(r.tags));
  if (detail.call !== undefined) {
    if (detail.call) {
      lines.push("", "Call:");
      const single = detail.call.args.length === 1 ? detail.call.args[0]!.value?.value : undefined;
      if (single && typeof single === "object" && !Array.isArray(single)) {
        lines.push(`  Args: ${formatArgs(detail.call.args)}`);
      } else {
        for (const a of detail.call.args) lines.push(`  Arg ${a.key}: ${showValue(a.value)}`);
      }
      lines.push(`  Result: ${showValue(detail.call.result)}`);
      if (detail.call.children.length) lines.push(`  Child calls: ${detail.call.children.map((c) => c.slice(0, 8)).join(", ")}`);
    } else if (r.type === "Job") {
      lines.push("", "Call: (none recorded: the job did not finish)");
    }
  }
  if (detail.task) {
    const t = detail.task;
    lines.push("", `Task ${t.id} ${t.namespace ? `${t.namespace}.` : ""}${t.name}${t.version ? ` (version ${t.version})` : ""}`);
    lines.push(...t.source.split("\n").map((l) => `  ${l}`));
  }
  if (r.type === "Task" && !detail.task) {
    lines.push("", ...r.source.split("\n").map((l) => `  ${l}`));
  }
  if (r.type === "Value") {
    lines.push("", r.preview ? `${r.encoded}... (preview: ${r.size} characters in full)` : formatJson(r.value as JsonValue));
  }
  return lines.join("\n");
}

/** Rows' counts as redun lists them, `5 Execution, 6 Job`, grouped by a label, in the rows' order. */
function groupCounts(rows: readonly TagCount[], label: (row: TagCount) => string): [string, string][] {
  const groups = new Map<string, string[]>();
  for (const row of rows) {
    const text = label(row);
    const list = groups.get(text) ?? [];
    list.push(`${row.count} ${row.entityType}`);
    groups.set(text, list);
  }
  return [...groups].map(([text, parts]) => [text, parts.join(", ")]);
}

/** `Tags:`, then `  cost       (5 Execution, 6 Job)`: counts of current tags by key and entity type, as redun's `tag list`. */
export function formatKeyCounts(rows: readonly TagCount[]): string[] {
  return ["Tags:", ...groupCounts(rows, (r) => r.key).map(([key, counts]) => `  ${key.padEnd(10)} (${counts})`)];
}

/**
 * `Tags:`, then `  cost=3.2                       (1 Execution)`: counts by key,
 * value and entity type, as redun's `tag list --values` (which fails on list
 * and object values; these print as JSON).
 */
export function formatValueCounts(rows: readonly TagCount[]): string[] {
  const pairs = groupCounts(rows, (r) => formatTagKeyValue(r.key, r.value ?? null, Number.MAX_SAFE_INTEGER));
  return ["Tags:", ...pairs.map(([keyValue, counts]) => `  ${keyValue.padEnd(30)} (${counts})`)];
}
