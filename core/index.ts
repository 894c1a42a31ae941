/** redun-edge core: records, hashing, tags, queries, the scheduler and the CallGraph facade. */
export * from "./records.ts";
export * from "./errors.ts";
export * from "./hash.ts";
export * from "./query.ts";
export type * from "./repository.ts";
export * from "./tag-text.ts";
export * from "./tags.ts";
export * from "./validate.ts";
export * from "./limits.ts";
export * from "./task.ts";
export * from "./values.ts";
export * from "./scheduler.ts";
export * from "./call-graph.ts";
export { DATAFLOW_LIMITS, formatDataflow, readDataflow, type Dataflow, type DataflowClause, type DataflowLimits, type DataflowSection } from "./dataflow.ts";
export * from "./tag-history.ts";
export * from "./format.ts";
export * from "./sync.ts";
export { VERSION } from "./version.ts";
// redun interop (core/redun/): reading a redun database's rows, writing tags back, Python's JSON text.
export {
  KNOWN_REDUN_SCHEMAS,
  mapRedunRows,
  newRedunRecords,
  parseRedunTime,
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
export { redunTagRow, tagsToExport, type RedunTagRow } from "./redun/export.ts";
export { jsonDumps, parsePyJson } from "./redun/py-json.ts";
