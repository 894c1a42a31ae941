/**
 * `run [--tag k=v]... [--no-cache] FILE TASK [--name value]...`: import a
 * workflow file, run one of its tasks with core's Scheduler over the store's
 * HTTP API (so the run is recorded exactly as a deployed Worker would record
 * it), print the result as JSON on stdout and, on stderr, what redun prints
 * (run-output.ts). Ctrl-C / SIGTERM interrupts the run: it is recorded as
 * interrupted and the command exits 130.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Scheduler, VERSION, parseTagValue, type JobEvent, type JsonValue, type TagPair } from "../../core/index.ts";
import { functionParameters } from "../../core/adapter-kit.ts";
import { flag, list, readTag } from "../args.ts";
import { parseCommand, type Command, type CommandSpec } from "../command.ts";
import { CliError, UsageError } from "../errors.ts";
import { STORE_DIR } from "../../local/store.ts";
import { RunReporter, shellQuote, tracebackLines } from "../run-output.ts";
import { defaultStoreSpec, inProcess, openStore, tokenOf } from "../store.ts";

export const spec: CommandSpec = {
  name: "run",
  synopsis: "run FILE TASK [--ARG VALUE]...",
  summary: "run a task of a workflow file and record it",
  usage: ["run [--tag KEY=VALUE]... [--no-cache] FILE TASK [--ARG VALUE]..."],
  text: `Import the workflow FILE (.ts or .js), run its exported task TASK, record the
run in the store and print the result as JSON. On stderr, as redun: the
execution, one line per job (Run / Cached / Reject; on a terminal one live
progress line instead), the JOB STATUS table and the duration; a failed run
ends with its traceback (exit 1). Ctrl-C stops the run and records its
running jobs and the execution as FAILED (interrupted); exit 130.

A recorded result is reused (its jobs CACHED) when every task it called is
still the task of that name defined now; a changed task runs again, and so
do the tasks that called it.`,
  optionsHeading: "Options (before FILE):",
  options: {
    tag: {
      type: "string",
      multiple: true,
      value: "KEY=VALUE",
      help: "an execution tag; repeat for several (repeated keys are kept); the value is read as JSON when it starts with [ { or \", else as a number (as Python's int() and float() read one), true/false/null, or text",
    },
    "no-cache": { type: "boolean", help: "run every job, reusing no recorded result" },
  },
  after: `Task arguments (after TASK), checked against the task's parameters:
--NAME VALUE gives the parameter NAME (for a task taking one object,
({ NAME }), that key of it); values read like tag values, so numbers and
JSON work; --NAME alone is true. Plain words fill parameters in order. An
argument the task does not take is a usage error.

Default execution tags: redun_edge.version, user, git_commit and
git_origin_url (of FILE's folder, when it is in a git repository) and
project (the task's namespace); a --tag with the same key replaces one.`,
  // FILE and TASK: every word after them is the task's.
  stopAfter: 2,
};

export const command: Command = { spec, run: runCommand };

/** The parts of a task the CLI needs; checked structurally (the file may load its own copy of core). */
interface TaskLike {
  (...args: unknown[]): unknown;
  fn: (...args: never[]) => unknown;
  name: string;
  namespace: string;
  fullName: string;
  hash: string;
}

function isTask(value: unknown): value is TaskLike {
  if (typeof value !== "function") return false;
  const v = value as unknown as Partial<TaskLike>;
  return typeof v.hash === "string" && typeof v.fullName === "string" && typeof v.namespace === "string" && typeof v.fn === "function";
}

function argValue(name: string, text: string): JsonValue {
  try {
    return parseTagValue(text);
  } catch (error) {
    const reason = (error as Error).message.replace(/^invalid tag "(?:[^"\\]|\\.)*": /, "");
    throw new UsageError(`malformed value for task argument ${name}: ${JSON.stringify(text)}: ${reason}`, "run");
  }
}

interface TaskWords {
  positional: JsonValue[];
  named: [name: string, value: JsonValue][];
}

/** Task argument words: `--name value` / `--name=value` / `--flag` (true) pairs, and plain positional words. */
function readTaskWords(words: readonly string[]): TaskWords {
  const out: TaskWords = { positional: [], named: [] };
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word.startsWith("--") && word.length > 2) {
      const eq = word.indexOf("=");
      if (eq !== -1) {
        out.named.push([word.slice(2, eq), argValue(word.slice(0, eq), word.slice(eq + 1))]);
      } else {
        const next = words[i + 1];
        if (next === undefined || (next.startsWith("--") && next.length > 2)) out.named.push([word.slice(2), true]);
        else {
          out.named.push([word.slice(2), argValue(word, next)]);
          i++;
        }
      }
    } else out.positional.push(argValue(`#${out.positional.length + 1}`, word));
  }
  return out;
}

/** Task arguments without a task to check them against: `--name value` pairs -> one object; plain words -> positional. */
export function parseTaskArgs(words: readonly string[]): unknown[] {
  const { positional, named } = readTaskWords(words);
  return named.length ? [...positional, Object.fromEntries(named)] : positional;
}

/**
 * A task's arguments from the words after TASK, checked against its
 * parameters (read from its source), as redun checks a task's arguments:
 * `--name value` fills the parameter `name` (or, for a task taking one
 * destructured object `({ name })`, that key of it); an unknown name, a
 * parameter given twice or too many words is a usage error. When the source
 * does not give the parameters, `parseTaskArgs`' reading applies.
 */
export function taskArguments(task: { fullName: string; fn: (...args: never[]) => unknown }, words: readonly string[]): unknown[] {
  const params = functionParameters(task.fn);
  if (!params) return parseTaskArgs(words);
  const { positional, named } = readTaskWords(words);
  const usage = (message: string) => new UsageError(`task ${task.fullName}: ${message}`, "run");
  const seen = new Set<string>();
  for (const [name] of named) {
    if (seen.has(name)) throw usage(`--${name} given more than once`);
    seen.add(name);
  }
  if (params.kind === "object") {
    const unknown = named.find(([name]) => !params.open && !params.keys.includes(name));
    if (unknown) throw usage(`unknown argument --${unknown[0]} (${params.keys.length ? `its arguments: ${params.keys.map((k) => `--${k}`).join(", ")}` : "it takes none"})`);
    if (positional.length) throw usage(`takes named arguments only (${params.keys.map((k) => `--${k}`).join(", ")}), got ${JSON.stringify(words.find((w) => !w.startsWith("--")))}`);
    return named.length ? [Object.fromEntries(named)] : [];
  }
  const names = params.names;
  const listed = names.filter((n): n is string => n !== null).map((n) => `--${n}`).join(", ");
  if (positional.length > names.length && !params.rest) {
    throw usage(`takes at most ${names.length} argument${names.length === 1 ? "" : "s"}, got ${positional.length}`);
  }
  const args: unknown[] = [...positional];
  for (const [name, value] of named) {
    const at = names.indexOf(name);
    if (at === -1) throw usage(`unknown argument --${name} (${listed ? `its arguments: ${listed}` : "it takes none"})`);
    if (at < positional.length) throw usage(`argument ${name} given both by position and as --${name}`);
    args[at] = value;
  }
  // Parameters left out between given ones are undefined, so their defaults apply.
  return Array.from({ length: args.length }, (_, i) => args[i]);
}

function git(cwd: string, args: string[]): string | null {
  try {
    const r = spawnSync("git", args, { cwd, encoding: "utf8", timeout: 5000, stdio: ["ignore", "pipe", "ignore"] });
    const out = r.status === 0 ? r.stdout.trim() : "";
    return out || null;
  } catch {
    return null;
  }
}

/** Default execution tags: version, user, and the git commit and origin of the workflow's folder. */
export function defaultTags(folder: string): TagPair[] {
  const tags: TagPair[] = [["redun_edge.version", VERSION]];
  let user = process.env.USER || process.env.USERNAME || "";
  try {
    user = userInfo().username || user;
  } catch {
    // No passwd entry (containers): keep $USER.
  }
  if (user) tags.push(["user", user]);
  const commit = git(folder, ["rev-parse", "HEAD"]);
  if (commit) tags.push(["git_commit", commit]);
  const origin = git(folder, ["config", "--get", "remote.origin.url"]);
  if (origin) tags.push(["git_origin_url", origin]);
  return tags;
}

export async function runCommand(argv: readonly string[]): Promise<number> {
  const p = parseCommand(spec, argv);
  const [file, taskName] = p.positionals;
  if (!file || !taskName) throw new UsageError("run needs a workflow FILE and a TASK name", "run");
  // Read everything given before touching the store, so a bad command line writes nothing.
  const tags = list(p, "tag").map((t) => readTag(t, "run") as TagPair);
  const path = resolve(file);
  if (!existsSync(path)) throw new CliError(`no such workflow file: ${file}`);

  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (cause) {
    throw new CliError(`cannot load ${file}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
  const exported = Object.entries(module).filter(([, v]) => isTask(v)) as [string, TaskLike][];
  const found =
    exported.find(([name]) => name === taskName)?.[1] ??
    exported.find(([, t]) => t.fullName === taskName || t.name === taskName)?.[1];
  if (!found) {
    const names = exported.map(([name]) => name);
    throw new CliError(`${file} exports no task named ${JSON.stringify(taskName)}${names.length ? `; its tasks: ${names.join(", ")}` : " (it exports no tasks)"}`);
  }
  const taskArgs = taskArguments(found, p.rest);

  const store = await openStore(defaultStoreSpec(p, "run"), { token: tokenOf(p), inProcess: inProcess(p) });
  const reporter = new RunReporter(process.stderr);
  const controller = new AbortController();
  // First Ctrl-C (or SIGTERM): stop the run and record it as interrupted; a second one: leave at once.
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    reporter.line(`redun-edge :: version ${VERSION}`);
    reporter.line(`config dir: ${store.root ? join(store.root, STORE_DIR) : store.label}`);
    const given = new Set(tags.map(([k]) => k));
    const scheduler = new Scheduler({
      repository: store.repository(),
      // A key given with --tag replaces its default.
      defaultTags: () => defaultTags(dirname(path)).filter(([k]) => !given.has(k)),
      cache: !flag(p, "no-cache"),
      leaseMs: leaseMs(),
    });
    const events = new Map<string, JobEvent>();
    let executionId: string | null = null;
    const onJob = (e: JobEvent) => {
      if (executionId === null) {
        executionId = e.job.executionId;
        reporter.line(`Start Execution ${executionId}:  ${["redun-edge", "run", ...argv].map(shellQuote).join(" ")}`);
      }
      events.set(e.job.id, e);
      reporter.job(e);
    };
    const expr = found(...taskArgs) as Parameters<Scheduler["run"]>[0];
    const start = Date.now();
    let result: unknown;
    try {
      result = await scheduler.run(expr, { tags, argv: ["run", file, taskName, ...p.rest], onJob, signal: controller.signal });
    } catch (error) {
      reporter.summary(Date.now() - start);
      const code = (error as { code?: unknown } | null)?.code;
      if (code === "interrupted") {
        reporter.line(`*** Execution ${executionId ?? ""} interrupted: its running jobs are recorded as FAILED (interrupted)`);
        return 130;
      }
      if (code === "task_failed") for (const l of tracebackLines(failedChain(events), (error as Error).cause)) reporter.line(l);
      throw error;
    }
    reporter.summary(Date.now() - start);
    const text = JSON.stringify(result === undefined ? null : result);
    process.stdout.write(`${text.length > 100 ? JSON.stringify(result, null, 2) : text}\n`);
    return 0;
  } finally {
    reporter.finish();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await store.close();
  }
}

/** The lease of a run's execution: $REDUN_EDGE_LEASE_SECONDS (default 60; 0: none). */
function leaseMs(): number {
  const text = process.env.REDUN_EDGE_LEASE_SECONDS;
  if (!text) return 60_000;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 0) throw new CliError(`REDUN_EDGE_LEASE_SECONDS: expected a number of seconds, got ${JSON.stringify(text)}`);
  return seconds * 1000;
}

/** The failed jobs from the root down to the one that raised (whose error is not a failed child's). */
function failedChain(events: ReadonlyMap<string, JobEvent>): JobEvent[] {
  const failed = [...events.values()].filter((e) => e.status === "FAILED");
  const raised = failed.find((e) => !e.job.error?.startsWith("child job ")) ?? failed[0];
  const chain: JobEvent[] = [];
  for (let e = raised; e; e = e.job.parentId ? events.get(e.job.parentId) : undefined) chain.unshift(e);
  return chain;
}
