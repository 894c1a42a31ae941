/**
 * Id prefix resolution against a brute-force answer (issue 13, item 2): a
 * store of 10,000 executions, each with a job and six tags, and values and
 * cache entries besides, so records a person never names (tags, evaluations) share
 * every short prefix with the ones they do. For prefixes of 1 to 8
 * characters, random and cut from stored ids, CallGraph.resolve and
 * Repository.findByPrefix must give what a scan of every id gives: unknown
 * for none, the record for one, ambiguous with the first candidates for more.
 * Run on every store (memory, fake IndexedDB, D1 in workerd) and through the
 * API.
 */
import { expect } from "vitest";
import {
  AmbiguousIdError,
  CallGraph,
  ENTITY_TYPES,
  UnknownIdError,
  type AnyRecord,
  type EntityType,
  type ExecutionRecord,
  type JobRecord,
  type RecordRef,
  type Repository,
} from "redun-edge";
import {
  MAX_CANDIDATES,
  argsHash,
  evaluationHash,
  makeTag,
  makeValueRecord,
} from "redun-edge/adapter-kit";
import { rng, uuidFrom } from "../d1/fixtures.ts";

const T0 = Date.UTC(2026, 0, 1);
const TAG_KEYS = ["user", "project", "git_commit", "git_origin_url", "redun_edge.version", "n"];

export interface PrefixDataset {
  records: AnyRecord[];
  /** Every record a person may name (entities), sorted by id. */
  entities: RecordRef[];
  /** Prefixes to try: random hex and cut from stored ids (entities and not), 1 to 8 characters. */
  prefixes: string[];
}

export function prefixDataset(executions = 10_000, seed = 13): PrefixDataset {
  const random = rng(seed);
  const records: AnyRecord[] = [];
  const taskHash = "7".repeat(40);
  for (let i = 0; i < executions; i++) {
    const execId = uuidFrom(random);
    const jobId = uuidFrom(random);
    const time = T0 + i;
    const exec: ExecutionRecord = { type: "Execution", id: execId, time, rootJobId: jobId, argv: ["run"], startTime: time, endTime: time + 1, status: "DONE" };
    const job: JobRecord = {
      type: "Job", id: jobId, time, executionId: execId, parentId: null, taskHash, callHash: null,
      startTime: time, endTime: time + 1, status: "DONE", error: null,
    };
    // Tags as a run records them (user, project, git commit, ...): most short prefixes name tags first.
    records.push(exec, job, ...TAG_KEYS.map((key) => makeTag("Execution", execId, key, i, [], time)));
    if (i % 5 === 0) {
      const value = makeValueRecord(i, time);
      const args = argsHash([{ key: "0", valueHash: value.id }]);
      records.push(value, {
        type: "Evaluation", id: evaluationHash(taskHash, args), time, taskHash, argsHash: args,
        valueHash: value.id, callHash: "c".repeat(40), jobTags: [],
      });
    }
  }
  const entities = records
    .filter((r) => (ENTITY_TYPES as readonly string[]).includes(r.type))
    .map((r) => ({ type: r.type, id: r.id }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.type < b.type ? -1 : 1));
  const others = records.filter((r) => r.type === "Tag" || r.type === "Evaluation");
  const prefixes: string[] = [];
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  for (let length = 1; length <= 8; length++) {
    for (let k = 0; k < 8; k++) prefixes.push(Array.from({ length }, () => Math.floor(random() * 16).toString(16)).join(""));
    for (let k = 0; k < 8; k++) prefixes.push(pick(entities).id.slice(0, length));
    for (let k = 0; k < 4; k++) prefixes.push(pick(others).id.slice(0, length));
  }
  // A uuid's dash, and a full id.
  prefixes.push(pick(entities).id.slice(0, 9), entities[0]!.id);
  return { records, entities, prefixes };
}

/** What a scan of every id says a prefix names. */
export function bruteForce(data: PrefixDataset, prefix: string): RecordRef[] {
  return data.entities.filter((r) => r.id.startsWith(prefix));
}

/** The answer `resolve` must give: the ref, or the typed error's essentials. */
export function expectedResolution(data: PrefixDataset, prefix: string): RecordRef | { error: "not_found" } | { error: "ambiguous"; candidates: RecordRef[]; more: boolean } {
  const matches = bruteForce(data, prefix);
  const exact = matches.find((r) => r.id === prefix);
  if (exact) return exact;
  if (matches.length === 0) return { error: "not_found" };
  if (matches.length === 1) return matches[0]!;
  return { error: "ambiguous", candidates: matches.slice(0, MAX_CANDIDATES), more: matches.length > MAX_CANDIDATES };
}

/** A resolution outcome as plain data (from a ref or a typed error). */
export function outcome(result: unknown): unknown {
  if (result instanceof UnknownIdError) return { error: "not_found" };
  if (result instanceof AmbiguousIdError) return { error: "ambiguous", candidates: result.candidates, more: result.more };
  if (result instanceof Error) throw result;
  return result;
}

/** Write the dataset in batches of `batchSize` records. */
export async function writeDataset(repository: Repository, data: PrefixDataset, batchSize = 5_000): Promise<void> {
  for (let i = 0; i < data.records.length; i += batchSize) await repository.write(data.records.slice(i, i + batchSize));
}

/** Check resolve and findByPrefix against the brute-force answer for every prefix of the dataset. */
export async function checkPrefixResolution(repository: Repository, data: PrefixDataset): Promise<{ unknown: number; unique: number; ambiguous: number }> {
  const graph = new CallGraph(repository);
  const tally = { unknown: 0, unique: 0, ambiguous: 0 };
  for (const prefix of data.prefixes) {
    const want = expectedResolution(data, prefix);
    const got = outcome(await graph.resolve(prefix).catch((e: unknown) => e));
    expect(got, `resolve(${JSON.stringify(prefix)})`).toEqual(want);
    if ("error" in want) tally[want.error === "not_found" ? "unknown" : "ambiguous"] += 1;
    else tally.unique += 1;
  }
  // The primitive itself, for many prefixes at once and for one type.
  const types: EntityType[][] = [[...ENTITY_TYPES], ["Execution"]];
  for (const only of types) {
    for (let i = 0; i < data.prefixes.length; i += 100) {
      const part = data.prefixes.slice(i, i + 100);
      const answers = await repository.findByPrefix(part, only, MAX_CANDIDATES + 1);
      part.forEach((prefix, k) => {
        const want = bruteForce(data, prefix).filter((r) => only.includes(r.type as EntityType)).slice(0, MAX_CANDIDATES + 1);
        expect(answers[k], `findByPrefix(${JSON.stringify(prefix)}, ${only.join(",")})`).toEqual(want);
      });
    }
  }
  return tally;
}
