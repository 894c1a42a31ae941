/**
 * redun-edge: what a user calls. Tasks and the scheduler record runs;
 * CallGraph queries, shows and tags them; tag text, records, errors, sync and
 * the text forms the CLI prints. Every name is listed on purpose (a test pins
 * the list): what adapters and front ends need besides is in
 * `redun-edge/adapter-kit` (core/adapter-kit.ts).
 */

// Tasks and the scheduler.
export {
  applyTags,
  task,
  type ApplyTagsOptions,
  type CallOptions,
  type CheckValid,
  type Expression,
  type Lazy,
  type LazyValue,
  type Resolved,
  type Task,
  type TaskDefinition,
  type TaskOptions,
  type TaggedValue,
} from "./task.ts";
export { Scheduler, type JobEvent, type RunOptions, type RunResult, type SchedulerOptions } from "./scheduler.ts";

// History: query, show, edit tags.
export {
  CallGraph,
  type ArgumentView,
  type CallGraphOptions,
  type CallNodeDetail,
  type JobContext,
  type JobSummary,
  type JobTreeNode,
  type LineageCall,
  type LogResult,
  type RecordDetail,
  type RecordView,
  type TagEditResult,
  type ValueLineage,
  type ValueView,
} from "./call-graph.ts";
export type { Query, TagFilter } from "./query.ts";
export type { PastTag, TagHistory, TagHistoryEntry, TagConflict } from "./tag-history.ts";
export { formatDataflow, type Dataflow, type DataflowClause, type DataflowLimits, type DataflowSection } from "./dataflow.ts";
export type { TagChange, TagEditOp, TagInput, TagPair, TagView } from "./tags.ts";

// Tags as text: `key=value` on a command line, in a URL, on a page.
export {
  ANY_VALUE,
  formatJson,
  formatTagKeyValue,
  formatTagValue,
  parseTagKeyValue,
  parseTagValue,
  splitTagText,
  toTagFilter,
  type AnyValue,
  type FormatJsonOptions,
} from "./tag-text.ts";

// Records.
export {
  ENTITY_TYPES,
  EXECUTION_STATUSES,
  JOB_STATUSES,
  RECORD_TYPES,
  isAbandoned,
  type AnyRecord,
  type CallArgument,
  type CallNodeRecord,
  type EntityType,
  type EvaluationRecord,
  type ExecutionRecord,
  type ExecutionStatus,
  type JobRecord,
  type JobStatus,
  type JsonValue,
  type RecordOf,
  type RecordType,
  type RedunOrigin,
  type RedunTaskOrigin,
  type RedunValueOrigin,
  type TagRecord,
  type TaskRecord,
  type ValueRecord,
} from "./records.ts";
export type { Repository, RecordRef, TagCount } from "./repository.ts";

// Errors.
export {
  AmbiguousIdError,
  InterruptedError,
  RedunEdgeError,
  RepositoryError,
  TagParseError,
  TaskError,
  TooLargeError,
  UnknownIdError,
  ValidationError,
  type Candidate,
} from "./errors.ts";

// Sync: push, pull and import between stores.
export { copyRecords, importRecords, type ImportOptions, type SkippedRecord, type SyncOptions, type SyncProgress } from "./sync.ts";

// Text forms of records, as `log` prints them.
export {
  commitLink,
  formatArgs,
  formatDuration,
  formatRecordLine,
  formatRepr,
  formatStatus,
  formatTagList,
  formatTagView,
  formatTime,
} from "./format.ts";

export { VERSION } from "./version.ts";

// redun interop: a redun database's rows into records, tag edits back into it.
export {
  KNOWN_REDUN_SCHEMAS,
  mapRedunRows,
  newRedunRecords,
  type RedunArgumentRow,
  type RedunCallEdgeRow,
  type RedunCallNodeRow,
  type RedunEvaluationRow,
  type RedunExecutionRow,
  type RedunJobRow,
  type RedunMapping,
  type RedunRefusal,
  type RedunRows,
  type RedunTagEditRow,
  type RedunTagRow as RedunTagTableRow,
  type RedunTaskRow,
  type RedunValueRow,
} from "./redun/import.ts";
export { tagsToExport, type RedunTagRow } from "./redun/export.ts";
