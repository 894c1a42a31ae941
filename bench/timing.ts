/**
 * Timing helpers shared by the benchmark suites and the measurement tests that
 * run inside workerd and Chromium, so no platform imports here.
 */

/** The median of some numbers (the input is not reordered). */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Median wall time in ms of `fn` over `runs` runs after `warmup` runs. */
export async function medianMs(fn: () => unknown, runs = 21, warmup = 3): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return median(times);
}
