import { describe, expect, it } from "vitest";
import {
  CallGraph,
  Scheduler,
  TaskError,
  applyTags,
  isAbandoned,
  task,
  type ExecutionRecord,
  type JobEvent,
  type JobRecord,
} from "redun-edge";
import { currentTaskOfHash, functionParameters, getTask } from "redun-edge/adapter-kit";
import { createMemoryRepository } from "redun-edge/memory";

function setup(options: { defaultTags?: Record<string, string> } = {}) {
  const repository = createMemoryRepository();
  let t = 1_000;
  const now = () => (t += 1);
  const scheduler = new Scheduler({ repository, now, defaultTags: options.defaultTags });
  return { repository, scheduler, graph: new CallGraph(repository, { now }) };
}

const all = <T>(repository: ReturnType<typeof createMemoryRepository>, type: "Job" | "Execution") =>
  [...(repository.raw.get(type)?.values() ?? [])] as T[];

describe("Scheduler", () => {
  it("evaluates lazily: calling a task runs nothing", async () => {
    let calls = 0;
    const t = task("t", () => ++calls);
    const expr = t();
    expect(calls).toBe(0);
    const { scheduler } = setup();
    expect(await scheduler.run(expr)).toBe(1);
  });

  it("evaluates independent arguments concurrently", async () => {
    let running = 0;
    let peak = 0;
    const slow = task("slow", async (x: number) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 20));
      running -= 1;
      return x;
    });
    const add3 = task("add3", (a: number, b: number, c: number) => a + b + c);
    const { scheduler } = setup();
    expect(await scheduler.run(add3(slow(1), slow(2), slow(3)))).toBe(6);
    expect(peak).toBe(3);
  });

  it("records nested calls as child jobs, with expressions inside arrays and objects", async () => {
    const compile = task("compile", (f: string) => `${f}.o`, { namespace: "build" });
    const link = task("link", (objs: string[], opts: { out: string }) => `${opts.out}<-${objs.join("+")}`, { namespace: "build" });
    const make = task(
      "make",
      (files: string[]) => link(files.map((f) => compile(f)), { out: task("name", () => "app")() }),
      { namespace: "build" },
    );
    const { scheduler, repository, graph } = setup();
    const { result, executionId } = await scheduler.runWithId(make(["a", "b"]));
    expect(result).toBe("app<-a.o+b.o");
    const jobs = all<JobRecord>(repository, "Job");
    expect(jobs).toHaveLength(5);
    const root = jobs.find((j) => j.parentId === null)!;
    expect(jobs.filter((j) => j.parentId === root.id)).toHaveLength(4);
    const detail = await graph.show(executionId);
    expect(detail.jobTree!.children.map((c) => c.taskName)).toEqual(["build.compile", "build.compile", "name", "build.link"]);
    // The root call node lists its children in call order.
    const rootCall = (await graph.show(root.id)).call!;
    expect(rootCall.children).toHaveLength(4);
    expect(rootCall.result!.value).toBe("app<-a.o+b.o");
  });

  it("records failures: job and execution FAILED, error kept, a TaskError thrown", async () => {
    const bad = task("bad", (x: number) => {
      if (x > 1) throw new RangeError(`too big: ${x}`);
      return x;
    });
    const fan = task("fan", () => [1, 2].map((x) => bad(x)));
    const { scheduler, repository } = setup();
    const error = await scheduler.run(fan()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskError);
    expect((error as TaskError).message).toContain("too big: 2");
    expect((error as TaskError).cause).toBeInstanceOf(RangeError);
    const [exec] = all<ExecutionRecord>(repository, "Execution");
    expect(exec!.status).toBe("FAILED");
    expect(exec!.endTime).not.toBeNull();
    const jobs = all<JobRecord>(repository, "Job");
    expect(jobs.map((j) => j.status).sort()).toEqual(["DONE", "FAILED", "FAILED"]);
    expect(jobs.find((j) => j.error?.includes("RangeError: too big: 2"))).toBeDefined();
    expect(jobs.find((j) => j.parentId === null)!.error).toMatch(/child job .* failed/);
  });

  it("tags: task tags on the Task and every job, call-time options, applyTags, execution and default tags", async () => {
    const leaf = task("leaf", (x: number) => applyTags(x * 2, { tags: { doubled: true }, jobTags: { leafJob: x }, executionTags: { touched: "leaf" } }), {
      tags: { layer: "leaf" },
    });
    const root = task("root", () => [leaf(1), leaf.options({ tags: { special: "yes" } })(2)], { namespace: "proj" });
    const { scheduler, graph } = setup({ defaultTags: { user: "alice" } });
    const { executionId } = await scheduler.runWithId(root(), { tags: [["run", 1], ["run", 2]] });
    const exec = (await graph.show(executionId)).record;
    expect(exec.tags).toEqual([["project", "proj"], ["run", 1], ["run", 2], ["touched", "leaf"], ["user", "alice"]]);
    const leafJobs = (await graph.log({ types: ["Job"], taskNames: ["leaf"] })).records;
    expect(leafJobs.map((j) => j.tags).sort()).toEqual([
      [["layer", "leaf"], ["leafJob", 1]],
      [["layer", "leaf"], ["leafJob", 2], ["special", "yes"]],
    ].sort());
    const task0 = (await graph.log({ types: ["Task"], taskNames: ["leaf"] })).records[0]!;
    expect(task0.tags).toEqual([["layer", "leaf"]]);
    const values = (await graph.log({ types: ["Value"], tags: [["doubled", true]] })).records;
    expect(values.map((v) => (v.type === "Value" ? v.value : null)).sort()).toEqual([2, 4]);
  });

  it("caches by task and arguments; a cached job gets the tags the reused job got", async () => {
    let runs = 0;
    const work = task("work", (x: number) => {
      runs += 1;
      return applyTags(x + 1, { jobTags: { computed: x } });
    }, { tags: { t: 1 } });
    const { scheduler, graph } = setup();
    await scheduler.run(work(1));
    await scheduler.run(work(1));
    await scheduler.run(work(2));
    expect(runs).toBe(2);
    const jobs = (await graph.log({ types: ["Job"] })).records as (JobRecord & { tags: unknown[] })[];
    expect(jobs.map((j) => j.status)).toEqual(["DONE", "CACHED", "DONE"]);
    expect(jobs[1]!.tags).toEqual([["computed", 1], ["t", 1]]);
    // Caching can be turned off per task, per call and per scheduler.
    const noCache = task("nc", () => ++runs, { cache: false });
    await scheduler.run(noCache());
    await scheduler.run(noCache());
    await scheduler.run(work.options({ cache: false })(1));
    expect(runs).toBe(5);
  });

  it("gives the same ids to the same task, value and call recorded in two stores", async () => {
    const f = task("f", (x: number) => ({ y: x, z: [x] }), { namespace: "n" });
    const a = setup();
    const b = setup();
    await a.scheduler.run(f(3));
    await b.scheduler.run(f(3));
    for (const type of ["CallNode", "Task", "Value", "Evaluation"] as const) {
      expect([...a.repository.raw.get(type)!.keys()].sort()).toEqual([...b.repository.raw.get(type)!.keys()].sort());
    }
  });

  it("writes each job of a fan-out once, finished; a long-running job shows as RUNNING on the timer", async () => {
    const repository = createMemoryRepository();
    const writes = new Map<string, number>();
    const counting = {
      ...repository,
      write: async (records: Parameters<typeof repository.write>[0]) => {
        for (const r of records) if (r.type === "Job") writes.set(r.id, (writes.get(r.id) ?? 0) + 1);
        return repository.write(records);
      },
    };
    const leaf = task("leaf", (i: number) => i * 2);
    const fan = task("fan", (n: number) => Array.from({ length: n }, (_, i) => leaf(i)));
    await new Scheduler({ repository: counting, flushSize: 100 }).run(fan(1000));
    expect(writes.size).toBe(1001);
    expect([...writes.values()].filter((n) => n > 1).length).toBeLessThanOrEqual(1); // only the root may be written twice

    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = task("slow", async () => {
      await gate;
      return "done";
    });
    const scheduler = new Scheduler({ repository, flushIntervalMs: 10 });
    const running = scheduler.run(slow());
    await new Promise((r) => setTimeout(r, 50));
    const seen = all<JobRecord>(repository, "Job").filter((j) => j.status === "RUNNING");
    expect(seen).toHaveLength(1);
    release();
    await running;
    expect(all<JobRecord>(repository, "Job").find((j) => j.id === seen[0]!.id)!.status).toBe("DONE");
  });
});

describe("task hashes", () => {
  it("fold white space, so type-stripped TypeScript hashes as the same JavaScript", () => {
    const js = task("main", ({ name = "World" } = {}) => name, { source: '({ name = "World" } = {}) => name' });
    const stripped = task("main", ({ name = "World" } = {}) => name, { source: '({ name = "World" }                    = {}) => name' });
    const changed = task("main", () => "x", { source: '({ name = "Earth" } = {}) => name' });
    expect(stripped.hash).toBe(js.hash);
    expect(changed.hash).not.toBe(js.hash);
    expect(task("main", () => 1, { version: "2" }).hash).not.toBe(task("main", () => 1, { version: "3" }).hash);
  });
});

describe("expressions", () => {
  it("evaluates one expression object once per run, however many calls use it", async () => {
    let runs = 0;
    const greet = task("greet", (n: string) => (runs++, `hi ${n}`), { namespace: "once" });
    const pair = task("pair", (a: string, b: number) => [a, b], { namespace: "once" });
    const len = task("len", (s: string) => s.length, { namespace: "once" });
    const top = task("top", () => {
      const g = greet("x");
      return [pair(g, len(g)), g];
    }, { namespace: "once" });
    const { scheduler, repository } = setup();
    const { result, executionId } = await scheduler.runWithId(top());
    expect(result).toEqual([["hi x", 4], "hi x"]);
    expect(runs).toBe(1);
    expect((await repository.jobsOfExecution(executionId)).length).toBe(4);
  });
});

describe("the task registry", () => {
  it("knows tasks by full name; a later definition of a name replaces the earlier", () => {
    const a = task("same", () => 1, { namespace: "reg" });
    expect(getTask("reg.same")).toBe(a);
    expect(currentTaskOfHash(a.hash)).toBe(a);
    const b = task("same", () => 2, { namespace: "reg" });
    expect(getTask("reg.same")).toBe(b);
    expect(currentTaskOfHash(a.hash)).toBeUndefined();
    expect(currentTaskOfHash(b.hash)).toBe(b);
    expect(() => task("bad", () => 1, { checkValid: "deep" as never })).toThrow(/checkValid/);
  });
});

describe("reuse", () => {
  it("reads a reused tree level by level: a few reads, however wide the tree", async () => {
    const repository = createMemoryRepository();
    let reads = 0;
    const counting = { ...repository, get: ((type, ids) => (reads++, repository.get(type, ids))) as typeof repository.get };
    const twig = task("twig", (i: number) => i * 3, { namespace: "wide" });
    const branch = task("branch", (i: number) => twig(i + 1), { namespace: "wide" });
    const root = task("root", (n: number) => Array.from({ length: n }, (_, i) => branch(i)), { namespace: "wide" });
    const scheduler = new Scheduler({ repository: counting });
    const first = await scheduler.runWithId(root(2000));
    reads = 0;
    const second = await scheduler.runWithId(root(2000));
    expect(second.result).toEqual(first.result);
    // Evaluation + result Value, then per level of the tree (3 levels, and the leaves' evaluations): CallNodes and Evaluations.
    expect(reads).toBeLessThanOrEqual(10);
    const jobs = await repository.jobsOfExecution(second.executionId);
    expect(jobs).toHaveLength(4001);
    expect(jobs.every((j) => j.status === "CACHED")).toBe(true);
  });

  it("reports each job to onJob: RUNNING then DONE or FAILED, CACHED with its arguments for a reused tree", async () => {
    const leaf = task("leaf", (s: string) => s.toUpperCase(), { namespace: "ev" });
    const top = task("top", (xs: string[]) => xs.map((x) => leaf(x)), { namespace: "ev" });
    const { scheduler } = setup();
    const events: JobEvent[] = [];
    const onJob = (e: JobEvent) => events.push(e);
    await scheduler.run(top(["a", "b"]), { onJob });
    expect(events.map((e) => [e.status, e.taskName, e.args])).toEqual([
      ["RUNNING", "ev.top", [["a", "b"]]],
      ["RUNNING", "ev.leaf", ["a"]],
      ["RUNNING", "ev.leaf", ["b"]],
      ["DONE", "ev.leaf", ["a"]],
      ["DONE", "ev.leaf", ["b"]],
      ["DONE", "ev.top", [["a", "b"]]],
    ]);
    events.length = 0;
    await scheduler.run(top(["a", "b"]), { onJob });
    expect(events.map((e) => [e.status, e.taskName, e.args, e.task?.fullName])).toEqual([
      ["CACHED", "ev.top", [["a", "b"]], "ev.top"],
      ["CACHED", "ev.leaf", ["a"], "ev.leaf"],
      ["CACHED", "ev.leaf", ["b"], "ev.leaf"],
    ]);
    expect(events[0]!.evaluationHash).toMatch(/^[0-9a-f]{40}$/);
    // The reused jobs are children of the reused root.
    expect(events.slice(1).every((e) => e.job.parentId === events[0]!.job.id)).toBe(true);
  });

  it("gives a reused root the tags of its call and reuses a subtree inside a job that runs", async () => {
    const part = task("part", (x: number) => applyTags(x + 1, { jobTags: { part: x } }), { namespace: "mix" });
    const whole = task("whole", (xs: number[]) => xs.map((x) => part(x)), { namespace: "mix", cache: false });
    const { scheduler, graph } = setup();
    await scheduler.run(whole([1, 2]));
    const again = await scheduler.runWithId(whole([1, 2, 3]));
    const jobs = (await graph.log({ types: ["Job"], execIds: [again.executionId] })).records as (JobRecord & { tags: unknown[]; taskName: string })[];
    expect(jobs.map((j) => [j.taskName, j.status, j.tags]).sort()).toEqual([
      ["mix.part", "CACHED", [["part", 1]]],
      ["mix.part", "CACHED", [["part", 2]]],
      ["mix.part", "DONE", [["part", 3]]],
      ["mix.whole", "DONE", []],
    ].sort());
    const tagged = await scheduler.runWithId(part.options({ tags: { via: "call" } })(1));
    const [root] = (await graph.log({ types: ["Job"], execIds: [tagged.executionId] })).records;
    expect(root).toMatchObject({ status: "CACHED", tags: [["part", 1], ["via", "call"]] });
  });
});

describe("leases", () => {
  it("renews a running execution's lease and keeps it on the finished record", async () => {
    const repository = createMemoryRepository();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const wait = task("wait", async () => {
      await gate;
      return 1;
    }, { namespace: "lease" });
    const scheduler = new Scheduler({ repository, leaseMs: 80, flushIntervalMs: 0 });
    const running = scheduler.runWithId(wait());
    const leases: number[] = [];
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 30));
      const [exec] = all<ExecutionRecord>(repository, "Execution");
      expect(exec!.status).toBe("RUNNING");
      // Never past its lease while the run lives.
      expect(exec!.leaseUntil!).toBeGreaterThan(Date.now());
      expect(isAbandoned(exec!, Date.now())).toBe(false);
      leases.push(exec!.leaseUntil!);
    }
    expect(new Set(leases).size).toBeGreaterThan(1);
    release();
    const { executionId } = await running;
    const [exec] = await repository.get("Execution", [executionId]);
    expect(exec).toMatchObject({ status: "DONE" });
    expect(isAbandoned({ ...exec!, status: "RUNNING" }, exec!.leaseUntil! + 1)).toBe(true);
    // Without a lease, no execution is ever taken for abandoned.
    const noLease = await new Scheduler({ repository, leaseMs: 0 }).runWithId(task("quick", () => 1, { namespace: "lease" })());
    expect((await repository.get("Execution", [noLease.executionId]))[0]!.leaseUntil).toBeUndefined();
  });
});

describe("functionParameters", () => {
  it.each([
    [(a: number, b = 2) => a + b, { kind: "names", names: ["a", "b"], rest: false }],
    [async function named(x: string, /* note, ( */ y = "a,b", ...more: string[]) { return [x, y, more]; }, { kind: "names", names: ["x", "y"], rest: true }],
    [(names = "alice,bob", fail = false) => [names, fail], { kind: "names", names: ["names", "fail"], rest: false }],
    [(x: number) => x, { kind: "names", names: ["x"], rest: false }],
    [() => 1, { kind: "names", names: [], rest: false }],
    [({ name = "World", n = f(1, 2) }: { name?: string; n?: number } = {}) => [name, n], { kind: "object", keys: ["name", "n"], open: false }],
    [({ a, ...others }: Record<string, number>) => [a, others], { kind: "object", keys: ["a"], open: true }],
    [([first]: number[], s = `x${"(,"}`) => [first, s], { kind: "names", names: [null, "s"], rest: false }],
  ])("%s", (fn, expected) => {
    expect(functionParameters(fn as (...args: never[]) => unknown)).toEqual(expected);
  });
  it("reads a single parameter without parentheses", () => {
    expect(functionParameters(new Function("return x => x")() as () => unknown)).toEqual({ kind: "names", names: ["x"], rest: false });
  });
});

function f(a: number, b: number) {
  return a + b;
}
