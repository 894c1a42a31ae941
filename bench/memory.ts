/**
 * Scheduler cost per job and tag-query latency on the memory repository.
 * Targets and redun's figures: BENCHMARKS.md.
 */
import { CallGraph, Scheduler, task, type AnyRecord, type ExecutionRecord } from "redun-edge";
import { makeTag } from "redun-edge/adapter-kit";
import { createMemoryRepository } from "redun-edge/memory";
import { median, medianMs, type BenchSection } from "./report.ts";

const leaf = task("leaf", (i: number) => i + 1, { namespace: "bench" });
const fan = task("fan", (n: number) => Array.from({ length: n }, (_, i) => leaf(i)), { namespace: "bench" });

/**
 * Per-job cost of a first and a fully cached run (the root is reused: its
 * whole tree is read level by level, checked against the tasks defined now,
 * and recorded again, every job CACHED with its tags); the median of 5 fresh
 * stores, after a warm-up run.
 */
async function fanOut(n: number): Promise<{ first: number; cached: number }> {
  await new Scheduler({ repository: createMemoryRepository() }).run(fan(500));
  const firsts: number[] = [];
  const cacheds: number[] = [];
  for (let i = 0; i < 5; i++) {
    const scheduler = new Scheduler({ repository: createMemoryRepository() });
    let start = performance.now();
    await scheduler.run(fan(n));
    firsts.push((performance.now() - start) / (n + 1));
    start = performance.now();
    await scheduler.run(fan(n));
    cacheds.push((performance.now() - start) / (n + 1));
  }
  return { first: median(firsts), cached: median(cacheds) };
}

async function tagQuery(executions: number) {
  const repository = createMemoryRepository();
  const t0 = Date.UTC(2026, 0, 1);
  const batch: AnyRecord[] = [];
  for (let i = 0; i < executions; i++) {
    const id = globalThis.crypto.randomUUID();
    const time = t0 + i * 1000;
    const exec: ExecutionRecord = { type: "Execution", id, time, rootJobId: globalThis.crypto.randomUUID(), argv: ["run", "wf.ts", "main"], startTime: time, endTime: time + 10, status: "DONE" };
    batch.push(exec);
    batch.push(makeTag("Execution", id, "user", i % 10_000 === 0 ? "rare" : `u${i % 50}`, [], time));
    batch.push(makeTag("Execution", id, "env", i % 10 === 0 ? "dev" : "prod", [], time));
    if (batch.length >= 30_000) await repository.write(batch.splice(0));
  }
  await repository.write(batch);
  const graph = new CallGraph(repository);
  const selective = await medianMs(() => graph.log({ tags: [["user", "rare"]], limit: 100 }));
  const broad = await medianMs(() => graph.log({ tags: [["env", "prod"]], limit: 100 }));
  const keyOnly = await medianMs(() => graph.log({ tags: [["env"]], limit: 100 }));
  return { selective, broad, keyOnly };
}

export async function benchMemory(): Promise<BenchSection> {
  const small = await fanOut(1_000);
  const large = await fanOut(10_000);
  const q = await tagQuery(100_000);
  return {
    title: "Scheduler and log on the memory repository",
    where: "Node (memory repository, in process)",
    rows: [
      { name: "first run, fan-out of 1,000", value: small.first, unit: "ms/job", target: "< 0.05 ms/job", note: "redun 0.26: ~18 ms/job" },
      { name: "fully cached run (whole tree recorded), fan-out of 1,000", value: small.cached, unit: "ms/job", target: "< 0.05 ms/job", note: "redun 0.26: ~7 ms/job" },
      { name: "first run, fan-out of 10,000", value: large.first, unit: "ms/job", target: "< 0.05 ms/job" },
      { name: "fully cached run (whole tree recorded), fan-out of 10,000", value: large.cached, unit: "ms/job", target: "< 0.05 ms/job" },
      { name: "log --tag user=rare (10 of 100,000 executions), newest 100", value: q.selective, unit: "ms", target: "< 5 ms" },
      { name: "log --tag env=prod (90,000 of 100,000), newest 100", value: q.broad, unit: "ms", target: "< 5 ms" },
      { name: "log --tag env (key only, 100,000), newest 100", value: q.keyOnly, unit: "ms", target: "< 5 ms" },
    ],
  };
}
