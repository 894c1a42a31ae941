/**
 * The notebook example in Chromium: the page (served by the test server) is
 * loaded in a same-origin iframe and driven through its forms: run the
 * workflow twice with tags, filter by a tag, edit tags, reload the page for
 * real and find everything still there.
 */
import { afterAll, expect, it } from "vitest";

const dbName = `notebook-test-${Date.now()}`;
const frame = document.createElement("iframe");
frame.style.width = "1000px";
frame.style.height = "800px";
document.body.append(frame);

afterAll(() => frame.remove());

async function until<T>(what: string, probe: () => T | undefined | null | false, timeout = 20_000): Promise<T> {
  const t0 = performance.now();
  for (;;) {
    const value = probe();
    if (value) return value;
    if (performance.now() - t0 > timeout) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const doc = () => frame.contentDocument!;
const q = <T extends Element = HTMLElement>(selector: string) => doc().querySelector<T>(selector)!;
const text = (testId: string) => q(`[data-testid="${testId}"]`).textContent ?? "";
const rows = () =>
  [...doc().querySelectorAll<HTMLTableRowElement>('[data-testid="executions"] tr')].map((tr) => ({
    id: tr.dataset.id!,
    status: tr.querySelector(".status")!.textContent,
    task: tr.querySelector(".task")!.textContent,
    result: tr.querySelector(".result")!.textContent,
    tags: [...tr.querySelectorAll(".tags .tag")].map((t) => t.textContent!),
  }));

async function load(): Promise<void> {
  await until("the notebook to start", () => doc()?.body?.dataset.ready === "true");
}

/** Fill a form's inputs and submit it with one of its buttons, as a click would. */
function submit(formId: string, values: Record<string, string>, button?: string): void {
  const form = q<HTMLFormElement>(`#${formId}`);
  for (const [name, value] of Object.entries(values)) (form.elements.namedItem(name) as HTMLInputElement).value = value;
  const submitter = button ? form.querySelector<HTMLButtonElement>(`button[value="${button}"]`)! : form.querySelector("button")!;
  form.requestSubmit(submitter);
}

it("runs a workflow, lists, filters and edits tags, and keeps them across a reload", async () => {
  frame.src = `/examples/notebook/index.html?db=${dbName}`;
  await load();
  expect(rows()).toEqual([]);
  await until("persist() to answer", () => !text("storage").includes("checking"));

  submit("run-form", { n: "5", tags: "user=alice, project=demo" });
  await until("the first run", () => text("run-result").includes("= 55"));
  const alice = q('[data-testid="run-result"]').dataset.executionId!;
  submit("run-form", { n: "3", tags: 'user=bob, note="a, b"' });
  await until("the second run", () => text("run-result").includes("= 14"));
  const bob = q('[data-testid="run-result"]').dataset.executionId!;

  await until("two rows", () => rows().length === 2);
  expect(rows().map((r) => r.id)).toEqual([bob, alice]); // newest first
  expect(rows()[1]).toMatchObject({ status: "DONE", task: "notebook.sum_of_squares", result: "55" });
  expect(rows()[1]!.tags).toEqual(expect.arrayContaining(["user=alice", "project=demo"]));
  expect(rows()[0]!.tags).toEqual(expect.arrayContaining(["user=bob", 'note="a, b"']));

  submit("filter-form", { filter: "user=alice" });
  await until("the filter", () => rows().length === 1);
  expect(rows()[0]!.id).toBe(alice);
  submit("filter-form", { filter: "note" });
  await until("the key filter", () => rows().length === 1 && rows()[0]!.id === bob);

  submit("edit-form", { target: alice.slice(0, 8), tag: "user=carol" }, "update");
  await until("the update", () => text("edit-result").includes("update: 1 tag record written"));
  submit("edit-form", { target: bob.slice(0, 8), tag: "note" }, "remove");
  await until("the removal", () => text("edit-result").includes("remove: 1 tag record written"));
  submit("edit-form", { target: "ffffffff", tag: "x=1" }, "add");
  await until("the error", () => text("edit-result").includes("no record with id prefix"));

  submit("filter-form", { filter: "user=alice" });
  await until("no alice any more", () => text("count").startsWith("0 executions"));
  submit("filter-form", { filter: "user=carol" });
  await until("carol", () => rows().length === 1 && rows()[0]!.id === alice);

  // A real reload of the page: the data comes back from IndexedDB.
  frame.contentWindow!.location.reload();
  await until("the page to unload", () => doc()?.body?.dataset.ready !== "true");
  await load();
  await until("both rows after the reload", () => rows().length === 2);
  const [bobRow, aliceRow] = rows();
  expect(aliceRow).toMatchObject({ id: alice, result: "55", status: "DONE" });
  expect(aliceRow!.tags).toEqual(expect.arrayContaining(["user=carol", "project=demo"]));
  expect(aliceRow!.tags).not.toContain("user=alice");
  expect(bobRow).toMatchObject({ id: bob, result: "14" });
  expect(bobRow!.tags).toContain("user=bob");
  expect(bobRow!.tags.some((t) => t.startsWith("note="))).toBe(false);
  expect(text("storage")).toMatch(/persistent|best effort/);
});
