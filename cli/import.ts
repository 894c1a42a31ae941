/**
 * `import PATH`: a redun SQLite database into a store (the local store, or
 * --remote). Rows are read in one read-only transaction (cli/redun-db.ts),
 * mapped and verified with redun's formulas (core/redun/import.ts); a row
 * whose id does not match is refused and named, the rest goes in. Only what
 * the store lacks is written, in batches that are each atomic and verified
 * again by the store, so a second import writes nothing and an interrupted
 * one is finished by running it again.
 */
import { RECORD_TYPES, type AnyRecord } from "../core/index.ts";
import { mapRedunRows, newRedunRecords } from "../core/redun/import.ts";
import { parseArgs } from "./args.ts";
import { CliError, UsageError } from "./errors.ts";
import { readRedunRows } from "./redun-db.ts";
import { defaultStoreSpec, inProcess, openStore, tokenOf } from "./store.ts";

/** Records per push: each push is one atomic, verified write on the store. */
const BATCH = 5_000;

const NOUNS: Record<AnyRecord["type"], [string, string]> = {
  Execution: ["execution", "executions"],
  Job: ["job", "jobs"],
  CallNode: ["call node", "call nodes"],
  Task: ["task", "tasks"],
  Value: ["value", "values"],
  Tag: ["tag", "tags"],
  Evaluation: ["evaluation", "evaluations"],
};

export function countsText(records: readonly AnyRecord[]): string {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  return RECORD_TYPES.filter((t) => counts.get(t)).map((t) => `${counts.get(t)} ${NOUNS[t][counts.get(t) === 1 ? 0 : 1]}`).join(", ");
}

/** A progress bar on stderr when it is a terminal; silent otherwise. */
export function progressBar(label: string): { update(done: number, total: number): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let shown = false;
  return {
    update(done, total) {
      if (!tty || (Date.now() - last < 80 && done < total)) return;
      last = Date.now();
      shown = true;
      const width = 30;
      const filled = total ? Math.round((done / total) * width) : width;
      process.stderr.write(`\r${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total}`);
    },
    done() {
      if (shown) process.stderr.write("\r\x1b[K");
    },
  };
}

export async function importCommand(argv: readonly string[]): Promise<number> {
  const p = parseArgs("import", argv, {});
  const paths = [...p.positionals, ...p.afterDashDash];
  if (paths.length !== 1) throw new UsageError(`import takes one redun database file, got ${paths.length}`, "import");
  const path = paths[0]!;

  // Everything that can be wrong with the file is found here, before the store is even opened.
  const rows = readRedunRows(path);
  const mapping = mapRedunRows(rows);
  for (const r of mapping.refused) process.stderr.write(`redun-edge: refused ${r.table} ${r.id}: ${r.reason}\n`);

  const store = await openStore(defaultStoreSpec(p, "import"), { token: tokenOf(p), inProcess: inProcess(p) });
  const bar = progressBar("importing");
  let written = 0;
  let todo: AnyRecord[] = [];
  try {
    const { records, already } = await newRedunRecords(store.repository(), mapping.records);
    todo = records;
    for (let i = 0; i < todo.length; i += BATCH) {
      bar.update(i, todo.length);
      await store.client.push(todo.slice(i, i + BATCH));
      written = Math.min(todo.length, i + BATCH);
    }
    bar.update(todo.length, todo.length);
    bar.done();
    const lines = [
      `imported ${path} into ${store.label}: ${written} records written, ${already} already there`,
      `  from redun: ${countsText(mapping.records) || "nothing"}`,
    ];
    if (mapping.opaque) lines.push(`  ${mapping.opaque} ids redun derives from data it does not store (files, expressions, errors) were checked for their form only`);
    if (mapping.taskValues) lines.push(`  ${mapping.taskValues} task values kept once, as their tasks`);
    if (mapping.undecodable) lines.push(`  ${mapping.undecodable} values whose pickle could not be read were kept with their type and size`);
    if (mapping.refused.length) lines.push(`  ${mapping.refused.length} records refused: their ids do not match redun's formulas (listed above)`);
    process.stdout.write(`${lines.join("\n")}\n`);
    return mapping.refused.length ? 1 : 0;
  } catch (error) {
    bar.done();
    if (written === 0 && todo.length === 0) throw error;
    throw new CliError(
      `import stopped after ${written} of ${todo.length} records were written (each batch of ${BATCH} is atomic; run it again to finish): ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    await store.close();
  }
}
