/**
 * The Repository the inspector looks at, and the CallGraph over it: the
 * Worker's API at this page's origin (or `?api=URL`), or an IndexedDB
 * database in this browser (`?db=NAME`, e.g. the notebook's). Screens use
 * only `graph` and `repository`, so any other Repository would do.
 */
import { createHttpClient, createHttpRepository, type HttpClient } from "../adapters/http/index.ts";
import { createIndexedDbRepository } from "../adapters/indexeddb/index.ts";
import { CallGraph, type Repository } from "../core/index.ts";

export interface InspectorStore {
  kind: "http" | "indexeddb";
  /** What the header shows: the API's URL or the database's name. */
  label: string;
  repository: Repository;
  graph: CallGraph;
  /** IndexedDB: the database name (the Sync panel keeps its cursors next to it). */
  dbName?: string;
  /** True when edits need a token this page does not have yet. */
  needsToken(): Promise<boolean>;
  token(): string | null;
  setToken(token: string | null): void;
}

const TOKEN_KEY = "redun-edge-inspector:token:";

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/** The HTTP store: a Repository over the API whose token can be given later (kept in localStorage). */
export function httpStore(url: string): InspectorStore {
  const key = TOKEN_KEY + url;
  let token = storage()?.getItem(key) || null;
  const authFetch = (input: string, init: RequestInit = {}) => {
    const headers = { ...(init.headers as Record<string, string> | undefined) };
    if (token) headers.authorization = `Bearer ${token}`;
    return fetch(input, { ...init, headers });
  };
  const repository = createHttpRepository({ url, fetch: authFetch });
  const client: HttpClient = createHttpClient({ url, fetch: authFetch });
  let health: Promise<boolean> | null = null;
  return {
    kind: "http",
    label: url,
    repository,
    graph: new CallGraph(repository),
    async needsToken() {
      health ??= client.health().then((h) => h.writesNeedToken, () => false);
      return !token && (await health);
    },
    token: () => token,
    setToken(next) {
      token = next || null;
      if (token) storage()?.setItem(key, token);
      else storage()?.removeItem(key);
    },
  };
}

export function indexedDbStore(dbName: string): InspectorStore {
  const repository = createIndexedDbRepository({ name: dbName });
  return {
    kind: "indexeddb",
    label: `IndexedDB ${dbName}`,
    dbName,
    repository,
    graph: new CallGraph(repository),
    needsToken: async () => false,
    token: () => null,
    setToken: () => {},
  };
}

/** The store a page URL names: `?db=NAME` (IndexedDB), `?api=URL`, or the API at the page's own origin. */
export function storeFromLocation(location: { search: string; origin: string }): InspectorStore {
  const params = new URLSearchParams(location.search);
  const db = params.get("db");
  if (db) return indexedDbStore(db);
  return httpStore(params.get("api") || location.origin);
}
