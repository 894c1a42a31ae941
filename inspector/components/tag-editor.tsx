/**
 * A record's tags, edited in place with the core's semantics (CallGraph:
 * add, update, rm), each current tag's history (the tags it superseded), and
 * merge conflicts with a one-click resolve (an update naming every current
 * value of the key as parents). Errors show inline; a store that needs a
 * token for writes asks for it here.
 */
import { useState } from "hono/jsx/dom";
import { HttpError } from "../../adapters/http/index.ts";
import {
  ANY_VALUE,
  formatTagKeyValue,
  formatTagValue,
  parseTagKeyValue,
  splitTagText,
  type JsonValue,
  type TagChange,
  type TagEditResult,
  type TagPair,
} from "../../core/index.ts";
import { errorText, useAsync, useStore } from "../hooks.ts";
import { Loaded, TagValue, Time } from "./bits.tsx";

type Op = "add" | "update" | "rm";

function describe(changes: readonly TagChange[]): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const c of changes) {
    const line = `${c.op} ${formatTagKeyValue(c.key, c.value)}`;
    if (!seen.has(line)) lines.push(line);
    seen.add(line);
  }
  return lines.join(", ");
}

export function TokenForm({ onSave }: { onSave: (token: string) => void }) {
  const [token, setToken] = useState("");
  return (
    <form
      class="token-form"
      data-testid="token-form"
      onSubmit={(e: Event) => {
        e.preventDefault();
        if (token.trim()) onSave(token.trim());
      }}
    >
      <label>
        Token for edits{" "}
        <input type="password" name="token" autocomplete="off" value={token} onInput={(e: Event) => setToken((e.target as HTMLInputElement).value)} />
      </label>{" "}
      <button type="submit">Use token</button>
    </form>
  );
}

export function TagEditor({ entityId, onChange }: { entityId: string; onChange?: () => void }) {
  const store = useStore();
  const graph = store.graph;
  const history = useAsync(() => graph.tagHistory(entityId), [entityId]);
  const [text, setText] = useState("");
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [askToken, setAskToken] = useState(false);
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const [busy, setBusy] = useState(false);

  async function edit(run: () => Promise<TagEditResult>): Promise<boolean> {
    if (await store.needsToken()) {
      setAskToken(true);
      setMessage({ ok: false, text: "This store needs a token to edit tags." });
      return false;
    }
    setBusy(true);
    try {
      const result = await run();
      setMessage({ ok: true, text: result.written ? describe(result.changes) : "nothing to change" });
      history.reload();
      onChange?.();
      return true;
    } catch (error) {
      if (error instanceof HttpError && error.status === 401) setAskToken(true);
      setMessage({ ok: false, text: errorText(error) });
      return false;
    } finally {
      setBusy(false);
    }
  }

  /** The form's text as an edit: `k=v, k2=v2`; for rm a bare key removes every value. */
  function submit(op: Op): void {
    void (async () => {
      let run: () => Promise<TagEditResult>;
      try {
        const items = splitTagText(text);
        if (items.length === 0) throw new Error("type a tag: key=value");
        if (op === "rm") {
          const parsed = items.map((t) => parseTagKeyValue(t, { valueRequired: false }));
          const keys = parsed.filter(([, v]) => v === ANY_VALUE).map(([k]) => k);
          const tags = parsed.filter(([, v]) => v !== ANY_VALUE) as [string, JsonValue][];
          run = () => graph.removeTags(entityId, { tags, keys });
        } else {
          const pairs = items.map((t) => parseTagKeyValue(t) as TagPair);
          run = () => (op === "add" ? graph.addTags(entityId, pairs) : graph.updateTags(entityId, pairs));
        }
      } catch (error) {
        setMessage({ ok: false, text: errorText(error) });
        return;
      }
      if (await edit(run)) setText("");
    })();
  }

  const toggle = (id: string) => {
    const next = new Set(open);
    if (!next.delete(id)) next.add(id);
    setOpen(next);
  };

  return (
    <section class="tags" data-testid="tag-editor">
      <h2>Tags</h2>
      <Loaded
        state={history}
        render={(h) => {
          const pairs: TagPair[] = h.tags.map((e) => [e.tag.key, e.tag.value]);
          return (
            <>
              {h.conflicts.map((c) => (
                <div class="conflict" data-testid="conflict" data-key={c.key}>
                  <strong>{c.key}</strong> has {c.tags.length} current values from edits made apart. Keep:{" "}
                  {c.tags.map((t) => (
                    <button type="button" disabled={busy} onClick={() => void edit(() => graph.updateTags(entityId, [[c.key, t.value]]))}>
                      {formatTagValue(t.value)}
                    </button>
                  ))}
                </div>
              ))}
              {h.tags.length === 0 ? (
                <p class="muted">No tags.</p>
              ) : (
                <table class="tag-table">
                  <tbody>
                    {h.tags.flatMap((e) => [
                      <tr data-testid="tag-row" data-key={e.tag.key} class={h.conflicts.some((c) => c.key === e.tag.key) ? "conflicted" : ""}>
                        <td class="key">{e.tag.key}</td>
                        <td class="value">
                          <TagValue tags={pairs} tagKey={e.tag.key} value={e.tag.value} />
                        </td>
                        <td class="actions">
                          {e.superseded.length > 0 ? (
                            <button type="button" class="link" data-testid="tag-history" onClick={() => toggle(e.tag.id)}>
                              history ({e.superseded.length})
                            </button>
                          ) : null}{" "}
                          <button
                            type="button"
                            class="link danger"
                            title={`remove ${formatTagKeyValue(e.tag.key, e.tag.value, 10_000)}`}
                            disabled={busy}
                            onClick={() => void edit(() => graph.removeTags(entityId, { tags: [[e.tag.key, e.tag.value]] }))}
                          >
                            remove
                          </button>
                        </td>
                      </tr>,
                      ...(open.has(e.tag.id)
                        ? e.superseded.map((old) => (
                            <tr class="history" data-testid="history-row">
                              <td />
                              <td>
                                <s>{formatTagKeyValue(old.key, old.value, 200)}</s> <span class="muted">written</span> <Time ms={old.time} />
                              </td>
                              <td />
                            </tr>
                          ))
                        : []),
                    ])}
                  </tbody>
                </table>
              )}
            </>
          );
        }}
      />
      <form
        class="tag-form"
        onSubmit={(e: Event) => {
          e.preventDefault();
          submit((((e as SubmitEvent).submitter as HTMLButtonElement | null)?.value as Op) || "add");
        }}
      >
        <input
          name="tag"
          placeholder="key=value, key2=value2"
          aria-label="tags to edit"
          value={text}
          onInput={(e: Event) => setText((e.target as HTMLInputElement).value)}
        />
        <button type="submit" value="add" disabled={busy}>Add</button>
        <button type="submit" value="update" disabled={busy}>Update</button>
        <button type="submit" value="rm" disabled={busy}>Remove</button>
      </form>
      {askToken ? (
        <TokenForm
          onSave={(token) => {
            store.setToken(token);
            setAskToken(false);
            setMessage({ ok: true, text: "token saved in this browser; edit again" });
          }}
        />
      ) : null}
      {message ? (
        <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"} data-testid="edit-message">
          {message.text}
        </p>
      ) : null}
    </section>
  );
}
