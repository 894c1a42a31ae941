/**
 * Task definitions and the lazy expressions calling a task makes, the task
 * registry (tasks by full name, as redun keeps them) and `applyTags`. The
 * scheduler (scheduler.ts) evaluates what is defined here.
 */
import { taskHash } from "./hash.ts";
import { taskFullName } from "./records.ts";
import { toTagPairs, type TagInput, type TagPair } from "./tags.ts";

const EXPRESSION = Symbol.for("redun-edge.expression");
const TAGGED = Symbol.for("redun-edge.apply-tags");

/**
 * How a recorded result is checked before reuse, as redun's `check_valid`:
 * "full" (default) reuses it only when every task in its recorded call
 * subtree is the task of that name defined now; "shallow" checks the task's
 * own hash only (its subtasks may have changed since).
 */
export type CheckValid = "full" | "shallow";

export interface TaskOptions {
  namespace?: string;
  /** When given, the task's hash uses it instead of the source text. */
  version?: string;
  /** Tags of the Task, also given to every job of it. */
  tags?: TagInput;
  /** Reuse recorded results for the same arguments (default true). */
  cache?: boolean;
  /** Validity check of a recorded result before reuse (default "full"). */
  checkValid?: CheckValid;
  /** Source text recorded for the task (default: the function's text). */
  source?: string;
}

export interface CallOptions {
  /** Extra tags for this call's job. */
  tags?: TagInput;
  cache?: boolean;
}

/** A lazy call of a task: evaluated only by `Scheduler.run`. */
export interface Expression<R = unknown> {
  readonly [EXPRESSION]: true;
  readonly task: TaskDefinition;
  readonly args: readonly unknown[];
  readonly callOptions: CallOptions;
  /** Phantom: the type the expression evaluates to. */
  readonly __result?: R;
}

/** Unwrap what a task body may return to the value its expression yields. */
export type Resolved<R> =
  R extends Expression<infer T> ? Resolved<T>
  : R extends TaggedValue<infer T> ? Resolved<T>
  : R extends PromiseLike<infer T> ? Resolved<T>
  : R extends readonly unknown[] ? { [K in keyof R]: Resolved<R[K]> }
  : R;

/**
 * An argument may be given as a value, as an expression yielding it, or as an
 * array or plain object holding expressions (`link(files.map(compile))`).
 */
export type LazyValue<T> =
  | T
  | Expression<T>
  | (T extends readonly (infer U)[] ? readonly LazyValue<U>[]
    : T extends Record<string, unknown> ? { [K in keyof T]: LazyValue<T[K]> }
    : never);

export type Lazy<A extends readonly unknown[]> = { [K in keyof A]: LazyValue<A[K]> };

export interface TaskDefinition {
  readonly name: string;
  readonly namespace: string;
  /** `namespace.name`, or `name` without a namespace. */
  readonly fullName: string;
  readonly hash: string;
  readonly source: string;
  readonly version: string | null;
  readonly tags: TagPair[];
  readonly cache: boolean;
  readonly checkValid: CheckValid;
  readonly fn: (...args: never[]) => unknown;
}

export interface Task<A extends unknown[], R> extends TaskDefinition {
  (...args: Lazy<A>): Expression<Resolved<R>>;
  /** Call-time options: `myTask.options({ tags })(...args)`. */
  options(callOptions: CallOptions): (...args: Lazy<A>) => Expression<Resolved<R>>;
}

/**
 * Wrap a function as a task and register it under its full name (a later
 * task of the same name replaces it). Calling the task returns a lazy expression.
 */
export function task<A extends unknown[], R>(
  name: string,
  fn: (...args: A) => R,
  options: TaskOptions = {},
): Task<A, R> {
  const namespace = options.namespace ?? "";
  const source = options.source ?? fn.toString();
  const version = options.version ?? null;
  const checkValid = options.checkValid ?? "full";
  if (checkValid !== "full" && checkValid !== "shallow") {
    throw new TypeError(`task ${name}: checkValid must be "full" or "shallow", got ${JSON.stringify(checkValid)}`);
  }
  const definition: TaskDefinition = {
    name,
    namespace,
    fullName: taskFullName({ namespace, name }),
    hash: taskHash(namespace, name, version, source),
    source,
    version,
    tags: toTagPairs(options.tags),
    cache: options.cache ?? true,
    checkValid,
    fn: fn as (...args: never[]) => unknown,
  };
  const call =
    (callOptions: CallOptions) =>
    (...args: Lazy<A>): Expression<Resolved<R>> => ({ [EXPRESSION]: true, task: callable, args, callOptions });
  // Function `name` is read-only, so properties are defined rather than assigned.
  const callable = call({}) as Task<A, R>;
  for (const [key, value] of Object.entries({ ...definition, options: call })) {
    Object.defineProperty(callable, key, { value, enumerable: true });
  }
  registerTask(callable);
  return callable;
}

// ---- the registry --------------------------------------------------------------

interface Registry {
  byName: Map<string, TaskDefinition>;
  byHash: Map<string, TaskDefinition>;
}

/**
 * One registry per global scope, found by a global symbol: a workflow file
 * that loads its own copy of this module (through the package name) registers
 * where the CLI's copy looks.
 */
const REGISTRY = Symbol.for("redun-edge.task-registry");

function registry(): Registry {
  const scope = globalThis as { [REGISTRY]?: Registry };
  return (scope[REGISTRY] ??= { byName: new Map(), byHash: new Map() });
}

/** Make `definition` the task of its full name (what `task()` does). */
export function registerTask(definition: TaskDefinition): void {
  const { byName, byHash } = registry();
  const old = byName.get(definition.fullName);
  if (old) byHash.delete(old.hash);
  byName.set(definition.fullName, definition);
  byHash.set(definition.hash, definition);
}

/** The task defined now under a full name (`namespace.name`, or `name`). */
export function getTask(fullName: string): TaskDefinition | undefined {
  return registry().byName.get(fullName);
}

/** The task defined now whose hash this is: undefined when no task of that name and hash is defined now. */
export function currentTaskOfHash(hash: string): TaskDefinition | undefined {
  return registry().byHash.get(hash);
}

// ---- expressions and applyTags ------------------------------------------------------

export function isExpression(value: unknown): value is Expression {
  return typeof value === "object" && value !== null && (value as { [EXPRESSION]?: true })[EXPRESSION] === true;
}

export interface ApplyTagsOptions {
  /** Tags of the result Value. */
  tags?: TagInput;
  /** Tags of the current Job. */
  jobTags?: TagInput;
  /** Tags of the Execution. */
  executionTags?: TagInput;
}

export interface TaggedValue<T> {
  readonly [TAGGED]: true;
  readonly value: T;
  readonly options: ApplyTagsOptions;
}

/** Inside a task: return `applyTags(value, {...})` to tag the result, the job or the execution. */
export function applyTags<T>(value: T, options: ApplyTagsOptions): TaggedValue<T> {
  return { [TAGGED]: true, value, options };
}

export function isTagged(value: unknown): value is TaggedValue<unknown> {
  return typeof value === "object" && value !== null && (value as { [TAGGED]?: true })[TAGGED] === true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function containsExpression(value: unknown): boolean {
  if (isExpression(value)) return true;
  if (Array.isArray(value)) return value.some(containsExpression);
  if (isPlainObject(value)) return Object.values(value).some(containsExpression);
  return false;
}
