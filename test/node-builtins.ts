/**
 * An esbuild plugin that records every import of a Node built-in (`node:*`,
 * `fs`, `crypto`, ...), even one esbuild could leave external, for the tests
 * that check a browser bundle has none.
 */
import { builtinModules } from "node:module";
import type { Plugin } from "esbuild";

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

export function watchNodeImports(): { plugin: Plugin; found: string[] } {
  const found: string[] = [];
  const plugin: Plugin = {
    name: "no-node-builtins",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.path.startsWith("node:") || builtins.has(args.path)) {
          found.push(`${args.path} (from ${args.importer})`);
          return { path: args.path, external: true };
        }
        return undefined;
      });
    },
  };
  return { plugin, found };
}
