/**
 * The slice of the D1 binding this adapter uses, declared structurally so the
 * adapter type-checks without the global @cloudflare/workers-types (which
 * clash with the DOM lib of the repo's tsconfig). A real `D1Database` fits.
 */

export interface D1Meta {
  duration?: number;
  changes?: number;
  rows_read?: number;
  rows_written?: number;
}

export interface D1Result<T = Record<string, unknown>> {
  results: T[];
  success?: boolean;
  meta?: D1Meta;
}

export interface D1Statement {
  bind(...values: unknown[]): D1Statement;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  all<T = Record<string, unknown>>(): Promise<D1Result<T>>;
  run<T = Record<string, unknown>>(): Promise<D1Result<T>>;
}

export interface D1Like {
  prepare(query: string): D1Statement;
  /** Runs the statements in order in one transaction: all or nothing. */
  batch<T = unknown>(statements: D1Statement[]): Promise<D1Result<T>[]>;
}

/**
 * A compiled statement: SQL text and the values bound to its `?n`
 * placeholders, built apart from running it (statements.ts) and run by the
 * executor (executor.ts).
 */
export interface Statement {
  sql: string;
  params: readonly unknown[];
}

/** D1 allows 100 bound parameters per statement. */
export const MAX_PARAMS = 100;
