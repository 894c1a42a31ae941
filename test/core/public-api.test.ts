/**
 * The package's entries, pinned: a name added to or dropped from `redun-edge`
 * or `redun-edge/adapter-kit` fails here, so a change to the public API is a
 * deliberate edit of these lists (and of the README), never a side effect.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import * as api from "redun-edge";
import * as kit from "redun-edge/adapter-kit";

const PUBLIC_VALUES = [
  "ANY_VALUE", "AmbiguousIdError", "CallGraph", "ENTITY_TYPES", "EXECUTION_STATUSES", "InterruptedError", "JOB_STATUSES",
  "KNOWN_REDUN_SCHEMAS", "RECORD_TYPES", "RedunEdgeError", "RepositoryError", "Scheduler", "TagParseError", "TaskError",
  "TooLargeError", "UnknownIdError", "VERSION", "ValidationError", "applyTags", "commitLink", "copyRecords", "formatArgs",
  "formatDataflow", "formatDuration", "formatJson", "formatRecordLine", "formatRepr", "formatStatus", "formatTagKeyValue", "formatTagList",
  "formatTagValue", "formatTagView", "formatTime", "importRecords", "isAbandoned", "mapRedunRows", "newRedunRecords",
  "parseTagKeyValue", "parseTagValue", "splitTagText", "tagsToExport", "task", "toTagFilter",
];

const PUBLIC_TYPES = [
  "AnyRecord", "AnyValue", "ApplyTagsOptions", "ArgumentView", "CallArgument", "CallGraphOptions", "CallNodeDetail", "CallNodeRecord",
  "CallOptions", "Candidate", "CheckValid", "Dataflow", "DataflowClause", "DataflowLimits", "DataflowSection", "EntityType", "EvaluationRecord", "ExecutionRecord", "ExecutionStatus",
  "Expression", "FormatJsonOptions", "ImportOptions", "JobContext", "JobEvent", "JobRecord", "JobStatus", "JobSummary", "JobTreeNode",
  "JsonValue", "Lazy", "LazyValue", "LineageCall", "LogResult", "PastTag", "Query", "RecordDetail", "RecordOf", "RecordRef",
  "RecordType", "RecordView", "RedunArgumentRow", "RedunCallEdgeRow", "RedunCallNodeRow", "RedunEvaluationRow",
  "RedunExecutionRow", "RedunJobRow", "RedunMapping", "RedunOrigin", "RedunRefusal", "RedunRows", "RedunTagEditRow",
  "RedunTagRow", "RedunTagTableRow", "RedunTaskOrigin", "RedunTaskRow", "RedunValueOrigin", "RedunValueRow",
  "Repository", "Resolved", "RunOptions", "RunResult", "SchedulerOptions", "SkippedRecord", "SyncOptions",
  "SyncProgress", "TagChange", "TagConflict", "TagCount", "TagEditOp", "TagEditResult", "TagFilter", "TagHistory",
  "TagHistoryEntry", "TagInput", "TagPair", "TagRecord", "TagView", "TaggedValue", "Task", "TaskDefinition",
  "TaskOptions", "TaskRecord", "ValueLineage", "ValueRecord", "ValueView",
];

const KIT_VALUES = [
  "DATAFLOW_LIMITS", "ERROR_VALUE_TYPE", "MAX_CANDIDATES", "MAX_EDIT_PREFIXES", "MAX_JSON_DEPTH", "MAX_LIMIT", "MAX_PREFIX_CHARS",
  "MAX_TAG_KEY_BYTES", "MAX_TAG_VALUE_BYTES", "MAX_VALUE_BYTES", "MAX_VALUE_DEPTH", "PREVIEW_CHARS", "QUERY_FIELDS",
  "argsHash", "assertRecordShape", "assertWritable", "batchPerTick", "callNodeHash", "canonicalJson", "checkEditTags",
  "checkJsonValue", "checkTag", "checkTagKey", "checkTagValue", "checkText", "checkedBatch", "compareNewestFirst",
  "compareRefsById", "currentTaskOfHash", "decodeValue", "encodeCursor", "errorOfValue", "evaluationHash", "fieldName",
  "functionParameters", "getTask", "hasExecutionFilter", "hashText", "isAfterCursor", "isIdPrefix", "isWellFormedText",
  "jsonDumps", "makeTag", "makeValueRecord", "normalizeQuery", "pageOf", "parsePyJson", "planAdd", "planRemove",
  "planRename", "planUpdate", "quoted", "readDataflow", "readRecordContext", "readTagHistory", "redunTagRow", "registerTask", "shouldReplace", "tagHash",
  "taskFullName", "taskHash", "utf8Length", "valueHash", "verifyRecordId",
];

/** Names an emitted declaration file exports, by kind; refuses `export *`, which would hide what is exported. */
function declaredExports(entry: string): { values: string[]; types: string[] } {
  const file = createRequire(import.meta.url).resolve(entry).replace(/\.js$/, ".d.ts");
  const text = readFileSync(file, "utf8");
  expect(text, `${entry} re-exports a whole module`).not.toMatch(/export\s+(type\s+)?\*/);
  const values: string[] = [];
  const types: string[] = [];
  for (const m of text.matchAll(/export\s+(type\s+)?\{([^}]*)\}/g)) {
    for (const raw of m[2]!.split(",").map((s) => s.trim()).filter(Boolean)) {
      const isType = Boolean(m[1]) || raw.startsWith("type ");
      const name = raw.replace(/^type\s+/, "").split(/\s+as\s+/).pop()!.trim();
      (isType ? types : values).push(name);
    }
  }
  for (const m of text.matchAll(/export\s+declare\s+(?:const|function|class)\s+(\w+)/g)) values.push(m[1]!);
  return { values: values.sort(), types: types.sort() };
}

describe("public API", () => {
  it("redun-edge exports exactly the names users call", () => {
    expect(Object.keys(api).sort()).toEqual([...PUBLIC_VALUES].sort());
    const declared = declaredExports("redun-edge");
    expect(declared.values).toEqual([...PUBLIC_VALUES].sort());
    expect(declared.types).toEqual([...PUBLIC_TYPES].sort());
  });

  it("redun-edge/adapter-kit exports the adapters' helpers, none of them public too", () => {
    expect(Object.keys(kit).sort()).toEqual([...KIT_VALUES].sort());
    expect(KIT_VALUES.filter((name) => PUBLIC_VALUES.includes(name))).toEqual([]);
  });
});
