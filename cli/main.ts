#!/usr/bin/env node
/**
 * redun-edge: the command-line client. Dispatches to one module per command,
 * loaded on demand so a `log` does not pay for `run`'s imports. Every failure
 * ends here as one line on stderr and exit code 2 (usage) or 1 (anything
 * else); REDUN_EDGE_DEBUG=1 adds the stack.
 */
import { VERSION } from "../core/version.ts";
import { describeError, UsageError } from "./errors.ts";
import { HELP } from "./help.ts";

const COMMANDS = ["run", "log", "tag", "push", "pull", "import", "export", "server", "inspect", "help"];

/** True when --help / -h is among the command's own options (not a task argument of `run`, not after `--`). */
function wantsHelp(command: string, argv: readonly string[]): boolean {
  let positionals = 0;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") return false;
    if (arg === "--help" || arg === "-h") return true;
    if (["--tag", "--remote", "--token", "--exec-tag", "--limit", "--format", "--exec-status", "--job-status", "--port", "--redun"].includes(arg)) {
      i++;
      continue;
    }
    if (!arg.startsWith("-") && command === "run" && ++positionals >= 2) return false;
  }
  return false;
}

async function dispatch(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h") {
    process.stdout.write(`${HELP.main}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command === "--version" || command === "-V") {
    process.stdout.write(`redun-edge ${VERSION}\n`);
    return 0;
  }
  if (!COMMANDS.includes(command)) {
    if (command.startsWith("-")) throw new UsageError(`unknown option ${command} (options come after the command)`);
    throw new UsageError(`unknown command ${JSON.stringify(command)} (expected ${COMMANDS.join(", ")})`);
  }
  if (command === "help") {
    const topic = rest[0] ?? "main";
    if (!Object.hasOwn(HELP, topic)) throw new UsageError(`no help for ${JSON.stringify(topic)} (commands: ${COMMANDS.join(", ")})`);
    process.stdout.write(`${HELP[topic]}\n`);
    return 0;
  }
  if (wantsHelp(command, rest)) {
    process.stdout.write(`${HELP[command]}\n`);
    return 0;
  }
  switch (command) {
    case "run":
      return (await import("./run.ts")).runCommand(rest);
    case "log":
      return (await import("./log.ts")).logCommand(rest);
    case "tag":
      return (await import("./tag.ts")).tagCommand(rest);
    case "push":
    case "pull":
      return (await import("./sync.ts")).syncCommand(command, rest);
    case "server":
      return (await import("./server.ts")).serverCommand(rest);
    case "inspect":
      return (await import("./inspect.ts")).inspectCommand(rest);
    case "import":
      return (await import("./import.ts")).importCommand(rest);
    case "export":
      return (await import("./export.ts")).exportCommand(rest);
  }
  return 2;
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
