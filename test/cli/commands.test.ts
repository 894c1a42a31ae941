/**
 * The CLI's shape: every command is a table that parses its command line and
 * makes its help; a mistyped command or option gets one "did you mean" line
 * (exit 2, nothing written); bench/ and local/ import nothing from cli/.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { GLOBAL_OPTIONS, closest, parseArgs, wantsHelp } from "../../cli/args.ts";
import { helpText, mainHelp } from "../../cli/command.ts";
import { COMMAND_NAMES, allSpecs } from "../../cli/registry.ts";
import { REPO, cli, expectError } from "./helpers.ts";

describe("command tables", () => {
  test("each command's help is made from its table: usage, every option, the store options", async () => {
    const specs = await allSpecs();
    expect(specs.map((s) => s.name)).toEqual(COMMAND_NAMES);
    for (const spec of specs) {
      const help = helpText(spec);
      expect(help, spec.name).toMatch(new RegExp(`^Usage: redun-edge ${spec.name}\\b`));
      for (const [name, option] of Object.entries({ ...spec.options, ...GLOBAL_OPTIONS })) {
        expect(help, `${spec.name} --${name}`).toMatch(new RegExp(`^  (-\\w, )?--${name}${option.value ? ` ${option.value.replace(/[|[\]]/g, "\\$&")}` : ""}  `, "m"));
      }
      expect(help.split("\n").every((line) => line.length <= 90), spec.name).toBe(true);
    }
    const main = mainHelp(specs);
    for (const spec of specs) expect(main).toContain(`  ${spec.synopsis}`);
  });

  test("--help is found by each command's own table: not among run's task arguments, not after --", async () => {
    const specs = Object.fromEntries((await allSpecs()).map((s) => [s.name, s]));
    const run = specs.run!;
    expect(wantsHelp(["--help"], run.options, run.stopAfter)).toBe(true);
    expect(wantsHelp(["--tag", "--help", "f.ts", "main"], run.options, run.stopAfter)).toBe(false);
    expect(wantsHelp(["--tag", "x=1", "f.ts", "main", "--help"], run.options, run.stopAfter)).toBe(false);
    expect(wantsHelp(["f.ts", "-h"], run.options, run.stopAfter)).toBe(true);
    expect(wantsHelp(["--limit", "3", "--bogus", "-h"], specs.log!.options)).toBe(true);
    expect(wantsHelp(["--", "--help"], specs.log!.options)).toBe(false);
    expect(wantsHelp(["add", "6dc981d7", "--help"], specs.tag!.options)).toBe(true);
  });

  test("did you mean: the nearest option or command, only when it is near", () => {
    expect(() => parseArgs("log", ["--tga", "x"], { tag: { type: "string" } })).toThrow("unknown option --tga; did you mean --tag?");
    expect(() => parseArgs("log", ["--remtoe", "x"], {})).toThrow("did you mean --remote?");
    expect(() => parseArgs("log", ["--bogus"], { tag: { type: "string" } })).toThrow(/^unknown option --bogus$/);
    expect(closest("lgo", COMMAND_NAMES)).toBe("log");
    expect(closest("stat", ["status", "stop"])).toBe("status");
    expect(closest("frobnicate", COMMAND_NAMES)).toBeNull();
  });

  test("-5 is a word, not an option", () => {
    const p = parseArgs("tag", ["-5", "--limit", "-1"], { limit: { type: "string" } });
    expect(p.positionals).toEqual(["-5"]);
    expect(p.options.limit).toBe("-1");
  });
});

describe("mistyped, as a user meets it", () => {
  const dir = mkdtempSync(join(tmpdir(), "redun-edge-cli-typo-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("one line, exit 2, nothing written", async () => {
    const [command, option, sub, help] = await Promise.all([
      cli(dir, ["lgo"]),
      cli(dir, ["log", "--exec-tga", "user=alice"]),
      cli(dir, ["tag", "lsit"]),
      cli(dir, ["help", "tga"]),
    ]);
    expectError(command!, 2, /unknown command "lgo"; did you mean "log"\?/);
    expectError(option!, 2, /unknown option --exec-tga; did you mean --exec-tag\?/);
    expectError(sub!, 2, /unknown tag subcommand "lsit"; did you mean "list"\?/);
    expectError(help!, 2, /no help for "tga"; did you mean "tag"\?/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

/** Relative imports (static and dynamic) of every .ts file under `folder`, resolved. */
function importsOf(folder: string): { file: string; target: string }[] {
  const out: { file: string; target: string }[] = [];
  for (const name of readdirSync(join(REPO, folder), { recursive: true }) as string[]) {
    if (!name.endsWith(".ts")) continue;
    const file = join(REPO, folder, name);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g)) {
      out.push({ file: relative(REPO, file), target: relative(REPO, resolve(dirname(file), m[1]!)) });
    }
  }
  return out;
}

describe("layout", () => {
  test("bench/ and local/ import nothing from cli/", () => {
    for (const folder of ["bench", "local"]) {
      const imports = importsOf(folder);
      expect(imports.length, folder).toBeGreaterThan(5);
      expect(imports.filter((i) => !existsSync(join(REPO, i.target))), `${folder}: unresolved`).toEqual([]);
      expect(imports.filter((i) => i.target.startsWith("cli/")), folder).toEqual([]);
    }
  });
});
