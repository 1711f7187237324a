// BEP 3 handshake: <19><"BitTorrent protocol"><8 reserved><20 info hash><20 peer id>, and the
// reserved bits sta sets and reads (BEP 10 extension protocol, BEP 6 Fast, BEP 5 DHT).
import { WireError } from './errors.js';

export const PROTOCOL = 'BitTorrent protocol';
export const HANDSHAKE_LENGTH = 68;
const PROTOCOL_BYTES = Buffer.from(PROTOCOL, 'latin1');

export interface HandshakeExtensions {
  /** BEP 6 Fast extension: reserved[7] & 0x04. */
  fast: boolean;
  /** BEP 10 extension protocol: reserved[5] & 0x10. */
  extended: boolean;
  /** BEP 5 DHT: reserved[7] & 0x01. */
  dht?: boolean;
}

export interface Handshake {
  infoHash: Buffer;
  peerId: Buffer;
  /** The 8 raw reserved bytes as received (bits we do not know are kept for logging). */
  reserved: Buffer;
  extensions: Required<HandshakeExtensions>;
}

export interface HandshakeInput {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  extensions?: HandshakeExtensions;
}

export function encodeHandshake(h: HandshakeInput): Buffer {
  if (h.infoHash.length !== 20) throw new WireError('WIRE_BAD_ARGUMENT', `info hash of ${h.infoHash.length} bytes`);
  if (h.peerId.length !== 20) throw new WireError('WIRE_BAD_ARGUMENT', `peer id of ${h.peerId.length} bytes`);
  const buf = Buffer.alloc(HANDSHAKE_LENGTH);
  buf[0] = 19;
  PROTOCOL_BYTES.copy(buf, 1);
  const ext = h.extensions;
  if (ext?.extended) buf[20 + 5]! |= 0x10;
  if (ext?.fast) buf[20 + 7]! |= 0x04;
  if (ext?.dht) buf[20 + 7]! |= 0x01;
  buf.set(h.infoHash, 28);
  buf.set(h.peerId, 48);
  return buf;
}

/**
 * Checks the first bytes of a handshake as they arrive, so a connection speaking something
 * else (an encrypted MSE stream, HTTP) is refused at its first byte, not after a timeout.
 * Throws WireError WIRE_BAD_HANDSHAKE.
 */
export function checkHandshakePrefix(buf: Uint8Array): void {
  const n = Math.min(buf.length, 20);
  if (n === 0) return;
  if (buf[0] !== 19) throw new WireError('WIRE_BAD_HANDSHAKE', `handshake starts with byte ${buf[0]}, not 19 (encrypted or not BitTorrent)`);
  for (let i = 1; i < n; i++) {
    if (buf[i] !== PROTOCOL_BYTES[i - 1]) throw new WireError('WIRE_BAD_HANDSHAKE', 'handshake protocol string is not "BitTorrent protocol"');
  }
}

/** Parses the 68-byte handshake at the start of `buf` (bytes after it are ignored).
 *  The info hash and peer id are copies, safe to keep. */
export function parseHandshake(buf: Uint8Array): Handshake {
  if (buf.length < HANDSHAKE_LENGTH) throw new WireError('WIRE_BAD_HANDSHAKE', `handshake of ${buf.length} bytes, need ${HANDSHAKE_LENGTH}`);
  checkHandshakePrefix(buf);
  const b = Buffer.from(buf.buffer, buf.byteOffset, HANDSHAKE_LENGTH);
  const reserved = Buffer.from(b.subarray(20, 28));
  return {
    reserved,
    infoHash: Buffer.from(b.subarray(28, 48)),
    peerId: Buffer.from(b.subarray(48, 68)),
    extensions: {
      extended: (reserved[5]! & 0x10) !== 0,
      fast: (reserved[7]! & 0x04) !== 0,
      dht: (reserved[7]! & 0x01) !== 0,
    },
  };
}
