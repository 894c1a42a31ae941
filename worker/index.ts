/** The redun-edge HTTP API as a Hono app over any Repository (the Worker entry is worker/entry.ts). */
export { createApp, openApiDocument, DEFAULT_MAX_BODY_BYTES, type AppOptions, type AppType, type CorsOptions } from "./app.ts";
export { ApiError, errorBody, type ApiErrorBody, type ApiErrorCode } from "./errors.ts";
export type { TagEditBody, TagItem } from "./contract.ts";
export { MAX_IDS, MAX_PAGE, decodeRecordsParams, encodeRecordsQuery, type RecordsParams } from "./wire.ts";
