/**
 * One-line text forms of records, as `log` prints them, redun style:
 * `Exec 6dc981d7 [ DONE ] 2023-08-11 14:44:09:  run hello.ts main (user=rasmus)`.
 * Pure functions of the record: the CLI, `npm start` and the notebook share them.
 */
import type { ArgumentView, RecordView } from "./call-graph.ts";
import type { JsonValue } from "./records.ts";
import { spacedPyJson } from "./redun/py-json.ts";
import { formatTagKeyValue, shorten } from "./tag-text.ts";
import type { TagView } from "./tags.ts";

/** `[ DONE ]`, `[CACHED]`, `[ RUN  ]`: the status centred in 6 characters (RUNNING shows as RUN, as in redun). */
export function formatStatus(status: string): string {
  const label = status === "RUNNING" ? "RUN" : status;
  const pad = Math.max(0, 6 - label.length);
  const left = Math.floor(pad / 2);
  return `[${" ".repeat(left)}${label}${" ".repeat(pad - left)}]`;
}

/** `0:00:01.47`, as redun prints durations. */
export function formatDuration(ms: number): string {
  // Hundredths cut, not rounded, as redun's format_timedelta.
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

/** Local time as `YYYY-MM-DD HH:MM:SS`. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * A tag as `key=value`. A value that keeps Python's JSON text (a tag from
 * redun: `1000.0`) shows that text, as redun shows it, unless it is a string.
 */
export function formatTagView([key, value, text]: TagView, maxLength = 50): string {
  if (text === undefined || typeof value === "string") return formatTagKeyValue(key, value, maxLength);
  return `${shorten(key, maxLength)}=${shorten(spacedPyJson(text), maxLength)}`;
}

/**
 * ` (a=1, b=x)`: current tags formatted, sorted as strings; a single space
 * when none, so a line ends as redun's does. A full git commit hash is cut to
 * 7 characters, as redun's log lines show it.
 */
export function formatTagList(tags: readonly TagView[], maxLength = 50): string {
  if (tags.length === 0) return " ";
  const one = (tag: TagView) =>
    tag[0] === "git_commit" && typeof tag[1] === "string" && /^[0-9a-f]{40}$/.test(tag[1])
      ? `${tag[0]}=${tag[1].slice(0, 7)}\u2026`
      : formatTagView(tag, maxLength);
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

/** redun's trim_string: at most 200 characters, the last three `...`. */
const REDUN_TRIM = 200;

/**
 * Call arguments: one plain-object argument prints as keywords (`name='world',
 * x=1`). Arguments of a call from redun print as redun prints them: positional
 * ones by their repr, keyword ones as `key=repr`.
 */
export function formatArgs(args: readonly ArgumentView[] | null): string {
  if (!args) return "";
  if (args.some((a) => a.value?.repr !== undefined)) {
    const text = (a: ArgumentView) => (a.value ? shorten(a.value.repr ?? formatRepr(a.value.value, REDUN_TRIM), REDUN_TRIM) : "?");
    return args.map((a) => (/^\d+$/.test(a.key) ? text(a) : `${a.key}=${text(a)}`)).join(", ");
  }
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
      return `Value ${id} ${r.valueType} ${r.redun ? shorten(r.redun.repr, REDUN_TRIM) : formatRepr(r.value)}${tags}`;
  }
}
