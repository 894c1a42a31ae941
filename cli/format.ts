/**
 * Text views of the CLI on top of core/format.ts (which gives the one-line
 * record forms): the detail view of one record, tag counts, durations and
 * commit links. Pure functions, so tests can check them without a store.
 */
import {
  commitLink,
  formatDuration,
  formatJson,
  formatRecordLine,
  formatStatus,
  formatTagKeyValue,
  formatTagList,
  formatTagView,
  formatTime,
  formatRepr,
  type ArgumentView,
  formatArgs,
  formatDataflow,
  type ExecutionRecord,
  type JobTreeNode,
  type JsonValue,
  type RecordDetail,
  type RecordView,
  type TagCount,
  type TagView,
  type ValueView,
} from "../core/index.ts";
import { ERROR_VALUE_TYPE, taskFullName, type RecordedError } from "../core/adapter-kit.ts";
import { jobStatusTable } from "./run-output.ts";

export { commitLink, formatDuration };

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

/** The JOB STATUS table of an execution's job counts per task, as redun's execution view prints it. */
function jobTable(byTask: Record<string, Partial<Record<string, number>>>, time: number): string[] {
  const rows = new Map(
    Object.entries(byTask).map(([name, r]) => [
      name,
      { PENDING: 0, RUNNING: r.RUNNING ?? 0, FAILED: r.FAILED ?? 0, CACHED: r.CACHED ?? 0, DONE: r.DONE ?? 0 },
    ]),
  );
  return jobStatusTable(rows, time);
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
    lines.push(...jobTable(counts.byTask, end), "");
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
  if (r.type === "Job") return jobDetail(detail, r);
  const lines: string[] = [headLine(r)];
  if (r.tags.length) lines.push("Tags:", ...tagLines(r.tags));
  if (detail.call) {
    // A CallNode: its arguments and result, as redun's CallNode view.
    lines.push(`  Args:   ${detailArgs(detail.call.args)}`, `  ${resultLine(detail.call.result)}`);
    if (detail.call.children.length) lines.push(`  Child calls: ${detail.call.children.map((c) => c.slice(0, 8)).join(", ")}`);
  }
  if (detail.task) {
    const t = detail.task;
    lines.push("", `Task ${t.id} ${taskFullName(t)}${t.version ? ` (version ${t.version})` : ""}`);
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

/**
 * redun's job detail (its `log_job`): the job line with its full id, the
 * `Traceback: Exec … > (N Jobs) > Job … parent > Job … name` line, the
 * duration of a DONE job, the CallNode with its tags, arguments and result
 * (or the error it raised), the task with its source, the upstream dataflow
 * of the result and, for a failure, the stack.
 */
function jobDetail(detail: RecordDetail, r: Extract<RecordView, { type: "Job" }>): string {
  const lines: string[] = [headLine(r)];
  if (detail.ancestors) lines.push(`Traceback: ${tracebackChain(detail.ancestors, r, detail.task?.name ?? "?")}`);
  if (r.status === "DONE") lines.push(`Duration: ${r.endTime !== null ? formatDuration(r.endTime - r.startTime) : "Unknown"}`);
  const call = detail.call;
  const error = call?.result?.valueType === ERROR_VALUE_TYPE ? (call.result.value as Partial<RecordedError>) : null;
  if (call) {
    lines.push("", `  CallNode ${r.callHash} ${r.taskName ?? "?"}${formatTagList(call.tags ?? [])}`);
    lines.push(`    Args:   ${detailArgs(call.args)}`);
    lines.push(`    ${resultLine(call.result)}`);
    lines.push("", ...taskLines(detail.task));
    if (detail.dataflow) {
      lines.push("", "  Upstream dataflow:", "", `    ${detail.dataflow.name} = ${detail.dataflow.display}`, "");
      lines.push(...formatDataflow(detail.dataflow).map((l) => (l ? `    ${l}` : l)));
    }
  } else {
    lines.push("", "  CallNode UNKNOWN: Job has not finished or has been killed.", "", ...taskLines(detail.task));
    if (r.error) lines.push(`  ${errorLine(r.error)}`);
  }
  if (error) {
    lines.push("  Traceback:", ...stackFrames(error.stack ?? "").map((f) => `    ${f}`), `  ${error.name ?? "Error"}: ${error.message ?? ""}`);
    if (r.error && r.error.startsWith("child job ")) lines.push(`  (raised in ${r.error.slice(0, -" failed".length)})`);
  }
  return lines.join("\n");
}

/** redun's short traceback: the execution, `(N Jobs)` above the parent, the parent, the job. */
function tracebackChain(ancestors: NonNullable<RecordDetail["ancestors"]>, r: RecordView, name: string): string {
  const parts = [`Exec ${ancestors.executionId.slice(0, 8)}`];
  const above = ancestors.jobs.length - 1;
  if (above > 0) parts.push(`(${above} ${above > 1 ? "Jobs" : "Job"})`);
  const parent = ancestors.jobs[ancestors.jobs.length - 1];
  if (parent) parts.push(`Job ${parent.id.slice(0, 8)} ${parent.taskName ?? "?"}`);
  parts.push(`Job ${r.id.slice(0, 8)} ${name}`);
  return parts.join(" > ");
}

/** `  Task <hash> ns.name (tags)`, a blank line and the source, as redun's `log_task` inside a job's detail. */
function taskLines(task: RecordDetail["task"]): string[] {
  if (!task) return [];
  const lines = [`  Task ${task.id} ${task.namespace ? `${task.namespace}.` : ""}${task.name}${formatTagList(task.tags)}`];
  for (const [key, value] of task.tags) if (key === "doc") lines.push(...String(typeof value === "string" ? value : formatJson(value)).split("\n").map((l) => `    ${l}`));
  lines.push("", ...task.source.split("\n").map((l) => (l ? `    ${l}` : l)));
  return lines;
}

/** `Result: 'HELLO'`, or `Raised: RangeError('too big')` for a failed call's error. */
function resultLine(result: ValueView | null): string {
  if (result?.valueType === "redun.ErrorValue" && result.repr !== undefined) {
    // redun prints the error the ErrorValue holds: `Raised: ValueError('boom')`.
    const inner = /^ErrorValue\(([\s\S]*)\)$/.exec(result.repr)?.[1] ?? result.repr;
    return `Raised: ${inner.length > 200 ? `${inner.slice(0, 197)}...` : inner}`;
  }
  if (result?.valueType !== ERROR_VALUE_TYPE) return `Result: ${showValue(result)}`;
  const error = result.value as Partial<RecordedError>;
  return `Raised: ${error.name ?? "Error"}(${formatRepr(error.message ?? "", 200)})`;
}

/** A call's arguments as redun's detail shows them: reprs, one plain-object argument as keywords. */
function detailArgs(args: readonly ArgumentView[]): string {
  // A call from redun: its format_arguments, as on the job line (`fail=True, names='a'`).
  if (args.some((a) => a.value?.repr !== undefined)) return formatArgs(args);
  const only = args.length === 1 ? args[0]!.value?.value : undefined;
  if (only && typeof only === "object" && !Array.isArray(only)) {
    return Object.entries(only as Record<string, unknown>).map(([k, v]) => `${k}=${formatRepr(v, 200)}`).join(", ");
  }
  return args.map((a) => showValue(a.value)).join(", ");
}

/** The frames of a JS stack that are the workflow's: not Node's, nor redun-edge's own scheduler. */
export function stackFrames(stack: string): string[] {
  return stack
    .split("\n")
    .filter((l) => /^\s+at .*[/\\]/.test(l))
    .map((l) => l.trim())
    .filter((l) => !/\(node:|at node:|[/\\](core|cli|dist)[/\\](scheduler|task|run|main)\.(ts|js)|node_modules/.test(l));
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
