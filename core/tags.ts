/**
 * Tag edit semantics (DESIGN.md, "Tags"), implemented once over Repository
 * primitives. Tags are immutable: every edit computes new tag records whose
 * `parents` are the tags they replace; a tag is current when no tag names it
 * as a parent. Each function only plans records; callers write one batch, so
 * an edit over many entities is atomic.
 */
import { canonicalJson, makeTag } from "./hash.ts";
import { checkTag, checkTagKey, checkTagValue } from "./validate.ts";
import type { EntityType, JsonValue, TagRecord } from "./records.ts";
import type { Repository } from "./repository.ts";
import { ANY_VALUE, type AnyValue } from "./tag-text.ts";

export interface EntityRef {
  type: EntityType;
  id: string;
}

export type TagPair = [key: string, value: JsonValue];

/** A tag as a view shows it: its pair, and Python's JSON text of the value when the tag keeps one (TagRecord.valueText). */
export type TagView = [key: string, value: JsonValue, text?: string];

export type TagEditOp = "add" | "update" | "rm" | "rename";

/** One change an edit makes, for display: `add tag Execution:<id> k=v`. */
export interface TagChange {
  op: TagEditOp;
  entityType: EntityType;
  entityId: string;
  key: string;
  value: JsonValue;
}

export interface TagPlan {
  records: TagRecord[];
  changes: TagChange[];
}

/** Accepts `[[k, v], ...]` or `{ k: v }`. */
export type TagInput = readonly (readonly [string, JsonValue])[] | Readonly<Record<string, JsonValue>>;

/**
 * Tags as pairs, each checked by the tag rules (checkTag: well-formed text,
 * size and nesting limits), so a bad tag from a task or a run fails where it
 * is made, not when a batch is written.
 */
export function toTagPairs(input: TagInput | undefined, field = "tags"): TagPair[] {
  if (!input) return [];
  const pairs = Array.isArray(input) ? input.map(([k, v]) => [k, v] as TagPair) : Object.entries(input as Record<string, JsonValue>);
  pairs.forEach(([k, v], i) => checkTag(`${field}[${i}]`, k, v));
  return pairs;
}

/**
 * The tags and keys of an edit, checked by the tag rules before anything is
 * read; errors name `tags[i]` / `keys[i]` as the API's body does.
 */
export function checkEditTags(
  tags: readonly (readonly [unknown, unknown])[] = [],
  keys: readonly unknown[] = [],
): void {
  tags.forEach(([k, v], i) => {
    checkTagKey(`tags[${i}]`, k);
    if (v !== ANY_VALUE) checkTagValue(`tags[${i}]`, v);
  });
  keys.forEach((k, i) => checkTagKey(`keys[${i}]`, k));
}

/** Drop repeated (key, value) pairs; JSON equality. */
function dedupePairs<T extends JsonValue | AnyValue>(pairs: readonly (readonly [string, T])[]): [string, T][] {
  const seen = new Set<string>();
  const out: [string, T][] = [];
  for (const [k, v] of pairs) {
    const id = `${k}\u0000${v === ANY_VALUE ? "*" : canonicalJson(v)}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push([k, v]);
  }
  return out;
}

function sameValue(tag: TagRecord, key: string, value: JsonValue): boolean {
  return tag.key === key && canonicalJson(tag.value) === canonicalJson(value);
}

/** Tags that scheduler runs record: no parents, so a removed tag stays removed on a re-run. */
export function plainTags(entity: EntityRef, pairs: readonly TagPair[], time: number): TagRecord[] {
  return dedupePairs(pairs).map(([k, v]) => makeTag(entity.type, entity.id, k, v, [], time));
}

/** An explicit add of key=value to an entity that does not hold it now. */
interface ExplicitAdd {
  entity: EntityRef;
  key: string;
  value: JsonValue;
}

/**
 * Explicit adds, each as its root tag (no parents) or, when that tag was once
 * replaced or removed, its re-creation as a child, walking down until a tag
 * that is not replaced. Read in rounds: one `get` for every add's next step,
 * so an edit of many records costs as many reads as its longest chain, not
 * one per record and tag. Null for an add that another of the same edit
 * already plans.
 */
async function explicitTags(repo: Repository, adds: readonly ExplicitAdd[], time: number): Promise<(TagRecord | null)[]> {
  const out: (TagRecord | null)[] = adds.map(() => null);
  let open = adds.map((add, i) => ({ i, candidate: makeTag(add.entity.type, add.entity.id, add.key, add.value, [], time) }));
  while (open.length) {
    const stored = new Set((await repo.get("Tag", [...new Set(open.map((o) => o.candidate.id))])).map((t) => t.id));
    const next: typeof open = [];
    for (const o of open) {
      if (!stored.has(o.candidate.id)) out[o.i] = o.candidate;
      else {
        // It exists but is not current (the caller checked): follow it down.
        const add = adds[o.i]!;
        next.push({ i: o.i, candidate: makeTag(add.entity.type, add.entity.id, add.key, add.value, [o.candidate.id], time) });
      }
    }
    open = next;
  }
  const planned = new Set<string>();
  return out.map((tag) => (tag && !planned.has(tag.id) && planned.add(tag.id) ? tag : null));
}

/** Collects an edit's new tag records and the changes they make. */
class PlanBuilder {
  readonly records: TagRecord[] = [];
  readonly changes: TagChange[] = [];

  record(tag: TagRecord): void {
    this.records.push(tag);
  }

  change(op: TagEditOp, entity: EntityRef, key: string, value: JsonValue): void {
    this.changes.push({ op, entityType: entity.type, entityId: entity.id, key, value });
  }

  /** A new tag on `entity` that is itself the change. */
  add(op: TagEditOp, entity: EntityRef, tag: TagRecord): void {
    this.record(tag);
    this.change(op, entity, tag.key, tag.value);
  }

  get plan(): TagPlan {
    return { records: this.records, changes: this.changes };
  }
}

/** The current tags of several entities in one read, grouped by entity. */
async function currentByEntity(repo: Repository, entities: readonly EntityRef[]): Promise<(e: EntityRef) => TagRecord[]> {
  const byEntity = new Map<string, TagRecord[]>();
  for (const tag of await repo.currentTags(entities.map((e) => e.id))) {
    const list = byEntity.get(tag.entityId!) ?? [];
    list.push(tag);
    byEntity.set(tag.entityId!, list);
  }
  return (e) => byEntity.get(e.id) ?? [];
}

export async function planAdd(
  repo: Repository,
  entities: readonly EntityRef[],
  pairs: readonly TagPair[],
  time: number,
): Promise<TagPlan> {
  const out = new PlanBuilder();
  const currentOf = await currentByEntity(repo, entities);
  const adds: ExplicitAdd[] = [];
  for (const entity of entities) {
    for (const [key, value] of dedupePairs(pairs)) {
      if (!currentOf(entity).some((t) => sameValue(t, key, value))) adds.push({ entity, key, value });
    }
  }
  const tags = await explicitTags(repo, adds, time);
  tags.forEach((tag, i) => tag && out.add("add", adds[i]!.entity, tag));
  return out.plan;
}

/** update k=v: afterwards each given key has exactly the given value(s). */
export async function planUpdate(
  repo: Repository,
  entities: readonly EntityRef[],
  pairs: readonly TagPair[],
  time: number,
): Promise<TagPlan> {
  const out = new PlanBuilder();
  const byKey = new Map<string, JsonValue[]>();
  for (const [k, v] of dedupePairs(pairs)) byKey.set(k, [...(byKey.get(k) ?? []), v]);
  const currentOf = await currentByEntity(repo, entities);
  // In edit order: a tag replacing the key's current ones, or (for a key the entity lacks) an explicit add.
  const steps: ({ entity: EntityRef; tag: TagRecord } | { entity: EntityRef; add: number })[] = [];
  const adds: ExplicitAdd[] = [];
  for (const entity of entities) {
    const current = currentOf(entity);
    for (const [key, values] of byKey) {
      const old = current.filter((t) => t.key === key);
      const oldJson = new Set(old.map((t) => canonicalJson(t.value)));
      if (old.length === values.length && values.every((v) => oldJson.has(canonicalJson(v)))) continue;
      for (const value of values) {
        if (old.length === 0) steps.push({ entity, add: adds.push({ entity, key, value }) - 1 });
        else steps.push({ entity, tag: makeTag(entity.type, entity.id, key, value, old.map((t) => t.id), time) });
      }
    }
  }
  const added = await explicitTags(repo, adds, time);
  for (const step of steps) {
    const tag = "tag" in step ? step.tag : added[step.add];
    if (tag) out.add("update", step.entity, tag);
  }
  return out.plan;
}

/**
 * rm k=v or rm k (every value): one delete record per entity whose parents are
 * the matching current tags. Nothing matches: nothing is written.
 */
export async function planRemove(
  repo: Repository,
  entities: readonly EntityRef[],
  filters: readonly (readonly [string, JsonValue | AnyValue])[],
  time: number,
): Promise<TagPlan> {
  const out = new PlanBuilder();
  const currentOf = await currentByEntity(repo, entities);
  for (const entity of entities) {
    const matched = currentOf(entity).filter((t) =>
      filters.some(([k, v]) => t.key === k && (v === ANY_VALUE || canonicalJson(t.value) === canonicalJson(v))),
    );
    if (matched.length === 0) continue;
    out.record(makeTag(null, null, "", null, matched.map((t) => t.id), time));
    for (const t of matched) out.change("rm", entity, t.key, t.value);
  }
  return out.plan;
}

/** rename a key: each current value of `from` moves to `to`, replacing the old tag. */
export async function planRename(
  repo: Repository,
  entities: readonly EntityRef[],
  from: string,
  to: string,
  time: number,
): Promise<TagPlan> {
  const out = new PlanBuilder();
  const currentOf = await currentByEntity(repo, entities);
  for (const entity of entities) {
    for (const old of currentOf(entity).filter((t) => t.key === from)) {
      out.add("rename", entity, makeTag(entity.type, entity.id, to, old.value, [old.id], time));
    }
  }
  return out.plan;
}
