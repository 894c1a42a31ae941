/**
 * Which store a command talks to, and the HTTP client and Repository over it.
 * A store is named by an http(s) URL (a deployed Worker), by a folder or
 * `file:` URL (that folder's local store), or, by default, the local store
 * found from the working folder upwards. All of them are reached through
 * the same HTTP client, so local and remote behave alike.
 */
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createHttpClient, createHttpRepository, type HttpClient, type HttpRepository } from "../adapters/http/index.ts";
import { flag, str, type Parsed } from "./args.ts";
import { CliError, UsageError } from "./errors.ts";
import { STORE_DIR, findStoreRoot, openLocalStore, type StoreConnection } from "../local/store.ts";

export interface Store {
  /** What to show the user: the URL, or the folder. */
  label: string;
  /** Stable name of the store, for sync cursors: the URL, or the folder's file: URL. */
  key: string;
  /** Folder of a local store (holds `.redun/`); null for a URL. */
  root: string | null;
  client: HttpClient;
  repository(): HttpRepository;
  close(): Promise<void>;
}

const REMOTE_TIMEOUT_MS = 120_000;

export type StoreSpec = { kind: "url"; url: string } | { kind: "local"; root: string };

/** Read a `--remote` value: an http(s) URL, a `file:` URL or a folder path. */
export function parseStoreSpec(text: string, command: string): StoreSpec {
  if (/^https?:\/\//i.test(text)) {
    try {
      new URL(text);
    } catch {
      throw new UsageError(`--remote: not a valid URL: ${text}`, command);
    }
    return { kind: "url", url: text.replace(/\/+$/, "") };
  }
  let path = text;
  if (/^file:/i.test(text)) {
    try {
      path = fileURLToPath(text);
    } catch {
      throw new UsageError(`--remote: not a valid file: URL: ${text}`, command);
    }
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw new UsageError(`--remote: expected an http(s) URL, a file: URL or a folder, got ${text}`, command);
  }
  let root = resolve(path);
  if (basename(root) === STORE_DIR) root = dirname(root);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new CliError(`--remote: no folder ${root} (a local store is a folder holding ${STORE_DIR}/)`);
  }
  return { kind: "local", root };
}

/**
 * The folder of the local store: $REDUN_EDGE_STORE (a folder, or its
 * `.redun/`) when set, else the nearest folder from the working folder
 * upwards that holds `.redun/`, else the working folder (created on first use).
 */
export function localStoreRoot(): string {
  const given = process.env.REDUN_EDGE_STORE;
  if (given) {
    const root = resolve(given);
    return basename(root) === STORE_DIR ? dirname(root) : root;
  }
  return findStoreRoot(process.cwd()) ?? process.cwd();
}

/** The default store: --remote, else $REDUN_EDGE_URL, else the local store. */
export function defaultStoreSpec(p: Parsed, command: string): StoreSpec {
  const remote = str(p, "remote") ?? (process.env.REDUN_EDGE_URL || undefined);
  if (remote) return parseStoreSpec(remote, command);
  return { kind: "local", root: localStoreRoot() };
}

export function tokenOf(p: Parsed): string | undefined {
  return str(p, "token") ?? (process.env.REDUN_EDGE_TOKEN || undefined);
}

export function inProcess(p: Parsed): boolean {
  return flag(p, "in-process") || ["1", "true", "yes"].includes((process.env.REDUN_EDGE_IN_PROCESS ?? "").toLowerCase());
}

/** Open a store: connect to a URL, or start (or reach) a local store's Worker. */
export async function openStore(spec: StoreSpec, options: { token?: string | undefined; inProcess?: boolean }): Promise<Store> {
  let connection: StoreConnection;
  if (spec.kind === "url") {
    // No request may hang a command forever; a page of a sync is well within this.
    const timed: NonNullable<StoreConnection["fetch"]> = (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(REMOTE_TIMEOUT_MS) });
    connection = { url: spec.url, fetch: timed, close: async () => {} };
  }
  else connection = await openLocalStore(spec.root, { inProcess: options.inProcess ?? false });
  const http = {
    url: connection.url,
    token: spec.kind === "url" ? options.token : undefined,
    fetch: connection.fetch,
    headers: connection.headers,
  };
  const client = createHttpClient(http);
  let repository: HttpRepository | null = null;
  return {
    label: spec.kind === "url" ? spec.url : spec.root,
    key: spec.kind === "url" ? spec.url : pathToFileURL(spec.root).href,
    root: spec.kind === "local" ? spec.root : null,
    client,
    repository: () => (repository ??= createHttpRepository(http)),
    close: () => connection.close(),
  };
}

/** `-` (the newest execution) and `~N` (the N-th newest, `~1` being `-`), as redun reads them. */
export const EXECUTION_SHORTHAND = /^(-|~\d+)$/;

/** The full id of the execution `-` or `~N` names. */
export async function resolveExecutionShorthand(client: HttpClient, word: string, command: string): Promise<string> {
  const n = word === "-" ? 1 : Number(word.slice(1));
  if (!Number.isSafeInteger(n) || n < 1 || n > 1000) {
    throw new UsageError(`${word}: ~N names the N-th most recent execution, N from 1 to 1000`, command);
  }
  const { records } = await client.log({ types: ["Execution"], limit: n });
  const found = records[n - 1];
  if (!found) {
    throw new CliError(records.length === 0 ? `${word}: the store has no executions yet` : `${word}: the store has only ${records.length} execution${records.length === 1 ? "" : "s"}`);
  }
  return found.id;
}

/**
 * A read-only command on a folder without a local store says so and creates
 * nothing (starting the store would create `.redun/`).
 */
export function requireExistingStore(storeSpec: StoreSpec): void {
  if (storeSpec.kind === "local" && !existsSync(join(storeSpec.root, STORE_DIR))) {
    throw new CliError(`no redun-edge store in ${storeSpec.root} (no ${STORE_DIR}/ there: run a workflow to record one, or name a store with --remote)`);
  }
}
