/**
 * A sharded, scalable Bloom filter over every id (and a few markers) the
 * database holds. In Chromium every IndexedDB request has a fixed cost
 * whatever it does, so "is this id new?" must not cost a read per record:
 * the filter answers "definitely absent" for new ids (the common case when
 * the scheduler records a workflow) and only "maybe present" ids are looked
 * up. It is stored in the database and updated in the same transaction as
 * the records, so it never gives a false negative.
 *
 * Scalable: each shard holds a list of filters; when the newest one reaches
 * its capacity a twice larger one is added, so nothing is ever rebuilt.
 * Sharded by hash, so a small write (a tag edit) rewrites one small row.
 */

/** One filter; plain data so it is stored as is (structured clone). */
export interface BloomFilterData {
  /** Bit array, m bits. */
  bits: Uint8Array;
  m: number;
  k: number;
  /** Items it is sized for (~1% false positives at capacity). */
  capacity: number;
  count: number;
}

export interface BloomShardData {
  shard: number;
  filters: BloomFilterData[];
}

export const SHARDS = 32;
const FIRST_CAPACITY = 2048;
const BITS_PER_ITEM = 10;
const HASHES = 7;

/** FNV-1a over UTF-16 code units, then a murmur3 finalizer for spread. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix(h);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function newFilter(capacity: number): BloomFilterData {
  const m = Math.ceil((capacity * BITS_PER_ITEM) / 8) * 8;
  return { bits: new Uint8Array(m / 8), m, k: HASHES, capacity, count: 0 };
}

/** Double hashing: position i is h1 + i*h2 (mod m). */
function filterHas(f: BloomFilterData, h1: number, h2: number): boolean {
  for (let i = 0; i < f.k; i++) {
    const bit = (h1 + Math.imul(i, h2)) >>> 0;
    const at = bit % f.m;
    if ((f.bits[at >>> 3]! & (1 << (at & 7))) === 0) return false;
  }
  return true;
}

function filterAdd(f: BloomFilterData, h1: number, h2: number): void {
  for (let i = 0; i < f.k; i++) {
    const bit = (h1 + Math.imul(i, h2)) >>> 0;
    const at = bit % f.m;
    const byte = at >>> 3;
    f.bits[byte] = (f.bits[byte] ?? 0) | (1 << (at & 7));
  }
  f.count += 1;
}

export class Bloom {
  private readonly shards: BloomShardData[];
  /** Shards changed since `takeDirty`. */
  private dirty = new Set<number>();

  constructor(stored: readonly BloomShardData[] = []) {
    this.shards = Array.from({ length: SHARDS }, (_, shard) => ({ shard, filters: [] as BloomFilterData[] }));
    for (const s of stored) if (s.shard >= 0 && s.shard < SHARDS) this.shards[s.shard] = s;
  }

  private locate(item: string): { shard: BloomShardData; h1: number; h2: number } {
    const h1 = hash32(item);
    const h2 = fmix(h1 ^ 0x9e3779b9) | 1;
    return { shard: this.shards[fmix(h1 + 0x6a09e667) % SHARDS]!, h1, h2 };
  }

  /** False: certainly never added. True: maybe added. */
  has(item: string): boolean {
    const { shard, h1, h2 } = this.locate(item);
    for (const f of shard.filters) if (filterHas(f, h1, h2)) return true;
    return false;
  }

  add(item: string): void {
    const { shard, h1, h2 } = this.locate(item);
    for (const f of shard.filters) if (filterHas(f, h1, h2)) return;
    let last = shard.filters[shard.filters.length - 1];
    if (!last || last.count >= last.capacity) {
      last = newFilter(last ? last.capacity * 2 : FIRST_CAPACITY);
      shard.filters.push(last);
    }
    filterAdd(last, h1, h2);
    this.dirty.add(shard.shard);
  }

  /** The shards to store after a write, and forget that they changed. */
  takeDirty(): BloomShardData[] {
    const out = [...this.dirty].map((i) => this.shards[i]!);
    this.dirty = new Set();
    return out;
  }
}
