/**
 * The example workflow: greet a few names in parallel, tag the run, then list
 * executions by tag. Run with `npm start`.
 */
import { applyTags, task } from "redun-edge";

export const greet = task("greet", (name: string) => `Hello, ${name}!`, { namespace: "hello" });

export const shout = task("shout", (text: string) => applyTags(text.toUpperCase(), { tags: { loud: true } }), {
  namespace: "hello",
  tags: { team: "t1" },
});

/** main({ name }) greets `name` and a few friends; the result is a list of greetings. */
export const main = task(
  "main",
  ({ name = "World" }: { name?: string } = {}) => {
    const names = [name, "Ada", "Grace"];
    return applyTags(
      names.map((n) => shout(greet(n))),
      { jobTags: { greeted: names.length } },
    );
  },
  { namespace: "hello" },
);

/** `npm start`: run the workflow twice with tags on the memory repository, then `log --tag`. */
async function demo(): Promise<void> {
  const { CallGraph, Scheduler, formatRecordLine } = await import("redun-edge");
  const { createMemoryRepository } = await import("redun-edge/memory");
  const repository = createMemoryRepository();
  const scheduler = new Scheduler({ repository, defaultTags: { project: "hello" } });
  const result = await scheduler.run(main({ name: "World" }), {
    tags: [["user", "alice"], ["flags", ["a", "b"]]],
    argv: ["run", "examples/hello-world.ts", "main", "--name", "World"],
  });
  console.log(result);
  await scheduler.run(main({ name: "World" }), { tags: { user: "bob" }, argv: ["run", "examples/hello-world.ts", "main"] });
  const graph = new CallGraph(repository);
  console.log("\n$ log --tag user=alice\nRecent executions:\n");
  for (const r of (await graph.log({ tags: [["user", "alice"]] })).records) console.log(formatRecordLine(r));
  console.log("\n$ log --exec-tag user=bob --job\n");
  for (const r of (await graph.log({ types: ["Job"], execTags: [["user", "bob"]] })).records) console.log(formatRecordLine(r));
}

if (typeof process !== "undefined" && process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  await demo();
}
