/**
 * The notebook page: a workflow defined with `task`, run by a `Scheduler`
 * into IndexedDB, listed and tag-edited through a `CallGraph`. Everything
 * runs in the page; the data stays in the browser across reloads.
 */
import {
  ANY_VALUE,
  CallGraph,
  RedunEdgeError,
  Scheduler,
  applyTags,
  formatTagKeyValue,
  parseTagKeyValue,
  splitTagText,
  task,
  type JsonValue,
  type RecordView,
  type TagFilter,
  type TagPair,
} from "../../core/index.ts";
import { createIndexedDbRepository } from "../../adapters/indexeddb/index.ts";

// The workflow: sum of squares of 1..n, one job per square.
const square = task("square", (x: number) => x * x, { namespace: "notebook" });
const sumAll = task("sum_all", (xs: number[]) => xs.reduce((a, b) => a + b, 0), { namespace: "notebook" });
const sumOfSquares = task(
  "sum_of_squares",
  (n: number) =>
    applyTags(
      sumAll(Array.from({ length: n }, (_, i) => square(i + 1))),
      { jobTags: { n } },
    ),
  { namespace: "notebook", tags: { kind: "demo" } },
);

export interface NotebookOptions {
  /** IndexedDB database name (default "redun-edge-notebook"). */
  dbName?: string;
}

function parsePairs(text: string): TagPair[] {
  return splitTagText(text).map((t) => parseTagKeyValue(t) as TagPair);
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text: string, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.textContent = text;
  if (className) node.className = className;
  return node;
}

function message(error: unknown): string {
  return error instanceof RedunEdgeError || error instanceof Error ? error.message : String(error);
}

export async function startNotebook(root: ParentNode = document, options: NotebookOptions = {}) {
  const repository = createIndexedDbRepository({ name: options.dbName ?? "redun-edge-notebook" });
  const scheduler = new Scheduler({ repository });
  const graph = new CallGraph(repository);
  const $ = <T extends Element>(selector: string) => root.querySelector<T>(selector)!;
  const storage = $<HTMLElement>('[data-testid="storage"]');
  const runResult = $<HTMLElement>('[data-testid="run-result"]');
  const tbody = $<HTMLElement>('[data-testid="executions"]');
  const count = $<HTMLElement>('[data-testid="count"]');
  const editResult = $<HTMLElement>('[data-testid="edit-result"]');
  const runForm = $<HTMLFormElement>("#run-form");
  const filterForm = $<HTMLFormElement>("#filter-form");
  const editForm = $<HTMLFormElement>("#edit-form");
  let filter: TagFilter[] = [];

  // Ask the browser to keep this origin's data under storage pressure.
  void (async () => {
    if (!navigator.storage?.persist) {
      storage.textContent = "persistence API not available";
      return;
    }
    const persisted = (await navigator.storage.persisted()) || (await navigator.storage.persist());
    storage.textContent = persisted ? "persistent" : "best effort (the browser may evict it under pressure)";
  })();

  async function refresh(): Promise<void> {
    const { records } = await graph.log({ types: ["Execution"], tags: filter, limit: 50 });
    const results = await resultsOf(records);
    tbody.replaceChildren(
      ...records.map((r) => {
        const row = document.createElement("tr");
        row.dataset.id = r.id;
        const tags = el("td", "", "tags");
        for (const text of r.tags.map(([k, v]) => formatTagKeyValue(k, v)).sort()) tags.append(el("span", text, "tag"), " ");
        row.append(
          el("td", r.id.slice(0, 8), "id"),
          el("td", r.type === "Execution" ? r.status : "", "status"),
          el("td", r.type === "Execution" ? (r.taskName ?? "") : "", "task"),
          el("td", results.get(r.id) ?? "", "result"),
          tags,
        );
        return row;
      }),
    );
    count.textContent = `${records.length} execution${records.length === 1 ? "" : "s"}${filter.length ? " matching the filter" : ""}`;
  }

  /** Result of each execution: the value of its root job's call. */
  async function resultsOf(records: RecordView[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const roots = await repository.get("Job", records.flatMap((r) => (r.type === "Execution" ? [r.rootJobId] : [])));
    const calls = await repository.get("CallNode", roots.flatMap((j) => (j.callHash ? [j.callHash] : [])));
    const values = await repository.get("Value", calls.map((c) => c.resultHash));
    const valueOf = new Map(values.map((v) => [v.id, v.preview ? `${v.encoded}...` : v.encoded]));
    const callOf = new Map(calls.map((c) => [c.id, c.resultHash]));
    const rootOf = new Map(roots.map((j) => [j.id, j.callHash]));
    for (const r of records) {
      if (r.type !== "Execution") continue;
      const call = rootOf.get(r.rootJobId);
      const value = call ? valueOf.get(callOf.get(call) ?? "") : undefined;
      if (value !== undefined) out.set(r.id, value);
    }
    return out;
  }

  runForm.addEventListener("submit", (event) => {
    event.preventDefault();
    void (async () => {
      const data = new FormData(runForm);
      try {
        const n = Number(data.get("n"));
        if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new Error("n must be an integer from 1 to 10000");
        const tags = parsePairs(String(data.get("tags") ?? ""));
        runResult.textContent = "running…";
        const t0 = performance.now();
        const { result, executionId } = await scheduler.runWithId(sumOfSquares(n), {
          tags,
          argv: ["notebook", "sum_of_squares", String(n)],
        });
        const ms = Math.round(performance.now() - t0);
        runResult.className = "muted";
        runResult.textContent = `execution ${executionId.slice(0, 8)}: sum of squares 1..${n} = ${result} (${ms} ms)`;
        runResult.dataset.executionId = executionId;
        await refresh();
      } catch (error) {
        runResult.className = "error";
        runResult.textContent = message(error);
      }
    })();
  });

  filterForm.addEventListener("submit", (event) => {
    event.preventDefault();
    void (async () => {
      try {
        const text = String(new FormData(filterForm).get("filter") ?? "");
        filter = splitTagText(text).map((t) => {
          const [key, value] = parseTagKeyValue(t, { valueRequired: false });
          return value === ANY_VALUE ? [key] : [key, value as JsonValue];
        });
        await refresh();
      } catch (error) {
        count.className = "error";
        count.textContent = message(error);
      }
    })();
  });

  editForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const op = (event.submitter as HTMLButtonElement | null)?.value ?? "add";
    void (async () => {
      const data = new FormData(editForm);
      try {
        const target = String(data.get("target") ?? "").trim();
        const text = String(data.get("tag") ?? "");
        let written: number;
        if (op === "remove") {
          const [key, value] = parseTagKeyValue(text.trim(), { valueRequired: false });
          written = (await graph.removeTags(target, value === ANY_VALUE ? { keys: [key] } : { tags: [[key, value]] })).written;
        } else {
          const pairs = parsePairs(text);
          written = (op === "update" ? await graph.updateTags(target, pairs) : await graph.addTags(target, pairs)).written;
        }
        editResult.className = "muted";
        editResult.textContent = `${op}: ${written} tag record${written === 1 ? "" : "s"} written`;
        await refresh();
      } catch (error) {
        editResult.className = "error";
        editResult.textContent = message(error);
      }
    })();
  });

  await refresh();
  document.body.dataset.ready = "true";
  return { repository, scheduler, graph, refresh };
}

// As the page's script: `?db=name` picks another database (tests use their own).
if (document.querySelector("#run-form")) {
  const dbName = new URLSearchParams(location.search).get("db") ?? undefined;
  void startNotebook(document, dbName ? { dbName } : {});
}
