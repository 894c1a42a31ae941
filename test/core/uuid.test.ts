import { describe, expect, it } from "vitest";
import { Scheduler, task, uuidv7 } from "redun-edge";
import { createMemoryRepository } from "redun-edge/memory";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("uuidv7", () => {
  it("writes the time in its first 48 bits, then version 7, the RFC 9562 variant and the random bytes", () => {
    const ms = Date.UTC(2026, 10, 25, 1, 2, 3, 456);
    const id = uuidv7(ms, new Uint8Array([0xff, 0x01, 0xff, 0x03, 4, 5, 6, 7, 8, 0xfe]));
    expect(id).toMatch(UUID_V7);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(ms);
    expect(id.slice(14)).toBe("7f01-bf03-0405060708fe");
    expect(uuidv7(0, new Uint8Array(10))).toBe("00000000-0000-7000-8000-000000000000");
  });

  it("sorts by time as text, and differs within one millisecond", () => {
    const ids = [0, 1, 255, 256, 65_535, 65_536, 2 ** 40, 2 ** 47 + 3].map((ms) => uuidv7(ms));
    expect([...ids].sort()).toEqual(ids);
    const same = new Set(Array.from({ length: 1000 }, () => uuidv7(1)));
    expect(same.size).toBe(1000);
    for (const id of same) expect(id).toMatch(UUID_V7);
  });

  it("is what the scheduler gives executions and jobs by default", async () => {
    const repository = createMemoryRepository();
    const double = task("double", (x: number) => x * 2);
    const before = Date.now();
    const { executionId } = await new Scheduler({ repository }).runWithId(double(2));
    expect(executionId).toMatch(UUID_V7);
    expect(parseInt(executionId.slice(0, 8) + executionId.slice(9, 13), 16)).toBeGreaterThanOrEqual(before);
    const jobs = await repository.jobsOfExecution(executionId);
    expect(jobs.length).toBe(1);
    expect(jobs[0]!.id).toMatch(UUID_V7);
  });
});
