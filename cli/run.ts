/**
 * `run [--tag k=v]... FILE TASK [--name value]...`: import a workflow file,
 * run one of its tasks with core's Scheduler over the store's HTTP API (so
 * the run is recorded exactly as a deployed Worker would record it), print
 * the result as JSON.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Scheduler, VERSION, parseTagValue, type JsonValue, type TagPair } from "../core/index.ts";
import { list, parseArgs, readTag } from "./args.ts";
import { CliError, UsageError } from "./errors.ts";
import { defaultStoreSpec, inProcess, openStore, tokenOf } from "./store.ts";

/** The parts of a task the CLI needs; checked structurally (the file may load its own copy of core). */
interface TaskLike {
  (...args: unknown[]): unknown;
  name: string;
  namespace: string;
  fullName: string;
  hash: string;
}

function isTask(value: unknown): value is TaskLike {
  if (typeof value !== "function") return false;
  const v = value as unknown as Partial<TaskLike>;
  return typeof v.hash === "string" && typeof v.fullName === "string" && typeof v.namespace === "string";
}

/** Task arguments: `--name value` pairs -> one object; plain words -> positional arguments. */
function argValue(name: string, text: string): JsonValue {
  try {
    return parseTagValue(text);
  } catch (error) {
    const reason = (error as Error).message.replace(/^invalid tag "(?:[^"\\]|\\.)*": /, "");
    throw new UsageError(`malformed value for task argument ${name}: ${JSON.stringify(text)}: ${reason}`, "run");
  }
}

export function parseTaskArgs(words: readonly string[]): unknown[] {
  const positional: JsonValue[] = [];
  // Argument names are user text (`--__proto__ 1` is a name too): gathered in a Map, made own properties.
  const named = new Map<string, JsonValue>();
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word.startsWith("--") && word.length > 2) {
      const eq = word.indexOf("=");
      if (eq !== -1) {
        named.set(word.slice(2, eq), argValue(word.slice(0, eq), word.slice(eq + 1)));
      } else {
        const next = words[i + 1];
        if (next === undefined || (next.startsWith("--") && next.length > 2)) named.set(word.slice(2), true);
        else {
          named.set(word.slice(2), argValue(word, next));
          i++;
        }
      }
    } else positional.push(argValue(`#${positional.length + 1}`, word));
  }
  return named.size ? [...positional, Object.fromEntries(named)] : positional;
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
  const p = parseArgs("run", argv, { tag: { type: "string", multiple: true } }, { stopAfter: 2 });
  const [file, taskName] = p.positionals;
  if (!file || !taskName) throw new UsageError("run needs a workflow FILE and a TASK name", "run");
  // Read everything given before touching the store, so a bad command line writes nothing.
  const tags = list(p, "tag").map((t) => readTag(t, "run") as TagPair);
  const taskArgs = parseTaskArgs(p.rest);
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

  const store = await openStore(defaultStoreSpec(p, "run"), { token: tokenOf(p), inProcess: inProcess(p) });
  try {
    const given = new Set(tags.map(([k]) => k));
    const scheduler = new Scheduler({
      repository: store.repository(),
      // A key given with --tag replaces its default.
      defaultTags: () => defaultTags(dirname(path)).filter(([k]) => !given.has(k)),
    });
    const expr = found(...taskArgs) as Parameters<Scheduler["run"]>[0];
    const result = await scheduler.run(expr, { tags, argv: ["run", file, taskName, ...p.rest] });
    const text = JSON.stringify(result === undefined ? null : result);
    process.stdout.write(`${text.length > 100 ? JSON.stringify(result, null, 2) : text}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
