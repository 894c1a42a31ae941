/**
 * redun's id formulas (redun/hashing.py, task.py, backends/db; see
 * fixtures/redun/HASHING.md): `H(x)` is SHA-512 of bencode(x), cut to 40
 * hex characters. Tags use them for every tag, wherever it is made; the other
 * formulas verify records imported from a redun database.
 */
import { withBencoded, type BValue } from "./bencode.ts";
import { sha512Hex40, sha512Matches40 } from "./sha512.ts";

/** redun's `hash_struct`: H(x). */
export function hashStruct(x: BValue): string {
  return withBencoded(x, sha512Hex40);
}

/** Whether `hex` is H(x), without building the digest's hex text. */
export function hashStructMatches(x: BValue, hex: string): boolean {
  return withBencoded(x, (bytes, length) => sha512Matches40(bytes, length, hex));
}

/** Reused for hash_tag_bytes' input (a Value's pickle): no allocation per value. */
let joined = new Uint8Array(1 << 16);

/** redun's `hash_tag_bytes(tag, data)`: SHA-512 of bencode([tag]) followed by the bytes. */
export function hashTagBytes(tag: string, data: Uint8Array): string {
  return withBencoded([tag], (prefix, n) => {
    if (joined.length < n + data.length) joined = new Uint8Array(Math.max(n + data.length, joined.length * 2));
    joined.set(prefix.subarray(0, n));
    joined.set(data, n);
    return sha512Hex40(joined, n + data.length);
  });
}

/** `H(["Tag", entity_id, key, json_dumps(value), sorted(parents)])`; a delete record's entity id is "". */
export function tagPreimage(entityId: string | null, key: string, valueText: string, parents: readonly string[]): BValue {
  return ["Tag", entityId ?? "", key, valueText, parents.length < 2 ? parents : [...parents].sort()];
}

/** `H(["Task", fullname, "source", source] + options)`, or "version", version in place of the source. */
export function taskPreimage(fullName: string, version: string | null, source: string, optionsHash: string | null): BValue {
  const base: BValue[] = version === null ? ["Task", fullName, "source", source] : ["Task", fullName, "version", version];
  return optionsHash ? [...base, optionsHash] : base;
}

/** `H(["TaskArguments", [positional value hashes], {keyword: value hash}])`. */
export function argsPreimage(positional: readonly string[], keywords: Readonly<Record<string, string>>): BValue {
  return ["TaskArguments", positional, keywords];
}

/** `H(["CallNode", task_hash, args_hash, result_hash, sorted(child call hashes)])`. */
export function callNodePreimage(task: string, args: string, result: string, children: readonly string[]): BValue {
  return ["CallNode", task, args, result, [...children].sort()];
}

/** `H(["Eval", task_hash, args_hash])`. */
export function evaluationPreimage(task: string, args: string): BValue {
  return ["Eval", task, args];
}
