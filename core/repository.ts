/**
 * The Repository: the only door between the core and storage. Adapters
 * implement these storage primitives; tag edit semantics, validation and the
 * meaning of a query live in the core (`tags.ts`, `query.ts`), once.
 */
import type { AnyRecord, EntityType, JobRecord, RecordOf, RecordType, TagRecord } from "./records.ts";
import type { NormalizedQuery } from "./query.ts";

export interface RecordRef {
  type: RecordType;
  id: string;
}

export interface QueryPage {
  /** Matching records, newest first (time desc, then id desc). */
  refs: RecordRef[];
  /** Pass back as `cursor` for the next page; null when there is none. */
  cursor: string | null;
}

export interface TagCountQuery {
  /** false: rows by key and entity type; true: rows by key, value and entity type. */
  values: boolean;
  /** Only these keys (all keys when empty or absent). */
  keys?: string[];
}

export interface TagCount {
  key: string;
  /** Present when counting by value. */
  value?: import("./records.ts").JsonValue;
  entityType?: EntityType;
  count: number;
}

export interface ExportPage {
  records: AnyRecord[];
  /** Resume point: records written or changed after it come in the next page. */
  cursor: string | null;
  /** True when this page reached the end of the store. */
  done: boolean;
  /** Records the store holds but cannot read back (a corrupt row): left out of `records`, the cursor past them. */
  skipped?: { type: RecordType; id: string; error: string }[];
}

/**
 * What CallGraph needs to show a page of records (`CallGraph.views`). A store
 * that can read it in one round trip implements `Repository.recordContext`;
 * otherwise CallGraph reads it through the primitives (`readRecordContext`).
 */
export interface RecordContext {
  /**
   * The refs' own records and the ones they name: each Execution's root Job,
   * each Job's CallNode, the Task of every Job, CallNode and root Job, and the
   * argument Values of those CallNodes. Missing ones are left out; order is
   * not specified.
   */
  records: AnyRecord[];
  /** Current tags of the refs (as `currentTags`, of which only these fields are needed). */
  tags: ContextTag[];
}

/** A current tag as a view shows it. */
export type ContextTag = Pick<TagRecord, "entityId" | "key" | "value" | "valueText">;

/** A query's page with its RecordContext (`Repository.queryContext`). */
export interface QueryContextPage extends QueryPage {
  context: RecordContext;
}

export interface WriteOptions {
  /**
   * Replace a stored Evaluation with the batch's (default true: a scheduler
   * recording its own re-run). Sync passes false: a record from another
   * store never replaces a cache entry (see `importRecords`).
   */
  replaceEvaluations?: boolean;
}

export interface RepositoryCapabilities {
  /** A short adapter name: "memory", "d1", "indexeddb", "http". */
  name: string;
  /** Data survives the process (or page). */
  persistent: boolean;
}

export interface Repository {
  readonly capabilities: RepositoryCapabilities;

  /**
   * Write a batch of records, atomically (all or nothing) and idempotently:
   * content-addressed records (Task, Value, CallNode, Tag) are inserted when
   * absent and never changed; Execution, Job and Evaluation are upserted by
   * the rule of `shouldReplace` (and a preview Value is replaced by its whole
   * value). Ids are not verified here (see `importRecords`).
   */
  write(records: readonly AnyRecord[], options?: WriteOptions): Promise<void>;

  /** Records of one type by full id; missing ids are left out; order is not specified. */
  get<T extends RecordType>(type: T, ids: readonly string[]): Promise<RecordOf<T>[]>;

  /**
   * For each prefix, in the prefixes' order: the records of `types` whose id
   * starts with it, sorted by id, at most `limit` of them (an empty prefix
   * matches every id). All prefixes are answered in one round trip, and only
   * records of `types` count toward `limit`, so a prefix's answer holds every
   * candidate of those types up to the limit (CallGraph.resolve asks for one
   * more than it shows, to tell a unique prefix from an ambiguous one).
   */
  findByPrefix(prefixes: readonly string[], types: readonly RecordType[], limit: number): Promise<RecordRef[][]>;

  /** Run a normalized query (see `normalizeQuery` for its meaning). */
  query(query: NormalizedQuery): Promise<QueryPage>;

  /** Current tags (not named as a parent by any tag) of these entities. */
  currentTags(entityIds: readonly string[]): Promise<TagRecord[]>;

  /**
   * Optional: the RecordContext of some refs in one round trip (a D1 batch).
   * Must return what `readRecordContext` reads through the primitives; the
   * conformance suite checks that it does.
   */
  recordContext?(refs: readonly RecordRef[]): Promise<RecordContext>;

  /**
   * Optional: `query` and the `recordContext` of its page in one round trip;
   * `CallGraph.log` uses it when offered. The conformance suite checks it
   * against `query` and `readRecordContext`.
   */
  queryContext?(query: NormalizedQuery): Promise<QueryContextPage>;

  /** Tags that name any of these tags as a parent. */
  tagChildren(tagIds: readonly string[]): Promise<TagRecord[]>;

  /** Counts of current tags (delete records excluded). */
  countTags(query: TagCountQuery): Promise<TagCount[]>;

  /** The jobs of one execution, in start order. */
  jobsOfExecution(executionId: string): Promise<JobRecord[]>;

  /**
   * Optional: Jobs whose CallNode has one of these Values as its result or as
   * an argument, newest first (time desc, then id desc), at most `limit`: a
   * Value's lineage (`CallGraph.valueLineage`), which without it shows no calls.
   */
  jobsOfValues?(valueIds: readonly string[], limit: number): Promise<JobRecord[]>;

  /**
   * Records written or changed since `cursor` (null: from the start), in write
   * order, at most `limit`. Cursors are opaque strings of this store.
   */
  exportSince(cursor: string | null, limit: number): Promise<ExportPage>;

  /** Release resources (connections, database handles). */
  close?(): Promise<void>;
}
