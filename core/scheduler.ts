/**
 * Tasks, lazy expressions and the scheduler that evaluates them into a
 * recorded call graph. No AsyncLocalStorage: `applyTags` returns a marker the
 * scheduler unwraps, so this runs the same in a browser, workerd and Node.
 *
 * Speed: finished records are buffered and written in large batches; a
 * running Job is held back and written only if it is still running at the
 * next timed flush, so in a fan-out each job is written once, finished. Cache
 * look-ups of concurrent jobs are coalesced into one `get` per type per tick.
 */
import { TaskError } from "./errors.ts";
import { argsHash, callNodeHash, canonicalJson, evaluationHash, taskHash, valueHash, valueTypeOf } from "./hash.ts";
import {
  MAX_VALUE_BYTES,
  PREVIEW_CHARS,
  type AnyRecord,
  type CallArgument,
  type EvaluationRecord,
  type ExecutionRecord,
  type JobRecord,
  type JsonValue,
  type RecordOf,
  type TaskRecord,
  type ValueRecord,
} from "./records.ts";
import type { Repository } from "./repository.ts";
import { plainTags, toTagPairs, type TagInput, type TagPair } from "./tags.ts";

const EXPRESSION = Symbol.for("redun-edge.expression");
const TAGGED = Symbol.for("redun-edge.apply-tags");

export interface TaskOptions {
  namespace?: string;
  /** When given, the task's hash uses it instead of the source text. */
  version?: string;
  /** Tags of the Task, also given to every job of it. */
  tags?: TagInput;
  /** Reuse recorded results for the same arguments (default true). */
  cache?: boolean;
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
  readonly fn: (...args: never[]) => unknown;
}

export interface Task<A extends unknown[], R> extends TaskDefinition {
  (...args: Lazy<A>): Expression<Resolved<R>>;
  /** Call-time options: `myTask.options({ tags })(...args)`. */
  options(callOptions: CallOptions): (...args: Lazy<A>) => Expression<Resolved<R>>;
}

/** Wrap a function as a task. Calling the task returns a lazy expression. */
export function task<A extends unknown[], R>(
  name: string,
  fn: (...args: A) => R,
  options: TaskOptions = {},
): Task<A, R> {
  const namespace = options.namespace ?? "";
  const source = options.source ?? fn.toString();
  const version = options.version ?? null;
  const definition: TaskDefinition = {
    name,
    namespace,
    fullName: namespace ? `${namespace}.${name}` : name,
    hash: taskHash(namespace, name, version, source),
    source,
    version,
    tags: toTagPairs(options.tags),
    cache: options.cache ?? true,
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
  return callable;
}

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

function isTagged(value: unknown): value is TaggedValue<unknown> {
  return typeof value === "object" && value !== null && (value as { [TAGGED]?: true })[TAGGED] === true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function containsExpression(value: unknown): boolean {
  if (isExpression(value)) return true;
  if (Array.isArray(value)) return value.some(containsExpression);
  if (isPlainObject(value)) return Object.values(value).some(containsExpression);
  return false;
}

/** Environment the host supplies; the core reads no platform APIs itself. */
export interface SchedulerOptions {
  repository: Repository;
  /** Clock in ms since epoch (default Date.now). */
  now?: () => number;
  /** New uuid for executions and jobs (default crypto.randomUUID). */
  newId?: () => string;
  /** Default execution tags (version, user, git commit/origin, project), from the host. */
  defaultTags?: TagInput | (() => TagInput | Promise<TagInput>);
  /** Turn caching off for every task (default on). */
  cache?: boolean;
  /** Buffered finished records that trigger a write (default 10,000). */
  flushSize?: number;
  /**
   * How often (ms) everything buffered, running jobs included, is written so a
   * long run shows its progress (default 1,000; 0 turns the timer off).
   */
  flushIntervalMs?: number;
}

export interface RunOptions {
  /** Execution tags. */
  tags?: TagInput;
  /** What was run, recorded on the Execution (default ["run", root task]). */
  argv?: string[];
}

export interface RunResult<R> {
  result: R;
  executionId: string;
}

interface JobContext {
  job: JobRecord;
  /** Child call hashes, by call order (a slot is reserved when the call starts). */
  children: (string | null)[];
  /** Job tags collected from task, call options and applyTags. */
  tags: TagPair[];
}

interface ExecutionContext {
  execution: ExecutionRecord;
  extraTags: TagPair[];
}

/** Encode a value as a Value record (previewed when too large). */
export function makeValueRecord(value: unknown, time: number): ValueRecord {
  const valueType = valueTypeOf(value);
  const encoded = canonicalJson(value);
  const id = valueHash(valueType, encoded);
  const size = utf8Length(encoded);
  if (size > MAX_VALUE_BYTES) {
    return { type: "Value", id, time, valueType, encoded: encoded.slice(0, PREVIEW_CHARS), size, preview: true };
  }
  return { type: "Value", id, time, valueType, encoded, size, preview: false };
}

const ASCII = /^[\x00-\x7f]*$/;

/** UTF-8 byte length of a string, without encoding it (a regex answers plain ASCII fast). */
export function utf8Length(text: string): number {
  if (ASCII.test(text)) return text.length;
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 2 units, 4 bytes
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** The JS value a (non-preview) Value record holds. */
export function decodeValue(record: ValueRecord): unknown {
  if (record.valueType === "undefined") return undefined;
  return JSON.parse(record.encoded) as JsonValue;
}

export class Scheduler {
  readonly repository: Repository;
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly defaultTags: SchedulerOptions["defaultTags"];
  private readonly cacheEnabled: boolean;
  private readonly flushSize: number;
  private readonly flushIntervalMs: number;
  private pending = new Map<string, AnyRecord>();
  /** Jobs started and not finished, not yet written. */
  private running = new Map<string, JobRecord>();
  private activeRuns = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private flushError: unknown = null;
  private lookups = new Map<LookupType, Map<string, ((r: AnyRecord | undefined) => void)[]>>();
  private lookupScheduled = false;
  private writtenTasks = new Set<string>();

  constructor(options: SchedulerOptions) {
    this.repository = options.repository;
    this.now = options.now ?? (() => Date.now());
    this.newId = options.newId ?? (() => globalThis.crypto.randomUUID());
    this.defaultTags = options.defaultTags;
    this.cacheEnabled = options.cache ?? true;
    this.flushSize = options.flushSize ?? 10_000;
    this.flushIntervalMs = options.flushIntervalMs ?? 1_000;
  }

  /** Evaluate an expression, record it as an Execution, and return its result. */
  async run<R>(expr: Expression<R>, options: RunOptions = {}): Promise<R> {
    return (await this.runWithId(expr, options)).result;
  }

  /** Like `run`, also returning the new execution's id. */
  async runWithId<R>(expr: Expression<R>, options: RunOptions = {}): Promise<RunResult<R>> {
    const start = this.now();
    const rootJobId = this.newId();
    const execution: ExecutionRecord = {
      type: "Execution",
      id: this.newId(),
      time: start,
      rootJobId,
      argv: options.argv ?? ["run", expr.task.fullName],
      startTime: start,
      endTime: null,
      status: "RUNNING",
    };
    const defaults = typeof this.defaultTags === "function" ? await this.defaultTags() : this.defaultTags;
    const tags = [...toTagPairs(defaults), ...toTagPairs(options.tags)];
    if (expr.task.namespace && !tags.some(([k]) => k === "project")) tags.push(["project", expr.task.namespace]);
    this.buffer(execution);
    for (const t of plainTags(execution, tags, start)) this.buffer(t);
    const ctx: ExecutionContext = { execution, extraTags: [] };
    this.startTimer();
    try {
      const result = (await this.evalTask(expr, null, ctx, rootJobId)) as R;
      this.finishExecution(ctx, "DONE");
      await this.flush();
      return { result, executionId: execution.id };
    } catch (error) {
      this.finishExecution(ctx, "FAILED");
      await this.flush();
      throw error;
    } finally {
      this.stopTimer();
    }
  }

  private startTimer(): void {
    this.activeRuns += 1;
    if (this.timer || this.flushIntervalMs <= 0) return;
    this.timer = setInterval(() => {
      for (const job of this.running.values()) this.pending.set(job.id, job);
      this.running.clear();
      void this.startFlush();
    }, this.flushIntervalMs);
  }

  private stopTimer(): void {
    this.activeRuns -= 1;
    if (this.activeRuns === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private finishExecution(ctx: ExecutionContext, status: "DONE" | "FAILED"): void {
    const end = this.now();
    this.buffer({ ...ctx.execution, status, endTime: end });
    for (const t of plainTags(ctx.execution, ctx.extraTags, end)) this.buffer(t);
  }

  private buffer(record: AnyRecord): void {
    this.pending.set(record.id, record);
    if (this.pending.size >= this.flushSize) void this.startFlush();
  }

  private startFlush(): Promise<void> {
    if (this.pending.size === 0) return this.flushing;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.flushing = this.flushing.then(async () => {
      try {
        await this.repository.write(batch);
      } catch (error) {
        this.flushError ??= error;
      }
    });
    return this.flushing;
  }

  /** Write everything buffered; rethrows the first write failure. */
  async flush(): Promise<void> {
    await this.startFlush();
    await this.flushing;
    if (this.flushError) {
      const error = this.flushError;
      this.flushError = null;
      throw error;
    }
  }

  /** Coalesce concurrent cache look-ups into one repository read per type per tick. */
  private lookup<T extends LookupType>(type: T, id: string): Promise<RecordOf<T> | undefined> {
    const buffered = this.pending.get(id);
    if (buffered?.type === type) return Promise.resolve(buffered as RecordOf<T>);
    return new Promise((resolve) => {
      let byId = this.lookups.get(type);
      if (!byId) this.lookups.set(type, (byId = new Map()));
      const waiting = byId.get(id);
      const settle = resolve as (r: AnyRecord | undefined) => void;
      if (waiting) waiting.push(settle);
      else byId.set(id, [settle]);
      if (!this.lookupScheduled) {
        this.lookupScheduled = true;
        queueMicrotask(() => void this.runLookups());
      }
    });
  }

  private async runLookups(): Promise<void> {
    this.lookupScheduled = false;
    const batches = this.lookups;
    this.lookups = new Map();
    await Promise.all(
      [...batches].map(async ([type, byId]) => {
        let found = new Map<string, AnyRecord>();
        try {
          found = new Map((await this.repository.get(type, [...byId.keys()])).map((r) => [r.id, r]));
        } catch {
          // A failed cache read is a cache miss: the job runs.
        }
        for (const [id, resolvers] of byId) for (const resolve of resolvers) resolve(found.get(id));
      }),
    );
  }

  private async cachedResult(evaluation: EvaluationRecord): Promise<{ value: unknown } | null> {
    const record = await this.lookup("Value", evaluation.valueHash);
    if (!record || record.preview) return null;
    return { value: decodeValue(record) };
  }

  /** Evaluate a value that may hold expressions (also inside arrays and plain objects). */
  private async evalValue(value: unknown, parent: JobContext | null, ctx: ExecutionContext): Promise<unknown> {
    if (isExpression(value)) return this.evalTask(value, parent, ctx);
    if (!containsExpression(value)) return value;
    if (Array.isArray(value)) return settleAll(value.map((v) => this.evalValue(v, parent, ctx)));
    const entries = Object.entries(value as Record<string, unknown>);
    const values = await settleAll(entries.map(([, v]) => this.evalValue(v, parent, ctx)));
    return Object.fromEntries(entries.map(([k], i) => [k, values[i]]));
  }

  private writeTask(definition: TaskDefinition, time: number): void {
    if (this.writtenTasks.has(definition.hash)) return;
    this.writtenTasks.add(definition.hash);
    const record: TaskRecord = {
      type: "Task",
      id: definition.hash,
      time,
      name: definition.name,
      namespace: definition.namespace,
      source: definition.source,
      version: definition.version,
    };
    this.buffer(record);
    for (const t of plainTags({ type: "Task", id: record.id }, definition.tags, time)) this.buffer(t);
  }

  private async evalTask(
    expr: Expression,
    parent: JobContext | null,
    ctx: ExecutionContext,
    jobId: string = this.newId(),
  ): Promise<unknown> {
    const definition = expr.task;
    // Reserve the child slot now, so child calls keep their call order.
    const slot = parent ? parent.children.push(null) - 1 : -1;
    const args = containsExpression(expr.args)
      ? ((await this.evalValue(expr.args, parent, ctx)) as unknown[])
      : expr.args;
    const start = this.now();
    this.writeTask(definition, start);
    const job: JobRecord = {
      type: "Job",
      id: jobId,
      time: start,
      executionId: ctx.execution.id,
      parentId: parent ? parent.job.id : null,
      taskHash: definition.hash,
      callHash: null,
      startTime: start,
      endTime: null,
      status: "RUNNING",
      error: null,
    };
    const jobCtx: JobContext = {
      job,
      children: [],
      tags: [...definition.tags, ...toTagPairs(expr.callOptions.tags)],
    };
    this.running.set(job.id, job);

    const callArgs: CallArgument[] = [];
    for (let i = 0; i < args.length; i++) {
      const value = makeValueRecord(args[i], start);
      if (!this.pending.has(value.id)) this.buffer(value);
      callArgs.push({ key: String(i), valueHash: value.id });
    }
    const argsId = argsHash(callArgs);
    const evalId = evaluationHash(definition.hash, argsId);

    const useCache = this.cacheEnabled && definition.cache && expr.callOptions.cache !== false;
    if (useCache) {
      const evaluation = await this.lookup("Evaluation", evalId);
      const cached = evaluation ? await this.cachedResult(evaluation) : null;
      if (evaluation && cached) {
        jobCtx.tags.push(...evaluation.jobTags);
        this.finishJob(jobCtx, "CACHED", evaluation.callHash, null);
        if (parent) parent.children[slot] = evaluation.callHash;
        return cached.value;
      }
    }

    let result: unknown;
    const applied: TagPair[] = [];
    const valueTags: TagPair[] = [];
    try {
      result = await (definition.fn as (...a: unknown[]) => unknown)(...args);
      while (isTagged(result) || containsExpression(result)) {
        if (isTagged(result)) {
          valueTags.push(...toTagPairs(result.options.tags));
          applied.push(...toTagPairs(result.options.jobTags));
          ctx.extraTags.push(...toTagPairs(result.options.executionTags));
          result = await result.value;
        } else {
          result = await this.evalValue(result, jobCtx, ctx);
        }
      }
    } catch (error) {
      this.finishJob(jobCtx, "FAILED", null, error instanceof TaskError ? `child job ${error.jobId} failed` : errorText(error));
      throw error instanceof TaskError ? error : new TaskError(definition.fullName, job.id, { cause: error });
    }
    jobCtx.tags.push(...applied);

    const end = this.now();
    const resultRecord = makeValueRecord(result, end);
    if (!this.pending.has(resultRecord.id)) this.buffer(resultRecord);
    for (const t of plainTags({ type: "Value", id: resultRecord.id }, valueTags, end)) this.buffer(t);
    const children = jobCtx.children.filter((c): c is string => c !== null);
    const callHash = callNodeHash(definition.hash, argsId, resultRecord.id, children);
    this.buffer({
      type: "CallNode",
      id: callHash,
      time: end,
      taskHash: definition.hash,
      argsHash: argsId,
      args: callArgs,
      resultHash: resultRecord.id,
      children,
    });
    this.buffer({
      type: "Evaluation",
      id: evalId,
      time: end,
      taskHash: definition.hash,
      argsHash: argsId,
      valueHash: resultRecord.id,
      callHash,
      jobTags: applied,
    });
    this.finishJob(jobCtx, "DONE", callHash, null);
    if (parent) parent.children[slot] = callHash;
    return result;
  }

  private finishJob(jobCtx: JobContext, status: JobRecord["status"], callHash: string | null, error: string | null): void {
    const end = this.now();
    const job: JobRecord = { ...jobCtx.job, status, callHash, endTime: end, error };
    this.running.delete(job.id);
    this.buffer(job);
    for (const t of plainTags(job, jobCtx.tags, end)) this.buffer(t);
  }
}

type LookupType = "Evaluation" | "Value";

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Like Promise.all, but waits for every promise before rejecting with the first error. */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}
