/**
 * The one place statements meet D1: a compiled `{ sql, params }`
 * (statements.ts) is prepared and bound here, run alone or in a batch, and a
 * D1 failure comes back as a RepositoryError whose `cause` is D1's error.
 * Compiling knows nothing of D1 and running nothing of SQL, as in kysely and
 * drizzle, so compiled statements are testable without a database.
 */
import { RedunEdgeError, RepositoryError } from "../../core/index.ts";
import type { D1Like, D1Statement, Statement } from "./d1.ts";
import type { Row } from "./tables.ts";

export interface Executor {
  /** The rows of one statement. `what` names the operation in an error. */
  all<T = Row>(what: string, statement: Statement): Promise<T[]>;
  /** The rows of each statement, run in order in one round trip and one transaction (D1's `batch`: all or nothing). */
  batch<T = Row>(what: string, statements: readonly Statement[]): Promise<T[][]>;
}

async function attempt<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (cause) {
    if (cause instanceof RedunEdgeError) throw cause;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new RepositoryError(`d1: ${what} failed: ${reason}`, { cause });
  }
}

export function createExecutor(db: D1Like): Executor {
  const prepare = ({ sql, params }: Statement): D1Statement => db.prepare(sql).bind(...params);
  return {
    async all<T = Row>(what: string, statement: Statement): Promise<T[]> {
      const result = await attempt(what, () => prepare(statement).all<T>());
      return result.results ?? [];
    },
    async batch<T = Row>(what: string, statements: readonly Statement[]): Promise<T[][]> {
      if (statements.length === 0) return [];
      const results = await attempt(what, () => db.batch<T>(statements.map(prepare)));
      return results.map((r) => r.results ?? []);
    },
  };
}
