/** One task: name, version, source, tags, and its jobs (newest first, by task name). */
import { Loaded } from "../components/bits.tsx";
import { TagEditor } from "../components/tag-editor.tsx";
import { useAsync, useStore } from "../hooks.ts";
import { link } from "../router.ts";
import { JobList } from "./job.tsx";
import type { JobSummary } from "../../core/index.ts";

const JOBS_SHOWN = 50;

export function TaskScreen({ id }: { id: string }) {
  const { graph } = useStore();
  const state = useAsync(async () => {
    const ref = await graph.resolve(id, ["Task"]);
    const detail = await graph.show(ref.id);
    if (detail.record.type !== "Task") return { detail, jobs: [], more: false };
    const name = detail.record.fullName;
    const page = await graph.log({ types: ["Job"], taskNames: [name], limit: JOBS_SHOWN });
    const jobs: JobSummary[] = page.records.flatMap((r) =>
      r.type === "Job"
        ? [{ id: r.id, executionId: r.executionId, parentId: r.parentId, taskHash: r.taskHash, taskName: r.taskHash === ref.id ? r.taskName : `${r.taskName} (other version)`, callHash: r.callHash, status: r.status, startTime: r.startTime, endTime: r.endTime, error: r.error }]
        : [],
    );
    return { detail, jobs, more: page.cursor !== null };
  }, [id]);
  return (
    <Loaded
      state={state}
      render={({ detail, jobs, more }) => {
        const t = detail.record;
        if (t.type !== "Task") return null;
        return (
          <article class="task" data-testid="task" data-id={t.id}>
            <h1>
              Task {t.fullName} <span class="id muted" title={t.id}>{t.id.slice(0, 8)}</span>
            </h1>
            <dl class="facts">
              <dt>namespace</dt>
              <dd>{t.namespace || <span class="muted">none</span>}</dd>
              <dt>version</dt>
              <dd>{t.version ?? <span class="muted">from its source</span>}</dd>
              <dt>hash</dt>
              <dd>
                <code>{t.id}</code>
              </dd>
            </dl>
            <section>
              <h2>Source</h2>
              <pre class="source" data-testid="task-source">
                {t.source}
              </pre>
            </section>
            <TagEditor entityId={t.id} />
            <section>
              <h2>Jobs</h2>
              <JobList jobs={jobs} empty="No jobs of this task." />
              {more ? (
                <p>
                  <a href={link("/records", { type: "Job", task: t.fullName })}>all jobs of {t.fullName} →</a>
                </p>
              ) : null}
            </section>
          </article>
        );
      }}
    />
  );
}
