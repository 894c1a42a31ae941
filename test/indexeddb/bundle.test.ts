/**
 * The core and the IndexedDB adapter bundle for a browser: esbuild with
 * platform "browser" must succeed, and nothing may import a Node built-in
 * (`node:*`, `fs`, `crypto`, ...), even one esbuild could leave external.
 */
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { watchNodeImports } from "../node-builtins.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("browser bundle", () => {
  it("bundles core + adapters/indexeddb with no Node built-in", async () => {
    const { plugin: watch, found: nodeImports } = watchNodeImports();
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
