/**
 * What a command is: one table (its usage, what it does, its options) that
 * both parses its command line (cli/args.ts) and makes its `--help`, and the
 * function that runs it. One file per command in cli/commands/.
 */
import { GLOBAL_OPTIONS, parseArgs, type OptionSpecs, type Parsed } from "./args.ts";

export interface CommandSpec {
  name: string;
  /** Its line in `redun-edge --help`: what to type, and what it does. */
  synopsis: string;
  summary: string;
  /** The forms of the command line, after `redun-edge `. */
  usage: string[];
  /** What it does, as printed (paragraphs, wrapped by hand). */
  text: string;
  options: OptionSpecs;
  /** Heading of the options (default "Options:"). */
  optionsHeading?: string;
  /** Text after the options (run's task arguments). */
  after?: string;
  /** The words after this many positionals are the command's own (run's task arguments): never options. */
  stopAfter?: number;
}

export interface Command {
  spec: CommandSpec;
  run(argv: readonly string[]): Promise<number>;
}

/** Read a command line by the command's own table. */
export function parseCommand(spec: CommandSpec, argv: readonly string[], options: OptionSpecs = spec.options): Parsed {
  return parseArgs(spec.name, argv, options, spec.stopAfter === undefined ? {} : { stopAfter: spec.stopAfter });
}

const WIDTH = 78;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** An options table as help lines: `  --name VALUE   help`, the help wrapped in its column. */
export function optionLines(options: OptionSpecs): string[] {
  const rows = Object.entries(options).map(([name, o]) => [`${o.short ? `-${o.short}, ` : ""}--${name}${o.value ? ` ${o.value}` : ""}`, o.help ?? ""] as const);
  const column = Math.max(18, ...rows.map(([label]) => label.length + 2));
  return rows.flatMap(([label, help]) => {
    const [first = "", ...more] = wrap(help, WIDTH - column - 2);
    return [`  ${label.padEnd(column)}${first}`.trimEnd(), ...more.map((l) => `${" ".repeat(column + 2)}${l}`)];
  });
}

export const STORE_HELP = ["Store options (every command):", ...optionLines(GLOBAL_OPTIONS)].join("\n");

/** `redun-edge COMMAND --help`. */
export function helpText(spec: CommandSpec): string {
  const usage = spec.usage.map((u, i) => `${i === 0 ? "Usage: " : "       "}redun-edge ${u}`);
  const own = Object.keys(spec.options).length ? [[spec.optionsHeading ?? "Options:", ...optionLines(spec.options)].join("\n")] : [];
  return [usage.join("\n"), spec.text, ...own, ...(spec.after ? [spec.after] : []), STORE_HELP].join("\n\n");
}

/** `redun-edge --help`: every command's synopsis. */
export function mainHelp(specs: readonly CommandSpec[]): string {
  const column = Math.max(...specs.map((s) => s.synopsis.length)) + 3;
  return [
    "Usage: redun-edge COMMAND [options]",
    "Record workflow runs as a call graph, then query and tag their history.",
    ["Commands:", ...specs.map((s) => `  ${s.synopsis.padEnd(column)}${s.summary}`)].join("\n"),
    STORE_HELP,
    "Run 'redun-edge COMMAND --help' for a command's options.",
  ].join("\n\n");
}
