/**
 * CLI errors and the one place that turns any failure into one line on
 * stderr and an exit code: 2 for usage errors (bad options, malformed tags),
 * 1 for everything else. Never a stack trace (REDUN_EDGE_DEBUG=1 shows it).
 */
import { LocalError } from "../local/errors.ts";

/** A failure with a message fit for the user; `exitCode` 1 unless a usage error. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CliError";
    this.exitCode = options?.exitCode ?? 1;
  }
}

/** Wrong command line: exit code 2, with a hint to --help. */
export class UsageError extends CliError {
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message, { exitCode: 2 });
    this.name = "UsageError";
    this.command = command;
  }
}

interface CodedError {
  code?: unknown;
  message?: unknown;
  field?: unknown;
  status?: unknown;
  candidates?: unknown;
  prefix?: unknown;
}

/**
 * Message and exit code of any thrown value. Core's typed errors are matched
 * by their stable `code` (not `instanceof`: a workflow file may load its own
 * copy of core through the package name).
 */
export function describeError(error: unknown): { message: string; exitCode: number; hint?: string } {
  if (error instanceof UsageError) {
    return { message: error.message, exitCode: 2, hint: `run 'redun-edge ${error.command ? `${error.command} ` : ""}--help' for usage` };
  }
  if (error instanceof CliError || error instanceof LocalError) return { message: error.message, exitCode: error.exitCode };
  // The CLI's own failure under a client's wrapping (the local store's connection, beneath the HTTP adapter).
  const inner = cliCause(error);
  if (inner) return { message: inner.message, exitCode: inner.exitCode };
  const e = (typeof error === "object" && error !== null ? error : {}) as CodedError;
  const message = typeof e.message === "string" && e.message ? e.message : String(error);
  switch (e.code) {
    case "tag":
      // Malformed tag text given on the command line: a usage error.
      return { message, exitCode: 2 };
    case "invalid":
      return { message, exitCode: e.field === "tag" || e.field === "tags" ? 2 : 1 };
    case "not_found":
      return { message, exitCode: 1 };
    case "ambiguous":
      // Core's message lists the candidates (type and full id) on the one line.
      return { message, exitCode: 1 };
    default: {
      if (e.status === 401) {
        // A rejected or missing token: say how to give one on the command line.
        return { message: `${message.replace(/; give the server's token$/, "")}; give its token with --token or $REDUN_EDGE_TOKEN`, exitCode: 1 };
      }
      const reason = networkReason(error);
      return { message: reason && !message.includes(reason) ? `${message} (${reason})` : message, exitCode: 1 };
    }
  }
}

/** Why a fetch failed: the system error code (ECONNREFUSED, ENOTFOUND, ...) or the innermost cause's message. */
function networkReason(error: unknown): string | null {
  let e: unknown = error;
  let innermost: string | null = null;
  for (let depth = 0; depth < 6 && e; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z_]+$/.test(code)) return code;
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length) {
      const inner = networkReason(errors[0]);
      if (inner) return inner;
    }
    const message = (e as { message?: unknown }).message;
    if (depth > 0 && typeof message === "string" && message) innermost = message;
    e = (e as { cause?: unknown }).cause;
  }
  return innermost && innermost !== "fetch failed" ? innermost : null;
}

function cliCause(error: unknown): CliError | LocalError | null {
  let e = (error as { cause?: unknown } | null)?.cause;
  for (let depth = 0; depth < 6 && e; depth++) {
    if (e instanceof CliError || e instanceof LocalError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}
