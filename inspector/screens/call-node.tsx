/**
 * One CallNode (redun's CallNode view): its task, arguments and result as
 * text, its child calls, the jobs that ran it, its tags.
 */
import { formatArgs, type LineageCall } from "../../core/index.ts";
import { IdLink, Loaded } from "../components/bits.tsx";
import { TagEditor } from "../components/tag-editor.tsx";
import { useAsync, useStore } from "../hooks.ts";
import { link } from "../router.ts";
import { ArgRow, JobList, ValueCell } from "./job.tsx";

export function CallNodeScreen({ id }: { id: string }) {
  const { graph } = useStore();
  const state = useAsync(() => graph.callNode(id), [id]);
  return (
    <Loaded
      state={state}
      render={({ call, task, children, supported, truncated }) => {
        const name = call.taskName ?? call.taskHash.slice(0, 8);
        return (
          <article class="callnode" data-testid="callnode" data-id={call.callHash}>
            <h1>
              CallNode <span class="id" title={call.callHash}>{call.callHash.slice(0, 8)}</span> <span class="muted">{name}</span>
            </h1>
            <p class="call-line" data-testid="call-line">
              <code>{`${name}(${formatArgs(call.args)})`}</code>
            </p>
            <dl class="facts">
              <dt>task</dt>
              <dd>
                {task ? <a href={link(`/task/${task.id}`)}>{name}</a> : <span class="muted">not stored</span>}{" "}
                <span class="muted id" title={call.taskHash}>{call.taskHash.slice(0, 8)}</span>
              </dd>
              <dt>id</dt>
              <dd>
                <code>{call.callHash}</code>
              </dd>
            </dl>
            <section>
              <h2>Call</h2>
              <table class="call" data-testid="call">
                <tbody>
                  {call.args.map((a) => (
                    <ArgRow arg={a} />
                  ))}
                  <tr class="result">
                    <th>result</th>
                    <td>
                      <ValueCell value={call.result} />
                    </td>
                  </tr>
                </tbody>
              </table>
            </section>
            <TagEditor entityId={call.callHash} />
            <section>
              <h2>Child calls</h2>
              <ChildCalls calls={children} />
            </section>
            <section>
              <h2>Jobs that ran it</h2>
              {supported ? (
                <>
                  <JobList jobs={call.jobs} empty="No recorded job ran this call." />
                  {truncated ? <p class="muted">Many jobs name this call's result: the newest are shown.</p> : null}
                </>
              ) : (
                <p class="muted">This store cannot look up jobs by value.</p>
              )}
            </section>
          </article>
        );
      }}
    />
  );
}

function ChildCalls({ calls }: { calls: readonly LineageCall[] }) {
  if (calls.length === 0) return <p class="muted">No child calls.</p>;
  return (
    <table class="list compact" data-testid="child-calls">
      <tbody>
        {calls.map((c) => (
          <tr data-id={c.callHash}>
            <td>
              <IdLink kind="callnode" id={c.callHash} />
            </td>
            <td>
              <code>{`${c.taskName ?? c.taskHash.slice(0, 8)}(${formatArgs(c.args)})`}</code>
            </td>
            <td>
              <ValueCell value={c.result} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
