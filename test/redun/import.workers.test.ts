/**
 * The redun fixture imported into D1 inside workerd (its rows read in Node by
 * vitest.workers.config.ts and handed over as a binding): mapped and verified
 * by core in workerd, pushed through the D1 adapter's verified import, then
 * held to redun's transcript (workerd's clock is UTC, as final.txt's).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { CallGraph, importRecords, mapRedunRows, newRedunRecords } from "redun-edge";
import { createD1Repository, type D1Like } from "redun-edge/d1";
import { emptyDatabase } from "../d1/harness.ts";
import { rowsFromJson } from "./rows-json.ts";
import { answer, expectedOutput, importInto, parseTranscript, shellWords } from "./transcript.ts";

const db = env.DB as D1Like;
const rows = rowsFromJson(env.REDUN_ROWS as string);
const transcript = parseTranscript(env.REDUN_FINAL as string);
const repository = createD1Repository(db);
const graph = new CallGraph(repository);

describe("redun's database imported into D1 (workerd)", () => {
  beforeAll(async () => {
    await emptyDatabase(db);
    const mapping = mapRedunRows(rows);
    expect(mapping.refused).toEqual([]);
    expect(await importInto(repository, mapping, (batch) => importRecords(repository, batch), 5_000)).toBe(331);
  });

  it.each(transcript.filter((b) => expectedOutput(b) !== null).map((b) => [b.command, b] as const))("%s prints what redun printed", async (_, block) => {
    expect(await answer(graph, shellWords(block.command))).toBe(expectedOutput(block));
  });

  it("importing again writes nothing; read back, every record is what was written", async () => {
    const mapping = mapRedunRows(rows);
    expect((await newRedunRecords(repository, mapping.records)).records).toEqual([]);
    for (const type of ["Task", "Value", "CallNode", "Evaluation", "Tag"] as const) {
      const mine = mapping.records.filter((r) => r.type === type);
      const stored = await repository.get(type, mine.map((r) => r.id));
      expect(new Map(stored.map((r) => [r.id, r]))).toEqual(new Map(mine.map((r) => [r.id, r])));
    }
  });
});
