/**
 * Calls made in one tick, answered by one round trip: the scheduler's cache
 * look-ups and the IndexedDB adapter's `get`s come thousands at once from
 * concurrent jobs, and a read each would cost more than the reading.
 */

/**
 * A function that collects its requests until the current tick ends, then
 * hands them all to `run` at once; each caller gets the answer at its
 * request's position. If `run` throws, every request of that batch rejects.
 */
export function batchPerTick<Req, Res>(run: (requests: readonly Req[]) => Promise<readonly Res[]>): (request: Req) => Promise<Res> {
  let pending: { request: Req; resolve(res: Res): void; reject(error: unknown): void }[] = [];
  const flush = async () => {
    const batch = pending;
    pending = [];
    try {
      const answers = await run(batch.map((p) => p.request));
      batch.forEach((p, i) => p.resolve(answers[i] as Res));
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  };
  return (request) =>
    new Promise<Res>((resolve, reject) => {
      if (pending.push({ request, resolve, reject }) === 1) queueMicrotask(() => void flush());
    });
}
