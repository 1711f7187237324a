// The one error the torrent part throws: a stable code (TORRENT_*, MAGNET_*) callers branch
// on. Bad metainfo, magnets and create options are the user's input: exit code 2.
import { StaError, type ExitCode } from '../util/index.js';

export class TorrentError extends StaError {
  constructor(code: string, message: string, exitCode: ExitCode = 2, options?: { cause?: unknown }) {
    super(code, message, exitCode, options);
  }
}
