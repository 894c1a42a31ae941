/**
 * Which processes belong to a local store's server, proven before any signal.
 *
 * `.redun/server.json` names a pid, and a pid outlives its process: after a
 * reboot or a crash it may name anyone's process. So the CLI signals a pid
 * only when the process carries the server's id, a random nonce the CLI
 * made when it spawned the server: in its command line (the Node server) or
 * in its environment, `REDUN_EDGE_SERVER_ID` (the Node server and the workerd
 * Miniflare started under it, which inherits the environment). A pid that
 * cannot be proven is never signalled.
 *
 * Killing the Node server outright (SIGKILL) leaves its workerd running and
 * serving; it stays in the server's process group (the server is spawned
 * detached, so its group id is its pid), where `remnants` finds it.
 *
 * Linux reads /proc; elsewhere `ps` gives the command line (the environment
 * and the group scan are Linux only, so remnants are left to exit by
 * themselves there).
 */
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";

export const SERVER_ID_ENV = "REDUN_EDGE_SERVER_ID";
const PROC = process.platform === "linux";

/** Is there a process `pid` (a zombie, exited and not yet reaped, is not)? */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  return !PROC || !/^[ZX]/.test(statFields(pid)?.[0] ?? "");
}

/** The fields of /proc/PID/stat after "pid (comm) ": state, ppid, pgrp, ... */
function statFields(pid: number): string[] | null {
  const stat = readProc(pid, "stat");
  // comm may hold spaces and parentheses: the fields start after the last ")".
  return stat ? stat.slice(stat.lastIndexOf(")") + 2).split(" ") : null;
}

function readProc(pid: number, file: string): string | null {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "latin1");
  } catch {
    return null;
  }
}

/** The arguments of a live process (null when gone or unreadable). */
export function commandLine(pid: number): string[] | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  if (PROC) {
    const raw = readProc(pid, "cmdline");
    return raw ? raw.split("\0").filter((a) => a !== "") : null;
  }
  const r = spawnSync("ps", ["-ww", "-o", "command=", "-p", String(pid)], { encoding: "utf8", timeout: 5000 });
  const line = r.status === 0 ? r.stdout.trim() : "";
  // ps joins the arguments with spaces; the id is a hex word, so matching words is exact.
  return line ? line.split(/\s+/) : null;
}

/** Does process `pid` carry server id `id` (in its arguments, or its environment on Linux)? */
export function carriesServerId(pid: number, id: string): boolean {
  if (!id || !/^[0-9a-f]{16,}$/.test(id)) return false;
  if (commandLine(pid)?.includes(id)) return true;
  if (!PROC) return false;
  const environ = readProc(pid, "environ");
  return environ !== null && environ.split("\0").includes(`${SERVER_ID_ENV}=${id}`);
}

/** Live processes whose process group is `pgid`, other than the group's leader (Linux only). */
function groupMembers(pgid: number): number[] {
  if (!PROC || !Number.isInteger(pgid) || pgid <= 0) return [];
  const members: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields && Number(fields[2]) === pgid && Number(entry) !== pgid) members.push(Number(entry));
  }
  return members;
}

/** Processes of server `id` left in group `pgid` (its workerd, after the Node server was killed): each proven. */
export function remnants(pgid: number, id: string): number[] {
  return groupMembers(pgid).filter((pid) => carriesServerId(pid, id));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stop the processes of server `id`: SIGTERM to each proven pid, then
 * SIGKILL to any still there (and still proven) after `graceMs`. Returns how
 * many were signalled.
 */
export async function stopProven(pids: readonly number[], id: string, graceMs = 5000): Promise<number> {
  const proven = pids.filter((pid) => isAlive(pid) && carriesServerId(pid, id));
  for (const pid of proven) signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && proven.some(isAlive)) await sleep(50);
  const stubborn = proven.filter((pid) => isAlive(pid) && carriesServerId(pid, id));
  for (const pid of stubborn) signal(pid, "SIGKILL");
  for (let i = 0; i < 40 && stubborn.some(isAlive); i++) await sleep(25);
  return proven.length;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone meanwhile.
  }
}
