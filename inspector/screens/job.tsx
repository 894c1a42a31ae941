/**
 * One job: its path from the execution (redun's "Traceback"), task, status
 * and times, the call's arguments and result with previews, the error of a
 * failed job, its tags and its child jobs.
 */
import { formatRepr, type ArgumentView, type JobSummary, type ValueView } from "../../core/index.ts";
import { ERROR_VALUE_TYPE, type RecordedError } from "../../core/adapter-kit.ts";
import { Duration, IdLink, Loaded, Repr, Status, Time } from "../components/bits.tsx";
import { TagEditor } from "../components/tag-editor.tsx";
import { useAsync, useStore } from "../hooks.ts";
import { link } from "../router.ts";

export function JobScreen({ id }: { id: string }) {
  const { graph } = useStore();
  const state = useAsync(async () => {
    const ref = await graph.resolve(id, ["Job"]);
    const [detail, context] = await Promise.all([graph.show(ref.id), graph.jobContext(ref.id)]);
    return { detail, context };
  }, [id]);
  return (
    <Loaded
      state={state}
      render={({ detail, context }) => {
        const job = detail.record;
        if (job.type !== "Job") return null;
        return (
          <article class="job" data-testid="job" data-id={job.id}>
            <p class="traceback" data-testid="traceback">
              <span class="muted">Traceback: </span>
              <a href={link(`/execution/${job.executionId}`)}>Exec {job.executionId.slice(0, 8)}</a>
              {[...context.path, context.job].map((j) => (
                <>
                  {" > "}
                  <a href={link(`/job/${j.id}`)}>
                    Job {j.id.slice(0, 8)} {j.taskName ?? "?"}
                  </a>
                </>
              ))}
            </p>
            <h1>
              Job <span class="id" title={job.id}>{job.id.slice(0, 8)}</span> <Status status={job.status} />
            </h1>
            <dl class="facts">
              <dt>task</dt>
              <dd>
                <a href={link(`/task/${job.taskHash}`)}>{job.taskName ?? job.taskHash.slice(0, 8)}</a>
              </dd>
              <dt>execution</dt>
              <dd>
                <IdLink kind="execution" id={job.executionId} />
              </dd>
              <dt>started</dt>
              <dd>
                <Time ms={job.startTime} />
              </dd>
              <dt>duration</dt>
              <dd>
                <Duration start={job.startTime} end={job.endTime} />
              </dd>
              <dt>call</dt>
              <dd>{job.callHash ? <IdLink kind="callnode" id={job.callHash} /> : <span class="muted">none</span>}</dd>
            </dl>
            {job.status === "FAILED" || job.error ? <Failure message={job.error} raised={errorOf(detail.call?.result ?? null)} /> : null}
            <section>
              <h2>Call</h2>
              {detail.call ? (
                <table class="call" data-testid="call">
                  <tbody>
                    {detail.call.args.map((a) => (
                      <ArgRow arg={a} />
                    ))}
                    <tr class="result">
                      <th>result</th>
                      <td>
                        <ValueCell value={detail.call.result} />
                      </td>
                    </tr>
                  </tbody>
                </table>
              ) : job.args ? (
                <table class="call">
                  <tbody>
                    {job.args.map((a) => (
                      <ArgRow arg={a} />
                    ))}
                  </tbody>
                </table>
              ) : (
                <p class="muted">No call recorded{job.status === "FAILED" ? " (the job failed)" : job.status === "RUNNING" ? " yet" : ""}.</p>
              )}
            </section>
            <TagEditor entityId={job.id} />
            <section>
              <h2>Child jobs</h2>
              <JobList jobs={context.children} empty="No child jobs." />
            </section>
          </article>
        );
      }}
    />
  );
}

export function ArgRow({ arg }: { arg: ArgumentView }) {
  return (
    <tr>
      <th>{/^\d+$/.test(arg.key) ? `arg ${arg.key}` : arg.key}</th>
      <td>
        <ValueCell value={arg.value} />
      </td>
    </tr>
  );
}

/** The error a failed call recorded as its result (a Value of type "error"); null for any other value. */
export function errorOf(value: ValueView | null): RecordedError | null {
  if (value?.valueType !== ERROR_VALUE_TYPE || value.preview || !value.value || typeof value.value !== "object") return null;
  const e = value.value as Partial<RecordedError>;
  return { name: String(e.name ?? "Error"), message: String(e.message ?? ""), stack: typeof e.stack === "string" ? e.stack : null };
}

/**
 * A failed job, as redun's job view and `log JOB` show it: the error's name
 * and message, where it was raised (a parent fails with its child), and the
 * stack, all as text.
 */
function Failure({ message, raised }: { message: string | null; raised: RecordedError | null }) {
  return (
    <section class="failure" data-testid="job-failure">
      <h2>Error</h2>
      <p class="error-line" data-testid="job-error">
        {raised ? (
          <>
            <strong>{raised.name}</strong>: {raised.message}
          </>
        ) : (
          message ?? "failed (no error recorded)"
        )}
      </p>
      {raised && message && message !== raised.message && message !== `${raised.name}: ${raised.message}` ? <ErrorNote message={message} /> : null}
      {raised?.stack ? (
        <>
          <h3>Stack</h3>
          <pre class="error-text" data-testid="job-stack">
            {raised.stack}
          </pre>
        </>
      ) : null}
    </section>
  );
}

/** `child job ID failed`: where the error was raised, linked to that job. */
function ErrorNote({ message }: { message: string }) {
  const child = /^child job ([0-9a-f-]+) failed$/.exec(message);
  return (
    <p class="muted" data-testid="job-error-note">
      {child ? (
        <>
          raised in child job <IdLink kind="job" id={child[1]!} />
        </>
      ) : (
        message
      )}
    </p>
  );
}

/** A value as a cell: its repr (Python's, for a value from redun), type and id; a recorded error as `raised Name('message')`. */
export function ValueCell({ value }: { value: ValueView | null }) {
  if (!value) return <span class="muted">not stored</span>;
  const error = errorOf(value);
  return (
    <span class="value-cell">
      {error ? (
        <code class="repr raised">{`raised ${error.name}(${formatRepr(error.message, 120)})`}</code>
      ) : (
        <Repr value={value.value} repr={value.repr} max={120} />
      )}{" "}
      <span class="muted">{value.valueType}</span> <IdLink kind="value" id={value.id} />
    </span>
  );
}

export function JobList({ jobs, empty }: { jobs: readonly JobSummary[]; empty: string }) {
  if (jobs.length === 0) return <p class="muted">{empty}</p>;
  return (
    <table class="list compact" data-testid="job-list">
      <tbody>
        {jobs.map((j) => (
          <tr data-id={j.id}>
            <td>
              <IdLink kind="job" id={j.id} />
            </td>
            <td>
              <Status status={j.status} />
            </td>
            <td>{j.taskName ?? j.taskHash.slice(0, 8)}</td>
            <td>
              <Time ms={j.startTime} />
            </td>
            <td>
              <Duration start={j.startTime} end={j.endTime} />
            </td>
            <td class="muted">
              exec <IdLink kind="execution" id={j.executionId} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
