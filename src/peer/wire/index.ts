// The BitTorrent peer wire protocol, pure: handshake (BEP 3), messages and their framing
// (BEP 3, 5, 6, 10), BEP 10 extension handshake, BEP 9 ut_metadata, BEP 6 allowed-fast set.
// No sockets here: src/peer/connection.ts drives these over TCP.
export { WireError, type WireErrorCode } from './errors.js';
export * from './limits.js';
export {
  PROTOCOL,
  HANDSHAKE_LENGTH,
  encodeHandshake,
  parseHandshake,
  checkHandshakePrefix,
  type Handshake,
  type HandshakeInput,
  type HandshakeExtensions,
} from './handshake.js';
export {
  MessageId,
  encodeMessage,
  encodePieceHeader,
  encodeRequest,
  writePieceHeader,
  writeBlockMessage,
  writeIndexMessage,
  type WireMessage,
  type WireMessageType,
  type BlockRef,
} from './messages.js';
export { FrameParser, PIECE_READY, type FrameParserOptions } from './frame-parser.js';
export {
  makeGeometry,
  pieceSize,
  bitfieldByteLength,
  isValidBlock,
  validateRequest,
  parseBitfield,
  type TorrentGeometry,
} from './geometry.js';
export {
  encodeExtensionHandshake,
  decodeExtensionHandshake,
  type ExtensionHandshake,
  type ExtensionHandshakeInput,
} from './extension-handshake.js';
export {
  UT_METADATA,
  encodeMetadataMessage,
  decodeMetadataMessage,
  metadataPieceCount,
  metadataPieceLength,
  type MetadataMessage,
} from './ut-metadata.js';
export { allowedFastSet } from './allowed-fast.js';
