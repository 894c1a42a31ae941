/**
 * A record's tag history and merge conflicts, read over Repository
 * primitives. Tags are never changed, only superseded: each current tag's
 * history is the chain of tags it names as parents, theirs, and so on.
 *
 * A conflict is what two stores editing one tag apart leave after a merge:
 * two current tags of one key that descend from a common tag (both updates of
 * it). Two values added side by side share no ancestor: a key may hold
 * several values, so that is not a conflict. An update naming every current
 * tag of the key as parents resolves it (`CallGraph.updateTags` does so).
 */
import type { TagRecord } from "./records.ts";
import type { Repository } from "./repository.ts";

export interface TagHistoryEntry {
  /** A current tag of the record. */
  tag: TagRecord;
  /** The tags it superseded, directly or through others, newest first. */
  superseded: TagRecord[];
}

export interface TagConflict {
  key: string;
  /** The current tags of the key that share an ancestor, by value. */
  tags: TagRecord[];
}

export interface TagHistory {
  entityId: string;
  tags: TagHistoryEntry[];
  conflicts: TagConflict[];
}

/** Rounds of parent reads at most: a tag edited more often than this shows its newest history. */
const MAX_DEPTH = 200;

/** The history of an entity's current tags (one read per generation of parents). */
export async function readTagHistory(repository: Repository, entityId: string): Promise<TagHistory> {
  const current = (await repository.currentTags([entityId])).filter((t) => t.entityId === entityId);
  const known = new Map<string, TagRecord>(current.map((t) => [t.id, t]));
  let wanted = new Set(current.flatMap((t) => t.parents));
  for (let depth = 0; wanted.size > 0 && depth < MAX_DEPTH; depth++) {
    const found = await repository.get("Tag", [...wanted]);
    wanted = new Set();
    for (const t of found) known.set(t.id, t);
    for (const t of found) for (const p of t.parents) if (!known.has(p)) wanted.add(p);
  }
  const ancestors = (tag: TagRecord): TagRecord[] => {
    const seen = new Set<string>();
    const out: TagRecord[] = [];
    const queue = [...tag.parents];
    while (queue.length) {
      const id = queue.shift()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const t = known.get(id);
      if (!t) continue;
      out.push(t);
      queue.push(...t.parents);
    }
    return out.sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : -1));
  };
  const byValue = (a: TagRecord, b: TagRecord) => {
    const x = JSON.stringify(a.value), y = JSON.stringify(b.value);
    return a.key !== b.key ? (a.key < b.key ? -1 : 1) : x < y ? -1 : x > y ? 1 : 0;
  };
  const tags = current.sort(byValue).map((tag) => ({ tag, superseded: ancestors(tag) }));
  const conflicts: TagConflict[] = [];
  const byKey = new Map<string, TagHistoryEntry[]>();
  for (const e of tags) byKey.set(e.tag.key, [...(byKey.get(e.tag.key) ?? []), e]);
  for (const [key, entries] of byKey) {
    if (entries.length < 2) continue;
    const lines = entries.map((e) => new Set(e.superseded.map((t) => t.id)));
    const forked = entries.filter((_, i) => lines.some((other, j) => j !== i && [...lines[i]!].some((id) => other.has(id))));
    if (forked.length > 1) conflicts.push({ key, tags: forked.map((e) => e.tag) });
  }
  return { entityId, tags, conflicts };
}
