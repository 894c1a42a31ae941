import { describe, expect, it } from "vitest";
import { formatArgs, formatRecordLine, formatStatus, formatTagList, type RecordView } from "redun-edge";

describe("log line format", () => {
  it("centres the status in 6 characters", () => {
    expect(formatStatus("DONE")).toBe("[ DONE ]");
    expect(formatStatus("CACHED")).toBe("[CACHED]");
    expect(formatStatus("FAILED")).toBe("[FAILED]");
  });

  it("sorts tags as strings and cuts a git commit to 7 characters", () => {
    const sha = "b3faf93c2d1e4f5a6b7c8d9e0f1a2b3c4d5e6f70";
    expect(formatTagList([["user", "rasmus"], ["git_commit", sha], ["project", "redun.examples"]])).toBe(
      " (git_commit=b3faf93\u2026, project=redun.examples, user=rasmus)",
    );
    // No tags: a line still ends in the space before where they would be, as redun's lines do.
    expect(formatTagList([])).toBe(" ");
    // A tag from redun that keeps Python's JSON text shows it (json.dumps's separators); a string value is shown as always.
    expect(formatTagList([["ratio", 1000, "1000.0"], ["meta", { b: [1.0] }, '{"b":[1.0]}'], ["x", "NaN", "NaN"]])).toBe(
      ' (meta={"b": [1.0]}, ratio=1000.0, x=NaN)',
    );
  });

  it("prints one object argument as keywords, others positionally, Python style", () => {
    const arg = (value: unknown) => ({ key: "0", value: { id: "x", valueType: typeof value, value, preview: false } });
    expect(formatArgs([arg({ name: "world", x: 1 })])).toBe("name='world', x=1");
    expect(formatArgs([arg("a"), arg(true), arg(null), arg([1, "b"])])).toBe("'a', True, None, [1, 'b']");
  });

  it("formats an execution line as redun does", () => {
    const t = new Date(2023, 7, 11, 14, 44, 9).getTime();
    const exec = {
      type: "Execution", id: "6dc981d7-0000-4000-8000-000000000000", time: t, rootJobId: "r", argv: ["run", "hello_world.py", "main"],
      startTime: t, endTime: t + 1, status: "DONE", tags: [["user", "rasmus"]], taskName: "main", abandoned: false,
    } as RecordView;
    expect(formatRecordLine(exec)).toBe("Exec 6dc981d7 [ DONE ] 2023-08-11 14:44:09:  run hello_world.py main (user=rasmus)");
  });
});
