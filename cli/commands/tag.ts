/**
 * `tag list|add|update|rm|rename`. Edits are one request each, atomic on the
 * store over all the records named. Arguments are split by one rule (see
 * `splitEditArgs`), and every tag is parsed here before any request, so a
 * malformed tag writes nothing.
 */
import {
  ENTITY_TYPES,
  formatJson,
  formatRecordLine,
  formatTagKeyValue,
  toTagFilter,
  type JsonValue,
  type TagChange,
} from "../../core/index.ts";
import { isIdPrefix, canonicalJson } from "../../core/adapter-kit.ts";
import type { HttpClient } from "../../adapters/http/index.ts";
import type { TagEditResult } from "../../core/index.ts";
import { closest, flag, readTag, tagFilters, type Parsed } from "../args.ts";
import { helpText, parseCommand, type Command, type CommandSpec } from "../command.ts";
import { UsageError } from "../errors.ts";
import { formatKeyCounts, formatValueCounts } from "../format.ts";
import { EXECUTION_SHORTHAND, defaultStoreSpec, inProcess, openStore, requireExistingStore, resolveExecutionShorthand, tokenOf, type Store } from "../store.ts";


export const spec: CommandSpec = {
  name: "tag",
  synopsis: "tag list|add|update|rm|rename",
  summary: "list and edit tags",
  usage: [
    "tag list [--values] [--limit N] [KEY[=VALUE]]...",
    "tag add    ID_PREFIX... KEY=VALUE...",
    "tag update ID_PREFIX... KEY=VALUE...",
    "tag rm     ID_PREFIX... KEY=VALUE|KEY...",
    "tag rename ID_PREFIX... OLD_KEY NEW_KEY",
  ],
  text: `list     without filters: how many current tags each key has, by record
         type; --values: by value; with filters: the records having them
         (with --values: the value counts of those keys)
add      add tags (a removed tag comes back)
update   replace every value of each key given
rm       remove tags: KEY=VALUE removes that value, a bare KEY all its values
rename   rename a key, keeping the values

Arguments: id prefixes come first; they are hex (0-9, a-f, and -), or - (the
most recent execution) or ~N (the N-th most recent). The
first argument containing '=' starts the tags, and everything after it is a
tag. For rm, a bare word that is not hex also starts the tags, as a key;
put keys that look like hex after '--' (tag rm 6dc981d7 -- cafe).

Each record edited prints, as redun prints it: OP tag TYPE:ID KEY=JSON...
(OP: add, update, delete; rm names only the KEY=VALUE pairs given); rename
prints each change.`,
  optionsHeading: "Options of tag list:",
  options: {
    values: { type: "boolean", help: "count tags by value, not by key" },
    limit: { type: "string", value: "N", help: "at most N records (with filters; default 100)" },
  },
};

export const command: Command = { spec, run: tagCommand };

const SUBCOMMANDS = ["list", "add", "update", "rm", "rename"];

export interface EditArgs {
  prefixes: string[];
  /** Tags as `[key, value]`; for rm, `[key]` means every value of the key. */
  tags: ([string] | [string, JsonValue])[];
}

/**
 * The rule: arguments are read left to right. Id prefixes come first and are
 * hex (0-9, a-f, -), or `-` / `~N` (recent executions). The first argument with an `=` starts the tags; from
 * there on every argument is a tag. For rm, a bare word that is not hex also
 * starts the tags (it is a key: every value of it), and so does `--`, after
 * which every word is a tag or key even if it looks like hex.
 */
export function splitEditArgs(op: string, words: readonly string[], afterDashDash: readonly string[]): EditArgs {
  const out: EditArgs = { prefixes: [], tags: [] };
  let inTags = false;
  const takeTag = (word: string) => {
    out.tags.push(toTagFilter(readTag(word, "tag", { valueRequired: op !== "rm" })));
  };
  for (const word of words) {
    if (!inTags && !word.includes("=")) {
      if ((word && isIdPrefix(word.toLowerCase())) || EXECUTION_SHORTHAND.test(word)) {
        out.prefixes.push(word.toLowerCase());
        continue;
      }
      if (op !== "rm") {
        throw new UsageError(`${JSON.stringify(word)} is neither an id prefix (hex) nor a tag (key=value)`, "tag");
      }
    }
    inTags = true;
    takeTag(word);
  }
  for (const word of afterDashDash) takeTag(word);
  if (out.prefixes.length === 0) throw new UsageError(`tag ${op} needs at least one id prefix`, "tag");
  if (out.tags.length === 0) {
    throw new UsageError(
      op === "rm"
        ? "tag rm needs tags (key=value) or keys to remove; put a key that looks like an id after --"
        : `tag ${op} needs tags (key=value)`,
      "tag",
    );
  }
  return out;
}

/**
 * Echo an edit as redun does, one line per record (`add tag Execution:<full
 * id> k="v" n=3`, the tags given, values as Python's json.dumps prints them;
 * `delete tag ...` for rm, naming the key=value pairs given); rename, which
 * redun has not, one line per change. Say so on stderr when nothing changed.
 */
function report(op: string, result: TagEditResult, pairs: readonly (readonly [string, JsonValue])[]): void {
  const lines = op === "rename" || !result.entities ? result.changes.map(formatChange) : editLines(op, result, pairs);
  if (lines.length) process.stdout.write(`${lines.join("\n")}\n`);
  if (result.changes.length) return;
  if (op === "rm") process.stderr.write("redun-edge: nothing changed (the records have no such tags)\n");
  else if (op === "rename") process.stderr.write("redun-edge: nothing changed (the records have no such key)\n");
  else process.stderr.write("redun-edge: nothing changed (the records already have those tags)\n");
}

/** redun's echo of an edit: one line per record edited. */
export function editLines(op: string, result: Pick<TagEditResult, "entities">, pairs: readonly (readonly [string, JsonValue])[]): string[] {
  const tags = pairs.map(([k, v]) => `${k}=${formatJson(v, { sortKeys: false, ascii: true })}`).join(" ");
  return result.entities.map((e) => `${op === "rm" ? "delete" : op} tag ${e.type}:${e.id} ${tags}`);
}

/** `rename tag Execution:<full id> k=v`: one change. */
export function formatChange(c: TagChange): string {
  return `${c.op} tag ${c.entityType}:${c.entityId} ${formatTagKeyValue(c.key, c.value, 200)}`;
}

/** Open the command's store, refusing a folder without one (see requireExistingStore). */
async function openExisting(p: Parsed): Promise<Store> {
  const spec = defaultStoreSpec(p, "tag");
  requireExistingStore(spec);
  return openStore(spec, { token: tokenOf(p), inProcess: inProcess(p) });
}

/** Prefixes with `-` / `~N` resolved to the executions they name. */
function resolvePrefixes(client: HttpClient, prefixes: readonly string[]): Promise<string[]> {
  return Promise.all(prefixes.map((x) => (EXECUTION_SHORTHAND.test(x) ? resolveExecutionShorthand(client, x, "tag") : x)));
}

export async function tagCommand(argv: readonly string[]): Promise<number> {
  const sub = argv[0];
  if (sub === undefined) throw new UsageError("tag needs a subcommand: list, add, update, rm or rename", "tag");
  if (sub === "help") {
    process.stdout.write(`${helpText(spec)}\n`);
    return 0;
  }
  const rest = argv.slice(1);
  switch (sub) {
    case "list":
    case "ls":
      return tagList(rest);
    case "add":
    case "update":
    case "rm":
    case "remove":
      return tagEdit(sub === "remove" ? "rm" : sub, rest);
    case "rename":
      return tagRename(rest);
    default: {
      const near = closest(sub, SUBCOMMANDS);
      throw new UsageError(`unknown tag subcommand ${JSON.stringify(sub)}${near ? `; did you mean ${JSON.stringify(near)}?` : " (expected list, add, update, rm or rename)"}`, "tag");
    }
  }
}

async function tagList(argv: readonly string[]): Promise<number> {
  const p = parseCommand(spec, argv);
  const filters = tagFilters([...p.positionals, ...p.afterDashDash], "tag");
  const store = await openExisting(p);
  try {
    let lines: string[];
    if (flag(p, "values")) {
      const keys = [...new Set(filters.map(([k]) => k))];
      let rows = await store.client.listTags({ values: true, ...(keys.length ? { keys } : {}) });
      // key=value filters narrow the rows to those values (JSON equality, as queries use).
      const wanted = filters.filter((f) => f.length === 2).map(([k, v]) => `${k}\u0000${canonicalJson(v!)}`);
      const keyOnly = new Set(filters.filter((f) => f.length === 1).map(([k]) => k));
      if (wanted.length) rows = rows.filter((r) => keyOnly.has(r.key) || wanted.includes(`${r.key}\u0000${canonicalJson(r.value ?? null)}`));
      lines = formatValueCounts(rows);
    } else if (filters.length) {
      const limit = p.options.limit ? Number(p.options.limit) : 100;
      const page = await store.client.log({ types: [...ENTITY_TYPES], tags: filters, limit: Number.isInteger(limit) && limit > 0 ? limit : 100 });
      lines = page.records.map(formatRecordLine);
    } else {
      lines = formatKeyCounts(await store.client.listTags({ values: false }));
    }
    if (lines.length) process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

async function tagEdit(op: "add" | "update" | "rm", argv: readonly string[]): Promise<number> {
  const p = parseCommand(spec, argv, {});
  const { prefixes: given, tags } = splitEditArgs(op, p.positionals, p.afterDashDash);
  const store = await openExisting(p);
  try {
    const prefixes = await resolvePrefixes(store.client, given);
    const pairs = tags.filter((t): t is [string, JsonValue] => t.length === 2);
    const keys = tags.filter((t) => t.length === 1).map(([k]) => k);
    const result =
      op === "rm"
        ? await store.client.editTags(prefixes, { op, ...(pairs.length ? { tags: pairs } : {}), ...(keys.length ? { keys } : {}) })
        : await store.client.editTags(prefixes, { op, tags: pairs });
    report(op, result, pairs);
    return 0;
  } finally {
    await store.close();
  }
}

async function tagRename(argv: readonly string[]): Promise<number> {
  const p = parseCommand(spec, argv, {});
  const words = [...p.positionals, ...p.afterDashDash];
  if (words.length < 3) throw new UsageError("tag rename needs ID_PREFIX... OLD_KEY NEW_KEY", "tag");
  const [from, to] = words.slice(-2) as [string, string];
  const prefixes = words.slice(0, -2);
  for (const prefix of prefixes) {
    if (!(prefix && isIdPrefix(prefix.toLowerCase())) && !EXECUTION_SHORTHAND.test(prefix)) {
      throw new UsageError(`not an id prefix: ${JSON.stringify(prefix)} (ids are hex: 0-9, a-f; - and ~N name recent executions)`, "tag");
    }
  }
  if (from.includes("=") || to.includes("=")) throw new UsageError("tag rename takes keys, not key=value", "tag");
  const store = await openExisting(p);
  try {
    const resolved = await resolvePrefixes(store.client, prefixes.map((x) => x.toLowerCase()));
    const result = await store.client.editTags(resolved, { op: "rename", from, to });
    report("rename", result, []);
    return 0;
  } finally {
    await store.close();
  }
}
