// BEP 9 ut_metadata: fetching the info dictionary from peers in 16 KiB pieces (magnet
// links). A message is a bencoded dictionary; a data message is followed by the raw bytes
// of the piece. Every number is bounded before anyone allocates from it.
import { decodePrefix, encode, isDict, type BencodeError } from '../../bencode/index.js';
import { WireError } from './errors.js';
import { MAX_METADATA_SIZE, METADATA_PIECE_LENGTH } from './limits.js';

export const UT_METADATA = 'ut_metadata';

export type MetadataMessage =
  | { type: 'request'; piece: number }
  /** `data` is a view into the payload it came in. */
  | { type: 'data'; piece: number; totalSize: number; data: Buffer }
  | { type: 'reject'; piece: number };

const MSG_REQUEST = 0;
const MSG_DATA = 1;
const MSG_REJECT = 2;
const MAX_METADATA_PIECES = Math.ceil(MAX_METADATA_SIZE / METADATA_PIECE_LENGTH);

export function metadataPieceCount(totalSize: number): number {
  return Math.ceil(totalSize / METADATA_PIECE_LENGTH);
}

/** Length of metadata piece `piece` of an info dictionary of `totalSize` bytes. */
export function metadataPieceLength(totalSize: number, piece: number): number {
  return Math.min(METADATA_PIECE_LENGTH, totalSize - piece * METADATA_PIECE_LENGTH);
}

/** The payload of an extended message (without the extended id byte). */
export function encodeMetadataMessage(m: MetadataMessage): Buffer {
  if (m.type === 'data') {
    const head = encode({ msg_type: MSG_DATA, piece: m.piece, total_size: m.totalSize });
    return Buffer.concat([head, m.data]);
  }
  return encode({ msg_type: m.type === 'request' ? MSG_REQUEST : MSG_REJECT, piece: m.piece });
}

/**
 * Decodes a ut_metadata payload. Returns null for msg_types BEP 9 does not define (it says
 * to ignore them). Throws WireError WIRE_BAD_METADATA for anything malformed or out of
 * bounds: a data message must carry exactly the piece's length for its total_size.
 */
export function decodeMetadataMessage(payload: Uint8Array): MetadataMessage | null {
  let value: unknown;
  let end: number;
  try {
    ({ value, end } = decodePrefix(payload, { maxDepth: 4, maxItems: 64 }));
  } catch (e) {
    throw new WireError('WIRE_BAD_METADATA', `ut_metadata message is not bencode: ${(e as BencodeError).message}`);
  }
  if (!isDict(value)) throw new WireError('WIRE_BAD_METADATA', 'ut_metadata message is not a dictionary');
  const type = value['msg_type'];
  const piece = value['piece'];
  if (typeof type !== 'number' || !Number.isInteger(type)) throw new WireError('WIRE_BAD_METADATA', 'ut_metadata message without msg_type');
  if (type !== MSG_REQUEST && type !== MSG_DATA && type !== MSG_REJECT) return null;
  if (typeof piece !== 'number' || !Number.isInteger(piece) || piece < 0 || piece >= MAX_METADATA_PIECES) {
    throw new WireError('WIRE_BAD_METADATA', `ut_metadata piece ${String(piece)} outside 0..${MAX_METADATA_PIECES - 1}`);
  }
  if (type !== MSG_DATA) {
    if (end !== payload.length) throw new WireError('WIRE_BAD_METADATA', `${payload.length - end} stray bytes after a ut_metadata ${type === MSG_REQUEST ? 'request' : 'reject'}`);
    return type === MSG_REQUEST ? { type: 'request', piece } : { type: 'reject', piece };
  }
  const totalSize = value['total_size'];
  if (typeof totalSize !== 'number' || !Number.isInteger(totalSize) || totalSize < 1 || totalSize > MAX_METADATA_SIZE) {
    throw new WireError('WIRE_BAD_METADATA', `ut_metadata total_size ${String(totalSize)} outside 1..${MAX_METADATA_SIZE}`);
  }
  if (piece >= metadataPieceCount(totalSize)) throw new WireError('WIRE_BAD_METADATA', `ut_metadata piece ${piece} past the end of ${totalSize} bytes`);
  const data = Buffer.from(payload.buffer, payload.byteOffset + end, payload.length - end);
  const want = metadataPieceLength(totalSize, piece);
  if (data.length !== want) throw new WireError('WIRE_BAD_METADATA', `ut_metadata piece ${piece} of ${data.length} bytes, expected ${want}`);
  return { type: 'data', piece, totalSize, data };
}
