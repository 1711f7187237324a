// TrackerClient: a torrent's announces over its BEP 12 tiers. Each round walks the tiers in
// order and each tier's trackers in order; the first that answers is moved to the front of
// its tier and the round ends. Events `started` / `completed` are resent until a tracker
// takes them; the next round comes after the tracker's interval (never before its min
// interval), or after a doubling backoff when every tracker failed.
import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { announce } from './announce.js';
import { TrackerClientError } from './errors.js';
import { DEFAULT_TIMEOUT_MS, MAX_INTERVAL_S, MAX_TRACKERS, MIN_INTERVAL_S, RETRY_BASE_MS, RETRY_MAX_MS, STOP_TIMEOUT_MS } from './limits.js';
import type { AnnounceParams, AnnounceResult, TrackerPeer } from './types.js';

export interface TrackerClientOptions {
  /** BEP 12 announce-list: tiers of tracker URLs (a torrent without one: [[announce]]). */
  tiers: string[][];
  infoHash: Buffer;
  peerId: Buffer;
  port: number;
  /** Read at every announce. */
  stats: () => { uploaded: number; downloaded: number; left: number };
  numwant?: number;
  /** Per-tracker wait (default DEFAULT_TIMEOUT_MS). */
  timeoutMs?: number;
  /** UDP first retransmission (default: BEP 15's 15 s capped by timeoutMs / 3). */
  udpRetransmitMs?: number;
  /** First retry after a round where every tracker failed, doubling (default RETRY_BASE_MS). */
  retryBaseMs?: number;
  /** BEP 12 shuffles each tier once at start (default true; tests pass false for order). */
  shuffle?: boolean;
  /** The session's announce key (default random). */
  key?: number;
}

export interface AnnounceEvent {
  url: string;
  result: AnnounceResult;
}
export interface TrackerErrorEvent {
  url: string;
  error: Error;
}

export interface TrackerClientEvents {
  peers: [peers: TrackerPeer[], url: string];
  announce: [AnnounceEvent];
  'tracker-error': [TrackerErrorEvent];
}

type Pending = 'started' | 'completed' | undefined;

function clampS(v: number | undefined, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v ?? lo));
}

export class TrackerClient extends EventEmitter<TrackerClientEvents> {
  private readonly tiers: string[][];
  private readonly opts: TrackerClientOptions;
  private readonly key: number;
  private readonly trackerIds = new Map<string, string>();
  private running = false;
  /** A tracker has answered an announce (so `stopped` is owed at the end). */
  private startedAcked = false;
  private pending: Pending;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: Promise<void> | undefined;
  private rerun = false;
  private abort: AbortController | undefined;
  private lastUrl: string | undefined;
  private lastSuccessMs = 0;
  private minIntervalMs = MIN_INTERVAL_S * 1000;
  private failures = 0;

  constructor(opts: TrackerClientOptions) {
    super();
    this.opts = opts;
    this.key = opts.key ?? randomInt(0x1_0000_0000);
    const seen = new Set<string>();
    const tiers: string[][] = [];
    for (const tier of opts.tiers) {
      const t: string[] = [];
      for (const url of tier) {
        if (typeof url !== 'string' || seen.has(url) || seen.size >= MAX_TRACKERS) continue;
        if (!/^(https?|udp):\/\//i.test(url)) continue; // e.g. wss:// (WebTorrent) is not ours
        seen.add(url);
        t.push(url);
      }
      if (opts.shuffle !== false) {
        for (let i = t.length - 1; i > 0; i--) {
          const j = randomInt(i + 1);
          [t[i], t[j]] = [t[j]!, t[i]!];
        }
      }
      if (t.length) tiers.push(t);
    }
    this.tiers = tiers;
  }

  /** The tiers in their current order (responsive trackers first within a tier). */
  get trackers(): readonly (readonly string[])[] {
    return this.tiers;
  }

  /** Announces `started`, then re-announces every interval until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.pending = 'started';
    this.schedule(0);
  }

  /** Announces `completed` now (and again each round until a tracker takes it). */
  completed(): void {
    if (!this.running) return;
    this.pending = 'completed';
    this.schedule(0);
  }

  /** Re-announces as soon as the tracker's min interval allows (e.g. when out of peers). */
  announceNow(): void {
    if (!this.running) return;
    const earliest = this.lastSuccessMs + this.minIntervalMs;
    this.schedule(Math.max(0, earliest - Date.now()));
  }

  /** Sends `stopped` to the tracker that last answered (waiting at most STOP_TIMEOUT_MS) and
   *  clears every timer. Never rejects. */
  async stop(): Promise<void> {
    const wasRunning = this.running;
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.abort?.abort();
    if (this.inFlight) await this.inFlight;
    if (!wasRunning || !this.startedAcked || this.lastUrl === undefined) return;
    this.startedAcked = false;
    const url = this.lastUrl;
    try {
      await announce(url, this.params('stopped', url), { timeoutMs: Math.min(STOP_TIMEOUT_MS, this.timeoutMs()), ...this.udpOpts() });
    } catch (e) {
      this.emit('tracker-error', { url, error: e as Error });
    }
  }

  private timeoutMs(): number {
    return this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  private udpOpts(): { udpRetransmitMs?: number } {
    return this.opts.udpRetransmitMs !== undefined ? { udpRetransmitMs: this.opts.udpRetransmitMs } : {};
  }

  private params(event: AnnounceParams['event'], url: string): AnnounceParams {
    const s = this.opts.stats();
    const p: AnnounceParams = {
      infoHash: this.opts.infoHash,
      peerId: this.opts.peerId,
      port: this.opts.port,
      uploaded: s.uploaded,
      downloaded: s.downloaded,
      left: s.left,
      key: this.key,
    };
    if (event) p.event = event;
    if (this.opts.numwant !== undefined) p.numwant = this.opts.numwant;
    const tid = this.trackerIds.get(url);
    if (tid !== undefined) p.trackerId = tid;
    return p;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.run();
    }, delayMs);
  }

  private run(): void {
    if (!this.running) return;
    if (this.inFlight) {
      this.rerun = true;
      return;
    }
    this.inFlight = this.round().finally(() => {
      this.inFlight = undefined;
      if (this.rerun && this.running) {
        this.rerun = false;
        this.schedule(0);
      }
    });
  }

  /** One announce round over the tiers. Never rejects. */
  private async round(): Promise<void> {
    const event = this.pending;
    const abort = new AbortController();
    this.abort = abort;
    for (const tier of this.tiers) {
      for (let i = 0; i < tier.length; i++) {
        const url = tier[i]!;
        let result: AnnounceResult;
        try {
          result = await announce(url, this.params(event, url), { timeoutMs: this.timeoutMs(), signal: abort.signal, ...this.udpOpts() });
        } catch (e) {
          if (!this.running) return;
          this.emit('tracker-error', { url, error: e as Error });
          continue;
        }
        if (i > 0) {
          tier.splice(i, 1);
          tier.unshift(url); // BEP 12: a tracker that answers moves to the front of its tier
        }
        this.lastUrl = url;
        this.lastSuccessMs = Date.now();
        this.failures = 0;
        // Any answered announce registers us there (a `completed` may have replaced an
        // unanswered `started`), so a `stopped` is owed from now on.
        this.startedAcked = true;
        if (this.pending === event) this.pending = undefined;
        if (result.trackerId !== undefined) this.trackerIds.set(url, result.trackerId.slice(0, 128));
        const intervalS = clampS(result.intervalS, MIN_INTERVAL_S, MAX_INTERVAL_S);
        const minIntervalS = Math.min(intervalS, clampS(result.minIntervalS, MIN_INTERVAL_S, MAX_INTERVAL_S));
        this.minIntervalMs = minIntervalS * 1000;
        // The listeners run synchronously; one that throws must not stop the schedule.
        this.safeEmit(() => this.emit('announce', { url, result }));
        if (result.peers.length) this.safeEmit(() => this.emit('peers', result.peers, url));
        if (this.running && !this.timer) this.schedule(intervalS * 1000);
        return;
      }
    }
    if (!this.running) return;
    if (this.tiers.length === 0) {
      this.safeEmit(() => this.emit('tracker-error', { url: '', error: new TrackerClientError('TRACKER_BAD_URL', 'no usable tracker URL') }));
      return;
    }
    const delay = Math.min(RETRY_MAX_MS, (this.opts.retryBaseMs ?? RETRY_BASE_MS) * 2 ** Math.min(this.failures++, 20));
    if (!this.timer) this.schedule(delay);
  }

  private safeEmit(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      // A listener's bug: reported, never allowed to stop the announce schedule.
      process.emitWarning(`TrackerClient listener threw: ${(e as Error)?.message ?? String(e)}`);
    }
  }
}
