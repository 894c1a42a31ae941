/**
 * Minimal types for the workerd-only modules the workers test project uses.
 * The repo's tsconfig has the DOM lib and no @cloudflare/workers-types (they
 * clash), so these declare just what the tests touch. Worker tests may add
 * their bindings by casting `env`.
 */
declare module "cloudflare:workers" {
  /** Bindings of the test Worker (wrangler.toml plus the test-only ones in vitest.workers.config.ts). */
  export const env: Record<string, unknown>;
}

declare module "cloudflare:test" {
  export interface D1Migration {
    name: string;
    queries: string[];
  }
  export function applyD1Migrations(db: unknown, migrations: D1Migration[], migrationsTableName?: string): Promise<void>;
}
