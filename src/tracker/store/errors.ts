// The store's typed error: a stable code (bad store URL, store unreachable, catalogue full).
import { StaError, type ExitCode } from '../../util/index.js';

export class StoreError extends StaError {
  constructor(code: string, message: string, exitCode: ExitCode = 1, options?: { cause?: unknown }) {
    super(code, message, exitCode, options);
  }
}
