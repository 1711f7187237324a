// The base of every typed error in sta: a stable `code` callers branch on, and the
// exit code the CLI maps it to (2 bad input or usage, 1 the work failed).

export type ExitCode = 1 | 2;

export class StaError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;

  constructor(code: string, message: string, exitCode: ExitCode = 2, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

export function isStaError(e: unknown): e is StaError {
  return e instanceof StaError;
}
