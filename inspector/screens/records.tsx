/**
 * The list screen: executions by default (redun console's first screen),
 * or records of another type, newest first, a page at a time. The filter
 * bar reads redun's tag text (`user=alice project`: all must hold), status
 * and task; every filter lives in the URL, and a click on a tag chip adds it.
 */
import { useEffect, useState } from "hono/jsx/dom";
import {
  ENTITY_TYPES,
  EXECUTION_STATUSES,
  JOB_STATUSES,
  formatArgs,
  formatTagValue,
  parseTagKeyValue,
  splitTagText,
  toTagFilter,
  type EntityType,
  type Query,
  type RecordView,
  type TagFilter,
  type TagPair,
} from "../../core/index.ts";
import { Duration, IdLink, Loaded, Repr, Status, TagChips, Time } from "../components/bits.tsx";
import { useAsync, useStore } from "../hooks.ts";
import { link, navigate, type Route } from "../router.ts";

export const PAGE_SIZE = 50;

const TYPE_CHOICES: { value: string; label: string; types: EntityType[] }[] = [
  { value: "Execution", label: "Executions", types: ["Execution"] },
  { value: "Job", label: "Jobs", types: ["Job"] },
  { value: "Task", label: "Tasks", types: ["Task"] },
  { value: "Value", label: "Values", types: ["Value"] },
  { value: "CallNode", label: "Call nodes", types: ["CallNode"] },
  { value: "all", label: "All records", types: [...ENTITY_TYPES] },
];

/** One filter's text as the URL and the filter bar hold it: `key=value` or `key`. */
export function filterText(filter: TagFilter): string {
  return filter.length === 1 ? filter[0] : `${filter[0]}=${formatTagValue(filter[1])}`;
}

/** The filter bar's text to tag filters (`--tag` words, as in `redun log`, are skipped). */
export function parseFilterText(text: string): TagFilter[] {
  return splitTagText(text, { whitespace: true })
    .filter((t) => t !== "--tag")
    .map((t) => toTagFilter(parseTagKeyValue(t, { valueRequired: false })));
}

interface ListParams {
  type: string;
  tags: string[];
  status: string;
  task: string;
  cursor: string;
}

function readParams(route: Route): ListParams {
  const p = route.params;
  return {
    type: route.path[0] === "records" ? p.get("type") || "all" : "Execution",
    tags: p.getAll("tag"),
    status: p.get("status") ?? "",
    task: p.get("task") ?? "",
    cursor: p.get("cursor") ?? "",
  };
}

function hrefOf(params: ListParams): string {
  const path = params.type === "Execution" ? "/executions" : "/records";
  return link(path, {
    type: params.type === "Execution" ? undefined : params.type,
    tag: params.tags,
    status: params.status,
    task: params.task,
    cursor: params.cursor,
  });
}

function queryOf(params: ListParams): Query {
  const types = TYPE_CHOICES.find((c) => c.value === params.type)?.types ?? ["Execution"];
  const tags = params.tags.flatMap((t) => parseFilterText(t));
  const query: Query = { types, tags, limit: PAGE_SIZE };
  if (params.status) {
    if (types.length === 1 && types[0] === "Job") query.jobStatus = [params.status as never];
    else query.execStatus = [params.status as never];
  }
  if (params.task) query.taskNames = params.task.split(",").map((s) => s.trim()).filter(Boolean);
  if (params.cursor) query.cursor = params.cursor;
  return query;
}

const submitForm = (e: Event) => (e.target as HTMLSelectElement).form?.requestSubmit();

export function RecordsScreen({ route }: { route: Route }) {
  const { graph } = useStore();
  const params = readParams(route);
  const key = hrefOf(params);
  const page = useAsync(() => graph.log(queryOf(params)), [key]);
  const [text, setText] = useState(params.tags.join(" "));
  useEffect(() => setText(params.tags.join(" ")), [params.tags.join("\u0000")]);
  const [formError, setFormError] = useState<string | null>(null);

  useEffect(() => {
    // For the benchmark and tests: when the first page is on screen.
    if (page.data) requestAnimationFrame(() => performance.mark("records-painted"));
  }, [page.data]);

  const go = (next: Partial<ListParams>) => navigate(hrefOf({ ...params, cursor: "", ...next }));
  const pick = ([k, v]: TagPair) => {
    const added = filterText([k, v]);
    if (!params.tags.includes(added)) go({ tags: [...params.tags, added] });
  };
  const statuses = params.type === "Job" ? JOB_STATUSES : EXECUTION_STATUSES;

  return (
    <section class="records" aria-busy={page.loading ? "true" : "false"}>
      <form
        class="filters"
        data-testid="filters"
        onSubmit={(e: Event) => {
          e.preventDefault();
          try {
            const filters = parseFilterText(text);
            setFormError(null);
            const data = new FormData(e.target as HTMLFormElement);
            go({
              tags: filters.map(filterText),
              status: String(data.get("status") ?? ""),
              task: String(data.get("task") ?? "").trim(),
              type: String(data.get("type") ?? params.type),
            });
          } catch (error) {
            setFormError((error as Error).message);
          }
        }}
      >
        <select name="type" aria-label="record type" onChange={submitForm}>
          {TYPE_CHOICES.map((c) => (
            <option value={c.value} selected={c.value === params.type}>{c.label}</option>
          ))}
        </select>
        <input
          name="tags"
          class="tag-filter"
          aria-label="tag filter"
          placeholder="tags: user=alice project (all must hold)"
          value={text}
          onInput={(e: Event) => setText((e.target as HTMLInputElement).value)}
        />
        <select name="status" aria-label="status" onChange={submitForm}>
          <option value="" selected={!params.status}>any status</option>
          {statuses.map((s) => (
            <option value={s} selected={s === params.status}>{s}</option>
          ))}
        </select>
        <input name="task" aria-label="task" placeholder="task name" value={params.task} size={14} />
        <button type="submit">Filter</button>
        {params.tags.length || params.status || params.task ? (
          <a href={hrefOf({ type: params.type, tags: [], status: "", task: "", cursor: "" })}>clear</a>
        ) : null}
      </form>
      {formError ? <p class="error" role="alert">{formError}</p> : null}
      <Loaded
        state={page}
        render={(data) => (
          <>
            <RecordTable records={data.records} onPick={pick} />
            <nav class="pager">
              <span class="muted" data-testid="count">
                {data.records.length === 0 ? "No records match." : `${data.records.length} shown${params.cursor ? " (older page)" : ""}`}
              </span>
              {params.cursor ? <a href={hrefOf({ ...params, cursor: "" })}>⇤ newest</a> : null}
              {data.cursor ? (
                <a href={hrefOf({ ...params, cursor: data.cursor })} data-testid="older">
                  older →
                </a>
              ) : null}
            </nav>
          </>
        )}
      />
    </section>
  );
}

function summary(r: RecordView) {
  switch (r.type) {
    case "Execution":
      return <code class="argv">{r.argv.join(" ")}</code>;
    case "Job":
      return (
        <code>
          {r.taskName ?? r.taskHash.slice(0, 8)}({formatArgs(r.args)})
        </code>
      );
    case "CallNode":
      return <code>{r.taskName ?? r.taskHash.slice(0, 8)}</code>;
    case "Task":
      return <a href={link(`/task/${r.id}`)}>{r.fullName}</a>;
    case "Value":
      return (
        <>
          <span class="muted">{r.valueType}</span> <Repr value={r.value} repr={r.redun?.repr} />
        </>
      );
  }
}

function idCell(r: RecordView) {
  switch (r.type) {
    case "Execution":
      return <IdLink kind="execution" id={r.id} />;
    case "Job":
      return <IdLink kind="job" id={r.id} />;
    case "Task":
      return <IdLink kind="task" id={r.id} />;
    case "Value":
      return <IdLink kind="value" id={r.id} />;
    case "CallNode":
      return <IdLink kind="callnode" id={r.id} />;
  }
}

function RecordTable({ records, onPick }: { records: RecordView[]; onPick: (pair: TagPair) => void }) {
  if (records.length === 0) return null;
  const mixed = new Set(records.map((r) => r.type)).size > 1 || records[0]!.type !== "Execution";
  return (
    <table class="list" data-testid="records">
      <thead>
        <tr>
          <th>id</th>
          {mixed ? <th>type</th> : null}
          <th>status</th>
          <th>started</th>
          <th>duration</th>
          <th>{mixed ? "record" : "command"}</th>
          <th>tags</th>
        </tr>
      </thead>
      <tbody>
        {records.map((r) => (
          <tr data-id={r.id} data-type={r.type}>
            <td>{idCell(r)}</td>
            {mixed ? <td class="muted">{r.type}</td> : null}
            <td>{r.type === "Execution" || r.type === "Job" ? <Status status={r.status} abandoned={r.type === "Execution" && r.abandoned} /> : null}</td>
            <td>{r.type === "Execution" || r.type === "Job" ? <Time ms={r.startTime} /> : <Time ms={r.time} />}</td>
            <td>{r.type === "Execution" || r.type === "Job" ? <Duration start={r.startTime} end={r.endTime} /> : null}</td>
            <td class="summary">{summary(r)}</td>
            <td>
              <TagChips tags={r.tags} onPick={onPick} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

