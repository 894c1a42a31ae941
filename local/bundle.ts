/**
 * The local Worker (local/worker.ts: worker/entry.ts plus what a local store
 * needs) as one ES module, built by esbuild and cached in `.redun/worker/`;
 * the build options are shared with the benchmarks' Worker (bench/d1.ts).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LocalError } from "./errors.ts";
import { migrationFiles, packageRoot, readMigrations } from "./package.ts";

/** esbuild options for one ES module that runs in workerd (the local store and bench/d1.ts). */
export const WORKER_BUILD_OPTIONS: {
  bundle: true;
  format: "esm";
  platform: "neutral";
  conditions: string[];
  mainFields: string[];
  target: string;
  write: false;
  logLevel: "silent";
} = {
  bundle: true,
  format: "esm",
  platform: "neutral",
  conditions: ["workerd", "worker", "browser"],
  mainFields: ["browser", "module", "main"],
  target: "es2022",
  write: false,
  logLevel: "silent",
};

export interface WorkerBundle {
  path: string;
  /** Hash of the bundle's contents: a background server running another bundle is replaced. */
  key: string;
}

interface BundleManifest {
  key: string;
  /** Input file -> [mtimeMs, size]: the bundle is rebuilt when any changes. */
  inputs: Record<string, [number, number]>;
}

function fileStamp(path: string): [number, number] | null {
  try {
    const s = statSync(path);
    return [s.mtimeMs, s.size];
  } catch {
    return null;
  }
}

/**
 * The Worker as one ES module, cached in `.redun/worker/` and rebuilt only
 * when a source file changed (checked by size and mtime: ~60 stats, well
 * under a millisecond). esbuild is loaded only to rebuild.
 */
export async function workerBundle(storeDir: string): Promise<WorkerBundle> {
  const pkg = packageRoot();
  const dir = join(storeDir, "worker");
  const path = join(dir, "worker.mjs");
  const manifestPath = join(dir, "manifest.json");
  const migrations = migrationFiles(pkg);
  try {
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as BundleManifest;
    const fresh =
      existsSync(path) &&
      migrations.every((m) => m in manifest.inputs) &&
      Object.entries(manifest.inputs).every(([file, stamp]) => {
        const now = fileStamp(file);
        return now !== null && now[0] === stamp[0] && now[1] === stamp[1];
      });
    if (fresh) return { path, key: manifest.key };
  } catch {
    // No or unreadable manifest: build.
  }
  // The sources when they are there (a checkout), so the runtime loaded from local/ or dist/local/ builds one bundle.
  const here = dirname(fileURLToPath(import.meta.url));
  const entry = [join(pkg, "local", "worker.ts"), join(here, "worker.ts"), join(here, "worker.js")].find((f) => existsSync(f));
  if (!entry) throw new LocalError("cannot find local/worker.ts to build the local Worker");
  let esbuild: typeof import("esbuild");
  try {
    esbuild = await import("esbuild");
  } catch (cause) {
    throw new LocalError("esbuild is needed to build the local Worker once; install it (npm install esbuild)", { cause });
  }
  const result = await esbuild.build({
    ...WORKER_BUILD_OPTIONS,
    entryPoints: [entry],
    metafile: true,
    define: { __REDUN_EDGE_MIGRATIONS__: JSON.stringify(readMigrations(pkg)) },
  });
  const code = result.outputFiles[0]!.contents;
  const inputs: Record<string, [number, number]> = {};
  for (const input of [...Object.keys(result.metafile.inputs).map((f) => resolve(f)), ...migrations]) {
    const stamp = fileStamp(input);
    if (stamp) inputs[input] = stamp;
  }
  const { createHash } = await import("node:crypto");
  const key = createHash("sha1").update(code).digest("hex").slice(0, 16);
  mkdirSync(dir, { recursive: true });
  writeAtomic(path, code);
  writeAtomic(manifestPath, JSON.stringify({ key, inputs } satisfies BundleManifest));
  return { path, key };
}

export function writeAtomic(path: string, data: string | Uint8Array, mode = 0o644): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, path);
}
