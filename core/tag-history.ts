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

/** A tag the record no longer has: superseded (updated, renamed, re-added) or removed. */
export interface PastTag {
  tag: TagRecord;
  /**
   * The tags that name it as a parent: later tags of the record (an update,
   * a rename, a re-add), tags of a merge, or a delete record (entityId null:
   * a removal).
   */
  endedBy: TagRecord[];
}

export interface TagHistory {
  entityId: string;
  tags: TagHistoryEntry[];
  conflicts: TagConflict[];
  /** Every earlier tag of the record found, newest first. */
  past: PastTag[];
  /**
   * True when `past` is every tag the record ever had (the store offers
   * `entityTags`); else it holds the tags linked to the current ones by
   * edits, and a tag removed with nothing after it on its key is not found.
   */
  complete: boolean;
}

/**
 * Optional on a Repository: every tag written on these entities, current or
 * not (delete records excluded). A store with a tag index by entity answers
 * it in one read; `readTagHistory` then lists removed tags too.
 */
export interface EntityTagsReader {
  entityTags?(entityIds: readonly string[]): Promise<TagRecord[]>;
}

/** Rounds of parent reads at most: a tag edited more often than this shows its newest history. */
const MAX_DEPTH = 200;

/**
 * The history of an entity's tags: its current tags with the chains they
 * superseded, its conflicts, and every earlier tag found with what ended it
 * (one read per generation of parents, then of children).
 */
export async function readTagHistory(repository: Repository & EntityTagsReader, entityId: string): Promise<TagHistory> {
  const [current, all] = await Promise.all([
    repository.currentTags([entityId]).then((tags) => tags.filter((t) => t.entityId === entityId)),
    repository.entityTags ? repository.entityTags([entityId]).then((tags) => tags.filter((t) => t.entityId === entityId)) : Promise.resolve([]),
  ]);
  const known = new Map<string, TagRecord>([...all, ...current].map((t) => [t.id, t]));
  let wanted = new Set([...known.values()].flatMap((t) => t.parents).filter((p) => !known.has(p)));
  for (let depth = 0; wanted.size > 0 && depth < MAX_DEPTH; depth++) {
    const found = await repository.get("Tag", [...wanted]);
    wanted = new Set();
    for (const t of found) known.set(t.id, t);
    for (const t of found) for (const p of t.parents) if (!known.has(p)) wanted.add(p);
  }
  // Forward from every tag of the record: what ended each one (updates, renames, merges, removals).
  const endedBy = new Map<string, TagRecord[]>();
  const asked = new Set<string>();
  let ask = [...known.values()].filter((t) => t.entityId === entityId).map((t) => t.id);
  for (let depth = 0; ask.length > 0 && depth < MAX_DEPTH; depth++) {
    for (const id of ask) asked.add(id);
    const children = await repository.tagChildren(ask);
    const next = new Set<string>();
    for (const child of children) {
      known.set(child.id, child);
      for (const p of child.parents) {
        if (!asked.has(p)) continue;
        const list = endedBy.get(p) ?? [];
        if (!list.some((t) => t.id === child.id)) endedBy.set(p, [...list, child]);
      }
      if (child.entityId === entityId && !asked.has(child.id)) next.add(child.id);
    }
    ask = [...next];
  }
  const currentIds = new Set(current.map((t) => t.id));
  const newestFirst = (a: TagRecord, b: TagRecord) => b.time - a.time || (a.id < b.id ? 1 : -1);
  const past = [...known.values()]
    .filter((t) => t.entityId === entityId && !currentIds.has(t.id))
    .sort(newestFirst)
    .map((tag) => ({ tag, endedBy: (endedBy.get(tag.id) ?? []).sort(newestFirst) }));
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
  return { entityId, tags, conflicts, past, complete: repository.entityTags !== undefined };
}
