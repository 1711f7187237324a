// Typed errors of the node (session) layer, with stable codes.
import { StaError, type ExitCode } from '../util/index.js';

export type NodeErrorCode =
  | 'NODE_BAD_SOURCE' // not a .torrent, magnet, info hash or known name
  | 'NODE_NOT_FOUND' // the tracker's catalogue has no such torrent
  | 'NODE_TRACKER_API' // the tracker's JSON API failed
  | 'NODE_TIMEOUT'
  | 'NODE_VERIFY_FAILED'
  | 'NODE_LISTEN'
  | 'NODE_DUPLICATE'
  | 'NODE_CLOSED';

export class NodeError extends StaError {
  declare readonly code: NodeErrorCode;
  constructor(code: NodeErrorCode, message: string, exitCode: ExitCode = 1, options?: { cause?: unknown }) {
    super(code, message, exitCode, options);
  }
}
