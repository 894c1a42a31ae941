/**
 * One value: its preview, type and size, tags, and its lineage: the calls
 * that returned it (with their inputs) and the calls that took it as an
 * argument, drawn as a small graph (inputs → producing call → value → uses)
 * and listed with their jobs.
 */
import { formatArgs, type LineageCall, type ValueLineage, type ValueView } from "../../core/index.ts";
import { IdLink, Loaded, reprText } from "../components/bits.tsx";
import { TagEditor } from "../components/tag-editor.tsx";
import { useAsync, useStore } from "../hooks.ts";
import { link } from "../router.ts";
import { JobList } from "./job.tsx";

/** Characters of a value's text shown before "show all". */
const PREVIEW_LIMIT = 20_000;

export function ValueScreen({ id }: { id: string }) {
  const { graph } = useStore();
  const state = useAsync(async () => {
    const ref = await graph.resolve(id, ["Value"]);
    const [detail, lineage] = await Promise.all([graph.show(ref.id), graph.valueLineage(ref.id, { limit: 200 })]);
    return { detail, lineage };
  }, [id]);
  return (
    <Loaded
      state={state}
      render={({ detail, lineage }) => {
        const v = detail.record;
        if (v.type !== "Value") return null;
        const text = v.preview ? `${v.encoded}…` : v.valueType === "undefined" ? "undefined" : JSON.stringify(v.value, null, 2);
        return (
          <article class="value" data-testid="value" data-id={v.id}>
            <h1>
              Value <span class="id" title={v.id}>{v.id.slice(0, 8)}</span> <span class="muted">{v.valueType}</span>
            </h1>
            <dl class="facts">
              <dt>type</dt>
              <dd>{v.valueType}</dd>
              <dt>size</dt>
              <dd>{v.size.toLocaleString("en-US")} bytes{v.preview ? " (only a preview is stored)" : ""}</dd>
              <dt>id</dt>
              <dd>
                <code>{v.id}</code>
              </dd>
            </dl>
            {v.redun ? (
              <section>
                <h2>Python repr</h2>
                <pre class="value-text" data-testid="value-repr">
                  {v.redun.repr}
                </pre>
              </section>
            ) : null}
            <section>
              <h2>{v.redun ? "Decoded (as JSON)" : "Preview"}</h2>
              <pre class="value-text" data-testid="value-text">
                {text.length > PREVIEW_LIMIT ? `${text.slice(0, PREVIEW_LIMIT)}\n… (${(text.length - PREVIEW_LIMIT).toLocaleString("en-US")} more characters)` : text}
              </pre>
            </section>
            <TagEditor entityId={v.id} />
            <Lineage lineage={lineage} />
          </article>
        );
      }}
    />
  );
}

const BOX_W = 196;
const BOX_H = 30;
const GAP_Y = 40;
const COLS = [8, 236, 464, 692];
const MAX_PER_COLUMN = 6;

function cut(text: string, n = 28): string {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

function callLabel(c: LineageCall): string {
  return `${c.taskName ?? c.taskHash.slice(0, 8)}(${formatArgs(c.args)})`;
}

interface Box {
  key: string;
  col: number;
  row: number;
  label: string;
  title: string;
  href: string | null;
  kind: "value" | "call" | "self";
}

/** The lineage as boxes and edges: inputs, producing calls, the value, calls that used it. */
function layout(l: ValueLineage): { boxes: Box[]; edges: [string, string][]; rows: number } {
  const producers = l.producedBy.slice(0, MAX_PER_COLUMN);
  const consumers = l.usedBy.slice(0, MAX_PER_COLUMN);
  const inputs = new Map<string, ValueView>();
  for (const c of producers) for (const a of c.args) if (a.value && !inputs.has(a.value.id)) inputs.set(a.value.id, a.value);
  const inputList = [...inputs.values()].slice(0, MAX_PER_COLUMN);
  const shown = new Set(inputList.map((v) => v.id));
  const rows = Math.max(1, inputList.length, producers.length, consumers.length);
  const offset = (n: number) => (rows - n) / 2;
  const boxes: Box[] = [
    ...inputList.map((v, i): Box => ({
      key: `in:${v.id}`, col: 0, row: offset(inputList.length) + i, label: cut(reprText(v.value, v.repr, 40)), title: `value ${v.id}`,
      href: link(`/value/${v.id}`), kind: "value",
    })),
    ...producers.map((c, i): Box => ({
      key: `p:${c.callHash}`, col: 1, row: offset(producers.length) + i, label: cut(callLabel(c)), title: callLabel(c),
      href: c.jobs[0] ? link(`/job/${c.jobs[0].id}`) : null, kind: "call",
    })),
    { key: "self", col: 2, row: offset(1), label: cut(reprText(l.value.value, l.value.repr, 40)), title: `this value ${l.value.id}`, href: null, kind: "self" },
    ...consumers.map((c, i): Box => ({
      key: `u:${c.callHash}`, col: 3, row: offset(consumers.length) + i, label: cut(callLabel(c)), title: callLabel(c),
      href: c.jobs[0] ? link(`/job/${c.jobs[0].id}`) : null, kind: "call",
    })),
  ];
  const edges: [string, string][] = [
    ...producers.flatMap((c) => c.args.flatMap((a): [string, string][] => (a.value && shown.has(a.value.id) ? [[`in:${a.value.id}`, `p:${c.callHash}`]] : []))),
    ...producers.map((c): [string, string] => [`p:${c.callHash}`, "self"]),
    ...consumers.map((c): [string, string] => ["self", `u:${c.callHash}`]),
  ];
  return { boxes, edges, rows };
}

function LineageGraph({ lineage }: { lineage: ValueLineage }) {
  const { boxes, edges, rows } = layout(lineage);
  const at = new Map(boxes.map((b) => [b.key, b]));
  const y = (b: Box) => 10 + b.row * GAP_Y;
  const height = 20 + rows * GAP_Y;
  return (
    <svg class="lineage-graph" data-testid="lineage-graph" viewBox={`0 0 ${COLS[3]! + BOX_W + 8} ${height}`} role="img" aria-label="lineage of the value">
      {edges.map(([from, to]) => {
        const a = at.get(from)!;
        const b = at.get(to)!;
        return <line class="edge" x1={COLS[a.col]! + BOX_W} y1={y(a) + BOX_H / 2} x2={COLS[b.col]!} y2={y(b) + BOX_H / 2} />;
      })}
      {boxes.map((b) => {
        const box = (
          <g class={`node node-${b.kind}`} data-key={b.key}>
            <title>{b.title}</title>
            <rect x={COLS[b.col]} y={y(b)} width={BOX_W} height={BOX_H} rx={5} />
            <text x={COLS[b.col]! + 8} y={y(b) + 19}>
              {b.label}
            </text>
          </g>
        );
        return b.href ? <a href={b.href}>{box}</a> : box;
      })}
    </svg>
  );
}

function CallList({ calls, empty }: { calls: LineageCall[]; empty: string }) {
  if (calls.length === 0) return <p class="muted">{empty}</p>;
  return (
    <ul class="calls">
      {calls.map((c) => (
        <li data-testid="lineage-call">
          <code>{callLabel(c)}</code>{" "}
          <span class="muted">
            call <IdLink kind="callnode" id={c.callHash} />, {c.jobs.length} job{c.jobs.length === 1 ? "" : "s"}
          </span>
          <JobList jobs={c.jobs.slice(0, 5)} empty="" />
        </li>
      ))}
    </ul>
  );
}

function Lineage({ lineage }: { lineage: ValueLineage }) {
  return (
    <section class="lineage" data-testid="lineage">
      <h2>Lineage</h2>
      {!lineage.supported ? (
        <p class="muted">This store cannot look up calls by value.</p>
      ) : (
        <>
          {lineage.producedBy.length || lineage.usedBy.length ? <LineageGraph lineage={lineage} /> : null}
          {lineage.truncated ? <p class="muted">Many jobs name this value: the newest are shown.</p> : null}
          <h3>Produced by</h3>
          <CallList calls={lineage.producedBy} empty="No recorded call returned this value (an argument given to a run)." />
          <h3>Used by</h3>
          <CallList calls={lineage.usedBy} empty="No recorded call took this value as an argument." />
        </>
      )}
    </section>
  );
}
