/**
 * Small pieces every screen uses. All record content is user data: it goes
 * into the page as text children or attribute values, never as HTML.
 */
import type { Child } from "hono/jsx/dom";
import { commitLink, formatDuration, formatRepr, formatTagView, formatTime, type JsonValue, type TagPair, type TagView } from "../../core/index.ts";
import { errorText, type Async } from "../hooks.ts";
import { link } from "../router.ts";

/** A status; a RUNNING execution whose lease passed shows as ABANDONED (its process stopped without finishing it). */
export function Status({ status, abandoned = false }: { status: string; abandoned?: boolean }) {
  const shown = abandoned ? "ABANDONED" : status;
  return (
    <span
      class={`status status-${shown.toLowerCase()}`}
      data-status={shown}
      title={abandoned ? "RUNNING, but its lease passed: the process that ran it stopped without finishing it" : undefined}
    >
      {shown}
    </span>
  );
}

/** The first 8 characters of an id, linking to its screen; the full id on hover. */
export function IdLink({ kind, id }: { kind: "execution" | "job" | "value" | "task" | "callnode"; id: string }) {
  return (
    <a class="id" href={link(`/${kind}/${id}`)} title={id}>
      {id.slice(0, 8)}
    </a>
  );
}

export function Time({ ms }: { ms: number | null | undefined }) {
  if (ms === null || ms === undefined) return <span class="muted">—</span>;
  return <time dateTime={new Date(ms).toISOString()}>{formatTime(ms)}</time>;
}

export function Duration({ start, end }: { start: number; end: number | null }) {
  return <span class="duration">{end === null ? "running" : formatDuration(end - start)}</span>;
}

/** Tags as chips; a click on one calls `onPick` (the list adds it to its filter). */
export function TagChips({ tags, onPick }: { tags: readonly TagView[]; onPick?: (pair: TagPair) => void }) {
  const sorted = [...tags].sort((a, b) => (formatTagView(a, 10_000) < formatTagView(b, 10_000) ? -1 : 1));
  return (
    <span class="chips">
      {sorted.map((tag) => {
        const [k, v] = tag;
        // A full commit hash is cut to 7 characters, as redun's log lines show it; a value from redun shows its Python text.
        const text = k === "git_commit" && typeof v === "string" && /^[0-9a-f]{40}$/.test(v) ? `${k}=${v.slice(0, 7)}…` : formatTagView(tag, 40);
        const full = formatTagView(tag, 10_000);
        return onPick ? (
          <button type="button" class="chip" title={full} aria-label={`filter by ${full}`} onClick={() => onPick([k, v])}>
            {text}
          </button>
        ) : (
          <span class="chip" title={full}>{text}</span>
        );
      })}
    </span>
  );
}

/** A tag value as a person reads it; `git_commit` links to the commit when the origin is on GitHub. */
export function TagValue({ tags, tagKey, value, text: pyText }: { tags: readonly TagPair[]; tagKey: string; value: JsonValue; text?: string }) {
  // A tag made in redun shows its Python text (`1.0`, `{"a": 1}`), as redun prints it.
  const text = formatTagView(pyText === undefined ? ["", value] : ["", value, pyText], 200).slice(1);
  if (tagKey === "git_commit" && typeof value === "string") {
    const origin = tags.find(([k]) => k === "git_origin_url")?.[1];
    const url = typeof origin === "string" ? commitLink(origin, value) : null;
    if (url) {
      return (
        <a href={url} target="_blank" rel="noopener noreferrer" class="commit">
          {text}
        </a>
      );
    }
  }
  return <span class="tag-value">{text}</span>;
}

/** A value's short form, as redun's job lines print it: Python's repr for a value from redun. */
export function reprText(value: unknown, repr: string | undefined, max = 60): string {
  if (repr === undefined) return formatRepr(value, max);
  return repr.length > max ? `${repr.slice(0, max - 3)}...` : repr;
}

export function Repr({ value, repr, max = 60 }: { value: unknown; repr?: string; max?: number }) {
  return <code class="repr">{reprText(value, repr, max)}</code>;
}

export function ErrorBox({ error }: { error: unknown }) {
  return (
    <p class="error" role="alert">
      {errorText(error)}
    </p>
  );
}

/** Loading, error, or the content for the data. */
export function Loaded<T>({ state, render }: { state: Async<T>; render: (data: T) => Child }) {
  if (state.error !== undefined) return <ErrorBox error={state.error} />;
  if (state.data === undefined) return <p class="muted loading">Loading…</p>;
  return <>{render(state.data)}</>;
}
