/**
 * A record's tags, edited in place with the core's semantics (CallGraph:
 * add, update, rm), each current tag's history (the tags it superseded), and
 * merge conflicts with a one-click resolve (an update naming every current
 * value of the key as parents). Errors show inline; a store that needs a
 * token for writes asks for it here.
 */
import { useState } from "hono/jsx/dom";
import { HttpError } from "../../adapters/http/index.ts";
import { ANY_VALUE, formatTagKeyValue, formatTagView, formatTagValue, parseTagKeyValue, splitTagText, type JsonValue, type PastTag, type TagChange, type TagEditResult, type TagPair, type TagRecord } from "../../core/index.ts";
import { errorText, useAsync, useStore } from "../hooks.ts";
import { Loaded, TagValue, Time } from "./bits.tsx";

type Op = "add" | "update" | "rm";

/** A tag as text, its Python text for a tag made in redun (`1.0`, `{"a": 1}`). */
function tagText(tag: TagRecord, max = 200): string {
  return formatTagView(tag.valueText === undefined ? [tag.key, tag.value] : [tag.key, tag.value, tag.valueText], max);
}

/** How an earlier tag stopped being current, from the tags that name it as a parent. */
function endedText(past: PastTag): string {
  const parts: string[] = [];
  for (const t of [...past.endedBy].reverse()) {
    if (t.entityId === null) parts.push("removed");
    else if (t.entityId !== past.tag.entityId) parts.push("superseded");
    else if (t.key !== past.tag.key) parts.push(`renamed to ${t.key}`);
    else if (JSON.stringify(t.value) === JSON.stringify(past.tag.value)) parts.push("re-added");
    else parts.push(`updated to ${tagText(t, 80)}`);
  }
  return [...new Set(parts)].join(", ") || "superseded";
}

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

  const [renaming, setRenaming] = useState<string | null>(null);
  const [newKey, setNewKey] = useState("");
  const [showPast, setShowPast] = useState(false);

  async function edit(run: () => Promise<TagEditResult>, done?: (result: TagEditResult) => string): Promise<boolean> {
    if (await store.needsToken()) {
      setAskToken(true);
      setMessage({ ok: false, text: "This store needs a token to edit tags." });
      return false;
    }
    setBusy(true);
    try {
      const result = await run();
      setMessage({ ok: true, text: result.written ? (done ? done(result) : describe(result.changes)) : "nothing to change" });
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

  /** Rename a key of this record (the core's renameTag): its values and history move to the new key. */
  function rename(from: string): void {
    const to = newKey.trim();
    void (async () => {
      if (await edit(() => graph.renameTag(entityId, from, to), () => `rename ${from} to ${to}`)) {
        setRenaming(null);
        setNewKey("");
      }
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
                          <TagValue tags={pairs} tagKey={e.tag.key} value={e.tag.value} text={e.tag.valueText} />
                        </td>
                        <td class="actions">
                          {e.superseded.length > 0 ? (
                            <button type="button" class="link" data-testid="tag-history" onClick={() => toggle(e.tag.id)}>
                              history ({e.superseded.length})
                            </button>
                          ) : null}{" "}
                          <button
                            type="button"
                            class="link"
                            data-testid="rename"
                            title={`rename the key ${e.tag.key}`}
                            disabled={busy}
                            onClick={() => {
                              setRenaming(renaming === e.tag.key ? null : e.tag.key);
                              setNewKey("");
                            }}
                          >
                            rename
                          </button>{" "}
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
                      ...(renaming === e.tag.key && h.tags.find((t) => t.tag.key === e.tag.key) === e
                        ? [
                            <tr class="rename-row">
                              <td />
                              <td colSpan={2}>
                                <form
                                  class="rename-form"
                                  data-testid="rename-form"
                                  onSubmit={(ev: Event) => {
                                    ev.preventDefault();
                                    rename(e.tag.key);
                                  }}
                                >
                                  <label>
                                    rename <code>{e.tag.key}</code> to{" "}
                                    <input name="to" aria-label={`new key for ${e.tag.key}`} value={newKey} onInput={(ev: Event) => setNewKey((ev.target as HTMLInputElement).value)} />
                                  </label>{" "}
                                  <button type="submit" disabled={busy}>Rename</button>{" "}
                                  <button type="button" class="link" onClick={() => setRenaming(null)}>cancel</button>
                                </form>
                              </td>
                            </tr>,
                          ]
                        : []),
                      ...(open.has(e.tag.id)
                        ? e.superseded.map((old) => (
                            <tr class="history" data-testid="history-row">
                              <td />
                              <td>
                                <s>{tagText(old)}</s> <span class="muted">written</span> <Time ms={old.time} />
                              </td>
                              <td />
                            </tr>
                          ))
                        : []),
                    ])}
                  </tbody>
                </table>
              )}
              {h.past.length ? (
                <div class="past" data-testid="past">
                  <button type="button" class="link" data-testid="past-toggle" aria-expanded={showPast ? "true" : "false"} onClick={() => setShowPast(!showPast)}>
                    {showPast ? "▾" : "▸"} earlier tags ({h.past.length})
                  </button>
                  {showPast ? (
                    <table class="tag-table past-table">
                      <tbody>
                        {h.past.map((p) => (
                          <tr data-testid="past-row" data-key={p.tag.key}>
                            <td class="value">
                              <s>{tagText(p.tag)}</s>
                            </td>
                            <td class="muted" data-testid="past-how">{endedText(p)}</td>
                            <td class="muted">
                              written <Time ms={p.tag.time} />
                              {p.endedBy[0] ? (
                                <>
                                  , ended <Time ms={p.endedBy[0].time} />
                                </>
                              ) : null}
                            </td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  ) : null}
                  {showPast && !h.complete ? (
                    <p class="muted small">Earlier tags linked to this record's edits; this store does not list a tag removed with nothing written after it.</p>
                  ) : null}
                </div>
              ) : null}
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
