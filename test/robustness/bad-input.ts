/**
 * The bad-input table (issue 13): requests a careless or hostile client
 * sends — malformed bodies, deep nesting, oversized fields, broken Unicode,
 * prototype keys, forged and inconsistent records, tampered cursors, odd id
 * prefixes — each sent to the real app over one store, checking the status,
 * the error's shape (a JSON `{ error: { code, message, field? } }` naming the
 * field, no stack or storage text), and that the store's own rows are
 * unchanged. Afterwards the server still answers, and Object.prototype is as
 * it was. Run on memory and fake IndexedDB in Node and on D1 in workerd.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  Scheduler, applyTags, task, type AnyRecord, type CallNodeRecord, type EvaluationRecord, type ExecutionRecord,
  type JsonValue, type TagRecord,
} from "redun-edge";
import {
  MAX_EDIT_PREFIXES, MAX_JSON_DEPTH, MAX_TAG_KEY_BYTES, MAX_TAG_VALUE_BYTES, MAX_VALUE_BYTES, MAX_VALUE_DEPTH,
  argsHash, callNodeHash, evaluationHash, makeTag, makeValueRecord, taskHash, valueHash,
} from "redun-edge/adapter-kit";
import { answer, json, type ApiHarness, type Requester } from "../worker/api-suite.ts";

const T0 = Date.UTC(2026, 0, 1);
const deepText = (n: number) => "[".repeat(n) + "]".repeat(n);
const deep = (n: number): JsonValue => JSON.parse(deepText(n));

/** What the rows build their requests from: ids of the seeded store, and records to forge from. */
interface Seed {
  exec: string;
  tag: TagRecord;
  call: CallNodeRecord;
  evaluation: EvaluationRecord;
  /** The records of a run recorded elsewhere (a good push). */
  run: AnyRecord[];
}

interface Row {
  category: "body" | "nesting" | "size" | "unicode" | "prototype" | "forged" | "cursor" | "prefix";
  name: string;
  request(s: Seed): [path: string, init?: RequestInit];
  status: number;
  code: string;
  /** The field the error must name (exactly, or matching), when it names one. */
  field?: string | RegExp;
  /** Options of the app this row is sent to (default: none). */
  options?: { maxBodyBytes?: number };
}

const raw = (body: string, type = "application/json"): RequestInit => ({ method: "POST", headers: { "content-type": type }, body });
const edit = (s: Seed, body: unknown): [string, RequestInit] => [`/api/records/${s.exec}/tags`, json(body)];
const push = (records: unknown[]): [string, RequestInit] => ["/api/sync/push", json({ records })];
const pushRaw = (body: string): [string, RequestInit] => ["/api/sync/push", raw(body)];
const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

function execution(id: string): ExecutionRecord {
  return { type: "Execution", id, time: T0, rootJobId: uuid(999), argv: ["run"], startTime: T0, endTime: T0 + 1, status: "DONE" };
}

/** A tag as a JSON line with a byte that is not UTF-8 (0xff) in its key. */
function notUtf8(tag: TagRecord): BodyInit {
  const [before, after] = JSON.stringify(tag).split(`"key":${JSON.stringify(tag.key)}`) as [string, string];
  const utf8 = new TextEncoder();
  return new Uint8Array([...utf8.encode(`${before}"key":"u`), 0xff, ...utf8.encode(`"${after}\n`)]) as unknown as BodyInit;
}

export const BAD_INPUT: Row[] = [
  // ---- bodies ----
  { category: "body", name: "an edit body sent as text/plain", request: (s) => [`/api/records/${s.exec}/tags`, raw('{"op":"add","tags":["k=v"]}', "text/plain")], status: 415, code: "unsupported_media_type" },
  { category: "body", name: "an edit body that is not JSON", request: (s) => [`/api/records/${s.exec}/tags`, raw("{not json")], status: 400, code: "invalid", field: "body" },
  { category: "body", name: "an empty edit body", request: (s) => [`/api/records/${s.exec}/tags`, raw("")], status: 400, code: "invalid", field: "body" },
  { category: "body", name: "an edit body that is a list", request: (s) => edit(s, [{ op: "add" }]), status: 400, code: "invalid", field: "body" },
  { category: "body", name: "an edit body that is null", request: (s) => [`/api/records/${s.exec}/tags`, raw("null")], status: 400, code: "invalid", field: "body" },
  { category: "body", name: "an edit body that is a string", request: (s) => edit(s, JSON.stringify("add k=v")), status: 400, code: "invalid", field: "body" },
  { category: "body", name: "an unknown op", request: (s) => edit(s, { op: "delete", tags: ["k=v"] }), status: 400, code: "invalid", field: "op" },
  { category: "body", name: "tags that are not a list", request: (s) => edit(s, { op: "add", tags: { k: "v" } }), status: 400, code: "invalid", field: "tags" },
  { category: "body", name: "a tag that is a number", request: (s) => edit(s, { op: "add", tags: [7] }), status: 400, code: "invalid", field: "tags[0]" },
  { category: "body", name: "records that are an object", request: () => pushRaw('{"records": {}}'), status: 400, code: "invalid", field: "records" },
  { category: "body", name: "a null record", request: () => push([null]), status: 400, code: "invalid", field: "records[0]" },
  { category: "body", name: "a record that is a number", request: () => push([1]), status: 400, code: "invalid", field: "records[0]" },
  { category: "body", name: "JSON lines with a broken line", request: (s) => ["/api/sync/push", raw(`${JSON.stringify(s.run[0])}\n{oops\n`, "application/x-ndjson")], status: 400, code: "invalid", field: "body" },
  { category: "body", name: "JSON lines whose bytes are not UTF-8 (read as U+FFFD: the id no longer matches)", request: (s) => ["/api/sync/push", { method: "POST", headers: { "content-type": "application/x-ndjson" }, body: notUtf8(s.tag) }], status: 400, code: "invalid", field: "records[0].id" },
  { category: "body", name: "a push larger than the server's limit", request: (s) => push(s.run), status: 413, code: "too_large", options: { maxBodyBytes: 1024 } },
  { category: "body", name: "1,001 ids in one get", request: () => ["/api/repository/get", json({ type: "Job", ids: Array.from({ length: 1001 }, (_, i) => `id${i}`) })], status: 400, code: "invalid", field: "ids" },
  { category: "body", name: "an unknown field whose name is 10,000 characters", request: (s) => edit(s, { op: "add", tags: ["k=v"], ["f".repeat(10_000)]: 1 }), status: 400, code: "invalid", field: /^f{99}\u2026$/ },
  { category: "body", name: "malformed tag text of 100,000 characters", request: (s) => edit(s, { op: "add", tags: [`k={${"x".repeat(100_000)}`] }), status: 400, code: "invalid", field: "tag" },
  { category: "body", name: "a write to an unknown route", request: () => ["/api/records/tags", json({})], status: 404, code: "route_not_found" },

  // ---- nesting ----
  { category: "nesting", name: `a tag value ${MAX_JSON_DEPTH + 1} levels deep`, request: (s) => edit(s, { op: "add", tags: [["k", deep(MAX_JSON_DEPTH + 1)]] }), status: 400, code: "invalid", field: "tags[0]" },
  { category: "nesting", name: "a tag value 10,000 levels deep", request: (s) => [`/api/records/${s.exec}/tags`, raw(`{"op":"add","tags":[["k",${deepText(10_000)}]]}`)], status: 400, code: "invalid", field: "tags[0]" },
  { category: "nesting", name: "tag text with a value 100,000 levels deep", request: (s) => edit(s, { op: "add", tags: [`k=${deepText(100_000)}`] }), status: 400, code: "invalid", field: "tags[0]" },
  { category: "nesting", name: "an rm filter 10,000 levels deep", request: (s) => [`/api/records/${s.exec}/tags`, raw(`{"op":"rm","tags":[["k",${deepText(10_000)}]]}`)], status: 400, code: "invalid", field: "tags[0]" },
  { category: "nesting", name: "a query filter 500 levels deep", request: () => [`/api/records?tag=${encodeURIComponent(`k=${deepText(500)}`)}`], status: 400, code: "invalid", field: "tag" },
  { category: "nesting", name: "a repository query filter 10,000 levels deep", request: () => ["/api/repository/query", raw(`{"query":{"tags":[["k",${deepText(10_000)}]]}}`)], status: 400, code: "invalid", field: "tags" },
  { category: "nesting", name: "a pushed tag 10,000 levels deep", request: (s) => pushRaw(`{"records":[${JSON.stringify({ ...s.tag, value: "@" }).replace('"@"', deepText(10_000))}]}`), status: 400, code: "invalid", field: "records[0].value" },
  { category: "nesting", name: "pushed job tags 10,000 levels deep", request: (s) => pushRaw(`{"records":[${JSON.stringify({ ...s.evaluation, jobTags: [["k", "@"]] }).replace('"@"', deepText(10_000))}]}`), status: 400, code: "invalid", field: "records[0].jobTags[0]" },
  {
    category: "nesting", name: `a pushed value ${MAX_VALUE_DEPTH + 1} levels deep`,
    request: () => {
      const encoded = deepText(MAX_VALUE_DEPTH + 1);
      return push([{ type: "Value", id: valueHash("array", encoded), time: T0, valueType: "array", encoded, size: encoded.length, preview: false }]);
    },
    status: 400, code: "invalid", field: "records[0].encoded",
  },

  // ---- sizes ----
  { category: "size", name: `a tag key of ${MAX_TAG_KEY_BYTES + 1} bytes`, request: (s) => edit(s, { op: "add", tags: [["k".repeat(MAX_TAG_KEY_BYTES + 1), 1]] }), status: 413, code: "too_large", field: "tags[0]" },
  { category: "size", name: "a tag key of 400 three-byte characters (1,200 bytes)", request: (s) => edit(s, { op: "add", tags: [["\u65e5".repeat(400), 1]] }), status: 413, code: "too_large", field: "tags[0]" },
  { category: "size", name: `a tag value over ${MAX_TAG_VALUE_BYTES} bytes`, request: (s) => edit(s, { op: "add", tags: [["k", "v".repeat(MAX_TAG_VALUE_BYTES)]] }), status: 413, code: "too_large", field: "tags[0]" },
  { category: "size", name: "a 9.5 MB tag value", request: (s) => edit(s, { op: "add", tags: ["ok=1", ["k", "v".repeat(9_500_000)]] }), status: 413, code: "too_large", field: "tags[1]" },
  { category: "size", name: "an object tag value over the limit", request: (s) => edit(s, { op: "update", tags: [["k", { rows: Array.from({ length: 10_000 }, (_, i) => `row-${i}`) }]] }), status: 413, code: "too_large", field: "tags[0]" },
  { category: "size", name: "a renamed key over the limit", request: (s) => edit(s, { op: "rename", from: "user", to: "k".repeat(2000) }), status: 413, code: "too_large", field: "to" },
  { category: "size", name: `an edit naming ${MAX_EDIT_PREFIXES + 1} records`, request: (s) => edit(s, { op: "add", tags: ["k=v"], prefixes: Array.from({ length: MAX_EDIT_PREFIXES }, () => s.exec) }), status: 400, code: "invalid", field: "prefixes" },
  { category: "size", name: "an edit naming 999 records", request: (s) => edit(s, { op: "add", tags: ["k=v"], prefixes: Array.from({ length: 998 }, (_, i) => i.toString(16)) }), status: 400, code: "invalid", field: "prefixes" },
  { category: "size", name: "1,001 tags in one edit", request: (s) => edit(s, { op: "add", tags: Array.from({ length: 1001 }, (_, i) => `k${i}=1`) }), status: 400, code: "invalid", field: "tags" },
  { category: "size", name: "a pushed tag value over the limit", request: (s) => push([makeTag("Execution", s.exec, "k", "v".repeat(MAX_TAG_VALUE_BYTES), [], T0)]), status: 413, code: "too_large", field: "records[0].value" },
  { category: "size", name: "a repository query filter over the limit", request: () => ["/api/repository/query", json({ query: { tags: [["k", "v".repeat(MAX_TAG_VALUE_BYTES)]] } })], status: 413, code: "too_large", field: "tags" },
  {
    category: "size", name: `a whole pushed value over ${MAX_VALUE_BYTES} bytes`,
    request: () => {
      const encoded = JSON.stringify("x".repeat(MAX_VALUE_BYTES));
      return push([{ type: "Value", id: valueHash("string", encoded), time: T0, valueType: "string", encoded, size: encoded.length, preview: false }]);
    },
    status: 413, code: "too_large", field: "records[0].encoded",
  },

  // ---- unicode ----
  { category: "unicode", name: "a tag key with a lone surrogate", request: (s) => [`/api/records/${s.exec}/tags`, raw('{"op":"add","tags":[["sur\\ud800",1]]}')], status: 400, code: "invalid", field: "tags[0]" },
  { category: "unicode", name: "a tag value with a lone low surrogate", request: (s) => [`/api/records/${s.exec}/tags`, raw('{"op":"add","tags":[["k","x\\udc00y"]]}')], status: 400, code: "invalid", field: "tags[0]" },
  { category: "unicode", name: "tag text with a lone surrogate", request: (s) => [`/api/records/${s.exec}/tags`, raw('{"op":"update","tags":["k=\\ud83d"]}')], status: 400, code: "invalid", field: "tags[0]" },
  { category: "unicode", name: "a lone surrogate as a key inside a value", request: (s) => [`/api/records/${s.exec}/tags`, raw('{"op":"add","tags":[["k",{"\\udfff":1}]]}')], status: 400, code: "invalid", field: "tags[0]" },
  { category: "unicode", name: "a rename to a lone surrogate", request: (s) => [`/api/records/${s.exec}/tags`, raw('{"op":"rename","from":"user","to":"\\ud800"}')], status: 400, code: "invalid", field: "to" },
  { category: "unicode", name: "an rm key with a lone surrogate", request: (s) => [`/api/records/${s.exec}/tags`, raw('{"op":"rm","keys":["\\ud800"]}')], status: 400, code: "invalid", field: "keys[0]" },
  { category: "unicode", name: "a pushed tag key with a lone surrogate", request: (s) => pushRaw(`{"records":[${JSON.stringify(makeTag("Execution", s.exec, "sur\ud800", 1, [], T0))}]}`), status: 400, code: "invalid", field: "records[0].key" },
  {
    category: "unicode", name: "a pushed task name with a lone surrogate",
    request: () => push([{ type: "Task", id: taskHash("", "t\udc00", null, "s"), time: T0, name: "t\udc00", namespace: "", source: "s", version: null }]),
    status: 400, code: "invalid", field: "records[0].name",
  },
  { category: "unicode", name: "a pushed argv with a lone surrogate", request: () => push([{ ...execution(uuid(77)), argv: ["run", "\ud800"] }]), status: 400, code: "invalid", field: "records[0].argv[1]" },
  { category: "unicode", name: "a repository query on a lone surrogate", request: () => ["/api/repository/query", raw('{"query":{"taskNames":["\\ud800"]}}')], status: 400, code: "invalid", field: "taskNames" },
  { category: "unicode", name: "a find-by-prefix on a lone surrogate", request: () => ["/api/repository/find-by-prefix", raw('{"prefixes":["a\\ud800"],"types":["Job"],"limit":1}')], status: 400, code: "invalid", field: "prefixes[0]" },

  // ---- prototype keys ----
  { category: "prototype", name: "a query parameter __proto__", request: () => ["/api/records?__proto__=1"], status: 400, code: "invalid", field: "__proto__" },
  { category: "prototype", name: "a query parameter constructor", request: () => ["/api/tags?constructor=1"], status: 400, code: "invalid", field: "constructor" },
  { category: "prototype", name: "a pull parameter prototype", request: () => ["/api/sync/pull?prototype=1"], status: 400, code: "invalid", field: "prototype" },
  { category: "prototype", name: "an edit body field __proto__", request: (s) => [`/api/records/${s.exec}/tags`, raw('{"op":"add","tags":["k=v"],"__proto__":{"op":"rm"}}')], status: 400, code: "invalid", field: "__proto__" },
  { category: "prototype", name: "an op named constructor", request: (s) => edit(s, { op: "constructor", tags: ["k=v"] }), status: 400, code: "invalid", field: "op" },
  { category: "prototype", name: "a query field __proto__", request: () => ["/api/repository/query", raw('{"query":{"__proto__":{"limit":1}}}')], status: 400, code: "invalid", field: "__proto__" },
  { category: "prototype", name: "a query field hasOwnProperty", request: () => ["/api/repository/query", json({ query: { hasOwnProperty: 1 } })], status: 400, code: "invalid", field: "hasOwnProperty" },
  { category: "prototype", name: "a record type __proto__", request: () => push([{ type: "__proto__", id: "x", time: T0 }]), status: 400, code: "invalid", field: "records[0].type" },
  { category: "prototype", name: "a record type toString", request: () => ["/api/repository/get", json({ type: "toString", ids: [] })], status: 400, code: "invalid", field: "type" },
  { category: "prototype", name: "a record with a field __proto__", request: (s) => pushRaw(`{"records":[${JSON.stringify(s.tag).replace(/^\{/, '{"__proto__":{"value":"evil"},')}]}`), status: 400, code: "invalid", field: "records[0].__proto__" },

  // ---- forged and inconsistent records ----
  { category: "forged", name: "a tag whose id does not match its content", request: (s) => push([{ ...s.tag, value: "forged" }]), status: 400, code: "invalid", field: "records[0].id" },
  { category: "forged", name: "an execution whose id is no uuid", request: () => push([execution("not-a-uuid")]), status: 400, code: "invalid", field: "records[0].id" },
  { category: "forged", name: "an evaluation naming no stored CallNode", request: (s) => push([{ ...s.evaluation, callHash: "c".repeat(40) }]), status: 400, code: "invalid", field: "records[0].callHash" },
  { category: "forged", name: "an evaluation that disagrees with its stored CallNode", request: (s) => push([{ ...s.evaluation, valueHash: makeValueRecord(666, T0).id }]), status: 400, code: "invalid", field: "records[0].callHash" },
  {
    category: "forged", name: "an evaluation that disagrees with the CallNode of its batch",
    request: (s) => {
      const evil = makeValueRecord(666, T0);
      const call = { ...s.call, resultHash: evil.id, children: [] };
      const forgedCall = { ...call, id: callNodeHash(call.taskHash, call.argsHash, evil.id, []) };
      return push([evil, forgedCall, { ...s.evaluation, callHash: forgedCall.id }]);
    },
    status: 400, code: "invalid", field: "records[2].callHash",
  },
  { category: "forged", name: "an evaluation whose id does not match its task and arguments", request: (s) => push([{ ...s.evaluation, argsHash: "a".repeat(40) }]), status: 400, code: "invalid", field: "records[0].id" },
  { category: "forged", name: "a preview claiming a small value's id", request: () => push([{ ...makeValueRecord(42, T0), encoded: "66", size: 2, preview: true }]), status: 400, code: "invalid", field: "records[0].preview" },
  { category: "forged", name: "a call node whose args do not match its argsHash", request: (s) => push([{ ...s.call, args: [{ key: "0", valueHash: "b".repeat(40) }] }]), status: 400, code: "invalid", field: "records[0].id" },
  { category: "forged", name: "a call node with an argument that is a number", request: (s) => push([{ ...s.call, args: [1] }]), status: 400, code: "invalid", field: "records[0].args[0]" },
  { category: "forged", name: "a delete record with a key", request: (s) => push([{ ...makeTag(null, null, "", null, [s.tag.id], T0), key: "k" }]), status: 400, code: "invalid", field: "records[0].key" },
  { category: "forged", name: "a tag of an unknown entity type", request: (s) => push([{ ...s.tag, entityType: "Nope" }]), status: 400, code: "invalid", field: "records[0].entityType" },
  { category: "forged", name: "a job of an unknown status", request: (s) => push([{ ...s.run.find((r) => r.type === "Job")!, status: "LOST" }]), status: 400, code: "invalid", field: "records[0].status" },
  { category: "forged", name: "a value with a field of its own", request: () => push([{ ...makeValueRecord(1, T0), note: "extra" }]), status: 400, code: "invalid", field: "records[0].note" },
  { category: "forged", name: "a value whose encoding is not JSON", request: () => push([{ type: "Value", id: valueHash("object", "{x"), time: T0, valueType: "object", encoded: "{x", size: 2, preview: false }]), status: 400, code: "invalid", field: "records[0].encoded" },
  { category: "forged", name: "a time that is a string", request: (s) => push([{ ...s.tag, time: "soon" }]), status: 400, code: "invalid", field: "records[0].time" },
  { category: "forged", name: "a good run with one forged record at its end", request: (s) => push([...s.run, { ...s.tag, value: "forged" }]), status: 400, code: "invalid", field: /^records\[\d+\]\.id$/ },

  // ---- tampered cursors ----
  { category: "cursor", name: "a query cursor of garbage", request: () => ["/api/records?cursor=garbage"], status: 400, code: "invalid", field: "cursor" },
  { category: "cursor", name: "a query cursor with an infinite time", request: () => ["/api/records?cursor=1e999~abc"], status: 400, code: "invalid", field: "cursor" },
  { category: "cursor", name: "a query cursor without an id", request: () => ["/api/records?cursor=5~"], status: 400, code: "invalid", field: "cursor" },
  { category: "cursor", name: "a query cursor with a 10,000 character id", request: () => [`/api/records?cursor=5~${"f".repeat(10_000)}`], status: 400, code: "invalid", field: "cursor" },
  { category: "cursor", name: "a repository query cursor with a lone surrogate", request: () => ["/api/repository/query", raw('{"query":{"cursor":"5~\\ud800"}}')], status: 400, code: "invalid", field: "cursor" },
  { category: "cursor", name: "a pull cursor of garbage", request: () => ["/api/sync/pull?cursor=garbage"], status: 400, code: "invalid", field: "cursor" },
  { category: "cursor", name: "a negative pull cursor", request: () => ["/api/sync/pull?cursor=-1"], status: 400, code: "invalid", field: "cursor" },
  { category: "cursor", name: "a pull cursor past every safe integer", request: () => ["/api/sync/pull?cursor=99999999999999999999"], status: 400, code: "invalid", field: "cursor" },
  { category: "cursor", name: "a pull cursor with a space", request: () => ["/api/sync/pull?cursor=%201"], status: 400, code: "invalid", field: "cursor" },
  { category: "cursor", name: "a pull limit of 0", request: () => ["/api/sync/pull?limit=0"], status: 400, code: "invalid", field: "limit" },
  { category: "cursor", name: "an export cursor that is a number", request: () => ["/api/repository/export-since", json({ cursor: 5 })], status: 400, code: "invalid", field: "cursor" },
  { category: "cursor", name: "an export cursor of garbage", request: () => ["/api/repository/export-since", json({ cursor: "1.5" })], status: 400, code: "invalid", field: "cursor" },

  // ---- odd prefixes ----
  { category: "prefix", name: "a prefix that is not hex", request: () => ["/api/records/XYZ"], status: 400, code: "invalid", field: "prefix" },
  { category: "prefix", name: "an upper-case prefix", request: (s) => [`/api/records/${s.exec.slice(0, 8).toUpperCase()}A`], status: 400, code: "invalid", field: "prefix" },
  { category: "prefix", name: "a prefix of a space", request: () => ["/api/records/%20"], status: 400, code: "invalid", field: "prefix" },
  { category: "prefix", name: "a prefix of NUL", request: () => ["/api/records/%00"], status: 400, code: "invalid", field: "prefix" },
  { category: "prefix", name: "a prefix with a zero-width space", request: () => ["/api/records/ab%E2%80%8B"], status: 400, code: "invalid", field: "prefix" },
  { category: "prefix", name: "a prefix of a broken percent escape", request: () => ["/api/records/%E0%A4%A"], status: 400, code: "invalid", field: "prefix" },
  { category: "prefix", name: "a prefix climbing folders", request: () => ["/api/records/..%2F..%2Fetc"], status: 400, code: "invalid", field: "prefix" },
  { category: "prefix", name: "a prefix of 65 characters", request: () => [`/api/records/${"a".repeat(65)}`], status: 400, code: "invalid", field: "prefix" },
  { category: "prefix", name: "a prefix of 10,000 characters", request: () => [`/api/records/${"a".repeat(10_000)}`], status: 400, code: "invalid", field: "prefix" },
  { category: "prefix", name: "a prefix of a dash", request: () => ["/api/records/-"], status: 404, code: "not_found" },
  { category: "prefix", name: "an edit on an ambiguous prefix", request: (s) => ["/api/records/ab/tags", json({ op: "add", tags: ["k=v"], prefixes: [s.exec] })], status: 409, code: "ambiguous" },
  { category: "prefix", name: "an edit on an unknown prefix among known ones", request: (s) => edit(s, { op: "add", tags: ["k=v"], prefixes: [s.exec, "eeeeeeeeeeee"] }), status: 404, code: "not_found" },
  { category: "prefix", name: "an empty prefix in an edit", request: (s) => edit(s, { op: "add", tags: ["k=v"], prefixes: [""] }), status: 400, code: "invalid", field: "prefix" },
  { category: "prefix", name: "a find-by-prefix that is not hex", request: () => ["/api/repository/find-by-prefix", json({ prefixes: ["Z"], types: ["Job"], limit: 1 })], status: 400, code: "invalid", field: "prefixes[0]" },
];

const greet = task("greet", (name: string) => applyTags(`Hello, ${name}!`, { tags: { loud: true } }), { namespace: "robust" });

/** Record a run and two executions sharing the prefix "ab" into the harness's store; read what rows forge from. */
async function seed(h: ApiHarness): Promise<Seed> {
  let t = T0;
  const scheduler = new Scheduler({ repository: h.repository, now: () => (t += 1) });
  const { executionId } = await scheduler.runWithId(greet("Ada"), { tags: { user: "alice" } });
  await h.repository.write([execution("abc00000-0000-4000-8000-000000000001"), execution("abd00000-0000-4000-8000-000000000002")]);
  const [tag] = (await h.repository.currentTags([executionId])).filter((x) => x.key === "user");
  const records: AnyRecord[] = [];
  for (let cursor: string | null = null; ; ) {
    const page = await h.repository.exportSince(cursor, 1000);
    records.push(...page.records);
    cursor = page.cursor;
    if (page.done) break;
  }
  const evaluation = records.find((r): r is EvaluationRecord => r.type === "Evaluation")!;
  const [call] = await h.repository.get("CallNode", [evaluation.callHash]);
  // A run recorded elsewhere: a push of it is good.
  const elsewhere = (await import("redun-edge/memory")).createMemoryRepository();
  await new Scheduler({ repository: elsewhere, now: () => T0 + 50_000 }).run(greet("Zoe"), { tags: { user: "zoe" } });
  const run = JSON.parse(JSON.stringify((await elsewhere.exportSince(null, 1000)).records)) as AnyRecord[];
  expect(evaluation.id).toBe(evaluationHash(evaluation.taskHash, argsHash(call!.args)));
  return { exec: executionId, tag: tag!, call: call!, evaluation, run };
}

/** Error text that must never reach a client. */
const LEAKS = /SQLITE|D1_ERROR|\bat [\w.<>]+ \(|Maximum call stack|RangeError|TypeError|undefined is not/;

export function runBadInputSuite(name: string, create: () => Promise<ApiHarness>): void {
  describe(`bad input to the API: ${name}`, () => {
    let h: ApiHarness;
    let s: Seed;
    const apps = new Map<string, Requester>();
    const serve = (options: Row["options"] = {}) => {
      const key = JSON.stringify(options);
      if (!apps.has(key)) apps.set(key, h.serve(options));
      return apps.get(key)!;
    };
    let prototypeBefore: string[];

    beforeAll(async () => {
      h = await create();
      s = await seed(h);
      prototypeBefore = Object.getOwnPropertyNames(Object.prototype);
    });

    it.each(BAD_INPUT.map((row) => [`${row.category}: ${row.name}`, row] as const))("%s", async (_, row) => {
      const before = await h.counts();
      const [path, init] = row.request(s);
      const a = await answer(serve(row.options)(path, init));
      expect(a.status, JSON.stringify(a.body)?.slice(0, 500)).toBe(row.status);
      expect(a.headers.get("content-type")).toMatch(/^application\/json/);
      expect(Object.keys(a.body)).toEqual(["error"]);
      expect(a.body.error.code).toBe(row.code);
      expect(typeof a.body.error.message).toBe("string");
      expect(a.body.error.message.length).toBeLessThan(2000);
      expect(a.body.error.message).not.toMatch(LEAKS);
      if (typeof row.field === "string") expect(a.body.error.field).toBe(row.field);
      else if (row.field) expect(a.body.error.field).toMatch(row.field);
      if (row.code === "ambiguous") expect(a.body.error.candidates.length).toBeGreaterThan(1);
      expect(await h.counts(), "nothing written").toEqual(before);
    });

    it("still answers afterwards, with Object.prototype untouched, and takes good input", async () => {
      expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeBefore);
      const request = serve();
      expect((await answer(request("/api/health"))).status).toBe(200);
      expect((await answer(request("/api/records"))).body.records.length).toBe(3);
      const ok = await answer(request(`/api/records/${s.exec}/tags`, json({ op: "add", tags: [["reviewed", true]] })));
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect((await answer(request("/api/sync/push", json({ records: s.run })))).body).toEqual({ accepted: s.run.length });
    });
  });
}
