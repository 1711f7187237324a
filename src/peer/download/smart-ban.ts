// Smart ban: who sent the data of a piece that failed its hash. Each block of a failed
// piece is attributed to the peer address that sent it, with a digest of what it sent.
// When the piece later passes, blocks whose digest differs from the good data prove
// their sender lied: banned at once (libtorrent's smart_ban). Without proof, trust
// points decide (libtorrent's numbers): every passed piece an address contributed to is
// +1 (up to a cap), every failed one -2, and at or below the ban level it is banned. An
// honest peer that shares failed pieces with a liar also sends pieces that pass, so its
// trust stays up while the liar's only falls; a plain failure count banned both.
// The only source of a failed piece is banned at once. The caller computes digests.
import { TRUST_BAN_AT, TRUST_MAX, TRUST_ON_FAIL, TRUST_ON_PASS } from './limits.js';

export interface BlockAttribution {
  /** Peer address ("ip:port" or just ip) that sent the block; undefined if unknown. */
  address: string | undefined;
  begin: number;
  digest: string;
}

export interface BanDecision {
  address: string;
  reason: string;
}

/** Bounds what a hostile swarm can make us remember. */
const MAX_REMEMBERED_PIECES = 256;
const MAX_TRACKED_ADDRESSES = 4096;

export class SmartBan {
  private readonly trust = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private readonly banned = new Map<string, string>();
  /** Failed piece -> what each block looked like and who sent it. */
  private readonly failedBlocks = new Map<number, BlockAttribution[]>();

  constructor(private readonly banAt = TRUST_BAN_AT) {}

  isBanned(address: string): boolean {
    return this.banned.has(address);
  }

  reasonFor(address: string): string | undefined {
    return this.banned.get(address);
  }

  bannedList(): BanDecision[] {
    return [...this.banned].map(([address, reason]) => ({ address, reason }));
  }

  failureCount(address: string): number {
    return this.failures.get(address) ?? 0;
  }

  trustOf(address: string): number {
    return this.trust.get(address) ?? 0;
  }

  /** A piece passed: each address that sent part of it earns trust. */
  contributed(addresses: Iterable<string>): void {
    for (const a of addresses) {
      if (!this.trust.has(a) && this.trust.size >= MAX_TRACKED_ADDRESSES) continue;
      this.trust.set(a, Math.min(TRUST_MAX, (this.trust.get(a) ?? 0) + TRUST_ON_PASS));
    }
  }

  /** A piece failed its hash; returns the addresses banned because of it. */
  pieceFailed(piece: number, blocks: BlockAttribution[]): BanDecision[] {
    if (!this.failedBlocks.has(piece) && this.failedBlocks.size >= MAX_REMEMBERED_PIECES) {
      const oldest = this.failedBlocks.keys().next().value;
      if (oldest !== undefined) this.failedBlocks.delete(oldest);
    }
    // Keep the first failed version's attribution per block; later failures add more.
    const prev = this.failedBlocks.get(piece) ?? [];
    this.failedBlocks.set(piece, prev.concat(blocks.filter((b) => b.address !== undefined)));

    const senders = new Set<string>();
    for (const b of blocks) if (b.address !== undefined) senders.add(b.address);
    const out: BanDecision[] = [];
    for (const addr of senders) {
      if (this.banned.has(addr)) continue;
      if (!this.failures.has(addr) && this.failures.size >= MAX_TRACKED_ADDRESSES) continue;
      const n = (this.failures.get(addr) ?? 0) + 1;
      this.failures.set(addr, n);
      const trust = (this.trust.get(addr) ?? 0) - TRUST_ON_FAIL;
      this.trust.set(addr, trust);
      if (senders.size === 1) {
        out.push(this.ban(addr, `sent every block of piece ${piece}, which failed its hash check`));
      } else if (trust <= this.banAt) {
        out.push(this.ban(addr, `contributed to ${n} pieces that failed their hash check, too few that passed`));
      }
    }
    return out;
  }

  /** A piece that failed before passed: blocks sent then that differ from the good
   *  data convict their senders. `good` maps block begin -> digest of the good data. */
  piecePassed(piece: number, good: Map<number, string>): BanDecision[] {
    const blocks = this.failedBlocks.get(piece);
    if (!blocks) return [];
    this.failedBlocks.delete(piece);
    const out: BanDecision[] = [];
    for (const b of blocks) {
      if (b.address === undefined || this.banned.has(b.address)) continue;
      const d = good.get(b.begin);
      if (d !== undefined && d !== b.digest) {
        out.push(this.ban(b.address, `sent corrupt data for piece ${piece} (block at ${b.begin})`));
      }
    }
    return out;
  }

  /** True when a failed piece's blocks are remembered (the caller then digests the good
   *  piece's blocks to call piecePassed). */
  hasFailed(piece: number): boolean {
    return this.failedBlocks.has(piece);
  }

  private ban(address: string, reason: string): BanDecision {
    this.banned.set(address, reason);
    return { address, reason };
  }
}
