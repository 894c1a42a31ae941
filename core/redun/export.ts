/**
 * Which tags of a store go back into a redun database (`export --redun`):
 * the tags and tag edits made in redun-edge on records that came from it.
 * Platform-free; local/redun-db.ts writes the rows.
 */
import type { Repository } from "../repository.ts";
import type { TagRecord } from "../records.ts";
import { jsonDumps } from "./py-json.ts";

/** A row of redun's `tag` table and its `tag_edit` parents. */
export interface RedunTagRow {
  tag_hash: string;
  entity_type: string;
  entity_id: string;
  key: string;
  value: string;
  parents: string[];
}

/** A tag as redun stores it: a delete record is entity type `Null`, entity id "", value `null`. */
export function redunTagRow(tag: TagRecord): RedunTagRow {
  return {
    tag_hash: tag.id,
    entity_type: tag.entityType ?? "Null",
    entity_id: tag.entityId ?? "",
    key: tag.key,
    value: tag.valueText ?? jsonDumps(tag.value),
    parents: tag.parents,
  };
}

/**
 * The store's tags that the redun database lacks: current tags of its
 * entities, every edit reachable from its tags or from those (updates,
 * removals, re-adds), and the history they replace, kept only when each
 * tag's entity is in the database (a removal: when each of its parents goes
 * too or is there), so every edge the rows make points at a tag redun has.
 * Parents come before children.
 */
export async function tagsToExport(
  store: Pick<Repository, "currentTags" | "tagChildren" | "get">,
  entityIds: ReadonlySet<string>,
  redunTags: ReadonlySet<string>,
): Promise<RedunTagRow[]> {
  const found = new Map<string, TagRecord>();
  const add = (tags: readonly TagRecord[]) => {
    const fresh: string[] = [];
    for (const t of tags) {
      if (redunTags.has(t.id) || found.has(t.id)) continue;
      found.set(t.id, t);
      fresh.push(t.id);
    }
    return fresh;
  };
  // Edits of redun's own tags and of everything found, and what those replace, until nothing new turns up.
  let fresh = add(await store.currentTags([...entityIds]));
  let asked = [...redunTags, ...fresh];
  while (asked.length) {
    const missingParents = [...new Set(fresh.flatMap((id) => found.get(id)!.parents))].filter((p) => !redunTags.has(p) && !found.has(p));
    const [children, parents] = await Promise.all([
      store.tagChildren(asked),
      missingParents.length ? store.get("Tag", missingParents) : Promise.resolve([]),
    ]);
    fresh = [...add(children), ...add(parents)];
    asked = fresh;
  }
  // Keep what belongs to this database, down to a fixpoint: a removal goes only when all it removes is there.
  const kept = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const t of found.values()) {
      if (kept.has(t.id)) continue;
      const onEntity = t.entityId === null || entityIds.has(t.entityId);
      if (onEntity && t.parents.every((p) => redunTags.has(p) || kept.has(p))) {
        kept.add(t.id);
        grew = true;
      }
    }
  }
  // Parents first: order by depth of the history.
  const depth = new Map<string, number>();
  const depthOf = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    const t = found.get(id);
    const d = t ? 1 + Math.max(0, ...t.parents.map(depthOf)) : 0;
    depth.set(id, d);
    return d;
  };
  return [...kept]
    .map((id) => found.get(id)!)
    .sort((a, b) => depthOf(a.id) - depthOf(b.id) || (a.id < b.id ? -1 : 1))
    .map(redunTagRow);
}
