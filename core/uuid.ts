/**
 * UUID version 7 (RFC 9562) for executions and jobs: a 48-bit Unix time in
 * ms, then random bits. Ids made later sort later, so the B-tree indexes
 * keyed by an entity id (a D1 tag index, the primary keys of executions and
 * jobs, IndexedDB's stores) take new rows at their end rather than at random
 * pages: writes touch few pages and a page of recent records reads together.
 */
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** A UUIDv7 for time `ms` (default now); `random` supplies its 10 random bytes (for tests). */
export function uuidv7(ms: number = Date.now(), random: Uint8Array = globalThis.crypto.getRandomValues(new Uint8Array(10))): string {
  const t = Math.max(0, Math.floor(ms));
  const hi = Math.floor(t / 2 ** 16); // upper 32 bits of the 48-bit time
  const lo = t % 2 ** 16;
  const time = hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(4, "0");
  const r = (i: number) => HEX[random[i]!]!;
  return (
    `${time.slice(0, 8)}-${time.slice(8, 12)}-` +
    `7${HEX[random[0]! & 0x0f]!.slice(1)}${r(1)}-` +
    `${HEX[0x80 | (random[2]! & 0x3f)]!}${r(3)}-` +
    `${r(4)}${r(5)}${r(6)}${r(7)}${r(8)}${r(9)}`
  );
}
