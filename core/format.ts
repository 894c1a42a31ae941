/**
 * One-line text forms of records, as `log` prints them, redun style:
 * `Exec 6dc981d7 [ DONE ] 2023-08-11 14:44:09:  run hello.ts main (user=rasmus)`.
 * Pure functions of the record: the CLI, `npm start` and the notebook share them.
 */
import type { ArgumentView, RecordView } from "./call-graph.ts";
import type { JsonValue } from "./records.ts";
import { formatTagKeyValue } from "./tag-text.ts";
import type { TagPair } from "./tags.ts";

/** `[ DONE ]`, `[CACHED]`: the status centred in 6 characters. */
export function formatStatus(status: string): string {
  const pad = Math.max(0, 6 - status.length);
  const left = Math.floor(pad / 2);
  return `[${" ".repeat(left)}${status}${" ".repeat(pad - left)}]`;
}

/** `0:00:01.47`, as redun prints durations. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, ms) / 1000;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h}:${String(m).padStart(2, "0")}:${s.toFixed(2).padStart(5, "0")}`;
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

/** Local time as `YYYY-MM-DD HH:MM:SS`. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * ` (a=1, b=x)`: current tags formatted, sorted as strings; empty when none. A
 * full git commit hash is cut to 7 characters, as redun's log lines show it.
 */
export function formatTagList(tags: readonly TagPair[], maxLength = 50): string {
  if (tags.length === 0) return "";
  const one = ([k, v]: TagPair) =>
    k === "git_commit" && typeof v === "string" && /^[0-9a-f]{40}$/.test(v)
      ? `${k}=${v.slice(0, 7)}\u2026`
      : formatTagKeyValue(k, v, maxLength);
  return ` (${tags.map(one).sort().join(", ")})`;
}

/** A value as Python's repr prints it, so job lines read like redun's. */
export function formatRepr(value: unknown, maxLength = 40): string {
  const text = repr(value);
  return text.length > maxLength ? `${text.slice(0, maxLength - 3)}...` : text;
}

function repr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "string") return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n")}'`;
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) return `[${value.map(repr).join(", ")}]`;
  if (typeof value === "object") {
    return `{${Object.entries(value as Record<string, JsonValue>).map(([k, v]) => `${repr(k)}: ${repr(v)}`).join(", ")}}`;
  }
  return String(value);
}

/** Call arguments: one plain-object argument prints as keywords (`name='world', x=1`). */
export function formatArgs(args: readonly ArgumentView[] | null): string {
  if (!args) return "";
  const only = args.length === 1 ? args[0]!.value?.value : undefined;
  if (only && typeof only === "object" && !Array.isArray(only)) {
    return Object.entries(only as Record<string, unknown>).map(([k, v]) => `${k}=${formatRepr(v)}`).join(", ");
  }
  return args.map((a) => (a.value ? formatRepr(a.value.value) : "?")).join(", ");
}

export function formatRecordLine(r: RecordView): string {
  const id = r.id.slice(0, 8);
  const tags = formatTagList(r.tags);
  switch (r.type) {
    case "Execution":
      return `Exec ${id} ${formatStatus(r.abandoned ? "ABANDONED" : r.status)} ${formatTime(r.startTime)}:  ${r.argv.join(" ")}${tags}`;
    case "Job":
      return `Job ${id} ${formatStatus(r.status)} ${formatTime(r.startTime)}:  ${r.taskName ?? r.taskHash.slice(0, 8)}(${formatArgs(r.args)})${tags}`;
    case "CallNode":
      return `CallNode ${id} ${r.taskName ?? r.taskHash.slice(0, 8)}${tags}`;
    case "Task":
      return `Task ${id} ${r.fullName}${tags}`;
    case "Value":
      return `Value ${id} ${r.valueType} ${formatRepr(r.value)}${tags}`;
  }
}
