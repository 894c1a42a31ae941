/**
 * Command lines read by `node:util` `parseArgs` from each command's option
 * table (cli/command.ts), which also makes its `--help`. Strict as before:
 * anything else starting with `-` is a usage error (exit 2) naming the
 * nearest option, never a silently ignored word. `--opt value` and
 * `--opt=value` both work; `--` ends options; `-5` is a word, not an option.
 * `stopAfter` hands everything after the Nth positional to the command
 * untouched (the task arguments of `run`).
 */
import { parseArgs as parseArgv } from "node:util";
import { parseTagKeyValue, toTagFilter, type AnyValue, type JsonValue, type TagFilter } from "../core/index.ts";
import { UsageError } from "./errors.ts";

export interface OptionSpec {
  /** "string" takes a value; "boolean" does not. */
  type: "string" | "boolean";
  /** May be given more than once (values collected in order). */
  multiple?: boolean;
  /** One-letter alias, without the dash. */
  short?: string;
  /** What the value is, in help (`KEY=VALUE`). */
  value?: string;
  /** One help sentence (wrapped when printed). */
  help?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

export interface Parsed {
  options: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** Positionals given after `--`. */
  afterDashDash: string[];
  /** Everything after the `stopAfter`-th positional, untouched. */
  rest: string[];
}

/** Options every command takes (the store it talks to, and help). */
export const GLOBAL_OPTIONS: OptionSpecs = {
  remote: {
    type: "string",
    value: "URL",
    help: "a deployed Worker (http/https URL), or another folder's local store (a path or file: URL); default $REDUN_EDGE_URL, else the local store in .redun/ ($REDUN_EDGE_STORE, or looked up from the current folder upwards, created on first use in the current folder)",
  },
  token: { type: "string", value: "TOKEN", help: "bearer token for writes to a remote (default $REDUN_EDGE_TOKEN)" },
  "in-process": {
    type: "boolean",
    help: "run the local store's Worker inside this command instead of the background server (slower start; nothing left running; a server already running for the store is used, never stopped)",
  },
  help: { type: "boolean", short: "h", help: "show this help" },
};

type Token = NonNullable<ReturnType<typeof parseArgv>["tokens"]>[number];

/** A negative number (`-5`, `-1.5`) is a word, as it was before parseArgs. */
const NUMBER_WORD = /^-\d/;

/**
 * The tokens of `argv` as parseArgs reads them with `specs`, not yet judged,
 * up to where the command's own words end: the `stopAfter`-th positional
 * (returned as `restAt`, an index into argv) or the end.
 */
function tokenize(argv: readonly string[], specs: OptionSpecs, stopAfter: number | undefined): { tokens: Token[]; restAt: number } {
  const config = Object.fromEntries(
    Object.entries(specs).map(([name, s]) => [name, { type: s.type, ...(s.multiple ? { multiple: true } : {}), ...(s.short ? { short: s.short } : {}) }]),
  );
  const words = argv.map((w) => (NUMBER_WORD.test(w) ? `\u0000${w}` : w));
  const { tokens } = parseArgv({ args: words, options: config, strict: false, allowPositionals: true, tokens: true });
  let positionals = 0;
  let terminated = false;
  const kept: Token[] = [];
  for (const token of tokens) {
    if (!terminated && stopAfter !== undefined && positionals >= stopAfter) return { tokens: kept, restAt: token.index };
    if (token.kind === "option-terminator") terminated = true;
    if (token.kind === "positional") {
      token.value = token.value.replace(/^\u0000/, "");
      if (!terminated) positionals++;
    }
    kept.push(token);
  }
  return { tokens: kept, restAt: argv.length };
}

/** Edits between two words (insert, delete, replace, swap two neighbours), for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate nearest to `word` when it is near enough to be a typo of it (or `word` begins it), else null. */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestScore = Infinity;
  for (const c of candidates) {
    const score = c.startsWith(word) && word.length >= 2 ? 0.5 : distance(word, c);
    if (score < bestScore) [best, bestScore] = [c, score];
  }
  return bestScore <= Math.max(1, Math.floor((best?.length ?? 0) / 3)) ? best : null;
}

export function parseArgs(command: string, argv: readonly string[], specs: OptionSpecs, options: { stopAfter?: number } = {}): Parsed {
  const all: OptionSpecs = { ...GLOBAL_OPTIONS, ...specs };
  const { tokens, restAt } = tokenize(argv, all, options.stopAfter);
  const out: Parsed = { options: {}, positionals: [], afterDashDash: [], rest: argv.slice(restAt) };
  let terminated = false;
  for (const token of tokens) {
    if (token.kind === "option-terminator") {
      terminated = true;
      continue;
    }
    if (token.kind === "positional") {
      (terminated ? out.afterDashDash : out.positionals).push(token.value);
      continue;
    }
    const raw = token.rawName;
    const long = raw.startsWith("--");
    const spec = Object.hasOwn(all, token.name) ? all[token.name]! : undefined;
    if (!spec || (!long && spec.short !== raw.slice(1))) {
      const near = long ? closest(raw.slice(2), Object.keys(all)) : null;
      throw new UsageError(`unknown option ${argv[token.index]!.startsWith("--") ? raw : argv[token.index]}${near ? `; did you mean --${near}?` : ""}`, command);
    }
    let value: string | boolean;
    if (spec.type === "boolean") {
      if (token.inlineValue) throw new UsageError(`option --${token.name} takes no value`, command);
      value = true;
    } else {
      if (token.value === undefined) throw new UsageError(`option --${token.name} needs a value`, command);
      value = token.value.replace(/^\u0000/, "");
    }
    if (spec.multiple) {
      const list = (out.options[token.name] as string[] | undefined) ?? [];
      list.push(value as string);
      out.options[token.name] = list;
    } else {
      if (out.options[token.name] !== undefined && spec.type === "string") throw new UsageError(`option --${token.name} given more than once`, command);
      out.options[token.name] = value;
    }
  }
  return out;
}

/** Is --help / -h among the command's own options (not a task argument of `run`, not after `--`), whatever else is wrong? */
export function wantsHelp(argv: readonly string[], specs: OptionSpecs, stopAfter?: number): boolean {
  const { tokens } = tokenize(argv, { ...GLOBAL_OPTIONS, ...specs }, stopAfter);
  const end = tokens.findIndex((t) => t.kind === "option-terminator");
  return tokens.slice(0, end === -1 ? undefined : end).some((t) => t.kind === "option" && t.name === "help");
}

export const str = (p: Parsed, name: string): string | undefined => p.options[name] as string | undefined;
export const list = (p: Parsed, name: string): string[] => (p.options[name] as string[] | undefined) ?? [];
export const flag = (p: Parsed, name: string): boolean => p.options[name] === true;

/**
 * Read `key=value` tag text (core's parseTagKeyValue); malformed text is a
 * usage error that quotes the whole argument, not just the value.
 */
export function readTag(text: string, command: string, options: { valueRequired?: boolean; what?: string } = {}): [string, JsonValue | AnyValue] {
  try {
    return parseTagKeyValue(text, { valueRequired: options.valueRequired ?? true });
  } catch (error) {
    const reason = (error as Error).message.replace(/^invalid tag "(?:[^"\\]|\\.)*": /, "");
    throw new UsageError(`malformed ${options.what ?? "tag"} ${JSON.stringify(text)}: ${reason}`, command);
  }
}

/** `k=v` or `k` (any value) as a query filter; malformed text is a usage error. */
export function tagFilters(texts: readonly string[], command = "log"): TagFilter[] {
  return texts.map((text) => toTagFilter(readTag(text, command, { valueRequired: false })));
}
