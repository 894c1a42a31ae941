/**
 * Prefix resolution against a brute-force scan (prefix-resolution.ts) on a
 * real D1 in workerd, directly and through the app (GET /api/records/:prefix).
 */
import { describe, expect, it } from "vitest";
import { createD1Repository } from "redun-edge/d1";
import { createApp } from "redun-edge/worker";
import { db, emptyDatabase } from "../d1/harness.ts";
import { checkPrefixResolution, expectedResolution, prefixDataset, writeDataset } from "./prefix-resolution.ts";

describe("id prefix resolution on D1, 10,000 executions, against a brute-force scan", () => {
  it("resolves every prefix as the scan says, directly and through the API", async () => {
    const data = prefixDataset();
    await emptyDatabase(db);
    const repository = createD1Repository(db);
    await writeDataset(repository, data);
    const tally = await checkPrefixResolution(repository, data);
    expect(Math.min(tally.unknown, tally.unique, tally.ambiguous)).toBeGreaterThan(10);
    const app = createApp({ repository });
    for (const prefix of data.prefixes) {
      const res = await app.request(`/api/records/${prefix}`);
      const body = (await res.json()) as { record?: { type: string; id: string }; error?: { code: string; candidates?: unknown; more?: boolean } };
      const want = expectedResolution(data, prefix);
      if (!("error" in want)) {
        expect(res.status, prefix).toBe(200);
        expect({ type: body.record!.type, id: body.record!.id }, prefix).toEqual(want);
      } else if (want.error === "not_found") {
        expect(res.status, prefix).toBe(404);
      } else {
        expect(res.status, prefix).toBe(409);
        expect(body.error!.candidates, prefix).toEqual(want.candidates);
        expect(body.error!.more ?? false, prefix).toBe(want.more);
      }
    }
  });
});
