/**
 * The example workflow: greet a few names in parallel and tag the result and
 * the jobs. `npm start` runs it through the CLI; `redun-edge run
 * examples/hello-world.ts main --name World` does the same by hand.
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

