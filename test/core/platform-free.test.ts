import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** DESIGN.md's house rule: core/ imports nothing Node-only and nothing from adapters, worker or cli. */
describe("core/ is platform-free", () => {
  const dir = join(import.meta.dirname, "../../core");
  // core/ and its folders (core/redun/): a file in a folder may import its parent's modules, nothing further out.
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));

  it.each(files)("%s uses no Node built-ins and no outer layers", (file) => {
    const code = readFileSync(join(dir, file), "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
    // `from "x"` after white space (not a string "from" passed as an argument), `import "x"`, `import("x")`.
    const imports = [...code.matchAll(/(?:(?<=\s)from|\bimport)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1]!);
    const depth = file.split(/[\\/]/).length - 1;
    for (const spec of imports) {
      const ups = spec.match(/^(?:\.\.\/)*/)![0].length / 3;
      expect(spec.startsWith("./") || (spec.startsWith("../") && ups <= depth), `${file} imports ${spec}`).toBe(true);
    }
    expect(code).not.toMatch(/\bprocess\.|\bBuffer\b|\brequire\(/);
  });
});
