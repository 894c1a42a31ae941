/**
 * Every view has a URL: the route lives in the hash (`#/execution/ID`,
 * `#/executions?tag=user%3Dalice&status=DONE`), so a link to a run or a
 * filtered list can be shared, and the page is one static file wherever it
 * is served. Which store is shown stays in the query string (`?db=NAME`).
 */
import { useSyncExternalStore } from "hono/jsx/dom";

export interface Route {
  /** Path segments: ["execution", "<id>"]; [] for the start page. */
  path: string[];
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, "");
  const at = text.indexOf("?");
  const path = (at === -1 ? text : text.slice(0, at)).split("/").filter(Boolean).map(decodeURIComponent);
  return { path, params: new URLSearchParams(at === -1 ? "" : text.slice(at + 1)) };
}

export type Params = Record<string, string | readonly string[] | null | undefined>;

/** `#/path?params`; empty, null and undefined params are left out, lists repeat the name. */
export function link(path: string, params: Params = {}): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const v of typeof value === "string" ? [value] : (value ?? [])) if (v !== "") search.append(name, v);
  }
  const query = search.toString();
  return `#${path}${query ? `?${query}` : ""}`;
}

export function navigate(href: string): void {
  location.hash = href.replace(/^#/, "");
}

function subscribe(callback: () => void): () => void {
  addEventListener("hashchange", callback);
  return () => removeEventListener("hashchange", callback);
}

/** The current route; the component re-renders when the hash changes. */
export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => location.hash);
  return parseHash(hash);
}
