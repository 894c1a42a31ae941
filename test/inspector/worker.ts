/**
 * The Worker as it is deployed, for the inspector's browser tests and
 * benchmark: worker/entry.ts over a Miniflare D1 with the migrations
 * applied, serving dist/inspector as static assets at `/` (its `_headers`
 * included), on a random 127.0.0.1 port.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { bundleWorker } from "../../bench/d1.ts";
import { applyMigrations } from "../../local/migrations.ts";
import { readMigrations } from "../../local/package.ts";

export const REPO = resolve(import.meta.dirname, "../..");
export const INSPECTOR_DIR = join(REPO, "dist", "inspector");

export interface RunningWorker {
  url: string;
  mf: import("miniflare").Miniflare;
  close(): Promise<void>;
}

let bundled: Promise<string> | null = null;

export async function startWorker(options: { env?: Record<string, string>; persist?: string } = {}): Promise<RunningWorker> {
  const { Miniflare, Log, LogLevel } = await import("miniflare");
  bundled ??= bundleWorker();
  const script = await bundled;
  const persist = options.persist ?? mkdtempSync(join(tmpdir(), "redun-edge-inspector-"));
  const env: Record<string, { type: "d1"; id: string } | { type: "text"; value: string }> = { DB: { type: "d1", id: "inspector" } };
  for (const [k, v] of Object.entries(options.env ?? {})) env[k] = { type: "text", value: v };
  const mf = new Miniflare({
    workers: [
      {
        config: {
          name: "redun-edge",
          compatibilityDate: "2026-11-01",
          compatibilityFlags: ["nodejs_compat"],
          manifest: { mainModule: "worker.mjs", modules: { "worker.mjs": { type: "esm", contents: script } } },
          env,
          assets: { directory: INSPECTOR_DIR, hasUserWorker: true },
        },
      },
    ],
    host: "127.0.0.1",
    port: 0,
    resourcePersistencePath: persist,
    enableDevRegistry: false,
    logRequests: false,
    telemetry: { enabled: false },
    log: new Log(LogLevel.ERROR),
  } as never);
  const close = async () => {
    await mf.dispose();
    if (!options.persist) rmSync(persist, { recursive: true, force: true });
  };
  try {
    const url = (await mf.ready).toString().replace(/\/$/, "");
    const db = await mf.getD1Database("DB");
    await applyMigrations(db, readMigrations());
    return { url, mf, close };
  } catch (error) {
    await close();
    throw error;
  }
}
