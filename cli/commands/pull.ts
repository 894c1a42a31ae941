/** `pull --remote STORE`: another store's new records, copied into the local store (cli/sync.ts). */
import type { Command, CommandSpec } from "../command.ts";
import { SYNC_OPTIONS, syncCommand } from "../sync.ts";

export const spec = {
  name: "pull" as const,
  synopsis: "pull --remote STORE",
  summary: "copy records from another store",
  usage: ["pull --remote STORE [--from-start]"],
  text: `Copy STORE's records written since the last pull into the local store.
Idempotent and resumable: the position reached is kept per remote in
.redun/sync.json.`,
  options: SYNC_OPTIONS,
} satisfies CommandSpec & { name: "push" | "pull" };

export const command: Command = { spec, run: (argv) => syncCommand(spec, argv) };
