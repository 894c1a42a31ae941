/**
 * One execution: what ran, its tags, the job status table (redun's), and the
 * job tree with a timeline: one row per job, collapsible, status coloured
 * (CACHED stands out), a bar from its start to its end on the execution's
 * time scale. Rows are virtual, so an execution of 10,000 jobs opens fast.
 */
import { useEffect, useMemo, useState } from "hono/jsx/dom";
import { JOB_STATUSES, type JobStatus, type JobTreeNode, type RecordDetail } from "../../core/index.ts";
import { Duration, Loaded, Status, Time } from "../components/bits.tsx";
import { TagEditor } from "../components/tag-editor.tsx";
import { VirtualList } from "../components/virtual-list.tsx";
import { useAsync, useStore } from "../hooks.ts";
import { link } from "../router.ts";

const ROW_HEIGHT = 26;
const TABLE_STATUSES: JobStatus[] = ["RUNNING", "FAILED", "CACHED", "DONE"];

export function ExecutionScreen({ id }: { id: string }) {
  const { graph } = useStore();
  const detail = useAsync(async () => {
    const ref = await graph.resolve(id, ["Execution"]);
    // The tree shows no job tags: not reading them saves a read per job (10,000 in a big run).
    return graph.show(ref.id, { jobTags: false });
  }, [id]);
  return (
    <Loaded
      state={detail}
      render={(d) => (d.record.type === "Execution" ? <ExecutionView detail={d} /> : null)}
    />
  );
}

function ExecutionView({ detail }: { detail: RecordDetail }) {
  const exec = detail.record;
  if (exec.type !== "Execution") return null;
  return (
    <article class="execution" data-testid="execution" data-id={exec.id}>
      <h1>
        Execution <span class="id" title={exec.id}>{exec.id.slice(0, 8)}</span> <Status status={exec.status} abandoned={exec.abandoned} />
      </h1>
      {exec.abandoned ? (
        <p class="abandoned-note" data-testid="abandoned">
          Abandoned: recorded as RUNNING, but its lease ran out <Time ms={exec.leaseUntil} /> without the run finishing (its process was stopped).
        </p>
      ) : null}
      <dl class="facts">
        <dt>command</dt>
        <dd>
          <code class="argv">{exec.argv.join(" ")}</code>
        </dd>
        <dt>task</dt>
        <dd>{exec.taskName ?? "?"}</dd>
        <dt>started</dt>
        <dd>
          <Time ms={exec.startTime} />
        </dd>
        <dt>ended</dt>
        <dd>
          <Time ms={exec.endTime} />
        </dd>
        <dt>duration</dt>
        <dd>
          <Duration start={exec.startTime} end={exec.endTime} />
        </dd>
        <dt>id</dt>
        <dd>
          <code>{exec.id}</code>
        </dd>
      </dl>
      <TagEditor entityId={exec.id} />
      {detail.jobCounts ? <StatusTable counts={detail.jobCounts} /> : null}
      {detail.jobTree ? <JobTree root={detail.jobTree} /> : <p class="muted">No jobs recorded.</p>}
    </article>
  );
}

function StatusTable({ counts }: { counts: NonNullable<RecordDetail["jobCounts"]> }) {
  const rows: [string, Partial<Record<JobStatus, number>>, number][] = [
    ["ALL", counts.byStatus, counts.total],
    ...Object.entries(counts.byTask)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([task, c]): [string, Partial<Record<JobStatus, number>>, number] => [task, c, JOB_STATUSES.reduce((n, s) => n + (c[s] ?? 0), 0)]),
  ];
  return (
    <section>
      <h2>Job status</h2>
      <table class="status-table" data-testid="status-table">
        <thead>
          <tr>
            <th>TASK</th>
            {TABLE_STATUSES.map((s) => (
              <th class="num">{s}</th>
            ))}
            <th class="num">TOTAL</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([task, c, total]) => (
            <tr>
              <td>{task}</td>
              {TABLE_STATUSES.map((s) => (
                <td class={`num ${c[s] ? `count-${s.toLowerCase()}` : "muted"}`}>{c[s] ?? 0}</td>
              ))}
              <td class="num">{total}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

interface Row {
  node: JobTreeNode;
  depth: number;
}

/** The rows in view: depth first, children of collapsed jobs left out (no recursion: trees can be deep). */
function flatten(root: JobTreeNode, expanded: ReadonlySet<string>): Row[] {
  const rows: Row[] = [];
  const stack: Row[] = [{ node: root, depth: 0 }];
  while (stack.length) {
    const row = stack.pop()!;
    rows.push(row);
    if (expanded.has(row.node.id)) {
      for (let i = row.node.children.length - 1; i >= 0; i--) stack.push({ node: row.node.children[i]!, depth: row.depth + 1 });
    }
  }
  return rows;
}

function allParents(root: JobTreeNode): Set<string> {
  const out = new Set<string>();
  const stack = [root];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.children.length) out.add(n.id);
    stack.push(...n.children);
  }
  return out;
}

/** The time scale: the earliest start to the latest end (now, for jobs still running). */
function timeSpan(root: JobTreeNode): { start: number; span: number } {
  let start = root.startTime;
  let end = root.endTime ?? Date.now();
  const stack = [root];
  while (stack.length) {
    const n = stack.pop()!;
    start = Math.min(start, n.startTime);
    end = Math.max(end, n.endTime ?? Date.now());
    stack.push(...n.children);
  }
  return { start, span: Math.max(1, end - start) };
}

function JobTree({ root }: { root: JobTreeNode }) {
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => new Set([root.id]));
  const rows = useMemo(() => flatten(root, expanded), [root, expanded]);
  const scale = useMemo(() => timeSpan(root), [root]);
  useEffect(() => {
    // For the benchmark: when the tree is on screen.
    requestAnimationFrame(() => performance.mark("job-tree-painted"));
  }, [root]);
  const toggle = (id: string) => {
    const next = new Set(expanded);
    if (!next.delete(id)) next.add(id);
    setExpanded(next);
  };
  return (
    <section class="job-tree">
      <h2>Jobs</h2>
      <p class="tree-tools">
        <button type="button" onClick={() => setExpanded(allParents(root))}>Expand all</button>{" "}
        <button type="button" onClick={() => setExpanded(new Set())}>Collapse all</button>{" "}
        <span class="muted">{rows.length} of the jobs shown; bars: start to end on the execution's time scale</span>
      </p>
      <div class="tree-head">
        <span>job</span>
        <span>timeline</span>
      </div>
      <VirtualList
        testId="job-tree"
        count={rows.length}
        rowHeight={ROW_HEIGHT}
        maxHeight={620}
        renderRow={(i) => {
          const { node, depth } = rows[i]!;
          const open = expanded.has(node.id);
          const left = ((node.startTime - scale.start) / scale.span) * 100;
          const width = Math.max(0.4, (((node.endTime ?? Date.now()) - node.startTime) / scale.span) * 100);
          return (
            <div class={`tree-row row-${node.status.toLowerCase()}`} data-testid="job-row" data-id={node.id} data-depth={depth} key={node.id}>
              <span class="tree-cell" style={{ "padding-left": `${depth * 16}px` }}>
                {node.children.length ? (
                  <button
                    type="button"
                    class="toggle"
                    aria-expanded={open ? "true" : "false"}
                    aria-label={`${open ? "collapse" : "expand"} ${node.taskName ?? node.id.slice(0, 8)}`}
                    onClick={() => toggle(node.id)}
                  >
                    {open ? "▾" : "▸"}
                  </button>
                ) : (
                  <span class="toggle-space" />
                )}
                <Status status={node.status} /> <a href={link(`/job/${node.id}`)}>{node.taskName ?? "?"}</a>{" "}
                <span class="muted id">{node.id.slice(0, 8)}</span>
                {node.children.length ? <span class="muted"> ({node.children.length})</span> : null}
              </span>
              <span class="bar-cell">
                <span
                  class={`bar bar-${node.status.toLowerCase()}`}
                  style={{ left: `${Math.min(left, 99.6)}%`, width: `${Math.min(width, 100 - Math.min(left, 99.6))}%` }}
                  title={`${node.status} ${((node.endTime ?? Date.now()) - node.startTime).toLocaleString()} ms`}
                />
              </span>
            </div>
          );
        }}
      />
    </section>
  );
}

