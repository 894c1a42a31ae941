/**
 * The commands, each loaded on demand so a `log` does not pay for `run`'s
 * imports. Their tables (cli/command.ts) say everything else: options,
 * help, where their own words begin.
 */
import type { Command, CommandSpec } from "./command.ts";

export const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  run: () => import("./commands/run.ts"),
  log: () => import("./commands/log.ts"),
  tag: () => import("./commands/tag.ts"),
  push: () => import("./commands/push.ts"),
  pull: () => import("./commands/pull.ts"),
  import: () => import("./commands/import.ts"),
  export: () => import("./commands/export.ts"),
  server: () => import("./commands/server.ts"),
  inspect: () => import("./commands/inspect.ts"),
  help: () => import("./commands/help.ts"),
};

export const COMMAND_NAMES = Object.keys(COMMANDS);

export function isCommand(name: string): boolean {
  return Object.hasOwn(COMMANDS, name);
}

export async function loadCommand(name: string): Promise<Command> {
  return (await COMMANDS[name]!()).command;
}

/** Every command's table, for `redun-edge --help`. */
export async function allSpecs(): Promise<CommandSpec[]> {
  return Promise.all(COMMAND_NAMES.map(async (name) => (await loadCommand(name)).spec));
}
