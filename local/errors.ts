/**
 * The local runtime's failures: a message fit for the user as it is (the CLI
 * prints it as one line, exit code 1; bench and dev print it too).
 */
export class LocalError extends Error {
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LocalError";
  }
}
