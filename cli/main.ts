#!/usr/bin/env node
/**
 * redun-edge: the command-line client. Finds the command (cli/registry.ts),
 * answers `--help` from its table, and runs it. Every failure ends here as
 * one line on stderr and exit code 2 (usage) or 1 (anything else);
 * REDUN_EDGE_DEBUG=1 adds the stack.
 */
import { VERSION } from "../core/version.ts";
import { closest, wantsHelp } from "./args.ts";
import { helpText, mainHelp } from "./command.ts";
import { describeError, UsageError } from "./errors.ts";
import { COMMAND_NAMES, allSpecs, isCommand, loadCommand } from "./registry.ts";

async function dispatch(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h") {
    process.stdout.write(`${mainHelp(await allSpecs())}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    process.stdout.write(`redun-edge ${VERSION}\n`);
    return 0;
  }
  if (!isCommand(name)) {
    if (name.startsWith("-")) throw new UsageError(`unknown option ${name} (options come after the command)`);
    const near = closest(name, COMMAND_NAMES);
    throw new UsageError(`unknown command ${JSON.stringify(name)}${near ? `; did you mean ${JSON.stringify(near)}?` : ` (expected ${COMMAND_NAMES.join(", ")})`}`);
  }
  const command = await loadCommand(name);
  if (wantsHelp(rest, command.spec.options, command.spec.stopAfter)) {
    process.stdout.write(`${helpText(command.spec)}\n`);
    return 0;
  }
  return command.run(rest);
}

function report(error: unknown): number {
  const { message, exitCode, hint } = describeError(error);
  process.stderr.write(`redun-edge: error: ${message}${hint ? ` (${hint})` : ""}\n`);
  if (process.env.REDUN_EDGE_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return exitCode;
}

/** Exit once stdout has drained; keep-alive sockets and timers must not hold the command open. */
function exit(code: number): void {
  process.stdout.write("", () => process.exit(code));
}

process.on("unhandledRejection", (error) => exit(report(error)));
try {
  exit(await dispatch(process.argv.slice(2)));
} catch (error) {
  exit(report(error));
}
