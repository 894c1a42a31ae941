/** Small hooks shared by the screens. */
import { createContext, useContext, useEffect, useRef, useState } from "hono/jsx/dom";
import type { InspectorStore } from "./store.ts";

export const StoreContext = createContext<InspectorStore | null>(null);

export function useStore(): InspectorStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error("no store: render inside <StoreContext.Provider>");
  return store;
}

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Read again (after an edit), keeping the current data on screen meanwhile. */
  reload(): void;
}

/** The result of an async read, re-run when `deps` change; a stale answer never overwrites a newer one. */
export function useAsync<T>(read: () => Promise<T>, deps: readonly unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [round, setRound] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const mine = ++latest.current;
    setState((s) => ({ ...s, loading: true }));
    read().then(
      (data) => mine === latest.current && setState({ data, error: undefined, loading: false }),
      (error: unknown) => mine === latest.current && setState({ data: undefined, error, loading: false }),
    );
  }, [...deps, round]);
  return { ...state, reload: () => setRound((r) => r + 1) };
}

/** A message for any thrown thing. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
