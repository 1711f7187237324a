// A peer connection over TCP (handshake, message stream, state, rates, batched writes) and
// the handshake reader a listener uses for incoming peers. The pure codecs are in ./wire.
export {
  PeerConnection,
  DEFAULT_KEEP_ALIVE_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_INCOMING_REQUESTS,
  MAX_PENDING_HAVES,
  UNREQUESTED_DATA_ALLOWANCE,
  type PeerConnectionOptions,
  type ConnectOptions,
  type AcceptOptions,
  type CloseInfo,
  type PeerConnectionEvents,
  type PieceHandler,
} from './connection.js';
export { readHandshake, ipToBytes, DEFAULT_HANDSHAKE_TIMEOUT_MS, type ReadHandshakeResult } from './handshake-io.js';
export { PeerConnectionError, type PeerConnectionErrorCode } from './errors.js';
export { RateMeter, DEFAULT_RATE_WINDOW_S } from './rate-meter.js';
export {
  WireError,
  type WireErrorCode,
  type Handshake,
  type TorrentGeometry,
  type ExtensionHandshake,
  type ExtensionHandshakeInput,
  type WireMessage,
  makeGeometry,
  BLOCK_LENGTH,
  MAX_BLOCK_LENGTH,
} from './wire/index.js';
