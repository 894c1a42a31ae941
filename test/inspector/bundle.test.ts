/**
 * The inspector's page bundles for a browser alone: no Node built-in is
 * imported anywhere in it, its script stays within 150 KB gzipped, and no
 * source of it writes HTML (record content is always text).
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { watchNodeImports } from "../node-builtins.ts";
import { INSPECTOR_BUILD_OPTIONS } from "../../inspector/build.ts";
import { REPO } from "./worker.ts";

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

describe("the inspector's bundle", () => {
  it("imports no Node built-in and stays within 150 KB gzipped", async () => {
    const { plugin: watch, found: nodeImports } = watchNodeImports();
    const result = await build({ ...INSPECTOR_BUILD_OPTIONS, plugins: [watch] });
    expect(result.errors).toEqual([]);
    expect(nodeImports).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    // CallGraph runs in the page, over the HTTP and IndexedDB Repositories.
    for (const part of ["core/call-graph.ts", "adapters/http/index.ts", "adapters/indexeddb/index.ts", "node_modules/hono/dist/jsx/dom/render.js"]) {
      expect(inputs).toContain(part);
    }
    const code = result.outputFiles[0]!.contents;
    expect(gzipSync(code).length).toBeLessThanOrEqual(150 * 1024);
    expect(new TextDecoder().decode(code)).not.toMatch(/\brequire\(|from\s*["']node:|\bprocess\.env\b|\bBuffer\./);
  });

  it("writes no HTML from its own code (no innerHTML, no dangerouslySetInnerHTML, no document.write)", () => {
    const files = sources(join(REPO, "inspector"));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      expect(readFileSync(file, "utf8"), file).not.toMatch(/innerHTML|outerHTML|dangerouslySetInnerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    }
  });
});
