import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
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

/** The history facade stands on records and the Repository alone: nothing of running tasks. */
describe("core's layers", () => {
  const dir = join(import.meta.dirname, "../../core");
  /** Every core module `file` imports, directly or through others. */
  function reached(file: string, seen = new Set<string>()): Set<string> {
    const code = readFileSync(join(dir, file), "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
    for (const m of code.matchAll(/(?<=\s)from\s*["'](\.[^"']+)["']/g)) {
      const target = relative(dir, join(dir, dirname(file), m[1]!));
      if (!seen.has(target)) {
        seen.add(target);
        reached(target, seen);
      }
    }
    return seen;
  }

  it("CallGraph imports nothing from the scheduler, tasks or cache reuse", () => {
    const modules = reached("call-graph.ts");
    expect(modules.has("records.ts")).toBe(true);
    for (const running of ["scheduler.ts", "reuse.ts", "task.ts"]) expect(modules.has(running), running).toBe(false);
  });
});
