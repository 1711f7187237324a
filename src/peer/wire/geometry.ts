// The torrent's shape as the wire layer needs it (piece count and lengths), and the checks
// of piece coordinates against it: requests, pieces, haves, bitfields (BEP 3).
import { Bitfield } from '../../util/index.js';
import { WireError } from './errors.js';
import { MAX_BLOCK_LENGTH } from './limits.js';

export interface TorrentGeometry {
  pieceCount: number;
  pieceLength: number;
  /** Total length of the torrent's data. */
  totalLength: number;
}

/** Checks the three numbers agree (pieceCount = ceil(totalLength / pieceLength)). */
export function makeGeometry(pieceCount: number, pieceLength: number, totalLength: number): TorrentGeometry {
  if (
    !Number.isSafeInteger(pieceLength) ||
    pieceLength <= 0 ||
    !Number.isSafeInteger(totalLength) ||
    totalLength < 0 ||
    !Number.isSafeInteger(pieceCount) ||
    pieceCount !== Math.ceil(totalLength / pieceLength)
  ) {
    throw new WireError('WIRE_BAD_ARGUMENT', `inconsistent geometry: ${pieceCount} pieces of ${pieceLength} for ${totalLength} bytes`);
  }
  return { pieceCount, pieceLength, totalLength };
}

/** Length of piece `index` (the last one may be short). */
export function pieceSize(g: TorrentGeometry, index: number): number {
  // Both lengths computed on every call: a branch that only the last piece takes had no
  // type feedback when the per-block code inlining this was optimized, and its first run
  // (the last piece, at a random moment) made V8 discard and recompile all that code.
  const last = g.totalLength - (g.pieceCount - 1) * g.pieceLength;
  return index === g.pieceCount - 1 ? last : g.pieceLength;
}

export function bitfieldByteLength(pieceCount: number): number {
  return (pieceCount + 7) >>> 3;
}

/** True when (index, begin, length) is a block a peer may ask for: inside one piece of the
 *  torrent, 1..16 KiB long. */
export function isValidBlock(g: TorrentGeometry, index: number, begin: number, length: number): boolean {
  if (index >= g.pieceCount) return false;
  if (length === 0 || length > MAX_BLOCK_LENGTH) return false;
  return begin + length <= pieceSize(g, index);
}

/** Throws WireError WIRE_BAD_REQUEST unless the request is a valid block of the torrent. */
export function validateRequest(g: TorrentGeometry, req: { index: number; begin: number; length: number }): void {
  if (!isValidBlock(g, req.index, req.begin, req.length)) {
    throw new WireError(
      'WIRE_BAD_REQUEST',
      `request (${req.index}, ${req.begin}, ${req.length}) outside the torrent's ${g.pieceCount} pieces or longer than ${MAX_BLOCK_LENGTH}`,
    );
  }
}

/** Checks a received bitfield against the torrent (exact size, spare bits zero) and
 *  returns it as a Bitfield. */
export function parseBitfield(g: TorrentGeometry, bytes: Uint8Array): Bitfield {
  const n = bitfieldByteLength(g.pieceCount);
  if (bytes.length !== n) throw new WireError('WIRE_BAD_BITFIELD', `bitfield of ${bytes.length} bytes, expected ${n}`);
  if (!Bitfield.spareBitsClear(g.pieceCount, bytes)) throw new WireError('WIRE_BAD_BITFIELD', 'bitfield with spare bits set');
  return new Bitfield(g.pieceCount, bytes);
}
