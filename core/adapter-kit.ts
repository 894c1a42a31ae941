/**
 * redun-edge/adapter-kit: what a Repository adapter or a front end (the
 * Worker, the CLI) needs besides the public API: hashing and id checks, the
 * validation every store applies, the normalized query and its paging, tag
 * edit planning, record merging rules, limits. Users of the library need none
 * of it; keeping it apart keeps `redun-edge` small and deliberate.
 */

// Hashing: record ids from content, checked on import.
export {
  argsHash,
  callNodeHash,
  canonicalJson,
  evaluationHash,
  hashText,
  makeTag,
  tagHash,
  taskHash,
  valueHash,
  verifyRecordId,
} from "./hash.ts";
export { jsonDumps, parsePyJson } from "./redun/py-json.ts";
export { redunTagRow } from "./redun/export.ts";

// Validation: one set of rules for every store and the API.
export { fieldName, quoted } from "./errors.ts";
export {
  assertRecordShape,
  assertWritable,
  checkedBatch,
  checkJsonValue,
  checkTag,
  checkTagKey,
  checkTagValue,
  checkText,
  isWellFormedText,
} from "./validate.ts";
export {
  MAX_CANDIDATES,
  MAX_EDIT_PREFIXES,
  MAX_JSON_DEPTH,
  MAX_PREFIX_CHARS,
  MAX_TAG_KEY_BYTES,
  MAX_TAG_VALUE_BYTES,
  MAX_VALUE_DEPTH,
} from "./limits.ts";

// Records: names, ids, merging, values.
export { MAX_VALUE_BYTES, PREVIEW_CHARS, isIdPrefix, shouldReplace, taskFullName } from "./records.ts";
export { ERROR_VALUE_TYPE, decodeValue, errorOfValue, makeValueRecord, utf8Length, type RecordedError } from "./values.ts";

// Queries: the normalized form adapters run, its order and paging.
export {
  MAX_LIMIT,
  QUERY_FIELDS,
  compareNewestFirst,
  compareRefsById,
  encodeCursor,
  hasExecutionFilter,
  isAfterCursor,
  normalizeQuery,
  pageOf,
  type NormalizedQuery,
  type NormalizedTagFilter,
  type QueryCursor,
} from "./query.ts";
export { readRecordContext } from "./call-graph.ts";
export { readTagHistory, type EntityTagsReader } from "./tag-history.ts";
export { DATAFLOW_LIMITS, readDataflow } from "./dataflow.ts";
export type {
  ContextTag,
  ExportPage,
  QueryContextPage,
  QueryPage,
  RecordContext,
  RepositoryCapabilities,
  TagCountQuery,
  WriteOptions,
} from "./repository.ts";

// Tag edits: planned in core, written by the store.
export { checkEditTags, planAdd, planRemove, planRename, planUpdate, type EntityRef, type TagPlan } from "./tags.ts";

// Tasks as the scheduler and the CLI see them.
export { currentTaskOfHash, getTask, registerTask } from "./task.ts";
export { functionParameters, type TaskParameters } from "./parameters.ts";

// Reads made in one tick, answered together.
export { batchPerTick } from "./tick-batch.ts";
