/**
 * The core and the IndexedDB adapter bundle for a browser: esbuild with
 * platform "browser" must succeed, and nothing may import a Node built-in
 * (`node:*`, `fs`, `crypto`, ...), even one esbuild could leave external.
 */
import { builtinModules } from "node:module";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

describe("browser bundle", () => {
  it("bundles core + adapters/indexeddb with no Node built-in", async () => {
    const nodeImports: string[] = [];
    const watch: Plugin = {
      name: "no-node-builtins",
      setup(b) {
        b.onResolve({ filter: /.*/ }, (args) => {
          if (args.path.startsWith("node:") || builtins.has(args.path)) {
            nodeImports.push(`${args.path} (from ${args.importer})`);
            return { path: args.path, external: true };
          }
          return undefined;
        });
      },
    };
    const result = await build({
      stdin: {
        contents: 'export * from "./core/index.ts";\nexport * from "./adapters/indexeddb/index.ts";\n',
        resolveDir: root,
        sourcefile: "browser-entry.ts",
        loader: "ts",
      },
      bundle: true,
      platform: "browser",
      format: "esm",
      target: "es2022",
      write: false,
      metafile: true,
      logLevel: "silent",
      plugins: [watch],
    });
    expect(result.errors).toEqual([]);
    expect(nodeImports).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain("adapters/indexeddb/index.ts");
    expect(inputs.some((p) => p.includes("node_modules/idb/"))).toBe(true);
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/\brequire\(|from\s*["']node:|\bprocess\.env\b|\bBuffer\./);
  });
});
