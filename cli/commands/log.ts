/**
 * `log`: recent records as one line each (core's formatRecordLine), or one
 * record in detail by id prefix. One or two HTTP requests either way: the
 * store does the querying.
 */
import {
  EXECUTION_STATUSES,
  JOB_STATUSES,
  formatRecordLine,
  type EntityType,
  type Query,
  type RecordView,
} from "../../core/index.ts";
import { isIdPrefix } from "../../core/adapter-kit.ts";
import { flag, list, str, tagFilters, type Parsed } from "../args.ts";
import { parseCommand, type Command, type CommandSpec } from "../command.ts";
import { UsageError } from "../errors.ts";
import { formatDetail } from "../format.ts";
import { EXECUTION_SHORTHAND, defaultStoreSpec, inProcess, openStore, requireExistingStore, resolveExecutionShorthand, tokenOf } from "../store.ts";

export const spec: CommandSpec = {
  name: "log",
  synopsis: "log [ID_PREFIX]",
  summary: "list recent executions (or jobs, ...), or show one record",
  usage: ["log [options] [ID_PREFIX | - | ~N]"],
  text: `Without ID_PREFIX: recent records, newest first, one line each.
With ID_PREFIX: the record that id prefix names, in detail (an execution
shows its duration, job counts per task and its job tree; a job its place
in the execution, its call's arguments and result or error, and its task's
source). - names the most recent execution, ~N the N-th most recent.
A RUNNING execution whose run stopped renewing its lease (its process was
killed) shows as ABANDONED.`,
  options: {
    tag: { type: "string", multiple: true, value: "KEY[=VALUE]", help: "records having this tag (repeat: all must hold)" },
    "exec-tag": { type: "string", multiple: true, value: "KEY[=VALUE]", help: "records of executions having this tag" },
    exec: { type: "boolean", help: "executions (default)" },
    job: { type: "boolean", help: "jobs" },
    "call-node": { type: "boolean", help: "call nodes" },
    task: { type: "boolean", help: "tasks" },
    value: { type: "boolean", help: "values" },
    all: { type: "boolean", help: "records of every type" },
    "exec-status": { type: "string", multiple: true, value: "STATUS", help: "RUNNING, DONE or FAILED (repeatable)" },
    "job-status": { type: "string", multiple: true, value: "STATUS", help: "RUNNING, DONE, CACHED or FAILED (repeatable)" },
    limit: { type: "string", value: "N", help: "at most N records (default 100, at most 1000)" },
    format: { type: "string", value: "text|json", help: "json prints the records as JSON" },
  },
};

export const command: Command = { spec, run: logCommand };

const TYPE_FLAGS: [flag: string, type: EntityType][] = [
  ["exec", "Execution"],
  ["job", "Job"],
  ["call-node", "CallNode"],
  ["task", "Task"],
  ["value", "Value"],
];

function statuses<T extends string>(p: Parsed, name: string, allowed: readonly T[]): T[] {
  return list(p, name).flatMap((v) => v.split(",")).filter(Boolean).map((v) => {
    const hit = allowed.find((a) => a === v.toUpperCase());
    if (!hit) throw new UsageError(`--${name}: unknown status ${JSON.stringify(v)} (expected ${allowed.join(", ")})`, "log");
    return hit;
  });
}

export async function logCommand(argv: readonly string[]): Promise<number> {
  const p = parseCommand(spec, argv);
  const positionals = [...p.positionals, ...p.afterDashDash];
  if (positionals.length > 1) throw new UsageError(`log takes at most one id prefix, got ${positionals.length}`, "log");
  const format = str(p, "format") ?? "text";
  if (format !== "text" && format !== "json") throw new UsageError(`--format: expected text or json, got ${JSON.stringify(format)}`, "log");
  const chosen = TYPE_FLAGS.filter(([f]) => flag(p, f));
  const types: EntityType[] = flag(p, "all") ? TYPE_FLAGS.map(([, t]) => t) : chosen.length ? chosen.map(([, t]) => t) : ["Execution"];
  const query: Query = { types };
  const tags = tagFilters(list(p, "tag"));
  const execTags = tagFilters(list(p, "exec-tag"));
  if (tags.length) query.tags = tags;
  if (execTags.length) query.execTags = execTags;
  const execStatus = statuses(p, "exec-status", EXECUTION_STATUSES);
  const jobStatus = statuses(p, "job-status", JOB_STATUSES);
  if (execStatus.length) query.execStatus = execStatus;
  if (jobStatus.length) {
    query.jobStatus = jobStatus;
    if (!chosen.length && !flag(p, "all")) query.types = ["Job"];
  }
  const limitText = str(p, "limit");
  if (limitText !== undefined) {
    if (!/^[1-9][0-9]*$/.test(limitText)) throw new UsageError(`--limit: expected a positive whole number, got ${JSON.stringify(limitText)}`, "log");
    query.limit = Math.min(Number(limitText), 1000);
  }
  const word = positionals[0];
  if (word !== undefined && !EXECUTION_SHORTHAND.test(word) && !(word && isIdPrefix(word.toLowerCase()))) {
    throw new UsageError(`not an id prefix: ${JSON.stringify(word)} (ids are hex: 0-9, a-f; - and ~N name recent executions)`, "log");
  }

  const storeSpec = defaultStoreSpec(p, "log");
  requireExistingStore(storeSpec);
  const store = await openStore(storeSpec, { token: tokenOf(p), inProcess: inProcess(p) });
  try {
    if (word !== undefined) {
      const prefix = EXECUTION_SHORTHAND.test(word) ? await resolveExecutionShorthand(store.client, word, "log") : word.toLowerCase();
      const detail = await store.client.show(prefix);
      let jobs: RecordView[] = [];
      if (detail.record.type === "Execution" && detail.jobCounts && detail.jobCounts.total <= 1000) {
        jobs = (await store.client.log({ types: ["Job"], execIds: [detail.record.id], limit: 1000 })).records;
      }
      process.stdout.write(format === "json" ? `${JSON.stringify(detail, null, 2)}\n` : `${formatDetail(detail, jobs)}\n`);
      return 0;
    }
    const page = await store.client.log(query);
    if (format === "json") {
      process.stdout.write(`${JSON.stringify(page.records, null, 2)}\n`);
      return 0;
    }
    // As redun: the heading only when no record type was asked for.
    const heading = chosen.length || flag(p, "all") || query.types![0] !== "Execution" ? [] : ["Recent executions:", ""];
    const lines = [...heading, ...page.records.map(formatRecordLine)];
    if (page.cursor) lines.push("", `(the newest ${page.records.length}; --limit N shows more)`);
    // Nothing found, nothing printed (as redun), unless the heading says what was looked for.
    if (lines.length) process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
