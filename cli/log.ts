/**
 * `log`: recent records as one line each (core's formatRecordLine), or one
 * record in detail by id prefix. One or two HTTP requests either way: the
 * store does the querying.
 */
import {
  EXECUTION_STATUSES,
  JOB_STATUSES,
  formatRecordLine,
  toTagFilter,
  type EntityType,
  type Query,
  type RecordView,
  type TagFilter,
} from "../core/index.ts";
import { flag, list, parseArgs, readTag, str, type Parsed } from "./args.ts";
import { UsageError } from "./errors.ts";
import { formatDetail } from "./format.ts";
import { defaultStoreSpec, inProcess, openStore, tokenOf } from "./store.ts";

const TYPE_FLAGS: [flag: string, type: EntityType][] = [
  ["exec", "Execution"],
  ["job", "Job"],
  ["call-node", "CallNode"],
  ["task", "Task"],
  ["value", "Value"],
];

/** `k=v` or `k` (any value) as a query filter; malformed text is a usage error. */
export function tagFilters(texts: readonly string[], command = "log"): TagFilter[] {
  return texts.map((text) => toTagFilter(readTag(text, command, { valueRequired: false })));
}

function statuses<T extends string>(p: Parsed, name: string, allowed: readonly T[]): T[] {
  return list(p, name).flatMap((v) => v.split(",")).filter(Boolean).map((v) => {
    const hit = allowed.find((a) => a === v.toUpperCase());
    if (!hit) throw new UsageError(`--${name}: unknown status ${JSON.stringify(v)} (expected ${allowed.join(", ")})`, "log");
    return hit;
  });
}

export async function logCommand(argv: readonly string[]): Promise<number> {
  const p = parseArgs("log", argv, {
    tag: { type: "string", multiple: true },
    "exec-tag": { type: "string", multiple: true },
    exec: { type: "boolean" },
    job: { type: "boolean" },
    "call-node": { type: "boolean" },
    task: { type: "boolean" },
    value: { type: "boolean" },
    all: { type: "boolean" },
    "exec-status": { type: "string", multiple: true },
    "job-status": { type: "string", multiple: true },
    limit: { type: "string" },
    format: { type: "string" },
  });
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
  const prefix = positionals[0];
  if (prefix !== undefined && !/^[0-9a-fA-F-]+$/.test(prefix)) {
    throw new UsageError(`not an id prefix: ${JSON.stringify(prefix)} (ids are hex: 0-9, a-f)`, "log");
  }

  const store = await openStore(defaultStoreSpec(p, "log"), { token: tokenOf(p), inProcess: inProcess(p) });
  try {
    if (prefix !== undefined) {
      const detail = await store.client.show(prefix.toLowerCase());
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
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
