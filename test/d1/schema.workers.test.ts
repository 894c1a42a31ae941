/**
 * adapters/d1/schema.sql is the schema after every migration, as SQLite holds
 * it (`sqlite_master`), normalized: this test reads it back from the test D1,
 * which the setup file migrated from empty, and compares. After adding a
 * migration, refresh the snapshot with
 *   npx vitest run --project workers test/d1/schema -u
 * and review its diff.
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import type { D1Migration } from "cloudflare:test";
import type { D1Like } from "redun-edge/d1";

const db = env.DB as D1Like;

/** Whitespace collapsed; a table's columns and a trigger's statements one per line. */
function normalize(type: string, sql: string): string {
  const flat = sql.replace(/\s+/g, " ").replace(/\( /g, "(").replace(/ \)/g, ")").replace(/ ,/g, ",").trim();
  if (type === "trigger") return flat.replace(/ BEGIN /, "\nBEGIN\n  ").replace(/; (?!END$)/g, ";\n  ").replace(/; END$/, ";\nEND");
  if (type !== "table") return flat;
  // Split the column list at its top-level commas.
  const open = flat.indexOf("(");
  const parts: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open + 1; i < flat.length - 1; i++) {
    const c = flat[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      parts.push(flat.slice(start, i).trim());
      start = i + 1;
    }
  }
  const close = flat.lastIndexOf(")");
  parts.push(flat.slice(start, close).trim());
  return `${flat.slice(0, open + 1)}\n  ${parts.join(",\n  ")}\n${flat.slice(close)}`;
}

const ORDER = ["table", "index", "trigger"];

it("adapters/d1/schema.sql is the schema after every migration", async () => {
  // The setup file applied every migration to this database, from empty.
  const applied = (await db.prepare("SELECT name FROM d1_migrations ORDER BY id").all<{ name: string }>()).results.map((r) => r.name);
  expect(applied).toEqual((env.TEST_MIGRATIONS as D1Migration[]).map((m) => m.name));
  const { results } = await db
    .prepare(
      "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations'",
    )
    .all<{ type: string; name: string; sql: string }>();
  results.sort((a, b) => ORDER.indexOf(a.type) - ORDER.indexOf(b.type) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header = [
    "-- The D1 schema after every migration (adapters/d1/migrations), as SQLite holds it, normalized.",
    "-- Generated: do not edit. Checked by test/d1/schema.workers.test.ts, which says how to refresh it.",
    "-- What each tag table and trigger keeps: adapters/d1/INVARIANTS.md.",
  ];
  const text = `${header.join("\n")}\n\n${results.map((r) => `${normalize(r.type, r.sql)};`).join("\n\n")}\n`;
  await expect(text, "after a new migration, refresh it: npx vitest run --project workers test/d1/schema -u").toMatchFileSnapshot("../../adapters/d1/schema.sql");
});
