/**
 * `push` / `pull --remote STORE`: copy records between the local store and
 * another one (a deployed Worker, or another folder's local store), page by
 * page through the sync API. Records are content-addressed or merge by a
 * fixed rule, so copying twice changes nothing; the cursor reached is saved
 * after every page in `.redun/sync.json`, so an interrupted copy resumes.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { copyRecords } from "../core/index.ts";
import { flag, str } from "./args.ts";
import { parseCommand, type CommandSpec } from "./command.ts";
import { UsageError } from "./errors.ts";
import { writeAtomic } from "../local/bundle.ts";
import { ensureStoreDir } from "../local/store.ts";
import { inProcess, localStoreRoot, openStore, parseStoreSpec, tokenOf, type Store } from "./store.ts";

interface SyncState {
  /** Per remote key: the remote's pull cursor and our push cursor. */
  remotes: Record<string, { push?: string | null; pull?: string | null }>;
}

/** Remotes by key, in an object without a prototype: a key is user text (a folder named __proto__ is a key too). */
function readState(path: string): SyncState {
  let remotes: SyncState["remotes"] = {};
  try {
    const state = JSON.parse(readFileSync(path, "utf8")) as SyncState;
    if (state && typeof state.remotes === "object" && state.remotes !== null) remotes = state.remotes;
  } catch {
    // No state yet, or an unreadable one: start over (copies are idempotent).
  }
  return { remotes: Object.assign(Object.create(null) as SyncState["remotes"], remotes) };
}

/** A progress line on stderr, only when it is a terminal. */
function progress(verb: string): { update(records: number): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  const start = Date.now();
  let last = 0;
  const spin = ["=---------", "-=--------", "--=-------", "---=------", "----=-----", "-----=----", "------=---", "-------=--", "--------=-", "---------="];
  let step = 0;
  return {
    update(records) {
      if (!tty || Date.now() - last < 100) return;
      last = Date.now();
      const rate = records / Math.max(0.001, (Date.now() - start) / 1000);
      process.stderr.write(`\r${verb} [${spin[step++ % spin.length]}] ${records} records (${Math.round(rate)}/s)   `);
    },
    done() {
      if (tty && last) process.stderr.write("\r\x1b[K");
    },
  };
}

/** The options of push and pull. */
export const SYNC_OPTIONS: CommandSpec["options"] = {
  "from-start": { type: "boolean", help: "ignore the saved position and copy every record again" },
};

export async function syncCommand(spec: CommandSpec & { name: "push" | "pull" }, argv: readonly string[]): Promise<number> {
  const direction = spec.name;
  const p = parseCommand(spec, argv);
  if (p.positionals.length) throw new UsageError(`${direction} takes no arguments (the other store is given by --remote)`, direction);
  const remoteText = str(p, "remote") ?? (process.env.REDUN_EDGE_URL || undefined);
  if (!remoteText) throw new UsageError(`${direction} needs --remote URL (or $REDUN_EDGE_URL)`, direction);
  const remoteSpec = parseStoreSpec(remoteText, direction);
  const root = localStoreRoot();
  if (remoteSpec.kind === "local" && remoteSpec.root === root) {
    throw new UsageError(`--remote names this folder's own store (${root})`, direction);
  }
  const statePath = join(ensureStoreDir(root), "sync.json");
  const local = await openStore({ kind: "local", root }, { inProcess: inProcess(p) });
  let remote: Store | null = null;
  try {
    remote = await openStore(remoteSpec, { token: tokenOf(p), inProcess: inProcess(p) });
    const [source, target] = direction === "push" ? [local, remote] : [remote, local];
    const state = readState(statePath);
    const entry = (state.remotes[remote.key] ??= {});
    const bar = progress(direction === "push" ? "pushing" : "pulling");
    const result = await copyRecords(
      { exportSince: (cursor, limit) => source.client.pull(cursor, limit) },
      { importRecords: (records) => target.client.push(records) },
      {
        // --from-start: copy everything again (a wiped or replaced remote); harmless, as copies are idempotent.
        cursor: flag(p, "from-start") ? null : (entry[direction] ?? null),
        pageSize: 1000,
        // A record the other store refuses is reported and left out; the copy goes on past it.
        onSkip: ({ record, error }) => {
          const r = record as { type?: unknown; id?: unknown };
          process.stderr.write(`redun-edge: skipped ${String(r?.type)} ${String(r?.id)}: ${error.message}\n`);
        },
        onProgress: ({ records, cursor }) => {
          // Saved after every page: an interrupted copy resumes from here.
          entry[direction] = cursor;
          writeAtomic(statePath, JSON.stringify(state, null, 2));
          bar.update(records);
        },
      },
    );
    bar.done();
    const where = remote.label;
    const skipped = result.skipped ? ` (${result.skipped} refused, left out: see above)` : "";
    process.stdout.write(
      direction === "push" ? `pushed ${result.records} records to ${where}${skipped}\n` : `pulled ${result.records} records from ${where}${skipped}\n`,
    );
    return 0;
  } finally {
    await remote?.close();
    await local.close();
  }
}

