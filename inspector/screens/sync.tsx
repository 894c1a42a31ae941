/**
 * The Sync panel of a store in this browser: the edge's URL and token (kept
 * in this browser), how many local records the edge has not had yet, and
 * Push / Pull with a progress bar, resumable and idempotent (inspector/sync.ts).
 */
import { useEffect, useMemo, useRef, useState } from "hono/jsx/dom";
import { createHttpClient } from "../../adapters/http/index.ts";
import { ErrorBox } from "../components/bits.tsx";
import { errorText, useStore } from "../hooks.ts";
import type { Route } from "../router.ts";
import { SyncCursorStore, countSince, pullRecords, pushRecords } from "../sync.ts";

const SETTINGS_KEY = "redun-edge-inspector:sync:";

interface Settings {
  url: string;
  token: string;
}

function loadSettings(dbName: string): Settings {
  try {
    const saved = JSON.parse(localStorage.getItem(SETTINGS_KEY + dbName) ?? "{}") as Partial<Settings>;
    return { url: saved.url ?? "", token: saved.token ?? "" };
  } catch {
    return { url: "", token: "" };
  }
}

function edgeUrl(text: string): string {
  const url = new URL(text.trim());
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("the edge URL must be http(s)");
  return url.href.replace(/\/+$/, "").replace(/\/api$/, "");
}

interface Run {
  op: "push" | "pull";
  done: number;
  total: number | null;
}

export function SyncScreen({ route }: { route: Route }) {
  const store = useStore();
  if (store.kind !== "indexeddb" || !store.dbName) {
    return (
      <section class="sync" data-testid="sync">
        <h1>Sync</h1>
        <p>
          Sync copies records between a store in this browser and an edge. This page shows the edge itself; open the inspector over
          a browser store with <code>?db=NAME</code> to sync it.
        </p>
      </section>
    );
  }
  // `#/sync?page=N`: records per request (tests use small pages to interrupt a sync midway).
  const pageSize = Number(route.params.get("page")) || undefined;
  return <SyncPanel dbName={store.dbName} pageSize={pageSize} />;
}

function SyncPanel({ dbName, pageSize }: { dbName: string; pageSize: number | undefined }) {
  const { repository } = useStore();
  const cursors = useMemo(() => new SyncCursorStore(dbName), [dbName]);
  const [settings, setSettings] = useState<Settings>(() => loadSettings(dbName));
  const [pending, setPending] = useState<number | null>(null);
  const [run, setRun] = useState<Run | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const abort = useRef<AbortController | null>(null);

  async function refreshPending(url = settings.url): Promise<number | null> {
    if (!url) return null;
    try {
      const n = await countSince(repository, (await cursors.get(edgeUrl(url))).push);
      setPending(n);
      return n;
    } catch {
      setPending(null);
      return null;
    }
  }

  useEffect(() => {
    void refreshPending();
  }, [settings.url]);

  async function start(op: "push" | "pull", given: Settings): Promise<void> {
    setError(undefined);
    setResult(null);
    setSettings(given);
    localStorage.setItem(SETTINGS_KEY + dbName, JSON.stringify(given));
    const controller = new AbortController();
    abort.current = controller;
    let copied = 0;
    const progress = (done: number, total: number | null) => {
      copied = done;
      setRun({ op, done, total });
    };
    try {
      const url = edgeUrl(given.url);
      const token = given.token;
      const edge = createHttpClient({ url, token: token || undefined });
      if (op === "push") {
        const total = await refreshPending(given.url);
        setRun({ op, done: 0, total });
        const r = await pushRecords(repository, edge, cursors, { pageSize, signal: controller.signal, onProgress: (done) => progress(done, total) });
        setResult(`Pushed ${r.records.toLocaleString("en-US")} record${r.records === 1 ? "" : "s"}; the edge accepted ${r.accepted.toLocaleString("en-US")}.`);
      } else {
        setRun({ op, done: 0, total: null });
        const r = await pullRecords(edge, repository, cursors, { pageSize, signal: controller.signal, onProgress: (done) => progress(done, null) });
        setResult(`Pulled ${r.records.toLocaleString("en-US")} record${r.records === 1 ? "" : "s"}.`);
      }
    } catch (e) {
      const kept = `${copied.toLocaleString("en-US")} record${copied === 1 ? "" : "s"} copied; the next ${op} resumes from there`;
      setError(new Error((e as Error)?.name === "AbortError" ? `${op} stopped (${kept})` : `${errorText(e)} (${kept})`));
    } finally {
      abort.current = null;
      setRun(null);
      await refreshPending(given.url);
    }
  }

  return (
    <section class="sync" data-testid="sync">
      <h1>Sync</h1>
      <p class="muted">
        Copy records between this browser's store (<code>{dbName}</code>) and an edge. Both ways are resumable and safe to repeat; the
        receiver checks every record's id against its content.
      </p>
      <form
        class="sync-form"
        onSubmit={(e: Event) => {
          e.preventDefault();
          const op = ((e as SubmitEvent).submitter as HTMLButtonElement | null)?.value === "pull" ? "pull" : "push";
          const data = new FormData(e.target as HTMLFormElement);
          void start(op, { url: String(data.get("url") ?? ""), token: String(data.get("token") ?? "") });
        }}
      >
        <label>
          Edge URL{" "}
          <input
            name="url"
            type="url"
            required
            placeholder="https://redun-edge.example.workers.dev"
            size={40}
            value={settings.url}
            onChange={(e: Event) => setSettings({ ...settings, url: (e.target as HTMLInputElement).value })}
          />
        </label>
        <label>
          Token{" "}
          <input
            name="token"
            type="password"
            autocomplete="off"
            placeholder="when the edge has one"
            value={settings.token}
            onChange={(e: Event) => setSettings({ ...settings, token: (e.target as HTMLInputElement).value })}
          />
        </label>
        <span class="buttons">
          <button type="submit" value="push" disabled={run !== null}>Push</button>{" "}
          <button type="submit" value="pull" disabled={run !== null}>Pull</button>{" "}
          {run ? (
            <button type="button" onClick={() => abort.current?.abort()}>
              Stop
            </button>
          ) : null}
        </span>
      </form>
      <p data-testid="pending">
        {settings.url
          ? pending === null
            ? "Counting local records…"
            : `${pending.toLocaleString("en-US")} local record${pending === 1 ? "" : "s"} not pushed to this edge yet.`
          : "Give the edge's URL."}
      </p>
      {run ? (
        <p class="progress" data-testid="progress">
          {run.total !== null ? <progress max={Math.max(1, run.total)} value={run.done} /> : <progress />}{" "}
          {run.op === "push" ? "pushing" : "pulling"}: {run.done.toLocaleString("en-US")}
          {run.total !== null ? ` of ${run.total.toLocaleString("en-US")}` : ""} records
        </p>
      ) : null}
      {result ? (
        <p class="ok" role="status" data-testid="sync-result">
          {result}
        </p>
      ) : null}
      {error !== undefined ? <ErrorBox error={errorText(error)} /> : null}
    </section>
  );
}
