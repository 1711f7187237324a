// The peer wire messages (BEP 3, BEP 5 port, BEP 6 Fast, BEP 10 extended) as one
// discriminated union, and their encoders. Hot-path encoders write into a caller's buffer
// so a connection can batch small messages into one slab and send blocks without copying.
import { WireError } from './errors.js';
import { MAX_BLOCK_LENGTH, MAX_EXTENDED_LENGTH, PIECE_HEADER_LENGTH } from './limits.js';

export const MessageId = {
  choke: 0,
  unchoke: 1,
  interested: 2,
  notInterested: 3,
  have: 4,
  bitfield: 5,
  request: 6,
  piece: 7,
  cancel: 8,
  port: 9, // BEP 5
  suggest: 13, // BEP 6: 0x0D
  haveAll: 14, // 0x0E
  haveNone: 15, // 0x0F
  reject: 16, // 0x10
  allowedFast: 17, // 0x11
  extended: 20, // BEP 10
} as const;

export interface BlockRef {
  index: number;
  begin: number;
  length: number;
}

export type WireMessage =
  | { type: 'keep-alive' }
  | { type: 'choke' }
  | { type: 'unchoke' }
  | { type: 'interested' }
  | { type: 'not-interested' }
  | { type: 'have'; index: number }
  /** `bytes` is a view into the received data: copy it to keep it past the handler. */
  | { type: 'bitfield'; bytes: Buffer }
  | { type: 'request'; index: number; begin: number; length: number }
  /** `block` is a view into the received data: copy (or write) it before the handler returns
   *  if it must outlive the chunk it came in. */
  | { type: 'piece'; index: number; begin: number; block: Buffer }
  | { type: 'cancel'; index: number; begin: number; length: number }
  | { type: 'port'; port: number }
  | { type: 'have-all' }
  | { type: 'have-none' }
  | { type: 'suggest'; index: number }
  | { type: 'reject'; index: number; begin: number; length: number }
  | { type: 'allowed-fast'; index: number }
  /** `id` 0 is the BEP 10 handshake; others are the ids the receiver assigned in its `m`. */
  | { type: 'extended'; id: number; payload: Buffer };

export type WireMessageType = WireMessage['type'];

const UINT32_MAX = 0xffffffff;

function u32(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > UINT32_MAX) throw new WireError('WIRE_BAD_ARGUMENT', `${name} ${v} is not a 32-bit unsigned integer`);
  return v;
}

/** Big-endian u32 at `off` (in bounds: callers reserve room). Four byte stores instead of
 *  Buffer#writeUInt32BE, whose checks made it one of the larger functions the JIT compiled
 *  on a download's request path (~9-17 ms of compiler time per run); a value that is not
 *  a u32 still throws. */
function put32(buf: Buffer, off: number, v: number): void {
  if (v >>> 0 !== v) throw new WireError('WIRE_BAD_ARGUMENT', `${v} is not a 32-bit unsigned integer`);
  buf[off] = v >>> 24;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

/** Writes the 4-byte length + 1-byte id of a message with `payloadLength` bytes after the id. */
function header(buf: Buffer, off: number, id: number, payloadLength: number): number {
  put32(buf, off, payloadLength + 1);
  buf[off + 4] = id;
  return off + 5;
}

/** have / suggest / allowed-fast: 9 bytes. */
export function writeIndexMessage(buf: Buffer, off: number, id: number, index: number): number {
  off = header(buf, off, id, 4);
  put32(buf, off, index);
  return off + 4;
}

/** request / cancel / reject: 17 bytes written at `off`; returns the offset after them. */
export function writeBlockMessage(buf: Buffer, off: number, id: number, index: number, begin: number, length: number): number {
  off = header(buf, off, id, 12);
  put32(buf, off, index);
  put32(buf, off + 4, begin);
  put32(buf, off + 8, length);
  return off + 12;
}

/** The 13 bytes before a block in a piece message; the block follows it on the wire, written
 *  separately (cork/writev) so it is never copied. */
export function writePieceHeader(buf: Buffer, off: number, index: number, begin: number, blockLength: number): number {
  put32(buf, off, blockLength + 9);
  buf[off + 4] = MessageId.piece;
  put32(buf, off + 5, index);
  put32(buf, off + 9, begin);
  return off + PIECE_HEADER_LENGTH;
}

export function encodePieceHeader(index: number, begin: number, blockLength: number): Buffer {
  u32('index', index);
  u32('begin', begin);
  if (!Number.isInteger(blockLength) || blockLength < 1 || blockLength > MAX_BLOCK_LENGTH) {
    throw new WireError('WIRE_BAD_ARGUMENT', `block of ${blockLength} bytes`);
  }
  const buf = Buffer.allocUnsafe(PIECE_HEADER_LENGTH);
  writePieceHeader(buf, 0, index, begin, blockLength);
  return buf;
}

export function encodeRequest(index: number, begin: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(17);
  writeBlockMessage(buf, 0, MessageId.request, u32('index', index), u32('begin', begin), u32('length', length));
  return buf;
}

const FIXED: Partial<Record<WireMessageType, number>> = {
  choke: MessageId.choke,
  unchoke: MessageId.unchoke,
  interested: MessageId.interested,
  'not-interested': MessageId.notInterested,
  'have-all': MessageId.haveAll,
  'have-none': MessageId.haveNone,
};

/** Encodes any message into a new buffer (copies a piece's block: use encodePieceHeader on
 *  the hot path). Throws WireError WIRE_BAD_ARGUMENT for values the wire cannot carry. */
export function encodeMessage(m: WireMessage): Buffer {
  switch (m.type) {
    case 'keep-alive':
      return Buffer.alloc(4);
    case 'choke':
    case 'unchoke':
    case 'interested':
    case 'not-interested':
    case 'have-all':
    case 'have-none': {
      const buf = Buffer.allocUnsafe(5);
      header(buf, 0, FIXED[m.type]!, 0);
      return buf;
    }
    case 'have':
    case 'suggest':
    case 'allowed-fast': {
      const id = m.type === 'have' ? MessageId.have : m.type === 'suggest' ? MessageId.suggest : MessageId.allowedFast;
      const buf = Buffer.allocUnsafe(9);
      writeIndexMessage(buf, 0, id, u32('index', m.index));
      return buf;
    }
    case 'bitfield': {
      const buf = Buffer.allocUnsafe(5 + m.bytes.length);
      header(buf, 0, MessageId.bitfield, m.bytes.length);
      buf.set(m.bytes, 5);
      return buf;
    }
    case 'request':
    case 'cancel':
    case 'reject': {
      const id = m.type === 'request' ? MessageId.request : m.type === 'cancel' ? MessageId.cancel : MessageId.reject;
      const buf = Buffer.allocUnsafe(17);
      writeBlockMessage(buf, 0, id, u32('index', m.index), u32('begin', m.begin), u32('length', m.length));
      return buf;
    }
    case 'piece': {
      const buf = Buffer.allocUnsafe(PIECE_HEADER_LENGTH + m.block.length);
      encodePieceHeader(m.index, m.begin, m.block.length).copy(buf, 0);
      buf.set(m.block, PIECE_HEADER_LENGTH);
      return buf;
    }
    case 'port': {
      if (!Number.isInteger(m.port) || m.port < 0 || m.port > 0xffff) throw new WireError('WIRE_BAD_ARGUMENT', `port ${m.port}`);
      const buf = Buffer.allocUnsafe(7);
      header(buf, 0, MessageId.port, 2);
      buf.writeUInt16BE(m.port, 5);
      return buf;
    }
    case 'extended': {
      if (!Number.isInteger(m.id) || m.id < 0 || m.id > 255) throw new WireError('WIRE_BAD_ARGUMENT', `extended message id ${m.id}`);
      if (m.payload.length + 1 > MAX_EXTENDED_LENGTH) throw new WireError('WIRE_BAD_ARGUMENT', `extended payload of ${m.payload.length} bytes`);
      const buf = Buffer.allocUnsafe(6 + m.payload.length);
      header(buf, 0, MessageId.extended, 1 + m.payload.length);
      buf[5] = m.id;
      buf.set(m.payload, 6);
      return buf;
    }
  }
}
