/**
 * Shared pieces of the benchmarks: a row format, and the writer of
 * BENCHMARKS.md (one section per suite, stamped with the date and machine).
 */
import { spawnSync } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** Target, as the issue states it, e.g. "< 0.05 ms/job". */
  target?: string;
  note?: string;
}

export interface BenchSection {
  title: string;
  where: string;
  rows: BenchRow[];
}

export { median, medianMs } from "./timing.ts";

export function machine(): string {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  return `${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function formatSection(section: BenchSection): string {
  const lines = [`## ${section.title}`, "", `Measured in ${section.where}.`, "", "| measure | result | target | note |", "|---|---|---|---|"];
  for (const r of section.rows) {
    const value = r.value >= 100 ? r.value.toFixed(0) : r.value >= 1 ? r.value.toFixed(2) : r.value.toFixed(4);
    lines.push(`| ${r.name} | ${value} ${r.unit} | ${r.target ?? ""} | ${r.note ?? ""} |`);
  }
  return lines.join("\n") + "\n";
}

/**
 * Write BENCHMARKS.md: replaces the sections given, keeps the others (so
 * suites that need workerd or Chromium can be run separately).
 */
export function writeBenchmarks(sections: BenchSection[], path = "BENCHMARKS.md"): void {
  const header = `# Benchmarks\n\nWritten by \`npm run bench\`. Figures are medians unless said otherwise.\n\n`;
  const existing = existsSync(path) ? readFileSync(path, "utf8") : "";
  const blocks = new Map<string, string>();
  for (const block of existing.split(/\n(?=## )/).slice(1)) blocks.set(block.split("\n")[0]!.slice(3).trim(), block.trimEnd() + "\n");
  const stamp = `_${new Date().toISOString().slice(0, 10)}, ${machine()}_\n`;
  for (const s of sections) blocks.set(s.title, formatSection(s).replace("\n\n", `\n\n${stamp}\n`));
  writeFileSync(path, header + [...blocks.values()].join("\n"));
}

/** Build dist/ (tsc), for suites that run the built package: the figures are then of the current sources. */
export function buildDist(): void {
  const repo = resolve(import.meta.dirname, "..");
  const build = spawnSync(process.execPath, [join(repo, "node_modules", "typescript", "bin", "tsc"), "-p", join(repo, "tsconfig.build.json")], { encoding: "utf8" });
  if (build.status !== 0 || !existsSync(join(repo, "dist", "cli", "main.js"))) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
}
