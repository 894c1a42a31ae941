/**
 * State one repository instance keeps around its database: the connection,
 * the cached id filter and a lock that serializes this instance's writes.
 */
import { Bloom } from "./bloom.ts";
import { ALL_STORES, type Db, type StoreName, type Tx } from "./schema.ts";

const MAX_REMEMBERED = 500_000;

export class Context {
  private bloom: Bloom | null = null;
  /** Write sequence the cached filter is valid for; -1: reload before use. */
  private bloomSeq = -1;
  private lock: Promise<unknown> = Promise.resolve();
  /**
   * Immutable ids this connection saw committed. They are never removed, so
   * a later write skips the look-up (a value written as one job's argument
   * and again as another's result).
   */
  readonly stored = new Set<string>();
  /**
   * Segment this connection last put each mutable bulk record in: a hint,
   * checked against the segment read that moving the record needs anyway.
   */
  readonly placedAt = new Map<string, number>();

  constructor(
    readonly db: Promise<Db>,
    readonly durability: IDBTransactionDurability,
  ) {}

  /**
   * Run writes of this instance one at a time. IndexedDB orders them anyway;
   * this keeps the cached filter in step with the sequence it was read at.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * The write sequence and the id filter as of this transaction. The filter
   * is re-read only when another connection (another tab) wrote since.
   */
  async state(tx: Tx): Promise<{ seq: number; bloom: Bloom }> {
    const meta = await tx.objectStore("meta").get("state");
    const seq = meta?.seq ?? 0;
    if (!this.bloom || this.bloomSeq !== seq) {
      const shards = await tx.objectStore("bloom").getAll();
      this.bloom = new Bloom(shards);
      this.bloomSeq = seq;
    }
    return { seq, bloom: this.bloom };
  }

  /** True when the cached filter is current as of `seq` (no read needed). */
  cachedBloom(seq: number): Bloom | null {
    return this.bloom && this.bloomSeq === seq ? this.bloom : null;
  }

  /** A write committed at `seq`: the (already updated) cached filter is current. */
  committed(seq: number, bloom: Bloom, stored: readonly string[], placed: readonly [string, number][]): void {
    // The filter this write added to must still be the cached one; else re-read it.
    this.bloomSeq = this.bloom === bloom ? seq : -1;
    // Bounded memory: forgetting only costs look-ups.
    if (this.stored.size + stored.length > MAX_REMEMBERED) this.stored.clear();
    if (this.placedAt.size + placed.length > MAX_REMEMBERED) this.placedAt.clear();
    for (const id of stored) this.stored.add(id);
    for (const [id, seq] of placed) this.placedAt.set(id, seq);
  }

  /** A write failed: the cached filter may hold bits of nothing; re-read it next time. */
  invalidate(): void {
    this.bloomSeq = -1;
  }

  /** A read-only transaction whose failure is reported by its requests, not by `done`. */
  async read(stores: StoreName[] = ALL_STORES): Promise<Tx<"readonly">> {
    const tx = (await this.db).transaction(stores, "readonly") as Tx<"readonly">;
    tx.done.catch(() => undefined);
    return tx;
  }
}
