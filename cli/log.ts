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
import { isIdPrefix } from "../core/adapter-kit.ts";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { HttpClient } from "../adapters/http/index.ts";
import { flag, list, parseArgs, readTag, str, type Parsed } from "./args.ts";
import { CliError, UsageError } from "./errors.ts";
import { formatDetail } from "./format.ts";
import { STORE_DIR } from "./local-store.ts";
import { defaultStoreSpec, inProcess, openStore, tokenOf, type StoreSpec } from "./store.ts";

/** `-` (the newest execution) and `~N` (the N-th newest, `~1` being `-`), as redun reads them. */
export const EXECUTION_SHORTHAND = /^(-|~\d+)$/;

/** The full id of the execution `-` or `~N` names. */
export async function resolveExecutionShorthand(client: HttpClient, word: string, command: string): Promise<string> {
  const n = word === "-" ? 1 : Number(word.slice(1));
  if (!Number.isSafeInteger(n) || n < 1 || n > 1000) {
    throw new UsageError(`${word}: ~N names the N-th most recent execution, N from 1 to 1000`, command);
  }
  const { records } = await client.log({ types: ["Execution"], limit: n });
  const found = records[n - 1];
  if (!found) {
    throw new CliError(records.length === 0 ? `${word}: the store has no executions yet` : `${word}: the store has only ${records.length} execution${records.length === 1 ? "" : "s"}`);
  }
  return found.id;
}

/**
 * A read-only command on a folder without a local store says so and creates
 * nothing (starting the store would create `.redun/`).
 */
export function requireExistingStore(spec: StoreSpec): void {
  if (spec.kind === "local" && !existsSync(join(spec.root, STORE_DIR))) {
    throw new CliError(`no redun-edge store in ${spec.root} (no ${STORE_DIR}/ there: run a workflow to record one, or name a store with --remote)`);
  }
}

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
  const word = positionals[0];
  if (word !== undefined && !EXECUTION_SHORTHAND.test(word) && !(word && isIdPrefix(word.toLowerCase()))) {
    throw new UsageError(`not an id prefix: ${JSON.stringify(word)} (ids are hex: 0-9, a-f; - and ~N name recent executions)`, "log");
  }

  const spec = defaultStoreSpec(p, "log");
  requireExistingStore(spec);
  const store = await openStore(spec, { token: tokenOf(p), inProcess: inProcess(p) });
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
