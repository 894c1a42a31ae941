/**
 * The redun fixture imported into Chromium's real IndexedDB (its rows read in
 * Node by a browser command of vitest.browser.config.ts), held to redun's
 * transcript. The transcript's times are UTC; this compares them in the
 * browser's own zone when it is not UTC, by the offset at those times.
 */
import { commands } from "vitest/browser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallGraph, importRecords, mapRedunRows, newRedunRecords } from "redun-edge";
import { createIndexedDbRepository } from "redun-edge/indexeddb";
import { rowsFromJson } from "./rows-json.ts";
import { answer, expectedOutput, importInto, parseTranscript, shellWords } from "./transcript.ts";

declare module "vitest/browser" {
  interface BrowserCommands {
    redunFixture: () => Promise<{ rows: string; final: string }>;
  }
}

const name = `redun-import-${Date.now()}`;
const repository = createIndexedDbRepository({ name });
const graph = new CallGraph(repository);
let transcript: ReturnType<typeof parseTranscript> = [];
let rows: ReturnType<typeof rowsFromJson>;

/** The transcript's UTC times shown in this browser's zone. */
function local(text: string): string {
  return text.replace(/(\d{4})([-/])(\d\d)\2(\d\d) (\d\d):(\d\d):(\d\d)/g, (_, y, sep, mo, d, h, mi, s) => {
    const t = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s));
    const p = (n: number) => String(n).padStart(2, "0");
    return `${t.getFullYear()}${sep}${p(t.getMonth() + 1)}${sep}${p(t.getDate())} ${p(t.getHours())}:${p(t.getMinutes())}:${p(t.getSeconds())}`;
  });
}

describe("redun's database imported into IndexedDB (Chromium)", () => {
  beforeAll(async () => {
    const fixture = await commands.redunFixture();
    rows = rowsFromJson(fixture.rows);
    transcript = parseTranscript(fixture.final);
    const mapping = mapRedunRows(rows);
    expect(mapping.refused).toEqual([]);
    expect(await importInto(repository, mapping, (batch) => importRecords(repository, batch), 5_000)).toBe(331);
  });
  afterAll(async () => {
    await repository.close();
    indexedDB.deleteDatabase(name);
  });

  it("every command of the transcript prints what redun printed", async () => {
    const blocks = transcript.filter((b) => expectedOutput(b) !== null);
    expect(blocks.length).toBe(23);
    for (const block of blocks) expect(await answer(graph, shellWords(block.command)), block.command).toBe(local(expectedOutput(block)!));
  });

  it("importing again writes nothing", async () => {
    expect((await newRedunRecords(repository, mapRedunRows(rows).records)).records).toEqual([]);
  });
});
