/** `help [COMMAND]`: the list of commands, or one command's help (as `COMMAND --help`). */
import { closest } from "../args.ts";
import { helpText, mainHelp, parseCommand, type Command, type CommandSpec } from "../command.ts";
import { UsageError } from "../errors.ts";
import { COMMAND_NAMES, allSpecs, isCommand, loadCommand } from "../registry.ts";

export const spec: CommandSpec = {
  name: "help",
  synopsis: "help [COMMAND]",
  summary: "show help for a command",
  usage: ["help [COMMAND]"],
  text: `Without COMMAND: the commands. With one: its usage and options, as
'redun-edge COMMAND --help' prints them.`,
  options: {},
};

export const command: Command = {
  spec,
  async run(argv) {
    const [topic, ...extra] = parseCommand(spec, argv).positionals;
    if (extra.length) throw new UsageError(`help takes one command, got ${1 + extra.length}`, "help");
    if (topic === undefined) {
      process.stdout.write(`${mainHelp(await allSpecs())}\n`);
      return 0;
    }
    if (!isCommand(topic)) {
      const near = closest(topic, COMMAND_NAMES);
      throw new UsageError(`no help for ${JSON.stringify(topic)}${near ? `; did you mean ${JSON.stringify(near)}?` : ` (commands: ${COMMAND_NAMES.join(", ")})`}`, "help");
    }
    process.stdout.write(`${helpText((await loadCommand(topic)).spec)}\n`);
    return 0;
  },
};
