/**
 * The scheduler: evaluates task expressions (task.ts) into a recorded call
 * graph. No AsyncLocalStorage: `applyTags` returns a marker the scheduler
 * unwraps, so this runs the same in a browser, workerd and Node.
 *
 * Caching follows redun: a recorded evaluation of the same task and arguments
 * is reused only when every task in its recorded call subtree is the task of
 * that name defined now (`checkValid: "full"`, the default; "shallow" checks
 * the task itself only), and the reused subtree (found by reuse.ts) is
 * recorded again, job by job, for the new execution (each CACHED, with the
 * tags its jobs got).
 *
 * Speed: finished records are buffered and written in large batches; a
 * running Job is held back and written only if it is still running at the
 * next timed flush, so in a fan-out each job is written once, finished.
 */
import { InterruptedError, TaskError } from "./errors.ts";
import { argsHash, callNodeHash, evaluationHash } from "./hash.ts";
import type { AnyRecord, CallArgument, ExecutionRecord, JobRecord, JobStatus, TaskRecord } from "./records.ts";
import type { Repository } from "./repository.ts";
import { plainTags, toTagPairs, type TagInput, type TagPair } from "./tags.ts";
import { containsExpression, currentTaskOfHash, isExpression, isTagged, type Expression, type TaskDefinition } from "./task.ts";
import { argumentsOf, createCacheLookup, findReusable, type CacheLookup, type ReusedTree } from "./reuse.ts";
import { makeErrorValueRecord, makeValueRecord } from "./values.ts";

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
   * long run shows its progress (default 1,000; 0 turns the timed flush off).
   */
  flushIntervalMs?: number;
  /**
   * Lease of a running execution (ms, default 60,000): it is renewed at half
   * its length while the run lives, so a run whose process was killed shows
   * as abandoned once the lease passes (`isAbandoned`). 0: no lease.
   */
  leaseMs?: number;
}

/** What a run reports about each job as it goes (`RunOptions.onJob`). */
export interface JobEvent {
  /** RUNNING: its body starts; CACHED: reused from a recorded run; DONE / FAILED: it finished. */
  status: JobStatus;
  job: JobRecord;
  /** Full name of the job's task. */
  taskName: string;
  /** The task defined now; null for a task of a reused subtree that is no longer defined. */
  task: TaskDefinition | null;
  /** The job's arguments; null when they could not be read. */
  args: readonly unknown[] | null;
  /** CACHED: the evaluation (cache entry) reused. */
  evaluationHash?: string;
  /** FAILED: what was thrown (an InterruptedError when the run was interrupted). */
  error?: unknown;
}

export interface RunOptions {
  /** Execution tags. */
  tags?: TagInput;
  /** What was run, recorded on the Execution (default ["run", root task]). */
  argv?: string[];
  /** Called for each job as it starts, is reused, and finishes. */
  onJob?: (event: JobEvent) => void;
  /**
   * Interrupts the run: no job starts after it fires; the jobs running then
   * and the execution are recorded as FAILED with the error "interrupted",
   * and the run rejects with an InterruptedError.
   */
  signal?: AbortSignal;
}

export interface RunResult<R> {
  result: R;
  executionId: string;
}

interface JobContext {
  job: JobRecord;
  definition: TaskDefinition;
  args: readonly unknown[];
  callArgs: CallArgument[];
  argsId: string;
  /** Child call hashes, by call order (a slot is reserved when the call starts). */
  children: (string | null)[];
  /** Job tags collected from task, call options and applyTags. */
  tags: TagPair[];
  finished: boolean;
}

interface ExecutionContext {
  execution: ExecutionRecord;
  extraTags: TagPair[];
  /** Jobs started and not finished. */
  running: Set<JobContext>;
  interrupted: boolean;
  onJob: ((event: JobEvent) => void) | undefined;
  /** Each expression object is evaluated once per run, however many calls use its result. */
  evaluated: WeakMap<Expression, Promise<unknown>>;
}

export class Scheduler {
  readonly repository: Repository;
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly defaultTags: SchedulerOptions["defaultTags"];
  private readonly cacheEnabled: boolean;
  private readonly flushSize: number;
  private readonly flushIntervalMs: number;
  private readonly leaseMs: number;
  private pending = new Map<string, AnyRecord>();
  /** Jobs started and not finished, not yet written. */
  private running = new Map<string, JobRecord>();
  private active = new Set<ExecutionContext>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private flushError: unknown = null;
  private readonly lookup: CacheLookup;
  private writtenTasks = new Set<string>();

  constructor(options: SchedulerOptions) {
    this.repository = options.repository;
    this.now = options.now ?? (() => Date.now());
    this.newId = options.newId ?? (() => globalThis.crypto.randomUUID());
    this.defaultTags = options.defaultTags;
    this.cacheEnabled = options.cache ?? true;
    this.flushSize = options.flushSize ?? 10_000;
    this.flushIntervalMs = options.flushIntervalMs ?? 1_000;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.lookup = createCacheLookup(this.repository, (id) => this.pending.get(id));
  }

  /** Evaluate an expression, record it as an Execution, and return its result. */
  async run<R>(expr: Expression<R>, options: RunOptions = {}): Promise<R> {
    return (await this.runWithId(expr, options)).result;
  }

  /** Like `run`, also returning the new execution's id. */
  async runWithId<R>(expr: Expression<R>, options: RunOptions = {}): Promise<RunResult<R>> {
    const { signal } = options;
    if (signal?.aborted) throw new InterruptedError();
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
      ...(this.leaseMs > 0 ? { leaseUntil: start + this.leaseMs } : {}),
    };
    const defaults = typeof this.defaultTags === "function" ? await this.defaultTags() : this.defaultTags;
    const tags = [...toTagPairs(defaults), ...toTagPairs(options.tags)];
    if (expr.task.namespace && !tags.some(([k]) => k === "project")) tags.push(["project", expr.task.namespace]);
    this.buffer(execution);
    for (const t of plainTags(execution, tags, start)) this.buffer(t);
    const ctx: ExecutionContext = {
      execution, extraTags: [], running: new Set(), interrupted: false, onJob: options.onJob, evaluated: new WeakMap(),
    };
    this.active.add(ctx);
    this.startTimer();
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new InterruptedError(execution.id));
    });
    signal?.addEventListener("abort", onAbort, { once: true });
    const evaluation = this.evalTask(expr, null, ctx, rootJobId);
    // After an interruption the evaluation is left behind; its late failure is not an unhandled one.
    evaluation.catch(() => {});
    try {
      const result = (await (signal ? Promise.race([evaluation, aborted]) : evaluation)) as R;
      this.finishExecution(ctx, "DONE");
      await this.flush();
      return { result, executionId: execution.id };
    } catch (error) {
      if (error instanceof InterruptedError) this.interrupt(ctx, error);
      this.finishExecution(ctx, "FAILED");
      await this.flush();
      throw error;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.active.delete(ctx);
      this.stopTimer();
    }
  }

  /** Record every job still running as FAILED "interrupted"; no job of the run starts or finishes after it. */
  private interrupt(ctx: ExecutionContext, error: InterruptedError): void {
    ctx.interrupted = true;
    for (const jobCtx of [...ctx.running]) this.failJob(jobCtx, ctx, error, "interrupted");
  }

  private startTimer(): void {
    if (this.timer) return;
    const lease = this.leaseMs > 0 ? this.leaseMs / 4 : 0;
    const interval = this.flushIntervalMs > 0 ? (lease ? Math.min(this.flushIntervalMs, lease) : this.flushIntervalMs) : lease;
    if (interval <= 0) return;
    this.timer = setInterval(() => this.tick(), interval);
  }

  private tick(): void {
    const now = this.now();
    for (const ctx of this.active) {
      const lease = ctx.execution.leaseUntil;
      if (lease !== undefined && lease - now <= this.leaseMs / 2) {
        ctx.execution = { ...ctx.execution, leaseUntil: now + this.leaseMs };
        this.buffer(ctx.execution);
      }
    }
    if (this.flushIntervalMs > 0) {
      for (const job of this.running.values()) this.pending.set(job.id, job);
      this.running.clear();
    }
    void this.startFlush();
  }

  private stopTimer(): void {
    if (this.active.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private finishExecution(ctx: ExecutionContext, status: "DONE" | "FAILED"): void {
    const end = this.now();
    ctx.execution = { ...ctx.execution, status, endTime: end };
    this.buffer(ctx.execution);
    for (const t of plainTags(ctx.execution, ctx.extraTags, end)) this.buffer(t);
  }

  private buffer(record: AnyRecord): void {
    this.pending.set(record.id, record);
    if (this.pending.size >= this.flushSize) void this.startFlush();
  }

  private bufferOnce(record: AnyRecord): void {
    if (!this.pending.has(record.id)) this.buffer(record);
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

  /** Evaluate a value that may hold expressions (also inside arrays and plain objects). */
  private async evalValue(value: unknown, parent: JobContext | null, ctx: ExecutionContext): Promise<unknown> {
    if (isExpression(value)) {
      // `const g = greet(n); [shout(g), count(g)]` runs greet once, as redun does.
      let evaluation = ctx.evaluated.get(value);
      if (!evaluation) ctx.evaluated.set(value, (evaluation = this.evalTask(value, parent, ctx)));
      return evaluation;
    }
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
    // Calls in the arguments start first (each reserves its slot before its first await), then this call
    // reserves its slot: the parent's children are in call order, arguments before the call using them,
    // whatever order they finish in.
    const pendingArgs = containsExpression(expr.args) ? this.evalValue(expr.args, parent, ctx) : null;
    const slot = parent ? parent.children.push(null) - 1 : -1;
    const args = pendingArgs ? ((await pendingArgs) as unknown[]) : expr.args;
    checkInterrupted(ctx);
    const start = this.now();
    this.writeTask(definition, start);

    const callArgs: CallArgument[] = [];
    for (let i = 0; i < args.length; i++) {
      const value = makeValueRecord(args[i], start);
      this.bufferOnce(value);
      callArgs.push({ key: String(i), valueHash: value.id });
    }
    const argsId = argsHash(callArgs);
    const evalId = evaluationHash(definition.hash, argsId);
    const callTags = toTagPairs(expr.callOptions.tags);

    const useCache = this.cacheEnabled && definition.cache && expr.callOptions.cache !== false;
    if (useCache) {
      const reused = await findReusable(this.lookup, this.repository, definition, evalId, ctx.onJob !== undefined);
      checkInterrupted(ctx);
      if (reused) {
        const callHash = reused.evaluation.callHash;
        this.recordReused(reused, callHash, parent ? parent.job.id : null, jobId, ctx, callTags, args);
        if (parent) parent.children[slot] = callHash;
        return reused.value;
      }
    }

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
      job, definition, args, callArgs, argsId, children: [], tags: [...definition.tags, ...callTags], finished: false,
    };
    this.running.set(job.id, job);
    ctx.running.add(jobCtx);
    ctx.onJob?.({ status: "RUNNING", job, taskName: definition.fullName, task: definition, args });

    let result: unknown;
    const applied: TagPair[] = [];
    const valueTags: TagPair[] = [];
    const executionTags: TagPair[] = [];
    try {
      result = await (definition.fn as (...a: unknown[]) => unknown)(...args);
      checkInterrupted(ctx);
      while (isTagged(result) || containsExpression(result)) {
        if (isTagged(result)) {
          valueTags.push(...toTagPairs(result.options.tags));
          applied.push(...toTagPairs(result.options.jobTags));
          const own = toTagPairs(result.options.executionTags);
          executionTags.push(...own);
          ctx.extraTags.push(...own);
          result = await result.value;
        } else {
          result = await this.evalValue(result, jobCtx, ctx);
        }
        checkInterrupted(ctx);
      }
    } catch (error) {
      // Interrupted: the interruption recorded this job already.
      if (ctx.interrupted) throw error instanceof InterruptedError ? error : new InterruptedError(ctx.execution.id);
      this.failJob(jobCtx, ctx, error, error instanceof TaskError ? `child job ${error.jobId} failed` : errorText(error));
      throw error instanceof TaskError ? error : new TaskError(definition.fullName, job.id, { cause: error });
    }
    jobCtx.tags.push(...applied);

    const end = this.now();
    const resultRecord = makeValueRecord(result, end);
    this.bufferOnce(resultRecord);
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
      ...(executionTags.length ? { executionTags } : {}),
    });
    this.finishJob(jobCtx, ctx, "DONE", callHash, null);
    if (parent) parent.children[slot] = callHash;
    return result;
  }

  /** Record a reused subtree for this execution: one CACHED job per call, in call order. */
  private recordReused(
    tree: ReusedTree,
    callHash: string,
    parentId: string | null,
    jobId: string,
    ctx: ExecutionContext,
    callTags: readonly TagPair[],
    args: readonly unknown[] | null,
  ): void {
    const call = tree.calls.get(callHash)!;
    const time = this.now();
    const definition = currentTaskOfHash(call.taskHash) ?? null;
    const evaluation = tree.evaluations.get(callHash);
    const job: JobRecord = {
      type: "Job",
      id: jobId,
      time,
      executionId: ctx.execution.id,
      parentId,
      taskHash: call.taskHash,
      callHash,
      startTime: time,
      endTime: time,
      status: "CACHED",
      error: null,
    };
    this.buffer(job);
    const taskTags = definition ? definition.tags : (tree.storedTaskTags.get(call.taskHash) ?? []);
    const tags = [...taskTags, ...callTags, ...(evaluation?.jobTags ?? [])];
    for (const t of plainTags(job, tags, time)) this.buffer(t);
    if (evaluation?.executionTags?.length) ctx.extraTags.push(...evaluation.executionTags);
    if (ctx.onJob) {
      ctx.onJob({
        status: "CACHED",
        job,
        taskName: definition?.fullName ?? call.taskHash.slice(0, 8),
        task: definition,
        args: args ?? argumentsOf(call, tree.values),
        evaluationHash: evaluationHash(call.taskHash, call.argsHash),
      });
    }
    for (const child of call.children) this.recordReused(tree, child, jobId, this.newId(), ctx, [], null);
  }

  /** Record a job as FAILED with its arguments and the error (its CallNode's result is the error's Value). */
  private failJob(jobCtx: JobContext, ctx: ExecutionContext, error: unknown, text: string): void {
    if (jobCtx.finished) return;
    const end = this.now();
    const errorValue = makeErrorValueRecord(rootCause(error), end);
    this.bufferOnce(errorValue);
    const children = jobCtx.children.filter((c): c is string => c !== null);
    const callHash = callNodeHash(jobCtx.definition.hash, jobCtx.argsId, errorValue.id, children);
    this.buffer({
      type: "CallNode",
      id: callHash,
      time: end,
      taskHash: jobCtx.definition.hash,
      argsHash: jobCtx.argsId,
      args: jobCtx.callArgs,
      resultHash: errorValue.id,
      children,
    });
    this.finishJob(jobCtx, ctx, "FAILED", callHash, text, error);
  }

  private finishJob(
    jobCtx: JobContext,
    ctx: ExecutionContext,
    status: JobRecord["status"],
    callHash: string | null,
    error: string | null,
    thrown?: unknown,
  ): void {
    if (jobCtx.finished) return;
    jobCtx.finished = true;
    const end = this.now();
    const job: JobRecord = { ...jobCtx.job, status, callHash, endTime: end, error };
    this.running.delete(job.id);
    ctx.running.delete(jobCtx);
    this.buffer(job);
    for (const t of plainTags(job, jobCtx.tags, end)) this.buffer(t);
    ctx.onJob?.({
      status, job, taskName: jobCtx.definition.fullName, task: jobCtx.definition, args: jobCtx.args,
      ...(status === "FAILED" ? { error: thrown } : {}),
    });
  }
}

function checkInterrupted(ctx: ExecutionContext): void {
  if (ctx.interrupted) throw new InterruptedError(ctx.execution.id);
}

/** The error a failure started from: a failed child's, through the TaskErrors of its callers. */
function rootCause(error: unknown): unknown {
  let e = error;
  while (e instanceof TaskError && e.cause !== undefined) e = e.cause;
  return e;
}

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
