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
  formatTime,
  formatRepr,
  formatArgs,
  type JobTreeNode,
  type JsonValue,
  type RecordDetail,
  type RecordView,
  type TagCount,
  type TagPair,
  type ValueView,
} from "../core/index.ts";

export { commitLink, formatDuration };

function tagValue(tags: readonly TagPair[], key: string): JsonValue | undefined {
  return tags.find(([k]) => k === key)?.[1];
}

/** Lines listing tags, one per line, sorted as text. */
function tagLines(tags: readonly TagPair[], indent = "  "): string[] {
  return tags.map(([k, v]) => formatTagKeyValue(k, v, 200)).sort().map((t) => indent + t);
}

function showValue(value: ValueView | null): string {
  if (!value) return "?";
  if (value.preview) return `${String(value.value)} (preview of a large value)`;
  return formatRepr(value.value, 200);
}

/** `| TASK | DONE | CACHED | FAILED | TOTAL |`: job counts per task, as redun's execution view. */
function jobTable(byTask: Record<string, Partial<Record<string, number>>>): string[] {
  const statuses = ["RUNNING", "DONE", "CACHED", "FAILED"];
  const used = statuses.filter((s) => Object.values(byTask).some((row) => row[s]));
  const columns = used.length ? used : ["DONE"];
  const names = Object.keys(byTask).sort();
  const width = Math.max(4, ...names.map((n) => n.length));
  const header = `| ${"TASK".padEnd(width)} | ${[...columns, "TOTAL"].map((c) => c.padStart(7)).join(" | ")} |`;
  const rows = names.map((name) => {
    const row = byTask[name]!;
    const total = Object.values(row).reduce<number>((a, b) => a + (b ?? 0), 0);
    return `| ${name.padEnd(width)} | ${[...columns.map((c) => row[c] ?? 0), total].map((n) => String(n).padStart(7)).join(" | ")} |`;
  });
  return [header, ...rows];
}

/** The job tree, indented two spaces per level; lines use the job views (with arguments) when given. */
function treeLines(node: JobTreeNode, views: ReadonlyMap<string, RecordView>, depth = 0, out: string[] = []): string[] {
  const view = views.get(node.id);
  const line = view
    ? formatRecordLine(view)
    : `Job ${node.id.slice(0, 8)} ${formatStatus(node.status)} ${formatTime(node.startTime)}:  ${node.taskName ?? "?"}()${formatTagList(node.tags)}`;
  out.push("  ".repeat(depth) + line);
  if (node.error) out.push(`${"  ".repeat(depth + 2)}${errorLine(node.error)}`);
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
  const lines: string[] = [headLine(r)];
  if (r.type === "Execution" || r.type === "Job") {
    if (r.endTime !== null) lines.push(`Duration: ${formatDuration(r.endTime - r.startTime)}`);
  }
  if (r.type === "Job") {
    lines.push(`Execution: ${r.executionId}`);
    if (r.parentId) lines.push(`Parent job: ${r.parentId}`);
    if (r.error) lines.push(errorLine(r.error));
  }
  if (r.tags.length) lines.push("Tags:", ...tagLines(r.tags));
  if (r.type === "Execution") {
    const commit = tagValue(r.tags, "git_commit");
    const origin = tagValue(r.tags, "git_origin_url");
    if (typeof commit === "string" && typeof origin === "string") {
      const link = commitLink(origin, commit);
      if (link) lines.push(`Code: ${link}`);
    }
    const counts = detail.jobCounts;
    if (counts) {
      const s = counts.byStatus;
      lines.push("", `Jobs: ${counts.total} (DONE: ${s.DONE ?? 0}, CACHED: ${s.CACHED ?? 0}, FAILED: ${s.FAILED ?? 0}${s.RUNNING ? `, RUNNING: ${s.RUNNING}` : ""})`);
      lines.push(...jobTable(counts.byTask));
    }
    if (detail.jobTree) {
      lines.push("-".repeat(80));
      lines.push(...treeLines(detail.jobTree, new Map(jobs.map((j) => [j.id, j]))));
    }
  }
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

/** `cost  (5 Execution, 6 Job)`: counts of current tags by key and entity type. */
export function formatKeyCounts(rows: readonly TagCount[]): string[] {
  const byKey = new Map<string, string[]>();
  for (const row of rows) {
    const list = byKey.get(row.key) ?? [];
    list.push(`${row.count} ${row.entityType}`);
    byKey.set(row.key, list);
  }
  const width = Math.max(0, ...[...byKey.keys()].map((k) => k.length));
  return [...byKey].map(([key, parts]) => `${key.padEnd(width)}  (${parts.join(", ")})`);
}

/** `cost=3.2  (1)`: counts of current tags by key and value. */
export function formatValueCounts(rows: readonly TagCount[]): string[] {
  const texts = rows.map((r) => formatTagKeyValue(r.key, r.value ?? null, 200));
  const width = Math.max(0, ...texts.map((t) => t.length));
  return texts.map((t, i) => `${t.padEnd(width)}  (${rows[i]!.count})`);
}
