/**
 * Tag edit semantics (DESIGN.md, "Tags"), implemented once over Repository
 * primitives. Tags are immutable: every edit computes new tag records whose
 * `parents` are the tags they replace; a tag is current when no tag names it
 * as a parent. Each function only plans records; callers write one batch, so
 * an edit over many entities is atomic.
 */
import { canonicalJson, makeTag } from "./hash.ts";
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

export function toTagPairs(input: TagInput | undefined): TagPair[] {
  if (!input) return [];
  if (Array.isArray(input)) return input.map(([k, v]) => [k, v] as TagPair);
  return Object.entries(input as Record<string, JsonValue>);
}

/** Drop repeated (key, value) pairs; JSON equality. */
export function dedupePairs<T extends JsonValue | AnyValue>(pairs: readonly (readonly [string, T])[]): [string, T][] {
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

/**
 * An explicit add of k=v: the root tag (no parents), or, when that tag was once
 * replaced or removed, its re-creation as a child, walking down until a tag
 * that is not replaced. Returns null when k=v is already current.
 */
async function explicitTag(
  repo: Repository,
  entity: EntityRef,
  key: string,
  value: JsonValue,
  current: readonly TagRecord[],
  planned: ReadonlyMap<string, TagRecord>,
  time: number,
): Promise<TagRecord | null> {
  if (current.some((t) => sameValue(t, key, value))) return null;
  let candidate = makeTag(entity.type, entity.id, key, value, [], time);
  for (;;) {
    if (planned.has(candidate.id)) return null;
    const [existing] = await repo.get("Tag", [candidate.id]);
    if (!existing) return candidate;
    // It exists but is not current (it is not in `current`): follow it down.
    candidate = makeTag(entity.type, entity.id, key, value, [existing.id], time);
  }
}

/** Collects an edit's new tag records and the changes they make. */
class PlanBuilder {
  readonly records: TagRecord[] = [];
  readonly changes: TagChange[] = [];
  /** New tags by id, so an edit never plans one tag twice. */
  readonly planned = new Map<string, TagRecord>();

  record(tag: TagRecord): void {
    this.planned.set(tag.id, tag);
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
  for (const entity of entities) {
    for (const [key, value] of dedupePairs(pairs)) {
      const tag = await explicitTag(repo, entity, key, value, currentOf(entity), out.planned, time);
      if (tag) out.add("add", entity, tag);
    }
  }
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
  for (const entity of entities) {
    const current = currentOf(entity);
    for (const [key, values] of byKey) {
      const old = current.filter((t) => t.key === key);
      const oldJson = new Set(old.map((t) => canonicalJson(t.value)));
      if (old.length === values.length && values.every((v) => oldJson.has(canonicalJson(v)))) continue;
      for (const value of values) {
        const tag =
          old.length === 0
            ? await explicitTag(repo, entity, key, value, current, out.planned, time)
            : makeTag(entity.type, entity.id, key, value, old.map((t) => t.id), time);
        if (tag) out.add("update", entity, tag);
      }
    }
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
