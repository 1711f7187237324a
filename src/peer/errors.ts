// Errors of a peer connection's I/O (connecting, the handshake exchange, closing). Protocol
// violations inside the stream are WireError (src/peer/wire).
import { StaError } from '../util/index.js';

export type PeerConnectionErrorCode =
  | 'PEER_CONNECT_FAILED'
  | 'PEER_CONNECT_TIMEOUT'
  | 'PEER_HANDSHAKE_TIMEOUT'
  | 'PEER_CLOSED'
  | 'PEER_INFO_HASH_MISMATCH'
  | 'PEER_SELF_CONNECTION'
  | 'PEER_IDLE'
  | 'PEER_HANDLER_FAILED';

export class PeerConnectionError extends StaError {
  declare readonly code: PeerConnectionErrorCode;
  constructor(code: PeerConnectionErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, 1, options);
  }
}
