/**
 * redun's transcript (fixtures/redun/final.txt) as test data, and the same
 * commands answered by any Repository through CallGraph and the CLI's text
 * views, so each adapter (memory, D1 in workerd, IndexedDB) is held to what
 * redun printed. Platform-free (it runs in workerd too); the CLI itself is
 * held to the transcript end to end in cli.test.ts.
 */
import {
  CallGraph,
  ENTITY_TYPES,
  formatRecordLine,
  newRedunRecords,
  parseTagKeyValue,
  toTagFilter,
  type AnyRecord,
  type EntityType,
  type Query,
  type RedunMapping,
  type Repository,
} from "redun-edge";
import { formatDetail, formatKeyCounts, formatValueCounts } from "../../cli/format.ts";

export interface TranscriptBlock {
  /** The command as typed, `redun` first. */
  command: string;
  output: string;
  exit: number;
}

/** `$ command` blocks: output up to `[exit N]`. */
export function parseTranscript(text: string): TranscriptBlock[] {
  return text
    .split(/^\$ /m)
    .slice(1)
    .map((block) => {
      const newline = block.indexOf("\n");
      const rest = block.slice(newline + 1);
      const exit = /\[exit (\d+)\]\s*$/.exec(rest);
      return { command: block.slice(0, newline), output: rest.replace(/\[exit \d+\]\s*$/, ""), exit: Number(exit?.[1] ?? 0) };
    });
}

/** Shell words of a command line (single and double quotes, no escapes: all the transcript uses). */
export function shellWords(line: string): string[] {
  const out: string[] = [];
  let word = "";
  let quote: string | null = null;
  let quoted = false;
  for (const c of line) {
    if (quote) {
      if (c === quote) quote = null;
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      quoted = true;
    } else if (c === " ") {
      if (word || quoted) out.push(word);
      word = "";
      quoted = false;
    } else word += c;
  }
  if (word || quoted) out.push(word);
  return out;
}

/**
 * Where redun-edge answers differently on purpose (README, "Importing from
 * redun"), by command: the lines redun printed that redun-edge does not.
 * Every command of the transcript is answered (none is skipped).
 */
export const DELIBERATE: Readonly<Record<string, { without: string[] } | "skip">> = {
  // redun stores a task twice under one id (a task row and a Value of type redun.Task); redun-edge keeps the Task.
  "redun log --all --tag stage=greet": { without: ["Value 291af022 redun.Task Task(fullname=hello.greet, hash=291af022) (stage=greet, team=core)"] },
  "redun tag list stage=greet": { without: ["Value 291af022 redun.Task Task(fullname=hello.greet, hash=291af022) (stage=greet, team=core)"] },
};

/** What redun-edge must print for a block: redun's output less the deliberate differences. */
export function expectedOutput(block: TranscriptBlock): string | null {
  const rule = DELIBERATE[block.command];
  if (rule === "skip") return null;
  if (!rule) return block.output;
  return block.output.split("\n").filter((line) => !rule.without.includes(line)).join("\n");
}

const TYPE_FLAGS: Record<string, EntityType> = { "--exec": "Execution", "--job": "Job", "--call-node": "CallNode", "--task": "Task", "--value": "Value" };

/**
 * One of the transcript's read-only commands (`log` with --tag, --exec-tag,
 * a type flag or an id prefix; `tag list` with --values and filters),
 * answered through CallGraph and printed with the CLI's text views, as
 * cli/commands/log.ts and cli/commands/tag.ts print them.
 */
export async function answer(graph: CallGraph, words: readonly string[]): Promise<string> {
  const [command, ...rest] = words.slice(1);
  const lines = (list: string[]) => (list.length ? `${list.join("\n")}\n` : "");
  if (command === "tag" && rest[0] === "list") {
    const values = rest.includes("--values");
    const filters = rest.slice(1).filter((w) => w !== "--values").map((w) => toTagFilter(parseTagKeyValue(w, { valueRequired: false })));
    if (values) {
      const keys = [...new Set(filters.map(([k]) => k))];
      return lines(formatValueCounts(await graph.listTags({ values: true, ...(keys.length ? { keys } : {}) })));
    }
    if (filters.length === 0) return lines(formatKeyCounts(await graph.listTags()));
    return lines((await graph.log({ types: [...ENTITY_TYPES], tags: filters })).records.map(formatRecordLine));
  }
  if (command !== "log") throw new Error(`not a transcript command: ${words.join(" ")}`);
  const query: Query = {};
  const types: EntityType[] = [];
  let all = false;
  let prefix: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    const filter = () => toTagFilter(parseTagKeyValue(rest[++i]!, { valueRequired: false }));
    if (w === "--tag") (query.tags ??= []).push(filter());
    else if (w === "--exec-tag") (query.execTags ??= []).push(filter());
    else if (w === "--all") all = true;
    else if (TYPE_FLAGS[w]) types.push(TYPE_FLAGS[w]);
    else prefix = w;
  }
  if (prefix !== undefined) {
    const detail = await graph.show(prefix);
    const jobs = detail.record.type === "Execution" ? (await graph.log({ types: ["Job"], execIds: [detail.record.id], limit: 1000 })).records : [];
    return `${formatDetail(detail, jobs)}\n`;
  }
  query.types = all ? [...ENTITY_TYPES] : types.length ? types : ["Execution"];
  const records = (await graph.log(query)).records.map(formatRecordLine);
  return lines(all || types.length ? records : ["Recent executions:", "", ...records]);
}

/** Import mapped redun records into a store as a push would: only what it lacks, verified, in batches. */
export async function importInto(
  repository: Repository,
  mapping: RedunMapping,
  write: (records: readonly AnyRecord[]) => Promise<unknown>,
  batch = 100,
): Promise<number> {
  const { records } = await newRedunRecords(repository, mapping.records);
  for (let i = 0; i < records.length; i += batch) await write(records.slice(i, i + batch));
  return records.length;
}

