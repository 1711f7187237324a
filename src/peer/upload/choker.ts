// The choker: which interested peers we upload to. BEP 3 tit-for-tat while leeching
// (unchoke the peers that give us the most), round robin while seeding (each waiting
// peer gets a turn, so one fast leecher cannot hog a seed), plus one optimistic unchoke
// rotated every 30 s so newcomers can prove themselves. Pure: time and rates come in.

export interface ChokerOptions {
  /** Regular unchoke slots (libtorrent and Transmission default to about 4). */
  slots?: number;
  /** Optimistic slots on top of the regular ones. */
  optimisticSlots?: number;
  /** BEP 3: the optimistic unchoke rotates every 30 seconds. */
  optimisticIntervalMs?: number;
  /** Seeding: how long one peer keeps its slot while others wait. */
  seedTurnMs?: number;
  random?: () => number;
}

export interface ChokerPeer {
  id: number;
  interested: boolean;
  /** Bytes/s this peer sends us (tit-for-tat while leeching). */
  downloadRateBps: number;
  /** Bytes/s we send this peer. */
  uploadRateBps: number;
  /** We currently choke it. */
  choked: boolean;
  /** When it was last unchoked (ms), or when it connected if never. */
  unchokedSinceMs: number;
  /** It sent nothing for a long time while we asked: no tit-for-tat credit. */
  snubbed?: boolean;
}

export const DEFAULT_SLOTS = 4;
export const DEFAULT_OPTIMISTIC_SLOTS = 1;
export const OPTIMISTIC_INTERVAL_MS = 30_000;
/** A seed rechokes every 10 s; a turn of 60 s lets a leecher get a useful amount. */
export const SEED_TURN_MS = 60_000;
/** BEP 3: the choker runs every 10 seconds (and when peers come, go or change interest). */
export const RECHOKE_INTERVAL_MS = 10_000;

export interface ChokeDecision {
  /** Peers to have unchoked after this round; every other peer is choked. */
  unchoke: Set<number>;
  /** The optimistic one(s), for display. */
  optimistic: Set<number>;
}

export class Choker {
  private readonly slots: number;
  private readonly optimisticSlots: number;
  private readonly optimisticIntervalMs: number;
  private readonly seedTurnMs: number;
  private readonly random: () => number;
  private optimistic = new Set<number>();
  private optimisticAtMs = -Infinity;

  constructor(opts: ChokerOptions = {}) {
    this.slots = Math.max(0, opts.slots ?? DEFAULT_SLOTS);
    this.optimisticSlots = Math.max(0, opts.optimisticSlots ?? DEFAULT_OPTIMISTIC_SLOTS);
    this.optimisticIntervalMs = opts.optimisticIntervalMs ?? OPTIMISTIC_INTERVAL_MS;
    this.seedTurnMs = opts.seedTurnMs ?? SEED_TURN_MS;
    this.random = opts.random ?? Math.random;
  }

  /** Decide who is unchoked now. `seeding`: we have everything we want. */
  rechoke(peers: readonly ChokerPeer[], nowMs: number, seeding: boolean): ChokeDecision {
    const interested = peers.filter((p) => p.interested);
    const regular = seeding ? this.roundRobin(interested, nowMs) : this.titForTat(interested);
    const unchoke = new Set(regular);

    // Optimistic unchoke: keep the current one(s) for the interval, then rotate to a
    // random interested peer not unchoked by merit.
    const present = new Set(interested.map((p) => p.id));
    for (const id of this.optimistic) if (!present.has(id) || unchoke.has(id)) this.optimistic.delete(id);
    const rotate = nowMs - this.optimisticAtMs >= this.optimisticIntervalMs;
    if (rotate || this.optimistic.size < this.optimisticSlots) {
      const pool = interested.filter((p) => !unchoke.has(p.id) && (rotate ? true : !this.optimistic.has(p.id)));
      if (rotate) {
        this.optimistic.clear();
        this.optimisticAtMs = nowMs;
      }
      // Prefer peers that are choked now, so rotation actually gives someone new a chance.
      const choked = pool.filter((p) => p.choked);
      const from = choked.length > 0 ? choked : pool;
      while (this.optimistic.size < this.optimisticSlots && from.length > 0) {
        const k = Math.floor(this.random() * from.length);
        this.optimistic.add(from[k]!.id);
        from.splice(k, 1);
      }
    }
    for (const id of this.optimistic) unchoke.add(id);
    return { unchoke, optimistic: new Set(this.optimistic) };
  }

  /**
   * A peer just became interested: may it be unchoked now, before the next round? Yes when
   * fewer peers are unchoked than there are slots (regular plus optimistic), as libtorrent
   * does. Otherwise it waits for the round: an INTERESTED message never takes a slot from
   * a peer that holds one (no tit-for-tat reshuffle out of turn).
   */
  hasFreeSlot(peers: readonly ChokerPeer[]): boolean {
    let unchoked = 0;
    for (const p of peers) if (!p.choked) unchoked++;
    return unchoked < this.slots + this.optimisticSlots;
  }

  /** Leeching: the peers that upload to us fastest (snubbed ones last). */
  private titForTat(interested: ChokerPeer[]): number[] {
    return [...interested]
      .sort((a, b) => Number(!!a.snubbed) - Number(!!b.snubbed) || b.downloadRateBps - a.downloadRateBps)
      .slice(0, this.slots)
      .map((p) => p.id);
  }

  /** Seeding: peers inside their turn keep the slot; free slots go to the peers that
   *  have waited longest. With no one waiting, nobody is choked for fairness' sake. */
  private roundRobin(interested: ChokerPeer[], nowMs: number): number[] {
    if (interested.length <= this.slots) return interested.map((p) => p.id);
    const inTurn = interested
      .filter((p) => !p.choked && nowMs - p.unchokedSinceMs < this.seedTurnMs)
      .sort((a, b) => b.uploadRateBps - a.uploadRateBps);
    const waiting = interested
      .filter((p) => !inTurn.includes(p))
      .sort((a, b) => Number(!a.choked) - Number(!b.choked) || a.unchokedSinceMs - b.unchokedSinceMs);
    return [...inTurn, ...waiting].slice(0, this.slots).map((p) => p.id);
  }
}
