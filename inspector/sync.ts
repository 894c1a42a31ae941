/**
 * Syncing a store in this browser (IndexedDB) with an edge: push the local
 * records the edge has not had, pull the edge's records. Both go page by
 * page and keep their cursor in IndexedDB after every page, so an
 * interrupted sync resumes where it stopped; both are idempotent (records
 * are content-addressed, and the receiver verifies every id: the Worker on
 * push, `importRecords` here on pull).
 */
import { wrap, type IDBPDatabase } from "idb";
import type { HttpClient } from "../adapters/http/index.ts";
import { importRecords, type Repository } from "../core/index.ts";

export interface SyncCursors {
  /** Local export cursor: records after it have not been pushed to this edge. */
  push: string | null;
  /** The edge's export cursor: records after it have not been pulled. */
  pull: string | null;
}

/** Sync cursors per edge URL, in a small database next to the store (`<db>-sync`). */
export class SyncCursorStore {
  private db: Promise<IDBPDatabase>;

  constructor(dbName: string, factory: IDBFactory = globalThis.indexedDB) {
    this.db = openCursorDb(factory, `${dbName}-sync`);
  }

  async get(url: string): Promise<SyncCursors> {
    const found = (await (await this.db).get("cursors", url)) as SyncCursors | undefined;
    return { push: found?.push ?? null, pull: found?.pull ?? null };
  }

  async set(url: string, patch: Partial<SyncCursors>): Promise<void> {
    const db = await this.db;
    const tx = db.transaction("cursors", "readwrite");
    const current = ((await tx.store.get(url)) as SyncCursors | undefined) ?? { push: null, pull: null };
    await tx.store.put({ ...current, ...patch }, url);
    await tx.done;
  }

  async close(): Promise<void> {
    (await this.db).close();
  }
}

/** The cursor database, opened on a given factory (tests pass fake-indexeddb's). */
function openCursorDb(factory: IDBFactory, name: string): Promise<IDBPDatabase> {
  return new Promise((resolve, reject) => {
    const req = factory.open(name, 1);
    req.onupgradeneeded = () => req.result.createObjectStore("cursors");
    req.onsuccess = () => resolve(wrap(req.result) as IDBPDatabase);
    req.onerror = () => reject(req.error);
  });
}

export interface SyncOptions {
  /** Records per page (default 500). */
  pageSize?: number;
  /** Stops between pages; what was copied stays copied and the cursor says so. */
  signal?: AbortSignal;
  /** Records copied so far. */
  onProgress?: (records: number) => void;
}

const DEFAULT_PAGE = 500;

/** Local records after a cursor (counted a page at a time). */
export async function countSince(repository: Repository, cursor: string | null, pageSize = 2000): Promise<number> {
  let count = 0;
  for (;;) {
    const page = await repository.exportSince(cursor, pageSize);
    count += page.records.length;
    cursor = page.cursor;
    if (page.done || page.records.length === 0) return count;
  }
}

function stopIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new DOMException("sync stopped", "AbortError");
}

/** Push the local records written since the last push to the edge. */
export async function pushRecords(local: Repository, edge: HttpClient, cursors: SyncCursorStore, options: SyncOptions = {}): Promise<{ records: number; accepted: number }> {
  let cursor = (await cursors.get(edge.url)).push;
  let records = 0;
  let accepted = 0;
  for (;;) {
    stopIfAborted(options.signal);
    const page = await local.exportSince(cursor, options.pageSize ?? DEFAULT_PAGE);
    if (page.records.length) accepted += (await edge.push(page.records)).accepted;
    records += page.records.length;
    cursor = page.cursor;
    await cursors.set(edge.url, { push: cursor });
    options.onProgress?.(records);
    if (page.done || page.records.length === 0) return { records, accepted };
  }
}

/**
 * Pull the edge's records written since the last pull. When nothing local
 * was waiting to be pushed, the pulled records are not counted as waiting
 * either: the push cursor moves past each page as it lands.
 */
export async function pullRecords(edge: HttpClient, local: Repository, cursors: SyncCursorStore, options: SyncOptions = {}): Promise<{ records: number }> {
  const start = await cursors.get(edge.url);
  let push = start.push;
  const clean = (await local.exportSince(push, 1)).records.length === 0;
  let cursor = start.pull;
  let records = 0;
  for (;;) {
    stopIfAborted(options.signal);
    const page = await edge.pull(cursor, options.pageSize ?? DEFAULT_PAGE);
    if (page.records.length) await importRecords(local, page.records);
    records += page.records.length;
    cursor = page.cursor;
    if (clean && page.records.length) push = await endOfExport(local, push);
    await cursors.set(edge.url, clean ? { pull: cursor, push } : { pull: cursor });
    options.onProgress?.(records);
    if (page.done || page.records.length === 0) return { records };
  }
}

/** The export cursor after everything written since `cursor`. */
async function endOfExport(repository: Repository, cursor: string | null): Promise<string | null> {
  for (;;) {
    const page = await repository.exportSince(cursor, 2000);
    cursor = page.cursor;
    if (page.done || page.records.length === 0) return cursor;
  }
}
