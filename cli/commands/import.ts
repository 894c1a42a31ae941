/**
 * `import PATH`: a redun SQLite database into a store (the local store, or
 * --remote). Rows are read in one read-only transaction (local/redun-db.ts),
 * mapped and verified with redun's formulas (core/redun/import.ts); a row
 * whose id does not match is refused and named, the rest goes in. Only what
 * the store lacks is written, in batches that are each atomic and verified
 * again by the store, so a second import writes nothing and an interrupted
 * one is finished by running it again.
 */
import { RECORD_TYPES, type AnyRecord } from "../../core/index.ts";
import { emptyRedunMapping, mapRedunRowsByType, newRedunRecords } from "../../core/redun/import.ts";
import { parseCommand, type Command, type CommandSpec } from "../command.ts";
import { CliError, UsageError } from "../errors.ts";
import { readRedunRows } from "../../local/redun-db.ts";
import { defaultStoreSpec, inProcess, openStore, tokenOf } from "../store.ts";

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

export const spec: CommandSpec = {
  name: "import",
  synopsis: "import PATH",
  summary: "import a redun database (.redun/redun.db)",
  usage: ["import PATH"],
  text: `Import a redun SQLite database (PATH, e.g. .redun/redun.db; read-only) into
the store: every execution, job, call node, task, value, tag (with its edit
history) and cache evaluation. Ids stay redun's, and each is checked with
redun's own hash formulas first: a record whose id does not match is named
and left out (exit code 1), the rest goes in. Only what the store lacks is
written, so importing again writes nothing and picks up what redun did since.`,
  options: {},
};

export const command: Command = { spec, run: importCommand };

export async function importCommand(argv: readonly string[]): Promise<number> {
  const p = parseCommand(spec, argv);
  const paths = [...p.positionals, ...p.afterDashDash];
  if (paths.length !== 1) throw new UsageError(`import takes one redun database file, got ${paths.length}`, "import");
  const path = paths[0]!;

  // Everything that can be wrong with the file is found here, before the store is even opened.
  const rows = readRedunRows(path);
  const store = await openStore(defaultStoreSpec(p, "import"), { token: tokenOf(p), inProcess: inProcess(p) });
  const bar = progressBar("importing");
  const mapping = emptyRedunMapping();
  // The records to come: a row each, but a task's own Value, which is kept as its Task.
  const taskIds = new Set(rows.tasks.map((t) => t.hash));
  const taskValues = rows.values.filter((v) => v.type === "redun.Task" && taskIds.has(v.value_hash)).length;
  const total = rows.executions.length + rows.jobs.length + rows.tasks.length + rows.values.length - taskValues + rows.callNodes.length + rows.evaluations.length + rows.tags.length;
  let written = 0;
  let already = 0;
  let queued = 0;
  try {
    // One type at a time: while the store verifies and writes one batch, this process maps the next
    // (two processes, two cores). Pushes are chained, so they land in write order, one at a time.
    let pushing: Promise<void> = Promise.resolve();
    let failure: { error: unknown } | null = null;
    for (const part of mapRedunRowsByType(rows, mapping)) {
      if (failure) break;
      const fresh = await newRedunRecords(store.repository(), part);
      already += fresh.already;
      for (let i = 0; i < fresh.records.length; i += BATCH) {
        const batch = fresh.records.slice(i, i + BATCH);
        queued += batch.length;
        pushing = pushing.then(async () => {
          if (failure) return;
          try {
            await store.client.push(batch);
            written += batch.length;
            bar.update(written + already, total);
          } catch (error) {
            failure = { error };
          }
        });
      }
    }
    await pushing;
    if (failure) throw (failure as { error: unknown }).error;
    bar.update(written + already, written + already);
    bar.done();
    for (const r of mapping.refused) process.stderr.write(`redun-edge: refused ${r.table} ${r.id}: ${r.reason}\n`);
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
    if (queued === 0) throw error;
    throw new CliError(
      `import stopped after ${written} records were written (each batch of up to ${BATCH} is atomic; run it again to finish): ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    await store.close();
  }
}
