/**
 * The size rules every store and the API share. They live in the core so a
 * request refused by one store is refused by all of them, before anything is
 * written, with an error naming the field (README, "Limits").
 */

/** Longest tag key, in UTF-8 bytes. */
export const MAX_TAG_KEY_BYTES = 1_024;
/** Longest tag value, in UTF-8 bytes of its canonical JSON. */
export const MAX_TAG_VALUE_BYTES = 65_536;
/**
 * Deepest nesting of arrays and objects in a JSON value that is hashed or
 * compared (tag values, query filter values, job tags): deeper input is bad
 * input, not a stack overflow.
 */
export const MAX_JSON_DEPTH = 64;
/**
 * Deepest nesting of a task's argument or result. Values are data rather than
 * labels, so they may nest deeper than tags; the bound keeps encoding them off
 * the end of the stack.
 */
export const MAX_VALUE_DEPTH = 512;
/** Records one tag edit may name by id prefix; resolved together in one read. */
export const MAX_EDIT_PREFIXES = 100;
/** Longest id prefix accepted (ids are 36 or 40 characters). */
export const MAX_PREFIX_CHARS = 64;
/** Candidates an ambiguous prefix lists. */
export const MAX_CANDIDATES = 10;
