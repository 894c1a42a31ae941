/**
 * Build the notebook as a static site: examples/notebook/dist/{index.html,main.js}.
 * Run: npx node examples/notebook/build.ts (Node 22), then serve that folder with any static
 * server (IndexedDB needs http(s) or localhost, not file://).
 */
import { readFile, mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = fileURLToPath(new URL(".", import.meta.url));
const out = `${here}dist/`;
await mkdir(out, { recursive: true });
const result = await build({
  entryPoints: [`${here}main.ts`],
  bundle: true,
  platform: "browser",
  format: "esm",
  target: "es2022",
  minify: true,
  outfile: `${out}main.js`,
  metafile: true,
});
const html = await readFile(`${here}index.html`, "utf8");
await writeFile(`${out}index.html`, html.replace('src="./main.ts"', 'src="./main.js"'));
const bytes = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]!]!.bytes;
console.log(`notebook built: ${out} (main.js ${Math.round(bytes / 1024)} KiB)`);
