/**
 * `npm run bench`: runs every benchmark suite, prints the figures and writes
 * them to BENCHMARKS.md. A suite can be picked by name: `npm run bench -- memory`
 * (or `-- load` for the loopback load against `npm run dev` and the memory server).
 */
import { benchCli } from "./cli.ts";
import { benchD1 } from "./d1.ts";
import { benchIndexedDb } from "./indexeddb.ts";
import { benchLoad } from "./load.ts";
import { benchInspector } from "./inspector.ts";
import { benchMemory } from "./memory.ts";
import { benchRedun } from "./redun.ts";
import { formatSection, writeBenchmarks, type BenchSection } from "./report.ts";

const suites: Record<string, () => Promise<BenchSection>> = {
  memory: benchMemory,
  cli: benchCli,
  d1: benchD1,
  indexeddb: benchIndexedDb,
  load: benchLoad,
  inspector: benchInspector,
  redun: benchRedun,
};

const picked = process.argv.slice(2);
const sections: BenchSection[] = [];
for (const [name, suite] of Object.entries(suites)) {
  if (picked.length && !picked.includes(name)) continue;
  const section = await suite();
  console.log(formatSection(section));
  sections.push(section);
}
writeBenchmarks(sections);
console.log("wrote BENCHMARKS.md");
