/**
 * Build the inspector as a static site: dist/inspector/{index.html, app.js,
 * app.css, _headers}. The Worker serves that folder at `/` (wrangler.toml
 * `[assets]`), `redun-edge inspect` serves it over the local store.
 *
 * Run: `node inspector/build.ts` (part of `npm run build`).
 */
import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type BuildOptions } from "esbuild";
import { headersFile } from "../worker/inspector-headers.ts";

const here = dirname(fileURLToPath(import.meta.url));
export const INSPECTOR_DIST = join(here, "..", "dist", "inspector");

export interface InspectorBuild {
  outdir: string;
  /** app.js in bytes, and gzipped. */
  bytes: number;
  gzipBytes: number;
  /** Every input file of the bundle (for the no-Node-built-ins test). */
  inputs: string[];
}

/** esbuild options of the page's script (the bundle test adds a plugin that watches imports). */
export const INSPECTOR_BUILD_OPTIONS = {
  entryPoints: [join(here, "main.tsx")],
  bundle: true,
  platform: "browser",
  format: "esm",
  target: "es2022",
  minify: true,
  jsx: "automatic",
  jsxImportSource: "hono/jsx/dom",
  // The browser build of hono's client-side JSX (and of idb): never Node's.
  conditions: ["browser"],
  legalComments: "none",
  write: false,
  metafile: true,
  logLevel: "silent",
} satisfies BuildOptions;

export async function buildInspector(outdir = INSPECTOR_DIST): Promise<InspectorBuild> {
  await mkdir(outdir, { recursive: true });
  const result = await build(INSPECTOR_BUILD_OPTIONS);
  const code = result.outputFiles[0]!.contents;
  const css = await readFile(join(here, "style.css"));
  const version = createHash("sha1").update(code).update(css).digest("hex").slice(0, 10);
  const html = (await readFile(join(here, "index.html"), "utf8")).replaceAll("%VERSION%", version);
  await Promise.all([
    writeFile(join(outdir, "app.js"), code),
    copyFile(join(here, "style.css"), join(outdir, "app.css")),
    writeFile(join(outdir, "index.html"), html),
    writeFile(join(outdir, "_headers"), headersFile()),
  ]);
  return { outdir, bytes: code.length, gzipBytes: gzipSync(code).length, inputs: Object.keys(result.metafile.inputs) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const built = await buildInspector();
  console.log(`inspector built: ${built.outdir} (app.js ${(built.bytes / 1024).toFixed(1)} KiB, ${(built.gzipBytes / 1024).toFixed(1)} KiB gzipped)`);
}
