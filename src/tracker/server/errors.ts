// The tracker server's typed error: bad options (exit 2) or a failure to start (exit 1).
import { StaError, type ExitCode } from '../../util/index.js';

export class TrackerServerError extends StaError {
  constructor(code: string, message: string, exitCode: ExitCode = 2, options?: { cause?: unknown }) {
    super(code, message, exitCode, options);
  }
}
