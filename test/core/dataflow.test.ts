/**
 * Upstream dataflow (core/dataflow.ts) of runs recorded by redun-edge's own
 * scheduler, in memory: the sections redun's display_dataflow prints for the
 * same shapes of workflow, the bounds of the walk, and a store without the
 * value-to-job index.
 */
import { describe, expect, it } from "vitest";
import { CallGraph, Scheduler, formatDataflow, task, type Repository } from "redun-edge";
import { createMemoryRepository } from "redun-edge/memory";
import { pythonParameters } from "../../core/dataflow.ts";
import { formatDetail } from "../../cli/format.ts";

function setup() {
  const repository = createMemoryRepository();
  let t = 1_000;
  const now = () => (t += 1);
  return { repository, scheduler: new Scheduler({ repository, now }), graph: new CallGraph(repository, { now }) };
}

/** The job of a task in the newest execution. */
async function jobOf(graph: CallGraph, taskName: string) {
  const jobs = (await graph.log({ types: ["Job"], taskNames: [taskName], limit: 10 })).records;
  expect(jobs.length).toBeGreaterThan(0);
  return jobs[0]!;
}

const lines = async (graph: CallGraph, prefix: string) => formatDataflow(await graph.dataflow(prefix)).join("\n");

describe("upstream dataflow of a run recorded here", () => {
  const greet = task("greet", (name: string) => `Hello, ${name}!`, { namespace: "df" });
  const shout = task("shout", (text: string) => text.toUpperCase(), { namespace: "df" });
  // A value passed from greet to shout through their parent.
  const main = task("main", (name: string) => shout(greet(name)), { namespace: "df" });

  it("traces a value from one task to another through their parent, back to the parent's argument", async () => {
    const { scheduler, graph } = setup();
    expect(await scheduler.run(main("alice"))).toBe("HELLO, ALICE!");
    const [s, g, m] = [await jobOf(graph, "df.shout"), await jobOf(graph, "df.greet"), await jobOf(graph, "df.main")];
    const id = (j: typeof s) => (j.type === "Job" ? j.callHash!.slice(0, 8) : "");
    const greeting = (await graph.show(s.id)).call!.args[0]!.value!.id.slice(0, 8);
    const alice = (await graph.show(g.id)).call!.args[0]!.value!.id.slice(0, 8);
    const expected = [
      `result <-- <${id(s)}> shout(text)`,
      `  text = <${greeting}> 'Hello, alice!'`,
      "",
      `text <-- <${id(g)}> greet(name)`,
      `  name = <${alice}> 'alice'`,
      "",
      `name <-- argument of <${id(m)}> main(name)`,
      "     <-- origin",
      "",
    ].join("\n");
    expect(await lines(graph, s.id)).toBe(expected);
    // main returned shout's result: main only routes it, shout originated it (redun's walk_dataflow_value).
    expect(await lines(graph, m.id)).toBe(expected);
    // The job detail prints it under "Upstream dataflow:".
    const detail = formatDetail(await graph.show(s.id));
    expect(detail).toContain(["  Upstream dataflow:", "", "    result = 'HELLO, ALICE!'", "", `    result <-- <${id(s)}> shout(text)`].join("\n"));
  });

  it("shows an argument built from several results as `derives from`, each result traced", async () => {
    const count = task("count", (texts: string[]) => texts.length, { namespace: "df" });
    const all = task("all", (a: string, b: string) => count([greet(a), greet(b)]), { namespace: "df" });
    const { scheduler, graph } = setup();
    expect(await scheduler.run(all("ann", "bo"))).toBe(2);
    const c = await jobOf(graph, "df.count");
    const text = await lines(graph, c.id);
    const out = text.split("\n").map((l) => l.replace(/<[0-9a-f]{8}>/g, "<#>"));
    // Results listed in reverse call order, as redun does (its docs: `o_files <-- derives from`
    // lists lib.o before prog.o, compiled in the order prog.c, lib.c).
    expect(out).toEqual([
      "result <-- <#> count(texts)",
      "  texts = <#> ['Hello, ann!', 'Hello, bo!']",
      "",
      "texts <-- derives from",
      "  greet_result   = <#> 'Hello, bo!'",
      "  greet_result_2 = <#> 'Hello, ann!'",
      "",
      "greet_result <-- <#> greet(name)",
      "  name = <#> 'bo'",
      "",
      "name <-- argument of <#> all(a, b)",
      "     <-- origin",
      "",
      "greet_result_2 <-- <#> greet(name_2)",
      "  name_2 = <#> 'ann'",
      "",
      "name_2 <-- argument of <#> all(a, b)",
      "       <-- origin",
      "",
    ]);
  });

  it("a value with no recorded call is its own origin; a call without arguments is an origin", async () => {
    const seed = task("seed", () => 41, { namespace: "df" });
    const inc = task("inc", (x: number) => x + 1, { namespace: "df" });
    const top = task("top", () => inc(seed()), { namespace: "df" });
    const { scheduler, graph } = setup();
    expect(await scheduler.run(top())).toBe(42);
    const text = (await lines(graph, (await jobOf(graph, "df.inc")).id)).replace(/<[0-9a-f]{8}>/g, "<#>");
    expect(text.split("\n")).toEqual(["result <-- <#> inc(x)", "  x = <#> 41", "", "x <-- <#> seed()", "  <-- origin", ""]);
  });

  it("stops at its bound on a big graph and says so", async () => {
    const leaf = task("leaf", (i: number) => i * 2, { namespace: "big" });
    const sum = task("sum", (xs: number[]) => xs.reduce((a, b) => a + b, 0), { namespace: "big" });
    const fan = task("fan", (n: number) => sum(Array.from({ length: n }, (_, i) => leaf(i + 1))), { namespace: "big" });
    const { scheduler, graph } = setup();
    expect(await scheduler.run(fan(2000))).toBe(2000 * 2001);
    const s = await jobOf(graph, "big.sum");
    const started = performance.now();
    const whole = await graph.dataflow(s.id);
    const ms = performance.now() - started;
    expect(whole.truncated).toBe(true);
    expect(formatDataflow(whole).at(-2)).toBe("(dataflow cut short: the walk reached its bound)");
    expect(ms).toBeLessThan(5_000);
    const small = await graph.dataflow(s.id, { limits: { nodes: 5 } });
    expect(small.truncated).toBe(true);
    expect(small.sections.length).toBeLessThan(whole.sections.length);
  });

  it("on a store without jobsOfValues, reads the job's own execution", async () => {
    const { repository, scheduler } = setup();
    await scheduler.run(main("bob"));
    const bare: Repository = { ...repository, jobsOfValues: undefined };
    const graph = new CallGraph(bare);
    const s = await jobOf(graph, "df.shout");
    const text = (await lines(graph, s.id)).replace(/<[0-9a-f]{8}>/g, "<#>");
    expect(text).toContain("text <-- <#> greet(name)\n  name = <#> 'bob'\n\nname <-- argument of <#> main(name)\n     <-- origin");
  });
});

describe("a job's detail, as redun's log_job prints it", () => {
  it("shortens the traceback to the parent and a count of the jobs above, and shows a duration for DONE jobs only", async () => {
    const leaf = task("leaf", (x: number) => x + 1, { namespace: "deep" });
    const mid = task("mid", (x: number) => leaf(x), { namespace: "deep" });
    const top = task("top", (x: number) => mid(x), { namespace: "deep" });
    const { scheduler, graph } = setup();
    await scheduler.run(top(1));
    const first = await jobOf(graph, "deep.leaf");
    const [exec] = (await graph.log({ types: ["Execution"] })).records;
    const m = await jobOf(graph, "deep.mid");
    const lines = formatDetail(await graph.show(first.id)).split("\n");
    expect(lines[1]).toBe(`Traceback: Exec ${exec!.id.slice(0, 8)} > (1 Job) > Job ${m.id.slice(0, 8)} mid > Job ${first.id.slice(0, 8)} leaf`);
    expect(lines[2]).toMatch(/^Duration: 0:00:00\.\d\d$/);
    await scheduler.run(top(1));
    const cached = await jobOf(graph, "deep.leaf");
    expect(cached.id).not.toBe(first.id);
    expect(cached.type === "Job" && cached.status).toBe("CACHED");
    const again = formatDetail(await graph.show(cached.id)).split("\n");
    expect(again[2]).toBe("");
    expect(again).toContain("  Upstream dataflow:");
  });
});

describe("task parameter names from Python source (redun's get_task_args)", () => {
  it("reads plain parameters, as ast's args.args", () => {
    expect(pythonParameters("def main(names: str = 'a,b', fail: bool = False) -> dict:\n    pass\n")).toEqual(["names", "fail"]);
    expect(pythonParameters("    def f(x: Dict[str, int], y=(1, 2), z=\"),\"):\n        pass")).toEqual(["x", "y", "z"]);
    expect(pythonParameters("@task(tags=[('a', 'b')])\ndef f(a, b):\n  pass")).toEqual(["a", "b"]);
    expect(pythonParameters("def f(a, /, b, *args, c, **kw):\n  pass")).toEqual(["b"]);
    expect(pythonParameters("def f(\n    a,  # first\n    b,\n):\n  pass")).toEqual(["a", "b"]);
    expect(pythonParameters("def f():\n  pass")).toEqual([]);
  });

  it("is null where Python's ast would not give a FunctionDef", () => {
    expect(pythonParameters("async def f(a):\n  pass")).toBeNull();
    expect(pythonParameters("x = 1")).toBeNull();
    expect(pythonParameters("def f(a:\n")).toBeNull();
  });
});
