/**
 * `export --redun PATH`: the tags and tag edits made in redun-edge on records
 * that came from a redun database, written back into its `tag` and
 * `tag_edit` tables in one transaction, `is_current` kept as redun keeps it
 * (local/redun-db.ts). Tags redun already has are left alone, so exporting
 * twice writes nothing, and importing afterwards finds nothing new.
 */
import { tagsToExport } from "../../core/redun/export.ts";
import { str } from "../args.ts";
import { parseCommand, type Command, type CommandSpec } from "../command.ts";
import { UsageError } from "../errors.ts";
import { readRedunIds, writeRedunTags } from "../../local/redun-db.ts";
import { defaultStoreSpec, inProcess, openStore, tokenOf } from "../store.ts";

export const spec: CommandSpec = {
  name: "export",
  synopsis: "export --redun PATH",
  summary: "write tags edited here back into it",
  usage: ["export --redun PATH"],
  text: `Write the tags added, updated and removed here on records imported from the
redun database PATH back into it (its tag and tag_edit tables, in one
transaction), so redun's own \`log --tag\` and \`tag list\` see them. Tags
it already has are left alone.`,
  options: { redun: { type: "string", value: "PATH", help: "the redun database (.redun/redun.db)" } },
};

export const command: Command = { spec, run: exportCommand };

export async function exportCommand(argv: readonly string[]): Promise<number> {
  const p = parseCommand(spec, argv);
  const path = str(p, "redun");
  if (!path) throw new UsageError("export needs --redun PATH (the redun database to write tags into)", "export");
  if (p.positionals.length || p.afterDashDash.length) throw new UsageError("export takes no other arguments", "export");
  // The database is checked (a redun database of a known schema version) before the store is opened.
  const { entities, tags } = readRedunIds(path);
  const store = await openStore(defaultStoreSpec(p, "export"), { token: tokenOf(p), inProcess: inProcess(p) });
  try {
    const rows = await tagsToExport(store.repository(), new Set(entities.keys()), tags);
    if (rows.length === 0) {
      process.stdout.write(`nothing to export: ${path} has every tag of its records that ${store.label} has\n`);
      return 0;
    }
    const written = writeRedunTags(path, rows);
    process.stdout.write(`exported ${written.tags} tags and ${written.edges} tag edits from ${store.label} into ${path}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
