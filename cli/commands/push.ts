/** `push --remote STORE`: the local store's new records, copied to another store (cli/sync.ts). */
import type { Command, CommandSpec } from "../command.ts";
import { SYNC_OPTIONS, syncCommand } from "../sync.ts";

export const spec = {
  name: "push" as const,
  synopsis: "push --remote STORE",
  summary: "copy records to another store",
  usage: ["push --remote STORE [--from-start]"],
  text: `Copy the local store's records written since the last push to STORE (an
http(s) URL, or another folder's local store). Idempotent and resumable:
the position reached is kept per remote in .redun/sync.json.`,
  options: SYNC_OPTIONS,
} satisfies CommandSpec & { name: "push" | "pull" };

export const command: Command = { spec, run: (argv) => syncCommand(spec, argv) };
