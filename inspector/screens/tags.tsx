/**
 * The tag vocabulary: every key with its count of current tags per record
 * type; a key's values with their counts. Each count links to the records.
 */
import { ENTITY_TYPES, formatTagValue, type TagCount } from "../../core/index.ts";
import { Loaded } from "../components/bits.tsx";
import { useAsync, useStore } from "../hooks.ts";
import { link, type Route } from "../router.ts";
import { filterText } from "./records.tsx";

export function TagsScreen({ route }: { route: Route }) {
  const { graph } = useStore();
  const key = route.params.get("key");
  const keys = useAsync(() => graph.listTags(), []);
  const values = useAsync(() => (key === null ? Promise.resolve([] as TagCount[]) : graph.listTags({ values: true, keys: [key] })), [key]);
  return (
    <section class="vocabulary">
      <h1>Tags</h1>
      <Loaded
        state={keys}
        render={(rows) => {
          const byKey = new Map<string, Map<string, number>>();
          for (const r of rows) {
            const m = byKey.get(r.key) ?? new Map<string, number>();
            m.set(r.entityType!, r.count);
            byKey.set(r.key, m);
          }
          if (byKey.size === 0) return <p class="muted">No tags yet.</p>;
          return (
            <table class="list compact" data-testid="tag-keys">
              <thead>
                <tr>
                  <th>key</th>
                  {ENTITY_TYPES.map((t) => (
                    <th class="num">{t}</th>
                  ))}
                  <th class="num">total</th>
                </tr>
              </thead>
              <tbody>
                {[...byKey].map(([k, counts]) => (
                  <tr data-key={k} class={k === key ? "selected" : ""}>
                    <td>
                      <a href={link("/tags", { key: k })}>{k}</a>
                    </td>
                    {ENTITY_TYPES.map((t) => (
                      <td class="num">
                        {counts.get(t) ? <a href={link(t === "Execution" ? "/executions" : "/records", { type: t === "Execution" ? undefined : t, tag: k })}>{counts.get(t)}</a> : <span class="muted">0</span>}
                      </td>
                    ))}
                    <td class="num">{[...counts.values()].reduce((a, b) => a + b, 0)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          );
        }}
      />
      {key !== null ? (
        <section>
          <h2>
            Values of <code>{key}</code>
          </h2>
          <Loaded
            state={values}
            render={(rows) => (
              <table class="list compact" data-testid="tag-values">
                <tbody>
                  {rows.map((r) => (
                    <tr>
                      <td>
                        <code>{formatTagValue(r.value!)}</code>
                      </td>
                      <td class="num">
                        <a href={link("/records", { type: "all", tag: filterText([r.key, r.value!]) })}>{r.count}</a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          />
        </section>
      ) : null}
    </section>
  );
}
