// The piece length `sta create` picks when none is given: the smallest power of two from
// 16 KiB to 16 MiB that keeps the piece count at or under ~2000 (so a torrent has about
// 1000-2000 pieces: small metainfo, yet pieces small enough to spread in a swarm).
import { MAX_CREATE_PIECE_LENGTH, MIN_CREATE_PIECE_LENGTH, TARGET_MAX_PIECES } from './limits.js';

export function choosePieceLength(totalBytes: number): number {
  let p = MIN_CREATE_PIECE_LENGTH;
  while (p < MAX_CREATE_PIECE_LENGTH && Math.ceil(totalBytes / p) > TARGET_MAX_PIECES) p *= 2;
  return p;
}

export function isValidCreatePieceLength(n: number): boolean {
  return Number.isInteger(n) && n >= MIN_CREATE_PIECE_LENGTH && n <= MAX_CREATE_PIECE_LENGTH && (n & (n - 1)) === 0;
}
