import type { RecordType, Repository } from "redun-edge";

/**
 * What an adapter gives the shared conformance suite: a fresh, empty
 * repository and a raw reader that looks at the backend directly (SQL rows,
 * IndexedDB stores, the Map), bypassing the adapter's own read paths, so the
 * suite can check what a write really stored.
 */
export interface ConformanceHarness {
  repository: Repository;
  raw: {
    /** Every id of this record type present in the backend, in any order. */
    ids(type: RecordType): Promise<string[]>;
  };
  cleanup?(): Promise<void>;
}

export type CreateHarness = () => Promise<ConformanceHarness>;
