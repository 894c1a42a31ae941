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

// ---- parameters ------------------------------------------------------------------

/**
 * A task function's parameters, read from its source so a command line can
 * name them (`--names a,b --fail true`) and refuse names it does not have:
 * - `names`: plain parameters in order (null for a destructuring one), and
 *   whether a `...rest` parameter ends them;
 * - `object`: one destructured object parameter (`({ name, n = 1 })`): its
 *   keys, and `open` when it takes other keys too (`...rest`, computed keys).
 * null when the source cannot be read so.
 */
export type TaskParameters =
  | { kind: "names"; names: (string | null)[]; rest: boolean }
  | { kind: "object"; keys: string[]; open: boolean };

const IDENT = /^[A-Za-z_$][\w$]*/;

/** The parameters of a function, from its source text (see TaskParameters). */
export function functionParameters(fn: (...args: never[]) => unknown): TaskParameters | null {
  return sourceParameters(Function.prototype.toString.call(fn));
}

/** The parameters of a function from its text (a recorded task's `source`); see TaskParameters. */
export function sourceParameters(source: string): TaskParameters | null {
  let text = source.trimStart();
  text = text.replace(/^async\s+/, "");
  const single = /^([A-Za-z_$][\w$]*)\s*=>/.exec(text);
  let list: string;
  if (single) list = single[1]!;
  else {
    const open = text.indexOf("(");
    if (open === -1) return null;
    const close = matching(text, open);
    if (close === -1) return null;
    list = text.slice(open + 1, close);
  }
  const params = splitTopLevel(list);
  if (params.length === 1 && params[0]!.startsWith("{")) {
    const close = matching(params[0]!, 0);
    if (close === -1) return null;
    const keys: string[] = [];
    let open = false;
    for (const entry of splitTopLevel(params[0]!.slice(1, close))) {
      if (entry.startsWith("...")) open = true;
      else {
        const key = /^(?:([A-Za-z_$][\w$]*)|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')/.exec(entry);
        if (key) keys.push(key[1] ?? key[2] ?? key[3]!);
        else open = true;
      }
    }
    return { kind: "object", keys, open };
  }
  const names: (string | null)[] = [];
  let rest = false;
  for (const param of params) {
    if (param.startsWith("...")) {
      rest = true;
      break;
    }
    names.push(IDENT.exec(param)?.[0] ?? null);
  }
  return { kind: "names", names, rest };
}

/** Index of the bracket closing the one at `open`, skipping strings, templates and comments; -1 if none. */
function matching(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === "/" && text[i + 1] === "/") i = endOf(text, "\n", i + 2);
    else if (c === "/" && text[i + 1] === "*") i = endOf(text, "*/", i + 2) + 1;
    else if (c === '"' || c === "'" || c === "`") i = endOfString(text, i);
    else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function endOf(text: string, token: string, from: number): number {
  const at = text.indexOf(token, from);
  return at === -1 ? text.length : at;
}

function endOfString(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === quote) return i;
    else if (quote === "`" && text[i] === "$" && text[i + 1] === "{") {
      i = matching(text, i + 1);
      if (i === -1) return text.length;
    }
  }
  return text.length;
}

/** Split at commas outside brackets, strings and comments; parts trimmed, empty ones dropped. */
function splitTopLevel(list: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    if (c === "(" || c === "[" || c === "{") i = matching(list, i);
    else if (c === '"' || c === "'" || c === "`") i = endOfString(list, i);
    else if (c === "/" && list[i + 1] === "/") i = endOf(list, "\n", i + 2);
    else if (c === "/" && list[i + 1] === "*") i = endOf(list, "*/", i + 2) + 1;
    else if (c === ",") {
      parts.push(list.slice(start, i));
      start = i + 1;
    }
    if (i === -1) return [];
  }
  parts.push(list.slice(start));
  return parts.map((p) => p.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, "").trim()).filter(Boolean);
}
