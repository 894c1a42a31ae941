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
export * from "./tag-history.ts";
export * from "./format.ts";
export * from "./sync.ts";
export { VERSION } from "./version.ts";
