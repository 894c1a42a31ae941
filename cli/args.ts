/**
 * A small, strict command-line parser: every command declares its options,
 * and anything else starting with `-` is a usage error (exit 2) rather than a
 * silently ignored word. `--opt value` and `--opt=value` both work; `--`
 * ends options. `stopAfter` hands everything after the Nth positional to the
 * command untouched (the task arguments of `run`).
 */
import { parseTagKeyValue, type AnyValue, type JsonValue } from "../core/index.ts";
import { UsageError } from "./errors.ts";

export interface OptionSpec {
  /** "string" takes a value; "boolean" does not. */
  type: "string" | "boolean";
  /** May be given more than once (values collected in order). */
  multiple?: boolean;
  /** One-letter alias, without the dash. */
  short?: string;
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

/** Options every command takes. */
export const GLOBAL_OPTIONS: OptionSpecs = {
  help: { type: "boolean", short: "h" },
  remote: { type: "string" },
  token: { type: "string" },
  "in-process": { type: "boolean" },
};

export function parseArgs(
  command: string,
  argv: readonly string[],
  specs: OptionSpecs,
  options: { stopAfter?: number } = {},
): Parsed {
  const all: OptionSpecs = { ...GLOBAL_OPTIONS, ...specs };
  const byShort = new Map(Object.entries(all).flatMap(([name, s]) => (s.short ? [[s.short, name] as const] : [])));
  const out: Parsed = { options: {}, positionals: [], afterDashDash: [], rest: [] };
  const set = (name: string, value: string | boolean) => {
    const spec = all[name]!;
    if (spec.multiple) {
      const list = (out.options[name] as string[] | undefined) ?? [];
      list.push(value as string);
      out.options[name] = list;
    } else {
      if (out.options[name] !== undefined && spec.type === "string") {
        throw new UsageError(`option --${name} given more than once`, command);
      }
      out.options[name] = value;
    }
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (options.stopAfter !== undefined && out.positionals.length >= options.stopAfter) {
      out.rest = argv.slice(i);
      break;
    }
    if (arg === "--") {
      out.afterDashDash = argv.slice(i + 1);
      break;
    }
    if (arg.startsWith("--") || (arg.startsWith("-") && arg.length > 1 && !/^-\d/.test(arg))) {
      const long = arg.startsWith("--");
      const eq = arg.indexOf("=");
      const raw = long ? arg.slice(2, eq === -1 ? undefined : eq) : arg.slice(1, 2);
      const name = long ? raw : byShort.get(raw);
      if (!name || !Object.hasOwn(all, name) || (!long && arg.length > 2)) {
        throw new UsageError(`unknown option ${long ? `--${raw}` : arg}`, command);
      }
      const spec = all[name]!;
      if (spec.type === "boolean") {
        if (long && eq !== -1) throw new UsageError(`option --${name} takes no value`, command);
        set(name, true);
      } else if (long && eq !== -1) {
        set(name, arg.slice(eq + 1));
      } else {
        const value = argv[i + 1];
        if (value === undefined) throw new UsageError(`option --${name} needs a value`, command);
        set(name, value);
        i++;
      }
      continue;
    }
    out.positionals.push(arg);
  }
  return out;
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
